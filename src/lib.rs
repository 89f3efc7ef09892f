//! Assay: an offline model-ops workbench for ONNX models.
//!
//! Codemap (see ARCHITECTURE.md for the invariants):
//! - [`engine`]: the UI-free core — `data` (datasets), `model` (ONNX inspection and
//!   inference), `metrics` (scikit-learn-exact metrics, curves, bootstrap), `evaluate`
//!   (the evaluation pipeline), `fairness` (fairlearn-exact group metrics, disparities,
//!   policy, weak slices), `drift` (drift and data quality, scipy/Evidently-exact),
//!   `package` (OpenSSF-compatible signed packages), `workspace` (workspace files, roles),
//!   `runtime` (finding ONNX Runtime), `progress`, `error`.
//! - [`cli`]: clap subcommands → engine → JSON or tables; one file per subcommand.
//! - `app` (feature `gui`): the egui window — shell, job runner, one panel per page;
//!   computes nothing itself.

pub mod cli;
pub mod engine;

#[cfg(feature = "gui")]
pub mod app;

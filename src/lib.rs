//! Assay: an offline model-ops workbench for ONNX models.
//!
//! Codemap (see ARCHITECTURE.md for the invariants):
//! - [`engine`]: the UI-free core — `data` (datasets), `model` (ONNX inspection and
//!   inference), `metrics` (scikit-learn-exact metrics, curves, bootstrap), `evaluate`
//!   (the evaluation pipeline), `drift` (drift and data quality, scipy/Evidently-exact), `runtime` (finding ONNX Runtime), `progress`, `error`.
//! - [`cli`]: clap subcommands → engine → JSON or tables; one file per subcommand.
//! - `app` (feature `gui`): the egui window; computes nothing itself.

pub mod cli;
pub mod engine;

#[cfg(feature = "gui")]
pub mod app;

//! One notion of an analysis, shared by the window, `assay report`, `assay package` and the
//! subcommands, so they cannot disagree.
//!
//! ```text
//!  Workspace ──► Planner (plan.rs: options from the workspace, in ONE place)
//!                   │  Request { key: Key, title, task }
//!                   ▼
//!         Request::run(progress) ──► Output           (run.rs: the engine call)
//!                   │                                   app: a job; CLI: in turn
//!                   ▼
//!         cache: Key → Output  (app: app::cache; CLI: ResultMap)
//!                   │
//!                   ▼
//!         Review::gather(planner)  (review.rs) ──► page / report HTML / package evidence,
//!                                                  checklist, model card, gate facts
//! ```
//!
//! A [`Key`] is typed: the analysis [`Kind`], the SHA-256 of every model and dataset it reads,
//! and the canonical JSON of the engine options the planner built (so two requests with the
//! same key compute the same thing, and any setting that changes a number changes the key).
//!
//! Adding an analysis: a [`Kind`], an [`Output`] variant, a [`Task`] variant with its `run`
//! arm (run.rs), a planner method (plan.rs), and — when it belongs in reviews — its place in
//! [`review::Review`] (report section, evidence name, gate facts).

mod compute;
mod loaded;
mod plan;
mod plan_monitor;
pub mod review;
mod run;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::compare::Comparison;
use super::drift::DriftReport;
use super::evaluate::Evaluation;
use super::explain::importance::Importance;
use super::explain::pdp::PartialDependence;
use super::explain::surrogate::Surrogate;
use super::explain::tree::Forest;
use super::explain::Explanation;
use super::fairness::slices::SliceSearch;
use super::fairness::FairnessReport;
use super::model::Model;
use super::monitor::MonitorReport;
use super::perf::PerfReport;
use super::robustness::RobustnessReport;

pub use compute::{compute, review_requests, Wants};
pub use loaded::{LoadedData, PAGE_ROWS};
pub use plan::{Planner, RowFilter};
pub use review::Review;
pub use run::{Request, Task};

/// Which analysis a [`Key`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Evaluation,
    Fairness,
    Drift,
    Explanation,
    Pdp,
    Surrogate,
    Importance,
    Forest,
    Comparison,
    Perf,
    Robustness,
    Monitor,
}

impl Kind {
    /// What the status bar and the audit log call it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Evaluation => "evaluation",
            Kind::Fairness => "fairness",
            Kind::Drift => "drift",
            Kind::Explanation => "explanation",
            Kind::Pdp => "partial dependence",
            Kind::Surrogate => "local surrogate",
            Kind::Importance => "permutation importance",
            Kind::Forest => "trees",
            Kind::Comparison => "comparison",
            Kind::Perf => "speed",
            Kind::Robustness => "robustness",
            Kind::Monitor => "monitoring",
        }
    }
}

/// The cache key of an analysis: its kind, the SHA-256 of the models and datasets it reads
/// (in a fixed order), and the canonical JSON of its options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub kind: Kind,
    pub models: Vec<String>,
    pub data: Vec<String>,
    pub settings: String,
}

impl Key {
    /// A key whose settings are the canonical JSON of `options`.
    pub fn new(
        kind: Kind,
        models: Vec<String>,
        data: Vec<String>,
        options: &impl Serialize,
    ) -> Key {
        // Serialising plain option structs cannot fail; an empty string would still give a
        // key that is only equal to itself.
        let settings = serde_json::to_string(options).unwrap_or_default();
        Key {
            kind,
            models,
            data,
            settings,
        }
    }
}

/// The Fairness page's results: group metrics and disparities per slicing, and weak slices.
pub struct FairnessResult {
    pub report: FairnessReport,
    pub slices: SliceSearch,
}

/// A finished analysis (cheap to clone: every result is shared).
#[derive(Clone)]
pub enum Output {
    Evaluation(Arc<Evaluation>),
    Fairness(Arc<FairnessResult>),
    Drift(Arc<DriftReport>),
    Explanation(Arc<Explanation>),
    Pdp(Arc<PartialDependence>),
    Surrogate(Arc<Surrogate>),
    Importance(Arc<Importance>),
    Forest(Arc<Forest>),
    Comparison(Arc<Comparison>),
    Perf(Arc<PerfReport>),
    Robustness(Arc<RobustnessReport>),
    Monitor(Arc<MonitorReport>),
}

impl Output {
    pub fn kind(&self) -> Kind {
        match self {
            Output::Evaluation(_) => Kind::Evaluation,
            Output::Fairness(_) => Kind::Fairness,
            Output::Drift(_) => Kind::Drift,
            Output::Explanation(_) => Kind::Explanation,
            Output::Pdp(_) => Kind::Pdp,
            Output::Surrogate(_) => Kind::Surrogate,
            Output::Importance(_) => Kind::Importance,
            Output::Forest(_) => Kind::Forest,
            Output::Comparison(_) => Kind::Comparison,
            Output::Perf(_) => Kind::Perf,
            Output::Robustness(_) => Kind::Robustness,
            Output::Monitor(_) => Kind::Monitor,
        }
    }

    /// A rough size in bytes of what this result holds, for cache eviction.
    pub fn approx_bytes(&self) -> usize {
        match self {
            Output::Evaluation(e) => {
                let c = &e.curves;
                64 * (c.roc.as_ref().map_or(0, |r| r.fpr.len())
                    + c.precision_recall.as_ref().map_or(0, |r| r.precision.len())
                    + c.residuals.as_ref().map_or(0, |_| 2000))
                    + 4096
            }
            Output::Explanation(e) => {
                24 * e.row_indices.len() * e.feature_names.len().max(1) + 4096
            }
            Output::Comparison(c) => 4096 * (c.pairs.len() + c.slices.len()) + 65_536,
            Output::Monitor(m) => 2048 * m.chunks.len() + 65_536,
            _ => 65_536,
        }
    }

    /// The audit-log action and details of a finished analysis.
    pub fn audit(&self) -> (&'static str, serde_json::Value) {
        use serde_json::json;
        match self {
            Output::Evaluation(e) => (
                "evaluated",
                json!({"model": e.model.sha256, "data": e.data.sha256, "n": e.n}),
            ),
            Output::Fairness(f) => ("fairness", json!({"data": f.report.data.sha256})),
            Output::Drift(d) => (
                "drift",
                json!({"reference": d.reference.sha256, "current": d.current.sha256, "dataset_drift": d.dataset_drift}),
            ),
            Output::Explanation(e) => (
                "explained",
                json!({"method": e.method, "rows": e.row_indices.len(), "additivity_max_abs_error": e.additivity_max_abs_error}),
            ),
            Output::Pdp(p) => ("partial_dependence", json!({"features": p.features})),
            Output::Surrogate(s) => ("local_surrogate", json!({"row": s.row, "r2": s.r2})),
            Output::Importance(_) => ("permutation_importance", json!({})),
            Output::Forest(f) => ("trees_read", json!({"trees": f.trees.len()})),
            Output::Comparison(c) => (
                "compared",
                json!({"models": c.models.iter().map(|m| m.label.clone()).collect::<Vec<_>>(), "gate_passed": c.gate.result.passed}),
            ),
            Output::Perf(p) => (
                "perf_measured",
                json!({"model": p.model.sha256, "p95_latency_ms": p.p95_latency_ms}),
            ),
            Output::Robustness(r) => (
                "robustness",
                json!({"model": r.model.sha256, "max_noise_flip_rate": r.max_noise_flip_rate}),
            ),
            Output::Monitor(m) => (
                "monitored",
                json!({"reference": m.reference.sha256, "log": m.analysis.sha256, "chunks": m.chunks.len(), "alerts": m.alerts.len()}),
            ),
        }
    }
}

/// Where loaded models and datasets come from (the app's cache, or files the CLI loaded).
pub trait Sources {
    fn model(&self, path: &Path) -> Option<Arc<Model>>;
    fn data(&self, path: &Path) -> Option<Arc<LoadedData>>;
}

/// Finished results by key (the app's cache, or the CLI's [`ResultMap`]).
pub trait Results {
    fn result(&self, key: &Key) -> Option<Output>;
}

impl<F: Fn(&Key) -> Option<Output>> Results for F {
    fn result(&self, key: &Key) -> Option<Output> {
        self(key)
    }
}

/// Nothing computed yet.
pub struct NoResults;

impl Results for NoResults {
    fn result(&self, _: &Key) -> Option<Output> {
        None
    }
}

/// Models and datasets loaded from files, once each (the CLI's [`Sources`]).
#[derive(Default)]
pub struct LoadedFiles {
    models: HashMap<PathBuf, Arc<Model>>,
    data: HashMap<PathBuf, Arc<LoadedData>>,
}

impl LoadedFiles {
    /// Loads every model and dataset of `ws` (models are validated against the runtime).
    pub fn load(
        ws: &super::workspace::Workspace,
        progress: &super::Progress,
    ) -> super::Result<LoadedFiles> {
        Self::load_selected(ws, |_| true, |_| true, progress)
    }

    /// Loads the models and datasets of `ws` that `model` and `data` keep.
    pub fn load_selected(
        ws: &super::workspace::Workspace,
        model: impl Fn(&super::workspace::ModelEntry) -> bool,
        data: impl Fn(&super::workspace::DatasetEntry) -> bool,
        progress: &super::Progress,
    ) -> super::Result<LoadedFiles> {
        let mut out = LoadedFiles::default();
        for m in ws.models.iter().filter(|m| model(m)) {
            if !out.models.contains_key(&m.path) {
                progress.set(0.0, &format!("loading {}", m.label));
                let model = Model::load(&m.path)?;
                out.models.insert(m.path.clone(), Arc::new(model));
            }
        }
        for d in ws.datasets.iter().filter(|d| data(d)) {
            if !out.data.contains_key(&d.path) {
                let loaded = LoadedData::load(&d.path, progress)?;
                out.data.insert(d.path.clone(), Arc::new(loaded));
            }
        }
        Ok(out)
    }
}

impl LoadedFiles {
    /// Holds `data` as the dataset at its path (in place of any loaded before).
    pub fn insert_data(&mut self, data: LoadedData) {
        self.data.insert(data.path().to_path_buf(), Arc::new(data));
    }
}

impl Sources for LoadedFiles {
    fn model(&self, path: &Path) -> Option<Arc<Model>> {
        self.models.get(path).cloned()
    }

    fn data(&self, path: &Path) -> Option<Arc<LoadedData>> {
        self.data.get(path).cloned()
    }
}

/// Results by key, filled by running requests in turn (the CLI's cache).
#[derive(Default)]
pub struct ResultMap(pub HashMap<Key, Output>);

impl Results for ResultMap {
    fn result(&self, key: &Key) -> Option<Output> {
        self.0.get(key).cloned()
    }
}

impl ResultMap {
    /// Runs `request` unless its key is present; returns its output.
    pub fn run(&mut self, request: Request, progress: &super::Progress) -> super::Result<Output> {
        if let Some(out) = self.0.get(&request.key) {
            return Ok(out.clone());
        }
        let key = request.key.clone();
        let out = request.run(progress)?;
        self.0.insert(key, out.clone());
        Ok(out)
    }
}

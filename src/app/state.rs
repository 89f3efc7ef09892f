//! Everything the window shows, in one struct: the workspace, the loaded models and datasets
//! ([`Loaded`], the engine's `Sources`), the one cache of analyses by engine key ([`Cache`],
//! the engine's `Results`), the current page, visible errors, and the job runner. Pages
//! read it (`panels::PageCtx`) and keep their own selections in their own structs
//! (`panels::Pages`); they change it only through `command::Command`s.
//! Options of analyses are never built here: [`State::planner`] hands the workspace to
//! `engine::analysis::Planner`, the one place that does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::analysis::{Key, Output, Planner, Review, RowFilter};
use crate::engine::data::summary::Distribution;
use crate::engine::evaluate::Evaluation;
use crate::engine::package::{AuditLog, ModelCard, PackageReport, PackageVerification};
use crate::engine::workspace::{DatasetRole, ModelEntry, RoleIssue, Workspace};
use polars::prelude::DataFrame;

pub use super::cache::{Cache, Failure, Loaded, Slot};
use super::jobs::Jobs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Page {
    Overview,
    Data,
    Evaluate,
    Fairness,
    Explain,
    Drift,
    Compare,
    Package,
    Monitor,
}

impl Page {
    pub const ALL: [Page; 9] = [
        Page::Overview,
        Page::Data,
        Page::Evaluate,
        Page::Fairness,
        Page::Explain,
        Page::Drift,
        Page::Compare,
        Page::Package,
        Page::Monitor,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Page::Overview => "Overview",
            Page::Data => "Data",
            Page::Evaluate => "Evaluate",
            Page::Fairness => "Fairness",
            Page::Explain => "Explain",
            Page::Drift => "Drift",
            Page::Compare => "Compare",
            Page::Package => "Package",
            Page::Monitor => "Monitor",
        }
    }
}

/// What jobs produced for the Package page, and the card the review carries.
#[derive(Default)]
pub struct PackageResults {
    /// The model card drafted or edited (what Seal seals; `None`: drafted from the evidence).
    pub card: Option<ModelCard>,
    pub sealed: Option<Result<Arc<PackageReport>, Failure>>,
    pub verified: Option<Result<Arc<PackageVerification>, Failure>>,
    pub message: Option<String>,
}

/// What the Explain page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExplainView {
    #[default]
    Summary,
    Row,
    Dependence,
    Pdp,
    Importance,
    Trees,
}

/// What the Compare page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompareView {
    #[default]
    Metrics,
    Groups,
    Disagreements,
    Explanations,
    Speed,
    Robustness,
    Gate,
}

/// A visible, dismissible error.
pub struct UiError {
    pub id: u64,
    pub text: String,
}

pub struct State {
    pub workspace: Workspace,
    pub workspace_path: Option<PathBuf>,
    pub dirty: bool,
    pub page: Page,
    /// Models and datasets by path (what analyses read).
    pub loaded: Loaded,
    /// Every analysis by its engine key: evaluations, fairness, drift, explanations, …
    pub cache: Cache,
    pub distributions: HashMap<(PathBuf, String), Slot<Arc<Distribution>>>,
    /// Preview pages of datasets too large to hold, by path and page number (a few dozen
    /// kept: see `commands::request_page`).
    pub pages: HashMap<(PathBuf, usize), Slot<Arc<DataFrame>>>,
    /// The last confirmation worth a line in the status bar (e.g. a report written).
    pub message: Option<String>,
    pub package: PackageResults,
    /// Every action in this session (files loaded with hashes, analyses, card edits,
    /// sign-offs), hash-chained; carried into the package.
    pub audit: AuditLog,
    pub errors: Vec<UiError>,
    next_error: u64,
    pub dark: bool,
    pub presentation: bool,
    pub jobs: Jobs,
}

impl State {
    pub fn new(workspace: Workspace, jobs: Jobs) -> Self {
        Self {
            workspace,
            workspace_path: None,
            dirty: false,
            page: Page::Overview,
            loaded: Loaded::default(),
            cache: Cache::default(),
            distributions: HashMap::new(),
            pages: HashMap::new(),
            message: None,
            package: PackageResults::default(),
            audit: AuditLog::new(),
            errors: Vec::new(),
            next_error: 1,
            dark: true,
            presentation: false,
            jobs,
        }
    }

    pub fn dismiss_error(&mut self, id: u64) {
        self.errors.retain(|e| e.id != id);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.errors.iter().any(|e| e.text == text) {
            return;
        }
        self.errors.push(UiError {
            id: self.next_error,
            text,
        });
        self.next_error += 1;
    }

    /// Appends to the session's audit log (a failure to encode is shown, never fatal).
    pub fn audit(&mut self, action: &str, details: serde_json::Value) {
        if let Err(e) = self.audit.append(action, details) {
            self.error(e.to_string());
        }
    }

    pub fn model(&self, path: &Path) -> Option<&Arc<crate::engine::model::Model>> {
        self.loaded.models.get(path).and_then(Slot::ready)
    }

    pub fn data(&self, path: &Path) -> Option<&Arc<crate::engine::analysis::LoadedData>> {
        self.loaded.datasets.get(path).and_then(Slot::ready)
    }

    /// The engine's planner over this workspace, the loaded files and the cache: the only
    /// way the window turns its workspace into analyses.
    pub fn planner(&self) -> Planner<'_> {
        Planner::new(&self.workspace, &self.loaded, &self.cache)
    }

    /// The cached slot of an analysis (`None`: not asked for yet, or not plannable).
    pub fn slot(&self, key: Option<&Key>) -> Option<&Slot<Output>> {
        self.cache.get(key?)
    }

    /// Everything computed so far for this workspace, gathered by the engine exactly as
    /// `assay report` / `assay package` gather it: what Export report writes and Seal seals.
    pub fn review(&self) -> Review {
        let label = self
            .workspace_path
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| Some(self.workspace.name.clone()));
        Review::gather(&self.planner(), label, self.package.card.clone())
    }

    /// Index of the model the pages show (the workspace's focus model: the one drift
    /// compares, explained, and packaged).
    pub fn selected_index(&self) -> usize {
        self.workspace.focus_index()
    }

    /// Index in the workspace of the model labelled `label` (its colour's identity).
    pub fn model_index(&self, label: &str) -> Option<usize> {
        self.workspace.models.iter().position(|m| m.label == label)
    }

    pub fn selected_model(&self) -> Option<&ModelEntry> {
        self.workspace.models.get(self.selected_index())
    }

    /// Makes model `i` the focus model.
    pub fn select_model(&mut self, i: usize) {
        if let Some(m) = self.workspace.models.get(i) {
            if i != self.selected_index() {
                self.workspace.settings.focus_model = Some(m.label.clone());
            }
        }
    }

    /// The labelled dataset models are evaluated on.
    pub fn eval_data_path(&self) -> Option<&Path> {
        self.workspace
            .dataset(DatasetRole::Evaluation)
            .map(|d| d.path.as_path())
    }

    /// The evaluation of model `i` on `slice` of the evaluation data (`None`: all rows).
    pub fn evaluation(&self, i: usize, slice: Option<&RowFilter>) -> Option<Slot<Arc<Evaluation>>> {
        let key = self.planner().evaluation(i, slice)?.key;
        Some(evaluation_slot(self.cache.get(&key)?))
    }

    /// The evaluation of model `i` on all rows, whatever slice the Evaluate page shows.
    pub fn evaluation_all_rows(&self, i: usize) -> Option<Slot<Arc<Evaluation>>> {
        let key = self.planner().evaluation(i, None)?.key;
        Some(evaluation_slot(self.cache.get(&key)?))
    }

    /// The tree ensemble of model `i`, once parsed (`None` for other models).
    pub fn forest(&self, i: usize) -> Option<Arc<crate::engine::explain::tree::Forest>> {
        match self.slot(self.planner().forest(i).map(|r| r.key).as_ref())? {
            Slot::Ready(Output::Forest(f)) => Some(f.clone()),
            _ => None,
        }
    }

    /// Role problems of model `i` against the evaluation dataset (empty when not loaded).
    pub fn role_issues(&self, i: usize) -> Vec<RoleIssue> {
        self.planner().role_issues(i)
    }
}

fn evaluation_slot(slot: &Slot<Output>) -> Slot<Arc<Evaluation>> {
    match slot {
        Slot::Ready(Output::Evaluation(e)) => Slot::Ready(e.clone()),
        Slot::Ready(_) => Slot::Failed(Failure {
            kind: crate::engine::ErrorKind::Internal,
            text: "internal error: not an evaluation".into(),
        }),
        Slot::Loading => Slot::Loading,
        Slot::Failed(f) => Slot::Failed(f.clone()),
    }
}

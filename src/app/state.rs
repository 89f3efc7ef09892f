//! Everything the window shows, in one struct: the workspace, the cache of loaded models,
//! datasets and results (keyed by file path, and evaluations by model hash, data hash and
//! settings), the page and selections, visible errors, and the job runner.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::data::summary::Distribution;
use crate::engine::drift::DriftReport;
use crate::engine::evaluate::{EvalOptions, Evaluation};
use crate::engine::model::Model;
use crate::engine::package::{AuditLog, Decision, ModelCard, PackageReport, PackageVerification};
use crate::engine::workspace::{ColumnKind, DatasetRole, ModelEntry, RoleIssue, Workspace};

use super::analyses::{Analysis, ExplainSettings};
use super::jobs::{FairnessResult, JobKey, Jobs, LoadedData};

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
}

impl Page {
    pub const ALL: [Page; 8] = [
        Page::Overview,
        Page::Data,
        Page::Evaluate,
        Page::Fairness,
        Page::Explain,
        Page::Drift,
        Page::Compare,
        Page::Package,
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
        }
    }
}

/// A cached value that may still be loading or may have failed.
#[derive(Clone)]
pub enum Slot<T> {
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Slot<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Slot::Ready(v) => Some(v),
            _ => None,
        }
    }
}

/// Cache key of an evaluation: the model's and the data's SHA-256 and the settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EvalKey {
    pub model_sha: String,
    pub data_sha: String,
    pub settings: String,
}

/// The Package page's form and last results.
#[derive(Default)]
pub struct PackageState {
    pub card: Option<ModelCard>,
    pub key_path: String,
    pub out_dir: String,
    pub archive_zip: bool,
    pub verify_dir: String,
    pub verify_key: String,
    pub signoff: SignOffDraft,
    pub sealed: Option<Result<Arc<PackageReport>, String>>,
    pub verified: Option<Result<Arc<PackageVerification>, String>>,
    pub message: Option<String>,
}

/// The sign-off form's fields.
#[derive(Default, Clone)]
pub struct SignOffDraft {
    pub reviewer: String,
    pub role: String,
    pub decision: Option<Decision>,
    pub conditions: String,
    pub notes: String,
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

/// The Explain page's selections.
#[derive(Debug, Clone, Default)]
pub struct ExplainUi {
    pub view: ExplainView,
    /// Index into the explanation's rows.
    pub row: usize,
    pub dependence: usize,
    pub colour_by: Option<usize>,
    pub pdp_feature: usize,
    pub tree: usize,
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

/// The Compare page's selections.
#[derive(Debug, Clone, Default)]
pub struct CompareUi {
    pub view: CompareView,
    /// Index into the comparison's pairs.
    pub pair: usize,
    pub slicing: usize,
    pub metric: String,
    /// "Explain every model" was asked for: explanations are requested as models become ready.
    pub explain_all: bool,
}

/// Rows of the evaluation dataset the Evaluate page is restricted to.
#[derive(Clone, Debug)]
pub struct SliceFilter {
    pub label: String,
    pub rows: Arc<Vec<u32>>,
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
    pub models: HashMap<PathBuf, Slot<Arc<Model>>>,
    pub datasets: HashMap<PathBuf, Slot<Arc<LoadedData>>>,
    pub evaluations: HashMap<EvalKey, Slot<Arc<Evaluation>>>,
    pub distributions: HashMap<(PathBuf, String), Slot<Arc<Distribution>>>,
    pub fairness: HashMap<EvalKey, Slot<Arc<FairnessResult>>>,
    /// Fairness page: the slicing and metric shown.
    pub fairness_slicing: usize,
    pub fairness_metric: String,
    pub drift: HashMap<EvalKey, Slot<Arc<DriftReport>>>,
    /// Explanations, comparisons, speed and robustness results (see `app::analyses`).
    pub analyses: HashMap<JobKey, Slot<Analysis>>,
    pub explain_settings: ExplainSettings,
    pub explain_ui: ExplainUi,
    pub compare_ui: CompareUi,
    /// The reviewer note being written, and the author last used (kept for the next note).
    pub note_draft: Option<super::panels::notes::NoteDraft>,
    pub note_author: String,
    /// The last confirmation worth a line in the status bar (e.g. a report written).
    pub message: Option<String>,
    /// Drift page: the column shown in detail, and whether the selected model's predictions
    /// are compared too.
    pub drift_column: Option<String>,
    pub drift_with_model: bool,
    pub package: PackageState,
    /// Every action in this session (files loaded with hashes, analyses, card edits,
    /// sign-offs), hash-chained; carried into the package.
    pub audit: AuditLog,
    /// A weak slice the Evaluate page is filtered to (from the Fairness page).
    pub slice: Option<SliceFilter>,
    /// Index into `workspace.models` of the model the Evaluate page shows.
    pub model_index: usize,
    /// Index into `workspace.datasets` of the dataset the Data page shows.
    pub dataset_index: usize,
    pub selected_column: Option<String>,
    /// A 1-based row the Data page's preview should scroll to (consumed when shown).
    pub goto_row: Option<usize>,
    goto_text: String,
    /// The threshold slider of the Evaluate page (the sweep is read at this value).
    pub live_threshold: f64,
    pub errors: Vec<UiError>,
    next_error: u64,
    pub dark: bool,
    pub presentation: bool,
    pub jobs: Jobs,
}

impl State {
    pub fn new(workspace: Workspace, jobs: Jobs) -> Self {
        let live_threshold = workspace.settings.threshold;
        Self {
            workspace,
            workspace_path: None,
            dirty: false,
            page: Page::Overview,
            models: HashMap::new(),
            datasets: HashMap::new(),
            evaluations: HashMap::new(),
            distributions: HashMap::new(),
            fairness: HashMap::new(),
            fairness_slicing: 0,
            fairness_metric: "selection_rate".into(),
            drift: HashMap::new(),
            analyses: HashMap::new(),
            explain_settings: ExplainSettings::default(),
            explain_ui: ExplainUi::default(),
            compare_ui: CompareUi::default(),
            note_draft: None,
            note_author: String::new(),
            message: None,
            drift_column: None,
            drift_with_model: true,
            package: PackageState::default(),
            audit: AuditLog::new(),
            slice: None,
            model_index: 0,
            dataset_index: 0,
            selected_column: None,
            goto_row: None,
            goto_text: String::new(),
            live_threshold,
            errors: Vec::new(),
            next_error: 1,
            dark: true,
            presentation: false,
            jobs,
        }
    }

    /// The text of the Data page's "go to row" box.
    pub fn goto_text(&mut self) -> &mut String {
        &mut self.goto_text
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

    pub fn model(&self, path: &Path) -> Option<&Arc<Model>> {
        self.models.get(path).and_then(Slot::ready)
    }

    pub fn data(&self, path: &Path) -> Option<&Arc<LoadedData>> {
        self.datasets.get(path).and_then(Slot::ready)
    }

    pub fn selected_model(&self) -> Option<&ModelEntry> {
        self.workspace.models.get(self.model_index)
    }

    /// The labelled dataset models are evaluated on.
    pub fn eval_data_path(&self) -> Option<&Path> {
        self.workspace
            .dataset(DatasetRole::Evaluation)
            .map(|d| d.path.as_path())
    }

    /// The evaluation options for `entry` from the workspace's roles and settings.
    pub fn eval_options(&self, entry: &ModelEntry) -> Option<EvalOptions> {
        let target = self.workspace.roles.target.clone()?;
        let mut opts = EvalOptions::new(target);
        opts.features = entry.features.clone();
        opts.positive_class = self.workspace.roles.positive_class.clone();
        opts.threshold = self.workspace.settings.threshold;
        opts.bootstrap.resamples = self.workspace.settings.bootstrap;
        opts.bootstrap.seed = self.workspace.settings.seed;
        Some(opts)
    }

    /// The cache key of `entry`'s evaluation (on the slice, when one is set), once model and
    /// data are loaded.
    pub fn eval_key(&self, entry: &ModelEntry) -> Option<(EvalKey, EvalOptions)> {
        self.eval_key_on(entry, self.slice.as_ref())
    }

    /// The cache key of `entry`'s evaluation on all rows or on `slice`.
    pub fn eval_key_on(
        &self,
        entry: &ModelEntry,
        slice: Option<&SliceFilter>,
    ) -> Option<(EvalKey, EvalOptions)> {
        let model = self.model(&entry.path)?;
        let data = self.data(self.eval_data_path()?)?;
        let opts = self.eval_options(entry)?;
        let settings = format!(
            "{:?}|{}|{:?}|{}|{}|{}",
            opts.features,
            opts.target,
            opts.positive_class,
            opts.threshold,
            opts.bootstrap.resamples,
            opts.bootstrap.seed
        ) + &slice.map_or_else(String::new, |s| {
            format!("|slice {} ({} rows)", s.label, s.rows.len())
        });
        Some((
            EvalKey {
                model_sha: model.info.sha256.clone(),
                data_sha: data.ds.sha256.clone(),
                settings,
            },
            opts,
        ))
    }

    /// `entry`'s evaluation on all rows, whatever slice the Evaluate page shows.
    pub fn evaluation_all_rows(&self, entry: &ModelEntry) -> Option<&Slot<Arc<Evaluation>>> {
        let (key, _) = self.eval_key_on(entry, None)?;
        self.evaluations.get(&key)
    }

    pub fn evaluation(&self, entry: &ModelEntry) -> Option<&Slot<Arc<Evaluation>>> {
        let (key, _) = self.eval_key(entry)?;
        self.evaluations.get(&key)
    }

    /// Role problems of `entry` against the evaluation dataset (empty when not yet loaded).
    pub fn role_issues(&self, entry: &ModelEntry) -> Vec<RoleIssue> {
        let (Some(model), Some(data)) = (
            self.model(&entry.path),
            self.eval_data_path().and_then(|p| self.data(p)),
        ) else {
            return Vec::new();
        };
        let columns: Vec<ColumnKind> = data
            .info
            .columns
            .iter()
            .map(|c| ColumnKind {
                name: c.name.clone(),
                numeric: c.numeric,
            })
            .collect();
        crate::engine::workspace::validate_roles(
            entry,
            &model.info,
            &self.workspace.roles,
            &columns,
        )
    }
}

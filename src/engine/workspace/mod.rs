//! Workspaces: the models (versions) and datasets a review looks at, with their column roles,
//! saved as a human-readable `*.assay.json` file (written atomically), and the demo workspace
//! built from `sample_models/manifest.json`.
//!
//! Paths are absolute in memory and stored relative to the workspace file's folder when they
//! lie inside it, so a workspace folder can be moved or shared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{EngineError, Result};
use super::explain::{Method, OutputSpace};
use super::fairness::policy::Policy;
use super::monitor::Chunking;
use super::package::SignOff;
use super::report::notes::{next_note_id, Finding, ReviewNote};

/// One model of the workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    pub path: PathBuf,
    /// Display name (defaults to the file stem).
    pub label: String,
    /// Columns feeding a single `[N, F]` input, in order; `None` uses the model's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

/// What a dataset is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DatasetRole {
    /// Labelled data the models are evaluated on.
    #[default]
    Evaluation,
    /// The baseline for drift (usually the training data).
    Reference,
    /// Production data compared with the reference.
    Current,
    /// A prediction log monitored over time against the evaluation data (`assay monitor`).
    Log,
}

impl DatasetRole {
    /// The role's name, as saved.
    pub fn name(self) -> &'static str {
        match self {
            DatasetRole::Evaluation => "evaluation",
            DatasetRole::Reference => "reference",
            DatasetRole::Current => "current",
            DatasetRole::Log => "log",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetEntry {
    pub path: PathBuf,
    #[serde(default)]
    pub role: DatasetRole,
}

/// Column roles of the workspace's datasets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Roles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// Analysis settings saved with the workspace: every page, `assay report` and `assay package`
/// read them through `engine::analysis::Planner`, so they run the same analyses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub threshold: f64,
    pub bootstrap: usize,
    pub seed: u64,
    /// The label of the model the pages show, whose predictions drift compares and which is
    /// explained (`None`: the first model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus_model: Option<String>,
    /// Drift also compares the focus model's predictions (reference vs current).
    #[serde(default = "yes")]
    pub drift_with_model: bool,
    #[serde(default)]
    pub explain: ExplainSettings,
    /// Rows the robustness checks sample.
    #[serde(default = "default_robustness_rows")]
    pub robustness_rows: usize,
    /// How the prediction log (dataset role `log`) is monitored.
    #[serde(default, skip_serializing_if = "MonitorSettings::is_unset")]
    pub monitor: MonitorSettings,
}

/// The monitoring columns and chunking of the workspace's prediction log. The reference is
/// the evaluation data (the labelled test set the model was signed off on); the label column
/// is the target role. Scores missing from a file are computed by the monitored model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MonitorSettings {
    /// The label of the model that wrote the log (`None`: the focus model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Binary classifier: the positive-class score column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<String>,
    /// Multiclass classifier: class → score column.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub scores: BTreeMap<String, String>,
    /// The predicted-label column (used when both files have it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<String>,
    /// The log's timestamp column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `None`: NannyML's default (10 chunks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunking: Option<Chunking>,
    /// Metric names (empty: the default metrics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

impl MonitorSettings {
    pub fn is_unset(&self) -> bool {
        self == &MonitorSettings::default()
    }
}

fn yes() -> bool {
    true
}

fn default_robustness_rows() -> usize {
    1000
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            bootstrap: 1000,
            seed: 0,
            focus_model: None,
            drift_with_model: true,
            explain: ExplainSettings::default(),
            robustness_rows: default_robustness_rows(),
            monitor: MonitorSettings::default(),
        }
    }
}

/// How explanations are computed (the Explain page's settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExplainSettings {
    /// `None`: automatic (TreeSHAP for tree ensembles, else linear, exact or Kernel).
    pub method: Option<Method>,
    pub output_space: OutputSpace,
    /// The first N rows of the evaluation data are explained.
    pub rows: usize,
    /// Background rows (sampled from the reference data, else the evaluation data).
    pub background: usize,
    /// KernelSHAP coalitions per row.
    pub nsamples: usize,
}

impl Default for ExplainSettings {
    fn default() -> Self {
        Self {
            method: None,
            output_space: OutputSpace::Probability,
            rows: 200,
            background: 100,
            nsamples: 2048,
        }
    }
}

/// A workspace as saved in `*.assay.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub name: String,
    #[serde(default)]
    pub models: Vec<ModelEntry>,
    #[serde(default)]
    pub datasets: Vec<DatasetEntry>,
    #[serde(default)]
    pub roles: Roles,
    #[serde(default)]
    pub settings: Settings,
    /// The fairness policy the reviewers set (`None`: the default starting point, shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness_policy: Option<Policy>,
    /// Sign-off records added before sealing a package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signoffs: Vec<SignOff>,
    /// The promotion gate of the Compare page (`None`: the default gate, shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<crate::engine::compare::gate::Gate>,
    /// The labels of the (baseline, candidate) pair the gate judges, baseline earlier in the
    /// model order (`None`, or a label no longer in the workspace: the first and the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_pair: Option<(String, String)>,
    /// Declared monotonic relations checked by the robustness tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monotonic: Vec<crate::engine::robustness::monotonic::MonotonicConstraint>,
    /// Reviewer notes pinned to findings (absent in older workspace files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<ReviewNote>,
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            name: "Untitled workspace".into(),
            models: Vec::new(),
            datasets: Vec::new(),
            roles: Roles::default(),
            settings: Settings::default(),
            fairness_policy: None,
            signoffs: Vec::new(),
            gate: None,
            gate_pair: None,
            monotonic: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// File name stem without extensions, for labels.
pub fn stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

impl Workspace {
    /// Reads a workspace file; relative paths are resolved against its folder.
    pub fn load(path: &Path) -> Result<Workspace> {
        let text = super::fsio::read_text(path, "workspace", super::fsio::caps::WORKSPACE)?;
        let mut ws: Workspace = serde_json::from_str(&text).map_err(|e| {
            EngineError::file(
                path,
                format!(
                    "not a valid Assay workspace (line {}, column {}): {e}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        ws.check(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for m in &mut ws.models {
            m.path = base.join(&m.path);
        }
        for d in &mut ws.datasets {
            d.path = base.join(&d.path);
        }
        Ok(ws)
    }

    /// Checks what the file says against the ranges the command line enforces
    /// ([`super::limits`]) and the rules notes are added by: a workspace is untrusted input,
    /// and its settings reach the same engine calls as command-line values.
    fn check(&self, path: &Path) -> Result<()> {
        use super::limits::{MAX_BACKGROUND, MAX_BOOTSTRAP, MAX_NSAMPLES, MAX_SAMPLE_ROWS};
        let s = &self.settings;
        let bad = |what: &str, value: String, range: String| {
            Err(EngineError::file(
                path,
                format!(
                    "not a valid Assay workspace: settings.{what} is {value}; it must be {range}"
                ),
            ))
        };
        if !(0.0..=1.0).contains(&s.threshold) {
            return bad("threshold", s.threshold.to_string(), "in [0, 1]".into());
        }
        let counts = [
            ("bootstrap", s.bootstrap, MAX_BOOTSTRAP),
            ("robustness_rows", s.robustness_rows, MAX_SAMPLE_ROWS),
            ("explain.rows", s.explain.rows, MAX_SAMPLE_ROWS),
            ("explain.background", s.explain.background, MAX_BACKGROUND),
            ("explain.nsamples", s.explain.nsamples, MAX_NSAMPLES),
        ];
        for (what, value, max) in counts {
            if value as u64 > max {
                return bad(what, value.to_string(), format!("at most {max}"));
            }
        }
        for note in &self.notes {
            note.validate().map_err(|e| {
                EngineError::file(path, format!("not a valid Assay workspace: {e}"))
            })?;
        }
        Ok(())
    }

    /// Writes the workspace atomically (temporary file in the same folder, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let base = path.parent().unwrap_or(Path::new("."));
        let mut out = self.clone();
        for m in &mut out.models {
            m.path = relative_to(&m.path, base);
        }
        for d in &mut out.datasets {
            d.path = relative_to(&d.path, base);
        }
        let text = serde_json::to_string_pretty(&out)
            .map_err(|e| EngineError::internal(format!("workspace encoding failed: {e}")))?;
        super::fsio::write(path, "workspace", (text + "\n").as_bytes())
    }

    /// A workspace made from command-line files: `models` (path, feature list) are labelled by
    /// file stem (the last is the focus: the candidate of a review), `data` is evaluated,
    /// and drift compares `data` (as current) with `reference`.
    pub fn from_files(
        models: &[(PathBuf, Option<Vec<String>>)],
        data: Option<&Path>,
        reference: Option<&Path>,
    ) -> Workspace {
        let mut ws = Workspace::default();
        for (path, features) in models {
            let mut label = stem(path);
            let mut n = 2;
            while ws.models.iter().any(|m| m.label == label) {
                label = format!("{} ({n})", stem(path));
                n += 1;
            }
            ws.models.push(ModelEntry {
                path: path.clone(),
                label,
                features: features.clone(),
            });
        }
        ws.name = ws
            .models
            .iter()
            .map(|m| m.label.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        ws.settings.focus_model = ws.models.last().map(|m| m.label.clone());
        if let Some(d) = data {
            ws.add_dataset(d, DatasetRole::Evaluation);
        }
        if let Some(r) = reference {
            ws.add_dataset(r, DatasetRole::Reference);
            if let Some(d) = data {
                ws.datasets.push(DatasetEntry {
                    path: d.to_path_buf(),
                    role: DatasetRole::Current,
                });
            }
        }
        ws
    }

    pub fn add_model(&mut self, path: &Path) {
        if !self.models.iter().any(|m| m.path == path) {
            self.models.push(ModelEntry {
                path: path.to_path_buf(),
                label: stem(path),
                features: None,
            });
        }
    }

    pub fn add_dataset(&mut self, path: &Path, role: DatasetRole) {
        if !self.datasets.iter().any(|d| d.path == path) {
            self.datasets.push(DatasetEntry {
                path: path.to_path_buf(),
                role,
            });
        }
    }

    /// Each sensitive attribute is a slicing; with two or more, the intersection of the
    /// first two is added (a `a+b` entry is an intersection already).
    pub fn slicings(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = self
            .roles
            .sensitive
            .iter()
            .map(|s| s.split('+').map(str::to_string).collect())
            .collect();
        let singles: Vec<&String> = self
            .roles
            .sensitive
            .iter()
            .filter(|s| !s.contains('+'))
            .collect();
        if singles.len() >= 2 {
            let pair = vec![singles[0].clone(), singles[1].clone()];
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
        out
    }

    /// Pins a note to `finding`; `created` is RFC 3339 UTC from the caller. Returns the new
    /// note (its id is the next free `nN`).
    pub fn add_note(
        &mut self,
        finding: Finding,
        text: &str,
        author: &str,
        created: &str,
    ) -> Result<&ReviewNote> {
        let note = ReviewNote {
            id: next_note_id(&self.notes),
            finding,
            text: text.trim().to_string(),
            author: author.trim().to_string(),
            created: created.to_string(),
        };
        note.validate()?;
        self.notes.push(note);
        self.notes
            .last()
            .ok_or_else(|| EngineError::internal("note append lost its note"))
    }

    /// Removes the note with this id; returns whether there was one.
    pub fn remove_note(&mut self, id: &str) -> bool {
        let before = self.notes.len();
        self.notes.retain(|n| n.id != id);
        self.notes.len() != before
    }

    /// Index into `models` of the focus model (`settings.focus_model`, else the first).
    pub fn focus_index(&self) -> usize {
        self.settings
            .focus_model
            .as_ref()
            .and_then(|l| self.models.iter().position(|m| &m.label == l))
            .unwrap_or(0)
    }

    /// The first dataset with this role.
    pub fn dataset(&self, role: DatasetRole) -> Option<&DatasetEntry> {
        self.datasets.iter().find(|d| d.role == role)
    }
}

fn relative_to(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

mod demo;
mod roles;
pub use demo::{demo_entries, demo_root, demo_workspace, DemoEntry, DEMO_LOG_MODEL};
pub use roles::{validate_roles, ColumnKind, RoleIssue};

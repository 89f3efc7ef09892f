//! Signed deployment packages (issue #8): a folder holding the ONNX model, its input schema
//! and column mapping, the evidence JSON files with the SHA-256 of the datasets behind them,
//! deployment descriptors (Triton, KServe), a model card, sign-off records, a hash-chained
//! audit log and `model.sig`, an OpenSSF `model_signing`-compatible signature over all of it.
//!
//! Layout of a package:
//! ```text
//! model.onnx                      the reviewed model, byte for byte
//! package.json                    what is inside: model, datasets, evidence, checklist, audit head
//! README.md                       model card (Hugging Face style)
//! evidence/NAME.json              evaluation, fairness, drift, explain, compare, …
//! schema/input.schema.json        JSON Schema of one request row
//! schema/columns.json             column mapping (features, target, sensitive columns)
//! deploy/triton/NAME/config.pbtxt + deploy/triton/NAME/1/model.onnx
//! deploy/kserve/inferenceservice.yaml
//! signoff.json                    sign-off records
//! notes.json                      reviewer notes pinned to findings (when there are any)
//! report.html                     the stakeholder review report (when given)
//! audit.jsonl                     hash-chained audit log
//! model.sig                       Sigstore bundle (model_signing private-key format)
//! ```

pub mod archive;
pub mod audit;
mod build;
pub mod card;
pub mod descriptors;
mod extract;
pub mod keys;
pub mod manifest;
pub mod sign;
pub mod signoff;
mod verify;

use crate::engine::Warning;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};

pub use archive::ArchiveKind;
pub use audit::{AuditCheck, AuditEntry, AuditLog};
pub use build::{build_package, draft_card};
pub use card::ModelCard;
pub use keys::{PublicKey, SigningKey};
pub use sign::{SignatureCheck, SignatureStatus};
pub use signoff::{Decision, SignOff};
pub use verify::{verify_package, PackageVerification};

use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::{evaluate_files, EvalOptions};
use crate::engine::fsio;
use crate::engine::hash::{sha256_bytes, sha256_file};
use crate::engine::model::{plan_inputs, Model};
use crate::engine::report::notes::ReviewNote;
use crate::engine::Progress;

/// The evidence kinds a complete review carries, in checklist order.
pub const EVIDENCE_KINDS: [&str; 7] = [
    "evaluation",
    "fairness",
    "explain",
    "drift",
    "compare",
    "performance",
    "robustness",
];

/// Package format written into `package.json`.
pub const FORMAT: &str = "assay-package/1";

/// Run `evaluate` while packaging.
#[derive(Debug, Clone)]
pub struct EvaluationRequest {
    pub data: PathBuf,
    pub options: EvalOptions,
}

/// The model card to include: drafted from the evidence (optionally edited), or Markdown
/// written elsewhere, used verbatim.
#[derive(Debug, Clone)]
pub enum CardSource {
    Draft,
    Edited(Box<ModelCard>),
    Markdown(String),
}

/// Everything `build_package` needs.
#[derive(Debug, Clone)]
pub struct PackageRequest {
    pub model: PathBuf,
    /// The package folder to create.
    pub out: PathBuf,
    /// Replace an existing package at `out` (and its archive).
    pub force: bool,
    /// Also write `out.zip` / `out.tar.gz`.
    pub archive: Option<ArchiveKind>,
    pub evaluation: Option<EvaluationRequest>,
    /// Feature columns for the input schema when the model has no `features` metadata.
    pub features: Option<Vec<String>>,
    pub sensitive: Vec<String>,
    pub reference: Option<PathBuf>,
    /// Extra evidence: (name, JSON file), e.g. ("fairness", "fairness.json").
    pub evidence: Vec<(String, PathBuf)>,
    /// Evidence computed in this process (`engine::analysis::Review::evidence`): (name, JSON).
    pub evidence_values: Vec<(String, Value)>,
    /// The target column recorded in the column mapping (default: the evaluation's).
    pub target: Option<String>,
    pub signoffs: Vec<SignOff>,
    pub card: CardSource,
    /// The workspace's audit log so far; packaging appends its own entries.
    pub audit: AuditLog,
    /// Triton `max_batch_size` when the model has a dynamic batch dimension.
    pub triton_max_batch: u32,
    /// KServe `storageUri` (default `pvc://models/NAME`).
    pub storage_uri: Option<String>,
    /// Reviewer notes: written to `notes.json`, one `note.added` audit entry each.
    pub notes: Vec<ReviewNote>,
    /// The review report to seal as `report.html`.
    pub report: Option<ReportSource>,
    /// Monitoring files to seal next to the model, as (path under `monitoring/`, text):
    /// Prometheus alerting rules and a Grafana dashboard (`Review::monitoring_files`).
    pub monitoring: Vec<(String, String)>,
}

/// Where the package's `report.html` comes from.
#[derive(Debug, Clone)]
pub enum ReportSource {
    /// A report file written earlier (`assay report --out`).
    File(PathBuf),
    /// A report rendered in memory (`engine::report::render`).
    Html(String),
}

impl PackageRequest {
    pub fn new(model: impl Into<PathBuf>, out: impl Into<PathBuf>) -> Self {
        PackageRequest {
            model: model.into(),
            out: out.into(),
            force: false,
            archive: None,
            evaluation: None,
            features: None,
            sensitive: Vec::new(),
            reference: None,
            evidence: Vec::new(),
            evidence_values: Vec::new(),
            target: None,
            signoffs: Vec::new(),
            card: CardSource::Draft,
            audit: AuditLog::new(),
            triton_max_batch: 64,
            storage_uri: None,
            notes: Vec::new(),
            report: None,
            monitoring: Vec::new(),
        }
    }
}

/// One line of the package checklist.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub evidence: String,
    pub present: bool,
}

/// A dataset some evidence was computed on.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetRef {
    pub role: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceFile {
    pub name: String,
    pub file: String,
    pub sha256: String,
    /// `{path, sha256}` objects found at the top level of the evidence JSON.
    pub inputs: Vec<DatasetRef>,
}

/// What `build_package` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub path: PathBuf,
    pub archive: Option<PathBuf>,
    pub model_sha256: String,
    pub subject_digest: String,
    pub public_key_hint: String,
    pub files: Vec<manifest::FileDigest>,
    pub evidence: Vec<EvidenceFile>,
    pub datasets: Vec<DatasetRef>,
    pub checklist: Vec<ChecklistItem>,
    pub audit_entries: usize,
    pub warnings: Vec<crate::engine::Warning>,
}

/// The checklist for a set of evidence names.
pub fn checklist(names: &[String]) -> Vec<ChecklistItem> {
    let mut items: Vec<ChecklistItem> = EVIDENCE_KINDS
        .iter()
        .map(|k| ChecklistItem {
            evidence: (*k).to_string(),
            present: names.iter().any(|n| n == k),
        })
        .collect();
    for n in names {
        if !EVIDENCE_KINDS.contains(&n.as_str()) {
            items.push(ChecklistItem {
                evidence: n.clone(),
                present: true,
            });
        }
    }
    items
}

/// Evidence names become file names: 1–64 of `[a-z0-9_-]`, starting with a letter.
pub fn check_evidence_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(EngineError::usage(format!(
            "evidence name '{name}' must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter"
        )))
    }
}

/// The datasets the evidence was computed on (`{path, sha256}` objects at the top level of
/// each evidence JSON), each once.
pub fn evidence_datasets(evidence: &[(String, Value)]) -> Vec<DatasetRef> {
    let mut out: Vec<DatasetRef> = Vec::new();
    for (_, v) in evidence {
        for d in input_refs(v) {
            if !out.iter().any(|o| o.sha256 == d.sha256 && o.role == d.role) {
                out.push(d);
            }
        }
    }
    out
}

fn input_refs(v: &Value) -> Vec<DatasetRef> {
    let mut out = Vec::new();
    if let Some(obj) = v.as_object() {
        for (k, child) in obj {
            if let (Some(p), Some(h)) = (
                child.get("path").and_then(Value::as_str),
                child.get("sha256").and_then(Value::as_str),
            ) {
                out.push(DatasetRef {
                    role: k.clone(),
                    path: p.to_string(),
                    sha256: h.to_string(),
                });
            }
        }
    }
    out
}

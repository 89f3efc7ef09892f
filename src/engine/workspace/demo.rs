//! The demo workspace, built from `sample_models/manifest.json`.

use std::path::PathBuf;

use serde::Deserialize;

use super::{yes, DatasetRole, ModelEntry, MonitorSettings, Roles, Workspace};
use crate::engine::error::{EngineError, Result};
use crate::engine::monitor::Chunking;

/// One model of the manifest with its dataset and column roles.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoEntry {
    pub file: PathBuf,
    pub name: String,
    pub version: String,
    pub task: String,
    pub data: PathBuf,
    pub reference: Option<PathBuf>,
    pub target: String,
    pub features: Vec<String>,
    pub positive_class: Option<String>,
    #[serde(default)]
    pub sensitive: Vec<String>,
    /// False for a sample that is not one of the demo workspace's models (e.g. the pipeline
    /// evaluated on its own data with missing values).
    #[serde(default = "yes")]
    pub demo: bool,
}

/// The folder holding `sample_models/` and `sample_data/`: beside the executable (symlinks
/// resolved; a release archive or package), else the source tree.
pub fn demo_root() -> Option<PathBuf> {
    let candidates = crate::engine::runtime::exe_dir()
        .into_iter()
        .chain(std::iter::once(PathBuf::from(env!("CARGO_MANIFEST_DIR"))));
    candidates
        .into_iter()
        .find(|d| d.join("sample_models/manifest.json").is_file())
}

/// Reads the manifest; paths in the result are absolute.
pub fn demo_entries() -> Result<Vec<DemoEntry>> {
    let root = demo_root().ok_or_else(|| {
        EngineError::usage("the demo workspace (sample_models/manifest.json) was not found next to the executable or in the source tree")
    })?;
    let path = root.join("sample_models/manifest.json");
    let text = crate::engine::fsio::read_text(
        &path,
        "demo manifest",
        crate::engine::fsio::caps::WORKSPACE,
    )?;
    let mut entries: Vec<DemoEntry> = serde_json::from_str(&text)
        .map_err(|e| EngineError::file(&path, format!("invalid manifest: {e}")))?;
    for e in &mut entries {
        e.file = root.join(&e.file);
        e.data = root.join(&e.data);
        e.reference = e.reference.as_ref().map(|r| root.join(r));
    }
    Ok(entries)
}

/// The model that wrote the demo prediction log (`sample_data/adult_log.csv`).
pub const DEMO_LOG_MODEL: (&str, &str) = ("adult_gbdt", "1.0");

/// The demo workspace: the Adult classifiers (all versions) on the held-out Adult data, with
/// the reference and drifted current data, and the prediction log of adult_gbdt v1.0
/// (monitored against the held-out data in weekly chunks of 300 rows), roles already mapped.
pub fn demo_workspace() -> Result<Workspace> {
    let entries = demo_entries()?;
    let mut ws = Workspace {
        name: "Demo — Adult income".into(),
        ..Workspace::default()
    };
    let adult: Vec<&DemoEntry> = entries
        .iter()
        .filter(|e| e.target == "income_over_50k" && e.demo)
        .collect();
    let first = adult
        .first()
        .ok_or_else(|| EngineError::usage("the demo manifest lists no Adult model"))?;
    for e in &adult {
        ws.models.push(ModelEntry {
            path: e.file.clone(),
            label: format!("{} v{}", e.name, e.version),
            features: Some(e.features.clone()),
        });
    }
    ws.add_dataset(&first.data, DatasetRole::Evaluation);
    if let Some(r) = &first.reference {
        ws.add_dataset(r, DatasetRole::Reference);
        let current = r.with_file_name("adult_current.csv");
        if current.is_file() {
            ws.add_dataset(&current, DatasetRole::Current);
        }
        let log = r.with_file_name("adult_log.csv");
        let (name, version) = DEMO_LOG_MODEL;
        let writer = adult
            .iter()
            .find(|e| e.name == name && e.version == version);
        if let (true, Some(w)) = (log.is_file(), writer) {
            ws.add_dataset(&log, DatasetRole::Log);
            ws.settings.monitor = MonitorSettings {
                model: Some(format!("{} v{}", w.name, w.version)),
                score: Some("score".into()),
                prediction: Some("prediction".into()),
                timestamp: Some("timestamp".into()),
                chunking: Some(Chunking::Size(300)),
                ..MonitorSettings::default()
            };
        }
    }
    ws.roles = Roles {
        target: Some(first.target.clone()),
        positive_class: first.positive_class.clone(),
        sensitive: first.sensitive.clone(),
        id: None,
        timestamp: None,
    };
    Ok(ws)
}

//! The demo workspace: the sample models and datasets listed in
//! `sample_models/manifest.json`, found next to the executable (release archive) or in the
//! source tree.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{EngineError, Result};

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
}

/// The folder holding `sample_models/` and `sample_data/`.
pub fn demo_root() -> Option<PathBuf> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    let candidates = exe_dir
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
    let text = std::fs::read_to_string(&path)
        .map_err(|e| EngineError::file(&path, format!("cannot read: {e}")))?;
    let mut entries: Vec<DemoEntry> = serde_json::from_str(&text)
        .map_err(|e| EngineError::file(&path, format!("invalid manifest: {e}")))?;
    for e in &mut entries {
        e.file = root.join(&e.file);
        e.data = root.join(&e.data);
        e.reference = e.reference.as_ref().map(|r| root.join(r));
    }
    Ok(entries)
}

//! UI settings kept between runs (theme, presentation mode, recent workspaces) in the OS
//! config folder, as JSON.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UiSettings {
    pub dark: bool,
    pub presentation: bool,
    #[serde(default)]
    pub recent: Vec<PathBuf>,
}

impl Default for UiSettings {
    fn default() -> Self {
        Self {
            dark: true,
            presentation: false,
            recent: Vec::new(),
        }
    }
}

/// `~/.config/assay/settings.json` on Linux (per `directories`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "Assay", "assay")
        .map(|d| d.config_dir().join("settings.json"))
}

impl UiSettings {
    pub fn load(path: Option<&PathBuf>) -> UiSettings {
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Best effort: settings that cannot be written are not worth an error.
    pub fn save(&self, path: Option<&PathBuf>) {
        let Some(path) = path else {
            return;
        };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(text) = serde_json::to_string_pretty(self) {
            let _ = crate::engine::fsio::write(path, "settings", text.as_bytes());
        }
    }

    pub fn remember(&mut self, path: PathBuf) {
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(8);
    }
}

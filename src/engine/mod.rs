//! The UI-free core. Never imports egui, never prints, never spawns UI threads. Long
//! functions take a [`progress::Progress`] (progress + cancel); errors are
//! [`error::EngineError`] with an [`error::ErrorKind`].

pub mod analysis;
pub mod compare;
pub mod data;
pub mod drift;
pub mod error;
pub mod evaluate;
pub mod evaluate_stream;
pub mod explain;
pub mod fairness;
pub mod fsio;
pub mod hash;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod package;
pub mod perf;
pub mod progress;
pub mod report;
pub mod robustness;
pub mod runtime;
pub mod scored;
mod scored_pipeline;
pub mod scored_stream;
pub mod sortkey;
pub mod valid_rows;
pub mod warning;
pub mod workspace;

pub use error::{Context, EngineError, ErrorKind, Result};
pub use progress::Progress;
pub use warning::{Warning, WarningKind};

/// A byte count for people: `512 B`, `1.5 KB`, `2.0 MB`.
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "KB", "MB", "GB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

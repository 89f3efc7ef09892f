//! Shared CLI output: JSON writing, number formatting and the stderr progress bar.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::JsonTarget;
use crate::engine::{fsio, EngineError, Progress, Result};

pub fn write_json<T: serde::Serialize>(value: &T, target: &JsonTarget) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| EngineError::internal(format!("JSON encoding failed: {e}")))?;
    match target {
        JsonTarget::Stdout => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")
                .map_err(|e| EngineError::internal(format!("cannot write to stdout: {e}")))
        }
        JsonTarget::File(path) => fsio::write(path, "JSON", (text + "\n").as_bytes()),
    }
}

pub fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.4}"))
}

pub use crate::engine::human_bytes;

/// Runs `work` with a progress bar on stderr when stderr is a terminal.
pub fn with_progress<T: Send>(work: impl FnOnce(&Progress) -> Result<T> + Send) -> Result<T> {
    let progress = Progress::none();
    if !std::io::stderr().is_terminal() {
        return work(&progress);
    }
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let p = progress.clone();
        let done_ref = &done;
        s.spawn(move || {
            let mut shown = false;
            while !done_ref.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(120));
                let (f, msg) = p.snapshot();
                let filled = (f * 30.0) as usize;
                eprint!(
                    "\r[{}{}] {:>3.0}% {:<40}",
                    "#".repeat(filled),
                    " ".repeat(30 - filled.min(30)),
                    f * 100.0,
                    msg
                );
                shown = true;
            }
            if shown {
                eprint!("\r{}\r", " ".repeat(80));
            }
        });
        let r = work(&progress);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        r
    })
}

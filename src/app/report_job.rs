//! "Export report": the engine's [`Review`](crate::engine::analysis::Review) of the window's
//! cache (exactly what `assay report --workspace` gathers: evaluations on all rows, fairness,
//! drift, the focus model's explanation, the comparison with its gate judged on speed and
//! robustness facts, sign-offs and reviewer notes) rendered in a job, so the file shows the
//! numbers on screen.

use std::path::PathBuf;

use crate::engine::package::audit::now_rfc3339;

use super::commands::file_name;
use super::jobs::{Done, JobKey};
use super::state::State;

/// Renders the report of the current results into `out` (a job; the status bar shows it).
pub fn request_report(state: &mut State, out: PathBuf) {
    let review = state.review();
    state.jobs.spawn(
        JobKey::Report,
        format!("Writing report {}", file_name(&out)),
        move |progress| {
            progress.set(0.1, "rendering the report");
            let html = review.render(&now_rfc3339())?.html;
            progress.check()?;
            crate::engine::fsio::write(&out, "report", html.as_bytes())?;
            Ok(Done::Message(format!(
                "Report written: {} ({})",
                out.display(),
                crate::engine::human_bytes(html.len() as u64)
            )))
        },
    );
}

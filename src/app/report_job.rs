//! "Export report": gathers the results the window already holds (evaluations on all rows,
//! fairness, drift, explanation, comparison, speed and robustness, sign-offs and reviewer
//! notes) and renders the self-contained HTML report in a job, so the file shows exactly the
//! numbers on screen.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::package::audit::now_rfc3339;
use crate::engine::report::{self, ModelSection, ReportInput};
use crate::engine::EngineError;

use super::analyses::{compare_key, Analysis};
use super::commands::{drift_key, fairness_key};
use super::jobs::{FairnessResult, JobKey, LoadedData, Output};
use super::state::{Slot, State};
use crate::engine::drift::DriftReport;
use crate::engine::evaluate::Evaluation;
use crate::engine::model::Model;

/// One model's label, file and cached results.
type ModelResults = (
    String,
    Arc<Model>,
    Option<Arc<Evaluation>>,
    Option<Arc<FairnessResult>>,
);

/// Owned copies (`Arc`s) of what the report shows, moved into the job.
struct Gathered {
    title: String,
    workspace: Option<String>,
    models: Vec<ModelResults>,
    data: Option<Arc<LoadedData>>,
    drift: Option<Arc<DriftReport>>,
    comparison: Option<Analysis>,
    signoffs: Vec<crate::engine::package::SignOff>,
    notes: Vec<crate::engine::report::notes::ReviewNote>,
}

fn gather(state: &State) -> Gathered {
    let models = state
        .workspace
        .models
        .iter()
        .filter_map(|m| {
            let model = state.model(&m.path)?.clone();
            let eval = state.evaluation_all_rows(m).and_then(Slot::ready).cloned();
            let fair = fairness_key(state, m)
                .and_then(|(k, _)| state.fairness.get(&k))
                .and_then(Slot::ready)
                .cloned();
            Some((m.label.clone(), model, eval, fair))
        })
        .collect();
    Gathered {
        title: format!("Model review — {}", state.workspace.name),
        workspace: state
            .workspace_path
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| Some(state.workspace.name.clone())),
        models,
        data: state.eval_data_path().and_then(|p| state.data(p)).cloned(),
        drift: drift_key(state)
            .and_then(|k| state.drift.get(&k))
            .and_then(Slot::ready)
            .cloned(),
        comparison: compare_key(state)
            .and_then(|(k, _, _)| state.analysis(&k))
            .and_then(Slot::ready)
            .cloned(),
        signoffs: state.workspace.signoffs.clone(),
        notes: state.workspace.notes.clone(),
    }
}

/// Renders the report from the current results into `out` (a job; the status bar shows it).
pub fn request_report(state: &mut State, out: PathBuf) {
    let g = gather(state);
    state.jobs.spawn(
        JobKey::Package("report"),
        format!("Writing report {}", super::commands::file_name(&out)),
        move |progress| {
            progress.set(0.1, "rendering the report");
            let models: Vec<ModelSection> = g
                .models
                .iter()
                .map(|(label, model, eval, fair)| ModelSection {
                    label,
                    info: Some(&model.info),
                    evaluation: eval.as_deref(),
                    fairness: fair.as_deref().map(|f| &f.report),
                })
                .collect();
            let _ = &g.comparison;
            let input = ReportInput {
                title: g.title.clone(),
                generated: now_rfc3339(),
                workspace: g.workspace.clone(),
                models,
                data: g.data.as_deref().map(|d| &d.info),
                drift: g.drift.as_deref(),
                gates: Vec::new(),
                signoffs: &g.signoffs,
                notes: &g.notes,
                extensions: report::Extensions::default(),
            };
            let html = report::render(&input)?;
            progress.check()?;
            let tmp = out.with_extension("html.part");
            std::fs::write(&tmp, &html)
                .and_then(|()| std::fs::rename(&tmp, &out))
                .map_err(|e| EngineError::file(&out, format!("cannot write the report: {e}")))?;
            Ok(Output::Done(format!(
                "Report written: {} ({})",
                out.display(),
                crate::engine::human_bytes(html.len() as u64)
            )))
        },
    );
}

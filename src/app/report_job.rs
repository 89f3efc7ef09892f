//! "Export report": gathers the results the window already holds (evaluations on all rows,
//! fairness, drift, explanation, comparison, speed and robustness, sign-offs and reviewer
//! notes) and renders the self-contained HTML report in a job, so the file shows exactly the
//! numbers on screen.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::compare::Comparison;
use crate::engine::explain::Explanation;
use crate::engine::package::audit::now_rfc3339;
use crate::engine::package::ModelCard;
use crate::engine::perf::PerfReport;
use crate::engine::report::{self, ext, ModelSection, ReportInput};
use crate::engine::robustness::RobustnessReport;

use super::analyses::{compare_key, explain_key, gate_now, perf_key, robustness_key, Analysis};
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
pub struct Gathered {
    title: String,
    workspace: Option<String>,
    models: Vec<ModelResults>,
    data: Option<Arc<LoadedData>>,
    drift: Option<Arc<DriftReport>>,
    /// The comparison with the promotion gate as the Compare page judges it (the workspace's
    /// rules, with speed and robustness facts measured so far).
    comparison: Option<Comparison>,
    /// The selected model's explanation with the Explain page's settings.
    explanation: Option<(String, Arc<Explanation>)>,
    perf: Vec<(String, Arc<PerfReport>)>,
    robustness: Vec<(String, Arc<RobustnessReport>)>,
    card: Option<ModelCard>,
    signoffs: Vec<crate::engine::package::SignOff>,
    notes: Vec<crate::engine::report::notes::ReviewNote>,
}

/// Each workspace model's result `get` finds, with the model's label.
fn each<T>(
    state: &State,
    get: impl Fn(&crate::engine::workspace::ModelEntry) -> Option<Arc<T>>,
) -> Vec<(String, Arc<T>)> {
    state
        .workspace
        .models
        .iter()
        .filter_map(|m| get(m).map(|r| (m.label.clone(), r)))
        .collect()
}

/// What the report shows, taken from the window's caches (cheap: `Arc` clones).
pub fn gather(state: &State) -> Gathered {
    let comparison = match compare_key(state).and_then(|(k, _, _)| state.analysis(&k)) {
        Some(Slot::Ready(Analysis::Comparison(c))) => {
            let (_, result, _) = gate_now(state, c);
            let mut c = (**c).clone();
            c.gate.default_rules = state.workspace.gate.is_none();
            c.gate.result = result;
            Some(c)
        }
        _ => None,
    };
    let explanation = state.selected_model().and_then(|m| {
        match explain_key(state, m).and_then(|(k, _)| state.analysis(&k)) {
            Some(Slot::Ready(Analysis::Explanation(e))) => Some((m.label.clone(), e.clone())),
            _ => None,
        }
    });
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
        comparison,
        explanation,
        perf: each(state, |m| {
            match perf_key(state, m).and_then(|k| state.analysis(&k)) {
                Some(Slot::Ready(Analysis::Perf(p))) => Some(p.clone()),
                _ => None,
            }
        }),
        robustness: each(state, |m| {
            match robustness_key(state, m).and_then(|(k, _)| state.analysis(&k)) {
                Some(Slot::Ready(Analysis::Robustness(r))) => Some(r.clone()),
                _ => None,
            }
        }),
        card: state.package.card.clone(),
        signoffs: state.workspace.signoffs.clone(),
        notes: state.workspace.notes.clone(),
    }
}

/// Renders the report from gathered results (inside a job).
pub fn render(g: &Gathered) -> crate::engine::Result<String> {
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
    let explanation = g
        .explanation
        .as_ref()
        .map(|(label, e)| ext::explanation_section(label, e));
    let comparison = g.comparison.as_ref().map(ext::comparison_section);
    let perf: Vec<(&str, &PerfReport)> = g.perf.iter().map(|(l, p)| (l.as_str(), &**p)).collect();
    let performance = (!perf.is_empty()).then(|| ext::performance_section(&perf));
    let rob: Vec<(&str, &RobustnessReport)> = g
        .robustness
        .iter()
        .map(|(l, r)| (l.as_str(), &**r))
        .collect();
    let robustness = (!rob.is_empty()).then(|| ext::robustness_section(&rob));
    let input = ReportInput {
        title: g.title.clone(),
        generated: now_rfc3339(),
        workspace: g.workspace.clone(),
        models,
        data: g.data.as_deref().map(|d| &d.info),
        drift: g.drift.as_deref(),
        card: g.card.as_ref(),
        gates: g.comparison.iter().map(ext::comparison_gate).collect(),
        signoffs: &g.signoffs,
        notes: &g.notes,
        extensions: report::Extensions {
            explanation: explanation.as_ref(),
            comparison: comparison.as_ref(),
            performance: performance.as_ref(),
            robustness: robustness.as_ref(),
        },
    };
    report::render(&input)
}

/// Renders the report from the current results into `out` (a job; the status bar shows it).
pub fn request_report(state: &mut State, out: PathBuf) {
    let g = gather(state);
    state.jobs.spawn(
        JobKey::Package("report"),
        format!("Writing report {}", super::commands::file_name(&out)),
        move |progress| {
            progress.set(0.1, "rendering the report");
            let html = render(&g)?;
            progress.check()?;
            crate::engine::fsio::write(&out, "report", html.as_bytes())?;
            Ok(Output::Done(format!(
                "Report written: {} ({})",
                out.display(),
                crate::engine::human_bytes(html.len() as u64)
            )))
        },
    );
}

//! Which analyses a review carries, and computing them in turn (the CLI's `report` and
//! `package`; the window runs the same requests as jobs).

use super::{Planner, Request, ResultMap, Sources};
use crate::engine::workspace::Workspace;
use crate::engine::{Context, EngineError, Progress, Result};

/// The optional analyses of a review (evaluation, fairness, drift, the comparison and
/// monitoring of the prediction log are always in it when the workspace allows them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    /// SHAP values of the focus model.
    pub explanation: bool,
    /// Speed of every model.
    pub perf: bool,
    /// Robustness checks of every model.
    pub robustness: bool,
}

/// The review's requests the planner can make now (some need earlier results: fairness
/// follows its model's evaluation).
pub fn review_requests(p: &Planner, wants: Wants) -> Vec<Request> {
    let n = p.ws.models.len();
    let mut out: Vec<Request> = Vec::new();
    for i in 0..n {
        out.extend(p.evaluation(i, None));
        out.extend(p.fairness(i));
    }
    out.extend(p.drift());
    out.extend(p.comparison());
    out.extend(p.monitor());
    if wants.explanation {
        out.extend(p.explanation(p.ws.focus_index()));
    }
    for i in 0..n {
        if wants.perf {
            out.extend(p.perf(i));
        }
        if wants.robustness {
            out.extend(p.robustness(i));
        }
    }
    out
}

/// Runs every request of the review of `ws` (rounds, until nothing new can be planned).
/// Fails on the first error, naming the analysis; role problems are reported before any
/// model runs.
pub fn compute(
    ws: &Workspace,
    src: &dyn Sources,
    wants: Wants,
    progress: &Progress,
) -> Result<ResultMap> {
    let mut results = ResultMap::default();
    {
        let p = Planner::new(ws, src, &results);
        for (i, entry) in ws.models.iter().enumerate() {
            if ws.roles.target.is_some() {
                if let Some(issue) = p.role_issues(i).into_iter().next() {
                    return Err(EngineError::usage(format!(
                        "model '{}': {}{}",
                        entry.label,
                        issue
                            .column
                            .map_or_else(String::new, |c| format!("column '{c}': ")),
                        issue.message
                    )));
                }
            }
        }
    }
    for _round in 0..4 {
        let pending: Vec<Request> = {
            let p = Planner::new(ws, src, &results);
            review_requests(&p, wants)
                .into_iter()
                .filter(|r| !results.0.contains_key(&r.key))
                .collect()
        };
        if pending.is_empty() {
            break;
        }
        for r in pending {
            progress.check()?;
            progress.set(0.0, &r.title.to_lowercase());
            let title = r.title.clone();
            results.run(r, progress).context(title)?;
        }
    }
    Ok(results)
}

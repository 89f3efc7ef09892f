//! The stakeholder review report (issue #9): ONE self-contained HTML file — inline CSS, inline
//! SVG charts drawn by [`svg`], no JavaScript, no external references of any kind — that
//! prints cleanly to PDF. It is drawn from the same engine results the app shows
//! ([`Evaluation`], [`FairnessReport`], [`DriftReport`], [`ModelInfo`], [`DatasetInfo`],
//! sign-offs, [`ReviewNote`]s), so its numbers are the app's numbers, rounded by the same rule
//! ([`html::fmt`]) with the exact value in a `title=` tooltip.
//!
//! Size stays small whatever the data size: only aggregates are drawn (curves thinned to
//! [`MAX_CURVE_POINTS`], histograms binned, tables capped with "… and N more").
//!
//! Sections: summary verdict (with gate results), model identity, data, evaluation per model,
//! fairness per model, drift, then the optional sections whose engines are built elsewhere
//! ([`Extensions`]), sign-offs and the reviewer notes index. Notes are placed right after the
//! table holding their finding and listed again in the index.

pub mod custom;
mod drift_section;
mod eval_section;
pub mod ext;
mod fairness_section;
pub mod html;
mod monitor_section;
pub mod notes;
mod sections;
pub mod svg;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

pub use custom::{BarChart, Beeswarm, Cell, CustomSection, Row, Table};
pub use fairness_section::group_finding;
pub use notes::{Finding, ReviewNote};

use self::html::{count, esc, Html, CSS};
use super::data::DatasetInfo;
use super::drift::DriftReport;
use super::error::Result;
use super::evaluate::{Evaluation, Task};
use super::fairness::policy::Verdict;
use super::fairness::FairnessReport;
use super::model::ModelInfo;
use super::monitor::MonitorReport;
use super::package::{Decision, ModelCard, SignOff};
use super::warning::{count_by_kind, Warning, WarningKind};

/// Curves are thinned to at most this many points in the report.
pub const MAX_CURVE_POINTS: usize = 200;
/// Tables list at most this many rows, then "… and N more".
pub const MAX_TABLE_ROWS: usize = 30;

/// One model of the review.
#[derive(Debug, Clone, Copy)]
pub struct ModelSection<'a> {
    /// The workspace label (the `model` of [`Finding::Metric`] notes).
    pub label: &'a str,
    pub info: Option<&'a ModelInfo>,
    pub evaluation: Option<&'a Evaluation>,
    pub fairness: Option<&'a FairnessReport>,
}

/// The outcome of one check of the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Inconclusive,
    Info,
}

impl Status {
    fn class(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Inconclusive => "inconclusive",
            Status::Info => "info",
        }
    }
}

/// A gate result given by the caller (e.g. a promotion gate), shown in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub name: String,
    pub status: Status,
    pub detail: String,
}

/// Optional sections whose engines are built on other branches (explain, compare,
/// performance, robustness); each is a section of its own, shown only when present. They are
/// described as structured tables and bar charts ([`CustomSection`]), never as raw HTML, so
/// the report stays escaped and self-contained. When an engine lands, a small adapter from
/// its result struct to a [`CustomSection`] (or a dedicated renderer) plugs in here.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extensions<'a> {
    pub explanation: Option<&'a CustomSection>,
    pub comparison: Option<&'a CustomSection>,
    pub performance: Option<&'a CustomSection>,
    pub robustness: Option<&'a CustomSection>,
}

/// Everything the report shows; references to results the caller already holds.
#[derive(Debug, Clone, Default)]
pub struct ReportInput<'a> {
    pub title: String,
    /// When the report was made, RFC 3339 UTC (given by the caller; nothing here reads a clock).
    pub generated: String,
    pub workspace: Option<String>,
    pub models: Vec<ModelSection<'a>>,
    /// The evaluation dataset.
    pub data: Option<&'a DatasetInfo>,
    pub drift: Option<&'a DriftReport>,
    /// The model card as the reviewers edited it (its prose: summary, intended use, …).
    pub card: Option<&'a ModelCard>,
    pub gates: Vec<Gate>,
    pub signoffs: &'a [SignOff],
    pub notes: &'a [ReviewNote],
    pub extensions: Extensions<'a>,
}

/// The monitoring result of the workspace's prediction log, for its section (kept apart from
/// [`ReportInput`] so callers that build one field by field are unchanged).
#[derive(Debug, Clone, Copy)]
pub struct Monitoring<'a> {
    pub report: &'a MonitorReport,
    /// The label of the model that wrote the log.
    pub model: Option<&'a str>,
}

/// The summary check of a monitoring result: fails when a log chunk alerts.
pub fn monitoring_check(r: &MonitorReport) -> Gate {
    Gate {
        name: "Monitoring".into(),
        status: if r.alerts.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: if r.alerts.is_empty() {
            format!("no alerts in {} log chunks", r.analysis.chunks)
        } else {
            format!(
                "{} alerts in {} of {} log chunks",
                r.alerts.len(),
                monitor_section::alert_chunks(r),
                r.analysis.chunks
            )
        },
    }
}

/// Renders the report as one HTML document.
pub fn render(input: &ReportInput) -> Result<String> {
    render_with(input, None)
}

/// Renders the report with a monitoring section (after drift) when `monitoring` is given.
pub fn render_with(input: &ReportInput, monitoring: Option<Monitoring>) -> Result<String> {
    let ctx = Ctx {
        notes: input.notes,
        placed: RefCell::new(BTreeMap::new()),
    };
    let mut h = Html::default();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>");
    h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>");
    h.raw("<meta name=\"generator\" content=\"Assay ")
        .text(env!("CARGO_PKG_VERSION"))
        .raw("\"/>");
    h.el("title", "", &input.title);
    h.raw("<style>").raw(CSS).raw("</style></head><body><main>");
    header(&mut h, input, monitoring.is_some());
    summary(&mut h, input, &ctx);
    warning_line(
        &mut h,
        &warning_counts(input, monitoring.as_ref().map(|m| m.report)),
    );
    sections::identity(&mut h, input);
    if let Some(card) = input.card {
        sections::card(&mut h, card);
    }
    sections::data_section(&mut h, input);
    for (i, m) in input.models.iter().enumerate() {
        if let Some(e) = m.evaluation {
            eval_section::render(&mut h, i + 1, m.label, e, &ctx);
        }
    }
    for (i, m) in input.models.iter().enumerate() {
        if let Some(f) = m.fairness {
            fairness_section::render(&mut h, i + 1, m.label, f, &ctx);
        }
    }
    if let Some(d) = input.drift {
        drift_section::render(&mut h, d, &ctx);
    }
    if let Some(m) = monitoring {
        monitor_section::render(&mut h, m.report, m.model);
    }
    let ext = &input.extensions;
    for (id, title, body) in [
        ("explanation", "Explanations", ext.explanation),
        ("comparison", "Version comparison", ext.comparison),
        ("performance", "Performance", ext.performance),
        ("robustness", "Robustness", ext.robustness),
    ] {
        if let Some(body) = body {
            custom::render(&mut h, id, title, body, &ctx);
        }
    }
    sections::signoffs(&mut h, input.signoffs);
    sections::notes_index(&mut h, &ctx);
    h.raw("<footer>Generated by Assay ")
        .text(env!("CARGO_PKG_VERSION"))
        .text(&format!(
            " on {}. Self-contained: no scripts, fonts or files outside this document. \
             Numbers are rounded for display; hover a value for its exact form.",
            input.generated
        ))
        .raw("</footer></main></body></html>\n");
    Ok(h.out)
}

/// Reviewer notes while rendering: which note was placed where.
pub(crate) struct Ctx<'a> {
    notes: &'a [ReviewNote],
    placed: RefCell<BTreeMap<String, String>>,
}

impl Ctx<'_> {
    /// Small markers (`n1`, `n2`) for a table row whose finding has notes.
    pub(crate) fn marker(&self, f: &Finding) -> String {
        let mut s = String::new();
        for n in self.notes.iter().filter(|n| &n.finding == f) {
            let _ = write!(
                s,
                " <a class=\"badge inconclusive\" href=\"#note-{}\">{}</a>",
                esc(&n.id),
                esc(&n.id)
            );
        }
        s
    }

    /// The notes of `findings`, written next to them (`place` names the section).
    pub(crate) fn place(&self, h: &mut Html, findings: &[Finding], place: &str) {
        for f in findings {
            for n in self.notes.iter().filter(|n| &n.finding == f) {
                let mut placed = self.placed.borrow_mut();
                let first = !placed.contains_key(&n.id);
                placed
                    .entry(n.id.clone())
                    .or_insert_with(|| place.to_string());
                let id_attr = if first {
                    format!(" id=\"note-{}\"", esc(&n.id))
                } else {
                    String::new()
                };
                let _ = write!(
                    h.out,
                    "<div class=\"note\"{id_attr}><span class=\"id\">{}</span><strong>{}</strong>: {} <span class=\"who\">— {}, {}</span></div>",
                    esc(&n.id),
                    esc(&n.finding.to_string()),
                    esc(&n.text),
                    esc(&n.author),
                    esc(&n.created)
                );
            }
        }
    }
}

fn header(h: &mut Html, input: &ReportInput, monitoring: bool) {
    h.raw("<header class=\"top\">").el("h1", "", &input.title);
    let mut sub = format!("Review report · generated {}", input.generated);
    if let Some(w) = &input.workspace {
        sub.push_str(&format!(" · workspace “{w}”"));
    }
    h.el("div", "sub", &sub);
    h.raw("<nav class=\"toc\">");
    let mut links: Vec<(String, &str)> = vec![
        ("summary".into(), "Summary"),
        ("models".into(), "Models"),
        ("data".into(), "Data"),
    ];
    if let Some(i) = input.models.iter().position(|m| m.evaluation.is_some()) {
        links.push((format!("evaluation-{}", i + 1), "Evaluation"));
    }
    if let Some(i) = input.models.iter().position(|m| m.fairness.is_some()) {
        links.push((format!("fairness-{}", i + 1), "Fairness"));
    }
    if input.drift.is_some() {
        links.push(("drift".into(), "Drift"));
    }
    if monitoring {
        links.push(("monitoring".into(), "Monitoring"));
    }
    let ext = &input.extensions;
    for (id, t, present) in [
        ("explanation", "Explanations", ext.explanation.is_some()),
        ("comparison", "Comparison", ext.comparison.is_some()),
        ("performance", "Performance", ext.performance.is_some()),
        ("robustness", "Robustness", ext.robustness.is_some()),
    ] {
        if present {
            links.push((id.into(), t));
        }
    }
    links.push(("signoffs".into(), "Sign-offs"));
    links.push(("notes".into(), "Notes"));
    for (id, t) in links {
        let _ = write!(h.out, "<span><a href=\"#{id}\">{}</a></span>", esc(t));
    }
    h.raw("</nav></header>");
}

/// The note target of a metric of a model's evaluation (`label` as in [`ModelSection`]).
pub fn metric_finding(label: &str, metric: &str) -> Finding {
    Finding::Metric {
        model: label.to_string(),
        metric: metric.to_string(),
    }
}

/// The task for people.
pub fn task_name(task: Task) -> &'static str {
    match task {
        Task::BinaryClassification => "binary classification",
        Task::MulticlassClassification => "multiclass classification",
        Task::Regression => "regression",
    }
}

/// Every warning of the analyses the report shows (evaluations, fairness, drift, monitoring,
/// explanations, comparison, speed, robustness), counted by kind.
pub fn warning_counts(
    input: &ReportInput,
    monitoring: Option<&MonitorReport>,
) -> Vec<(WarningKind, usize)> {
    let ext = &input.extensions;
    let all: Vec<&Warning> = input
        .models
        .iter()
        .flat_map(|m| {
            let e = m.evaluation.map(|e| e.warnings.iter());
            let f = m.fairness.map(|f| f.warnings.iter());
            e.into_iter().flatten().chain(f.into_iter().flatten())
        })
        .chain(input.drift.iter().flat_map(|d| d.warnings.iter()))
        .chain(monitoring.iter().flat_map(|m| m.warnings.iter()))
        .chain(
            [
                ext.explanation,
                ext.comparison,
                ext.performance,
                ext.robustness,
            ]
            .into_iter()
            .flatten()
            .flat_map(|s| s.warnings.iter()),
        )
        .collect();
    count_by_kind(all)
}

/// "7 warnings in the sections below: 2 rows left out, 5 undefined figures" (nothing when
/// there are none).
fn warning_line(h: &mut Html, counts: &[(WarningKind, usize)]) {
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.label()))
        .collect();
    let _ = write!(
        h.out,
        "<p class=\"sub\" id=\"warnings\">{} warning{} in the sections below: {}</p>",
        total,
        if total == 1 { "" } else { "s" },
        esc(&parts.join(", "))
    );
}

/// The headline metric of a task and its display name.
pub fn headline(task: Task) -> (&'static str, &'static str) {
    match task {
        Task::BinaryClassification => ("roc_auc", "ROC AUC"),
        Task::MulticlassClassification => ("accuracy", "accuracy"),
        Task::Regression => ("r2", "R²"),
    }
}

/// The checks of the summary: fairness policy verdicts, dataset drift, sign-off decisions and
/// the caller's gates; with the overall verdict (fail before inconclusive before pass).
pub fn checks(input: &ReportInput) -> (Status, Vec<Gate>) {
    let mut out = input.gates.clone();
    for m in &input.models {
        if let Some(f) = m.fairness {
            let rules: Vec<_> = f
                .slices
                .iter()
                .flat_map(|s| s.policy.iter().map(move |r| (s, r)))
                .collect();
            let n_fail = rules
                .iter()
                .filter(|(_, r)| r.result == Verdict::Fail)
                .count();
            let n_inc = rules
                .iter()
                .filter(|(_, r)| r.result == Verdict::Inconclusive)
                .count();
            let failing: Vec<String> = rules
                .iter()
                .filter(|(_, r)| r.result == Verdict::Fail)
                .map(|(s, r)| format!("{} ({})", r.metric, s.columns.join(" × ")))
                .take(4)
                .collect();
            out.push(Gate {
                name: format!("Fairness policy — {}", m.label),
                status: if n_fail > 0 {
                    Status::Fail
                } else if n_inc > 0 {
                    Status::Inconclusive
                } else {
                    Status::Pass
                },
                detail: if n_fail > 0 {
                    format!(
                        "{n_fail} of {} rules fail: {}",
                        rules.len(),
                        failing.join(", ")
                    )
                } else if n_inc > 0 {
                    format!(
                        "{n_inc} of {} rules inconclusive (the interval straddles the threshold)",
                        rules.len()
                    )
                } else {
                    format!("all {} rules pass", rules.len())
                },
            });
        }
    }
    if let Some(d) = input.drift {
        out.push(Gate {
            name: "Data drift".into(),
            status: if d.dataset_drift {
                Status::Fail
            } else {
                Status::Pass
            },
            detail: format!(
                "{} of {} columns drifted ({}); dataset drift when ≥ {}",
                d.n_drifted,
                d.columns.len(),
                html::pct(d.share_drifted),
                html::pct(d.drift_share)
            ),
        });
    }
    if !input.signoffs.is_empty() {
        let rejected = input
            .signoffs
            .iter()
            .filter(|s| s.decision == Decision::Rejected)
            .count();
        let cond = input
            .signoffs
            .iter()
            .filter(|s| s.decision == Decision::ApprovedWithConditions)
            .count();
        out.push(Gate {
            name: "Sign-offs".into(),
            status: if rejected > 0 {
                Status::Fail
            } else if cond > 0 {
                Status::Inconclusive
            } else {
                Status::Pass
            },
            detail: format!(
                "{} sign-off(s): {} approved, {cond} with conditions, {rejected} rejected",
                input.signoffs.len(),
                input.signoffs.len() - rejected - cond
            ),
        });
    }
    let overall = if out.iter().any(|g| g.status == Status::Fail) {
        Status::Fail
    } else if out.iter().any(|g| g.status == Status::Inconclusive) {
        Status::Inconclusive
    } else if out.iter().any(|g| g.status == Status::Pass) {
        Status::Pass
    } else {
        Status::Info
    };
    (overall, out)
}

fn summary(h: &mut Html, input: &ReportInput, ctx: &Ctx) {
    h.raw("<section id=\"summary\" class=\"first\">")
        .el("h2", "", "Summary");
    let (overall, list) = checks(input);
    let big = match overall {
        Status::Fail => "Attention needed: at least one check fails",
        Status::Inconclusive => "Inconclusive: some checks cannot be decided yet",
        Status::Pass => "All checks pass",
        Status::Info => "No checks were run",
    };
    let _ = write!(
        h.out,
        "<div class=\"verdict {}\"><div class=\"big\">{}</div>",
        overall.class(),
        esc(big)
    );
    if !list.is_empty() {
        h.raw("<table><tbody>");
        for g in &list {
            h.raw("<tr><td>");
            h.badge(g.status.class(), &format!("{:?}", g.status).to_lowercase());
            h.raw("</td>").td(&g.name).td(&g.detail).raw("</tr>");
        }
        h.raw("</tbody></table>");
    }
    h.raw("</div>");
    let evals: Vec<_> = input
        .models
        .iter()
        .filter_map(|m| m.evaluation.map(|e| (m.label, e)))
        .collect();
    if !evals.is_empty() {
        h.el("h3", "", "Models at a glance");
        h.raw("<table>")
            .head_row(&[
                "model",
                "task",
                "rows",
                "headline metric",
                "value",
                "95% interval",
            ])
            .raw("<tbody>");
        for (label, e) in &evals {
            let (key, name) = headline(e.task);
            h.raw("<tr>")
                .td(label)
                .td(task_name(e.task))
                .raw(&format!("<td class=\"n\">{}</td>", count(e.n)));
            h.td(name)
                .num(e.metrics.get(key))
                .ci(e.ci.get(key).copied())
                .raw("</tr>");
        }
        h.raw("</tbody></table>");
    }
    ctx.place(h, &[Finding::General], "Summary");
    h.close("section");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_line_counts_by_kind_and_is_absent_without_warnings() {
        let mut h = Html::default();
        warning_line(&mut h, &[]);
        assert!(h.out.is_empty());
        warning_line(
            &mut h,
            &[(WarningKind::RowsLeftOut, 1), (WarningKind::Undefined, 2)],
        );
        assert_eq!(
            h.out,
            "<p class=\"sub\" id=\"warnings\">3 warnings in the sections below: 1 rows left out, 2 undefined figures</p>"
        );
    }
}

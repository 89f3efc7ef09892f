//! Fairness section of one model: per slicing, the policy verdicts (judged with intervals),
//! the group table (value and interval per metric; notes beside their group) and a grouped
//! bar chart with interval whiskers and the overall value as a dashed line.

use std::fmt::Write;

use super::eval_section::figure;
use super::html::{count, esc, exact, fmt, fmt_ci, Html};
use super::notes::Finding;
use super::svg::{extent, Chart};
use super::{Ctx, MAX_TABLE_ROWS};
use crate::engine::evaluate::Task;
use crate::engine::fairness::policy::{Basis, Op, Verdict};
use crate::engine::fairness::{FairnessReport, GroupReport, SliceReport};

/// Groups drawn in a chart (the table lists up to [`MAX_TABLE_ROWS`]).
const MAX_CHART_GROUPS: usize = 12;

/// The note target of a group: the slicing's columns joined with `+`, the group's labels
/// joined with `, ` (e.g. `sex+race` / `Female, White`).
pub fn group_finding(slice: &SliceReport, g: &GroupReport) -> Finding {
    Finding::Group {
        attribute: slice.columns.join("+"),
        group: group_label(g),
    }
}

fn group_label(g: &GroupReport) -> String {
    g.group
        .0
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_badge(h: &mut Html, v: Verdict) {
    let (kind, text) = match v {
        Verdict::Pass => ("pass", "pass"),
        Verdict::Fail => ("fail", "fail"),
        Verdict::Inconclusive => ("inconclusive", "inconclusive"),
        Verdict::Undefined => ("info", "undefined"),
        Verdict::NotApplicable => ("info", "not applicable"),
    };
    h.badge(kind, text);
}

pub(crate) fn render(h: &mut Html, index: usize, label: &str, f: &FairnessReport, ctx: &Ctx) {
    let _ = write!(h.out, "<section id=\"fairness-{index}\">");
    h.el("h2", "", &format!("Fairness — {label}"));
    let mut sub = format!("{} rows", count(f.n));
    if let Some(t) = f.threshold {
        sub.push_str(&format!(" · threshold {t}"));
    }
    sub.push_str(&format!(
        " · groups under {} rows are flagged small · {:.0}% stratified bootstrap intervals ({} resamples)",
        f.min_group_size,
        f.bootstrap.confidence * 100.0,
        f.bootstrap.resamples
    ));
    h.el("p", "sub", &sub);
    for w in &f.warnings {
        h.el("p", "warn", &format!("Warning: {w}"));
    }
    let shown: Vec<&str> = match f.task {
        Task::Regression => vec!["mae"],
        Task::MulticlassClassification => vec!["accuracy"],
        Task::BinaryClassification => vec![
            "selection_rate",
            "true_positive_rate",
            "false_positive_rate",
        ],
    };
    for slice in &f.slices {
        let name = slice.columns.join(" × ");
        h.el("h3", "", &format!("By {name}"));
        if !slice.policy.is_empty() {
            h.raw("<table>")
                .head_row(&["policy rule", "value", "interval", "result", "basis"])
                .raw("<tbody>");
            for r in &slice.policy {
                let op = match r.op {
                    Op::Ge => "≥",
                    Op::Le => "≤",
                };
                h.raw("<tr>")
                    .td(&format!("{} {op} {}", r.metric, r.threshold));
                h.num(r.value).ci(r.ci).raw("<td>");
                verdict_badge(h, r.result);
                h.raw("</td>");
                let basis = match (r.basis, r.scope) {
                    (Basis::ConfidenceInterval, _) => "interval",
                    (Basis::PointEstimate, _) => "point estimate",
                };
                let scope = match r.scope {
                    crate::engine::fairness::policy::Scope::AllGroups => "",
                    crate::engine::fairness::policy::Scope::LargeGroupsOnly => {
                        ", large groups only"
                    }
                };
                h.td(&format!("{basis}{scope}")).raw("</tr>");
            }
            h.raw("</tbody></table>");
        }
        group_table(h, f, slice, ctx);
        let groups: Vec<&GroupReport> = slice.groups.iter().take(MAX_CHART_GROUPS).collect();
        let more = slice.groups.len().saturating_sub(MAX_CHART_GROUPS);
        let cap = if more > 0 {
            format!("Per-group values with 95% whiskers; dashed: overall. First {MAX_CHART_GROUPS} groups ({more} more in the table).")
        } else {
            "Per-group values with 95% whiskers; dashed: overall.".into()
        };
        h.raw("<div class=\"charts\">");
        figure(h, &group_bars(&groups, slice, &shown, &name), &cap);
        h.raw("</div>");
        let legend: String = shown
            .iter()
            .enumerate()
            .map(|(i, m)| format!("<i class=\"sw{i}\"></i>{}", esc(m)))
            .collect();
        let _ = write!(h.out, "<div class=\"legend\">{legend}</div>");
    }
    h.close("section");
}

fn group_table(h: &mut Html, f: &FairnessReport, slice: &SliceReport, ctx: &Ctx) {
    h.raw("<table class=\"compact\"><thead><tr><th>group</th><th>rows</th>");
    for m in &f.metrics {
        let _ = write!(
            h.out,
            "<th title=\"{}\">{}</th>",
            esc(m),
            esc(short_name(m))
        );
    }
    h.raw("<th>notes</th></tr></thead><tbody>");
    let mut findings = Vec::new();
    for g in slice.groups.iter().take(MAX_TABLE_ROWS) {
        let fd = group_finding(slice, g);
        let mark = ctx.marker(&fd);
        h.raw(if mark.is_empty() {
            "<tr>"
        } else {
            "<tr class=\"hl\">"
        });
        let small = if g.too_small { " (small)" } else { "" };
        h.el("td", "grp", &format!("{}{small}", group_label(g)));
        let _ = write!(h.out, "<td class=\"n\">{}</td>", count(g.count));
        for m in &f.metrics {
            let v = g.metrics.get(m);
            let ci = g.ci.get(m.as_str()).copied();
            let tip = match ci {
                Some([l, u]) => format!("{}; interval [{l}, {u}]", exact(v)),
                None => exact(v),
            };
            let _ = write!(
                h.out,
                "<td class=\"n\" title=\"{}\">{}<br/><span class=\"sub\">{}</span></td>",
                esc(&tip),
                esc(&fmt(v)),
                esc(&fmt_ci(ci))
            );
        }
        h.raw("<td>").raw(&mark).raw("</td></tr>");
        findings.push(fd);
    }
    h.more_row(
        slice.groups.len().saturating_sub(MAX_TABLE_ROWS),
        f.metrics.len() + 3,
        "groups",
    );
    h.raw("<tr class=\"overall\">").td("overall");
    let _ = write!(h.out, "<td class=\"n\">{}</td>", count(slice.overall_count));
    for m in &f.metrics {
        h.num(slice.overall.get(m));
    }
    h.raw("<td></td></tr></tbody></table>");
    ctx.place(
        h,
        &findings,
        &format!("Fairness by {}", slice.columns.join(" × ")),
    );
}

/// Column headings for the group table (the full name is the heading's tooltip).
fn short_name(m: &str) -> &str {
    match m {
        "selection_rate" => "selection rate",
        "true_positive_rate" => "TPR",
        "false_positive_rate" => "FPR",
        "true_negative_rate" => "TNR",
        "false_negative_rate" => "FNR",
        "mean_prediction" => "mean prediction",
        "mean_target" => "mean target",
        other => other,
    }
}

fn group_bars(
    groups: &[&GroupReport],
    slice: &SliceReport,
    metrics: &[&str],
    name: &str,
) -> String {
    let k = metrics.len().max(1) as f64;
    let n = groups.len().max(1);
    let w = (140.0 + n as f64 * (26.0 * k + 18.0)).clamp(360.0, 1000.0);
    let vals = groups
        .iter()
        .flat_map(|g| {
            metrics.iter().flat_map(move |m| {
                [
                    g.metrics.get(m),
                    g.ci.get(*m).map(|c| c[0]),
                    g.ci.get(*m).map(|c| c[1]),
                ]
            })
        })
        .chain(metrics.iter().map(|m| slice.overall.get(m)))
        .flatten();
    let (lo, hi) = extent(vals.chain([0.0]));
    let mut ch = Chart::new(
        w,
        280.0,
        (0.0, n as f64),
        (lo.min(0.0), hi * 1.05),
        "Group metrics",
    );
    ch.title(&format!("{} by {name}", metrics.join(", ")));
    ch.axes("", "", 0, 5);
    let slot = 0.8 / k;
    for (gi, g) in groups.iter().enumerate() {
        for (mi, m) in metrics.iter().enumerate() {
            let x0 = gi as f64 + 0.1 + slot * mi as f64;
            let x1 = x0 + slot * 0.9;
            let v = g.metrics.get(m);
            let ci = g.ci.get(*m).copied();
            let tip = format!(
                "{}: {m} {}{}; {} rows",
                group_label(g),
                exact(v),
                ci.map_or(String::new(), |[a, b]| format!(", interval [{a}, {b}]")),
                g.count
            );
            if let Some(v) = v {
                ch.rect((x0, x1), (0.0, v), &format!("f{mi}"), &tip);
            }
            if let Some([a, b]) = ci {
                let xm = (x0 + x1) / 2.0;
                ch.seg((xm, a), (xm, b), "wh");
                ch.seg((xm - slot * 0.2, a), (xm + slot * 0.2, a), "wh");
                ch.seg((xm - slot * 0.2, b), (xm + slot * 0.2, b), "wh");
            }
        }
        let label: String = group_label(g).chars().take(14).collect();
        let py = ch.y.px0 + 14.0;
        let px = ch.x.map(gi as f64 + 0.5);
        ch.text_px(px, py, "middle", "", &label);
    }
    for (mi, m) in metrics.iter().enumerate() {
        if let Some(o) = slice.overall.get(m) {
            ch.seg((0.0, o), (n as f64, o), &format!("ov{mi}"));
        }
    }
    ch.finish()
}

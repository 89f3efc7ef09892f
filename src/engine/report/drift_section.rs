//! Drift section: the dataset verdict, then every column sorted by drift (most drifted
//! first) with its method, statistic, p-value or distance, threshold, effect size and a small
//! overlaid histogram (reference vs current shares); notes beside their column.

use std::fmt::Write;

use super::eval_section::file_name;
use super::html::{count, esc, exact, fmt, fmt_p, pct, Html};
use super::notes::Finding;
use super::svg::rebin;
use super::{Ctx, MAX_TABLE_ROWS};
use crate::engine::drift::binning::Histogram;
use crate::engine::drift::{ColumnDrift, DriftReport};

/// Columns most drifted first ([`DriftReport::most_drifted_first`], the Drift page's order).
pub fn sorted_columns(d: &DriftReport) -> Vec<&ColumnDrift> {
    d.most_drifted_first()
        .into_iter()
        .map(|i| &d.columns[i])
        .collect()
}

pub(crate) fn render(h: &mut Html, d: &DriftReport, ctx: &Ctx) {
    h.raw("<section id=\"drift\">").el("h2", "", "Drift");
    h.el(
        "p",
        "sub",
        &format!(
            "reference {} ({} rows) vs current {} ({} rows)",
            file_name(&d.reference.path),
            count(d.reference.rows),
            file_name(&d.current.path),
            count(d.current.rows)
        ),
    );
    h.raw("<p>");
    h.badge(
        if d.dataset_drift { "fail" } else { "pass" },
        if d.dataset_drift {
            "dataset drift"
        } else {
            "no dataset drift"
        },
    );
    h.text(&format!(
        " {} of {} columns drifted ({}); the dataset drifts when the share is ≥ {}.",
        d.n_drifted,
        d.columns.len(),
        pct(d.share_drifted),
        pct(d.drift_share)
    ));
    h.raw("</p>");
    h.raw("<table>")
        .head_row(&[
            "column",
            "kind",
            "method",
            "statistic",
            "p-value / distance",
            "threshold",
            "drift",
            "effect size",
            "reference vs current",
            "notes",
        ])
        .raw("<tbody>");
    let cols = sorted_columns(d);
    let mut findings = Vec::new();
    for c in cols.iter().take(MAX_TABLE_ROWS) {
        let f = Finding::DriftColumn {
            column: c.name.clone(),
        };
        let mark = ctx.marker(&f);
        h.raw(if mark.is_empty() {
            "<tr>"
        } else {
            "<tr class=\"hl\">"
        });
        h.td(&c.name).td(&format!("{:?}", c.kind).to_lowercase());
        h.td(&serde_json::to_value(c.method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default());
        let (stat, score) = if c.method.is_test() {
            (c.statistic, c.p_value)
        } else {
            (None, c.statistic)
        };
        h.num(stat);
        let shown = if c.method.is_test() {
            fmt_p(score)
        } else {
            fmt(score)
        };
        let _ = write!(
            h.out,
            "<td class=\"n\" title=\"{}\">{}</td>",
            esc(&exact(score)),
            esc(&shown)
        );
        h.num(Some(c.threshold)).raw("<td>");
        h.badge(
            if c.drifted { "fail" } else { "pass" },
            if c.drifted { "drift" } else { "ok" },
        );
        h.raw("</td>");
        let es = &c.effect_size;
        let _ = write!(
            h.out,
            "<td class=\"n\" title=\"{} {}\">{} {}</td>",
            esc(es.measure),
            esc(&exact(es.value)),
            esc(es.measure),
            esc(&fmt(es.value))
        );
        h.raw("<td>")
            .raw(&sparkline(&c.histogram, &c.name))
            .raw("</td>");
        h.raw("<td>").raw(&mark).raw("</td></tr>");
        findings.push(f);
    }
    h.more_row(
        cols.len().saturating_sub(MAX_TABLE_ROWS),
        10,
        "columns (less drifted)",
    );
    h.raw("</tbody></table>");
    h.raw("<div class=\"legend\"><i class=\"sw0\"></i>reference <i class=\"sw1\"></i>current (share of rows per bin)</div>");
    // Notes on columns beyond the cap are still placed here.
    for c in cols.iter().skip(MAX_TABLE_ROWS) {
        findings.push(Finding::DriftColumn {
            column: c.name.clone(),
        });
    }
    ctx.place(h, &findings, "Drift");
    if !d.skipped.is_empty() {
        let list: Vec<String> = d
            .skipped
            .iter()
            .take(10)
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        h.el(
            "p",
            "sub",
            &format!(
                "Not compared: {}{}",
                list.join("; "),
                if d.skipped.len() > 10 { "; …" } else { "" }
            ),
        );
    }
    for w in &d.warnings {
        h.el("p", "warn", &format!("Warning: {w}"));
    }
    h.close("section");
}

/// A 150 × 34 overlay of reference and current shares (at most 24 bins or categories).
pub fn sparkline(hist: &Histogram, name: &str) -> String {
    let (labels, r, c): (Vec<String>, Vec<u64>, Vec<u64>) = match hist {
        Histogram::Numeric {
            edges,
            reference,
            current,
        } => {
            let (e, rr) = rebin(edges, reference, 24);
            let (_, cc) = rebin(edges, current, 24);
            let labels = e
                .windows(2)
                .map(|w| format!("[{}, {})", w[0], w[1]))
                .collect();
            (labels, rr, cc)
        }
        Histogram::Categorical {
            labels,
            reference,
            current,
            other_reference,
            other_current,
        } => {
            let k = labels.len().min(23);
            let mut l: Vec<String> = labels.iter().take(k).cloned().collect();
            let mut rr: Vec<u64> = reference.iter().take(k).copied().collect();
            let mut cc: Vec<u64> = current.iter().take(k).copied().collect();
            let rest_r: u64 = reference.iter().skip(k).sum::<u64>() + other_reference;
            let rest_c: u64 = current.iter().skip(k).sum::<u64>() + other_current;
            if rest_r + rest_c > 0 {
                l.push("other".into());
                rr.push(rest_r);
                cc.push(rest_c);
            }
            (l, rr, cc)
        }
    };
    let (tr, tc) = (
        r.iter().sum::<u64>().max(1) as f64,
        c.iter().sum::<u64>().max(1) as f64,
    );
    let max = r
        .iter()
        .map(|&v| v as f64 / tr)
        .chain(c.iter().map(|&v| v as f64 / tc))
        .fold(0.0, f64::max)
        .max(1e-12);
    let n = labels.len().max(1) as f64;
    let mut s = String::new();
    let bw = 150.0 / n;
    for (i, l) in labels.iter().enumerate() {
        let rv = r.get(i).copied().unwrap_or(0);
        let cv = c.get(i).copied().unwrap_or(0);
        let (hr, hc) = (32.0 * rv as f64 / tr / max, 32.0 * cv as f64 / tc / max);
        let x = bw * i as f64;
        let _ = write!(
            s,
            "<g><title>{}: reference {rv} ({:.2}%), current {cv} ({:.2}%)</title><rect class=\"fo\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hr:.1}\"/><rect class=\"fc\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{hc:.1}\"/></g>",
            esc(l),
            100.0 * rv as f64 / tr,
            100.0 * cv as f64 / tc,
            34.0 - hr,
            (bw * 0.5).max(0.5),
            x + bw * 0.45,
            34.0 - hc,
            (bw * 0.5).max(0.5)
        );
    }
    format!("<svg width=\"150\" height=\"34\" viewBox=\"0 0 150 34\" role=\"img\" aria-label=\"distribution of {}\">{s}</svg>", esc(name))
}

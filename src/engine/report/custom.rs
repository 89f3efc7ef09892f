//! Structured sections for the analyses whose engines are built on other branches (explain,
//! compare, performance, robustness): a caller (or, once merged, a small adapter from their
//! result structs) describes tables and bar charts; this module draws them with the same
//! escaping, rounding, tooltips, note placement and SVG writer as every other section, so the
//! report stays self-contained whatever is put in.

use std::fmt::Write;

use serde::Serialize;

use super::eval_section::figure;
use super::html::{esc, exact, fmt, Html};
use super::notes::Finding;
use super::svg::{extent, Chart};
use super::{Ctx, Status, MAX_TABLE_ROWS};

/// One table cell.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    /// Shown with the report's rounding, exact in the tooltip.
    Number(Option<f64>),
    /// A signed difference (`+0.012`).
    Delta(Option<f64>),
    Interval(Option<[f64; 2]>),
    Status(Status),
}

/// A table row; `finding` pins reviewer notes to it (e.g. [`Finding::Comparison`]).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub cells: Vec<Cell>,
    pub finding: Option<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    /// Longer tables are capped at [`MAX_TABLE_ROWS`] ("… and N more").
    pub rows: Vec<Row>,
}

/// A horizontal bar chart (importance, latency, flip rates), optionally with intervals.
#[derive(Debug, Clone, Serialize)]
pub struct BarChart {
    pub title: String,
    pub axis: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
    /// Empty, or one per bar.
    pub ci: Vec<Option<[f64; 2]>>,
}

/// A section of tables and charts.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CustomSection {
    pub intro: String,
    pub tables: Vec<Table>,
    pub charts: Vec<BarChart>,
    pub warnings: Vec<String>,
}

/// Bars drawn per chart.
const MAX_BARS: usize = 25;

pub(crate) fn render(h: &mut Html, id: &str, title: &str, s: &CustomSection, ctx: &Ctx) {
    let _ = write!(h.out, "<section id=\"{}\">", esc(id));
    h.el("h2", "", title);
    if !s.intro.is_empty() {
        h.el("p", "sub", &s.intro);
    }
    for w in &s.warnings {
        h.el("p", "warn", &format!("Warning: {w}"));
    }
    for t in &s.tables {
        if !t.caption.is_empty() {
            h.el("h3", "", &t.caption);
        }
        let has_notes = t.rows.iter().any(|r| r.finding.is_some());
        h.raw("<table><thead><tr>");
        for c in &t.headers {
            h.el("th", "", c);
        }
        if has_notes {
            h.el("th", "", "notes");
        }
        h.raw("</tr></thead><tbody>");
        let mut findings = Vec::new();
        for r in t.rows.iter().take(MAX_TABLE_ROWS) {
            let mark = r
                .finding
                .as_ref()
                .map(|f| ctx.marker(f))
                .unwrap_or_default();
            h.raw(if mark.is_empty() {
                "<tr>"
            } else {
                "<tr class=\"hl\">"
            });
            for c in &r.cells {
                cell(h, c);
            }
            if has_notes {
                h.raw("<td>").raw(&mark).raw("</td>");
            }
            h.raw("</tr>");
            findings.extend(r.finding.clone());
        }
        h.more_row(
            t.rows.len().saturating_sub(MAX_TABLE_ROWS),
            t.headers.len() + usize::from(has_notes),
            "rows",
        );
        h.raw("</tbody></table>");
        findings.extend(
            t.rows
                .iter()
                .skip(MAX_TABLE_ROWS)
                .filter_map(|r| r.finding.clone()),
        );
        ctx.place(h, &findings, title);
    }
    if !s.charts.is_empty() {
        h.raw("<div class=\"charts\">");
        for c in &s.charts {
            let more = c.values.len().saturating_sub(MAX_BARS);
            let cap = if more > 0 {
                format!("First {MAX_BARS} bars ({more} more not drawn).")
            } else {
                String::new()
            };
            figure(h, &bars(c), &cap);
        }
        h.raw("</div>");
    }
    h.close("section");
}

fn cell(h: &mut Html, c: &Cell) {
    match c {
        Cell::Text(t) => {
            h.td(t);
        }
        Cell::Number(v) => {
            h.num(*v);
        }
        Cell::Delta(v) => {
            let shown = match v {
                Some(x) if x.is_finite() && *x > 0.0 => format!("+{}", fmt(Some(*x))),
                _ => fmt(*v),
            };
            let _ = write!(
                h.out,
                "<td class=\"n\" title=\"{}\">{}</td>",
                esc(&exact(*v)),
                esc(&shown)
            );
        }
        Cell::Interval(ci) => {
            h.ci(*ci);
        }
        Cell::Status(s) => {
            h.raw("<td>");
            h.badge(s.class(), &format!("{s:?}").to_lowercase());
            h.raw("</td>");
        }
    }
}

fn bars(c: &BarChart) -> String {
    let n = c.values.len().min(MAX_BARS);
    let row_h = 18.0;
    let hgt = 60.0 + row_h * n as f64;
    let vals = c
        .values
        .iter()
        .take(n)
        .copied()
        .chain(c.ci.iter().take(n).flatten().flat_map(|[a, b]| [*a, *b]));
    let (lo, hi) = extent(vals.chain([0.0]));
    // Labels need room on the left: the plot area starts after them.
    let mut ch = Chart::new(
        560.0,
        hgt,
        (lo.min(0.0), hi * 1.05),
        (n as f64, 0.0),
        &c.title,
    );
    ch.x.px0 = 170.0;
    ch.title(&c.title);
    ch.axes(&c.axis, "", 5, 0);
    for (i, (l, v)) in c.labels.iter().zip(&c.values).take(n).enumerate() {
        let ci = c.ci.get(i).copied().flatten();
        let tip = format!(
            "{l}: {}{}",
            exact(Some(*v)),
            ci.map_or(String::new(), |[a, b]| format!(", interval [{a}, {b}]"))
        );
        let y0 = i as f64 + 0.15;
        ch.rect((0.0, *v), (y0, y0 + 0.7), "f0", &tip);
        if let Some([a, b]) = ci {
            ch.seg((a, y0 + 0.35), (b, y0 + 0.35), "wh");
        }
        let label: String = l.chars().take(26).collect();
        let py = ch.y.map(i as f64 + 0.5) + 4.0;
        ch.text_px(ch.x.px0 - 6.0, py, "end", "", &label);
    }
    ch.finish()
}

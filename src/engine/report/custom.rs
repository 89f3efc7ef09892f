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
use crate::engine::metrics::thin_indices;

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
    /// A badge with its own words (e.g. `better`, `worse`).
    Badge(Status, String),
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

/// A SHAP beeswarm: per feature (most important first) one dot per row at its SHAP value,
/// coloured by the feature's value. Rows beyond [`MAX_DOTS`] per feature are thinned evenly.
#[derive(Debug, Clone, Serialize)]
pub struct Beeswarm {
    pub title: String,
    pub features: Vec<String>,
    /// `shap[f][row]`.
    pub shap: Vec<Vec<f64>>,
    /// `feature_values[f][row]` (`None`: missing or not numeric → grey).
    pub feature_values: Vec<Vec<Option<f64>>>,
}

/// A section of tables and charts.
#[derive(Debug, Clone, Serialize, Default)]
pub struct CustomSection {
    pub intro: String,
    pub tables: Vec<Table>,
    pub charts: Vec<BarChart>,
    pub beeswarms: Vec<Beeswarm>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Dots drawn per beeswarm feature.
pub const MAX_DOTS: usize = 200;

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
    if !s.charts.is_empty() || !s.beeswarms.is_empty() {
        h.raw("<div class=\"charts\">");
        for b in &s.beeswarms {
            figure(h, &beeswarm(b), "Each dot is a row (evenly thinned to at most 200 per feature); colour: feature value from low (blue) to high (orange), grey when missing.");
        }
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

fn beeswarm(b: &Beeswarm) -> String {
    let n = b.features.len();
    let hgt = 70.0 + 28.0 * n as f64;
    let (lo, hi) = extent(b.shap.iter().flatten().copied().chain([0.0]));
    let mut ch = Chart::new(640.0, hgt, (lo, hi), (n as f64, 0.0), &b.title);
    ch.x.px0 = 240.0;
    ch.title(&b.title);
    ch.axes("SHAP value (impact on the model output)", "", 5, 0);
    ch.seg((0.0, 0.0), (0.0, n as f64), "diag");
    for (i, name) in b.features.iter().enumerate() {
        let py = ch.y.map(i as f64 + 0.5) + 4.0;
        let label: String = name.chars().take(38).collect();
        ch.text_px(ch.x.px0 - 6.0, py, "end", "", &label);
        let shap = b.shap.get(i).map_or(&[][..], Vec::as_slice);
        let vals = b.feature_values.get(i).map_or(&[][..], Vec::as_slice);
        let (vlo, vhi) = extent(vals.iter().flatten().copied());
        let idx: Vec<usize> =
            thin_indices(shap.len(), MAX_DOTS).unwrap_or_else(|| (0..shap.len()).collect());
        for (k, &r) in idx.iter().enumerate() {
            // Deterministic vertical jitter within the feature's band.
            let jitter = ((k * 37) % 11) as f64 / 10.0 - 0.5;
            let colour = match vals.get(r).copied().flatten() {
                Some(v) if vhi > vlo => lerp_colour((v - vlo) / (vhi - vlo)),
                Some(_) => lerp_colour(0.5),
                None => "#b0b8c1".to_string(),
            };
            let (px, py) = (ch.x.map(shap[r]), ch.y.map(i as f64 + 0.5 + 0.55 * jitter));
            if px.is_finite() && py.is_finite() {
                ch.raw(&format!("<circle fill=\"{colour}\" fill-opacity=\"0.8\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"2.4\"/>"));
            }
        }
    }
    ch.finish()
}

/// Blue (low) → orange (high).
fn lerp_colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(47.0, 232.0),
        mix(111.0, 131.0),
        mix(222.0, 58.0)
    )
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
        Cell::Badge(s, text) => {
            h.raw("<td>");
            h.badge(s.class(), text);
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
        640.0,
        hgt,
        (lo.min(0.0), hi * 1.05),
        (n as f64, 0.0),
        &c.title,
    );
    ch.x.px0 = 240.0;
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
        let label: String = l.chars().take(38).collect();
        let py = ch.y.map(i as f64 + 0.5) + 4.0;
        ch.text_px(ch.x.px0 - 6.0, py, "end", "", &label);
    }
    ch.finish()
}

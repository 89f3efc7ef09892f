//! A tiny HTML writer for the report: escaping, number formatting (the app's rounding rules,
//! exact values in `title=` tooltips) and the page's inline stylesheet. The markup is also
//! well-formed XML (every element closed, every attribute quoted, only the five XML entities),
//! so a strict XML parser can check it.

use std::fmt::Write;

/// Escapes text for element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 text.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A metric for display, with the same rules as the app's metric cards: three decimals, one
/// from 1000 on, a dash when undefined.
pub fn fmt(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => {
            if x.abs() >= 1000.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.3}")
            }
        }
        Some(x) => format!("{x}"),
        None => "—".into(),
    }
}

/// A p-value as the app's drift page prints it.
pub fn fmt_p(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-4 => format!("{p:.1e}"),
        Some(p) => format!("{p:.4}"),
        None => "—".into(),
    }
}

/// The exact value (shortest round-trip form) for a tooltip.
pub fn exact(v: Option<f64>) -> String {
    v.map_or_else(|| "undefined".into(), |x| format!("{x}"))
}

/// `a – b` of an interval with the display rounding.
pub fn fmt_ci(ci: Option<[f64; 2]>) -> String {
    ci.map_or_else(String::new, |[l, h]| {
        format!("{} – {}", fmt(Some(l)), fmt(Some(h)))
    })
}

/// An integer with thin-space thousands separators (`1 000 000`).
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// An HTML document being written.
#[derive(Debug, Default)]
pub struct Html {
    pub out: String,
}

impl Html {
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.out.push_str(&esc(s));
        self
    }

    /// `<tag class="…">text</tag>`.
    pub fn el(&mut self, tag: &str, class: &str, text: &str) -> &mut Self {
        if class.is_empty() {
            let _ = write!(self.out, "<{tag}>{}</{tag}>", esc(text));
        } else {
            let _ = write!(self.out, "<{tag} class=\"{class}\">{}</{tag}>", esc(text));
        }
        self
    }

    pub fn open(&mut self, tag: &str, class: &str) -> &mut Self {
        if class.is_empty() {
            let _ = write!(self.out, "<{tag}>");
        } else {
            let _ = write!(self.out, "<{tag} class=\"{class}\">");
        }
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.out, "</{tag}>");
        self
    }

    /// A table cell with a displayed number and the exact value as a tooltip.
    pub fn num(&mut self, v: Option<f64>) -> &mut Self {
        let _ = write!(
            self.out,
            "<td class=\"n\" title=\"{}\">{}</td>",
            esc(&exact(v)),
            esc(&fmt(v))
        );
        self
    }

    /// A table cell with an interval (exact bounds as a tooltip).
    pub fn ci(&mut self, ci: Option<[f64; 2]>) -> &mut Self {
        let title = ci.map_or_else(String::new, |[l, h]| format!("[{l}, {h}]"));
        let _ = write!(
            self.out,
            "<td class=\"n ci\" title=\"{}\">{}</td>",
            esc(&title),
            esc(&fmt_ci(ci))
        );
        self
    }

    /// A plain text cell.
    pub fn td(&mut self, text: &str) -> &mut Self {
        self.el("td", "", text)
    }

    /// A header row.
    pub fn head_row(&mut self, cells: &[&str]) -> &mut Self {
        self.raw("<thead><tr>");
        for c in cells {
            self.el("th", "", c);
        }
        self.raw("</tr></thead>")
    }

    /// A badge: pass / fail / inconclusive / info.
    pub fn badge(&mut self, kind: &str, text: &str) -> &mut Self {
        self.el("span", &format!("badge {kind}"), text)
    }

    /// A row saying how many more rows a capped table has.
    pub fn more_row(&mut self, more: usize, cols: usize, what: &str) -> &mut Self {
        if more > 0 {
            let _ = write!(
                self.out,
                "<tr class=\"more\"><td colspan=\"{cols}\">… and {} more {}</td></tr>",
                count(more),
                esc(what)
            );
        }
        self
    }
}

/// The page's stylesheet: light palette, system fonts, print rules (page breaks between
/// sections, no shadows, charts kept whole).
pub const CSS: &str = r#"
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --soft: #f5f7fa; --accent: #2f6fde;
  --accent2: #e8833a; --good: #1f8a4c; --bad: #c53030; --warn: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; background: #ffffff; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 32px 40px 64px; }
header.top { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 0 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
.sub { color: var(--muted); font-size: 13px; }
section { margin-top: 32px; }
nav.toc { font-size: 13px; color: var(--muted); margin: 12px 0 0; }
nav.toc span { margin-right: 14px; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.ci { color: var(--muted); }
td.mono, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
table.compact { font-size: 12.5px; }
table.compact th, table.compact td { padding: 3px 7px; }
td.grp { white-space: nowrap; }
td.nw { white-space: nowrap; }
tr.more td { color: var(--muted); font-style: italic; }
tr.hl td { background: #fff8e6; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #ffffff; background: var(--muted); }
.badge.pass { background: var(--good); } .badge.fail { background: var(--bad); }
.badge.inconclusive { background: var(--warn); } .badge.info { background: var(--accent); }
.verdict { border: 1px solid var(--line); border-left: 6px solid var(--muted); padding: 12px 16px;
  background: var(--soft); margin: 12px 0; }
.verdict.pass { border-left-color: var(--good); } .verdict.fail { border-left-color: var(--bad); }
.verdict.inconclusive { border-left-color: var(--warn); }
.verdict .big { font-size: 19px; font-weight: 700; }
ul.tight { margin: 4px 0; padding-left: 20px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin: 8px 0; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 12.5px; color: var(--muted); margin-top: 2px; }
svg { display: block; overflow: visible; }
svg text { font-size: 11px; fill: var(--muted); font-family: inherit; }
svg .ttl { font-size: 12px; fill: var(--ink); font-weight: 600; }
svg .ax { stroke: #9aa5b1; stroke-width: 1; }
svg .gr { stroke: #eef2f6; stroke-width: 1; }
svg .diag { stroke: #bcccdc; stroke-dasharray: 4 3; fill: none; }
svg .l0 { stroke: var(--accent); stroke-width: 2; fill: none; }
svg .l1 { stroke: var(--accent2); stroke-width: 2; fill: none; }
svg .l2 { stroke: #8e5bd0; stroke-width: 2; fill: none; }
svg .l3 { stroke: #2a9d8f; stroke-width: 2; fill: none; }
svg .l4 { stroke: #d64f8a; stroke-width: 2; fill: none; }
svg .f0 { fill: var(--accent); } svg .f1 { fill: var(--accent2); } svg .f2 { fill: #8e5bd0; }
svg .f3 { fill: #2a9d8f; } svg .f4 { fill: #d64f8a; }
svg .fo { fill: var(--accent); fill-opacity: 0.45; } svg .fc { fill: var(--accent2); fill-opacity: 0.55; }
svg .pt { fill: var(--ink); }
svg .wh { stroke: var(--ink); stroke-width: 1.2; }
svg .ref { stroke: var(--bad); stroke-width: 1; stroke-dasharray: 5 3; }
svg .band { fill: var(--good); fill-opacity: 0.08; } svg .al { fill: var(--bad); }
svg .cell-t { font-size: 12px; font-weight: 600; fill: var(--ink); }
svg .lt { fill: #ffffff; }
svg .t0 { fill: var(--accent); } svg .t1 { fill: var(--accent2); } svg .t2 { fill: #8e5bd0; }
svg .t3 { fill: #2a9d8f; } svg .t4 { fill: #d64f8a; }
.legend { font-size: 12px; color: var(--muted); }
.legend i.sw0 { background: var(--accent); } .legend i.sw1 { background: var(--accent2); }
.legend i.sw2 { background: #8e5bd0; }
svg .ov0 { stroke: var(--accent); stroke-dasharray: 5 3; } svg .ov1 { stroke: var(--accent2); stroke-dasharray: 5 3; }
svg .ov2 { stroke: #8e5bd0; stroke-dasharray: 5 3; }
tr.overall td { font-weight: 600; background: var(--soft); }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; border-radius: 2px; }
.note { border-left: 4px solid var(--accent2); background: #fff7ef; padding: 6px 10px; margin: 6px 0;
  font-size: 13.5px; break-inside: avoid; }
.note .who { color: var(--muted); font-size: 12px; }
.note .id { font-weight: 700; color: var(--accent2); margin-right: 6px; }
.warn { color: var(--warn); font-size: 13px; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 24px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; font-size: 13.5px; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section { break-before: page; page-break-before: always; margin-top: 0; }
  section.first { break-before: auto; page-break-before: auto; }
  table, .charts, .verdict { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  .note, .verdict, th, tr.hl td, .badge { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

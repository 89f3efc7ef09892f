//! The report's plain sections: model identity, data description, sign-offs and the
//! reviewer notes index.

use std::fmt::Write;

use super::html::{self, count, esc, Html};
use super::{Ctx, ReportInput, MAX_TABLE_ROWS};
use crate::engine::package::{Decision, ModelCard, SignOff};

pub(crate) fn identity(h: &mut Html, input: &ReportInput) {
    h.raw("<section id=\"models\">")
        .el("h2", "", "Model identity");
    if input.models.is_empty() {
        h.el("p", "sub", "No model in this review.");
    }
    for m in &input.models {
        h.el("h3", "", m.label);
        h.raw("<dl class=\"kv\">");
        let kv = |h: &mut Html, k: &str, v: &str, mono: bool| {
            h.el("dt", "", k)
                .el("dd", if mono { "mono" } else { "" }, v);
        };
        if let Some(i) = m.info {
            kv(h, "file", &i.path.display().to_string(), false);
            kv(h, "SHA-256", &i.sha256, true);
            kv(h, "size", &crate::engine::human_bytes(i.file_size), false);
            kv(
                h,
                "name / version",
                &format!(
                    "{} / {}",
                    i.name.as_deref().unwrap_or("—"),
                    i.version.as_deref().unwrap_or("—")
                ),
                false,
            );
            kv(
                h,
                "producer",
                &format!("{} {}", i.producer_name, i.producer_version),
                false,
            );
            let ops: Vec<String> = i
                .opset_imports
                .iter()
                .map(|o| {
                    format!(
                        "{}:{}",
                        if o.domain.is_empty() {
                            "ai.onnx"
                        } else {
                            &o.domain
                        },
                        o.version
                    )
                })
                .collect();
            kv(
                h,
                "IR / opsets",
                &format!("IR {} · {}", i.ir_version, ops.join(", ")),
                false,
            );
            if let Some(c) = &i.declared_classes {
                kv(h, "classes", &c.join(", "), false);
            }
        } else if let Some(e) = m.evaluation {
            kv(h, "file", &e.model.path.display().to_string(), false);
            kv(h, "SHA-256", &e.model.sha256, true);
        }
        h.raw("</dl>");
        if let Some(i) = m.info {
            h.raw("<div class=\"grid2\"><div>");
            h.raw("<table>").head_row(&["input", "type"]).raw("<tbody>");
            for io in i.inputs.iter().take(MAX_TABLE_ROWS) {
                h.raw("<tr>")
                    .td(&io.name)
                    .td(&io.kind.to_string())
                    .raw("</tr>");
            }
            h.more_row(i.inputs.len().saturating_sub(MAX_TABLE_ROWS), 2, "inputs");
            h.raw("</tbody></table>");
            h.raw("<table>")
                .head_row(&["output", "type"])
                .raw("<tbody>");
            for io in i.outputs.iter().take(MAX_TABLE_ROWS) {
                h.raw("<tr>")
                    .td(&io.name)
                    .td(&io.kind.to_string())
                    .raw("</tr>");
            }
            h.more_row(i.outputs.len().saturating_sub(MAX_TABLE_ROWS), 2, "outputs");
            h.raw("</tbody></table></div><div>");
            if !i.metadata.is_empty() {
                h.raw("<table>")
                    .head_row(&["metadata", "value"])
                    .raw("<tbody>");
                for (k, v) in i.metadata.iter().take(MAX_TABLE_ROWS) {
                    let short: String = v.chars().take(240).collect();
                    let more = if v.chars().count() > 240 { "…" } else { "" };
                    h.raw("<tr>")
                        .td(k)
                        .td(&format!("{short}{more}"))
                        .raw("</tr>");
                }
                h.more_row(
                    i.metadata.len().saturating_sub(MAX_TABLE_ROWS),
                    2,
                    "entries",
                );
                h.raw("</tbody></table>");
            }
            h.raw("</div></div>");
        }
    }
    h.close("section");
}

pub(crate) fn data_section(h: &mut Html, input: &ReportInput) {
    h.raw("<section id=\"data\">").el("h2", "", "Data");
    let Some(d) = input.data else {
        h.el("p", "sub", "No evaluation dataset in this review.");
        h.close("section");
        return;
    };
    h.raw("<dl class=\"kv\">");
    h.el("dt", "", "file")
        .el("dd", "", &d.path.display().to_string());
    h.el("dt", "", "SHA-256").el("dd", "mono", &d.sha256);
    h.el("dt", "", "size").el(
        "dd",
        "",
        &format!(
            "{} · {:?}",
            crate::engine::human_bytes(d.file_size),
            d.format
        ),
    );
    h.el("dt", "", "rows × columns").el(
        "dd",
        "",
        &format!("{} × {}", count(d.rows), d.columns.len()),
    );
    h.raw("</dl>");
    // Target balance from the first evaluation's confusion matrix (row sums = true classes).
    if let Some(e) = input.models.iter().find_map(|m| m.evaluation) {
        h.el("h3", "", &format!("Target “{}”", e.target));
        match (&e.confusion_matrix, &e.classes) {
            (Some(cm), Some(classes)) => {
                let total: u64 = cm.iter().flatten().sum();
                h.raw("<table>")
                    .head_row(&["class", "rows", "share"])
                    .raw("<tbody>");
                for (c, row) in classes.iter().zip(cm).take(MAX_TABLE_ROWS) {
                    let n: u64 = row.iter().sum();
                    let mark = if e.positive_class.as_deref() == Some(c.as_str()) {
                        " (positive)"
                    } else {
                        ""
                    };
                    h.raw("<tr>")
                        .td(&format!("{c}{mark}"))
                        .raw(&format!("<td class=\"n\">{}</td>", count(n as usize)));
                    h.raw(&format!(
                        "<td class=\"n\">{}</td></tr>",
                        html::pct(if total > 0 {
                            n as f64 / total as f64
                        } else {
                            0.0
                        })
                    ));
                }
                h.more_row(classes.len().saturating_sub(MAX_TABLE_ROWS), 3, "classes");
                h.raw("</tbody></table>");
            }
            _ => {
                if let Some(c) = d.columns.iter().find(|c| c.name == e.target) {
                    h.el(
                        "p",
                        "",
                        &format!(
                            "min {} · mean {} · max {} · std {}",
                            html::fmt(c.min),
                            html::fmt(c.mean),
                            html::fmt(c.max),
                            html::fmt(c.std)
                        ),
                    );
                }
            }
        }
        if e.data.rows_dropped > 0 {
            h.el(
                "p",
                "warn",
                &format!(
                    "{} rows with missing or invalid values were dropped before evaluation.",
                    count(e.data.rows_dropped)
                ),
            );
        }
    }
    h.el("h3", "", "Columns");
    h.raw("<table>")
        .head_row(&["column", "type", "missing", "unique", "min", "mean", "max"])
        .raw("<tbody>");
    for c in d.columns.iter().take(MAX_TABLE_ROWS) {
        h.raw("<tr>")
            .td(&c.name)
            .td(&c.dtype)
            .raw(&format!("<td class=\"n\">{}</td>", count(c.missing)));
        h.raw(&format!(
            "<td class=\"n\">{}</td>",
            c.unique.map_or("—".into(), count)
        ));
        h.num(c.min).num(c.mean).num(c.max).raw("</tr>");
    }
    h.more_row(d.columns.len().saturating_sub(MAX_TABLE_ROWS), 7, "columns");
    h.raw("</tbody></table>");
    h.close("section");
}

pub(crate) fn signoffs(h: &mut Html, list: &[SignOff]) {
    h.raw("<section id=\"signoffs\">").el("h2", "", "Sign-offs");
    if list.is_empty() {
        h.el("p", "sub", "No sign-off recorded yet.");
    } else {
        h.raw("<table>")
            .head_row(&[
                "reviewer",
                "role",
                "decision",
                "date",
                "conditions",
                "notes",
            ])
            .raw("<tbody>");
        for s in list {
            let kind = match s.decision {
                Decision::Approved => "pass",
                Decision::ApprovedWithConditions => "inconclusive",
                Decision::Rejected => "fail",
            };
            h.raw("<tr>").td(&s.reviewer).td(&s.role).raw("<td>");
            h.badge(kind, s.decision.label()).raw("</td>");
            h.td(&s.date)
                .td(&s.conditions.join("; "))
                .td(&s.notes)
                .raw("</tr>");
        }
        h.raw("</tbody></table>");
    }
    h.close("section");
}

pub(crate) fn notes_index(h: &mut Html, ctx: &Ctx) {
    h.raw("<section id=\"notes\">")
        .el("h2", "", "Reviewer notes");
    if ctx.notes.is_empty() {
        h.el("p", "sub", "No reviewer notes.");
    } else {
        h.raw("<table>")
            .head_row(&["note", "pinned to", "where", "author", "written", "text"])
            .raw("<tbody>");
        let placed = ctx.placed.borrow();
        for n in ctx.notes {
            let place = placed.get(&n.id);
            h.raw("<tr>");
            match place {
                Some(_) => {
                    let _ = write!(
                        h.out,
                        "<td><a href=\"#note-{}\">{}</a></td>",
                        esc(&n.id),
                        esc(&n.id)
                    );
                }
                None => {
                    let _ = write!(h.out, "<td id=\"note-{}\">{}</td>", esc(&n.id), esc(&n.id));
                }
            }
            h.td(&n.finding.to_string());
            h.td(place.map_or("(finding not in this report)", String::as_str));
            h.td(&n.author)
                .el("td", "nw", &n.created)
                .td(&n.text)
                .raw("</tr>");
        }
        h.raw("</tbody></table>");
    }
    h.close("section");
}

/// The reviewers' prose from the model card (Markdown shown as plain text, paragraphs kept).
pub(crate) fn card(h: &mut Html, c: &ModelCard) {
    h.raw("<section id=\"card\">").el("h2", "", "Model card");
    for (title, text) in [
        ("Summary", &c.summary),
        ("Intended use", &c.intended_use),
        ("Out-of-scope use", &c.out_of_scope_use),
        ("Fairness", &c.fairness),
        ("Explanations", &c.explanations),
        ("Limitations", &c.limitations),
    ] {
        if text.trim().is_empty() {
            continue;
        }
        h.el("h3", "", title);
        for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            h.el("p", "", para.trim());
        }
    }
    h.close("section");
}

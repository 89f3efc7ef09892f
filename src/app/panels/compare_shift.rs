//! Compare, explanations: every model's global SHAP ranking (Explain page settings) side by
//! side, to see whether a new version relies on different features.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use super::compare_perf::{any_running, retry_button};
use crate::app::command::CommandSender;
use crate::app::state::{Slot, State};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Kind, Output};

/// Every model's global SHAP ranking (Explain page settings) side by side.
pub fn explanations_ui(
    ui: &mut egui::Ui,
    state: &State,
    explain_all: &mut bool,
    tx: &CommandSender,
) {
    let pal = Palette::of(ui);
    ui.label(
        RichText::new("Each model explained with the Explain page's settings on the same rows; features ranked by mean |SHAP value|. A feature that moves up or down the ranking between versions is worth a question in the review.")
            .color(pal.muted),
    );
    let entries = state.workspace.models.clone();
    let mut done = Vec::new();
    let mut missing = 0;
    for (i, m) in entries.iter().enumerate() {
        let key = state.planner().explanation(i).map(|r| r.key);
        match state.slot(key.as_ref()).cloned() {
            Some(Slot::Ready(Output::Explanation(e))) => done.push((m.label.clone(), e)),
            Some(Slot::Failed(err)) => {
                ui.colored_label(pal.bad, format!("{}: {err}", m.label));
                if let Some(key) = key {
                    retry_button(ui, tx, &key);
                }
            }
            Some(_) => {}
            None => missing += 1,
        }
    }
    if missing > 0 && ui.button("Explain every model").clicked() {
        *explain_all = true;
    }
    if *explain_all {
        for i in 0..entries.len() {
            tx.request(state.planner().explanation(i));
        }
    }
    if any_running(state, Kind::Explanation) {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("explaining…");
        });
    }
    if done.is_empty() {
        return;
    }
    let lists: Vec<(&str, &[(String, f64)])> = done
        .iter()
        .map(|(l, e)| (l.as_str(), e.importance.as_slice()))
        .collect();
    let shift = crate::engine::compare::shift::explanation_shift(&lists);
    let spaces: Vec<String> = done
        .iter()
        .map(|(l, e)| format!("{l}: {:?} in {:?} space", e.method, e.output_space))
        .collect();
    ui.label(RichText::new(spaces.join(" · ")).small().color(pal.muted));
    ui.label(RichText::new("per model: the feature's rank and its mean |SHAP value|").small());
    TableBuilder::new(ui)
        .id_salt("explain_shift")
        .striped(true)
        .column(Column::exact(160.0))
        .columns(Column::exact(150.0), shift.models.len())
        .column(Column::remainder())
        // Two lines for a model's name (wrapped, not cut; the whole name on hover).
        .header(36.0, |mut h| {
            h.col(|ui| {
                ui.strong("feature");
            });
            for m in &shift.models {
                h.col(|ui| {
                    ui.add(egui::Label::new(RichText::new(m.as_str()).strong()).wrap())
                        .on_hover_text(m.as_str());
                });
            }
            h.col(|ui| {
                ui.strong("rank change, first to last");
            });
        })
        .body(|mut body| {
            for f in &shift.features {
                body.row(20.0, |mut row| {
                    row.col(|ui| {
                        ui.label(&f.feature);
                    });
                    for (r, v) in f.rank.iter().zip(&f.importance) {
                        row.col(|ui| {
                            ui.label(match (r, v) {
                                (Some(r), Some(v)) => format!("#{r}  {v:.4}"),
                                _ => "not used".into(),
                            });
                        });
                    }
                    row.col(|ui| {
                        let (text, colour) = match f.rank_change {
                            Some(0) => ("same".to_string(), pal.muted),
                            Some(c) if c > 0 => (format!("up {c}"), pal.warn),
                            Some(c) => (format!("down {}", -c), pal.warn),
                            None => ("—".to_string(), pal.muted),
                        };
                        ui.label(RichText::new(text).color(colour).strong());
                    });
                });
            }
        });
}

//! Compare, per group and per row: the chosen pair's metrics in every group with
//! regressions flagged, and the rows where the two models disagree most.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use super::compare::{pair_picker, ComparePage};
use crate::app::command::{Command, CommandSender};
use crate::app::state::State;
use crate::app::widgets::charts::{self, BarSeries};
use crate::app::widgets::theme::Palette;
use crate::engine::compare::Comparison;
use crate::engine::fairness::group_text;

pub(super) fn groups_view(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut ComparePage,
    c: &Comparison,
) {
    let pal = Palette::of(ui);
    if c.slices.is_empty() {
        ui.label("Choose sensitive attributes in the column roles on the Overview page to compare groups.");
        return;
    }
    let Some(pair) = pair_picker(ui, page, c) else {
        return;
    };
    let pair_index = page.pair;
    let _ = pair;
    let ui_state = &mut *page;
    ui_state.slicing = ui_state.slicing.min(c.slices.len() - 1);
    let s = &c.slices[ui_state.slicing];
    if !s.metrics.iter().any(|m| *m == ui_state.metric) {
        ui_state.metric = s.metrics.first().map(|m| m.to_string()).unwrap_or_default();
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Slicing");
        for (i, sl) in c.slices.iter().enumerate() {
            ui.selectable_value(&mut ui_state.slicing, i, sl.columns.join(" × "));
        }
        ui.separator();
        let l0 = ui.label("Metric");
        egui::ComboBox::from_id_salt("cmp_group_metric")
            .selected_text(ui_state.metric.clone())
            .show_ui(ui, |ui| {
                for m in &s.metrics {
                    ui.selectable_value(&mut ui_state.metric, m.to_string(), *m);
                }
            })
            .response
            .labelled_by(l0.id);
    });
    let metric = ui_state.metric.clone();
    let Some(first) = s.models.first() else {
        return;
    };
    let categories: Vec<String> = first.groups.iter().map(|g| group_text(&g.group)).collect();
    let series: Vec<BarSeries> = s
        .models
        .iter()
        .zip(&s.labels)
        .map(|(rep, label)| BarSeries {
            name: label.clone(),
            values: rep.groups.iter().map(|g| g.metrics.get(&metric)).collect(),
            ci: rep
                .groups
                .iter()
                .map(|g| g.ci.get(&metric).copied())
                .collect(),
            colour: state.model_index(label).map(|i| pal.model(i)),
        })
        .collect();
    let h = (36.0 * categories.len() as f32 * series.len().max(1) as f32 * 0.6 + 60.0)
        .clamp(160.0, 520.0);
    charts::grouped_bars(ui, "cmp_groups", &metric, &categories, &series, h);
    let Some(sp) = s.pairs.get(pair_index) else {
        return;
    };
    ui.add_space(6.0);
    ui.strong(format!("Per-group change from {} to {}", sp.a, sp.b));
    TableBuilder::new(ui)
        .id_salt("cmp_group_table")
        .striped(true)
        .column(Column::exact(220.0))
        .column(Column::exact(70.0))
        .column(Column::exact(110.0))
        .column(Column::exact(170.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for t in [
                "group",
                "rows",
                format!("Δ {metric}").as_str(),
                "paired 95% CI",
                "verdict",
            ] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|mut body| {
            for g in &sp.groups {
                body.row(20.0, |mut row| {
                    row.col(|ui| {
                        ui.label(group_text(&g.group));
                    });
                    row.col(|ui| {
                        ui.label(g.count.to_string());
                    });
                    row.col(|ui| {
                        ui.label(
                            g.delta
                                .get(&metric)
                                .map_or("—".into(), |d| format!("{d:+.4}")),
                        );
                    });
                    row.col(|ui| {
                        ui.label(
                            g.delta_ci
                                .get(&metric)
                                .map_or("—".into(), |[l, h]| format!("[{l:+.4}, {h:+.4}]")),
                        );
                    });
                    row.col(|ui| {
                        if g.too_small {
                            ui.label(RichText::new("too small to judge").color(pal.muted));
                        } else if g.significantly_worse {
                            ui.label(
                                RichText::new(format!(
                                    "significantly worse: {}",
                                    g.worse_metrics.join(", ")
                                ))
                                .color(pal.bad)
                                .strong(),
                            );
                        } else {
                            ui.label(RichText::new("no significant regression").color(pal.good));
                        }
                    });
                });
            }
        });
    if !sp.disparity_delta.0.is_empty() {
        ui.add_space(6.0);
        ui.strong("Change in fairness disparities");
        ui.horizontal_wrapped(|ui| {
            for (name, d) in &sp.disparity_delta.0 {
                ui.label(format!(
                    "{name} {}",
                    d.map_or("—".into(), |d| format!("{d:+.4}"))
                ));
                ui.separator();
            }
        });
    }
}

pub(super) fn disagreements_view(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut ComparePage,
    tx: &CommandSender,
    c: &Comparison,
) {
    let pal = Palette::of(ui);
    let Some(p) = pair_picker(ui, page, c) else {
        return;
    };
    ui.label(
        RichText::new(format!(
            "The {} rows where {} and {} differ most (by score); rows are numbered from 1 as on the Data page",
            p.top_disagreements.len(),
            p.a,
            p.b
        ))
        .color(pal.muted),
    );
    let mut goto = None;
    TableBuilder::new(ui)
        .id_salt("cmp_disagree")
        .striped(true)
        .column(Column::exact(70.0))
        .columns(Column::exact(150.0), 4)
        .column(Column::exact(90.0))
        .column(Column::remainder())
        // Model names wrap onto two lines instead of being cut (whole name on hover).
        .header(36.0, |mut h| {
            for t in [
                "row".to_string(),
                format!("{} score", p.a),
                format!("{} score", p.b),
                format!("{} label", p.a),
                format!("{} label", p.b),
                "target".into(),
                String::new(),
            ] {
                h.col(|ui| {
                    ui.add(egui::Label::new(RichText::new(t.as_str()).strong()).wrap())
                        .on_hover_text(t.as_str());
                });
            }
        })
        .body(|mut body| {
            for d in &p.top_disagreements {
                body.row(20.0, |mut row| {
                    row.col(|ui| {
                        ui.label((d.row + 1).to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.4}", d.score_a))
                            .on_hover_text(d.score_a.to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.4}", d.score_b))
                            .on_hover_text(d.score_b.to_string());
                    });
                    row.col(|ui| {
                        ui.label(d.label_a.clone().unwrap_or_default());
                    });
                    row.col(|ui| {
                        ui.label(d.label_b.clone().unwrap_or_default());
                    });
                    row.col(|ui| {
                        ui.label(&d.target);
                    });
                    row.col(|ui| {
                        if ui.small_button("Show in data").clicked() {
                            goto = Some(d.row + 1);
                        }
                    });
                });
            }
        });
    if let Some(row) = goto {
        let dataset = state
            .workspace
            .datasets
            .iter()
            .position(|d| d.path == c.data.path)
            .unwrap_or(0);
        tx.send(Command::OpenRow { dataset, row });
    }
}

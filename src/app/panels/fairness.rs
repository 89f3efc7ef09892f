//! Fairness: per-group metrics of each sensitive attribute (and their intersection) with
//! bootstrap whiskers and the overall line, the disparities against the reviewers' policy
//! (pass / fail / inconclusive with the interval), a heat map for two attributes, and the
//! weak slices the engine found. Everything drawn comes from `engine::fairness`.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::commands;
use crate::app::state::{Slot, State};
use crate::app::widgets::cards::fmt;
use crate::app::widgets::charts::{self, GroupBar};
use crate::app::widgets::plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Output, RowFilter};
use crate::engine::fairness::policy::{Op, Policy, Rule, Scope, Verdict};
use crate::engine::fairness::{group_text, SliceReport};

pub fn fairness_ui(ui: &mut egui::Ui, state: &mut State) {
    let pal = Palette::of(ui);
    ui.heading("Fairness");
    let Some(_) = super::evaluate::model_picker(ui, state) else {
        return;
    };
    if state.workspace.roles.sensitive.is_empty() {
        ui.label("Choose sensitive attributes in the column roles on the Overview page.");
        return;
    }
    let i = state.selected_index();
    let issues = state.role_issues(i);
    if !issues.is_empty() {
        for i in &issues {
            ui.colored_label(pal.bad, &i.message);
        }
        return;
    }
    let request = state.planner().fairness(i);
    let Some(key) = request.as_ref().map(|r| r.key.clone()) else {
        super::slot::waiting(ui, "waiting for the model and the data to load");
        return;
    };
    commands::run(state, request);
    let result = match state.slot(Some(&key)).cloned() {
        Some(Slot::Ready(Output::Fairness(r))) => r,
        Some(Slot::Failed(e)) => {
            super::slot::failed(ui, state, &key, &e);
            return;
        }
        _ => {
            super::slot::waiting(
                ui,
                "computing group metrics, intervals and weak slices… (cancel in the status bar)",
            );
            return;
        }
    };
    let report = &result.report;
    egui::ScrollArea::vertical().auto_shrink(false).show(ui, |ui| {
        ui.label(
            RichText::new(format!(
                "{} rows · threshold {} · {} bootstrap resamples, stratified by group · groups under {} rows are too small to judge",
                report.n,
                report.threshold.map_or("—".into(), |t| format!("{t:.2}")),
                report.bootstrap.resamples,
                report.min_group_size
            ))
            .color(pal.muted),
        );
        for w in &report.warnings {
            ui.colored_label(pal.warn, w);
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Slicing");
            for (i, s) in report.slices.iter().enumerate() {
                let label = s.columns.join(" × ");
                if ui.selectable_label(state.fairness_slicing == i, label).clicked() {
                    state.fairness_slicing = i;
                }
            }
        });
        if state.fairness_slicing >= report.slices.len() {
            state.fairness_slicing = 0;
        }
        let Some(slice) = report.slices.get(state.fairness_slicing) else {
            return;
        };
        let findings = slice
            .groups
            .iter()
            .map(|g| crate::engine::report::group_finding(slice, g))
            .collect();
        super::notes::notes_bar(ui, state, findings);
        if !report.metrics.contains(&state.fairness_metric) {
            state.fairness_metric = report.metrics.first().cloned().unwrap_or_default();
        }
        ui.horizontal(|ui| {
            let label = ui.label("Metric");
            egui::ComboBox::from_id_salt("fair_metric")
                .selected_text(state.fairness_metric.clone())
                .show_ui(ui, |ui| {
                    for m in &report.metrics {
                        ui.selectable_value(&mut state.fairness_metric, m.clone(), m.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let metric = state.fairness_metric.clone();
        let h = plots::plot_height(state.presentation);
        ui.columns(2, |cols| {
            cols[0].strong(format!("{metric} by group ({})", slice.columns.join(" × ")));
            let bars: Vec<GroupBar> = slice
                .groups
                .iter()
                .map(|g| GroupBar {
                    label: g.group.0.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" · "),
                    value: g.metrics.get(&metric),
                    ci: g.ci.get(&metric).copied(),
                    count: g.count,
                    too_small: g.too_small,
                })
                .collect();
            charts::group_bars(&mut cols[0], "fair_bars", &metric, &bars, slice.overall.get(&metric), h);
            policy_ui(&mut cols[1], slice);
        });
        ui.add_space(8.0);
        ui.columns(2, |cols| {
            disparities_ui(&mut cols[0], slice);
            if slice.columns.len() == 2 {
                cols[1].strong(format!("{metric}: {} × {}", slice.columns[0], slice.columns[1]));
                heat(&mut cols[1], slice, &metric);
            } else {
                groups_table(&mut cols[1], slice, &metric);
            }
        });
        ui.add_space(8.0);
        if let Some(pick) = weak_slices_ui(ui, &result.slices, &report.data.sha256) {
            state.slice = Some(pick);
            state.page = crate::app::state::Page::Evaluate;
        }
        ui.add_space(8.0);
        policy_editor(ui, state, &report.policy_names(), &report.default_policy(), &report.policy);
    });
}

fn verdict_color(pal: &Palette, v: Verdict) -> egui::Color32 {
    match v {
        Verdict::Pass => pal.good,
        Verdict::Fail => pal.bad,
        Verdict::Inconclusive => pal.warn,
        Verdict::Undefined | Verdict::NotApplicable => pal.muted,
    }
}

fn policy_ui(ui: &mut egui::Ui, slice: &SliceReport) {
    let pal = Palette::of(ui);
    ui.strong("Policy");
    ui.label(
        RichText::new("pass: the whole 95% interval meets the rule · fail: the whole interval breaks it · inconclusive: it straddles the bound")
            .small()
            .color(pal.muted),
    );
    egui::Grid::new("policy_results")
        .striped(true)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            for h in ["rule", "value", "95% CI", "groups", "result"] {
                ui.label(RichText::new(h).color(pal.muted));
            }
            ui.end_row();
            for r in &slice.policy {
                let op = match r.op {
                    Op::Ge => "≥",
                    Op::Le => "≤",
                };
                ui.label(format!("{} {op} {}", r.metric, r.threshold));
                ui.label(fmt(r.value));
                ui.label(r.ci.map_or("—".into(), |[l, h]| {
                    format!("{} – {}", fmt(Some(l)), fmt(Some(h)))
                }));
                ui.label(match r.scope {
                    Scope::AllGroups => "all",
                    Scope::LargeGroupsOnly => "large enough",
                })
                .on_hover_text("Verdicts leave out groups too small to judge");
                let text = format!("{:?}", r.result).to_lowercase();
                ui.label(
                    RichText::new(text)
                        .strong()
                        .color(verdict_color(&Palette::of(ui), r.result)),
                );
                ui.end_row();
            }
        });
}

fn disparities_ui(ui: &mut egui::Ui, slice: &SliceReport) {
    let pal = Palette::of(ui);
    ui.strong("Disparities between groups");
    egui::Grid::new("disparities")
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for h in ["measure", "value", "95% CI"] {
                ui.label(RichText::new(h).color(pal.muted));
            }
            ui.end_row();
            for (name, v) in &slice.disparities.0 {
                ui.label(name);
                ui.label(fmt(*v));
                ui.label(slice.ci.get(name).map_or("—".into(), |[l, h]| {
                    format!("{} – {}", fmt(Some(*l)), fmt(Some(*h)))
                }));
                ui.end_row();
            }
        });
}

fn groups_table(ui: &mut egui::Ui, slice: &SliceReport, metric: &str) {
    let pal = Palette::of(ui);
    ui.strong("Groups");
    egui::Grid::new("groups")
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for h in ["group", "rows", metric, "95% CI", ""] {
                ui.label(RichText::new(h).color(pal.muted));
            }
            ui.end_row();
            for g in &slice.groups {
                ui.label(group_text(&g.group));
                ui.label(g.count.to_string());
                ui.label(fmt(g.metrics.get(metric)));
                ui.label(g.ci.get(metric).map_or("—".into(), |[l, h]| {
                    format!("{} – {}", fmt(Some(*l)), fmt(Some(*h)))
                }));
                if g.too_small {
                    ui.colored_label(pal.warn, "too small to judge");
                } else {
                    ui.label("");
                }
                ui.end_row();
            }
        });
}

fn heat(ui: &mut egui::Ui, slice: &SliceReport, metric: &str) {
    let (Some(a), Some(b)) = (slice.groupings.first(), slice.groupings.get(1)) else {
        return;
    };
    let mut values = vec![vec![None; b.labels.len()]; a.labels.len()];
    let mut counts = vec![vec![0usize; b.labels.len()]; a.labels.len()];
    for g in &slice.groups {
        let (Some((_, va)), Some((_, vb))) = (g.group.0.first(), g.group.0.get(1)) else {
            continue;
        };
        if let (Some(i), Some(j)) = (
            a.labels.iter().position(|l| l == va),
            b.labels.iter().position(|l| l == vb),
        ) {
            values[i][j] = g.metrics.get(metric);
            counts[i][j] = g.count;
        }
    }
    let higher = match metric {
        "selection_rate" | "mean_prediction" | "mean_target" => None,
        "false_positive_rate" | "false_negative_rate" | "mae" | "rmse" | "mse" => Some(false),
        _ => Some(true),
    };
    charts::heat_map(
        ui,
        &a.labels,
        &b.labels,
        &values,
        &counts,
        slice.overall.get(metric),
        higher,
        (&a.column, &b.column),
    );
}

/// The weak-slice list; returns the slice whose "Evaluate" button was clicked.
fn weak_slices_ui(
    ui: &mut egui::Ui,
    search: &crate::engine::fairness::slices::SliceSearch,
    data_sha: &str,
) -> Option<RowFilter> {
    let pal = Palette::of(ui);
    ui.strong(format!(
        "Weak slices: where {} is worst (overall {:.4}; slices of at least {} rows; {} candidates searched)",
        search.metric, search.overall, search.min_size, search.candidates
    ));
    if search.slices.is_empty() {
        ui.label("No slice is significantly worse than overall.");
        return None;
    }
    let mut pick = None;
    ui.push_id("weak", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .column(Column::auto().at_least(260.0))
            .columns(Column::auto().at_least(70.0), 7)
            .header(20.0, |mut h| {
                for t in [
                    "",
                    "slice",
                    "rows",
                    "share",
                    &search.metric,
                    "gap",
                    "95% CI of gap",
                    "p-value",
                ] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, search.slices.len(), |mut row| {
                    let s = &search.slices[row.index()];
                    row.col(|ui| {
                        if ui
                            .small_button("Evaluate")
                            .on_hover_text("Show the Evaluate page on this slice's rows only")
                            .clicked()
                        {
                            pick = Some(RowFilter {
                                label: group_text(&s.conditions),
                                data_sha: data_sha.to_string(),
                                rows: std::sync::Arc::new(s.rows.clone()),
                            });
                        }
                    });
                    row.col(|ui| {
                        ui.label(group_text(&s.conditions));
                    });
                    row.col(|ui| {
                        ui.label(s.count.to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.1}%", s.fraction * 100.0));
                    });
                    row.col(|ui| {
                        ui.label(format!("{:.4}", s.metric));
                    });
                    row.col(|ui| {
                        ui.colored_label(pal.bad, format!("{:+.4}", s.gap));
                    });
                    row.col(|ui| {
                        ui.label(format!("{:+.4} – {:+.4}", s.ci[0], s.ci[1]));
                    });
                    row.col(|ui| {
                        ui.label(s.p_value.map_or("—".into(), |p| format!("{p:.2e}")));
                    });
                });
            });
    });
    pick
}

/// The reviewers' policy: visible, editable, saved with the workspace.
fn policy_editor(
    ui: &mut egui::Ui,
    state: &mut State,
    names: &[String],
    default: &Policy,
    shown: &Policy,
) {
    let pal = Palette::of(ui);
    egui::CollapsingHeader::new("Edit the fairness policy").show(ui, |ui| {
        ui.label(
            RichText::new("No built-in verdict is truth: these rules are your review's, saved in the workspace.")
                .small()
                .color(pal.muted),
        );
        let mut policy = state.workspace.fairness_policy.clone().unwrap_or_else(|| shown.clone());
        let mut remove = None;
        for (i, rule) in policy.rules.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                egui::ComboBox::from_id_salt(("rule_metric", i))
                    .selected_text(rule.metric.clone())
                    .width(300.0)
                    .show_ui(ui, |ui| {
                        for n in names {
                            ui.selectable_value(&mut rule.metric, n.clone(), n);
                        }
                    });
                egui::ComboBox::from_id_salt(("rule_op", i))
                    .selected_text(if rule.op == Op::Ge { "≥" } else { "≤" })
                    .width(40.0)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut rule.op, Op::Ge, "≥");
                        ui.selectable_value(&mut rule.op, Op::Le, "≤");
                    });
                ui.add(egui::DragValue::new(&mut rule.threshold).speed(0.01).range(-1e6..=1e6));
                if ui.small_button("Remove").clicked() {
                    remove = Some(i);
                }
            });
        }
        if let Some(i) = remove {
            policy.rules.remove(i);
        }
        ui.horizontal(|ui| {
            if ui.button("Add rule").clicked() {
                policy.rules.push(Rule {
                    metric: names.first().cloned().unwrap_or_default(),
                    op: Op::Ge,
                    threshold: 0.8,
                });
            }
            if ui.button("Reset to the default").clicked() {
                policy = default.clone();
            }
        });
        if Some(&policy) != state.workspace.fairness_policy.as_ref() && (&policy != shown || state.workspace.fairness_policy.is_some()) {
            state.workspace.fairness_policy = Some(policy);
            state.dirty = true;
        }
    });
}

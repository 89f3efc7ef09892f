//! Fairness: per-group metrics of each sensitive attribute (and their intersection) with
//! bootstrap whiskers and the overall line, the disparities against the reviewers' policy
//! (pass / fail / inconclusive with the interval), a heat map for two attributes, and the
//! weak slices the engine found. Everything drawn comes from `engine::fairness`.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::state::{Page, Slot, State};
use crate::app::widgets::cards::fmt;
use crate::app::widgets::charts::{self, GroupBar};
use crate::app::widgets::plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{FairnessResult, Output, RowFilter};
use crate::engine::fairness::policy::{Op, Policy, Rule, Scope, Verdict};
use crate::engine::fairness::{group_text, SliceReport};

/// The Fairness page's selections: the slicing and the metric shown.
pub struct FairnessPage {
    /// Index into the report's slicings.
    pub slicing: usize,
    pub metric: String,
}

impl Default for FairnessPage {
    fn default() -> Self {
        Self {
            slicing: 0,
            metric: "selection_rate".into(),
        }
    }
}

impl FairnessPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        fairness_ui(ui, ctx, self, tx);
    }
}

fn fairness_ui(ui: &mut egui::Ui, state: &State, page: &mut FairnessPage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading("Fairness");
    let Some(_) = super::evaluate::model_picker(ui, state, tx) else {
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
    tx.request(request);
    let result = match state.slot(Some(&key)).cloned() {
        Some(Slot::Ready(Output::Fairness(r))) => r,
        Some(Slot::Failed(e)) => {
            super::slot::failed(ui, tx, &key, &e);
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
    page.show(ui, state, tx, &result);
}

impl FairnessPage {
    /// Draws a fairness result (binary, multiclass one-vs-rest or regression) below the
    /// model picker: what the page shows once the engine's result is cached.
    pub fn show(
        &mut self,
        ui: &mut egui::Ui,
        state: &State,
        tx: &CommandSender,
        result: &FairnessResult,
    ) {
        fairness_result_ui(ui, state, self, tx, result);
    }
}

fn fairness_result_ui(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut FairnessPage,
    tx: &CommandSender,
    result: &FairnessResult,
) {
    let pal = Palette::of(ui);
    let report = &result.report;
    egui::ScrollArea::vertical().id_salt("fairness_page").auto_shrink(false).show(ui, |ui| {
        ui.label(
            RichText::new(format!(
                "{} rows · threshold {} · {} bootstrap resamples, stratified by group · groups under {} rows are too small to judge",
                crate::app::widgets::format::count(report.data.rows),
                report.threshold.map_or("—".into(), |t| format!("{t:.2}")),
                crate::app::widgets::format::count(report.bootstrap.resamples),
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
                if ui.selectable_label(page.slicing == i, label).clicked() {
                    page.slicing = i;
                }
            }
        });
        if page.slicing >= report.slices.len() {
            page.slicing = 0;
        }
        let Some(slice) = report.slices.get(page.slicing) else {
            return;
        };
        let findings = slice
            .groups
            .iter()
            .map(|g| crate::engine::report::group_finding(slice, g))
            .collect();
        super::notes::notes_bar(ui, state, tx, findings);
        if !report.metrics.contains(&page.metric) {
            page.metric = report.metrics.first().cloned().unwrap_or_default();
        }
        ui.horizontal(|ui| {
            let label = ui.label("Metric");
            egui::ComboBox::from_id_salt("fair_metric")
                .selected_text(page.metric.clone())
                .show_ui(ui, |ui| {
                    for m in &report.metrics {
                        ui.selectable_value(&mut page.metric, m.clone(), m.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
        });
        let metric = page.metric.clone();
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
            disparities_ui(&mut cols[0], slice, &metric);
            if slice.columns.len() == 2 {
                cols[1].strong(format!("{metric}: {} × {}", slice.columns[0], slice.columns[1]));
                heat(&mut cols[1], slice, &metric);
            } else {
                groups_table(&mut cols[1], slice, &metric);
            }
        });
        ui.add_space(8.0);
        if let Some(pick) = weak_slices_ui(ui, &result.slices, &report.data.sha256) {
            tx.send(Command::ShowSlice(Some(pick)));
            tx.send(Command::Goto(Page::Evaluate));
        }
        ui.add_space(8.0);
        policy_editor(ui, state, tx, &report.policy_names(), &report.default_policy(), &report.policy);
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

/// The headline disparities (binary); for multiclass and regression, which have none, the
/// engine's summaries of the metric shown (difference and ratio between groups, …).
fn disparities_ui(ui: &mut egui::Ui, slice: &SliceReport, metric: &str) {
    let pal = Palette::of(ui);
    let summary = slice.summaries.get(metric);
    let rows: Vec<(String, Option<f64>, Option<[f64; 2]>)> = if slice.disparities.0.is_empty() {
        summary.map_or_else(Vec::new, |s| {
            s.values
                .0
                .iter()
                .map(|(n, v)| {
                    (
                        format!("{metric} {}", n.replace('_', " ")),
                        *v,
                        s.ci.get(n).copied(),
                    )
                })
                .collect()
        })
    } else {
        slice
            .disparities
            .0
            .iter()
            .map(|(n, v)| (n.clone(), *v, slice.ci.get(n).copied()))
            .collect()
    };
    ui.strong("Disparities between groups");
    if rows.is_empty() {
        ui.label(RichText::new("none for this metric").color(pal.muted));
        return;
    }
    egui::Grid::new("disparities")
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for h in ["measure", "value", "95% CI"] {
                ui.label(RichText::new(h).color(pal.muted));
            }
            ui.end_row();
            for (name, v, ci) in &rows {
                ui.label(name);
                ui.label(fmt(*v));
                ui.label(ci.map_or("—".into(), |[l, h]| {
                    format!("{} – {}", fmt(Some(l)), fmt(Some(h)))
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
                ui.label(crate::app::widgets::format::count(g.count));
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
        search.metric,
        search.overall,
        crate::app::widgets::format::count(search.min_size),
        crate::app::widgets::format::count(search.candidates)
    ));
    if search.slices.is_empty() {
        ui.label("No slice is significantly worse than overall.");
        return None;
    }
    let mut pick = None;
    ui.push_id("weak", |ui| {
        TableBuilder::new(ui)
            .striped(true)
            .column(Column::auto())
            // The slice's conditions on one line (elided, whole on hover): a 20-point row
            // cannot hold wrapped text.
            .column(Column::initial(320.0).at_least(220.0).clip(true))
            .columns(Column::auto().at_least(70.0), 6)
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
                        let text = group_text(&s.conditions);
                        ui.add(egui::Label::new(text.as_str()).truncate())
                            .on_hover_text(text);
                    });
                    row.col(|ui| {
                        ui.label(crate::app::widgets::format::count(s.count));
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
                        ui.label(crate::app::widgets::format::p_value(s.p_value));
                    });
                });
            });
    });
    pick
}

/// The reviewers' policy: visible, editable, saved with the workspace.
fn policy_editor(
    ui: &mut egui::Ui,
    state: &State,
    tx: &CommandSender,
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
            tx.edit(move |ws| ws.fairness_policy = Some(policy));
        }
    });
}

//! Compare: every workspace model on the same data. Metrics side by side with the paired
//! deltas coloured by significance, overlaid ROC/PR curves, McNemar and DeLong tests and
//! agreement, per-group comparison with regressions flagged, the rows where models disagree
//! most, speed and robustness (see `compare_perf`), and the promotion gate with its reasons.
//! Everything drawn comes from `engine::compare`, `engine::perf` and `engine::robustness`.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::command::{CommandSender, PageCtx};
use crate::app::state::{CompareView, State};
use crate::app::widgets::cards::fmt;
use crate::app::widgets::plots::{self, Curve};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::review::judge_gate;
use crate::engine::analysis::Output;
use crate::engine::compare::gate::GateResult;
use crate::engine::compare::pair::PairComparison;
use crate::engine::compare::Comparison;
use crate::engine::metrics::higher_is_better;
use crate::engine::report::notes::Finding;

/// The Compare page's selections.
#[derive(Debug, Clone, Default)]
pub struct ComparePage {
    pub view: CompareView,
    /// Index into the comparison's pairs.
    pub pair: usize,
    pub slicing: usize,
    pub metric: String,
    /// "Explain every model" was asked for: explanations are requested as models become ready.
    pub explain_all: bool,
}

impl ComparePage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        compare_ui(ui, ctx, self, tx);
    }
}

fn compare_ui(ui: &mut egui::Ui, state: &State, page: &mut ComparePage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading("Compare");
    if state.workspace.models.len() < 2 {
        ui.label(
            "Add a second model (Ctrl+O or drop an .onnx file) to compare versions side by side.",
        );
        return;
    }
    if state.workspace.roles.target.is_none() {
        ui.label("Choose the target column in the column roles on the Overview page.");
        return;
    }
    for (i, entry) in state.workspace.models.clone().iter().enumerate() {
        for issue in state.role_issues(i) {
            ui.colored_label(pal.bad, format!("{}: {}", entry.label, issue.message));
        }
    }
    let request = state.planner().comparison();
    let Some(Output::Comparison(c)) = super::slot::ready(
        ui,
        state,
        tx,
        request,
        "running every model and the paired bootstrap… (cancel in the status bar)",
    ) else {
        return;
    };
    ui.label(
        RichText::new(format!(
            "{} models on {} rows of {} · {} paired bootstrap resamples (the same rows for every model) · deltas are later model − earlier model",
            c.models.len(),
            c.n,
            crate::app::commands::file_name(&c.data.path),
            c.bootstrap.resamples
        ))
        .color(pal.muted),
    );
    for w in &c.warnings {
        ui.colored_label(pal.warn, w);
    }
    ui.horizontal(|ui| {
        for (view, label) in [
            (CompareView::Metrics, "Metrics"),
            (CompareView::Groups, "Groups"),
            (CompareView::Disagreements, "Disagreements"),
            (CompareView::Explanations, "Explanations"),
            (CompareView::Speed, "Speed"),
            (CompareView::Robustness, "Robustness"),
            (CompareView::Gate, "Promotion gate"),
        ] {
            ui.selectable_value(&mut page.view, view, label);
        }
        let judged = judge_gate(&state.planner(), &c);
        gate_badge(ui, &c, &judged.result);
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("compare_page")
        .auto_shrink(false)
        .show(ui, |ui| match page.view {
            CompareView::Metrics => metrics_view(ui, state, page, tx, &c),
            CompareView::Groups => super::compare_groups::groups_view(ui, state, page, &c),
            CompareView::Disagreements => {
                super::compare_groups::disagreements_view(ui, state, page, tx, &c)
            }
            CompareView::Explanations => {
                super::compare_shift::explanations_ui(ui, state, &mut page.explain_all, tx)
            }
            CompareView::Speed => super::compare_perf::speed_ui(ui, state, tx),
            CompareView::Robustness => super::compare_perf::robustness_ui(ui, state, tx),
            CompareView::Gate => super::compare_gate::gate_view(ui, state, tx, &c),
        });
}

fn gate_badge(ui: &mut egui::Ui, c: &Comparison, result: &GateResult) {
    let pal = Palette::of(ui);
    let (text, colour) = if result.passed {
        ("gate: PASS", pal.good)
    } else {
        ("gate: FAIL", pal.bad)
    };
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        ui.label(RichText::new(text).strong().color(colour))
            .on_hover_text(format!(
                "{} vs {}: {} of {} rules hold",
                c.gate.baseline,
                c.gate.candidate,
                result.rules.iter().filter(|r| r.passed).count(),
                result.rules.len()
            ));
    });
}

/// Pair picker; returns the chosen pair.
pub(super) fn pair_picker<'a>(
    ui: &mut egui::Ui,
    page: &mut ComparePage,
    c: &'a Comparison,
) -> Option<&'a PairComparison> {
    if c.pairs.is_empty() {
        return None;
    }
    page.pair = page.pair.min(c.pairs.len() - 1);
    if c.pairs.len() > 1 {
        ui.horizontal(|ui| {
            let l = ui.label("Pair");
            let current = c
                .pairs
                .get(page.pair)
                .map(|p| format!("{} vs {}", p.a, p.b))
                .unwrap_or_default();
            egui::ComboBox::from_id_salt("cmp_pair")
                .width(420.0)
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (i, p) in c.pairs.iter().enumerate() {
                        ui.selectable_value(&mut page.pair, i, format!("{} vs {}", p.a, p.b));
                    }
                })
                .response
                .labelled_by(l.id);
        });
    }
    c.pairs.get(page.pair)
}

fn metrics_view(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut ComparePage,
    tx: &CommandSender,
    c: &Comparison,
) {
    let pal = Palette::of(ui);
    let Some(pair) = pair_picker(ui, page, c) else {
        return;
    };
    let (Some(a), Some(b)) = (
        c.models.iter().find(|m| m.label == pair.a),
        c.models.iter().find(|m| m.label == pair.b),
    ) else {
        return;
    };
    let findings = a
        .evaluation
        .metrics
        .0
        .iter()
        .map(|(m, _)| Finding::Comparison {
            pair: crate::engine::report::ext::pair_name(&pair.a, &pair.b),
            metric: (*m).to_string(),
        })
        .collect();
    super::notes::notes_bar(ui, state, tx, findings);
    ui.strong(format!("A = {}, B = {}", pair.a, pair.b));
    TableBuilder::new(ui)
        .id_salt("compare_metrics")
        .striped(true)
        .column(Column::exact(190.0))
        .column(Column::exact(170.0))
        .column(Column::exact(170.0))
        .column(Column::exact(110.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for t in [
                "metric",
                a.label.as_str(),
                b.label.as_str(),
                "Δ (B − A)",
                "paired 95% CI of Δ",
            ] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|mut body| {
            for (name, va) in &a.evaluation.metrics.0 {
                let vb = b.evaluation.metrics.get(name);
                let d = pair.delta.get(name);
                let ci = pair.delta_ci.get(*name).copied();
                let better = higher_is_better(name);
                // Green/red only when the whole interval is on one side of zero.
                let colour = match (ci, better) {
                    (Some([lo, _]), Some(true)) if lo > 0.0 => pal.good,
                    (Some([_, hi]), Some(true)) if hi < 0.0 => pal.bad,
                    (Some([_, hi]), Some(false)) if hi < 0.0 => pal.good,
                    (Some([lo, _]), Some(false)) if lo > 0.0 => pal.bad,
                    _ => ui_text_colour(&pal),
                };
                body.row(20.0, |mut row| {
                    row.col(|ui| {
                        ui.label(*name);
                    });
                    for (v, ev) in [(*va, &a.evaluation), (vb, &b.evaluation)] {
                        row.col(|ui| {
                            let ci = ev.ci.get(*name).map_or(String::new(), |[l, h]| {
                                format!("  [{}, {}]", fmt(Some(*l)), fmt(Some(*h)))
                            });
                            ui.label(format!("{}{ci}", fmt(v)));
                        });
                    }
                    row.col(|ui| {
                        ui.label(
                            RichText::new(d.map_or("—".into(), |d| format!("{d:+.4}")))
                                .color(colour)
                                .strong(),
                        )
                        .on_hover_text(d.map_or("undefined".into(), |d| format!("{d:+.6}")));
                    });
                    row.col(|ui| {
                        ui.label(ci.map_or("—".into(), |[l, h]| format!("[{l:+.4}, {h:+.4}]")));
                    });
                });
            }
        });
    ui.label(
        RichText::new("green / red: the paired interval of the change lies entirely on the better / worse side of zero; otherwise the change is not significant")
            .small()
            .color(pal.muted),
    );
    ui.add_space(8.0);
    tests_block(ui, pair);
    ui.add_space(8.0);
    let h = plots::plot_height(state.presentation);
    let rocs: Vec<Curve> = c
        .models
        .iter()
        .filter_map(|m| {
            let r = m.evaluation.curves.roc.as_ref()?;
            Some(Curve {
                name: format!(
                    "{} (AUC {})",
                    m.label,
                    fmt(m.evaluation.metrics.get("roc_auc"))
                ),
                x: &r.fpr,
                y: &r.tpr,
                colour: state.model_index(&m.label).map(|i| pal.model(i)),
            })
        })
        .collect();
    let prs: Vec<Curve> = c
        .models
        .iter()
        .filter_map(|m| {
            let r = m.evaluation.curves.precision_recall.as_ref()?;
            Some(Curve {
                name: format!(
                    "{} (AP {})",
                    m.label,
                    fmt(m.evaluation.metrics.get("average_precision"))
                ),
                x: &r.recall,
                y: &r.precision,
                colour: state.model_index(&m.label).map(|i| pal.model(i)),
            })
        })
        .collect();
    if !rocs.is_empty() {
        let base = base_rate(c);
        ui.columns(2, |cols| {
            cols[0].strong("ROC curves");
            plots::roc(&mut cols[0], "cmp_roc", &rocs, None, h);
            cols[1].strong("Precision–recall curves");
            plots::pr(&mut cols[1], "cmp_pr", &prs, base, None, h);
        });
    }
}

fn ui_text_colour(pal: &Palette) -> egui::Color32 {
    pal.muted.gamma_multiply(1.6)
}

fn base_rate(c: &Comparison) -> f64 {
    c.models
        .first()
        .and_then(|m| {
            let cm = m.evaluation.confusion_matrix.as_ref()?;
            let pos: u64 = cm.get(1)?.iter().sum();
            Some(pos as f64 / m.evaluation.n.max(1) as f64)
        })
        .unwrap_or(0.0)
}

fn tests_block(ui: &mut egui::Ui, p: &PairComparison) {
    let pal = Palette::of(ui);
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.strong("Do they make different mistakes? (McNemar)");
        if let Some(t) = p.mcnemar_table {
            egui::Grid::new("mcnemar").striped(true).show(ui, |ui| {
                ui.label("");
                ui.label(format!("{} correct", p.b));
                ui.label(format!("{} wrong", p.b));
                ui.end_row();
                ui.label(format!("{} correct", p.a));
                ui.label(t[0][0].to_string());
                ui.label(t[0][1].to_string());
                ui.end_row();
                ui.label(format!("{} wrong", p.a));
                ui.label(t[1][0].to_string());
                ui.label(t[1][1].to_string());
                ui.end_row();
            });
            ui.label(format!(
                "exact p = {} · χ² (continuity-corrected) = {} (p = {})",
                crate::app::widgets::format::p_value(p.mcnemar_exact_p_value),
                p.mcnemar_chi2_corrected.map_or("—".into(), |c| format!("{:.3}", c.statistic)),
                crate::app::widgets::format::p_value(p.mcnemar_chi2_corrected.map(|c| c.p_value))
            ));
        } else {
            ui.label(RichText::new("not defined for this task").color(pal.muted));
        }
        let ui = &mut cols[1];
        ui.strong("Is the AUC difference real? (DeLong)");
        match &p.delong {
            Some(d) => {
                ui.label(format!(
                    "AUC {:.4} and {:.4} (Δ {:+.4}), z = {:.3}, p = {}",
                    d.auc_a,
                    d.auc_b,
                    d.auc_difference,
                    if d.variance > 0.0 { d.auc_difference / d.variance.sqrt() } else { f64::NAN },
                    crate::app::widgets::format::p_value(p.delong_p_value)
                ));
            }
            None => {
                ui.label(RichText::new("not defined for this task").color(pal.muted));
            }
        }
        ui.add_space(4.0);
        ui.strong("Agreement");
        ui.label(format!(
            "labels differ on {} rows ({}) · mean |Δ score| {} · max {} · Pearson r {} · Spearman ρ {}",
            p.label_disagreements.map_or("—".into(), |n| n.to_string()),
            p.label_disagreement_rate.map_or("—".into(), |r| format!("{:.2}%", 100.0 * r)),
            fmt(p.mean_abs_prob_diff),
            fmt(p.max_abs_prob_diff),
            fmt(p.pearson_r),
            fmt(p.spearman_r)
        ));
        for n in p.notes.iter().chain(&p.warnings) {
            ui.label(RichText::new(n).small().color(pal.muted));
        }
    });
}

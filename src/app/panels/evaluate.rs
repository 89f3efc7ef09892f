//! Evaluate: metric cards with bootstrap intervals, ROC / PR / calibration plots, the
//! confusion matrix and a threshold slider that reads the engine's precomputed sweep (no
//! re-inference); regression gets predicted-vs-actual and residuals.

use crate::engine::report::notes::Finding;
use eframe::egui::{self, RichText};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::state::{Slot, State};
use crate::app::widgets::cards::metric_card;
use crate::app::widgets::plots::{self, Curve};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::RowFilter;
use crate::engine::evaluate::{Evaluation, Task};

/// The Evaluate page's selections: the weak slice shown (from the Fairness page) and the
/// threshold slider.
pub struct EvaluatePage {
    /// A weak slice the page is filtered to; it remembers the dataset it was made on and
    /// does not apply to another.
    pub slice: Option<RowFilter>,
    /// The threshold slider (the sweep is read at this value).
    pub live_threshold: f64,
}

impl EvaluatePage {
    pub fn new(threshold: f64) -> Self {
        Self {
            slice: None,
            live_threshold: threshold,
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        evaluate_ui(ui, ctx, self, tx);
    }
}

fn evaluate_ui(ui: &mut egui::Ui, state: &State, page: &mut EvaluatePage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading("Evaluate");
    if state.workspace.models.is_empty() {
        ui.label("No model yet: open an .onnx file (Ctrl+O) or drop it onto the window.");
        return;
    }
    let Some(entry) = model_picker(ui, state, tx) else {
        return;
    };
    let i = state.selected_index();
    // A file that failed to load is named with its Retry (not "fix the column roles").
    let files = [
        Some(entry.path.clone()),
        state.eval_data_path().map(|p| p.to_path_buf()),
    ];
    for path in files.into_iter().flatten() {
        let failed = match (
            state.loaded.models.get(&path),
            state.loaded.datasets.get(&path),
        ) {
            (Some(Slot::Failed(f)), _) | (_, Some(Slot::Failed(f))) => Some(f.text.clone()),
            _ => None,
        };
        if let Some(text) = failed {
            ui.colored_label(pal.bad, text);
            if ui
                .button("Retry")
                .on_hover_text("Load the file again")
                .clicked()
            {
                tx.send(Command::RetryFile(path));
            }
            return;
        }
    }
    let issues = state.role_issues(i);
    if !issues.is_empty() {
        for i in &issues {
            ui.colored_label(pal.bad, i.message.as_str());
        }
        ui.label("Fix the column roles on the Overview page.");
        return;
    }
    if let Some(slice) = page.slice.clone() {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(format!(
                    "Slice: {} ({} rows)",
                    slice.label,
                    slice.rows.len()
                ))
                .strong()
                .color(pal.warn),
            );
            if ui.button("Show all rows").clicked() {
                page.slice = None;
            }
        });
    }
    let request = state.planner().evaluation(i, page.slice.as_ref());
    let key = request.as_ref().map(|r| r.key.clone());
    tx.request(request);
    match state.evaluation(i, page.slice.as_ref()) {
        Some(Slot::Ready(ev)) => {
            let findings = ev
                .metrics
                .0
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(m, _)| Finding::Metric {
                    model: entry.label.clone(),
                    metric: (*m).to_string(),
                })
                .collect();
            super::notes::notes_bar(ui, state, tx, findings);
            egui::ScrollArea::vertical()
                .id_salt("evaluate_page")
                .auto_shrink(false)
                .show(ui, |ui| match ev.task {
                    Task::BinaryClassification => binary_ui(ui, state, page, tx, &ev),
                    Task::MulticlassClassification => multiclass_ui(ui, state, &ev),
                    Task::Regression => regression_ui(ui, state, &ev),
                });
        }
        Some(Slot::Failed(e)) => {
            if let Some(key) = key {
                super::slot::failed(ui, tx, &key, &e);
            }
        }
        Some(Slot::Loading) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("evaluating… (progress and cancel in the status bar)");
            });
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("waiting for the model and the data to load");
            });
        }
    }
}

/// The model selector shared by the analysis pages; returns the selected model.
pub fn model_picker(
    ui: &mut egui::Ui,
    state: &State,
    tx: &CommandSender,
) -> Option<crate::engine::workspace::ModelEntry> {
    let pal = Palette::of(ui);
    if state.workspace.models.is_empty() {
        ui.label("No model yet: open an .onnx file (Ctrl+O) or drop it onto the window.");
        return None;
    }
    ui.horizontal(|ui| {
        let name = ui.label("Model");
        let mut selected = state.selected_index();
        let label = state
            .selected_model()
            .map_or_else(String::new, |m| m.label.clone());
        egui::ComboBox::from_id_salt("eval_model")
            .selected_text(label)
            .show_ui(ui, |ui| {
                for (i, m) in state.workspace.models.iter().enumerate() {
                    ui.selectable_value(&mut selected, i, &m.label);
                }
            })
            .response
            .labelled_by(name.id);
        if selected != state.selected_index() {
            tx.send(Command::SelectModel(selected));
        }
        if let Some(d) = state.eval_data_path() {
            ui.label(
                RichText::new(format!("on {}", crate::app::commands::file_name(d)))
                    .color(pal.muted),
            );
        }
    });
    state.selected_model().cloned()
}

fn cards(
    ui: &mut egui::Ui,
    ev: &Evaluation,
    items: &[(&str, &str, Option<f64>, bool)],
    presentation: bool,
) {
    // Frames do not wrap in a wrapped layout: lay the cards out in rows that fit.
    let outer = crate::app::widgets::theme::CARD_WIDTH + 24.0;
    let spacing = ui.spacing().item_spacing.x;
    let per_row = (((ui.available_width() + spacing) / (outer + spacing)).floor() as usize).max(1);
    for row in items.chunks(per_row) {
        ui.horizontal(|ui| {
            for (key, name, value, with_ci) in row {
                let ci = if *with_ci {
                    ev.ci.get(*key).copied()
                } else {
                    None
                };
                metric_card(ui, name, *value, ci, key, presentation);
            }
        });
    }
}

fn warnings(ui: &mut egui::Ui, ev: &Evaluation) {
    let pal = Palette::of(ui);
    for w in &ev.warnings {
        ui.colored_label(pal.warn, w);
    }
}

fn binary_ui(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut EvaluatePage,
    tx: &CommandSender,
    ev: &Evaluation,
) {
    let pal = Palette::of(ui);
    let pres = state.presentation;
    let h = plots::plot_height(pres);
    let evaluated_t = ev.threshold.unwrap_or(0.5);
    let Some(sweep) = ev.curves.threshold_sweep.as_ref() else {
        return;
    };
    ui.horizontal(|ui| {
        // Wide enough to set a threshold to the hundredth by dragging.
        ui.spacing_mut().slider_width = 320.0;
        ui.add(
            egui::Slider::new(&mut page.live_threshold, 0.0..=1.0)
                .step_by(0.01)
                .fixed_decimals(2)
                .text("Threshold"),
        )
        .on_hover_text("Predicted positive when P(positive) ≥ threshold. Moves the confusion matrix and threshold metrics live.");
        let live = page.live_threshold;
        if (live - evaluated_t).abs() > 1e-9 {
            if ui.button(format!("Evaluate at {live:.2} with intervals")).clicked() {
                tx.edit(move |ws| ws.settings.threshold = live);
            }
            ui.label(RichText::new(format!("intervals are for {evaluated_t:.2}")).small().color(pal.muted));
        }
        // What the cards are computed on, beside the slider (the headline fits 1280×720).
        ui.add(
            egui::Label::new(
                RichText::new(format!(
                    "{} rows · positive class '{}' · {} bootstrap resamples (95% percentile intervals)",
                    crate::app::widgets::format::count(ev.n),
                    ev.positive_class.as_deref().unwrap_or("?"),
                    crate::app::widgets::format::count(ev.bootstrap.resamples),
                ))
                .small()
                .color(pal.muted),
            )
            .wrap(),
        );
    });
    let Some(point) = sweep.at(page.live_threshold) else {
        return;
    };
    let at_eval = (page.live_threshold - evaluated_t).abs() < 1e-9;
    let m = |k: &str| ev.metrics.get(k);
    cards(
        ui,
        ev,
        &[
            ("roc_auc", "ROC AUC", m("roc_auc"), true),
            (
                "average_precision",
                "Average precision",
                m("average_precision"),
                true,
            ),
            ("log_loss", "Log loss", m("log_loss"), true),
            ("brier_score", "Brier score", m("brier_score"), true),
            ("accuracy", "Accuracy", point.accuracy, at_eval),
            (
                "balanced_accuracy",
                "Balanced accuracy",
                point.balanced_accuracy,
                at_eval,
            ),
            ("precision", "Precision", point.precision, at_eval),
            ("recall", "Recall (TPR)", point.recall, at_eval),
            ("specificity", "Specificity", point.specificity, at_eval),
            ("f1", "F1", point.f1, at_eval),
            ("mcc", "MCC", point.mcc, at_eval),
        ],
        pres,
    );
    warnings(ui, ev);
    ui.add_space(8.0);
    let crate::engine::metrics::curves::SweepPoint {
        tp,
        fp,
        tn,
        fn_,
        fpr,
        tpr,
        ..
    } = point;
    let classes = ev.classes.clone().unwrap_or_default();
    let pos = ev.positive_class.clone().unwrap_or_default();
    let neg = classes
        .iter()
        .find(|c| **c != pos)
        .cloned()
        .unwrap_or_default();
    ui.columns(2, |cols| {
        if let Some(roc) = &ev.curves.roc {
            cols[0].strong("ROC curve");
            plots::roc(
                &mut cols[0],
                "roc",
                &[Curve {
                    name: format!("AUC {}", crate::app::widgets::cards::fmt(m("roc_auc"))),
                    x: &roc.fpr,
                    y: &roc.tpr,
                    colour: Some(pal.model(state.selected_index())),
                }],
                Some([fpr, tpr]),
                h,
            );
        }
        if let Some(pr) = &ev.curves.precision_recall {
            cols[1].strong("Precision–recall curve");
            let base = if ev.n > 0 {
                (tp + fn_) as f64 / ev.n as f64
            } else {
                0.0
            };
            let prec = point.precision;
            plots::pr(
                &mut cols[1],
                "pr",
                &[Curve {
                    name: format!(
                        "AP {}",
                        crate::app::widgets::cards::fmt(m("average_precision"))
                    ),
                    x: &pr.recall,
                    y: &pr.precision,
                    colour: Some(pal.model(state.selected_index())),
                }],
                base,
                prec.map(|p| [tpr, p]),
                h,
            );
        }
    });
    ui.add_space(8.0);
    ui.columns(2, |cols| {
        cols[0].strong(format!("Confusion matrix at {:.2}", page.live_threshold));
        plots::confusion(
            &mut cols[0],
            &[vec![tn, fp], vec![fn_, tp]],
            &[neg.clone(), pos.clone()],
            330.0,
        );
        cols[0].label(
            RichText::new(format!("TP {tp} · FP {fp} · TN {tn} · FN {fn_}"))
                .small()
                .color(pal.muted),
        );
        if let Some(cal) = &ev.curves.calibration {
            cols[1].strong("Calibration (reliability)");
            plots::calibration(
                &mut cols[1],
                "cal",
                &cal.prob_pred,
                &cal.prob_true,
                &cal.counts,
                cal.ece,
                h,
            );
        }
    });
    if let Some(hist) = &ev.curves.score_histogram {
        ui.strong("Score distribution by actual class");
        plots::histogram(
            ui,
            "scores",
            &[
                (&format!("actual {neg}"), &hist.negatives, pal.series[0]),
                (&format!("actual {pos}"), &hist.positives, pal.series[1]),
            ],
            &hist.edges,
            ("P(positive)", "rows"),
            Some(page.live_threshold),
            h * 0.8,
        );
    }
}

fn multiclass_ui(ui: &mut egui::Ui, state: &State, ev: &Evaluation) {
    let pres = state.presentation;
    let h = plots::plot_height(pres);
    let m = |k: &str| ev.metrics.get(k);
    cards(
        ui,
        ev,
        &[
            ("accuracy", "Accuracy", m("accuracy"), true),
            (
                "balanced_accuracy",
                "Balanced accuracy",
                m("balanced_accuracy"),
                true,
            ),
            ("f1_macro", "F1 (macro)", m("f1_macro"), true),
            (
                "precision_macro",
                "Precision (macro)",
                m("precision_macro"),
                true,
            ),
            ("recall_macro", "Recall (macro)", m("recall_macro"), true),
            ("f1_weighted", "F1 (weighted)", m("f1_weighted"), true),
            ("roc_auc", "ROC AUC (OvR macro)", m("roc_auc"), true),
            ("log_loss", "Log loss", m("log_loss"), true),
        ],
        pres,
    );
    warnings(ui, ev);
    let classes = ev.classes.clone().unwrap_or_default();
    ui.columns(2, |cols| {
        if let Some(cm) = &ev.confusion_matrix {
            cols[0].strong("Confusion matrix");
            plots::confusion(&mut cols[0], cm, &classes, 380.0);
        }
        cols[1].strong("ROC, one class vs rest");
        let curves: Vec<Curve> = ev
            .curves
            .roc_per_class
            .iter()
            .map(|(c, r)| Curve {
                name: format!("class {c}"),
                x: &r.fpr,
                y: &r.tpr,
                colour: None,
            })
            .collect();
        plots::roc(&mut cols[1], "roc_ovr", &curves, None, h);
    });
}

fn regression_ui(ui: &mut egui::Ui, state: &State, ev: &Evaluation) {
    let pal = Palette::of(ui);
    let pres = state.presentation;
    let h = plots::plot_height(pres);
    let m = |k: &str| ev.metrics.get(k);
    cards(
        ui,
        ev,
        &[
            ("mae", "MAE", m("mae"), true),
            ("rmse", "RMSE", m("rmse"), true),
            ("r2", "R²", m("r2"), true),
            ("mape", "MAPE", m("mape"), true),
            (
                "median_absolute_error",
                "Median abs. error",
                m("median_absolute_error"),
                true,
            ),
            ("max_error", "Max error", m("max_error"), true),
            (
                "explained_variance",
                "Explained variance",
                m("explained_variance"),
                true,
            ),
        ],
        pres,
    );
    warnings(ui, ev);
    if let Some(r) = &ev.curves.residuals {
        ui.columns(2, |cols| {
            let note = if r.sampled {
                format!(" ({} of {} rows, evenly sampled)", r.y_true.len(), ev.n)
            } else {
                String::new()
            };
            cols[0].strong(format!("Predicted vs actual{note}"));
            plots::scatter(&mut cols[0], "pred_actual", &r.y_true, &r.y_pred, h);
            cols[1].strong("Residuals (predicted − actual)");
            plots::histogram(
                &mut cols[1],
                "residuals",
                &[("rows", &r.histogram.counts, pal.series[2])],
                &r.histogram.edges,
                ("residual", "rows"),
                Some(0.0),
                h,
            );
        });
    }
}

//! Explain: SHAP values of the selected model (TreeSHAP for tree ensembles, exact or Kernel
//! SHAP otherwise) as a beeswarm and importance bars, a waterfall for one row, dependence
//! plots, partial dependence with ICE lines, permutation importance, and the tree viewer with
//! the path a row takes. Everything drawn comes from `engine::explain`.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::command::{CommandSender, PageCtx};
use crate::app::state::{ExplainView, Slot, State};
use crate::app::widgets::plots;
use crate::app::widgets::shap::{self, Swarm};
use crate::app::widgets::shap_plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::Output;
use crate::engine::explain::{Explanation, Method, OutputSpace};
use crate::engine::report::notes::Finding;
use crate::engine::workspace::ModelEntry;

const TOP_FEATURES: usize = 15;

/// The Explain page's selections.
#[derive(Debug, Clone, Default)]
pub struct ExplainPage {
    pub view: ExplainView,
    /// Index into the explanation's rows.
    pub row: usize,
    pub dependence: usize,
    pub colour_by: Option<usize>,
    pub pdp_feature: usize,
    pub tree: usize,
}

impl ExplainPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        explain_ui(ui, ctx, self, tx);
    }
}

fn explain_ui(ui: &mut egui::Ui, state: &State, page: &mut ExplainPage, tx: &CommandSender) {
    ui.heading("Explain");
    let Some(entry) = super::evaluate::model_picker(ui, state, tx) else {
        return;
    };
    let i = state.selected_index();
    // The tree viewer and the method names need to know whether it is a tree ensemble.
    let forest = state.planner().forest(i);
    tx.request(forest);
    settings_bar(ui, state, tx, i);
    ui.horizontal(|ui| {
        for (view, label) in [
            (ExplainView::Summary, "Summary"),
            (ExplainView::Row, "One row"),
            (ExplainView::Dependence, "Dependence"),
            (ExplainView::Pdp, "Partial dependence"),
            (ExplainView::Importance, "Permutation importance"),
            (ExplainView::Trees, "Trees"),
        ] {
            ui.selectable_value(&mut page.view, view, label);
        }
    });
    ui.separator();
    match page.view {
        ExplainView::Pdp => return pdp_view(ui, state, page, tx, &entry),
        ExplainView::Importance => return importance_view(ui, state, tx),
        _ => {}
    }
    let request = state.planner().explanation(i);
    let waiting = "computing SHAP values… (progress and cancel in the status bar)";
    let Some(Output::Explanation(e)) = super::slot::ready(ui, state, tx, request, waiting) else {
        return;
    };
    summary_line(ui, &e);
    let findings = e
        .importance
        .iter()
        .map(|(f, _)| Finding::Feature { feature: f.clone() })
        .collect();
    super::notes::notes_bar(ui, state, tx, findings);
    egui::ScrollArea::vertical()
        .id_salt("explain_page")
        .auto_shrink(false)
        .show(ui, |ui| match page.view {
            ExplainView::Summary => summary_view(ui, page, &e),
            ExplainView::Row => row_view(ui, state, page, tx, &e),
            ExplainView::Dependence => dependence_view(ui, state, page, &e),
            ExplainView::Trees => {
                super::explain_tree::trees_view(ui, state, &mut page.tree, page.row, &e)
            }
            _ => {}
        });
}

fn settings_bar(ui: &mut egui::Ui, state: &State, tx: &CommandSender, i: usize) {
    let is_tree = state.forest(i).is_some();
    let before = state.workspace.settings.explain.clone();
    let mut settings = before.clone();
    let s = &mut settings;
    ui.horizontal_wrapped(|ui| {
        let method_label = ui.label("Method");
        let name = |m: Option<Method>| match m {
            None if is_tree => "automatic (TreeSHAP)",
            None => "automatic",
            Some(Method::Tree) => "TreeSHAP (interventional)",
            Some(Method::TreePath) => "TreeSHAP (path-dependent)",
            Some(Method::Exact) => "exact",
            Some(Method::Kernel) => "KernelSHAP",
            Some(Method::Permutation) => "permutation",
            Some(Method::Linear) => "linear (coefficients)",
        };
        egui::ComboBox::from_id_salt("explain_method")
            .selected_text(name(s.method))
            .show_ui(ui, |ui| {
                let mut options = vec![None];
                if is_tree {
                    options.extend([Some(Method::Tree), Some(Method::TreePath)]);
                }
                options.extend([
                    Some(Method::Exact),
                    Some(Method::Kernel),
                    Some(Method::Permutation),
                    Some(Method::Linear),
                ]);
                for m in options {
                    ui.selectable_value(&mut s.method, m, name(m));
                }
            })
            .response
            .labelled_by(method_label.id);
        let tree_method = matches!(s.method, Some(Method::Tree | Method::TreePath))
            || (s.method.is_none() && is_tree);
        if tree_method {
            ui.label("Output: raw margin (log-odds)").on_hover_text(
                "TreeSHAP is exact in the ensemble's raw margin; probabilities are a non-linear function of it. Choose exact or KernelSHAP to explain probabilities.",
            );
        } else {
            let l0 = ui.label("Output");
            egui::ComboBox::from_id_salt("explain_space")
                .selected_text(match s.output_space {
                    OutputSpace::Probability => "probability",
                    OutputSpace::Raw => "raw (log-odds / margin)",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut s.output_space, OutputSpace::Probability, "probability");
                    ui.selectable_value(
                        &mut s.output_space,
                        OutputSpace::Raw,
                        "raw (log-odds / margin)",
                    );
                })
                .response
                .labelled_by(l0.id);
        }
        let l1 = ui.label("Rows");
        egui::ComboBox::from_id_salt("explain_rows")
            .selected_text(s.rows.to_string())
            .show_ui(ui, |ui| {
                for n in [50, 200, 1000, 5000] {
                    ui.selectable_value(&mut s.rows, n, n.to_string());
                }
            })
            .response
            .labelled_by(l1.id);
        let l2 = ui.label("Background");
        egui::ComboBox::from_id_salt("explain_bg")
            .selected_text(format!("{} rows", s.background))
            .show_ui(ui, |ui| {
                for n in [50, 100, 200, 500] {
                    ui.selectable_value(&mut s.background, n, format!("{n} rows"));
                }
            })
            .response
            .labelled_by(l2.id);
        if matches!(s.method, Some(Method::Kernel | Method::Permutation)) {
            let l3 = ui.label("Samples");
            egui::ComboBox::from_id_salt("explain_ns")
                .selected_text(s.nsamples.to_string())
                .show_ui(ui, |ui| {
                    for n in [256, 1024, 2048, 8192] {
                        ui.selectable_value(&mut s.nsamples, n, n.to_string());
                    }
                })
                .response
                .labelled_by(l3.id);
        }
    });
    if settings != before {
        tx.edit(move |ws| ws.settings.explain = settings);
    }
}

fn space_label(e: &Explanation) -> String {
    let class = e
        .class_label
        .as_deref()
        .map_or(String::new(), |c| format!(" of class {c}"));
    match (e.output_space, e.class_label.is_some()) {
        (OutputSpace::Probability, true) => format!("SHAP value (impact on probability{class})"),
        (OutputSpace::Raw, true) => format!("SHAP value (impact on log-odds{class})"),
        _ => "SHAP value (impact on the prediction)".into(),
    }
}

fn summary_line(ui: &mut egui::Ui, e: &Explanation) {
    let pal = Palette::of(ui);
    let method = serde_json::to_value(e.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "{method} · {} rows explained · base value {:.4} · background {} rows ({:?}) of {}",
                e.row_indices.len(),
                e.base_value,
                e.background.rows,
                e.background.summarisation,
                crate::app::commands::file_name(&e.background.path),
            ))
            .color(pal.muted),
        );
        let ok = e.additivity_max_abs_error <= 1e-6;
        ui.label(
            RichText::new(format!(
                "additivity: base + Σφ = output within {:.1e}",
                e.additivity_max_abs_error
            ))
            .color(if ok { pal.good } else { pal.warn }),
        )
        .on_hover_text(
            "checked on every row: the largest |base value + sum of SHAP values − model output|",
        );
    });
    for n in &e.notes {
        ui.label(RichText::new(n).small().color(pal.muted));
    }
}

/// Features by mean |SHAP|, most important first.
fn order(e: &Explanation) -> Vec<usize> {
    e.importance
        .iter()
        .filter_map(|(name, _)| e.feature_names.iter().position(|f| f == name))
        .collect()
}

fn summary_view(ui: &mut egui::Ui, page: &mut ExplainPage, e: &Explanation) {
    let pal = Palette::of(ui);
    let ord: Vec<usize> = order(e).into_iter().take(TOP_FEATURES).collect();
    let x_label = space_label(e);
    ui.columns(2, |cols| {
        cols[0].strong(format!(
            "Every explained row, per feature (click a dot for its waterfall; ringed: row {})",
            e.row_indices.get(page.row).map_or(0, |r| r + 1)
        ));
        let selected = e.row_indices.get(page.row).copied();
        let clicked = shap::beeswarm(
            &mut cols[0],
            &Swarm {
                names: &e.feature_names,
                values: &e.values,
                feature_values: &e.feature_values,
                row_labels: &e.row_indices,
                order: &ord,
                x_label: &x_label,
            },
            selected,
        );
        if let Some(row) = clicked {
            if let Some(i) = e.row_indices.iter().position(|r| *r == row) {
                page.row = i;
                page.view = ExplainView::Row;
            }
        }
        cols[1].strong("Mean |SHAP value| per feature");
        let top: Vec<(String, f64)> = e.importance.iter().take(TOP_FEATURES).cloned().collect();
        shap::importance_bars(&mut cols[1], &top, "mean |SHAP value|");
        if e.importance.len() > TOP_FEATURES {
            cols[1].label(
                RichText::new(format!(
                    "and {} more features",
                    e.importance.len() - TOP_FEATURES
                ))
                .small()
                .color(pal.muted),
            );
        }
    });
}

fn row_view(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut ExplainPage,
    tx: &CommandSender,
    e: &Explanation,
) {
    let pal = Palette::of(ui);
    if e.values.is_empty() {
        ui.label("no rows explained");
        return;
    }
    let i = page.row.min(e.values.len() - 1);
    ui.columns(2, |cols| {
        cols[0].strong("Explained rows");
        let ui = &mut cols[0];
        TableBuilder::new(ui)
            .id_salt("explain_rows_table")
            .striped(true)
            .sense(egui::Sense::click())
            .max_scroll_height(420.0)
            .column(Column::exact(60.0))
            .column(Column::exact(90.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                h.col(|ui| {
                    ui.strong("row");
                });
                h.col(|ui| {
                    ui.strong("output");
                });
                h.col(|ui| {
                    ui.strong("largest contribution");
                });
            })
            .body(|body| {
                body.rows(20.0, e.values.len(), |mut row| {
                    let k = row.index();
                    row.set_selected(k == i);
                    row.col(|ui| {
                        ui.label((e.row_indices[k] + 1).to_string());
                    });
                    row.col(|ui| {
                        ui.label(format!(
                            "{:.4}",
                            e.outputs.get(k).copied().unwrap_or(f64::NAN)
                        ));
                    });
                    row.col(|ui| {
                        let phi = &e.values[k];
                        let j =
                            (0..phi.len()).max_by(|&a, &b| phi[a].abs().total_cmp(&phi[b].abs()));
                        if let Some(j) = j {
                            ui.label(format!("{} {:+.4}", e.feature_names[j], phi[j]));
                        }
                    });
                    if row.response().clicked() {
                        page.row = k;
                    }
                });
            });
        cols[0].label(
            RichText::new("rows are numbered from 1, as on the Data page")
                .small()
                .color(pal.muted),
        );
        let row = e.row_indices[i];
        cols[1].strong(format!(
            "Row {}: from the base value to the model output",
            row + 1
        ));
        let texts: Vec<String> = Vec::new();
        shap::waterfall(
            &mut cols[1],
            &e.feature_names,
            &e.values[i],
            &e.feature_values[i],
            &texts,
            e.base_value,
            e.outputs.get(i).copied().unwrap_or(f64::NAN),
            10,
        );
        surrogate_block(&mut cols[1], state, tx, row);
        cols[1].label(
            RichText::new(format!(
                "{} · red raises the output, blue lowers it",
                space_label(e)
            ))
            .small()
            .color(pal.muted),
        );
    });
}

/// The LIME-style local surrogate of one row, on request.
fn surrogate_block(ui: &mut egui::Ui, state: &State, tx: &CommandSender, row: usize) {
    let pal = Palette::of(ui);
    ui.add_space(6.0);
    let request = state.planner().surrogate(state.selected_index(), row);
    let key = request.as_ref().map(|r| r.key.clone());
    match state.slot(key.as_ref()).cloned() {
        None => {
            if ui
                .button("Fit a local surrogate (LIME-style)")
                .on_hover_text("A weighted linear model fitted on perturbations around this row: a second opinion on what drives its prediction")
                .clicked()
            {
                tx.request(request);
            }
        }
        Some(Slot::Ready(Output::Surrogate(s))) => {
            ui.strong(format!(
                "Local surrogate: R² {:.3} on {} weighted samples; it predicts {:.4} here, the model {:.4}",
                s.r2, s.nsamples, s.local_prediction, s.model_output
            ));
            for t in s.terms.iter().take(8) {
                ui.label(format!(
                    "{}  {:+.4} per standard deviation{}",
                    t.feature,
                    t.coefficient,
                    t.per_unit.map_or(String::new(), |u| format!(" ({u:+.5} per unit)"))
                ));
            }
            for n in &s.notes {
                ui.label(RichText::new(n).small().color(pal.muted));
            }
        }
        Some(Slot::Failed(e)) => {
            if let Some(key) = key {
                super::slot::failed(ui, tx, &key, &e);
            }
        }
        _ => super::slot::waiting(ui, "fitting the surrogate…"),
    }
}

fn dependence_view(ui: &mut egui::Ui, state: &State, page: &mut ExplainPage, e: &Explanation) {
    let ord = order(e);
    let ui_state = &mut *page;
    if ui_state.dependence >= e.feature_names.len() {
        ui_state.dependence = ord.first().copied().unwrap_or(0);
    }
    let f = ui_state.dependence;
    ui.horizontal(|ui| {
        let l4 = ui.label("Feature");
        egui::ComboBox::from_id_salt("dep_feature")
            .selected_text(&e.feature_names[f])
            .show_ui(ui, |ui| {
                for &j in &ord {
                    ui.selectable_value(&mut ui_state.dependence, j, &e.feature_names[j]);
                }
            })
            .response
            .labelled_by(l4.id);
        let l5 = ui.label("Colour by");
        let colour_name = ui_state
            .colour_by
            .and_then(|j| e.feature_names.get(j))
            .map_or("none", |s| s.as_str());
        egui::ComboBox::from_id_salt("dep_colour")
            .selected_text(colour_name)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut ui_state.colour_by, None, "none");
                for &j in &ord {
                    ui.selectable_value(&mut ui_state.colour_by, Some(j), &e.feature_names[j]);
                }
            })
            .response
            .labelled_by(l5.id);
    });
    let f = ui_state.dependence;
    let x: Vec<f64> = e
        .feature_values
        .iter()
        .map(|r| r.get(f).copied().flatten().unwrap_or(f64::NAN))
        .collect();
    let phi: Vec<f64> = e
        .values
        .iter()
        .map(|r| r.get(f).copied().unwrap_or(f64::NAN))
        .collect();
    let colour: Option<Vec<Option<f64>>> = ui_state.colour_by.map(|j| {
        e.feature_values
            .iter()
            .map(|r| r.get(j).copied().flatten())
            .collect()
    });
    let by = ui_state
        .colour_by
        .and_then(|j| e.feature_names.get(j))
        .cloned();
    let h = plots::plot_height(state.presentation) * 1.4;
    shap_plots::dependence(
        ui,
        "dependence",
        &e.feature_names[f],
        &x,
        &phi,
        by.as_deref().zip(colour.as_deref()),
        h,
    );
    if x.iter().all(|v| v.is_nan()) {
        ui.label("this feature is text: its values cannot be placed on an axis");
    }
}

fn pdp_view(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut ExplainPage,
    tx: &CommandSender,
    entry: &ModelEntry,
) {
    let pal = Palette::of(ui);
    let Some(model) = state.model(&entry.path).cloned() else {
        ui.spinner();
        return;
    };
    let names = crate::engine::model::plan_inputs(&model.info, entry.features.as_deref())
        .map(|p| p.columns())
        .unwrap_or_default();
    if names.is_empty() {
        ui.colored_label(
            pal.bad,
            "the model's inputs could not be matched to dataset columns",
        );
        return;
    }
    let sel = &mut page.pdp_feature;
    *sel = (*sel).min(names.len() - 1);
    ui.horizontal(|ui| {
        let l6 = ui.label("Feature");
        egui::ComboBox::from_id_salt("pdp_feature")
            .selected_text(&names[*sel])
            .show_ui(ui, |ui| {
                for (j, n) in names.iter().enumerate() {
                    ui.selectable_value(sel, j, n);
                }
            })
            .response
            .labelled_by(l6.id);
    });
    let feature = names[page.pdp_feature].clone();
    let request = state.planner().pdp(state.selected_index(), &feature);
    let waiting = "computing partial dependence and ICE lines…";
    if let Some(Output::Pdp(p)) = super::slot::ready(ui, state, tx, request, waiting) {
        let h = plots::plot_height(state.presentation) * 1.5;
        super::explain_pdp::draw(ui, &p, h);
    }
}

fn importance_view(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    if state.workspace.roles.target.is_none() {
        ui.label("Permutation importance needs a target column: set it in the column roles on the Overview page.");
        return;
    }
    let request = state.planner().importance(state.selected_index());
    let key = request.as_ref().map(|r| r.key.clone());
    match state.slot(key.as_ref()).cloned() {
        None => {
            ui.label("How much the score drops when one feature's values are shuffled (repeated, with the spread).");
            if ui.button("Compute permutation importance").clicked() {
                tx.request(request);
            }
        }
        Some(Slot::Ready(Output::Importance(imp))) => {
            let h = plots::plot_height(state.presentation) * 1.4;
            super::explain_pdp::importance(ui, &imp, h);
        }
        Some(Slot::Failed(err)) => {
            if let Some(key) = key {
                super::slot::failed(ui, tx, &key, &err);
            }
        }
        _ => super::slot::waiting(ui, "shuffling each feature and re-scoring…"),
    }
}

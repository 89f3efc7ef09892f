//! Overview: the workspace's models and datasets, the column-role mapping (validated live
//! against each model's inputs) and a headline table of every model's evaluation.

use eframe::egui::{self, RichText};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::commands::file_name;
use crate::app::state::{Page, Slot, State};
use crate::app::widgets::cards::fmt;
use crate::app::widgets::theme::Palette;
use crate::engine::evaluate::Task;
use crate::engine::workspace::DatasetRole;

/// The Overview page (it keeps no selection of its own: everything it edits is the
/// workspace's).
#[derive(Default)]
pub struct OverviewPage;

impl OverviewPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        egui::ScrollArea::vertical()
            .id_salt("overview_page")
            .auto_shrink(false)
            .show(ui, |ui| overview_ui(ui, ctx, tx));
    }
}

fn overview_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading(&state.workspace.name);
    ui.label(
        RichText::new(
            "Models and datasets of this review, their column roles, and how every model does on the evaluation data.",
        )
        .color(pal.muted),
    );
    ui.add_space(8.0);
    results_table(ui, state, tx);
    ui.add_space(12.0);
    ui.columns(2, |cols| {
        models_ui(&mut cols[0], state, tx);
        datasets_ui(&mut cols[1], state, tx);
    });
    ui.add_space(12.0);
    roles_ui(ui, state, tx);
    ui.add_space(12.0);
    ui.strong(format!("Reviewer notes ({})", state.workspace.notes.len()));
    super::notes::all_notes_ui(ui, state, tx);
}

fn results_table(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.strong("Evaluation summary");
    let entries = state.workspace.models.clone();
    if entries.is_empty() {
        ui.label("No model yet: open an .onnx file (Ctrl+O) or drop it onto the window.");
        return;
    }
    let mut open_eval = None;
    egui::Grid::new("overview_results")
        .striped(true)
        // Rows of one height, spinner or not: a loading row never overlaps the next.
        .min_row_height(24.0)
        .spacing([24.0, 6.0])
        .show(ui, |ui| {
            let second = format!(
                "accuracy at {:.2} / MAE",
                state.workspace.settings.threshold
            );
            for h in [
                "model",
                "task",
                "rows",
                "headline",
                "95% CI",
                second.as_str(),
                "",
            ] {
                ui.label(RichText::new(h).color(pal.muted));
            }
            ui.end_row();
            for (i, entry) in entries.iter().enumerate() {
                ui.label(RichText::new(&entry.label).strong());
                match state.evaluation_all_rows(i) {
                    Some(Slot::Ready(ev)) => {
                        let (task, key, second) = match ev.task {
                            Task::BinaryClassification => ("binary", "roc_auc", "accuracy"),
                            Task::MulticlassClassification => ("multiclass", "roc_auc", "accuracy"),
                            Task::Regression => ("regression", "r2", "mae"),
                        };
                        ui.label(task);
                        ui.label(crate::app::widgets::format::count(ev.n));
                        let name = if key == "r2" { "R²" } else { "ROC AUC" };
                        ui.label(format!("{name} {}", fmt(ev.metrics.get(key))));
                        ui.label(ev.ci.get(key).map_or("—".into(), |[l, h]| {
                            format!("{} – {}", fmt(Some(*l)), fmt(Some(*h)))
                        }));
                        ui.label(fmt(ev.metrics.get(second)));
                        if ui
                            .button("Open")
                            .on_hover_text("Show this model on the Evaluate page")
                            .clicked()
                        {
                            open_eval = Some(i);
                        }
                    }
                    Some(Slot::Loading) => {
                        ui.label("…");
                        ui.spinner();
                        ui.label("evaluating");
                        ui.label("");
                        ui.label("");
                        ui.label("");
                    }
                    Some(Slot::Failed(e)) => {
                        ui.label("—");
                        ui.label("");
                        ui.colored_label(pal.bad, "failed");
                        ui.label("").on_hover_text(e.text.as_str());
                        ui.label(RichText::new(short(&e.text)).color(pal.bad))
                            .on_hover_text(e.text.as_str());
                        ui.label("");
                    }
                    None => {
                        let issues = state.role_issues(i);
                        ui.label("—");
                        ui.label("");
                        // A file that failed to load is named with its Retry, not waited for.
                        let failed = failed_file(state, &entry.path);
                        if let Some((path, what, text)) = &failed {
                            ui.colored_label(pal.bad, format!("{what} failed to load"))
                                .on_hover_text(text.as_str());
                            ui.label(RichText::new(short(text)).color(pal.bad))
                                .on_hover_text(text.as_str());
                            ui.label("");
                            if ui
                                .button("Retry")
                                .on_hover_text(format!("Load {} again", file_name(path)))
                                .clicked()
                            {
                                tx.send(Command::RetryFile(path.clone()));
                            }
                        } else {
                            if issues.is_empty() {
                                ui.label("waiting for files");
                            } else {
                                ui.colored_label(pal.warn, "check the roles below");
                            }
                            ui.label("");
                            ui.label("");
                            ui.label("");
                        }
                    }
                }
                ui.end_row();
            }
        });
    if let Some(i) = open_eval {
        tx.send(Command::SelectModel(i));
        tx.send(Command::Goto(Page::Evaluate));
    }
}

/// The model at `model` or the evaluation data, when its load failed: path, what it is, error.
fn failed_file(
    state: &State,
    model: &std::path::Path,
) -> Option<(std::path::PathBuf, &'static str, String)> {
    if let Some(Slot::Failed(f)) = state.loaded.models.get(model) {
        return Some((model.to_path_buf(), "model", f.text.clone()));
    }
    let data = state.eval_data_path()?;
    match state.loaded.datasets.get(data) {
        Some(Slot::Failed(f)) => Some((data.to_path_buf(), "data", f.text.clone())),
        _ => None,
    }
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        t.push('…');
    }
    t
}

fn models_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.strong("Models");
    let mut remove = None;
    for (i, entry) in state.workspace.models.iter().enumerate() {
        egui::Frame::new()
            .fill(pal.card)
            .corner_radius(6.0)
            .inner_margin(8)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.label(RichText::new(&entry.label).strong());
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .small_button("×")
                            .on_hover_text("Remove from the workspace")
                            .clicked()
                        {
                            remove = Some(i);
                        }
                    });
                });
                match state.loaded.models.get(&entry.path) {
                    Some(Slot::Ready(m)) => {
                        let info = &m.info;
                        ui.label(
                            RichText::new(format!(
                                "{} · {} · {} inputs, {} outputs · sha256 {}…",
                                file_name(&info.path),
                                crate::engine::human_bytes(info.file_size),
                                info.inputs.len(),
                                info.outputs.len(),
                                &info.sha256[..12.min(info.sha256.len())]
                            ))
                            .small()
                            .color(pal.muted),
                        );
                        let producer = format!("{} {}", info.producer_name, info.producer_version);
                        ui.label(
                            RichText::new(format!("producer {producer}"))
                                .small()
                                .color(pal.muted),
                        );
                    }
                    Some(Slot::Loading) | None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(file_name(&entry.path));
                        });
                    }
                    Some(Slot::Failed(e)) => {
                        ui.colored_label(pal.bad, e.text.as_str());
                        if ui
                            .button("Retry")
                            .on_hover_text("Load the model again")
                            .clicked()
                        {
                            tx.send(Command::RetryFile(entry.path.clone()));
                        }
                    }
                }
            });
    }
    if let Some(i) = remove {
        tx.edit(move |ws| {
            if i < ws.models.len() {
                let removed = ws.models.remove(i);
                if ws.settings.focus_model.as_ref() == Some(&removed.label) {
                    ws.settings.focus_model = None;
                }
            }
        });
    }
}

fn datasets_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.strong("Datasets");
    let mut remove = None;
    let mut changed = false;
    let mut datasets = state.workspace.datasets.clone();
    for (i, dataset) in datasets.iter_mut().enumerate() {
        let path = dataset.path.clone();
        egui::Frame::new()
            .fill(pal.card)
            .corner_radius(6.0)
            .inner_margin(8)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    let name = ui.label(RichText::new(file_name(&path)).strong());
                    let role = &mut dataset.role;
                    egui::ComboBox::from_id_salt(("dataset_role", i))
                        .selected_text(role_name(*role))
                        .show_ui(ui, |ui| {
                            for r in [
                                DatasetRole::Evaluation,
                                DatasetRole::Reference,
                                DatasetRole::Current,
                            ] {
                                changed |= ui.selectable_value(role, r, role_name(r)).changed();
                            }
                        })
                        .response
                        .labelled_by(name.id);
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .small_button("×")
                            .on_hover_text("Remove from the workspace")
                            .clicked()
                        {
                            remove = Some(i);
                        }
                    });
                });
                match state.loaded.datasets.get(&path) {
                    Some(Slot::Ready(d)) => {
                        ui.label(
                            RichText::new(format!(
                                "{} rows × {} columns · {} · sha256 {}…",
                                crate::app::widgets::format::count(d.info.rows),
                                d.info.columns.len(),
                                crate::engine::human_bytes(d.info.file_size),
                                &d.info.sha256[..12.min(d.info.sha256.len())]
                            ))
                            .small()
                            .color(pal.muted),
                        );
                    }
                    Some(Slot::Loading) | None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label("loading");
                        });
                    }
                    Some(Slot::Failed(e)) => {
                        ui.colored_label(pal.bad, e.text.as_str());
                        if ui
                            .button("Retry")
                            .on_hover_text("Load the dataset again")
                            .clicked()
                        {
                            tx.send(Command::RetryFile(path.clone()));
                        }
                    }
                }
            });
    }
    if let Some(i) = remove {
        datasets.remove(i);
        changed = true;
    }
    if changed {
        tx.edit(move |ws| ws.datasets = datasets);
    }
}

pub fn role_name(r: DatasetRole) -> &'static str {
    match r {
        DatasetRole::Evaluation => "evaluation",
        DatasetRole::Reference => "reference",
        DatasetRole::Current => "current",
        DatasetRole::Log => "log",
    }
}

/// The column-role editor, with each problem shown next to the role it concerns.
fn roles_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.strong("Column roles (evaluation dataset)");
    let Some(data) = state.eval_data_path().and_then(|p| state.data(p)).cloned() else {
        ui.label("Add an evaluation dataset to map its columns.");
        return;
    };
    let columns: Vec<String> = data.info.columns.iter().map(|c| c.name.clone()).collect();
    let issues: Vec<_> = state
        .workspace
        .models
        .iter()
        .enumerate()
        .flat_map(|(i, m)| {
            state
                .role_issues(i)
                .into_iter()
                .map(move |issue| (m.label.clone(), issue))
        })
        .collect();
    let show_issues = |ui: &mut egui::Ui, role: &str| {
        for (model, issue) in issues.iter().filter(|(_, i)| i.role == role) {
            ui.horizontal(|ui| {
                role_label(ui, "");
                ui.colored_label(pal.bad, format!("{model}: {}", issue.message));
            });
        }
    };
    let mut features_changed = false;
    let mut roles = state.workspace.roles.clone();
    let before = roles.clone();
    let mut models = state.workspace.models.clone();
    // Rows laid out one after the other (not a grid sized from the previous frame), so the
    // wrapped checkboxes push the rows below down instead of lying under them.
    ui.horizontal(|ui| {
        let l = role_label(ui, "Target");
        optional_combo(ui, l.id, "role_target", &mut roles.target, &columns, false);
    });
    show_issues(ui, "target");
    ui.horizontal(|ui| {
        role_label(ui, "Positive class");
        let mut text = roles.positive_class.clone().unwrap_or_default();
        if ui
            .add(egui::TextEdit::singleline(&mut text).desired_width(80.0).hint_text("auto"))
            .on_hover_text("Binary classifiers: the class whose probability is the score (default: the model's metadata, else the second class)")
            .changed()
        {
            roles.positive_class = (!text.trim().is_empty()).then(|| text.trim().to_string());
        }
    });
    show_issues(ui, "positive_class");
    ui.horizontal_top(|ui| {
        role_label(ui, "Sensitive attributes");
        ui.horizontal_wrapped(|ui| {
            ui.set_max_width(ui.available_width().min(760.0));
            // The target is what the model predicts, not a group of people.
            for c in columns.iter().filter(|c| roles.target.as_ref() != Some(*c)) {
                let mut on = roles.sensitive.contains(c);
                if ui.checkbox(&mut on, c).changed() {
                    if on {
                        roles.sensitive.push(c.clone());
                    } else {
                        roles.sensitive.retain(|s| s != c);
                    }
                }
            }
        });
    });
    show_issues(ui, "sensitive");
    ui.horizontal(|ui| {
        let l = role_label(ui, "Row id");
        optional_combo(ui, l.id, "role_id", &mut roles.id, &columns, true);
    });
    show_issues(ui, "id");
    ui.horizontal(|ui| {
        let l = role_label(ui, "Timestamp");
        optional_combo(ui, l.id, "role_ts", &mut roles.timestamp, &columns, true);
    });
    show_issues(ui, "timestamp");
    for (i, m) in models.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            role_label(ui, if i == 0 { "Features" } else { "" });
            let label = ui
                .allocate_ui_with_layout(
                    egui::vec2(170.0, 22.0),
                    egui::Layout::left_to_right(egui::Align::Center),
                    |ui| {
                        ui.set_min_width(170.0);
                        ui.add(egui::Label::new(RichText::new(&m.label).small()).truncate())
                    },
                )
                .inner;
            let mut text = m.features.as_ref().map_or_else(String::new, |f| f.join(", "));
            // As wide as the page allows: a feature list is long.
            let edit = egui::TextEdit::singleline(&mut text)
                .id_salt(("features", i))
                .desired_width((ui.available_width() - 8.0).max(200.0))
                .hint_text("from the model's metadata");
            if ui
                .add(edit)
                .labelled_by(label.id)
                .on_hover_text(if text.is_empty() {
                    "Columns feeding the model's [N, F] input, in order, comma-separated; empty uses the model's `features` metadata".to_string()
                } else {
                    text.clone()
                })
                .changed()
            {
                let list: Vec<String> = text
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect();
                m.features = (!list.is_empty()).then_some(list);
                features_changed = true;
            }
        });
    }
    show_issues(ui, "features");
    if roles != before || features_changed {
        tx.edit(move |ws| {
            ws.roles = roles;
            if features_changed {
                ws.models = models;
            }
        });
    }
}

/// The name of a role, in a column of fixed width.
fn role_label(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(150.0, 22.0),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_width(150.0);
            ui.label(text)
        },
    )
    .inner
}

fn optional_combo(
    ui: &mut egui::Ui,
    label: egui::Id,
    id: &str,
    value: &mut Option<String>,
    columns: &[String],
    allow_none: bool,
) {
    let text = value.clone().unwrap_or_else(|| "(none)".into());
    egui::ComboBox::from_id_salt(id)
        .selected_text(text)
        .width(180.0)
        .show_ui(ui, |ui| {
            if allow_none {
                ui.selectable_value(value, None, "(none)");
            }
            for c in columns {
                ui.selectable_value(value, Some(c.clone()), c);
            }
        })
        .response
        .labelled_by(label);
}

//! Data: pick a dataset, see its schema with roles, scroll a virtualised preview (only the
//! visible rows are drawn, so 1,000,000 rows scroll smoothly; past [`BLOCK_ROWS`] rows the
//! table holds a block of them at a time; a file too large to hold is read a page of rows at a
//! time, as they come into view) and the distribution of the selected column.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::commands::file_name;
use crate::app::state::{Slot, State};
use crate::app::widgets::format;
use crate::app::widgets::plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::PAGE_ROWS;
use crate::engine::data::summary::{cell_text, Distribution};
use polars::prelude::DataFrame;

/// The Data page's selections: the dataset shown, its selected column, the row to scroll to.
#[derive(Default)]
pub struct DataPage {
    /// Index into `workspace.datasets` of the dataset shown.
    pub dataset_index: usize,
    pub selected_column: Option<String>,
    /// A 1-based row the preview should scroll to (consumed when shown).
    pub goto_row: Option<usize>,
    /// The text of the "Go to row" box.
    pub goto_text: String,
    /// The last row jumped to (1-based), highlighted in the preview.
    pub highlight: Option<usize>,
    /// The block of [`BLOCK_ROWS`] rows the preview's table holds (0-based).
    pub block: usize,
}

/// Rows the preview's table holds at once. egui lays rows out in `f32` pixels, which are
/// exact to a pixel only below 2²⁴ px (≈ 930,000 rows of 18 px); past that rows would be
/// drawn up to 16 px off at 10,000,000 rows. 250,000 rows (4.5 Mpx) keep every row within
/// half a pixel; larger data is shown a block at a time, with buttons to the next block.
pub const BLOCK_ROWS: usize = 250_000;

impl DataPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        data_ui(ui, ctx, self, tx);
    }

    /// Shows dataset `dataset` from its 1-based row `row` (another page's jump here).
    pub fn open_row(&mut self, dataset: usize, row: usize) {
        if dataset != self.dataset_index {
            self.selected_column = None;
        }
        self.dataset_index = dataset;
        self.goto_row = Some(row);
    }
}

fn data_ui(ui: &mut egui::Ui, state: &State, page: &mut DataPage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading("Data");
    if state.workspace.datasets.is_empty() {
        ui.label("No dataset yet: open a .csv, .parquet or .arrow file (Ctrl+O) or drop it onto the window.");
        return;
    }
    if page.dataset_index >= state.workspace.datasets.len() {
        page.dataset_index = 0;
    }
    ui.horizontal(|ui| {
        let label = ui.label("Dataset");
        let current = file_name(&state.workspace.datasets[page.dataset_index].path);
        egui::ComboBox::from_id_salt("data_pick")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for (i, d) in state.workspace.datasets.iter().enumerate() {
                    let label = format!(
                        "{} ({})",
                        file_name(&d.path),
                        super::overview::role_name(d.role)
                    );
                    if ui
                        .selectable_label(i == page.dataset_index, label)
                        .clicked()
                    {
                        page.dataset_index = i;
                        page.selected_column = None;
                        page.block = 0;
                    }
                }
            })
            .response
            .labelled_by(label.id);
    });
    let path = state.workspace.datasets[page.dataset_index].path.clone();
    let data = match state.loaded.datasets.get(&path) {
        Some(Slot::Ready(d)) => d.clone(),
        Some(Slot::Failed(e)) => {
            ui.colored_label(pal.bad, e.text.as_str());
            if ui
                .button("Retry")
                .on_hover_text("Load the dataset again")
                .clicked()
            {
                tx.send(Command::RetryFile(path.clone()));
            }
            return;
        }
        _ => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("loading {}", file_name(&path)));
            });
            return;
        }
    };
    let info = &data.info;
    ui.label(
        RichText::new(format!(
            "{} rows × {} columns · {} · sha256 {}",
            format::count(info.rows),
            info.columns.len(),
            crate::engine::human_bytes(info.file_size),
            info.sha256
        ))
        .small()
        .color(pal.muted),
    );
    ui.add_space(6.0);
    let roles = state.workspace.roles.clone();
    let role_of = |c: &str| -> String {
        let models = &state.workspace.models;
        let mut r = Vec::new();
        if roles.target.as_deref() == Some(c) {
            r.push("target");
        }
        if roles.sensitive.iter().any(|s| s == c) {
            r.push("sensitive");
        }
        if roles.id.as_deref() == Some(c) {
            r.push("id");
        }
        if roles.timestamp.as_deref() == Some(c) {
            r.push("timestamp");
        }
        if r.is_empty()
            && models.iter().any(|m| {
                m.features
                    .as_ref()
                    .is_some_and(|f| f.iter().any(|x| x == c))
            })
        {
            r.push("feature");
        }
        r.join(", ")
    };
    let role_text: Vec<String> = info.columns.iter().map(|c| role_of(&c.name)).collect();
    // Schema and the selected column's distribution side by side; the preview below, across
    // the whole width so its columns show.
    let h = ui.available_height();
    let top_h = (h * 0.55).max(200.0);
    ui.horizontal_top(|ui| {
        ui.set_height(top_h);
        ui.vertical(|ui| {
            ui.set_width(ui.available_width() * 0.55);
            ui.strong("Schema");
            ui.push_id("schema", |ui| {
                // The whole row selects, its text included.
                ui.style_mut().interaction.selectable_labels = false;
                TableBuilder::new(ui)
                    .striped(true)
                    .max_scroll_height(top_h - 50.0)
                    .sense(egui::Sense::click())
                    .column(Column::auto().at_least(120.0))
                    .columns(Column::auto().at_least(56.0), 7)
                    .header(20.0, |mut header| {
                        for t in [
                            "column", "dtype", "role", "missing", "unique", "min", "max", "mean",
                        ] {
                            header.col(|ui| {
                                ui.strong(t);
                            });
                        }
                    })
                    .body(|body| {
                        body.rows(20.0, info.columns.len(), |mut row| {
                            let ri = row.index();
                            let c = &info.columns[ri];
                            let selected = page.selected_column.as_deref() == Some(c.name.as_str());
                            row.set_selected(selected);
                            row.col(|ui| {
                                ui.label(&c.name);
                            });
                            row.col(|ui| {
                                ui.label(RichText::new(&c.dtype).color(pal.muted));
                            });
                            row.col(|ui| {
                                ui.label(&role_text[ri]);
                            });
                            row.col(|ui| {
                                if c.missing > 0 {
                                    ui.colored_label(pal.warn, format::count(c.missing));
                                } else {
                                    ui.label("0");
                                }
                            });
                            row.col(|ui| {
                                ui.label(c.unique.map_or("—".into(), format::count));
                            });
                            for v in [c.min, c.max, c.mean] {
                                row.col(|ui| {
                                    ui.label(format::num(v));
                                });
                            }
                            if row.response().clicked() {
                                page.selected_column = Some(c.name.clone());
                            }
                        });
                    });
            });
        });
        ui.separator();
        ui.vertical(|ui| {
            column_ui(ui, state, page, tx, &path, top_h - 60.0);
        });
    });
    ui.add_space(8.0);
    let blocks = info.rows.div_ceil(BLOCK_ROWS).max(1);
    // A row jumped to is highlighted and scrolled to; a block button only scrolls.
    let goto = page.goto_row.take();
    if let Some(r) = goto {
        page.block = r.saturating_sub(1) / BLOCK_ROWS;
        page.highlight = Some(r);
    }
    let mut scroll = goto;
    page.block = page.block.min(blocks - 1);
    ui.horizontal(|ui| {
        ui.strong(format!("Preview ({} rows)", format::count(info.rows)));
        if blocks > 1 {
            let base = page.block * BLOCK_ROWS;
            let end = (base + BLOCK_ROWS).min(info.rows);
            if ui
                .add_enabled(page.block > 0, egui::Button::new("Previous rows"))
                .on_hover_text("The block of rows before these")
                .clicked()
            {
                page.block -= 1;
                scroll = Some(base);
            }
            ui.label(format!(
                "rows {}–{}",
                format::count(base + 1),
                format::count(end)
            ));
            if ui
                .add_enabled(page.block + 1 < blocks, egui::Button::new("Next rows"))
                .on_hover_text("The block of rows after these")
                .clicked()
            {
                page.block += 1;
                scroll = Some(end + 1);
            }
        }
        let label = ui.label("Go to row");
        let resp = ui
            .add(egui::TextEdit::singleline(&mut page.goto_text).desired_width(80.0))
            .labelled_by(label.id);
        if resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            // Out-of-range or non-numeric input clamps to the nearest row.
            let r = page.goto_text.trim().parse::<usize>().unwrap_or(1);
            page.goto_row = Some(r.clamp(1, info.rows));
        }
    });
    let highlight = page.highlight;
    let base = page.block * BLOCK_ROWS;
    let shown = (info.rows - base.min(info.rows)).min(BLOCK_ROWS);
    ui.push_id("preview", |ui| {
        let cols = info.columns.len();
        egui::ScrollArea::horizontal().show(ui, |ui| {
            let mut table = TableBuilder::new(ui).striped(true);
            if let Some(r) = scroll {
                let row = r
                    .saturating_sub(1)
                    .saturating_sub(base)
                    .min(shown.saturating_sub(1));
                table = table.scroll_to_row(row, Some(egui::Align::Center));
            }
            table
                .column(Column::exact(64.0))
                .columns(Column::auto().at_least(70.0).clip(true), cols)
                .header(20.0, |mut header| {
                    header.col(|ui| {
                        ui.label(RichText::new("row").color(pal.muted));
                    });
                    for c in &info.columns {
                        header.col(|ui| {
                            ui.strong(&c.name);
                        });
                    }
                })
                .body(|body| {
                    body.rows(18.0, shown, |mut row| {
                        let i = base + row.index();
                        row.set_selected(highlight == Some(i + 1));
                        row.col(|ui| {
                            ui.label(RichText::new((i + 1).to_string()).color(pal.muted));
                        });
                        let cells = match data.in_memory() {
                            Some(ds) => Cells::Held(&ds.df, i),
                            None => {
                                let page = i / PAGE_ROWS;
                                match state.pages.get(&(path.clone(), page)) {
                                    Some(Slot::Ready(df)) => Cells::Held(df, i % PAGE_ROWS),
                                    Some(Slot::Failed(_)) => Cells::Failed,
                                    Some(Slot::Loading) => Cells::Reading,
                                    None => {
                                        tx.send(Command::ReadPage {
                                            path: path.clone(),
                                            page,
                                        });
                                        Cells::Reading
                                    }
                                }
                            }
                        };
                        for j in 0..cols {
                            row.col(|ui| match cells {
                                Cells::Held(df, r) => {
                                    ui.label(cell_text(df, r, j));
                                }
                                Cells::Reading => {
                                    ui.label(RichText::new("…").color(pal.muted));
                                }
                                Cells::Failed => {
                                    ui.label(RichText::new("unreadable").color(pal.bad));
                                }
                            });
                        }
                    });
                });
        });
    });
}

/// The cells of one preview row: a frame held and the row's index in it, or its page being
/// read (or failed to read) from a file too large to hold.
#[derive(Clone, Copy)]
enum Cells<'a> {
    Held(&'a DataFrame, usize),
    Reading,
    Failed,
}

fn column_ui(
    ui: &mut egui::Ui,
    state: &State,
    page: &DataPage,
    tx: &CommandSender,
    path: &std::path::Path,
    max_h: f32,
) {
    let pal = Palette::of(ui);
    let Some(column) = page.selected_column.clone() else {
        ui.label(
            RichText::new("Select a column in the schema to see its distribution.")
                .color(pal.muted),
        );
        return;
    };
    ui.strong(&column);
    if !state
        .distributions
        .contains_key(&(path.to_path_buf(), column.clone()))
    {
        tx.send(Command::Distribution {
            path: path.to_path_buf(),
            column: column.clone(),
        });
    }
    let h = plots::plot_height(state.presentation).min(max_h.max(120.0));
    match state
        .distributions
        .get(&(path.to_path_buf(), column.clone()))
    {
        Some(Slot::Ready(d)) => match d.as_ref() {
            Distribution::Numeric {
                edges,
                counts,
                missing,
            } => {
                plots::histogram(
                    ui,
                    "col_hist",
                    &[("rows", counts, pal.series[0])],
                    edges,
                    (&column, "rows"),
                    None,
                    h,
                );
                ui.label(
                    RichText::new(format!("{missing} missing or non-finite"))
                        .small()
                        .color(pal.muted),
                );
            }
            Distribution::Categorical {
                categories,
                other,
                missing,
            } => {
                plots::category_bars(ui, "col_bars", categories, h);
                ui.label(
                    RichText::new(format!(
                        "{other} rows in other categories · {missing} missing"
                    ))
                    .small()
                    .color(pal.muted),
                );
            }
        },
        Some(Slot::Failed(e)) => {
            ui.colored_label(pal.bad, e.text.as_str());
        }
        _ => {
            ui.spinner();
        }
    }
}

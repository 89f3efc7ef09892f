//! The Monitor page's drawing: a monitoring result (`engine::monitor::MonitorReport`, the
//! same one `assay monitor --json` writes) over time — estimated (CBPE, no labels) and
//! realized performance per chunk with the threshold band and the alerts marked, drift per
//! column and chunk as a heat map (columns that drift in alerting chunks first: the ones that
//! may explain a drop), and data quality per chunk. It draws only; a clicked chunk is left in
//! [`MonitorPage::clicked`] for the caller (open its rows on the Data page, its drift on the
//! Drift page).

use eframe::egui::{self, Color32, RichText, Sense};
use egui_plot::{Line, LineStyle, Plot, PlotPoints, Points, Polygon, VLine};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::commands;
use crate::app::state::State;
use crate::app::widgets::format;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Output, RowFilter};
use crate::engine::monitor::{Chunk, ChunkPeriod, MonitorReport};
use crate::engine::workspace::DatasetRole;

/// The Monitor page's choices: metric, reference chunks shown, chunk selected.
#[derive(Debug, Clone, Default)]
pub struct MonitorPage {
    /// The metric shown (`None`: the report's first).
    pub metric: Option<String>,
    /// Show the reference chunks left of the log's.
    pub show_reference: bool,
    /// The chunk selected (index into `report.chunks`).
    pub selected: Option<usize>,
    /// A chunk clicked this frame (index into `report.chunks`), for the caller to act on.
    pub clicked: Option<usize>,
}

impl MonitorPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        monitor_ui(ui, ctx, self, tx);
    }
}

fn metric_label(m: &str) -> String {
    match m {
        "roc_auc" => "ROC AUC".into(),
        other => other.replace('_', " "),
    }
}

fn chunk_time(c: &Chunk) -> String {
    c.span_label()
}

/// Draws the page for `report`.
pub fn show(ui: &mut egui::Ui, report: &MonitorReport, ui_state: &mut MonitorPage) {
    ui_state.clicked = None;
    let pal = Palette::of(ui);
    ui.label(
        RichText::new(format!(
            "{} · {} rows in {} chunks ({} labelled) against {} ({} rows in {} chunks)",
            commands::file_name(&report.analysis.path),
            report.analysis.rows,
            report.analysis.chunks,
            report.analysis.labelled_rows,
            commands::file_name(&report.reference.path),
            report.reference.rows,
            report.reference.chunks
        ))
        .color(pal.muted),
    );
    ui.horizontal(|ui| {
        if report.alerts.is_empty() {
            ui.label(RichText::new("No alerts").color(pal.good).strong());
        } else {
            ui.label(
                RichText::new(format!("{} alerts", report.alerts.len()))
                    .color(pal.bad)
                    .strong(),
            );
        }
        let current = ui_state
            .metric
            .clone()
            .filter(|m| report.metrics.contains(m))
            .or_else(|| report.metrics.first().cloned())
            .unwrap_or_default();
        egui::ComboBox::from_label("metric")
            .selected_text(metric_label(&current))
            .show_ui(ui, |ui| {
                for m in &report.metrics {
                    if ui
                        .selectable_label(*m == current, metric_label(m))
                        .clicked()
                    {
                        ui_state.metric = Some(m.clone());
                    }
                }
            });
        ui.checkbox(&mut ui_state.show_reference, "reference chunks");
    });
    for w in &report.warnings {
        ui.label(RichText::new(format!("Warning: {w}")).color(pal.warn));
    }
    let metric = ui_state
        .metric
        .clone()
        .filter(|m| report.metrics.contains(m))
        .or_else(|| report.metrics.first().cloned());
    if let Some(m) = metric {
        performance_plot(ui, report, &m, ui_state, &pal);
    }
    if let Some(i) = ui_state.selected {
        if let Some(c) = report.chunks.get(i) {
            ui.label(format!(
                "Selected chunk {} ({}), {} rows, {} labelled",
                c.key,
                chunk_time(c),
                c.rows,
                c.labelled_rows
            ));
        }
    }
    ui.add_space(8.0);
    ui.heading("Drift per column and chunk");
    drift_heat_map(ui, report, ui_state, &pal);
    ui.add_space(8.0);
    ui.heading("Data quality per chunk");
    quality_table(ui, report);
}

fn visible(report: &MonitorReport, ui_state: &MonitorPage) -> Vec<usize> {
    report
        .chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| ui_state.show_reference || c.period == ChunkPeriod::Analysis)
        .map(|(i, _)| i)
        .collect()
}

fn performance_plot(
    ui: &mut egui::Ui,
    report: &MonitorReport,
    metric: &str,
    ui_state: &mut MonitorPage,
    pal: &Palette,
) {
    let idx = visible(report, ui_state);
    if idx.is_empty() {
        return;
    }
    let series = |realized: bool| -> Vec<[f64; 2]> {
        idx.iter()
            .filter_map(|&i| {
                let c = &report.chunks[i];
                let side = if realized { &c.realized } else { &c.estimated };
                side.get(metric)?.value.map(|v| [i as f64, v])
            })
            .collect()
    };
    let alerts: Vec<[f64; 2]> = idx
        .iter()
        .flat_map(|&i| {
            let c = &report.chunks[i];
            [&c.estimated, &c.realized]
                .into_iter()
                .filter_map(move |side| {
                    let r = side.get(metric)?;
                    r.alert.then_some([i as f64, r.value?])
                })
        })
        .collect();
    let (x0, x1) = (
        idx.first().copied().unwrap_or(0) as f64 - 0.5,
        idx.last().copied().unwrap_or(0) as f64 + 0.5,
    );
    let th = report.reference.thresholds.get(metric);
    let band = th.and_then(|t| Some((t.lower?, t.upper?)));
    let start = report
        .chunks
        .iter()
        .position(|c| c.period == ChunkPeriod::Analysis);
    let names: Vec<String> = report.chunks.iter().map(chunk_time).collect();
    let resp = Plot::new("monitor_performance")
        .height(260.0)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .custom_x_axes(vec![crate::app::widgets::plots::x_axis("chunk")])
        .custom_y_axes(vec![crate::app::widgets::plots::y_axis(&metric_label(
            metric,
        ))])
        .x_grid_spacer(crate::app::widgets::plots::nice_grid)
        .y_grid_spacer(crate::app::widgets::plots::nice_grid)
        .label_formatter(crate::app::widgets::plots::hover_by_index(names))
        .show(ui, |p| {
            if let Some((lo, hi)) = band {
                p.add(
                    Polygon::new(
                        "thresholds",
                        PlotPoints::from(vec![[x0, lo], [x1, lo], [x1, hi], [x0, hi]]),
                    )
                    .fill_color(pal.good.gamma_multiply(0.12))
                    .allow_hover(false),
                );
            }
            if let (Some(s), true) = (start, ui_state.show_reference) {
                p.add(
                    VLine::new("log starts", s as f64 - 0.5)
                        .color(pal.muted)
                        .style(LineStyle::dashed_loose()),
                );
            }
            p.add(
                Line::new("estimated", PlotPoints::from(series(false)))
                    .color(pal.series[0])
                    .width(2.0),
            );
            p.add(
                Line::new("realized", PlotPoints::from(series(true)))
                    .color(pal.series[1])
                    .width(2.0),
            );
            p.add(
                Points::new("alert", PlotPoints::from(alerts))
                    .color(pal.bad)
                    .radius(5.0),
            );
            p.pointer_coordinate()
        });
    // The key below the plot, never over the lines.
    ui.horizontal_wrapped(|ui| {
        let key = |ui: &mut egui::Ui, colour: Color32, mark: &str, text: &str| {
            ui.label(RichText::new(mark).color(colour).strong());
            ui.label(RichText::new(text).small());
        };
        key(ui, pal.series[0], "estimated", "from the scores");
        key(ui, pal.series[1], "realized", "from the labelled rows");
        key(ui, pal.bad, "dots", "alerts");
        if band.is_some() {
            key(ui, pal.good, "band", "thresholds from the reference");
        }
        if ui_state.show_reference && start.is_some() {
            key(ui, pal.muted, "dashed line", "log starts");
        }
    });
    if resp.response.clicked() {
        if let Some(pt) = resp.inner {
            let i = pt.x.round();
            if i >= 0.0 && (i as usize) < report.chunks.len() {
                ui_state.selected = Some(i as usize);
                ui_state.clicked = Some(i as usize);
            }
        }
    }
}

/// Columns ordered by how often they drift in chunks with a performance alert, then in all
/// log chunks.
fn drift_columns(report: &MonitorReport) -> Vec<String> {
    let alerting: Vec<usize> = report.alerts.iter().map(|a| a.chunk).collect();
    let mut cols: Vec<(String, usize, usize)> = Vec::new();
    for c in report.chunks.iter().filter(|c| c.drift.is_some()) {
        for d in c.drift.iter().flat_map(|d| d.columns.iter()) {
            let pos = match cols.iter().position(|x| x.0 == d.column) {
                Some(p) => p,
                None => {
                    cols.push((d.column.clone(), 0, 0));
                    cols.len() - 1
                }
            };
            if d.drifted {
                cols[pos].2 += 1;
                if alerting.contains(&c.index) {
                    cols[pos].1 += 1;
                }
            }
        }
    }
    cols.sort_by_key(|c| std::cmp::Reverse((c.1, c.2)));
    cols.into_iter().map(|c| c.0).collect()
}

fn drift_heat_map(
    ui: &mut egui::Ui,
    report: &MonitorReport,
    ui_state: &mut MonitorPage,
    pal: &Palette,
) {
    let chunks: Vec<&Chunk> = report
        .chunks
        .iter()
        .filter(|c| c.period == ChunkPeriod::Analysis && c.drift.is_some())
        .collect();
    let cols = drift_columns(report);
    if chunks.is_empty() || cols.is_empty() {
        ui.label(RichText::new("No drift per chunk in this result.").color(pal.muted));
        return;
    }
    let label_w = 150.0;
    let cell_w = ((ui.available_width() - label_w) / chunks.len() as f32).clamp(14.0, 60.0);
    let cell_h = 18.0;
    let size = egui::vec2(
        label_w + cell_w * chunks.len() as f32,
        cell_h * cols.len() as f32 + 4.0,
    );
    let (rect, resp) = ui.allocate_exact_size(size, Sense::click());
    let painter = ui.painter_at(rect);
    let small = egui::TextStyle::Small.resolve(ui.style());
    let text = ui.visuals().text_color();
    let mut hover: Option<String> = None;
    for (r, col) in cols.iter().enumerate() {
        let y = rect.top() + r as f32 * cell_h;
        painter.text(
            egui::pos2(rect.left() + label_w - 6.0, y + cell_h / 2.0),
            egui::Align2::RIGHT_CENTER,
            col,
            small.clone(),
            text,
        );
        for (k, c) in chunks.iter().enumerate() {
            let cell = egui::Rect::from_min_size(
                egui::pos2(rect.left() + label_w + k as f32 * cell_w, y),
                egui::vec2(cell_w - 1.0, cell_h - 1.0),
            );
            let d = c
                .drift
                .as_ref()
                .and_then(|d| d.columns.iter().find(|x| &x.column == col));
            let fill = match d {
                None => Color32::TRANSPARENT,
                Some(d) if d.drifted => pal.bad,
                Some(d) => {
                    // Closeness to the threshold, 0 (far) … 1 (at it).
                    let t = match (d.value, d.is_p_value) {
                        (Some(v), true) => (d.threshold / v.max(1e-300)).clamp(0.0, 1.0),
                        (Some(v), false) => (v / d.threshold.max(1e-300)).clamp(0.0, 1.0),
                        (None, _) => 0.0,
                    };
                    pal.warn.gamma_multiply(0.15 + 0.5 * t as f32)
                }
            };
            painter.rect_filled(cell, 1.0, fill);
            if ui_state.selected == Some(c.index) {
                painter.rect_stroke(
                    cell,
                    1.0,
                    egui::Stroke::new(1.5, text),
                    egui::StrokeKind::Inside,
                );
            }
            if let (Some(p), Some(d)) = (resp.hover_pos(), d) {
                if cell.contains(p) {
                    hover = Some(format!(
                        "{col}, chunk {} ({})\n{:?} {} {} (threshold {}){}\nmissing {}, unseen {}",
                        c.key,
                        chunk_time(c),
                        d.method,
                        if d.is_p_value { "p-value" } else { "distance" },
                        if d.is_p_value {
                            format::p_value(d.value)
                        } else {
                            format::num(d.value)
                        },
                        format::num(Some(d.threshold)),
                        if d.drifted { ": drifted" } else { "" },
                        format::count(d.missing),
                        format::count(d.unseen)
                    ));
                }
                if resp.clicked() && cell.contains(p) {
                    ui_state.selected = Some(c.index);
                    ui_state.clicked = Some(c.index);
                }
            }
        }
    }
    if let Some(h) = hover {
        resp.on_hover_text(h);
    }
    // What the colours mean, below the map.
    ui.horizontal_wrapped(|ui| {
        let swatch = |ui: &mut egui::Ui, fill: Color32, text: &str| {
            let (r, _) = ui.allocate_exact_size(egui::vec2(16.0, 11.0), Sense::hover());
            ui.painter().rect_filled(r, 1.0, fill);
            ui.label(RichText::new(text).small());
        };
        swatch(ui, pal.bad, "drifted (past its threshold)");
        swatch(ui, pal.warn.gamma_multiply(0.65), "close to its threshold");
        swatch(ui, pal.warn.gamma_multiply(0.15), "far from it");
        ui.label(
            RichText::new("· hover a cell for its statistic, click it to select the chunk")
                .small()
                .color(pal.muted),
        );
    });
}

fn quality_table(ui: &mut egui::Ui, report: &MonitorReport) {
    egui::Grid::new("monitor_quality")
        .striped(true)
        .num_columns(7)
        .show(ui, |ui| {
            for h in [
                "chunk",
                "time",
                "rows",
                "labelled",
                "missing values",
                "unseen values",
                "reconstruction error",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for c in report
                .chunks
                .iter()
                .filter(|c| c.period == ChunkPeriod::Analysis)
            {
                let (missing, unseen) = c.drift.as_ref().map_or((0, 0), |d| {
                    d.columns
                        .iter()
                        .fold((0, 0), |(m, u), x| (m + x.missing, u + x.unseen))
                });
                ui.label(&c.key);
                ui.label(chunk_time(c));
                ui.label(c.rows.to_string());
                ui.label(c.labelled_rows.to_string());
                ui.label(missing.to_string());
                ui.label(unseen.to_string());
                match c.drift.as_ref().and_then(|d| d.multivariate.as_ref()) {
                    Some(mv) => {
                        let t = mv.value.map_or_else(|| "–".into(), |v| format!("{v:.4}"));
                        if mv.alert {
                            ui.label(RichText::new(format!("{t} (alert)")).strong());
                        } else {
                            ui.label(t);
                        }
                    }
                    None => {
                        ui.label("–");
                    }
                }
                ui.end_row();
            }
        });
}

/// The Monitor page: the workspace's prediction log (dataset role `log`) against the labelled
/// evaluation data, through the engine's planner (the same analysis `assay monitor
/// --workspace` runs). A selected log chunk's rows open on the Data page.
fn monitor_ui(ui: &mut egui::Ui, state: &State, ui_state: &mut MonitorPage, tx: &CommandSender) {
    ui.heading("Monitor");
    if state.workspace.dataset(DatasetRole::Log).is_none() {
        ui.label(
            "Monitoring reads a prediction log (timestamp, logged scores and/or the features) \
             against the labelled evaluation data: add a dataset with the role `log` on the \
             Overview page.",
        );
        return;
    }
    if state.workspace.roles.target.is_none() {
        ui.label("Monitoring needs the target column of the evaluation data: set it on the Overview page.");
        return;
    }
    let request = state.planner().monitor();
    let Some(Output::Monitor(report)) = super::slot::ready(
        ui,
        state,
        tx,
        request,
        "estimating performance per chunk… (cancel in the status bar)",
    ) else {
        return;
    };
    let mut open_rows = None;
    let mut show_drift = None;
    egui::ScrollArea::vertical()
        .id_salt("monitor_page")
        .auto_shrink(false)
        .show(ui, |ui| {
            let selected = ui_state.selected.and_then(|i| report.chunks.get(i));
            if let Some(chunk) = selected.filter(|c| c.period == ChunkPeriod::Analysis) {
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "Selected: chunk {} ({})",
                        chunk.index,
                        chunk_time(chunk)
                    ));
                    if ui
                        .button("Open its rows on the Data page")
                        .on_hover_text("Shows the log from the chunk's first row")
                        .clicked()
                    {
                        open_rows = Some(chunk.start_index + 1);
                    }
                    if ui
                        .button("Show its drift on the Drift page")
                        .on_hover_text("The reference against this chunk's rows, column by column")
                        .clicked()
                    {
                        show_drift = Some(chunk.clone());
                    }
                });
            }
            show(ui, &report, ui_state);
        });
    ui_state.clicked = None;
    let log = state
        .workspace
        .datasets
        .iter()
        .position(|d| d.role == DatasetRole::Log);
    if let (Some(row), Some(dataset)) = (open_rows, log) {
        tx.send(Command::OpenRow { dataset, row });
    }
    if let (Some(chunk), Some(log)) = (show_drift, log) {
        let path = &state.workspace.datasets[log].path;
        let Some(data) = state.data(path) else {
            return;
        };
        tx.send(Command::ShowDriftRows {
            rows: RowFilter {
                label: format!("chunk {} ({})", chunk.index, chunk_time(&chunk)),
                data_sha: data.sha256().to_string(),
                rows: std::sync::Arc::new(
                    (chunk.start_index as u32..=chunk.end_index as u32).collect(),
                ),
            },
        });
    }
}

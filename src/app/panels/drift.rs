//! Drift: reference vs current per column (sorted by drift, with sparkline histograms), the
//! selected column's overlaid distributions, statistics and drift over time, and the data
//! quality summary with links to the offending rows. Everything comes from `engine::drift`.

use crate::engine::report::notes::Finding;
use eframe::egui::{self, RichText, Sense};
use egui_extras::{Column, TableBuilder};
use egui_plot::{HLine, Legend, Line, Plot, PlotPoints, Points};

use crate::app::command::{CommandSender, PageCtx};
use crate::app::commands::file_name;
use crate::app::state::State;
use crate::app::widgets::cards::fmt;
use crate::app::widgets::format;
use crate::app::widgets::plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Output, RowFilter};
use crate::engine::drift::binning::Histogram;
use crate::engine::drift::{ColumnDrift, DriftReport};
use crate::engine::workspace::DatasetRole;

/// The Drift page's selections: the column shown in detail, and the rows compared with the
/// reference instead of the current dataset (a monitoring chunk, from the Monitor page).
#[derive(Default)]
pub struct DriftPage {
    pub column: Option<String>,
    pub rows: Option<RowFilter>,
}

impl DriftPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        drift_ui(ui, ctx, self, tx);
    }
}

fn drift_ui(ui: &mut egui::Ui, state: &State, page: &mut DriftPage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.heading("Drift");
    let request = match page.rows.clone() {
        Some(rows) => {
            let mut back = false;
            ui.horizontal(|ui| {
                let reference = state
                    .eval_data_path()
                    .map_or_else(|| "the evaluation data".into(), file_name);
                ui.label(
                    RichText::new(format!(
                        "{reference} (monitoring reference) vs {} of the log",
                        rows.label
                    ))
                    .strong()
                    .color(pal.warn),
                );
                back = ui.button("Back to reference vs current").clicked();
            });
            if back {
                page.rows = None;
                page.column = None;
                return;
            }
            state.planner().drift_rows(&rows)
        }
        None => {
            let (Some(r), Some(c)) = (
                state
                    .workspace
                    .dataset(DatasetRole::Reference)
                    .map(|d| d.path.clone()),
                state
                    .workspace
                    .dataset(DatasetRole::Current)
                    .map(|d| d.path.clone()),
            ) else {
                ui.label("Drift compares a reference dataset (usually the training data) with a current one: mark one dataset of each role on the Overview page.");
                return;
            };
            ui.horizontal(|ui| {
                ui.label(format!("{} (reference) vs {} (current)", file_name(&r), file_name(&c)));
                let label = state
                    .selected_model()
                    .map_or_else(|| "the selected model".to_string(), |m| m.label.clone());
                let mut with_model = state.workspace.settings.drift_with_model;
                if ui
                    .checkbox(&mut with_model, format!("include predictions of {label}"))
                    .on_hover_text("Runs the model on both datasets and adds a `prediction` column (choose the model on the Evaluate page)")
                    .changed()
                {
                    tx.edit(move |ws| ws.settings.drift_with_model = with_model);
                }
            });
            state.planner().drift()
        }
    };
    let Some(Output::Drift(report)) = super::slot::ready(
        ui,
        state,
        tx,
        request,
        "comparing every column… (cancel in the status bar)",
    ) else {
        return;
    };
    let verdict = if report.dataset_drift {
        RichText::new("Dataset drift detected")
            .color(pal.bad)
            .strong()
    } else {
        RichText::new("No dataset drift").color(pal.good).strong()
    };
    ui.horizontal(|ui| {
        ui.label(verdict);
        ui.label(format!(
            "{} of {} columns drifted (share {:.2}; dataset drift when ≥ {:.2}) · reference {} rows, current {} rows",
            report.n_drifted,
            report.columns.len(),
            report.share_drifted,
            report.drift_share,
            format::count(report.reference.rows),
            format::count(report.current.rows)
        ));
    });
    ui.label(
        RichText::new("Methods and thresholds per column as Evidently's DataDriftPreset chooses them; p-values come with an effect size, because large samples flag trivial shifts.")
            .small()
            .color(pal.muted),
    );
    for w in &report.warnings {
        ui.colored_label(pal.warn, w);
    }
    let order = report.most_drifted_first();
    if page
        .column
        .as_ref()
        .is_none_or(|n| !report.columns.iter().any(|c| &c.name == n))
    {
        page.column = order.first().map(|&i| report.columns[i].name.clone());
    }
    let findings = order
        .iter()
        .map(|&i| Finding::DriftColumn {
            column: report.columns[i].name.clone(),
        })
        .collect();
    super::notes::notes_bar(ui, state, tx, findings);
    let avail = ui.available_height();
    ui.horizontal_top(|ui| {
        ui.vertical(|ui| {
            ui.set_width(ui.available_width() * 0.5);
            columns_table(ui, page, &report, &order, avail * 0.55);
            ui.add_space(8.0);
            egui::ScrollArea::vertical()
                .id_salt("quality")
                .show(ui, |ui| {
                    super::drift_quality::quality_ui(ui, state, tx, page.rows.as_ref(), &report)
                });
        });
        ui.separator();
        ui.vertical(|ui| {
            egui::ScrollArea::vertical()
                .id_salt("drift_detail")
                .show(ui, |ui| {
                    if let Some(col) = page
                        .column
                        .clone()
                        .and_then(|n| report.columns.iter().find(|c| c.name == n))
                    {
                        column_detail(ui, state, &report, col);
                    }
                });
        });
    });
}

fn columns_table(
    ui: &mut egui::Ui,
    page: &mut DriftPage,
    report: &DriftReport,
    order: &[usize],
    h: f32,
) {
    let pal = Palette::of(ui);
    ui.push_id("drift_cols", |ui| {
        // The whole row selects, its text included.
        ui.style_mut().interaction.selectable_labels = false;
        TableBuilder::new(ui)
            .striped(true)
            .sense(Sense::click())
            .max_scroll_height(h)
            .column(Column::auto().at_least(110.0))
            .column(Column::exact(70.0))
            .columns(Column::auto().at_least(64.0), 5)
            .header(20.0, |mut hd| {
                for t in [
                    "column",
                    "distribution",
                    "method",
                    "value",
                    "threshold",
                    "effect",
                    "drift",
                ] {
                    hd.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(24.0, order.len(), |mut row| {
                    let c = &report.columns[order[row.index()]];
                    row.set_selected(page.column.as_deref() == Some(c.name.as_str()));
                    row.col(|ui| {
                        ui.label(&c.name);
                    });
                    row.col(|ui| sparkline(ui, &c.histogram));
                    row.col(|ui| {
                        ui.label(format!("{:?}", c.method).to_lowercase());
                    });
                    row.col(|ui| {
                        let v = c.p_value.or(c.statistic);
                        let text = match c.p_value {
                            Some(p) => format!("p {}", fmt_p(p)),
                            None => fmt(v),
                        };
                        ui.label(text);
                    });
                    row.col(|ui| {
                        ui.label(format!("{}", c.threshold));
                    });
                    row.col(|ui| {
                        ui.label(fmt(c.effect_size.value))
                            .on_hover_text(c.effect_size.measure);
                    });
                    row.col(|ui| {
                        if c.drifted {
                            ui.colored_label(pal.bad, RichText::new("drifted").strong());
                        } else {
                            ui.colored_label(pal.good, "stable");
                        }
                    });
                    if row.response().clicked() {
                        page.column = Some(c.name.clone());
                    }
                });
            });
    });
}

fn fmt_p(p: f64) -> String {
    format::p_value(Some(p))
}

/// A tiny overlay of reference (grey) and current (accent) shares.
fn sparkline(ui: &mut egui::Ui, h: &Histogram) {
    let pal = Palette::of(ui);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(64.0, 18.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let (r, c) = match h {
        Histogram::Numeric {
            reference, current, ..
        }
        | Histogram::Categorical {
            reference, current, ..
        } => (reference, current),
    };
    let share = |v: &[u64]| -> Vec<f32> {
        let t: u64 = v.iter().sum();
        v.iter()
            .map(|&x| if t > 0 { x as f32 / t as f32 } else { 0.0 })
            .collect()
    };
    let (rs, cs) = (share(r), share(c));
    let max = rs
        .iter()
        .chain(&cs)
        .copied()
        .fold(0.0f32, f32::max)
        .max(1e-6);
    let n = rs.len().max(1) as f32;
    let w = rect.width() / n;
    for (i, (a, b)) in rs.iter().zip(&cs).enumerate() {
        let x = rect.left() + w * i as f32;
        let ha = rect.height() * a / max;
        let hb = rect.height() * b / max;
        painter.rect_filled(
            egui::Rect::from_min_max(
                egui::pos2(x, rect.bottom() - ha),
                egui::pos2(x + w * 0.5, rect.bottom()),
            ),
            0.0,
            pal.muted,
        );
        painter.rect_filled(
            egui::Rect::from_min_max(
                egui::pos2(x + w * 0.5, rect.bottom() - hb),
                egui::pos2(x + w, rect.bottom()),
            ),
            0.0,
            pal.accent,
        );
    }
}

fn column_detail(ui: &mut egui::Ui, state: &State, report: &DriftReport, c: &ColumnDrift) {
    let pal = Palette::of(ui);
    let h = plots::plot_height(state.presentation);
    ui.strong(format!("{} ({:?}, {:?})", c.name, c.kind, c.role).to_lowercase());
    match &c.histogram {
        Histogram::Numeric {
            edges,
            reference,
            current,
        } => {
            // Shares, so datasets of different sizes overlay fairly.
            let share = |v: &[u64]| -> Vec<u64> {
                let t: u64 = v.iter().sum::<u64>().max(1);
                v.iter().map(|&x| x * 10_000 / t).collect()
            };
            let (rs, cs) = (share(reference), share(current));
            plots::histogram(
                ui,
                "drift_hist",
                &[
                    ("reference", &rs, pal.muted),
                    ("current", &cs, pal.accent.gamma_multiply(0.8)),
                ],
                edges,
                (&c.name, "rows per 10,000"),
                None,
                h,
            );
        }
        Histogram::Categorical {
            labels,
            reference,
            current,
            other_reference,
            other_current,
        } => {
            side_by_side(ui, labels, reference, current, h);
            if *other_reference + *other_current > 0 {
                ui.label(
                    RichText::new(format!(
                        "other categories: reference {other_reference}, current {other_current}"
                    ))
                    .small()
                    .color(pal.muted),
                );
            }
        }
    }
    egui::Grid::new("drift_stats")
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            let row = |ui: &mut egui::Ui, k: &str, v: String| {
                ui.label(RichText::new(k).color(pal.muted));
                ui.label(v);
                ui.end_row();
            };
            row(
                ui,
                "method",
                format!("{:?} ({:?})", c.method, c.method_source).to_lowercase(),
            );
            row(ui, "statistic", fmt(c.statistic));
            row(ui, "p-value", c.p_value.map_or("not a test".into(), fmt_p));
            row(ui, "threshold", format!("{}", c.threshold));
            row(
                ui,
                &format!("effect size ({})", c.effect_size.measure),
                fmt(c.effect_size.value),
            );
            row(
                ui,
                "values used",
                format!(
                    "reference {}, current {}",
                    format::count(c.n_reference),
                    format::count(c.n_current)
                ),
            );
            row(
                ui,
                "missing",
                format!(
                    "reference {}, current {}",
                    format::count(c.missing_reference),
                    format::count(c.missing_current)
                ),
            );
            if let Ok(serde_json::Value::Object(stats)) = serde_json::to_value(&c.stats) {
                for (k, v) in stats {
                    if let Some(x) = v.as_f64() {
                        let text = if k.ends_with("p_value") {
                            fmt_p(x)
                        } else {
                            format::num(Some(x))
                        };
                        row(ui, &k, text);
                    }
                }
            }
        });
    if let Some(ot) = &report.over_time {
        if let Some(series) = ot.columns.iter().find(|s| s.name == c.name) {
            ui.add_space(6.0);
            ui.strong(format!(
                "Over time ({} windows{})",
                ot.windows.len(),
                ot.timestamp_column
                    .as_ref()
                    .map_or(String::new(), |t| format!(" by '{t}'"))
            ));
            let labels: Vec<String> = ot.windows.iter().map(|w| w.label.clone()).collect();
            let n = labels.len();
            let pts: PlotPoints = series
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| [i as f64, v]))
                .collect();
            let drifted: Vec<[f64; 2]> = series
                .values
                .iter()
                .zip(&series.drifted)
                .enumerate()
                .filter_map(|(i, (v, d))| v.filter(|_| *d).map(|v| [i as f64, v]))
                .collect();
            let what = if series.is_p_value {
                "p-value (drift below the line)"
            } else {
                "distance (drift above the line)"
            };
            Plot::new("drift_time")
                .height(h * 0.8)
                .allow_scroll(false)
                .allow_zoom(false)
                .allow_drag(false)
                .y_axis_label(what)
                .x_axis_label("window")
                .legend(Legend::default().position(time_corner(&series.values, series.threshold)))
                .x_axis_formatter(move |m, _| {
                    let i = m.value.round();
                    if (m.value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                        labels[i as usize].clone()
                    } else {
                        String::new()
                    }
                })
                .include_y(0.0)
                .label_formatter(crate::app::widgets::plots::hover_by_index(
                    ot.windows.iter().map(|w| w.label.clone()).collect(),
                ))
                .show(ui, |p| {
                    p.add(
                        HLine::new(format!("threshold {}", series.threshold), series.threshold)
                            .color(pal.warn),
                    );
                    p.add(
                        Line::new(format!("{:?}", series.method).to_lowercase(), pts)
                            .color(pal.accent)
                            .width(2.0),
                    );
                    p.add(
                        Points::new("drifted window", drifted)
                            .radius(5.0)
                            .color(pal.bad),
                    );
                });
        }
    }
}

fn side_by_side(ui: &mut egui::Ui, labels: &[String], reference: &[u64], current: &[u64], h: f32) {
    let pal = Palette::of(ui);
    let tr: u64 = reference.iter().sum::<u64>().max(1);
    let tc: u64 = current.iter().sum::<u64>().max(1);
    let n = labels.len().min(15);
    let names: Vec<String> = labels.iter().take(n).cloned().collect();
    let mk = |v: &[u64], t: u64, off: f64, name: &str| -> Vec<egui_plot::Bar> {
        v.iter()
            .take(n)
            .enumerate()
            .map(|(i, &x)| {
                let share = x as f64 / t as f64;
                egui_plot::Bar::new((n - 1 - i) as f64 + off, share)
                    .width(0.38)
                    .name(format!(
                        "{}: {name} {:.2}% ({x} rows)",
                        labels[i],
                        share * 100.0
                    ))
            })
            .collect()
    };
    Plot::new("drift_cats")
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .legend(Legend::default().position(share_corner(reference, current, tr, tc, n)))
        .x_axis_label("share of rows")
        .y_axis_formatter(move |m, _| {
            let i = m.value.round();
            if (m.value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                names[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .show(ui, |p| {
            p.add(
                egui_plot::BarChart::new("reference", mk(reference, tr, 0.2, "reference"))
                    .horizontal()
                    .color(pal.muted),
            );
            p.add(
                egui_plot::BarChart::new("current", mk(current, tc, -0.2, "current"))
                    .horizontal()
                    .color(pal.accent),
            );
        });
}

/// The emptiest corner of the drift-over-time chart (values by window and the threshold).
fn time_corner(values: &[Option<f64>], threshold: f64) -> egui_plot::Corner {
    let n = values.len().max(2) as f64;
    let mut pts: Vec<[f64; 2]> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| [i as f64, v]))
        .collect();
    pts.extend((0..=10).map(|k| [k as f64 * (n - 1.0) / 10.0, threshold]));
    let hi = pts.iter().map(|p| p[1]).fold(threshold, f64::max) * 1.05;
    plots::empty_corner(&pts, [0.0, n - 1.0], [0.0, hi.max(1e-12)])
}

/// The emptiest corner of the side-by-side category shares.
fn share_corner(
    reference: &[u64],
    current: &[u64],
    tr: u64,
    tc: u64,
    n: usize,
) -> egui_plot::Corner {
    let mut pts = Vec::new();
    let mut top = 0.0f64;
    for (v, t) in [(reference, tr), (current, tc)] {
        for (i, &x) in v.iter().take(n).enumerate() {
            let share = x as f64 / t as f64;
            top = top.max(share);
            for k in 0..=8 {
                pts.push([share * k as f64 / 8.0, (n - 1 - i) as f64]);
            }
        }
    }
    plots::empty_corner(&pts, [0.0, top.max(1e-12) * 1.05], [-0.5, n as f64 - 0.5])
}

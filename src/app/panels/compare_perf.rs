//! The Compare page's explanation, speed and robustness tabs: each model's SHAP importance
//! ranking side by side with rank changes; latency percentiles and throughput per model
//! with their spread, load time and memory; flip rates under noise, per-perturbation effects,
//! monotonic checks and the adversarial search. Measured on demand (one model at a time, so
//! timings do not disturb each other); drawn from `engine::perf` and `engine::robustness`.

use eframe::egui::{self, RichText};
use egui_extras::{Column, TableBuilder};

use crate::app::command::{Command, CommandSender};
use crate::app::jobs::JobKey;
use crate::app::state::{Slot, State};
use crate::app::widgets::cards::fmt;
use crate::app::widgets::charts::{self, BarSeries};
use crate::app::widgets::format;
use crate::app::widgets::plots;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Kind, Output};
use crate::engine::perf::PerfReport;
use crate::engine::robustness::perturb::PerturbationKind;
use crate::engine::robustness::RobustnessReport;

/// Every model's perf result slot, in workspace order.
pub fn perf_results(state: &State) -> Vec<(String, Option<Slot<Output>>)> {
    let p = state.planner();
    state
        .workspace
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let slot = state.slot(p.perf(i).map(|r| r.key).as_ref()).cloned();
            (m.label.clone(), slot)
        })
        .collect()
}

pub(super) fn any_running(state: &State, kind: Kind) -> bool {
    state
        .jobs
        .running()
        .iter()
        .any(|r| matches!(&r.key, JobKey::Analysis(k) if k.kind == kind))
}

pub fn speed_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.label(
        RichText::new(
            "Measured on a dedicated thread after warm-up: single-row latency over 1000 calls, throughput at several batch sizes and thread counts (5 repeats each), session load time and peak memory. One model at a time.",
        )
        .color(pal.muted),
    );
    let busy = any_running(state, Kind::Perf);
    let entries = state.workspace.models.clone();
    ui.horizontal_wrapped(|ui| {
        for (i, m) in entries.iter().enumerate() {
            let request = state.planner().perf(i);
            let key = request.as_ref().map(|r| r.key.clone());
            let done = state
                .slot(key.as_ref())
                .is_some_and(|s| matches!(s, Slot::Ready(_)));
            let label = if done {
                format!("Measure {} again", m.label)
            } else {
                format!("Measure {}", m.label)
            };
            if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                // Timings vary: measuring again replaces the last measurement.
                if let Some(key) = key {
                    tx.send(Command::Forget(key));
                }
                tx.request(request);
            }
        }
        if busy {
            ui.spinner();
            ui.label("measuring… (other measurements wait so they do not disturb it)");
        }
    });
    let results = perf_results(state);
    let reports: Vec<(String, std::sync::Arc<PerfReport>)> = results
        .iter()
        .filter_map(|(l, s)| match s {
            Some(Slot::Ready(Output::Perf(p))) => Some((l.clone(), p.clone())),
            _ => None,
        })
        .collect();
    for (l, s) in &results {
        if let Some(Slot::Failed(e)) = s {
            ui.colored_label(pal.bad, format!("{l}: {e}"));
        }
    }
    if reports.is_empty() {
        return;
    }
    let h = plots::plot_height(state.presentation);
    ui.columns(2, |cols| {
        // Microseconds when every latency is under a millisecond (ONNX models often are).
        let slowest = reports
            .iter()
            .map(|(_, p)| p.latency.p99_ms)
            .fold(0.0f64, f64::max);
        let (unit, per_ms) = if slowest < 1.0 {
            ("microseconds", 1000.0)
        } else {
            ("milliseconds", 1.0)
        };
        cols[0].strong("Single-row latency");
        let cats: Vec<String> = ["p50", "p95", "p99"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let series: Vec<BarSeries> = reports
            .iter()
            .map(|(l, p)| BarSeries {
                name: l.clone(),
                values: vec![
                    Some(p.latency.p50_ms * per_ms),
                    Some(p.latency.p95_ms * per_ms),
                    Some(p.latency.p99_ms * per_ms),
                ],
                ci: vec![None, None, None],
                colour: state.model_index(l).map(|i| pal.model(i)),
            })
            .collect();
        charts::grouped_bars(&mut cols[0], "perf_latency", unit, &cats, &series, h);
        cols[1].strong(
            "Throughput (rows per second, log scale; whiskers: interquartile range of 5 repeats)",
        );
        let mut cats: Vec<String> = Vec::new();
        for (_, p) in &reports {
            for t in &p.throughput {
                let c = format!(
                    "batch {} · {} thread{}",
                    t.batch_size,
                    t.threads,
                    if t.threads == 1 { "" } else { "s" }
                );
                if !cats.contains(&c) {
                    cats.push(c);
                }
            }
        }
        let series: Vec<BarSeries> = reports
            .iter()
            .map(|(l, p)| {
                let find = |c: &String| {
                    p.throughput.iter().find(|t| {
                        &format!(
                            "batch {} · {} thread{}",
                            t.batch_size,
                            t.threads,
                            if t.threads == 1 { "" } else { "s" }
                        ) == c
                    })
                };
                BarSeries {
                    name: l.clone(),
                    values: cats
                        .iter()
                        .map(|c| find(c).map(|t| t.rows_per_s.median))
                        .collect(),
                    ci: cats
                        .iter()
                        .map(|c| find(c).map(|t| [t.rows_per_s.q1, t.rows_per_s.q3]))
                        .collect(),
                    colour: state.model_index(l).map(|i| pal.model(i)),
                }
            })
            .collect();
        let th = (cats.len() as f32 * 22.0 * reports.len() as f32 + 60.0).clamp(h, 520.0);
        charts::grouped_bars_log(
            &mut cols[1],
            "perf_throughput",
            "rows per second",
            &cats,
            &series,
            th,
        );
    });
    TableBuilder::new(ui)
        .id_salt("perf_table")
        .striped(true)
        .column(Column::exact(160.0))
        .columns(Column::exact(120.0), 5)
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for t in [
                "model",
                "p50 latency",
                "p95 latency",
                "p99 latency",
                "load (median)",
                "max rows/s",
                "peak memory of inference",
            ] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|mut body| {
            for (l, p) in &reports {
                body.row(20.0, |mut row| {
                    row.col(|ui| {
                        ui.label(l);
                    });
                    for v in [p.p50_latency_ms, p.p95_latency_ms, p.p99_latency_ms] {
                        row.col(|ui| {
                            ui.label(format::duration_ms(v));
                        });
                    }
                    row.col(|ui| {
                        ui.label(format::duration_ms(p.load.ms.median))
                            .on_hover_text(format!(
                                "min {} · max {}",
                                format::duration_ms(p.load.ms.min),
                                format::duration_ms(p.load.ms.max)
                            ));
                    });
                    row.col(|ui| {
                        ui.label(format::num(Some(p.max_throughput_rows_per_s)));
                    });
                    row.col(|ui| {
                        let text = p
                            .peak_memory_increase_bytes
                            .map_or("not measured".into(), crate::engine::human_bytes);
                        let r = ui.label(text);
                        if let Some(m) = &p.memory {
                            r.on_hover_text(&m.note);
                        }
                    });
                });
            }
        });
    if let Some((_, p)) = reports.first() {
        let e = &p.environment;
        ui.label(
            RichText::new(format!(
                "{} cores · {} {} · ONNX Runtime {} · timings vary with machine load: compare models measured in the same session",
                e.cores,
                e.os,
                e.arch,
                e.ort_version.clone().unwrap_or_else(|| "?".into())
            ))
            .small()
            .color(pal.muted),
        );
    }
    for (l, p) in &reports {
        for w in &p.warnings {
            ui.colored_label(pal.warn, format!("{l}: {w}"));
        }
    }
}

pub fn robustness_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.label(
        RichText::new("On a seeded sample of rows: how often the decision flips and how much the score moves under Gaussian noise (in units of each feature's standard deviation), a feature set to missing, to its mean or out of range, category swaps; declared monotonic relations; and the smallest change that flips a decision.")
            .color(pal.muted),
    );
    let entries = state.workspace.models.clone();
    let busy = any_running(state, Kind::Robustness);
    ui.horizontal_wrapped(|ui| {
        for (i, m) in entries.iter().enumerate() {
            let request = state.planner().robustness(i);
            let key = request.as_ref().map(|r| r.key.clone());
            let done = state
                .slot(key.as_ref())
                .is_some_and(|s| matches!(s, Slot::Ready(_)));
            let label = if done {
                format!("Test {} again", m.label)
            } else {
                format!("Test {}", m.label)
            };
            // The button stays after a run: testing again replaces the result.
            if ui.add_enabled(!busy, egui::Button::new(label)).clicked() {
                if let Some(key) = key.filter(|_| done) {
                    tx.send(Command::Forget(key));
                }
                tx.request(request);
            }
        }
        if busy {
            ui.spinner();
            ui.label("perturbing rows and re-scoring…");
        }
    });
    let mut reports: Vec<(String, std::sync::Arc<RobustnessReport>)> = Vec::new();
    for (i, m) in entries.iter().enumerate() {
        let key = state.planner().robustness(i).map(|r| r.key);
        match state.slot(key.as_ref()).cloned() {
            Some(Slot::Ready(Output::Robustness(r))) => reports.push((m.label.clone(), r)),
            Some(Slot::Failed(e)) => {
                ui.colored_label(pal.bad, format!("{}: {e}", m.label));
                if let Some(key) = key {
                    retry_button(ui, tx, &key);
                }
            }
            _ => {}
        }
    }
    if reports.is_empty() {
        return;
    }
    let h = plots::plot_height(state.presentation);
    let series: Vec<charts::LineSeries> = reports
        .iter()
        .map(|(l, r)| {
            let mut pts: Vec<[f64; 2]> = r
                .perturbations
                .iter()
                .filter(|p| p.kind == PerturbationKind::Noise && p.feature.is_none())
                .filter_map(|p| Some([p.scale?, p.flip_rate.or(p.mean_abs_score_change)?]))
                .collect();
            pts.insert(0, [0.0, 0.0]);
            (l.clone(), pts, state.model_index(l).map(|i| pal.model(i)))
        })
        .collect();
    let classifier = reports.iter().any(|(_, r)| r.classes.is_some());
    ui.strong(if classifier {
        "Decision flip rate under Gaussian noise on every numeric feature"
    } else {
        "Mean |change of the prediction| under Gaussian noise on every numeric feature"
    });
    charts::lines(
        ui,
        "robust_noise",
        "noise (× each feature's standard deviation)",
        if classifier {
            "flip rate"
        } else {
            "mean |Δ prediction|"
        },
        &series,
        h,
    );
    for (label, r) in &reports {
        ui.add_space(8.0);
        egui::CollapsingHeader::new(RichText::new(format!("{label}: details")).strong())
            .id_salt(("robust_details", label))
            .default_open(reports.len() == 1)
            .show(ui, |ui| details(ui, r));
    }
}

fn details(ui: &mut egui::Ui, r: &RobustnessReport) {
    let pal = Palette::of(ui);
    ui.label(
        RichText::new(format!(
            "{} sampled rows (seed {}) · baseline accuracy {}",
            r.sample_rows.len(),
            r.seed,
            fmt(r.baseline.accuracy)
        ))
        .color(pal.muted),
    );
    let mut rows: Vec<_> = r
        .perturbations
        .iter()
        .filter(|p| p.feature.is_some())
        .collect();
    rows.sort_by(|a, b| {
        let k = |p: &&crate::engine::robustness::perturb::PerturbationResult| {
            p.flip_rate.or(p.mean_abs_score_change).unwrap_or(-1.0)
        };
        k(b).total_cmp(&k(a))
    });
    ui.strong("Most sensitive single-feature perturbations");
    TableBuilder::new(ui)
        .id_salt(("robust_table", r.model.sha256.clone()))
        .striped(true)
        .max_scroll_height(260.0)
        .column(Column::exact(150.0))
        .column(Column::exact(150.0))
        .column(Column::exact(80.0))
        .column(Column::exact(90.0))
        .column(Column::remainder())
        .header(22.0, |mut h| {
            for t in [
                "feature",
                "perturbation",
                "flip rate",
                "mean |Δ score|",
                "note",
            ] {
                h.col(|ui| {
                    ui.strong(t);
                });
            }
        })
        .body(|body| {
            body.rows(20.0, rows.len().min(40), |mut row| {
                let p = rows[row.index()];
                row.col(|ui| {
                    ui.label(p.feature.clone().unwrap_or_default());
                });
                row.col(|ui| {
                    let kind = match p.kind {
                        PerturbationKind::Noise => {
                            format!("noise × {}", p.scale.map_or("?".into(), |s| s.to_string()))
                        }
                        PerturbationKind::Missing => "set to missing".into(),
                        PerturbationKind::Mean => "set to its mean".into(),
                        PerturbationKind::OutOfRangeLow => "below its range".into(),
                        PerturbationKind::OutOfRangeHigh => "above its range".into(),
                        PerturbationKind::CategorySwap => "other category".into(),
                    };
                    ui.label(kind);
                });
                row.col(|ui| {
                    ui.label(
                        p.flip_rate
                            .map_or("—".into(), |f| format!("{:.1}%", 100.0 * f)),
                    );
                });
                row.col(|ui| {
                    ui.label(fmt(p.mean_abs_score_change));
                });
                row.col(|ui| {
                    if !p.applicable {
                        ui.label(
                            RichText::new(p.reason.clone().unwrap_or_default()).color(pal.muted),
                        );
                    }
                });
            });
        });
    if !r.monotonic.is_empty() {
        ui.add_space(6.0);
        ui.strong("Monotonic relations");
        for m in &r.monotonic {
            let ok = m.violating_rows == 0;
            ui.label(
                RichText::new(format!(
                    "{} must be {:?}: {} of {} rows violate it ({:.1}%), largest violation {:.4}",
                    m.feature,
                    m.direction,
                    m.violating_rows,
                    m.rows_checked,
                    100.0 * m.violation_rate,
                    m.max_violation
                ))
                .color(if ok { pal.good } else { pal.bad }),
            );
        }
    }
    if let Some(a) = &r.adversarial {
        ui.add_space(6.0);
        ui.strong("Smallest change that flips a decision (greedy search within bounds)");
        ui.label(format!(
            "{} of {} rows flipped ({:.1}%): {} by one feature, {} by a pair · median size {} std",
            a.flipped_rows,
            a.rows_tried,
            100.0 * a.flip_rate,
            a.flipped_by_single_feature,
            a.flipped_by_pair,
            a.size_std
                .as_ref()
                .map_or("—".into(), |s| format!("{:.2}", s.median))
        ));
        if let Some(row) = a.per_row.iter().filter(|r| r.flipped).min_by(|x, y| {
            x.size_std
                .unwrap_or(f64::INFINITY)
                .total_cmp(&y.size_std.unwrap_or(f64::INFINITY))
        }) {
            let change = row
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{} from {} to {} ({:+.2} std)",
                        c.feature,
                        fmt(Some(c.from)),
                        fmt(Some(c.to)),
                        c.delta_std
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            ui.label(
                RichText::new(format!(
                    "easiest: row {} goes from {} to {} when {change}",
                    row.row + 1,
                    row.decision_before,
                    row.decision_after.clone().unwrap_or_default()
                ))
                .color(pal.muted),
            );
        }
    }
    for w in &r.warnings {
        ui.colored_label(pal.warn, w);
    }
}

/// Retry for one model's failed or cancelled analysis.
pub(super) fn retry_button(
    ui: &mut egui::Ui,
    tx: &CommandSender,
    key: &crate::engine::analysis::Key,
) {
    if ui.small_button("Retry").clicked() {
        tx.send(Command::Retry(key.clone()));
    }
}

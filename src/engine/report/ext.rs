//! Adapters from the explain, compare, perf and robustness results to report sections
//! ([`CustomSection`]): the report draws the same numbers the app's Explain and Compare pages
//! show, aggregated (mean |SHAP| bars, a sampled beeswarm, capped tables).

use super::custom::{BarChart, Beeswarm, Cell, CustomSection, Row, Table};
use super::{Gate, Status};
use crate::engine::compare::slices::higher_is_better;
use crate::engine::compare::Comparison;
use crate::engine::explain::Explanation;
use crate::engine::human_bytes;
use crate::engine::perf::PerfReport;
use crate::engine::report::notes::Finding;
use crate::engine::robustness::RobustnessReport;

/// Features shown in the beeswarm (most important first).
const BEESWARM_FEATURES: usize = 10;

/// The explanation of one model: mean |SHAP| bars and a beeswarm of the top features.
pub fn explanation_section(label: &str, e: &Explanation) -> CustomSection {
    let mut imp = e.importance.clone();
    imp.sort_by(|a, b| b.1.total_cmp(&a.1));
    let space = serde_json::to_value(e.output_space)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let method = serde_json::to_value(e.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let top: Vec<usize> = imp
        .iter()
        .take(BEESWARM_FEATURES)
        .filter_map(|(n, _)| e.feature_names.iter().position(|f| f == n))
        .collect();
    let beeswarm = Beeswarm {
        title: format!("SHAP values per row ({} rows)", e.values.len()),
        features: top.iter().map(|&j| e.feature_names[j].clone()).collect(),
        shap: top
            .iter()
            .map(|&j| {
                e.values
                    .iter()
                    .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect(),
        feature_values: top
            .iter()
            .map(|&j| {
                e.feature_values
                    .iter()
                    .map(|r| r.get(j).copied().flatten())
                    .collect()
            })
            .collect(),
    };
    CustomSection {
        intro: format!(
            "{label}: {method} SHAP values of {} rows in {space} space{}; base value {}; background {} rows. Mean |SHAP| ranks the features; each dot of the beeswarm is a row (colour: feature value, low blue → high orange).",
            e.values.len(),
            e.class_label.as_ref().map_or(String::new(), |c| format!(" for class {c}")),
            super::html::fmt(Some(e.base_value)),
            e.background.rows
        ),
        tables: vec![Table {
            caption: String::new(),
            headers: vec!["feature".into(), "mean |SHAP|".into()],
            rows: imp
                .iter()
                .map(|(n, v)| Row {
                    cells: vec![Cell::Text(n.clone()), Cell::Number(Some(*v))],
                    finding: Some(Finding::Feature { feature: n.clone() }),
                })
                .collect(),
        }],
        charts: vec![BarChart {
            title: "Mean |SHAP| (importance)".into(),
            axis: "mean |SHAP value|".into(),
            labels: imp.iter().map(|(n, _)| n.clone()).collect(),
            values: imp.iter().map(|(_, v)| *v).collect(),
            ci: Vec::new(),
        }],
        beeswarms: vec![beeswarm],
        warnings: e.notes.iter().map(|n| crate::engine::Warning::data(n.as_str())).collect(),
    }
}

/// Whether a larger value of an evaluation metric is better (compare's rule, then the error
/// and loss metrics of `evaluate`, lower is better; every other metric is a score).
fn up_is_better(metric: &str) -> bool {
    higher_is_better(metric).unwrap_or(!matches!(
        metric,
        "log_loss"
            | "brier_score"
            | "mae"
            | "mse"
            | "rmse"
            | "mape"
            | "max_error"
            | "median_absolute_error"
    ))
}

/// B against A from the paired interval of `B − A`: better, worse, or no clear change.
fn delta_badge(metric: &str, ci: Option<[f64; 2]>) -> Cell {
    let Some([lo, hi]) = ci else {
        return Cell::Badge(Status::Info, "no interval".into());
    };
    let up = up_is_better(metric);
    let (better, worse) = if up {
        (lo > 0.0, hi < 0.0)
    } else {
        (hi < 0.0, lo > 0.0)
    };
    if better {
        Cell::Badge(Status::Pass, "better".into())
    } else if worse {
        Cell::Badge(Status::Fail, "worse".into())
    } else {
        Cell::Badge(Status::Inconclusive, "no clear change".into())
    }
}

/// Pair name used by [`Finding::Comparison`] notes: `A vs B` (the app writes the same text,
/// and its font has no arrow).
pub fn pair_name(a: &str, b: &str) -> String {
    format!("{a} vs {b}")
}

/// The version comparison: per pair, metric deltas with paired intervals (pass: B better,
/// fail: B worse, inconclusive: the interval holds 0), the paired tests, then the gate.
pub fn comparison_section(c: &Comparison) -> CustomSection {
    let mut tables = Vec::new();
    for p in &c.pairs {
        let a = c.models.iter().find(|m| m.label == p.a);
        let b = c.models.iter().find(|m| m.label == p.b);
        let pair = pair_name(&p.a, &p.b);
        let rows = p
            .delta
            .0
            .iter()
            .map(|(m, d)| {
                let ci = p.delta_ci.get(m).copied();
                Row {
                    cells: vec![
                        Cell::Text(m.clone()),
                        Cell::Number(a.and_then(|x| x.evaluation.metrics.get(m))),
                        Cell::Number(b.and_then(|x| x.evaluation.metrics.get(m))),
                        Cell::Delta(*d),
                        Cell::Interval(ci),
                        delta_badge(m, ci),
                    ],
                    finding: Some(Finding::Comparison {
                        pair: pair.clone(),
                        metric: m.clone(),
                    }),
                }
            })
            .collect();
        tables.push(Table {
            caption: format!("{pair}: metrics (B − A, paired bootstrap interval)"),
            headers: vec![
                "metric".into(),
                p.a.clone(),
                p.b.clone(),
                "delta".into(),
                "interval".into(),
                "B vs A".into(),
            ],
            rows,
        });
        let mut tests = Vec::new();
        let mut push = |name: &str, v: Option<f64>| {
            if v.is_some() {
                tests.push(Row {
                    cells: vec![Cell::Text(name.into()), Cell::Number(v)],
                    finding: None,
                });
            }
        };
        push("McNemar exact p-value", p.mcnemar_exact_p_value);
        push(
            "McNemar χ² (corrected) p-value",
            p.mcnemar_chi2_corrected.as_ref().map(|x| x.p_value),
        );
        push("DeLong p-value (ROC AUC difference)", p.delong_p_value);
        push("label disagreement rate", p.label_disagreement_rate);
        push("mean |score B − score A|", p.mean_abs_prob_diff);
        push("Pearson r of scores", p.pearson_r);
        push("Spearman r of scores", p.spearman_r);
        if !tests.is_empty() {
            tables.push(Table {
                caption: format!("{pair}: paired tests"),
                headers: vec!["test".into(), "value".into()],
                rows: tests,
            });
        }
    }
    let g = &c.gate;
    tables.push(Table {
        caption: format!(
            "Promotion gate: {} → {}{}",
            g.baseline,
            g.candidate,
            if g.default_rules {
                " (default rules)"
            } else {
                ""
            }
        ),
        headers: vec!["rule".into(), "value".into(), "result".into()],
        rows: g
            .result
            .rules
            .iter()
            .map(|r| Row {
                cells: vec![
                    Cell::Text(r.reason.clone()),
                    Cell::Number(r.value),
                    Cell::Status(if r.passed { Status::Pass } else { Status::Fail }),
                ],
                finding: None,
            })
            .collect(),
    });
    CustomSection {
        intro: format!(
            "{} models on the same {} rows; B − A for every pair.",
            c.models.len(),
            super::html::count(c.n)
        ),
        tables,
        charts: Vec::new(),
        beeswarms: Vec::new(),
        warnings: c.warnings.clone(),
    }
}

/// The comparison's promotion gate as a summary check.
pub fn comparison_gate(c: &Comparison) -> Gate {
    let failed: Vec<&str> = c
        .gate
        .result
        .rules
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.reason.as_str())
        .take(3)
        .collect();
    Gate {
        name: format!(
            "Promotion gate — {} → {}",
            c.gate.baseline, c.gate.candidate
        ),
        status: if c.gate.result.passed {
            Status::Pass
        } else {
            Status::Fail
        },
        detail: if failed.is_empty() {
            format!("all {} rules pass", c.gate.result.rules.len())
        } else {
            format!("fails: {}", failed.join("; "))
        },
    }
}

/// Latency, throughput and memory per model.
pub fn performance_section(reports: &[(&str, &PerfReport)]) -> CustomSection {
    let rows = reports
        .iter()
        .map(|(l, p)| Row {
            cells: vec![
                Cell::Text((*l).to_string()),
                Cell::Number(Some(p.p50_latency_ms)),
                Cell::Number(Some(p.p95_latency_ms)),
                Cell::Number(Some(p.p99_latency_ms)),
                Cell::Number(Some(p.load_time_ms)),
                Cell::Number(Some(p.max_throughput_rows_per_s)),
                Cell::Text(p.peak_memory_increase_bytes.map_or("—".into(), human_bytes)),
            ],
            finding: None,
        })
        .collect();
    let charts = reports
        .iter()
        .map(|(l, p)| BarChart {
            title: format!("{l}: throughput (rows/s, median and IQR)"),
            axis: "rows per second".into(),
            labels: p
                .throughput
                .iter()
                .map(|t| format!("batch {} × {} threads", t.batch_size, t.threads))
                .collect(),
            values: p.throughput.iter().map(|t| t.rows_per_s.median).collect(),
            ci: p
                .throughput
                .iter()
                .map(|t| Some([t.rows_per_s.q1, t.rows_per_s.q3]))
                .collect(),
        })
        .collect();
    let env = reports.first().map(|(_, p)| &p.environment);
    CustomSection {
        intro: env.map_or(String::new(), |e| {
            format!(
                "Measured on {} cores, {} {}, ONNX Runtime {}.",
                e.cores,
                e.os,
                e.arch,
                e.ort_version.as_deref().unwrap_or("?")
            )
        }),
        tables: vec![Table {
            caption: String::new(),
            headers: [
                "model",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "load ms",
                "max rows/s",
                "peak memory +",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        }],
        charts,
        beeswarms: Vec::new(),
        warnings: reports
            .iter()
            .flat_map(|(_, p)| p.warnings.clone())
            .collect(),
    }
}

/// Flip rates under perturbations, monotonicity checks and the adversarial search per model.
pub fn robustness_section(reports: &[(&str, &RobustnessReport)]) -> CustomSection {
    let mut tables = Vec::new();
    let mut charts = Vec::new();
    for (l, r) in reports {
        let applicable: Vec<_> = r.perturbations.iter().filter(|p| p.applicable).collect();
        let name = |p: &crate::engine::robustness::perturb::PerturbationResult| {
            let kind = serde_json::to_value(p.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut s = kind;
            if let Some(f) = &p.feature {
                s.push_str(&format!(" {f}"));
            }
            if let Some(x) = p.scale {
                s.push_str(&format!(" ×{x}"));
            }
            s
        };
        tables.push(Table {
            caption: format!(
                "{l}: prediction flips under perturbation ({} rows)",
                r.sample_rows.len()
            ),
            headers: [
                "perturbation",
                "rows",
                "flip rate",
                "mean |Δ score|",
                "max |Δ score|",
            ]
            .map(String::from)
            .to_vec(),
            rows: applicable
                .iter()
                .map(|p| Row {
                    cells: vec![
                        Cell::Text(name(p)),
                        Cell::Text(p.rows.to_string()),
                        Cell::Number(p.flip_rate),
                        Cell::Number(p.mean_abs_score_change),
                        Cell::Number(p.max_abs_score_change),
                    ],
                    finding: None,
                })
                .collect(),
        });
        let mut flips: Vec<_> = applicable
            .iter()
            .filter_map(|p| p.flip_rate.map(|f| (name(p), f)))
            .collect();
        flips.sort_by(|a, b| b.1.total_cmp(&a.1));
        if !flips.is_empty() {
            charts.push(BarChart {
                title: format!("{l}: flip rate (highest first)"),
                axis: "share of rows whose decision flips".into(),
                labels: flips.iter().map(|f| f.0.clone()).collect(),
                values: flips.iter().map(|f| f.1).collect(),
                ci: Vec::new(),
            });
        }
        if !r.monotonic.is_empty() {
            tables.push(Table {
                caption: format!("{l}: monotonicity"),
                headers: [
                    "feature",
                    "rows checked",
                    "violating rows",
                    "violation rate",
                ]
                .map(String::from)
                .to_vec(),
                rows: r
                    .monotonic
                    .iter()
                    .map(|m| Row {
                        cells: vec![
                            Cell::Text(m.feature.clone()),
                            Cell::Text(m.rows_checked.to_string()),
                            Cell::Text(m.violating_rows.to_string()),
                            Cell::Number(Some(m.violation_rate)),
                        ],
                        finding: None,
                    })
                    .collect(),
            });
        }
        if let Some(a) = &r.adversarial {
            tables.push(Table {
                caption: format!(
                    "{l}: smallest decision-flipping change (search within {} std)",
                    a.max_std
                ),
                headers: [
                    "rows tried",
                    "flipped",
                    "flip rate",
                    "by one feature",
                    "by a pair",
                ]
                .map(String::from)
                .to_vec(),
                rows: vec![Row {
                    cells: vec![
                        Cell::Text(a.rows_tried.to_string()),
                        Cell::Text(a.flipped_rows.to_string()),
                        Cell::Number(Some(a.flip_rate)),
                        Cell::Text(a.flipped_by_single_feature.to_string()),
                        Cell::Text(a.flipped_by_pair.to_string()),
                    ],
                    finding: None,
                }],
            });
        }
    }
    CustomSection {
        intro:
            "Decisions under noise, missing values and other perturbations of the evaluation rows."
                .into(),
        tables,
        charts,
        beeswarms: Vec::new(),
        warnings: reports
            .iter()
            .flat_map(|(_, r)| r.warnings.clone())
            .collect(),
    }
}

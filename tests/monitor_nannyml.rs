//! `assay monitor`'s numbers against NannyML 0.13.1 on the datasets that ship inside its
//! wheel (tests/fixtures/monitor/, made by make_monitor_fixtures.py): per chunk the CBPE
//! estimate, its sampling error and confidence bounds, the thresholds from the reference
//! chunks, the alert flags, the chunk boundaries and times, the calibration decision, and the
//! realized performance of NannyML's PerformanceCalculator — every value at 1e-6 relative.
//!
//! Against the "stable" run (NannyML with its argsorts made stable, the order Assay uses)
//! everything matches. Against NannyML as shipped everything matches too except what
//! depends on the order inside tied scores of numpy's unstable SIMD argsort (the ROC AUC
//! sampling error, and the multiclass ROC AUC estimate): those are checked at 1e-2 and their
//! largest difference is printed.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assay::engine::monitor::chunking::parse_instant;
use assay::engine::monitor::{
    run_files, CalibrationChoice, ChunkPeriod, Chunking, Metric, MonitorOptions, MonitorReport,
    Period,
};
use assay::engine::Progress;
use serde_json::Value;

const REL: f64 = 1e-6;

fn fx(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monitor")
        .join(name)
}

fn results() -> Value {
    let text = std::fs::read_to_string(fx("nannyml_results.json")).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12
}

fn binary_opts(chunking: Chunking) -> MonitorOptions {
    MonitorOptions {
        target: "repaid".into(),
        score: Some("y_pred_proba".into()),
        prediction: Some("y_pred".into()),
        timestamp: Some("timestamp".into()),
        id: Some("id".into()),
        chunking: Some(chunking),
        metrics: Metric::parse_list(
            &[
                "roc_auc",
                "f1",
                "precision",
                "recall",
                "specificity",
                "accuracy",
                "confusion_matrix",
            ]
            .map(String::from),
        )
        .unwrap(),
        ..MonitorOptions::default()
    }
}

fn run_binary(chunking: Chunking) -> MonitorReport {
    run_files(
        &fx("car_loan_reference.parquet"),
        &fx("car_loan_analysis.parquet"),
        Some(&fx("car_loan_analysis_target.parquet")),
        None,
        &binary_opts(chunking),
        &Progress::none(),
    )
    .expect("monitor runs")
}

/// NannyML's calibration decisions in the fixture (per class).
fn nannyml_calibration(config: &str) -> CalibrationChoice {
    let all = results();
    let nc = &all["configs"][config]["nannyml"]["needs_calibration"];
    CalibrationChoice::PerClass(match nc.as_object() {
        Some(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_bool().unwrap()))
            .collect(),
        None => [(String::new(), nc.as_bool().unwrap())]
            .into_iter()
            .collect(),
    })
}

fn run_multiclass(calibration: CalibrationChoice) -> MonitorReport {
    let opts = MonitorOptions {
        calibration,
        target: "y_true".into(),
        scores: ["prepaid_card", "highstreet_card", "upmarket_card"]
            .iter()
            .map(|c| (c.to_string(), format!("y_pred_proba_{c}")))
            .collect(),
        prediction: Some("y_pred".into()),
        timestamp: Some("timestamp".into()),
        id: Some("id".into()),
        chunking: Some(Chunking::Size(6000)),
        ..MonitorOptions::default()
    };
    run_files(
        &fx("mc_reference.parquet"),
        &fx("mc_analysis.parquet"),
        Some(&fx("mc_analysis_target.parquet")),
        None,
        &opts,
        &Progress::none(),
    )
    .expect("monitor runs")
}

/// Fields whose NannyML value depends on numpy's unstable argsort with tied scores.
fn tie_dependent(multiclass: bool, metric: &str, field: &str) -> bool {
    metric == "roc_auc"
        && (field != "value" || multiclass)
        && field != "upper_threshold"
        && field != "lower_threshold"
        && field != "alert"
}

struct Tally {
    compared: usize,
    max_rel: f64,
    max_rel_ties: f64,
}

fn check(report: &MonitorReport, expected: &Value, run: &str, multiclass: bool, tally: &mut Tally) {
    let side = &expected[run];
    for (what, list) in [
        ("estimated", &side["estimated"]),
        ("realized", &side["realized"]),
    ] {
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), report.chunks.len(), "{what}: number of chunks");
        for (e, c) in list.iter().zip(&report.chunks) {
            let period = if c.period == ChunkPeriod::Reference {
                "reference"
            } else {
                "analysis"
            };
            assert_eq!(e["period"], period);
            assert_eq!(e["key"].as_str().unwrap(), c.key, "chunk key");
            assert_eq!(
                e["start_index"].as_u64().unwrap() as usize,
                c.start_index,
                "{}",
                c.key
            );
            assert_eq!(
                e["end_index"].as_u64().unwrap() as usize,
                c.end_index,
                "{}",
                c.key
            );
            for (f, ours) in [("start_date", &c.start_time), ("end_date", &c.end_time)] {
                let t = parse_instant(e[f].as_str().unwrap()).unwrap();
                let o = parse_instant(ours.as_deref().unwrap()).unwrap();
                assert!((t - o).abs() < 2e-3, "{} {f}: {t} vs {o}", c.key);
            }
            for (metric, m) in e["metrics"].as_object().unwrap() {
                let ours = if what == "estimated" {
                    &c.estimated
                } else {
                    &c.realized
                };
                let o = ours
                    .get(metric)
                    .unwrap_or_else(|| panic!("{metric} missing"));
                // CBPE's reference chunks also carry the realized value.
                let mut pairs: Vec<(&str, Option<f64>, Option<f64>)> = vec![
                    ("value", m["value"].as_f64(), o.value),
                    (
                        "upper_threshold",
                        m["upper_threshold"].as_f64(),
                        o.upper_threshold,
                    ),
                    (
                        "lower_threshold",
                        m["lower_threshold"].as_f64(),
                        o.lower_threshold,
                    ),
                ];
                if what == "estimated" {
                    pairs.push((
                        "sampling_error",
                        m["sampling_error"].as_f64(),
                        o.sampling_error,
                    ));
                    pairs.push((
                        "upper_confidence_boundary",
                        m["upper_confidence_boundary"].as_f64(),
                        o.upper_confidence_bound,
                    ));
                    pairs.push((
                        "lower_confidence_boundary",
                        m["lower_confidence_boundary"].as_f64(),
                        o.lower_confidence_bound,
                    ));
                    if c.period == ChunkPeriod::Reference {
                        pairs.push(("realized", m["realized"].as_f64(), c.realized[metric].value));
                    }
                } else if m.get("sampling_error").is_some() {
                    pairs.push((
                        "sampling_error",
                        m["sampling_error"].as_f64(),
                        o.sampling_error,
                    ));
                }
                for (field, theirs, mine) in pairs {
                    let ties = run == "nannyml" && tie_dependent(multiclass, metric, field);
                    match (theirs, mine) {
                        (Some(a), Some(b)) => {
                            let rel = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
                            if ties {
                                tally.max_rel_ties = tally.max_rel_ties.max(rel);
                                assert!(
                                    close(a, b, 1e-2),
                                    "{run} {what} {} {metric}.{field}: NannyML {a} vs Assay {b}",
                                    c.key
                                );
                            } else {
                                tally.max_rel = tally.max_rel.max(if a == b { 0.0 } else { rel });
                                assert!(
                                    close(a, b, REL),
                                    "{run} {what} {} {metric}.{field}: NannyML {a} vs Assay {b}",
                                    c.key
                                );
                            }
                            tally.compared += 1;
                        }
                        (None, None) => tally.compared += 1,
                        (a, b) => panic!(
                            "{run} {what} {} {metric}.{field}: NannyML {a:?} vs Assay {b:?}",
                            c.key
                        ),
                    }
                }
                if !(run == "nannyml" && multiclass && metric == "roc_auc") {
                    assert_eq!(
                        m["alert"].as_bool().unwrap_or(false),
                        o.alert,
                        "{run} {what} {} {metric}.alert",
                        c.key
                    );
                    tally.compared += 1;
                }
            }
        }
    }
}

fn check_config(name: &str, report: &MonitorReport, multiclass: bool) {
    let all = results();
    let cfg = &all["configs"][name];
    for run in ["stable", "nannyml"] {
        let mut t = Tally {
            compared: 0,
            max_rel: 0.0,
            max_rel_ties: 0.0,
        };
        check(report, cfg, run, multiclass, &mut t);
        eprintln!(
            "{name} vs {run}: {} values compared, largest relative difference {:.2e} (tie-dependent fields: {:.2e})",
            t.compared, t.max_rel, t.max_rel_ties
        );
        assert!(t.compared > 100);
    }
}

#[test]
fn binary_cbpe_by_size_matches_nannyml() {
    let r = run_binary(Chunking::Size(5000));
    assert_eq!(r.chunks.len(), 20);
    check_config("binary_size_5000", &r, false);
    // The car-loan analysis period has a real drop: CBPE raises alerts.
    assert!(r
        .alerts
        .iter()
        .any(|a| a.metric.as_deref() == Some("roc_auc")));
}

#[test]
fn binary_cbpe_by_month_matches_nannyml() {
    let r = run_binary(Chunking::Period(Period::Month));
    check_config("binary_period_month", &r, false);
}

#[test]
fn binary_cbpe_by_number_matches_nannyml() {
    let r = run_binary(Chunking::Number(7));
    check_config("binary_number_7", &r, false);
}

/// Assay's own calibration decision (`auto`) against NannyML's: equal wherever the decision
/// is clear; on prepaid_card the two ECEs are within 5 % (NannyML) and NannyML's own answer flips with
/// the sort (shipped: no; stable ECE sort: yes), so Assay warns that it is borderline.
#[test]
fn calibration_decision_agrees_with_nannyml_unless_borderline() {
    let r = run_multiclass(CalibrationChoice::Auto);
    let all = results();
    let nc = &all["configs"]["multiclass_size_6000"]["nannyml"]["needs_calibration"];
    for cal in &r.reference.calibration {
        let class = cal.class.as_deref().unwrap();
        let borderline = r.warnings.iter().any(|w| {
            w.message
                .contains(&format!("class '{class}' is borderline"))
        });
        eprintln!("{class}: ECE {:?} -> {:?}", cal.ece_before, cal.ece_after);
        if !borderline {
            assert_eq!(
                nc[class].as_bool().unwrap(),
                cal.calibrated,
                "calibration of {class}"
            );
        }
        assert_eq!(
            borderline,
            class == "prepaid_card",
            "{class}: {:?}",
            r.warnings
        );
    }
    let b = run_binary(Chunking::Size(5000));
    eprintln!("binary: {:?}", b.reference.calibration);
    assert!(b.reference.calibration[0].calibrated);
    assert_eq!(
        all["configs"]["binary_size_5000"]["nannyml"]["needs_calibration"].as_bool(),
        Some(true)
    );
}

#[test]
fn multiclass_cbpe_matches_nannyml() {
    let r = run_multiclass(nannyml_calibration("multiclass_size_6000"));
    check_config("multiclass_size_6000", &r, true);
}

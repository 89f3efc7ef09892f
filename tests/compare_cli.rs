//! `assay compare` end to end: the engine on model pairs (binary, multiclass, regression)
//! against scikit-learn / statsmodels / scipy numbers computed on the same onnxruntime
//! outputs (tests/fixtures/compare/compare.json), the CLI's JSON contract, the gate's exit
//! code and the bad-input corpus.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::PathBuf;

use assay::engine::compare::{compare_files, CompareSettings, Comparison, Roles};
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

mod support;
use support::{assay, root, stderr};

fn fixture() -> Value {
    let p = root().join("tests/fixtures/compare/compare.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

fn run(case: &Value, sensitive: &[&str], resamples: usize) -> Comparison {
    let models = [
        root().join(case["model_a"].as_str().expect("a")),
        root().join(case["model_b"].as_str().expect("b")),
    ];
    let roles = Roles {
        target: case["target"].as_str().expect("target").to_string(),
        positive_class: None,
        sensitive: sensitive.iter().map(|s| vec![s.to_string()]).collect(),
    };
    let mut settings = CompareSettings::default();
    settings.bootstrap.resamples = resamples;
    settings.bootstrap.seed = 3;
    // One inference thread, like the fixture script: ORT's float32 tree sums depend on the
    // thread layout (last-bit differences), single-threaded runs are reproducible.
    settings.infer.threads = 1;
    compare_files(
        &models,
        &root().join(case["data"].as_str().expect("data")),
        &roles,
        &settings,
        &Progress::none(),
    )
    .expect("compare")
}

/// 1e-9, except multiclass log loss: `evaluate` renormalises each clipped probability row
/// (scikit-learn < 1.5 did; 1.7 only warns), and the float32 rows of these models sum to
/// 1 ± 1e-7, so the two definitions differ by ~1e-7 relative.
fn tolerance(case: &Value, metric: &str) -> f64 {
    if case["task"] == "multiclass" && metric == "log_loss" {
        1e-6
    } else {
        1e-9
    }
}

#[test]
fn pairs_match_sklearn_statsmodels_and_scipy_on_onnxruntime_outputs() {
    let fx = fixture();
    let cases = fx["end_to_end"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let c = run(case, &[], 200);
        assert_eq!(c.models.len(), 2, "{name}");
        assert_eq!(c.pairs.len(), 1, "{name}");
        let p = &c.pairs[0];
        // Each model's metrics and the deltas B − A equal scikit-learn's on the same outputs.
        for (side, m) in [("metrics_a", &c.models[0]), ("metrics_b", &c.models[1])] {
            for (k, want) in case[side].as_object().expect("metrics") {
                let got = m.evaluation.metrics.get(k);
                match want.as_f64() {
                    Some(w) => {
                        let g = got.unwrap_or_else(|| panic!("{name} {side} {k} missing"));
                        let tol = tolerance(case, k);
                        assert!(close(g, w, tol), "{name} {side} {k}: {g} vs {w}");
                    }
                    None => assert!(got.is_none(), "{name} {side} {k}"),
                }
            }
        }
        for (k, want) in case["delta"].as_object().expect("delta") {
            let got = p
                .delta
                .get(k)
                .unwrap_or_else(|| panic!("{name} delta {k} missing"));
            let w = want.as_f64().expect("delta value");
            // Differences of metrics: 1e-9 of the metrics' size (the delta itself can be ~0).
            let scale = case["metrics_a"][k].as_f64().expect("a").abs()
                + case["metrics_b"][k].as_f64().expect("b").abs();
            let tol = tolerance(case, k);
            assert!(
                (got - w).abs() <= tol * scale,
                "{name} delta {k}: {got} vs {w}"
            );
        }
        if let Some(mc) = case.get("mcnemar") {
            let t = p.mcnemar_table.expect("table");
            for (i, row) in t.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    assert_eq!(
                        v,
                        mc["table"][i][j].as_u64().expect("count"),
                        "{name} table"
                    );
                }
            }
            let ex = p.mcnemar_exact_p_value.expect("exact");
            let want = mc["exact_p_value"].as_f64().expect("p");
            assert!(close(ex, want, 1e-12), "{name} exact {ex} vs {want}");
            match p.mcnemar_chi2_corrected {
                Some(chi) => {
                    let w = mc["chi2_p_value"].as_f64().expect("p");
                    assert!(
                        close(chi.p_value, w, 1e-9),
                        "{name} chi2 {} vs {w}",
                        chi.p_value
                    );
                }
                None => assert!(mc["chi2_statistic"].is_null()),
            }
            assert_eq!(
                p.label_disagreements,
                case["label_disagreements"].as_u64(),
                "{name}"
            );
            let r = p.label_disagreement_rate.expect("rate");
            assert!(close(
                r,
                case["label_disagreement_rate"].as_f64().expect("r"),
                1e-12
            ));
        } else {
            assert!(p.mcnemar_table.is_none() && p.mcnemar_exact_p_value.is_none());
            assert!(p.label_disagreements.is_none());
        }
        match case.get("delong") {
            Some(d) => {
                let got = p.delong.as_ref().expect("delong");
                for (field, g) in [
                    ("auc_a", got.auc_a),
                    ("auc_b", got.auc_b),
                    ("variance", got.variance),
                    ("z", got.z.expect("z")),
                    ("p_value", got.p_value.expect("p")),
                ] {
                    let w = d[field].as_f64().expect(field);
                    assert!(close(g, w, 1e-9), "{name} delong {field}: {g} vs {w}");
                }
                assert_eq!(p.delong_p_value, got.p_value);
                // DeLong's AUCs are the evaluation's ROC AUCs.
                let auc = c.models[0].evaluation.metrics.get("roc_auc").expect("auc");
                assert!(close(auc, got.auc_a, 1e-12));
            }
            None => {
                assert!(p.delong_p_value.is_none(), "{name}");
                assert!(
                    !p.notes.is_empty(),
                    "{name}: a note says why DeLong is absent"
                );
            }
        }
        for (field, g) in [
            ("mean_abs_prob_diff", p.mean_abs_prob_diff),
            ("max_abs_prob_diff", p.max_abs_prob_diff),
        ] {
            let w = case[field].as_f64().expect(field);
            assert!(close(g.expect(field), w, 1e-12), "{name} {field}");
        }
        for (field, g) in [("pearson_r", p.pearson_r), ("spearman_r", p.spearman_r)] {
            let w = case[field].as_f64().expect(field);
            assert!(
                close(g.expect(field), w, 1e-9),
                "{name} {field}: {g:?} vs {w}"
            );
        }
        let rows: Vec<u64> = p
            .top_disagreements
            .iter()
            .take(5)
            .map(|d| d.row as u64)
            .collect();
        let want: Vec<u64> = case["top_rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|v| v.as_u64().expect("row"))
            .collect();
        assert_eq!(rows, want, "{name} top disagreement rows");
        let d0 = &p.top_disagreements[0];
        assert!(close(
            (d0.score_b - d0.score_a).abs(),
            p.max_abs_prob_diff.expect("max"),
            1e-15
        ));
    }
}

#[test]
fn paired_intervals_are_seeded_and_tighter_than_unpaired_ones() {
    let fx = fixture();
    let case = &fx["end_to_end"][0];
    let c = run(case, &[], 300);
    let again = run(case, &[], 300);
    let p = &c.pairs[0];
    assert_eq!(
        p.delta_ci, again.pairs[0].delta_ci,
        "same seed, same intervals"
    );
    let [lo, hi] = p.delta_ci["roc_auc"];
    let d = p.delta.get("roc_auc").expect("delta");
    assert!(lo <= d && d <= hi, "{lo} {d} {hi}");
    // Pairing removes the row-sampling noise both models share: the interval of the
    // difference is far narrower than either model's own interval.
    let [alo, ahi] = c.models[0].evaluation.ci["roc_auc"];
    assert!(
        hi - lo < 0.5 * (ahi - alo),
        "paired {} vs single {}",
        hi - lo,
        ahi - alo
    );
    assert!(p.delta_ci.len() >= 10);
    // The gate facts expose the pair.
    assert_eq!(c.facts["delta.roc_auc"], d);
    assert_eq!(c.facts["delta_ci_low.roc_auc"], lo);
    assert!(c.gate.default_rules);
}

#[test]
fn slice_regressions_are_consistent_with_each_models_fairness_report() {
    let fx = fixture();
    let c = run(&fx["end_to_end"][0], &["sex", "race"], 200);
    assert_eq!(c.slices.len(), 2);
    let mut flagged = 0;
    for s in &c.slices {
        assert_eq!(s.models.len(), 2);
        let p = &s.pairs[0];
        assert_eq!(p.groups.len(), s.models[0].groups.len());
        for (g, gd) in p.groups.iter().enumerate() {
            let (ga, gb) = (&s.models[0].groups[g], &s.models[1].groups[g]);
            assert_eq!(ga.group, gd.group);
            for (m, d) in &gd.delta.0 {
                let want = ga.metrics.get(m).zip(gb.metrics.get(m)).map(|(a, b)| b - a);
                assert_eq!(*d, want, "{m}");
            }
            for m in &gd.worse_metrics {
                let [lo, hi] = gd.delta_ci[m];
                let bad = match m.as_str() {
                    "false_positive_rate" | "false_negative_rate" => lo > 0.0,
                    _ => hi < 0.0,
                };
                assert!(bad, "{m} flagged with [{lo}, {hi}]");
            }
            assert_eq!(gd.significantly_worse, !gd.worse_metrics.is_empty());
            flagged += usize::from(gd.significantly_worse);
        }
    }
    // v2 trades precision for recall: the large groups show a significantly higher FPR.
    assert!(flagged > 0);
    assert!(c
        .facts
        .contains_key("max_group_worsening.true_positive_rate"));
    assert!(c.facts.contains_key("groups_significantly_worse"));
    assert!(c
        .facts
        .contains_key("disparity_delta.sex.demographic_parity_difference"));
}

fn write_tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("assay-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

const V1: &str = "sample_models/adult_gbdt_v1.onnx";
const V2: &str = "sample_models/adult_gbdt_v2.onnx";
const LOGREG: &str = "sample_models/adult_logreg.onnx";
const ADULT: &str = "sample_data/adult_eval.csv";
const TARGET: &str = "income_over_50k";

#[test]
fn cli_json_contract() {
    let out = assay(&[
        "compare",
        "--model",
        V1,
        "--model",
        V2,
        "--data",
        ADULT,
        "--target",
        TARGET,
        "--sensitive",
        "sex",
        "--bootstrap",
        "100",
        "--seed",
        "1",
        "--threshold",
        "0.5",
        "--json",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for key in ["models", "pairs", "slices", "gate", "facts", "task", "n"] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    let models = j["models"].as_array().expect("models");
    assert_eq!(models.len(), 2);
    assert_eq!(models[0]["label"], "adult_gbdt 1.0");
    assert_eq!(models[1]["label"], "adult_gbdt 2.0");
    for m in models {
        assert!(m["metrics"]["roc_auc"].is_f64());
        assert!(m["ci"]["roc_auc"].is_array());
        let fpr = m["curves"]["roc"]["fpr"].as_array().expect("roc curve");
        assert!(
            fpr.len() >= 2 && fpr.len() <= 500,
            "downsampled ROC: {}",
            fpr.len()
        );
        assert!(m["curves"]["precision_recall"]["precision"].is_array());
    }
    let p = &j["pairs"][0];
    for key in [
        "a",
        "b",
        "delta",
        "delta_ci",
        "mcnemar_table",
        "mcnemar_exact_p_value",
        "mcnemar_chi2_corrected",
        "delong_p_value",
        "delong",
        "label_disagreements",
        "label_disagreement_rate",
        "mean_abs_prob_diff",
        "max_abs_prob_diff",
        "pearson_r",
        "spearman_r",
        "top_disagreements",
    ] {
        assert!(p.get(key).is_some(), "pair lacks {key}");
    }
    assert!(p["delta"]["roc_auc"].is_f64());
    assert!(p["mcnemar_chi2_corrected"]["statistic"].is_f64());
    assert!(p["mcnemar_chi2_corrected"]["p_value"].is_f64());
    assert_eq!(p["mcnemar_table"].as_array().expect("t").len(), 2);
    let top = &p["top_disagreements"][0];
    for key in ["row", "score_a", "score_b", "label_a", "label_b", "target"] {
        assert!(top.get(key).is_some(), "disagreement lacks {key}");
    }
    let g = &j["slices"][0]["pairs"][0]["groups"][0];
    for key in [
        "group",
        "count",
        "delta",
        "delta_ci",
        "significantly_worse",
        "worsening",
    ] {
        assert!(g.get(key).is_some(), "group delta lacks {key}");
    }
    assert!(g["significantly_worse"].is_boolean());
    assert_eq!(
        j["slices"][0]["models"].as_array().expect("reports").len(),
        2
    );
    let gate = &j["gate"];
    assert!(gate["passed"].is_boolean());
    assert_eq!(gate["baseline"], "adult_gbdt 1.0");
    for r in gate["rules"].as_array().expect("rules") {
        assert!(r["reason"]
            .as_str()
            .expect("reason")
            .contains(r["rule"]["fact"].as_str().expect("fact")));
    }
}

#[test]
fn gate_failure_exits_3_and_missing_facts_are_not_measured() {
    let gate = write_tmp(
        "strict.json",
        r#"{"rules": [{"fact": "delta.roc_auc", "op": ">=", "value": 0.5},
                      {"fact": "p95_latency_ms", "op": "<=", "value": 2}]}"#,
    );
    let g = gate.to_str().expect("path");
    let out = assay(&[
        "compare",
        "--model",
        V1,
        "--model",
        V2,
        "--data",
        ADULT,
        "--target",
        TARGET,
        "--bootstrap",
        "0",
        "--gate",
        g,
        "--json",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let j: Value = serde_json::from_slice(&out.stdout).expect("JSON still written");
    assert_eq!(j["gate"]["passed"], false);
    assert_eq!(j["gate"]["default_rules"], false);
    let rules = j["gate"]["rules"].as_array().expect("rules");
    assert!(rules[0]["reason"]
        .as_str()
        .expect("r")
        .contains("(needs ≥ 0.5)"));
    assert_eq!(rules[1]["reason"], "p95_latency_ms: not measured");
    // Human output, same exit code.
    let out = assay(&[
        "compare",
        "--model",
        V1,
        "--model",
        V2,
        "--data",
        ADULT,
        "--target",
        TARGET,
        "--bootstrap",
        "0",
        "--gate",
        g,
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL") && text.contains("not measured"),
        "{text}"
    );
    assert!(
        text.contains("McNemar") && text.contains("DeLong"),
        "{text}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let garbage = write_tmp("garbage.json", "{ not json");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--model", V1], "at least two models"),
        (
            vec!["--model", V1, "--model", "sample_models/abalone_rf.onnx"],
            "different tasks",
        ),
        (
            vec!["--model", V1, "--model", V2, "--target", "no_such_col"],
            "no_such_col",
        ),
        (
            vec!["--model", V1, "--model", V2, "--sensitive", "nope"],
            "nope",
        ),
        (
            vec![
                "--model",
                V1,
                "--model",
                V2,
                "--gate",
                garbage.to_str().expect("p"),
            ],
            "garbage.json",
        ),
        (
            vec!["--model", V1, "--model", "tests/fixtures/bad/garbage.onnx"],
            "garbage.onnx",
        ),
        (
            vec!["--model", V1, "--model", V2, "--threshold", "2"],
            "threshold",
        ),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["compare", "--data", ADULT];
        if !extra.contains(&"--target") {
            args.extend(["--target", TARGET]);
        }
        args.extend(extra.iter().copied());
        args.extend(["--bootstrap", "0"]);
        let out = assay(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // Data with a missing value in a feature: the trees route NaN, adult_logreg returns NaN
    // for it, which is a row-precise error.
    let out = assay(&[
        "compare",
        "--model",
        V1,
        "--model",
        LOGREG,
        "--data",
        "tests/fixtures/bad/nan_in_feature.csv",
        "--target",
        TARGET,
        "--bootstrap",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("row 5: "), "{}", stderr(&out));
}

/// adult_gbdt 1.0, adult_gbdt 2.0 and adult_logreg 1.0, in that order.
fn three_models() -> Vec<PathBuf> {
    [V1, V2, LOGREG].iter().map(|p| root().join(p)).collect()
}

/// The models compared on the Adult evaluation data, no sensitive columns.
fn compare_adult(
    models: &[PathBuf],
    settings: &CompareSettings,
) -> assay::engine::Result<Comparison> {
    let roles = Roles {
        target: TARGET.into(),
        positive_class: None,
        sensitive: Vec::new(),
    };
    compare_files(
        models,
        &root().join(ADULT),
        &roles,
        settings,
        &Progress::none(),
    )
}

#[test]
fn three_models_give_every_pair_and_the_gate_judges_first_against_last() {
    let mut settings = CompareSettings::default();
    settings.bootstrap.resamples = 0;
    let c = compare_adult(&three_models(), &settings).expect("compare");
    let names: Vec<(String, String)> = c.pairs.iter().map(|p| (p.a.clone(), p.b.clone())).collect();
    assert_eq!(names.len(), 3);
    assert_eq!(
        names[2],
        ("adult_gbdt 2.0".to_string(), "adult_logreg 1.0".to_string())
    );
    assert_eq!(c.gate.baseline, "adult_gbdt 1.0");
    assert_eq!(c.gate.candidate, "adult_logreg 1.0");
    // No bootstrap: the interval rule cannot be measured, so the default gate fails.
    assert!(!c.gate.result.passed);
    assert!(c
        .gate
        .result
        .rules
        .iter()
        .any(|r| r.reason.ends_with("not measured")));
    assert!(c.pairs.iter().all(|p| p.delta_ci.is_empty()));
}

#[test]
fn the_gate_judges_the_chosen_pair() {
    let three = three_models();
    let mut settings = CompareSettings::default();
    settings.bootstrap.resamples = 0;
    let run = compare_adult;
    // Judging models 1 and 2 of three = comparing those two alone (first against last).
    let alone = run(&three[..2], &settings).expect("two models");
    settings.gate_pair = Some((0, 1));
    let chosen = run(&three, &settings).expect("three models, pair 1,2");
    assert_eq!(chosen.gate.baseline, "adult_gbdt 1.0");
    assert_eq!(chosen.gate.candidate, "adult_gbdt 2.0");
    assert_eq!(chosen.facts, alone.facts);
    assert_eq!(chosen.gate.result.passed, alone.gate.result.passed);
    // A pair that is not two of the models, baseline first, is a usage error.
    for bad in [(1, 0), (0, 3), (2, 2)] {
        settings.gate_pair = Some(bad);
        let err = run(&three, &settings).expect_err("bad pair");
        assert_eq!(err.kind(), ErrorKind::BadInput, "{bad:?}");
        assert!(err.to_string().contains("gate pair"), "{err}");
    }
    // The CLI takes 1-based positions and refuses a reversed pair at parse time.
    let mut args = vec![
        "compare",
        "--data",
        ADULT,
        "--target",
        TARGET,
        "--bootstrap",
        "0",
    ];
    for m in [V1, V2, LOGREG] {
        args.extend(["--model", m]);
    }
    let mut ok = args.clone();
    ok.extend(["--gate-pair", "1,2", "--json", "-"]);
    let out = assay(&ok);
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        json["gate"]["candidate"],
        "adult_gbdt 2.0",
        "{}",
        stderr(&out)
    );
    assert_eq!(json["gate"]["baseline"], "adult_gbdt 1.0");
    let mut reversed = args.clone();
    reversed.extend(["--gate-pair", "2,1"]);
    let out = assay(&reversed);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("baseline first"), "{}", stderr(&out));
}

#[test]
fn regression_slices_and_multiclass_without_slices() {
    let fx = fixture();
    let reg = &fx["end_to_end"][3];
    assert_eq!(reg["task"], "regression");
    // f1 of the diabetes data is its two-valued sex column.
    let c = run(reg, &["f1"], 100);
    assert_eq!(c.slices.len(), 1);
    let s = &c.slices[0];
    assert_eq!(
        s.metrics,
        vec!["mae", "rmse", "r2", "mean_prediction", "mean_target"]
    );
    assert_eq!(s.pairs[0].groups.len(), 2);
    for g in &s.pairs[0].groups {
        // The target is the same for both models: its group mean does not move.
        assert_eq!(g.delta.get("mean_target"), Some(0.0));
        assert!(g.worsening.get("mae").is_some());
    }
    assert!(c.facts.contains_key("groups_significantly_worse"));
    assert!(c
        .gate
        .result
        .rules
        .iter()
        .any(|r| r.rule.fact == "groups_significantly_worse"));
    assert!(c.pairs[0].mcnemar_table.is_none() && c.pairs[0].delong.is_none());
    let mc = &fx["end_to_end"][2];
    assert_eq!(mc["task"], "multiclass");
    let c = run(mc, &["sepal_width"], 50);
    assert!(c.slices.is_empty());
    assert!(c.warnings.iter().any(|w| w.message.contains("multiclass")));
    assert!(c.pairs[0].notes.iter().any(|n| n.contains("DeLong")));
    assert!(c
        .gate
        .result
        .rules
        .iter()
        .any(|r| r.rule.fact == "delta.accuracy"));
}

//! Fairness engine against fairlearn 0.15 on the committed fixtures
//! (`tests/fixtures/fairness/`, made by `make_fairness_fixtures.py`): group metrics,
//! MetricFrame summaries and disparities at 1e-9, undefined values as null, binning, missing
//! groups, regression, the sample model end to end; bootstrap determinism and coverage;
//! policy verdicts; bad input. (End to end, slices and CLI: `fairness_slices_cli.rs`.)

#![allow(clippy::expect_used)] // tests may expect (helpers outside #[test] included)

use std::collections::BTreeMap;
use std::path::PathBuf;

use assay::engine::data::{load, Dataset};
use assay::engine::fairness::policy::{judge, Op, Policy, Rule, Scope, Verdict};
use assay::engine::fairness::stats::{Outcomes, DISPARITIES, STATS};
use assay::engine::fairness::{fairness, fairness_outcomes, FairnessOptions, FairnessReport};
use assay::engine::model::Model;
use assay::engine::{ErrorKind, Progress};
use polars::prelude::*;
use serde_json::Value;

mod support;
use support::root;

const TOL: f64 = 1e-9;

fn fixture() -> Value {
    let p = root().join("tests/fixtures/fairness/fairness.json");
    serde_json::from_str(&std::fs::read_to_string(&p).expect("fixture")).expect("json")
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (a - b).abs() <= TOL * (1.0 + b.abs()),
        _ => false,
    }
}

fn check(ctx: &str, got: &Value, want: &Value) {
    assert!(
        close(got.as_f64(), want.as_f64()),
        "{ctx}: Assay {got}, fairlearn {want}"
    );
}

fn column_f64(ds: &Dataset, name: &str) -> Vec<f64> {
    let c = ds.df.column(name).expect("column");
    let c = c.cast(&DataType::Float64).expect("cast");
    c.f64().expect("f64").into_no_null_iter().collect()
}

fn outcomes_of(ds: &Dataset, task: &str) -> Outcomes {
    let y = column_f64(ds, "y_true");
    let p = column_f64(ds, "y_pred");
    if task == "binary" {
        Outcomes::Binary {
            y: y.iter().map(|&v| v == 1.0).collect(),
            pred: p.iter().map(|&v| v == 1.0).collect(),
        }
    } else {
        Outcomes::Regression { y, pred: p }
    }
}

/// Maps a fixture group label to Assay's (binned case: `bin<k>` is the k-th bin label).
fn label_map(case: &Value, slice: &Value) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if case["name"] == "binned" {
        let labels = slice["groupings"][0]["labels"].as_array().expect("labels");
        for (k, l) in labels.iter().enumerate() {
            let l = l.as_str().expect("label").to_string();
            if l == "(missing)" {
                m.insert(l.clone(), l);
            } else {
                m.insert(format!("bin{k}"), l);
            }
        }
    }
    m
}

fn compare_slice(case: &Value, ctx: &str, slice: &Value, want: &Value, binary: bool) {
    let names: Vec<&str> = if binary {
        vec![
            "selection_rate",
            "accuracy",
            "true_positive_rate",
            "false_positive_rate",
            "true_negative_rate",
            "false_negative_rate",
            "precision",
        ]
    } else {
        vec!["mae", "rmse", "r2", "mean_prediction", "mean_target"]
    };
    let map = label_map(case, slice);
    let groups = slice["groups"].as_array().expect("groups");
    let want_h = want["groups_honest"].as_array().expect("groups");
    let want_f = want["groups_fairlearn"].as_array().expect("groups");
    assert_eq!(groups.len(), want_h.len(), "{ctx}: number of groups");
    for (wh, wf) in want_h.iter().zip(want_f) {
        let key: BTreeMap<String, String> = wh["group"]
            .as_object()
            .expect("group")
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().expect("label").to_string();
                (k.clone(), map.get(&v).cloned().unwrap_or(v))
            })
            .collect();
        let g = groups
            .iter()
            .find(|g| {
                let gk: BTreeMap<String, String> = g["group"]
                    .as_object()
                    .expect("group")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_string()))
                    .collect();
                gk == key
            })
            .unwrap_or_else(|| panic!("{ctx}: group {key:?} missing"));
        let gctx = format!("{ctx} {key:?}");
        assert_eq!(g["count"], wh["count"], "{gctx}: count");
        let undefined: Vec<&str> = g["undefined"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for m in &names {
            check(&format!("{gctx} {m}"), &g[*m], &wh["metrics"][*m]);
            // Where Assay says undefined but fairlearn has a number, fairlearn's is 0.
            if wh["metrics"][*m].is_null() && !wf["metrics"][*m].is_null() {
                assert!(undefined.contains(m), "{gctx}: {m} not flagged undefined");
                assert_eq!(wf["metrics"][*m].as_f64(), Some(0.0), "{gctx}: {m}");
            } else {
                assert!(!undefined.contains(m), "{gctx}: {m} flagged undefined");
            }
        }
    }
    for m in &names {
        for s in STATS {
            let key = format!("{m}.{s}");
            check(
                &format!("{ctx} {key}"),
                &slice["summaries"][*m][s],
                &want["summaries_honest"][*m][s],
            );
            let fl = slice["fairlearn"]
                .get(&key)
                .unwrap_or(&slice["summaries"][*m][s]);
            check(
                &format!("{ctx} fairlearn {key}"),
                fl,
                &want["summaries_fairlearn"][*m][s],
            );
        }
        check(
            &format!("{ctx} overall {m}"),
            &slice["overall"][*m],
            &want["summaries_honest"][*m]["overall"],
        );
    }
    if binary {
        for d in DISPARITIES {
            check(
                &format!("{ctx} {d}"),
                &slice[d],
                &want["disparities_honest"][d],
            );
            let fl = slice["fairlearn"].get(d).unwrap_or(&slice[d]);
            check(
                &format!("{ctx} fairlearn {d}"),
                fl,
                &want["disparities_fairlearn"][d],
            );
        }
    } else {
        assert!(slice.get("demographic_parity_difference").is_none());
    }
}

fn slicings_of(case: &Value) -> Vec<Vec<String>> {
    case["slicings"]
        .as_array()
        .expect("slicings")
        .iter()
        .map(|s| {
            s["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c.as_str().expect("column").to_string())
                .collect()
        })
        .collect()
}

fn to_json(r: &FairnessReport) -> Value {
    serde_json::to_value(r).expect("serialises")
}

#[test]
fn group_metrics_summaries_and_disparities_match_fairlearn() {
    let fx = fixture();
    for case in fx["cases"].as_array().expect("cases") {
        let Some(file) = case["file"].as_str() else {
            continue;
        };
        let name = case["name"].as_str().expect("name");
        let task = case["task"].as_str().expect("task");
        let ds = load(
            &root().join("tests/fixtures/fairness").join(file),
            &Progress::none(),
        )
        .expect("loads");
        let outcomes = outcomes_of(&ds, task);
        let mut opts = FairnessOptions::new("y_true", slicings_of(case));
        opts.bootstrap.resamples = 0;
        let report = fairness_outcomes(&ds, &outcomes, None, &opts, &Progress::none())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let json = to_json(&report);
        if let Some(edges) = case.get("edges") {
            let got = &json["slices"][0]["groupings"][0]["edges"];
            let (g, w) = (
                got.as_array().expect("edges"),
                edges.as_array().expect("edges"),
            );
            assert_eq!(g.len(), w.len(), "{name}: edges");
            for (a, b) in g.iter().zip(w) {
                check(&format!("{name} edge"), a, b);
            }
        }
        for (i, want) in case["slicings"].as_array().expect("s").iter().enumerate() {
            let ctx = format!("{name} slicing {i}");
            compare_slice(case, &ctx, &json["slices"][i], want, task == "binary");
        }
    }
}

#[test]
fn sample_model_end_to_end_matches_fairlearn_on_onnxruntime_predictions() {
    let fx = fixture();
    let case = fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == "adult_logreg")
        .expect("adult case");
    let model = Model::load(&root().join(case["model"].as_str().expect("model"))).expect("model");
    let ds = load(
        &root().join(case["data"].as_str().expect("data")),
        &Progress::none(),
    )
    .expect("data");
    let mut opts =
        FairnessOptions::new(case["target"].as_str().expect("target"), slicings_of(case));
    opts.bootstrap.resamples = 200;
    let report = fairness(&model, &ds, &opts, &Progress::none()).expect("fairness");
    let json = to_json(&report);
    for (i, want) in case["slicings"].as_array().expect("s").iter().enumerate() {
        compare_slice(
            case,
            &format!("adult slicing {i}"),
            &json["slices"][i],
            want,
            true,
        );
    }
    // Intervals exist for the disparities and contain the point estimate's neighbourhood.
    let s = &json["slices"][0];
    let ci = s["ci"]["demographic_parity_difference"]
        .as_array()
        .expect("ci");
    let v = s["demographic_parity_difference"].as_f64().expect("value");
    let (lo, hi) = (ci[0].as_f64().expect("lo"), ci[1].as_f64().expect("hi"));
    assert!(lo <= v && v <= hi, "dp difference {v} outside [{lo}, {hi}]");
    assert_eq!(s["policy"].as_array().expect("policy").len(), 3);
}

fn synthetic(n: usize, seed: u64, p_sel: f64) -> (Dataset, Outcomes) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let grp: Vec<&str> = (0..n)
        .map(|i| {
            if i % 20 == 0 {
                "small"
            } else if i % 2 == 0 {
                "a"
            } else {
                "b"
            }
        })
        .collect();
    let y: Vec<bool> = (0..n).map(|_| rng.random_bool(0.4)).collect();
    let pred: Vec<bool> = (0..n).map(|_| rng.random_bool(p_sel)).collect();
    let df = DataFrame::new_infer_height(vec![Column::new("grp".into(), grp)]).expect("frame");
    let ds = Dataset {
        path: PathBuf::from("synthetic.csv"),
        sha256: String::new(),
        format: assay::engine::data::Format::Csv,
        file_size: 0,
        df,
    };
    (ds, Outcomes::Binary { y, pred })
}

#[test]
fn bootstrap_is_deterministic_and_covers() {
    let (ds, out) = synthetic(400, 1, 0.3);
    let mut opts = FairnessOptions::new("y", vec![vec!["grp".to_string()]]);
    opts.bootstrap.resamples = 300;
    let a = to_json(&fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect("a"));
    let b = to_json(&fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect("b"));
    assert_eq!(
        a["slices"][0]["ci"], b["slices"][0]["ci"],
        "same seed, same CI"
    );
    assert_eq!(a["slices"][0]["groups"], b["slices"][0]["groups"]);
    opts.bootstrap.seed = 9;
    let c = to_json(&fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect("c"));
    assert_ne!(
        a["slices"][0]["ci"], c["slices"][0]["ci"],
        "another seed differs"
    );
    // The 20-row group is flagged, the others are not.
    for g in a["slices"][0]["groups"].as_array().expect("groups") {
        let small = g["group"]["grp"] == "small";
        assert_eq!(
            g["too_small"].as_bool(),
            Some(small && g["count"].as_u64() < Some(30))
        );
        assert!(g["ci"]["selection_rate"].is_array(), "group CI present");
    }
    // The 20-row group is left out of the large-groups-only disparities.
    let lg = &a["slices"][0]["large_groups_only"];
    assert_eq!(lg["groups"], 2);
    assert!(lg["ci"]["demographic_parity_difference"].is_array());
    let rule = &a["slices"][0]["policy"][0];
    assert_eq!(rule["scope"], "large_groups_only");
    assert_eq!(
        rule["value"],
        lg["values"][rule["metric"].as_str().expect("name")]
    );
    // Coverage sanity: the true selection rate (0.3) of group "a" lies in its 95% interval
    // in most of 60 independent datasets (binomial: expect ~57; accept >= 50).
    opts.bootstrap.resamples = 200;
    opts.bootstrap.seed = 0;
    let mut covered = 0;
    for seed in 0..60 {
        let (ds, out) = synthetic(400, 100 + seed, 0.3);
        let r = to_json(&fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect("r"));
        let g = r["slices"][0]["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .find(|g| g["group"]["grp"] == "a")
            .cloned()
            .expect("group a");
        let ci = &g["ci"]["selection_rate"];
        let (lo, hi) = (ci[0].as_f64().expect("lo"), ci[1].as_f64().expect("hi"));
        if lo <= 0.3 && 0.3 <= hi {
            covered += 1;
        }
    }
    assert!(covered >= 50, "coverage {covered}/60");
}

#[test]
fn policy_verdicts_use_the_interval() {
    let ge = Rule {
        metric: "demographic_parity_ratio".into(),
        op: Op::Ge,
        threshold: 0.8,
    };
    assert_eq!(
        judge(&ge, Some(0.9), Some([0.85, 0.95]), Scope::AllGroups).result,
        Verdict::Pass
    );
    assert_eq!(
        judge(&ge, Some(0.7), Some([0.6, 0.75]), Scope::AllGroups).result,
        Verdict::Fail
    );
    assert_eq!(
        judge(&ge, Some(0.82), Some([0.7, 0.9]), Scope::AllGroups).result,
        Verdict::Inconclusive
    );
    assert_eq!(
        judge(&ge, None, None, Scope::AllGroups).result,
        Verdict::Undefined
    );
    assert_eq!(
        judge(&ge, Some(0.9), None, Scope::AllGroups).result,
        Verdict::Pass
    );
    let le = Rule {
        metric: "equalized_odds_difference".into(),
        op: Op::Le,
        threshold: 0.1,
    };
    assert_eq!(
        judge(&le, Some(0.05), Some([0.01, 0.08]), Scope::AllGroups).result,
        Verdict::Pass
    );
    assert_eq!(
        judge(&le, Some(0.2), Some([0.15, 0.3]), Scope::AllGroups).result,
        Verdict::Fail
    );
    // Policy files: round trip, bad JSON, unknown metric.
    let dir = tempfile::tempdir().expect("tmp");
    let good = dir.path().join("p.json");
    std::fs::write(
        &good,
        r#"{"rules":[{"metric":"accuracy.difference_between_groups","op":"<=","threshold":0.05}]}"#,
    )
    .expect("write");
    let p = Policy::load(&good).expect("loads");
    assert_eq!(p.rules[0].op, Op::Le);
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"rules":[{"metric":"x","op":"=>","threshold":1}]}"#,
    )
    .expect("w");
    let e = Policy::load(&bad).expect_err("bad op");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let (ds, out) = synthetic(200, 3, 0.5);
    let mut opts = FairnessOptions::new("y", vec![vec!["grp".to_string()]]);
    opts.policy = Some(Policy {
        rules: vec![Rule {
            metric: "no_such_metric".into(),
            op: Op::Ge,
            threshold: 0.8,
        }],
    });
    let e = fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect_err("unknown");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("no_such_metric"));
}

#[test]
fn bad_input_is_reported_not_panicked() {
    let (ds, out) = synthetic(100, 4, 0.5);
    let opts = FairnessOptions::new("y", vec![vec!["nope".to_string()]]);
    let e = fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("nope"), "{e}");
    let opts = FairnessOptions::new("y", vec![]);
    assert!(fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).is_err());
    let mut opts = FairnessOptions::new("y", vec![vec!["grp".to_string()]]);
    opts.binning.cuts.insert("grp".into(), vec![1.0]);
    let e = fairness_outcomes(&ds, &out, None, &opts, &Progress::none()).expect_err("cuts");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let short = Outcomes::Binary {
        y: vec![true],
        pred: vec![true],
    };
    let opts = FairnessOptions::new("y", vec![vec!["grp".to_string()]]);
    assert!(fairness_outcomes(&ds, &short, None, &opts, &Progress::none()).is_err());
}

#[test]
fn cancelled_work_stops_with_cancelled() {
    let (ds, out) = synthetic(2000, 8, 0.4);
    let mut opts = FairnessOptions::new("y", vec![vec!["grp".to_string()]]);
    opts.bootstrap.resamples = 500;
    let p = Progress::none();
    p.cancel();
    let e = fairness_outcomes(&ds, &out, None, &opts, &p).expect_err("cancelled");
    assert_eq!(e.kind(), ErrorKind::Cancelled);
}

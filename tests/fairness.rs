//! Fairness engine against fairlearn 0.15 on the committed fixtures
//! (`tests/fixtures/fairness/`, made by `make_fairness_fixtures.py`): group metrics,
//! MetricFrame summaries and disparities at 1e-9, undefined values as null, binning, missing
//! groups, regression, the sample model end to end; bootstrap determinism and coverage;
//! policy verdicts; weak-slice discovery; bad input.

#![allow(clippy::expect_used)] // tests may expect (helpers outside #[test] included)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assay::engine::data::{load, Dataset};
use assay::engine::fairness::policy::{judge, Op, Policy, Rule, Verdict};
use assay::engine::fairness::slices::{search, SliceSearchOptions};
use assay::engine::fairness::stats::{Outcomes, DISPARITIES, STATS};
use assay::engine::fairness::{fairness, fairness_outcomes, FairnessOptions, FairnessReport};
use assay::engine::model::Model;
use assay::engine::{ErrorKind, Progress};
use polars::prelude::*;
use serde_json::Value;

const TOL: f64 = 1e-9;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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
        judge(&ge, Some(0.9), Some([0.85, 0.95])).result,
        Verdict::Pass
    );
    assert_eq!(
        judge(&ge, Some(0.7), Some([0.6, 0.75])).result,
        Verdict::Fail
    );
    assert_eq!(
        judge(&ge, Some(0.82), Some([0.7, 0.9])).result,
        Verdict::Inconclusive
    );
    assert_eq!(judge(&ge, None, None).result, Verdict::Undefined);
    assert_eq!(judge(&ge, Some(0.9), None).result, Verdict::Pass);
    let le = Rule {
        metric: "equalized_odds_difference".into(),
        op: Op::Le,
        threshold: 0.1,
    };
    assert_eq!(
        judge(&le, Some(0.05), Some([0.01, 0.08])).result,
        Verdict::Pass
    );
    assert_eq!(
        judge(&le, Some(0.2), Some([0.15, 0.3])).result,
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
fn weak_slice_discovery_finds_a_planted_slice() {
    use rand::{Rng, SeedableRng};
    let n = 20_000;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
    let c: Vec<&str> = (0..n).map(|i| ["u", "v", "w", "z"][i % 4]).collect();
    let d: Vec<&str> = (0..n).map(|i| ["x", "y", "q"][(i / 4) % 3]).collect();
    let age: Vec<f64> = (0..n).map(|_| rng.random_range(18.0..80.0)).collect();
    let y: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
    // 95% accurate, except 60% where c = w and d = q.
    let pred: Vec<bool> = (0..n)
        .map(|i| {
            let acc = if c[i] == "w" && d[i] == "q" {
                0.6
            } else {
                0.95
            };
            if rng.random_bool(acc) {
                y[i]
            } else {
                !y[i]
            }
        })
        .collect();
    let df = DataFrame::new_infer_height(vec![
        Column::new("c".into(), c.clone()),
        Column::new("d".into(), d.clone()),
        Column::new("age".into(), age),
    ])
    .expect("frame");
    let ds = Dataset {
        path: PathBuf::from("planted.csv"),
        sha256: String::new(),
        format: assay::engine::data::Format::Csv,
        file_size: 0,
        df,
    };
    let out = Outcomes::Binary {
        y: y.clone(),
        pred: pred.clone(),
    };
    let opts = SliceSearchOptions::new("y");
    let t = std::time::Instant::now();
    let res = search(&ds, &out, None, &opts, &Progress::none()).expect("search");
    assert!(t.elapsed().as_secs_f64() < 5.0);
    let top = &res.slices[0];
    let cond: BTreeMap<&str, &str> = top
        .conditions
        .0
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        cond,
        BTreeMap::from([("c", "w"), ("d", "q")]),
        "{:?}",
        res.slices
    );
    // Its numbers, recomputed directly.
    let rows: Vec<usize> = (0..n).filter(|&i| c[i] == "w" && d[i] == "q").collect();
    let acc = rows.iter().filter(|&&i| y[i] == pred[i]).count() as f64 / rows.len() as f64;
    let overall = (0..n).filter(|&i| y[i] == pred[i]).count() as f64 / n as f64;
    assert_eq!(top.count, rows.len());
    assert_eq!(
        top.rows,
        rows.iter().map(|&i| i as u32).collect::<Vec<u32>>(),
        "slice rows"
    );
    assert!((top.metric - acc).abs() < 1e-12);
    assert!((res.overall - overall).abs() < 1e-12);
    assert!((top.gap - (overall - acc)).abs() < 1e-12);
    assert!(top.ci[0] < top.gap && top.gap < top.ci[1]);
    assert!(top.p_value.expect("p") < 1e-6);
    assert!(res.slices.iter().all(|s| s.count >= res.min_size));
    assert_eq!(res.min_size, 1000);
    // Pairs: every column searched, age binned into quartiles.
    assert_eq!(res.columns.len(), 3);
    assert_eq!(res.columns[2].labels.len(), 4);
    let bad = SliceSearchOptions {
        metric: Some("auc".into()),
        ..SliceSearchOptions::new("y")
    };
    let e = search(&ds, &out, None, &bad, &Progress::none()).expect_err("metric");
    assert_eq!(e.kind(), ErrorKind::BadInput);
}

#[test]
fn cli_fairness_and_slices_json_contract() {
    let bin = env!("CARGO_BIN_EXE_assay");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .current_dir(root())
            .output()
            .expect("runs")
    };
    let out = run(&[
        "fairness",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--sensitive",
        "sex",
        "--sensitive",
        "sex+race",
        "--bootstrap",
        "100",
        "--json",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let slices = v["slices"].as_array().expect("slices");
    assert_eq!(slices.len(), 2);
    assert_eq!(slices[1]["columns"], serde_json::json!(["sex", "race"]));
    for key in [
        "groups",
        "overall",
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "equal_opportunity_difference",
        "equal_opportunity_ratio",
        "ci",
        "policy",
    ] {
        assert!(slices[0].get(key).is_some(), "slice key {key}");
    }
    let g = &slices[1]["groups"][0];
    for key in [
        "group",
        "count",
        "selection_rate",
        "accuracy",
        "true_positive_rate",
        "false_positive_rate",
        "true_negative_rate",
        "false_negative_rate",
        "precision",
        "ci",
        "too_small",
    ] {
        assert!(g.get(key).is_some(), "group key {key}");
    }
    let out = run(&[
        "slices",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--min-size",
        "0.05",
        "--json",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!v["slices"].as_array().expect("slices").is_empty());
    // Bad input: exit code 2 with a clear message.
    for (args, needle) in [
        (vec!["--sensitive", "no_such_col"], "no_such_col"),
        (vec!["--sensitive", "age", "--cuts", "age=x"], "cut points"),
        (
            vec![
                "--sensitive",
                "sex",
                "--policy",
                "tests/fixtures/bad/clean.csv",
            ],
            "policy",
        ),
    ] {
        let mut a = vec![
            "fairness",
            "--model",
            "sample_models/adult_logreg.onnx",
            "--data",
            "sample_data/adult_eval.csv",
            "--target",
            "income_over_50k",
            "--bootstrap",
            "0",
        ];
        a.extend(args);
        let out = run(&a);
        assert_eq!(out.status.code(), Some(2), "{a:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{a:?}: {err}");
    }
    let _ = Path::new("unused");
}

#[test]
fn dropped_rows_keep_sensitive_columns_aligned() {
    // Blank the `age` feature on some rows: with --drop-invalid the result must equal running
    // on the file with those rows removed (sensitive values stay with their predictions).
    let src = std::fs::read_to_string(root().join("sample_data/adult_eval.csv")).expect("csv");
    let mut lines = src.lines();
    let header = lines.next().expect("header").to_string();
    let (mut blanked, mut removed) = (vec![header.clone()], vec![header]);
    for (i, line) in lines.enumerate() {
        if i % 7 == 3 {
            let rest = line.split_once(',').expect("comma").1;
            blanked.push(format!(",{rest}"));
        } else {
            blanked.push(line.to_string());
            removed.push(line.to_string());
        }
    }
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (
        dir.path().join("blanked.csv"),
        dir.path().join("removed.csv"),
    );
    std::fs::write(&a, blanked.join("\n") + "\n").expect("write");
    std::fs::write(&b, removed.join("\n") + "\n").expect("write");
    let model = Model::load(&root().join("sample_models/adult_logreg.onnx")).expect("model");
    let mut opts = FairnessOptions::new(
        "income_over_50k",
        vec![
            vec!["sex".into(), "race".into()],
            vec!["hours_per_week".into()],
        ],
    );
    opts.bootstrap.resamples = 50;
    let strict = load(&a, &Progress::none()).expect("load");
    let e = fairness(&model, &strict, &opts, &Progress::none()).expect_err("missing age");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("age"), "{e}");
    opts.run.invalid_rows = assay::engine::data::extract::InvalidRows::Drop;
    let ra = to_json(&fairness(&model, &strict, &opts, &Progress::none()).expect("a"));
    let ds_b = load(&b, &Progress::none()).expect("load");
    let rb = to_json(&fairness(&model, &ds_b, &opts, &Progress::none()).expect("b"));
    assert_eq!(ra["n"], rb["n"]);
    assert_eq!(ra["slices"], rb["slices"]);
    assert!(ra["data"]["rows_dropped"].as_u64() > Some(600));
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

#[test]
fn regression_model_end_to_end() {
    let model = Model::load(&root().join("sample_models/abalone_rf.onnx")).expect("model");
    let ds = load(
        &root().join("sample_data/abalone_eval.csv"),
        &Progress::none(),
    )
    .expect("data");
    let mut opts = FairnessOptions::new("rings", vec![vec!["sex".into()], vec!["length".into()]]);
    opts.bootstrap.resamples = 100;
    let r = to_json(&fairness(&model, &ds, &opts, &Progress::none()).expect("fairness"));
    assert_eq!(r["task"], "regression");
    let s = &r["slices"][0];
    assert!(s.get("demographic_parity_difference").is_none());
    // Group MAE recomputed from the group rows' predictions is consistent with overall MAE:
    // the count-weighted mean of group MAEs equals the overall MAE.
    let groups = s["groups"].as_array().expect("groups");
    let n: f64 = groups.iter().map(|g| g["count"].as_f64().expect("n")).sum();
    let weighted: f64 = groups
        .iter()
        .map(|g| g["count"].as_f64().expect("n") * g["mae"].as_f64().expect("mae"))
        .sum();
    let overall = s["overall"]["mae"].as_f64().expect("mae");
    assert!((weighted / n - overall).abs() < 1e-9 * overall.max(1.0));
    assert_eq!(r["slices"][1]["groupings"][0]["kind"], "quantile_bins");
    assert_eq!(s["policy"][0]["metric"], "r2.difference_between_groups");
    for g in groups {
        assert!(g["ci"]["mae"].is_array(), "group CI");
    }
}

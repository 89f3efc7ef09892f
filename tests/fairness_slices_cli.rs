//! Fairness end to end and weak slices: `fairness` with rows dropped, a regression model,
//! weak-slice discovery on a planted slice, and the `assay fairness` / `assay slices` JSON
//! contract and exit codes.

#![allow(clippy::expect_used)] // tests may expect (helpers outside #[test] included)

use std::collections::BTreeMap;
use std::path::PathBuf;

use assay::engine::data::{load, Dataset};
use assay::engine::fairness::slices::{search, SliceSearchOptions};
use assay::engine::fairness::stats::Outcomes;
use assay::engine::fairness::{fairness, FairnessOptions, FairnessReport};
use assay::engine::model::Model;
use assay::engine::{ErrorKind, Progress};
use polars::prelude::*;
use serde_json::Value;

mod support;
use support::root;

fn to_json(r: &FairnessReport) -> Value {
    serde_json::to_value(r).expect("serialises")
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

#[test]
fn cli_bad_input_corpus() {
    let bin = env!("CARGO_BIN_EXE_assay");
    let cases: [(&[&str], &str); 5] = [
        (
            // Multiclass models are sliced (fairness_multiclass.rs); the weak-slice search
            // scores them by accuracy only.
            &[
                "slices",
                "--model",
                "tests/fixtures/models/skl_multiclass.onnx",
                "--data",
                "tests/fixtures/models/skl_multiclass.csv",
                "--target",
                "target",
                "--metric",
                "precision",
            ],
            "unknown slice metric 'precision'; choose one of: accuracy",
        ),
        (
            &[
                "fairness",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "income_over_50k",
                "--sensitive",
                "sex",
                "--threshold",
                "2",
            ],
            "threshold",
        ),
        (
            &[
                "fairness",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "tests/fixtures/bad/missing_column.csv",
                "--target",
                "income_over_50k",
                "--sensitive",
                "sex",
            ],
            "missing_column.csv",
        ),
        (
            &[
                "slices",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "income_over_50k",
                "--min-size",
                "0",
            ],
            "min-size",
        ),
        (
            &[
                "slices",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "income_over_50k",
                "--metric",
                "roc_auc",
            ],
            "unknown slice metric",
        ),
    ];
    for (args, needle) in cases {
        let out = std::process::Command::new(bin)
            .args(args)
            .current_dir(root())
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

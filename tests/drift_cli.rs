//! `assay drift` end to end: the JSON contract of issue #6, exit codes (0, 2, 3) and messages.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;

mod support;
use support::assay;

const REF: &str = "sample_data/adult_reference.csv";
const CUR: &str = "sample_data/adult_current.csv";

#[test]
fn json_contract() {
    let out = assay(&["drift", "--reference", REF, "--current", CUR, "--json", "-"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for key in [
        "columns",
        "share_drifted",
        "dataset_drift",
        "quality",
        "drift_share",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let cols = v["columns"].as_array().expect("columns");
    assert_eq!(cols.len(), 15);
    for c in cols {
        for key in [
            "name",
            "kind",
            "method",
            "statistic",
            "p_value",
            "threshold",
            "drifted",
            "stats",
            "histogram",
            "effect_size",
        ] {
            assert!(c.get(key).is_some(), "column lacks {key}: {c}");
        }
        for key in [
            "ks_statistic",
            "ks_p_value",
            "wasserstein_normed",
            "jensen_shannon",
            "psi",
            "chi2_statistic",
            "chi2_p_value",
        ] {
            assert!(c["stats"].get(key).is_some(), "stats lack {key}");
        }
    }
    let age = cols.iter().find(|c| c["name"] == "age").expect("age");
    assert_eq!(age["method"], "wasserstein");
    assert!(age["p_value"].is_null());
    assert_eq!(age["drifted"], true);
    assert_eq!(age["histogram"]["type"], "numeric");
    let edges = age["histogram"]["edges"].as_array().expect("edges").len();
    assert_eq!(
        age["histogram"]["reference"].as_array().expect("r").len() + 1,
        edges
    );
    assert_eq!(v["dataset_drift"], false);
}

#[test]
fn fail_on_drift_exits_3_only_with_dataset_drift() {
    // Two of 15 columns drift: no dataset drift at share 0.5 → 0.
    let out = assay(&[
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--fail-on-drift",
    ]);
    assert_eq!(out.status.code(), Some(0));
    // At share 0.1 the dataset drifts: 0 without the flag, 3 with it.
    let args = [
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--drift-share",
        "0.1",
    ];
    assert_eq!(assay(&args).status.code(), Some(0));
    let mut with = args.to_vec();
    with.push("--fail-on-drift");
    let out = assay(&with);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("dataset drift"));
}

#[test]
fn usage_errors_exit_2() {
    let out = assay(&[
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--method",
        "magic",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown --method 'magic'"));
    let out = assay(&["drift", "--reference", "nope.csv", "--current", CUR]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.csv"));
    let out = assay(&[
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--windows",
        "fortnight",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = assay(&[
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--columns",
        "age,ghost",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'ghost'"));
}

#[test]
fn prediction_column_from_model() {
    let out = assay(&[
        "drift",
        "--reference",
        REF,
        "--current",
        CUR,
        "--model",
        "sample_models/adult_logreg.onnx",
        "--columns",
        "age",
        "--json",
        "-",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let cols = v["columns"].as_array().expect("columns");
    let p = cols
        .iter()
        .find(|c| c["name"] == "prediction")
        .expect("prediction column");
    assert_eq!(p["role"], "prediction");
    assert_eq!(p["kind"], "numeric");
    assert_eq!(p["n_reference"], 5000);
}

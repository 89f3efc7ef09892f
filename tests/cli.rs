//! End to end: the `assay` binary on the sample models and the bad-input corpus — JSON
//! contract, numbers equal to scikit-learn on the same ONNX outputs, exit codes, messages.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod support;
use support::{assay, json_of, stderr};

#[test]
fn evaluate_matches_sklearn_on_every_sample_model() {
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics/sample_eval.json"),
        )
        .expect("fixture"),
    )
    .expect("json");
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_models/manifest.json"),
        )
        .expect("manifest"),
    )
    .expect("json");
    let results = fx["results"].as_array().expect("results");
    assert_eq!(results.len(), manifest.as_array().expect("list").len());
    for r in results {
        let model = r["model"].as_str().expect("model");
        let entry = manifest
            .as_array()
            .expect("list")
            .iter()
            .find(|e| e["file"] == model)
            .expect("in manifest");
        let target = entry["target"].as_str().expect("target");
        let out = assay(&[
            "evaluate",
            "--model",
            model,
            "--data",
            r["data"].as_str().expect("data"),
            "--target",
            target,
            "--bootstrap",
            "0",
            "--json",
            "-",
        ]);
        let j = json_of(&out);
        assert_eq!(j["task"], r["task"], "{model}");
        assert_eq!(j["n"], r["n"], "{model}");
        assert_eq!(
            j["ci"],
            serde_json::json!({}),
            "{model}: --bootstrap 0 gives empty ci"
        );
        assert_eq!(j["model"]["sha256"].as_str().map(str::len), Some(64));
        assert_eq!(j["data"]["sha256"].as_str().map(str::len), Some(64));
        let want = r["metrics"].as_object().expect("metrics");
        let got = j["metrics"].as_object().expect("metrics");
        assert_eq!(
            got.keys().collect::<Vec<_>>().len(),
            want.len(),
            "{model}: metric names {got:?}"
        );
        for (name, w) in want {
            let (g, w) = (
                got[name].as_f64().expect("value"),
                w.as_f64().expect("value"),
            );
            // The fixture script handed scikit-learn the float32 ONNX outputs, so sums over
            // probabilities and predictions ran partly in float32; Assay works in f64. Count-
            // and rank-based metrics must agree to 1e-9; the exact definitions are proven at
            // 1e-9 on float64 fixtures in metrics_sklearn.rs.
            let float32_sum =
                matches!(name.as_str(), "log_loss" | "brier_score") || j["task"] == "regression";
            let tol = if j["task"] == "regression" {
                1e-6
            } else if float32_sum {
                1e-7
            } else {
                1e-9
            };
            assert!(
                (g - w).abs() <= tol * (1.0 + w.abs()),
                "{model}: {name} = {g}, scikit-learn {w}"
            );
        }
        if let Some(cm) = r.get("confusion_matrix").filter(|c| !c.is_null()) {
            assert_eq!(&j["confusion_matrix"], cm, "{model}: confusion matrix");
        }
    }
}

#[test]
fn evaluate_json_has_ci_curves_and_is_reproducible() {
    let args = [
        "evaluate",
        "--model",
        "sample_models/adult_gbdt_v1.onnx",
        "--data",
        "sample_data/adult_eval.parquet",
        "--target",
        "income_over_50k",
        "--bootstrap",
        "200",
        "--seed",
        "3",
        "--json",
        "-",
    ];
    let a = json_of(&assay(&args));
    let b = json_of(&assay(&args));
    assert_eq!(a["ci"], b["ci"], "same seed, same intervals");
    for name in [
        "accuracy",
        "roc_auc",
        "average_precision",
        "log_loss",
        "brier_score",
        "mcc",
    ] {
        let ci = a["ci"][name]
            .as_array()
            .unwrap_or_else(|| panic!("ci for {name}"));
        let (lo, hi, v) = (
            ci[0].as_f64().expect("lo"),
            ci[1].as_f64().expect("hi"),
            a["metrics"][name].as_f64().expect("v"),
        );
        assert!(
            lo <= v && v <= hi && lo < hi,
            "{name}: {v} outside [{lo}, {hi}]"
        );
    }
    let curves = &a["curves"];
    for key in [
        "roc",
        "precision_recall",
        "calibration",
        "threshold_sweep",
        "score_histogram",
    ] {
        assert!(curves.get(key).is_some(), "curves.{key}");
    }
    assert_eq!(
        curves["threshold_sweep"]["thresholds"]
            .as_array()
            .map(Vec::len),
        Some(101)
    );
    // The sweep at 0.5 equals the confusion matrix at the default threshold.
    let tp = &curves["threshold_sweep"]["tp"][50];
    assert_eq!(tp, &a["confusion_matrix"][1][1]);
    assert_eq!(a["warnings"], serde_json::json!([]));
}

#[test]
fn inspect_model_and_data() {
    let m = json_of(&assay(&[
        "inspect",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--json",
        "-",
    ]));
    assert_eq!(m["name"], "adult_logreg");
    assert_eq!(m["version"], "1.0");
    assert_eq!(m["metadata"]["positive_class"], "1");
    assert_eq!(m["inputs"][0]["type"]["element_type"], "float");
    let d = json_of(&assay(&[
        "inspect",
        "--data",
        "sample_data/adult_eval.csv",
        "--json",
        "-",
    ]));
    assert_eq!(d["rows"], 5000);
    let age = d["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["name"] == "age")
        .expect("age");
    assert_eq!(age["missing"], 0);
    assert!(age["mean"].as_f64().is_some_and(|m| m > 20.0 && m < 60.0));
    let human = assay(&["inspect", "--data", "sample_data/abalone_eval.csv"]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout).contains("shell_weight"));
}

#[test]
fn bad_data_is_one_line_and_exit_2() {
    let cases = [
        (
            "text_in_numeric.csv",
            "column 'age', row 3: 'abc' is not a number",
        ),
        ("missing_column.csv", "missing column 'hours_per_week'"),
        ("empty.csv", "the file is empty"),
        ("header_only.csv", "no data rows"),
        // Missing values reach the model as NaN; adult_logreg (no imputer) returns NaN for
        // them, which is the error, naming the row and its missing input.
        (
            "nan_in_feature.csv",
            "row 5: the model returned NaN for this row (its missing input 'education_num'",
        ),
        (
            "nan_literal_in_feature.csv",
            "row 9: the model returned NaN for this row (its missing input 'hours_per_week'",
        ),
        (
            "inf_in_feature.csv",
            "column 'capital_gain', row 4: infinite value",
        ),
        (
            "single_class_target.csv",
            "column 'income_over_50k': has a single class ('0')",
        ),
        (
            "unknown_labels.csv",
            "'no', 'yes' that are not classes of the model",
        ),
    ];
    for (file, needle) in cases {
        let path = format!("tests/fixtures/bad/{file}");
        let out = assay(&[
            "evaluate",
            "--model",
            "sample_models/adult_logreg.onnx",
            "--data",
            &path,
            "--target",
            "income_over_50k",
            "--bootstrap",
            "0",
        ]);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{file}: one line: {err}");
        assert!(err.contains(&path) && err.contains(needle), "{file}: {err}");
    }
    let ok = assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "tests/fixtures/bad/clean.csv",
        "--target",
        "income_over_50k",
        "--bootstrap",
        "0",
    ]);
    assert!(ok.status.success(), "control file: {}", stderr(&ok));
}

#[test]
fn drop_invalid_reports_how_many() {
    let out = assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "tests/fixtures/bad/nan_in_feature.csv",
        "--target",
        "income_over_50k",
        "--bootstrap",
        "0",
        "--drop-invalid",
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    assert_eq!(j["n"], 39);
    assert_eq!(j["data"]["rows_dropped"], 1);
    assert!(j["warnings"][0]
        .as_str()
        .is_some_and(|w| w.contains("dropped 1 of 40 rows") && w.contains("row 5")));
}

#[test]
fn bad_models_and_usage_exit_2() {
    for file in [
        "empty.onnx",
        "garbage.onnx",
        "truncated.onnx",
        "not_a_model.onnx",
    ] {
        let path = format!("tests/fixtures/bad/{file}");
        let out = assay(&["inspect", "--model", &path]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(stderr(&out).contains(&path), "{file}: {}", stderr(&out));
    }
    let out = assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--features",
        "age,sex_male",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("6 features but 2 column names"));
    let out = assay(&["evaluate", "--model", "sample_models/adult_logreg.onnx"]);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
    let out = assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing column 'nope'"));
}

#[test]
fn missing_runtime_is_a_clear_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "evaluate",
            "--model",
            "sample_models/adult_logreg.onnx",
            "--data",
            "sample_data/adult_eval.csv",
            "--target",
            "income_over_50k",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("library not found")
            && err.contains("/nonexistent/libonnxruntime.so")
            && err.contains("scripts/fetch-onnxruntime.sh"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn regression_and_multiclass_through_the_cli() {
    let j = json_of(&assay(&[
        "evaluate",
        "--model",
        "tests/fixtures/models/xgb_multiclass.onnx",
        "--data",
        "tests/fixtures/models/xgb_multiclass.csv",
        "--target",
        "target",
        "--bootstrap",
        "50",
        "--json",
        "-",
    ]));
    assert_eq!(j["task"], "multiclass_classification");
    assert!(j["metrics"]["f1_macro"].as_f64().is_some());
    assert_eq!(
        j["curves"]["roc_per_class"].as_array().map(Vec::len),
        Some(3)
    );
    let j = json_of(&assay(&[
        "evaluate",
        "--model",
        "sample_models/abalone_rf.onnx",
        "--data",
        "sample_data/abalone_eval.csv",
        "--target",
        "rings",
        "--bootstrap",
        "50",
        "--json",
        "-",
    ]));
    assert_eq!(j["task"], "regression");
    assert!(j["ci"]["r2"].as_array().is_some());
    assert!(j["curves"]["residuals"]["histogram"]["counts"]
        .as_array()
        .is_some());
}

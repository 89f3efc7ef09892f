//! `assay explain`, `assay importance`, `assay pdp` end to end: the JSON contract, numbers
//! equal to shap's on the committed fixture, human tables and exit codes.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use serde_json::Value;

mod support;
use support::{assay, json_of, stderr};

const BG: &str = "tests/fixtures/explain/background_adult.csv";

#[test]
fn explain_json_contract_matches_shap() {
    let out = assay(&[
        "explain",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--rows",
        "0..20",
        "--background",
        BG,
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    for key in [
        "method",
        "output_space",
        "class_label",
        "feature_names",
        "base_value",
        "values",
        "row_indices",
        "feature_values",
        "outputs",
        "additivity_max_abs_error",
        "background",
        "notes",
        "importance",
    ] {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    assert_eq!(j["method"], "exact");
    assert_eq!(j["output_space"], "probability");
    assert_eq!(j["class_label"], "1");
    assert_eq!(j["background"]["rows"], 100);
    assert_eq!(j["background"]["summarisation"], "sample");
    assert!(j["background"]["path"]
        .as_str()
        .unwrap()
        .ends_with("background_adult.csv"));
    assert_eq!(j["row_indices"].as_array().unwrap().len(), 20);
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/explain/shap_adult.json").unwrap(),
    )
    .unwrap();
    let want = &fx["models"]["adult_mlp"]["exact_probability"]["values"];
    for (r, row) in j["values"].as_array().unwrap().iter().enumerate() {
        for (c, v) in row.as_array().unwrap().iter().enumerate() {
            let (a, b) = (v.as_f64().unwrap(), want[r][c].as_f64().unwrap());
            assert!((a - b).abs() < 1e-6, "row {r} col {c}: {a} vs {b}");
        }
    }
    assert!(j["additivity_max_abs_error"].as_f64().unwrap() < 1e-9);

    // Kernel with enough samples in raw space; the human table.
    let out = assay(&[
        "explain",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--rows",
        "0..3",
        "--background",
        BG,
        "--method",
        "kernel",
        "--nsamples",
        "64",
        "--output-space",
        "raw",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kernel SHAP values for rows 0..3"), "{text}");
    assert!(
        text.contains("mean |SHAP|") && text.contains("capital_gain"),
        "{text}"
    );
    assert!(stderr(&out).contains("exact"), "{}", stderr(&out));
}

#[test]
fn explain_defaults_on_a_small_regressor() {
    // 40 rows: the default explains all of them (at most 50), background = the data itself.
    let out = assay(&[
        "explain",
        "--model",
        "tests/fixtures/explain/tiny_linreg.onnx",
        "--data",
        "tests/fixtures/explain/tiny_data.csv",
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    assert_eq!(j["row_indices"].as_array().unwrap().len(), 40);
    assert_eq!(j["method"], "linear");
    assert_eq!(j["output_space"], "raw");
    assert!(j["class_label"].is_null());
    assert_eq!(j["background"]["rows"], 40);
    assert!(j["additivity_max_abs_error"].as_f64().unwrap() < 1e-5);
}

#[test]
fn explain_bad_input_exits_2() {
    let base = [
        "explain",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
    ];
    let cases: &[(&[&str], &str)] = &[
        (&["--rows", "4990..5010"], "5000 rows"),
        (&["--rows", "ten"], "not a range"),
        (&["--method", "magic"], "--method 'magic'"),
        (&["--method", "tree"], "not a plain tree ensemble"),
        (&["--output-space", "odds"], "raw or probability"),
        (
            &[
                "--features",
                "age,nope,capital_gain,capital_loss,hours_per_week,sex_male",
            ],
            "'nope'",
        ),
        (
            &["--background", "tests/fixtures/explain/missing.csv"],
            "missing.csv",
        ),
        (&["--class", "7"], "not a class"),
    ];
    for (extra, msg) in cases {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(
            &["--rows", "0..2"][..if extra.contains(&"--rows") { 0 } else { 2 }],
        );
        let out = assay(&args);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(msg), "{extra:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{extra:?}: one line");
    }
}

#[test]
fn importance_and_pdp_commands() {
    let out = assay(&[
        "importance",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--rows",
        "0..400",
        "--repeats",
        "2",
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    assert_eq!(j["metric"], "roc_auc");
    assert_eq!(j["rows"], 400);
    assert_eq!(j["features"].as_array().unwrap().len(), 6);
    assert_eq!(j["features"][0]["importances"].as_array().unwrap().len(), 2);
    let out = assay(&[
        "importance",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--rows",
        "0..400",
        "--repeats",
        "2",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("drop of roc_auc"));

    let out = assay(&[
        "pdp",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--feature",
        "age",
        "--grid-resolution",
        "20",
        "--rows",
        "0..500",
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/explain/sklearn_inspection.json").unwrap(),
    )
    .unwrap();
    for (a, b) in j["average"]
        .as_array()
        .unwrap()
        .iter()
        .zip(fx["pdp"]["age"]["average"].as_array().unwrap())
    {
        assert!((a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9);
    }
    let out = assay(&[
        "pdp",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--feature",
        "age",
        "--feature2",
        "education_num",
        "--grid-resolution",
        "5",
        "--rows",
        "0..100",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("age × education_num"));
    let out = assay(&[
        "pdp",
        "--model",
        "sample_models/adult_mlp.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--feature",
        "zzz",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown feature 'zzz'"));
}

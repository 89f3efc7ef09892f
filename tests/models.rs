//! Inference parity with Python onnxruntime on models from real converters (skl2onnx with
//! and without ZipMap, LightGBM and XGBoost through onnxmltools), plus inspection and the
//! malformed-model corpus.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use std::path::PathBuf;

use assay::engine::data::extract::{prepare, InvalidRows};
use assay::engine::data::load;
use assay::engine::model::{plan_inputs, predict, InferOptions, Model, Predictions};
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run(stem: &str, opts: &InferOptions) -> (Predictions, Value) {
    let model = Model::load(&fixture(&format!("models/{stem}.onnx"))).expect("model loads");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture(&format!("models/{stem}.expected.json")))
            .expect("expected"),
    )
    .expect("json");
    let features: Vec<String> = expected["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(label)
        .collect();
    let given = (!expected["features_in_metadata"].as_bool().unwrap_or(true)).then_some(features);
    let plan = plan_inputs(&model.info, given.as_deref()).expect("plan");
    let ds = load(&fixture(&format!("models/{stem}.csv")), &Progress::none()).expect("data");
    let prepared = prepare(&ds, &plan, None, InvalidRows::Error).expect("prepare");
    let p = Progress::none();
    let pred = predict(&model, &prepared.inputs, opts, &p.stage(0.0, 1.0)).expect("predict");
    (pred, expected)
}

const STEMS: [&str; 8] = [
    "lgbm_binary",
    "lgbm_regressor",
    "xgb_binary",
    "xgb_multiclass",
    "skl_zipmap_binary",
    "skl_zipmap_multiclass_str",
    "skl_multiclass",
    "skl_regressor_2d",
];

#[test]
fn predictions_match_python_onnxruntime() {
    // Small batches and two workers exercise the multi-session path and result ordering.
    let opts = InferOptions {
        threads: 2,
        batch_size: Some(7),
    };
    for stem in STEMS {
        let (pred, expected) = run(stem, &opts);
        match pred {
            Predictions::Classification { classes, proba } => {
                let want_classes: Vec<String> = expected["classes"]
                    .as_array()
                    .expect("classes")
                    .iter()
                    .map(label)
                    .collect();
                assert_eq!(classes, want_classes, "{stem}: classes");
                let want: Vec<f64> = expected["probabilities"]
                    .as_array()
                    .expect("probabilities")
                    .iter()
                    .flat_map(|r| {
                        r.as_array()
                            .expect("row")
                            .iter()
                            .map(|v| v.as_f64().expect("p"))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                assert_eq!(proba.len(), want.len(), "{stem}: probability count");
                for (i, (g, w)) in proba.iter().zip(&want).enumerate() {
                    assert!(
                        (f64::from(*g) - w).abs() < 1e-6,
                        "{stem}: probability {i}: {g} vs {w}"
                    );
                }
            }
            Predictions::Regression { values } => {
                let want: Vec<f64> = expected["predictions"]
                    .as_array()
                    .expect("predictions")
                    .iter()
                    .map(|v| v.as_f64().expect("v"))
                    .collect();
                assert_eq!(values.len(), want.len(), "{stem}: prediction count");
                for (i, (g, w)) in values.iter().zip(&want).enumerate() {
                    assert!(
                        (f64::from(*g) - w).abs() <= 1e-5 * (1.0 + w.abs()),
                        "{stem}: prediction {i}: {g} vs {w}"
                    );
                }
            }
        }
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let (a, _) = run(
        "xgb_multiclass",
        &InferOptions {
            threads: 1,
            batch_size: None,
        },
    );
    let (b, _) = run(
        "xgb_multiclass",
        &InferOptions {
            threads: 2,
            batch_size: Some(5),
        },
    );
    match (a, b) {
        (
            Predictions::Classification { proba: pa, .. },
            Predictions::Classification { proba: pb, .. },
        ) => assert_eq!(pa, pb),
        _ => panic!("expected classifications"),
    }
}

#[test]
fn inspect_reports_converter_details() {
    let m = Model::load(&fixture("models/xgb_binary.onnx")).expect("model");
    assert!(m
        .info
        .opset_imports
        .iter()
        .any(|o| o.domain == "ai.onnx.ml"));
    assert!(m
        .info
        .op_types
        .iter()
        .any(|o| o.op_type == "TreeEnsembleClassifier"));
    assert_eq!(m.info.inputs.len(), 1);
    assert_eq!(m.info.sha256.len(), 64);
    assert!(m.info.metadata_features().is_none());
    // Without metadata, the plan asks for --features and says how many.
    let err = plan_inputs(&m.info, None).expect_err("needs features");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("--features with 30"), "{err}");
    let wrong = vec!["a".to_string(), "b".to_string()];
    let err = plan_inputs(&m.info, Some(&wrong)).expect_err("wrong width");
    assert!(
        err.to_string().contains("30 features but 2 column names"),
        "{err}"
    );

    let raw = Model::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_models/adult_pipeline_raw.onnx"),
    )
    .expect("raw");
    let plan = plan_inputs(&raw.info, None).expect("per-column plan");
    assert!(plan.columns().contains(&"sex".to_string()));
}

#[test]
fn malformed_models_are_clear_errors() {
    for (file, needle) in [
        ("bad/empty.onnx", "empty"),
        ("bad/garbage.onnx", "not a valid ONNX model"),
        ("bad/truncated.onnx", "not a valid ONNX model"),
        ("bad/not_a_model.onnx", "not a valid ONNX model"),
    ] {
        let err = Model::load(&fixture(file)).expect_err(file);
        assert_eq!(err.kind(), ErrorKind::BadInput, "{file}");
        let msg = err.to_string();
        assert!(
            msg.contains(file.trim_start_matches("bad/")) && msg.contains(needle),
            "{file}: {msg}"
        );
    }
}

//! Missing values reach the model (issue 17, item 1), on `tests/fixtures/missing/` (made by
//! `make_missing_fixtures.py`: skl2onnx pipelines with SimpleImputer, probabilities from
//! onnxruntime, metrics from scikit-learn): a per-column pipeline (float + string inputs) and
//! a float-matrix imputer are evaluated on data with missing numbers and text, matching at
//! 1e-9; a model that returns NaN for a missing value is an error naming the file row, or
//! the row is dropped with `--drop-invalid`; integer inputs and targets stay strict; the other
//! model-running engines (fairness, compare, drift, explain, importance) accept the data.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::path::PathBuf;
use std::process::{Command, Output};

use assay::engine::data::extract::InvalidRows;
use assay::engine::data::{load, Dataset};
use assay::engine::evaluate::{evaluate_rows, EvalOptions, RowOutputs};
use assay::engine::fairness::{fairness, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/missing")
}

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap()).unwrap()
}

fn case<'a>(fx: &'a Value, model: &str) -> &'a Value {
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["model"] == model)
        .unwrap()
}

fn data() -> Dataset {
    load(&dir().join("adult_missing.csv"), &Progress::none()).unwrap()
}

fn model(name: &str) -> Model {
    Model::load(&dir().join(name)).unwrap()
}

fn opts(policy: InvalidRows) -> EvalOptions {
    let mut o = EvalOptions::new("income_over_50k");
    o.bootstrap.resamples = 0;
    o.invalid_rows = policy;
    o
}

fn assert_matches(model_file: &str, policy: InvalidRows) -> assay::engine::evaluate::Evaluation {
    let fx = fixture();
    let want = case(&fx, model_file);
    let (eval, rows) = evaluate_rows(
        &model(model_file),
        &data(),
        &opts(policy),
        &Progress::none(),
    )
    .unwrap();
    assert_eq!(
        eval.n as u64,
        want["n"].as_u64().unwrap(),
        "{model_file}: n"
    );
    let RowOutputs::Binary { score, .. } = rows else {
        panic!("binary outcomes expected")
    };
    for (i, (g, w)) in score
        .iter()
        .zip(want["probabilities"].as_array().unwrap())
        .enumerate()
    {
        let w = w.as_f64().unwrap();
        assert!(
            (g - w).abs() <= 1e-6,
            "{model_file} row {i}: {g} vs onnxruntime {w}"
        );
    }
    let got = serde_json::to_value(&eval.metrics).unwrap();
    for (name, w) in want["metrics"].as_object().unwrap() {
        let (g, w) = (got[name].as_f64().unwrap(), w.as_f64().unwrap());
        assert!(
            (g - w).abs() <= TOL * (1.0 + w.abs()),
            "{model_file}: {name} = {g}, scikit-learn {w}"
        );
    }
    let cm: Vec<Vec<u64>> = serde_json::from_value(want["confusion_matrix"].clone()).unwrap();
    assert_eq!(eval.confusion_matrix.as_ref(), Some(&cm), "{model_file}");
    eval
}

#[test]
fn pipeline_with_imputers_gets_missing_numbers_and_text() {
    let eval = assert_matches("pipeline_columns.onnx", InvalidRows::Error);
    assert_eq!(eval.data.rows_dropped, 0);
    let note = eval
        .warnings
        .iter()
        .find(|w| w.message.contains("missing values were passed"))
        .expect("a note on missing values");
    for (col, k) in [
        ("age", 81),
        ("workclass", 39),
        ("race", 14),
        ("hours_per_week", 24),
    ] {
        assert!(
            note.message.contains(&format!("'{col}' in {k} rows")),
            "{note}"
        );
    }
}

#[test]
fn float_matrix_imputer_gets_nan() {
    assert_matches("matrix_impute.onnx", InvalidRows::Error);
}

#[test]
fn nan_output_names_the_file_row_or_is_dropped() {
    let fx = fixture();
    let want = case(&fx, "matrix_plain.onnx");
    let nan_rows: Vec<u64> = serde_json::from_value(want["nan_rows"].clone()).unwrap();
    let err = evaluate_rows(
        &model("matrix_plain.onnx"),
        &data(),
        &opts(InvalidRows::Error),
        &Progress::none(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(text.contains("adult_missing.csv"), "{text}");
    assert!(text.contains(&format!("row {}:", nan_rows[0])), "{text}");
    assert!(text.contains("returned NaN"), "{text}");
    assert!(
        text.contains(&format!("({} rows affected)", nan_rows.len())),
        "{text}"
    );
    assert!(text.contains("--drop-invalid"), "{text}");
    let eval = assert_matches("matrix_plain.onnx", InvalidRows::Drop);
    assert_eq!(eval.data.rows_dropped, nan_rows.len());
    assert!(eval.warnings[0]
        .message
        .contains(&format!("row {}:", nan_rows[0])));
    assert_eq!(
        eval.warnings[0].kind,
        assay::engine::WarningKind::RowsLeftOut
    );
}

#[test]
fn integer_inputs_and_targets_stay_strict() {
    // adult_pipeline_raw has int64 inputs: a missing age cannot be fed.
    let raw = Model::load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_models/adult_pipeline_raw.onnx"),
    )
    .unwrap();
    let err = evaluate_rows(&raw, &data(), &opts(InvalidRows::Error), &Progress::none())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column 'age'") && err.contains("missing value"),
        "{err}"
    );
    // A missing target is never guessed.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dir_file("adult_missing.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines[3].rfind(',').unwrap();
    lines[3].truncate(last + 1); // row 3: empty target
    let p = dir.path().join("no_target.csv");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let ds = load(&p, &Progress::none()).unwrap();
    let err = evaluate_rows(
        &model("pipeline_columns.onnx"),
        &ds,
        &opts(InvalidRows::Error),
        &Progress::none(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("column 'income_over_50k', row 3: missing value"),
        "{err}"
    );
}

fn dir_file(name: &str) -> PathBuf {
    dir().join(name)
}

#[test]
fn fairness_runs_on_data_with_missing_inputs() {
    let mut o = FairnessOptions::new("income_over_50k", vec![vec!["sex".into()]]);
    o.bootstrap.resamples = 0;
    let r = fairness(
        &model("pipeline_columns.onnx"),
        &data(),
        &o,
        &Progress::none(),
    )
    .unwrap();
    assert_eq!(r.n, 800);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.message.contains("missing values were passed")));
    // NaN outputs: dropped with the sensitive column still aligned.
    o.run.invalid_rows = InvalidRows::Drop;
    let fx = fixture();
    let want = case(&fx, "matrix_plain.onnx");
    let r = fairness(&model("matrix_plain.onnx"), &data(), &o, &Progress::none()).unwrap();
    assert_eq!(r.n as u64, want["n"].as_u64().unwrap());
    let count: usize = r.slices[0].groups.iter().map(|g| g.count).sum();
    assert_eq!(count, r.n);
}

fn assay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .current_dir(dir())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_consumers_accept_missing_values() {
    let base = ["--data", "adult_missing.csv", "--target", "income_over_50k"];
    let run = |args: Vec<&str>| {
        let out = assay(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let mut a = vec![
        "evaluate",
        "--model",
        "pipeline_columns.onnx",
        "--bootstrap",
        "0",
    ];
    a.extend(base);
    run(a);
    // compare: the NaN rows of one model are dropped for both with --drop-invalid.
    let mut a = vec![
        "compare",
        "--model",
        "matrix_impute.onnx",
        "--model",
        "matrix_plain.onnx",
        "--bootstrap",
        "0",
        "--drop-invalid",
        "--json",
        "-",
    ];
    a.extend(base);
    // Exit 3 is the gate's verdict (the candidate is worse), not an error.
    let out = assay(&a);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = case(&fixture(), "matrix_plain.onnx")["n"].as_u64().unwrap();
    assert_eq!(j["n"].as_u64(), Some(want), "compare n");
    // Without --drop-invalid, compare names the row.
    let mut a = vec![
        "compare",
        "--model",
        "matrix_impute.onnx",
        "--model",
        "matrix_plain.onnx",
        "--bootstrap",
        "0",
    ];
    a.extend(base);
    let out = assay(&a);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("returned NaN"), "{err}");
    // explain and importance on rows with missing values, through the imputing pipeline.
    run(vec![
        "explain",
        "--model",
        "pipeline_columns.onnx",
        "--data",
        "adult_missing.csv",
        "--rows",
        "0..5",
        "--background-size",
        "20",
    ]);
    run(vec![
        "drift",
        "--reference",
        "adult_missing.csv",
        "--current",
        "adult_missing.csv",
        "--model",
        "pipeline_columns.onnx",
    ]);
}

/// The sample pipeline that imputes (`sample_models/adult_pipeline_missing.onnx`, made by
/// `sample_models/make_models.py`) on its evaluation data with real missing cells
/// (`sample_data/adult_eval_missing.csv`, made by `sample_data/make_data.py`: the census's own
/// unknown workclass / occupation / native_country, and blanked numbers): `assay evaluate`
/// keeps every row and matches scikit-learn (`tests/fixtures/missing/sample_pipeline.json`).
#[test]
fn sample_pipeline_imputes_its_eval_data() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("sample_pipeline.json")).unwrap())
            .unwrap();
    let (model, data) = (fx["model"].as_str().unwrap(), fx["data"].as_str().unwrap());
    let text = std::fs::read_to_string(root.join(data)).unwrap();
    assert!(text.contains(",,"), "the data has empty cells");
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "evaluate",
            "--model",
            model,
            "--data",
            data,
            "--target",
            "income_over_50k",
            "--bootstrap",
            "0",
            "--json",
            "-",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["n"], fx["n"]);
    assert_eq!(j["data"]["rows_dropped"], 0);
    assert!(fx["rows_with_missing"].as_u64().unwrap() > 100);
    let want = fx["metrics"].as_object().unwrap();
    let got = j["metrics"].as_object().unwrap();
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (name, w) in want {
        let (g, w) = (got[name].as_f64().unwrap(), w.as_f64().unwrap());
        assert!(
            (g - w).abs() <= TOL * (1.0 + w.abs()),
            "{name} = {g}, scikit-learn {w}"
        );
    }
    assert_eq!(j["confusion_matrix"], fx["confusion_matrix"]);
    let note = j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|w| w.contains("missing values were passed"))
        .expect("a note on missing values");
    for (col, k) in fx["missing_per_column"].as_object().unwrap() {
        assert!(note.contains(&format!("'{col}' in {k} rows")), "{note}");
    }
    // A sample, not one of the demo workspace's models.
    let demo = assay::engine::workspace::demo_workspace().unwrap();
    assert!(demo.models.iter().all(|m| !m.path.ends_with(model)));
    assert_eq!(demo.models.len(), 5);
}

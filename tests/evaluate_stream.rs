//! Streamed `evaluate` (issue 19, item 1): reading the data in batches and keeping only the
//! model's outputs and the truth gives exactly the in-memory result — metrics, intervals,
//! curves, warnings (missing inputs passed to the model), data hash and row counts — for binary,
//! multiclass and regression models, CSV and Parquet, with batches much smaller than the file;
//! a file the streamed run cannot take (an unknown label, `--drop-invalid`) is left to the
//! in-memory path.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};

use assay::engine::data::extract::InvalidRows;
use assay::engine::evaluate::{evaluate_files, EvalOptions};
use assay::engine::evaluate_stream::evaluate_streamed;
use assay::engine::model::Model;
use assay::engine::Progress;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn opts(target: &str) -> EvalOptions {
    let mut o = EvalOptions::new(target);
    o.bootstrap.resamples = 40;
    o.bootstrap.seed = 5;
    o
}

/// The streamed evaluation of `data` in batches of `rows` (even), and the in-memory one. The
/// model runs in chunks of `rows / 2` rows on one thread in both (ONNX Runtime's sums, e.g. of
/// a tree ensemble, may round differently with another chunking or threading).
fn both(
    model: &str,
    data: &Path,
    o: &EvalOptions,
    rows: usize,
) -> (serde_json::Value, serde_json::Value) {
    let mut o = o.clone();
    o.infer.threads = 1;
    o.infer.batch_size = Some(rows / 2);
    let o = &o;
    let model_path = root().join(model);
    let m = Model::load(&model_path).unwrap();
    let streamed = evaluate_streamed(&m, data, o, Some(rows), &Progress::none())
        .unwrap()
        .expect("the file is streamed");
    let memory = evaluate_files(&model_path, data, o, &Progress::none()).unwrap();
    (
        serde_json::to_value(&streamed).unwrap(),
        serde_json::to_value(&memory).unwrap(),
    )
}

/// Paths where two JSON values differ (at most 10), with both values.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Vec<String> {
    use serde_json::Value;
    let mut out = Vec::new();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let (u, v) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                out.extend(differences(u, v, &format!("{at}.{k}")));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                out.extend(differences(u, v, &format!("{at}[{i}]")));
            }
        }
        _ if a != b => out.push(format!("{at}: {a} vs {b}")),
        _ => {}
    }
    out.truncate(10);
    out
}

#[test]
fn streamed_equals_in_memory() {
    let cases = [
        (
            "sample_models/adult_gbdt_v1.onnx",
            "sample_data/adult_eval.csv",
            "income_over_50k",
            700,
        ),
        (
            "sample_models/adult_logreg.onnx",
            "sample_data/adult_eval.parquet",
            "income_over_50k",
            1000,
        ),
        (
            "sample_models/adult_pipeline_missing.onnx",
            "sample_data/adult_eval_missing.csv",
            "income_over_50k",
            334,
        ),
        (
            "sample_models/abalone_rf.onnx",
            "sample_data/abalone_eval.csv",
            "rings",
            100,
        ),
        (
            "tests/fixtures/models/skl_multiclass.onnx",
            "tests/fixtures/models/skl_multiclass.csv",
            "target",
            16,
        ),
        (
            "tests/fixtures/models/skl_zipmap_multiclass_str.onnx",
            "tests/fixtures/models/skl_zipmap_multiclass_str.csv",
            "target",
            8,
        ),
    ];
    for (model, data, target, rows) in cases {
        let (streamed, memory) = both(model, &root().join(data), &opts(target), rows);
        let diff = differences(&streamed, &memory, "");
        assert!(diff.is_empty(), "{model} on {data}: {diff:?}");
        assert!(
            memory["n"].as_u64().unwrap() > rows as u64,
            "{data}: several batches"
        );
    }
}

#[test]
fn missing_inputs_are_noted_as_in_memory() {
    let data = root().join("sample_data/adult_eval_missing.csv");
    let (streamed, _) = both(
        "sample_models/adult_pipeline_missing.onnx",
        &data,
        &opts("income_over_50k"),
        250,
    );
    let text = streamed["warnings"].to_string();
    assert!(
        text.contains("missing values were passed to the model"),
        "{text}"
    );
}

#[test]
fn files_the_stream_cannot_take_are_left_to_memory() {
    let model = Model::load(&root().join("sample_models/adult_gbdt_v1.onnx")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A label the model does not know, in the second batch.
    let text = std::fs::read_to_string(root().join("sample_data/adult_eval.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines[300].rsplit_once(',').unwrap().0.to_string();
    lines[300] = format!("{last},7");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = opts("income_over_50k");
    assert!(
        evaluate_streamed(&model, &bad, &o, Some(200), &Progress::none())
            .unwrap()
            .is_none()
    );
    let err = evaluate_files(
        &root().join("sample_models/adult_gbdt_v1.onnx"),
        &bad,
        &o,
        &Progress::none(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("'7'"), "{err}");
    // --drop-invalid keeps the in-memory path (its row bookkeeping).
    let mut drop = opts("income_over_50k");
    drop.invalid_rows = InvalidRows::Drop;
    let good = root().join("sample_data/adult_eval.csv");
    assert!(
        evaluate_streamed(&model, &good, &drop, Some(200), &Progress::none())
            .unwrap()
            .is_none()
    );
    // A set of files (this directory, holding the file with the unknown label) streams and
    // is left to memory at the same label.
    assert!(
        evaluate_streamed(&model, dir.path(), &o, Some(200), &Progress::none())
            .unwrap()
            .is_none()
    );
}

//! Streamed fairness (issue 19, item 1): reading the data in batches and keeping only the
//! outcomes and the sensitive columns' codes or numbers gives the in-memory report byte for
//! byte — groups (text categories, quantile and cut bins of numeric columns, missing values,
//! intersections), metrics, bootstrap intervals, policy, warnings, data hash and row counts —
//! for binary, multiclass and regression models, CSV and Parquet, with batches much smaller
//! than the file; a file the streamed run cannot take (an unknown label, a missing sensitive
//! column, `--drop-invalid`) is left to the in-memory path. The weak-slice search streams to
//! the in-memory search too.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};

use assay::engine::data::extract::InvalidRows;
use assay::engine::fairness::slices::{find_weak_slices, SliceSearchOptions};
use assay::engine::fairness::slices_stream::slices_streamed;
use assay::engine::fairness::stream::fairness_streamed;
use assay::engine::fairness::{fairness_files, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::Progress;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn opts(target: &str, sensitive: &[&str]) -> FairnessOptions {
    let slicings = sensitive
        .iter()
        .map(|s| s.split('+').map(str::to_string).collect())
        .collect();
    let mut o = FairnessOptions::new(target, slicings);
    o.bootstrap.resamples = 40;
    o.bootstrap.seed = 5;
    o
}

/// The streamed report of `data` in batches of `rows`, and the in-memory one, as JSON text.
/// The model runs in the same chunks on one thread in both (ONNX Runtime's sums, e.g. of a
/// tree ensemble, may round differently with another chunking or threading).
fn both(model: &str, data: &Path, o: &FairnessOptions, rows: usize) -> (String, String) {
    let mut o = o.clone();
    o.run.infer.threads = 1;
    o.run.infer.batch_size = Some(if rows % 2 == 0 { rows / 2 } else { rows });
    let o = &o;
    let model_path = root().join(model);
    let m = Model::load(&model_path).unwrap();
    let streamed = fairness_streamed(&m, data, o, Some(rows), &Progress::none())
        .unwrap()
        .expect("the file is streamed");
    let memory = fairness_files(&model_path, data, o, &Progress::none()).unwrap();
    (
        serde_json::to_string_pretty(&streamed).unwrap(),
        serde_json::to_string_pretty(&memory).unwrap(),
    )
}

/// The first differing line of two texts, with its neighbours.
fn first_difference(a: &str, b: &str) -> String {
    let (x, y): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q)
        .unwrap_or(x.len().min(y.len()));
    let lo = at.saturating_sub(3);
    format!(
        "line {at}:\nstreamed: {:?}\nmemory:   {:?}",
        &x[lo..(at + 3).min(x.len())],
        &y[lo..(at + 3).min(y.len())]
    )
}

#[test]
fn streamed_equals_in_memory() {
    let mut cuts = opts("income_over_50k", &["age", "hours_per_week+sex"]);
    cuts.binning
        .cuts
        .insert("age".to_string(), vec![30.0, 50.0]);
    cuts.binning.quantiles = 3;
    let cases = [
        (
            "sample_models/adult_gbdt_v1.onnx",
            "sample_data/adult_eval.csv",
            opts("income_over_50k", &["sex", "race", "age", "sex+race"]),
            1000,
        ),
        (
            "sample_models/adult_gbdt_v1.onnx",
            "sample_data/adult_eval.csv",
            cuts,
            450,
        ),
        (
            "sample_models/adult_logreg.onnx",
            "sample_data/adult_eval.parquet",
            opts("income_over_50k", &["race+sex", "education_num"]),
            450,
        ),
        (
            "sample_models/adult_pipeline_missing.onnx",
            "sample_data/adult_eval_missing.csv",
            opts(
                "income_over_50k",
                &["age", "occupation", "native_country", "age+workclass"],
            ),
            334,
        ),
        (
            "sample_models/abalone_rf.onnx",
            "sample_data/abalone_eval.csv",
            opts("rings", &["sex", "length", "sex+diameter"]),
            7,
        ),
        (
            "tests/fixtures/models/skl_multiclass.onnx",
            "tests/fixtures/models/skl_multiclass.csv",
            opts("target", &["sepal_length", "petal_width+sepal_width"]),
            8,
        ),
        (
            "tests/fixtures/models/skl_zipmap_multiclass_str.onnx",
            "tests/fixtures/models/skl_zipmap_multiclass_str.csv",
            opts("target", &["sepal_length"]),
            7,
        ),
    ];
    for (model, data, o, rows) in cases {
        let (streamed, memory) = both(model, &root().join(data), &o, rows);
        assert!(
            streamed == memory,
            "{model} on {data}, batches of {rows}: {}",
            first_difference(&streamed, &memory)
        );
        let n: serde_json::Value = serde_json::from_str(&memory).unwrap();
        assert!(
            n["n"].as_u64().unwrap() > rows as u64,
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
        &opts("income_over_50k", &["sex"]),
        250,
    );
    assert!(
        streamed.contains("missing values were passed to the model"),
        "{streamed}"
    );
}

#[test]
fn files_the_stream_cannot_take_are_left_to_memory() {
    let model_path = root().join("sample_models/adult_gbdt_v1.onnx");
    let model = Model::load(&model_path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A label the model does not know, in the second batch.
    let text = std::fs::read_to_string(root().join("sample_data/adult_eval.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines[300].rsplit_once(',').unwrap().0.to_string();
    lines[300] = format!("{last},7");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let o = opts("income_over_50k", &["sex"]);
    let none = |path: &Path, o: &FairnessOptions| {
        fairness_streamed(&model, path, o, Some(200), &Progress::none())
            .unwrap()
            .is_none()
    };
    assert!(none(&bad, &o));
    let err = fairness_files(&model_path, &bad, &o, &Progress::none())
        .unwrap_err()
        .to_string();
    assert!(err.contains("'7'"), "{err}");
    // A sensitive column the file lacks: the in-memory path names it.
    let good = root().join("sample_data/adult_eval.csv");
    let nope = opts("income_over_50k", &["sex+nope"]);
    assert!(none(&good, &nope));
    let err = fairness_files(&model_path, &good, &nope, &Progress::none())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    // --drop-invalid keeps the in-memory path (its row bookkeeping).
    let mut drop = o.clone();
    drop.run.invalid_rows = InvalidRows::Drop;
    assert!(none(&good, &drop));
    // A file set (directory) is read in memory.
    assert!(none(dir.path(), &o));
}

#[test]
fn option_errors_after_the_stream_are_the_in_memory_ones() {
    // Cut points on a text column: found when the groups are built, after the model run.
    let mut o = opts("income_over_50k", &["sex"]);
    o.binning.cuts.insert("sex".to_string(), vec![1.0]);
    let model_path = root().join("sample_models/adult_gbdt_v1.onnx");
    let model = Model::load(&model_path).unwrap();
    let data = root().join("sample_data/adult_eval.csv");
    let streamed = fairness_streamed(&model, &data, &o, Some(1000), &Progress::none())
        .unwrap_err()
        .to_string();
    let memory = fairness_files(&model_path, &data, &o, &Progress::none())
        .unwrap_err()
        .to_string();
    assert_eq!(streamed, memory);
    assert!(
        memory.contains("cut points apply to numeric columns"),
        "{memory}"
    );
}

/// The weak-slice search over every column (numeric quantile bins, cut bins, text, missing
/// values, pairs) streamed in small batches gives the in-memory search, for binary,
/// multiclass and regression models and with missing inputs passed to the model.
#[test]
fn weak_slices_stream_to_the_in_memory_search() {
    let cases: [(&str, &str, &str, usize); 5] = [
        (
            "sample_models/adult_gbdt_v1.onnx",
            "sample_data/adult_eval.csv",
            "income_over_50k",
            1000,
        ),
        (
            "sample_models/adult_logreg.onnx",
            "sample_data/adult_eval.parquet",
            "income_over_50k",
            777,
        ),
        (
            "sample_models/adult_pipeline_missing.onnx",
            "sample_data/adult_eval_missing.csv",
            "income_over_50k",
            250,
        ),
        (
            "sample_models/abalone_rf.onnx",
            "sample_data/abalone_eval.csv",
            "rings",
            256,
        ),
        (
            "tests/fixtures/models/skl_multiclass.onnx",
            "tests/fixtures/models/skl_multiclass.csv",
            "target",
            7,
        ),
    ];
    for (i, (model, data, target, rows)) in cases.into_iter().enumerate() {
        let mut o = SliceSearchOptions::new(target);
        o.run.infer.threads = 1;
        o.run.infer.batch_size = Some(if rows % 2 == 0 { rows / 2 } else { rows });
        o.min_size = 0.02;
        o.top = 50;
        if i == 0 {
            o.binning.cuts.insert("age".to_string(), vec![30.0, 50.0]);
            o.metric = Some("true_positive_rate".to_string());
        }
        if i == 1 {
            o.columns = Some(vec!["race".into(), "hours_per_week".into(), "sex".into()]);
        }
        let m = Model::load(&root().join(model)).unwrap();
        let data = root().join(data);
        let streamed = slices_streamed(&m, &data, &o, Some(rows), &Progress::none())
            .unwrap()
            .expect("the file is streamed");
        let ds = assay::engine::data::load(&data, &Progress::none()).unwrap();
        let memory = find_weak_slices(&m, &ds, &o, &Progress::none()).unwrap();
        assert!(!memory.slices.is_empty() || i == 4, "{model}: no slices");
        let (a, b) = (
            serde_json::to_string_pretty(&streamed).unwrap(),
            serde_json::to_string_pretty(&memory).unwrap(),
        );
        assert!(a == b, "{model}: {}", first_difference(&a, &b));
    }
}

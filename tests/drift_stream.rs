//! Streamed drift (issue 19) gives the report of the in-memory path: the current file read in
//! small batches (so every column state crosses batch boundaries) against `drift_files` on the
//! same files — numeric, categorical, missing, unseen, out-of-range, skipped columns, type
//! mismatches, the detected timestamp, duplicates and the data-quality checks, drift over
//! time by row count and by calendar period (rows in any order), and the model's `prediction`
//! column (binary, multiclass, regression), under the default and overridden options.
//! Numbers agree to 1e-12 relative (in fact to the bit).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assay::engine::drift::over_time::{Period, Windows};
use assay::engine::drift::stream::drift_streamed;
use assay::engine::drift::{drift_files, DriftOptions, Method};
use assay::engine::model::Model;
use assay::engine::Progress;
use serde_json::Value;

fn same(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                "{at}: streamed {x:e}, in memory {y:e}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                same(u, v, &format!("{at}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<&String> = x.keys().collect();
            let ky: Vec<&String> = y.keys().collect();
            assert_eq!(kx, ky, "{at}: keys");
            for (k, u) in x {
                same(u, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// Streamed (batches of `batch` rows) and in-memory reports of the same files are the same;
/// returns the report's JSON.
fn check(reference: &Path, current: &Path, opts: &DriftOptions, batch: usize) -> Value {
    check_with(reference, current, None, opts, batch)
}

/// [`check`] with the `prediction` column of `model`.
fn check_with(
    reference: &Path,
    current: &Path,
    model: Option<&Path>,
    opts: &DriftOptions,
    batch: usize,
) -> Value {
    let p = Progress::none();
    let loaded = model.map(|m| Model::load(m).expect("model loads"));
    let streamed = drift_streamed(reference, current, loaded.as_ref(), opts, Some(batch), &p)
        .expect("streamed drift runs")
        .expect("streamed path taken");
    let memory = drift_files(reference, current, model, opts, &p).expect("in-memory drift runs");
    let (s, m) = (
        serde_json::to_value(&streamed).unwrap(),
        serde_json::to_value(&memory).unwrap(),
    );
    same(&s, &m, "report");
    s
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn adult_samples_stream_to_the_same_report() {
    let r = sample("sample_data/adult_reference.csv");
    for (cur, batch) in [
        ("sample_data/adult_current.csv", 777),
        ("sample_data/adult_eval_missing.csv", 300),
        ("sample_data/adult_eval.csv", 5000),
    ] {
        let v = check(&r, &sample(cur), &DriftOptions::default(), batch);
        assert!(!v["columns"].as_array().unwrap().is_empty(), "{cur}");
    }
    let v = check(
        &r,
        &sample("sample_data/adult_current.csv"),
        &DriftOptions::default(),
        1000,
    );
    assert_eq!(v["timestamp_column"], "timestamp");
    // Small reference: exact KS, chi-square and Z tests.
    let v = check(
        &sample("tests/fixtures/drift/adult_reference_800.csv"),
        &sample("tests/fixtures/drift/adult_current_800.csv"),
        &DriftOptions::default(),
        97,
    );
    let methods: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    for m in ["ks", "chi2", "z"] {
        assert!(methods.contains(&m), "{m} in {methods:?}");
    }
}

#[test]
fn overrides_stream_to_the_same_report() {
    let r = sample("sample_data/adult_reference.csv");
    let c = sample("sample_data/adult_current.csv");
    for method in [
        Method::Psi,
        Method::Ks,
        Method::Chi2,
        Method::Z,
        Method::Wasserstein,
    ] {
        let opts = DriftOptions {
            columns: Some(vec![
                "age".into(),
                "sex_male".into(),
                "race".into(),
                "hours_per_week".into(),
            ]),
            numeric: vec!["sex_male".into()],
            method: Some(method),
            threshold: Some(0.2),
            drift_share: 0.3,
            target: Some("race".into()),
            max_rows_listed: 7,
            ..DriftOptions::default()
        };
        check(&r, &c, &opts, 640);
    }
    let opts = DriftOptions {
        categorical: vec!["age".into()],
        timestamp: Some("timestamp".into()),
        ..DriftOptions::default()
    };
    check(&r, &c, &opts, 2048);
    // Drift over time by row counts and by calendar period (detected or named timestamp).
    for (size, batch) in [(1000, 300), (777, 5000), (7, 2000)] {
        let opts = DriftOptions {
            windows: Some(Windows::Rows(size)),
            ..DriftOptions::default()
        };
        let v = check(&r, &c, &opts, batch);
        assert!(v["over_time"]["columns"].as_array().unwrap().len() > 5);
    }
    for (period, named, batch) in [
        (Period::Month, false, 700),
        (Period::Week, true, 1000),
        (Period::Day, false, 4999),
    ] {
        let opts = DriftOptions {
            windows: Some(Windows::Period(period)),
            timestamp: named.then(|| "timestamp".into()),
            ..DriftOptions::default()
        };
        let v = check(&r, &c, &opts, batch);
        assert!(v["over_time"]["windows"].as_array().unwrap().len() > 1);
    }
    let p = Progress::none();
    let opts = DriftOptions {
        windows: Some(Windows::Rows(0)),
        ..DriftOptions::default()
    };
    assert!(drift_streamed(&r, &c, None, &opts, Some(100), &p)
        .unwrap()
        .is_none());
}

/// Windows by period over rows out of time order, with rows lacking a timestamp; and the
/// error of windows by period without a timestamp column.
#[test]
fn period_windows_of_unordered_rows_stream() {
    let dir = tempfile::tempdir().unwrap();
    let r = sample("sample_data/adult_reference.csv");
    let text = std::fs::read_to_string(sample("sample_data/adult_current.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    // Interleave the end of the file with its start, and blank every 13th timestamp.
    let half = lines.len() / 2;
    let mut out = vec![header.to_string()];
    for i in 0..half {
        for (k, line) in [lines[half + i], lines[i]].into_iter().enumerate() {
            let line = if (2 * i + k) % 13 == 0 {
                line.split_once(',')
                    .map_or(line.to_string(), |(_, rest)| format!(",{rest}"))
            } else {
                line.to_string()
            };
            out.push(line);
        }
    }
    let c = dir.path().join("unordered.csv");
    std::fs::write(&c, out.join("\n") + "\n").unwrap();
    for (period, batch) in [(Period::Month, 333), (Period::Week, 4096)] {
        let opts = DriftOptions {
            windows: Some(Windows::Period(period)),
            timestamp: Some("timestamp".into()),
            ..DriftOptions::default()
        };
        let v = check(&r, &c, &opts, batch);
        assert!(v["over_time"]["rows_without_time"].as_u64().unwrap() > 300);
    }
    let p = Progress::none();
    let opts = DriftOptions {
        windows: Some(Windows::Period(Period::Month)),
        ..DriftOptions::default()
    };
    let e = sample("sample_data/adult_eval.csv");
    let m = drift_files(&r, &e, None, &opts, &p).unwrap_err();
    let s = drift_streamed(&r, &e, None, &opts, Some(1000), &p).unwrap_err();
    assert_eq!((s.to_string(), s.kind()), (m.to_string(), m.kind()));
}

/// The model's `prediction` column streams: a binary classifier's positive-class probability
/// (logistic regression and gradient-boosted trees), a regressor's value and a multiclass
/// classifier's label, with windows and data-quality findings on it.
#[test]
fn prediction_column_streams() {
    let r = sample("sample_data/adult_reference.csv");
    let c = sample("sample_data/adult_current.csv");
    for (model, batch) in [
        ("sample_models/adult_logreg.onnx", 1000),
        ("sample_models/adult_gbdt_v1.onnx", 5000),
    ] {
        let opts = DriftOptions {
            windows: Some(Windows::Period(Period::Month)),
            ..DriftOptions::default()
        };
        let v = check_with(&r, &c, Some(&sample(model)), &opts, batch);
        let cols = v["columns"].as_array().unwrap();
        assert_eq!(cols.last().unwrap()["name"], "prediction", "{model}");
        let series = v["over_time"]["columns"].as_array().unwrap();
        assert_eq!(series.last().unwrap()["name"], "prediction", "{model}");
    }
    let v = check_with(
        &sample("sample_data/abalone_reference.csv"),
        &sample("sample_data/abalone_eval.csv"),
        Some(&sample("sample_models/abalone_rf.onnx")),
        &DriftOptions {
            windows: Some(Windows::Rows(200)),
            ..DriftOptions::default()
        },
        256,
    );
    assert_eq!(
        v["model"],
        serde_json::json!(sample("sample_models/abalone_rf.onnx"))
    );
    let iris = sample("tests/fixtures/models/skl_multiclass.csv");
    let v = check_with(
        &iris,
        &iris,
        Some(&sample("tests/fixtures/models/skl_multiclass.onnx")),
        &DriftOptions::default(),
        7,
    );
    let pred = v["columns"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(pred["name"], "prediction");
    assert_eq!(pred["kind"], "categorical");
}

/// A reference and a current file with every kind of column and finding.
fn write_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let mut r = String::from(
        "x,n,cat,code,ratio,id,flag,only_ref,gone,num_text,const,nearly,padded,quoted\n",
    );
    for i in 0..400 {
        let x = if i % 37 == 5 {
            String::new()
        } else {
            format!("{}", (i * 7919 % 1000) as f64 / 10.0 - 20.0)
        };
        r.push_str(&format!(
            "{x},{},{},{},{},id{i},{},{},{},{},7,{},{},{}\n",
            i % 9,
            ["a", "b", "c", "d"][i % 4],
            i % 5,
            if i == 3 {
                "inf".to_string()
            } else {
                format!("{}", (i % 50) as f64 * 0.25)
            },
            i % 2 == 0,
            i,
            if i % 3 == 0 { "" } else { "z" },
            i % 13,
            if i % 50 == 0 { 1 } else { 0 },
            i % 30,
            i % 4,
        ));
    }
    let mut c = String::from(
        "when,x,n,cat,code,ratio,id,flag,extra,gone,num_text,const,nearly,padded,quoted\n",
    );
    for i in 0..3000 {
        // Rows 2000.. repeat rows 1000.. (duplicates), but for row 2500.
        let j = if i >= 2000 { i - 1000 } else { i };
        let x = match j % 101 {
            3 => String::new(),
            4 => "-0.0".into(),
            5 => "0".into(),
            _ => format!("{}", (j * 104_729 % 1500) as f64 / 10.0 - 30.0),
        };
        let cat = match j % 23 {
            0 => "",
            1 => "new",
            2 => "other",
            _ => ["a", "b", "c", "d"][i % 4],
        };
        let num_text = if i == 2500 {
            "oops".to_string()
        } else {
            format!("{}", j % 11)
        };
        c.push_str(&format!(
            "2024-0{}-{:02}T10:00:00Z,{x},{},{cat},{},{},id{j},{},e{},{},{num_text},7,{}, {} ,\"{}\"\n",
            1 + j % 3,
            1 + j % 28,
            if j % 7 == 0 { 11 } else { j % 9 },
            j % 6,
            if j == 17 {
                "-inf".to_string()
            } else {
                format!("{}", (j % 60) as f64 * 0.25)
            },
            j % 3 != 0,
            j % 5,
            if j % 4 == 0 { "" } else { "z" },
            if j % 100 == 0 { 2 } else { 0 },
            j % 33,
            j % 5,
        ));
    }
    let (rp, cp) = (dir.join("ref.csv"), dir.join("cur.csv"));
    std::fs::write(&rp, r).unwrap();
    std::fs::write(&cp, c).unwrap();
    (rp, cp)
}

#[test]
fn every_finding_streams_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let (r, c) = write_pair(dir.path());
    for batch in [1, 64, 999, 5000] {
        let v = check(&r, &c, &DriftOptions::default(), batch);
        if batch == 64 {
            assert_eq!(v["timestamp_column"], "when");
            let q = &v["quality"];
            // Text of numbers where the reference has numbers: parsed and compared.
            assert_eq!(q["schema"]["type_changed"][1]["name"], "padded");
            let names: Vec<&str> = v["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert!(names.contains(&"padded"), "{names:?}");
            assert!(q["current"]["duplicated_rows"].as_u64().unwrap() > 0);
            assert!(!q["out_of_range"].as_array().unwrap().is_empty());
            assert!(!q["unseen_categories"].as_array().unwrap().is_empty());
            assert_eq!(q["type_mismatches"][0]["name"], "num_text");
            let skipped: Vec<&str> = v["skipped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap())
                .collect();
            assert!(
                skipped.contains(&"id") && skipped.contains(&"num_text"),
                "{skipped:?}"
            );
        }
    }
    let opts = DriftOptions {
        windows: Some(Windows::Rows(450)),
        categorical: vec!["id".into(), "x".into()],
        numeric: vec!["code".into()],
        method: Some(Method::JensenShannon),
        max_rows_listed: 3,
        ..DriftOptions::default()
    };
    check(&r, &c, &opts, 128);
}

#[test]
fn parquet_streams_to_the_same_report() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let (r, c) = write_pair(dir.path());
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(Some(10_000))
        .try_into_reader_with_file_path(Some(c.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let pq = dir.path().join("cur.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .with_row_group_size(Some(500))
        .finish(&mut df)
        .unwrap();
    check(&r, &pq, &DriftOptions::default(), 333);
}

#[test]
fn problems_fall_back_or_fail_as_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let r = sample("sample_data/adult_reference.csv");
    // `age` is whole numbers for the first 10,000 rows (the inferred type), then text: the
    // chunked parse fails and the in-memory path (which re-infers) takes over.
    let c = dir.path().join("late_text.csv");
    let mut text = String::from("age,race\n");
    for i in 0..12_000 {
        let age = if i == 11_000 {
            "old".to_string()
        } else {
            format!("{}", 20 + i % 50)
        };
        text.push_str(&format!("{age},{}\n", ["White", "Black"][i % 2]));
    }
    std::fs::write(&c, text).unwrap();
    let p = Progress::none();
    let opts = DriftOptions::default();
    assert!(drift_streamed(&r, &c, None, &opts, Some(1000), &p)
        .unwrap()
        .is_none());
    drift_files(&r, &c, None, &opts, &p).expect("in memory");
    // Option errors are the in-memory path's, found before the data is read; an error of the
    // values (text in a column named numeric) sends the run to the in-memory path.
    let c = sample("sample_data/adult_current.csv");
    let bad = |f: fn(&mut DriftOptions)| {
        let mut o = DriftOptions::default();
        f(&mut o);
        o
    };
    for (opts, early) in [
        (bad(|o| o.drift_share = 0.0), true),
        (bad(|o| o.columns = Some(vec!["nope".into()])), true),
        (bad(|o| o.timestamp = Some("nope".into())), true),
        (bad(|o| o.numeric = vec!["race".into()]), false),
    ] {
        let m = drift_files(&r, &c, None, &opts, &p).unwrap_err();
        match drift_streamed(&r, &c, None, &opts, Some(1000), &p) {
            Err(s) => {
                assert!(early);
                assert_eq!(s.to_string(), m.to_string());
                assert_eq!(s.kind(), m.kind());
            }
            Ok(None) => assert!(!early, "{m}"),
            Ok(Some(_)) => panic!("streamed despite {m}"),
        }
    }
}

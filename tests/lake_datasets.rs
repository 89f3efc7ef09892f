//! Lake-style datasets (issue 19, item 4): a directory of hive-partitioned Parquet files, or a
//! glob over it, evaluates exactly like the same rows in one CSV file — partition folders are
//! columns (here `sex`, a model input), files are read in sorted path order, `_SUCCESS` and
//! hidden files are skipped, the hash is deterministic, and a broken file is named.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

mod support;
use support::{assay, json_of};

fn evaluate(data: &str) -> Value {
    json_of(&assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        data,
        "--target",
        "income_over_50k",
        "--bootstrap",
        "50",
        "--json",
        "-",
    ]))
}

fn read_csv(path: &Path) -> DataFrame {
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

fn write_parquet(df: &mut DataFrame, path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(df).unwrap();
}

/// Writes `root/sex=<v>/part-<k>.parquet` (two files per partition, `sex` only in the folder
/// name) and `flat.csv` with the same rows in the order the set is read (sorted paths).
fn make_lake(root: &Path) {
    let src = read_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/adult_eval.csv"));
    let mut flat: Vec<DataFrame> = Vec::new();
    for sex in ["Female", "Male"] {
        let mask = src.column("sex").unwrap().str().unwrap().equal(sex);
        let part = src.filter(&mask).unwrap().drop("sex").unwrap();
        let half = part.height() / 2;
        for (k, (off, len)) in [(0i64, half), (half as i64, part.height() - half)]
            .into_iter()
            .enumerate()
        {
            let mut piece = part.slice(off, len);
            write_parquet(
                &mut piece,
                &root.join(format!("sex={sex}/part-{k}.parquet")),
            );
            let n = piece.height();
            let with_sex = piece
                .hstack(&[Column::new("sex".into(), vec![sex; n])])
                .unwrap();
            flat.push(with_sex);
        }
    }
    std::fs::write(root.join("_SUCCESS"), b"").unwrap();
    std::fs::write(root.join("sex=Male/.part-0.parquet.crc"), b"crc").unwrap();
    let mut all = flat[0].clone();
    for f in &flat[1..] {
        all.vstack_mut(f).unwrap();
    }
    let csv = root.parent().unwrap().join("flat.csv");
    let mut writer = CsvWriter::new(std::fs::File::create(csv).unwrap());
    SerWriter::finish(&mut writer, &mut all).unwrap();
}

#[test]
fn a_partitioned_folder_and_a_glob_evaluate_like_one_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lake");
    make_lake(&root);
    let csv = evaluate(tmp.path().join("flat.csv").to_str().unwrap());
    let dir = evaluate(root.to_str().unwrap());
    let glob = evaluate(root.join("sex=*/part-*.parquet").to_str().unwrap());
    assert_eq!(csv["n"], 5000);
    for set in [&dir, &glob] {
        assert_eq!(set["n"], csv["n"]);
        assert_eq!(set["metrics"], csv["metrics"]);
        assert_eq!(set["confusion_matrix"], csv["confusion_matrix"]);
        assert_eq!(set["ci"], csv["ci"]);
        assert_eq!(set["data"]["sha256"].as_str().map(str::len), Some(64));
    }
    assert_eq!(
        dir["data"]["sha256"], glob["data"]["sha256"],
        "same files, same hash"
    );
    assert_eq!(
        evaluate(root.to_str().unwrap())["data"]["sha256"],
        dir["data"]["sha256"]
    );
    // A glob that picks one partition is a different dataset.
    let male = evaluate(root.join("sex=Male/*.parquet").to_str().unwrap());
    assert_ne!(male["data"]["sha256"], dir["data"]["sha256"]);
}

#[test]
fn a_broken_file_of_the_set_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lake");
    make_lake(&root);
    std::fs::write(root.join("sex=Male/part-9.parquet"), b"not parquet at all").unwrap();
    let out = assay(&[
        "evaluate",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        root.to_str().unwrap(),
        "--target",
        "income_over_50k",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("part-9.parquet"), "{err}");

    let empty = tmp.path().join("nothing");
    std::fs::create_dir(&empty).unwrap();
    let out = assay(&["inspect", "--data", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no data files"));
    let out = assay(&[
        "inspect",
        "--data",
        root.join("sex=*/*.csv").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches"));
}

#[test]
fn drift_reads_a_partitioned_current_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lake");
    make_lake(&root);
    let out = assay(&[
        "drift",
        "--reference",
        "sample_data/adult_reference.csv",
        "--current",
        root.to_str().unwrap(),
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    let flat = json_of(&assay(&[
        "drift",
        "--reference",
        "sample_data/adult_reference.csv",
        "--current",
        tmp.path().join("flat.csv").to_str().unwrap(),
        "--json",
        "-",
    ]));
    assert_eq!(j["columns"], flat["columns"]);
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn monitor(log: &Path, wheres: &[&str]) -> std::process::Output {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/monitor");
    let mut args = vec![
        "monitor".to_string(),
        "--reference".into(),
        fx.join("car_loan_reference.parquet").display().to_string(),
        "--analysis".into(),
        log.display().to_string(),
    ];
    for s in [
        "--target",
        "repaid",
        "--score",
        "y_pred_proba",
        "--prediction",
        "y_pred",
        "--timestamp",
        "timestamp",
        "--chunk-period",
        "month",
        "--json",
        "-",
    ] {
        args.push(s.into());
    }
    for w in wheres {
        args.extend(["--where".to_string(), w.to_string()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assay(&refs)
}

/// A monitoring window over a `month=YYYY-MM` partitioned log (issue 19, item 4): `--where`
/// reads only the partitions it selects (a broken file in another partition is never
/// opened), and the result equals monitoring one file of exactly those rows.
#[test]
fn a_monitoring_window_reads_only_the_partitions_it_selects() {
    let tmp = tempfile::tempdir().unwrap();
    let lake = tmp.path().join("log");
    let src = read_parquet(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/monitor/car_loan_analysis.parquet"),
    );
    let months: Vec<String> = src
        .column("timestamp")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|t| t.unwrap()[..7].to_string())
        .collect();
    let mut distinct = months.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 11, "{distinct:?}");
    let mut window: Option<DataFrame> = None;
    for m in &distinct {
        let mask: BooleanChunked = months.iter().map(|x| x == m).collect();
        let mut part = src.filter(&mask).unwrap();
        write_parquet(&mut part, &lake.join(format!("month={m}/part-0.parquet")));
        if ("2019-03".."2019-06").contains(&m.as_str()) {
            match window.as_mut() {
                None => window = Some(part),
                Some(w) => {
                    w.vstack_mut(&part).unwrap();
                }
            }
        }
    }
    let flat = tmp.path().join("window.parquet");
    let mut window = window.unwrap();
    write_parquet(&mut window, &flat);
    // A partition outside the window holds a file that is not Parquet.
    std::fs::write(lake.join("month=2018-11/part-1.parquet"), b"not parquet").unwrap();

    let whole = monitor(&lake, &[]);
    assert_eq!(whole.status.code(), Some(2));
    let err = String::from_utf8_lossy(&whole.stderr);
    assert!(err.contains("month=2018-11/part-1.parquet"), "{err}");

    let expected = json_of(&monitor(&flat, &[]));
    for (set, wheres) in [
        (lake.clone(), ["month>=2019-03", "month < '2019-06'"]),
        (
            lake.join("month=*/*.parquet"),
            ["month>2019-02", "month<=2019-05"],
        ),
    ] {
        let got = json_of(&monitor(&set, &wheres));
        assert_eq!(got["analysis"]["rows"], window.height());
        assert_eq!(got["analysis"]["selected"]["files"], 3);
        assert_eq!(
            got["analysis"]["selected"]["where"][0],
            wheres[0].replace(' ', "")
        );
        let keys: Vec<&str> = got["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["period"] == "analysis")
            .map(|c| c["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["2019-03", "2019-04", "2019-05"]);
        assert_eq!(got["chunks"], expected["chunks"]);
        assert_eq!(got["alerts"], expected["alerts"]);
        assert_eq!(got["reference"], expected["reference"]);
    }

    // A column that is not a partition folder, a window with no partition, a single file.
    for (log, w, needle) in [
        (&lake, "region=eu", "'region' is not a partition column"),
        (
            &lake,
            "month>=2020-01",
            "no partition satisfies --where month>=2020-01",
        ),
        (&lake, "month>>2", "COLUMN OP VALUE"),
        (&flat, "month=2019-03", "this is one file"),
    ] {
        let out = monitor(log, &[w]);
        assert_eq!(out.status.code(), Some(2), "{w}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{w}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

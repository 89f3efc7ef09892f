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

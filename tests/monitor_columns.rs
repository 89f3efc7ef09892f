//! A prediction log read by columns (issue 19: `assay monitor` on a log too large to load
//! whole) gives the report of the log loaded whole, to the bit: binary with labels joined by
//! id, chunks by size and by calendar month, multiclass, the demo's log (text features, the
//! model scoring the reference) as Parquet and as the CSV it is (copied to Parquet files
//! first), a lake-style set with a partition window — each with the drift read one or two
//! columns a pass and the multivariate signal (and a CSV's copy) in small batches of rows
//! that cross the chunks' boundaries. A small CSV log, a CSV whose copy fails, or a set whose
//! files disagree, is left to the whole load, whose report then says why.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use assay::engine::data::Predicate;
use assay::engine::model::Model;
use assay::engine::monitor::log_data::Passes;
use assay::engine::monitor::{
    run_by_columns, run_log, run_log_with, ByColumns, Chunking, Log, Metric, MonitorOptions,
    MonitorReport, Period,
};
use assay::engine::Progress;
use polars::prelude::{col, DataType};

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fx(name: &str) -> PathBuf {
    root("tests/fixtures/monitor").join(name)
}

fn json(r: &MonitorReport) -> String {
    serde_json::to_string_pretty(r).expect("json")
}

/// The report read by columns (with `passes`) and loaded whole; they must be the same.
fn same(
    reference: &Path,
    log: Log<'_>,
    target: Option<&Path>,
    model: Option<&Path>,
    opts: &MonitorOptions,
    passes: Passes,
) -> MonitorReport {
    let m = model.map(|p| Model::load(p).expect("model"));
    let by_columns = run_by_columns(
        reference,
        log,
        target,
        m.as_ref(),
        opts,
        passes,
        &Progress::none(),
    )
    .expect("runs")
    .report()
    .expect("read by columns");
    // Small files: run_log loads them whole.
    let whole = run_log(reference, log, target, model, opts, &Progress::none()).expect("runs");
    assert_eq!(json(&by_columns), json(&whole), "{passes:?}");
    whole
}

fn file(path: &Path) -> Log<'_> {
    Log {
        path,
        partitions: &[],
    }
}

fn car_loan(chunking: Chunking) -> MonitorOptions {
    MonitorOptions {
        target: "repaid".into(),
        score: Some("y_pred_proba".into()),
        prediction: Some("y_pred".into()),
        timestamp: Some("timestamp".into()),
        id: Some("id".into()),
        chunking: Some(chunking),
        metrics: Metric::parse_list(
            &["roc_auc", "f1", "accuracy", "confusion_matrix"].map(String::from),
        )
        .unwrap(),
        drift: true,
        ..MonitorOptions::default()
    }
}

const PASSES: [Passes; 3] = [
    Passes {
        columns: 0,
        rows: 0,
        small_csv: true,
    },
    Passes {
        columns: 1,
        rows: 777,
        small_csv: true,
    },
    Passes {
        columns: 2,
        rows: 4096,
        small_csv: true,
    },
];

#[test]
fn binary_by_size_and_by_month_with_labels_joined_by_id() {
    let log = fx("car_loan_analysis.parquet");
    for chunking in [Chunking::Size(5000), Chunking::Period(Period::Month)] {
        for passes in PASSES {
            let r = same(
                &fx("car_loan_reference.parquet"),
                file(&log),
                Some(&fx("car_loan_analysis_target.parquet")),
                None,
                &car_loan(chunking),
                passes,
            );
            let drift = r.drift.as_ref().expect("drift");
            assert!(drift.columns.len() >= 5, "{:?}", drift.columns.len());
            assert!(drift.multivariate.is_some());
            assert!(r.chunks.iter().any(|c| !c.realized.is_empty()));
        }
    }
}

#[test]
fn multiclass_by_size() {
    let opts = MonitorOptions {
        target: "y_true".into(),
        scores: ["prepaid_card", "highstreet_card", "upmarket_card"]
            .iter()
            .map(|c| (c.to_string(), format!("y_pred_proba_{c}")))
            .collect(),
        prediction: Some("y_pred".into()),
        timestamp: Some("timestamp".into()),
        id: Some("id".into()),
        chunking: Some(Chunking::Size(6000)),
        drift: true,
        ..MonitorOptions::default()
    };
    for passes in PASSES {
        same(
            &fx("mc_reference.parquet"),
            file(&fx("mc_analysis.parquet")),
            Some(&fx("mc_analysis_target.parquet")),
            None,
            &opts,
            passes,
        );
    }
}

/// The demo's log (as Parquet) with text features and labels in the log; the model scores
/// the reference (it has no score column) while the log's scores are read from it.
#[test]
fn demo_csv_log_with_text_features_and_a_model_for_the_reference() {
    let opts = MonitorOptions {
        target: "income_over_50k".into(),
        score: Some("score".into()),
        timestamp: Some("timestamp".into()),
        chunking: Some(Chunking::Size(300)),
        drift: true,
        ..MonitorOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("adult_log.parquet");
    write_parquet(&root("sample_data/adult_log.csv"), &log, |lf| lf);
    for passes in PASSES {
        let r = same(
            &root("sample_data/adult_reference.csv"),
            file(&log),
            None,
            Some(&root("sample_models/adult_gbdt_v1.onnx")),
            &opts,
            passes,
        );
        assert!(!r.alerts.is_empty(), "the demo's drop alerts");
    }
    // The CSV itself: copied to Arrow files, then read by columns.
    for passes in PASSES {
        let r = same(
            &root("sample_data/adult_reference.csv"),
            file(&root("sample_data/adult_log.csv")),
            None,
            Some(&root("sample_models/adult_gbdt_v1.onnx")),
            &opts,
            passes,
        );
        assert!(!r.alerts.is_empty(), "the demo's drop alerts");
    }
}

/// The car-loan log and its labels as CSV files (timestamps as text), chunked by month.
#[test]
fn csv_log_by_month_with_labels_joined_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.csv");
    write_csv(&fx("car_loan_analysis.parquet"), &log);
    for passes in PASSES {
        same(
            &fx("car_loan_reference.parquet"),
            file(&log),
            Some(&fx("car_loan_analysis_target.parquet")),
            None,
            &car_loan(Chunking::Period(Period::Month)),
            passes,
        );
    }
}

/// A lake-style log: every partition, and a window of them (`--where`).
#[test]
fn partitioned_log_and_a_window_of_it() {
    let dir = tempfile::tempdir().unwrap();
    for day in ["01", "02", "03"] {
        let sub = dir.path().join(format!("day=2024-03-{day}"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(fx("car_loan_analysis.parquet"), sub.join("part-0.parquet")).unwrap();
    }
    let reference = fx("car_loan_reference.parquet");
    let opts = MonitorOptions {
        id: None,
        timestamp: None,
        ..car_loan(Chunking::Number(9))
    };
    let all = same(&reference, file(dir.path()), None, None, &opts, PASSES[2]);
    assert!(all.analysis.selected.is_none());
    let window = [Predicate::parse("day>=2024-03-02").unwrap()];
    let log = Log {
        path: dir.path(),
        partitions: &window,
    };
    let r = same(&reference, log, None, None, &opts, PASSES[1]);
    assert_eq!(r.analysis.selected.as_ref().map(|s| s.files), Some(2));
    assert_eq!(r.analysis.rows, 2 * all.analysis.rows / 3);
}

/// A small CSV log is not read by columns (copying it is slower than loading it), nor one whose
/// copy fails (a value below the 10,000 rows its column's type was inferred from does not
/// fit it: the whole load infers from every row), nor a set whose files disagree on a column
/// read (the whole load, which reports it, runs instead).
#[test]
fn a_small_csv_log_or_a_failed_read_is_left_to_the_whole_load() {
    let reference = fx("car_loan_reference.parquet");
    let opts = MonitorOptions {
        id: None,
        timestamp: None,
        ..car_loan(Chunking::Number(4))
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("log.csv");
    let rows = "0.2,0,0\n0.9,1,1\n".repeat(4);
    std::fs::write(&csv, format!("y_pred_proba,y_pred,repaid\n{rows}")).unwrap();
    let by_columns = |log: &Path| {
        run_by_columns(
            &reference,
            file(log),
            None,
            None,
            &opts,
            PASSES[1],
            &Progress::none(),
        )
        .expect("no error by columns")
    };
    let by_default = run_by_columns(
        &reference,
        file(&csv),
        None,
        None,
        &opts,
        Passes::default(),
        &Progress::none(),
    )
    .expect("no error");
    assert!(
        matches!(by_default, ByColumns::LoadWhole(None)),
        "a small CSV log loads whole, nothing to say: {by_default:?}"
    );
    assert!(by_columns(&csv).report().is_some(), "unless asked");
    let late = dir.path().join("late.csv");
    let mut text = String::from("y_pred_proba,y_pred,repaid,extra\n");
    for r in 0..10_050 {
        let extra = if r == 10_040 {
            "1.5".to_string()
        } else {
            r.to_string()
        };
        text.push_str(&format!("0.{},{},{},{extra}\n", r % 10, r % 2, (r / 2) % 2));
    }
    std::fs::write(&late, text).unwrap();
    let ByColumns::LoadWhole(Some(warning)) = by_columns(&late) else {
        panic!("the copy fails: loads whole, saying why");
    };
    let said = warning.as_str();
    assert!(
        said.starts_with("the log was loaded whole")
            && said.contains("late.csv")
            && said.contains("1.5"),
        "{said}"
    );
    let whole = run_log_with(
        &reference,
        file(&late),
        None,
        None,
        &opts,
        Some(PASSES[1]),
        &Progress::none(),
    )
    .expect("the whole load infers from every row");
    assert_eq!(whole.analysis.rows, 10_050);
    assert!(
        whole.warnings.iter().any(|w| w.as_str() == said),
        "the report says why it was loaded whole: {:?}",
        whole.warnings
    );
    // Day 2's car_value is text: the set cannot be stacked.
    let set = dir.path().join("set");
    for (day, text) in [("1", false), ("2", true)] {
        let sub = set.join(format!("day={day}"));
        std::fs::create_dir_all(&sub).unwrap();
        write_parquet(
            &fx("car_loan_analysis.parquet"),
            &sub.join("part-0.parquet"),
            |lf| {
                if text {
                    lf.with_column(col("car_value").cast(DataType::String))
                } else {
                    lf
                }
            },
        );
    }
    assert!(
        by_columns(&set).report().is_none(),
        "falls back to the whole load"
    );
    let err = run_log(&reference, file(&set), None, None, &opts, &Progress::none())
        .expect_err("the whole load refuses the set");
    assert!(err.to_string().contains("day=2"), "{err}");
}

/// Writes the Parquet file `from` as CSV at `to`.
fn write_csv(from: &Path, to: &Path) {
    use polars::prelude::*;
    let mut df = LazyFrame::scan_parquet(
        PlRefPath::try_from_path(from).unwrap(),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    CsvWriter::new(std::fs::File::create(to).unwrap())
        .finish(&mut df)
        .unwrap();
}

/// Writes the CSV or Parquet file `from` as Parquet at `to`, through `edit`.
fn write_parquet(
    from: &Path,
    to: &Path,
    edit: impl FnOnce(polars::prelude::LazyFrame) -> polars::prelude::LazyFrame,
) {
    use polars::prelude::*;
    let lf = if from.extension().is_some_and(|e| e == "csv") {
        LazyCsvReader::new(PlRefPath::try_from_path(from).unwrap())
            .with_has_header(true)
            .finish()
            .unwrap()
    } else {
        LazyFrame::scan_parquet(
            PlRefPath::try_from_path(from).unwrap(),
            ScanArgsParquet::default(),
        )
        .unwrap()
    };
    let mut df = edit(lf).collect().unwrap();
    ParquetWriter::new(std::fs::File::create(to).unwrap())
        .with_row_group_size(Some(1000))
        .finish(&mut df)
        .unwrap();
}

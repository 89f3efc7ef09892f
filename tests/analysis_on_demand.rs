//! A dataset too large to hold (`LoadedData` of a file read on demand) gives the same review as
//! the same file held in memory: the window, `assay report` and `assay package` read large files
//! this way, so their evidence, report and monitoring files must not depend on it. Also its
//! preview pages and column distributions, read from the file, against the frame's.
//!
//! Files of any size are read on demand here through `LoadedData::streamed` (what `load` does
//! for a file of at least 64 MiB), in batches of 997 rows so every batch boundary is crossed.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::path::Path;

use assay::engine::analysis::{
    compute, LoadedData, LoadedFiles, Planner, Review, Sources, Wants, PAGE_ROWS,
};
use assay::engine::data::csv_pages::CsvRows;
use assay::engine::data::summary::{cell_text, distribution, distribution_file};
use assay::engine::workspace::{demo_workspace, DatasetRole, Workspace};
use assay::engine::Progress;
use polars::prelude::DataFrame;
use serde_json::Value;

mod support;
use support::first_difference;

const BATCH: usize = 997;

/// The demo workspace, smaller: two models, 50 resamples.
fn small_demo() -> Workspace {
    let mut ws = demo_workspace().expect("demo workspace");
    ws.models.truncate(2);
    ws.settings.bootstrap = 50;
    ws
}

/// Every dataset of `ws` held, and read on demand.
fn both(ws: &Workspace) -> (LoadedFiles, LoadedFiles) {
    let held = LoadedFiles::load(ws, &Progress::none()).expect("load");
    let mut on_demand = LoadedFiles::load(ws, &Progress::none()).expect("load");
    for d in &ws.datasets {
        let data = LoadedData::streamed(&d.path, BATCH, &Progress::none())
            .expect("summary")
            .expect("a CSV file is read in batches");
        assert!(data.in_memory().is_none());
        assert_eq!(
            serde_json::to_value(&data.info).expect("info"),
            serde_json::to_value(&held.data(&d.path).expect("held").info).expect("info"),
            "{}",
            d.path.display()
        );
        on_demand.insert_data(data);
    }
    (held, on_demand)
}

struct Gathered {
    evidence: Vec<(String, Value)>,
    html: String,
    monitoring: Vec<(String, String)>,
    weak_slices: Value,
}

fn gather(ws: &Workspace, files: &LoadedFiles) -> Gathered {
    let results = compute(ws, files, Wants::default(), &Progress::none()).expect("compute");
    let review = Review::gather(&Planner::new(ws, files, &results), None, None);
    let fairness = review
        .focus_model()
        .and_then(|m| m.fairness.clone())
        .expect("fairness");
    Gathered {
        evidence: review.evidence().expect("evidence"),
        html: review.render("2026-01-01T00:00:00Z").expect("render").html,
        monitoring: review.monitoring_files().expect("monitoring files"),
        weak_slices: serde_json::to_value(&fairness.slices).expect("weak slices as JSON"),
    }
}

/// `text` with every number of more than 9 digits rounded to 6 significant digits. The
/// report covers every model, and a tree ensemble's scores are ONNX Runtime's float32 sums
/// over the trees, which round differently in the last bits when the rows are run in other
/// chunks or threads (a small file is one batch when streamed, 1,024-row chunks in memory; a
/// file large enough to stream is cut the same way on both paths on two cores). The evidence
/// (the focus model, a logistic regression) is compared exactly.
fn rounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut number = String::new();
    let flush = |number: &mut String, out: &mut String| {
        let digits = number.bytes().filter(u8::is_ascii_digit).count();
        match number.parse::<f64>() {
            Ok(x) if digits > 9 && number.contains('.') => out.push_str(&format!("{x:.5e}")),
            _ => out.push_str(number),
        }
        number.clear();
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() || (ch == '.' && !number.is_empty()) {
            number.push(ch);
        } else {
            flush(&mut number, &mut out);
            out.push(ch);
        }
    }
    flush(&mut number, &mut out);
    out
}

fn same_review(ws: &Workspace) {
    let (held, on_demand) = both(ws);
    let a = gather(ws, &held);
    let b = gather(ws, &on_demand);
    let names: Vec<&str> = a.evidence.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"evaluation") && names.contains(&"drift"),
        "{names:?}"
    );
    assert_eq!(a.evidence.len(), b.evidence.len());
    for ((name, x), (_, y)) in a.evidence.iter().zip(&b.evidence) {
        assert!(
            x == y,
            "{name} differs: {}",
            first_difference(x, y, String::new())
        );
    }
    let (html_a, html_b) = (rounded(&a.html), rounded(&b.html));
    if html_a != html_b {
        let dir = std::env::temp_dir();
        std::fs::write(dir.join("assay-report-held.html"), &a.html).ok();
        std::fs::write(dir.join("assay-report-on-demand.html"), &b.html).ok();
        panic!("the report differs (both written to {})", dir.display());
    }
    assert_eq!(a.monitoring, b.monitoring);
    // The weak slices (not in the evidence) are searched the same way: streamed on demand.
    assert!(!a.weak_slices["slices"]
        .as_array()
        .expect("slices")
        .is_empty());
    assert!(
        a.weak_slices == b.weak_slices,
        "weak slices differ: {}",
        first_difference(&a.weak_slices, &b.weak_slices, String::new())
    );
}

#[test]
fn the_demo_review_is_the_same_read_on_demand() {
    // Evaluation, fairness, weak slices and drift (the model's predictions over monthly
    // windows) stream; monitoring reads the log by columns (its scores are in the log).
    same_review(&small_demo());
}

#[test]
fn drift_without_a_model_or_timestamp_streams_the_same_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut ws = small_demo();
    ws.settings.drift_with_model = false;
    ws.roles.timestamp = None;
    // A current dataset without a timestamp column: six row windows, which stream.
    let current = tmp.path().join("current.csv");
    let eval = ws
        .datasets
        .iter()
        .find(|d| d.role == DatasetRole::Evaluation)
        .expect("eval data")
        .path
        .clone();
    std::fs::copy(&eval, &current).expect("copy");
    for d in &mut ws.datasets {
        if d.role == DatasetRole::Current {
            d.path = current.clone();
        }
    }
    same_review(&ws);
}

/// The CSV file at `path` as a lake-style set in `dir`: its rows cut into `pieces` files
/// (`dir/part-0.csv`, …), in order.
fn as_set(path: &Path, dir: &Path, pieces: usize) {
    let text = std::fs::read_to_string(path).expect("read");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    std::fs::create_dir_all(dir).expect("mkdir");
    for (k, piece) in rows.chunks(rows.len().div_ceil(pieces)).enumerate() {
        let body = format!("{header}\n{}\n", piece.join("\n"));
        std::fs::write(dir.join(format!("part-{k}.csv")), body).expect("write");
    }
}

#[test]
fn the_demo_review_is_the_same_with_file_sets_read_on_demand() {
    // Every dataset a folder of three CSV files: summarised, evaluated, sliced and drifted
    // file after file in batches that cross the files' boundaries.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut ws = small_demo();
    for (i, d) in ws.datasets.iter_mut().enumerate() {
        let dir = tmp.path().join(format!("set-{i}"));
        as_set(&d.path, &dir, 3);
        d.path = dir;
    }
    same_review(&ws);
}

/// Two pages hold the same rows, cell for cell as the preview shows them.
fn same_rows(a: &DataFrame, b: &DataFrame, what: &str) {
    assert_eq!(a.height(), b.height(), "{what}");
    for r in 0..b.height() {
        for c in 0..b.width() {
            assert_eq!(cell_text(a, r, c), cell_text(b, r, c), "{what} row {r}");
        }
    }
}

#[test]
fn pages_and_distributions_are_read_from_the_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "sample_data/adult_eval.csv",
        "sample_data/adult_eval.parquet",
    ] {
        let path = root.join(file);
        let held = LoadedData::load(&path, &Progress::none()).expect("load");
        let ds = held.in_memory().expect("held");
        let file_data = LoadedData::streamed(&path, BATCH, &Progress::none())
            .expect("summary")
            .expect("streamed");
        assert_eq!(file_data.rows(), ds.rows());
        assert_eq!(file_data.head().rows(), PAGE_ROWS.min(ds.rows()));
        let pages = ds.rows().div_ceil(PAGE_ROWS);
        for page in [0, 1, pages - 1, pages] {
            let a = held.page(page).expect("held page");
            let b = file_data.page(page).expect("file page");
            same_rows(&a, &b, &format!("{file} page {page}"));
            assert_eq!(
                a.height(),
                ds.rows().saturating_sub(page * PAGE_ROWS).min(PAGE_ROWS)
            );
            if page == 1 {
                assert_eq!(cell_text(&b, 0, 0), cell_text(&ds.df, PAGE_ROWS, 0));
            }
        }
        for column in [
            "age",
            "capital_gain",
            "workclass",
            "race",
            "income_over_50k",
        ] {
            assert_eq!(
                distribution(ds, column, 30).expect("in memory"),
                distribution_file(&path, column, 30, &Progress::none()).expect("from the file"),
                "{file} {column}"
            );
        }
        let err = distribution_file(&path, "nope", 30, &Progress::none()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        // The whole frame, loaded for an analysis that needs it, is the frame.
        let whole = file_data.frame(&Progress::none()).expect("frame");
        assert!(whole.df.equals_missing(&ds.df));
        // Analyses running at once share one copy.
        let again = file_data.frame(&Progress::none()).expect("frame");
        assert!(std::sync::Arc::ptr_eq(&whole, &again));
    }
}

#[test]
fn pages_and_distributions_of_a_partitioned_set_are_read_from_its_files() {
    use polars::prelude::{ParquetWriter, SerReader};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let flat = polars::prelude::ParquetReader::new(
        std::fs::File::open(root.join("sample_data/adult_eval.parquet")).expect("open"),
    )
    .finish()
    .expect("read");
    let tmp = tempfile::tempdir().expect("tmp");
    // Three files of 1,500, 1,700 and 1,800 rows under `k=` folders: pages and batches
    // cross the files' boundaries; `k` is a column.
    for (k, (off, len)) in [(0, 1500), (1500, 1700), (3200, 1800)]
        .into_iter()
        .enumerate()
    {
        let dir = tmp.path().join(format!("k={k}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let mut piece = flat.slice(off, len);
        let file = std::fs::File::create(dir.join("part-0.parquet")).expect("create");
        ParquetWriter::new(file).finish(&mut piece).expect("write");
    }
    let path = tmp.path().join("k=*/*.parquet");
    let held = LoadedData::load(&path, &Progress::none()).expect("load");
    let ds = held.in_memory().expect("held");
    assert_eq!(
        (ds.rows(), ds.df.width()),
        (flat.height(), flat.width() + 1)
    );
    let file_data = LoadedData::streamed(&path, BATCH, &Progress::none())
        .expect("summary")
        .expect("streamed");
    assert!(file_data.in_memory().is_none());
    assert_eq!(
        serde_json::to_value(&file_data.info).expect("info"),
        serde_json::to_value(&held.info).expect("info")
    );
    for page in 0..=ds.rows().div_ceil(PAGE_ROWS) {
        let a = held.page(page).expect("held page");
        let b = file_data.page(page).expect("file page");
        same_rows(&a, &b, &format!("set page {page}"));
    }
    for column in ["age", "workclass", "k"] {
        assert_eq!(
            distribution(ds, column, 30).expect("in memory"),
            distribution_file(&path, column, 30, &Progress::none()).expect("from the files"),
            "{column}"
        );
    }
    let whole = file_data.frame(&Progress::none()).expect("frame");
    assert!(whole.df.equals_missing(&ds.df));
}

#[test]
fn pages_of_a_csv_with_quoted_newlines_and_blank_lines_are_its_rows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let quoted = tmp.path().join("quoted.csv");
    let mut text = String::from("id,note,x\n");
    for i in 0..2500 {
        let note = match i % 4 {
            0 => format!("\"line one\nline two, {i}\""),
            1 => format!("\"say \"\"hi\"\" {i}\""),
            2 => String::new(),
            _ => format!("plain {i}"),
        };
        text.push_str(&format!("{i},{note},{}.5\r\n", i % 13));
    }
    std::fs::write(&quoted, &text).expect("write");
    // Blank lines between rows.
    let blank = tmp.path().join("blank.csv");
    std::fs::write(&blank, text.replace("\r\n7", "\r\n\r\n7")).expect("write");
    // The quoted file is paged through its row index (not by slice).
    let index = CsvRows::index(&quoted, PAGE_ROWS, 2500, &Progress::none()).expect("scan");
    assert!(index.is_some());
    assert!(CsvRows::index(&quoted, PAGE_ROWS, 2499, &Progress::none())
        .expect("scan")
        .is_none());
    for path in [quoted, blank] {
        let held = LoadedData::load(&path, &Progress::none()).expect("load");
        let ds = held.in_memory().expect("held");
        let file_data = LoadedData::streamed(&path, 300, &Progress::none())
            .expect("summary")
            .expect("streamed");
        assert_eq!(file_data.rows(), ds.rows());
        for page in 0..=ds.rows().div_ceil(PAGE_ROWS) {
            let (a, b) = (
                held.page(page).expect("held"),
                file_data.page(page).expect("file"),
            );
            same_rows(&a, &b, &format!("{} page {page}", path.display()));
        }
    }
}

#[test]
fn a_file_changed_after_it_was_opened_is_not_read_as_the_one_summarised() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("d.csv");
    std::fs::write(&path, "a,b\n1,x\n2,y\n3,z\n").expect("write");
    let data = LoadedData::streamed(&path, 2, &Progress::none())
        .expect("summary")
        .expect("streamed");
    std::fs::write(&path, "a,b\n1,x\n2,y\n4,z\n").expect("write");
    let err = data.frame(&Progress::none()).unwrap_err();
    assert!(
        err.to_string().contains("changed since it was opened"),
        "{err}"
    );
}

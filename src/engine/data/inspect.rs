//! The data summary (`assay inspect --data`, the Data page's column table): schema, missing
//! values, distinct values and moments of every column. One accumulator serves both a frame
//! in memory ([`inspect`]: the frame is one batch) and a large file read in batches
//! ([`inspect_file`], issue 19): values are taken in file order either way, so the moments are
//! the same sums in the same order, and the distinct count is polars' over the distinct values
//! of every batch, which is its count over the whole column.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::batches::{batch_rows as batch_rows_for, for_each_batch, is_large};
use super::{is_numeric, Dataset, Format};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// One column of `assay inspect --data`.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    pub dtype: String,
    /// Numbers or booleans (can feed a numeric model input).
    pub numeric: bool,
    pub missing: usize,
    pub unique: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// What `assay inspect --data` reports.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetInfo {
    pub path: PathBuf,
    pub format: Format,
    pub file_size: u64,
    pub sha256: String,
    pub rows: usize,
    pub columns: Vec<ColumnInfo>,
}

/// Schema, missing counts and summary statistics of every column of a frame in memory.
pub fn inspect(ds: &Dataset) -> Result<DatasetInfo> {
    let mut acc = Summary {
        whole: true,
        ..Summary::default()
    };
    acc.add(&ds.df)?;
    Ok(acc.finish(ds.path.clone(), ds.format, ds.file_size, ds.sha256.clone()))
}

/// [`inspect`] of the file at `path` without holding it: a single file of at least
/// [`super::batches::STREAM_MIN_BYTES`] (or a set of files that large) is read in batches and only each column's running
/// moments and distinct values are kept. `Ok(None)`: not a file read this way, or one whose
/// CSV column types change after the rows they were inferred from; load it instead
/// ([`super::load`] re-infers, and reports any problem with the file's row numbers).
pub fn inspect_file(path: &Path, progress: &Progress) -> Result<Option<DatasetInfo>> {
    if !is_large(path) {
        return Ok(None);
    }
    inspect_streamed(path, None, progress)
}

/// [`inspect_file`] of a file of any size, `batch_rows` rows at a time (`None`: 2¹⁸ rows,
/// [`batch_rows_for`] of 64 columns; a batch's cells are freed once summarised).
pub fn inspect_streamed(
    path: &Path,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<DatasetInfo>> {
    let source = super::batches::source(path)?;
    progress.set(0.0, &format!("summarising {} in batches", path.display()));
    let mut acc = Summary::default();
    let (read, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| super::batches::sha256(path));
        let rows = batch_rows.unwrap_or_else(|| batch_rows_for(64));
        let read = for_each_batch(path, None, rows, |df| {
            progress.check()?;
            acc.add(&df)?;
            progress.set(0.5, &format!("summarised {} rows", acc.rows));
            Ok(())
        });
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (read, sha)
    });
    match read {
        Ok(_) => {}
        Err(EngineError::Cancelled) => return Err(EngineError::Cancelled),
        Err(_) => return Ok(None),
    }
    if acc.columns.is_empty() || acc.rows == 0 {
        return Ok(None);
    }
    Ok(Some(acc.finish(
        path.to_path_buf(),
        source.format,
        source.size,
        sha256?,
    )))
}

/// Running Welford moments of the finite values, in the order they come.
#[derive(Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
    lo: f64,
    hi: f64,
    non_finite: usize,
}

impl Moments {
    fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.non_finite += 1;
            return;
        }
        if self.n == 0 {
            self.lo = f64::INFINITY;
            self.hi = f64::NEG_INFINITY;
        }
        self.n += 1;
        let d = v - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (v - self.mean);
        self.lo = self.lo.min(v);
        self.hi = self.hi.max(v);
    }
}

/// One column's running summary.
struct ColumnAcc {
    name: String,
    dtype: DataType,
    nulls: usize,
    /// Distinct values of the batches so far.
    distinct: Series,
    /// Polars' distinct count of a whole frame ([`Summary::whole`]).
    unique: Option<usize>,
    /// Length of `distinct` when it was last deduplicated.
    compacted: usize,
    moments: Option<Moments>,
}

#[derive(Default)]
struct Summary {
    /// The frame is the whole dataset, added once: distinct values are counted directly.
    whole: bool,
    rows: usize,
    columns: Vec<ColumnAcc>,
}

impl Summary {
    fn add(&mut self, df: &DataFrame) -> Result<()> {
        if self.columns.is_empty() {
            self.columns = df
                .columns()
                .iter()
                .map(|c| ColumnAcc {
                    name: c.name().to_string(),
                    dtype: c.dtype().clone(),
                    nulls: 0,
                    distinct: Series::new_empty(c.name().clone(), c.dtype()),
                    unique: None,
                    compacted: 0,
                    moments: is_numeric(c.dtype()).then(Moments::default),
                })
                .collect();
        }
        if df.width() != self.columns.len() {
            return Err(EngineError::internal("a batch with other columns"));
        }
        for (acc, col) in self.columns.iter_mut().zip(df.columns()) {
            if col.dtype() != &acc.dtype {
                return Err(EngineError::internal(format!(
                    "column '{}' changed type between batches",
                    acc.name
                )));
            }
            acc.nulls += col.null_count();
            if self.whole {
                acc.unique = col.n_unique().ok();
            } else {
                acc.add_distinct(col.as_materialized_series())?;
            }
            if let Some(m) = acc.moments.as_mut() {
                let series = col.cast(&DataType::Float64).map_err(|e| {
                    EngineError::internal(format!("cast of '{}' failed: {e}", acc.name))
                })?;
                let ca = series
                    .f64()
                    .map_err(|e| EngineError::internal(format!("column '{}': {e}", acc.name)))?;
                for v in ca.iter().flatten() {
                    m.add(v);
                }
            }
        }
        self.rows += df.height();
        Ok(())
    }

    fn finish(self, path: PathBuf, format: Format, file_size: u64, sha256: String) -> DatasetInfo {
        let whole = self.whole;
        let columns = self
            .columns
            .into_iter()
            .map(|acc| {
                let m = acc.moments.unwrap_or_default();
                let some = m.n > 0;
                ColumnInfo {
                    numeric: is_numeric(&acc.dtype),
                    dtype: acc.dtype.to_string(),
                    missing: acc.nulls + m.non_finite,
                    unique: if whole {
                        acc.unique
                    } else {
                        acc.distinct.n_unique().ok()
                    },
                    min: some.then_some(m.lo),
                    max: some.then_some(m.hi),
                    mean: some.then_some(m.mean),
                    std: (m.n > 1).then(|| (m.m2 / (m.n - 1) as f64).sqrt()),
                    name: acc.name,
                }
            })
            .collect();
        DatasetInfo {
            path,
            format,
            file_size,
            sha256,
            rows: self.rows,
            columns,
        }
    }
}

impl ColumnAcc {
    /// Adds a batch's distinct values; deduplicates the kept ones again whenever they have
    /// doubled since the last time (so a column of all-different values costs O(n log n)
    /// work, not a pass per batch over everything kept). An error (a type polars cannot
    /// deduplicate) makes the caller load the file instead.
    fn add_distinct(&mut self, batch: &Series) -> Result<()> {
        let fail = |e: PolarsError| {
            EngineError::internal(format!("distinct values of '{}': {e}", self.name))
        };
        // Copy the (few) distinct values out: as polars returns them they keep the batch's
        // buffers alive (a gathered view array shares its string buffers; the primitive
        // case measured 48 bytes a row of the Adult file resident until the end without the
        // copy), which would hold every batch for the rest of the read.
        let unique = batch.unique().map_err(fail)?;
        let batch = match unique.str() {
            Ok(text) => StringChunked::from_iter_options(self.name.as_str().into(), text.iter())
                .into_series(),
            Err(_) => {
                let idx: Vec<IdxSize> = (0..unique.len() as IdxSize).collect();
                unique.take_slice(&idx).map_err(fail)?
            }
        };
        self.distinct.append(&batch).map_err(fail)?;
        if self.distinct.len() > 2 * self.compacted.max(1 << 16) {
            self.distinct = self.distinct.unique().map_err(fail)?;
            self.compacted = self.distinct.len();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(info: &DatasetInfo) -> String {
        serde_json::to_string(info).unwrap_or_default()
    }

    /// Batches of any size give the in-memory summary to the bit: moments in the same order,
    /// polars' distinct count (nulls, NaN, -0.0 and 0.0, text) over the batches' distinct
    /// values, missing = nulls + non-finite.
    #[test]
    fn streamed_summary_is_the_in_memory_one() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| EngineError::internal(e.to_string()))?;
        let csv = dir.path().join("d.csv");
        let mut text = String::from("i,f,s,b,same\n");
        for r in 0..1000u32 {
            let i = if r % 13 == 0 {
                String::new()
            } else {
                (r % 97).to_string()
            };
            let f = match r % 11 {
                0 => "NaN".to_string(),
                1 => "-0.0".to_string(),
                2 => "0.0".to_string(),
                3 => "inf".to_string(),
                4 => String::new(),
                _ => format!("{}", (r as f64) * 0.1 - 17.3),
            };
            let s = if r % 17 == 0 {
                String::new()
            } else {
                format!("t{}", r % 23)
            };
            let b = if r % 3 == 0 { "true" } else { "false" };
            text.push_str(&format!("{i},{f},{s},{b},1\n"));
        }
        std::fs::write(&csv, text).map_err(|e| EngineError::internal(e.to_string()))?;
        let progress = Progress::none();
        let whole = inspect(&super::super::load(&csv, &progress)?)?;
        assert_eq!(whole.rows, 1000);
        for rows in [7, 128, 450, 1000, 5000] {
            let streamed = inspect_streamed(&csv, Some(rows), &progress)?;
            assert_eq!(
                streamed.map(|s| json(&s)),
                Some(json(&whole)),
                "{rows} rows"
            );
        }
        // Parquet, read one slice per batch.
        let pq = dir.path().join("d.parquet");
        let mut df = super::super::load(&csv, &progress)?.df;
        let file = std::fs::File::create(&pq).map_err(|e| EngineError::internal(e.to_string()))?;
        ParquetWriter::new(file)
            .with_row_group_size(Some(300))
            .finish(&mut df)
            .map_err(|e| EngineError::internal(e.to_string()))?;
        let whole = inspect(&super::super::load(&pq, &progress)?)?;
        for rows in [7, 450] {
            let streamed = inspect_streamed(&pq, Some(rows), &progress)?;
            assert_eq!(
                streamed.map(|s| json(&s)),
                Some(json(&whole)),
                "{rows} rows"
            );
        }
        // A small file is not streamed by `inspect_file`.
        assert!(inspect_file(&csv, &progress)?.is_none());
        // Text after the 10,000 rows the CSV types were inferred from: the streamed read
        // declines, and the caller loads the file (which re-infers: the column is text).
        let late = dir.path().join("late.csv");
        let mut text = String::from("a,b\n");
        for r in 0..10_050 {
            text.push_str(&format!(
                "{r},{}\n",
                if r == 10_020 { "oops" } else { "1.5" }
            ));
        }
        std::fs::write(&late, text).map_err(|e| EngineError::internal(e.to_string()))?;
        assert!(inspect_streamed(&late, Some(1000), &progress)?.is_none());
        let loaded = inspect(&super::super::load(&late, &progress)?)?;
        assert_eq!(loaded.columns[1].dtype, "str");
        Ok(())
    }
}

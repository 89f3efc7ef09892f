//! The prediction log as a run reads it: loaded whole, or, when it would take more memory than
//! [`BY_COLUMNS_MIN_BYTES`] loaded whole, a few columns at a time ([`ColumnLog`], issue 19).
//! Read by columns, the estimate reads only its columns (scores, prediction, labels, ids, the
//! timestamp), the drift reads its columns a few at a time ([`per_pass`]), and the
//! multivariate signal reads its features in batches of rows, so at most a few of the log's
//! columns are held at once. Every statistic sees the same values in the same order as when
//! the log is loaded whole, so the report is the same.
//!
//! Each column is read by a projected scan of each file ([`batches::read_columns`]), which
//! decodes only that column. A CSV log (of at least [`BY_COLUMNS_MIN_BYTES`]) is first copied
//! once, in batches of rows, to Parquet files in a temporary folder ([`ColumnLog::prepare`]),
//! which the passes read instead: parsing its text again for every pass took 170 s against
//! 27 s loaded whole on a 2 GB, 10M-row CSV log. Where a read fails (a file of a set unlike
//! the first, a value of a CSV column below the rows its type was inferred from, a full disk,
//! …) the run loads the log whole, which reports the problem as the in-memory path always has
//! ([`ColumnLog::failure`]), and the report says why it was loaded whole
//! ([`ColumnLog::fallback_warning`]).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polars::prelude::{DataType, ParquetCompression, ParquetWriter};

use super::chunking::Span;
use super::multivariate::{Known, Pca};
use crate::engine::data::{self, batches, Dataset, Format, Predicate};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;
use crate::engine::warning::Warning;

/// A log that would take at least this many bytes loaded whole ([`batches::held_bytes_where`])
/// is read by columns. Smaller logs load whole: the estimate and the drift then run side by
/// side on one frame, which is quicker.
pub const BY_COLUMNS_MIN_BYTES: u64 = 512 << 20;

/// Bytes a pass of the drift may hold: about 32 bytes a row a column (the column as read,
/// its values prepared, each chunk's sorted values and the whole column's).
const PASS_BYTES: usize = 512 << 20;

/// Columns the drift reads per pass of a log of `rows` rows: as many as [`PASS_BYTES`] holds,
/// at least one. (On the 10M-row benchmark log one column a pass was both the quickest and
/// the smallest, against two or four — 20 % and 65 % more peak memory: the next column is
/// read while one is compared, and each column's chunks are sorted and compared in
/// parallel.)
pub fn per_pass(rows: usize) -> usize {
    (PASS_BYTES / rows.max(1).saturating_mul(32)).max(1)
}

/// How a log read by columns is read (0: by memory, the default): columns per pass of the
/// drift, rows per batch of the multivariate signal and of a CSV log's copy; `small_csv`: a
/// CSV log under [`BY_COLUMNS_MIN_BYTES`] too (by default it loads whole).
#[derive(Debug, Clone, Copy, Default)]
pub struct Passes {
    pub columns: usize,
    pub rows: usize,
    pub small_csv: bool,
}

/// The log of a run.
#[derive(Clone, Copy)]
pub enum LogData<'a> {
    Whole(&'a Dataset),
    Columns(&'a ColumnLog),
}

impl LogData<'_> {
    pub fn path(&self) -> &Path {
        match self {
            LogData::Whole(ds) => &ds.path,
            LogData::Columns(c) => &c.path,
        }
    }

    pub fn sha256(&self) -> &str {
        match self {
            LogData::Whole(ds) => &ds.sha256,
            LogData::Columns(c) => c.sha256(),
        }
    }

    pub fn has_column(&self, name: &str) -> bool {
        match self {
            LogData::Whole(ds) => ds.has_column(name),
            LogData::Columns(c) => c.names.iter().any(|n| n == name),
        }
    }

    pub fn column_names(&self) -> Vec<String> {
        match self {
            LogData::Whole(ds) => ds.column_names(),
            LogData::Columns(c) => c.names.clone(),
        }
    }

    /// The log with (at least) the column `name` ([`LogData::columns`]).
    pub fn column(&self, name: &str) -> Result<Cow<'_, Dataset>> {
        self.columns(&[name.to_string()])
    }

    /// The log with (at least) the columns `names` (those it has): itself when loaded whole.
    pub fn columns(&self, names: &[String]) -> Result<Cow<'_, Dataset>> {
        match self {
            LogData::Whole(ds) => Ok(Cow::Borrowed(*ds)),
            LogData::Columns(c) => {
                let mut keep: Vec<String> = Vec::new();
                for n in names {
                    if c.names.contains(n) && !keep.contains(n) {
                        keep.push(n.clone());
                    }
                }
                if keep.is_empty() {
                    // Only the rows are needed: the first column gives them.
                    keep.extend(c.names.first().cloned());
                }
                c.load(&keep).map(Cow::Owned)
            }
        }
    }
}

/// The hash of the log at `path` (of a set, of the files passing `predicates`), as loaded
/// whole.
fn hash(path: &Path, predicates: &[Predicate]) -> Result<String> {
    if data::lake::is_set(path) {
        return data::lake::Set::open_where(path, false, predicates)?.sha256();
    }
    batches::sha256(path)
}

/// A log read a few columns at a time (see the module docs).
pub struct ColumnLog {
    path: PathBuf,
    predicates: Vec<Predicate>,
    /// Set when opened; a CSV log's while it is copied ([`ColumnLog::prepare`]).
    sha256: OnceLock<String>,
    format: Format,
    file_size: u64,
    names: Vec<String>,
    /// The columns of text (16 bytes a row as read, against 8 for a number).
    text: Vec<String>,
    /// Files of a set read (with partition predicates).
    pub files: Option<usize>,
    passes: Passes,
    /// The first failed read's error: the run is then to load the log whole.
    failure: OnceLock<String>,
    /// A CSV log's copy as Parquet files ([`ColumnLog::prepare`]), removed when dropped.
    copy: OnceLock<tempfile::TempDir>,
}

impl ColumnLog {
    /// The log at `path` (of a set, the files passing `predicates`): its columns and hash.
    /// `None` when it cannot be checked for reading in batches (loading it whole reports why).
    pub fn open(path: &Path, predicates: &[Predicate], passes: Passes) -> Option<ColumnLog> {
        // A smaller CSV log loads whole (copying it first is slower, and it fits); a CSV log's
        // hash is taken while it is copied.
        let csv_ok = |format: Format, size: u64| {
            format != Format::Csv || passes.small_csv || size >= BY_COLUMNS_MIN_BYTES
        };
        let sha256 = OnceLock::new();
        let (format, file_size, files) = if data::lake::is_set(path) {
            let set = data::lake::Set::open_where(path, false, predicates).ok()?;
            if !csv_ok(set.format, set.size) {
                return None;
            }
            if set.format != Format::Csv {
                sha256.set(set.sha256().ok()?).ok();
            }
            let files = (!predicates.is_empty()).then_some(set.parts.len());
            (set.format, set.size, files)
        } else {
            if !predicates.is_empty() {
                return None;
            }
            let s = batches::source(path)
                .ok()
                .filter(|s| csv_ok(s.format, s.size))?;
            if s.format != Format::Csv {
                sha256.set(batches::sha256(path).ok()?).ok();
            }
            (s.format, s.size, None)
        };
        let schema = batches::schema(path).ok()?;
        let names = schema.iter_names().map(|n| n.to_string()).collect();
        let text = schema
            .iter()
            .filter(|(_, dtype)| matches!(dtype, DataType::String | DataType::Binary))
            .map(|(n, _)| n.to_string())
            .collect();
        Some(ColumnLog {
            path: path.to_path_buf(),
            predicates: predicates.to_vec(),
            sha256,
            format,
            file_size,
            names,
            text,
            files,
            passes,
            failure: OnceLock::new(),
            copy: OnceLock::new(),
        })
    }

    /// The hash the log loaded whole has (see [`LogData::sha256`]).
    pub fn sha256(&self) -> &str {
        self.sha256.get().map_or("", String::as_str)
    }

    /// Where the passes read: a CSV log's copy ([`ColumnLog::prepare`]), else the log (the
    /// files passing the predicates).
    fn source(&self) -> (&Path, &[Predicate]) {
        match self.copy.get() {
            Some(dir) => (dir.path(), &[]),
            None => (&self.path, &self.predicates),
        }
    }

    /// Copies a CSV log once, in batches of rows, to uncompressed Parquet files in a temporary
    /// folder (of `TMPDIR`), which the passes then read column by column, and hashes it
    /// meanwhile; nothing for a Parquet or Arrow log. The copy holds the same values and types
    /// as the batches of the CSV (types inferred from its first 10,000 rows, as a whole load
    /// first tries), and is removed when the log is dropped. A failed copy marks the log
    /// [`ColumnLog::failure`].
    pub fn prepare(&self, progress: &Progress) -> Result<()> {
        if self.format != Format::Csv || self.copy.get().is_some() {
            return Ok(());
        }
        let name = self
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        progress.set(
            0.0,
            &format!("copying {name} to a temporary Parquet folder"),
        );
        // The file is hashed while it is copied.
        let (sha256, copy) = std::thread::scope(|s| {
            let sha256 = s.spawn(|| hash(&self.path, &self.predicates));
            let copy = self.copy_csv(progress, &name);
            let sha256 = sha256
                .join()
                .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
            (sha256, copy)
        });
        match sha256.and_then(|h| copy.map(|c| (h, c))) {
            Ok((sha256, dir)) => {
                // Only this call sets them (`get` was empty above, `&self` is not shared
                // yet).
                self.sha256.set(sha256).ok();
                self.copy.set(dir).ok();
                Ok(())
            }
            Err(e) => {
                if !matches!(e, EngineError::Cancelled) {
                    self.fail(&e);
                }
                Err(e)
            }
        }
    }

    fn copy_csv(&self, progress: &Progress, name: &str) -> Result<tempfile::TempDir> {
        let io = |e: std::io::Error| {
            EngineError::internal(format!("cannot write a temporary copy of {name}: {e}"))
        };
        let dir = tempfile::Builder::new()
            .prefix("assay-log-")
            .tempdir()
            .map_err(io)?;
        let rows = match self.passes.rows {
            0 => batches::batch_rows(self.names.len()),
            n => n,
        };
        let mut part = 0usize;
        let mut done = 0usize;
        batches::for_each_batch_where(&self.path, &self.predicates, None, rows, |mut df| {
            progress.check()?;
            let file = dir.path().join(format!("part-{part:06}.parquet"));
            let out = std::fs::File::create(&file).map_err(io)?;
            ParquetWriter::new(out)
                .with_compression(ParquetCompression::Uncompressed)
                .with_row_group_size(Some(df.height().max(1)))
                .finish(&mut df)
                .map_err(|e| io(std::io::Error::other(e.to_string())))?;
            part += 1;
            done += df.height();
            progress.set(
                0.0,
                &format!("copying {name} to a temporary Parquet folder: {done} rows"),
            );
            Ok(())
        })?;
        Ok(dir)
    }

    /// Columns the drift reads per pass of the log's `rows` rows ([`per_pass`] unless set).
    pub fn per_pass(&self, rows: usize) -> usize {
        match self.passes.columns {
            0 => per_pass(rows),
            n => n,
        }
    }

    /// Whether any of the columns `names` is text: a drift pass of it is read and compared
    /// alone, not beside the next ([`crate::engine::drift::chunked::per_window_by_columns`]).
    pub fn any_text(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.text.contains(n))
    }

    /// Whether a read of the log failed: the run is then to load it whole instead.
    pub fn failed(&self) -> bool {
        self.failure.get().is_some()
    }

    /// The first failed read's error, if a read failed.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get().map(String::as_str)
    }

    fn fail(&self, e: &EngineError) {
        // The first failure is the one to report; later ones only follow from it.
        self.failure.set(e.to_string()).ok();
    }

    /// What the report of a failed log, loaded whole instead, says about it: that it took
    /// the memory of the whole log, and why.
    pub fn fallback_warning(&self) -> Option<Warning> {
        let why = self.failure()?;
        // The error names the file (of a set, the file that failed).
        Some(Warning::data(format!(
            "the log was loaded whole, which takes more memory, because reading it by columns \
             failed: {why}"
        )))
    }

    fn dataset(&self, df: polars::prelude::DataFrame) -> Dataset {
        Dataset {
            path: self.path.clone(),
            sha256: self.sha256().to_string(),
            format: self.format,
            file_size: self.file_size,
            df,
        }
    }

    /// Every row of the columns `names` (all of the log's).
    pub fn load(&self, names: &[String]) -> Result<Dataset> {
        let (path, predicates) = self.source();
        batches::read_columns(path, predicates, names)
            .map(|df| self.dataset(df))
            .inspect_err(|e| self.fail(e))
    }

    /// [`Pca::chunk_errors`] of the log, its features read in batches of rows: each span's
    /// row errors summed in row order, as the whole log's are.
    pub fn chunk_errors(&self, pca: &Pca, spans: &[Span]) -> Result<Vec<Option<f64>>> {
        let zero: f64 = std::iter::empty::<f64>().sum();
        let mut sums = vec![zero; spans.len()];
        let mut row = 0usize;
        let mut k = 0usize;
        let mut own = false;
        let cols = pca.features().to_vec();
        let (path, predicates) = self.source();
        let read = batches::for_each_batch_where(
            path,
            predicates,
            Some(&cols),
            match self.passes.rows {
                0 => batches::batch_rows(cols.len()),
                n => n,
            },
            |df| {
                let errors = pca
                    .row_errors(&self.dataset(df), &Known::new())
                    .inspect_err(|_| own = true)?;
                for e in errors {
                    while spans.get(k).is_some_and(|s| row > s.end) {
                        k += 1;
                    }
                    if let Some(s) = spans.get(k).filter(|s| row >= s.start) {
                        debug_assert!(row <= s.end);
                        sums[k] += e;
                    }
                    row += 1;
                }
                Ok(())
            },
        );
        if let Err(e) = read {
            if !own {
                self.fail(&e);
            }
            return Err(e);
        }
        Ok(spans
            .iter()
            .zip(sums)
            .map(|(s, sum)| {
                let n = s.rows();
                (n > 0).then(|| sum / n as f64)
            })
            .collect())
    }
}

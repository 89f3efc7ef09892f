//! The streamed model run (issue 19) shared by streamed `evaluate` ([`super::evaluate_stream`]),
//! streamed fairness and weak slices ([`super::fairness::stream`]) and streamed drift with a
//! model ([`super::drift::stream`]): one data file (or a set of files) read in batches
//! ([`for_each_batch`]) and prepared in slices, the model run on each slice by worker threads
//! ([`super::scored_pipeline`], while the next slice is read and prepared) in the chunks and
//! threading the in-memory run uses for the whole file (so its outputs are the same
//! numbers), the file hashed on a second thread. The caller keeps what it needs of each
//! scored slice, in file order.
//!
//! Only a file [`StreamFile::open`] accepts is read this way, under `--invalid-rows error`;
//! any problem of the data — a read error, a column type that changes after the first 10,000
//! CSV rows, a value the model cannot score, an error of the caller's — ends the run with
//! `Ok(None)`: the caller then runs in memory, which reports the problem exactly as before.
//! A panic of an inference worker is an error (`Err`), not retried.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::data::batches::{batch_rows as batch_rows_for, for_each_batch};
use super::data::extract::{
    prepare, InputData, InvalidRows, Prepared, RowBook, TargetData, TargetKind,
};
use super::data::{self, Dataset, Format};
use super::error::{EngineError, Result};
use super::model::infer::{assemble_chunks, chunk_intra, run_chunk, ChunkOut};
use super::model::{InferOptions, InputPlan, Model};
use super::progress::Progress;
use super::scored::{bad_outputs, Scored};
use super::scored_pipeline;

/// Rows per model run: the in-memory path's choice for a file of 2¹⁹ rows or more on two
/// cores ([`super::model::predict`]); batches of a multiple of it give the same chunks.
const INFER_ROWS: usize = 65_536;

/// Rows per batch of a CSV file: an eighth of [`batch_rows_for`] (a multiple of 2¹⁶ rows,
/// at least 2¹⁶): a batch's text columns take 16 bytes a cell, not 8 (about 0.19 GiB for 2²⁰
/// rows of the German-credit columns, against a 1M-row run's 0.22 GiB peak), and the model
/// starts once the first batch is read and prepared (2¹⁷ rows of those columns: two chunks,
/// one per core). A Parquet file keeps [`batch_rows_for`]: each batch is read by its own
/// query, which decodes the row groups it overlaps ([`for_each_batch`]); smaller batches
/// would decode a row group more than once.
fn csv_batch_rows(columns: usize) -> usize {
    ((batch_rows_for(columns) / 8) & !0xFFFF).max(1 << 16)
}

/// A classifier's label → class index for one batch, after checking that the batch lists the
/// classes of the first (`known`, set by it): other classes, or an unknown label, send the file
/// to the in-memory path.
pub(crate) fn class_index<'c>(
    known: &mut Option<Vec<String>>,
    classes: &'c [String],
) -> Result<impl Fn(&str) -> Result<u32> + 'c> {
    if known.get_or_insert_with(|| classes.to_vec()).as_slice() != classes {
        return Err(fallback());
    }
    let index: BTreeMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    Ok(move |label: &str| index.get(label).copied().ok_or_else(fallback))
}

/// A binary classifier's positive class, found by `find` on the first batch and kept in
/// `slot` (a class the in-memory path would reject sends the file there, to report it).
pub(crate) fn positive_once(
    slot: &mut Option<usize>,
    find: impl FnOnce() -> Result<usize>,
) -> Result<usize> {
    if let Some(p) = *slot {
        return Ok(p);
    }
    let p = find().map_err(|_| fallback())?;
    *slot = Some(p);
    Ok(p)
}

/// A problem that sends the file to the in-memory path (which reports it properly).
pub(crate) fn fallback() -> EngineError {
    EngineError::internal("the streamed run fell back to the in-memory path")
}

/// One data file the streamed run may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamFile<'a> {
    pub path: &'a Path,
    pub format: Format,
    pub size: u64,
}

impl<'a> StreamFile<'a> {
    /// One regular, non-empty CSV, Parquet or Arrow file, or a set of them
    /// ([`data::batches::source`]), under `--invalid-rows error`; `None` otherwise (the
    /// caller runs in memory).
    pub fn open(path: &'a Path, invalid_rows: InvalidRows) -> Option<Self> {
        if invalid_rows != InvalidRows::Error {
            return None;
        }
        let source = data::batches::source(path).ok()?;
        Some(Self {
            path,
            format: source.format,
            size: source.size,
        })
    }
}

/// What one streamed run reads and how the model runs.
pub(crate) struct BatchScoring<'a> {
    pub model: &'a Model,
    pub plan: &'a InputPlan,
    /// The target column read and checked with the inputs (`None`: no target).
    pub target: Option<(&'a str, TargetKind)>,
    /// Columns read besides the model's inputs and the target (e.g. sensitive columns).
    pub extra: &'a [String],
    pub infer: &'a InferOptions,
    /// Rows per batch (`None`: [`csv_batch_rows`] for a CSV file, [`batch_rows_for`] for any
    /// other, of the columns read).
    pub batch_rows: Option<usize>,
}

/// The whole file's bookkeeping after a streamed run.
pub(crate) struct ScoredFile {
    /// Rows read (every row was kept).
    pub rows: usize,
    pub sha256: String,
    /// Rows kept and the missing inputs passed to the model, in input order, as the in-memory
    /// run's [`Scored::book`].
    pub book: RowBook,
}

impl ScoredFile {
    /// The in-memory run's [`Scored::warnings`].
    pub fn warnings(&self) -> Vec<crate::engine::Warning> {
        Scored {
            predictions: super::model::Predictions::Regression { values: Vec::new() },
            target: None,
            book: self.book.clone(),
        }
        .warnings(self.rows)
    }
}

/// Rows of a batch prepared and handed to the workers at a time (rounded down to whole model
/// chunks): the slices waiting for or with the workers hold their prepared inputs, so a batch
/// of 2²⁰ Parquet rows is not held prepared whole while the next one is read.
const SLICE_ROWS: usize = 1 << 17;

/// A prepared slice of a batch whose chunks are with the workers.
struct Slice {
    rows: usize,
    target: Option<TargetData>,
    book: RowBook,
    /// The slice's [`BatchScoring::extra`] columns (all `keep` may read).
    ds: Dataset,
}

/// One model chunk of a prepared slice.
struct Chunk {
    inputs: Arc<InputData>,
    start: usize,
    end: usize,
    intra: usize,
}

/// Reads `file` in batches and scores each; calls `keep(scored, rows)` in file order for
/// consecutive slices of the file (the scored rows are the slice's rows: none is dropped;
/// `rows` holds the slice's [`BatchScoring::extra`] columns). `Ok(None)`: the run stopped on
/// a problem of the data or of `keep` (see the module docs); `Err`: cancelled, or an
/// inference thread panicked.
///
/// A pipeline ([`super::scored_pipeline`]): the reading thread prepares a slice
/// (`data::extract::prepare`) while the workers (one per thread of
/// [`InferOptions::threads`]) run the model on the chunks of the slices before it, so the
/// cores are not idle while a batch is read and prepared; each chunk runs on a session with
/// the threads the in-memory run gives it ([`super::model::predict`]), so the outputs are
/// the same numbers.
pub(crate) fn score_batches(
    file: StreamFile<'_>,
    run: &BatchScoring<'_>,
    progress: &Progress,
    stage: (f32, f32),
    mut keep: impl FnMut(Scored, &Dataset) -> Result<()>,
) -> Result<Option<ScoredFile>> {
    let path = file.path;
    let mut columns = run.plan.columns();
    for c in run
        .target
        .map(|t| t.0)
        .into_iter()
        .chain(run.extra.iter().map(String::as_str))
    {
        if !columns.iter().any(|x| x == c) {
            columns.push(c.to_string());
        }
    }
    let batch_rows = run.batch_rows.unwrap_or_else(|| match file.format {
        Format::Csv => csv_batch_rows(columns.len()),
        _ => batch_rows_for(columns.len()),
    });
    // Model chunks as the in-memory path cuts a large file (chunk boundaries line up, so the
    // outputs are the same numbers); slices of whole chunks.
    let chunk = run
        .infer
        .batch_size
        .unwrap_or(INFER_ROWS)
        .min(batch_rows)
        .max(1);
    let slice_rows = chunk * (SLICE_ROWS / chunk).max(1);
    let threads = run.infer.threads.max(1);
    let mut first = true;
    let stage = progress.stage(stage.0, stage.1);
    stage.set(0.0, "running the model batch by batch");
    let mut rows = 0usize;
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    let mut ready = |slice: Slice, outs: Vec<ChunkOut>| -> Result<()> {
        let predictions = assemble_chunks(run.model, outs, slice.rows)?;
        // An unusable output: the in-memory path names its row.
        if !bad_outputs(&predictions).is_empty() {
            return Err(fallback());
        }
        let scored = Scored {
            predictions,
            target: slice.target,
            book: slice.book,
        };
        keep(scored, &slice.ds)
    };
    let infer = |c: Chunk| {
        stage.check()?;
        run_chunk(run.model, &c.inputs, c.start, c.end, c.intra)
    };
    let (read, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| data::batches::sha256(path));
        let read = scored_pipeline::run(threads, infer, &|f| stage.set_fraction(f), |pipe| {
            let total = for_each_batch(path, Some(&columns), batch_rows, |df| {
                progress.check()?;
                let height = df.height();
                // A batch of one chunk runs on one session with all the threads inside it
                // (`predict`), which may sum differently; in a file of more chunks the
                // in-memory path runs every chunk on a one-thread session, and so does this
                // one: a batch of one chunk after the first (the last, short batch), or a
                // first batch of exactly `batch_rows` rows (followed by more, unless the file
                // has exactly that many rows).
                let lone_chunk = height <= chunk && (!first || height == batch_rows);
                first = false;
                let intra = chunk_intra(height, chunk, if lone_chunk { 1 } else { threads });
                rows += height;
                for offset in (0..height).step_by(slice_rows) {
                    let n = slice_rows.min(height - offset);
                    let ds = Dataset {
                        path: path.to_path_buf(),
                        sha256: String::new(),
                        format: file.format,
                        file_size: file.size,
                        df: df.slice(offset as i64, n),
                    };
                    let (slice, inputs) = prepare_slice(ds, run, &mut missing)?;
                    let inputs = Arc::new(inputs);
                    let chunks = (0..n)
                        .step_by(chunk)
                        .map(|start| Chunk {
                            inputs: Arc::clone(&inputs),
                            start,
                            end: (start + chunk).min(n),
                            intra,
                        })
                        .collect();
                    drop(inputs);
                    pipe.submit(slice, chunks)?;
                    pipe.take(false, &mut ready)?;
                }
                Ok(())
            })?;
            pipe.finish(&mut ready)?;
            Ok(total)
        });
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (read, sha)
    });
    progress.check()?;
    // A panicked worker is reported, not retried in memory.
    let (Ok(total), Ok(sha256)) = (read?, sha256) else {
        return Ok(None);
    };
    if total == 0 || total != rows {
        return Ok(None);
    }
    // Missing-value notes in input order, as the in-memory path lists them.
    let missing_passed = run
        .plan
        .columns()
        .into_iter()
        .filter_map(|c| missing.get(&c).map(|&k| (c, k)))
        .collect();
    Ok(Some(ScoredFile {
        rows: total,
        sha256,
        book: RowBook {
            rows: total,
            missing_passed,
            ..RowBook::default()
        },
    }))
}

/// Prepares the rows of `ds` for the model (counting the missing inputs passed in `missing`)
/// and keeps only the columns `keep` may read of it.
fn prepare_slice(
    ds: Dataset,
    run: &BatchScoring<'_>,
    missing: &mut BTreeMap<String, usize>,
) -> Result<(Slice, InputData)> {
    let height = ds.df.height();
    let prepared = prepare(&ds, run.plan, run.target, InvalidRows::Error)?;
    if prepared.dropped > 0 || prepared.kept.is_some() || prepared.rows != height {
        return Err(fallback());
    }
    let Prepared {
        inputs,
        target,
        mut book,
    } = prepared;
    for (c, k) in std::mem::take(&mut book.missing_passed) {
        *missing.entry(c).or_default() += k;
    }
    let df = ds
        .df
        .select(run.extra.iter().map(String::as_str))
        .map_err(|_| fallback())?;
    let slice = Slice {
        rows: height,
        target,
        book,
        ds: Dataset { df, ..ds },
    };
    Ok((slice, inputs))
}

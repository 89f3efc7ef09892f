//! The streamed model run (issue 19) shared by streamed `evaluate` ([`super::evaluate_stream`])
//! and streamed fairness ([`super::fairness::stream`]): one data file read in batches
//! ([`for_each_batch`]) and prepared, the model run on each batch by worker threads (while
//! the next batch is read and prepared) in the chunks and threading the in-memory run uses
//! for the whole file (so its outputs are the same numbers), the file hashed on a second
//! thread. The caller keeps what it needs of each scored batch, in file order.
//!
//! Only a file [`StreamFile::open`] accepts is read this way, under `--invalid-rows error`;
//! any problem of the data — a read error, a column type that changes after the first 10,000
//! CSV rows, a value the model cannot score, an error of the caller's — ends the run with
//! `Ok(None)`: the caller then runs in memory, which reports the problem exactly as before.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex};

use super::data::batches::{batch_rows as batch_rows_for, for_each_batch};
use super::data::extract::{
    prepare, InputData, InvalidRows, Prepared, RowBook, TargetData, TargetKind,
};
use super::data::{self, Dataset, Format};
use super::error::{EngineError, Result};
use super::hash::sha256_file;
use super::model::infer::{assemble_chunks, chunk_intra, run_chunk, ChunkOut};
use super::model::{InferOptions, InputPlan, Model};
use super::progress::{Progress, Stage};
use super::scored::{bad_outputs, Scored};

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
    /// One regular, non-empty CSV, Parquet or Arrow file (not a set of files) under
    /// `--invalid-rows error`; `None` otherwise (the caller runs in memory).
    pub fn open(path: &'a Path, invalid_rows: InvalidRows) -> Option<Self> {
        if invalid_rows != InvalidRows::Error || data::lake::is_set(path) {
            return None;
        }
        let meta = super::fsio::check_regular(path, "dataset").ok()?;
        let format = Format::from_path(path).ok()?;
        if meta.len() == 0 || data::check_claimed(path, format, false).is_err() {
            return None;
        }
        Some(Self {
            path,
            format,
            size: meta.len(),
        })
    }
}

/// What one streamed run reads and how the model runs.
pub(crate) struct BatchScoring<'a> {
    pub model: &'a Model,
    pub plan: &'a InputPlan,
    pub target: (&'a str, TargetKind),
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

/// One chunk of a prepared batch, for an inference worker.
struct Job {
    batch: usize,
    index: usize,
    inputs: Arc<InputData>,
    start: usize,
    end: usize,
    intra: usize,
}

/// A chunk's outputs: (batch, chunk index, outputs).
type Done = (usize, usize, Result<ChunkOut>);

/// A prepared batch whose chunks are with the workers.
struct Waiting {
    rows: usize,
    target: Option<TargetData>,
    book: RowBook,
    /// The batch's [`BatchScoring::extra`] columns (all `keep` may read).
    ds: Dataset,
    outs: Vec<Option<ChunkOut>>,
    left: usize,
}

/// The reading thread's side of the run: batches handed to the workers chunk by chunk, and
/// their outputs put together and kept in file order.
struct Flow<'a, K> {
    model: &'a Model,
    stage: &'a Stage<'a>,
    jobs: Option<SyncSender<Job>>,
    done: Receiver<Done>,
    waiting: VecDeque<Waiting>,
    /// Batch number of `waiting`'s first entry, and of the next batch.
    front: usize,
    next: usize,
    keep: K,
}

impl<K: FnMut(Scored, &Dataset) -> Result<()>> Flow<'_, K> {
    /// Hands rows `0..batch.rows` of `inputs` to the workers in chunks of `chunk` rows.
    fn submit(
        &mut self,
        batch: Waiting,
        inputs: InputData,
        chunk: usize,
        intra: usize,
    ) -> Result<()> {
        let jobs = self.jobs.as_ref().ok_or_else(fallback)?;
        let inputs = Arc::new(inputs);
        let (rows, n) = (batch.rows, batch.outs.len());
        let number = self.next;
        self.next += 1;
        self.waiting.push_back(batch);
        for index in 0..n {
            let start = index * chunk;
            let job = Job {
                batch: number,
                index,
                inputs: Arc::clone(&inputs),
                start,
                end: (start + chunk).min(rows),
                intra,
            };
            // Blocks while every worker has a chunk queued; the workers never wait for us.
            jobs.send(job).map_err(|_| fallback())?;
        }
        Ok(())
    }

    /// Keeps every batch at the front whose chunks are all done; `wait`: until none is
    /// left, else only what is done now.
    fn take(&mut self, wait: bool) -> Result<()> {
        loop {
            while self.waiting.front().is_some_and(|w| w.left == 0) {
                let Some(w) = self.waiting.pop_front() else {
                    break;
                };
                self.front += 1;
                let outs = w.outs.into_iter().flatten().collect();
                let predictions = assemble_chunks(self.model, outs, w.rows)?;
                // An unusable output: the in-memory path names its row.
                if !bad_outputs(&predictions).is_empty() {
                    return Err(fallback());
                }
                let scored = Scored {
                    predictions,
                    target: w.target,
                    book: w.book,
                };
                (self.keep)(scored, &w.ds)?;
            }
            if self.waiting.is_empty() {
                return Ok(());
            }
            let (batch, index, out) = if wait {
                self.done.recv().map_err(|_| fallback())?
            } else {
                match self.done.try_recv() {
                    Ok(d) => d,
                    Err(TryRecvError::Empty) => return Ok(()),
                    Err(TryRecvError::Disconnected) => return Err(fallback()),
                }
            };
            let w = batch
                .checked_sub(self.front)
                .and_then(|b| self.waiting.get_mut(b))
                .ok_or_else(fallback)?;
            let slot = w.outs.get_mut(index).ok_or_else(fallback)?;
            *slot = Some(out?);
            w.left -= 1;
            let n = w.outs.len();
            self.stage.set_fraction((n - w.left) as f32 / n as f32);
        }
    }
}

/// An inference worker: runs queued chunks until the queue closes.
fn work(
    model: &Model,
    jobs: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
    stop: &AtomicBool,
    stage: &Stage,
) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return;
        };
        let out = if stop.load(Ordering::Relaxed) {
            Err(fallback())
        } else {
            stage
                .check()
                .and_then(|()| run_chunk(model, &job.inputs, job.start, job.end, job.intra))
        };
        if done.send((job.batch, job.index, out)).is_err() {
            return;
        }
    }
}

/// Reads `file` in batches and scores each; calls `keep(scored, batch)` in file order (the
/// scored rows are the batch's rows: none is dropped; `batch` holds the batch's
/// [`BatchScoring::extra`] columns). `Ok(None)`: the run stopped on a problem of the data or
/// of `keep` (see the module docs); `Err`: cancelled.
///
/// A pipeline: the reading thread prepares a batch (`data::extract::prepare`) while the
/// workers (one per thread of [`InferOptions::threads`]) run the model on the chunks of the
/// batches before it, so the cores are not idle while a batch is read and prepared; each
/// chunk runs on a session with the threads the in-memory run gives it
/// ([`super::model::predict`]), so the outputs are the same numbers.
pub(crate) fn score_batches(
    file: StreamFile<'_>,
    run: &BatchScoring<'_>,
    progress: &Progress,
    stage: (f32, f32),
    keep: impl FnMut(Scored, &Dataset) -> Result<()>,
) -> Result<Option<ScoredFile>> {
    let path = file.path;
    let mut columns = run.plan.columns();
    for c in std::iter::once(run.target.0).chain(run.extra.iter().map(String::as_str)) {
        if !columns.iter().any(|x| x == c) {
            columns.push(c.to_string());
        }
    }
    let batch_rows = run.batch_rows.unwrap_or_else(|| match file.format {
        Format::Csv => csv_batch_rows(columns.len()),
        _ => batch_rows_for(columns.len()),
    });
    // Model chunks as the in-memory path cuts a large file (chunk boundaries line up, so the
    // outputs are the same numbers).
    let chunk = run
        .infer
        .batch_size
        .unwrap_or(INFER_ROWS)
        .min(batch_rows)
        .max(1);
    let threads = run.infer.threads.max(1);
    let mut first = true;
    let stage = progress.stage(stage.0, stage.1);
    stage.set(0.0, "running the model batch by batch");
    let mut rows = 0usize;
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    // One queued chunk per worker, so that reading stays at most a batch ahead.
    let (job_tx, job_rx) = sync_channel::<Job>(threads);
    let (done_tx, done_rx) = channel::<Done>();
    let jobs = Mutex::new(job_rx);
    let stop = AtomicBool::new(false);
    let (read, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| sha256_file(path));
        let mut workers = Vec::new();
        for w in 0..threads {
            let done = done_tx.clone();
            let (jobs, stop, stage) = (&jobs, &stop, &stage);
            let spawned = std::thread::Builder::new()
                .name(format!("assay-infer-{w}"))
                .spawn_scoped(s, move || work(run.model, jobs, &done, stop, stage));
            match spawned {
                Ok(h) => workers.push(h),
                Err(_) => break,
            }
        }
        drop(done_tx);
        let mut flow = Flow {
            model: run.model,
            stage: &stage,
            jobs: (!workers.is_empty()).then_some(job_tx),
            done: done_rx,
            waiting: VecDeque::new(),
            front: 0,
            next: 0,
            keep,
        };
        let read = for_each_batch(path, Some(&columns), batch_rows, |df| {
            progress.check()?;
            let height = df.height();
            // A batch of one chunk runs on one session with all the threads inside it
            // (`predict`), which may sum differently; in a file of more chunks the in-memory
            // path runs every chunk on a one-thread session, and so does this one: a batch of
            // one chunk after the first (the last, short batch), or a first batch of exactly
            // `batch_rows` rows (followed by more, unless the file has exactly that many rows).
            let lone_chunk = height <= chunk && (!first || height == batch_rows);
            first = false;
            let ds = Dataset {
                path: path.to_path_buf(),
                sha256: String::new(),
                format: file.format,
                file_size: file.size,
                df,
            };
            let prepared = prepare(&ds, run.plan, Some(run.target), InvalidRows::Error)?;
            if prepared.dropped > 0 || prepared.kept.is_some() || prepared.rows != height {
                return Err(fallback());
            }
            rows += height;
            let Prepared {
                inputs,
                target,
                mut book,
            } = prepared;
            for (c, k) in std::mem::take(&mut book.missing_passed) {
                *missing.entry(c).or_default() += k;
            }
            // Only the columns `keep` may read wait with the batch; the rest is freed now.
            let Dataset {
                path: p,
                sha256,
                format,
                file_size,
                df,
            } = ds;
            let extra = df.select(run.extra.iter().map(String::as_str));
            drop(df);
            let ds = Dataset {
                path: p,
                sha256,
                format,
                file_size,
                df: extra.map_err(|_| fallback())?,
            };
            let intra = chunk_intra(height, chunk, if lone_chunk { 1 } else { threads });
            let n = height.div_ceil(chunk);
            let batch = Waiting {
                rows: height,
                target,
                book,
                ds,
                outs: (0..n).map(|_| None).collect(),
                left: n,
            };
            flow.submit(batch, inputs, chunk, intra)?;
            flow.take(false)
        });
        let read = read.and_then(|total| {
            flow.jobs = None;
            flow.take(true).map(|()| total)
        });
        // Stop the workers (a failed run skips the chunks still queued) and wait for them.
        stop.store(read.is_err(), Ordering::Relaxed);
        drop(flow);
        let mut joined = Ok(());
        for h in workers {
            if h.join().is_err() {
                joined = Err(EngineError::internal("inference thread panicked"));
            }
        }
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (joined.and(read), sha)
    });
    progress.check()?;
    let (Ok(total), Ok(sha256)) = (read, sha256) else {
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

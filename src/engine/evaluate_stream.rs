//! Streamed `evaluate` (issue 19): the data file is read in batches
//! ([`data::batches::for_each_batch`]), the model runs on each batch and only what the metrics
//! need is kept — the model's outputs and each row's class index or target value — never the
//! frame. Peak memory is a few batches plus a few numbers per row.
//!
//! [`super::evaluate::evaluate_files`] (the CLI's `evaluate`, and packages) takes this path
//! for one CSV, Parquet or Arrow file of at least [`data::batches::STREAM_MIN_BYTES`] under
//! `--invalid-rows error` (the default); otherwise, and whenever the streamed run meets a
//! problem of the data (an unknown label, a value the model cannot score, a column type that
//! changes after the first 10,000 CSV rows, …), it evaluates in memory, which reports the
//! problem exactly as before, with the file's row numbers. Both paths give the same result
//! (tests/evaluate_stream.rs).

use std::collections::BTreeMap;
use std::path::Path;

use super::data::batches::{batch_rows as batch_rows_for, for_each_batch};
use super::data::extract::{InvalidRows, RowBook, TargetData};
use super::data::{self, Dataset, Format};
use super::error::{EngineError, Result};
use super::evaluate::{
    check_threshold, conclude, positive_index, target_kind, BinaryRows, DataRef, EvalOptions,
    Evaluation, Outcomes, Outside, Truth,
};
use super::hash::sha256_file;
use super::model::{plan_inputs, InferOptions, Model, Predictions};
use super::progress::Progress;
use super::scored::{score, Scored};

/// Rows per model run: the in-memory path's choice for a file of 2¹⁹ rows or more on two
/// cores ([`super::model::predict`]); batches of a multiple of it give the same chunks.
const INFER_ROWS: usize = 65_536;

/// Rows per batch of a CSV file: a quarter of [`batch_rows_for`] (a multiple of 2¹⁶ rows,
/// at least 2¹⁶): a batch's text columns take 16 bytes a cell, not 8 (about 0.19 GiB for 2²⁰
/// rows of the German-credit columns, against a 1M-row run's 0.22 GiB peak). A Parquet file
/// keeps [`batch_rows_for`]: each batch is read by its own query, which decodes the row
/// groups it overlaps ([`for_each_batch`]); smaller batches would decode a row group more
/// than once.
fn csv_batch_rows(columns: usize) -> usize {
    ((batch_rows_for(columns) / 4) & !0xFFFF).max(1 << 16)
}

/// Outputs and truth gathered batch by batch: of a binary classifier only the positive
/// class's score and whether each row is of that class (5 bytes a row), of a multiclass one
/// every class's score and the class index.
#[derive(Default)]
struct Gathered {
    classes: Option<Vec<String>>,
    /// A binary classifier's positive class (index into `classes`).
    positive: Option<usize>,
    is_positive: Vec<bool>,
    score: Vec<f32>,
    outside: Outside,
    proba: Vec<f32>,
    y: Vec<u32>,
    values: Vec<f32>,
    targets: Vec<f64>,
    rows: usize,
    missing: BTreeMap<String, usize>,
}

/// A problem that sends the file to the in-memory path (which reports it properly).
fn fallback() -> EngineError {
    EngineError::internal("streamed evaluation fell back to the in-memory path")
}

impl Gathered {
    /// Adds a scored batch; `positive` gives a binary classifier's positive class.
    fn add(&mut self, scored: Scored, positive: impl Fn(&[String]) -> Result<usize>) -> Result<()> {
        if scored.dropped > 0 || scored.kept.is_some() {
            return Err(fallback());
        }
        for (c, k) in &scored.missing_passed {
            *self.missing.entry(c.clone()).or_default() += k;
        }
        let before = self.rows;
        self.rows += scored.rows;
        let Scored {
            predictions,
            target,
            ..
        } = scored;
        match (predictions, target) {
            (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels))) => {
                let known = self.classes.get_or_insert_with(|| classes.clone());
                if *known != classes {
                    return Err(fallback());
                }
                let index: BTreeMap<&str, u32> = classes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.as_str(), i as u32))
                    .collect();
                let k = classes.len();
                if k != 2 {
                    for l in &labels {
                        self.y.push(*index.get(l.as_str()).ok_or_else(fallback)?);
                    }
                    self.proba.extend_from_slice(&proba);
                    return Ok(());
                }
                let pos = match self.positive {
                    Some(p) => p,
                    // The in-memory path reports an unknown positive class.
                    None => *self
                        .positive
                        .insert(positive(&classes).map_err(|_| fallback())?),
                };
                if proba.len() != 2 * labels.len() {
                    return Err(fallback());
                }
                self.outside.add(&proba, before * 2);
                for (r, l) in labels.iter().enumerate() {
                    let c = *index.get(l.as_str()).ok_or_else(fallback)?;
                    self.is_positive.push(c as usize == pos);
                    self.score.push(proba[r * 2 + pos]);
                }
            }
            (Predictions::Regression { values }, Some(TargetData::Values(y)))
                if self.classes.is_none() =>
            {
                self.values.extend_from_slice(&values);
                self.targets.extend_from_slice(&y);
            }
            _ => return Err(fallback()),
        }
        Ok(())
    }
}

/// `evaluate` of the one data file at `path`, read `batch_rows` rows at a time (`None`:
/// [`csv_batch_rows`] for a CSV file, [`batch_rows`] for any other, for the columns read: the
/// model's inputs and the target). `Ok(None)`: the
/// file is not evaluated this way (see the module docs); evaluate it in memory.
pub fn evaluate_streamed(
    model: &Model,
    path: &Path,
    opts: &EvalOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<Evaluation>> {
    if opts.invalid_rows != InvalidRows::Error || data::lake::is_set(path) {
        return Ok(None);
    }
    let Ok(meta) = super::fsio::check_regular(path, "dataset") else {
        return Ok(None);
    };
    let Ok(format) = Format::from_path(path) else {
        return Ok(None);
    };
    if meta.len() == 0 || data::check_claimed(path, format, false).is_err() {
        return Ok(None);
    }
    check_threshold(opts)?;
    let Ok(plan) = plan_inputs(&model.info, opts.features.as_deref()) else {
        return Ok(None);
    };
    let kind = target_kind(model);
    let mut columns = plan.columns();
    if !columns.contains(&opts.target) {
        columns.push(opts.target.clone());
    }
    let batch_rows = batch_rows.unwrap_or_else(|| match format {
        Format::Csv => csv_batch_rows(columns.len()),
        _ => batch_rows_for(columns.len()),
    });
    // Model chunks as the in-memory path cuts a large file (chunk boundaries line up, so the
    // outputs are the same numbers).
    let chunk = opts.infer.batch_size.unwrap_or(INFER_ROWS).min(batch_rows);
    let infer = InferOptions {
        batch_size: Some(chunk),
        ..opts.infer.clone()
    };
    // A batch of one chunk runs on one session with all the threads inside it (`predict`),
    // which may sum differently; in a file of more chunks the in-memory path runs every chunk
    // on a one-thread session, and so does this one: a batch of one chunk after the first
    // (the last, short batch), or a first batch of exactly `batch_rows` rows (followed by
    // more, unless the file has exactly that many rows).
    let one_thread = InferOptions {
        threads: 1,
        ..infer.clone()
    };
    let mut first = true;
    progress.set(0.0, "reading and scoring in batches");
    let stage = progress.stage(0.05, 0.7);
    let mut got = Gathered::default();
    let (read, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| sha256_file(path));
        let read = for_each_batch(path, Some(&columns), batch_rows, |df| {
            progress.check()?;
            let rows = df.height();
            let lone_chunk = rows <= chunk && (!first || rows == batch_rows);
            first = false;
            let ds = Dataset {
                path: path.to_path_buf(),
                sha256: String::new(),
                format,
                file_size: meta.len(),
                df,
            };
            let scored = score(
                model,
                &ds,
                &plan,
                Some((opts.target.as_str(), kind)),
                InvalidRows::Error,
                if lone_chunk { &one_thread } else { &infer },
                &stage,
            )?;
            got.add(scored, |classes| positive_index(model, opts, classes))
        });
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (read, sha)
    });
    progress.check()?;
    let (Ok(total), Ok(sha256)) = (read, sha256) else {
        return Ok(None);
    };
    if total == 0 || total != got.rows {
        return Ok(None);
    }
    // Missing-value notes in input order, as the in-memory path lists them.
    let missing_passed = plan
        .columns()
        .into_iter()
        .filter_map(|c| got.missing.get(&c).map(|&k| (c, k)))
        .collect();
    let book = RowBook {
        rows: got.rows,
        missing_passed,
        ..RowBook::default()
    };
    let (predictions, truth) = match got.classes {
        Some(classes) => match got.positive {
            Some(positive) => (
                Predictions::Classification {
                    classes,
                    proba: Vec::new(),
                },
                Truth::Binary(BinaryRows {
                    positive,
                    y: got.is_positive,
                    score: got.score,
                    outside: got.outside,
                }),
            ),
            None => (
                Predictions::Classification {
                    classes,
                    proba: got.proba,
                },
                Truth::Classes(got.y),
            ),
        },
        None => (
            Predictions::Regression { values: got.values },
            Truth::Values(got.targets),
        ),
    };
    let warnings = Scored {
        predictions: Predictions::Regression { values: Vec::new() },
        target: None,
        book: book.clone(),
    }
    .warnings(total);
    let outcomes = Outcomes {
        predictions,
        truth: Some(truth),
        book,
        data: DataRef {
            path: path.to_path_buf(),
            sha256,
            rows: total,
            rows_dropped: 0,
        },
        warnings,
    };
    conclude(model, opts, &plan, outcomes, false, progress).map(|(eval, _)| Some(eval))
}

//! Streamed `evaluate` (issue 19): the data file is read in batches and the model runs on
//! each batch ([`super::scored_stream`], shared with streamed fairness); only what the metrics
//! need is kept — the model's outputs and each row's class index or target value — never the
//! frame. Peak memory is a few batches plus a few numbers per row.
//!
//! [`super::evaluate::evaluate_files`] (the CLI's `evaluate`, and packages) takes this path
//! for a CSV, Parquet or Arrow file, or a set of them, of at least
//! [`data::batches::STREAM_MIN_BYTES`] ([`data::batches::is_large`]) under
//! `--invalid-rows error` (the default); otherwise, and whenever the streamed run meets a
//! problem of the data (an unknown label, a value the model cannot score, a column type that
//! changes after the first 10,000 CSV rows, …), it evaluates in memory, which reports the
//! problem exactly as before, with the file's row numbers. Both paths give the same result
//! (tests/evaluate_stream.rs).

use std::path::Path;

use super::data::extract::TargetData;
use super::error::Result;
use super::evaluate::{
    check_threshold, conclude, positive_index, target_kind, BinaryRows, DataRef, EvalOptions,
    Evaluation, Outcomes, Outside, Truth,
};
use super::model::{plan_inputs, Model, Predictions};
use super::progress::Progress;
use super::scored::Scored;
use super::scored_stream::{
    class_index, fallback, positive_once, score_batches, BatchScoring, StreamFile,
};

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
}

impl Gathered {
    /// Adds a scored batch; `positive` gives a binary classifier's positive class.
    fn add(&mut self, scored: Scored, positive: impl Fn(&[String]) -> Result<usize>) -> Result<()> {
        let before = self.rows;
        self.rows += scored.rows;
        let Scored {
            predictions,
            target,
            ..
        } = scored;
        match (predictions, target) {
            (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels))) => {
                let class = class_index(&mut self.classes, &classes)?;
                let k = classes.len();
                if k != 2 {
                    for l in &labels {
                        self.y.push(class(l)?);
                    }
                    self.proba.extend_from_slice(&proba);
                    return Ok(());
                }
                let pos = positive_once(&mut self.positive, || positive(&classes))?;
                if proba.len() != 2 * labels.len() {
                    return Err(fallback());
                }
                self.outside.add(&proba, before * 2);
                for (r, l) in labels.iter().enumerate() {
                    self.is_positive.push(class(l)? as usize == pos);
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

/// `evaluate` of the one data file at `path`, read `batch_rows` rows at a time (`None`: the
/// default of [`score_batches`] for the columns read: the model's inputs and the target).
/// `Ok(None)`: the file is not evaluated this way (see the module docs); evaluate it in
/// memory.
pub fn evaluate_streamed(
    model: &Model,
    path: &Path,
    opts: &EvalOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<Evaluation>> {
    let Some(file) = StreamFile::open(path, opts.invalid_rows) else {
        return Ok(None);
    };
    check_threshold(opts)?;
    let Ok(plan) = plan_inputs(&model.info, opts.features.as_deref()) else {
        return Ok(None);
    };
    let run = BatchScoring {
        model,
        plan: &plan,
        target: Some((opts.target.as_str(), target_kind(model))),
        extra: &[],
        infer: &opts.infer,
        batch_rows,
    };
    progress.set(0.0, "reading and scoring in batches");
    let mut got = Gathered::default();
    let Some(done) = score_batches(file, &run, progress, (0.05, 0.7), |scored, _| {
        got.add(scored, |classes| {
            positive_index(model, opts.positive_class.as_deref(), classes)
        })
    })?
    else {
        return Ok(None);
    };
    if done.rows != got.rows {
        return Ok(None);
    }
    let warnings = done.warnings();
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
    let outcomes = Outcomes {
        predictions,
        truth: Some(truth),
        book: done.book,
        data: DataRef {
            path: path.to_path_buf(),
            sha256: done.sha256,
            rows: done.rows,
            rows_dropped: 0,
        },
        warnings,
    };
    conclude(model, opts, &plan, outcomes, false, progress).map(|(eval, _)| Some(eval))
}

//! Streamed fairness (issue 19): the data file is read in batches and the model runs on each
//! batch ([`crate::engine::scored_stream`], shared with streamed `evaluate`); per row only
//! what the report needs is kept — the outcomes (a binary classifier's true and predicted
//! positive, a multiclass one's class indices, a regressor's target and prediction) and each
//! sensitive column's values ([`Values`]: a text column's codes with its dictionary, a numeric
//! column's numbers, binned over all of them afterwards) — never the frame. The groups,
//! metrics, intervals and policy are then computed as in memory ([`outcomes_report`]).
//!
//! [`super::fairness_files`] (the CLI's `fairness`) takes this path for a CSV, Parquet or
//! Arrow file, or a set of them, of at least [`STREAM_MIN_BYTES`] under `--invalid-rows error` (the default);
//! otherwise, and whenever the streamed run meets a problem of the data or of the options (an
//! unknown label or positive class, a missing sensitive column, a value the model cannot score,
//! a column type that changes after the first 10,000 CSV rows, …), it runs in memory, which
//! reports the problem exactly as before. Both give the same report
//! (tests/fairness_stream.rs).
//!
//! Memory: a few batches, 2 bytes a row of a binary classifier's outcomes (8 of a multiclass
//! one's, 16 of a regressor's), 4 bytes a row per text sensitive column and 8 per numeric one;
//! then the in-memory report's own per-row state (group codes, members, resamples).
//!
//! [`STREAM_MIN_BYTES`]: crate::engine::data::batches::STREAM_MIN_BYTES

use std::collections::BTreeMap;
use std::path::Path;

use super::groups::{raw_groups, Values};
use super::run::{argmax, RunOptions};
use super::stats::Outcomes;
use super::{outcomes_report, FairnessOptions, FairnessReport};
use crate::engine::data::extract::{TargetData, TargetKind};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::{is_classifier, positive_index, DataRef, ModelRef};
use crate::engine::model::{plan_inputs, Model, Predictions};
use crate::engine::progress::Progress;
use crate::engine::scored::Scored;
use crate::engine::scored_stream::{
    class_index, fallback, positive_once, score_batches, BatchScoring, StreamFile,
};

/// Outcomes and column values gathered batch by batch.
struct Gathered<'a> {
    model: &'a Model,
    run: &'a RunOptions,
    classes: Option<Vec<String>>,
    /// A binary classifier's positive class (index into `classes`).
    positive: Option<usize>,
    outcomes: Option<Outcomes>,
    /// Per sensitive column (each once), its values so far (`None`: no batch yet).
    values: Vec<(String, Option<Values>)>,
}

impl Gathered<'_> {
    fn add(&mut self, scored: Scored, ds: &Dataset) -> Result<()> {
        let Scored {
            predictions,
            target,
            ..
        } = scored;
        match (predictions, target) {
            (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels))) => {
                let class = class_index(&mut self.classes, &classes)?;
                let k = classes.len();
                if k < 2 || proba.len() != k * labels.len() {
                    return Err(fallback());
                }
                if k > 2 {
                    let out = self.outcomes.get_or_insert_with(|| Outcomes::Multiclass {
                        y: Vec::new(),
                        pred: Vec::new(),
                        classes: classes.clone(),
                    });
                    let Outcomes::Multiclass { y, pred, .. } = out else {
                        return Err(fallback());
                    };
                    for l in &labels {
                        y.push(class(l)?);
                    }
                    pred.extend(proba.chunks(k).map(argmax));
                } else {
                    let (model, asked) = (self.model, self.run.positive_class.as_deref());
                    let pos = positive_once(&mut self.positive, || {
                        positive_index(model, asked, &classes)
                    })?;
                    let out = self.outcomes.get_or_insert_with(|| Outcomes::Binary {
                        y: Vec::new(),
                        pred: Vec::new(),
                    });
                    let Outcomes::Binary { y, pred } = out else {
                        return Err(fallback());
                    };
                    let threshold = self.run.threshold;
                    for (r, l) in labels.iter().enumerate() {
                        y.push(class(l)? as usize == pos);
                        pred.push(f64::from(proba[r * 2 + pos]) >= threshold);
                    }
                }
            }
            (Predictions::Regression { values }, Some(TargetData::Values(t)))
                if self.classes.is_none() =>
            {
                let out = self.outcomes.get_or_insert_with(|| Outcomes::Regression {
                    y: Vec::new(),
                    pred: Vec::new(),
                });
                let Outcomes::Regression { y, pred } = out else {
                    return Err(fallback());
                };
                if values.len() != t.len() {
                    return Err(fallback());
                }
                y.extend_from_slice(&t);
                pred.extend(values.iter().map(|&v| f64::from(v)));
            }
            _ => return Err(fallback()),
        }
        for (name, values) in &mut self.values {
            let col = ds.df.column(name).map_err(|_| fallback())?;
            values
                .get_or_insert_with(|| Values::of(col))
                .add(&ds.path, name, col)?;
        }
        Ok(())
    }
}

/// Fairness of the one data file at `path`, read `batch_rows` rows at a time (`None`: the
/// default of the shared streamed run for the columns read: the model's inputs, the target
/// and the sensitive columns). `Ok(None)`: the file is not analysed this way (see the module
/// docs); analyse it in memory.
pub fn fairness_streamed(
    model: &Model,
    path: &Path,
    opts: &FairnessOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<FairnessReport>> {
    // Option problems the in-memory path reports (after loading the file, as before).
    if opts.slicings.is_empty() || opts.slicings.iter().any(Vec::is_empty) {
        return Ok(None);
    }
    let sensitive = sensitive_columns(opts);
    let Some(mut got) = gather(model, path, &opts.run, &sensitive, batch_rows, progress)? else {
        return Ok(None);
    };
    report_of(model, path, opts, &mut got, true, progress).map(Some)
}

/// The fairness report of the gathered outcomes and sensitive columns, which are taken from
/// `got` (`take`) or copied (when they are searched for weak slices next).
pub(super) fn report_of(
    model: &Model,
    path: &Path,
    opts: &FairnessOptions,
    got: &mut Gather,
    take: bool,
    progress: &Progress,
) -> Result<FairnessReport> {
    let mut report = outcomes_report(&got.outcomes, got.data.clone(), opts, progress, |c| {
        let v = if take {
            got.values.remove(c)
        } else {
            got.values.get(c).cloned()
        };
        let v = v.ok_or_else(|| EngineError::internal("a sensitive column was not read"))?;
        raw_groups(path, c, v.finish(None), &opts.binning)
    })?;
    report.model = Some(ModelRef::of(model));
    report.data = got.data.clone();
    report.positive_class = got.positive_class.clone();
    let later = std::mem::replace(&mut report.warnings, got.warnings.clone());
    report.warnings.extend(later);
    Ok(report)
}

/// The sensitive columns of `opts`, each once, in order of appearance.
pub(super) fn sensitive_columns(opts: &FairnessOptions) -> Vec<String> {
    let mut sensitive: Vec<String> = Vec::new();
    for c in opts.slicings.iter().flatten() {
        if !sensitive.contains(c) {
            sensitive.push(c.clone());
        }
    }
    sensitive
}

/// What a streamed run gathered: every row's outcome and the values of the columns asked for.
pub(super) struct Gather {
    pub outcomes: Outcomes,
    pub values: BTreeMap<String, Values>,
    pub data: DataRef,
    pub positive_class: Option<String>,
    /// The in-memory run's warnings (missing inputs passed to the model).
    pub warnings: Vec<crate::engine::Warning>,
}

/// Reads the file at `path` in batches, runs the model on each and keeps the outcomes and the
/// values of `columns`. `Ok(None)`: not done this way (see the module docs).
pub(super) fn gather(
    model: &Model,
    path: &Path,
    run_opts: &RunOptions,
    columns: &[String],
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<Gather>> {
    let Some(file) = StreamFile::open(path, run_opts.invalid_rows) else {
        return Ok(None);
    };
    if !(0.0..=1.0).contains(&run_opts.threshold) {
        return Ok(None);
    }
    let Ok(plan) = plan_inputs(&model.info, run_opts.features.as_deref()) else {
        return Ok(None);
    };
    let kind = if is_classifier(model) {
        TargetKind::Labels
    } else {
        TargetKind::Values
    };
    let run = BatchScoring {
        model,
        plan: &plan,
        target: Some((run_opts.target.as_str(), kind)),
        extra: columns,
        infer: &run_opts.infer,
        batch_rows,
    };
    progress.set(0.0, "reading and scoring in batches");
    let mut got = Gathered {
        model,
        run: run_opts,
        classes: None,
        positive: None,
        outcomes: None,
        values: columns.iter().map(|c| (c.clone(), None)).collect(),
    };
    let Some(done) = score_batches(file, &run, progress, (0.05, 0.6), |scored, ds| {
        got.add(scored, ds)
    })?
    else {
        return Ok(None);
    };
    let Some(outcomes) = got.outcomes else {
        return Ok(None);
    };
    if outcomes.len() != done.rows {
        return Ok(None);
    }
    let mut values: BTreeMap<String, Values> = BTreeMap::new();
    for (name, v) in got.values {
        match v {
            Some(v) => values.insert(name, v),
            None => return Ok(None),
        };
    }
    let positive_class = match (&outcomes, got.positive, &got.classes) {
        (Outcomes::Binary { .. }, Some(p), Some(classes)) => classes.get(p).cloned(),
        _ => None,
    };
    Ok(Some(Gather {
        outcomes,
        values,
        data: DataRef {
            path: path.to_path_buf(),
            sha256: done.sha256.clone(),
            rows: done.rows,
            rows_dropped: 0,
        },
        positive_class,
        warnings: done.warnings(),
    }))
}

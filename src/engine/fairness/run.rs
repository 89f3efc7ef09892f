//! Running the model once: checked inputs and target (the shared `scored` step, as
//! `evaluate`), the binary, multiclass or regression outcomes per kept row, and which dataset
//! rows were kept, so sensitive columns line up with the predictions.

use std::collections::BTreeMap;

use super::stats::Outcomes;
use crate::engine::data::extract::{InvalidRows, TargetData, TargetKind};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::{is_classifier, positive_index, DataRef, ModelRef};
use crate::engine::model::{plan_inputs, InferOptions, Model, Predictions};
use crate::engine::progress::Progress;
use crate::engine::scored::{score, Scored};

/// What the model run produced for the fairness and slice engines.
#[derive(Debug, Clone)]
pub struct ModelRun {
    pub outcomes: Outcomes,
    /// Probability of the positive class (binary) per kept row.
    pub scores: Option<Vec<f64>>,
    /// Dataset rows kept (`None`: all rows).
    pub kept: Option<Vec<u32>>,
    pub model: ModelRef,
    pub data: DataRef,
    pub features: Vec<String>,
    pub positive_class: Option<String>,
    pub warnings: Vec<crate::engine::Warning>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOptions {
    pub target: String,
    pub features: Option<Vec<String>>,
    pub positive_class: Option<String>,
    pub threshold: f64,
    pub invalid_rows: InvalidRows,
    pub infer: InferOptions,
}

impl RunOptions {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            features: None,
            positive_class: None,
            threshold: 0.5,
            invalid_rows: InvalidRows::Error,
            infer: InferOptions::default(),
        }
    }
}

/// Runs the model on the dataset (binary classifier or regressor).
pub fn run_model(
    model: &Model,
    ds: &Dataset,
    opts: &RunOptions,
    progress: &Progress,
) -> Result<ModelRun> {
    if !(0.0..=1.0).contains(&opts.threshold) {
        return Err(EngineError::usage(format!(
            "threshold {} is outside [0, 1]",
            opts.threshold
        )));
    }
    let plan = plan_inputs(&model.info, opts.features.as_deref())?;
    let classifier = is_classifier(model);
    let kind = if classifier {
        TargetKind::Labels
    } else {
        TargetKind::Values
    };
    progress.set(0.02, "checking data");
    let mut scored = score(
        model,
        ds,
        &plan,
        Some((opts.target.as_str(), kind)),
        opts.invalid_rows,
        &opts.infer,
        &progress.stage(0.05, 0.6),
    )?;
    let warnings = scored.warnings(ds.rows());
    let predictions = std::mem::replace(
        &mut scored.predictions,
        Predictions::Regression { values: Vec::new() },
    );
    let target = scored.target.take();
    let path = &ds.path;
    let mut positive_class = None;
    let mut scores = None;
    let outcomes = match (predictions, target) {
        (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels)))
            if classes.len() > 2 =>
        {
            multiclass(classes, &proba, &labels, &scored, ds, &opts.target)?
        }
        (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels))) => {
            let k = classes.len();
            if k != 2 {
                return Err(EngineError::file(
                    &model.info.path,
                    format!("the classifier reports {k} class; fairness needs at least two"),
                ));
            }
            let index: BTreeMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let pos = positive_index(model, opts.positive_class.as_deref(), &classes)?;
            let mut y = Vec::with_capacity(labels.len());
            for (i, l) in labels.iter().enumerate() {
                match index.get(l.as_str()) {
                    Some(&c) => y.push(c == pos),
                    None => {
                        let row = scored.file_row(i);
                        return Err(EngineError::cell(
                            path,
                            &opts.target,
                            row,
                            format!(
                                "'{l}' is not a class of the model (classes: {})",
                                classes.join(", ")
                            ),
                        ));
                    }
                }
            }
            let s: Vec<f64> = (0..y.len())
                .map(|i| f64::from(proba[i * 2 + pos]))
                .collect();
            let pred = s.iter().map(|&p| p >= opts.threshold).collect();
            positive_class = Some(classes[pos].clone());
            scores = Some(s);
            Outcomes::Binary { y, pred }
        }
        (Predictions::Regression { values }, Some(TargetData::Values(y))) => {
            let pred: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
            Outcomes::Regression { y, pred }
        }
        _ => {
            return Err(EngineError::file(
                &model.info.path,
                "the model's outputs do not match its declared task",
            ))
        }
    };
    Ok(ModelRun {
        outcomes,
        scores,
        data: DataRef::of(ds, scored.dropped),
        kept: scored.book.kept,
        model: ModelRef::of(model),
        features: plan.columns(),
        positive_class,
        warnings,
    })
}

/// Multiclass outcomes: true and predicted class indices. The predicted class is the arg-max
/// of the probabilities (first on ties, as numpy's `argmax`), as for `evaluate`'s confusion
/// matrix.
fn multiclass(
    classes: Vec<String>,
    proba: &[f32],
    labels: &[String],
    scored: &Scored,
    ds: &Dataset,
    target: &str,
) -> Result<Outcomes> {
    let k = classes.len();
    let index: BTreeMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as u32))
        .collect();
    let mut y = Vec::with_capacity(labels.len());
    for (i, l) in labels.iter().enumerate() {
        match index.get(l.as_str()) {
            Some(&c) => y.push(c),
            None => {
                return Err(EngineError::cell(
                    &ds.path,
                    target,
                    scored.file_row(i),
                    format!(
                        "'{l}' is not a class of the model (classes: {})",
                        classes.join(", ")
                    ),
                ))
            }
        }
    }
    let pred = proba.chunks(k).map(argmax).collect();
    Ok(Outcomes::Multiclass { y, pred, classes })
}

/// The predicted class of one row of probabilities: the arg-max, first on ties (numpy's
/// `argmax`).
pub(crate) fn argmax(row: &[f32]) -> u32 {
    let mut best = 0;
    for (c, &p) in row.iter().enumerate() {
        if p > row[best] {
            best = c;
        }
    }
    best as u32
}

//! Running the model once: checked inputs and target (same rules as `evaluate`), the binary or
//! regression outcomes per kept row, and which dataset rows were kept, so sensitive columns
//! line up with the predictions.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::stats::Outcomes;
use crate::engine::data::extract::{prepare, InvalidRows, TargetData, TargetKind};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::{is_classifier, DataRef, ModelRef};
use crate::engine::model::{plan_inputs, predict, InferOptions, InputPlan, Model, Predictions};
use crate::engine::progress::Progress;

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
    pub warnings: Vec<String>,
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

/// Rows `prepare` keeps: no missing/NaN/inf value in a numeric column, no missing text in a
/// text column (the same rule, re-applied to learn which rows they are).
fn kept_rows(ds: &Dataset, needed: &[(String, bool)]) -> Result<Vec<u32>> {
    let n = ds.rows();
    let mut ok = vec![true; n];
    for (name, numeric) in needed {
        let col = ds
            .df
            .column(name)
            .map_err(|e| EngineError::internal(e.to_string()))?;
        if *numeric {
            let vals: Vec<Option<f64>> = if col.dtype() == &DataType::String {
                let ca = col
                    .str()
                    .map_err(|e| EngineError::internal(e.to_string()))?;
                ca.iter()
                    .map(|v| v.map(str::trim).and_then(|s| s.parse::<f64>().ok()))
                    .collect()
            } else {
                let cast = col
                    .cast(&DataType::Float64)
                    .map_err(|e| EngineError::internal(e.to_string()))?;
                let ca = cast
                    .f64()
                    .map_err(|e| EngineError::internal(e.to_string()))?;
                ca.iter().collect()
            };
            for (k, v) in ok.iter_mut().zip(vals) {
                *k &= v.is_some_and(f64::is_finite);
            }
        } else {
            let is_float = col.dtype().is_float();
            let cast = col
                .cast(&DataType::String)
                .map_err(|e| EngineError::internal(e.to_string()))?;
            let ca = cast
                .str()
                .map_err(|e| EngineError::internal(e.to_string()))?;
            for (k, v) in ok.iter_mut().zip(ca.iter()) {
                *k &= v.is_some_and(|s| !(s.trim().is_empty() || (is_float && s == "NaN")));
            }
        }
    }
    Ok((0..n as u32).filter(|&i| ok[i as usize]).collect())
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
    let prepared = prepare(
        ds,
        &plan,
        Some((opts.target.as_str(), kind)),
        opts.invalid_rows,
    )?;
    let kept = if prepared.dropped > 0 {
        let mut needed: Vec<(String, bool)> = match &plan {
            InputPlan::Matrix { features, .. } => {
                features.iter().map(|f| (f.clone(), true)).collect()
            }
            InputPlan::PerColumn { inputs } => inputs
                .iter()
                .map(|(c, e)| (c.clone(), e.is_numeric()))
                .collect(),
        };
        needed.push((opts.target.clone(), !classifier));
        let k = kept_rows(ds, &needed)?;
        if k.len() != prepared.rows {
            return Err(EngineError::internal(format!(
                "kept-row bookkeeping disagrees ({} vs {} rows)",
                k.len(),
                prepared.rows
            )));
        }
        Some(k)
    } else {
        None
    };
    progress.check()?;
    let predictions = predict(
        model,
        &prepared.inputs,
        &opts.infer,
        &progress.stage(0.05, 0.6),
    )?;
    let mut warnings = Vec::new();
    if prepared.dropped > 0 {
        warnings.push(format!(
            "dropped {} of {} rows with missing or non-finite values (e.g. {})",
            prepared.dropped,
            ds.rows(),
            prepared.drop_examples.join("; ")
        ));
    }
    let path = &ds.path;
    let mut positive_class = None;
    let mut scores = None;
    let outcomes = match (predictions, prepared.target) {
        (Predictions::Classification { classes, proba }, Some(TargetData::Labels(labels))) => {
            let k = classes.len();
            if k != 2 {
                return Err(EngineError::file(
                    &model.info.path,
                    format!(
                        "fairness metrics need a binary classifier or a regressor; this model has {k} classes"
                    ),
                ));
            }
            let index: BTreeMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let pos = match opts
                .positive_class
                .clone()
                .or_else(|| model.info.metadata.get("positive_class").cloned())
            {
                Some(p) => index.get(p.as_str()).copied().ok_or_else(|| {
                    EngineError::usage(format!(
                        "positive class '{p}' is not a class of the model (classes: {})",
                        classes.join(", ")
                    ))
                })?,
                None => 1,
            };
            let mut y = Vec::with_capacity(labels.len());
            for (i, l) in labels.iter().enumerate() {
                match index.get(l.as_str()) {
                    Some(&c) => y.push(c == pos),
                    None => {
                        let row = kept.as_ref().map_or(i, |k| k[i] as usize) + 1;
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
            if let Some(row) = s.iter().position(|p| !p.is_finite()) {
                return Err(EngineError::file(
                    &model.info.path,
                    format!(
                        "the model returned a non-finite probability for data row {}",
                        row + 1
                    ),
                ));
            }
            let pred = s.iter().map(|&p| p >= opts.threshold).collect();
            positive_class = Some(classes[pos].clone());
            scores = Some(s);
            Outcomes::Binary { y, pred }
        }
        (Predictions::Regression { values }, Some(TargetData::Values(y))) => {
            let pred: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
            if let Some(row) = pred.iter().position(|p| !p.is_finite()) {
                return Err(EngineError::file(
                    &model.info.path,
                    format!(
                        "the model returned a non-finite prediction for data row {}",
                        row + 1
                    ),
                ));
            }
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
        kept,
        model: ModelRef {
            path: model.info.path.clone(),
            sha256: model.info.sha256.clone(),
            name: model.info.name.clone(),
            version: model.info.version.clone(),
        },
        data: DataRef {
            path: ds.path.clone(),
            sha256: ds.sha256.clone(),
            rows: ds.rows(),
            rows_dropped: prepared.dropped,
        },
        features: plan.columns(),
        positive_class,
        warnings,
    })
}

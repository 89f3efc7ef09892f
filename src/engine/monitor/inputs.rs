//! Reading a prediction log for monitoring: scores (from the file, or from `--model` run on
//! the logged features), predicted labels, labels (a column of the file, or a separate label
//! file joined by id), strictly: every problem names the file, column and 1-based row.

use std::collections::HashMap;

use crate::engine::data::extract::{label_of_number, InvalidRows};
use crate::engine::data::Dataset;
use crate::engine::drift::columns::{self, Raw};
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{plan_inputs, InferOptions, Model, Predictions};
use crate::engine::progress::Progress;

/// Text of each row of a column (`None` when missing); numbers print as labels (`1`, `0.5`).
pub fn labels(ds: &Dataset, column: &str) -> Result<Vec<Option<String>>> {
    Ok(match columns::read(ds, column)? {
        Raw::Numeric { values, .. } => {
            // Each distinct number is formatted once (a log holds few label values).
            let mut text: HashMap<u64, String> = HashMap::new();
            values
                .iter()
                .map(|&v| {
                    (!v.is_nan()).then(|| {
                        text.entry(v.to_bits())
                            .or_insert_with(|| label_of_number(v))
                            .clone()
                    })
                })
                .collect()
        }
        Raw::Text { values } => values.iter().map(|v| v.map(str::to_string)).collect(),
    })
}

/// A score column: finite numbers in [0, 1], none missing.
pub fn scores(ds: &Dataset, column: &str) -> Result<Vec<f64>> {
    let Raw::Numeric { values, .. } = columns::read(ds, column)? else {
        return Err(EngineError::column(
            &ds.path,
            column,
            "holds text; a score column holds probabilities in [0, 1]",
        ));
    };
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            return Err(EngineError::cell(&ds.path, column, i + 1, "missing score"));
        }
        if !(0.0..=1.0).contains(&v) {
            return Err(EngineError::cell(
                &ds.path,
                column,
                i + 1,
                format!("score {v} is outside [0, 1]; monitoring needs probabilities"),
            ));
        }
    }
    Ok(values)
}

/// Binary label text → positive?
pub fn binary_label(s: &str) -> Option<bool> {
    // The usual spellings without the lower-cased copy.
    match s {
        "1" | "true" => return Some(true),
        "0" | "false" => return Some(false),
        _ => {}
    }
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Binary labels or predictions: 0/1 or true/false; `allow_missing` for analysis labels.
/// Each distinct value is read once (a dictionary entry of a text column, a number of a
/// numeric one), so a long log costs one lookup per row.
pub fn binary_column(ds: &Dataset, column: &str, allow_missing: bool) -> Result<Vec<Option<bool>>> {
    let bad = |i: usize, s: &str| {
        EngineError::cell(
            &ds.path,
            column,
            i + 1,
            format!("'{s}' is not a binary label (use 0/1 or true/false)"),
        )
    };
    let missing = |i: usize| EngineError::cell(&ds.path, column, i + 1, "missing value");
    match columns::read(ds, column)? {
        Raw::Numeric { values, .. } => {
            let mut seen: HashMap<u64, Option<bool>> = HashMap::new();
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    if v.is_nan() {
                        return if allow_missing {
                            Ok(None)
                        } else {
                            Err(missing(i))
                        };
                    }
                    let b = *seen
                        .entry(v.to_bits())
                        .or_insert_with(|| binary_label(&label_of_number(v)));
                    b.map(Some).ok_or_else(|| bad(i, &label_of_number(v)))
                })
                .collect()
        }
        Raw::Text { values } => {
            let parsed: Vec<Option<bool>> = values.dict.iter().map(|s| binary_label(s)).collect();
            values
                .codes
                .iter()
                .enumerate()
                .map(|(i, &c)| match parsed.get(c as usize) {
                    None if allow_missing => Ok(None),
                    None => Err(missing(i)),
                    Some(Some(b)) => Ok(Some(*b)),
                    Some(None) => Err(bad(i, values.get(i).unwrap_or_default())),
                })
                .collect()
        }
    }
}

/// Labels of the analysis rows from a separate file joined by id: the label text per row,
/// `None` where the id has no label (yet). Duplicate ids in the label file, or no id joining
/// at all, are errors.
pub fn join_labels(
    analysis: &Dataset,
    targets: &Dataset,
    id: &str,
    target: &str,
) -> Result<(Vec<Option<String>>, usize)> {
    for (ds, col) in [(analysis, id), (targets, id), (targets, target)] {
        if !ds.has_column(col) {
            return Err(EngineError::column(
                &ds.path,
                col,
                format!(
                    "no such column; the file has: {}",
                    ds.column_names().join(", ")
                ),
            ));
        }
    }
    let ids = labels(targets, id)?;
    let ys = labels(targets, target)?;
    let mut map: HashMap<String, Option<String>> = HashMap::with_capacity(ids.len());
    for (i, (k, y)) in ids.into_iter().zip(ys).enumerate() {
        let Some(k) = k else {
            return Err(EngineError::cell(&targets.path, id, i + 1, "missing id"));
        };
        if map.insert(k.clone(), y).is_some() {
            return Err(EngineError::cell(
                &targets.path,
                id,
                i + 1,
                format!("id '{k}' appears twice; each id needs one label"),
            ));
        }
    }
    let log_ids = labels(analysis, id)?;
    let mut joined = 0usize;
    let out: Vec<Option<String>> = log_ids
        .iter()
        .map(|k| {
            let v = k.as_ref().and_then(|k| map.get(k)).cloned().flatten();
            if k.as_ref().is_some_and(|k| map.contains_key(k)) {
                joined += 1;
            }
            v
        })
        .collect();
    if joined == 0 {
        return Err(EngineError::column(
            &targets.path,
            id,
            format!(
                "no id joins the analysis log {} (column '{id}'): the label file is for other rows",
                analysis.path.display()
            ),
        ));
    }
    Ok((out, analysis.rows() - joined))
}

/// Scores of a model on the logged features: binary → the positive-class probability,
/// multiclass → one column per class. Missing float inputs reach the model as NaN; a row it
/// returns no finite score for is an error (rows must align with the log).
pub fn model_scores(
    model: &Model,
    ds: &Dataset,
    features: Option<&[String]>,
    progress: &Progress,
    stage: (f32, f32),
) -> Result<(Vec<String>, Vec<f64>)> {
    let plan = plan_inputs(&model.info, features)?;
    // Rows must align with the log: a row the model cannot score is an error.
    let p = crate::engine::scored::score(
        model,
        ds,
        &plan,
        None,
        InvalidRows::Error,
        &InferOptions::default(),
        &progress.stage(stage.0, stage.1),
    )?
    .predictions;
    match p {
        Predictions::Regression { .. } => Err(EngineError::usage(format!(
            "{}: the model is a regressor; monitoring estimates classifier performance",
            model.info.path.display()
        ))),
        Predictions::Classification { classes, proba } => {
            Ok((classes, proba.iter().map(|&v| f64::from(v)).collect()))
        }
    }
}

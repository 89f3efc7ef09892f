//! The one model-run step behind `evaluate`, fairness, drift's prediction column, monitor's
//! `--model` scores and `--drop-invalid` in compare / explain / importance / PDP / robustness:
//! prepare (missing float inputs reach the model as NaN, missing text as "", see
//! `data::extract`) → predict → a row whose *output* is NaN or infinite is an error naming the
//! file's 1-based data row and its missing inputs, or is dropped under `--drop-invalid`.

use crate::engine::Warning;
use polars::prelude::*;

use super::data::extract::{prepare, InvalidRows, RowBook, TargetData, TargetKind};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::model::{predict, InferOptions, InputPlan, Model, Predictions};
use super::progress::Stage;

/// The model's outputs for the rows kept, with their target and file rows.
#[derive(Debug, Clone)]
pub struct Scored {
    pub predictions: Predictions,
    pub target: Option<TargetData>,
    /// Rows kept and dropped (`--drop-invalid`: invalid inputs/target, then unusable outputs).
    pub book: RowBook,
}

impl std::ops::Deref for Scored {
    type Target = RowBook;
    fn deref(&self) -> &RowBook {
        &self.book
    }
}

impl std::ops::DerefMut for Scored {
    fn deref_mut(&mut self) -> &mut RowBook {
        &mut self.book
    }
}

impl Scored {
    /// The user-facing notes: rows dropped (of `total` file rows) and missing values passed.
    pub fn warnings(&self, total: usize) -> Vec<Warning> {
        let mut out = Vec::new();
        if self.dropped > 0 {
            out.push(Warning::rows_left_out(format!(
                "dropped {} of {total} rows with invalid values or outputs (e.g. {})",
                self.dropped,
                self.drop_examples.join("; ")
            )));
        }
        if let Some(note) = missing_note(&self.missing_passed) {
            out.push(Warning::data(note));
        }
        out
    }
}

/// "missing values reached the model (as NaN; empty text for text inputs): 'age' in 12 rows".
pub fn missing_note(passed: &[(String, usize)]) -> Option<String> {
    if passed.is_empty() {
        return None;
    }
    let list: Vec<String> = passed
        .iter()
        .map(|(c, k)| format!("'{c}' in {k} row{}", if *k == 1 { "" } else { "s" }))
        .collect();
    Some(format!(
        "missing values were passed to the model (NaN for numbers, empty text for text inputs): {}",
        list.join(", ")
    ))
}

/// Prepares, predicts and checks the outputs (see the module docs).
#[allow(clippy::too_many_arguments)]
pub fn score(
    model: &Model,
    ds: &Dataset,
    plan: &InputPlan,
    target: Option<(&str, TargetKind)>,
    policy: InvalidRows,
    infer: &InferOptions,
    progress: &Stage<'_>,
) -> Result<Scored> {
    let prepared = prepare(ds, plan, target, policy)?;
    progress.check()?;
    let predictions = predict(model, &prepared.inputs, infer, progress)?;
    let mut scored = Scored {
        predictions,
        target: prepared.target,
        book: prepared.book,
    };
    check_outputs(&mut scored, ds, plan, policy)?;
    Ok(scored)
}

/// Positions (kept-row indices) whose output is NaN or infinite, with the first bad value.
pub(crate) fn bad_outputs(p: &Predictions) -> Vec<(usize, f32)> {
    match p {
        Predictions::Classification { classes, proba } => {
            let k = classes.len().max(1);
            proba
                .chunks(k)
                .enumerate()
                .filter_map(|(i, row)| row.iter().find(|v| !v.is_finite()).map(|&v| (i, v)))
                .collect()
        }
        Predictions::Regression { values } => values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_finite())
            .map(|(i, &v)| (i, v))
            .collect(),
    }
}

/// Model-input columns of 0-based file row `row` that are missing (null, NaN or empty text).
pub fn missing_in_row(ds: &Dataset, plan: &InputPlan, row: usize) -> Vec<String> {
    plan.columns()
        .into_iter()
        .filter(|c| {
            ds.df
                .column(c)
                .ok()
                .and_then(|col| col.get(row).ok())
                .is_some_and(|v| match v {
                    AnyValue::Null => true,
                    AnyValue::Float64(x) => x.is_nan(),
                    AnyValue::Float32(x) => x.is_nan(),
                    AnyValue::String(s) => blank_or_nan(s),
                    AnyValue::StringOwned(s) => blank_or_nan(&s),
                    _ => false,
                })
        })
        .collect()
}

fn blank_or_nan(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || s.parse::<f64>().is_ok_and(f64::is_nan)
}

pub(crate) fn describe(value: f32, missing: &[String]) -> String {
    let what = if value.is_nan() {
        "NaN"
    } else {
        "an infinite value"
    };
    if missing.is_empty() {
        format!("the model returned {what} for this row")
    } else {
        let list: Vec<String> = missing.iter().map(|c| format!("'{c}'")).collect();
        format!(
            "the model returned {what} for this row (its missing input{} {} reached the model as NaN or empty text)",
            if missing.len() == 1 { "" } else { "s" },
            list.join(", ")
        )
    }
}

/// Error on the first row whose output is NaN or infinite; `file_row(i)` is the 1-based file
/// row of prediction row `i` (for engines that run the model themselves).
pub fn require_finite(
    p: &Predictions,
    ds: &Dataset,
    plan: &InputPlan,
    file_row: impl Fn(usize) -> usize,
) -> Result<()> {
    let bad = bad_outputs(p);
    let Some(&(first, value)) = bad.first() else {
        return Ok(());
    };
    let row = file_row(first);
    Err(EngineError::row(
        &ds.path,
        row,
        format!(
            "{}; fix the data or pass --drop-invalid to drop rows the model cannot score",
            describe(value, &missing_in_row(ds, plan, row - 1))
        ),
    ))
}

/// The output rule: error on the first unusable output, or drop every such row.
fn check_outputs(
    s: &mut Scored,
    ds: &Dataset,
    plan: &InputPlan,
    policy: InvalidRows,
) -> Result<()> {
    let bad = bad_outputs(&s.predictions);
    let Some(&(first, value)) = bad.first() else {
        return Ok(());
    };
    if policy == InvalidRows::Error {
        let row = s.file_row(first);
        let more = if bad.len() > 1 {
            format!(" ({} rows affected)", bad.len())
        } else {
            String::new()
        };
        return Err(EngineError::row(
            &ds.path,
            row,
            format!(
                "{}{more}; fix the data or pass --drop-invalid to drop rows the model cannot score",
                describe(value, &missing_in_row(ds, plan, row - 1))
            ),
        ));
    }
    let mut drop = vec![false; s.rows];
    for &(i, value) in &bad {
        drop[i] = true;
        let row = s.file_row(i);
        let missing = missing_in_row(ds, plan, row - 1);
        for (c, k) in &mut s.missing_passed {
            if missing.contains(c) {
                *k -= 1;
            }
        }
        if s.drop_examples.len() < 5 {
            s.drop_examples
                .push(format!("row {row}: {}", describe(value, &missing)));
        }
    }
    s.missing_passed.retain(|(_, k)| *k > 0);
    let keep = |i: usize| !drop[i];
    let kept: Vec<u32> = (0..s.rows)
        .filter(|&i| keep(i))
        .map(|i| (s.file_row(i) - 1) as u32)
        .collect();
    s.predictions = match &s.predictions {
        Predictions::Classification { classes, proba } => {
            let k = classes.len().max(1);
            Predictions::Classification {
                classes: classes.clone(),
                proba: proba
                    .chunks(k)
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .flat_map(|(_, r)| r.iter().copied())
                    .collect(),
            }
        }
        Predictions::Regression { values } => Predictions::Regression {
            values: filter(values, &drop),
        },
    };
    s.target = s.target.take().map(|t| match t {
        TargetData::Labels(v) => TargetData::Labels(filter(&v, &drop)),
        TargetData::Values(v) => TargetData::Values(filter(&v, &drop)),
    });
    s.dropped += bad.len();
    s.rows = kept.len();
    s.kept = Some(kept);
    if s.rows == 0 {
        return Err(EngineError::file(
            &ds.path,
            format!(
                "no rows left: the model cannot score any row (e.g. {})",
                s.drop_examples.join("; ")
            ),
        ));
    }
    Ok(())
}

fn filter<T: Clone>(v: &[T], drop: &[bool]) -> Vec<T> {
    v.iter()
        .zip(drop)
        .filter(|(_, d)| !**d)
        .map(|(x, _)| x.clone())
        .collect()
}

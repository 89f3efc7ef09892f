//! `--drop-invalid` where rows must stay aligned with the data file: the rows a set of
//! input plans (and the target) can use, learnt from `prepare` itself (the one row rule), run
//! once over the union of the plans' columns plus a row-number column, and, with
//! [`valid_scored_rows`], only those every model returns a finite output for. Used by
//! `compare` (a row invalid for ANY model is dropped for all, so the pairs stay paired) and
//! `explain` (explained rows and background keep their file row numbers).

use polars::prelude::*;

use super::data::extract::{prepare, ColumnData, InputData, InvalidRows, TargetKind};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::model::{predict, Elem, InferOptions, InputPlan, Model};
use super::progress::Progress;
use super::scored::{bad_outputs, describe, missing_in_row};

/// The dataset restricted to the rows every plan can use.
pub struct ValidRows {
    pub ds: Dataset,
    /// 0-based file rows kept, ascending.
    pub kept: Vec<u32>,
    pub dropped: usize,
    /// Up to five examples, e.g. "row 12, column 'age': missing value" (1-based file rows).
    pub examples: Vec<String>,
}

impl ValidRows {
    /// The positions, in the restricted frame, of the kept rows among file rows `rows`
    /// (0-based, half-open); an error naming `path` when none is kept (`what` names the
    /// values that were refused, e.g. "input").
    pub fn positions_of(
        &self,
        rows: &std::ops::Range<usize>,
        path: &std::path::Path,
        what: &str,
    ) -> Result<std::ops::Range<usize>> {
        let lo = self.kept.partition_point(|&k| (k as usize) < rows.start);
        let hi = self.kept.partition_point(|&k| (k as usize) < rows.end);
        if lo == hi {
            return Err(EngineError::file(
                path,
                format!(
                    "every row of {}..{} has a missing or non-finite {what} (e.g. {})",
                    rows.start,
                    rows.end,
                    self.examples.join("; ")
                ),
            ));
        }
        Ok(lo..hi)
    }
}

const ROW_COLUMN: &str = "__assay_row_number__";

/// How many values an element type refuses (each refuses what the ones before refuse).
fn strictness(e: Elem) -> u8 {
    match e {
        Elem::String => 0,
        Elem::Double => 1,
        Elem::Float => 2,
        Elem::Bool | Elem::Int64 => 3,
        Elem::Int32 => 4,
    }
}

/// [`valid_rows`], then also without the rows for which any of the models returns a NaN or
/// infinite output (each model runs once on the rows left).
pub fn valid_scored_rows(
    ds: &Dataset,
    models: &[(&Model, &InputPlan)],
    target: Option<(&str, TargetKind)>,
    infer: &InferOptions,
    progress: &Progress,
) -> Result<Option<ValidRows>> {
    let plans: Vec<InputPlan> = models.iter().map(|(_, p)| (*p).clone()).collect();
    let first = valid_rows(ds, &plans, target)?;
    let base = first.as_ref().map_or(ds, |v| &v.ds);
    let mut drop = vec![false; base.rows()];
    let mut examples = Vec::new();
    for (model, plan) in models {
        let prepared = prepare(base, plan, None, InvalidRows::Error)?;
        let p = predict(model, &prepared.inputs, infer, &progress.stage(0.0, 0.05))?;
        for (i, value) in bad_outputs(&p) {
            if !drop[i] && examples.len() < 5 {
                let row = first.as_ref().map_or(i, |v| v.kept[i] as usize);
                let missing = missing_in_row(base, plan, i);
                examples.push(format!("row {}: {}", row + 1, describe(value, &missing)));
            }
            drop[i] = true;
        }
    }
    let bad = drop.iter().filter(|d| **d).count();
    if bad == 0 {
        return Ok(first);
    }
    let (mut kept, mut dropped, mut all_examples) = match first {
        Some(v) => (v.kept, v.dropped, v.examples),
        None => ((0..ds.rows() as u32).collect(), 0, Vec::new()),
    };
    let positions: Vec<u32> = (0..drop.len() as u32)
        .filter(|&i| !drop[i as usize])
        .collect();
    kept = positions.iter().map(|&i| kept[i as usize]).collect();
    dropped += bad;
    all_examples.extend(examples);
    all_examples.truncate(5);
    if kept.is_empty() {
        return Err(EngineError::file(
            &ds.path,
            format!(
                "no rows left: every row has an invalid value or output (e.g. {})",
                all_examples.join("; ")
            ),
        ));
    }
    let idx = IdxCa::from_vec("idx".into(), kept.clone());
    let restricted = Dataset {
        df: ds
            .df
            .take(&idx)
            .map_err(|e| EngineError::internal(e.to_string()))?,
        ..ds.clone()
    };
    Ok(Some(ValidRows {
        ds: restricted,
        kept,
        dropped,
        examples: all_examples,
    }))
}

/// `None` when no row has to be dropped.
pub fn valid_rows(
    ds: &Dataset,
    plans: &[InputPlan],
    target: Option<(&str, TargetKind)>,
) -> Result<Option<ValidRows>> {
    let internal = |e: PolarsError| EngineError::internal(e.to_string());
    // A column shared by plans is checked with the strictest element type among them (an
    // integer input cannot hold a missing value, a float32 one a huge value).
    let mut inputs: Vec<(String, Elem)> = Vec::new();
    for plan in plans {
        let cols: Vec<(String, Elem)> = match plan {
            InputPlan::Matrix {
                features, double, ..
            } => features
                .iter()
                .map(|f| (f.clone(), if *double { Elem::Double } else { Elem::Float }))
                .collect(),
            InputPlan::PerColumn { inputs } => inputs.clone(),
        };
        for (c, elem) in cols {
            match inputs.iter_mut().find(|(n, _)| *n == c) {
                Some(entry) => {
                    if strictness(elem) > strictness(entry.1) {
                        entry.1 = elem;
                    }
                }
                None => inputs.push((c, elem)),
            }
        }
    }
    if ds.has_column(ROW_COLUMN) {
        return Err(EngineError::column(
            &ds.path,
            ROW_COLUMN,
            "this column name is reserved by Assay",
        ));
    }
    let n = ds.rows();
    let numbers: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut df = ds.df.clone();
    df.with_column(Column::new(ROW_COLUMN.into(), numbers))
        .map_err(internal)?;
    let numbered = Dataset { df, ..ds.clone() };
    inputs.push((ROW_COLUMN.to_string(), Elem::Double));
    let prepared = prepare(
        &numbered,
        &InputPlan::PerColumn { inputs },
        target,
        InvalidRows::Drop,
    )?;
    drop(numbered);
    if prepared.dropped == 0 {
        return Ok(None);
    }
    let lost = || EngineError::internal("row numbers lost in prepare");
    let kept: Vec<u32> = match &prepared.inputs {
        InputData::Columns(cols) => match cols.iter().find(|(c, _)| c == ROW_COLUMN) {
            Some((_, ColumnData::F64(v))) => v.iter().map(|&x| x as u32).collect(),
            _ => return Err(lost()),
        },
        _ => return Err(lost()),
    };
    if kept.is_empty() {
        return Err(EngineError::file(
            &ds.path,
            format!(
                "every row has a missing or non-finite value (e.g. {})",
                prepared.drop_examples.join("; ")
            ),
        ));
    }
    let idx = IdxCa::from_vec("idx".into(), kept.clone());
    let restricted = Dataset {
        df: ds.df.take(&idx).map_err(internal)?,
        ..ds.clone()
    };
    Ok(Some(ValidRows {
        ds: restricted,
        kept,
        dropped: prepared.dropped,
        examples: prepared.book.drop_examples,
    }))
}

//! `--drop-invalid` where rows must stay aligned with the data file: the rows a set of
//! input plans (and the target) can use, learnt from `prepare` itself (the one row rule:
//! missing, NaN or infinite values), run once over the union of the plans' columns plus a
//! row-number column. Used by `compare` (a row invalid for ANY model is dropped for all, so
//! the pairs stay paired) and `explain` (explained rows and background keep their file row
//! numbers).

use polars::prelude::*;

use super::data::extract::{prepare, ColumnData, InputData, InvalidRows, TargetKind};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::model::{Elem, InputPlan};

/// The dataset restricted to the rows every plan can use.
pub struct ValidRows {
    pub ds: Dataset,
    /// 0-based file rows kept, ascending.
    pub kept: Vec<u32>,
    pub dropped: usize,
    /// Up to five examples, e.g. "row 12, column 'age': missing value" (1-based file rows).
    pub examples: Vec<String>,
}

const ROW_COLUMN: &str = "__assay_row_number__";

/// `None` when no row has to be dropped.
pub fn valid_rows(
    ds: &Dataset,
    plans: &[InputPlan],
    target: Option<(&str, TargetKind)>,
) -> Result<Option<ValidRows>> {
    let internal = |e: PolarsError| EngineError::internal(e.to_string());
    // A column numeric for any plan is checked as numeric (missing, NaN and infinite values).
    let mut inputs: Vec<(String, Elem)> = Vec::new();
    for plan in plans {
        let cols: Vec<(String, bool)> = match plan {
            InputPlan::Matrix { features, .. } => {
                features.iter().map(|f| (f.clone(), true)).collect()
            }
            InputPlan::PerColumn { inputs } => inputs
                .iter()
                .map(|(c, e)| (c.clone(), e.is_numeric()))
                .collect(),
        };
        for (c, numeric) in cols {
            match inputs.iter_mut().find(|(n, _)| *n == c) {
                Some(entry) if numeric => entry.1 = Elem::Double,
                Some(_) => {}
                None => inputs.push((c, if numeric { Elem::Double } else { Elem::String })),
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
        examples: prepared.drop_examples,
    }))
}

//! Reading dataset columns for drift and quality, and inferring their kind.
//!
//! Kind inference follows Evidently 0.7's `infer_column_type`, applied to the reference as
//! pandas would type it (an integer column with missing values is float): floats are numeric;
//! integers are categorical when they have ≤ 10 distinct values, else
//! numeric; booleans are categorical; text is categorical unless more than half of its
//! non-missing values are distinct (Evidently calls that "text"; Assay skips such columns —
//! identifiers, free text, timestamps — unless the user names them as categorical).

use polars::prelude::*;
use serde::Serialize;

use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};

/// Evidently's `INTEGER_CARDINALITY_LIMIT`.
pub const INTEGER_CARDINALITY_LIMIT: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Numeric,
    Categorical,
}

/// One column's values, row-aligned with the file.
#[derive(Debug, Clone)]
pub enum Raw {
    /// Missing values are NaN; `integer` when the file's type is an integer type.
    Numeric { values: Vec<f64>, integer: bool },
    /// Booleans print as `true`/`false`; empty or whitespace-only text is missing.
    Text { values: Vec<Option<String>> },
}

impl Raw {
    pub fn len(&self) -> usize {
        match self {
            Raw::Numeric { values, .. } => values.len(),
            Raw::Text { values } => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows (0-based) whose value is missing: null, NaN or empty text.
    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Raw::Numeric { values, .. } => values[row].is_nan(),
            Raw::Text { values } => values[row].is_none(),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Raw::Numeric { integer: true, .. } => "integer",
            Raw::Numeric { integer: false, .. } => "float",
            Raw::Text { .. } => "text",
        }
    }

    /// Value of a row as text, for row listings.
    pub fn display(&self, row: usize) -> String {
        match self {
            Raw::Numeric { values, .. } => {
                let v = values[row];
                if v.is_nan() {
                    String::new()
                } else {
                    crate::engine::data::extract::label_of_number(v)
                }
            }
            Raw::Text { values } => values[row].clone().unwrap_or_default(),
        }
    }
}

/// Reads a column (numbers, booleans, text; dates and other types are read as text).
pub fn read(ds: &Dataset, name: &str) -> Result<Raw> {
    let col = ds.df.column(name).map_err(|_| {
        EngineError::column(
            &ds.path,
            name,
            format!(
                "no such column; the file has: {}",
                ds.column_names().join(", ")
            ),
        )
    })?;
    let internal = |e: PolarsError| EngineError::internal(format!("column '{name}': {e}"));
    let dt = col.dtype().clone();
    if dt.is_primitive_numeric() {
        let cast = col.cast(&DataType::Float64).map_err(internal)?;
        let ca = cast.f64().map_err(internal)?;
        let values = ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect();
        // An integer column with missing values is float to pandas (and so to Evidently).
        return Ok(Raw::Numeric {
            values,
            integer: dt.is_integer() && col.null_count() == 0,
        });
    }
    let cast = if matches!(dt, DataType::String) {
        col.clone()
    } else {
        col.cast(&DataType::String).map_err(|e| {
            EngineError::column(&ds.path, name, format!("cannot be read as text: {e}"))
        })?
    };
    let ca = cast.str().map_err(internal)?;
    let values = ca
        .iter()
        .map(|v| {
            v.map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .collect();
    Ok(Raw::Text { values })
}

/// Text that should be numbers: parses every non-missing value; `Err(row)` (0-based) names
/// the first value that is not a number.
pub fn text_to_numeric(values: &[Option<String>]) -> std::result::Result<Vec<f64>, usize> {
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        match v {
            None => out.push(f64::NAN),
            Some(s) => match s.parse::<f64>() {
                Ok(x) => out.push(x),
                Err(_) => return Err(i),
            },
        }
    }
    Ok(out)
}

/// What inference decided for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inferred {
    Kind(ColumnKind),
    /// More than half of the values are distinct text (Evidently's "text" type).
    Text,
}

pub fn infer_kind(raw: &Raw) -> Inferred {
    match raw {
        Raw::Numeric {
            values,
            integer: false,
        } => {
            let _ = values;
            Inferred::Kind(ColumnKind::Numeric)
        }
        Raw::Numeric {
            values,
            integer: true,
        } => {
            let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
            v.sort_unstable_by(f64::total_cmp);
            v.dedup();
            if v.len() <= INTEGER_CARDINALITY_LIMIT {
                Inferred::Kind(ColumnKind::Categorical)
            } else {
                Inferred::Kind(ColumnKind::Numeric)
            }
        }
        Raw::Text { values } => {
            let mut seen = std::collections::HashSet::new();
            let mut count = 0usize;
            for s in values.iter().flatten() {
                count += 1;
                seen.insert(s.as_str());
            }
            let is_bool = seen.iter().all(|s| *s == "true" || *s == "false");
            if !is_bool && seen.len() as f64 > count as f64 * 0.5 {
                Inferred::Text
            } else {
                Inferred::Kind(ColumnKind::Categorical)
            }
        }
    }
}

/// Finite values of a numeric column, sorted ascending (NaN and ±inf dropped, as Evidently
/// does before every test).
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

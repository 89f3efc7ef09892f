//! Turning dataset columns into model inputs and targets, strictly: text in a numeric column,
//! a missing column, infinite values and values the input type cannot hold are errors naming
//! file, column and 1-based data row, unless the caller asked to drop such rows.
//!
//! Missing values (null, empty, NaN) reach the model: a float/double input gets NaN (an
//! imputer, LightGBM or XGBoost decides what it means), a text input the empty string (the
//! ONNX convention for a missing string, e.g. skl2onnx's string `SimpleImputer`). Integer and
//! boolean inputs cannot hold a missing value, and a missing target is never guessed: both
//! stay invalid. Whether the model's *output* is usable is checked after inference
//! (`engine::scored`).

use polars::prelude::*;

use super::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{Elem, InputPlan};

/// What to do with rows whose features or target are missing, NaN or infinite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidRows {
    /// Fail, naming the first offending cell.
    #[default]
    Error,
    /// Drop those rows and report how many.
    Drop,
}

/// One model input column, ready for a `[N, 1]` tensor.
#[derive(Debug, Clone)]
pub enum ColumnData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    Bool(Vec<bool>),
    Str(Vec<String>),
}

/// Model inputs for all kept rows; the only copy of the dataset made for inference.
#[derive(Debug, Clone)]
pub enum InputData {
    /// Row-major `[rows, width]`.
    MatrixF32 {
        input: String,
        width: usize,
        values: Vec<f32>,
    },
    MatrixF64 {
        input: String,
        width: usize,
        values: Vec<f64>,
    },
    Columns(Vec<(String, ColumnData)>),
}

/// The target column as the task needs it.
#[derive(Debug, Clone)]
pub enum TargetData {
    /// Class labels as text (integers printed without a decimal point).
    Labels(Vec<String>),
    Values(Vec<f64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Labels,
    Values,
}

/// Which file rows a model run kept and why others were left out: shared by [`Prepared`]
/// and the scored rows built from it (`engine::scored::Scored`), both of which deref to it.
#[derive(Debug, Clone, Default)]
pub struct RowBook {
    /// Rows kept.
    pub rows: usize,
    /// Rows dropped under [`InvalidRows::Drop`] (invalid inputs/target, then outputs).
    pub dropped: usize,
    /// Example reasons for dropped rows (at most 5), e.g. "row 12, column 'age': missing".
    pub drop_examples: Vec<String>,
    /// 0-based file rows kept, ascending (`None`: every row, in order).
    pub kept: Option<Vec<u32>>,
    /// Input columns with missing values passed to the model (as NaN or empty text), with the
    /// number of kept rows affected, in input order.
    pub missing_passed: Vec<(String, usize)>,
}

/// Inputs and target for the rows kept.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub inputs: InputData,
    pub target: Option<TargetData>,
    pub book: RowBook,
}

impl std::ops::Deref for Prepared {
    type Target = RowBook;
    fn deref(&self) -> &RowBook {
        &self.book
    }
}

impl RowBook {
    /// 1-based file row of kept row `i`.
    pub fn file_row(&self, i: usize) -> usize {
        self.kept
            .as_ref()
            .and_then(|k| k.get(i))
            .map_or(i, |&r| r as usize)
            + 1
    }
}

#[derive(Clone, Copy)]
enum Problem {
    Missing,
    NaN,
    Inf,
    /// Finite, but outside the range of the model input's type (e.g. `1e39` in float32).
    OutOfRange(&'static str),
}

impl Problem {
    fn text(self) -> &'static str {
        match self {
            Problem::Missing => "missing value",
            Problem::NaN => "NaN value",
            Problem::Inf => "infinite value",
            Problem::OutOfRange(t) => t,
        }
    }
}

/// [`classify`] for a model input, plus values that do not fit its element type. A missing
/// value (null or NaN) is no problem for a float/double input: it reaches the model as NaN.
fn classify_for(v: Option<f64>, elem: Elem) -> Option<Problem> {
    let floating = matches!(elem, Elem::Float | Elem::Double);
    if floating && v.is_none_or(f64::is_nan) {
        return None;
    }
    classify(v).or_else(|| {
        let x = v?;
        let (fits, text) = match elem {
            Elem::Float => (
                x.abs() <= f64::from(f32::MAX),
                "value too large for the model's float32 input (largest 3.4e38)",
            ),
            Elem::Int32 => (
                (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&x),
                "value outside the model's int32 input range",
            ),
            Elem::Int64 => (
                (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&x),
                "value outside the model's int64 input range",
            ),
            _ => (true, ""),
        };
        (!fits).then_some(Problem::OutOfRange(text))
    })
}

fn classify(v: Option<f64>) -> Option<Problem> {
    match v {
        None => Some(Problem::Missing),
        Some(x) if x.is_nan() => Some(Problem::NaN),
        Some(x) if x.is_infinite() => Some(Problem::Inf),
        Some(_) => None,
    }
}

/// The column `name` of `ds`, or an error naming the file, the column and the columns it has.
pub(crate) fn column<'a>(ds: &'a Dataset, name: &str) -> Result<&'a Column> {
    ds.df.column(name).map_err(|_| {
        EngineError::column(
            &ds.path,
            name,
            format!(
                "no such column; the file has: {}",
                ds.column_names().join(", ")
            ),
        )
    })
}

/// A numeric column cast to 64-bit floats.
pub(crate) fn floats(col: &Column) -> Result<Float64Chunked> {
    let internal = |e: PolarsError| EngineError::internal(e.to_string());
    Ok(col
        .cast(&DataType::Float64)
        .map_err(internal)?
        .f64()
        .map_err(internal)?
        .clone())
}

/// A text column's values (an internal error for another type: callers match on it first).
fn strings(col: &Column) -> Result<&StringChunked> {
    col.str().map_err(|e| EngineError::internal(e.to_string()))
}

/// Calls `f(row, value)` for every row of a column read as numbers. Text that does not parse
/// is an error naming the row.
fn for_each_f64(ds: &Dataset, name: &str, mut f: impl FnMut(usize, Option<f64>)) -> Result<()> {
    let col = column(ds, name)?;
    match col.dtype() {
        DataType::String => {
            for (i, v) in strings(col)?.iter().enumerate() {
                let parsed = match v.map(str::trim) {
                    None | Some("") => None,
                    Some(s) => match s.parse::<f64>() {
                        Ok(x) => Some(x),
                        Err(_) => {
                            return Err(EngineError::cell(
                                &ds.path,
                                name,
                                i + 1,
                                format!(
                                "'{s}' is not a number, but the model needs numbers in this column"
                            ),
                            ))
                        }
                    },
                };
                f(i, parsed);
            }
        }
        dt if super::is_numeric(dt) => {
            let ca = floats(col)?;
            for (i, v) in ca.iter().enumerate() {
                f(i, v);
            }
        }
        dt => {
            return Err(EngineError::column(
                &ds.path,
                name,
                format!("has type {dt}, but the model needs numbers in this column"),
            ))
        }
    }
    Ok(())
}

/// Calls `f(row, value)` with every value of a column as text (`None` when missing).
fn for_each_text(ds: &Dataset, name: &str, mut f: impl FnMut(usize, Option<String>)) -> Result<()> {
    let col = column(ds, name)?;
    match col.dtype() {
        DataType::String => {
            for (i, v) in strings(col)?.iter().enumerate() {
                f(i, v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
            }
        }
        DataType::Boolean => {
            let ca = col
                .bool()
                .map_err(|e| EngineError::internal(e.to_string()))?;
            for (i, v) in ca.iter().enumerate() {
                f(i, v.map(|b| b.to_string()));
            }
        }
        dt if dt.is_primitive_numeric() => {
            let is_float = dt.is_float();
            let ca = floats(col)?;
            // A label column repeats a few values: the text of the last one is reused.
            let mut last: Option<(u64, String)> = None;
            for (i, v) in ca.iter().enumerate() {
                let text = v
                    .filter(|x| !(is_float && x.is_nan()))
                    .map(|x| match &last {
                        Some((bits, text)) if *bits == x.to_bits() => text.clone(),
                        _ => {
                            let text = label_of_number(x);
                            last = Some((x.to_bits(), text.clone()));
                            text
                        }
                    });
                f(i, text);
            }
        }
        _ => {
            let cast = col.cast(&DataType::String).map_err(|e| {
                EngineError::column(&ds.path, name, format!("cannot be read as text: {e}"))
            })?;
            let ca = cast
                .str()
                .map_err(|e| EngineError::internal(e.to_string()))?;
            for (i, v) in ca.iter().enumerate() {
                f(i, v.map(str::to_string));
            }
        }
    }
    Ok(())
}

/// Integral numbers print without a decimal point so `1.0` in a CSV matches class `1`.
pub fn label_of_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Checks every column the model and target need, applies the invalid-row policy and builds
/// the model inputs and target for the rows kept.
pub fn prepare(
    ds: &Dataset,
    plan: &InputPlan,
    target: Option<(&str, TargetKind)>,
    policy: InvalidRows,
) -> Result<Prepared> {
    let path = &ds.path;
    let mut needed = plan.columns();
    if let Some((t, _)) = target {
        needed.push(t.to_string());
    }
    let missing: Vec<&str> = needed
        .iter()
        .map(String::as_str)
        .filter(|c| !ds.has_column(c))
        .collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|c| format!("'{c}'")).collect();
        return Err(EngineError::file(
            path,
            format!(
                "missing column{} {} needed by the model{}; the file has: {}",
                if missing.len() > 1 { "s" } else { "" },
                list.join(", "),
                if target.is_some_and(|(t, _)| missing.contains(&t)) {
                    " or as the target"
                } else {
                    ""
                },
                ds.column_names().join(", ")
            ),
        ));
    }

    let n = ds.rows();
    // First problem per row: (column, problem).
    let mut bad: Vec<Option<(usize, Problem)>> = vec![None; n];
    let mut mark = |row: usize, col: usize, p: Option<Problem>| {
        if let Some(p) = p {
            if bad[row].is_none() {
                bad[row] = Some((col, p));
            }
        }
    };
    let numeric_cols: Vec<(usize, &str, Elem)> = match plan {
        InputPlan::Matrix {
            features, double, ..
        } => features
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let elem = if *double { Elem::Double } else { Elem::Float };
                (i, c.as_str(), elem)
            })
            .collect(),
        InputPlan::PerColumn { inputs } => inputs
            .iter()
            .enumerate()
            .map(|(i, (c, e))| (i, c.as_str(), *e))
            .collect(),
    };
    // Rows with a missing value passed to the model, per input column.
    let mut passed: Vec<Vec<bool>> = Vec::new();
    for &(ci, name, elem) in &numeric_cols {
        let mut miss = vec![false; n];
        if elem.is_numeric() {
            for_each_f64(ds, name, |row, v| {
                let p = classify_for(v, elem);
                miss[row] = p.is_none() && v.is_none_or(f64::is_nan);
                mark(row, ci, p)
            })?;
        } else {
            // Missing text reaches the model as "".
            for_each_text(ds, name, |row, v| miss[row] = v.is_none())?;
        }
        passed.push(miss);
    }
    let target_ci = numeric_cols.len();
    let mut names: Vec<&str> = numeric_cols.iter().map(|c| c.1).collect();
    if let Some((t, kind)) = target {
        names.push(t);
        match kind {
            TargetKind::Values => for_each_f64(ds, t, |row, v| mark(row, target_ci, classify(v)))?,
            TargetKind::Labels => for_each_text(ds, t, |row, v| {
                mark(row, target_ci, v.is_none().then_some(Problem::Missing))
            })?,
        }
    }

    let dropped = bad.iter().filter(|b| b.is_some()).count();
    let mut drop_examples = Vec::new();
    if dropped > 0 {
        let describe = |row: usize, (ci, p): (usize, Problem)| {
            (
                row + 1,
                names.get(ci).copied().unwrap_or("?").to_string(),
                p.text(),
            )
        };
        match policy {
            InvalidRows::Error => {
                let (row, col, text) = bad
                    .iter()
                    .enumerate()
                    .find_map(|(i, b)| b.map(|b| describe(i, b)))
                    .ok_or_else(|| EngineError::internal("inconsistent invalid-row count"))?;
                let more = if dropped > 1 {
                    format!(" ({dropped} rows affected)")
                } else {
                    String::new()
                };
                return Err(EngineError::cell(
                    path,
                    &col,
                    row,
                    format!("{text}{more}; fix the data or pass --drop-invalid to drop such rows"),
                ));
            }
            InvalidRows::Drop => {
                for (i, b) in bad.iter().enumerate() {
                    if let Some(b) = b {
                        let (row, col, text) = describe(i, *b);
                        drop_examples.push(format!("row {row}, column '{col}': {text}"));
                        if drop_examples.len() == 5 {
                            break;
                        }
                    }
                }
            }
        }
    }
    let rows = n - dropped;
    if rows == 0 {
        return Err(EngineError::file(
            path,
            "no rows left after dropping rows with missing or non-finite values",
        ));
    }
    let keep = |row: usize| bad[row].is_none();
    let kept = (dropped > 0).then(|| (0..n as u32).filter(|&r| keep(r as usize)).collect());
    let missing_passed = numeric_cols
        .iter()
        .zip(&passed)
        .map(|(c, miss)| {
            let count = (0..n).filter(|&r| miss[r] && keep(r)).count();
            (c.1.to_string(), count)
        })
        .filter(|(_, count)| *count > 0)
        .collect();

    let inputs = match plan {
        InputPlan::Matrix {
            input,
            features,
            double,
        } => {
            let width = features.len();
            if *double {
                let mut values = vec![0f64; rows * width];
                for (j, name) in features.iter().enumerate() {
                    let mut r = 0;
                    for_each_f64(ds, name, |row, v| {
                        if keep(row) {
                            values[r * width + j] = v.unwrap_or(f64::NAN);
                            r += 1;
                        }
                    })?;
                }
                InputData::MatrixF64 {
                    input: input.clone(),
                    width,
                    values,
                }
            } else {
                let mut values = vec![0f32; rows * width];
                for (j, name) in features.iter().enumerate() {
                    let mut r = 0;
                    for_each_f64(ds, name, |row, v| {
                        if keep(row) {
                            values[r * width + j] = v.unwrap_or(f64::NAN) as f32;
                            r += 1;
                        }
                    })?;
                }
                InputData::MatrixF32 {
                    input: input.clone(),
                    width,
                    values,
                }
            }
        }
        InputPlan::PerColumn { inputs } => {
            let mut out = Vec::with_capacity(inputs.len());
            for (name, elem) in inputs {
                let data = if elem.is_numeric() {
                    let mut vals = Vec::with_capacity(rows);
                    for_each_f64(ds, name, |row, v| {
                        if keep(row) {
                            vals.push(v.unwrap_or(f64::NAN));
                        }
                    })?;
                    numeric_column(ds, name, *elem, vals, kept.as_deref())?
                } else {
                    let mut vals = Vec::with_capacity(rows);
                    for_each_text(ds, name, |row, v| {
                        if keep(row) {
                            vals.push(v.unwrap_or_default());
                        }
                    })?;
                    ColumnData::Str(vals)
                };
                out.push((name.clone(), data));
            }
            InputData::Columns(out)
        }
    };

    let target = match target {
        None => None,
        Some((t, TargetKind::Values)) => {
            let mut vals = Vec::with_capacity(rows);
            for_each_f64(ds, t, |row, v| {
                if keep(row) {
                    vals.push(v.unwrap_or(f64::NAN));
                }
            })?;
            Some(TargetData::Values(vals))
        }
        Some((t, TargetKind::Labels)) => {
            let mut vals = Vec::with_capacity(rows);
            for_each_text(ds, t, |row, v| {
                if keep(row) {
                    vals.push(v.unwrap_or_default());
                }
            })?;
            Some(TargetData::Labels(vals))
        }
    };
    Ok(Prepared {
        inputs,
        target,
        book: RowBook {
            rows,
            dropped,
            drop_examples,
            kept,
            missing_passed,
        },
    })
}

fn numeric_column(
    ds: &Dataset,
    name: &str,
    elem: Elem,
    vals: Vec<f64>,
    kept: Option<&[u32]>,
) -> Result<ColumnData> {
    let integral = |kind: &str| {
        vals.iter()
            .position(|v| v.fract() != 0.0)
            .map_or(Ok(()), |i| {
                Err(EngineError::cell(
                    &ds.path,
                    name,
                    kept.and_then(|k| k.get(i)).map_or(i, |&r| r as usize) + 1,
                    format!(
                        "'{}' is not an integer, but the model input '{name}' is {kind}",
                        vals[i]
                    ),
                ))
            })
    };
    Ok(match elem {
        Elem::Float => ColumnData::F32(vals.iter().map(|&v| v as f32).collect()),
        Elem::Double => ColumnData::F64(vals),
        Elem::Int64 => {
            integral("int64")?;
            ColumnData::I64(vals.iter().map(|&v| v as i64).collect())
        }
        Elem::Int32 => {
            integral("int32")?;
            ColumnData::I32(vals.iter().map(|&v| v as i32).collect())
        }
        Elem::Bool => ColumnData::Bool(vals.iter().map(|&v| v != 0.0).collect()),
        Elem::String => ColumnData::Str(vals.iter().map(|&v| label_of_number(v)).collect()),
    })
}

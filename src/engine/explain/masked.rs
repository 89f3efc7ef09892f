//! The model seen through coalitions: for an explained row `x` and a mask `S` (true = the
//! feature comes from `x`), `E_b f(x_S, b_notS)` over the (weighted) background rows. Every
//! (row, mask) job becomes `n_bg` model rows; jobs are packed into large batches so one
//! `predict` call (multi-threaded inside) serves many coalitions and many rows at once.
//!
//! Also the small row/column operations on [`InputData`] the other explainers need (take rows,
//! permute a column, set a column to a value), so every method works on both input layouts:
//! one `[N, F]` matrix, or one `[N, 1]` tensor per column (text columns included: whole
//! values are swapped, never mixed).

use crate::engine::data::extract::{ColumnData, InputData};
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{predict, InferOptions, Model, Predictions};
use crate::engine::progress::Progress;

/// Model rows per `predict` call for `width` features: about 16 M input values (64 MB of
/// float32) at most, so each call is large enough that session creation and thread start-up
/// are negligible next to inference.
pub(crate) fn max_batch_rows(width: usize) -> usize {
    ((1usize << 24) / width.max(1)).clamp(1 << 16, 1 << 21)
}

/// Which scalar of the model's output is explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    /// Probability of class `index`.
    Class(usize),
    /// The regression value.
    Value,
}

/// Number of rows of `data`.
pub(crate) fn rows(data: &InputData) -> usize {
    data.rows()
}

/// Number of features (matrix columns or per-column inputs).
pub(crate) fn width(data: &InputData) -> usize {
    data.width()
}

/// Feature `j` of every row as a number (`None` for a text column).
pub(crate) fn column_f64(data: &InputData, j: usize) -> Option<Vec<f64>> {
    match data {
        InputData::MatrixF32 { width, values, .. } => Some(
            values
                .chunks_exact(*width)
                .map(|r| f64::from(r[j]))
                .collect(),
        ),
        InputData::MatrixF64 { width, values, .. } => {
            Some(values.chunks_exact(*width).map(|r| r[j]).collect())
        }
        InputData::Columns(cols) => match &cols.get(j)?.1 {
            ColumnData::F32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
            ColumnData::F64(v) => Some(v.clone()),
            ColumnData::I64(v) => Some(v.iter().map(|&x| x as f64).collect()),
            ColumnData::I32(v) => Some(v.iter().map(|&x| f64::from(x)).collect()),
            ColumnData::Bool(v) => Some(v.iter().map(|&x| f64::from(u8::from(x))).collect()),
            ColumnData::Str(_) => None,
        },
    }
}

/// Row `i` of `data` as numbers (`None` for text features).
pub(crate) fn row_f64(data: &InputData, i: usize) -> Vec<Option<f64>> {
    match data {
        InputData::MatrixF32 { width, values, .. } => values[i * width..(i + 1) * width]
            .iter()
            .map(|&v| Some(f64::from(v)))
            .collect(),
        InputData::MatrixF64 { width, values, .. } => values[i * width..(i + 1) * width]
            .iter()
            .map(|&v| Some(v))
            .collect(),
        InputData::Columns(cols) => cols
            .iter()
            .map(|(_, c)| match c {
                ColumnData::F32(v) => Some(f64::from(v[i])),
                ColumnData::F64(v) => Some(v[i]),
                ColumnData::I64(v) => Some(v[i] as f64),
                ColumnData::I32(v) => Some(f64::from(v[i])),
                ColumnData::Bool(v) => Some(f64::from(u8::from(v[i]))),
                ColumnData::Str(_) => None,
            })
            .collect(),
    }
}

/// Whether row `i` of `a` equals row `k` of `b` in feature `j` (numbers: `numpy.isclose`
/// with its default tolerances, as shap's KernelExplainer tests "varying" features).
pub(crate) fn same_value(a: &InputData, i: usize, b: &InputData, k: usize, j: usize) -> bool {
    let close = |x: f64, y: f64| {
        (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-8 + 1e-5 * y.abs() || x == y
    };
    match (a, b) {
        (InputData::MatrixF32 { width, values, .. }, InputData::MatrixF32 { values: bv, .. }) => {
            close(
                f64::from(values[i * width + j]),
                f64::from(bv[k * width + j]),
            )
        }
        (InputData::MatrixF64 { width, values, .. }, InputData::MatrixF64 { values: bv, .. }) => {
            close(values[i * width + j], bv[k * width + j])
        }
        (InputData::Columns(ac), InputData::Columns(bc)) => match (&ac[j].1, &bc[j].1) {
            (ColumnData::Str(x), ColumnData::Str(y)) => x[i] == y[k],
            _ => match (row_f64(a, i)[j], row_f64(b, k)[j]) {
                (Some(x), Some(y)) => close(x, y),
                _ => false,
            },
        },
        _ => false,
    }
}

fn take_vec<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i].clone()).collect()
}

macro_rules! each_column {
    ($c:expr, $v:ident => $body:expr) => {
        match $c {
            ColumnData::F32($v) => ColumnData::F32($body),
            ColumnData::F64($v) => ColumnData::F64($body),
            ColumnData::I64($v) => ColumnData::I64($body),
            ColumnData::I32($v) => ColumnData::I32($body),
            ColumnData::Bool($v) => ColumnData::Bool($body),
            ColumnData::Str($v) => ColumnData::Str($body),
        }
    };
}

/// The rows `idx` of `data`, in that order.
pub(crate) fn take_rows(data: &InputData, idx: &[usize]) -> InputData {
    data.take_rows(idx)
}

/// `data` with feature `j` of row `i` replaced by feature `j` of row `perm[i]`.
pub(crate) fn permute_column(data: &InputData, j: usize, perm: &[usize]) -> InputData {
    let mut out = data.clone();
    match &mut out {
        InputData::MatrixF32 { width, values, .. } => {
            let w = *width;
            let col: Vec<f32> = perm.iter().map(|&p| values[p * w + j]).collect();
            for (i, v) in col.into_iter().enumerate() {
                values[i * w + j] = v;
            }
        }
        InputData::MatrixF64 { width, values, .. } => {
            let w = *width;
            let col: Vec<f64> = perm.iter().map(|&p| values[p * w + j]).collect();
            for (i, v) in col.into_iter().enumerate() {
                values[i * w + j] = v;
            }
        }
        InputData::Columns(cols) => {
            let c = &cols[j].1;
            cols[j].1 = each_column!(c, v => take_vec(v, perm));
        }
    }
    out
}

/// Sets feature `j` of every row to `vals[row]` (numeric features; text is an error).
pub(crate) fn set_column(data: &mut InputData, j: usize, vals: &[f64]) -> Result<()> {
    match data {
        InputData::MatrixF32 { width, values, .. } => {
            for (i, &v) in vals.iter().enumerate() {
                values[i * *width + j] = v as f32;
            }
        }
        InputData::MatrixF64 { width, values, .. } => {
            for (i, &v) in vals.iter().enumerate() {
                values[i * *width + j] = v;
            }
        }
        InputData::Columns(cols) => {
            let (name, col) = &mut cols[j];
            match col {
                ColumnData::F32(c) => c.iter_mut().zip(vals).for_each(|(c, &v)| *c = v as f32),
                ColumnData::F64(c) => c.iter_mut().zip(vals).for_each(|(c, &v)| *c = v),
                ColumnData::I64(c) => c.iter_mut().zip(vals).for_each(|(c, &v)| *c = v as i64),
                ColumnData::I32(c) => c.iter_mut().zip(vals).for_each(|(c, &v)| *c = v as i32),
                ColumnData::Bool(c) => c.iter_mut().zip(vals).for_each(|(c, &v)| *c = v != 0.0),
                ColumnData::Str(_) => {
                    return Err(EngineError::usage(format!(
                        "feature '{name}' is text; this needs a numeric feature"
                    )))
                }
            }
        }
    }
    Ok(())
}

/// `data` (n rows) repeated once per value of `values`, with feature `j` set to that value in
/// each copy: `values.len() × n` rows, value-major.
pub(crate) fn with_values(data: &InputData, j: usize, values: &[f64]) -> Result<InputData> {
    let n = rows(data);
    let all: Vec<usize> = (0..values.len()).flat_map(|_| 0..n).collect();
    let mut out = take_rows(data, &all);
    let vals: Vec<f64> = values
        .iter()
        .flat_map(|&v| std::iter::repeat_n(v, n))
        .collect();
    set_column(&mut out, j, &vals)?;
    Ok(out)
}

fn fill_matrix<T: Copy>(
    xv: &[T],
    bv: &[T],
    w: usize,
    n_bg: usize,
    jobs: &[(usize, &[bool])],
) -> Vec<T> {
    let mut out = Vec::with_capacity(jobs.len() * n_bg * w);
    for &(r, mask) in jobs {
        let xr = &xv[r * w..(r + 1) * w];
        for b in 0..n_bg {
            let br = &bv[b * w..(b + 1) * w];
            out.extend((0..w).map(|j| if mask[j] { xr[j] } else { br[j] }));
        }
    }
    out
}

fn fill_column<T: Clone>(
    xv: &[T],
    bv: &[T],
    j: usize,
    n_bg: usize,
    jobs: &[(usize, &[bool])],
) -> Vec<T> {
    let mut out = Vec::with_capacity(jobs.len() * n_bg);
    for &(r, mask) in jobs {
        if mask[j] {
            out.extend(std::iter::repeat_n(&xv[r], n_bg).cloned());
        } else {
            out.extend_from_slice(&bv[..n_bg]);
        }
    }
    out
}

/// The model rows for `jobs`: for each job, one row per background row.
fn build(
    x: &InputData,
    bg: &InputData,
    n_bg: usize,
    jobs: &[(usize, &[bool])],
) -> Result<InputData> {
    Ok(match (x, bg) {
        (
            InputData::MatrixF32 {
                input,
                width,
                values,
            },
            InputData::MatrixF32 { values: bv, .. },
        ) => InputData::MatrixF32 {
            input: input.clone(),
            width: *width,
            values: fill_matrix(values, bv, *width, n_bg, jobs),
        },
        (
            InputData::MatrixF64 {
                input,
                width,
                values,
            },
            InputData::MatrixF64 { values: bv, .. },
        ) => InputData::MatrixF64 {
            input: input.clone(),
            width: *width,
            values: fill_matrix(values, bv, *width, n_bg, jobs),
        },
        (InputData::Columns(xc), InputData::Columns(bc)) if xc.len() == bc.len() => {
            let mut cols = Vec::with_capacity(xc.len());
            for (j, ((name, xcol), (_, bcol))) in xc.iter().zip(bc).enumerate() {
                let data = match (xcol, bcol) {
                    (ColumnData::F32(a), ColumnData::F32(b)) => {
                        ColumnData::F32(fill_column(a, b, j, n_bg, jobs))
                    }
                    (ColumnData::F64(a), ColumnData::F64(b)) => {
                        ColumnData::F64(fill_column(a, b, j, n_bg, jobs))
                    }
                    (ColumnData::I64(a), ColumnData::I64(b)) => {
                        ColumnData::I64(fill_column(a, b, j, n_bg, jobs))
                    }
                    (ColumnData::I32(a), ColumnData::I32(b)) => {
                        ColumnData::I32(fill_column(a, b, j, n_bg, jobs))
                    }
                    (ColumnData::Bool(a), ColumnData::Bool(b)) => {
                        ColumnData::Bool(fill_column(a, b, j, n_bg, jobs))
                    }
                    (ColumnData::Str(a), ColumnData::Str(b)) => {
                        ColumnData::Str(fill_column(a, b, j, n_bg, jobs))
                    }
                    _ => {
                        return Err(EngineError::internal(
                            "data and background columns differ in type",
                        ))
                    }
                };
                cols.push((name.clone(), data));
            }
            InputData::Columns(cols)
        }
        _ => {
            return Err(EngineError::internal(
                "data and background have different layouts",
            ))
        }
    })
}

/// Runs the model and picks the explained scalar of every row.
pub(crate) fn outputs(
    model: &Model,
    data: &InputData,
    output: Output,
    infer: &InferOptions,
    progress: &Progress,
    span: (f32, f32),
) -> Result<Vec<f64>> {
    let preds = predict(model, data, infer, &progress.stage(span.0, span.1))?;
    let out: Vec<f64> = match (preds, output) {
        (Predictions::Classification { classes, proba }, Output::Class(c)) => {
            let k = classes.len();
            if c >= k {
                return Err(EngineError::internal("class index out of range"));
            }
            proba.chunks_exact(k).map(|r| f64::from(r[c])).collect()
        }
        (Predictions::Regression { values }, Output::Value) => {
            values.iter().map(|&v| f64::from(v)).collect()
        }
        _ => {
            return Err(EngineError::file(
                model.path(),
                "the model's output kind changed between calls",
            ))
        }
    };
    if let Some(i) = out.iter().position(|v| !v.is_finite()) {
        return Err(EngineError::file(
            model.path(),
            format!("the model returned a non-finite output for a perturbed row ({i})"),
        ));
    }
    Ok(out)
}

/// The model behind coalitions of features, against a weighted background.
pub(crate) struct Masked<'a> {
    pub model: &'a Model,
    /// The explained rows.
    pub x: &'a InputData,
    pub bg: &'a InputData,
    /// Background weights, summing to 1.
    pub bg_weights: &'a [f64],
    pub output: Output,
    pub infer: &'a InferOptions,
}

impl Masked<'_> {
    pub fn n_bg(&self) -> usize {
        self.bg_weights.len()
    }

    /// `E_b f(x_S, b_notS)` for every job (explained row index, mask), in probability (or
    /// value) space; progress runs over `span` of `progress`.
    pub fn eval(
        &self,
        jobs: &[(usize, &[bool])],
        progress: &Progress,
        span: (f32, f32),
    ) -> Result<Vec<f64>> {
        let n_bg = self.n_bg();
        let per_chunk = (max_batch_rows(width(self.x)) / n_bg.max(1)).max(1);
        let chunks = jobs.len().div_ceil(per_chunk).max(1);
        let mut out = Vec::with_capacity(jobs.len());
        for (ci, chunk) in jobs.chunks(per_chunk).enumerate() {
            progress.check()?;
            let data = build(self.x, self.bg, n_bg, chunk)?;
            let a = span.0 + (span.1 - span.0) * ci as f32 / chunks as f32;
            let b = span.0 + (span.1 - span.0) * (ci + 1) as f32 / chunks as f32;
            let y = outputs(self.model, &data, self.output, self.infer, progress, (a, b))?;
            out.extend(y.chunks_exact(n_bg).map(|r| {
                r.iter()
                    .zip(self.bg_weights)
                    .map(|(v, w)| v * w)
                    .sum::<f64>()
            }));
        }
        Ok(out)
    }
}

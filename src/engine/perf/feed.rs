//! Model inputs for timing: rows gathered (cycled) from the prepared dataset into ready-made
//! batches, and the ONNX Runtime feed for one batch (views, no copies, except string
//! tensors, which ONNX Runtime must own).

use std::borrow::Cow;

use ort::session::{Session, SessionInputValue};
use ort::value::{Tensor, TensorRef};

use crate::engine::data::extract::{ColumnData, InputData};
use crate::engine::error::{EngineError, Result};

/// Rows in `inputs`.
pub fn rows(inputs: &InputData) -> usize {
    match inputs {
        InputData::MatrixF32 { width, values, .. } => values.len() / (*width).max(1),
        InputData::MatrixF64 { width, values, .. } => values.len() / (*width).max(1),
        InputData::Columns(cols) => cols.first().map_or(0, |(_, c)| match c {
            ColumnData::F32(v) => v.len(),
            ColumnData::F64(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::I32(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Str(v) => v.len(),
        }),
    }
}

/// The rows `idx` of `inputs`, in that order, as new inputs.
pub fn gather(inputs: &InputData, idx: &[usize]) -> InputData {
    fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
        idx.iter().map(|&i| v[i].clone()).collect()
    }
    fn pick_rows<T: Copy>(v: &[T], width: usize, idx: &[usize]) -> Vec<T> {
        let mut out = Vec::with_capacity(idx.len() * width);
        for &i in idx {
            out.extend_from_slice(&v[i * width..(i + 1) * width]);
        }
        out
    }
    match inputs {
        InputData::MatrixF32 {
            input,
            width,
            values,
        } => InputData::MatrixF32 {
            input: input.clone(),
            width: *width,
            values: pick_rows(values, *width, idx),
        },
        InputData::MatrixF64 {
            input,
            width,
            values,
        } => InputData::MatrixF64 {
            input: input.clone(),
            width: *width,
            values: pick_rows(values, *width, idx),
        },
        InputData::Columns(cols) => InputData::Columns(
            cols.iter()
                .map(|(name, c)| {
                    let c = match c {
                        ColumnData::F32(v) => ColumnData::F32(pick(v, idx)),
                        ColumnData::F64(v) => ColumnData::F64(pick(v, idx)),
                        ColumnData::I64(v) => ColumnData::I64(pick(v, idx)),
                        ColumnData::I32(v) => ColumnData::I32(pick(v, idx)),
                        ColumnData::Bool(v) => ColumnData::Bool(pick(v, idx)),
                        ColumnData::Str(v) => ColumnData::Str(pick(v, idx)),
                    };
                    (name.clone(), c)
                })
                .collect(),
        ),
    }
}

/// `count` rows starting at `start`, wrapping around the `n` rows available.
pub fn cycled(start: usize, count: usize, n: usize) -> Vec<usize> {
    (0..count).map(|i| (start + i) % n.max(1)).collect()
}

/// Runs `session` once on all of `inputs` and drops the outputs.
pub fn run(session: &mut Session, inputs: &InputData, path: &std::path::Path) -> Result<()> {
    let err = |e: ort::Error| {
        EngineError::file(path, format!("ONNX Runtime failed to run the model: {e}"))
    };
    let n = rows(inputs);
    let mut feed: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::new();
    match inputs {
        InputData::MatrixF32 {
            input,
            width,
            values,
        } => {
            let t = TensorRef::from_array_view(([n, *width], &values[..])).map_err(err)?;
            feed.push((Cow::Borrowed(input.as_str()), t.into()));
        }
        InputData::MatrixF64 {
            input,
            width,
            values,
        } => {
            let t = TensorRef::from_array_view(([n, *width], &values[..])).map_err(err)?;
            feed.push((Cow::Borrowed(input.as_str()), t.into()));
        }
        InputData::Columns(cols) => {
            for (name, data) in cols {
                let shape = [n, 1];
                let value: SessionInputValue<'_> = match data {
                    ColumnData::F32(v) => TensorRef::from_array_view((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                    ColumnData::F64(v) => TensorRef::from_array_view((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                    ColumnData::I64(v) => TensorRef::from_array_view((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                    ColumnData::I32(v) => TensorRef::from_array_view((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                    ColumnData::Bool(v) => TensorRef::from_array_view((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                    ColumnData::Str(v) => Tensor::from_string_array((shape, &v[..]))
                        .map_err(err)?
                        .into(),
                };
                feed.push((Cow::Borrowed(name.as_str()), value));
            }
        }
    }
    let outputs = session.run(feed).map_err(err)?;
    drop(outputs);
    Ok(())
}

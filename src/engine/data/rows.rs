//! Row operations on model inputs: how many rows and features an [`InputData`] holds, and a
//! new [`InputData`] of some of its rows (speed, explanations and importance all take rows).

use super::extract::{ColumnData, InputData};

impl ColumnData {
    pub fn len(&self) -> usize {
        match self {
            ColumnData::F32(v) => v.len(),
            ColumnData::F64(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::I32(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Str(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> ColumnData {
        fn pick<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().map(|&i| v[i].clone()).collect()
        }
        match self {
            ColumnData::F32(v) => ColumnData::F32(pick(v, idx)),
            ColumnData::F64(v) => ColumnData::F64(pick(v, idx)),
            ColumnData::I64(v) => ColumnData::I64(pick(v, idx)),
            ColumnData::I32(v) => ColumnData::I32(pick(v, idx)),
            ColumnData::Bool(v) => ColumnData::Bool(pick(v, idx)),
            ColumnData::Str(v) => ColumnData::Str(pick(v, idx)),
        }
    }
}

impl InputData {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        match self {
            InputData::MatrixF32 { width, values, .. } => values.len() / (*width).max(1),
            InputData::MatrixF64 { width, values, .. } => values.len() / (*width).max(1),
            InputData::Columns(cols) => cols.first().map_or(0, |(_, c)| c.len()),
        }
    }

    /// Number of features (matrix columns or per-column inputs).
    pub fn width(&self) -> usize {
        match self {
            InputData::MatrixF32 { width, .. } | InputData::MatrixF64 { width, .. } => *width,
            InputData::Columns(cols) => cols.len(),
        }
    }

    /// The rows `idx`, in that order (an index may repeat).
    pub fn take_rows(&self, idx: &[usize]) -> InputData {
        fn pick_rows<T: Copy>(v: &[T], width: usize, idx: &[usize]) -> Vec<T> {
            let mut out = Vec::with_capacity(idx.len() * width);
            for &i in idx {
                out.extend_from_slice(&v[i * width..(i + 1) * width]);
            }
            out
        }
        match self {
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
                    .map(|(name, c)| (name.clone(), c.take(idx)))
                    .collect(),
            ),
        }
    }
}

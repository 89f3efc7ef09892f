//! Batched, multi-threaded inference: one ONNX Runtime session per worker thread (sessions
//! run with `&mut self`; taken from the model's pool and returned to it), batches taken from a shared counter, results written into their
//! slot so the output order is the input order.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use ort::session::{Session, SessionInputValue};
use ort::value::{DynMapValueType, DynValue, Tensor, TensorElementType, TensorRef, ValueType};

use super::Model;
use crate::engine::data::extract::{ColumnData, InputData};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Stage;

#[derive(Debug, Clone, serde::Serialize)]
pub struct InferOptions {
    /// Worker threads (each with its own session).
    pub threads: usize,
    /// Rows per batch; chosen from the row count when `None`.
    pub batch_size: Option<usize>,
}

impl Default for InferOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            batch_size: None,
        }
    }
}

/// What the model returned for every row.
#[derive(Debug, Clone)]
pub enum Predictions {
    /// Row-major `[rows, classes.len()]` probabilities.
    Classification {
        classes: Vec<String>,
        proba: Vec<f32>,
    },
    Regression {
        values: Vec<f32>,
    },
}

impl Predictions {
    pub fn rows(&self) -> usize {
        match self {
            Predictions::Classification { classes, proba } => proba.len() / classes.len().max(1),
            Predictions::Regression { values } => values.len(),
        }
    }
}

/// One batch's outputs.
#[derive(Default)]
struct BatchOut {
    proba: Option<(Vec<f32>, usize)>,
    zip_keys: Option<Vec<String>>,
    /// For each probability column, a label the model output for a row whose arg-max it was.
    label_of_column: Vec<Option<String>>,
    values: Option<Vec<f32>>,
}

/// Runs `model` on every row of `inputs`.
pub fn predict(
    model: &Model,
    inputs: &InputData,
    opts: &InferOptions,
    progress: &Stage,
) -> Result<Predictions> {
    let rows = inputs.rows();
    if rows == 0 {
        return Err(EngineError::usage("no rows to run the model on"));
    }
    let threads = opts.threads.max(1);
    let batch = opts
        .batch_size
        .unwrap_or_else(|| rows.div_ceil(threads * 4).clamp(1024, 65_536))
        .max(1);
    let n_batches = rows.div_ceil(batch);
    let workers = threads.min(n_batches);
    // One worker: let ONNX Runtime use the cores inside the session instead.
    let intra = chunk_intra(rows, batch, threads);

    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<BatchOut>>> = (0..n_batches).map(|_| Mutex::new(None)).collect();
    progress.set(0.0, &format!("running model on {rows} rows"));

    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for w in 0..workers {
            let work = || -> Result<()> {
                let mut pooled = model.pooled_session(intra)?;
                let session = pooled.get()?;
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= n_batches || failed.load(Ordering::Relaxed) {
                        return Ok(());
                    }
                    if progress.check().is_err() {
                        failed.store(true, Ordering::Relaxed);
                        return Err(EngineError::Cancelled);
                    }
                    let start = b * batch;
                    let end = (start + batch).min(rows);
                    let out = run_batch(session, model, inputs, start, end).inspect_err(|_| {
                        failed.store(true, Ordering::Relaxed);
                    })?;
                    if let Ok(mut slot) = slots[b].lock() {
                        *slot = Some(out);
                    }
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.set_fraction(d as f32 / n_batches as f32);
                }
            };
            let handle = std::thread::Builder::new()
                .name(format!("assay-infer-{w}"))
                .spawn_scoped(s, work)
                .map_err(|e| EngineError::internal(format!("cannot start inference thread: {e}")));
            handles.push(handle);
        }
        handles
            .into_iter()
            .map(|h| {
                h.and_then(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(EngineError::internal("inference thread panicked")))
                })
            })
            .collect()
    });
    // Report a real error before a cancellation caused by it.
    let mut cancelled = false;
    for r in results {
        match r {
            Err(EngineError::Cancelled) => cancelled = true,
            Err(e) => return Err(e),
            Ok(()) => {}
        }
    }
    if cancelled {
        return Err(EngineError::Cancelled);
    }
    let outs: Vec<BatchOut> = slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .ok()
                .flatten()
                .ok_or_else(|| EngineError::internal("missing batch result"))
        })
        .collect::<Result<_>>()?;
    assemble(model, outs, rows)
}

/// One chunk's outputs from [`run_chunk`], put together by [`assemble_chunks`].
pub(crate) struct ChunkOut(BatchOut);

/// The session intra-op threads [`predict`] uses on `rows` rows in chunks of `chunk` with
/// `threads` threads: one per session when several chunks run side by side, else all of
/// them inside the one session.
pub(crate) fn chunk_intra(rows: usize, chunk: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    if threads.min(rows.div_ceil(chunk.max(1))) == 1 {
        threads
    } else {
        1
    }
}

/// Runs `model` on rows `start..end` of `inputs` on a pooled session with `intra` threads:
/// what each worker of [`predict`] does with one of its chunks.
pub(crate) fn run_chunk(
    model: &Model,
    inputs: &InputData,
    start: usize,
    end: usize,
    intra: usize,
) -> Result<ChunkOut> {
    let mut pooled = model.pooled_session(intra)?;
    run_batch(pooled.get()?, model, inputs, start, end).map(ChunkOut)
}

/// The predictions of `rows` rows from their chunks' outputs, in row order (as [`predict`]
/// puts its chunks together).
pub(crate) fn assemble_chunks(
    model: &Model,
    outs: Vec<ChunkOut>,
    rows: usize,
) -> Result<Predictions> {
    assemble(model, outs.into_iter().map(|c| c.0).collect(), rows)
}

fn assemble(model: &Model, outs: Vec<BatchOut>, rows: usize) -> Result<Predictions> {
    let path = model.path();
    let first = outs
        .first()
        .ok_or_else(|| EngineError::internal("no batches"))?;
    if let Some((_, k)) = first.proba {
        let mut proba = Vec::with_capacity(rows * k);
        let mut label_of_column: Vec<Option<String>> = vec![None; k];
        let zip_keys = first.zip_keys.clone();
        for out in outs {
            let (p, kk) = out
                .proba
                .ok_or_else(|| EngineError::internal("batch without probabilities"))?;
            if kk != k {
                return Err(EngineError::file(
                    path,
                    "the model returned a different number of classes across batches",
                ));
            }
            proba.extend_from_slice(&p);
            for (slot, l) in label_of_column.iter_mut().zip(out.label_of_column) {
                if slot.is_none() {
                    *slot = l;
                }
            }
        }
        let classes = if let Some(keys) = zip_keys {
            keys
        } else if let Some(declared) = model
            .info
            .declared_classes
            .as_ref()
            .filter(|c| c.len() == k)
        {
            declared.clone()
        } else if label_of_column.iter().all(Option::is_some) {
            label_of_column.into_iter().flatten().collect()
        } else {
            (0..k).map(|i| i.to_string()).collect()
        };
        if proba.len() != rows * k {
            return Err(EngineError::file(
                path,
                format!(
                    "the model returned {} probabilities for {rows} rows",
                    proba.len() / k
                ),
            ));
        }
        Ok(Predictions::Classification { classes, proba })
    } else if first.values.is_some() {
        let mut values = Vec::with_capacity(rows);
        for out in outs {
            values.extend(
                out.values
                    .ok_or_else(|| EngineError::internal("batch without values"))?,
            );
        }
        if values.len() != rows {
            return Err(EngineError::file(
                path,
                format!("the model returned {} values for {rows} rows", values.len()),
            ));
        }
        Ok(Predictions::Regression { values })
    } else {
        Err(EngineError::file(
            path,
            "the model's outputs are neither class probabilities ([N, k] float tensor or ZipMap) nor one value per row",
        ))
    }
}

fn run_batch(
    session: &mut Session,
    model: &Model,
    inputs: &InputData,
    start: usize,
    end: usize,
) -> Result<BatchOut> {
    let path = model.path();
    let n = end - start;
    let err = |e: ort::Error| {
        EngineError::file(path, format!("ONNX Runtime failed to run the model: {e}"))
    };
    let feed = session_inputs(inputs, start, end, &err)?;
    let outputs = session.run(feed).map_err(err)?;

    let mut out = BatchOut::default();
    let mut labels: Option<Vec<String>> = None;
    for (_, value) in outputs.iter() {
        match value.dtype() {
            ValueType::Tensor { ty, shape, .. } => {
                let dims: &[i64] = shape;
                let count: i64 = dims.iter().product();
                let per_row = (count as usize).checked_div(n).unwrap_or(0);
                let floaty = matches!(ty, TensorElementType::Float32 | TensorElementType::Float64);
                if floaty
                    && dims.len() == 2
                    && dims[1] >= 2
                    && dims[0] as usize == n
                    && out.proba.is_none()
                {
                    out.proba = Some((float_values(&value, path)?, dims[1] as usize));
                } else if floaty && count as usize == n && per_row == 1 && out.values.is_none() {
                    out.values = Some(float_values(&value, path)?);
                } else if count as usize == n && labels.is_none() {
                    labels = label_values(&value, *ty);
                }
            }
            ValueType::Sequence(inner) => {
                if let ValueType::Map { key, .. } = inner.as_ref() {
                    let (keys, proba) = zipmap_values(&value, *key, n, path)?;
                    let k = keys.len();
                    out.zip_keys = Some(keys);
                    out.proba = Some((proba, k));
                }
            }
            _ => {}
        }
    }
    if let (Some((p, k)), Some(labels)) = (&out.proba, labels) {
        out.label_of_column = vec![None; *k];
        for (row, label) in labels.into_iter().enumerate() {
            let r = &p[row * k..(row + 1) * k];
            if let Some(j) = unique_argmax(r) {
                if out.label_of_column[j].is_none() {
                    out.label_of_column[j] = Some(label);
                }
            }
        }
    }
    Ok(out)
}

fn unique_argmax(r: &[f32]) -> Option<usize> {
    let mut best = 0;
    for j in 1..r.len() {
        if r[j] > r[best] {
            best = j;
        }
    }
    let ties = r.iter().filter(|&&v| v == r[best]).count();
    (ties == 1).then_some(best)
}

fn float_values(value: &DynValue, path: &std::path::Path) -> Result<Vec<f32>> {
    let err = |e: ort::Error| EngineError::file(path, format!("cannot read model output: {e}"));
    if let Ok((_, v)) = value.try_extract_tensor::<f32>() {
        return Ok(v.to_vec());
    }
    let (_, v) = value.try_extract_tensor::<f64>().map_err(err)?;
    Ok(v.iter().map(|&x| x as f32).collect())
}

fn label_values(value: &DynValue, ty: TensorElementType) -> Option<Vec<String>> {
    match ty {
        TensorElementType::Int64 => value
            .try_extract_tensor::<i64>()
            .ok()
            .map(|(_, v)| v.iter().map(ToString::to_string).collect()),
        TensorElementType::Int32 => value
            .try_extract_tensor::<i32>()
            .ok()
            .map(|(_, v)| v.iter().map(ToString::to_string).collect()),
        TensorElementType::String => value.try_extract_strings().ok().map(|(_, v)| v),
        _ => None,
    }
}

/// Reads ZipMap output `seq(map(int64|string, float))` into keys (the first row's order)
/// and row-major probabilities.
fn zipmap_values(
    value: &DynValue,
    key: TensorElementType,
    n: usize,
    path: &std::path::Path,
) -> Result<(Vec<String>, Vec<f32>)> {
    let err = |e: ort::Error| EngineError::file(path, format!("cannot read ZipMap output: {e}"));
    let maps = value
        .try_extract_sequence::<DynMapValueType>()
        .map_err(err)?;
    if maps.len() != n {
        return Err(EngineError::file(
            path,
            format!("ZipMap output has {} rows for {n} inputs", maps.len()),
        ));
    }
    let mut keys: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut proba = Vec::new();
    for (row, map) in maps.iter().enumerate() {
        let pairs: Vec<(String, f32)> = match key {
            TensorElementType::Int64 => map
                .try_extract_key_values::<i64, f32>()
                .map_err(err)?
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            TensorElementType::String => {
                map.try_extract_key_values::<String, f32>().map_err(err)?
            }
            other => {
                return Err(EngineError::file(
                    path,
                    format!("ZipMap with {other} keys is not supported"),
                ))
            }
        };
        if row == 0 {
            let mut sorted = pairs.clone();
            if key == TensorElementType::Int64 {
                sorted.sort_by_key(|(k, _)| k.parse::<i64>().unwrap_or(i64::MAX));
            }
            for (k, _) in &sorted {
                index.insert(k.clone(), keys.len());
                keys.push(k.clone());
            }
            proba.reserve(n * keys.len());
        }
        let base = proba.len();
        proba.resize(base + keys.len(), 0.0);
        for (k, v) in pairs {
            let j = *index.get(&k).ok_or_else(|| {
                EngineError::file(
                    path,
                    format!("ZipMap row {} has an unexpected class '{k}'", row + 1),
                )
            })?;
            proba[base + j] = v;
        }
    }
    Ok((keys, proba))
}

/// The session inputs for rows `start..end` of `inputs` (views, no copy of numeric data).
pub(crate) fn session_inputs<'a>(
    inputs: &'a InputData,
    start: usize,
    end: usize,
    err: &dyn Fn(ort::Error) -> EngineError,
) -> Result<Vec<(Cow<'a, str>, SessionInputValue<'a>)>> {
    let n = end - start;
    let mut feed: Vec<(Cow<'a, str>, SessionInputValue<'a>)> = Vec::new();
    // A `[n, width]` view of rows start..end of a row-major matrix.
    macro_rules! matrix {
        ($input:expr, $width:expr, $values:expr) => {{
            let w = *$width;
            let t =
                TensorRef::from_array_view(([n, w], &$values[start * w..end * w])).map_err(err)?;
            feed.push((Cow::Borrowed($input.as_str()), t.into()));
        }};
    }
    match inputs {
        InputData::MatrixF32 {
            input,
            width,
            values,
        } => matrix!(input, width, values),
        InputData::MatrixF64 {
            input,
            width,
            values,
        } => matrix!(input, width, values),
        InputData::Columns(cols) => {
            for (name, data) in cols {
                let shape = [n, 1];
                // A `[n, 1]` view of rows start..end of one column (numeric data is not copied).
                macro_rules! view {
                    ($v:expr) => {
                        TensorRef::from_array_view((shape, &$v[start..end]))
                            .map_err(err)?
                            .into()
                    };
                }
                let value: SessionInputValue<'_> = match data {
                    ColumnData::F32(v) => view!(v),
                    ColumnData::F64(v) => view!(v),
                    ColumnData::I64(v) => view!(v),
                    ColumnData::I32(v) => view!(v),
                    ColumnData::Bool(v) => view!(v),
                    ColumnData::Str(v) => Tensor::from_string_array((shape, &v[start..end]))
                        .map_err(err)?
                        .into(),
                };
                feed.push((Cow::Borrowed(name.as_str()), value));
            }
        }
    }
    Ok(feed)
}

//! Interventional TreeSHAP of a transformed output `T(m)` of one raw margin `m` (a
//! probability `σ(m)`, or whatever ONNX Runtime's finalisation makes of it), computed the way
//! shap's TreeExplainer does with `model_output="probability"`: for each explained row x and
//! background row r, the exact raw-margin Shapley values φ(x, r) (which sum to m(x) − m(r))
//! are rescaled by `(T(m(x)) − T(m(r))) / (m(x) − m(r))`, then averaged over the background.
//! The base value is the mean of `T(m(r))`, so base + Σφ = T(m(x)) exactly. These are the
//! Shapley values of the margin game rescaled per background row, not the Shapley values of
//! `E_r T(f(x_S, r))` (which shap does not compute either).

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::shap::{interventional_blocks, Flat, TreeShap, Walk, Weights, CHUNK};
use super::Forest;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// `(T(a) − T(b)) / (a − b)`, or the derivative at the midpoint when a and b (nearly) agree.
fn rescale(t: &dyn Fn(f64) -> f64, a: f64, b: f64, ta: f64, tb: f64) -> f64 {
    let d = a - b;
    if d.abs() > 1e-9 * (1.0 + a.abs().max(b.abs())) {
        return (ta - tb) / d;
    }
    let m = 0.5 * (a + b);
    let h = 1e-5 * (1.0 + m.abs());
    (t(m + h) - t(m - h)) / (2.0 * h)
}

/// Interventional TreeSHAP of `transform(raw output `output`)` for `rows` against
/// `background` (row-major, `forest.n_features` columns). The result has one output, named
/// after raw output `output`, in space `space`.
pub fn interventional_transformed(
    forest: &Forest,
    rows: &[f64],
    background: &[f64],
    output: usize,
    transform: &(dyn Fn(f64) -> f64 + Sync),
    space: &str,
    progress: &Progress,
) -> Result<TreeShap> {
    let f = forest.n_features;
    let no = forest.n_outputs;
    if output >= no {
        return Err(EngineError::usage(format!(
            "the tree ensemble has {no} raw outputs, not {}",
            output + 1
        )));
    }
    let (x, b, n_rows, n_bg) = interventional_blocks(forest, rows, background)?;
    let flat = Flat::new(forest);
    let weights = Weights::new(forest.max_depth() + 1);
    let mut bdirs = vec![false; n_bg * flat.total];
    let mut m_bg = Vec::with_capacity(n_bg);
    for (bi, brow) in b.chunks_exact(f).enumerate() {
        flat.directions(brow, &mut bdirs[bi * flat.total..(bi + 1) * flat.total]);
        m_bg.push(forest.raw_prepared(brow)[output]);
    }
    let t_bg: Vec<f64> = m_bg.iter().map(|&m| transform(m)).collect();
    let base = t_bg.iter().sum::<f64>() / n_bg as f64;

    let mut values = vec![0.0; n_rows * f];
    let mut outputs = vec![0.0; n_rows];
    let done = AtomicUsize::new(0);
    progress.set(0.0, "TreeSHAP (interventional, transformed)");
    values
        .par_chunks_mut(CHUNK * f.max(1))
        .zip(outputs.par_chunks_mut(CHUNK))
        .zip(x.par_chunks(CHUNK * f.max(1)))
        .try_for_each(|((phi_chunk, out_chunk), x_chunk)| -> Result<()> {
            progress.check()?;
            let mut xdir = vec![false; flat.total];
            let mut tmp = vec![0.0; no * f];
            let mut feats = Vec::with_capacity(64);
            for (r, xrow) in x_chunk.chunks_exact(f).enumerate() {
                flat.directions(xrow, &mut xdir);
                let mx = forest.raw_prepared(xrow)[output];
                let tx = transform(mx);
                let phi = &mut phi_chunk[r * f..(r + 1) * f];
                for bi in 0..n_bg {
                    tmp.iter_mut().for_each(|v| *v = 0.0);
                    let mut walk = Walk {
                        forest,
                        w: &weights,
                        xdir: &xdir,
                        bdir: &bdirs[bi * flat.total..(bi + 1) * flat.total],
                        feats: std::mem::take(&mut feats),
                        count: 1.0,
                        phi: &mut tmp,
                    };
                    for (t, &off) in flat.offsets.iter().enumerate() {
                        walk.tree(t, off);
                    }
                    feats = walk.feats;
                    let s = rescale(transform, mx, m_bg[bi], tx, t_bg[bi]);
                    for (p, v) in phi.iter_mut().zip(&tmp[output * f..(output + 1) * f]) {
                        *p += v * s;
                    }
                }
                let inv = 1.0 / n_bg as f64;
                phi.iter_mut().for_each(|v| *v *= inv);
                out_chunk[r] = tx;
            }
            let d = done.fetch_add(x_chunk.len() / f, Ordering::Relaxed) + x_chunk.len() / f;
            progress.set_fraction(d as f32 / n_rows.max(1) as f32);
            Ok(())
        })?;
    let mut out = TreeShap {
        method: "tree_interventional".to_string(),
        output_space: space.to_string(),
        n_rows,
        n_outputs: 1,
        n_features: f,
        output_names: vec![forest.output_names.get(output).cloned().unwrap_or_default()],
        base_values: vec![base],
        values,
        raw_outputs: outputs,
        additivity_max_abs_error: 0.0,
        background_rows: n_bg,
        notes: forest.notes.clone(),
    };
    out.finish_additivity();
    Ok(out)
}

//! Interventional TreeSHAP: exact Shapley values of `v(S) = E_b f(x_S, b_notS)` over a
//! background set, in raw-margin space.
//!
//! For one (row x, background row b) pair the game is additive over trees, and in one tree only
//! the features on which x and b take different branches matter. Walking the tree with both
//! rows, a split where they agree is followed once; where they disagree on a feature not yet
//! seen, both branches are followed, the feature joining the "x side" set A or the "b side" set
//! B (a feature seen again follows its side). A leaf with value v is reached by coalition S
//! exactly when A ⊆ S and S ∩ B = ∅; the Shapley values of that unanimity-style game are
//! `v·(|A|−1)!|B|!/n!` for each feature of A and `−v·|A|!(|B|−1)!/n!` for each of B
//! (n = |A| + |B|). Averaging over the background gives the interventional values
//! (Lundberg et al. 2020, "Independent TreeSHAP").

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::Forest;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// SHAP values of a tree ensemble for a block of rows.
#[derive(Debug, Clone, Serialize)]
pub struct TreeShap {
    /// `tree_interventional` or `tree_path_dependent`.
    pub method: String,
    /// `raw`: margins before `post_transform` (log-odds for binary GBMs); or the name of the
    /// transformed output [`interventional_transformed`](super::interventional_transformed)
    /// explains (e.g. `probability`).
    pub output_space: String,
    pub n_rows: usize,
    pub n_outputs: usize,
    pub n_features: usize,
    /// Name of each raw output (class label or target).
    pub output_names: Vec<String>,
    /// Expected raw output per output: the mean over the background (interventional) or
    /// the cover-weighted mean (path-dependent).
    pub base_values: Vec<f64>,
    /// `[row][output][feature]`, row-major.
    pub values: Vec<f64>,
    /// Model output `[row][output]` in `output_space` (the raw margin for `raw`).
    pub raw_outputs: Vec<f64>,
    /// max |base + Σφ − raw output| over rows and outputs (checked, not assumed).
    pub additivity_max_abs_error: f64,
    /// Background rows (interventional) or rows used for covers (path-dependent).
    pub background_rows: usize,
    pub notes: Vec<String>,
}

impl TreeShap {
    /// A result in raw-margin space over every output of `forest`: `(base_values, values,
    /// raw_outputs)` as laid out on [`TreeShap`], with its additivity checked.
    pub(crate) fn raw_margins(
        forest: &Forest,
        method: &str,
        n_rows: usize,
        (base_values, values, raw_outputs): (Vec<f64>, Vec<f64>, Vec<f64>),
        background_rows: usize,
        notes: Vec<String>,
    ) -> Self {
        let mut out = TreeShap {
            method: method.to_string(),
            output_space: "raw".to_string(),
            n_rows,
            n_outputs: forest.n_outputs,
            n_features: forest.n_features,
            output_names: forest.output_names.clone(),
            base_values,
            values,
            raw_outputs,
            additivity_max_abs_error: 0.0,
            background_rows,
            notes,
        };
        out.finish_additivity();
        out
    }

    /// φ for (row, output) as a slice over features.
    pub fn row_values(&self, row: usize, output: usize) -> &[f64] {
        let start = (row * self.n_outputs + output) * self.n_features;
        &self.values[start..start + self.n_features]
    }

    pub(crate) fn finish_additivity(&mut self) {
        let mut worst: f64 = 0.0;
        for r in 0..self.n_rows {
            for o in 0..self.n_outputs {
                let s: f64 = self.row_values(r, o).iter().sum();
                let err =
                    (self.base_values[o] + s - self.raw_outputs[r * self.n_outputs + o]).abs();
                worst = worst.max(if err.is_nan() { f64::INFINITY } else { err });
            }
        }
        self.additivity_max_abs_error = worst;
    }
}

/// Rows per work unit between progress updates and cancel checks.
pub(crate) const CHUNK: usize = 16;

/// Shapley weights for n relevant features: `pos[n][a] = (a−1)!(n−a)!/n!` (a feature on the
/// x side, a = |A|) and `neg[n][a] = a!(n−a−1)!/n!` (a feature on the b side).
pub(super) struct Weights {
    pos: Vec<Vec<f64>>,
    neg: Vec<Vec<f64>>,
}

impl Weights {
    pub(super) fn new(max_n: usize) -> Self {
        let mut pos = Vec::with_capacity(max_n + 1);
        let mut neg = Vec::with_capacity(max_n + 1);
        for n in 0..=max_n {
            let mut p = vec![0.0; n + 1];
            let mut q = vec![0.0; n + 1];
            for a in 0..=n {
                let c = binomial(n, a);
                if a >= 1 {
                    p[a] = 1.0 / (a as f64 * c);
                }
                if a < n {
                    q[a] = 1.0 / ((n - a) as f64 * c);
                }
            }
            pos.push(p);
            neg.push(q);
        }
        Weights { pos, neg }
    }
}

fn binomial(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    let mut c = 1.0;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    c
}

/// The forest flattened for the inner loop: per node, its children and the direction a
/// given row takes are looked up by global node index.
pub(crate) struct Flat<'a> {
    pub forest: &'a Forest,
    /// Global index of each tree's root.
    pub offsets: Vec<usize>,
    pub total: usize,
}

impl<'a> Flat<'a> {
    pub fn new(forest: &'a Forest) -> Self {
        let mut offsets = Vec::with_capacity(forest.trees.len());
        let mut total = 0;
        for t in &forest.trees {
            offsets.push(total);
            total += t.nodes.len();
        }
        Flat {
            forest,
            offsets,
            total,
        }
    }

    /// For every node of every tree: 1 when the (prepared) row goes to the true child.
    pub fn directions(&self, row: &[f64], out: &mut [bool]) {
        for (t, &off) in self.forest.trees.iter().zip(&self.offsets) {
            for (i, n) in t.nodes.iter().enumerate() {
                out[off + i] = !n.is_leaf() && n.goes_true(row[n.feature]);
            }
        }
    }
}

/// Splits a row-major block into prepared rows, checking its width.
pub(crate) fn prepare_block(forest: &Forest, data: &[f64], what: &str) -> Result<Vec<f64>> {
    let f = forest.n_features;
    if f == 0 || data.len() % f != 0 {
        return Err(EngineError::usage(format!(
            "{what}: {} values is not a whole number of rows of {f} features",
            data.len()
        )));
    }
    Ok(data.iter().map(|&x| forest.prepare_value(x)).collect())
}

pub(super) struct Walk<'a> {
    pub(super) forest: &'a Forest,
    pub(super) w: &'a Weights,
    pub(super) xdir: &'a [bool],
    pub(super) bdir: &'a [bool],
    /// Features met where x and b split apart, with their side (true = x side).
    pub(super) feats: Vec<(usize, bool)>,
    /// Background rows sharing `bdir` in this tree (their walks are identical).
    pub(super) count: f64,
    pub(super) phi: &'a mut [f64],
}

impl Walk<'_> {
    pub(super) fn tree(&mut self, t: usize, off: usize) {
        self.node(t, off, 0, 0);
    }

    fn node(&mut self, t: usize, off: usize, i: usize, n_x: usize) {
        let tree = &self.forest.trees[t];
        let node = &tree.nodes[i];
        if node.is_leaf() {
            let n = self.feats.len();
            if n == 0 {
                return;
            }
            let wp = self.w.pos[n][n_x] * self.count;
            let wn = self.w.neg[n][n_x] * self.count;
            let nf = self.forest.n_features;
            for (o, &v) in node.values.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let base = o * nf;
                for &(f, x_side) in &self.feats {
                    self.phi[base + f] += if x_side { v * wp } else { -v * wn };
                }
            }
            return;
        }
        let gx = self.xdir[off + i];
        let gb = self.bdir[off + i];
        let child = |g: bool| if g { node.true_child } else { node.false_child };
        if gx == gb {
            return self.node(t, off, child(gx), n_x);
        }
        if let Some(&(_, side)) = self.feats.iter().find(|(f, _)| *f == node.feature) {
            return self.node(t, off, child(if side { gx } else { gb }), n_x);
        }
        self.feats.push((node.feature, true));
        self.node(t, off, child(gx), n_x + 1);
        if let Some(last) = self.feats.last_mut() {
            last.1 = false;
        }
        self.node(t, off, child(gb), n_x);
        self.feats.pop();
    }
}

/// The explained rows and the background of interventional TreeSHAP as checked blocks, with
/// their row counts (at least one background row).
pub(crate) fn interventional_blocks(
    forest: &Forest,
    rows: &[f64],
    background: &[f64],
) -> Result<(Vec<f64>, Vec<f64>, usize, usize)> {
    let f = forest.n_features.max(1);
    let x = prepare_block(forest, rows, "rows")?;
    let b = prepare_block(forest, background, "background")?;
    let (n_rows, n_bg) = (x.len() / f, b.len() / f);
    if n_bg == 0 {
        return Err(EngineError::usage(
            "interventional TreeSHAP needs at least one background row",
        ));
    }
    Ok((x, b, n_rows, n_bg))
}

/// Interventional TreeSHAP for `rows` (row-major, `forest.n_features` columns) against
/// `background` (same layout), in raw-margin space, parallel over row chunks.
pub fn interventional(
    forest: &Forest,
    rows: &[f64],
    background: &[f64],
    progress: &Progress,
) -> Result<TreeShap> {
    let f = forest.n_features;
    let no = forest.n_outputs;
    let (x, b, n_rows, n_bg) = interventional_blocks(forest, rows, background)?;
    let flat = Flat::new(forest);
    let weights = Weights::new(forest.max_depth() + 1);
    let mut bdirs = vec![false; n_bg * flat.total];
    for (bi, brow) in b.chunks_exact(f).enumerate() {
        flat.directions(brow, &mut bdirs[bi * flat.total..(bi + 1) * flat.total]);
    }
    // Background rows that take the same direction at every split of a tree walk it
    // identically: walk one of them, weighted by their count.
    let groups: Vec<Vec<(usize, f64)>> = forest
        .trees
        .iter()
        .zip(&flat.offsets)
        .map(|(t, &off)| {
            let mut seen: HashMap<&[bool], usize> = HashMap::new();
            let mut g: Vec<(usize, f64)> = Vec::new();
            for bi in 0..n_bg {
                let start = bi * flat.total + off;
                let key = &bdirs[start..start + t.nodes.len()];
                match seen.get(key) {
                    Some(&k) => g[k].1 += 1.0,
                    None => {
                        seen.insert(key, g.len());
                        g.push((bi, 1.0));
                    }
                }
            }
            g
        })
        .collect();
    let mut base_values = vec![0.0; no];
    for brow in b.chunks_exact(f) {
        for (s, v) in base_values.iter_mut().zip(forest.raw_prepared(brow)) {
            *s += v;
        }
    }
    base_values.iter_mut().for_each(|s| *s /= n_bg as f64);

    let mut values = vec![0.0; n_rows * no * f];
    let mut raw_outputs = vec![0.0; n_rows * no];
    let done = AtomicUsize::new(0);
    progress.set(0.0, "TreeSHAP (interventional)");
    let per_row = no * f;
    values
        .par_chunks_mut(CHUNK * per_row.max(1))
        .zip(raw_outputs.par_chunks_mut(CHUNK * no.max(1)))
        .zip(x.par_chunks(CHUNK * f))
        .try_for_each(|((phi_chunk, raw_chunk), x_chunk)| -> Result<()> {
            progress.check()?;
            let mut xdir = vec![false; flat.total];
            for (r, xrow) in x_chunk.chunks_exact(f).enumerate() {
                flat.directions(xrow, &mut xdir);
                let phi = &mut phi_chunk[r * per_row..(r + 1) * per_row];
                let mut walk = Walk {
                    forest,
                    w: &weights,
                    xdir: &xdir,
                    bdir: &[],
                    feats: Vec::with_capacity(64),
                    count: 1.0,
                    phi,
                };
                for (t, &off) in flat.offsets.iter().enumerate() {
                    for &(bi, count) in &groups[t] {
                        walk.bdir = &bdirs[bi * flat.total..(bi + 1) * flat.total];
                        walk.count = count;
                        walk.tree(t, off);
                    }
                }
                let inv = 1.0 / n_bg as f64;
                walk.phi.iter_mut().for_each(|v| *v *= inv);
                raw_chunk[r * no..(r + 1) * no].copy_from_slice(&forest.raw_prepared(xrow));
            }
            let d = done.fetch_add(x_chunk.len() / f, Ordering::Relaxed) + x_chunk.len() / f;
            progress.set_fraction(d as f32 / n_rows.max(1) as f32);
            Ok(())
        })?;
    Ok(TreeShap::raw_margins(
        forest,
        "tree_interventional",
        n_rows,
        (base_values, values, raw_outputs),
        n_bg,
        forest.notes.clone(),
    ))
}

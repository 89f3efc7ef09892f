//! Path-dependent TreeSHAP (Lundberg et al. 2018, Algorithm 2): Shapley values of
//! `v(S) = E[f(x) | x_S]` where the conditional expectation follows the tree's own node covers
//! (a missing feature's split sends the row down both children, weighted by cover). ONNX
//! stores no covers, so the forest must come from [`Forest::with_covers`].
//!
//! The recursion keeps, for the path from the root, the distinct features met with their
//! "zero fraction" (share of covers flowing along the path when the feature is absent) and
//! "one fraction" (1 when x itself goes this way), and the permutation weights of every
//! subset size; a feature met twice is first unwound. At a leaf each path feature receives
//! `unwound_sum · (one − zero) · value`.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::shap::{prepare_block, TreeShap, CHUNK};
use super::{Forest, Tree};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

#[derive(Clone, Copy)]
struct Elem {
    feature: usize,
    zero: f64,
    one: f64,
    weight: f64,
}

fn extend(path: &mut Vec<Elem>, zero: f64, one: f64, feature: usize) {
    let l = path.len();
    path.push(Elem {
        feature,
        zero,
        one,
        weight: if l == 0 { 1.0 } else { 0.0 },
    });
    let lf = (l + 1) as f64;
    for i in (0..l).rev() {
        let w = path[i].weight;
        path[i + 1].weight += one * w * (i + 1) as f64 / lf;
        path[i].weight = zero * w * (l - i) as f64 / lf;
    }
}

fn unwind(path: &mut Vec<Elem>, k: usize) {
    let l = path.len() - 1;
    let (one, zero) = (path[k].one, path[k].zero);
    let lf = (l + 1) as f64;
    let mut next = path[l].weight;
    for j in (0..l).rev() {
        if one != 0.0 {
            let t = path[j].weight;
            path[j].weight = next * lf / ((j + 1) as f64 * one);
            next = t - path[j].weight * zero * (l - j) as f64 / lf;
        } else {
            path[j].weight = path[j].weight * lf / (zero * (l - j) as f64);
        }
    }
    for j in k..l {
        path[j].feature = path[j + 1].feature;
        path[j].zero = path[j + 1].zero;
        path[j].one = path[j + 1].one;
    }
    path.pop();
}

/// Total permutation weight of the path with element `k` removed.
fn unwound_sum(path: &[Elem], k: usize) -> f64 {
    let l = path.len() - 1;
    let (one, zero) = (path[k].one, path[k].zero);
    let lf = (l + 1) as f64;
    let mut total = 0.0;
    if one != 0.0 {
        let mut next = path[l].weight;
        for j in (0..l).rev() {
            let t = next * lf / ((j + 1) as f64 * one);
            total += t;
            next = path[j].weight - t * zero * (l - j) as f64 / lf;
        }
    } else {
        for j in (0..l).rev() {
            total += path[j].weight * lf / (zero * (l - j) as f64);
        }
    }
    total
}

struct Ctx<'a> {
    tree: &'a Tree,
    covers: &'a [f64],
    x: &'a [f64],
    n_features: usize,
    phi: &'a mut [f64],
}

impl Ctx<'_> {
    fn recurse(&mut self, i: usize, parent: &[Elem], zero: f64, one: f64, feature: usize) {
        let mut path = parent.to_vec();
        extend(&mut path, zero, one, feature);
        let node = &self.tree.nodes[i];
        if node.is_leaf() {
            // Element 0 is the root's placeholder.
            for k in 1..path.len() {
                let d = path[k].one - path[k].zero;
                if d == 0.0 {
                    continue;
                }
                let w = unwound_sum(&path, k) * d;
                let f = path[k].feature;
                for (o, &v) in node.values.iter().enumerate() {
                    self.phi[o * self.n_features + f] += w * v;
                }
            }
            return;
        }
        let (hot, cold) = if node.goes_true(self.x[node.feature]) {
            (node.true_child, node.false_child)
        } else {
            (node.false_child, node.true_child)
        };
        let (mut iz, mut io) = (1.0, 1.0);
        if let Some(k) = (1..path.len()).find(|&k| path[k].feature == node.feature) {
            iz = path[k].zero;
            io = path[k].one;
            unwind(&mut path, k);
        }
        let rj = self.covers[i];
        let frac = |c: usize| if rj > 0.0 { self.covers[c] / rj } else { 0.0 };
        let (fh, fc) = (frac(hot), frac(cold));
        if iz * fh != 0.0 || io != 0.0 {
            self.recurse(hot, &path, iz * fh, io, node.feature);
        }
        if iz * fc != 0.0 {
            self.recurse(cold, &path, iz * fc, 0.0, node.feature);
        }
    }
}

/// Path-dependent TreeSHAP for `rows` (row-major, `forest.n_features` columns), in raw-margin
/// space. The forest needs covers ([`Forest::with_covers`]); the base value is the
/// cover-weighted mean leaf value of each tree, plus the bias.
pub fn path_dependent(forest: &Forest, rows: &[f64], progress: &Progress) -> Result<TreeShap> {
    if !forest.has_covers() {
        return Err(EngineError::usage(
            "path-dependent TreeSHAP needs node covers: ONNX stores none, so route a dataset \
             through the trees first (Forest::with_covers)",
        ));
    }
    let f = forest.n_features;
    let no = forest.n_outputs;
    let x = prepare_block(forest, rows, "rows")?;
    let n_rows = x.len() / f.max(1);
    let covers: Vec<Vec<f64>> = forest
        .trees
        .iter()
        .map(|t| t.nodes.iter().map(|n| n.cover.unwrap_or(0.0)).collect())
        .collect();
    let cover_rows = covers
        .first()
        .and_then(|c| c.first())
        .copied()
        .unwrap_or(0.0);
    let mut base_values = forest.bias.clone();
    for (t, c) in forest.trees.iter().zip(&covers) {
        let root = c.first().copied().unwrap_or(0.0);
        if root <= 0.0 {
            continue;
        }
        for (n, &cv) in t.nodes.iter().zip(c) {
            if n.is_leaf() {
                for (b, v) in base_values.iter_mut().zip(&n.values) {
                    *b += v * cv / root;
                }
            }
        }
    }
    let mut values = vec![0.0; n_rows * no * f];
    let mut raw_outputs = vec![0.0; n_rows * no];
    let per_row = no * f;
    let done = AtomicUsize::new(0);
    progress.set(0.0, "TreeSHAP (path-dependent)");
    values
        .par_chunks_mut(CHUNK * per_row.max(1))
        .zip(raw_outputs.par_chunks_mut(CHUNK * no.max(1)))
        .zip(x.par_chunks(CHUNK * f))
        .try_for_each(|((phi_chunk, raw_chunk), x_chunk)| -> Result<()> {
            progress.check()?;
            for (r, xrow) in x_chunk.chunks_exact(f).enumerate() {
                let phi = &mut phi_chunk[r * per_row..(r + 1) * per_row];
                for (tree, c) in forest.trees.iter().zip(&covers) {
                    let mut ctx = Ctx {
                        tree,
                        covers: c,
                        x: xrow,
                        n_features: f,
                        phi: &mut *phi,
                    };
                    ctx.recurse(0, &[], 1.0, 1.0, usize::MAX);
                }
                raw_chunk[r * no..(r + 1) * no].copy_from_slice(&forest.raw_prepared(xrow));
            }
            let d = done.fetch_add(x_chunk.len() / f, Ordering::Relaxed) + x_chunk.len() / f;
            progress.set_fraction(d as f32 / n_rows.max(1) as f32);
            Ok(())
        })?;
    let mut notes = forest.notes.clone();
    notes.push(
        "path-dependent TreeSHAP: conditional expectations follow node covers recomputed from \
         the given dataset, not covers stored in the model"
            .to_string(),
    );
    Ok(TreeShap::raw_margins(
        forest,
        "tree_path_dependent",
        n_rows,
        (base_values, values, raw_outputs),
        cover_rows as usize,
        notes,
    ))
}

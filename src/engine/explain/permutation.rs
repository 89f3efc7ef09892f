//! Permutation SHAP with antithetic permutations (like `shap.PermutationExplainer`): for each
//! random feature order, features are switched on one by one from the background (forward)
//! and then off again in the same order (which walks the reversed permutation); each step's
//! change of `v` is credited to the feature switched. Exactly additive by construction (every
//! pass telescopes to `v(all) − v(none)`); `nsamples` is the budget of coalition evaluations
//! per row (`max_evals`, default 500), giving `nsamples / (2F + 1)` permutations.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;

use super::masked::Masked;
use super::Link;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

pub const DEFAULT_MAX_EVALS: usize = 500;

/// The 2F + 1 masks of one antithetic pass over `order`.
fn pass_masks(order: &[usize], f: usize) -> Vec<Vec<bool>> {
    let mut masks = Vec::with_capacity(2 * f + 1);
    let mut cur = vec![false; f];
    masks.push(cur.clone());
    for &j in order {
        cur[j] = true;
        masks.push(cur.clone());
    }
    for &j in order {
        cur[j] = false;
        masks.push(cur.clone());
    }
    masks
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    m: &Masked,
    n_rows: usize,
    f: usize,
    link: Link,
    nsamples: Option<usize>,
    seed: u64,
    progress: &Progress,
    span: (f32, f32),
) -> Result<(Vec<Vec<f64>>, usize)> {
    let max_evals = nsamples.unwrap_or(DEFAULT_MAX_EVALS);
    let nperm = max_evals / (2 * f + 1);
    if nperm == 0 {
        return Err(EngineError::usage(format!(
            "--nsamples {max_evals} is too low for permutation SHAP: it needs at least 2 × features + 1 = {}",
            2 * f + 1
        )));
    }
    let mut out = Vec::with_capacity(n_rows);
    for r in 0..n_rows {
        progress.check()?;
        let mut rng = Pcg64::seed_from_u64(seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut order: Vec<usize> = (0..f).collect();
        let mut orders = Vec::with_capacity(nperm);
        let mut masks = Vec::with_capacity(nperm * (2 * f + 1));
        for _ in 0..nperm {
            order.shuffle(&mut rng);
            masks.extend(pass_masks(&order, f));
            orders.push(order.clone());
        }
        let jobs: Vec<(usize, &[bool])> = masks.iter().map(|mk| (r, mk.as_slice())).collect();
        let a = span.0 + (span.1 - span.0) * r as f32 / n_rows as f32;
        let b = span.0 + (span.1 - span.0) * (r + 1) as f32 / n_rows as f32;
        let v: Vec<f64> = m
            .eval(&jobs, progress, (a, b))?
            .into_iter()
            .map(|p| link.apply(p))
            .collect();
        let mut phi = vec![0.0; f];
        for (p, ord) in orders.iter().enumerate() {
            let o = &v[p * (2 * f + 1)..(p + 1) * (2 * f + 1)];
            for (i, &j) in ord.iter().enumerate() {
                phi[j] += o[i + 1] - o[i];
                phi[j] += o[f + i] - o[f + i + 1];
            }
        }
        for p in &mut phi {
            *p /= (2 * nperm) as f64;
        }
        out.push(phi);
    }
    Ok((out, nperm))
}

//! KernelSHAP with the shap library's sampling and weighting (`shap.KernelExplainer`,
//! `l1_reg` off): only "varying" features (those where some background row differs from the
//! explained row) get values; coalition sizes are enumerated completely, smallest (paired
//! with their complements) first, while the sample budget covers a whole size; the rest is
//! sampled by size with the Shapley kernel and paired with complements; the weighted least
//! squares eliminates the last varying feature with the additivity constraint. With
//! `nsamples ≥ 2^M − 2` every coalition is enumerated and the result is exact.

use std::collections::HashMap;

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;

use super::masked::{same_value, Masked};
use super::Link;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// shap's default sample count: `2 M + 2048`.
pub fn default_nsamples(m: usize) -> usize {
    2 * m + 2048
}

fn binom(n: usize, k: usize) -> f64 {
    let mut r = 1.0f64;
    for i in 0..k {
        r = r * (n - i) as f64 / (i + 1) as f64;
    }
    r
}

/// Coalitions (over the `m` varying features) and their kernel weights, as shap builds them.
pub fn coalitions(
    m: usize,
    nsamples: Option<usize>,
    rng: &mut impl Rng,
) -> (Vec<Vec<bool>>, Vec<f64>) {
    let mut nsamples = nsamples.unwrap_or_else(|| default_nsamples(m));
    if m <= 30 {
        nsamples = nsamples.min((1usize << m) - 2);
    }
    // ceil((m − 1) / 2) sizes, the first floor((m − 1) / 2) of them paired.
    let num_subset_sizes = (m - 1).div_ceil(2);
    let num_paired = (m - 1) / 2;
    let mut weight_vector: Vec<f64> = (1..=num_subset_sizes)
        .map(|i| (m as f64 - 1.0) / (i as f64 * (m - i) as f64))
        .collect();
    for w in weight_vector.iter_mut().take(num_paired) {
        *w *= 2.0;
    }
    let total: f64 = weight_vector.iter().sum();
    for w in &mut weight_vector {
        *w /= total;
    }
    let mut masks: Vec<Vec<bool>> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut num_full = 0;
    let mut left = nsamples as f64;
    let mut remaining = weight_vector.clone();
    for size in 1..=num_subset_sizes {
        let mut nsubsets = binom(m, size);
        if size <= num_paired {
            nsubsets *= 2.0;
        }
        if left * remaining[size - 1] / nsubsets >= 1.0 - 1e-8 {
            num_full += 1;
            left -= nsubsets;
            if remaining[size - 1] < 1.0 {
                let d = 1.0 - remaining[size - 1];
                for r in &mut remaining {
                    *r /= d;
                }
            }
            let mut w = weight_vector[size - 1] / binom(m, size);
            if size <= num_paired {
                w /= 2.0;
            }
            for_each_combination(m, size, |inds| {
                let mut mask = vec![false; m];
                for &i in inds {
                    mask[i] = true;
                }
                if size <= num_paired {
                    let comp: Vec<bool> = mask.iter().map(|b| !b).collect();
                    masks.push(mask);
                    weights.push(w);
                    masks.push(comp);
                    weights.push(w);
                } else {
                    masks.push(mask);
                    weights.push(w);
                }
            });
        } else {
            break;
        }
    }
    let nfixed = masks.len();
    let mut samples_left = nsamples.saturating_sub(nfixed);
    if num_full != num_subset_sizes && samples_left > 0 {
        let mut rw: Vec<f64> = weight_vector.clone();
        for w in rw.iter_mut().take(num_paired) {
            *w /= 2.0;
        }
        let rw: Vec<f64> = rw[num_full..].to_vec();
        let s: f64 = rw.iter().sum();
        let cdf: Vec<f64> = rw
            .iter()
            .scan(0.0, |acc, w| {
                *acc += w / s;
                Some(*acc)
            })
            .collect();
        let mut used: HashMap<Vec<bool>, usize> = HashMap::new();
        let draws = 4 * samples_left;
        for _ in 0..draws {
            if samples_left == 0 {
                break;
            }
            let u: f64 = rng.random();
            let ind = cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1);
            let size = ind + num_full + 1;
            let mut mask = vec![false; m];
            for i in sample(rng, m, size) {
                mask[i] = true;
            }
            let (pos, new) = match used.get(&mask) {
                Some(&p) => {
                    weights[p] += 1.0;
                    (p, false)
                }
                None => {
                    used.insert(mask.clone(), masks.len());
                    samples_left -= 1;
                    masks.push(mask.clone());
                    weights.push(1.0);
                    (masks.len() - 1, true)
                }
            };
            if samples_left > 0 && size <= num_paired {
                if new {
                    samples_left -= 1;
                    masks.push(mask.iter().map(|b| !b).collect());
                    weights.push(1.0);
                } else {
                    weights[pos + 1] += 1.0;
                }
            }
        }
        let weight_left: f64 = weight_vector[num_full..].iter().sum();
        let sampled: f64 = weights[nfixed..].iter().sum();
        if sampled > 0.0 {
            for w in &mut weights[nfixed..] {
                *w *= weight_left / sampled;
            }
        }
    }
    (masks, weights)
}

fn for_each_combination(n: usize, k: usize, mut f: impl FnMut(&[usize])) {
    if k > n {
        return;
    }
    // Lexicographic order, like itertools.combinations.
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        f(&idx);
        let mut i = k;
        while i > 0 && idx[i - 1] == n - k + i - 1 {
            i -= 1;
        }
        if i == 0 {
            return;
        }
        idx[i - 1] += 1;
        for j in i..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

/// Solves the symmetric system `a x = b` (Gaussian elimination with partial pivoting).
pub(crate) fn solve_system(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-300 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            if f != 0.0 {
                for k in c..n {
                    a[r][k] -= f * a[c][k];
                }
                b[r] -= f * b[c];
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// One row's plan: varying features, coalitions over them and kernel weights.
struct RowPlan {
    varying: Vec<usize>,
    masks: Vec<Vec<bool>>,
    weights: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    m: &Masked,
    n_rows: usize,
    f: usize,
    link: Link,
    fx: &[f64],
    fnull: f64,
    nsamples: Option<usize>,
    seed: u64,
    progress: &Progress,
    span: (f32, f32),
) -> Result<Vec<Vec<f64>>> {
    let mut out = Vec::with_capacity(n_rows);
    let n_bg = m.n_bg();
    let mut r = 0;
    let mut done_rows = 0;
    while r < n_rows {
        progress.check()?;
        // Plan rows until the group fills a few batches.
        let mut plans = Vec::new();
        let mut model_rows = 0;
        while r < n_rows && (plans.is_empty() || model_rows < super::masked::MAX_BATCH_ROWS) {
            let varying: Vec<usize> = (0..f)
                .filter(|&j| (0..n_bg).any(|b| !same_value(m.x, r, m.bg, b, j)))
                .collect();
            let mut rng =
                Pcg64::seed_from_u64(seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let (masks, weights) = if varying.len() >= 2 {
                coalitions(varying.len(), nsamples, &mut rng)
            } else {
                (Vec::new(), Vec::new())
            };
            model_rows += masks.len() * n_bg;
            plans.push(RowPlan {
                varying,
                masks,
                weights,
            });
            r += 1;
        }
        let first = r - plans.len();
        let full: Vec<Vec<Vec<bool>>> = plans
            .iter()
            .map(|p| {
                p.masks
                    .iter()
                    .map(|mk| {
                        let mut full = vec![false; f];
                        for (k, &j) in p.varying.iter().enumerate() {
                            full[j] = mk[k];
                        }
                        full
                    })
                    .collect()
            })
            .collect();
        let jobs: Vec<(usize, &[bool])> = full
            .iter()
            .enumerate()
            .flat_map(|(i, ms)| ms.iter().map(move |mk| (first + i, mk.as_slice())))
            .collect();
        let a = span.0 + (span.1 - span.0) * done_rows as f32 / n_rows as f32;
        let b = span.0 + (span.1 - span.0) * r as f32 / n_rows as f32;
        let ey = m.eval(&jobs, progress, (a, b))?;
        let mut pos = 0;
        for (i, p) in plans.iter().enumerate() {
            let row = first + i;
            let ey_row = &ey[pos..pos + p.masks.len()];
            pos += p.masks.len();
            out.push(solve_row(
                p,
                ey_row,
                f,
                link.apply(fx[row]) - link.apply(fnull),
                link,
                fnull,
            )?);
        }
        done_rows = r;
    }
    Ok(out)
}

fn solve_row(
    p: &RowPlan,
    ey: &[f64],
    f: usize,
    total: f64,
    link: Link,
    fnull: f64,
) -> Result<Vec<f64>> {
    let mut phi = vec![0.0; f];
    let mm = p.varying.len();
    if mm == 0 {
        return Ok(phi);
    }
    if mm == 1 {
        phi[p.varying[0]] = total;
        return Ok(phi);
    }
    let last = mm - 1;
    let lnull = link.apply(fnull);
    let k = mm - 1;
    let mut a = vec![vec![0.0; k]; k];
    let mut b = vec![0.0; k];
    for (s, mask) in p.masks.iter().enumerate() {
        let w = p.weights[s];
        let ml = f64::from(u8::from(mask[last]));
        let y = link.apply(ey[s]) - lnull - ml * total;
        let x: Vec<f64> = (0..k).map(|j| f64::from(u8::from(mask[j])) - ml).collect();
        for i in 0..k {
            if x[i] == 0.0 {
                continue;
            }
            let wx = w * x[i];
            b[i] += wx * y;
            for j in 0..k {
                a[i][j] += wx * x[j];
            }
        }
    }
    let w = solve_system(a, b).ok_or_else(|| {
        EngineError::usage(
            "KernelSHAP's weighted least squares is singular with this sample count; raise --nsamples",
        )
    })?;
    let mut sum = 0.0;
    for (kk, &j) in p.varying[..last].iter().enumerate() {
        phi[j] = w[kk];
        sum += w[kk];
    }
    phi[p.varying[last]] = total - sum;
    Ok(phi)
}

//! Exact Shapley values over all 2^F coalitions of the value function
//! `v(S) = link(E_b f(x_S, b_notS))`:
//! `φ_i = Σ_{S ∌ i} |S|! (F − |S| − 1)! / F! · (v(S ∪ {i}) − v(S))`.

use super::masked::Masked;
use super::Link;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// Largest feature count for the exact method (2^F coalitions per row).
pub const MAX_EXACT_FEATURES: usize = 16;

/// Shapley weights `w[s] = s! (F − s − 1)! / F!` for coalition sizes `s = 0..F`.
pub fn shapley_weights(f: usize) -> Vec<f64> {
    // w[s] = 1 / (F · C(F − 1, s)).
    let mut w = Vec::with_capacity(f);
    let mut binom = 1.0f64;
    for s in 0..f {
        if s > 0 {
            binom = binom * (f - s) as f64 / s as f64;
        }
        w.push(1.0 / (f as f64 * binom));
    }
    w
}

/// Shapley values from `v` indexed by coalition bit mask (bit j = feature j present).
pub fn shapley_from_values(v: &[f64], f: usize) -> Vec<f64> {
    let w = shapley_weights(f);
    let mut phi = vec![0.0; f];
    for (i, p) in phi.iter_mut().enumerate() {
        let bit = 1usize << i;
        let mut acc = 0.0;
        for s in 0..(1usize << f) {
            if s & bit == 0 {
                acc += w[s.count_ones() as usize] * (v[s | bit] - v[s]);
            }
        }
        *p = acc;
    }
    phi
}

pub(crate) fn explain(
    m: &Masked,
    n_rows: usize,
    f: usize,
    link: Link,
    progress: &Progress,
    span: (f32, f32),
) -> Result<Vec<Vec<f64>>> {
    if f > MAX_EXACT_FEATURES {
        return Err(EngineError::usage(format!(
            "exact Shapley values enumerate 2^F coalitions; {f} features is too many (at most {MAX_EXACT_FEATURES}); use --method kernel or permutation"
        )));
    }
    let masks: Vec<Vec<bool>> = (0..1usize << f)
        .map(|s| (0..f).map(|j| s & (1 << j) != 0).collect())
        .collect();
    // Rows per model call: as many whole rows as fit in a batch.
    let per_row = masks.len() * m.n_bg();
    let rows_per_call = (super::masked::MAX_BATCH_ROWS / per_row.max(1)).max(1);
    let mut out = Vec::with_capacity(n_rows);
    let chunks = n_rows.div_ceil(rows_per_call).max(1);
    for c in 0..chunks {
        let rows = c * rows_per_call..((c + 1) * rows_per_call).min(n_rows);
        let jobs: Vec<(usize, &[bool])> = rows
            .clone()
            .flat_map(|r| masks.iter().map(move |mk| (r, mk.as_slice())))
            .collect();
        let a = span.0 + (span.1 - span.0) * c as f32 / chunks as f32;
        let b = span.0 + (span.1 - span.0) * (c + 1) as f32 / chunks as f32;
        let v = m.eval(&jobs, progress, (a, b))?;
        for vr in v.chunks_exact(masks.len()) {
            let lv: Vec<f64> = vr.iter().map(|&p| link.apply(p)).collect();
            out.push(shapley_from_values(&lv, f));
        }
    }
    Ok(out)
}

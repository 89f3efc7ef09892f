//! Stratified percentile bootstrap: replicate `r` redraws, within every group, as many rows as
//! the group has (with replacement) from a PCG stream seeded by `(seed, r)`, so group sizes are
//! fixed and results do not depend on the thread count. A draw is a set of integer row
//! weights; for binary outcomes only the per-group confusion cells matter, so the draw is
//! mapped straight onto the cells (rows sorted by cell) without materialising the weights.

use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;

use super::stats::{binary_values, compute, slice_values, Outcomes, SliceValues, Values};
use crate::engine::error::Result;
use crate::engine::metrics::bootstrap::BootstrapSettings;
use crate::engine::metrics::percentile_sorted;
use crate::engine::progress::Stage;

fn rng_for(seed: u64, r: usize) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(
        seed ^ (r as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

/// Draw counts per row of each group for replicate `r` (the integer weights).
pub fn replicate_weights(members: &[Vec<u32>], seed: u64, r: usize) -> Vec<Vec<u32>> {
    let mut rng = rng_for(seed, r);
    members
        .iter()
        .map(|rows| {
            let n = rows.len();
            let mut w = vec![0u32; n];
            for _ in 0..n {
                w[rng.random_range(0..n)] += 1;
            }
            w
        })
        .collect()
}

/// Runs the replicates; `None` when cancelled.
pub fn replicates(
    outcomes: &Outcomes,
    members: &[Vec<u32>],
    settings: &BootstrapSettings,
    progress: &Stage,
) -> Result<Vec<SliceValues>> {
    let reps = settings.resamples;
    if reps == 0 || members.is_empty() {
        return Ok(Vec::new());
    }
    // Binary: per group, cumulative cell counts of its rows (tn, fp, fn, tp).
    let cells: Vec<[usize; 4]> = members
        .iter()
        .map(|rows| {
            let mut c = [0usize; 4];
            for &r in rows {
                c[outcomes.cell(r as usize)] += 1;
            }
            [c[0], c[0] + c[1], c[0] + c[1] + c[2], rows.len()]
        })
        .collect();
    let done = AtomicUsize::new(0);
    let out: Vec<Option<SliceValues>> = (0..reps)
        .into_par_iter()
        .map(|r| {
            if progress.check().is_err() {
                return None;
            }
            let v = match outcomes {
                Outcomes::Binary { .. } => {
                    let mut rng = rng_for(settings.seed, r);
                    let mut total = [0.0f64; 4];
                    let groups: Vec<Values> = cells
                        .iter()
                        .map(|cum| {
                            let n = cum[3];
                            let mut c = [0.0f64; 4];
                            for _ in 0..n {
                                let k = rng.random_range(0..n);
                                let cell = usize::from(k >= cum[0])
                                    + usize::from(k >= cum[1])
                                    + usize::from(k >= cum[2]);
                                c[cell] += 1.0;
                            }
                            for (t, x) in total.iter_mut().zip(c) {
                                *t += x;
                            }
                            binary_values(c)
                        })
                        .collect();
                    slice_values(groups, binary_values(total), true)
                }
                Outcomes::Multiclass { .. } | Outcomes::Regression { .. } => {
                    let w = replicate_weights(members, settings.seed, r);
                    compute(outcomes, members, Some(&w))
                }
            };
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if d % 16 == 0 || d == reps {
                progress.set_fraction(d as f32 / reps as f32);
            }
            Some(v)
        })
        .collect();
    progress.check()?;
    Ok(out.into_iter().flatten().collect())
}

/// Percentile interval of the defined values, when defined in at least half the replicates.
pub fn interval(samples: impl Iterator<Item = Option<f64>>, confidence: f64) -> Option<[f64; 2]> {
    let mut total = 0usize;
    let mut vals: Vec<f64> = Vec::new();
    for s in samples {
        total += 1;
        if let Some(v) = s.filter(|v| v.is_finite()) {
            vals.push(v);
        }
    }
    if total == 0 || vals.len() * 2 < total {
        return None;
    }
    vals.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    percentile_sorted(&vals, alpha)
        .zip(percentile_sorted(&vals, 1.0 - alpha))
        .map(|(a, b)| [a, b])
}

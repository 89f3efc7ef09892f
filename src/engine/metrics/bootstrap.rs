//! Percentile bootstrap confidence intervals. Replicate `r` draws `n` rows with replacement
//! from a PCG stream seeded by `(seed, r)`, so results do not depend on the thread count; the
//! metric function sees the draw as integer row weights.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use serde::Serialize;

use super::{percentile_sorted, Metrics};
use crate::engine::error::Result;
use crate::engine::progress::Stage;

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapSettings {
    pub resamples: usize,
    pub seed: u64,
    pub confidence: f64,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 0,
            confidence: 0.95,
        }
    }
}

/// Row weights of replicate `r`.
pub fn replicate_weights(n: usize, seed: u64, r: usize) -> Vec<u32> {
    let mut rng = Pcg64Mcg::seed_from_u64(
        seed ^ (r as u64)
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut weights = vec![0u32; n];
    for _ in 0..n {
        weights[rng.random_range(0..n)] += 1;
    }
    weights
}

/// `[low, high]` per metric, for metrics defined in at least half the replicates.
/// Returns the intervals and warnings about metrics undefined in some replicates.
/// 95% intervals per metric name.
pub type Intervals = BTreeMap<String, [f64; 2]>;

pub fn intervals(
    n: usize,
    settings: &BootstrapSettings,
    progress: &Stage,
    metric: impl Fn(&[u32]) -> Metrics + Sync,
) -> Result<(Intervals, Vec<String>)> {
    let reps = settings.resamples;
    if reps == 0 || n == 0 {
        return Ok((BTreeMap::new(), Vec::new()));
    }
    let done = AtomicUsize::new(0);
    let samples: Vec<Option<Metrics>> = (0..reps)
        .into_par_iter()
        .map(|r| {
            if progress.check().is_err() {
                return None;
            }
            let m = metric(&replicate_weights(n, settings.seed, r));
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if d % 16 == 0 || d == reps {
                progress.set_fraction(d as f32 / reps as f32);
            }
            Some(m)
        })
        .collect();
    progress.check()?;
    let samples: Vec<Metrics> = samples.into_iter().flatten().collect();
    let Some(first) = samples.first() else {
        return Ok((BTreeMap::new(), Vec::new()));
    };
    let alpha = (1.0 - settings.confidence) / 2.0;
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    for (j, name) in first.names().into_iter().enumerate() {
        let mut vals: Vec<f64> = samples
            .iter()
            .filter_map(|m| m.0.get(j).and_then(|(_, v)| *v))
            .filter(|v| v.is_finite())
            .collect();
        let undefined = reps - vals.len();
        if vals.len() * 2 < reps {
            if undefined < reps {
                warnings.push(format!(
                    "{name}: no confidence interval, undefined in {undefined} of {reps} bootstrap resamples"
                ));
            }
            continue;
        }
        if undefined > 0 {
            warnings.push(format!(
                "{name}: confidence interval from {} of {reps} bootstrap resamples (undefined in the rest)",
                vals.len()
            ));
        }
        vals.sort_by(f64::total_cmp);
        if let (Some(lo), Some(hi)) = (
            percentile_sorted(&vals, alpha),
            percentile_sorted(&vals, 1.0 - alpha),
        ) {
            out.insert(name.to_string(), [lo, hi]);
        }
    }
    Ok((out, warnings))
}

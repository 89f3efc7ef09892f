//! Percentile bootstrap confidence intervals: the one resampling core of `evaluate` and
//! `compare` (paired intervals).
//!
//! The scheme is the **Poisson bootstrap**: in replicate `r`, row `i` is drawn `w ~ Poisson(1)`
//! times, independently of every other row (the multinomial draw of `n` rows is approximated by
//! `n` independent Poisson(1) counts; the total weight varies by about `√n`, which every metric
//! absorbs because it is a weighted mean or ratio). The count is a pure function of
//! `(seed, r, i)` — a SplitMix64 hash of a counter turned into a Poisson(1) count by inverse CDF
//! — so:
//! - results do not depend on the thread count or on the order rows are visited in,
//! - a metric can visit its rows in any order (binary metrics visit them in score order, once
//!   sorted: [`super::sorted::SortedBinary`]) and never materialise the weights,
//! - every model of a comparison sees the same draws (paired intervals) and `evaluate`'s
//!   intervals use the same draws as `compare`'s.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Serialize, Serializer};

use super::{percentile_sorted, Metrics};
use crate::engine::error::Result;
use crate::engine::progress::Stage;

/// The resampling scheme, named in every result's `bootstrap.method`.
pub const METHOD: &str = "poisson bootstrap";

#[derive(Debug, Clone)]
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

impl Serialize for BootstrapSettings {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            resamples: usize,
            seed: u64,
            confidence: f64,
            method: &'a str,
        }
        Out {
            resamples: self.resamples,
            seed: self.seed,
            confidence: self.confidence,
            method: METHOD,
        }
        .serialize(s)
    }
}

/// `⌊P(X ≤ k) · 2⁶⁴⌋` for `X ~ Poisson(1)`, k = 0‥19 (exact rational arithmetic; P(X ≥ 21)
/// is below 2⁻⁶⁴).
const POISSON1_CDF: [u64; 20] = [
    0x5E2D58D8B3BCDF1A,
    0xBC5AB1B16779BE35,
    0xEB715E1DC1582DC2,
    0xFB23979734A252F1,
    0xFF1025F59174DC3D,
    0xFFD90F3BA4055E19,
    0xFFFA8B71FC72C913,
    0xFFFF540C0914B3C9,
    0xFFFFED1F4AA8F120,
    0xFFFFFE216E641462,
    0xFFFFFFD4D85D3183,
    0xFFFFFFFC6DA262B4,
    0xFFFFFFFFBA12D178,
    0xFFFFFFFFFB07C64C,
    0xFFFFFFFFFFAB8EA5,
    0xFFFFFFFFFFFABE22,
    0xFFFFFFFFFFFFB11A,
    0xFFFFFFFFFFFFFBA1,
    0xFFFFFFFFFFFFFFC5,
    0xFFFFFFFFFFFFFFFD,
];

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Poisson(1) count from 64 uniform bits by inverse CDF: the number of table entries `h`
/// reaches. [`poisson1`] gives the same count faster.
const fn poisson1_exact(h: u64) -> u32 {
    let mut w = 0;
    let mut k = 0;
    while k < POISSON1_CDF.len() {
        if h >= POISSON1_CDF[k] {
            w += 1;
        }
        k += 1;
    }
    w
}

/// Leading bits of the uniform that [`QUICK`] is indexed by.
const QUICK_BITS: u32 = 12;

/// For each value of the leading [`QUICK_BITS`] bits: the Poisson(1) count when every uniform
/// starting with them has the same count, else `u8::MAX` (the 8 of 4096 slices that hold a
/// table entry, hit with probability about 0.2%).
const QUICK: [u8; 1 << QUICK_BITS] = {
    let mut t = [0u8; 1 << QUICK_BITS];
    let mut i = 0;
    while i < t.len() {
        let lo = (i as u64) << (64 - QUICK_BITS);
        let hi = lo | (u64::MAX >> QUICK_BITS);
        let w = poisson1_exact(lo);
        t[i] = if w == poisson1_exact(hi) {
            w as u8
        } else {
            u8::MAX
        };
        i += 1;
    }
    t
};

/// Poisson(1) count from 64 uniform bits: [`poisson1_exact`] through a lookup of the leading
/// bits (identical counts, one load instead of eight comparisons).
#[inline]
fn poisson1(h: u64) -> u32 {
    let w = QUICK[(h >> (64 - QUICK_BITS)) as usize];
    if w == u8::MAX {
        poisson1_exact(h)
    } else {
        u32::from(w)
    }
}

/// The hash input of row `i` (added to a replicate's base).
#[inline]
fn row_counter(i: usize) -> u64 {
    (i as u64).wrapping_add(1).wrapping_mul(GOLDEN)
}

/// Replicate `r` of a bootstrap seeded by `seed`: the draw count of any row, on demand.
#[derive(Debug, Clone, Copy)]
pub struct Draw {
    base: u64,
}

impl Draw {
    pub fn new(seed: u64, r: usize) -> Self {
        Self {
            base: mix(seed ^ mix((r as u64).wrapping_add(1).wrapping_mul(GOLDEN))),
        }
    }

    /// How often row `i` is drawn (Poisson(1)).
    #[inline]
    pub fn weight(&self, i: usize) -> u32 {
        poisson1(mix(self.base.wrapping_add(row_counter(i))))
    }

    /// The counts of rows `0..n`, for metrics that take a weight vector.
    pub fn weights(&self, n: usize) -> Vec<u32> {
        (0..n).map(|i| self.weight(i)).collect()
    }
}

/// Replicates scored together in one pass over the rows ([`intervals_blocked`]): the rows'
/// data is read once per block instead of once per replicate.
pub const BLOCK: usize = 8;

/// Replicates `first..first + BLOCK` of a bootstrap: their draws of any row, on demand.
#[derive(Debug, Clone, Copy)]
pub struct DrawBlock {
    base: [u64; BLOCK],
}

impl DrawBlock {
    pub fn new(seed: u64, first: usize) -> Self {
        Self {
            base: std::array::from_fn(|j| Draw::new(seed, first + j).base),
        }
    }

    /// How often row `i` is drawn in each replicate of the block (the counts of [`Draw::weight`]).
    #[inline]
    pub fn weights(&self, i: usize) -> [u32; BLOCK] {
        let c = row_counter(i);
        self.base.map(|b| poisson1(mix(b.wrapping_add(c))))
    }

    /// Replicate `first + j`.
    pub fn draw(&self, j: usize) -> Draw {
        Draw { base: self.base[j] }
    }
}

/// Row weights of replicate `r` (the counts of [`Draw`]).
pub fn replicate_weights(n: usize, seed: u64, r: usize) -> Vec<u32> {
    Draw::new(seed, r).weights(n)
}

/// 95% intervals per metric name.
pub type Intervals = BTreeMap<String, [f64; 2]>;

/// Runs `f` on every replicate of `settings` in parallel (rayon), with progress and cancel;
/// results in replicate order.
pub fn replicates<T: Send>(
    settings: &BootstrapSettings,
    progress: &Stage,
    f: impl Fn(&Draw) -> T + Sync,
) -> Result<Vec<T>> {
    let reps = settings.resamples;
    let done = AtomicUsize::new(0);
    let out: Vec<Option<T>> = (0..reps)
        .into_par_iter()
        .map(|r| {
            if progress.check().is_err() {
                return None;
            }
            let t = f(&Draw::new(settings.seed, r));
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if d % 16 == 0 || d == reps {
                progress.set_fraction(d as f32 / reps as f32);
            }
            Some(t)
        })
        .collect();
    progress.check()?;
    Ok(out.into_iter().flatten().collect())
}

/// What an interval is of, for warnings.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A metric ("confidence interval").
    Metric,
    /// A difference of two models' metric ("paired interval").
    Difference,
}

/// The percentile interval of one metric's replicate values (non-finite values count as
/// undefined). An interval needs the metric defined in at least half of the `reps`
/// replicates; otherwise `None`, with a warning unless it is undefined everywhere.
pub fn percentile_interval(
    name: &str,
    mut vals: Vec<f64>,
    reps: usize,
    confidence: f64,
    kind: Kind,
    warnings: &mut Vec<String>,
) -> Option<[f64; 2]> {
    vals.retain(|v| v.is_finite());
    let undefined = reps.saturating_sub(vals.len());
    if vals.len() * 2 < reps {
        if undefined < reps {
            warnings.push(match kind {
                Kind::Metric => format!(
                    "{name}: no confidence interval, undefined in {undefined} of {reps} bootstrap resamples"
                ),
                Kind::Difference => format!(
                    "{name}: no paired interval, the difference is undefined in {undefined} of {reps} resamples"
                ),
            });
        }
        return None;
    }
    if undefined > 0 {
        warnings.push(match kind {
            Kind::Metric => format!(
                "{name}: confidence interval from {} of {reps} bootstrap resamples (undefined in the rest)",
                vals.len()
            ),
            Kind::Difference => format!(
                "{name}: paired interval from {} of {reps} resamples (undefined in the rest)",
                vals.len()
            ),
        });
    }
    vals.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    Some([
        percentile_sorted(&vals, alpha)?,
        percentile_sorted(&vals, 1.0 - alpha)?,
    ])
}

/// Runs `f` on blocks of [`BLOCK`] consecutive replicates of `settings` in parallel (rayon),
/// with progress and cancel; results in replicate order, the `resamples` first.
pub fn replicate_blocks<T: Send>(
    settings: &BootstrapSettings,
    progress: &Stage,
    f: impl Fn(&DrawBlock) -> [T; BLOCK] + Sync,
) -> Result<Vec<T>> {
    let reps = settings.resamples;
    let done = AtomicUsize::new(0);
    let out: Vec<Option<[T; BLOCK]>> = (0..reps.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            if progress.check().is_err() {
                return None;
            }
            let t = f(&DrawBlock::new(settings.seed, b * BLOCK));
            let d = done.fetch_add(BLOCK, Ordering::Relaxed) + BLOCK;
            progress.set_fraction(d.min(reps) as f32 / reps as f32);
            Some(t)
        })
        .collect();
    progress.check()?;
    Ok(out.into_iter().flatten().flatten().take(reps).collect())
}

/// `[low, high]` per metric, for metrics defined in at least half the replicates; `metric`
/// computes all metrics under one replicate's draw. Returns the intervals and warnings about
/// metrics undefined in some replicates.
pub fn intervals(
    n: usize,
    settings: &BootstrapSettings,
    progress: &Stage,
    metric: impl Fn(&Draw) -> Metrics + Sync,
) -> Result<(Intervals, Vec<String>)> {
    intervals_blocked(n, settings, progress, |b| {
        std::array::from_fn(|j| metric(&b.draw(j)))
    })
}

/// [`intervals`] with `metrics` computing all metrics under each replicate of a block at once.
pub fn intervals_blocked(
    n: usize,
    settings: &BootstrapSettings,
    progress: &Stage,
    metrics: impl Fn(&DrawBlock) -> [Metrics; BLOCK] + Sync,
) -> Result<(Intervals, Vec<String>)> {
    let reps = settings.resamples;
    if reps == 0 || n == 0 {
        return Ok((BTreeMap::new(), Vec::new()));
    }
    let samples = replicate_blocks(settings, progress, metrics)?;
    let Some(first) = samples.first() else {
        return Ok((BTreeMap::new(), Vec::new()));
    };
    let mut out = BTreeMap::new();
    let mut warnings = Vec::new();
    for (j, name) in first.names().into_iter().enumerate() {
        let vals: Vec<f64> = samples
            .iter()
            .filter_map(|m| m.0.get(j).and_then(|(_, v)| *v))
            .collect();
        let ci = percentile_interval(
            name,
            vals,
            reps,
            settings.confidence,
            Kind::Metric,
            &mut warnings,
        );
        if let Some(ci) = ci {
            out.insert(name.to_string(), ci);
        }
    }
    Ok((out, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_table_matches_the_distribution() {
        let mut cdf = 0.0;
        let mut pmf = (-1.0f64).exp();
        for (k, t) in POISSON1_CDF.iter().enumerate() {
            cdf += pmf;
            pmf /= (k + 1) as f64;
            let want = cdf * 2f64.powi(64);
            assert!((*t as f64 - want).abs() <= want * 1e-15 + 4096.0, "k={k}");
        }
    }

    #[test]
    fn draws_have_poisson_moments_and_are_reproducible() {
        let d = Draw::new(7, 3);
        let w = d.weights(200_000);
        assert_eq!(w, Draw::new(7, 3).weights(200_000));
        assert_ne!(w, Draw::new(7, 4).weights(200_000));
        assert_ne!(w, Draw::new(8, 3).weights(200_000));
        let n = w.len() as f64;
        let mean = w.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let var = w
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n;
        let zeros = w.iter().filter(|&&x| x == 0).count() as f64 / n;
        // Standard errors: mean 1/√n ≈ 0.0022, P(0) ≈ 0.0011.
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        assert!((zeros - (-1.0f64).exp()).abs() < 0.005, "{zeros}");
        assert_eq!(poisson1(0), 0);
        assert_eq!(poisson1(u64::MAX), 20);
    }

    #[test]
    fn quick_counts_equal_the_exact_inverse_cdf() {
        for t in POISSON1_CDF {
            for h in [t - 1, t, t + 1, t & !(u64::MAX >> QUICK_BITS)] {
                assert_eq!(poisson1(h), poisson1_exact(h), "{h:#x}");
            }
        }
        for i in 0..200_000u64 {
            let h = mix(i);
            assert_eq!(poisson1(h), poisson1_exact(h), "{h:#x}");
        }
        let ambiguous = QUICK.iter().filter(|&&w| w == u8::MAX).count();
        assert!(ambiguous <= 10, "{ambiguous}");
    }

    #[test]
    fn blocks_draw_what_single_replicates_draw() {
        let block = DrawBlock::new(11, 16);
        for i in [0, 1, 5, 999_999] {
            let w = block.weights(i);
            for (j, wj) in w.iter().enumerate() {
                assert_eq!(*wj, Draw::new(11, 16 + j).weight(i));
            }
        }
    }
}

//! Summary statistics for repeated timings: numpy-style percentiles (linear interpolation,
//! numpy's default), the spread of a set of repeats, and a histogram for drawing.

use serde::Serialize;

/// Percentile `q` in [0, 100] of `sorted` (ascending, non-empty) with numpy's default linear
/// interpolation between closest ranks: position `q/100 · (n − 1)`.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = (q / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// The spread of repeated measurements: what a bar with whiskers needs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub median: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// 25th percentile.
    pub q1: f64,
    /// 75th percentile.
    pub q3: f64,
    /// `q3 − q1`.
    pub iqr: f64,
}

impl Spread {
    /// Spread of `values` (NaN-free; empty gives NaNs and `n = 0`).
    pub fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let mean = if n == 0 {
            f64::NAN
        } else {
            v.iter().sum::<f64>() / n as f64
        };
        let q1 = percentile_sorted(&v, 25.0);
        let q3 = percentile_sorted(&v, 75.0);
        Spread {
            n,
            median: percentile_sorted(&v, 50.0),
            mean,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
            q1,
            q3,
            iqr: q3 - q1,
        }
    }
}

/// Equal-width histogram: `edges.len() == counts.len() + 1`; the last bin includes its
/// right edge.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

impl Histogram {
    pub fn of(values: &[f64], bins: usize) -> Histogram {
        let bins = bins.max(1);
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (lo, hi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if finite.is_empty() {
            return Histogram {
                edges: Vec::new(),
                counts: Vec::new(),
            };
        }
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
        let mut counts = vec![0u64; bins];
        for v in finite {
            let b = (((v - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
        Histogram { edges, counts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_percentiles() {
        // numpy.percentile([1, 2, 3, 4, 10], [25, 50, 75, 95]) = [2, 3, 4, 8.8]
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(percentile_sorted(&v, 25.0), 2.0);
        assert_eq!(percentile_sorted(&v, 50.0), 3.0);
        assert_eq!(percentile_sorted(&v, 75.0), 4.0);
        assert!((percentile_sorted(&v, 95.0) - 8.8).abs() < 1e-12);
        let s = Spread::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max, s.iqr), (2.0, 1.0, 3.0, 1.0));
        let h = Histogram::of(&[0.0, 0.5, 1.0], 2);
        assert_eq!(h.counts, vec![1, 2]);
    }
}

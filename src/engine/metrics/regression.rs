//! Regression metrics as scikit-learn defines them: MAE, MSE, RMSE, R² and explained
//! variance (with `force_finite=True`: 1 for a perfect fit of a constant target, else 0),
//! MAPE as a fraction with `max(|y|, eps)` in the denominator, median absolute error
//! (numpy median: mean of the two middle values) and max error.

use super::{w, Metrics};

pub const NAMES: [&str; 8] = [
    "mae",
    "mse",
    "rmse",
    "r2",
    "mape",
    "median_absolute_error",
    "max_error",
    "explained_variance",
];

/// Inputs shared by the main computation and every bootstrap replicate.
pub struct Prepared<'a> {
    pub y: &'a [f64],
    pub pred: &'a [f64],
    /// Row indices sorted by absolute error, for weighted medians in O(n).
    abs_order: Vec<u32>,
}

impl<'a> Prepared<'a> {
    pub fn new(y: &'a [f64], pred: &'a [f64]) -> Self {
        use rayon::prelude::*;
        let mut abs_order: Vec<u32> = (0..y.len() as u32).collect();
        abs_order.par_sort_unstable_by(|&a, &b| {
            let ea = (y[a as usize] - pred[a as usize]).abs();
            let eb = (y[b as usize] - pred[b as usize]).abs();
            ea.total_cmp(&eb)
        });
        Prepared { y, pred, abs_order }
    }

    fn abs_err(&self, i: usize) -> f64 {
        (self.y[i] - self.pred[i]).abs()
    }

    /// Median of the absolute errors of the (weighted) multiset of rows.
    fn median_abs_error(&self, weights: Option<&[u32]>, total: f64) -> f64 {
        // 0-based positions of the two middle elements of the expanded multiset.
        let m = total as u64;
        let (a, b) = ((m - 1) / 2, m / 2);
        let (mut seen, mut va) = (0u64, None);
        for &i in &self.abs_order {
            let c = w(weights, i as usize) as u64;
            if c == 0 {
                continue;
            }
            seen += c;
            if va.is_none() && seen > a {
                va = Some(self.abs_err(i as usize));
            }
            if seen > b {
                let vb = self.abs_err(i as usize);
                return 0.5 * (va.unwrap_or(vb) + vb);
            }
        }
        f64::NAN
    }

    pub fn metrics(&self, weights: Option<&[u32]>) -> Metrics {
        let n = self.y.len();
        let mut tw = 0.0;
        let (mut sy, mut sr) = (0.0, 0.0);
        for i in 0..n {
            let wi = w(weights, i);
            tw += wi;
            sy += wi * self.y[i];
            sr += wi * (self.y[i] - self.pred[i]);
        }
        if tw == 0.0 {
            return Metrics(NAMES.iter().map(|&k| (k, None)).collect());
        }
        let mean_y = sy / tw;
        let mean_r = sr / tw;
        let (mut abs, mut sq, mut ape, mut tot, mut var_r, mut max) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0f64);
        for i in 0..n {
            let wi = w(weights, i);
            if wi == 0.0 {
                continue;
            }
            let r = self.y[i] - self.pred[i];
            abs += wi * r.abs();
            sq += wi * r * r;
            ape += wi * r.abs() / self.y[i].abs().max(f64::EPSILON);
            tot += wi * (self.y[i] - mean_y).powi(2);
            var_r += wi * (r - mean_r).powi(2);
            max = max.max(r.abs());
        }
        let finite_score = |num: f64, den: f64| {
            if den == 0.0 {
                if num == 0.0 {
                    1.0
                } else {
                    0.0
                }
            } else {
                1.0 - num / den
            }
        };
        let mse = sq / tw;
        Metrics(vec![
            ("mae", Some(abs / tw)),
            ("mse", Some(mse)),
            ("rmse", Some(mse.sqrt())),
            // scikit-learn: R² is not well-defined with fewer than two samples.
            ("r2", (tw >= 2.0).then(|| finite_score(sq, tot))),
            ("mape", Some(ape / tw)),
            (
                "median_absolute_error",
                Some(self.median_abs_error(weights, tw)),
            ),
            ("max_error", Some(max)),
            ("explained_variance", Some(finite_score(var_r, tot))),
        ])
    }
}

//! Probability calibration as NannyML 0.13.1 does it for CBPE: scikit-learn's
//! `IsotonicRegression(out_of_bounds="clip", increasing=True)` fitted on the reference scores
//! and labels, applied only when `needs_calibration` says it lowers the expected calibration
//! error (ECE) on held-out folds.
//!
//! `needs_calibration` follows NannyML's rule — no calibration when the reference has one
//! class or its ROC AUC exceeds 0.999; otherwise 10 stratified 90/10 splits, isotonic fitted
//! on each train part, ECE over 10 equal-count bins of the pooled test parts before and after,
//! calibrate when ECE drops — but draws its splits with Assay's own seeded generator, not
//! scikit-learn's `StratifiedShuffleSplit(random_state=42)`, so on a borderline reference the
//! yes/no could differ from NannyML's (the fixtures check it agrees on both NannyML datasets).

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::engine::metrics::binary;

/// A fitted isotonic calibrator, or none (scores used as they are).
#[derive(Debug, Clone)]
pub enum Calibrator {
    Noop,
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

impl Calibrator {
    pub fn is_noop(&self) -> bool {
        matches!(self, Calibrator::Noop)
    }

    pub fn calibrate(&self, p: f64) -> f64 {
        match self {
            Calibrator::Noop => p,
            Calibrator::Isotonic { x, y } => interp(x, y, p),
        }
    }
}

/// scikit-learn's isotonic fit (unit weights): sort by (x, y), average y over equal x
/// (scikit-learn's `_make_unique`, equality within 1e-15), pool adjacent violators, drop
/// interior points of constant runs.
pub fn fit_isotonic(x: &[f64], y: &[f64]) -> Calibrator {
    fit_isotonic_in(x, y, order_xy(x, y).into_iter())
}

/// [`fit_isotonic`] of the rows `order` visits, which must be in (x, y) order: the rows of
/// [`order_xy`] of a superset, those outside left out, give the fit of the subset (rows tied
/// in both x and y are interchangeable), without sorting again.
fn fit_isotonic_in(x: &[f64], y: &[f64], mut order: impl Iterator<Item = usize>) -> Calibrator {
    let eps = 1e-15;
    let (mut ux, mut uy, mut uw) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(first) = order.next() {
        // (The first row's terms, as the loop would add them to zero.)
        let (mut cx, mut cy, mut cw) = (x[first], 0.0 + y[first], 1.0f64);
        for j in order {
            if x[j] - cx >= eps {
                ux.push(cx);
                uw.push(cw);
                uy.push(cy / cw);
                cx = x[j];
                cw = 1.0;
                cy = y[j];
            } else {
                cw += 1.0;
                cy += y[j];
            }
        }
        ux.push(cx);
        uw.push(cw);
        uy.push(cy / cw);
    }
    pava(&mut uy, &mut uw);
    let n = uy.len();
    let mut keep = vec![true; n];
    for i in 1..n.saturating_sub(1) {
        keep[i] = uy[i] != uy[i - 1] || uy[i] != uy[i + 1];
    }
    let xs: Vec<f64> = ux
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(v, _)| *v)
        .collect();
    let ys: Vec<f64> = uy
        .iter()
        .zip(&keep)
        .filter(|(_, &k)| k)
        .map(|(v, _)| *v)
        .collect();
    Calibrator::Isotonic { x: xs, y: ys }
}

/// Rows in the order of a stable sort by (x, y) ([`f64::total_cmp`]): a key sort by x
/// (ties in row order), then each run of identical x sorted by y.
fn order_xy(x: &[f64], y: &[f64]) -> Vec<usize> {
    let mut order = super::cbpe::argsort_stable(x);
    let mut a = 0;
    while a < order.len() {
        let bits = x[order[a]].to_bits();
        let mut b = a + 1;
        while b < order.len() && x[order[b]].to_bits() == bits {
            b += 1;
        }
        if b - a > 1 {
            order[a..b].sort_by(|&i, &j| y[i].total_cmp(&y[j]));
        }
        a = b;
    }
    order
}

/// scikit-learn's `_inplace_contiguous_isotonic_regression` (increasing).
fn pava(y: &mut [f64], w: &mut [f64]) {
    let n = y.len();
    let mut target: Vec<usize> = (0..n).collect();
    let mut i = 0;
    while i < n {
        let mut k = target[i] + 1;
        if k == n {
            break;
        }
        if y[i] < y[k] {
            i = k;
            continue;
        }
        let mut sum_wy = w[i] * y[i];
        let mut sum_w = w[i];
        loop {
            let prev_y = y[k];
            sum_wy += w[k] * y[k];
            sum_w += w[k];
            k = target[k] + 1;
            if k == n || prev_y < y[k] {
                y[i] = sum_wy / sum_w;
                w[i] = sum_w;
                target[i] = k - 1;
                target[k - 1] = i;
                if i > 0 {
                    i = target[i - 1];
                }
                break;
            }
        }
    }
    let mut i = 0;
    while i < n {
        let k = target[i] + 1;
        let v = y[i];
        for slot in y.iter_mut().take(k).skip(i + 1) {
            *slot = v;
        }
        i = k;
    }
}

/// Clip to the fitted range, then scipy's `interp1d(kind="linear")`.
fn interp(x: &[f64], y: &[f64], t: f64) -> f64 {
    match x.len() {
        0 => t,
        1 => y[0],
        n => {
            let t = t.clamp(x[0], x[n - 1]);
            let idx = x.partition_point(|&v| v < t).clamp(1, n - 1);
            let (xl, xh, yl, yh) = (x[idx - 1], x[idx], y[idx - 1], y[idx]);
            (yh - yl) / (xh - xl) * (t - xl) + yl
        }
    }
}

/// NannyML's decision with the ECE before and after calibration (when it got that far).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub calibrate: bool,
    pub ece_before: Option<f64>,
    pub ece_after: Option<f64>,
}

impl Decision {
    /// The two ECEs within 25 % of each other. The ECE over 10 bins of the pooled folds is
    /// noisy (on NannyML's 60,000-row multiclass reference it moves by ~40 % between random
    /// splits), so NannyML's own answer then depends on its random split and on numpy's
    /// unstable sort inside tied scores (it can differ between machines); the report says so.
    pub fn borderline(&self) -> bool {
        match (self.ece_before, self.ece_after) {
            (Some(b), Some(a)) => (b - a).abs() <= 0.25 * b.max(a),
            _ => false,
        }
    }
}

/// NannyML's `needs_calibration` (see the module docs for the one difference).
pub fn needs_calibration(y: &[bool], p: &[f64]) -> Decision {
    let no = Decision {
        calibrate: false,
        ece_before: None,
        ece_after: None,
    };
    let n_pos = y.iter().filter(|&&v| v).count();
    if n_pos == 0 || n_pos == y.len() {
        return no;
    }
    let yf: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v))).collect();
    // The rows by (score, label), sorted once: descending for the ROC AUC (it counts tied
    // scores as one group, so their order does not matter), and each split's training rows
    // in this order for its fit.
    let by_xy = order_xy(p, &yf);
    let desc: Vec<u32> = by_xy.iter().rev().map(|&i| i as u32).collect();
    if let (Some(auc), _) = binary::ranking(y, p, &desc, None) {
        if auc > 0.999 {
            return no;
        }
    }
    drop(desc);
    let (pos, neg): (Vec<usize>, Vec<usize>) = (0..y.len()).partition(|&i| y[i]);
    let n = y.len();
    let n_test = (0.1 * n as f64).ceil() as usize;
    // Test rows per class in proportion to the class sizes, remainders to the larger
    // fractional parts (scikit-learn's `_approximate_mode` idea).
    let exact_pos = n_test as f64 * pos.len() as f64 / n as f64;
    let mut t_pos = exact_pos.floor() as usize;
    let mut t_neg = n_test - t_pos;
    if t_neg > neg.len() {
        t_neg = neg.len();
        t_pos = n_test - t_neg;
    }
    let mut rng = rand_pcg::Pcg64::seed_from_u64(42);
    let (mut yt, mut pt, mut ct) = (Vec::new(), Vec::new(), Vec::new());
    let mut in_test = vec![false; n];
    for _ in 0..10 {
        let mut sp = pos.clone();
        let mut sn = neg.clone();
        sp.shuffle(&mut rng);
        sn.shuffle(&mut rng);
        // Shuffled, as scikit-learn permutes each split: the ECE's sort keeps tied scores
        // in this order, so positives must not all come first.
        let mut test: Vec<usize> = sp[..t_pos].iter().chain(&sn[..t_neg]).copied().collect();
        test.shuffle(&mut rng);
        // The training rows are the rest: sp[t_pos..] and sn[t_neg..].
        for &i in &test {
            in_test[i] = true;
        }
        let cal = fit_isotonic_in(p, &yf, by_xy.iter().copied().filter(|&i| !in_test[i]));
        for &i in &test {
            in_test[i] = false;
            yt.push(yf[i]);
            pt.push(p[i]);
            ct.push(cal.calibrate(p[i]));
        }
    }
    let Some(edges) = bin_index_edges(pt.len(), 10) else {
        return no;
    };
    let (before, after) = (ece(&yt, &pt, &edges), ece(&yt, &ct, &edges));
    Decision {
        calibrate: before > after,
        ece_before: Some(before),
        ece_after: Some(after),
    }
}

/// NannyML's `_get_bin_index_edges`.
fn bin_index_edges(len: usize, bins: usize) -> Option<Vec<(usize, usize)>> {
    let mut bins = bins;
    if len <= 2 * bins {
        bins = len / 2;
        if bins < 2 {
            return None;
        }
    }
    let width = len / bins;
    let mut edges: Vec<usize> = (0..=len).step_by(width).collect();
    if let Some(last) = edges.last_mut() {
        *last = len;
    }
    Some(edges.windows(2).map(|w| (w[0], w[1])).collect())
}

fn ece(y: &[f64], p: &[f64], edges: &[(usize, usize)]) -> f64 {
    let order = super::cbpe::argsort_stable(p);
    let n = p.len() as f64;
    edges
        .iter()
        .filter(|(l, r)| r > l)
        .map(|&(l, r)| {
            let m = (r - l) as f64;
            let mp: f64 = order[l..r].iter().map(|&i| p[i]).sum::<f64>() / m;
            let my: f64 = order[l..r].iter().map(|&i| y[i]).sum::<f64>() / m;
            m / n * (mp - my).abs()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_violators_and_interpolates() {
        // sklearn: IsotonicRegression(out_of_bounds="clip").fit([1,2,3,4],[1,0,1,1])
        // -> X_thresholds_ [1, 2, 3, 4] trimmed to [1, 2, 3, 4]? y = [0.5, 0.5, 1, 1].
        let c = fit_isotonic(&[1.0, 2.0, 3.0, 4.0], &[1.0, 0.0, 1.0, 1.0]);
        assert_eq!(c.calibrate(1.0), 0.5);
        assert_eq!(c.calibrate(2.0), 0.5);
        assert_eq!(c.calibrate(2.5), 0.75);
        assert_eq!(c.calibrate(9.0), 1.0);
        assert_eq!(c.calibrate(-1.0), 0.5);
    }

    #[test]
    fn order_is_the_stable_sort_by_x_then_y() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let x: Vec<f64> = (0..3000).map(|_| (next() % 300) as f64 / 299.0).collect();
        let y: Vec<f64> = (0..3000).map(|_| (next() % 3) as f64 / 2.0).collect();
        let mut want: Vec<usize> = (0..x.len()).collect();
        want.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
        assert_eq!(order_xy(&x, &y), want);
    }
}

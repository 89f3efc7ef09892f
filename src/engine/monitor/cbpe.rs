//! Confidence-based performance estimation (CBPE) exactly as NannyML 0.13.1: the expected
//! confusion matrix from calibrated probabilities (`estimate_f1`, `estimate_precision`, …),
//! the ROC AUC estimate (`estimate_roc_auc`: calibrated probabilities as expected positives
//! along the uncalibrated score order, cumulative counts rounded to 5 decimals, trapezoids),
//! and the sampling errors (`nannyml.sampling_error.binary_classification` and
//! `…multiclass_classification`: a reference standard deviation or variance per metric,
//! scaled by the chunk size). Multiclass metrics are macro averages of one-vs-rest estimates.
//!
//! Sorting is stable (ties in file order). NannyML sorts with numpy's default unstable
//! argsort, whose order inside ties depends on the CPU's SIMD sort; with tied scores the ROC
//! AUC estimate (multiclass) and the ROC AUC sampling error depend on it (see the fixtures).

use super::Metric;
use crate::engine::sortkey;

/// numpy's `round(x, 5)`: scale, round half to even, unscale.
fn round5(x: f64) -> f64 {
    (x * 1e5).round_ties_even() / 1e5
}

/// Indices of `v` in ascending [`f64::total_cmp`] order, ties in index order: the order of a
/// stable `sort_by(total_cmp)`, from [`sortkey::argsort_by_key`] on order-preserving integer
/// keys.
pub(crate) fn argsort_stable(v: &[f64]) -> Vec<usize> {
    match sortkey::argsort_by_key(v, |&x| sortkey::key(x)) {
        Some(order) => order.into_iter().map(|i| i as usize).collect(),
        None => {
            let mut order: Vec<usize> = (0..v.len()).collect();
            order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
            order
        }
    }
}

/// NannyML's `estimate_roc_auc(calibrated, uncalibrated)`; `None` when no expected positive
/// or negative.
pub fn estimate_roc_auc(cal: &[f64], raw: &[f64]) -> Option<f64> {
    estimate_roc_auc_by(cal, &argsort_stable(raw))
}

/// [`estimate_roc_auc`] with the raw scores' order given (`asc`: [`argsort_stable`] of them).
pub fn estimate_roc_auc_by(cal: &[f64], asc: &[usize]) -> Option<f64> {
    let n = asc.len();
    // argsort(...)[::-1]: descending, ties in reverse file order.
    let mut tps = Vec::with_capacity(n + 1);
    let mut fps = Vec::with_capacity(n + 1);
    tps.push(0.0);
    fps.push(0.0);
    let mut cum = 0.0;
    for (k, &i) in asc.iter().rev().enumerate() {
        cum += cal[i];
        tps.push(round5(cum));
        fps.push(round5((1 + k) as f64 - cum));
    }
    let (tl, fl) = (tps[n], fps[n]);
    if !(tl > 0.0 && fl > 0.0) {
        return None;
    }
    let mut area = 0.0;
    for j in 1..=n {
        let dx = fps[j] / fl - fps[j - 1] / fl;
        area += dx * (tps[j] / tl + tps[j - 1] / tl) / 2.0;
    }
    Some(area)
}

/// Expected confusion-matrix sums of a binary chunk: (TP, FP, FN, TN).
pub fn expected(cal: &[f64], pred: &[bool]) -> (f64, f64, f64, f64) {
    let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
    for (&p, &y) in cal.iter().zip(pred) {
        if y {
            tp += p;
            fp += 1.0 - p;
        } else {
            fn_ += p;
            tn += 1.0 - p;
        }
    }
    (tp, fp, fn_, tn)
}

fn ratio0(a: f64, b: f64) -> f64 {
    if b != 0.0 {
        a / b
    } else {
        0.0
    }
}

/// A binary CBPE estimate of `m` for one chunk (calibrated probabilities, raw scores,
/// predicted labels; `asc`: the raw scores' [`argsort_stable`], `sums`: their [`expected`]
/// confusion matrix, when the caller has them — a chunk's metrics share both).
pub fn estimate_binary(
    m: Metric,
    cal: &[f64],
    raw: &[f64],
    pred: &[bool],
    asc: Option<&[usize]>,
    sums: Option<(f64, f64, f64, f64)>,
) -> Option<f64> {
    let n = cal.len();
    if n == 0 {
        return None;
    }
    let (tp, fp, fn_, tn) = sums.unwrap_or_else(|| expected(cal, pred));
    let nf = n as f64;
    Some(match m {
        Metric::RocAuc => {
            return match asc {
                Some(asc) => estimate_roc_auc_by(cal, asc),
                None => estimate_roc_auc(cal, raw),
            }
        }
        Metric::F1 => ratio0(tp, tp + 0.5 * (fp + fn_)),
        Metric::Precision => ratio0(tp, tp + fp),
        Metric::Recall => ratio0(tp, tp + fn_),
        Metric::Specificity => ratio0(tn, tn + fp),
        Metric::Accuracy => (tp + tn) / nf,
        Metric::TruePositive => tp / nf * nf,
        Metric::TrueNegative => tn / nf * nf,
        Metric::FalsePositive => fp / nf * nf,
        Metric::FalseNegative => fn_ / nf * nf,
    })
}

/// A multiclass estimate: macro average of one-vs-rest binary estimates over the classes
/// (`cal`, `raw` row-major `[rows, k]`; `pred` a class index, `u32::MAX` for none).
pub fn estimate_multiclass(
    m: Metric,
    cal: &[f64],
    raw: &[f64],
    pred: &[u32],
    k: usize,
) -> Option<f64> {
    let n = pred.len();
    if n == 0 {
        return None;
    }
    if m == Metric::Accuracy {
        let s: f64 = (0..n)
            .map(|i| {
                let c = pred[i] as usize;
                if c < k {
                    cal[i * k + c].max(0.0)
                } else {
                    0.0
                }
            })
            .sum();
        return Some(s / n as f64);
    }
    let mut sum = 0.0;
    for c in 0..k {
        let cc: Vec<f64> = (0..n).map(|i| cal[i * k + c]).collect();
        let pc: Vec<bool> = pred.iter().map(|&p| p as usize == c).collect();
        let v = if m == Metric::RocAuc {
            let rc: Vec<f64> = (0..n).map(|i| raw[i * k + c]).collect();
            estimate_roc_auc(&cc, &rc)?
        } else {
            estimate_binary(m, &cc, &cc, &pc, None, None)?
        };
        sum += v;
    }
    Some(sum / k as f64)
}

/// Population standard deviation of `ones` copies of `scale` and `zeros` zeros.
fn std01(ones: usize, zeros: usize, scale: f64) -> Option<f64> {
    let len = ones + zeros;
    if len == 0 {
        return None;
    }
    let nf = len as f64;
    let mean = scale * ones as f64 / nf;
    let var = (ones as f64 * (scale - mean).powi(2) + zeros as f64 * mean.powi(2)) / nf;
    Some(var.sqrt())
}

/// Counts of the reference confusion matrix.
fn counts(y: &[bool], pred: &[bool]) -> (usize, usize, usize, usize) {
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (&t, &p) in y.iter().zip(pred) {
        match (t, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    (tp, fp, fn_, tn)
}

/// NannyML's AUROC components: the standard deviation of, for each positive (after
/// flipping when positives are the majority) in score order, the share of negatives ranked
/// below it; and the share of positives. The positive at rank 0, if any, is left out as
/// NannyML's `np.unique(positive_ranks)[1:]` does.
fn auroc_parts(y: &[bool], p: &[f64]) -> Option<(Vec<f64>, f64)> {
    let n = y.len();
    let n_pos0 = y.iter().filter(|&&v| v).count();
    let flip = n_pos0 as f64 / n as f64 > 0.5;
    let yy: Vec<bool> = y.iter().map(|&v| v != flip).collect();
    let pp: Vec<f64> = if flip {
        p.iter().map(|&v| 1.0 - v).collect()
    } else {
        p.to_vec()
    };
    let order = argsort_stable(&pp);
    let n_pos = yy.iter().filter(|&&v| v).count();
    let n_neg = n - n_pos;
    if n_neg == 0 || n_pos == 0 {
        return None;
    }
    let mut ser = Vec::with_capacity(n_pos);
    let mut i = 0usize;
    for (rank, &idx) in order.iter().enumerate() {
        if yy[idx] && rank > 0 {
            ser.push((rank - i) as f64 / n_neg as f64);
            i += 1;
        }
    }
    Some((ser, n_pos as f64 / n as f64))
}

fn mean_var(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    Some(v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n)
}

/// One metric's reference sampling-error components: (standard deviation or variance,
/// relevant fraction). Binary: a standard deviation; multiclass: per class a variance.
#[derive(Debug, Clone)]
pub enum Components {
    Binary {
        std: f64,
        fraction: f64,
    },
    /// `scale_n`: the error is multiplied by the chunk size (confusion-matrix counts).
    Count {
        std: f64,
    },
    Multiclass {
        parts: Vec<(f64, f64)>,
        factor: f64,
    },
    Accuracy {
        std: f64,
    },
}

/// Binary components from the reference labels, predictions and raw scores.
pub fn binary_components(m: Metric, y: &[bool], pred: &[bool], p: &[f64]) -> Option<Components> {
    let n = y.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let (tp, fp, fn_, tn) = counts(y, pred);
    let b = |std: Option<f64>, fraction: f64| std.map(|std| Components::Binary { std, fraction });
    match m {
        Metric::RocAuc => {
            let (ser, fraction) = auroc_parts(y, p)?;
            Some(Components::Binary {
                std: mean_var(&ser)?.sqrt(),
                fraction,
            })
        }
        Metric::F1 => {
            let len = tp + fn_ + fp;
            if len == 0 {
                return None;
            }
            let cf = len as f64 / ((fn_ + fp) as f64 * 0.5 + tp as f64);
            b(std01(tp, fn_ + fp, cf), len as f64 / nf)
        }
        Metric::Precision => b(std01(tp, fp, 1.0), (tp + fp) as f64 / nf),
        Metric::Recall => b(std01(tp, fn_, 1.0), (tp + fn_) as f64 / nf),
        Metric::Specificity => b(std01(tn, fp, 1.0), (tn + fp) as f64 / nf),
        Metric::Accuracy => std01(tp + tn, fp + fn_, 1.0).map(|std| Components::Accuracy { std }),
        Metric::TruePositive => std01(tp, n - tp, 1.0).map(|std| Components::Count { std }),
        Metric::TrueNegative => std01(tn, n - tn, 1.0).map(|std| Components::Count { std }),
        Metric::FalsePositive => std01(fp, n - fp, 1.0).map(|std| Components::Count { std }),
        Metric::FalseNegative => std01(fn_, n - fn_, 1.0).map(|std| Components::Count { std }),
    }
}

/// Multiclass components (`y`, `pred` class indices; `raw` row-major `[rows, k]`).
pub fn multiclass_components(
    m: Metric,
    y: &[u32],
    pred: &[u32],
    raw: &[f64],
    k: usize,
) -> Option<Components> {
    let n = y.len();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    if m == Metric::Accuracy {
        let correct = y.iter().zip(pred).filter(|(a, b)| a == b).count();
        return std01(correct, n - correct, 1.0).map(|std| Components::Accuracy { std });
    }
    let mut parts = Vec::with_capacity(k);
    for c in 0..k as u32 {
        let yc: Vec<bool> = y.iter().map(|&v| v == c).collect();
        let pc: Vec<bool> = pred.iter().map(|&v| v == c).collect();
        let (tp, fp, fn_, tn) = counts(&yc, &pc);
        let var = |ones: usize, zeros: usize| std01(ones, zeros, 1.0).map(|s| s * s);
        let part = match m {
            Metric::RocAuc => {
                let pcol: Vec<f64> = (0..n).map(|i| raw[i * k + c as usize]).collect();
                let (ser, fraction) = auroc_parts(&yc, &pcol)?;
                (mean_var(&ser)?, fraction)
            }
            Metric::F1 => (var(tp, fn_ + fp)?, (tp + fn_ + fp) as f64 / nf),
            Metric::Precision => (var(tp, fp)?, (tp + fp) as f64 / nf),
            Metric::Recall => (var(tp, fn_)?, (tp + fn_) as f64 / nf),
            Metric::Specificity => (var(tn, fp)?, (tn + fp) as f64 / nf),
            _ => return None,
        };
        parts.push(part);
    }
    Some(Components::Multiclass {
        parts,
        factor: if m == Metric::RocAuc { 1.2 } else { 1.0 },
    })
}

/// The sampling error of a chunk of `n` rows; `None` when it is not finite.
pub fn sampling_error(c: &Components, n: usize) -> Option<f64> {
    let nf = n as f64;
    let v = match c {
        Components::Binary { std, fraction } => std / (nf * fraction).sqrt(),
        Components::Count { std } => std / nf.sqrt() * nf,
        Components::Accuracy { std } => std / nf.sqrt(),
        Components::Multiclass { parts, factor } => {
            let s: f64 = parts.iter().map(|(var, f)| var / (nf * f)).sum();
            s.sqrt() / parts.len() as f64 * factor
        }
    };
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_argsort_is_the_stable_sort() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut v: Vec<f64> = (0..5000)
            .map(|i| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                match i % 7 {
                    0 => 0.25,
                    1 => -0.0,
                    2 => 0.0,
                    3 => -1.5,
                    _ => (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0,
                }
            })
            .collect();
        v.push(f64::INFINITY);
        v.push(f64::NEG_INFINITY);
        let mut want: Vec<usize> = (0..v.len()).collect();
        want.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        assert_eq!(argsort_stable(&v), want);
        assert_eq!(argsort_stable(&v[..100]), want_small(&v[..100]));
    }

    fn want_small(v: &[f64]) -> Vec<usize> {
        let mut o: Vec<usize> = (0..v.len()).collect();
        o.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        o
    }

    #[test]
    fn roc_auc_estimate_of_perfectly_calibrated_scores() {
        // Scores equal to calibrated probabilities, all distinct: the expected ROC curve.
        let p = [0.9, 0.8, 0.3, 0.1];
        let v = estimate_roc_auc(&p, &p).unwrap_or(f64::NAN);
        // tps: 0, .9, 1.7, 2.0, 2.1; fps: 0, .1, .3, 1.0, 1.9 (hand-computed trapezoids).
        let (tl, fl) = (2.1, 1.9);
        let pts = [(0.0, 0.0), (0.1, 0.9), (0.3, 1.7), (1.0, 2.0), (1.9, 2.1)];
        let mut a = 0.0;
        for w in pts.windows(2) {
            a += (w[1].0 - w[0].0) / fl * (w[1].1 + w[0].1) / tl / 2.0;
        }
        assert!((v - a).abs() < 1e-12, "{v} vs {a}");
    }
}

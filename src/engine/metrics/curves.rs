//! Curves for plots, computed as scikit-learn does: `roc_curve` (with `drop_intermediate`),
//! `precision_recall_curve`, `calibration_curve(strategy="uniform")` plus the expected
//! calibration error over the same bins, a threshold sweep and regression residuals.

use serde::Serialize;

use super::binary::Confusion;
use super::{percentile_sorted, ratio0, Score};

/// Distinct score thresholds in decreasing order with the cumulative false and true positive
/// counts at each (scikit-learn's `_binary_clf_curve`).
pub struct ClfCurve {
    pub fps: Vec<f64>,
    pub tps: Vec<f64>,
    pub thresholds: Vec<f64>,
}

pub fn binary_clf_curve<S: Score>(y: &[bool], score: &[S], order: &[u32]) -> ClfCurve {
    let mut c = ClfCurve {
        fps: Vec::new(),
        tps: Vec::new(),
        thresholds: Vec::new(),
    };
    let (mut tp, mut fp) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        let i = i as usize;
        if y[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let s: f64 = score[i].into();
        let last_of_group = k + 1 == order.len() || score[order[k + 1] as usize].into() != s;
        if last_of_group {
            c.fps.push(fp);
            c.tps.push(tp);
            c.thresholds.push(s);
        }
    }
    c
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// The first threshold is +inf (scikit-learn); JSON has no infinity, so it is written as null.
    pub thresholds: Vec<f64>,
}

/// `roc_curve(y, score, drop_intermediate)`. Rates are NaN when a class is absent.
pub fn roc_curve(c: &ClfCurve, drop_intermediate: bool) -> RocCurve {
    let n = c.fps.len();
    let keep: Vec<usize> = if drop_intermediate && n > 2 {
        let mut k = vec![0];
        for i in 1..n - 1 {
            let d2f = c.fps[i + 1] - 2.0 * c.fps[i] + c.fps[i - 1];
            let d2t = c.tps[i + 1] - 2.0 * c.tps[i] + c.tps[i - 1];
            if d2f != 0.0 || d2t != 0.0 {
                k.push(i);
            }
        }
        k.push(n - 1);
        k
    } else {
        (0..n).collect()
    };
    let fp_total = c.fps.last().copied().unwrap_or(0.0);
    let tp_total = c.tps.last().copied().unwrap_or(0.0);
    // The prepended (0, 0) point is divided too, so it is NaN as well when a class is absent.
    let rate = |v: f64, total: f64| if total > 0.0 { v / total } else { f64::NAN };
    let mut r = RocCurve {
        fpr: vec![rate(0.0, fp_total)],
        tpr: vec![rate(0.0, tp_total)],
        thresholds: vec![f64::INFINITY],
    };
    for i in keep {
        r.fpr.push(rate(c.fps[i], fp_total));
        r.tpr.push(rate(c.tps[i], tp_total));
        r.thresholds.push(c.thresholds[i]);
    }
    r
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PrCurve {
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// `precision_recall_curve(y, score)` as in scikit-learn 1.7: every distinct threshold in
/// increasing order, then the final point (recall 0, precision 1). With no positive row,
/// recall is 1 everywhere (scikit-learn warns and does the same).
pub fn pr_curve(c: &ClfCurve) -> PrCurve {
    let tp_total = c.tps.last().copied().unwrap_or(0.0);
    let mut r = PrCurve::default();
    for i in (0..c.tps.len()).rev() {
        r.precision.push(ratio0(c.tps[i], c.tps[i] + c.fps[i]));
        r.recall.push(if tp_total > 0.0 {
            c.tps[i] / tp_total
        } else {
            1.0
        });
        r.thresholds.push(c.thresholds[i]);
    }
    r.precision.push(1.0);
    r.recall.push(0.0);
    r
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Calibration {
    pub n_bins: usize,
    /// Fraction of positives in each non-empty bin.
    pub prob_true: Vec<f64>,
    /// Mean predicted probability in each non-empty bin.
    pub prob_pred: Vec<f64>,
    /// Rows in each non-empty bin.
    pub counts: Vec<u64>,
    /// Expected calibration error: Σ (n_bin / n) |prob_true − prob_pred| over the same bins.
    pub ece: f64,
}

/// `calibration_curve(y, score, n_bins, strategy="uniform")`: bin = number of inner edges
/// (i · (1 / n_bins), i = 1..n_bins−1) strictly below the score (numpy `searchsorted`, side left).
pub fn calibration<S: Score>(y: &[bool], score: &[S], n_bins: usize) -> Calibration {
    let n_bins = n_bins.max(1);
    // numpy.linspace(0, 1, n_bins + 1) computes edge i as i · (1 / n_bins).
    let step = 1.0 / n_bins as f64;
    let edges: Vec<f64> = (1..n_bins).map(|i| i as f64 * step).collect();
    let mut sums = vec![0.0; n_bins];
    let mut trues = vec![0.0; n_bins];
    let mut totals = vec![0u64; n_bins];
    for (&yi, &s) in y.iter().zip(score) {
        let s: f64 = s.into();
        let b = edges.partition_point(|&e| e < s);
        sums[b] += s;
        trues[b] += f64::from(u8::from(yi));
        totals[b] += 1;
    }
    let n = y.len() as f64;
    let mut c = Calibration {
        n_bins,
        ..Calibration::default()
    };
    for b in 0..n_bins {
        if totals[b] > 0 {
            let t = trues[b] / totals[b] as f64;
            let p = sums[b] / totals[b] as f64;
            c.prob_true.push(t);
            c.prob_pred.push(p);
            c.counts.push(totals[b]);
            c.ece += totals[b] as f64 / n * (t - p).abs();
        }
    }
    c
}

/// Threshold-dependent metrics on a grid, column-wise (so the GUI's threshold slider needs
/// no re-inference).
#[derive(Debug, Clone, Serialize, Default)]
pub struct ThresholdSweep {
    pub thresholds: Vec<f64>,
    pub tp: Vec<u64>,
    pub fp: Vec<u64>,
    pub tn: Vec<u64>,
    #[serde(rename = "fn")]
    pub fn_: Vec<u64>,
    pub accuracy: Vec<f64>,
    pub balanced_accuracy: Vec<f64>,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub specificity: Vec<f64>,
    pub f1: Vec<f64>,
    pub mcc: Vec<f64>,
    pub predicted_positive_rate: Vec<f64>,
}

/// Sweep at thresholds `0, 1/steps, …, 1` using the descending `order` (one pass).
pub fn threshold_sweep<S: Score>(
    y: &[bool],
    score: &[S],
    order: &[u32],
    steps: usize,
) -> ThresholdSweep {
    let steps = steps.max(1);
    let pos = y.iter().filter(|&&b| b).count() as f64;
    let neg = y.len() as f64 - pos;
    // Walk thresholds from high to low; rows with score >= t are predicted positive.
    let mut k = 0;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut rows = Vec::with_capacity(steps + 1);
    for j in (0..=steps).rev() {
        let t = j as f64 / steps as f64;
        while k < order.len() && score[order[k] as usize].into() >= t {
            if y[order[k] as usize] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            k += 1;
        }
        rows.push((
            t,
            Confusion {
                tp,
                fp,
                fn_: pos - tp,
                tn: neg - fp,
            },
        ));
    }
    rows.reverse();
    sweep_of(rows)
}

/// The sweep of confusion counts at each threshold, in increasing threshold order.
pub(crate) fn sweep_of(rows: Vec<(f64, Confusion)>) -> ThresholdSweep {
    let mut s = ThresholdSweep::default();
    for (t, c) in rows {
        s.thresholds.push(t);
        s.tp.push(c.tp as u64);
        s.fp.push(c.fp as u64);
        s.tn.push(c.tn as u64);
        s.fn_.push(c.fn_ as u64);
        s.accuracy.push(c.accuracy());
        s.balanced_accuracy.push(c.balanced_accuracy());
        s.precision.push(c.precision());
        s.recall.push(c.recall());
        s.specificity.push(c.specificity());
        s.f1.push(c.f1());
        s.mcc.push(c.mcc());
        s.predicted_positive_rate.push(c.predicted_positive_rate());
    }
    s
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

/// Equal-width histogram over [lo, hi] (the last bin is closed).
pub fn histogram(
    values: impl Iterator<Item = f64> + Clone,
    bins: usize,
    lo: f64,
    hi: f64,
) -> Histogram {
    let bins = bins.max(1);
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
    let mut counts = vec![0u64; bins];
    for v in values {
        if v.is_finite() {
            let b = (((v - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
    }
    Histogram { edges, counts }
}

/// Score distribution of each true class, for the "separation" plot.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ScoreHistogram {
    pub edges: Vec<f64>,
    pub positives: Vec<u64>,
    pub negatives: Vec<u64>,
}

pub fn score_histogram<S: Score>(y: &[bool], score: &[S], bins: usize) -> ScoreHistogram {
    let it = |want: bool| {
        y.iter()
            .zip(score)
            .filter(move |(&yy, _)| yy == want)
            .map(|(_, &s)| s.into())
    };
    let p = histogram(it(true), bins, 0.0, 1.0);
    let n = histogram(it(false), bins, 0.0, 1.0);
    ScoreHistogram {
        edges: p.edges,
        positives: p.counts,
        negatives: n.counts,
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Residuals {
    /// Histogram of `y_pred − y_true`.
    pub histogram: Histogram,
    /// A deterministic, evenly spaced subset (≤ `max_points`) of (y_true, y_pred).
    pub y_true: Vec<f64>,
    pub y_pred: Vec<f64>,
    pub sampled: bool,
    pub residual_quantiles: Vec<(f64, f64)>,
}

pub fn residuals(y: &[f64], pred: &[f64], bins: usize, max_points: usize) -> Residuals {
    let res: Vec<f64> = y.iter().zip(pred).map(|(t, p)| p - t).collect();
    let mut sorted = res.clone();
    sorted.sort_by(f64::total_cmp);
    let lo = sorted.first().copied().unwrap_or(0.0);
    let hi = sorted.last().copied().unwrap_or(0.0);
    let histogram = histogram(res.iter().copied(), bins, lo, hi);
    let qs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
    let residual_quantiles = qs
        .iter()
        .filter_map(|&q| percentile_sorted(&sorted, q).map(|v| (q, v)))
        .collect();
    let (idx, sampled): (Vec<usize>, bool) = match super::thin_indices(y.len(), max_points) {
        Some(i) => (i, true),
        None => ((0..y.len()).collect(), false),
    };
    Residuals {
        histogram,
        y_true: idx.iter().map(|&i| y[i]).collect(),
        y_pred: idx.iter().map(|&i| pred[i]).collect(),
        sampled,
        residual_quantiles,
    }
}

/// The sweep read at one threshold (the Evaluate page's slider): the nearest sweep step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SweepPoint {
    /// Index into the sweep's vectors.
    pub index: usize,
    pub threshold: f64,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
    /// False- and true-positive rates (0 when undefined), the point on the ROC curve.
    pub fpr: f64,
    pub tpr: f64,
    /// Threshold metrics at this step (`None` when undefined).
    pub accuracy: Option<f64>,
    pub balanced_accuracy: Option<f64>,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub specificity: Option<f64>,
    pub f1: Option<f64>,
    pub mcc: Option<f64>,
}

impl ThresholdSweep {
    /// The step nearest to `threshold` (thresholds are `0, 1/steps, …, 1`); `None` for an
    /// empty sweep.
    pub fn at(&self, threshold: f64) -> Option<SweepPoint> {
        let last = self.thresholds.len().checked_sub(1)?;
        let index = ((threshold.clamp(0.0, 1.0) * last as f64).round() as usize).min(last);
        let get = |v: &Vec<u64>| v.get(index).copied().unwrap_or(0);
        let metric = |v: &Vec<f64>| v.get(index).copied().filter(|x| x.is_finite());
        let (tp, fp, tn, fn_) = (get(&self.tp), get(&self.fp), get(&self.tn), get(&self.fn_));
        let rate = |a: u64, b: u64| {
            if a + b > 0 {
                a as f64 / (a + b) as f64
            } else {
                0.0
            }
        };
        Some(SweepPoint {
            index,
            threshold: self.thresholds[index],
            tp,
            fp,
            tn,
            fn_,
            fpr: rate(fp, tn),
            tpr: rate(tp, fn_),
            accuracy: metric(&self.accuracy),
            balanced_accuracy: metric(&self.balanced_accuracy),
            precision: metric(&self.precision),
            recall: metric(&self.recall),
            specificity: metric(&self.specificity),
            f1: metric(&self.f1),
            mcc: metric(&self.mcc),
        })
    }
}

//! Binary classification metrics at a threshold (predicted positive when score >= threshold),
//! following scikit-learn: `zero_division=0`, balanced accuracy over classes present,
//! ROC AUC as the trapezoidal area with tied scores grouped, average precision as
//! `Σ (R_k − R_{k−1}) P_k` over distinct thresholds, log loss with probabilities clipped to
//! `[eps, 1 − eps]` (`eps` of f64) and renormalised, Brier score.

use super::{ratio0, w, Metrics, Score};

/// Metric names in output order.
pub const NAMES: [&str; 11] = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "mcc",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier_score",
];

/// Weighted confusion counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Confusion {
    pub tn: f64,
    pub fp: f64,
    pub fn_: f64,
    pub tp: f64,
}

impl Confusion {
    pub fn at<S: Score>(
        y: &[bool],
        score: &[S],
        threshold: f64,
        weights: Option<&[u32]>,
    ) -> Confusion {
        let mut c = Confusion::default();
        for i in 0..y.len() {
            let wi = w(weights, i);
            match (y[i], score[i].into() >= threshold) {
                (true, true) => c.tp += wi,
                (true, false) => c.fn_ += wi,
                (false, true) => c.fp += wi,
                (false, false) => c.tn += wi,
            }
        }
        c
    }

    pub fn total(&self) -> f64 {
        self.tn + self.fp + self.fn_ + self.tp
    }

    pub fn accuracy(&self) -> f64 {
        ratio0(self.tp + self.tn, self.total())
    }

    pub fn precision(&self) -> f64 {
        ratio0(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio0(self.tp, self.tp + self.fn_)
    }

    pub fn specificity(&self) -> f64 {
        ratio0(self.tn, self.tn + self.fp)
    }

    /// Mean recall over the classes present in the target (scikit-learn ignores a class with
    /// no true rows).
    pub fn balanced_accuracy(&self) -> f64 {
        let pos = self.tp + self.fn_;
        let neg = self.tn + self.fp;
        match (pos > 0.0, neg > 0.0) {
            (true, true) => 0.5 * (self.recall() + self.specificity()),
            (true, false) => self.recall(),
            (false, true) => self.specificity(),
            (false, false) => 0.0,
        }
    }

    pub fn f1(&self) -> f64 {
        ratio0(2.0 * self.tp, 2.0 * self.tp + self.fp + self.fn_)
    }

    pub fn mcc(&self) -> f64 {
        let num = self.tp * self.tn - self.fp * self.fn_;
        let den =
            (self.tp + self.fp) * (self.tp + self.fn_) * (self.tn + self.fp) * (self.tn + self.fn_);
        if den == 0.0 {
            0.0
        } else {
            num / den.sqrt()
        }
    }

    pub fn predicted_positive_rate(&self) -> f64 {
        ratio0(self.tp + self.fp, self.total())
    }
}

/// ROC AUC and average precision from scores sorted descending (`order`), grouping tied
/// scores. `None` when the target has one class only.
pub fn ranking<S: Score>(
    y: &[bool],
    score: &[S],
    order: &[u32],
    weights: Option<&[u32]>,
) -> (Option<f64>, Option<f64>) {
    let total_pos: f64 = order
        .iter()
        .map(|&i| {
            if y[i as usize] {
                w(weights, i as usize)
            } else {
                0.0
            }
        })
        .sum();
    let total_neg: f64 = order
        .iter()
        .map(|&i| {
            if y[i as usize] {
                0.0
            } else {
                w(weights, i as usize)
            }
        })
        .sum();
    let mut acc = RankSums::new(total_pos);
    let mut k = 0;
    while k < order.len() {
        let s: f64 = score[order[k] as usize].into();
        let (mut gtp, mut gfp) = (0.0, 0.0);
        while k < order.len() && score[order[k] as usize].into() == s {
            let i = order[k] as usize;
            let wi = w(weights, i);
            if y[i] {
                gtp += wi;
            } else {
                gfp += wi;
            }
            k += 1;
        }
        acc.group(gtp, gfp);
    }
    acc.finish(total_neg)
}

/// ROC AUC and average precision summed group by group of tied scores, in descending score
/// order (the one accumulation behind [`ranking`] and [`super::split::ranking`]).
pub(crate) struct RankSums {
    total_pos: f64,
    tp: f64,
    fp: f64,
    auc2: f64,
    ap: f64,
}

impl RankSums {
    pub(crate) fn new(total_pos: f64) -> Self {
        RankSums {
            total_pos,
            tp: 0.0,
            fp: 0.0,
            auc2: 0.0,
            ap: 0.0,
        }
    }

    /// The next group: `gtp` positive and `gfp` negative rows (or weights) sharing a score.
    pub(crate) fn group(&mut self, gtp: f64, gfp: f64) {
        if gtp == 0.0 && gfp == 0.0 {
            return;
        }
        // Trapezoid between (fp, tp) and (fp + gfp, tp + gtp), doubled.
        self.auc2 += gfp * (2.0 * self.tp + gtp);
        self.tp += gtp;
        self.fp += gfp;
        if self.total_pos > 0.0 && gtp > 0.0 {
            self.ap += (gtp / self.total_pos) * (self.tp / (self.tp + self.fp));
        }
    }

    /// (ROC AUC, AP); AUC `None` when a class is absent.
    pub(crate) fn finish(self, total_neg: f64) -> (Option<f64>, Option<f64>) {
        let pos = self.total_pos;
        let auc = (pos > 0.0 && total_neg > 0.0).then(|| self.auc2 / (2.0 * pos * total_neg));
        // scikit-learn reports 0 (with a warning) when there is no positive row.
        let ap = Some(if pos > 0.0 { self.ap } else { 0.0 });
        (auc, ap)
    }
}

/// scikit-learn's `log_loss` for one row with true class `y` and positive probability `p`.
#[inline]
pub fn row_log_loss(y: bool, p: f64) -> f64 {
    let eps = f64::EPSILON;
    let a = (1.0 - p).clamp(eps, 1.0 - eps);
    let b = p.clamp(eps, 1.0 - eps);
    let s = a + b;
    if y {
        -(b / s).ln()
    } else {
        -(a / s).ln()
    }
}

/// All binary metrics, in [`NAMES`] order, plus the confusion counts.
pub fn metrics<S: Score>(
    y: &[bool],
    score: &[S],
    order: &[u32],
    threshold: f64,
    weights: Option<&[u32]>,
) -> (Metrics, Confusion) {
    let (auc, ap) = ranking(y, score, order, weights);
    RowPart::of(y, score, threshold, weights).metrics(auc, ap)
}

/// What the metrics take from the rows in row order: the confusion counts, log loss and
/// Brier score; the ranking metrics come from the sorted scores.
pub struct RowPart {
    c: Confusion,
    log_loss: Option<f64>,
    brier: Option<f64>,
}

impl RowPart {
    pub fn of<S: Score>(y: &[bool], score: &[S], threshold: f64, weights: Option<&[u32]>) -> Self {
        let c = Confusion::at(y, score, threshold, weights);
        let (mut ll, mut brier, mut tw) = (0.0, 0.0, 0.0);
        for i in 0..y.len() {
            let wi = w(weights, i);
            if wi == 0.0 {
                continue;
            }
            let s: f64 = score[i].into();
            ll += wi * row_log_loss(y[i], s);
            let d = f64::from(u8::from(y[i])) - s;
            brier += wi * d * d;
            tw += wi;
        }
        RowPart {
            c,
            log_loss: (tw > 0.0).then(|| ll / tw),
            brier: (tw > 0.0).then(|| brier / tw),
        }
    }

    /// All binary metrics, in [`NAMES`] order, with the ranking metrics, plus the confusion
    /// counts.
    pub fn metrics(&self, auc: Option<f64>, ap: Option<f64>) -> (Metrics, Confusion) {
        // Both labels are known from the model (scikit-learn's `labels=[0, 1]`).
        let m = assemble(&self.c, auc, ap, self.log_loss, self.brier);
        (m, self.c)
    }
}

/// The binary metrics in [`NAMES`] order, from the confusion matrix and the ranking and
/// probability metrics.
pub fn assemble(
    c: &Confusion,
    auc: Option<f64>,
    ap: Option<f64>,
    log_loss: Option<f64>,
    brier: Option<f64>,
) -> Metrics {
    Metrics(vec![
        ("accuracy", Some(c.accuracy())),
        ("balanced_accuracy", Some(c.balanced_accuracy())),
        ("precision", Some(c.precision())),
        ("recall", Some(c.recall())),
        ("specificity", Some(c.specificity())),
        ("f1", Some(c.f1())),
        ("mcc", Some(c.mcc())),
        ("roc_auc", auc),
        ("average_precision", ap),
        ("log_loss", log_loss),
        ("brier_score", brier),
    ])
}

//! Multiclass metrics as scikit-learn computes them with its default `labels` (the classes
//! present in y_true or y_pred): accuracy, balanced accuracy, macro and weighted
//! precision/recall/F1 (`zero_division=0`), one-vs-rest macro ROC AUC (undefined unless
//! every class of the model occurs in y_true) and log loss (clipped, renormalised rows).

use super::{binary, ratio0, w, Metrics};

pub const NAMES: [&str; 10] = [
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "log_loss",
];

/// Inputs shared by the main computation and every bootstrap replicate.
pub struct Prepared<'a> {
    pub y: &'a [u32],
    /// Row-major `[n, k]` probabilities.
    pub proba: &'a [f64],
    pub k: usize,
    pub pred: Vec<u32>,
    /// Per class: indices sorted by descending probability of that class.
    pub orders: Vec<Vec<u32>>,
    /// One-vs-rest targets per class.
    pub onehot: Vec<Vec<bool>>,
    /// Per class: that class's probability column.
    pub columns: Vec<Vec<f64>>,
    /// Rows whose probabilities do not sum to 1 (scikit-learn then refuses OvR ROC AUC).
    pub rows_not_summing_to_one: usize,
}

/// First index of the maximum (numpy `argmax`).
pub fn argmax(row: &[f64]) -> u32 {
    let mut best = 0;
    for j in 1..row.len() {
        if row[j] > row[best] {
            best = j;
        }
    }
    best as u32
}

impl<'a> Prepared<'a> {
    pub fn new(y: &'a [u32], proba: &'a [f64], k: usize) -> Self {
        let n = y.len();
        let pred: Vec<u32> = (0..n).map(|i| argmax(&proba[i * k..(i + 1) * k])).collect();
        let columns: Vec<Vec<f64>> = (0..k)
            .map(|c| (0..n).map(|i| proba[i * k + c]).collect())
            .collect();
        let orders = columns.iter().map(|col| super::order_desc(col)).collect();
        let onehot = (0..k)
            .map(|c| y.iter().map(|&t| t as usize == c).collect())
            .collect();
        let rows_not_summing_to_one = (0..n)
            .filter(|&i| {
                let s: f64 = proba[i * k..(i + 1) * k].iter().sum();
                // numpy.allclose(1, s): |s − 1| <= 1e-8 + 1e-5 · |s|
                (s - 1.0).abs() > 1e-8 + 1e-5 * s.abs()
            })
            .count();
        Prepared {
            y,
            proba,
            k,
            pred,
            orders,
            onehot,
            columns,
            rows_not_summing_to_one,
        }
    }

    /// Weighted `[k, k]` confusion matrix (rows: true class, columns: predicted class).
    pub fn confusion(&self, weights: Option<&[u32]>) -> Vec<Vec<f64>> {
        let mut cm = vec![vec![0.0; self.k]; self.k];
        for i in 0..self.y.len() {
            cm[self.y[i] as usize][self.pred[i] as usize] += w(weights, i);
        }
        cm
    }

    pub fn metrics(&self, weights: Option<&[u32]>) -> Metrics {
        let k = self.k;
        let cm = self.confusion(weights);
        let support: Vec<f64> = (0..k).map(|c| cm[c].iter().sum()).collect();
        let predicted: Vec<f64> = (0..k).map(|c| (0..k).map(|r| cm[r][c]).sum()).collect();
        let total: f64 = support.iter().sum();
        let present: Vec<usize> = (0..k)
            .filter(|&c| support[c] > 0.0 || predicted[c] > 0.0)
            .collect();
        let correct: f64 = (0..k).map(|c| cm[c][c]).sum();

        let (mut p_macro, mut r_macro, mut f_macro) = (0.0, 0.0, 0.0);
        let (mut p_w, mut r_w, mut f_w) = (0.0, 0.0, 0.0);
        let (mut bal, mut bal_n) = (0.0, 0.0);
        for &c in &present {
            let tp = cm[c][c];
            let p = ratio0(tp, predicted[c]);
            let r = ratio0(tp, support[c]);
            let f = ratio0(2.0 * tp, predicted[c] + support[c]);
            p_macro += p;
            r_macro += r;
            f_macro += f;
            p_w += p * support[c];
            r_w += r * support[c];
            f_w += f * support[c];
            if support[c] > 0.0 {
                bal += r;
                bal_n += 1.0;
            }
        }
        let m = present.len().max(1) as f64;

        // One-vs-rest macro ROC AUC over all k classes.
        let all_present = (0..k).all(|c| support[c] > 0.0);
        let auc = if all_present && self.rows_not_summing_to_one == 0 && k > 2 {
            let mut sum = 0.0;
            let mut ok = true;
            for c in 0..k {
                match binary::ranking(&self.onehot[c], &self.columns[c], &self.orders[c], weights).0
                {
                    Some(a) => sum += a,
                    None => ok = false,
                }
            }
            ok.then(|| sum / k as f64)
        } else {
            None
        };

        let eps = f64::EPSILON;
        let (mut ll, mut tw) = (0.0, 0.0);
        for i in 0..self.y.len() {
            let wi = w(weights, i);
            if wi == 0.0 {
                continue;
            }
            let row = &self.proba[i * k..(i + 1) * k];
            let s: f64 = row.iter().map(|p| p.clamp(eps, 1.0 - eps)).sum();
            let p = row[self.y[i] as usize].clamp(eps, 1.0 - eps) / s;
            ll -= wi * p.ln();
            tw += wi;
        }
        Metrics(vec![
            ("accuracy", Some(ratio0(correct, total))),
            ("balanced_accuracy", Some(ratio0(bal, bal_n))),
            ("precision_macro", Some(p_macro / m)),
            ("recall_macro", Some(r_macro / m)),
            ("f1_macro", Some(f_macro / m)),
            ("precision_weighted", Some(ratio0(p_w, total))),
            ("recall_weighted", Some(ratio0(r_w, total))),
            ("f1_weighted", Some(ratio0(f_w, total))),
            ("roc_auc", auc),
            ("log_loss", (tw > 0.0).then(|| ll / tw)),
        ])
    }
}

//! Realized performance of a chunk from its labels, as NannyML 0.13.1's
//! `PerformanceCalculator` (and CBPE's reference-chunk thresholds) compute it with
//! scikit-learn: undefined (with the reason) where NannyML returns NaN — ROC AUC with one
//! class (multiclass: unless every class is present), F1 / precision / recall (and every
//! multiclass metric) when the labels or the predictions have a single value, specificity
//! with no negatives.

use super::Metric;
use crate::engine::metrics::binary;

/// Rows by descending score. The order inside tied scores is not
/// [`crate::engine::metrics::order_desc`]'s, but [`binary::ranking`] (unweighted) counts a
/// run of tied scores as one group, so its result does not depend on it; a key sort is
/// several times quicker than comparing through the indices.
pub(super) fn order_desc(score: &[f64]) -> Vec<u32> {
    super::cbpe::argsort_stable(score)
        .into_iter()
        .rev()
        .map(|i| i as u32)
        .collect()
}

pub type Realized = Result<f64, String>;

/// The confusion matrix of labels and predictions: (TP, FP, FN, TN).
pub fn confusion(y: &[bool], pred: &[bool]) -> (f64, f64, f64, f64) {
    let (mut tp, mut fp, mut fn_, mut tn) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (&t, &p) in y.iter().zip(pred) {
        match (t, p) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fn_ += 1.0,
            (false, false) => tn += 1.0,
        }
    }
    (tp, fp, fn_, tn)
}

/// Binary realized metric on the labelled rows of a chunk (`asc`: the scores'
/// [`super::cbpe::argsort_stable`], `counts`: the [`confusion`] matrix, when the caller has
/// them — a chunk's metrics share both).
pub fn binary(
    m: Metric,
    y: &[bool],
    pred: &[bool],
    score: &[f64],
    asc: Option<&[usize]>,
    counts: Option<(f64, f64, f64, f64)>,
) -> Realized {
    if y.is_empty() {
        return Err("no labelled rows in this chunk".into());
    }
    let (tp, fp, fn_, tn) = counts.unwrap_or_else(|| confusion(y, pred));
    // Both classes among the labels, and among the predictions.
    let (labels_two, preds_two) = (
        tp + fn_ > 0.0 && fp + tn > 0.0,
        tp + fp > 0.0 && fn_ + tn > 0.0,
    );
    let two_classes = || {
        if !labels_two {
            return Err("the labels of this chunk have one class".to_string());
        }
        if !preds_two {
            return Err("the predictions of this chunk have one class".to_string());
        }
        Ok(())
    };
    match m {
        Metric::RocAuc => {
            if !labels_two {
                return Err("the labels of this chunk have one class".into());
            }
            let order = match asc {
                Some(asc) => asc.iter().rev().map(|&i| i as u32).collect(),
                None => order_desc(score),
            };
            binary::ranking(y, score, &order, None)
                .0
                .ok_or_else(|| "the labels of this chunk have one class".into())
        }
        Metric::F1 => two_classes().map(|()| 2.0 * tp / (2.0 * tp + fp + fn_)),
        Metric::Precision => two_classes().map(|()| tp / (tp + fp)),
        Metric::Recall => two_classes().map(|()| tp / (tp + fn_)),
        Metric::Specificity => {
            if tn + fp == 0.0 {
                Err("no negative labels in this chunk".into())
            } else {
                Ok(tn / (tn + fp))
            }
        }
        Metric::Accuracy => Ok((tp + tn) / y.len() as f64),
        Metric::TruePositive => Ok(tp),
        Metric::TrueNegative => Ok(tn),
        Metric::FalsePositive => Ok(fp),
        Metric::FalseNegative => Ok(fn_),
    }
}

fn div0(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Multiclass realized metric (macro over the `k` classes) on the labelled rows of a chunk.
pub fn multiclass(m: Metric, y: &[u32], pred: &[u32], raw: &[f64], k: usize) -> Realized {
    let n = y.len();
    if n == 0 {
        return Err("no labelled rows in this chunk".into());
    }
    let distinct = |v: &[u32]| {
        let mut s: Vec<u32> = v.to_vec();
        s.sort_unstable();
        s.dedup();
        s.len()
    };
    if m == Metric::RocAuc {
        if distinct(y) != k {
            return Err("the labels of this chunk do not contain every class".into());
        }
        let mut sum = 0.0;
        for c in 0..k {
            let yc: Vec<bool> = y.iter().map(|&v| v as usize == c).collect();
            let sc: Vec<f64> = (0..n).map(|i| raw[i * k + c]).collect();
            let order = order_desc(&sc);
            sum += binary::ranking(&yc, &sc, &order, None)
                .0
                .ok_or_else(|| "a class has no labelled row".to_string())?;
        }
        return Ok(sum / k as f64);
    }
    if distinct(y) <= 1 {
        return Err("the labels of this chunk have one class".into());
    }
    if distinct(pred) <= 1 {
        return Err("the predictions of this chunk have one class".into());
    }
    if m == Metric::Accuracy {
        let ok = y.iter().zip(pred).filter(|(a, b)| a == b).count();
        return Ok(ok as f64 / n as f64);
    }
    let mut sum = 0.0;
    for c in 0..k as u32 {
        let (mut tp, mut fp, mut fn_, mut tn) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (&t, &p) in y.iter().zip(pred) {
            match (t == c, p == c) {
                (true, true) => tp += 1.0,
                (false, true) => fp += 1.0,
                (true, false) => fn_ += 1.0,
                (false, false) => tn += 1.0,
            }
        }
        sum += match m {
            Metric::F1 => div0(2.0 * tp, 2.0 * tp + fp + fn_),
            Metric::Precision => div0(tp, tp + fp),
            Metric::Recall => div0(tp, tp + fn_),
            Metric::Specificity => {
                if tn + fp == 0.0 {
                    return Err("a class has no negative row in this chunk".into());
                }
                tn / (tn + fp)
            }
            _ => return Err("not a multiclass metric".into()),
        };
    }
    Ok(sum / k as f64)
}

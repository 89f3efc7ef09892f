//! Evaluation metrics, written to match scikit-learn's definitions exactly (proven against
//! fixtures in `tests/fixtures/metrics/`), plus curves and percentile-bootstrap confidence
//! intervals.
//!
//! Every scalar metric takes optional integer row weights. A bootstrap replicate is the same
//! computation with weights = how often each row was drawn (a Poisson bootstrap:
//! [`bootstrap`]), so replicates need no copy of the data and reuse one sort of the scores;
//! binary metrics of a replicate come from one pass over the rows sorted once
//! ([`sorted::SortedBinary`]).

pub mod binary;
pub mod bootstrap;
pub mod curves;
pub mod multiclass;
pub mod regression;
pub mod sorted;
pub mod split;

use serde::ser::SerializeMap;
use serde::Serialize;

/// Named scalar metrics in a fixed order; `None` when undefined (for example ROC AUC with a
/// single class present). Serialises as a JSON object (`null` for undefined).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics(pub Vec<(&'static str, Option<f64>)>);

impl Metrics {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|(n, _)| *n).collect()
    }

    pub fn values(&self) -> Vec<Option<f64>> {
        self.0.iter().map(|(_, v)| *v).collect()
    }
}

impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, &v.filter(|x| x.is_finite()))?;
        }
        map.end()
    }
}

/// Weight of row `i` (1 when unweighted).
#[inline]
pub(crate) fn w(weights: Option<&[u32]>, i: usize) -> f64 {
    weights.map_or(1.0, |w| f64::from(w[i]))
}

/// `a / b`, or 0 when `b` is 0 (scikit-learn's `zero_division` default).
#[inline]
pub(crate) fn ratio0(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// numpy's default (linear) percentile of sorted values, `q` in [0, 1].
pub fn percentile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64))
}

/// A per-row score: `f64`, or the `f32` a model gave (kept as is, 4 bytes a row; every metric
/// widens it to `f64` exactly, so it gives the same numbers as the widened scores).
pub trait Score: Copy + Into<f64> + Send + Sync {}

impl Score for f64 {}
impl Score for f32 {}

/// Indices of `scores` sorted by descending score (ties in any order).
pub fn order_desc<S: Score>(scores: &[S]) -> Vec<u32> {
    use rayon::prelude::*;
    let mut order: Vec<u32> = (0..scores.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b): (f64, f64) = (scores[a as usize].into(), scores[b as usize].into());
        b.total_cmp(&a)
    });
    order
}

/// Keeps at most `max` points of parallel curve arrays, always keeping the first and last;
/// returns whether anything was dropped.
pub fn thin_indices(len: usize, max: usize) -> Option<Vec<usize>> {
    if len <= max || max < 2 {
        return None;
    }
    let step = (len - 1) as f64 / (max - 1) as f64;
    let mut idx: Vec<usize> = (0..max)
        .map(|i| ((i as f64) * step).round() as usize)
        .collect();
    idx.dedup();
    Some(idx)
}

/// Which way an evaluation metric improves: `Some(true)` higher is better, `Some(false)`
/// lower is better; `None` for names this module does not define.
pub fn higher_is_better(metric: &str) -> Option<bool> {
    match metric {
        "accuracy" | "balanced_accuracy" | "precision" | "recall" | "specificity" | "f1"
        | "mcc" | "roc_auc" | "average_precision" | "f1_macro" | "f1_weighted"
        | "precision_macro" | "precision_weighted" | "recall_macro" | "recall_weighted" | "r2"
        | "explained_variance" => Some(true),
        "log_loss" | "brier_score" | "mae" | "mape" | "max_error" | "mse" | "rmse" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod direction_tests {
    use super::higher_is_better;

    #[test]
    fn every_metric_the_engine_reports_has_a_direction() {
        let binary = super::binary::NAMES;
        let regression = [
            "mae",
            "mse",
            "rmse",
            "r2",
            "explained_variance",
            "max_error",
            "mape",
        ];
        for m in binary.iter().chain(&regression) {
            assert!(higher_is_better(m).is_some(), "{m}");
        }
        assert_eq!(higher_is_better("log_loss"), Some(false));
        assert_eq!(higher_is_better("roc_auc"), Some(true));
    }
}

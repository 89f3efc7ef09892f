//! Paired percentile bootstrap of metric differences: replicate `r` draws one set of row
//! weights ([`bootstrap::replicate_weights`], the same draws `evaluate` uses for its own
//! intervals) and every model is scored on those same rows, so a difference's interval
//! reflects only how the models differ, not which rows happened to be drawn.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::engine::error::Result;
use crate::engine::evaluate::RowOutputs;
use crate::engine::metrics::bootstrap::{self, BootstrapSettings, Intervals};
use crate::engine::metrics::Metrics;
use crate::engine::metrics::{binary, multiclass, order_desc, percentile_sorted, regression};
use crate::engine::progress::Stage;

/// One model's outcomes, prepared once for repeated weighted scoring.
pub enum Scorer<'a> {
    Binary {
        y: &'a [bool],
        score: &'a [f64],
        order: Vec<u32>,
        threshold: f64,
    },
    Multiclass(multiclass::Prepared<'a>),
    Regression(regression::Prepared<'a>),
}

impl<'a> Scorer<'a> {
    pub fn new(rows: &'a RowOutputs, threshold: f64) -> Self {
        match rows {
            RowOutputs::Binary { y, score } => Scorer::Binary {
                y,
                score,
                order: order_desc(score),
                threshold,
            },
            RowOutputs::Multiclass { y, proba, k } => {
                Scorer::Multiclass(multiclass::Prepared::new(y, proba, *k))
            }
            RowOutputs::Regression { y, pred } => {
                Scorer::Regression(regression::Prepared::new(y, pred))
            }
        }
    }

    /// The evaluation metrics (evaluate's names and order) at the given row weights.
    pub fn metrics(&self, weights: Option<&[u32]>) -> Metrics {
        match self {
            Scorer::Binary {
                y,
                score,
                order,
                threshold,
            } => binary::metrics(y, score, order, *threshold, weights).0,
            Scorer::Multiclass(p) => p.metrics(weights),
            Scorer::Regression(p) => p.metrics(weights),
        }
    }
}

/// `B − A` per metric (`None` where either is undefined).
pub fn metric_delta(a: &Metrics, b: &Metrics) -> Vec<(String, Option<f64>)> {
    a.0.iter()
        .map(|(name, va)| {
            let d = va
                .zip(b.get(name))
                .map(|(x, y)| y - x)
                .filter(|d| d.is_finite());
            (name.to_string(), d)
        })
        .collect()
}

/// Paired intervals of `B − A` for each pair of model indices, from one set of replicates
/// shared by all models. Per pair: the intervals and warnings about metrics whose difference
/// is undefined in some replicates (the rule of `bootstrap::intervals`: an interval needs the
/// difference defined in at least half of them).
pub fn paired_intervals(
    scorers: &[Scorer<'_>],
    n: usize,
    pairs: &[(usize, usize)],
    settings: &BootstrapSettings,
    progress: &Stage,
) -> Result<Vec<(Intervals, Vec<String>)>> {
    let reps = settings.resamples;
    if reps == 0 || n == 0 || scorers.is_empty() {
        return Ok(pairs
            .iter()
            .map(|_| (BTreeMap::new(), Vec::new()))
            .collect());
    }
    let done = AtomicUsize::new(0);
    let samples: Vec<Option<Vec<Metrics>>> = (0..reps)
        .into_par_iter()
        .map(|r| {
            if progress.check().is_err() {
                return None;
            }
            let w = bootstrap::replicate_weights(n, settings.seed, r);
            let m = scorers.iter().map(|s| s.metrics(Some(&w))).collect();
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            if d % 16 == 0 || d == reps {
                progress.set_fraction(d as f32 / reps as f32);
            }
            Some(m)
        })
        .collect();
    progress.check()?;
    let samples: Vec<Vec<Metrics>> = samples.into_iter().flatten().collect();
    let alpha = (1.0 - settings.confidence) / 2.0;
    let mut out = Vec::with_capacity(pairs.len());
    for &(a, b) in pairs {
        let mut ci = BTreeMap::new();
        let mut warnings = Vec::new();
        let names = samples
            .first()
            .and_then(|s| s.get(a))
            .map(Metrics::names)
            .unwrap_or_default();
        for (j, name) in names.into_iter().enumerate() {
            let mut vals: Vec<f64> = samples
                .iter()
                .filter_map(|s| {
                    let x = s.get(a)?.0.get(j)?.1?;
                    let y = s.get(b)?.0.get(j)?.1?;
                    Some(y - x)
                })
                .filter(|v| v.is_finite())
                .collect();
            let undefined = reps - vals.len();
            if vals.len() * 2 < reps {
                if undefined < reps {
                    warnings.push(format!(
                        "{name}: no paired interval, the difference is undefined in {undefined} of {reps} resamples"
                    ));
                }
                continue;
            }
            if undefined > 0 {
                warnings.push(format!(
                    "{name}: paired interval from {} of {reps} resamples (undefined in the rest)",
                    vals.len()
                ));
            }
            vals.sort_by(f64::total_cmp);
            if let (Some(lo), Some(hi)) = (
                percentile_sorted(&vals, alpha),
                percentile_sorted(&vals, 1.0 - alpha),
            ) {
                ci.insert(name.to_string(), [lo, hi]);
            }
        }
        out.push((ci, warnings));
    }
    Ok(out)
}

//! Paired percentile bootstrap of metric differences: replicate `r` is one [`Draw`] (the same
//! Poisson draws `evaluate` uses for its own intervals, from the one resampling core
//! [`bootstrap::replicate_blocks`]) and every model is scored under it, so a difference's interval
//! reflects only how the models differ, not which rows happened to be drawn.

use std::collections::BTreeMap;

use crate::engine::error::Result;
use crate::engine::evaluate::RowOutputs;
use crate::engine::metrics::bootstrap::{self, BootstrapSettings, Draw, Intervals, Kind, BLOCK};
use crate::engine::metrics::sorted::SortedBinary;
use crate::engine::metrics::Metrics;
use crate::engine::metrics::{binary, multiclass, order_desc, regression};
use crate::engine::progress::Stage;

/// One model's outcomes, prepared once for repeated weighted scoring.
pub enum Scorer<'a> {
    Binary {
        y: &'a [bool],
        score: &'a [f64],
        order: Vec<u32>,
        threshold: f64,
        /// The rows sorted once for replicates (`None` beyond 2³¹ rows).
        sorted: Option<SortedBinary>,
    },
    Multiclass(multiclass::Prepared<'a>),
    Regression(regression::Prepared<'a>),
}

impl<'a> Scorer<'a> {
    pub fn new(rows: &'a RowOutputs, threshold: f64) -> Self {
        match rows {
            RowOutputs::Binary { y, score } => {
                let order = order_desc(score);
                let sorted = SortedBinary::new(y, score, &order, threshold);
                Scorer::Binary {
                    y,
                    score,
                    order,
                    threshold,
                    sorted,
                }
            }
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
                ..
            } => binary::metrics(y, score, order, *threshold, weights).0,
            Scorer::Multiclass(p) => p.metrics(weights),
            Scorer::Regression(p) => p.metrics(weights),
        }
    }

    /// The metrics under one replicate's draw; `weights` holds the draw's counts of rows
    /// `0..n`, made on first need (binary scorers never need them).
    fn replicate(&self, draw: &Draw, n: usize, weights: &mut Option<Vec<u32>>) -> Metrics {
        if let Scorer::Binary {
            sorted: Some(s), ..
        } = self
        {
            return s.metrics(draw);
        }
        let w = weights.get_or_insert_with(|| draw.weights(n));
        self.metrics(Some(w))
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
/// is undefined in some replicates (the rule of `bootstrap::percentile_interval`: an interval
/// needs the difference defined in at least half of them).
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
    // Blocks of replicates: a binary scorer scores the whole block in one pass over its rows.
    let samples: Vec<Vec<Metrics>> = bootstrap::replicate_blocks(settings, progress, |block| {
        let mut out: [Vec<Metrics>; BLOCK] =
            std::array::from_fn(|_| Vec::with_capacity(scorers.len()));
        let mut weights: [Option<Vec<u32>>; BLOCK] = std::array::from_fn(|_| None);
        for s in scorers {
            if let Scorer::Binary {
                sorted: Some(sorted),
                ..
            } = s
            {
                for (o, m) in out.iter_mut().zip(sorted.metrics_block(block)) {
                    o.push(m);
                }
            } else {
                for (j, (o, w)) in out.iter_mut().zip(weights.iter_mut()).enumerate() {
                    o.push(s.replicate(&block.draw(j), n, w));
                }
            }
        }
        out
    })?;
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
            let vals: Vec<f64> = samples
                .iter()
                .filter_map(|s| {
                    let x = s.get(a)?.0.get(j)?.1?;
                    let y = s.get(b)?.0.get(j)?.1?;
                    Some(y - x)
                })
                .collect();
            let interval = bootstrap::percentile_interval(
                name,
                vals,
                reps,
                settings.confidence,
                Kind::Difference,
                &mut warnings,
            );
            if let Some(interval) = interval {
                ci.insert(name.to_string(), interval);
            }
        }
        out.push((ci, warnings));
    }
    Ok(out)
}

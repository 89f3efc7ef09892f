//! Slice regressions: for every sensitive column (or intersection), each model's fairness
//! slice report side by side (group metrics with intervals, disparities), and per pair of
//! models the per-group metric deltas with a paired bootstrap interval that resamples rows
//! within each group (the same draws for both models), flagging groups where B is
//! significantly worse than A.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::fairness::boot::{interval, replicate_weights};
use crate::engine::fairness::groups::{column_groups, intersect, Binning, Grouping};
use crate::engine::fairness::stats::{compute, Outcomes, SliceValues, BINARY, REGRESSION};
use crate::engine::fairness::{fairness_outcomes, FairnessOptions, GroupKey, Named, SliceReport};
use crate::engine::metrics::bootstrap::BootstrapSettings;
use crate::engine::progress::Progress;

/// Which way a group metric should move: `Some(true)` higher is better, `Some(false)` lower
/// is better, `None` neither (selection rate, mean prediction, mean target).
pub fn higher_is_better(metric: &str) -> Option<bool> {
    match metric {
        "accuracy" | "true_positive_rate" | "true_negative_rate" | "precision" | "r2" => Some(true),
        "false_positive_rate" | "false_negative_rate" | "mae" | "rmse" => Some(false),
        _ => None,
    }
}

/// How much worse B is than A given `delta = B − A` (positive = worse); `None` for metrics
/// without a direction.
pub fn worsening(metric: &str, delta: f64) -> Option<f64> {
    higher_is_better(metric).map(|hib| if hib { -delta } else { delta })
}

/// One group, one pair of models.
#[derive(Debug, Clone, Serialize)]
pub struct GroupDelta {
    pub group: GroupKey,
    pub count: usize,
    pub too_small: bool,
    /// `B − A` per group metric.
    pub delta: Named,
    /// Paired bootstrap interval of each delta (rows resampled within the group).
    pub delta_ci: BTreeMap<String, [f64; 2]>,
    /// Per directed metric, how much worse B is (positive = worse, negative = better).
    pub worsening: Named,
    /// B's interval lies entirely on the worse side for at least one directed metric.
    pub significantly_worse: bool,
    /// The metrics where it does.
    pub worse_metrics: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlicePair {
    pub a: String,
    pub b: String,
    pub groups: Vec<GroupDelta>,
    /// `B − A` of each disparity (classification) of the slicing.
    pub disparity_delta: Named,
}

#[derive(Debug, Clone, Serialize)]
pub struct SliceComparison {
    pub columns: Vec<String>,
    pub groupings: Vec<Grouping>,
    /// Group metric names in order.
    pub metrics: Vec<&'static str>,
    /// Each model's fairness report of this slicing, in model order (labels in `labels`).
    pub labels: Vec<String>,
    pub models: Vec<SliceReport>,
    pub pairs: Vec<SlicePair>,
}

pub struct SliceInput<'a> {
    pub ds: &'a Dataset,
    pub target: &'a str,
    pub threshold: f64,
    pub slicings: &'a [Vec<String>],
    pub bootstrap: &'a BootstrapSettings,
    pub min_group_size: usize,
}

/// Slice comparisons of models whose outcomes are aligned row by row with `ds`.
pub fn compare_slices(
    input: &SliceInput<'_>,
    labels: &[String],
    outcomes: &[Outcomes],
    pairs: &[(usize, usize)],
    progress: &Progress,
) -> Result<Vec<SliceComparison>> {
    let mut fopts = FairnessOptions::new(input.target, input.slicings.to_vec());
    fopts.run.threshold = input.threshold;
    fopts.bootstrap = input.bootstrap.clone();
    fopts.min_group_size = input.min_group_size;
    let mut reports = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        progress.check()?;
        let r = fairness_outcomes(input.ds, o, None, &fopts, progress)?;
        reports.push(r.slices);
    }
    let binning = Binning::default();
    let mut cache: BTreeMap<String, Grouping> = BTreeMap::new();
    let mut out = Vec::with_capacity(input.slicings.len());
    for (si, cols) in input.slicings.iter().enumerate() {
        progress.check()?;
        for c in cols {
            if !cache.contains_key(c) {
                cache.insert(c.clone(), column_groups(input.ds, c, None, &binning)?);
            }
        }
        let gs: Vec<&Grouping> = cols.iter().filter_map(|c| cache.get(c)).collect();
        let inter = intersect(&gs);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); inter.keys.len()];
        for (i, &g) in inter.codes.iter().enumerate() {
            members[g as usize].push(i as u32);
        }
        let models: Vec<SliceReport> = reports
            .iter_mut()
            .map(|r| r.get_mut(si).map(|s| s.clone()))
            .collect::<Option<_>>()
            .ok_or_else(|| EngineError::internal("a fairness report lacks a slicing"))?;
        let first = models
            .first()
            .ok_or_else(|| EngineError::internal("no models to compare"))?;
        if first.groups.len() != members.len() {
            return Err(EngineError::internal(
                "group bookkeeping disagrees with fairness",
            ));
        }
        // Compare slices binary or regression outcomes (multiclass rows enter as correctness).
        let names: &[&'static str] = match outcomes.first() {
            Some(Outcomes::Binary { .. }) => &BINARY,
            Some(Outcomes::Regression { .. }) => &REGRESSION,
            _ => &[],
        };
        let points: Vec<SliceValues> = outcomes
            .iter()
            .map(|o| compute(o, &members, None))
            .collect();
        let reps = paired_group_replicates(outcomes, &members, input.bootstrap, progress)?;
        let mut slice_pairs = Vec::with_capacity(pairs.len());
        for &(a, b) in pairs {
            let mut groups = Vec::with_capacity(members.len());
            for (g, rep) in first.groups.iter().enumerate() {
                let mut delta = Vec::new();
                let mut ci = BTreeMap::new();
                let mut worse = Vec::new();
                let mut wors = Vec::new();
                for (j, name) in names.iter().enumerate() {
                    let d = points[a].groups[g].honest[j]
                        .zip(points[b].groups[g].honest[j])
                        .map(|(x, y)| y - x);
                    delta.push((name.to_string(), d));
                    if let Some(dir) = higher_is_better(name) {
                        wors.push((name.to_string(), d.and_then(|d| worsening(name, d))));
                        let c = (!reps.is_empty())
                            .then(|| {
                                interval(
                                    reps.iter().map(|r| {
                                        r[a].groups[g].honest[j]
                                            .zip(r[b].groups[g].honest[j])
                                            .map(|(x, y)| y - x)
                                    }),
                                    input.bootstrap.confidence,
                                )
                            })
                            .flatten();
                        if let Some([lo, hi]) = c {
                            if (dir && hi < 0.0) || (!dir && lo > 0.0) {
                                worse.push(name.to_string());
                            }
                        }
                        if let Some(c) = c {
                            ci.insert(name.to_string(), c);
                        }
                    } else if !reps.is_empty() {
                        let c = interval(
                            reps.iter().map(|r| {
                                r[a].groups[g].honest[j]
                                    .zip(r[b].groups[g].honest[j])
                                    .map(|(x, y)| y - x)
                            }),
                            input.bootstrap.confidence,
                        );
                        if let Some(c) = c {
                            ci.insert(name.to_string(), c);
                        }
                    }
                }
                groups.push(GroupDelta {
                    group: rep.group.clone(),
                    count: rep.count,
                    too_small: rep.too_small,
                    delta: Named(delta),
                    delta_ci: ci,
                    worsening: Named(wors),
                    significantly_worse: !worse.is_empty(),
                    worse_metrics: worse,
                });
            }
            let disparity_delta = Named(
                models[a]
                    .disparities
                    .0
                    .iter()
                    .map(|(n, va)| {
                        let d = va.zip(models[b].disparities.get(n)).map(|(x, y)| y - x);
                        (n.clone(), d)
                    })
                    .collect(),
            );
            slice_pairs.push(SlicePair {
                a: labels[a].clone(),
                b: labels[b].clone(),
                groups,
                disparity_delta,
            });
        }
        out.push(SliceComparison {
            columns: cols.clone(),
            groupings: first.groupings.clone(),
            metrics: names.to_vec(),
            labels: labels.to_vec(),
            models,
            pairs: slice_pairs,
        });
    }
    Ok(out)
}

/// Replicates of every model's slice values on the same within-group draws.
fn paired_group_replicates(
    outcomes: &[Outcomes],
    members: &[Vec<u32>],
    settings: &BootstrapSettings,
    progress: &Progress,
) -> Result<Vec<Vec<SliceValues>>> {
    let reps = settings.resamples;
    if reps == 0 || members.is_empty() {
        return Ok(Vec::new());
    }
    let out: Vec<Option<Vec<SliceValues>>> = (0..reps)
        .into_par_iter()
        .map(|r| {
            if progress.check().is_err() {
                return None;
            }
            let w = replicate_weights(members, settings.seed, r);
            Some(
                outcomes
                    .iter()
                    .map(|o| compute(o, members, Some(&w)))
                    .collect(),
            )
        })
        .collect();
    progress.check()?;
    Ok(out.into_iter().flatten().collect())
}

//! Robustness of a model's decisions on a seeded sample of rows (`assay robustness`'s JSON
//! contract is [`RobustnessReport`]): flip rate and score change under Gaussian noise,
//! missing / mean / out-of-range values and category swaps ([`perturb`]), user-declared
//! monotonic constraints ([`monotonic`]) and a small greedy adversarial search
//! ([`adversarial`]). Perturbed rows are batched into large `predict` calls.
//!
//! Decisions: binary — the positive class when `p >= threshold`; multiclass — the arg-max
//! (first of ties); regression — none (flips are `None`, score changes still reported).
//! The score whose change is reported: binary — the positive-class probability; multiclass —
//! the probability of the class the unperturbed row was assigned; regression — the value.

pub mod adversarial;
pub mod frame;
pub mod monotonic;
pub mod perturb;

use crate::engine::Warning;
use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use self::adversarial::{AdversarialOptions, AdversarialReport};
use self::frame::{Col, Decider, Edit, Frame, Scored};
use self::monotonic::{MonotonicConstraint, MonotonicResult};
use self::perturb::PerturbationResult;
use super::data::extract::{prepare, InvalidRows, TargetData, TargetKind};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::evaluate::{is_classifier, DataRef, ModelRef, Task};
use super::model::{plan_inputs, predict, InferOptions, Model, Predictions};
use super::progress::Progress;
use super::valid_rows::valid_scored_rows;

/// Exact rows and standard-normal draws to use instead of the seeded ones (tests replay
/// perturbations computed elsewhere with this).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Replay {
    /// 0-based data rows.
    pub rows: Vec<usize>,
    /// Row-major `[rows, noise features]` draws; noise features are the numeric,
    /// non-boolean inputs in input order.
    pub z: Vec<f64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RobustnessOptions {
    /// Rows sampled (without replacement; all rows when the data has fewer).
    pub rows: usize,
    pub seed: u64,
    /// Noise standard deviations as multiples of each feature's standard deviation.
    pub noise_scales: Vec<f64>,
    /// Also perturb one feature at a time (besides all numeric features together).
    pub per_feature_noise: bool,
    pub positive_class: Option<String>,
    pub threshold: f64,
    pub monotonic: Vec<MonotonicConstraint>,
    /// Grid points a monotonic check sweeps a feature over (its min to max).
    pub grid_points: usize,
    /// Score moves against the declared direction smaller than this are not violations
    /// (model outputs are 32-bit floats).
    pub monotonic_tolerance: f64,
    /// `None` turns the adversarial search off.
    pub adversarial: Option<AdversarialOptions>,
    pub infer: InferOptions,
    pub replay: Option<Replay>,
    /// `Drop`: rows with a missing or non-finite feature or target are left out before
    /// sampling (reported rows stay the file's).
    pub invalid_rows: InvalidRows,
}

impl Default for RobustnessOptions {
    fn default() -> Self {
        Self {
            rows: 1000,
            seed: 0,
            noise_scales: vec![0.01, 0.05, 0.1, 0.25],
            per_feature_noise: true,
            positive_class: None,
            threshold: 0.5,
            monotonic: Vec::new(),
            grid_points: 21,
            monotonic_tolerance: 1e-6,
            adversarial: Some(AdversarialOptions::default()),
            infer: InferOptions::default(),
            replay: None,
            invalid_rows: InvalidRows::Error,
        }
    }
}

/// Per-feature statistics over all rows of the dataset (the scales of the perturbations).
#[derive(Debug, Clone, Serialize)]
pub struct FeatureStats {
    pub name: String,
    /// `float`, `double`, `int64`, `int32`, `bool` or `text`.
    pub kind: String,
    pub mean: Option<f64>,
    /// Population standard deviation (ddof = 0).
    pub std: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Distinct values of a text or boolean input, or of a numeric input with at most 10
    /// distinct integral values (sorted); these inputs get category swaps.
    pub categories: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// Accuracy of the decisions on the sampled rows (classifiers).
    pub accuracy: Option<f64>,
    /// Mean absolute error on the sampled rows (regression).
    pub mae: Option<f64>,
    /// Sampled rows per decided class (classifiers), by class label.
    pub decisions: BTreeMap<String, usize>,
}

/// Everything `assay robustness` reports.
#[derive(Debug, Clone, Serialize)]
pub struct RobustnessReport {
    pub task: Task,
    pub model: ModelRef,
    pub data: DataRef,
    pub target: String,
    pub features: Vec<String>,
    pub classes: Option<Vec<String>>,
    pub positive_class: Option<String>,
    pub threshold: Option<f64>,
    pub seed: u64,
    /// 1-based data rows sampled, ascending.
    pub sample_rows: Vec<usize>,
    pub feature_stats: Vec<FeatureStats>,
    pub baseline: Baseline,
    /// Headline: the largest flip rate among all-feature noise perturbations (classifiers).
    pub max_noise_flip_rate: Option<f64>,
    pub perturbations: Vec<PerturbationResult>,
    pub monotonic: Vec<MonotonicResult>,
    pub adversarial: Option<AdversarialReport>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// The truth for the sampled rows.
#[derive(Debug, Clone)]
pub enum Truth {
    Classes(Vec<u32>),
    Values(Vec<f64>),
}

/// What the perturbation, monotonic and adversarial parts share.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub decider: Decider,
    pub infer: InferOptions,
    /// The sampled rows.
    pub sample: Frame,
    /// 1-based data rows of `sample`.
    pub data_rows: Vec<usize>,
    pub base: Scored,
    pub stats: Vec<FeatureStats>,
    pub truth: Truth,
    pub classes: Option<Vec<String>>,
}

impl Ctx<'_> {
    pub fn is_classifier(&self) -> bool {
        !matches!(self.decider, Decider::Regression)
    }

    /// Scores perturbed copies of sampled rows, in `predict` calls of bounded size.
    pub fn score_edits(&self, edits: &[Edit], progress: &Progress, at: f32) -> Result<Scored> {
        let mut out = Scored {
            k: self.base.k,
            p: Vec::with_capacity(edits.len() * self.base.k),
            decision: Vec::with_capacity(edits.len()),
        };
        for chunk in edits.chunks(perturb::MAX_CALL_ROWS) {
            progress.check()?;
            let s = frame::score(
                self.model,
                &self.sample.build(chunk),
                &self.decider,
                &self.infer,
                &progress.stage(at, at),
            )?;
            out.p.extend(s.p);
            out.decision.extend(s.decision);
        }
        Ok(out)
    }

    pub fn class_name(&self, c: u32) -> String {
        self.classes
            .as_ref()
            .and_then(|cl| cl.get(c as usize).cloned())
            .unwrap_or_default()
    }
}

fn feature_stats(full: &Frame) -> Vec<FeatureStats> {
    full.names
        .iter()
        .zip(&full.cols)
        .map(|(name, col)| match col {
            Col::Num(kind, v) => {
                // Missing values (NaN) reach the model but not the statistics (numpy's nan*).
                let v: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
                let v = &v;
                let n = v.len().max(1) as f64;
                let mut sum = 0.0;
                for &x in v {
                    sum += x;
                }
                let mean = sum / n;
                let mut ss = 0.0;
                for &x in v {
                    ss += (x - mean) * (x - mean);
                }
                let (lo, hi) = v
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                        (a.min(x), b.max(x))
                    });
                let categories = if *kind == frame::NumKind::Bool {
                    let mut c: Vec<String> = Vec::new();
                    if v.contains(&0.0) {
                        c.push("false".into());
                    }
                    if v.iter().any(|&x| x != 0.0) {
                        c.push("true".into());
                    }
                    Some(c)
                } else {
                    integer_codes(v)
                };
                FeatureStats {
                    name: name.clone(),
                    kind: kind.name().into(),
                    mean: Some(mean),
                    std: Some((ss / n).sqrt()),
                    min: Some(lo),
                    max: Some(hi),
                    categories,
                }
            }
            Col::Text(v) => {
                let mut c: Vec<String> = v.clone();
                c.sort_unstable();
                c.dedup();
                FeatureStats {
                    name: name.clone(),
                    kind: "text".into(),
                    mean: None,
                    std: None,
                    min: None,
                    max: None,
                    categories: Some(c),
                }
            }
        })
        .collect()
}

/// Distinct values of a numeric feature that looks categorical: integral values only, at most
/// [`MAX_CODES`] of them (e.g. a 0/1 indicator in a float matrix).
fn integer_codes(v: &[f64]) -> Option<Vec<String>> {
    let mut seen: Vec<f64> = Vec::new();
    for &x in v {
        if x.fract() != 0.0 || !x.is_finite() {
            return None;
        }
        if !seen.contains(&x) {
            if seen.len() == MAX_CODES {
                return None;
            }
            seen.push(x);
        }
    }
    seen.sort_by(f64::total_cmp);
    Some(
        seen.into_iter()
            .map(super::data::extract::label_of_number)
            .collect(),
    )
}

/// Numeric features with at most this many distinct integral values also get category swaps.
pub const MAX_CODES: usize = 10;

fn check_options(opts: &RobustnessOptions) -> Result<()> {
    if opts.rows == 0 {
        return Err(EngineError::usage("--rows must be at least 1"));
    }
    if !(0.0..=1.0).contains(&opts.threshold) {
        return Err(EngineError::usage(format!(
            "threshold {} is outside [0, 1]",
            opts.threshold
        )));
    }
    if let Some(s) = opts
        .noise_scales
        .iter()
        .find(|s| !s.is_finite() || **s < 0.0)
    {
        return Err(EngineError::usage(format!(
            "noise scale {s} must be a finite number ≥ 0"
        )));
    }
    if opts.grid_points < 2 && !opts.monotonic.is_empty() {
        return Err(EngineError::usage(
            "a monotonic check needs at least 2 grid points",
        ));
    }
    if let Some(a) = &opts.adversarial {
        a.check()?;
    }
    Ok(())
}

/// Runs every robustness check of `opts` on a seeded sample of `ds`'s rows.
pub fn run(
    model: &Model,
    features: Option<&[String]>,
    ds: &Dataset,
    target: &str,
    opts: &RobustnessOptions,
    progress: &Progress,
) -> Result<RobustnessReport> {
    if opts.invalid_rows == InvalidRows::Error {
        return run_rows(model, features, ds, target, opts, progress);
    }
    let kind = if is_classifier(model) {
        TargetKind::Labels
    } else {
        TargetKind::Values
    };
    let plan = [plan_inputs(&model.info, features)?];
    let Some(v) = valid_scored_rows(
        ds,
        &[(model, &plan[0])],
        Some((target, kind)),
        &opts.infer,
        progress,
    )?
    else {
        return run_rows(model, features, ds, target, opts, progress);
    };
    let inner = RobustnessOptions {
        invalid_rows: InvalidRows::Error,
        ..opts.clone()
    };
    let mut rep = run_rows(model, features, &v.ds, target, &inner, progress)?;
    // 1-based rows of the restricted frame → the file's.
    let file_row = |r: usize| {
        r.checked_sub(1)
            .and_then(|i| v.kept.get(i))
            .map_or(r, |&k| k as usize + 1)
    };
    for r in &mut rep.sample_rows {
        *r = file_row(*r);
    }
    for m in &mut rep.monotonic {
        if let Some(w) = &mut m.worst {
            w.row = file_row(w.row);
        }
    }
    if let Some(a) = &mut rep.adversarial {
        for r in &mut a.per_row {
            r.row = file_row(r.row);
        }
    }
    rep.data.rows = ds.rows();
    rep.data.rows_dropped = v.dropped;
    rep.warnings.insert(
        0,
        Warning::rows_left_out(format!(
            "dropped {} of {} rows with missing or non-finite values before sampling (e.g. {})",
            v.dropped,
            ds.rows(),
            v.examples.join("; ")
        )),
    );
    Ok(rep)
}

fn run_rows(
    model: &Model,
    features: Option<&[String]>,
    ds: &Dataset,
    target: &str,
    opts: &RobustnessOptions,
    progress: &Progress,
) -> Result<RobustnessReport> {
    let classifier = is_classifier(model);
    check_options(opts)?;
    let plan = plan_inputs(&model.info, features)?;
    let kind = if classifier {
        TargetKind::Labels
    } else {
        TargetKind::Values
    };
    progress.set(0.0, "checking data");
    let prepared = prepare(ds, &plan, Some((target, kind)), InvalidRows::Error)?;
    if !prepared.missing_passed.is_empty() {
        // Missing values reach the model: every row must get a finite output (as in
        // `evaluate`), not only the rows sampled below, so the sample never hides one.
        let all = predict(
            model,
            &prepared.inputs,
            &opts.infer,
            &progress.stage(0.0, 0.02),
        )?;
        crate::engine::scored::require_finite(&all, ds, &plan, |i| i + 1)?;
    }
    let names = plan.columns();
    let full = Frame::from_inputs(&prepared.inputs, &names);
    let stats = feature_stats(&full);
    let n = full.rows();
    let noise_features: Vec<usize> = (0..full.cols.len())
        .filter(|&j| full.kind(j).is_some_and(|k| k != frame::NumKind::Bool))
        .collect();

    let mut rng = Pcg64Mcg::seed_from_u64(opts.seed);
    let (rows, z) = match &opts.replay {
        Some(r) => {
            if let Some(bad) = r.rows.iter().find(|&&i| i >= n) {
                return Err(EngineError::usage(format!(
                    "replay row {bad} is outside the data's {n} rows"
                )));
            }
            if r.z.len() != r.rows.len() * noise_features.len() {
                return Err(EngineError::usage(format!(
                    "replay has {} noise draws; {} rows × {} numeric features need {}",
                    r.z.len(),
                    r.rows.len(),
                    noise_features.len(),
                    r.rows.len() * noise_features.len()
                )));
            }
            (r.rows.clone(), r.z.clone())
        }
        None => {
            let mut rows = rand::seq::index::sample(&mut rng, n, opts.rows.min(n)).into_vec();
            rows.sort_unstable();
            let z = perturb::normals(&mut rng, rows.len() * noise_features.len());
            (rows, z)
        }
    };
    let sample = full.gather(&rows);
    progress.check()?;

    let base_preds = predict(
        model,
        &sample.inputs(),
        &opts.infer,
        &progress.stage(0.02, 0.05),
    )?;
    crate::engine::scored::require_finite(&base_preds, ds, &plan, |i| {
        rows.get(i).map_or(i, |&r| r) + 1
    })?;
    let (decider, classes, positive_class) = decider_for(model, &base_preds, opts)?;
    let base = frame::scored(base_preds, &decider, model)?;
    let truth = match prepared.target {
        Some(TargetData::Labels(labels)) => {
            let cl = classes.clone().unwrap_or_default();
            let index: BTreeMap<&str, u32> = cl
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i as u32))
                .collect();
            let mut y = Vec::with_capacity(rows.len());
            for &r in &rows {
                let l = labels[r].as_str();
                let c = index.get(l).copied().ok_or_else(|| {
                    EngineError::cell(
                        &ds.path,
                        target,
                        r + 1,
                        format!(
                            "'{l}' is not a class of the model (classes: {})",
                            cl.join(", ")
                        ),
                    )
                })?;
                y.push(c);
            }
            Truth::Classes(y)
        }
        Some(TargetData::Values(v)) => Truth::Values(rows.iter().map(|&r| v[r]).collect()),
        None => return Err(EngineError::internal("target was not prepared")),
    };
    let task = match &decider {
        Decider::Binary { .. } => Task::BinaryClassification,
        Decider::Multiclass { .. } => Task::MulticlassClassification,
        Decider::Regression => Task::Regression,
    };
    let ctx = Ctx {
        model,
        decider,
        infer: opts.infer.clone(),
        sample,
        data_rows: rows.iter().map(|r| r + 1).collect(),
        base,
        stats,
        truth,
        classes: classes.clone(),
    };
    let mut warnings = Vec::new();
    let baseline = perturb::baseline(&ctx);
    let perturbations = perturb::run_all(
        &ctx,
        opts,
        &noise_features,
        &z,
        &mut rng,
        progress,
        (0.05, 0.55),
    )?;
    let mut monotonic = Vec::new();
    for (i, c) in opts.monotonic.iter().enumerate() {
        let f0 = 0.55 + 0.15 * i as f32 / opts.monotonic.len() as f32;
        let f1 = 0.55 + 0.15 * (i + 1) as f32 / opts.monotonic.len() as f32;
        monotonic.push(monotonic::check(&ctx, c, opts, progress, (f0, f1))?);
    }
    let adversarial = match (&opts.adversarial, ctx.is_classifier()) {
        (Some(a), true) => Some(adversarial::search(&ctx, a, progress, (0.7, 1.0))?),
        (Some(_), false) => {
            warnings.push(Warning::option(
                "the adversarial search needs a classifier; skipped for a regressor",
            ));
            None
        }
        (None, _) => None,
    };
    let max_noise_flip_rate = perturbations
        .iter()
        .filter(|p| p.kind == perturb::PerturbationKind::Noise && p.feature.is_none())
        .filter_map(|p| p.flip_rate)
        .reduce(f64::max);
    progress.set(1.0, "done");
    Ok(RobustnessReport {
        task,
        model: ModelRef::of(model),
        data: DataRef::of(ds, 0),
        target: target.to_string(),
        features: names,
        classes,
        positive_class,
        threshold: matches!(ctx.decider, Decider::Binary { .. }).then_some(opts.threshold),
        seed: opts.seed,
        sample_rows: ctx.data_rows.clone(),
        feature_stats: ctx.stats.clone(),
        baseline,
        max_noise_flip_rate,
        perturbations,
        monotonic,
        adversarial,
        warnings,
    })
}

type DeciderParts = (Decider, Option<Vec<String>>, Option<String>);

fn decider_for(
    model: &Model,
    preds: &Predictions,
    opts: &RobustnessOptions,
) -> Result<DeciderParts> {
    match preds {
        Predictions::Classification { classes, .. } => {
            let k = classes.len();
            if k < 2 {
                return Err(EngineError::file(
                    model.path(),
                    "the classifier reports fewer than two classes",
                ));
            }
            if k > 2 {
                return Ok((Decider::Multiclass { k }, Some(classes.clone()), None));
            }
            let pos = match opts
                .positive_class
                .clone()
                .or_else(|| model.info.metadata.get("positive_class").cloned())
            {
                Some(p) => classes.iter().position(|c| *c == p).ok_or_else(|| {
                    EngineError::usage(format!(
                        "positive class '{p}' is not a class of the model (classes: {})",
                        classes.join(", ")
                    ))
                })?,
                None => 1,
            };
            Ok((
                Decider::Binary {
                    pos,
                    neg: 1 - pos,
                    threshold: opts.threshold,
                },
                Some(classes.clone()),
                Some(classes[pos].clone()),
            ))
        }
        Predictions::Regression { .. } => Ok((Decider::Regression, None, None)),
    }
}

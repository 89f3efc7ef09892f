//! Perturbations of the sampled rows and their effect: Gaussian noise (all numeric features
//! together and one at a time), a feature set to missing (NaN) or to its mean, out-of-range
//! values (`min − 3·std`, `max + 3·std`) and category swaps (another observed category, or
//! the other boolean value).

use std::collections::BTreeMap;

use rand::Rng;
use rand_pcg::Pcg64Mcg;
use serde::Serialize;

use super::frame::{score, Col, Edit, NumKind, Scored, Val};
use super::{Baseline, Ctx, RobustnessOptions, Truth};
use crate::engine::error::{ErrorKind, Result};
use crate::engine::progress::Progress;

/// Perturbed rows per `predict` call at most (keeps memory bounded on wide models).
pub const MAX_CALL_ROWS: usize = 250_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PerturbationKind {
    Noise,
    Missing,
    Mean,
    OutOfRangeLow,
    OutOfRangeHigh,
    CategorySwap,
}

/// The effect of one perturbation on the sampled rows.
#[derive(Debug, Clone, Serialize)]
pub struct PerturbationResult {
    pub kind: PerturbationKind,
    /// The feature changed; `None`: all numeric features (noise).
    pub feature: Option<String>,
    /// Noise standard deviation in units of each feature's standard deviation.
    pub scale: Option<f64>,
    pub applicable: bool,
    /// Why not applicable.
    pub reason: Option<String>,
    pub rows: usize,
    /// Rows whose decision changed (classifiers; `None` for regression or not applicable).
    pub flips: Option<usize>,
    pub flip_rate: Option<f64>,
    /// Mean and max of |score change| over rows with a finite perturbed score.
    pub mean_abs_score_change: Option<f64>,
    pub max_abs_score_change: Option<f64>,
    pub non_finite_scores: usize,
    /// Accuracy of the perturbed decisions (classifiers).
    pub accuracy: Option<f64>,
    /// Mean absolute error of the perturbed predictions (regression).
    pub mae: Option<f64>,
}

impl PerturbationResult {
    fn not_applicable(
        kind: PerturbationKind,
        feature: &str,
        scale: Option<f64>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            feature: Some(feature.to_string()),
            scale,
            applicable: false,
            reason: Some(reason.into()),
            rows: 0,
            flips: None,
            flip_rate: None,
            mean_abs_score_change: None,
            max_abs_score_change: None,
            non_finite_scores: 0,
            accuracy: None,
            mae: None,
        }
    }
}

/// `count` standard normal draws (Box–Muller on 53-bit uniforms).
pub fn normals(rng: &mut Pcg64Mcg, count: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(count + 1);
    while out.len() < count {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        out.push(r * t.cos());
        out.push(r * t.sin());
    }
    out.truncate(count);
    out
}

/// Decisions and error of the unperturbed sample.
pub fn baseline(ctx: &Ctx) -> Baseline {
    let n = ctx.base.decision.len().max(1) as f64;
    let mut decisions = BTreeMap::new();
    let (accuracy, mae) = match &ctx.truth {
        Truth::Classes(y) => {
            for &d in &ctx.base.decision {
                *decisions.entry(ctx.class_name(d)).or_insert(0) += 1;
            }
            let right = y
                .iter()
                .zip(&ctx.base.decision)
                .filter(|(a, b)| a == b)
                .count();
            (Some(right as f64 / n), None)
        }
        Truth::Values(y) => {
            let e: f64 = y.iter().zip(&ctx.base.p).map(|(a, b)| (a - b).abs()).sum();
            (None, Some(e / n))
        }
    };
    Baseline {
        accuracy,
        mae,
        decisions,
    }
}

/// Summarises perturbed rows `edits` whose scores are `scored[offset..]`.
pub fn summarise(
    ctx: &Ctx,
    kind: PerturbationKind,
    feature: Option<&str>,
    scale: Option<f64>,
    edits: &[Edit],
    scored: &Scored,
    offset: usize,
) -> PerturbationResult {
    let classifier = ctx.is_classifier();
    let (mut flips, mut non_finite, mut sum, mut max, mut right, mut abs_err) =
        (0usize, 0usize, 0.0f64, 0.0f64, 0usize, 0.0f64);
    for (i, e) in edits.iter().enumerate() {
        let c0 = ctx.base.decision[e.row];
        let new = scored.score(offset + i, c0);
        let change = (new - ctx.base.score(e.row, c0)).abs();
        if change.is_finite() {
            sum += change;
            max = max.max(change);
        } else {
            non_finite += 1;
        }
        let d = scored.decision[offset + i];
        if classifier && d != c0 {
            flips += 1;
        }
        match &ctx.truth {
            Truth::Classes(y) => right += usize::from(y[e.row] == d),
            Truth::Values(y) => abs_err += (y[e.row] - new).abs(),
        }
    }
    let n = edits.len();
    let finite = n - non_finite;
    let nf = n.max(1) as f64;
    PerturbationResult {
        kind,
        feature: feature.map(str::to_string),
        scale,
        applicable: true,
        reason: None,
        rows: n,
        flips: classifier.then_some(flips),
        flip_rate: classifier.then_some(flips as f64 / nf),
        mean_abs_score_change: (finite > 0).then(|| sum / finite as f64),
        max_abs_score_change: (finite > 0).then_some(max),
        non_finite_scores: non_finite,
        accuracy: classifier.then(|| right as f64 / nf),
        mae: (!classifier).then(|| abs_err / nf),
    }
}

struct Planned {
    kind: PerturbationKind,
    feature: Option<String>,
    scale: Option<f64>,
    edits: Vec<Edit>,
}

enum Step {
    Run(Planned),
    /// Run alone; a model error makes it not applicable instead of failing everything.
    RunAlone(Planned),
    Done(PerturbationResult),
}

/// Every perturbation of `opts`, in report order: noise by scale (all features, then each),
/// then per feature: missing, mean, out of range low/high, category swap.
pub fn run_all(
    ctx: &Ctx,
    opts: &RobustnessOptions,
    noise_features: &[usize],
    z: &[f64],
    rng: &mut Pcg64Mcg,
    progress: &Progress,
    span: (f32, f32),
) -> Result<Vec<PerturbationResult>> {
    let frame = &ctx.sample;
    let m = frame.rows();
    let nf = noise_features.len();
    let std = |j: usize| ctx.stats[j].std.unwrap_or(0.0);
    let name = |j: usize| frame.names[j].clone();
    let noisy = |r: usize, q: usize, j: usize, s: f64| -> (usize, Val) {
        let x = frame.num(j, r).unwrap_or(f64::NAN);
        (j, Val::Num(x + s * std(j) * z[r * nf + q]))
    };
    let mut steps: Vec<Step> = Vec::new();
    for &s in &opts.noise_scales {
        if nf > 0 {
            let edits = (0..m)
                .map(|r| Edit {
                    row: r,
                    changes: noise_features
                        .iter()
                        .enumerate()
                        .map(|(q, &j)| noisy(r, q, j, s))
                        .collect(),
                })
                .collect();
            steps.push(Step::Run(Planned {
                kind: PerturbationKind::Noise,
                feature: None,
                scale: Some(s),
                edits,
            }));
        }
        if opts.per_feature_noise {
            for (q, &j) in noise_features.iter().enumerate() {
                let edits = (0..m)
                    .map(|r| Edit {
                        row: r,
                        changes: vec![noisy(r, q, j, s)],
                    })
                    .collect();
                steps.push(Step::Run(Planned {
                    kind: PerturbationKind::Noise,
                    feature: Some(name(j)),
                    scale: Some(s),
                    edits,
                }));
            }
        }
    }
    let set_all = |j: usize, v: Val| -> Vec<Edit> {
        (0..m)
            .map(|r| Edit {
                row: r,
                changes: vec![(j, v.clone())],
            })
            .collect()
    };
    for j in 0..frame.cols.len() {
        let f = name(j);
        let planned = |kind, edits| Planned {
            kind,
            feature: Some(f.clone()),
            scale: None,
            edits,
        };
        let na = |kind, reason: &str| {
            Step::Done(PerturbationResult::not_applicable(kind, &f, None, reason))
        };
        let st = &ctx.stats[j];
        match &frame.cols[j] {
            Col::Num(kind @ (NumKind::F32 | NumKind::F64), _) => {
                let _ = kind;
                steps.push(Step::RunAlone(planned(
                    PerturbationKind::Missing,
                    set_all(j, Val::Num(f64::NAN)),
                )));
            }
            Col::Num(kind, _) => steps.push(na(
                PerturbationKind::Missing,
                &format!("{} input cannot hold a missing value (NaN)", kind.name()),
            )),
            Col::Text(_) => steps.push(na(
                PerturbationKind::Missing,
                "text input: the data format has no missing marker the model would accept",
            )),
        }
        let numeric = matches!(&frame.cols[j], Col::Num(k, _) if *k != NumKind::Bool);
        if numeric {
            let (mean, sd) = (st.mean.unwrap_or(0.0), st.std.unwrap_or(0.0));
            let (lo, hi) = (st.min.unwrap_or(0.0), st.max.unwrap_or(0.0));
            steps.push(Step::Run(planned(
                PerturbationKind::Mean,
                set_all(j, Val::Num(mean)),
            )));
            if sd > 0.0 {
                steps.push(Step::Run(planned(
                    PerturbationKind::OutOfRangeLow,
                    set_all(j, Val::Num(lo - 3.0 * sd)),
                )));
                steps.push(Step::Run(planned(
                    PerturbationKind::OutOfRangeHigh,
                    set_all(j, Val::Num(hi + 3.0 * sd)),
                )));
            } else {
                let why = "constant feature (standard deviation 0)";
                steps.push(na(PerturbationKind::OutOfRangeLow, why));
                steps.push(na(PerturbationKind::OutOfRangeHigh, why));
            }
            steps.push(na(
                PerturbationKind::CategorySwap,
                "numeric input (noise and out-of-range values cover it)",
            ));
        } else {
            let why = "categorical input (see category swap)";
            steps.push(na(PerturbationKind::Mean, why));
            steps.push(na(PerturbationKind::OutOfRangeLow, why));
            steps.push(na(PerturbationKind::OutOfRangeHigh, why));
            let cats = st.categories.clone().unwrap_or_default();
            if cats.len() < 2 {
                steps.push(na(
                    PerturbationKind::CategorySwap,
                    "only one category is observed",
                ));
            } else {
                let edits = (0..m)
                    .map(|r| {
                        let v = match &frame.cols[j] {
                            Col::Num(_, v) => Val::Num(if v[r] != 0.0 { 0.0 } else { 1.0 }),
                            Col::Text(v) => {
                                let others: Vec<&String> =
                                    cats.iter().filter(|c| **c != v[r]).collect();
                                let pick = rng.random_range(0..others.len());
                                Val::Text(others[pick].clone())
                            }
                        };
                        Edit {
                            row: r,
                            changes: vec![(j, v)],
                        }
                    })
                    .collect();
                steps.push(Step::Run(planned(PerturbationKind::CategorySwap, edits)));
            }
        }
    }
    evaluate_steps(ctx, steps, progress, span)
}

fn evaluate_steps(
    ctx: &Ctx,
    steps: Vec<Step>,
    progress: &Progress,
    span: (f32, f32),
) -> Result<Vec<PerturbationResult>> {
    let at = |done: usize, total: usize| span.0 + (span.1 - span.0) * done as f32 / total as f32;
    let total: usize = steps
        .iter()
        .map(|s| match s {
            Step::Run(p) | Step::RunAlone(p) => p.edits.len(),
            Step::Done(_) => 0,
        })
        .sum::<usize>()
        .max(1);
    let mut done_rows = 0usize;
    let mut out: Vec<Option<PerturbationResult>> = Vec::with_capacity(steps.len());
    // Chunks of consecutive `Run` steps share one predict call.
    let mut pending: Vec<(usize, Planned)> = Vec::new();
    let mut pending_rows = 0usize;
    let flush = |pending: &mut Vec<(usize, Planned)>,
                 out: &mut Vec<Option<PerturbationResult>>,
                 done_rows: &mut usize|
     -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        progress.check()?;
        let edits: Vec<Edit> = pending
            .iter()
            .flat_map(|(_, p)| p.edits.iter().cloned())
            .collect();
        let f = at(*done_rows, total);
        let sub = progress.stage(f, f);
        let scored = score(
            ctx.model,
            &ctx.sample.build(&edits),
            &ctx.decider,
            &ctx.infer,
            &sub,
        )?;
        let mut offset = 0;
        for (slot, p) in pending.drain(..) {
            out[slot] = Some(summarise(
                ctx,
                p.kind,
                p.feature.as_deref(),
                p.scale,
                &p.edits,
                &scored,
                offset,
            ));
            offset += p.edits.len();
        }
        *done_rows += edits.len();
        progress.set(at(*done_rows, total), "perturbing rows");
        Ok(())
    };
    for step in steps {
        let slot = out.len();
        out.push(None);
        match step {
            Step::Done(r) => out[slot] = Some(r),
            Step::Run(p) => {
                if pending_rows + p.edits.len() > MAX_CALL_ROWS {
                    flush(&mut pending, &mut out, &mut done_rows)?;
                    pending_rows = 0;
                }
                pending_rows += p.edits.len();
                pending.push((slot, p));
            }
            Step::RunAlone(p) => {
                progress.check()?;
                let f = at(done_rows, total);
                let sub = progress.stage(f, f);
                let inputs = ctx.sample.build(&p.edits);
                let f = p.feature.clone().unwrap_or_default();
                out[slot] = Some(
                    match score(ctx.model, &inputs, &ctx.decider, &ctx.infer, &sub) {
                        Ok(scored) => {
                            let r = summarise(ctx, p.kind, Some(&f), p.scale, &p.edits, &scored, 0);
                            if r.non_finite_scores > 0 {
                                PerturbationResult::not_applicable(
                                    p.kind,
                                    &f,
                                    None,
                                    format!(
                                        "the model returns non-finite scores for a missing value ({} of {} rows)",
                                        r.non_finite_scores, r.rows
                                    ),
                                )
                            } else {
                                r
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::BadInput => {
                            PerturbationResult::not_applicable(
                                p.kind,
                                &f,
                                None,
                                format!("the model rejects a missing value: {e}"),
                            )
                        }
                        Err(e) => return Err(e),
                    },
                );
                done_rows += p.edits.len();
            }
        }
    }
    flush(&mut pending, &mut out, &mut done_rows)?;
    out.into_iter()
        .map(|r| {
            r.ok_or_else(|| crate::engine::EngineError::internal("perturbation not evaluated"))
        })
        .collect()
}

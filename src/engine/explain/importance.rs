//! Permutation feature importance, like `sklearn.inspection.permutation_importance`: the drop
//! of the score when one feature's column is shuffled, over `repeats` shuffles (mean and
//! population standard deviation). Score: ROC AUC of the positive class for binary
//! classifiers, accuracy for multiclass (scikit-learn's default scorer), R² for regressors.

use std::ops::Range;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use serde::Serialize;

use super::masked::{permute_column, rows as n_rows, take_rows};
use super::resolve_target;
use crate::engine::data::extract::{prepare, InputData, InvalidRows, TargetData, TargetKind};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::is_classifier;
use crate::engine::metrics::{binary, multiclass, order_desc, regression};
use crate::engine::model::{plan_inputs, predict, InferOptions, Model, Predictions};
use crate::engine::progress::Progress;
use crate::engine::valid_rows::valid_scored_rows;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportanceOptions {
    pub target: String,
    /// Shuffles per feature (scikit-learn's `n_repeats`, default 5).
    pub repeats: usize,
    pub seed: u64,
    /// Positive class of a binary classifier (default: metadata `positive_class`, else the
    /// second class).
    pub class: Option<String>,
    /// Half-open range of data rows to use (default all).
    pub rows: Option<Range<usize>>,
    pub infer: InferOptions,
    /// `Drop`: rows (of `rows`) with a missing or non-finite feature or target are left out.
    pub invalid_rows: InvalidRows,
}

impl ImportanceOptions {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            repeats: 5,
            seed: 0,
            class: None,
            rows: None,
            infer: InferOptions::default(),
            invalid_rows: InvalidRows::Error,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureImportance {
    pub feature: String,
    pub importances_mean: f64,
    pub importances_std: f64,
    /// Score drop per repeat.
    pub importances: Vec<f64>,
}

/// `assay importance --json`'s contract.
#[derive(Debug, Clone, Serialize)]
pub struct Importance {
    /// `roc_auc`, `accuracy` or `r2`.
    pub metric: String,
    pub baseline_score: f64,
    pub class_label: Option<String>,
    pub rows: usize,
    /// Rows left out by `--drop-invalid`.
    pub rows_dropped: usize,
    pub repeats: usize,
    pub seed: u64,
    /// Sorted by mean importance, largest first.
    pub features: Vec<FeatureImportance>,
}

enum Truth {
    Binary(Vec<bool>, usize),
    Multi(Vec<u32>, usize),
    Values(Vec<f64>),
}

fn score(truth: &Truth, preds: &Predictions) -> Result<f64> {
    let bad = || EngineError::internal("prediction kind changed");
    match (truth, preds) {
        (Truth::Binary(y, pos), Predictions::Classification { classes, proba }) => {
            let k = classes.len();
            let s: Vec<f64> = proba.chunks_exact(k).map(|r| f64::from(r[*pos])).collect();
            binary::ranking(y, &s, &order_desc(&s), None)
                .0
                .ok_or_else(|| {
                    EngineError::usage("ROC AUC is undefined: the target has one class only")
                })
        }
        (Truth::Multi(y, k), Predictions::Classification { proba, .. }) => {
            let p: Vec<f64> = proba.iter().map(|&v| f64::from(v)).collect();
            multiclass::Prepared::new(y, &p, *k)
                .metrics(None)
                .get("accuracy")
                .ok_or_else(bad)
        }
        (Truth::Values(y), Predictions::Regression { values }) => {
            let p: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
            regression::Prepared::new(y, &p)
                .metrics(None)
                .get("r2")
                .ok_or_else(|| EngineError::usage("R² is undefined on these rows"))
        }
        _ => Err(bad()),
    }
}

/// Permutation importance with seeded shuffles.
pub fn permutation_importance(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    opts: &ImportanceOptions,
    progress: &Progress,
) -> Result<Importance> {
    if opts.repeats == 0 {
        return Err(EngineError::usage("--repeats must be at least 1"));
    }
    if opts.invalid_rows == InvalidRows::Drop {
        let kind = if is_classifier(model) {
            TargetKind::Labels
        } else {
            TargetKind::Values
        };
        let plan = [plan_inputs(&model.info, features)?];
        let target = Some((opts.target.as_str(), kind));
        if let Some(v) =
            valid_scored_rows(data, &[(model, &plan[0])], target, &opts.infer, progress)?
        {
            // The range a..b of file rows → positions of its kept rows.
            let range = opts.rows.clone().unwrap_or(0..data.rows());
            super::check_rows(&range, data)?;
            let (lo, hi) = v
                .positions_of(&range, &data.path, "value")
                .map(|r| (r.start, r.end))?;
            let inner = ImportanceOptions {
                rows: Some(lo..hi),
                invalid_rows: InvalidRows::Error,
                ..opts.clone()
            };
            let mut imp = permutation_importance(model, features, &v.ds, &inner, progress)?;
            imp.rows_dropped = range.len() - (hi - lo);
            return Ok(imp);
        }
    }
    let n = opts.rows.as_ref().map_or(data.rows(), |r| r.len());
    let f = plan_inputs(&model.info, features)?.columns().len();
    let mut rng = Pcg64::seed_from_u64(opts.seed);
    let perms: Vec<Vec<Vec<usize>>> = (0..f)
        .map(|_| {
            (0..opts.repeats)
                .map(|_| {
                    let mut p: Vec<usize> = (0..n).collect();
                    p.shuffle(&mut rng);
                    p
                })
                .collect()
        })
        .collect();
    importance_with_permutations(model, features, data, opts, &perms, progress)
}

/// Permutation importance with the given shuffles (`perms[feature][repeat]` = row order);
/// what [`permutation_importance`] runs, exposed so tests can replay fixed permutations.
pub fn importance_with_permutations(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    opts: &ImportanceOptions,
    perms: &[Vec<Vec<usize>>],
    progress: &Progress,
) -> Result<Importance> {
    let plan = plan_inputs(&model.info, features)?;
    let names = plan.columns();
    let kind = if is_classifier(model) {
        TargetKind::Labels
    } else {
        TargetKind::Values
    };
    let prepared = prepare(
        data,
        &plan,
        Some((opts.target.as_str(), kind)),
        InvalidRows::Error,
    )?;
    let (x, target) = match &opts.rows {
        Some(r) => {
            super::check_rows(r, data)?;
            let idx: Vec<usize> = r.clone().collect();
            let t = match prepared.target {
                Some(TargetData::Labels(l)) => Some(TargetData::Labels(
                    idx.iter().map(|&i| l[i].clone()).collect(),
                )),
                Some(TargetData::Values(v)) => {
                    Some(TargetData::Values(idx.iter().map(|&i| v[i]).collect()))
                }
                None => None,
            };
            (take_rows(&prepared.inputs, &idx), t)
        }
        None => (prepared.inputs, prepared.target),
    };
    let n = n_rows(&x);
    let base_preds = predict(model, &x, &opts.infer, &progress.stage(0.0, 0.05))?;
    let first = opts.rows.as_ref().map_or(0, |r| r.start);
    crate::engine::scored::require_finite(&base_preds, data, &plan, |i| first + i + 1)?;
    let tgt = resolve_target(model, &base_preds, opts.class.as_deref())?;
    let truth = match (&base_preds, target) {
        (Predictions::Classification { classes, .. }, Some(TargetData::Labels(labels))) => {
            let mut y = Vec::with_capacity(n);
            for l in &labels {
                let c = classes.iter().position(|c| c == l).ok_or_else(|| {
                    EngineError::column(
                        &data.path,
                        &opts.target,
                        format!(
                            "has value '{l}' that is not a class of the model (classes: {})",
                            classes.join(", ")
                        ),
                    )
                })?;
                y.push(c as u32);
            }
            if classes.len() == 2 {
                let pos = match tgt.output {
                    super::masked::Output::Class(c) => c,
                    super::masked::Output::Value => 1,
                };
                Truth::Binary(y.iter().map(|&c| c as usize == pos).collect(), pos)
            } else {
                Truth::Multi(y, classes.len())
            }
        }
        (Predictions::Regression { .. }, Some(TargetData::Values(v))) => Truth::Values(v),
        _ => {
            return Err(EngineError::file(
                model.path(),
                "the model's outputs do not match the target kind",
            ))
        }
    };
    let baseline = score(&truth, &base_preds)?;
    let repeats = perms.first().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        progress.check()?;
        let fp = perms
            .get(j)
            .ok_or_else(|| EngineError::internal("missing permutations"))?;
        // All repeats of one feature in one model call.
        let stacked_idx: Vec<usize> = (0..fp.len()).flat_map(|_| 0..n).collect();
        let stacked = take_rows(&x, &stacked_idx);
        let stacked_perm: Vec<usize> = fp
            .iter()
            .enumerate()
            .flat_map(|(r, p)| p.iter().map(move |&i| r * n + i))
            .collect();
        if fp.iter().any(|p| p.len() != n || p.iter().any(|&i| i >= n)) {
            return Err(EngineError::internal(
                "a permutation does not match the rows",
            ));
        }
        let shuffled: InputData = permute_column(&stacked, j, &stacked_perm);
        let a = 0.05 + 0.95 * j as f32 / names.len() as f32;
        let b = 0.05 + 0.95 * (j + 1) as f32 / names.len() as f32;
        let preds = predict(model, &shuffled, &opts.infer, &progress.stage(a, b))?;
        let mut drops = Vec::with_capacity(fp.len());
        for r in 0..fp.len() {
            let part = slice_predictions(&preds, r * n, (r + 1) * n);
            drops.push(baseline - score(&truth, &part)?);
        }
        let mean = drops.iter().sum::<f64>() / drops.len() as f64;
        let var = drops.iter().map(|d| (d - mean) * (d - mean)).sum::<f64>() / drops.len() as f64;
        out.push(FeatureImportance {
            feature: name.clone(),
            importances_mean: mean,
            importances_std: var.sqrt(),
            importances: drops,
        });
    }
    out.sort_by(|a, b| {
        b.importances_mean
            .total_cmp(&a.importances_mean)
            .then_with(|| a.feature.cmp(&b.feature))
    });
    progress.set(1.0, "done");
    Ok(Importance {
        metric: match truth {
            Truth::Binary(..) => "roc_auc",
            Truth::Multi(..) => "accuracy",
            Truth::Values(_) => "r2",
        }
        .into(),
        baseline_score: baseline,
        class_label: tgt
            .class_label
            .filter(|_| matches!(truth, Truth::Binary(..))),
        rows: n,
        rows_dropped: 0,
        repeats,
        seed: opts.seed,
        features: out,
    })
}

fn slice_predictions(p: &Predictions, a: usize, b: usize) -> Predictions {
    match p {
        Predictions::Classification { classes, proba } => {
            let k = classes.len();
            Predictions::Classification {
                classes: classes.clone(),
                proba: proba[a * k..b * k].to_vec(),
            }
        }
        Predictions::Regression { values } => Predictions::Regression {
            values: values[a..b].to_vec(),
        },
    }
}

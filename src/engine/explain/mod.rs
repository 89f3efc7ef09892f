//! Explanations: Shapley values of any ONNX model through ONNX Runtime (exact over all
//! coalitions, KernelSHAP, permutation SHAP), linear models exactly from their coefficients,
//! background summarisation, permutation feature importance, partial dependence / ICE and a
//! local surrogate. Tree ensembles (TreeSHAP) live in `tree/`.
//!
//! The value function is `v(S) = link(Σ_b w_b f(x_S, b_notS))`: the model's output for the
//! chosen class (probability) or regression value, averaged over the weighted background with
//! the features outside `S` taken from the background row, then the link (identity in
//! probability space, logit in raw space). This is what shap's Exact, Kernel and Permutation
//! explainers compute with an independent masker.

pub mod background;
pub mod exact;
pub mod importance;
pub mod kernel;
pub mod linear;
pub(crate) mod masked;
pub mod pdp;
pub mod permutation;
pub mod surrogate;
pub mod tree;
mod tree_bridge;

use std::ops::Range;
use std::path::PathBuf;

use serde::Serialize;

pub use background::Summarise;

use super::data::extract::{prepare, InputData, InvalidRows};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::model::{plan_inputs, predict, InferOptions, Model, Predictions};
use super::progress::Progress;
use super::valid_rows::valid_scored_rows;
use masked::{row_f64, take_rows, Masked, Output};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Interventional TreeSHAP (tree ensembles).
    Tree,
    /// Path-dependent TreeSHAP (tree ensembles, covers from a dataset).
    TreePath,
    /// Exact Shapley values over all 2^F coalitions.
    Exact,
    /// KernelSHAP (shap's sampling and weighting).
    Kernel,
    /// Permutation SHAP with antithetic permutations.
    Permutation,
    /// Linear models from their coefficients (margin space).
    Linear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputSpace {
    /// Margin: logit of the chosen class's probability for classifiers; the value for
    /// regressors.
    Raw,
    /// The chosen class's probability (classifiers); the value for regressors.
    #[default]
    Probability,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ExplainOptions {
    /// `None` = auto: Linear for (Scaler +) linear graphs in raw space, else Exact when
    /// features ≤ 12, else Kernel.
    pub method: Option<Method>,
    pub output_space: OutputSpace,
    /// Class to explain (default: the positive class of a binary classifier — metadata
    /// `positive_class`, else the second class — or the last class).
    pub class: Option<String>,
    /// Half-open range of data rows (0-based) to explain.
    pub rows: Range<usize>,
    pub background_size: usize,
    pub background: Summarise,
    /// Kernel: coalitions per row (default 2F + 2048); permutation: evaluations per row
    /// (default 500).
    pub nsamples: Option<usize>,
    pub seed: u64,
    pub infer: InferOptions,
    /// `Drop`: explained rows and background rows with a missing or non-finite input are
    /// left out (row numbers stay the file's).
    pub invalid_rows: InvalidRows,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        Self {
            method: None,
            output_space: OutputSpace::Probability,
            class: None,
            rows: 0..50,
            background_size: 100,
            background: Summarise::Sample,
            nsamples: None,
            seed: 0,
            infer: InferOptions::default(),
            invalid_rows: InvalidRows::Error,
        }
    }
}

/// Features at or below which auto picks the exact method.
pub const AUTO_EXACT_MAX_FEATURES: usize = 12;

#[derive(Debug, Clone, Serialize)]
pub struct BackgroundInfo {
    pub path: PathBuf,
    /// Rows of the background file.
    pub source_rows: usize,
    /// Background rows used (after summarisation).
    pub rows: usize,
    pub summarisation: Summarise,
    /// 0-based rows of the background file used (sample); empty for k-means centres.
    pub row_indices: Vec<usize>,
    /// Weight of each background row used (sum 1; cluster sizes for k-means).
    pub weights: Vec<f64>,
}

/// The explanation; its JSON is `assay explain --json`'s contract.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub method: Method,
    pub output_space: OutputSpace,
    /// The explained class (classifiers).
    pub class_label: Option<String>,
    pub feature_names: Vec<String>,
    /// `link(E_b f(b))`: the expected output over the background.
    pub base_value: f64,
    /// SHAP values, rows × features.
    pub values: Vec<Vec<f64>>,
    /// 0-based data row of each explained row.
    pub row_indices: Vec<usize>,
    /// The explained rows' inputs (`None` for text features), for colouring beeswarms.
    pub feature_values: Vec<Vec<Option<f64>>>,
    /// The model's output per explained row in `output_space`.
    pub outputs: Vec<f64>,
    /// max over rows of |base_value + Σφ − output|.
    pub additivity_max_abs_error: f64,
    pub background: BackgroundInfo,
    /// Kernel: coalitions per row; permutation: permutations per row.
    pub nsamples: Option<usize>,
    pub notes: Vec<String>,
    /// (feature, mean |φ|), largest first.
    pub importance: Vec<(String, f64)>,
}

/// The link applied to averaged outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Identity,
    Logit,
}

impl Link {
    pub fn apply(self, p: f64) -> f64 {
        match self {
            Link::Identity => p,
            Link::Logit => (p / (1.0 - p)).ln(),
        }
    }
}

/// The output space a curve is drawn in and the link applied to averaged outputs: `requested`
/// for a classifier (raw = the logit of the probability, as scikit-learn averages decision
/// values), raw for a regressor.
pub(crate) fn space_and_link(target: &Target, requested: OutputSpace) -> (OutputSpace, Link) {
    if target.n_classes == 0 {
        return (OutputSpace::Raw, Link::Identity);
    }
    let link = if requested == OutputSpace::Raw {
        Link::Logit
    } else {
        Link::Identity
    };
    (requested, link)
}

/// What a model predicts, as the explainers need it.
pub(crate) struct Target {
    pub output: Output,
    pub class_label: Option<String>,
    pub n_classes: usize,
}

/// Picks the explained output: `class` (or the default class) of a classifier, or the value.
pub(crate) fn resolve_target(
    model: &Model,
    preds: &Predictions,
    class: Option<&str>,
) -> Result<Target> {
    match preds {
        Predictions::Classification { classes, .. } => {
            let k = classes.len();
            let idx = match class {
                Some(c) => classes.iter().position(|x| x == c).ok_or_else(|| {
                    EngineError::usage(format!(
                        "class '{c}' is not a class of the model (classes: {})",
                        classes.join(", ")
                    ))
                })?,
                None if k == 2 => model
                    .info
                    .metadata
                    .get("positive_class")
                    .and_then(|p| classes.iter().position(|x| x == p))
                    .unwrap_or(1),
                None => k.saturating_sub(1),
            };
            Ok(Target {
                output: Output::Class(idx),
                class_label: Some(classes[idx].clone()),
                n_classes: k,
            })
        }
        Predictions::Regression { .. } => {
            if let Some(c) = class {
                return Err(EngineError::usage(format!(
                    "--class {c} was given but the model is a regressor"
                )));
            }
            Ok(Target {
                output: Output::Value,
                class_label: None,
                n_classes: 0,
            })
        }
    }
}

/// Prepares a dataset's model inputs, failing clearly on an empty file.
pub(crate) fn inputs_of(
    ds: &Dataset,
    model: &Model,
    features: Option<&[String]>,
) -> Result<(Vec<String>, InputData)> {
    let plan = plan_inputs(&model.info, features)?;
    if ds.rows() == 0 {
        return Err(EngineError::file(&ds.path, "the dataset has no rows"));
    }
    let prepared = prepare(ds, &plan, None, InvalidRows::Error)?;
    Ok((plan.columns(), prepared.inputs))
}

/// Explains rows `opts.rows` of `data` against `background`.
pub fn explain(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    background: &Dataset,
    opts: &ExplainOptions,
    progress: &Progress,
) -> Result<Explanation> {
    if opts.invalid_rows == InvalidRows::Error {
        return explain_rows(model, features, data, background, opts, progress);
    }
    check_rows(&opts.rows, data)?;
    let plan = [plan_inputs(&model.info, features)?];
    let scored = [(model, &plan[0])];
    let data_valid = valid_scored_rows(data, &scored, None, &opts.infer, progress)?;
    let bg_valid = valid_scored_rows(background, &scored, None, &opts.infer, progress)?;
    let (ds, rows) = match &data_valid {
        None => (data, opts.rows.clone()),
        Some(v) => (&v.ds, v.positions_of(&opts.rows, &data.path, "input")?),
    };
    let bg = bg_valid.as_ref().map_or(background, |v| &v.ds);
    let inner = ExplainOptions {
        rows,
        invalid_rows: InvalidRows::Error,
        ..opts.clone()
    };
    let mut e = explain_rows(model, features, ds, bg, &inner, progress)?;
    if let Some(v) = &data_valid {
        for r in &mut e.row_indices {
            *r = v.kept.get(*r).map_or(*r, |&k| k as usize);
        }
        let explained = inner.rows.len();
        e.notes.push(format!(
            "--drop-invalid: {explained} of rows {}..{} explained; {} left out for missing or non-finite inputs (in the file e.g. {})",
            opts.rows.start,
            opts.rows.end,
            opts.rows.len() - explained,
            v.examples.join("; ")
        ));
    }
    if let Some(v) = &bg_valid {
        for r in &mut e.background.row_indices {
            *r = v.kept.get(*r).map_or(*r, |&k| k as usize);
        }
        e.background.source_rows = background.rows();
        e.notes.push(format!(
            "--drop-invalid: {} background rows with missing or non-finite inputs left out",
            v.dropped
        ));
    }
    Ok(e)
}

/// `--rows a..b` is a non-empty range inside `data`.
pub(crate) fn check_rows(rows: &Range<usize>, data: &Dataset) -> Result<()> {
    if rows.start >= rows.end {
        return Err(EngineError::usage(format!(
            "--rows {}..{} is empty (half-open: rows a to b−1)",
            rows.start, rows.end
        )));
    }
    if rows.end > data.rows() {
        return Err(EngineError::usage(format!(
            "--rows {}..{} is outside {}, which has {} rows",
            rows.start,
            rows.end,
            data.path.display(),
            data.rows()
        )));
    }
    Ok(())
}

fn explain_rows(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    background: &Dataset,
    opts: &ExplainOptions,
    progress: &Progress,
) -> Result<Explanation> {
    progress.set(0.0, "checking data");
    let rows = opts.rows.clone();
    check_rows(&rows, data)?;
    if background.rows() == 0 {
        return Err(EngineError::file(
            &background.path,
            "the background has no rows",
        ));
    }
    let (names, all) = inputs_of(data, model, features)?;
    let f = names.len();
    let idx: Vec<usize> = rows.clone().collect();
    let x = take_rows(&all, &idx);
    drop(all);
    let (_, bg_all) = inputs_of(background, model, features)?;
    let bg = background::summarise(&bg_all, opts.background, opts.background_size, opts.seed)?;
    progress.check()?;

    let preds_x = predict(model, &x, &opts.infer, &progress.stage(0.02, 0.04))?;
    // Missing values reach the model; a row (or background row) it returns NaN for is named.
    let plan = plan_inputs(&model.info, features)?;
    crate::engine::scored::require_finite(&preds_x, data, &plan, |i| rows.start + i + 1)?;
    if !bg.source_rows.is_empty() {
        let preds_bg = predict(model, &bg.data, &opts.infer, &progress.stage(0.02, 0.04))?;
        crate::engine::scored::require_finite(&preds_bg, background, &plan, |i| {
            bg.source_rows.get(i).map_or(i, |&r| r) + 1
        })?;
    }
    let target = resolve_target(model, &preds_x, opts.class.as_deref())?;
    let m = Masked {
        model,
        x: &x,
        bg: &bg.data,
        bg_weights: &bg.weights,
        output: target.output,
        infer: &opts.infer,
    };
    let fx = masked::outputs(
        model,
        &x,
        target.output,
        &opts.infer,
        progress,
        (0.04, 0.05),
    )?;
    let f_bg = masked::outputs(
        model,
        &bg.data,
        target.output,
        &opts.infer,
        progress,
        (0.05, 0.06),
    )?;
    let fnull: f64 = f_bg.iter().zip(&bg.weights).map(|(v, w)| v * w).sum();

    let mut notes = Vec::new();
    let classifier = target.n_classes > 0;
    let mut space = if classifier {
        opts.output_space
    } else {
        if opts.output_space == OutputSpace::Probability {
            notes.push("regression model: its output value is explained (raw space)".into());
        }
        OutputSpace::Raw
    };
    let link = if classifier && space == OutputSpace::Raw {
        notes.push(
            "raw space: the logit of the explained class's probability, log(p / (1 − p)), computed after averaging over the background (like shap's link=\"logit\")".into(),
        );
        Link::Logit
    } else {
        Link::Identity
    };
    let lin = linear::parse(
        model,
        f,
        match target.output {
            Output::Class(c) => c,
            Output::Value => 0,
        },
        target.n_classes,
    )?
    .filter(|_| matches!(x, InputData::MatrixF32 { .. } | InputData::MatrixF64 { .. }));
    let tree_class = match target.output {
        Output::Class(c) => Some(c),
        Output::Value => None,
    };
    let method = match opts.method {
        Some(m) => m,
        None if lin.is_some() && space == OutputSpace::Raw => Method::Linear,
        None if tree_bridge::supports(model, tree_class, space) => Method::Tree,
        None if f <= AUTO_EXACT_MAX_FEATURES => Method::Exact,
        None => Method::Kernel,
    };
    progress.set(0.06, "explaining");
    let span = (0.06, 0.98);
    let mut nsamples = None;
    let (values, base_value, outputs) = match method {
        Method::Tree | Method::TreePath => {
            if method == Method::Tree && opts.background == Summarise::KMeans {
                return Err(EngineError::usage(
                    "interventional TreeSHAP weighs background rows equally: use a sampled background, not k-means",
                ));
            }
            let t = tree_bridge::explain_trees(
                model,
                method,
                &x,
                idx.len(),
                &bg.data,
                bg.weights.len(),
                (&bg_all, background.rows()),
                tree_class,
                space,
                progress,
            )?;
            // TreeSHAP's notes (which space, how) replace the link note.
            notes.clear();
            notes.extend(t.notes);
            space = t.space;
            (t.values, t.base_value, t.outputs)
        }
        Method::Exact => {
            let v = exact::explain(&m, idx.len(), f, link, progress, span)?;
            (
                v,
                link.apply(fnull),
                fx.iter().map(|&p| link.apply(p)).collect::<Vec<_>>(),
            )
        }
        Method::Kernel => {
            let v = kernel::explain(
                &m,
                idx.len(),
                f,
                link,
                &fx,
                fnull,
                opts.nsamples,
                opts.seed,
                progress,
                span,
            )?;
            let used = opts.nsamples.unwrap_or_else(|| kernel::default_nsamples(f));
            let all = if f < 64 {
                (1usize << f).saturating_sub(2)
            } else {
                usize::MAX
            };
            nsamples = Some(used.min(all));
            if used >= all {
                notes.push(format!(
                    "KernelSHAP enumerated all {all} coalitions: the values are exact"
                ));
            } else {
                notes.push(format!(
                    "KernelSHAP sampled {} of {all} coalitions per row (seed {})",
                    used, opts.seed
                ));
            }
            (
                v,
                link.apply(fnull),
                fx.iter().map(|&p| link.apply(p)).collect(),
            )
        }
        Method::Permutation => {
            let (v, nperm) = permutation::explain(
                &m,
                idx.len(),
                f,
                link,
                opts.nsamples,
                opts.seed,
                progress,
                span,
            )?;
            nsamples = Some(nperm);
            notes.push(format!(
                "{nperm} antithetic permutation pairs per row (seed {})",
                opts.seed
            ));
            (
                v,
                link.apply(fnull),
                fx.iter().map(|&p| link.apply(p)).collect(),
            )
        }
        Method::Linear => linear::values(&lin, classifier, space, &x, &bg, &fx, link, &mut notes)?,
    };
    let finite = base_value.is_finite()
        && outputs.iter().all(|v| v.is_finite())
        && values.iter().flatten().all(|v| v.is_finite());
    if !finite {
        return Err(EngineError::usage(
            "some explained output is a probability of exactly 0 or 1, whose logit is infinite; explain in probability space (--output-space probability)",
        ));
    }
    let feature_values: Vec<Vec<Option<f64>>> = (0..idx.len()).map(|i| row_f64(&x, i)).collect();
    let additivity_max_abs_error = values
        .iter()
        .zip(&outputs)
        .map(|(phi, out)| (base_value + phi.iter().sum::<f64>() - out).abs())
        .fold(0.0, f64::max);
    let importance = mean_abs_importance(&names, &values);
    progress.set(1.0, "done");
    Ok(Explanation {
        method,
        output_space: space,
        class_label: target.class_label,
        feature_names: names,
        base_value,
        values,
        row_indices: idx,
        feature_values,
        outputs,
        additivity_max_abs_error,
        background: BackgroundInfo {
            path: background.path.clone(),
            source_rows: background.rows(),
            rows: bg.weights.len(),
            summarisation: opts.background,
            row_indices: bg.source_rows.clone(),
            weights: bg.weights.clone(),
        },
        nsamples,
        notes,
        importance,
    })
}

/// (feature, mean |φ|) sorted largest first (ties by name).
pub fn mean_abs_importance(names: &[String], values: &[Vec<f64>]) -> Vec<(String, f64)> {
    let n = values.len().max(1) as f64;
    let mut imp: Vec<(String, f64)> = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            (
                name.clone(),
                values.iter().map(|r| r[j].abs()).sum::<f64>() / n,
            )
        })
        .collect();
    imp.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    imp
}

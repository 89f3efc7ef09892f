//! Compare model versions on one labelled dataset: each model's evaluation (metrics with
//! intervals and downsampled ROC/PR curves), per pair of models (A, B in the order given) the
//! metric deltas `B − A` with paired bootstrap intervals, McNemar, DeLong and prediction
//! agreement ([`pair`]), slice regressions ([`slices`]) and a promotion gate ([`gate`]) over
//! named facts. Each model runs once (`evaluate_rows`).

pub mod evidence;
pub mod gate;
pub mod pair;
pub mod paired;
pub mod shift;
pub mod slices;
pub mod stats;

use crate::engine::Warning;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use self::gate::{Gate, GateOp, GateResult, GateRule};
use self::pair::{compare_pair, PairComparison, View};
use self::paired::{metric_delta, paired_intervals, Scorer};
use self::slices::{compare_slices, worsening, SliceComparison, SliceInput};
use super::data::extract::{InvalidRows, TargetKind};
use super::data::{self, Dataset};
use super::error::{Context, EngineError, Result};
use super::evaluate::{
    evaluate_rows, is_classifier, DataRef, EvalOptions, Evaluation, RowOutputs, Task,
};
use super::fairness::stats::Outcomes;
use super::fairness::Named;
use super::metrics::bootstrap::BootstrapSettings;
use super::model::{plan_inputs, InferOptions, InputPlan, Model};
use super::progress::Progress;
use super::valid_rows::valid_scored_rows;

/// One model to compare.
#[derive(Debug, Clone)]
pub struct ModelInput<'a> {
    /// Shown in tables and used in pair names; unique.
    pub label: String,
    pub model: &'a Model,
    /// Columns feeding a single `[N, F]` input (default: the model's `features` metadata).
    pub features: Option<Vec<String>>,
}

/// Column roles shared by every model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Roles {
    pub target: String,
    /// Binary: the positive class (default: each model's `positive_class` metadata, else its
    /// second class).
    pub positive_class: Option<String>,
    /// One entry per slicing; several columns = their intersection.
    pub sensitive: Vec<Vec<String>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CompareSettings {
    pub threshold: f64,
    pub bootstrap: BootstrapSettings,
    /// Rows listed in each pair's `top_disagreements`.
    pub top_disagreements: usize,
    /// Curves are thinned to this many points (metrics always use every row).
    pub max_curve_points: usize,
    /// Groups smaller than this are `too_small` and left out of `max_group_worsening`.
    pub min_group_size: usize,
    /// `None`: [`default_gate`].
    pub gate: Option<Gate>,
    /// The pair the gate judges, 0-based (baseline, candidate) with the baseline earlier in
    /// the model order; `None`: the first and the last model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate_pair: Option<(usize, usize)>,
    pub infer: InferOptions,
    /// `Drop`: a row invalid for any model is dropped for all, so pairs stay paired.
    pub invalid_rows: InvalidRows,
}

impl Default for CompareSettings {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            bootstrap: BootstrapSettings::default(),
            top_disagreements: 20,
            max_curve_points: 500,
            min_group_size: 30,
            gate: None,
            gate_pair: None,
            infer: InferOptions::default(),
            invalid_rows: InvalidRows::Error,
        }
    }
}

/// One model's evaluation under its label.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub label: String,
    #[serde(flatten)]
    pub evaluation: Evaluation,
}

/// The gate judged on one pair: by default the first model (baseline) and the last
/// (candidate); [`CompareSettings::gate_pair`] picks another.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub baseline: String,
    pub candidate: String,
    /// True when the rules are [`default_gate`]'s.
    pub default_rules: bool,
    #[serde(flatten)]
    pub result: GateResult,
}

/// The comparison; its JSON form is `assay compare`'s contract.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub task: Task,
    pub n: usize,
    pub data: DataRef,
    pub target: String,
    pub classes: Option<Vec<String>>,
    pub positive_class: Option<String>,
    pub threshold: Option<f64>,
    pub bootstrap: BootstrapSettings,
    pub models: Vec<ModelResult>,
    /// Every pair `(i, j)` with `i < j` in the order given: A = models[i], B = models[j].
    pub pairs: Vec<PairComparison>,
    pub slices: Vec<SliceComparison>,
    /// Named facts of the gated pair (what gate rules may use).
    pub facts: BTreeMap<String, f64>,
    pub gate: GateReport,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Loads the models and the dataset, labels the models, and compares.
pub fn compare_files(
    models: &[PathBuf],
    data_path: &Path,
    roles: &Roles,
    settings: &CompareSettings,
    progress: &Progress,
) -> Result<Comparison> {
    progress.set(0.0, "loading models");
    let loaded: Vec<Model> = models
        .iter()
        .map(|p| Model::load(p))
        .collect::<Result<_>>()?;
    let labels = model_labels(&loaded);
    let ds = data::load(data_path, progress)?;
    let inputs: Vec<ModelInput<'_>> = loaded
        .iter()
        .zip(labels)
        .map(|(model, label)| ModelInput {
            label,
            model,
            features: None,
        })
        .collect();
    compare(&inputs, &ds, roles, settings, progress)
}

/// `name version` from metadata, else the file stem; made unique with the file name, then
/// with `#k`.
pub fn model_labels(models: &[Model]) -> Vec<String> {
    let stem = |m: &Model| {
        m.info
            .path
            .file_stem()
            .map_or_else(|| "model".to_string(), |s| s.to_string_lossy().into_owned())
    };
    let mut labels: Vec<String> = models
        .iter()
        .map(|m| match (&m.info.name, &m.info.version) {
            (Some(n), Some(v)) => format!("{n} {v}"),
            (Some(n), None) => n.clone(),
            _ => stem(m),
        })
        .collect();
    let dup = |labels: &[String], i: usize| labels.iter().filter(|l| **l == labels[i]).count() > 1;
    let first: Vec<bool> = (0..labels.len()).map(|i| dup(&labels, i)).collect();
    for (i, d) in first.into_iter().enumerate() {
        if d {
            labels[i] = stem(&models[i]);
        }
    }
    let second: Vec<bool> = (0..labels.len()).map(|i| dup(&labels, i)).collect();
    for (i, d) in second.into_iter().enumerate() {
        if d {
            labels[i] = format!("{} #{}", labels[i], i + 1);
        }
    }
    labels
}

fn task_name(t: Task) -> &'static str {
    match t {
        Task::BinaryClassification => "binary classification",
        Task::MulticlassClassification => "multiclass classification",
        Task::Regression => "regression",
    }
}

/// Compares two or more models on the same dataset.
pub fn compare(
    models: &[ModelInput<'_>],
    ds: &Dataset,
    roles: &Roles,
    settings: &CompareSettings,
    progress: &Progress,
) -> Result<Comparison> {
    if models.len() < 2 {
        return Err(EngineError::usage(format!(
            "compare needs at least two models (got {}); give --model twice or more",
            models.len()
        )));
    }
    for (i, m) in models.iter().enumerate() {
        if models[..i].iter().any(|o| o.label == m.label) {
            return Err(EngineError::usage(format!(
                "two models share the label '{}'",
                m.label
            )));
        }
    }
    let (base, cand) = gate_pair(settings.gate_pair, models.len())?;
    let kinds: Vec<bool> = models.iter().map(|m| is_classifier(m.model)).collect();
    if let Some(k) = kinds.iter().position(|&c| c != kinds[0]) {
        let what = |c: bool| if c { "a classifier" } else { "a regressor" };
        return Err(EngineError::usage(format!(
            "models of different tasks cannot be compared: '{}' is {} but '{}' is {}",
            models[0].label,
            what(kinds[0]),
            models[k].label,
            what(kinds[k])
        )));
    }
    super::fairness::require_sensitive(ds, roles.sensitive.iter().flatten())?;
    let all_rows = ds.rows();
    let common = match settings.invalid_rows {
        InvalidRows::Drop => {
            let plans = models
                .iter()
                .map(|m| plan_inputs(&m.model.info, m.features.as_deref()))
                .collect::<Result<Vec<_>>>()?;
            let kind = if kinds[0] {
                TargetKind::Labels
            } else {
                TargetKind::Values
            };
            let scored: Vec<(&Model, &InputPlan)> =
                models.iter().map(|m| m.model).zip(&plans).collect();
            valid_scored_rows(
                ds,
                &scored,
                Some((roles.target.as_str(), kind)),
                &settings.infer,
                progress,
            )?
        }
        InvalidRows::Error => None,
    };
    let ds = common.as_ref().map_or(ds, |c| &c.ds);
    let mut evals = Vec::with_capacity(models.len());
    let mut rows = Vec::with_capacity(models.len());
    for m in models {
        progress.check()?;
        let mut opts = EvalOptions::new(roles.target.clone());
        opts.features = m.features.clone();
        opts.positive_class = roles.positive_class.clone();
        opts.threshold = settings.threshold;
        opts.bootstrap = settings.bootstrap.clone();
        opts.invalid_rows = InvalidRows::Error;
        opts.infer = settings.infer.clone();
        opts.max_curve_points = settings.max_curve_points;
        let (e, r) = evaluate_rows(m.model, ds, &opts, progress)
            .with_context(|| format!("model '{}'", m.label))?;
        evals.push(e);
        rows.push(r);
    }
    check_alignment(models, &evals, &rows)?;
    let task = evals[0].task;
    let n = evals[0].n;
    let classes: Vec<String> = evals[0].classes.clone().unwrap_or_default();
    let positive = evals[0]
        .positive_class
        .as_ref()
        .and_then(|p| classes.iter().position(|c| c == p))
        .unwrap_or(1);
    let labels: Vec<String> = models.iter().map(|m| m.label.clone()).collect();
    let pairs_idx: Vec<(usize, usize)> = (0..models.len())
        .flat_map(|i| (i + 1..models.len()).map(move |j| (i, j)))
        .collect();
    progress.set(0.8, "paired bootstrap");
    let scorers: Vec<Scorer<'_>> = rows
        .iter()
        .map(|r| Scorer::new(r, settings.threshold))
        .collect();
    let cis = paired_intervals(
        &scorers,
        n,
        &pairs_idx,
        &settings.bootstrap,
        &progress.stage(0.8, 0.9),
    )?;
    let views: Vec<View<'_>> = rows
        .iter()
        .map(|r| View {
            rows: r,
            classes: &classes,
            positive,
            threshold: settings.threshold,
        })
        .collect();
    let mut pairs = Vec::with_capacity(pairs_idx.len());
    for (&(a, b), (ci, w)) in pairs_idx.iter().zip(cis) {
        progress.check()?;
        let mut p = compare_pair(
            &labels[a],
            &labels[b],
            &views[a],
            &views[b],
            settings.top_disagreements,
        );
        p.delta = Named(metric_delta(&evals[a].metrics, &evals[b].metrics));
        p.delta_ci = ci;
        p.warnings = w;
        pairs.push(p);
    }
    progress.set(0.9, "slices");
    let mut warnings = Vec::new();
    let slices = if roles.sensitive.is_empty() {
        Vec::new()
    } else if task == Task::MulticlassClassification {
        warnings.push(Warning::option(
            "slice regressions need a binary classifier or a regressor (the fairness metrics); not computed for multiclass models",
        ));
        Vec::new()
    } else {
        let outcomes: Vec<Outcomes> = rows
            .iter()
            .map(|r| outcomes_of(r, settings.threshold))
            .collect();
        let input = SliceInput {
            ds,
            target: &roles.target,
            threshold: settings.threshold,
            slicings: &roles.sensitive,
            bootstrap: &settings.bootstrap,
            min_group_size: settings.min_group_size,
        };
        compare_slices(&input, &labels, &outcomes, &pairs_idx, progress)?
    };
    let gated = pairs_idx
        .iter()
        .position(|&p| p == (base, cand))
        .ok_or_else(|| EngineError::internal("no baseline/candidate pair"))?;
    let facts = facts(&evals[base], &evals[cand], &pairs[gated], &slices, gated);
    let (gate_rules, default_rules) = match &settings.gate {
        Some(g) => (g.clone(), false),
        None => (default_gate(task, !roles.sensitive.is_empty()), true),
    };
    let gate = GateReport {
        baseline: labels[base].clone(),
        candidate: labels[cand].clone(),
        default_rules,
        result: gate_rules.evaluate(&facts),
    };
    if let Some(c) = &common {
        // Rows of the restricted frame → the file's 1-based data rows.
        for p in &mut pairs {
            for d in &mut p.top_disagreements {
                if let Some(&k) = d.row.checked_sub(1).and_then(|i| c.kept.get(i)) {
                    d.row = k as usize + 1;
                }
            }
        }
        for e in &mut evals {
            e.data.rows = all_rows;
            e.data.rows_dropped = all_rows - c.kept.len();
        }
        warnings.insert(
            0,
            Warning::rows_left_out(format!(
                "dropped {} of {all_rows} rows with invalid values or outputs for at least \
                 one model (e.g. {}); every model is compared on the same {} rows",
                c.dropped,
                c.examples.join("; "),
                c.kept.len()
            )),
        );
    }
    progress.set(1.0, "done");
    let first = &evals[0];
    Ok(Comparison {
        task,
        n,
        data: first.data.clone(),
        target: roles.target.clone(),
        classes: first.classes.clone(),
        positive_class: first.positive_class.clone(),
        threshold: first.threshold,
        bootstrap: settings.bootstrap.clone(),
        models: labels
            .into_iter()
            .zip(evals)
            .map(|(label, evaluation)| ModelResult { label, evaluation })
            .collect(),
        pairs,
        slices,
        facts,
        gate,
        warnings,
    })
}

/// Same task, same rows, same truth for every model.
fn check_alignment(
    models: &[ModelInput<'_>],
    evals: &[Evaluation],
    rows: &[RowOutputs],
) -> Result<()> {
    let (e0, r0) = (&evals[0], &rows[0]);
    for (i, (e, r)) in evals.iter().zip(rows).enumerate().skip(1) {
        let who = format!("'{}' and '{}'", models[0].label, models[i].label);
        if e.task != e0.task {
            return Err(EngineError::usage(format!(
                "models of different tasks cannot be compared: {who} are {} and {}",
                task_name(e0.task),
                task_name(e.task)
            )));
        }
        if e.n != e0.n {
            return Err(EngineError::internal(format!(
                "{who} were evaluated on different rows"
            )));
        }
        if e.classes != e0.classes {
            return Err(EngineError::usage(format!(
                "{who} have different classes ({} vs {})",
                e0.classes.clone().unwrap_or_default().join(", "),
                e.classes.clone().unwrap_or_default().join(", ")
            )));
        }
        let same_truth = match (r0, r) {
            (RowOutputs::Binary { y: a, .. }, RowOutputs::Binary { y: b, .. }) => a == b,
            (RowOutputs::Multiclass { y: a, .. }, RowOutputs::Multiclass { y: b, .. }) => a == b,
            (RowOutputs::Regression { y: a, .. }, RowOutputs::Regression { y: b, .. }) => a == b,
            _ => false,
        };
        if !same_truth {
            return Err(EngineError::usage(format!(
                "{who} disagree on the positive class ('{}' vs '{}'); give --positive-class",
                e0.positive_class.as_deref().unwrap_or("?"),
                e.positive_class.as_deref().unwrap_or("?")
            )));
        }
    }
    Ok(())
}

fn outcomes_of(r: &RowOutputs, threshold: f64) -> Outcomes {
    match r {
        RowOutputs::Binary { y, score } => Outcomes::Binary {
            y: y.clone(),
            pred: score.iter().map(|&s| s >= threshold).collect(),
        },
        RowOutputs::Regression { y, pred } => Outcomes::Regression {
            y: y.clone(),
            pred: pred.clone(),
        },
        // Not reached: slices skip multiclass models.
        RowOutputs::Multiclass { .. } => Outcomes::Regression {
            y: Vec::new(),
            pred: Vec::new(),
        },
    }
}

/// The gated pair: the chosen one, checked against the number of models, or first and last.
fn gate_pair(pair: Option<(usize, usize)>, n: usize) -> Result<(usize, usize)> {
    match pair {
        None => Ok((0, n - 1)),
        Some((b, c)) if b < c && c < n => Ok((b, c)),
        Some((b, c)) => Err(EngineError::usage(format!(
            "the gate pair {},{} is not two of the {n} models with the baseline first (1-based positions, e.g. 1,{n})",
            b + 1,
            c + 1
        ))),
    }
}

/// The named facts of the pair (baseline A, candidate B) that gate rules use:
/// `baseline.M`, `candidate.M`, `delta.M`, `delta_ci_low.M`, `delta_ci_high.M` per evaluation
/// metric; `mcnemar_exact_p_value`, `mcnemar_chi2_p_value`, `delong_p_value`,
/// `label_disagreement_rate`, `mean_abs_prob_diff`, `max_abs_prob_diff`, `pearson_r`,
/// `spearman_r`; with sensitive columns `max_group_worsening.M` (largest worsening of a
/// directed group metric over groups not too small, positive = worse),
/// `groups_significantly_worse` and `disparity_delta.COLS.NAME`.
pub fn facts(
    base: &Evaluation,
    cand: &Evaluation,
    pair: &PairComparison,
    slices: &[SliceComparison],
    pair_index: usize,
) -> BTreeMap<String, f64> {
    let mut f = BTreeMap::new();
    let mut put = |k: String, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            f.insert(k, v);
        }
    };
    for (name, v) in &base.metrics.0 {
        put(format!("baseline.{name}"), *v);
    }
    for (name, v) in &cand.metrics.0 {
        put(format!("candidate.{name}"), *v);
    }
    for (name, v) in &pair.delta.0 {
        put(format!("delta.{name}"), *v);
    }
    for (name, [lo, hi]) in &pair.delta_ci {
        put(format!("delta_ci_low.{name}"), Some(*lo));
        put(format!("delta_ci_high.{name}"), Some(*hi));
    }
    put("mcnemar_exact_p_value".into(), pair.mcnemar_exact_p_value);
    put(
        "mcnemar_chi2_p_value".into(),
        pair.mcnemar_chi2_corrected.map(|c| c.p_value),
    );
    put("delong_p_value".into(), pair.delong_p_value);
    put(
        "label_disagreement_rate".into(),
        pair.label_disagreement_rate,
    );
    put("mean_abs_prob_diff".into(), pair.mean_abs_prob_diff);
    put("max_abs_prob_diff".into(), pair.max_abs_prob_diff);
    put("pearson_r".into(), pair.pearson_r);
    put("spearman_r".into(), pair.spearman_r);
    if !slices.is_empty() {
        let mut worst: BTreeMap<String, f64> = BTreeMap::new();
        let mut sig = 0usize;
        for s in slices {
            let Some(p) = s.pairs.get(pair_index) else {
                continue;
            };
            for g in p.groups.iter().filter(|g| !g.too_small) {
                sig += usize::from(g.significantly_worse);
                for (m, d) in &g.delta.0 {
                    if let Some(w) = d.and_then(|d| worsening(m, d)) {
                        let e = worst.entry(m.clone()).or_insert(f64::NEG_INFINITY);
                        *e = e.max(w);
                    }
                }
            }
            let cols = s.columns.join("+");
            for (name, d) in &p.disparity_delta.0 {
                put(format!("disparity_delta.{cols}.{name}"), *d);
            }
        }
        for (m, w) in worst {
            put(format!("max_group_worsening.{m}"), Some(w));
        }
        put("groups_significantly_worse".into(), Some(sig as f64));
    }
    f
}

/// A sensible starting gate: the candidate's headline metric must not drop (point estimate)
/// and its paired interval must not reach more than 0.01 below zero; with sensitive columns,
/// no large-enough group may lose more than 0.05 true-positive rate (classification), or be
/// significantly worse (regression).
pub fn default_gate(task: Task, sensitive: bool) -> Gate {
    let r = GateRule::new;
    let mut rules = match task {
        Task::BinaryClassification => vec![
            r("delta.roc_auc", GateOp::Ge, 0.0),
            r("delta_ci_low.roc_auc", GateOp::Gt, -0.01),
        ],
        Task::MulticlassClassification => vec![
            r("delta.accuracy", GateOp::Ge, 0.0),
            r("delta_ci_low.accuracy", GateOp::Gt, -0.01),
        ],
        Task::Regression => vec![
            r("delta.r2", GateOp::Ge, 0.0),
            r("delta_ci_low.r2", GateOp::Gt, -0.01),
        ],
    };
    if sensitive {
        match task {
            Task::BinaryClassification => {
                rules.push(r(
                    "max_group_worsening.true_positive_rate",
                    GateOp::Le,
                    0.05,
                ));
            }
            Task::Regression => rules.push(r("groups_significantly_worse", GateOp::Le, 0.0)),
            Task::MulticlassClassification => {}
        }
    }
    Gate { rules }
}

//! `evaluate`: model + dataset + column roles → metrics, confidence intervals, curves and
//! warnings. The CLI and the GUI call this same function, so they show the same numbers.

use crate::engine::Warning;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::data::extract::{InvalidRows, RowBook, TargetData, TargetKind};
use super::data::{self, Dataset};
use super::error::{EngineError, Result};
use super::metrics::bootstrap::{self, BootstrapSettings};
use super::metrics::curves::{
    self, Calibration, PrCurve, Residuals, RocCurve, ScoreHistogram, ThresholdSweep,
};
use super::metrics::{multiclass, regression, Metrics};
use super::model::{plan_inputs, InferOptions, InputPlan, Model, Predictions, ValueKind};
use super::progress::Progress;
use super::scored::score;

mod binary;
use binary::{binary_eval, thin_roc};

#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalOptions {
    pub target: String,
    pub features: Option<Vec<String>>,
    pub positive_class: Option<String>,
    pub threshold: f64,
    pub bootstrap: BootstrapSettings,
    pub invalid_rows: InvalidRows,
    pub infer: InferOptions,
    /// Curves longer than this are thinned evenly for output (metrics always use all rows).
    pub max_curve_points: usize,
}

impl EvalOptions {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            features: None,
            positive_class: None,
            threshold: 0.5,
            bootstrap: BootstrapSettings::default(),
            invalid_rows: InvalidRows::Error,
            infer: InferOptions::default(),
            max_curve_points: 2000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    BinaryClassification,
    MulticlassClassification,
    Regression,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelRef {
    pub path: PathBuf,
    pub sha256: String,
    pub name: Option<String>,
    pub version: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataRef {
    pub path: PathBuf,
    pub sha256: String,
    pub rows: usize,
    pub rows_dropped: usize,
}

impl ModelRef {
    pub fn of(model: &Model) -> Self {
        ModelRef {
            path: model.info.path.clone(),
            sha256: model.info.sha256.clone(),
            name: model.info.name.clone(),
            version: model.info.version.clone(),
        }
    }
}

impl DataRef {
    /// `ds`, of which `rows_dropped` rows were left out.
    pub fn of(ds: &Dataset, rows_dropped: usize) -> Self {
        DataRef {
            path: ds.path.clone(),
            sha256: ds.sha256.clone(),
            rows: ds.rows(),
            rows_dropped,
        }
    }
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Curves {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roc: Option<RocCurve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision_recall: Option<PrCurve>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_sweep: Option<ThresholdSweep>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_histogram: Option<ScoreHistogram>,
    /// One-vs-rest ROC per class (multiclass).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roc_per_class: Vec<(String, RocCurve)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub residuals: Option<Residuals>,
    /// True when a curve was thinned to `max_curve_points` for output.
    pub thinned: bool,
}

/// The evaluation result; its JSON form is the CLI contract.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub task: Task,
    pub n: usize,
    pub model: ModelRef,
    pub data: DataRef,
    pub target: String,
    pub features: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub metrics: Metrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<Vec<Vec<u64>>>,
    pub ci: BTreeMap<String, [f64; 2]>,
    pub bootstrap: BootstrapSettings,
    pub curves: Curves,
    pub warnings: Vec<Warning>,
}

/// Guesses the task from declared outputs: a label tensor (int/string) or a ZipMap means a
/// classifier; only float outputs mean a regressor.
pub fn is_classifier(model: &Model) -> bool {
    model.info.outputs.iter().any(|o| match &o.kind {
        ValueKind::Tensor { element_type, .. } => {
            !matches!(element_type.as_str(), "float" | "double")
        }
        ValueKind::Sequence { .. } | ValueKind::Map { .. } => true,
        ValueKind::Unknown => false,
    })
}

/// Loads both files and evaluates: a large dataset ([`super::data::batches::is_large`]: a file
/// or a set of files of at least [`super::data::batches::STREAM_MIN_BYTES`]) streamed in batches (bounded memory, same
/// result), anything else — and any file the streamed run cannot take — in memory.
pub fn evaluate_files(
    model: &Path,
    data: &Path,
    opts: &EvalOptions,
    progress: &Progress,
) -> Result<Evaluation> {
    use super::evaluate_stream::evaluate_streamed;
    progress.set(0.0, "loading model");
    let model = Model::load(model)?;
    if super::data::batches::is_large(data) {
        if let Some(eval) = evaluate_streamed(&model, data, opts, None, progress)? {
            return Ok(eval);
        }
    }
    let ds = data::load(data, progress)?;
    evaluate(&model, &ds, opts, progress)
}

pub fn evaluate(
    model: &Model,
    ds: &Dataset,
    opts: &EvalOptions,
    progress: &Progress,
) -> Result<Evaluation> {
    evaluate_rows(model, ds, opts, progress).map(|(eval, _)| eval)
}

/// The per-row outcomes behind an [`Evaluation`] (every kept row, in data order), for engines
/// that compare models row by row (`compare`).
#[derive(Debug, Clone)]
pub enum RowOutputs {
    /// True labels (positive = true) and the positive class's probability.
    Binary {
        y: Vec<bool>,
        score: Vec<f64>,
    },
    /// Class indices and row-major `[n, k]` probabilities.
    Multiclass {
        y: Vec<u32>,
        proba: Vec<f64>,
        k: usize,
    },
    Regression {
        y: Vec<f64>,
        pred: Vec<f64>,
    },
}

/// The true outcomes of the kept rows: class labels as in the file, labels already turned
/// into the model's class indices (the streamed path), a binary classifier's outcomes
/// already reduced to what its metrics need (the streamed path), or values (regression).
pub(crate) enum Truth {
    Labels(Vec<String>),
    Classes(Vec<u32>),
    Binary(BinaryRows),
    Values(Vec<f64>),
}

/// A binary classifier's rows as its metrics need them (5 bytes a row): whether each row is
/// of the positive class (index `positive` of the model's classes), that class's score as the
/// model gave it, and the check of all class scores ([`Outside`]). The model's probabilities
/// of the other class are not kept.
pub(crate) struct BinaryRows {
    pub positive: usize,
    pub y: Vec<bool>,
    pub score: Vec<f32>,
    pub outside: Outside,
}

/// Class scores outside [0, 1]: how many, and the first (its index in the row-major
/// `[rows, classes]` scores, and its value).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Outside {
    pub count: usize,
    pub first: Option<(usize, f32)>,
}

impl Outside {
    /// Counts the scores of `proba`, the first of which has index `offset`.
    pub fn add(&mut self, proba: &[f32], offset: usize) {
        for (j, &p) in proba.iter().enumerate() {
            if !(0.0..=1.0).contains(&p) {
                self.count += 1;
                self.first.get_or_insert((offset + j, p));
            }
        }
    }
}

/// The index among the model's `classes` of the positive class of a binary classifier: the
/// one `asked` for (`--positive-class`), else the model's `positive_class` metadata, else the
/// second. Shared by evaluate and fairness, in memory and streamed.
pub(crate) fn positive_index(
    model: &Model,
    asked: Option<&str>,
    classes: &[String],
) -> Result<usize> {
    match asked
        .map(str::to_string)
        .or_else(|| model.info.metadata.get("positive_class").cloned())
    {
        // The last of repeated names, as a map from name to index gives.
        Some(p) => classes.iter().rposition(|c| *c == p).ok_or_else(|| {
            EngineError::usage(format!(
                "positive class '{p}' is not a class of the model (classes: {})",
                classes.join(", ")
            ))
        }),
        None => Ok(1),
    }
}

impl From<TargetData> for Truth {
    fn from(t: TargetData) -> Self {
        match t {
            TargetData::Labels(l) => Truth::Labels(l),
            TargetData::Values(v) => Truth::Values(v),
        }
    }
}

/// What a model run left for the metrics: the outputs and truth of the kept rows, their
/// bookkeeping, the data reference and the warnings so far.
pub(crate) struct Outcomes {
    pub predictions: Predictions,
    pub truth: Option<Truth>,
    pub book: RowBook,
    pub data: DataRef,
    pub warnings: Vec<Warning>,
}

/// The target's kind the model needs (class labels for a classifier).
pub(crate) fn target_kind(model: &Model) -> TargetKind {
    if is_classifier(model) {
        TargetKind::Labels
    } else {
        TargetKind::Values
    }
}

pub(crate) fn check_threshold(opts: &EvalOptions) -> Result<()> {
    if !(0.0..=1.0).contains(&opts.threshold) {
        return Err(EngineError::usage(format!(
            "threshold {} is outside [0, 1]",
            opts.threshold
        )));
    }
    Ok(())
}

/// [`evaluate`], also returning the per-row outcomes (the model runs once).
pub fn evaluate_rows(
    model: &Model,
    ds: &Dataset,
    opts: &EvalOptions,
    progress: &Progress,
) -> Result<(Evaluation, RowOutputs)> {
    check_threshold(opts)?;
    let plan = plan_inputs(&model.info, opts.features.as_deref())?;
    progress.set(0.05, "checking data");
    let mut scored = score(
        model,
        ds,
        &plan,
        Some((opts.target.as_str(), target_kind(model))),
        opts.invalid_rows,
        &opts.infer,
        &progress.stage(0.1, 0.7),
    )?;
    let warnings = scored.warnings(ds.rows());
    let predictions = std::mem::replace(
        &mut scored.predictions,
        Predictions::Regression { values: Vec::new() },
    );
    let outcomes = Outcomes {
        predictions,
        truth: scored.target.take().map(Truth::from),
        data: DataRef::of(ds, scored.dropped),
        book: scored.book,
        warnings,
    };
    let (eval, rows) = conclude(model, opts, &plan, outcomes, true, progress)?;
    let rows = rows.ok_or_else(|| EngineError::internal("the per-row outcomes were not kept"))?;
    Ok((eval, rows))
}

/// Metrics, curves and intervals from a model run's [`Outcomes`]; with `keep_rows`, also the
/// per-row outcomes (otherwise they are dropped as soon as the metrics no longer need them).
pub(crate) fn conclude(
    model: &Model,
    opts: &EvalOptions,
    plan: &InputPlan,
    outcomes: Outcomes,
    keep_rows: bool,
    progress: &Progress,
) -> Result<(Evaluation, Option<RowOutputs>)> {
    let Outcomes {
        predictions,
        truth,
        book,
        data: data_ref,
        mut warnings,
    } = outcomes;
    let target_col = opts.target.as_str();
    let path = &data_ref.path.clone();
    let model_ref = ModelRef::of(model);
    let mut eval = Evaluation {
        task: Task::Regression,
        n: book.rows,
        model: model_ref,
        data: data_ref,
        target: opts.target.clone(),
        features: plan.columns(),
        classes: None,
        positive_class: None,
        threshold: None,
        metrics: Metrics::default(),
        confusion_matrix: None,
        ci: BTreeMap::new(),
        bootstrap: opts.bootstrap.clone(),
        curves: Curves::default(),
        warnings: Vec::new(),
    };
    let boot_stage = progress.stage(0.75, 1.0);
    let file_row = |i: usize| book.file_row(i);
    let rows = match (predictions, truth) {
        (Predictions::Classification { classes, proba }, Some(truth @ (Truth::Labels(_) | Truth::Classes(_) | Truth::Binary(_)))) => {
            let k = classes.len();
            if k < 2 {
                return Err(EngineError::file(&model.info.path, "the classifier reports fewer than two classes"));
            }
            let outside = match &truth {
                Truth::Binary(b) => b.outside,
                _ => {
                    let mut o = Outside::default();
                    o.add(&proba, 0);
                    o
                }
            };
            if let Some((i, p)) = outside.first {
                warnings.push(Warning::assumption(format!(
                    "the model's class scores are not probabilities: {} values outside [0, 1] (first: {p} for data row {}); Brier score, log loss and calibration assume probabilities",
                    outside.count, file_row(i / k)
                )));
            }
            let index: BTreeMap<&str, u32> = classes.iter().enumerate().map(|(i, c)| (c.as_str(), i as u32)).collect();
            let mut counts = vec![0usize; k];
            let y = match truth {
                Truth::Labels(labels) => Ok(label_indices(&labels, &classes, &index, path, target_col)?),
                Truth::Classes(y) if y.iter().all(|&c| (c as usize) < k) => Ok(y),
                Truth::Binary(b) if k == 2 && b.positive < 2 => {
                    let positives = b.y.iter().filter(|&&p| p).count();
                    counts[b.positive] = positives;
                    counts[1 - b.positive] = b.y.len() - positives;
                    Err(b)
                }
                _ => return Err(EngineError::internal("class indices outside the model's classes")),
            };
            if let Ok(y) = &y {
                for &c in y {
                    counts[c as usize] += 1;
                }
            }
            let present = counts.iter().filter(|&&c| c > 0).count();
            if present < 2 {
                let only = counts.iter().position(|&c| c > 0).map_or("", |i| classes[i].as_str());
                return Err(EngineError::column(
                    path,
                    target_col,
                    format!("has a single class ('{only}') in all {} rows; evaluation needs at least two classes", counts.iter().sum::<usize>()),
                ));
            }
            eval.classes = Some(classes.clone());
            if k == 2 {
                let pos = positive_index(model, opts.positive_class.as_deref(), &classes)?;
                // Only the positive class's scores and the labels are needed from here on.
                let (yb, score) = match y {
                    Ok(y) => {
                        let yb: Vec<bool> = y.iter().map(|&c| c as usize == pos).collect();
                        let score: Vec<f32> = (0..y.len()).map(|i| proba[i * 2 + pos]).collect();
                        (yb, score)
                    }
                    Err(b) if b.positive == pos => (b.y, b.score),
                    Err(_) => return Err(EngineError::internal("another positive class than the streamed run's")),
                };
                drop(proba);
                let rows = binary_eval(&mut eval, yb, score, opts, &boot_stage, &mut warnings, keep_rows)?;
                eval.positive_class = Some(classes[pos].clone());
                eval.task = Task::BinaryClassification;
                rows
            } else {
                let Ok(y) = y else {
                    return Err(EngineError::internal("binary outcomes for a multiclass model"));
                };
                if present < k {
                    warnings.push(Warning::undefined(format!(
                        "{} of the model's {k} classes do not occur in '{target_col}'; one-vs-rest ROC AUC is undefined",
                        k - present
                    )));
                }
                let proba64: Vec<f64> = proba.iter().map(|&p| f64::from(p)).collect();
                drop(proba);
                let mc = multiclass::Prepared::new(&y, &proba64, k);
                if mc.rows_not_summing_to_one > 0 {
                    warnings.push(Warning::undefined(format!(
                        "{} rows have probabilities that do not sum to 1; ROC AUC is undefined (as in scikit-learn)",
                        mc.rows_not_summing_to_one
                    )));
                }
                eval.metrics = mc.metrics(None);
                eval.confusion_matrix =
                    Some(mc.confusion(None).into_iter().map(|r| r.into_iter().map(|v| v as u64).collect()).collect());
                for (c, class) in classes.iter().enumerate() {
                    let clf = curves::binary_clf_curve(&mc.onehot[c], &mc.columns[c], &mc.orders[c]);
                    let mut roc = curves::roc_curve(&clf, true);
                    eval.curves.thinned |= thin_roc(&mut roc, opts.max_curve_points);
                    eval.curves.roc_per_class.push((class.clone(), roc));
                }
                let n = y.len();
                let (ci, w) = bootstrap::intervals(n, &opts.bootstrap, &boot_stage, |d| mc.metrics(Some(&d.weights(n))))?;
                eval.ci = ci;
                warnings.extend(w.into_iter().map(Warning::undefined));
                eval.task = Task::MulticlassClassification;
                keep_rows.then_some(RowOutputs::Multiclass { y, proba: proba64, k })
            }
        }
        (Predictions::Regression { values }, Some(Truth::Values(y))) => {
            let pred: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
            let reg = regression::Prepared::new(&y, &pred);
            eval.metrics = reg.metrics(None);
            if y.len() < 2 {
                warnings.push(Warning::small_sample("R² and explained variance are not meaningful with fewer than two rows"));
            }
            eval.curves.residuals = Some(curves::residuals(&y, &pred, 40, opts.max_curve_points));
            let n = y.len();
            let (ci, w) = bootstrap::intervals(n, &opts.bootstrap, &boot_stage, |d| reg.metrics(Some(&d.weights(n))))?;
            eval.ci = ci;
            warnings.extend(w.into_iter().map(Warning::undefined));
            keep_rows.then_some(RowOutputs::Regression { y, pred })
        }
        (Predictions::Classification { .. }, _) => {
            return Err(EngineError::file(&model.info.path, "the model returned class probabilities but declares no label output"))
        }
        (Predictions::Regression { .. }, _) => {
            return Err(EngineError::file(
                &model.info.path,
                "the model returned one value per row (a regressor) but its outputs look like a classifier's",
            ))
        }
    };
    eval.warnings = warnings;
    progress.set(1.0, "done");
    Ok((eval, rows))
}

/// The model's class index of each label; an error names up to five labels that are not
/// classes of the model.
fn label_indices(
    labels: &[String],
    classes: &[String],
    index: &BTreeMap<&str, u32>,
    path: &Path,
    target_col: &str,
) -> Result<Vec<u32>> {
    let mut unknown: Vec<&str> = Vec::new();
    let mut y = Vec::with_capacity(labels.len());
    for l in labels {
        match index.get(l.as_str()) {
            Some(&c) => y.push(c),
            None => {
                if !unknown.contains(&l.as_str()) && unknown.len() < 5 {
                    unknown.push(l);
                }
            }
        }
    }
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|u| format!("'{u}'")).collect();
        return Err(EngineError::column(
            path,
            target_col,
            format!(
                "has values {} that are not classes of the model (classes: {})",
                list.join(", "),
                classes.join(", ")
            ),
        ));
    }
    Ok(y)
}

//! Monitoring a deployed classifier over time (`assay monitor`): a prediction log (analysis)
//! against a labelled reference, cut into chunks ([`chunking`]); per chunk the performance
//! estimated without labels (CBPE, [`cbpe`], with [`calibration`]), the realized performance
//! where labels exist ([`realized`]), thresholds from the reference chunks (NannyML's
//! `StandardDeviationThreshold`: mean ± 3 standard deviations of the realized reference-chunk
//! values, clipped to the metric's range) and alerts, drift and data quality per chunk
//! ([`chunk_drift`]), and the outputs for Prometheus and Grafana ([`prometheus`], [`serve`]).
//! Every number of the estimate is NannyML 0.13.1's (proven on its shipped datasets).

pub mod calibration;
pub mod cbpe;
pub mod chunk_drift;
pub mod chunking;
mod inputs;
pub mod multivariate;
pub mod prometheus;
pub mod realized;
mod report;
pub mod serve;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use chunking::{Chunking, Period};
pub use report::*;

use super::data::{self, Dataset};
use super::error::{EngineError, Result};
use super::model::Model;
use super::progress::Progress;
use calibration::Calibrator;
use cbpe::Components;

/// A monitored metric; its name is the JSON key and the `--metrics` value
/// (`confusion_matrix` names the four cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    RocAuc,
    F1,
    Precision,
    Recall,
    Specificity,
    Accuracy,
    TruePositive,
    TrueNegative,
    FalsePositive,
    FalseNegative,
}

impl Metric {
    pub const DEFAULT: [Metric; 6] = [
        Metric::RocAuc,
        Metric::F1,
        Metric::Precision,
        Metric::Recall,
        Metric::Specificity,
        Metric::Accuracy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::RocAuc => "roc_auc",
            Metric::F1 => "f1",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Specificity => "specificity",
            Metric::Accuracy => "accuracy",
            Metric::TruePositive => "true_positive",
            Metric::TrueNegative => "true_negative",
            Metric::FalsePositive => "false_positive",
            Metric::FalseNegative => "false_negative",
        }
    }

    /// `--metrics` names; `confusion_matrix` expands to the four cells.
    pub fn parse_list(names: &[String]) -> Result<Vec<Metric>> {
        let mut out = Vec::new();
        for n in names {
            let add: Vec<Metric> = match n.trim().to_ascii_lowercase().as_str() {
                "roc_auc" | "auc" => vec![Metric::RocAuc],
                "f1" => vec![Metric::F1],
                "precision" => vec![Metric::Precision],
                "recall" => vec![Metric::Recall],
                "specificity" => vec![Metric::Specificity],
                "accuracy" => vec![Metric::Accuracy],
                "confusion_matrix" => vec![
                    Metric::TruePositive,
                    Metric::TrueNegative,
                    Metric::FalsePositive,
                    Metric::FalseNegative,
                ],
                "true_positive" => vec![Metric::TruePositive],
                "true_negative" => vec![Metric::TrueNegative],
                "false_positive" => vec![Metric::FalsePositive],
                "false_negative" => vec![Metric::FalseNegative],
                other => {
                    return Err(EngineError::usage(format!(
                        "unknown metric '{other}'; use roc_auc, f1, precision, recall, \
                         specificity, accuracy or confusion_matrix (binary only)"
                    )))
                }
            };
            for m in add {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    pub fn is_count(self) -> bool {
        matches!(
            self,
            Metric::TruePositive | Metric::TrueNegative | Metric::FalsePositive | Metric::FalseNegative
        )
    }

    /// NannyML's value limits: every ratio is in [0, 1]; counts are ≥ 0.
    fn limits(self) -> (Option<f64>, Option<f64>) {
        if self.is_count() {
            (Some(0.0), None)
        } else {
            (Some(0.0), Some(1.0))
        }
    }
}

/// How a metric's alert thresholds are set (NannyML's `Threshold` classes; the
/// `--thresholds` file maps metric names to these, e.g.
/// `{"f1": {"type": "constant", "lower": 0.9}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdSpec {
    /// Mean of the realized reference-chunk values ± a multiple of their (population)
    /// standard deviation; `null` for no bound on that side.
    StandardDeviation {
        #[serde(default = "three")]
        std_lower_multiplier: Option<f64>,
        #[serde(default = "three")]
        std_upper_multiplier: Option<f64>,
    },
    Constant {
        #[serde(default)]
        lower: Option<f64>,
        #[serde(default)]
        upper: Option<f64>,
    },
}

fn three() -> Option<f64> {
    Some(3.0)
}

impl Default for ThresholdSpec {
    fn default() -> Self {
        ThresholdSpec::StandardDeviation {
            std_lower_multiplier: Some(3.0),
            std_upper_multiplier: Some(3.0),
        }
    }
}

/// Options of a monitoring run.
#[derive(Debug, Clone, Default)]
pub struct MonitorOptions {
    /// The label column of the reference (and of the log or the label file, when present).
    pub target: String,
    /// Binary: the positive-class score column.
    pub score: Option<String>,
    /// Multiclass: class → score column.
    pub scores: Vec<(String, String)>,
    /// The predicted-label column (default: score ≥ 0.5, or the class with the top score).
    pub prediction: Option<String>,
    pub timestamp: Option<String>,
    /// Joins a separate label file to the log.
    pub id: Option<String>,
    pub chunking: Option<Chunking>,
    /// Empty: [`Metric::DEFAULT`].
    pub metrics: Vec<Metric>,
    /// Per metric name (`confusion_matrix` for the four cells); the rest use the default.
    pub thresholds: BTreeMap<String, ThresholdSpec>,
    /// Model input columns, as `evaluate --features`.
    pub features: Option<Vec<String>>,
    /// Drift and data quality per chunk.
    pub drift: bool,
}

/// Loads the files and runs [`run`].
pub fn run_files(
    reference: &Path,
    analysis: &Path,
    analysis_target: Option<&Path>,
    model: Option<&Path>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    progress.set(0.0, "loading data");
    let model = model.map(Model::load).transpose()?;
    let r = data::load(reference, progress)?;
    let a = data::load(analysis, progress)?;
    let t = analysis_target
        .map(|p| data::load(p, progress))
        .transpose()?;
    run(&r, &a, t.as_ref(), model.as_ref(), opts, progress)
}

/// The task of the run, with both files' inputs.
enum Task {
    Binary {
        reference: inputs_binary::Side,
        analysis: inputs_binary::Side,
        calibrator: Calibrator,
    },
    Multiclass {
        classes: Vec<String>,
        reference: inputs_multi::Side,
        analysis: inputs_multi::Side,
        calibrators: Vec<Calibrator>,
    },
}

mod inputs_binary {
    /// One file's binary inputs (labels `None` where unknown).
    pub struct Side {
        pub raw: Vec<f64>,
        pub cal: Vec<f64>,
        pub pred: Vec<bool>,
        pub y: Vec<Option<bool>>,
    }
}

mod inputs_multi {
    /// One file's multiclass inputs: row-major `[rows, k]` scores.
    pub struct Side {
        pub raw: Vec<f64>,
        pub cal: Vec<f64>,
        pub pred: Vec<u32>,
        pub y: Vec<Option<u32>>,
    }
}

/// Monitors `analysis` against `reference`.
pub fn run(
    reference: &Dataset,
    analysis: &Dataset,
    analysis_target: Option<&Dataset>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    let mut warnings = Vec::new();
    if opts.target.is_empty() {
        return Err(EngineError::usage("--target names the label column of the reference"));
    }
    if !reference.has_column(&opts.target) {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            "the reference has no such label column; monitoring needs a labelled reference",
        ));
    }
    if analysis_target.is_some() && opts.id.is_none() {
        return Err(EngineError::usage(
            "--analysis-target needs --id COL to join the labels to the log",
        ));
    }
    let metrics: Vec<Metric> = if opts.metrics.is_empty() {
        Metric::DEFAULT.to_vec()
    } else {
        opts.metrics.clone()
    };
    // Timestamps (sorted, file order).
    let times = match &opts.timestamp {
        Some(col) => {
            let mut both = Vec::new();
            for ds in [reference, analysis] {
                if !ds.has_column(col) {
                    return Err(EngineError::column(
                        &ds.path,
                        col,
                        format!(
                            "no such timestamp column; the file has: {}",
                            ds.column_names().join(", ")
                        ),
                    ));
                }
                both.push(chunking::read_timestamps(ds, col)?);
            }
            let a = both.pop();
            let r = both.pop();
            r.zip(a)
        }
        None => None,
    };
    let chunking = opts.chunking.unwrap_or(Chunking::Default);
    if matches!(chunking, Chunking::Period(_)) && times.is_none() {
        return Err(EngineError::usage(
            "--chunk-period needs a timestamp column: name it with --timestamp COL",
        ));
    }
    progress.set(0.1, "reading scores and labels");
    progress.check()?;
    // Labels of the log.
    let analysis_labels: Option<Vec<Option<String>>> = match (analysis_target, &opts.id) {
        (Some(t), Some(id)) => {
            let (labels, unjoined) = inputs::join_labels(analysis, t, id, &opts.target)?;
            if unjoined > 0 {
                warnings.push(format!(
                    "{unjoined} of {} log rows have no label in {} yet; realized performance \
                     uses the labelled rows",
                    analysis.rows(),
                    t.path.display()
                ));
            }
            Some(labels)
        }
        _ if analysis.has_column(&opts.target) => Some(inputs::labels(analysis, &opts.target)?),
        _ => None,
    };
    let task = if opts.scores.is_empty() && opts.score.is_some()
        || opts.scores.is_empty() && model.is_some_and(|m| binary_model(m))
    {
        binary_task(reference, analysis, model, opts, analysis_labels.as_deref(), &mut warnings, progress)?
    } else {
        multi_task(reference, analysis, model, opts, analysis_labels.as_deref(), &mut warnings, progress)?
    };
    if matches!(task, Task::Multiclass { .. }) && metrics.iter().any(|m| m.is_count()) {
        return Err(EngineError::usage(
            "the confusion-matrix metrics are binary only; leave confusion_matrix out of --metrics",
        ));
    }
    progress.set(0.4, "estimating performance per chunk");
    progress.check()?;
    let n_ref = reference.rows();
    let n_ana = analysis.rows();
    let ref_spans = chunking::split(n_ref, times.as_ref().map(|t| t.0.as_slice()), chunking, "reference")?;
    let ana_spans = chunking::split(n_ana, times.as_ref().map(|t| t.1.as_slice()), chunking, "analysis log")?;
    if ref_spans.len() < 6 {
        warnings.push(format!(
            "the reference makes only {} chunks; thresholds from fewer than 6 chunks are unreliable",
            ref_spans.len()
        ));
    }
    let engine = Engine::new(&task, &metrics, opts, &ref_spans, &mut warnings)?;
    let mut chunks: Vec<Chunk> = Vec::with_capacity(ref_spans.len() + ana_spans.len());
    let all: Vec<(ChunkPeriod, &chunking::Span)> = ref_spans
        .iter()
        .map(|s| (ChunkPeriod::Reference, s))
        .chain(ana_spans.iter().map(|s| (ChunkPeriod::Analysis, s)))
        .collect();
    let built: Vec<Chunk> = all
        .par_iter()
        .enumerate()
        .map(|(i, (period, span))| engine.chunk(i, *period, span))
        .collect();
    chunks.extend(built);
    progress.check()?;

    let mut drift_summary = None;
    if opts.drift {
        progress.set(0.6, "drift per chunk");
        let exclude: Vec<String> = [Some(opts.target.clone()), opts.id.clone(), opts.timestamp.clone()]
            .into_iter()
            .flatten()
            .collect();
        let d = chunk_drift::compute(
            reference,
            analysis,
            &exclude,
            opts.timestamp.as_deref(),
            chunking,
            &ref_spans,
            &ana_spans,
            progress,
        )?;
        warnings.extend(d.warnings.iter().cloned());
        for (c, cd) in chunks.iter_mut().zip(d.per_chunk.iter()) {
            c.drift = cd.clone();
        }
        drift_summary = Some(d.summary);
    }

    let alerts = collect_alerts(&chunks);
    progress.set(1.0, "done");
    Ok(MonitorReport {
        problem: match &task {
            Task::Binary { .. } => Problem::BinaryClassification,
            Task::Multiclass { .. } => Problem::MulticlassClassification,
        },
        classes: match &task {
            Task::Binary { .. } => Vec::new(),
            Task::Multiclass { classes, .. } => classes.clone(),
        },
        metrics: metrics.iter().map(|m| m.name().to_string()).collect(),
        chunking,
        timestamp_column: opts.timestamp.clone(),
        model: model.map(|m| ModelRef {
            path: m.info.path.clone(),
            sha256: m.info.sha256.clone(),
            name: m.info.name.clone(),
            version: m.info.version.clone(),
        }),
        reference: ReferenceSummary {
            path: reference.path.clone(),
            sha256: reference.sha256.clone(),
            rows: n_ref,
            chunks: ref_spans.len(),
            calibration: engine.calibration_summary(&task),
            thresholds: engine.threshold_summary(),
        },
        analysis: DataRef {
            path: analysis.path.clone(),
            sha256: analysis.sha256.clone(),
            rows: n_ana,
            chunks: ana_spans.len(),
            labelled_rows: engine.analysis_labelled(&task),
            labels_from: analysis_target.map(|t| t.path.clone()),
        },
        drift: drift_summary,
        chunks,
        alerts,
        warnings,
    })
}

fn binary_model(m: &Model) -> bool {
    m.info
        .declared_classes
        .as_ref()
        .is_none_or(|c| c.len() <= 2)
}

fn missing_labels_err(ds: &Dataset, col: &str, y: &[Option<String>]) -> Result<()> {
    if let Some(i) = y.iter().position(Option::is_none) {
        return Err(EngineError::cell(
            &ds.path,
            col,
            i + 1,
            "missing label in the reference; the reference must be fully labelled",
        ));
    }
    Ok(())
}

fn binary_task(
    reference: &Dataset,
    analysis: &Dataset,
    model: Option<&Model>,
    opts: &MonitorOptions,
    analysis_labels: Option<&[Option<String>]>,
    warnings: &mut Vec<String>,
    progress: &Progress,
) -> Result<Task> {
    let mut sides = Vec::new();
    for (i, ds) in [reference, analysis].into_iter().enumerate() {
        let raw = match (&opts.score, model) {
            (Some(col), _) if ds.has_column(col) => inputs::scores(ds, col)?,
            (_, Some(m)) => {
                let (classes, proba) =
                    inputs::model_scores(m, ds, opts.features.as_deref(), progress, (0.1 + 0.1 * i as f32, 0.2 + 0.1 * i as f32))?;
                let k = classes.len().max(1);
                let pos = m
                    .info
                    .metadata
                    .get("positive_class")
                    .and_then(|p| classes.iter().position(|c| c == p))
                    .unwrap_or(k.saturating_sub(1));
                proba.chunks(k).map(|r| r.get(pos).copied().unwrap_or(f64::NAN)).collect()
            }
            (Some(col), None) => {
                return Err(EngineError::column(
                    &ds.path,
                    col,
                    "no such score column (and no --model to compute scores)",
                ))
            }
            (None, None) => {
                return Err(EngineError::usage(
                    "name the score column with --score COL (binary) or --scores CLASS=COL,… \
                     (multiclass), or give --model",
                ))
            }
        };
        let pred: Vec<bool> = match &opts.prediction {
            Some(col) if ds.has_column(col) => inputs::binary_column(ds, col, false)?
                .into_iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
            Some(col) => {
                return Err(EngineError::column(&ds.path, col, "no such prediction column"))
            }
            None => raw.iter().map(|&p| p >= 0.5).collect(),
        };
        sides.push((raw, pred));
    }
    if opts.prediction.is_none() {
        warnings.push("no --prediction column: predicted label = score ≥ 0.5".to_string());
    }
    let ref_texts = inputs::labels(reference, &opts.target)?;
    missing_labels_err(reference, &opts.target, &ref_texts)?;
    let parse = |ds: &Dataset, t: &[Option<String>]| -> Result<Vec<Option<bool>>> {
        t.iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(None),
                Some(s) => inputs::binary_label(s).map(Some).ok_or_else(|| {
                    EngineError::cell(
                        &ds.path,
                        &opts.target,
                        i + 1,
                        format!("'{s}' is not a binary label (use 0/1 or true/false)"),
                    )
                }),
            })
            .collect()
    };
    let y_ref = parse(reference, &ref_texts)?;
    let pos = y_ref.iter().filter(|v| **v == Some(true)).count();
    if pos == 0 || pos == y_ref.len() {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            "the reference labels have one class; estimation needs both classes",
        ));
    }
    let y_ana = match analysis_labels {
        Some(t) => parse(analysis, t)?,
        None => vec![None; analysis.rows()],
    };
    let (Some((raw_a, pred_a)), Some((raw_r, pred_r))) = (sides.pop(), sides.pop()) else {
        return Err(EngineError::internal("missing inputs"));
    };
    let yb: Vec<bool> = y_ref.iter().map(|v| *v == Some(true)).collect();
    let calibrator = if calibration::needs_calibration(&yb, &raw_r) {
        calibration::fit_isotonic(&raw_r, &yb.iter().map(|&v| f64::from(u8::from(v))).collect::<Vec<_>>())
    } else {
        Calibrator::Noop
    };
    let cal_r = raw_r.iter().map(|&p| calibrator.calibrate(p)).collect();
    let cal_a = raw_a.iter().map(|&p| calibrator.calibrate(p)).collect();
    Ok(Task::Binary {
        reference: inputs_binary::Side { raw: raw_r, cal: cal_r, pred: pred_r, y: y_ref },
        analysis: inputs_binary::Side { raw: raw_a, cal: cal_a, pred: pred_a, y: y_ana },
        calibrator,
    })
}

fn multi_task(
    reference: &Dataset,
    analysis: &Dataset,
    model: Option<&Model>,
    opts: &MonitorOptions,
    analysis_labels: Option<&[Option<String>]>,
    warnings: &mut Vec<String>,
    progress: &Progress,
) -> Result<Task> {
    // Classes sorted as NannyML sorts the keys of y_pred_proba.
    let mut named: Vec<(String, String)> = opts.scores.clone();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut classes: Vec<String> = named.iter().map(|c| c.0.clone()).collect();
    let mut sides = Vec::new();
    for (i, ds) in [reference, analysis].into_iter().enumerate() {
        let from_file = !named.is_empty() && named.iter().all(|(_, col)| ds.has_column(col));
        let raw: Vec<f64> = if from_file {
            let cols: Vec<Vec<f64>> = named
                .iter()
                .map(|(_, col)| inputs::scores(ds, col))
                .collect::<Result<_>>()?;
            let n = ds.rows();
            let k = cols.len();
            let mut out = vec![0.0; n * k];
            for (c, col) in cols.iter().enumerate() {
                for (r, &v) in col.iter().enumerate() {
                    out[r * k + c] = v;
                }
            }
            out
        } else if let Some(m) = model {
            let (mclasses, proba) =
                inputs::model_scores(m, ds, opts.features.as_deref(), progress, (0.1 + 0.1 * i as f32, 0.2 + 0.1 * i as f32))?;
            let k = mclasses.len();
            let mut idx: Vec<usize> = (0..k).collect();
            idx.sort_by(|&a, &b| mclasses[a].cmp(&mclasses[b]));
            if classes.is_empty() {
                classes = idx.iter().map(|&j| mclasses[j].clone()).collect();
            }
            proba
                .chunks(k.max(1))
                .flat_map(|r| idx.iter().map(|&j| r[j]).collect::<Vec<_>>())
                .collect()
        } else if let Some((_, col)) = named.iter().find(|(_, col)| !ds.has_column(col)) {
            return Err(EngineError::column(
                &ds.path,
                col,
                "no such score column (and no --model to compute scores)",
            ));
        } else {
            return Err(EngineError::usage(
                "name the score column with --score COL (binary) or --scores CLASS=COL,… \
                 (multiclass), or give --model",
            ));
        };
        sides.push(raw);
    }
    let k = classes.len();
    if k < 3 {
        return Err(EngineError::usage(format!(
            "--scores names {k} classes; multiclass monitoring needs at least 3 (use --score COL \
             for a binary classifier)"
        )));
    }
    let mut preds = Vec::new();
    for (ds, raw) in [reference, analysis].into_iter().zip(&sides) {
        let pred: Vec<u32> = match &opts.prediction {
            Some(col) if ds.has_column(col) => {
                let t = inputs::labels(ds, col)?;
                let mut unknown = 0;
                let p = t
                    .iter()
                    .map(|v| {
                        v.as_ref()
                            .and_then(|s| classes.iter().position(|c| c == s))
                            .map_or_else(
                                || {
                                    unknown += 1;
                                    u32::MAX
                                },
                                |p| p as u32,
                            )
                    })
                    .collect();
                if unknown > 0 {
                    warnings.push(format!(
                        "{}: {unknown} predictions in '{col}' are not one of the classes",
                        ds.path.display()
                    ));
                }
                p
            }
            Some(col) => {
                return Err(EngineError::column(&ds.path, col, "no such prediction column"))
            }
            None => raw
                .chunks(k)
                .map(|r| crate::engine::metrics::multiclass::argmax(r))
                .collect(),
        };
        preds.push(pred);
    }
    if opts.prediction.is_none() {
        warnings.push("no --prediction column: predicted label = the class with the top score".into());
    }
    let ref_texts = inputs::labels(reference, &opts.target)?;
    missing_labels_err(reference, &opts.target, &ref_texts)?;
    let to_idx = |ds: &Dataset, t: &[Option<String>]| -> Result<Vec<Option<u32>>> {
        t.iter()
            .enumerate()
            .map(|(i, v)| match v {
                None => Ok(None),
                Some(s) => classes
                    .iter()
                    .position(|c| c == s)
                    .map(|p| Some(p as u32))
                    .ok_or_else(|| {
                        EngineError::cell(
                            &ds.path,
                            &opts.target,
                            i + 1,
                            format!("label '{s}' is not one of the classes ({})", classes.join(", ")),
                        )
                    }),
            })
            .collect()
    };
    let y_ref = to_idx(reference, &ref_texts)?;
    let mut seen = vec![false; k];
    for c in y_ref.iter().flatten() {
        seen[*c as usize] = true;
    }
    if let Some(c) = seen.iter().position(|s| !s) {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            format!("class '{}' never occurs in the reference labels", classes[c]),
        ));
    }
    let y_ana = match analysis_labels {
        Some(t) => to_idx(analysis, t)?,
        None => vec![None; analysis.rows()],
    };
    let (Some(raw_a), Some(raw_r)) = (sides.pop(), sides.pop()) else {
        return Err(EngineError::internal("missing inputs"));
    };
    let (Some(pred_a), Some(pred_r)) = (preds.pop(), preds.pop()) else {
        return Err(EngineError::internal("missing predictions"));
    };
    let n_ref = reference.rows();
    let calibrators: Vec<Calibrator> = (0..k)
        .into_par_iter()
        .map(|c| {
            let yc: Vec<bool> = y_ref.iter().map(|v| *v == Some(c as u32)).collect();
            let pc: Vec<f64> = (0..n_ref).map(|i| raw_r[i * k + c]).collect();
            if calibration::needs_calibration(&yc, &pc) {
                calibration::fit_isotonic(&pc, &yc.iter().map(|&v| f64::from(u8::from(v))).collect::<Vec<_>>())
            } else {
                Calibrator::Noop
            }
        })
        .collect();
    let calibrate = |raw: &[f64]| -> Vec<f64> {
        let mut out: Vec<f64> = raw
            .chunks(k)
            .flat_map(|r| r.iter().zip(&calibrators).map(|(&p, c)| c.calibrate(p)).collect::<Vec<_>>())
            .collect();
        for row in out.chunks_mut(k) {
            let s: f64 = row.iter().sum();
            for v in row.iter_mut() {
                *v = if s != 0.0 { *v / s } else { 1.0 / k as f64 };
            }
        }
        out
    };
    let cal_r = calibrate(&raw_r);
    let cal_a = calibrate(&raw_a);
    Ok(Task::Multiclass {
        classes,
        reference: inputs_multi::Side { raw: raw_r, cal: cal_r, pred: pred_r, y: y_ref },
        analysis: inputs_multi::Side { raw: raw_a, cal: cal_a, pred: pred_a, y: y_ana },
        calibrators,
    })
}

/// The fitted state: components and thresholds per metric.
struct Engine<'a> {
    task: &'a Task,
    metrics: Vec<Metric>,
    components: Vec<Option<Components>>,
    thresholds: Vec<(Option<f64>, Option<f64>)>,
    specs: Vec<ThresholdSpec>,
}

impl<'a> Engine<'a> {
    fn new(
        task: &'a Task,
        metrics: &[Metric],
        opts: &MonitorOptions,
        ref_spans: &[chunking::Span],
        warnings: &mut Vec<String>,
    ) -> Result<Engine<'a>> {
        for key in opts.thresholds.keys() {
            let known = key == "confusion_matrix" || metrics.iter().any(|m| m.name() == key);
            if !known {
                return Err(EngineError::usage(format!(
                    "--thresholds names '{key}', which is not a monitored metric"
                )));
            }
        }
        let mut components = Vec::new();
        let mut thresholds = Vec::new();
        let mut specs = Vec::new();
        for &m in metrics {
            let comp = match task {
                Task::Binary { reference: r, .. } => {
                    let y: Vec<bool> = r.y.iter().map(|v| *v == Some(true)).collect();
                    cbpe::binary_components(m, &y, &r.pred, &r.raw)
                }
                Task::Multiclass { reference: r, classes, .. } => {
                    let y: Vec<u32> = r.y.iter().map(|v| v.unwrap_or(u32::MAX)).collect();
                    cbpe::multiclass_components(m, &y, &r.pred, &r.raw, classes.len())
                }
            };
            if comp.is_none() {
                warnings.push(format!(
                    "{}: the reference gives no sampling error (too few relevant rows)",
                    m.name()
                ));
            }
            components.push(comp);
            let key = if m.is_count() { "confusion_matrix" } else { m.name() };
            let spec = opts
                .thresholds
                .get(m.name())
                .or_else(|| opts.thresholds.get(key))
                .cloned()
                .unwrap_or_default();
            let values: Vec<Option<f64>> = ref_spans
                .iter()
                .map(|s| realized_of(task, m, s, true).ok())
                .collect();
            let t = thresholds_of(&spec, &values, m.limits());
            if t.0.is_none() && t.1.is_none() && matches!(spec, ThresholdSpec::StandardDeviation { .. }) {
                warnings.push(format!(
                    "{}: undefined on every reference chunk, so it has no thresholds",
                    m.name()
                ));
            }
            thresholds.push(t);
            specs.push(spec);
        }
        Ok(Engine { task, metrics: metrics.to_vec(), components, thresholds, specs })
    }

    fn chunk(&self, index: usize, period: ChunkPeriod, span: &chunking::Span) -> Chunk {
        let is_ref = period == ChunkPeriod::Reference;
        let mut estimated = BTreeMap::new();
        let mut realized_map = BTreeMap::new();
        for (j, &m) in self.metrics.iter().enumerate() {
            let (lo, hi) = self.thresholds[j];
            let (llim, ulim) = m.limits();
            let se = self.components[j]
                .as_ref()
                .and_then(|c| cbpe::sampling_error(c, span.rows()));
            let est = estimate_of(self.task, m, span, is_ref);
            estimated.insert(
                m.name().to_string(),
                MetricResult::new(est, se, lo, hi, llim, ulim),
            );
            let labelled = labelled_rows(self.task, span, is_ref);
            let real = realized_of(self.task, m, span, is_ref);
            let se_r = self.components[j]
                .as_ref()
                .and_then(|c| cbpe::sampling_error(c, labelled.max(1)));
            realized_map.insert(
                m.name().to_string(),
                MetricResult::new(real, if labelled > 0 { se_r } else { None }, lo, hi, llim, ulim),
            );
        }
        Chunk {
            index,
            period,
            key: span.key.clone(),
            start_index: span.start,
            end_index: span.end,
            start_time: span.start_time.map(chunking::format_instant),
            end_time: span.end_time.map(chunking::format_instant),
            rows: span.rows(),
            labelled_rows: labelled_rows(self.task, span, is_ref),
            estimated,
            realized: realized_map,
            drift: None,
        }
    }

    fn calibration_summary(&self, task: &Task) -> Vec<ClassCalibration> {
        match task {
            Task::Binary { calibrator, .. } => vec![ClassCalibration {
                class: None,
                calibrated: !calibrator.is_noop(),
            }],
            Task::Multiclass { classes, calibrators, .. } => classes
                .iter()
                .zip(calibrators)
                .map(|(c, k)| ClassCalibration { class: Some(c.clone()), calibrated: !k.is_noop() })
                .collect(),
        }
    }

    fn threshold_summary(&self) -> BTreeMap<String, ThresholdSummary> {
        self.metrics
            .iter()
            .zip(&self.thresholds)
            .zip(&self.specs)
            .map(|((m, t), s)| {
                (
                    m.name().to_string(),
                    ThresholdSummary { lower: t.0, upper: t.1, spec: s.clone() },
                )
            })
            .collect()
    }

    fn analysis_labelled(&self, task: &Task) -> usize {
        match task {
            Task::Binary { analysis, .. } => analysis.y.iter().flatten().count(),
            Task::Multiclass { analysis, .. } => analysis.y.iter().flatten().count(),
        }
    }
}

fn labelled_rows(task: &Task, s: &chunking::Span, is_ref: bool) -> usize {
    match task {
        Task::Binary { reference, analysis, .. } => {
            let side = if is_ref { reference } else { analysis };
            side.y[s.start..=s.end].iter().flatten().count()
        }
        Task::Multiclass { reference, analysis, .. } => {
            let side = if is_ref { reference } else { analysis };
            side.y[s.start..=s.end].iter().flatten().count()
        }
    }
}

fn estimate_of(task: &Task, m: Metric, s: &chunking::Span, is_ref: bool) -> std::result::Result<f64, String> {
    let r = s.start..=s.end;
    let v = match task {
        Task::Binary { reference, analysis, .. } => {
            let side = if is_ref { reference } else { analysis };
            cbpe::estimate_binary(m, &side.cal[r.clone()], &side.raw[r.clone()], &side.pred[r])
        }
        Task::Multiclass { reference, analysis, classes, .. } => {
            let side = if is_ref { reference } else { analysis };
            let k = classes.len();
            cbpe::estimate_multiclass(
                m,
                &side.cal[s.start * k..(s.end + 1) * k],
                &side.raw[s.start * k..(s.end + 1) * k],
                &side.pred[r],
                k,
            )
        }
    };
    v.filter(|x| x.is_finite())
        .ok_or_else(|| "no expected positive or negative in this chunk".to_string())
}

fn realized_of(task: &Task, m: Metric, s: &chunking::Span, is_ref: bool) -> std::result::Result<f64, String> {
    match task {
        Task::Binary { reference, analysis, .. } => {
            let side = if is_ref { reference } else { analysis };
            let (mut y, mut p, mut sc) = (Vec::new(), Vec::new(), Vec::new());
            for i in s.start..=s.end {
                if let Some(t) = side.y[i] {
                    y.push(t);
                    p.push(side.pred[i]);
                    sc.push(side.raw[i]);
                }
            }
            realized::binary(m, &y, &p, &sc)
        }
        Task::Multiclass { reference, analysis, classes, .. } => {
            let side = if is_ref { reference } else { analysis };
            let k = classes.len();
            let (mut y, mut p, mut sc) = (Vec::new(), Vec::new(), Vec::new());
            for i in s.start..=s.end {
                if let Some(t) = side.y[i] {
                    y.push(t);
                    p.push(side.pred[i]);
                    sc.extend_from_slice(&side.raw[i * k..(i + 1) * k]);
                }
            }
            realized::multiclass(m, &y, &p, &sc, k)
        }
    }
    .and_then(|v| if v.is_finite() { Ok(v) } else { Err("undefined".into()) })
}

/// NannyML's `calculate_threshold_values`: the spec on the reference-chunk values, then a
/// bound at or beyond the metric's limit is replaced by the limit.
pub fn thresholds_of(
    spec: &ThresholdSpec,
    values: &[Option<f64>],
    limits: (Option<f64>, Option<f64>),
) -> (Option<f64>, Option<f64>) {
    let (lo, hi) = match spec {
        ThresholdSpec::Constant { lower, upper } => (*lower, *upper),
        ThresholdSpec::StandardDeviation { std_lower_multiplier, std_upper_multiplier } => {
            let v: Vec<f64> = values.iter().flatten().copied().collect();
            if v.is_empty() {
                return (None, None);
            }
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            (
                std_lower_multiplier.map(|k| mean - std * k),
                std_upper_multiplier.map(|k| mean + std * k),
            )
        }
    };
    let lo = match (lo, limits.0) {
        (Some(l), Some(lim)) if l <= lim => Some(lim),
        (l, _) => l,
    };
    let hi = match (hi, limits.1) {
        (Some(h), Some(lim)) if h >= lim => Some(lim),
        (h, _) => h,
    };
    (lo, hi)
}

fn collect_alerts(chunks: &[Chunk]) -> Vec<Alert> {
    let mut out = Vec::new();
    for c in chunks.iter().filter(|c| c.period == ChunkPeriod::Analysis) {
        for (kind, map) in [(AlertKind::Estimated, &c.estimated), (AlertKind::Realized, &c.realized)] {
            for (name, r) in map {
                if let (true, Some(v)) = (r.alert, r.value) {
                    let threshold = match (r.lower_threshold, r.upper_threshold) {
                        (Some(l), _) if v < l => l,
                        (_, Some(u)) => u,
                        (Some(l), None) => l,
                        (None, None) => continue,
                    };
                    out.push(Alert {
                        chunk: c.index,
                        kind,
                        metric: Some(name.clone()),
                        column: None,
                        value: v,
                        threshold,
                    });
                }
            }
        }
        if let Some(d) = &c.drift {
            for col in &d.columns {
                if col.drifted {
                    if let Some(v) = col.value {
                        out.push(Alert {
                            chunk: c.index,
                            kind: AlertKind::Drift,
                            metric: None,
                            column: Some(col.column.clone()),
                            value: v,
                            threshold: col.threshold,
                        });
                    }
                }
            }
            if let Some(mv) = &d.multivariate {
                if let (true, Some(v)) = (mv.alert, mv.value) {
                    let threshold = match (mv.lower_threshold, mv.upper_threshold) {
                        (Some(l), _) if v < l => l,
                        (_, Some(u)) => u,
                        (Some(l), None) => l,
                        (None, None) => continue,
                    };
                    out.push(Alert {
                        chunk: c.index,
                        kind: AlertKind::Multivariate,
                        metric: Some("reconstruction_error".into()),
                        column: None,
                        value: v,
                        threshold,
                    });
                }
            }
        }
    }
    out
}

/// Paths a report refers to (kept for `--serve`, which re-reads the log).
#[derive(Debug, Clone)]
pub struct Sources {
    pub reference: PathBuf,
    pub analysis: PathBuf,
    pub analysis_target: Option<PathBuf>,
    pub model: Option<PathBuf>,
}

//! The inputs of a run by task: scores (from the files or the model), predicted labels,
//! labels, and the calibration fitted on the reference (NannyML's per-class calibrators and
//! row renormalisation for multiclass).

use std::path::Path;

use crate::engine::Warning;
use rayon::prelude::*;

use super::calibration::{self, Calibrator};
use super::log_data::LogData;
use super::{inputs, MonitorOptions};
use crate::engine::data::Dataset;
use crate::engine::drift::columns::{Text, MISSING};
use crate::engine::error::{EngineError, Result};
use crate::engine::model::Model;
use crate::engine::progress::Progress;

/// The task of the run, with both files' inputs.
pub(super) enum Task {
    Binary {
        reference: BinarySide,
        analysis: BinarySide,
        calibrator: Calibrator,
        decision: Option<calibration::Decision>,
    },
    Multiclass {
        classes: Vec<String>,
        reference: MultiSide,
        analysis: MultiSide,
        calibrators: Vec<Calibrator>,
        decisions: Vec<Option<calibration::Decision>>,
    },
}

/// One file's binary inputs (labels `None` where unknown).
pub(super) struct BinarySide {
    pub raw: Vec<f64>,
    pub cal: Vec<f64>,
    pub pred: Vec<bool>,
    pub y: Vec<Option<bool>>,
}

/// One file's multiclass inputs: row-major `[rows, k]` scores.
pub(super) struct MultiSide {
    pub raw: Vec<f64>,
    pub cal: Vec<f64>,
    pub pred: Vec<u32>,
    pub y: Vec<Option<u32>>,
}

pub(super) fn binary_model(m: &Model) -> bool {
    m.info
        .declared_classes
        .as_ref()
        .is_none_or(|c| c.len() <= 2)
}

pub(super) fn missing_labels_err(ds: &Dataset, col: &str, y: &Text) -> Result<()> {
    if let Some(i) = y.codes.iter().position(|&c| c == MISSING) {
        return Err(EngineError::cell(
            &ds.path,
            col,
            i + 1,
            "missing label in the reference; the reference must be fully labelled",
        ));
    }
    Ok(())
}

/// Each row's dictionary entry mapped by `f` (entries mapped once), `None` where missing;
/// `Err(row)` (0-based) at the first row whose entry `f` rejects.
fn map_codes<T: Copy>(
    t: &Text,
    f: impl Fn(&str) -> Option<T>,
) -> std::result::Result<Vec<Option<T>>, usize> {
    let mapped: Vec<Option<T>> = t.dict.iter().map(|s| f(s)).collect();
    t.codes
        .iter()
        .enumerate()
        .map(|(i, &c)| match mapped.get(c as usize) {
            None => Ok(None),
            Some(Some(v)) => Ok(Some(*v)),
            Some(None) => Err(i),
        })
        .collect()
}

/// The binary task's inputs. The log's score and prediction columns are read one at a time
/// (a log read by columns holds one of them at a time), and its labels (`analysis_labels`)
/// let go once parsed.
pub(super) fn binary_task(
    reference: &Dataset,
    analysis: LogData<'_>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    analysis_labels: Option<Text>,
    warnings: &mut Vec<Warning>,
    progress: &Progress,
) -> Result<Task> {
    let mut sides = Vec::new();
    for (i, ds) in [LogData::Whole(reference), analysis]
        .into_iter()
        .enumerate()
    {
        let raw = match (&opts.score, model) {
            (Some(col), _) if ds.has_column(col) => inputs::scores(&*ds.column(col)?, col)?,
            (_, Some(m)) => {
                let (classes, proba) = inputs::model_scores(
                    m,
                    &*ds.columns(&ds.column_names())?,
                    opts.features.as_deref(),
                    progress,
                    (0.1 + 0.1 * i as f32, 0.2 + 0.1 * i as f32),
                )?;
                let k = classes.len().max(1);
                let pos = m
                    .info
                    .metadata
                    .get("positive_class")
                    .and_then(|p| classes.iter().position(|c| c == p))
                    .unwrap_or(k.saturating_sub(1));
                proba
                    .chunks(k)
                    .map(|r| r.get(pos).copied().unwrap_or(f64::NAN))
                    .collect()
            }
            (Some(col), None) => {
                return Err(EngineError::column(
                    ds.path(),
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
            Some(col) if ds.has_column(col) => {
                inputs::binary_column(&*ds.column(col)?, col, false)?
                    .into_iter()
                    .map(|v| v.unwrap_or(false))
                    .collect()
            }
            Some(col) => {
                return Err(EngineError::column(
                    ds.path(),
                    col,
                    "no such prediction column",
                ))
            }
            None => raw.iter().map(|&p| p >= 0.5).collect(),
        };
        sides.push((raw, pred));
    }
    if opts.prediction.is_none() {
        warnings.push(Warning::option(
            "no --prediction column: predicted label = score ≥ 0.5",
        ));
    }
    let ref_texts = inputs::labels(reference, &opts.target)?;
    missing_labels_err(reference, &opts.target, &ref_texts)?;
    let parse = |path: &Path, t: &Text| -> Result<Vec<Option<bool>>> {
        map_codes(t, inputs::binary_label).map_err(|i| {
            EngineError::cell(
                path,
                &opts.target,
                i + 1,
                format!(
                    "'{}' is not a binary label (use 0/1 or true/false)",
                    t.get(i).unwrap_or_default()
                ),
            )
        })
    };
    let y_ref = parse(&reference.path, &ref_texts)?;
    let pos = y_ref.iter().filter(|v| **v == Some(true)).count();
    if pos == 0 || pos == y_ref.len() {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            "the reference labels have one class; estimation needs both classes",
        ));
    }
    let (Some((raw_a, pred_a)), Some((raw_r, pred_r))) = (sides.pop(), sides.pop()) else {
        return Err(EngineError::internal("missing inputs"));
    };
    let y_ana = match analysis_labels {
        Some(t) => parse(analysis.path(), &t)?,
        None => vec![None; raw_a.len()],
    };
    let yb: Vec<bool> = y_ref.iter().map(|v| *v == Some(true)).collect();
    let (calibrate, decision) = opts.calibration.decide("", &yb, &raw_r, warnings);
    let calibrator = if calibrate {
        calibration::fit_isotonic(
            &raw_r,
            &yb.iter()
                .map(|&v| f64::from(u8::from(v)))
                .collect::<Vec<_>>(),
        )
    } else {
        Calibrator::Noop
    };
    let cal_r = raw_r.par_iter().map(|&p| calibrator.calibrate(p)).collect();
    let cal_a = raw_a.par_iter().map(|&p| calibrator.calibrate(p)).collect();
    Ok(Task::Binary {
        reference: BinarySide {
            raw: raw_r,
            cal: cal_r,
            pred: pred_r,
            y: y_ref,
        },
        analysis: BinarySide {
            raw: raw_a,
            cal: cal_a,
            pred: pred_a,
            y: y_ana,
        },
        calibrator,
        decision,
    })
}

/// The multiclass task's inputs; the log is let go as in [`binary_task`].
pub(super) fn multi_task(
    reference: &Dataset,
    analysis: LogData<'_>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    analysis_labels: Option<Text>,
    warnings: &mut Vec<Warning>,
    progress: &Progress,
) -> Result<Task> {
    // Classes sorted as NannyML sorts the keys of y_pred_proba.
    let mut named: Vec<(String, String)> = opts.scores.clone();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut classes: Vec<String> = named.iter().map(|c| c.0.clone()).collect();
    let mut sides = Vec::new();
    for (i, ds) in [LogData::Whole(reference), analysis]
        .into_iter()
        .enumerate()
    {
        let from_file = !named.is_empty() && named.iter().all(|(_, col)| ds.has_column(col));
        let raw: Vec<f64> = if from_file {
            let cols: Vec<Vec<f64>> = named
                .iter()
                .map(|(_, col)| inputs::scores(&*ds.column(col)?, col))
                .collect::<Result<_>>()?;
            let n = cols.first().map_or(0, Vec::len);
            let k = cols.len();
            let mut out = vec![0.0; n * k];
            for (c, col) in cols.iter().enumerate() {
                for (r, &v) in col.iter().enumerate() {
                    out[r * k + c] = v;
                }
            }
            out
        } else if let Some(m) = model {
            let (mclasses, proba) = inputs::model_scores(
                m,
                &*ds.columns(&ds.column_names())?,
                opts.features.as_deref(),
                progress,
                (0.1 + 0.1 * i as f32, 0.2 + 0.1 * i as f32),
            )?;
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
                ds.path(),
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
    for (ds, raw) in [LogData::Whole(reference), analysis]
        .into_iter()
        .zip(&sides)
    {
        let pred: Vec<u32> = match &opts.prediction {
            Some(col) if ds.has_column(col) => {
                let t = inputs::labels(&*ds.column(col)?, col)?;
                let idx: Vec<Option<u32>> = t
                    .dict
                    .iter()
                    .map(|s| classes.iter().position(|c| c == s).map(|p| p as u32))
                    .collect();
                let mut unknown = 0;
                let p: Vec<u32> = t
                    .codes
                    .iter()
                    .map(|&c| {
                        idx.get(c as usize).copied().flatten().unwrap_or_else(|| {
                            unknown += 1;
                            u32::MAX
                        })
                    })
                    .collect();
                if unknown > 0 {
                    warnings.push(Warning::data(format!(
                        "{}: {unknown} predictions in '{col}' are not one of the classes",
                        ds.path().display()
                    )));
                }
                p
            }
            Some(col) => {
                return Err(EngineError::column(
                    ds.path(),
                    col,
                    "no such prediction column",
                ))
            }
            None => raw
                .chunks(k)
                .map(crate::engine::metrics::multiclass::argmax)
                .collect(),
        };
        preds.push(pred);
    }
    if opts.prediction.is_none() {
        warnings.push(Warning::option(
            "no --prediction column: predicted label = the class with the top score",
        ));
    }
    let ref_texts = inputs::labels(reference, &opts.target)?;
    missing_labels_err(reference, &opts.target, &ref_texts)?;
    let to_idx = |path: &Path, t: &Text| -> Result<Vec<Option<u32>>> {
        map_codes(t, |s| classes.iter().position(|c| c == s).map(|p| p as u32)).map_err(|i| {
            EngineError::cell(
                path,
                &opts.target,
                i + 1,
                format!(
                    "label '{}' is not one of the classes ({})",
                    t.get(i).unwrap_or_default(),
                    classes.join(", ")
                ),
            )
        })
    };
    let y_ref = to_idx(&reference.path, &ref_texts)?;
    let mut seen = vec![false; k];
    for c in y_ref.iter().flatten() {
        seen[*c as usize] = true;
    }
    if let Some(c) = seen.iter().position(|s| !s) {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            format!(
                "class '{}' never occurs in the reference labels",
                classes[c]
            ),
        ));
    }
    let (Some(raw_a), Some(raw_r)) = (sides.pop(), sides.pop()) else {
        return Err(EngineError::internal("missing inputs"));
    };
    let y_ana = match analysis_labels {
        Some(t) => to_idx(analysis.path(), &t)?,
        None => vec![None; raw_a.len() / k],
    };
    let (Some(pred_a), Some(pred_r)) = (preds.pop(), preds.pop()) else {
        return Err(EngineError::internal("missing predictions"));
    };
    let n_ref = reference.rows();
    let decided: Vec<(Calibrator, Option<calibration::Decision>, Vec<Warning>)> = (0..k)
        .into_par_iter()
        .map(|c| {
            let yc: Vec<bool> = y_ref.iter().map(|v| *v == Some(c as u32)).collect();
            let pc: Vec<f64> = (0..n_ref).map(|i| raw_r[i * k + c]).collect();
            let mut w = Vec::new();
            let (calibrate, d) = opts.calibration.decide(&classes[c], &yc, &pc, &mut w);
            let cal = if calibrate {
                calibration::fit_isotonic(
                    &pc,
                    &yc.iter()
                        .map(|&v| f64::from(u8::from(v)))
                        .collect::<Vec<_>>(),
                )
            } else {
                Calibrator::Noop
            };
            (cal, d, w)
        })
        .collect();
    let mut calibrators = Vec::with_capacity(k);
    let mut decisions = Vec::with_capacity(k);
    for (c, d, w) in decided {
        calibrators.push(c);
        decisions.push(d);
        warnings.extend(w);
    }
    let calibrate = |raw: &[f64]| -> Vec<f64> {
        let mut out: Vec<f64> = raw
            .chunks(k)
            .flat_map(|r| {
                r.iter()
                    .zip(&calibrators)
                    .map(|(&p, c)| c.calibrate(p))
                    .collect::<Vec<_>>()
            })
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
        reference: MultiSide {
            raw: raw_r,
            cal: cal_r,
            pred: pred_r,
            y: y_ref,
        },
        analysis: MultiSide {
            raw: raw_a,
            cal: cal_a,
            pred: pred_a,
            y: y_ana,
        },
        calibrators,
        decisions,
    })
}

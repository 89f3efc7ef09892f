//! The `prediction` column: the model run on both datasets (reusing the evaluation path's
//! extraction and batched inference). Binary classifiers give the positive-class probability
//! (numeric), multiclass classifiers the arg-max label (categorical), regressors the value.

use super::columns::{ColumnKind, Raw, Text};
use super::DriftOptions;
use crate::engine::data::extract::InvalidRows;
use crate::engine::data::Dataset;
use crate::engine::error::Result;
use crate::engine::model::{plan_inputs, InputPlan, Model, Predictions};
use crate::engine::progress::{Progress, Stage};
use crate::engine::scored::score;
use crate::engine::Warning;

pub(super) fn predict_both(
    model: &Model,
    reference: &Dataset,
    current: &Dataset,
    opts: &DriftOptions,
    progress: &Progress,
) -> Result<(Raw, Raw, ColumnKind, Vec<Warning>)> {
    let plan = plan_inputs(&model.info, opts.features.as_deref())?;
    let mut warnings = Vec::new();
    let (r, kind) = predict_one(model, reference, &plan, opts, &progress.stage(0.1, 0.25))?;
    let (c, _) = predict_one(model, current, &plan, opts, &progress.stage(0.25, 0.4))?;
    warnings.extend(r.1);
    warnings.extend(c.1);
    Ok((r.0, c.0, kind, warnings))
}

/// The `prediction` column of one dataset, and the warning when rows were left out.
#[allow(clippy::type_complexity)]
pub(super) fn predict_one(
    model: &Model,
    ds: &Dataset,
    plan: &InputPlan,
    opts: &DriftOptions,
    stage: &Stage<'_>,
) -> Result<((Raw, Option<Warning>), ColumnKind)> {
    let scored = score(model, ds, plan, None, InvalidRows::Drop, &opts.infer, stage)?;
    let warning = (scored.dropped > 0).then(|| {
        Warning::rows_left_out(format!(
            "{}: {} rows with invalid model inputs or outputs were left out of the prediction column (e.g. {})",
            ds.path.display(),
            scored.dropped,
            scored.drop_examples.join("; ")
        ))
    });
    let (raw, kind) = prediction_column(model, scored.predictions);
    Ok(((raw, warning), kind))
}

/// The `prediction` column of a model's outputs.
pub(super) fn prediction_column(model: &Model, p: Predictions) -> (Raw, ColumnKind) {
    let positive = |classes: &[String]| -> usize {
        model
            .info
            .metadata
            .get("positive_class")
            .and_then(|p| classes.iter().position(|c| c == p))
            .unwrap_or(1)
    };
    match p {
        Predictions::Regression { values } => (
            Raw::Numeric {
                values: values.iter().map(|&v| f64::from(v)).collect(),
                integer: false,
            },
            ColumnKind::Numeric,
        ),
        Predictions::Classification { classes, proba } => {
            let k = classes.len().max(1);
            if k == 2 {
                let pos = positive(&classes);
                (
                    Raw::Numeric {
                        values: proba.chunks(k).map(|r| f64::from(r[pos])).collect(),
                        integer: false,
                    },
                    ColumnKind::Numeric,
                )
            } else {
                let labels: Vec<Option<String>> = proba
                    .chunks(k)
                    .map(|r| {
                        let best = r
                            .iter()
                            .enumerate()
                            .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| {
                                if v > b.1 {
                                    (i, v)
                                } else {
                                    b
                                }
                            })
                            .0;
                        classes.get(best).cloned()
                    })
                    .collect();
                (
                    Raw::Text {
                        values: Text::from_values(
                            labels.iter().map(|l: &Option<String>| l.as_deref()),
                        ),
                    },
                    ColumnKind::Categorical,
                )
            }
        }
    }
}

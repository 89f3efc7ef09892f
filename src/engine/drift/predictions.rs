//! The `prediction` column: the model run on both datasets (reusing the evaluation path's
//! extraction and batched inference). Binary classifiers give the positive-class probability
//! (numeric), multiclass classifiers the arg-max label (categorical), regressors the value.

use super::columns::{ColumnKind, Raw, Text};
use super::DriftOptions;
use crate::engine::data::extract::InvalidRows;
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{plan_inputs, Model, Predictions};
use crate::engine::progress::Progress;
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
    let mut out = Vec::new();
    for (i, ds) in [reference, current].into_iter().enumerate() {
        let start = 0.1 + 0.15 * i as f32;
        let scored = score(
            model,
            ds,
            &plan,
            None,
            InvalidRows::Drop,
            &opts.infer,
            &progress.stage(start, start + 0.15),
        )?;
        if scored.dropped > 0 {
            warnings.push(Warning::rows_left_out(format!(
                "{}: {} rows with invalid model inputs or outputs were left out of the prediction column (e.g. {})",
                ds.path.display(),
                scored.dropped,
                scored.drop_examples.join("; ")
            )));
        }
        let p = scored.predictions;
        out.push(p);
    }
    let cur = out.pop();
    let refp = out.pop();
    let (Some(refp), Some(cur)) = (refp, cur) else {
        return Err(EngineError::internal("missing predictions"));
    };
    let positive = |classes: &[String]| -> usize {
        model
            .info
            .metadata
            .get("positive_class")
            .and_then(|p| classes.iter().position(|c| c == p))
            .unwrap_or(1)
    };
    let convert = |p: Predictions| -> (Raw, ColumnKind) {
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
    };
    let (r, kind) = convert(refp);
    let (c, _) = convert(cur);
    Ok((r, c, kind, warnings))
}

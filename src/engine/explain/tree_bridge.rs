//! TreeSHAP (`tree/`) behind [`super::explain`]: the forest is read from the model, the rows
//! and background become f64 blocks, and the raw output of the explained class is picked
//! (a binary ensemble with one score column explains the positive class; the other class is
//! its negation).

use super::masked::row_f64;
use super::tree::{self, Forest, PostTransform};
use super::Method;
use crate::engine::data::extract::InputData;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::Model;
use crate::engine::progress::Progress;

/// Rows of `data` as a row-major f64 block (text or missing cells become NaN).
fn block(data: &InputData, rows: usize) -> Vec<f64> {
    (0..rows)
        .flat_map(|i| row_f64(data, i).into_iter().map(|v| v.unwrap_or(f64::NAN)))
        .collect()
}

/// What the tree methods return: SHAP values, base value, raw outputs, notes.
pub(crate) struct TreeValues {
    pub values: Vec<Vec<f64>>,
    pub base_value: f64,
    pub outputs: Vec<f64>,
    pub notes: Vec<String>,
}

/// Explains `x` (`n` rows) with interventional TreeSHAP against `bg` (uniform weights), or
/// path-dependent TreeSHAP with covers from routing every row of `cover_data` through the
/// trees. `class`: index of the explained class among the model's classes (classifiers).
#[allow(clippy::too_many_arguments)]
pub(crate) fn explain_trees(
    model: &Model,
    method: Method,
    x: &InputData,
    n: usize,
    bg: &InputData,
    bg_rows: usize,
    cover_data: (&InputData, usize),
    class: Option<usize>,
    progress: &Progress,
) -> Result<TreeValues> {
    let forest = Forest::from_model(model)?;
    let xs = block(x, n);
    let mut notes = vec![
        "TreeSHAP explains the ensemble's raw margin (before its post-transform: log-odds for boosted binary classifiers); exact for any depth".to_string(),
    ];
    let shap = match method {
        Method::TreePath => {
            let (data, rows) = cover_data;
            let forest = forest.clone().with_covers(&block(data, rows))?;
            notes.push(format!(
                "path-dependent: ONNX stores no node covers, so they were recomputed by routing {rows} rows of the background dataset through the trees"
            ));
            tree::path_dependent(&forest, &xs, progress)?
        }
        _ => tree::interventional(&forest, &xs, &block(bg, bg_rows), progress)?,
    };
    // The note about missing covers matters only to the path-dependent method.
    notes.extend(
        shap.notes
            .iter()
            .filter(|n| method == Method::TreePath || !n.starts_with("covers:"))
            .cloned(),
    );
    let (output, sign, offset) = pick_output(&forest, class)?;
    let values: Vec<Vec<f64>> = (0..n)
        .map(|r| {
            shap.row_values(r, output)
                .iter()
                .map(|v| sign * v)
                .collect()
        })
        .collect();
    let outputs: Vec<f64> = (0..n)
        .map(|r| offset + sign * shap.raw_outputs[r * shap.n_outputs + output])
        .collect();
    // Each note once (the forest's and the method's may repeat one another).
    let mut seen = std::collections::HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));
    Ok(TreeValues {
        values,
        base_value: offset + sign * shap.base_values[output],
        outputs,
        notes,
    })
}

/// The raw output of class `class` as `offset + sign × output k`: `(k, sign, offset)`.
fn pick_output(forest: &Forest, class: Option<usize>) -> Result<(usize, f64, f64)> {
    match (&forest.classifier, class) {
        (Some(layout), Some(c)) => {
            if let Some(o) = layout.output_class.iter().position(|&k| k == c) {
                return Ok((o, 1.0, 0.0));
            }
            if forest.n_outputs == 1 && layout.labels.len() == 2 {
                // One score column for the second class. With a post-transform it is a margin
                // and the first class's margin is its negation; without one (random forests)
                // it is a probability p and the first class's is 1 − p.
                return Ok(match (c, forest.post_transform) {
                    (1, _) => (0, 1.0, 0.0),
                    (_, PostTransform::None) => (0, -1.0, 1.0),
                    _ => (0, -1.0, 0.0),
                });
            }
            Err(EngineError::usage(format!(
                "the tree ensemble has no raw output for class {}",
                layout
                    .labels
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| c.to_string())
            )))
        }
        _ => Ok((0, 1.0, 0.0)),
    }
}

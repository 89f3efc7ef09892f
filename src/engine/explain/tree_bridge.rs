//! TreeSHAP (`tree/`) behind [`super::explain`]: the forest is read from the model, the rows
//! and background become f64 blocks, and the output of the explained class is picked. In raw
//! space that is a raw margin (a binary ensemble with one score column explains the positive
//! class; the other class is its negation). In probability space — and for a regressor whose
//! value is a non-linear function of the trees (a Sigmoid after them, PROBIT) — the score
//! ONNX Runtime returns is explained with shap's per-background-row rescaling
//! ([`tree::interventional_transformed`]); a softmax across classes is refused.

use super::masked::row_f64;
use super::tree::{self, Forest, PostTransform};
use super::{Method, OutputSpace};
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

/// What the tree methods return: SHAP values, base value, outputs, notes, and the space
/// they live in.
pub(crate) struct TreeValues {
    pub values: Vec<Vec<f64>>,
    pub base_value: f64,
    pub outputs: Vec<f64>,
    pub notes: Vec<String>,
    pub space: OutputSpace,
}

/// How the explained output is computed from the forest.
enum Plan {
    /// `offset + sign × raw output k`, explained in raw space; `space` is what it is.
    Affine {
        output: usize,
        sign: f64,
        offset: f64,
        space: OutputSpace,
    },
    /// Score `score` of ONNX Runtime's output as a function of raw output `output`.
    Transformed { output: usize, score: usize },
}

/// What TreeSHAP will explain for `class` (classifiers) in `space`, or why it cannot.
/// `space` is `Raw` for regressors (their value).
fn plan(forest: &Forest, method: Method, class: Option<usize>, space: OutputSpace) -> Result<Plan> {
    let (output, sign, offset) = pick_output(forest, class)?;
    let classifier = forest.classifier.is_some() || class.is_some();
    // A classifier's margin is explained as asked for raw space; a regressor's value and a
    // probability must be the score ONNX Runtime returns.
    let wants_score = !classifier || space == OutputSpace::Probability;
    if !wants_score || forest.scores_are_affine() {
        return Ok(Plan::Affine {
            output,
            sign,
            offset,
            space: if classifier { space } else { OutputSpace::Raw },
        });
    }
    let what = if classifier {
        "probabilities"
    } else {
        "the model's value"
    };
    if method == Method::TreePath {
        return Err(EngineError::usage(format!(
            "--method tree-path explains the raw margin only (as shap's TreeExplainer does);              for {what} use --method tree{}",
            if classifier {
                ", or --output-space raw for the margin"
            } else {
                ""
            }
        )));
    }
    if !forest.scores_are_elementwise() {
        return Err(EngineError::usage(format!(
            "TreeSHAP cannot explain {what} of {}: a softmax mixes the {} outputs' margins;              use {}--method exact, kernel or permutation",
            forest.op_type,
            forest.n_outputs,
            if classifier {
                "--output-space raw for the margin, or "
            } else {
                ""
            }
        )));
    }
    let score = match (&forest.classifier, class) {
        (Some(_), Some(c)) => c,
        _ => output,
    };
    Ok(Plan::Transformed { output, score })
}

/// Whether TreeSHAP can explain `model` for `class` in `space` (what `--method auto` asks).
pub(crate) fn supports(model: &Model, class: Option<usize>, space: OutputSpace) -> bool {
    Forest::from_model(model)
        .ok()
        .is_some_and(|f| plan(&f, Method::Tree, class, space).is_ok())
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
    space: OutputSpace,
    progress: &Progress,
) -> Result<TreeValues> {
    let forest = Forest::from_model(model)?;
    let xs = block(x, n);
    let plan = plan(&forest, method, class, space)?;
    if let Plan::Transformed { output, score } = plan {
        return transformed(
            &forest,
            &xs,
            &block(bg, bg_rows),
            output,
            score,
            class,
            progress,
        );
    }
    let Plan::Affine {
        output,
        sign,
        offset,
        space,
    } = plan
    else {
        return Err(EngineError::internal("tree plan"));
    };
    let mut notes = vec![if space == OutputSpace::Probability {
        "TreeSHAP explains the ensemble's raw output, which is already the class probability (no post-transform); exact for any depth".to_string()
    } else {
        "TreeSHAP explains the ensemble's raw margin (before its post-transform: log-odds for boosted binary classifiers); exact for any depth".to_string()
    }];
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
        space,
    })
}

/// Score `score` of the runtime's output as a function of raw output `output`, explained with
/// shap's per-background-row rescaling of the raw-margin values.
fn transformed(
    forest: &Forest,
    xs: &[f64],
    bg: &[f64],
    output: usize,
    score: usize,
    class: Option<usize>,
    progress: &Progress,
) -> Result<TreeValues> {
    let no = forest.n_outputs;
    let t = |m: f64| {
        let mut raw = vec![0.0; no];
        raw[output] = m;
        forest
            .finalize(&raw)
            .get(score)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let probability = class.is_some();
    let label = if probability { "probability" } else { "value" };
    let shap = tree::interventional_transformed(forest, xs, bg, output, &t, label, progress)?;
    let mut notes = vec![format!(
        "TreeSHAP in {} space, as shap's TreeExplainer with model_output=\"probability\": for each background row the exact Shapley values of the raw margin are rescaled by (T(m(x)) − T(m(bg))) / (m(x) − m(bg)), T being the model's {} as a function of the margin, then averaged",
        if probability { "probability" } else { "output" },
        if probability {
            "probability"
        } else {
            "output"
        }
    )];
    notes.extend(
        shap.notes
            .iter()
            .filter(|n| !n.starts_with("covers:"))
            .cloned(),
    );
    Ok(TreeValues {
        values: (0..shap.n_rows)
            .map(|r| shap.row_values(r, 0).to_vec())
            .collect(),
        base_value: shap.base_values[0],
        outputs: shap.raw_outputs.clone(),
        notes,
        space: if probability {
            OutputSpace::Probability
        } else {
            OutputSpace::Raw
        },
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
        // A regressor-shaped ensemble the runtime's output treats as classes (e.g. a
        // Softmax after it): class c is output c.
        (None, Some(c)) if c < forest.n_outputs => Ok((c, 1.0, 0.0)),
        (None, Some(c)) => Err(EngineError::usage(format!(
            "the tree ensemble has {} outputs, so no raw output for class {c}",
            forest.n_outputs
        ))),
        _ => Ok((0, 1.0, 0.0)),
    }
}

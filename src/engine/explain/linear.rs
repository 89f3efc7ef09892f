//! Linear models explained exactly from their coefficients (like shap's LinearExplainer with
//! an interventional/independent masker): when the graph is `[Scaler →] LinearClassifier`
//! (binary, LOGISTIC) or `[Scaler →] LinearRegressor` on one `[N, F]` input, the margin is
//! `m(x) = Σ_i w_i x_i + b` with `w_i = c_i · scale_i` and
//! `φ_i = w_i (x_i − E_b[x_i])` in margin space (log-odds for the classifier).

use super::background::Background;
use super::masked::{self, row_f64};
use super::{Link, OutputSpace};
use crate::engine::data::extract::InputData;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{proto, Model};

/// The effective margin of a linear model on its raw inputs, for one class.
#[derive(Debug, Clone)]
pub struct LinearMargin {
    /// Weight per input feature (after folding the Scaler in).
    pub weights: Vec<f64>,
    pub intercept: f64,
    /// Which model node produced it (for notes).
    pub op: String,
}

impl LinearMargin {
    pub fn margin(&self, x: &[f64]) -> f64 {
        self.intercept + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }
}

fn attr<'a>(node: &'a proto::NodeProto, name: &str) -> Option<&'a proto::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// Graph nodes that may follow the linear node without changing the margin of `class`.
const PASS_THROUGH: &[&str] = &["ZipMap", "Cast", "Identity"];

/// The linear margin of `model` for class index `class` of `n_classes` (0 classes =
/// regressor), when the graph is Scaler + LinearClassifier/LinearRegressor; `None` otherwise.
pub fn parse(
    model: &Model,
    width: usize,
    class: usize,
    n_classes: usize,
) -> Result<Option<LinearMargin>> {
    let Ok(p) = proto::decode(model.bytes()) else {
        return Ok(None);
    };
    let Some(g) = p.graph.as_ref() else {
        return Ok(None);
    };
    if g.input.len() != 1 {
        return Ok(None);
    }
    let mut current = g.input[0].name.clone();
    let mut offset = vec![0.0f64; width];
    let mut scale = vec![1.0f64; width];
    let mut linear: Option<LinearMargin> = None;
    for node in &g.node {
        let op = node.op_type.as_str();
        let reads_current = node.input.first().is_some_and(|i| *i == current);
        if linear.is_some() {
            // After the linear node: only pass-through nodes on its outputs.
            if !PASS_THROUGH.contains(&op) {
                return Ok(None);
            }
            continue;
        }
        if !reads_current || node.input.len() != 1 {
            return Ok(None);
        }
        match op {
            "Scaler" => {
                let off = attr(node, "offset")
                    .map(|a| a.floats.clone())
                    .unwrap_or_default();
                let sc = attr(node, "scale")
                    .map(|a| a.floats.clone())
                    .unwrap_or_default();
                let get = |v: &[f32], j: usize, default: f64| match v.len() {
                    0 => default,
                    1 => f64::from(v[0]),
                    _ => v.get(j).map_or(f64::NAN, |&x| f64::from(x)),
                };
                if (off.len() > 1 && off.len() != width) || (sc.len() > 1 && sc.len() != width) {
                    return Ok(None);
                }
                // (x·s0 − o0 … ) composed: y = (x − o) · s applied after the current affine map.
                for j in 0..width {
                    let (o, s) = (get(&off, j, 0.0), get(&sc, j, 1.0));
                    // current: z = (x − offset) · scale; new: (z − o) · s
                    offset[j] += o / scale[j];
                    scale[j] *= s;
                }
                current = node.output.first().cloned().unwrap_or_default();
            }
            "LinearClassifier" | "LinearRegressor" => {
                let coef: Vec<f64> = attr(node, "coefficients")
                    .map(|a| a.floats.iter().map(|&x| f64::from(x)).collect())
                    .unwrap_or_default();
                let intercepts: Vec<f64> = attr(node, "intercepts")
                    .map(|a| a.floats.iter().map(|&x| f64::from(x)).collect())
                    .unwrap_or_default();
                let post = attr(node, "post_transform")
                    .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                    .unwrap_or_else(|| "NONE".into());
                if width == 0 || coef.len() % width != 0 {
                    return Ok(None);
                }
                let rows = coef.len() / width;
                let row = if op == "LinearClassifier" {
                    if post != "LOGISTIC" || n_classes != 2 {
                        return Ok(None);
                    }
                    match rows {
                        2 => class,
                        1 => 0,
                        _ => return Ok(None),
                    }
                } else {
                    if post != "NONE" || rows != 1 || n_classes != 0 {
                        return Ok(None);
                    }
                    0
                };
                let sign = if op == "LinearClassifier" && rows == 1 && class == 0 {
                    -1.0
                } else {
                    1.0
                };
                let c = &coef[row * width..(row + 1) * width];
                let b = intercepts.get(row).copied().unwrap_or(0.0);
                // m = Σ c_j (x_j − offset_j) scale_j + b
                let weights: Vec<f64> = (0..width).map(|j| sign * c[j] * scale[j]).collect();
                let intercept =
                    sign * (b - (0..width).map(|j| c[j] * scale[j] * offset[j]).sum::<f64>());
                linear = Some(LinearMargin {
                    weights,
                    intercept,
                    op: op.to_string(),
                });
            }
            _ => return Ok(None),
        }
    }
    Ok(linear)
}

pub(super) type Values = (Vec<Vec<f64>>, f64, Vec<f64>);

/// `--method linear`: φ from the coefficients, with the base value and the explained outputs
/// in margin space.
#[allow(clippy::too_many_arguments)]
pub(super) fn values(
    lin: &Option<LinearMargin>,
    classifier: bool,
    space: OutputSpace,
    x: &InputData,
    bg: &Background,
    fx: &[f64],
    link: Link,
    notes: &mut Vec<String>,
) -> Result<Values> {
    let Some(lin) = lin else {
        return Err(EngineError::usage(
            "--method linear needs a graph of [Scaler →] LinearClassifier (binary, logistic) or LinearRegressor on one [N, F] input; use exact, kernel or permutation",
        ));
    };
    if classifier && space == OutputSpace::Probability {
        return Err(EngineError::usage(
            "--method linear explains the margin (log-odds); use --output-space raw, or another method for probabilities",
        ));
    }
    let f = lin.weights.len();
    let mean: Vec<f64> = (0..f)
        .map(|j| {
            masked::column_f64(&bg.data, j)
                .unwrap_or_default()
                .iter()
                .zip(&bg.weights)
                .map(|(v, w)| v * w)
                .sum()
        })
        .collect();
    let base = lin.margin(&mean);
    let n = fx.len();
    let values: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let row = row_f64(x, i);
            (0..f)
                .map(|j| lin.weights[j] * (row[j].unwrap_or(f64::NAN) - mean[j]))
                .collect()
        })
        .collect();
    notes.push(format!(
        "linear: φ_i = w_i (x_i − E[x_i]) from the {} coefficients (Scaler folded in), in margin space; outputs are the model's own (float32) outputs{}",
        lin.op,
        if classifier { " as logit(p)" } else { "" }
    ));
    Ok((values, base, fx.iter().map(|&p| link.apply(p)).collect()))
}

//! What may follow the tree ensemble in the graph. Constant affine post-processing (`Add`,
//! `Sub`, `Mul`, `Div` by constant initializers or `Constant` ops, scalar or one value per
//! output, in any order: opset-5 `TreeEnsemble` has no base values, so converters add the base
//! with an `Add`) is folded into the forest — a multiplication by c scales every leaf value and
//! the bias of that output, an addition shifts only the bias — so predictions and TreeSHAP
//! (exact Shapley values of the folded margin) need nothing else. A final `Sigmoid` or
//! `Softmax` becomes [`Activation`], applied by `Forest::predict_output`; ZipMap / Cast /
//! Identity change nothing. Any other op is refused, naming it.

use serde::Serialize;

use super::attrs::tensor_f64;
use super::output::PostTransform;
use super::{Forest, TreeError};
use crate::engine::model::proto::full::{GraphProto, NodeProto};
use crate::engine::model::proto::TensorProto;

/// A `Sigmoid` or `Softmax` op after the ensemble (and its affine post-processing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    None,
    /// Elementwise logistic of each output.
    Sigmoid,
    /// Softmax over the outputs.
    Softmax,
}

/// One affine step, per output (one value broadcast to every output).
#[derive(Debug, Clone)]
enum Step {
    Mul(Vec<f64>),
    Add(Vec<f64>),
}

/// The graph after the tree op, as read by [`read`].
pub(super) struct Tail<'g> {
    /// Nodes on the score chain and the `Constant` ops feeding it.
    pub(super) nodes: Vec<&'g NodeProto>,
    steps: Vec<Step>,
    activation: Activation,
}

fn refuse(msg: impl Into<String>) -> TreeError {
    TreeError::NotATree(msg.into())
}

/// Value of a constant input: an initializer, or the output of a `Constant` op (returned so
/// the caller counts it as part of the tail).
fn constant<'g>(graph: &'g GraphProto, name: &str) -> Option<(Vec<f64>, Option<&'g NodeProto>)> {
    if let Some(t) = graph.initializer.iter().find(|t| t.name == name) {
        return shaped(t).map(|v| (v, None));
    }
    let n = graph
        .node
        .iter()
        .find(|n| n.op_type == "Constant" && n.output.iter().any(|o| o == name))?;
    let a = n.attribute.first()?;
    let v = match a.name.as_str() {
        "value" => shaped(a.t.as_ref()?)?,
        "value_float" => vec![f64::from(a.f)],
        "value_floats" => a.floats.iter().map(|&f| f64::from(f)).collect(),
        _ => return None,
    };
    Some((v, Some(n)))
}

/// A tensor's values when every dimension but the last is 1 (so it broadcasts over rows).
fn shaped(t: &TensorProto) -> Option<Vec<f64>> {
    let dims = &t.dims;
    if dims.len() > 1 && dims[..dims.len() - 1].iter().any(|&d| d != 1) {
        return None;
    }
    let v = tensor_f64(t);
    (!v.is_empty()).then_some(v)
}

/// Follows the ensemble's score output through the ops after it. `score` is the name of the
/// tree op's score output.
pub(super) fn read<'g>(graph: &'g GraphProto, score: &str) -> Result<Tail<'g>, TreeError> {
    let mut value = score.to_string();
    let mut tail = Tail {
        nodes: Vec::new(),
        steps: Vec::new(),
        activation: Activation::None,
    };
    loop {
        let users: Vec<&NodeProto> = graph
            .node
            .iter()
            .filter(|n| n.input.contains(&value))
            .collect();
        let n = match users.as_slice() {
            [] => return Ok(tail),
            [one] => *one,
            more => {
                let ops: Vec<&str> = more.iter().map(|n| n.op_type.as_str()).collect();
                return Err(refuse(format!(
                    "the tree ensemble's scores '{value}' feed {} ops ({}); only one chain of \
                     post-processing is understood",
                    more.len(),
                    ops.join(", ")
                )));
            }
        };
        let op = n.op_type.as_str();
        if tail.activation != Activation::None && op != "ZipMap" && op != "Cast" && op != "Identity"
        {
            return Err(refuse(format!(
                "found op {op} after the {:?} that follows the tree ensemble",
                tail.activation
            )));
        }
        match op {
            "Identity" | "Cast" => {}
            "ZipMap" => {
                tail.nodes.push(n);
                return Ok(tail);
            }
            "Sigmoid" => tail.activation = Activation::Sigmoid,
            "Softmax" => {
                let axis = n.attribute.iter().find(|a| a.name == "axis").map(|a| a.i);
                if !matches!(axis, None | Some(-1) | Some(1)) {
                    return Err(refuse(
                        "found op Softmax after the tree ensemble over an axis other than the outputs",
                    ));
                }
                tail.activation = Activation::Softmax;
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let [a, b] = n.input.as_slice() else {
                    return Err(refuse(format!(
                        "found op {op} with {} inputs",
                        n.input.len()
                    )));
                };
                let (other, scores_first) = match (*a == value, *b == value) {
                    (true, false) => (b, true),
                    (false, true) => (a, false),
                    _ => {
                        return Err(refuse(format!(
                            "found op {op} of the tree ensemble's scores with themselves"
                        )))
                    }
                };
                let (c, producer) = constant(graph, other).ok_or_else(|| {
                    refuse(format!(
                        "found op {op} after the tree ensemble whose other input '{other}' is \
                         not a constant (only constant affine post-processing is understood)"
                    ))
                })?;
                tail.nodes.extend(producer);
                match (op, scores_first) {
                    ("Add", _) => tail.steps.push(Step::Add(c)),
                    ("Mul", _) => tail.steps.push(Step::Mul(c)),
                    ("Sub", true) => tail.steps.push(Step::Add(c.iter().map(|v| -v).collect())),
                    ("Sub", false) => {
                        tail.steps.push(Step::Mul(vec![-1.0]));
                        tail.steps.push(Step::Add(c));
                    }
                    ("Div", true) => tail
                        .steps
                        .push(Step::Mul(c.iter().map(|v| 1.0 / v).collect())),
                    _ => {
                        return Err(refuse(
                            "found op Div of a constant by the tree ensemble's scores, which is \
                             not affine",
                        ))
                    }
                }
            }
            other => {
                return Err(refuse(format!(
                    "found op {other} after the tree ensemble (only constant Add/Sub/Mul/Div, \
                     Sigmoid, Softmax, ZipMap, Cast and Identity are understood)"
                )))
            }
        }
        tail.nodes.push(n);
        value = n.output.first().cloned().unwrap_or_default();
    }
}

impl Step {
    fn values(&self) -> &[f64] {
        match self {
            Step::Mul(c) | Step::Add(c) => c,
        }
    }

    fn is_identity(&self) -> bool {
        match self {
            Step::Mul(c) => c.iter().all(|&v| v == 1.0),
            Step::Add(c) => c.iter().all(|&v| v == 0.0),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Step::Mul(_) => "a multiplication",
            Step::Add(_) => "an addition",
        }
    }
}

/// Folds the tail into `forest` (see the module doc). The ops must act on values the forest's
/// raw outputs equal: a regressor-shaped ensemble whose own finalisation is the identity.
pub(super) fn fold(forest: &mut Forest, tail: &Tail) -> Result<(), TreeError> {
    let steps: Vec<&Step> = tail.steps.iter().filter(|s| !s.is_identity()).collect();
    if steps.is_empty() && tail.activation == Activation::None {
        return Ok(());
    }
    let no = forest.n_outputs;
    let identity_finalize = forest.classifier.is_none()
        && (forest.post_transform == PostTransform::None
            || (no == 1 && forest.post_transform != PostTransform::Probit));
    if !identity_finalize {
        let what =
            steps
                .first()
                .map(|s| s.name())
                .unwrap_or(if tail.activation == Activation::Sigmoid {
                    "a Sigmoid"
                } else {
                    "a Softmax"
                });
        return Err(refuse(format!(
            "{what} after {} with post_transform {:?} acts on its transformed scores, which \
             cannot be folded into the trees",
            forest.op_type, forest.post_transform
        )));
    }
    let mut desc = Vec::new();
    for s in &steps {
        let c = s.values();
        if c.len() != 1 && c.len() != no {
            return Err(refuse(format!(
                "{} after the tree ensemble has {} constants for {no} outputs",
                s.name(),
                c.len()
            )));
        }
        let at = |o: usize| if c.len() == 1 { c[0] } else { c[o] };
        match s {
            Step::Mul(_) => {
                for (o, b) in forest.bias.iter_mut().enumerate() {
                    *b *= at(o);
                }
                for node in forest.trees.iter_mut().flat_map(|t| t.nodes.iter_mut()) {
                    for (o, v) in node.values.iter_mut().enumerate() {
                        *v *= at(o);
                    }
                }
                desc.push(format!("× {}", fmt_consts(c)));
            }
            Step::Add(_) => {
                for (o, b) in forest.bias.iter_mut().enumerate() {
                    *b += at(o);
                }
                desc.push(format!("+ {}", fmt_consts(c)));
            }
        }
    }
    if !desc.is_empty() {
        forest.notes.push(format!(
            "constant post-processing after the trees ({}) was folded into the leaf values \
             and base values: the raw output includes it",
            desc.join(", then ")
        ));
    }
    if tail.activation != Activation::None {
        forest.activation = tail.activation;
        forest.notes.push(format!(
            "a {:?} op follows the trees: the raw output is its input (the margin)",
            tail.activation
        ));
    }
    Ok(())
}

fn fmt_consts(c: &[f64]) -> String {
    if c.len() == 1 {
        format!("{}", c[0])
    } else {
        format!(
            "[{}]",
            c.iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

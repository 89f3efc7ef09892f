//! From raw margins to the score output ONNX Runtime returns: `post_transform` and the
//! binary-classifier conventions of its TreeEnsemble kernels (one score column, mixed-sign
//! weights, all-positive weights).

use serde::Serialize;

use super::{Activation, Forest};

/// `post_transform` of a tree ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PostTransform {
    None,
    Logistic,
    Softmax,
    SoftmaxZero,
    Probit,
}

impl PostTransform {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "NONE" => PostTransform::None,
            "LOGISTIC" => PostTransform::Logistic,
            "SOFTMAX" => PostTransform::Softmax,
            "SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
            "PROBIT" => PostTransform::Probit,
            _ => return None,
        })
    }

    /// The opset-5 `TreeEnsemble` integer code.
    pub fn from_code(c: i64) -> Option<Self> {
        Some(match c {
            0 => PostTransform::None,
            1 => PostTransform::Logistic,
            2 => PostTransform::Softmax,
            3 => PostTransform::SoftmaxZero,
            4 => PostTransform::Probit,
            _ => return None,
        })
    }
}

pub(crate) fn logistic(v: f64) -> f64 {
    let e = 1.0 / (1.0 + (-v.abs()).exp());
    if v < 0.0 {
        1.0 - e
    } else {
        e
    }
}

/// ONNX Runtime's PROBIT: √2 · erfinv(2v − 1) with its closed-form erfinv approximation
/// (Winitzki, a = 0.147), so outputs match the runtime rather than the exact quantile.
pub(crate) fn probit(v: f64) -> f64 {
    let x = 2.0 * v - 1.0;
    let sgn = if x < 0.0 { -1.0 } else { 1.0 };
    let y = (1.0 - x) * (1.0 + x);
    let ln = y.ln();
    let a = 2.0 / (std::f64::consts::PI * 0.147) + 0.5 * ln;
    let b = ln / 0.147;
    std::f64::consts::SQRT_2 * sgn * (-a + (a * a - b).sqrt()).sqrt()
}

fn softmax(v: &mut [f64]) {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        s += *x;
    }
    for x in v.iter_mut() {
        *x /= s;
    }
}

/// Softmax that leaves (near-)zero scores out of the exponentials, as ONNX Runtime does.
fn softmax_zero(v: &mut [f64]) {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e = (-m).exp();
    let mut s = 0.0;
    for x in v.iter_mut() {
        if x.abs() > 1e-7 {
            *x = (*x - m).exp();
            s += *x;
        } else {
            *x *= e;
        }
    }
    for x in v.iter_mut() {
        *x /= s;
    }
}

fn transform_all(t: PostTransform, v: &mut [f64]) {
    match t {
        PostTransform::None => {}
        PostTransform::Logistic => v.iter_mut().for_each(|x| *x = logistic(*x)),
        PostTransform::Softmax => softmax(v),
        PostTransform::SoftmaxZero => softmax_zero(v),
        PostTransform::Probit => v.iter_mut().for_each(|x| *x = probit(*x)),
    }
}

/// Applies the runtime's finalisation to raw margins (`forest.n_outputs` values), then the
/// Sigmoid / Softmax op that may follow the ensemble in the graph.
pub(crate) fn finalize(forest: &Forest, raw: &[f64]) -> Vec<f64> {
    let mut v = finalize_op(forest, raw);
    match forest.activation {
        Activation::None => {}
        Activation::Sigmoid => v.iter_mut().for_each(|x| *x = logistic(*x)),
        Activation::Softmax => softmax(&mut v),
    }
    v
}

/// The tree op's own finalisation (`post_transform` and ONNX Runtime's binary conventions).
fn finalize_op(forest: &Forest, raw: &[f64]) -> Vec<f64> {
    let t = forest.post_transform;
    let Some(cls) = &forest.classifier else {
        // Regressor: one target keeps its score (only PROBIT applies); several get the
        // transform over the vector.
        let mut v = raw.to_vec();
        if v.len() == 1 {
            if t == PostTransform::Probit {
                v[0] = probit(v[0]);
            }
        } else {
            transform_all(t, &mut v);
        }
        return v;
    };
    if raw.len() == 1 && cls.labels.len() == 2 {
        // One score column for two classes.
        let s = raw[0];
        if t == PostTransform::Probit {
            return vec![probit(s)];
        }
        return if cls.weights_all_positive {
            vec![1.0 - s, s]
        } else if t == PostTransform::Logistic {
            vec![logistic(-s), logistic(s)]
        } else if s > 0.0 {
            vec![-s, s]
        } else {
            // The runtime's "mixed weights, negative class wins" branch keeps the sign.
            vec![s, -s]
        };
    }
    let mut v = vec![0.0; cls.labels.len()];
    for (k, &c) in cls.output_class.iter().enumerate() {
        if let (Some(slot), Some(r)) = (v.get_mut(c), raw.get(k)) {
            *slot = *r;
        }
    }
    transform_all(t, &mut v);
    v
}

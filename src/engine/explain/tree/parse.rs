//! ONNX graph → [`Forest`]: find the one tree-ensemble node, check that nothing but Cast /
//! Identity sits between it and the model input (and, after it, only what `tail.rs` can fold:
//! constant affine ops, Sigmoid / Softmax, ZipMap / Cast / Identity), then read its
//! attributes (legacy ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor, or the
//! opset-5 `TreeEnsemble`).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub(super) use super::attrs::Attrs;
use super::attrs::{tensor_f64, DOUBLE, FLOAT};
use super::output::PostTransform;
use super::tail::{self, Activation};
use super::unfold::{build_tree, Budget, RawNode, MAX_UNFOLDED_NODES};
use super::{ClassifierLayout, Forest, NodeMode, TreeError};
use crate::engine::error::EngineError;
use crate::engine::model::proto;
use crate::engine::model::proto::full::{GraphProto, NodeProto};

const TREE_OPS: &[&str] = &[
    "TreeEnsembleClassifier",
    "TreeEnsembleRegressor",
    "TreeEnsemble",
];
/// Ops allowed off the score chain (e.g. on the label output): they do not change values
/// (plus `Mul` by a constant 1). The score chain itself is read by [`tail::read`].
const POST_OPS: &[&str] = &["ZipMap", "Cast", "Identity"];

pub(super) fn forest_from_bytes(path: &Path, bytes: &[u8]) -> Result<Forest, TreeError> {
    let model = proto::full::decode(bytes)
        .map_err(|e| EngineError::file(path, format!("not a valid ONNX model: {e}")))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| EngineError::file(path, "the ONNX model has no graph"))?;
    let trees: Vec<&NodeProto> = graph
        .node
        .iter()
        .filter(|n| TREE_OPS.contains(&n.op_type.as_str()) && n.domain == "ai.onnx.ml")
        .collect();
    let tree_node = match trees.as_slice() {
        [one] => *one,
        [] => {
            let ops: BTreeSet<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
            let ops: Vec<&str> = ops.into_iter().collect();
            return Err(TreeError::NotATree(format!(
                "the graph has no tree ensemble op (found ops: {})",
                ops.join(", ")
            )));
        }
        more => {
            return Err(TreeError::NotATree(format!(
                "the graph has {} tree ensemble ops; only one is supported",
                more.len()
            )))
        }
    };
    let (input_name, elem_type, chain) = trace_input(graph, tree_node)?;
    // The score output: probabilities of a classifier (its second output), else the only one.
    let score_index = usize::from(tree_node.op_type == "TreeEnsembleClassifier");
    let score = tree_node
        .output
        .get(score_index)
        .cloned()
        .unwrap_or_default();
    let after = tail::read(graph, &score)?;
    for n in &graph.node {
        if std::ptr::eq(n, tree_node)
            || chain.iter().any(|c| std::ptr::eq(*c, n))
            || after.nodes.iter().any(|c| std::ptr::eq(*c, n))
        {
            continue;
        }
        if !POST_OPS.contains(&n.op_type.as_str()) && !is_mul_by_one(graph, n) {
            return Err(TreeError::NotATree(format!(
                "found op {} besides the tree ensemble",
                n.op_type
            )));
        }
    }
    let float_input = elem_type != DOUBLE;
    let declared = declared_width(graph, &input_name);
    let attrs = Attrs::new(tree_node);
    let ctx = Ctx { path, float_input };
    let mut forest = if tree_node.op_type == "TreeEnsemble" {
        super::parse_v5::opset5(&ctx, &attrs)?
    } else {
        legacy(&ctx, &attrs, tree_node.op_type == "TreeEnsembleClassifier")?
    };
    let used = forest
        .trees
        .iter()
        .flat_map(|t| {
            t.nodes
                .iter()
                .filter(|n| !n.is_leaf())
                .map(|n| n.feature + 1)
        })
        .max()
        .unwrap_or(0);
    forest.n_features = match declared {
        Some(w) if w < used => {
            return Err(EngineError::file(
                path,
                format!(
                    "the trees read feature {} but input '{input_name}' has {w} columns",
                    used - 1
                ),
            )
            .into())
        }
        Some(w) => w,
        None => used,
    };
    forest.input_name = input_name;
    forest.float_input = float_input;
    tail::fold(&mut forest, &after)?;
    forest.notes.push(
        "covers: ONNX stores no node covers; path-dependent TreeSHAP needs Forest::with_covers"
            .to_string(),
    );
    Ok(forest)
}

/// Walks back from the tree op to a graph input through Cast / Identity only.
/// Returns the input name, the element type the trees see, and the nodes walked.
fn trace_input<'g>(
    graph: &'g GraphProto,
    tree: &NodeProto,
) -> Result<(String, i32, Vec<&'g NodeProto>), TreeError> {
    let mut name = tree.input.first().cloned().unwrap_or_default();
    let mut chain = Vec::new();
    let mut cast_to: Option<i32> = None;
    loop {
        if let Some(inp) = graph.input.iter().find(|i| i.name == name) {
            let declared = match inp.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(proto::type_proto::Value::TensorType(t)) => t.elem_type,
                _ => FLOAT,
            };
            // The last Cast decides the type the trees compare in, except that a float
            // anywhere on the way has already rounded the values.
            let ty = match cast_to {
                Some(DOUBLE) if declared == FLOAT => FLOAT,
                Some(t) => t,
                None => declared,
            };
            return Ok((name, ty, chain));
        }
        let Some(producer) = graph.node.iter().find(|n| n.output.contains(&name)) else {
            return Err(TreeError::NotATree(format!(
                "the tree ensemble reads '{name}', which is neither a model input nor computed"
            )));
        };
        match producer.op_type.as_str() {
            "Identity" => {}
            "Cast" => {
                let to = producer
                    .attribute
                    .iter()
                    .find(|a| a.name == "to")
                    .map(|a| a.i as i32)
                    .unwrap_or(FLOAT);
                if cast_to.is_none() || to == FLOAT {
                    cast_to = Some(to);
                }
            }
            op => {
                return Err(TreeError::NotATree(format!(
                    "found op {op} before the tree ensemble"
                )))
            }
        }
        chain.push(producer);
        name = producer.input.first().cloned().unwrap_or_default();
    }
}

/// `Mul(x, c)` with `c` an initializer of ones.
fn is_mul_by_one(graph: &GraphProto, n: &NodeProto) -> bool {
    n.op_type == "Mul"
        && n.input.iter().any(|i| {
            graph.initializer.iter().any(|t| {
                &t.name == i && {
                    let v = tensor_f64(t);
                    !v.is_empty() && v.iter().all(|&x| x == 1.0)
                }
            })
        })
}

/// Column count of a rank-2 graph input with a fixed second dimension.
fn declared_width(graph: &GraphProto, name: &str) -> Option<usize> {
    let inp = graph.input.iter().find(|i| i.name == name)?;
    let Some(proto::type_proto::Value::TensorType(t)) =
        inp.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return None;
    };
    let dims = &t.shape.as_ref()?.dim;
    match dims.as_slice() {
        [_, d] => match d.value {
            Some(proto::dimension::Value::DimValue(v)) if v > 0 => Some(v as usize),
            _ => None,
        },
        _ => None,
    }
}

pub(super) struct Ctx<'a> {
    pub(super) path: &'a Path,
    pub(super) float_input: bool,
}

impl Ctx<'_> {
    pub(super) fn err(&self, msg: impl Into<String>) -> TreeError {
        TreeError::Engine(EngineError::file(
            self.path,
            format!("tree ensemble: {}", msg.into()),
        ))
    }

    /// Rounds to the runtime's threshold / weight precision.
    pub(super) fn prec(&self, v: f64) -> f64 {
        if self.float_input {
            v as f32 as f64
        } else {
            v
        }
    }
}

fn mode_from_str(s: &str) -> Option<NodeMode> {
    Some(match s {
        "BRANCH_LEQ" => NodeMode::BranchLeq,
        "BRANCH_LT" => NodeMode::BranchLt,
        "BRANCH_GTE" => NodeMode::BranchGte,
        "BRANCH_GT" => NodeMode::BranchGt,
        "BRANCH_EQ" => NodeMode::BranchEq,
        "BRANCH_NEQ" => NodeMode::BranchNeq,
        "LEAF" => NodeMode::Leaf,
        _ => return None,
    })
}

pub(super) fn check_len(ctx: &Ctx, name: &str, len: usize, want: usize) -> Result<(), TreeError> {
    if len != want {
        return Err(ctx.err(format!(
            "attribute {name} has {len} values, expected {want}"
        )));
    }
    Ok(())
}

/// How the weights of a legacy op map onto raw outputs.
struct Layout {
    n_outputs: usize,
    out_of_id: HashMap<i64, usize>,
    output_names: Vec<String>,
    bias: Vec<f64>,
    classifier: Option<ClassifierLayout>,
    n_scores: usize,
    /// Leaf value multiplier (1/n_trees for AVERAGE).
    scale: f64,
    notes: Vec<String>,
}

fn classifier_layout(
    ctx: &Ctx,
    a: &Attrs,
    w_id: &[i64],
    w_val: &[f64],
    base: &[f64],
) -> Result<Layout, TreeError> {
    let labels: Vec<String> = {
        let ints = a.ints("classlabels_int64s");
        if ints.is_empty() {
            a.strings("classlabels_strings")
        } else {
            ints.iter().map(|v| v.to_string()).collect()
        }
    };
    let nc = labels.len();
    if nc < 2 {
        return Err(ctx.err("a classifier needs at least two class labels"));
    }
    if let Some(&bad) = w_id.iter().find(|&&c| c as usize >= nc) {
        return Err(ctx.err(format!("class id {bad} but only {nc} class labels")));
    }
    let distinct: BTreeSet<i64> = w_id.iter().copied().collect();
    let all_pos = w_val.iter().all(|&w| w >= 0.0);
    let mut notes = Vec::new();
    // ONNX Runtime's binary case: weights for class 0 only and at most one base value →
    // one score column (log-odds of class 1 for GBMs, its probability for forests).
    if nc == 2 && distinct.len() == 1 && distinct.contains(&0) && base.len() <= 1 {
        notes.push(format!(
            "binary classifier with one score column: raw output is the margin of class '{}'",
            labels[1]
        ));
        return Ok(Layout {
            n_outputs: 1,
            out_of_id: HashMap::from([(0, 0)]),
            output_names: vec![labels[1].clone()],
            bias: vec![base.first().copied().unwrap_or(0.0)],
            classifier: Some(ClassifierLayout {
                labels,
                output_class: vec![1],
                weights_all_positive: all_pos,
            }),
            n_scores: nc,
            scale: 1.0,
            notes,
        });
    }
    if nc == 2 && base.len() == 2 && distinct.contains(&1) {
        notes.push(
            "two base_values on a binary classifier with class-1 weights: ONNX Runtime treats \
             this case specially; outputs may differ"
                .to_string(),
        );
    }
    Ok(Layout {
        n_outputs: nc,
        out_of_id: (0..nc as i64).map(|c| (c, c as usize)).collect(),
        output_names: labels.clone(),
        bias: (0..nc)
            .map(|k| base.get(k).copied().unwrap_or(0.0))
            .collect(),
        classifier: Some(ClassifierLayout {
            labels,
            output_class: (0..nc).collect(),
            weights_all_positive: all_pos,
        }),
        n_scores: nc,
        scale: 1.0,
        notes,
    })
}

fn regressor_layout(
    ctx: &Ctx,
    a: &Attrs,
    w_id: &[i64],
    base: &[f64],
    tree_ids: &[i64],
) -> Result<Layout, TreeError> {
    let nt = a.int("n_targets").unwrap_or(1).max(1) as usize;
    if let Some(&bad) = w_id.iter().find(|&&c| c as usize >= nt) {
        return Err(ctx.err(format!("target id {bad} but n_targets is {nt}")));
    }
    let mut notes = Vec::new();
    let agg = a
        .string("aggregate_function")
        .unwrap_or_else(|| "SUM".to_string());
    let n_trees = tree_ids.iter().collect::<BTreeSet<_>>().len().max(1);
    let scale = match agg.as_str() {
        "SUM" | "" => 1.0,
        "AVERAGE" => {
            notes.push(format!(
                "aggregate_function AVERAGE: leaf values are divided by the {n_trees} trees"
            ));
            1.0 / n_trees as f64
        }
        other => {
            return Err(TreeError::NotATree(format!(
                "aggregate_function {other} is not additive over trees"
            )))
        }
    };
    Ok(Layout {
        n_outputs: nt,
        out_of_id: (0..nt as i64).map(|c| (c, c as usize)).collect(),
        output_names: target_names(nt),
        // The runtime adds base_values only when there is one per target.
        bias: if base.len() == nt {
            base.to_vec()
        } else {
            vec![0.0; nt]
        },
        classifier: None,
        n_scores: nt,
        scale,
        notes,
    })
}

pub(super) fn target_names(nt: usize) -> Vec<String> {
    if nt == 1 {
        vec!["prediction".to_string()]
    } else {
        (0..nt).map(|k| format!("target {k}")).collect()
    }
}

fn legacy(ctx: &Ctx, a: &Attrs, classifier: bool) -> Result<Forest, TreeError> {
    let tree_ids = a.ints("nodes_treeids");
    let n = tree_ids.len();
    let node_ids = a.ints("nodes_nodeids");
    let features = a.ints("nodes_featureids");
    let modes = a.strings("nodes_modes");
    let thresholds = a.reals("nodes_values");
    let trues = a.ints("nodes_truenodeids");
    let falses = a.ints("nodes_falsenodeids");
    let missing = a.ints("nodes_missing_value_tracks_true");
    check_len(ctx, "nodes_nodeids", node_ids.len(), n)?;
    check_len(ctx, "nodes_featureids", features.len(), n)?;
    check_len(ctx, "nodes_modes", modes.len(), n)?;
    check_len(ctx, "nodes_truenodeids", trues.len(), n)?;
    check_len(ctx, "nodes_falsenodeids", falses.len(), n)?;
    if !thresholds.is_empty() {
        check_len(ctx, "nodes_values", thresholds.len(), n)?;
    }
    if !missing.is_empty() {
        check_len(ctx, "nodes_missing_value_tracks_true", missing.len(), n)?;
    }
    let p = if classifier { "class" } else { "target" };
    let w_tree = a.ints(&format!("{p}_treeids"));
    let w_node = a.ints(&format!("{p}_nodeids"));
    let w_id = a.ints(&format!("{p}_ids"));
    let w_val = a.reals(&format!("{p}_weights"));
    let nw = w_tree.len();
    check_len(ctx, &format!("{p}_nodeids"), w_node.len(), nw)?;
    check_len(ctx, &format!("{p}_ids"), w_id.len(), nw)?;
    check_len(ctx, &format!("{p}_weights"), w_val.len(), nw)?;
    let base = a.reals("base_values");
    let pt_name = a.string("post_transform").unwrap_or_default();
    let post_transform = PostTransform::parse(&pt_name)
        .ok_or_else(|| ctx.err(format!("unknown post_transform '{pt_name}'")))?;
    if w_id.iter().any(|&c| c < 0) {
        return Err(ctx.err(format!("negative {p}_ids")));
    }

    let Layout {
        n_outputs,
        out_of_id,
        output_names,
        bias,
        classifier: classifier_layout,
        n_scores,
        scale,
        notes,
    } = if classifier {
        classifier_layout(ctx, a, w_id, &w_val, &base)?
    } else {
        regressor_layout(ctx, a, w_id, &base, tree_ids)?
    };

    // Leaf values: (tree, node) → per-output vector.
    let mut leaf_vals: HashMap<(i64, i64), Vec<f64>> = HashMap::new();
    for k in 0..nw {
        let &o = out_of_id
            .get(&w_id[k])
            .ok_or_else(|| ctx.err(format!("{p} id {} has no output", w_id[k])))?;
        let v = leaf_vals
            .entry((w_tree[k], w_node[k]))
            .or_insert_with(|| vec![0.0; n_outputs]);
        v[o] += ctx.prec(w_val[k]);
    }

    let mut by_tree: Vec<(i64, Vec<RawNode>)> = Vec::new();
    let mut tree_pos: HashMap<i64, usize> = HashMap::new();
    for i in 0..n {
        let mode = mode_from_str(&modes[i])
            .ok_or_else(|| ctx.err(format!("unsupported node mode '{}'", modes[i])))?;
        if features[i] < 0 {
            return Err(ctx.err(format!("negative feature id {}", features[i])));
        }
        let values = if mode == NodeMode::Leaf {
            leaf_vals
                .remove(&(tree_ids[i], node_ids[i]))
                .unwrap_or_else(|| vec![0.0; n_outputs])
                .into_iter()
                .map(|v| v * scale)
                .collect()
        } else {
            Vec::new()
        };
        let pos = *tree_pos.entry(tree_ids[i]).or_insert_with(|| {
            by_tree.push((tree_ids[i], Vec::new()));
            by_tree.len() - 1
        });
        by_tree[pos].1.push(RawNode {
            id: node_ids[i],
            mode,
            feature: features[i] as usize,
            threshold: ctx.prec(thresholds.get(i).copied().unwrap_or(0.0)),
            missing_true: missing.get(i).copied().unwrap_or(0) != 0,
            t: trues[i],
            f: falses[i],
            values,
        });
    }
    if let Some(((t, nd), _)) = leaf_vals.iter().next() {
        return Err(ctx.err(format!(
            "{p} weight on tree {t} node {nd}, which is not a leaf"
        )));
    }
    by_tree.sort_by_key(|(id, _)| *id);
    let mut budget = Budget::new(MAX_UNFOLDED_NODES);
    let trees = by_tree
        .into_iter()
        .map(|(id, raw)| build_tree(ctx, id, raw, &mut budget))
        .collect::<Result<Vec<_>, _>>()?;
    if trees.is_empty() {
        return Err(ctx.err("the ensemble has no trees"));
    }
    let mut notes = notes;
    notes.extend(budget.note());
    Ok(Forest {
        op_type: if classifier {
            "TreeEnsembleClassifier"
        } else {
            "TreeEnsembleRegressor"
        }
        .to_string(),
        input_name: String::new(),
        n_features: 0,
        n_outputs,
        output_names,
        bias: bias.into_iter().map(|b| ctx.prec(b)).collect(),
        post_transform,
        n_scores,
        classifier: classifier_layout,
        float_input: ctx.float_input,
        activation: Activation::None,
        trees,
        notes,
    })
}

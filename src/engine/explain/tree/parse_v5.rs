//! ai.onnx.ml opset 5 `TreeEnsemble`: splits and leaves in separate arrays, roots listed,
//! modes and values as tensors, no base values.

use std::collections::BTreeSet;

use super::output::PostTransform;
use super::parse::{check_len, target_names, Attrs, Ctx};
use super::tail::Activation;
use super::unfold::{build_tree, Budget, RawNode, MAX_UNFOLDED_NODES};
use super::{Forest, NodeMode, TreeError};

/// ai.onnx.ml opset 5 `TreeEnsemble`: nodes and leaves in separate arrays, roots listed.
pub(super) fn opset5(ctx: &Ctx, a: &Attrs) -> Result<Forest, TreeError> {
    let roots = a.ints("tree_roots");
    let features = a.ints("nodes_featureids");
    let n = features.len();
    let splits = a.tensor_or_floats("nodes_splits");
    let modes = a.tensor_or_floats("nodes_modes");
    let trues = a.ints("nodes_truenodeids");
    let true_leaf = a.ints("nodes_trueleafs");
    let falses = a.ints("nodes_falsenodeids");
    let false_leaf = a.ints("nodes_falseleafs");
    let missing = a.ints("nodes_missing_value_tracks_true");
    let leaf_target = a.ints("leaf_targetids");
    let leaf_w = a.tensor_or_floats("leaf_weights");
    for (name, len) in [
        ("nodes_splits", splits.len()),
        ("nodes_modes", modes.len()),
        ("nodes_truenodeids", trues.len()),
        ("nodes_trueleafs", true_leaf.len()),
        ("nodes_falsenodeids", falses.len()),
        ("nodes_falseleafs", false_leaf.len()),
    ] {
        check_len(ctx, name, len, n)?;
    }
    check_len(ctx, "leaf_weights", leaf_w.len(), leaf_target.len())?;
    let nt = a.int("n_targets").unwrap_or(1).max(1) as usize;
    let post_transform = PostTransform::from_code(a.int("post_transform").unwrap_or(0))
        .ok_or_else(|| ctx.err("unknown post_transform code"))?;
    let scale = match a.int("aggregate_function").unwrap_or(1) {
        1 => 1.0,
        0 => 1.0 / roots.len().max(1) as f64,
        other => {
            return Err(TreeError::NotATree(format!(
                "aggregate_function {} is not additive over trees",
                if other == 2 { "MIN" } else { "MAX" }
            )))
        }
    };
    // Leaves get ids n.. so split and leaf ids do not collide.
    let leaf_node = |li: i64| -> Result<RawNode, TreeError> {
        let l = usize::try_from(li).ok().filter(|&l| l < leaf_target.len());
        let l = l.ok_or_else(|| ctx.err(format!("leaf index {li} out of range")))?;
        let t = usize::try_from(leaf_target[l]).ok().filter(|&t| t < nt);
        let t = t.ok_or_else(|| ctx.err(format!("leaf target {} out of range", leaf_target[l])))?;
        let mut values = vec![0.0; nt];
        values[t] = ctx.prec(leaf_w[l]) * scale;
        Ok(RawNode {
            id: n as i64 + li,
            mode: NodeMode::Leaf,
            feature: 0,
            threshold: 0.0,
            missing_true: false,
            t: 0,
            f: 0,
            values,
        })
    };
    let mut trees = Vec::with_capacity(roots.len());
    let mut budget = Budget::new(MAX_UNFOLDED_NODES);
    for (ti, &root) in roots.iter().enumerate() {
        // Collect the nodes reachable from this root.
        let mut raw = Vec::new();
        let mut stack = vec![root];
        let mut seen = BTreeSet::new();
        while let Some(i) = stack.pop() {
            // A node shared by two parents (a DAG) is read once; build_tree unfolds it.
            if !seen.insert(i) {
                continue;
            }
            let u = usize::try_from(i).ok().filter(|&u| u < n);
            let u = u.ok_or_else(|| ctx.err(format!("node index {i} out of range")))?;
            let mode = match modes[u] as i64 {
                0 => NodeMode::BranchLeq,
                1 => NodeMode::BranchLt,
                2 => NodeMode::BranchGte,
                3 => NodeMode::BranchGt,
                4 => NodeMode::BranchEq,
                5 => NodeMode::BranchNeq,
                _ => {
                    return Err(TreeError::NotATree(
                        "BRANCH_MEMBER (set membership) splits are not supported".to_string(),
                    ))
                }
            };
            let child = |id: i64, leaf: i64, raw: &mut Vec<RawNode>, stack: &mut Vec<i64>| {
                if leaf != 0 {
                    // A one-leaf tree points both sides at the same leaf.
                    if !raw.iter().any(|r| r.id == n as i64 + id) {
                        raw.push(leaf_node(id)?);
                    }
                    Ok::<i64, TreeError>(n as i64 + id)
                } else {
                    stack.push(id);
                    Ok(id)
                }
            };
            let t = child(trues[u], true_leaf[u], &mut raw, &mut stack)?;
            let f = child(falses[u], false_leaf[u], &mut raw, &mut stack)?;
            raw.push(RawNode {
                id: i,
                mode,
                feature: usize::try_from(features[u])
                    .map_err(|_| ctx.err("negative feature id"))?,
                threshold: ctx.prec(splits[u]),
                missing_true: missing.get(u).copied().unwrap_or(0) != 0,
                t,
                f,
                values: Vec::new(),
            });
        }
        trees.push(build_tree(ctx, ti as i64, raw, &mut budget)?);
    }
    if trees.is_empty() {
        return Err(ctx.err("the ensemble has no trees"));
    }
    Ok(Forest {
        op_type: "TreeEnsemble".to_string(),
        input_name: String::new(),
        n_features: 0,
        n_outputs: nt,
        output_names: target_names(nt),
        bias: vec![0.0; nt],
        post_transform,
        n_scores: nt,
        classifier: None,
        float_input: ctx.float_input,
        activation: Activation::None,
        trees,
        notes: budget.note().into_iter().collect(),
    })
}

//! One tree's ONNX nodes → a [`Tree`] ordered from its root. A node reached from two parents
//! (onnxmltools writes a LightGBM categorical split `x ∈ {a, b, c}` as a chain of BRANCH_EQ
//! tests whose true branches all point at the same subtree, so the "tree" is a DAG) is copied
//! once per path: the unfolded tree computes the same function as the DAG ONNX Runtime walks,
//! so every tree algorithm stays exact on it. The copies are capped ([`Budget`]).

use std::collections::HashMap;

use super::parse::Ctx;
use super::{Node, NodeMode, Tree, TreeError};

/// Most nodes a whole forest may have once its shared nodes are unfolded (~100 MB).
pub(super) const MAX_UNFOLDED_NODES: usize = 1 << 20;

/// Node budget for unfolding a forest, and what unfolding did (for a note).
pub(super) struct Budget {
    pub(super) left: usize,
    /// Trees that had shared nodes.
    pub(super) shared_trees: usize,
    /// Nodes in the ONNX file vs. after unfolding, over those trees.
    pub(super) stored: usize,
    pub(super) unfolded: usize,
}

impl Budget {
    pub(super) fn new(max: usize) -> Self {
        Budget {
            left: max,
            shared_trees: 0,
            stored: 0,
            unfolded: 0,
        }
    }

    /// The note a forest gets when some tree was unfolded.
    pub(super) fn note(&self) -> Option<String> {
        (self.shared_trees > 0).then(|| {
            format!(
                "{} trees share nodes between branches (categorical splits written as chains of \
                 equality tests): their {} stored nodes were unfolded into {} tree nodes, \
                 which compute the same predictions",
                self.shared_trees, self.stored, self.unfolded
            )
        })
    }
}

/// A node before the tree is ordered: children are ONNX node ids.
pub(super) struct RawNode {
    pub(super) id: i64,
    pub(super) mode: NodeMode,
    pub(super) feature: usize,
    pub(super) threshold: f64,
    pub(super) missing_true: bool,
    pub(super) t: i64,
    pub(super) f: i64,
    pub(super) values: Vec<f64>,
}

/// Orders one tree's nodes from its root (index 0), depth-first, unfolding shared nodes,
/// and computes its depth. A cycle is a broken file; more nodes than `budget` allows is
/// [`TreeError::NotATree`] (a model-agnostic method can still explain the model).
pub(super) fn build_tree(
    ctx: &Ctx,
    tree_id: i64,
    raw: Vec<RawNode>,
    budget: &mut Budget,
) -> Result<Tree, TreeError> {
    let index: HashMap<i64, usize> = raw.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    if index.len() != raw.len() {
        return Err(ctx.err(format!("tree {tree_id} repeats a node id")));
    }
    // Children by raw index; parents per node (for the root and the cycle check).
    let mut kids: Vec<[usize; 2]> = Vec::with_capacity(raw.len());
    let mut parents = vec![0usize; raw.len()];
    for n in &raw {
        if n.mode == NodeMode::Leaf {
            kids.push([usize::MAX; 2]);
            continue;
        }
        let mut k = [0; 2];
        for (slot, c) in k.iter_mut().zip([n.t, n.f]) {
            let &ci = index.get(&c).ok_or_else(|| {
                ctx.err(format!(
                    "tree {tree_id}: node {} points at missing node {c}",
                    n.id
                ))
            })?;
            parents[ci] += 1;
            *slot = ci;
        }
        kids.push(k);
    }
    let roots: Vec<usize> = (0..raw.len()).filter(|&i| parents[i] == 0).collect();
    let &[root] = roots.as_slice() else {
        return Err(ctx.err(format!("tree {tree_id} has {} roots", roots.len())));
    };
    // Kahn's order: nodes left over lie on a cycle.
    let mut ready = vec![root];
    let mut ordered = 0;
    while let Some(i) = ready.pop() {
        ordered += 1;
        for &c in kids[i].iter().filter(|&&c| c != usize::MAX) {
            parents[c] -= 1;
            if parents[c] == 0 {
                ready.push(c);
            }
        }
    }
    if ordered != raw.len() {
        return Err(ctx.err(format!("tree {tree_id} has a cycle")));
    }
    let mut reached = vec![false; raw.len()];
    let mut shared = false;
    let mut nodes: Vec<Node> = Vec::with_capacity(raw.len());
    let mut depth = 0;
    // (raw index, depth, parent slot to patch: (new index, is_true))
    let mut stack = vec![(root, 0usize, None::<(usize, bool)>)];
    while let Some((ri, d, parent)) = stack.pop() {
        if nodes.len() >= budget.left {
            return Err(TreeError::NotATree(format!(
                "tree {tree_id} shares nodes between branches, and unfolding the ensemble into \
                 trees would take more than {MAX_UNFOLDED_NODES} nodes"
            )));
        }
        shared |= std::mem::replace(&mut reached[ri], true);
        let me = nodes.len();
        if let Some((p, is_true)) = parent {
            if is_true {
                nodes[p].true_child = me;
            } else {
                nodes[p].false_child = me;
            }
        }
        let r = &raw[ri];
        depth = depth.max(d);
        nodes.push(Node {
            onnx_id: r.id,
            mode: r.mode,
            feature: if r.mode == NodeMode::Leaf {
                0
            } else {
                r.feature
            },
            threshold: r.threshold,
            missing_goes_true: r.missing_true,
            true_child: 0,
            false_child: 0,
            cover: None,
            values: r.values.clone(),
        });
        if r.mode != NodeMode::Leaf {
            let [t, f] = kids[ri];
            stack.push((f, d + 1, Some((me, false))));
            stack.push((t, d + 1, Some((me, true))));
        }
    }
    budget.left -= nodes.len();
    if shared {
        budget.shared_trees += 1;
        budget.stored += raw.len();
        budget.unfolded += nodes.len();
    }
    Ok(Tree {
        onnx_id: tree_id,
        nodes,
        depth,
    })
}

//! Native tree ensembles read from ONNX (`ai.onnx.ml` TreeEnsembleClassifier /
//! TreeEnsembleRegressor, and `TreeEnsemble` of ai.onnx.ml opset 5) and exact TreeSHAP on them.
//!
//! - [`Forest::from_model`] parses the graph into a [`Forest`]; a graph with preprocessing in
//!   front of the trees is [`TreeError::NotATree`] (callers fall back to model-agnostic methods).
//!   Trees whose nodes are shared between branches (a DAG, as onnxmltools writes LightGBM
//!   categorical splits) are unfolded into trees; constant affine ops after the ensemble are
//!   folded into its leaves and bias, a final Sigmoid / Softmax kept as [`Activation`].
//! - [`Forest::predict_raw`] is the margin per score column (log-odds for a binary GBM), and
//!   [`Forest::predict_output`] the scores ONNX Runtime returns (after `post_transform`).
//! - [`interventional`] and [`path_dependent`] compute SHAP values in raw-margin space.
//! - [`Forest::decision_path`] and the serialisable [`Tree`]s feed a tree viewer.

mod attrs;
mod output;
mod parse;
mod parse_v5;
mod path_dependent;
mod shap;
mod tail;
mod transformed;
mod unfold;

use serde::Serialize;

use crate::engine::error::{EngineError, Result};
use crate::engine::model::Model;

pub use output::PostTransform;
pub use path_dependent::path_dependent;
pub use shap::{interventional, TreeShap};
pub use tail::Activation;
pub use transformed::interventional_transformed;

/// Why a model could not be read as a tree ensemble.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    /// The graph is not a plain tree ensemble (other preprocessing ops, no tree op, an
    /// unsupported aggregate…): use a model-agnostic method instead.
    #[error("not a plain tree ensemble: {0}")]
    NotATree(String),
    /// The file is broken (unreadable, inconsistent tree attributes).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<TreeError> for EngineError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::NotATree(_) => EngineError::usage(e.to_string()),
            TreeError::Engine(e) => e,
        }
    }
}

/// A split's comparison; the row goes to the "true" child when `x MODE threshold` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NodeMode {
    BranchLeq,
    BranchLt,
    BranchGte,
    BranchGt,
    BranchEq,
    BranchNeq,
    Leaf,
}

impl NodeMode {
    /// The ONNX spelling (`BRANCH_LEQ`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeMode::BranchLeq => "BRANCH_LEQ",
            NodeMode::BranchLt => "BRANCH_LT",
            NodeMode::BranchGte => "BRANCH_GTE",
            NodeMode::BranchGt => "BRANCH_GT",
            NodeMode::BranchEq => "BRANCH_EQ",
            NodeMode::BranchNeq => "BRANCH_NEQ",
            NodeMode::Leaf => "LEAF",
        }
    }

    /// The comparison as a symbol for a viewer (`<=`, `<`, …); empty for a leaf.
    pub fn symbol(self) -> &'static str {
        match self {
            NodeMode::BranchLeq => "<=",
            NodeMode::BranchLt => "<",
            NodeMode::BranchGte => ">=",
            NodeMode::BranchGt => ">",
            NodeMode::BranchEq => "==",
            NodeMode::BranchNeq => "!=",
            NodeMode::Leaf => "",
        }
    }
}

/// One node of a tree. Children are indices into [`Tree::nodes`] (the root is index 0).
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// The node id in the ONNX attributes.
    pub onnx_id: i64,
    pub mode: NodeMode,
    /// Feature (column of the model input) tested; 0 for a leaf.
    pub feature: usize,
    /// Split threshold, exactly as stored (a float32 value widened when the model is float).
    pub threshold: f64,
    /// A missing value (NaN) goes to the true child (`nodes_missing_value_tracks_true`);
    /// otherwise it follows the comparison, which is false for NaN except BRANCH_NEQ.
    pub missing_goes_true: bool,
    /// Child taken when the comparison holds (index into `nodes`); 0 for a leaf.
    pub true_child: usize,
    /// Child taken otherwise; 0 for a leaf.
    pub false_child: usize,
    /// Rows routed through this node by [`Forest::with_covers`] (ONNX stores no covers).
    pub cover: Option<f64>,
    /// Leaf value per raw output (empty for a split).
    pub values: Vec<f64>,
}

impl Node {
    pub fn is_leaf(&self) -> bool {
        self.mode == NodeMode::Leaf
    }

    /// Whether value `x` (already rounded to the model's threshold precision) goes to the
    /// true child. Same rule as ONNX Runtime: `x MODE t || (missing_goes_true && isnan(x))`.
    #[inline]
    pub fn goes_true(&self, x: f64) -> bool {
        let t = self.threshold;
        let cmp = match self.mode {
            NodeMode::BranchLeq => x <= t,
            NodeMode::BranchLt => x < t,
            NodeMode::BranchGte => x >= t,
            NodeMode::BranchGt => x > t,
            NodeMode::BranchEq => x == t,
            NodeMode::BranchNeq => x != t,
            NodeMode::Leaf => false,
        };
        cmp || (self.missing_goes_true && x.is_nan())
    }

    /// The child `x` goes to.
    #[inline]
    pub fn next(&self, x: f64) -> usize {
        if self.goes_true(x) {
            self.true_child
        } else {
            self.false_child
        }
    }
}

/// One tree; `nodes[0]` is the root.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    /// The tree id in the ONNX attributes.
    pub onnx_id: i64,
    pub nodes: Vec<Node>,
    /// Longest root-to-leaf path, in splits.
    pub depth: usize,
}

/// How ONNX Runtime turns the per-class sums into its score output (classifiers).
#[derive(Debug, Clone, Serialize)]
pub struct ClassifierLayout {
    /// Class labels (`classlabels_int64s` or `classlabels_strings`), as text.
    pub labels: Vec<String>,
    /// Class index of each raw output.
    pub output_class: Vec<usize>,
    /// Every class weight is ≥ 0 (ONNX Runtime's binary convention depends on it).
    pub weights_all_positive: bool,
}

/// A tree ensemble in memory: everything needed to predict, explain and draw it.
#[derive(Debug, Clone, Serialize)]
pub struct Forest {
    /// `TreeEnsembleClassifier`, `TreeEnsembleRegressor` or `TreeEnsemble`.
    pub op_type: String,
    /// The graph input the trees read.
    pub input_name: String,
    pub n_features: usize,
    /// Raw score columns (1 for a binary classifier with one score column or a regressor).
    pub n_outputs: usize,
    /// Name of each raw output (class label or `target k`).
    pub output_names: Vec<String>,
    /// Constant added to each raw output (`base_values`).
    pub bias: Vec<f64>,
    pub post_transform: PostTransform,
    /// Columns of ONNX Runtime's score output.
    pub n_scores: usize,
    /// Set for classifiers.
    pub classifier: Option<ClassifierLayout>,
    /// Inputs are float32: values are rounded to f32 before comparing with the (float32)
    /// thresholds, as ONNX Runtime does.
    pub float_input: bool,
    /// A Sigmoid / Softmax op after the trees (constant affine ops before it are already
    /// folded into the leaf values and `bias`); applied by [`Forest::predict_output`].
    pub activation: Activation,
    pub trees: Vec<Tree>,
    /// Facts a reader should know (where covers come from, conventions applied).
    pub notes: Vec<String>,
}

impl Forest {
    /// Reads the tree ensemble of `model` from the bytes it was loaded (and hashed) from, so
    /// the forest is always the model ONNX Runtime runs, even if the file changed since.
    pub fn from_model(model: &Model) -> Result<Forest, TreeError> {
        Self::from_bytes(model.path(), model.bytes())
    }

    /// Reads the tree ensemble of an ONNX file's bytes (`path` only names it in errors).
    pub fn from_bytes(path: &std::path::Path, bytes: &[u8]) -> Result<Forest, TreeError> {
        parse::forest_from_bytes(path, bytes)
    }

    /// Largest depth over the trees.
    pub fn max_depth(&self) -> usize {
        self.trees.iter().map(|t| t.depth).max().unwrap_or(0)
    }

    /// Whether every node has a cover (after [`Forest::with_covers`]).
    pub fn has_covers(&self) -> bool {
        self.trees
            .iter()
            .all(|t| t.nodes.iter().all(|n| n.cover.is_some()))
    }

    /// A value as the trees compare it (rounded to f32 for a float model).
    #[inline]
    pub fn prepare_value(&self, x: f64) -> f64 {
        if self.float_input {
            x as f32 as f64
        } else {
            x
        }
    }

    fn prepared(&self, row: &[f64]) -> Vec<f64> {
        row.iter().map(|&x| self.prepare_value(x)).collect()
    }

    fn check_row(&self, row: &[f64]) -> Result<()> {
        if row.len() != self.n_features {
            return Err(EngineError::usage(format!(
                "a row has {} values but the trees read {} features",
                row.len(),
                self.n_features
            )));
        }
        Ok(())
    }

    /// Index of the leaf a (prepared) row reaches in `tree`.
    #[inline]
    pub(crate) fn leaf_of(tree: &Tree, row: &[f64]) -> usize {
        let mut i = 0;
        loop {
            let n = &tree.nodes[i];
            if n.is_leaf() {
                return i;
            }
            i = n.next(row[n.feature]);
        }
    }

    /// Node indices (into `trees[tree].nodes`) from the root to the leaf `row` reaches.
    pub fn decision_path(&self, tree: usize, row: &[f64]) -> Result<Vec<usize>> {
        self.check_row(row)?;
        let t = self.trees.get(tree).ok_or_else(|| {
            EngineError::usage(format!(
                "tree {tree} does not exist (the ensemble has {} trees)",
                self.trees.len()
            ))
        })?;
        let row = self.prepared(row);
        let mut path = vec![0];
        let mut i = 0;
        while !t.nodes[i].is_leaf() {
            let n = &t.nodes[i];
            i = n.next(row[n.feature]);
            path.push(i);
        }
        Ok(path)
    }

    /// Raw margin per output: `bias + Σ_trees leaf value` (log-odds for a binary GBM).
    pub fn predict_raw(&self, row: &[f64]) -> Result<Vec<f64>> {
        self.check_row(row)?;
        let row = self.prepared(row);
        Ok(self.raw_prepared(&row))
    }

    pub(crate) fn raw_prepared(&self, row: &[f64]) -> Vec<f64> {
        let mut out = self.bias.clone();
        for t in &self.trees {
            let leaf = &t.nodes[Self::leaf_of(t, row)];
            for (o, v) in out.iter_mut().zip(&leaf.values) {
                *o += v;
            }
        }
        out
    }

    /// The scores ONNX Runtime returns for this row (after `post_transform` and its binary
    /// conventions, then the graph's [`Activation`]); `n_scores` values.
    pub fn predict_output(&self, row: &[f64]) -> Result<Vec<f64>> {
        let raw = self.predict_raw(row)?;
        Ok(output::finalize(self, &raw))
    }

    /// The scores ONNX Runtime returns for raw margins `raw` (`n_outputs` values).
    pub fn finalize(&self, raw: &[f64]) -> Vec<f64> {
        output::finalize(self, raw)
    }

    /// Whether the scores are an affine function of the raw margins of the same outputs, so
    /// that raw-space SHAP values already explain them: no post-transform or activation
    /// (a binary classifier with one column and mixed-sign weights is not: ONNX Runtime
    /// picks the sign by the winning class).
    pub fn scores_are_affine(&self) -> bool {
        if self.activation != Activation::None {
            return false;
        }
        match &self.classifier {
            None => {
                self.post_transform == PostTransform::None
                    || (self.n_outputs == 1 && self.post_transform != PostTransform::Probit)
            }
            Some(l) => {
                self.post_transform == PostTransform::None
                    && (self.n_outputs > 1 || l.weights_all_positive)
            }
        }
    }

    /// Whether each score depends on one raw margin only (no softmax across outputs).
    pub fn scores_are_elementwise(&self) -> bool {
        self.n_outputs == 1
            || (!matches!(
                self.post_transform,
                PostTransform::Softmax | PostTransform::SoftmaxZero
            ) && self.activation != Activation::Softmax)
    }

    /// Sets every node's cover to the number of rows of `data` (row-major, `n_features`
    /// columns) routed through it, for path-dependent TreeSHAP and the viewer.
    pub fn with_covers(mut self, data: &[f64]) -> Result<Forest> {
        if self.n_features == 0 || data.len() % self.n_features != 0 {
            return Err(EngineError::usage(format!(
                "cover data has {} values, not a multiple of {} features",
                data.len(),
                self.n_features
            )));
        }
        let n_rows = data.len() / self.n_features;
        if n_rows == 0 {
            return Err(EngineError::usage(
                "cover data has no rows: path-dependent TreeSHAP needs a dataset to route",
            ));
        }
        let rows: Vec<Vec<f64>> = data
            .chunks_exact(self.n_features)
            .map(|r| self.prepared(r))
            .collect();
        for t in &mut self.trees {
            let mut counts = vec![0.0; t.nodes.len()];
            for row in &rows {
                let mut i = 0;
                loop {
                    counts[i] += 1.0;
                    let n = &t.nodes[i];
                    if n.is_leaf() {
                        break;
                    }
                    i = n.next(row[n.feature]);
                }
            }
            for (n, c) in t.nodes.iter_mut().zip(counts) {
                n.cover = Some(c);
            }
        }
        self.notes.retain(|n| !n.starts_with("covers:"));
        self.notes.push(format!(
            "covers: ONNX stores no node covers; they were recomputed by routing {n_rows} rows \
             of the given dataset through the trees"
        ));
        Ok(self)
    }
}

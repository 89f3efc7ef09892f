//! Explanations (issue #5). This file is owned by the model-agnostic half; the tree half only
//! needs its `tree` module declared here.

pub mod tree;

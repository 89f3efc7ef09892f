//! One file per page; each draws from `State` and engine results and never computes.

pub mod compare;
pub mod compare_gate;
pub mod compare_perf;
pub mod data;
pub mod drift;
pub mod evaluate;
pub mod explain;
pub mod explain_pdp;
pub mod explain_tree;
pub mod fairness;
pub mod monitor;
pub mod notes;
pub mod overview;
pub mod package;
pub mod slot;

//! One file per page; each draws from `State` and engine results and never computes.

pub mod data;
pub mod drift;
pub mod evaluate;
pub mod fairness;
pub mod overview;
pub mod package;
pub mod roadmap;

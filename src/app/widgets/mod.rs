//! Reusable drawing pieces: theme, metric cards, plots, explanation plots, the tree viewer.

pub mod cards;
pub mod charts;
pub mod contrast;
pub mod format;
pub mod heat;
pub mod plots;
pub mod shap;
pub mod shap_plots;
pub mod theme;
pub mod tree;
pub mod warning;

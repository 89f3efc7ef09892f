//! Reusable drawing pieces: theme, metric cards, plots.

pub mod cards;
pub mod charts;
pub mod plots;
pub mod theme;

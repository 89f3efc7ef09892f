//! One file per page. Each page is a struct owning its selections and form state, drawn by
//! `ui(&mut self, ui, ctx, tx)` from a read-only [`PageCtx`] (the workspace, loaded files,
//! cache, theme) and engine results; it never computes, and every change it wants outside
//! itself is a [`Command`](crate::app::command::Command) sent to the shell.

pub mod compare;
pub mod compare_gate;
pub mod compare_groups;
pub mod compare_perf;
pub mod compare_shift;
pub mod data;
pub mod drift;
pub mod drift_quality;
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

use eframe::egui;

use crate::app::command::{CommandSender, PageCtx};
use crate::app::state::{Page, State};

/// Every page's struct, owned by the app.
pub struct Pages {
    pub overview: overview::OverviewPage,
    pub data: data::DataPage,
    pub evaluate: evaluate::EvaluatePage,
    pub fairness: fairness::FairnessPage,
    pub explain: explain::ExplainPage,
    pub drift: drift::DriftPage,
    pub compare: compare::ComparePage,
    pub package: package::PackagePage,
    pub monitor: monitor::MonitorPage,
    /// The reviewer-note dialog (any page opens it; the shell draws it over the page).
    pub notes: notes::NotesDialog,
}

impl Pages {
    /// Fresh pages for a workspace (the Evaluate slider starts at its threshold).
    pub fn new(state: &State) -> Self {
        Self {
            overview: Default::default(),
            data: Default::default(),
            evaluate: evaluate::EvaluatePage::new(state.workspace.settings.threshold),
            fairness: Default::default(),
            explain: Default::default(),
            drift: Default::default(),
            compare: Default::default(),
            package: Default::default(),
            monitor: Default::default(),
            notes: Default::default(),
        }
    }

    /// Draws `page`.
    pub fn ui(&mut self, page: Page, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        match page {
            Page::Overview => self.overview.ui(ui, ctx, tx),
            Page::Data => self.data.ui(ui, ctx, tx),
            Page::Evaluate => self.evaluate.ui(ui, ctx, tx),
            Page::Fairness => self.fairness.ui(ui, ctx, tx),
            Page::Explain => self.explain.ui(ui, ctx, tx),
            Page::Drift => self.drift.ui(ui, ctx, tx),
            Page::Compare => self.compare.ui(ui, ctx, tx),
            Page::Package => self.package.ui(ui, ctx, tx),
            Page::Monitor => self.monitor.ui(ui, ctx, tx),
        }
    }
}

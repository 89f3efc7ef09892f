//! The one place where what pages asked for happens: [`frame_page`] draws the current page
//! and [`apply`] carries out its commands, once per frame, after the page has drawn.
//! Cross-page effects (a weak slice shown on Evaluate, a chunk's rows on Data, a chunk's
//! drift on Drift) are addressed here to the target page's struct.

use std::path::{Path, PathBuf};

use eframe::egui;
use serde_json::json;

use crate::engine::package::audit::now_rfc3339;
use crate::engine::workspace::Workspace;

use super::command::{Command, CommandSender, PageCtx};
use super::commands;
use super::jobs::JobKey;
use super::panels::Pages;
use super::state::{Page, State};

/// Draws the current page from the read-only state and applies what it asked for; returns
/// whether anything was applied (the caller repaints so the change shows).
pub fn frame_page(ui: &mut egui::Ui, state: &mut State, pages: &mut Pages) -> bool {
    let tx = CommandSender::default();
    pages.ui(state.page, ui, &PageCtx::new(state), &tx);
    let commands = tx.take();
    let any = !commands.is_empty();
    apply(state, pages, commands);
    if any {
        ui.ctx().request_repaint();
    }
    any
}

/// Carries out `commands` in order.
pub fn apply(state: &mut State, pages: &mut Pages, commands: Vec<Command>) {
    for c in commands {
        apply_one(state, pages, c);
    }
}

fn apply_one(state: &mut State, pages: &mut Pages, command: Command) {
    match command {
        Command::Goto(page) => state.page = page,
        Command::SelectModel(i) => state.select_model(i),
        Command::OpenRow { dataset, row } => {
            pages.data.open_row(dataset, row);
            state.page = Page::Data;
        }
        Command::ShowSlice(slice) => pages.evaluate.slice = slice,
        Command::ShowDriftRows { rows } => {
            pages.drift.rows = Some(rows);
            state.page = Page::Drift;
        }
        Command::ShowCompare(view) => {
            pages.compare.view = view;
            state.page = Page::Compare;
        }
        Command::Request(r) => commands::run(state, Some(*r)),
        Command::Retry(key) => state.cache.retry(&key),
        Command::Forget(key) => state.cache.remove(&key),
        Command::RetryFile(path) => commands::retry_file(state, &path),
        Command::Distribution { path, column } => {
            commands::request_distribution(state, &path, &column)
        }
        Command::ReadPage { path, page } => commands::request_page(state, &path, page),
        Command::Edit(edit) => match edit(&mut state.workspace) {
            Ok(()) => state.dirty = true,
            Err(e) => state.error(e),
        },
        Command::AddNote {
            finding,
            text,
            author,
        } => match state
            .workspace
            .add_note(finding, &text, &author, &now_rfc3339())
        {
            Ok(n) => {
                let details =
                    json!({ "id": n.id, "finding": n.finding, "author": n.author, "text": n.text });
                state.dirty = true;
                state.audit("note_added", details);
            }
            Err(e) => state.error(e.to_string()),
        },
        Command::RemoveNote(id) => {
            if state.workspace.remove_note(&id) {
                state.dirty = true;
                state.audit("note_removed", json!({ "id": id }));
            }
        }
        Command::OpenNote(findings) => pages.notes.open(findings),
        Command::SignOff(record) => {
            state.audit("signoff", serde_json::to_value(&record).unwrap_or_default());
            state.workspace.signoffs.push(*record);
            state.dirty = true;
        }
        Command::SetCard(card) => {
            if state.package.card.is_some() {
                // An edit of a drafted card is a change worth saving.
                state.dirty = true;
            }
            state.package.card = Some(*card);
        }
        Command::Audit { action, details } => state.audit(&action, details),
        Command::Spawn { key, title, work } => {
            match key {
                JobKey::Seal => state.package.sealed = None,
                JobKey::Verify => state.package.verified = None,
                _ => {}
            }
            state.jobs.spawn(key, title, work);
        }
        Command::ExportReport(path) => super::report_job::request_report(state, path),
        Command::Error(text) => state.error(text),
        Command::DismissError(id) => state.dismiss_error(id),
        Command::DismissAllErrors => state.errors.clear(),
        Command::Message(m) => state.message = Some(m),
    }
}

/// Opens models, datasets or a workspace; the Data page shows the last dataset opened.
pub fn open(state: &mut State, pages: &mut Pages, paths: &[PathBuf]) {
    commands::open_paths(state, paths);
    if paths
        .iter()
        .any(|p| p.to_string_lossy().ends_with(".assay.json"))
    {
        *pages = Pages::new(state);
        return;
    }
    if let Some(i) = paths.iter().rev().find_map(|p| dataset_index(state, p)) {
        pages.data.dataset_index = i;
        pages.data.selected_column = None;
    }
}

fn dataset_index(state: &State, path: &Path) -> Option<usize> {
    state.workspace.datasets.iter().position(|d| d.path == path)
}

/// Replaces the workspace; every page starts afresh.
pub fn set_workspace(state: &mut State, pages: &mut Pages, ws: Workspace, path: Option<PathBuf>) {
    commands::set_workspace(state, ws, path);
    *pages = Pages::new(state);
}

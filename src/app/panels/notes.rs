//! Reviewer notes: any page can offer its findings (a metric, a group, a drift column, a
//! feature, a comparison) to pin a note to; notes are saved in the workspace, shown on the
//! page next to its findings, listed in the report and sealed into the package.

use eframe::egui::{self, RichText};

use crate::app::command::{Command, CommandSender};
use crate::app::state::State;
use crate::app::widgets::theme::Palette;
use crate::engine::report::notes::Finding;

/// The note being written (the dialog is open while this is `Some`).
#[derive(Debug, Clone)]
pub struct NoteDraft {
    pub choices: Vec<Finding>,
    pub finding: usize,
    pub text: String,
}

/// The note dialog's state: the draft, and the author last used (kept for the next note).
#[derive(Debug, Clone, Default)]
pub struct NotesDialog {
    pub draft: Option<NoteDraft>,
    pub author: String,
}

impl NotesDialog {
    /// Opens the dialog on `findings` (and the whole review).
    pub fn open(&mut self, findings: Vec<Finding>) {
        let mut choices = findings;
        choices.push(Finding::General);
        self.draft = Some(NoteDraft {
            choices,
            finding: 0,
            text: String::new(),
        });
    }
}

/// A "Pin a note" button offering `findings`, and the notes already pinned to them.
pub fn notes_bar(ui: &mut egui::Ui, state: &State, tx: &CommandSender, findings: Vec<Finding>) {
    let pinned: Vec<_> = state
        .workspace
        .notes
        .iter()
        .filter(|n| findings.contains(&n.finding))
        .cloned()
        .collect();
    notes_list(ui, tx, findings, pinned);
}

/// Every note of the workspace (the Overview), with a button for a note on the whole review.
pub fn all_notes_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender) {
    let all = state.workspace.notes.clone();
    notes_list(ui, tx, Vec::new(), all);
}

fn notes_list(
    ui: &mut egui::Ui,
    tx: &CommandSender,
    findings: Vec<Finding>,
    pinned: Vec<crate::engine::report::notes::ReviewNote>,
) {
    let pal = Palette::of(ui);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Pin a note")
            .on_hover_text("Write a reviewer note on one of this page's findings; it is saved in the workspace, shown in the report and sealed into the package")
            .clicked()
        {
            tx.send(Command::OpenNote(findings.clone()));
        }
        if !pinned.is_empty() {
            ui.label(RichText::new(format!("{} note{} here", pinned.len(), if pinned.len() == 1 { "" } else { "s" })).color(pal.muted));
        }
    });
    let mut remove = None;
    for n in &pinned {
        egui::Frame::new()
            .fill(pal.warn.gamma_multiply(0.12))
            .corner_radius(4.0)
            .inner_margin(egui::Margin::symmetric(8, 4))
            .show(ui, |ui| {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(&n.text).strong());
                    ui.label(
                        RichText::new(format!("{} · on {} · {}", n.author, n.finding, n.created))
                            .small()
                            .color(pal.muted),
                    );
                    if ui.small_button("Remove").clicked() {
                        remove = Some(n.id.clone());
                    }
                });
            });
    }
    if let Some(id) = remove {
        tx.send(Command::RemoveNote(id));
    }
}

/// The note dialog, drawn once per frame over the page while a draft is open.
pub fn note_dialog(ctx: &egui::Context, dialog: &mut NotesDialog, tx: &CommandSender) {
    let Some(mut draft) = dialog.draft.take() else {
        return;
    };
    let mut open = true;
    let mut pin = false;
    egui::Window::new("Pin a reviewer note")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .open(&mut open)
        .show(ctx, |ui| {
            ui.set_width(440.0);
            ui.horizontal(|ui| {
                let l0 = ui.label("On");
                let current = draft
                    .choices
                    .get(draft.finding)
                    .map(|f| f.to_string())
                    .unwrap_or_default();
                egui::ComboBox::from_id_salt("note_finding")
                    .width(340.0)
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        for (i, f) in draft.choices.iter().enumerate() {
                            ui.selectable_value(&mut draft.finding, i, f.to_string());
                        }
                    })
                    .response
                    .labelled_by(l0.id);
            });
            ui.horizontal(|ui| {
                let l = ui.label("Author");
                ui.text_edit_singleline(&mut dialog.author)
                    .labelled_by(l.id);
            });
            let l = ui.label("Note");
            ui.add(
                egui::TextEdit::multiline(&mut draft.text)
                    .desired_rows(4)
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(l.id);
            ui.horizontal(|ui| {
                let ready = !draft.text.trim().is_empty() && !dialog.author.trim().is_empty();
                pin = ui
                    .add_enabled(ready, egui::Button::new("Pin note"))
                    .clicked();
                if !ready {
                    ui.label(RichText::new("a note needs a text and an author").small());
                }
            });
        });
    if pin {
        let finding = draft
            .choices
            .get(draft.finding)
            .cloned()
            .unwrap_or(Finding::General);
        tx.send(Command::AddNote {
            finding,
            text: draft.text,
            author: dialog.author.clone(),
        });
        return;
    }
    if open {
        dialog.draft = Some(draft);
    }
}

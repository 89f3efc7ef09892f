//! How a page draws an analysis that is not ready: a failure with its Retry (every failed or
//! cancelled analysis can run again) or a spinner.

use eframe::egui;

use crate::app::command::{Command, CommandSender};
use crate::app::state::{Failure, Slot, State};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::{Key, Output, Request};

/// The failure of the analysis `key` and a Retry button that forgets it, so the page asks
/// for it again.
pub fn failed(ui: &mut egui::Ui, tx: &CommandSender, key: &Key, f: &Failure) {
    let pal = Palette::of(ui);
    ui.colored_label(pal.bad, f.text.as_str());
    if ui
        .button("Retry")
        .on_hover_text("Run this analysis again")
        .clicked()
    {
        tx.send(Command::Retry(key.clone()));
    }
}

/// A spinner with a line of text.
pub fn waiting(ui: &mut egui::Ui, text: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(text);
    });
}

/// Asks for `request` (the shell runs it unless its result is cached or running) and returns
/// the result when it is ready; until then draws `waiting_text` with a spinner, or the
/// failure with its Retry.
pub fn ready(
    ui: &mut egui::Ui,
    state: &State,
    tx: &CommandSender,
    request: Option<Request>,
    waiting_text: &str,
) -> Option<Output> {
    let key = request.as_ref().map(|r| r.key.clone());
    tx.request(request);
    match state.slot(key.as_ref()).cloned() {
        Some(Slot::Ready(out)) => Some(out),
        Some(Slot::Failed(e)) => {
            if let Some(key) = key {
                failed(ui, tx, &key, &e);
            }
            None
        }
        _ => {
            waiting(ui, waiting_text);
            None
        }
    }
}

//! How a page draws an analysis that is not ready: a failure with its Retry (every failed or
//! cancelled analysis can run again) or a spinner.

use eframe::egui;

use crate::app::state::{Failure, State};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::Key;

/// The failure of the analysis `key` and a Retry button that forgets it, so the page asks
/// for it again.
pub fn failed(ui: &mut egui::Ui, state: &mut State, key: &Key, f: &Failure) {
    let pal = Palette::of(ui);
    ui.colored_label(pal.bad, f.text.as_str());
    if ui
        .button("Retry")
        .on_hover_text("Run this analysis again")
        .clicked()
    {
        state.cache.retry(key);
    }
}

/// A spinner with a line of text.
pub fn waiting(ui: &mut egui::Ui, text: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(text);
    });
}

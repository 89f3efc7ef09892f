//! Metric cards: a name, a big number, its 95% interval and a hint.

use eframe::egui::{self, RichText};

use super::theme::{self, Palette};

/// Formats a metric for display; `None` (undefined) is a dash. The report uses the same
/// rounding, so a number reads the same on screen and on paper.
pub use crate::engine::report::html::fmt;

pub fn metric_card(
    ui: &mut egui::Ui,
    name: &str,
    value: Option<f64>,
    ci: Option<[f64; 2]>,
    hint: &str,
    presentation: bool,
) {
    let pal = Palette::of(ui);
    egui::Frame::new()
        .fill(pal.card)
        .corner_radius(6.0)
        .inner_margin(egui::Margin::symmetric(12, 8))
        .show(ui, |ui| {
            ui.set_width(theme::CARD_WIDTH);
            ui.vertical(|ui| {
                ui.label(RichText::new(name).color(pal.muted));
                ui.label(
                    RichText::new(fmt(value))
                        .font(theme::big(presentation))
                        .strong(),
                );
                let ci_text = match ci {
                    Some([lo, hi]) => format!("95% CI {} – {}", fmt(Some(lo)), fmt(Some(hi))),
                    None => "no interval".into(),
                };
                ui.label(RichText::new(ci_text).small().color(pal.muted));
            });
        })
        .response
        .on_hover_text(match (value, ci) {
            (Some(v), Some([lo, hi])) => format!("{hint} = {v:.6}\n95% CI [{lo:.6}, {hi:.6}]"),
            (Some(v), None) => format!("{hint} = {v:.6}"),
            (None, _) => format!("{hint}: undefined for this data"),
        });
}

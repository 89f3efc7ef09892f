//! Engine warnings drawn as egui text (the window shows every warning next to its numbers).

use eframe::egui::{RichText, WidgetText};

use crate::engine::Warning;

impl From<&Warning> for RichText {
    fn from(w: &Warning) -> RichText {
        RichText::new(w.as_str())
    }
}

impl From<&Warning> for WidgetText {
    fn from(w: &Warning) -> WidgetText {
        WidgetText::from(w.as_str())
    }
}

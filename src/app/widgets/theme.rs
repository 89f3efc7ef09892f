//! Colours, spacing and text sizes: the one place the look is decided.

use eframe::egui::{self, Color32, FontId, TextStyle};

/// Semantic colours for the current theme.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub accent: Color32,
    pub good: Color32,
    pub bad: Color32,
    pub warn: Color32,
    pub muted: Color32,
    pub card: Color32,
    pub nav: Color32,
    /// Plot series in order (colour-blind safe, Okabe–Ito).
    pub series: [Color32; 6],
}

pub const SPACE: f32 = 8.0;
/// Six cards side by side in a 1280-point-wide window (Evaluate's eleven cards in two rows).
pub const CARD_WIDTH: f32 = 150.0;

impl Palette {
    pub fn of(ui: &egui::Ui) -> Palette {
        Self::for_dark(ui.visuals().dark_mode)
    }

    pub fn for_dark(dark: bool) -> Palette {
        // Okabe–Ito, in the same order in both themes (a model keeps its colour when the
        // theme changes); only the blue is lighter on the dark background. One blue only.
        let blue = if dark {
            Color32::from_rgb(86, 180, 233)
        } else {
            Color32::from_rgb(0, 114, 178)
        };
        let yellow = if dark {
            Color32::from_rgb(240, 228, 66)
        } else {
            Color32::from_rgb(150, 130, 0)
        };
        let series = [
            blue,
            Color32::from_rgb(230, 159, 0),
            Color32::from_rgb(0, 158, 115),
            Color32::from_rgb(204, 121, 167),
            Color32::from_rgb(213, 94, 0),
            yellow,
        ];
        if dark {
            Palette {
                accent: Color32::from_rgb(86, 180, 233),
                good: Color32::from_rgb(80, 200, 140),
                bad: Color32::from_rgb(240, 110, 100),
                warn: Color32::from_rgb(240, 190, 80),
                muted: Color32::from_gray(160),
                card: Color32::from_gray(38),
                nav: Color32::from_gray(24),
                series,
            }
        } else {
            // Darker than the dark theme's: at least 4.5:1 on the navigation grey and on a
            // tinted banner (tests/ui_contrast.rs).
            Palette {
                accent: Color32::from_rgb(0, 100, 160),
                good: Color32::from_rgb(0, 115, 65),
                bad: Color32::from_rgb(175, 40, 30),
                warn: Color32::from_rgb(140, 85, 0),
                muted: Color32::from_gray(95),
                card: Color32::from_gray(246),
                nav: Color32::from_gray(236),
                series,
            }
        }
    }

    /// The colour of the model at index `i` of the workspace: the same on every plot and
    /// table, in both themes.
    pub fn model(&self, i: usize) -> Color32 {
        self.series[i % self.series.len()]
    }
}

/// How much presentation mode zooms the window.
pub const PRESENTATION_ZOOM: f32 = 1.3;

/// Applies the theme and the presentation mode: the whole window zoomed (text, plots,
/// cards, tables and the confusion matrix grow together), for meetings.
pub fn apply(ctx: &egui::Context, dark: bool, presentation: bool) {
    ctx.set_theme(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    });
    ctx.set_zoom_factor(if presentation { PRESENTATION_ZOOM } else { 1.0 });
    ctx.all_styles_mut(|style| {
        // Weak text (hints, secondary labels) is the palette's muted grey, which meets WCAG AA
        // on every background of its theme (tests/ui_contrast.rs), not egui's faded text.
        let pal = Palette::for_dark(style.visuals.dark_mode);
        style.visuals.weak_text_color = Some(pal.muted);
        style.visuals.hyperlink_color = pal.accent;
        if style.visuals.dark_mode {
            // egui's grey 140 body text is 4.1:1 on a tinted banner; 180 reads everywhere.
            style.visuals.widgets.noninteractive.fg_stroke.color = Color32::from_gray(180);
        }
        style.text_styles = [
            (TextStyle::Heading, FontId::proportional(20.0)),
            (TextStyle::Body, FontId::proportional(13.5)),
            (TextStyle::Button, FontId::proportional(13.5)),
            (TextStyle::Small, FontId::proportional(11.0)),
            (TextStyle::Monospace, FontId::monospace(12.5)),
        ]
        .into();
        style.spacing.item_spacing = egui::vec2(SPACE, 6.0);
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
        style.spacing.interact_size.y = 22.0;
    });
}

/// Large number text for metric cards.
pub fn big(scale_presentation: bool) -> FontId {
    let _ = scale_presentation;
    FontId::proportional(24.0)
}

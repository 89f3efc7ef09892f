//! WCAG AA, measured: every text colour the window uses has a contrast ratio of at least
//! 4.5:1 against its background (WCAG 2.x relative luminance), in both themes — body, weak and
//! strong text, widget labels, table stripes, cards, navigation and status bars, plot labels,
//! semantic colours, heat-map and confusion-matrix cell text on every cell colour.
#![cfg(feature = "gui")]

use assay::app::widgets::charts::heat_fill;
use assay::app::widgets::contrast::{over, ratio, text_on, text_pairs, AA};
use assay::app::widgets::plots::confusion_fill;
use assay::app::widgets::theme::{self, Palette};
use eframe::egui;

fn visuals(dark: bool) -> egui::Visuals {
    let ctx = egui::Context::default();
    theme::apply(&ctx, dark, false);
    ctx.style_of(if dark {
        egui::Theme::Dark
    } else {
        egui::Theme::Light
    })
    .visuals
    .clone()
}

#[test]
fn every_text_colour_meets_wcag_aa_in_both_themes() {
    let mut failures = Vec::new();
    for dark in [true, false] {
        let v = visuals(dark);
        let pal = Palette::for_dark(dark);
        let pairs = text_pairs(&v, &pal);
        assert!(pairs.len() > 40);
        for (name, fg, bg) in pairs {
            let r = ratio(fg, bg);
            if r < AA {
                failures.push(format!(
                    "{} theme: {name}: {r:.2}:1 ({fg:?} on {bg:?})",
                    if dark { "dark" } else { "light" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn cell_text_reads_on_every_heat_map_and_confusion_colour() {
    for dark in [true, false] {
        let v = visuals(dark);
        let pal = Palette::for_dark(dark);
        let bg = v.panel_fill;
        for higher in [None, Some(true), Some(false)] {
            for k in -50..=50 {
                let d = f64::from(k) / 100.0;
                let cell = over(heat_fill(&pal, d, higher), bg);
                let r = ratio(text_on(cell), cell);
                assert!(r >= AA, "heat map d={d} {higher:?} dark={dark}: {r:.2}");
            }
        }
        for diagonal in [true, false] {
            for k in 0..=100 {
                let cell = over(
                    confusion_fill(&pal, dark, diagonal, f64::from(k) / 100.0),
                    bg,
                );
                let r = ratio(text_on(cell), cell);
                assert!(r >= AA, "confusion cell {k}% dark={dark}: {r:.2}");
            }
        }
    }
}

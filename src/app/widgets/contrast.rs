//! Text contrast, measured (docs/UI.md: WCAG AA in both themes). The WCAG 2.x relative
//! luminance and contrast ratio, the text colour that reads on a painted cell (black or
//! white, whichever contrasts more), and the list of every text colour the theme uses on its
//! background, which `tests/ui_contrast.rs` holds to 4.5:1.

use eframe::egui::{Color32, Visuals};

use super::theme::Palette;

/// WCAG AA for normal-size text.
pub const AA: f64 = 4.5;

/// WCAG 2.x relative luminance of an opaque sRGB colour (alpha ignored: blend first).
pub fn luminance(c: Color32) -> f64 {
    let lin = |u: u8| {
        let s = f64::from(u) / 255.0;
        if s <= 0.039_28 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
}

/// WCAG contrast ratio of text `fg` drawn on `bg` (a translucent `fg` is blended onto `bg`
/// first, as the painter does): from 1 to 21.
pub fn ratio(fg: Color32, bg: Color32) -> f64 {
    let fg = opaque(bg).blend(fg);
    let (a, b) = (luminance(fg), luminance(opaque(bg)));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// `c` as it looks when painted over opaque `under` (premultiplied blending).
pub fn over(c: Color32, under: Color32) -> Color32 {
    opaque(under).blend(c)
}

fn opaque(c: Color32) -> Color32 {
    let [r, g, b, _] = c.to_array();
    Color32::from_rgb(r, g, b)
}

/// Black or white, whichever reads better on `bg` (always at least 4.58:1).
pub fn text_on(bg: Color32) -> Color32 {
    let black = Color32::from_rgb(0, 0, 0);
    let white = Color32::from_rgb(255, 255, 255);
    if ratio(black, bg) >= ratio(white, bg) {
        black
    } else {
        white
    }
}

/// Every (name, text colour, background) pair the window draws text with, for a theme's
/// visuals and palette: body, weak and strong text, widget labels, table stripes, cards,
/// the navigation and status bars, plot labels and the semantic colours.
pub fn text_pairs(v: &Visuals, pal: &Palette) -> Vec<(String, Color32, Color32)> {
    let mut out = Vec::new();
    let mut add = |name: &str, fg: Color32, bg: Color32| out.push((name.to_string(), fg, bg));
    let panel = v.panel_fill;
    let stripe = over(v.faint_bg_color, panel);
    for (bg_name, bg) in [
        ("panel", panel),
        ("window", v.window_fill),
        ("table stripe", stripe),
        ("card", pal.card),
        ("navigation", pal.nav),
        ("plot", over(v.extreme_bg_color, panel)),
    ] {
        add(&format!("body on {bg_name}"), v.text_color(), bg);
        add(&format!("strong on {bg_name}"), v.strong_text_color(), bg);
        add(&format!("weak on {bg_name}"), v.weak_text_color(), bg);
        add(&format!("muted on {bg_name}"), pal.muted, bg);
        add(&format!("good on {bg_name}"), pal.good, bg);
        add(&format!("bad on {bg_name}"), pal.bad, bg);
        add(&format!("warn on {bg_name}"), pal.warn, bg);
        add(&format!("accent on {bg_name}"), pal.accent, bg);
    }
    for (name, w) in [
        ("inactive", &v.widgets.inactive),
        ("hovered", &v.widgets.hovered),
        ("active", &v.widgets.active),
        ("open", &v.widgets.open),
    ] {
        add(
            &format!("{name} widget label"),
            w.fg_stroke.color,
            over(w.weak_bg_fill, panel),
        );
    }
    add(
        "selected label",
        v.selection.stroke.color,
        over(v.selection.bg_fill, panel),
    );
    add("hyperlink", v.hyperlink_color, panel);
    add(
        "error banner",
        pal.bad,
        over(pal.bad.gamma_multiply(0.15), panel),
    );
    add(
        "error banner text",
        v.text_color(),
        over(pal.bad.gamma_multiply(0.15), panel),
    );
    add(
        "note bar",
        v.text_color(),
        over(pal.warn.gamma_multiply(0.12), panel),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wcag_formula() {
        let (k, w) = (Color32::BLACK, Color32::WHITE);
        assert!((ratio(k, w) - 21.0).abs() < 1e-9);
        assert!((ratio(w, w) - 1.0).abs() < 1e-9);
        // #777 on white is the classic 4.48:1.
        assert!((ratio(Color32::from_gray(0x77), w) - 4.48).abs() < 0.01);
    }
}

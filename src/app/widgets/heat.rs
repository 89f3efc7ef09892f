//! A painted heat map for two-attribute intersections: value and count per cell, cell text
//! black or white by the cell's luminance, wrapped headers and a colour scale with values.

use eframe::egui::{self, Color32, RichText, Sense};

use super::theme::Palette;

/// A heat-map cell's colour for `d` = value − overall: red when worse, green when better
/// (`higher_is_better`), the accent by distance when neither is better; full strength from a
/// distance of [`HEAT_SPAN`]. Translucent: painted over the panel.
pub fn heat_fill(pal: &Palette, d: f64, higher_is_better: Option<bool>) -> Color32 {
    let better = match higher_is_better {
        Some(true) | None => d,
        Some(false) => -d,
    };
    let t = (d.abs() / HEAT_SPAN).min(1.0) as f32;
    let base = match higher_is_better {
        None => pal.accent,
        Some(_) if better < 0.0 => pal.bad,
        Some(_) => pal.good,
    };
    base.gamma_multiply(0.12 + 0.55 * t)
}

/// The distance from overall at which a heat-map cell is fully coloured.
pub const HEAT_SPAN: f64 = 0.2;

/// `text` wrapped to at most two lines of `width` (then "…"), for headers that must not
/// overflow; lines aligned by `halign` around the x the galley is painted at.
fn fitted(
    ui: &egui::Ui,
    text: &str,
    font: egui::FontId,
    colour: Color32,
    width: f32,
    halign: egui::Align,
) -> std::sync::Arc<egui::Galley> {
    let mut job = egui::text::LayoutJob::simple(text.to_string(), font, colour, width);
    job.wrap.max_rows = 2;
    job.halign = halign;
    ui.painter().layout_job(job)
}

/// Heat map of `values[row][col]` (None: no rows or undefined), coloured by distance from
/// `overall` (worse is red when `higher_is_better`), with value and count in each cell, the
/// cell text black or white by the cell's luminance, headers wrapped (full text on hover)
/// and a colour scale with its values below.
#[allow(clippy::too_many_arguments)]
pub fn heat_map(
    ui: &mut egui::Ui,
    rows: &[String],
    cols: &[String],
    values: &[Vec<Option<f64>>],
    counts: &[Vec<usize>],
    overall: Option<f64>,
    higher_is_better: Option<bool>,
    axis: (&str, &str),
) {
    let pal = Palette::of(ui);
    let label_w = 110.0;
    let cell_w = ((ui.available_width() - label_w) / cols.len().max(1) as f32).clamp(56.0, 120.0);
    let cell_h = 40.0;
    let head_h = 34.0;
    let size = egui::vec2(
        label_w + cell_w * cols.len() as f32,
        head_h + cell_h * rows.len() as f32,
    );
    let (rect, resp) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    let small = egui::TextStyle::Small.resolve(ui.style());
    let body = egui::TextStyle::Body.resolve(ui.style());
    let text = ui.visuals().text_color();
    let panel = ui.visuals().panel_fill;
    let pointer = resp.hover_pos();
    let mut tip: Option<String> = None;
    for (j, c) in cols.iter().enumerate() {
        let g = fitted(
            ui,
            c,
            small.clone(),
            text,
            cell_w - 6.0,
            egui::Align::Center,
        );
        let x = rect.left() + label_w + cell_w * j as f32;
        let head = egui::Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(cell_w, head_h));
        painter.galley(
            egui::pos2(
                // A centred galley is laid out around x = 0.
                head.center().x,
                head.bottom() - 4.0 - g.size().y,
            ),
            g,
            text,
        );
        if pointer.is_some_and(|p| head.contains(p)) {
            tip = Some(format!("{}: {c}", axis.1));
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = rect.top() + head_h + cell_h * i as f32;
        let g = fitted(
            ui,
            r,
            small.clone(),
            text,
            label_w - 12.0,
            egui::Align::RIGHT,
        );
        painter.galley(
            egui::pos2(
                // A right-aligned galley is laid out to the left of x = 0.
                rect.left() + label_w - 8.0,
                y + (cell_h - g.size().y) / 2.0,
            ),
            g,
            text,
        );
        let head =
            egui::Rect::from_min_size(egui::pos2(rect.left(), y), egui::vec2(label_w, cell_h));
        if pointer.is_some_and(|p| head.contains(p)) {
            tip = Some(format!("{}: {r}", axis.0));
        }
        for (j, c) in cols.iter().enumerate() {
            let cell = egui::Rect::from_min_size(
                egui::pos2(rect.left() + label_w + cell_w * j as f32, y),
                egui::vec2(cell_w - 2.0, cell_h - 2.0),
            );
            let v = values.get(i).and_then(|r| r.get(j)).copied().flatten();
            let n = counts.get(i).and_then(|r| r.get(j)).copied().unwrap_or(0);
            let fill = match (v, overall) {
                (Some(v), Some(o)) => heat_fill(&pal, v - o, higher_is_better),
                _ => Color32::TRANSPARENT,
            };
            painter.rect_filled(cell, 3.0, fill);
            painter.rect_stroke(
                cell,
                3.0,
                egui::Stroke::new(1.0, pal.muted.gamma_multiply(0.3)),
                egui::StrokeKind::Inside,
            );
            let ink = super::contrast::text_on(super::contrast::over(fill, panel));
            let vt = super::format::metric(v);
            painter.text(
                cell.center() - egui::vec2(0.0, 7.0),
                egui::Align2::CENTER_CENTER,
                vt,
                body.clone(),
                ink,
            );
            painter.text(
                cell.center() + egui::vec2(0.0, 10.0),
                egui::Align2::CENTER_CENTER,
                format!("n={}", super::format::count(n)),
                small.clone(),
                ink,
            );
            if pointer.is_some_and(|p| cell.contains(p)) {
                tip = Some(format!(
                    "{} = {r}, {} = {c}\nvalue {}\nrows {}",
                    axis.0,
                    axis.1,
                    v.map_or("undefined".into(), |v| format!("{v:.6}")),
                    super::format::count(n)
                ));
            }
        }
    }
    if let Some(t) = tip {
        resp.on_hover_text(t);
    }
    if let Some(o) = overall {
        heat_scale(ui, &pal, o, higher_is_better, label_w);
    }
    ui.label(
        RichText::new(format!("rows: {}, columns: {}", axis.0, axis.1))
            .small()
            .color(pal.muted),
    );
}

/// The heat map's colour scale: the cell colour from overall − span to overall + span with
/// the values it stands for.
fn heat_scale(ui: &mut egui::Ui, pal: &Palette, overall: f64, higher: Option<bool>, indent: f32) {
    let small = egui::TextStyle::Small.resolve(ui.style());
    let text = ui.visuals().text_color();
    let panel = ui.visuals().panel_fill;
    let w = (ui.available_width() - indent - 8.0).clamp(160.0, 320.0);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(indent + w, 34.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let bar = egui::Rect::from_min_size(
        egui::pos2(rect.left() + indent, rect.top() + 2.0),
        egui::vec2(w, 12.0),
    );
    let steps = 40;
    for k in 0..steps {
        let f = k as f64 / (steps - 1) as f64;
        let d = (2.0 * f - 1.0) * HEAT_SPAN;
        let r = egui::Rect::from_min_size(
            egui::pos2(
                bar.left() + bar.width() * k as f32 / steps as f32,
                bar.top(),
            ),
            egui::vec2(bar.width() / steps as f32 + 0.5, bar.height()),
        );
        painter.rect_filled(
            r,
            0.0,
            super::contrast::over(heat_fill(pal, d, higher), panel),
        );
    }
    painter.text(
        egui::pos2(rect.left() + indent - 8.0, bar.center().y),
        egui::Align2::RIGHT_CENTER,
        "colour",
        small.clone(),
        text,
    );
    for (f, d) in [(0.0, -HEAT_SPAN), (0.5, 0.0), (1.0, HEAT_SPAN)] {
        let v = overall + d;
        let label = match (d, higher) {
            (0.0, _) => format!("{} overall", super::format::metric(Some(overall))),
            (d, _) if d < 0.0 => format!("≤ {}", super::format::metric(Some(v))),
            _ => format!("≥ {}", super::format::metric(Some(v))),
        };
        let align = if f == 0.0 {
            egui::Align2::LEFT_TOP
        } else if f == 1.0 {
            egui::Align2::RIGHT_TOP
        } else {
            egui::Align2::CENTER_TOP
        };
        painter.text(
            egui::pos2(bar.left() + bar.width() * f as f32, bar.bottom() + 3.0),
            align,
            label,
            small.clone(),
            text,
        );
    }
    let meaning = match higher {
        None => "stronger colour: further from overall",
        Some(true) => "red: lower (worse) than overall · green: higher (better)",
        Some(false) => "red: higher (worse) than overall · green: lower (better)",
    };
    ui.label(RichText::new(meaning).small().color(pal.muted));
}

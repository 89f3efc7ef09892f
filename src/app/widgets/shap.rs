//! shap-style explanation plots, painted natively from an engine explanation: beeswarm,
//! mean |SHAP| bars, a waterfall for one row, dependence scatter and PDP/ICE lines.
//! Nothing here computes a statistic; ordering and colour scaling only.

use eframe::egui::{self, Align2, Color32, FontId, Pos2, Rect, Sense, Stroke};

use super::theme::Palette;

/// shap's diverging colours: low feature values blue, high ones magenta.
const LOW: Color32 = Color32::from_rgb(0, 138, 250);
const HIGH: Color32 = Color32::from_rgb(255, 0, 82);

/// Colour for a position `t` in 0..=1 between [`LOW`] and [`HIGH`] (via purple, like shap).
pub fn value_colour(t: f32) -> Color32 {
    let t = t.clamp(0.0, 1.0);
    let lerp = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t).round() as u8;
    Color32::from_rgb(
        lerp(LOW.r(), HIGH.r()),
        lerp(LOW.g(), HIGH.g()),
        lerp(LOW.b(), HIGH.b()),
    )
}

/// Rank-based 5–95% scaling of one feature's values to 0..=1, as shap colours its beeswarm
/// (robust to outliers). Text or missing values give `None` (drawn grey).
pub(crate) fn colour_scale(values: impl Iterator<Item = Option<f64>>) -> (f64, f64) {
    let mut v: Vec<f64> = values.flatten().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (0.0, 1.0);
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.05), q(0.95));
    if hi > lo {
        (lo, hi)
    } else {
        (v[0], v[v.len() - 1].max(v[0] + 1e-12))
    }
}

fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let start = (lo / step).ceil() as i64;
    let end = (hi / step).floor() as i64;
    (start..=end).map(|k| k as f64 * step).collect()
}

fn fmt_tick(v: f64) -> String {
    if v.abs() < 1e-12 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draws an x axis with ticks under `plot` mapping `[lo, hi]`, and a zero line.
fn x_axis(painter: &egui::Painter, plot: Rect, lo: f64, hi: f64, label: &str, ui: &egui::Ui) {
    let pal = Palette::of(ui);
    let small = egui::TextStyle::Small.resolve(ui.style());
    let to_x = |v: f64| plot.left() + ((v - lo) / (hi - lo)) as f32 * plot.width();
    let axis = Stroke::new(1.0, pal.muted.gamma_multiply(0.6));
    painter.line_segment([plot.left_bottom(), plot.right_bottom()], axis);
    for t in nice_ticks(lo, hi, 6) {
        let x = to_x(t);
        painter.line_segment(
            [
                Pos2::new(x, plot.bottom()),
                Pos2::new(x, plot.bottom() + 4.0),
            ],
            axis,
        );
        painter.text(
            Pos2::new(x, plot.bottom() + 6.0),
            Align2::CENTER_TOP,
            fmt_tick(t),
            small.clone(),
            pal.muted,
        );
    }
    if lo < 0.0 && hi > 0.0 {
        let x = to_x(0.0);
        painter.line_segment(
            [Pos2::new(x, plot.top()), Pos2::new(x, plot.bottom())],
            Stroke::new(1.0, pal.muted.gamma_multiply(0.8)),
        );
    }
    painter.text(
        Pos2::new(plot.center().x, plot.bottom() + 22.0),
        Align2::CENTER_TOP,
        label,
        small,
        ui.visuals().text_color(),
    );
}

fn span_of(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// Inputs of the beeswarm: `values[row][feature]` SHAP values and `feature_values[row][feature]`
/// (None for text or missing), `order` = features to show, most important first.
pub struct Swarm<'a> {
    pub names: &'a [String],
    pub values: &'a [Vec<f64>],
    pub feature_values: &'a [Vec<Option<f64>>],
    pub row_labels: &'a [usize],
    pub order: &'a [usize],
    pub x_label: &'a str,
}

/// shap's summary plot: one line per feature, a dot per row at its SHAP value, stacked where
/// dots crowd, coloured by the feature's value. Returns the row index clicked, if any.
pub fn beeswarm(ui: &mut egui::Ui, s: &Swarm, selected: Option<usize>) -> Option<usize> {
    let pal = Palette::of(ui);
    // A few features get taller lines (the swarm fills ~360 px), many get 28 px each.
    let row_h = (360.0 / s.order.len().max(1) as f32).clamp(28.0, 52.0);
    let label_w = 150.0;
    let legend_w = 60.0;
    let w = ui.available_width().max(400.0);
    let h = row_h * s.order.len() as f32 + 44.0;
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(w, h), Sense::click());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top() + 4.0),
        Pos2::new(rect.right() - legend_w, rect.bottom() - 40.0),
    );
    let (lo, hi) = span_of(
        s.order
            .iter()
            .flat_map(|&f| s.values.iter().filter_map(move |r| r.get(f).copied())),
    );
    let to_x = |v: f64| plot.left() + ((v - lo) / (hi - lo)) as f32 * plot.width();
    let body = egui::TextStyle::Body.resolve(ui.style());
    let text = ui.visuals().text_color();
    let hover = resp.hover_pos();
    let mut nearest: Option<(f32, usize, usize)> = None;
    let radius = if s.values.len() > 2000 { 1.8 } else { 2.6 };
    for (line, &f) in s.order.iter().enumerate() {
        let cy = plot.top() + row_h * (line as f32 + 0.5);
        if line % 2 == 1 {
            painter.rect_filled(
                Rect::from_center_size(
                    Pos2::new(plot.center().x, cy),
                    egui::vec2(plot.width(), row_h),
                ),
                0.0,
                pal.card.gamma_multiply(0.6),
            );
        }
        let name = s.names.get(f).map_or("?", |n| n.as_str());
        painter.text(
            Pos2::new(plot.left() - 8.0, cy),
            Align2::RIGHT_CENTER,
            name,
            body.clone(),
            text,
        );
        let (clo, chi) = colour_scale(s.feature_values.iter().map(|r| r.get(f).copied().flatten()));
        // Stack dots in 2-pixel columns so dense regions spread vertically, like shap.
        let mut stacks: std::collections::HashMap<i32, u32> = Default::default();
        let mut order: Vec<usize> = (0..s.values.len()).collect();
        order.sort_by(|&a, &b| {
            let va = s.values[a].get(f).copied().unwrap_or(0.0);
            let vb = s.values[b].get(f).copied().unwrap_or(0.0);
            va.total_cmp(&vb)
        });
        for r in order {
            let Some(&v) = s.values[r].get(f) else {
                continue;
            };
            if !v.is_finite() {
                continue;
            }
            let x = to_x(v);
            let bucket = (x / (radius * 1.6)) as i32;
            let k = stacks.entry(bucket).or_insert(0);
            let level = *k;
            *k += 1;
            let offset = level.div_ceil(2) as f32 * radius * 1.4;
            let sign = if level % 2 == 0 { 1.0 } else { -1.0 };
            let y = cy + (sign * offset).clamp(-row_h * 0.45, row_h * 0.45);
            let colour = match s
                .feature_values
                .get(r)
                .and_then(|fv| fv.get(f))
                .copied()
                .flatten()
            {
                Some(fv) if fv.is_finite() => value_colour(((fv - clo) / (chi - clo)) as f32),
                _ => pal.muted,
            };
            let p = Pos2::new(x, y);
            painter.circle_filled(p, radius, colour);
            if selected == s.row_labels.get(r).copied() {
                painter.circle_stroke(p, radius + 2.5, Stroke::new(1.5, text));
            }
            if let Some(hp) = hover {
                let d = hp.distance(p);
                if d < 6.0 && nearest.is_none_or(|(best, _, _)| d < best) {
                    nearest = Some((d, r, f));
                }
            }
        }
    }
    x_axis(&painter, plot, lo, hi, s.x_label, ui);
    // Colour bar: feature value low → high.
    let bar = Rect::from_min_size(
        Pos2::new(rect.right() - legend_w + 18.0, plot.top() + 10.0),
        egui::vec2(8.0, (plot.height() - 20.0).max(30.0)),
    );
    let steps = 24;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let seg = Rect::from_min_max(
            Pos2::new(
                bar.left(),
                bar.bottom() - bar.height() * (t0 + 1.0 / steps as f32),
            ),
            Pos2::new(bar.right(), bar.bottom() - bar.height() * t0),
        );
        painter.rect_filled(seg, 0.0, value_colour(t0 + 0.5 / steps as f32));
    }
    let small = egui::TextStyle::Small.resolve(ui.style());
    painter.text(
        bar.center_top() - egui::vec2(0.0, 2.0),
        Align2::CENTER_BOTTOM,
        "high",
        small.clone(),
        pal.muted,
    );
    painter.text(
        bar.center_bottom() + egui::vec2(0.0, 2.0),
        Align2::CENTER_TOP,
        "low",
        small.clone(),
        pal.muted,
    );
    painter.text(
        Pos2::new(bar.right() + 4.0, bar.center().y),
        Align2::LEFT_CENTER,
        "value",
        FontId::proportional(10.0),
        pal.muted,
    );
    if let Some((_, r, f)) = nearest {
        let row = s.row_labels.get(r).copied().unwrap_or(r);
        let fv = s
            .feature_values
            .get(r)
            .and_then(|v| v.get(f))
            .copied()
            .flatten()
            .map_or("text or missing".to_string(), |v| format!("{v}"));
        let tip = format!(
            "row {row}\n{} = {fv}\nSHAP {:.6}\nclick to open its waterfall",
            s.names.get(f).map_or("?", |n| n.as_str()),
            s.values[r].get(f).copied().unwrap_or(f64::NAN)
        );
        let resp = resp.on_hover_text(tip);
        if resp.clicked() {
            return Some(row);
        }
    }
    None
}

/// Mean |SHAP| per feature as horizontal bars, largest first (`importance` already sorted).
pub fn importance_bars(ui: &mut egui::Ui, importance: &[(String, f64)], x_label: &str) {
    let pal = Palette::of(ui);
    let row_h = 24.0;
    let label_w = 150.0;
    let w = ui.available_width().max(300.0);
    let h = row_h * importance.len() as f32 + 40.0;
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(w, h), Sense::hover());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top() + 2.0),
        Pos2::new(rect.right() - 70.0, rect.bottom() - 40.0),
    );
    let hi = importance
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0, f64::max)
        .max(1e-12)
        * 1.05;
    let body = egui::TextStyle::Body.resolve(ui.style());
    let small = egui::TextStyle::Small.resolve(ui.style());
    let text = ui.visuals().text_color();
    let mut tip = None;
    for (i, (name, v)) in importance.iter().enumerate() {
        let cy = plot.top() + row_h * (i as f32 + 0.5);
        painter.text(
            Pos2::new(plot.left() - 8.0, cy),
            Align2::RIGHT_CENTER,
            name,
            body.clone(),
            text,
        );
        let bar = Rect::from_min_max(
            Pos2::new(plot.left(), cy - row_h * 0.32),
            Pos2::new(
                plot.left() + (v / hi) as f32 * plot.width(),
                cy + row_h * 0.32,
            ),
        );
        painter.rect_filled(bar, 2.0, HIGH.gamma_multiply(0.85));
        painter.text(
            Pos2::new(bar.right() + 4.0, cy),
            Align2::LEFT_CENTER,
            format!("{v:.4}"),
            small.clone(),
            pal.muted,
        );
        if resp
            .hover_pos()
            .is_some_and(|p| (p.y - cy).abs() < row_h / 2.0)
        {
            tip = Some(format!("{name}\nmean |SHAP| = {v:.6}"));
        }
    }
    x_axis(&painter, plot, 0.0, hi, x_label, ui);
    if let Some(t) = tip {
        resp.on_hover_text(t);
    }
}

/// One row's explanation as a waterfall from the base value to the model output; the largest
/// `top` contributions drawn, the rest summed in one bar.
#[allow(clippy::too_many_arguments)]
pub fn waterfall(
    ui: &mut egui::Ui,
    names: &[String],
    phi: &[f64],
    feature_values: &[Option<f64>],
    text_values: &[String],
    base: f64,
    output: f64,
    top: usize,
) {
    let pal = Palette::of(ui);
    let mut idx: Vec<usize> = (0..phi.len()).collect();
    idx.sort_by(|&a, &b| phi[b].abs().total_cmp(&phi[a].abs()));
    let shown: Vec<usize> = idx.iter().copied().take(top).collect();
    let rest: f64 = idx.iter().skip(top).map(|&i| phi[i]).sum();
    let rest_n = idx.len().saturating_sub(top);
    // Bars from the bottom (least important) up to the top, like shap.
    let mut bars: Vec<(String, f64)> = Vec::new();
    if rest_n > 0 {
        bars.push((format!("{rest_n} other features"), rest));
    }
    for &i in shown.iter().rev() {
        let value = match feature_values.get(i).copied().flatten() {
            Some(v) => fmt_tick(v),
            None => text_values.get(i).cloned().unwrap_or_default(),
        };
        let name = names.get(i).map_or("?", |n| n.as_str());
        bars.push((format!("{name} = {value}"), phi[i]));
    }
    let row_h = 26.0;
    let label_w = 210.0;
    let w = ui.available_width().max(400.0);
    let h = row_h * bars.len() as f32 + 64.0;
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(w, h), Sense::hover());
    let painter = ui.painter_at(rect);
    let plot = Rect::from_min_max(
        Pos2::new(rect.left() + label_w, rect.top() + 20.0),
        // Room for a value printed after a bar that reaches the right edge.
        Pos2::new(rect.right() - 64.0, rect.bottom() - 40.0),
    );
    // Running totals, bottom to top.
    let mut cum = base;
    let mut spans = Vec::with_capacity(bars.len());
    for (_, v) in &bars {
        spans.push((cum, cum + v));
        cum += v;
    }
    let (lo, hi) = span_of(
        spans
            .iter()
            .flat_map(|(a, b)| [*a, *b])
            .chain([base, output]),
    );
    let to_x = |v: f64| plot.left() + ((v - lo) / (hi - lo)) as f32 * plot.width();
    let body = egui::TextStyle::Body.resolve(ui.style());
    let small = egui::TextStyle::Small.resolve(ui.style());
    let text = ui.visuals().text_color();
    let n = bars.len();
    let mut tip = None;
    for (k, ((label, v), (a, b))) in bars.iter().zip(&spans).enumerate() {
        let cy = plot.top() + row_h * ((n - 1 - k) as f32 + 0.5);
        // One line within the label column, elided; the whole label is in the hover text.
        let mut job = egui::text::LayoutJob::simple_singleline(label.clone(), body.clone(), text);
        job.wrap.max_width = label_w - 12.0;
        job.wrap.max_rows = 1;
        job.wrap.break_anywhere = true;
        let g = painter.layout_job(job);
        painter.galley(
            Pos2::new(plot.left() - 8.0 - g.size().x, cy - g.size().y / 2.0),
            g,
            text,
        );
        let colour = if *v >= 0.0 { HIGH } else { LOW };
        let (x0, x1) = (to_x(a.min(*b)), to_x(a.max(*b)).max(to_x(a.min(*b)) + 1.5));
        let r = Rect::from_min_max(
            Pos2::new(x0, cy - row_h * 0.36),
            Pos2::new(x1, cy + row_h * 0.36),
        );
        painter.rect_filled(r, 2.0, colour.gamma_multiply(0.9));
        let t = format!("{}{:.4}", if *v >= 0.0 { "+" } else { "" }, v);
        let inside = r.width() > 60.0;
        painter.text(
            if inside {
                r.center()
            } else {
                Pos2::new(r.right() + 4.0, cy)
            },
            if inside {
                Align2::CENTER_CENTER
            } else {
                Align2::LEFT_CENTER
            },
            t,
            small.clone(),
            if inside {
                crate::app::widgets::contrast::text_on(crate::app::widgets::contrast::over(
                    colour.gamma_multiply(0.9),
                    ui.visuals().panel_fill,
                ))
            } else {
                colour
            },
        );
        // Connector to the next bar.
        if k + 1 < n {
            let x = to_x(*b);
            painter.line_segment(
                [
                    Pos2::new(x, cy - row_h * 0.36),
                    Pos2::new(x, cy - row_h * 0.64),
                ],
                Stroke::new(1.0, pal.muted.gamma_multiply(0.6)),
            );
        }
        if resp
            .hover_pos()
            .is_some_and(|p| (p.y - cy).abs() < row_h / 2.0)
        {
            tip = Some(format!(
                "{label}\ncontribution {v:+.6}\nrunning total {b:.6}"
            ));
        }
    }
    let dashed = Stroke::new(1.0, pal.muted);
    for (v, what, top) in [(base, "base value", false), (output, "model output", true)] {
        let x = to_x(v);
        let (y0, y1) = (plot.top() - 4.0, plot.bottom() + 2.0);
        painter.add(egui::Shape::dashed_line(
            &[Pos2::new(x, y0), Pos2::new(x, y1)],
            dashed,
            3.0,
            3.0,
        ));
        // Centred on its line but kept inside the plot's rectangle (never cut at an edge).
        let g = painter.layout_no_wrap(format!("{what} {v:.4}"), small.clone(), text);
        let half = g.size().x / 2.0;
        let cx = x.clamp(
            rect.left() + half + 2.0,
            (rect.right() - half - 2.0).max(rect.left()),
        );
        let y = if top {
            y0 - 2.0 - g.size().y
        } else {
            plot.bottom() + 24.0
        };
        painter.galley(Pos2::new(cx - half, y), g, text);
    }
    x_axis(&painter, plot, lo, hi, "", ui);
    if let Some(t) = tip {
        resp.on_hover_text(t);
    }
}

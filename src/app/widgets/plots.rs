//! Plots drawn from engine results (egui_plot, plus a painted confusion matrix). Every plot
//! shows exact values on hover; nothing here computes a statistic.

use eframe::egui::{self, Color32, RichText, Sense, Stroke};
use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, LineStyle, Plot, PlotPoints, Points};

use super::theme::Palette;

/// The height of a plot. Presentation mode zooms the whole window (`theme::apply`), plots
/// included, so the height does not change with it.
pub fn plot_height(_presentation: bool) -> f32 {
    250.0
}

/// The corner of the plot area with the fewest of `points` in it (a box of 40% × 40% of the
/// `x` × `y` range): where a legend covers no data. Ties prefer the lower right.
pub fn empty_corner(points: &[[f64; 2]], x: [f64; 2], y: [f64; 2]) -> egui_plot::Corner {
    use egui_plot::Corner;
    let (w, h) = ((x[1] - x[0]).max(1e-12), (y[1] - y[0]).max(1e-12));
    let count = |left: bool, top: bool| {
        points
            .iter()
            .filter(|[px, py]| {
                let fx = (px - x[0]) / w;
                let fy = (py - y[0]) / h;
                let in_x = if left { fx <= 0.4 } else { fx >= 0.6 };
                let in_y = if top { fy >= 0.6 } else { fy <= 0.4 };
                in_x && in_y
            })
            .count()
    };
    [
        (Corner::RightBottom, count(false, false)),
        (Corner::LeftTop, count(true, true)),
        (Corner::RightTop, count(false, true)),
        (Corner::LeftBottom, count(true, false)),
    ]
    .into_iter()
    .min_by_key(|(_, n)| *n)
    .map_or(Corner::RightBottom, |(c, _)| c)
}

/// The points of curves, with each straight segment sampled so a corner crossed by a line
/// counts as covered.
fn curve_points(curves: &[Curve], extra: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = extra.to_vec();
    for c in curves {
        let pts: Vec<[f64; 2]> = c.x.iter().zip(c.y).map(|(&a, &b)| [a, b]).collect();
        for w in pts.windows(2) {
            for k in 0..8 {
                let t = k as f64 / 8.0;
                out.push([
                    w[0][0] + t * (w[1][0] - w[0][0]),
                    w[0][1] + t * (w[1][1] - w[0][1]),
                ]);
            }
        }
        out.extend(pts.last().copied());
    }
    out
}

/// The smallest of 1, 2, 5 × 10^k at least `x`.
fn nice(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|s| *s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// The next smaller nice step that divides `s` (1 → 0.5, 2 → 1, 5 → 1).
fn down(s: f64) -> f64 {
    let m = s / 10f64.powf(s.log10().floor());
    if m > 4.0 {
        s / 5.0
    } else {
        s / 2.0
    }
}

/// Hover text for a series over named x positions (chunks, windows): the series, the name
/// of the nearest position and the value, in the one number format.
pub fn hover_by_index(names: Vec<String>) -> impl Fn(&HoverPosition) -> Option<String> {
    move |hover| match hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => {
            let i = position.x.round();
            let when = (i >= 0.0)
                .then(|| names.get(i as usize))
                .flatten()
                .cloned()
                .unwrap_or_default();
            Some(format!(
                "{plot_name}\n{when}\n{}",
                super::format::num(Some(position.y))
            ))
        }
        HoverPosition::Elsewhere { .. } => None,
    }
}

/// Grid lines at 1, 2, 5 × 10^k, so an axis gets a labelled tick every 60–150 px (egui_plot's
/// powers of ten alone label a unit axis only at 0 and 1).
pub fn nice_grid(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    if input.base_step_size.is_nan()
        || input.base_step_size <= 0.0
        || !input.base_step_size.is_finite()
    {
        return Vec::new();
    }
    let s3 = nice(input.base_step_size * 8.0);
    let s2 = down(s3);
    let s1 = down(s2);
    (egui_plot::uniform_grid_spacer(move |_| [s1, s2, s3]))(input)
}

/// Tick labels with the app's number format (`0.5`, `1,000`).
pub fn tick(mark: egui_plot::GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    super::format::num(Some(mark.value))
}

/// An x axis whose tick labels are drawn at full contrast: egui_plot fades labels in while
/// they are 60–80 px apart; here a label is either crisp (WCAG AA) or left out.
pub fn x_axis(label: &str) -> egui_plot::AxisHints<'static> {
    egui_plot::AxisHints::new_x()
        .label(label.to_string())
        .formatter(tick)
        .label_spacing(60.0..=60.5)
}

/// A y axis whose tick labels are crisp or left out (egui_plot fades them at 20–30 px); one
/// line of text needs 16 px.
pub fn y_axis(label: &str) -> egui_plot::AxisHints<'static> {
    egui_plot::AxisHints::new_y()
        .label(label.to_string())
        .formatter(tick)
        .label_spacing(16.0..=16.5)
}

/// A [`base`] plot of the unit square with the legend in `corner`.
fn unit_square(id: &str, h: f32, x: &str, y: &str, corner: egui_plot::Corner) -> Plot<'static> {
    base(id, h, x, y)
        .legend(Legend::default().position(corner))
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
}

/// Curves (each in its colour or the palette's) and the operating point on them.
fn curves_and_marker(
    p: &mut egui_plot::PlotUi<'_>,
    pal: &Palette,
    curves: &[Curve],
    marker: Option<[f64; 2]>,
) {
    for (i, c) in curves.iter().enumerate() {
        p.add(
            Line::new(c.name.clone(), xy(c.x, c.y))
                .color(c.colour.unwrap_or(pal.series[i % 6]))
                .width(2.0),
        );
    }
    if let Some(m) = marker {
        p.add(
            Points::new("operating point", vec![m])
                .radius(5.0)
                .color(pal.warn),
        );
    }
}

fn base(id: &str, height: f32, x: &str, y: &str) -> Plot<'static> {
    Plot::new(id.to_string())
        .x_grid_spacer(nice_grid)
        .y_grid_spacer(nice_grid)
        .custom_x_axes(vec![x_axis(x)])
        .custom_y_axes(vec![y_axis(y)])
        .height(height)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
}

fn xy(x: &[f64], y: &[f64]) -> PlotPoints<'static> {
    x.iter().zip(y).map(|(&a, &b)| [a, b]).collect()
}

fn unit_diagonal(ui: &egui::Ui) -> Line<'static> {
    Line::new("chance", xy(&[0.0, 1.0], &[0.0, 1.0]))
        .color(Palette::of(ui).muted)
        .style(LineStyle::dashed_loose())
        .allow_hover(false)
}

/// Hover text of a curve point: its series name and both coordinates.
fn curve_label(x: &'static str, y: &'static str) -> impl Fn(&HoverPosition) -> Option<String> {
    move |hover| match hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => Some(format!(
            "{plot_name}\n{x} {:.4}\n{y} {:.4}",
            position.x, position.y
        )),
        HoverPosition::Elsewhere { .. } => None,
    }
}

/// A curve with a name, e.g. "ROC (AUC 0.873)".
pub struct Curve<'a> {
    pub name: String,
    pub x: &'a [f64],
    pub y: &'a [f64],
    /// The model's colour (`Palette::model`); `None`: the i-th series colour.
    pub colour: Option<Color32>,
}

/// ROC curves with the chance diagonal; `marker` is the operating point (FPR, TPR).
pub fn roc(ui: &mut egui::Ui, id: &str, curves: &[Curve], marker: Option<[f64; 2]>, h: f32) {
    let pal = Palette::of(ui);
    let diag = unit_diagonal(ui);
    let diagonal: Vec<[f64; 2]> = (0..=10).map(|k| [k as f64 / 10.0; 2]).collect();
    let corner = empty_corner(&curve_points(curves, &diagonal), [0.0, 1.0], [0.0, 1.0]);
    unit_square(id, h, "false positive rate", "true positive rate", corner)
        .label_formatter(curve_label("FPR", "TPR"))
        .show(ui, |p| {
            p.add(diag);
            curves_and_marker(p, &pal, curves, marker);
        });
}

/// Precision–recall curves with the positive rate as the no-skill line.
pub fn pr(
    ui: &mut egui::Ui,
    id: &str,
    curves: &[Curve],
    base_rate: f64,
    marker: Option<[f64; 2]>,
    h: f32,
) {
    let pal = Palette::of(ui);
    let no_skill: Vec<[f64; 2]> = (0..=10).map(|k| [k as f64 / 10.0, base_rate]).collect();
    let corner = empty_corner(&curve_points(curves, &no_skill), [0.0, 1.0], [0.0, 1.0]);
    unit_square(id, h, "recall", "precision", corner)
        .label_formatter(curve_label("recall", "precision"))
        .show(ui, |p| {
            p.add(
                Line::new(
                    format!("no skill ({base_rate:.3})"),
                    xy(&[0.0, 1.0], &[base_rate, base_rate]),
                )
                .color(pal.muted)
                .style(LineStyle::dashed_loose()),
            );
            curves_and_marker(p, &pal, curves, marker);
        });
}

/// Reliability diagram: mean predicted vs observed frequency per bin, sized by count.
pub fn calibration(
    ui: &mut egui::Ui,
    id: &str,
    prob_pred: &[f64],
    prob_true: &[f64],
    counts: &[u64],
    ece: f64,
    h: f32,
) {
    let pal = Palette::of(ui);
    let diag = unit_diagonal(ui);
    let counts = counts.to_vec();
    let mut covered: Vec<[f64; 2]> = (0..=10).map(|k| [k as f64 / 10.0; 2]).collect();
    covered.extend(prob_pred.iter().zip(prob_true).map(|(&x, &y)| [x, y]));
    base(id, h, "mean predicted probability", "observed frequency")
        .legend(Legend::default().position(empty_corner(&covered, [0.0, 1.0], [0.0, 1.0])))
        .include_x(0.0)
        .include_x(1.0)
        .include_y(0.0)
        .include_y(1.0)
        .label_formatter(move |hover: &HoverPosition| match hover {
            HoverPosition::NearDataPoint {
                position, index, ..
            } => Some(format!(
                "predicted {:.4}\nobserved {:.4}\nrows {}",
                position.x,
                position.y,
                counts.get(*index).copied().unwrap_or(0)
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |p| {
            p.add(diag);
            p.add(
                Line::new(format!("model (ECE {ece:.4})"), xy(prob_pred, prob_true))
                    .color(pal.series[1])
                    .width(2.0),
            );
            p.add(
                Points::new("bins", xy(prob_pred, prob_true))
                    .radius(4.0)
                    .color(pal.series[1]),
            );
        });
}

/// Bars over `[edges[i], edges[i+1])`.
pub fn histogram(
    ui: &mut egui::Ui,
    id: &str,
    series: &[(&str, &[u64], Color32)],
    edges: &[f64],
    (x_label, y_label): (&str, &str),
    marker: Option<f64>,
    h: f32,
) {
    let pal = Palette::of(ui);
    let (lo, hi) = (
        edges.first().copied().unwrap_or(0.0),
        edges.last().copied().unwrap_or(1.0),
    );
    let top = series
        .iter()
        .flat_map(|(_, c, _)| c.iter())
        .max()
        .copied()
        .unwrap_or(1) as f64;
    // Each bar covers its column from 0 to its count.
    let mut covered = Vec::new();
    for (_, counts, _) in series {
        for (i, &c) in counts.iter().enumerate() {
            if let (Some(a), Some(b)) = (edges.get(i), edges.get(i + 1)) {
                for k in 0..=4 {
                    covered.push([(a + b) / 2.0, c as f64 * k as f64 / 4.0]);
                }
            }
        }
    }
    let plot = base(id, h, x_label, y_label);
    // One series needs no legend; several get theirs where no bar reaches.
    let plot = if series.len() > 1 || marker.is_some() {
        plot.legend(Legend::default().position(empty_corner(&covered, [lo, hi], [0.0, top * 1.05])))
    } else {
        plot
    };
    plot.show(ui, |p| {
        for (name, counts, color) in series {
            let bars: Vec<Bar> = counts
                .iter()
                .enumerate()
                .filter_map(|(i, &c)| {
                    let (lo, hi) = (*edges.get(i)?, *edges.get(i + 1)?);
                    Some(
                        Bar::new((lo + hi) / 2.0, c as f64)
                            .width((hi - lo) * 0.95)
                            .name(format!("[{lo:.4}, {hi:.4}): {c} rows")),
                    )
                })
                .collect();
            p.add(BarChart::new(name.to_string(), bars).color(*color));
        }
        if let Some(t) = marker {
            p.add(
                egui_plot::VLine::new("threshold", t)
                    .color(pal.warn)
                    .width(2.0),
            );
        }
    });
}

/// Horizontal bars for categories (most frequent first).
pub fn category_bars(ui: &mut egui::Ui, id: &str, cats: &[(String, u64)], h: f32) {
    let pal = Palette::of(ui);
    let n = cats.len();
    let names: Vec<String> = cats.iter().map(|(c, _)| c.clone()).collect();
    let bars: Vec<Bar> = cats
        .iter()
        .enumerate()
        .map(|(i, (c, k))| {
            Bar::new((n - i) as f64, *k as f64)
                .width(0.8)
                .name(format!("{c}: {k} rows"))
        })
        .collect();
    Plot::new(id.to_string())
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .show_grid([true, false])
        .y_axis_formatter(move |mark, _| {
            let i = mark.value.round() as i64;
            if (mark.value - i as f64).abs() < 1e-6 && i >= 1 && (i as usize) <= n {
                names[n - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_axis_label("rows")
        .show(ui, |p| {
            p.add(
                BarChart::new("rows", bars)
                    .horizontal()
                    .color(pal.series[0]),
            );
        });
}

/// Predicted vs actual with the identity line (points already downsampled by the engine).
pub fn scatter(ui: &mut egui::Ui, id: &str, actual: &[f64], predicted: &[f64], h: f32) {
    let pal = Palette::of(ui);
    let lo = actual
        .iter()
        .chain(predicted)
        .copied()
        .fold(f64::INFINITY, f64::min);
    let hi = actual
        .iter()
        .chain(predicted)
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    base(id, h, "actual", "predicted")
        .data_aspect(1.0)
        .label_formatter(|hover: &HoverPosition| match hover {
            HoverPosition::NearDataPoint { position, .. } => Some(format!(
                "actual {:.4}\npredicted {:.4}\nresidual {:.4}",
                position.x,
                position.y,
                position.x - position.y
            )),
            HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |p| {
            if lo.is_finite() && hi.is_finite() {
                p.add(
                    Line::new("perfect", xy(&[lo, hi], &[lo, hi]))
                        .color(pal.muted)
                        .style(LineStyle::dashed_loose()),
                );
            }
            p.add(
                Points::new("rows", xy(actual, predicted))
                    .radius(2.0)
                    .color(pal.series[0]),
            );
        });
}

/// A confusion-matrix cell's colour: green on the diagonal, red off it, stronger with the
/// share of the actual class. Translucent: painted over the panel.
pub fn confusion_fill(pal: &Palette, dark: bool, diagonal: bool, rate: f64) -> Color32 {
    let base_color = if diagonal { pal.good } else { pal.bad };
    let strength = if dark {
        0.10 + 0.38 * rate as f32
    } else {
        0.15 + 0.6 * rate as f32
    };
    base_color.gamma_multiply(strength)
}

/// Confusion matrix heat map: counts and row rates (rows = actual, columns = predicted),
/// as large as `size` allows within the width available; cell text black or white by the
/// cell's luminance.
pub fn confusion(ui: &mut egui::Ui, matrix: &[Vec<u64>], labels: &[String], size: f32) {
    let pal = Palette::of(ui);
    let k = matrix.len();
    if k == 0 {
        return;
    }
    let size = size.min(ui.available_width()).max(160.0);
    let label_w = 90.0;
    let cell = ((size - label_w) / k as f32).clamp(36.0, 120.0);
    let total = label_w + cell * k as f32;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(total, total + 20.0), Sense::hover());
    let painter = ui.painter_at(rect);
    let font = egui::TextStyle::Body.resolve(ui.style());
    let small = egui::TextStyle::Small.resolve(ui.style());
    let text = ui.visuals().strong_text_color();
    let panel = ui.visuals().panel_fill;
    painter.text(
        rect.left_top() + egui::vec2(label_w + cell * k as f32 / 2.0, 8.0),
        egui::Align2::CENTER_CENTER,
        "predicted",
        small.clone(),
        pal.muted,
    );
    let top = rect.top() + 20.0;
    for (i, row) in matrix.iter().enumerate() {
        let row_total: u64 = row.iter().sum();
        let y = top + cell * i as f32;
        painter.text(
            egui::pos2(rect.left() + label_w - 8.0, y + cell / 2.0),
            egui::Align2::RIGHT_CENTER,
            format!("actual {}", labels.get(i).map_or("?", String::as_str)),
            small.clone(),
            text,
        );
        for (j, &count) in row.iter().enumerate() {
            let rate = if row_total > 0 {
                count as f64 / row_total as f64
            } else {
                0.0
            };
            let fill = confusion_fill(&pal, ui.visuals().dark_mode, i == j, rate);
            let ink = super::contrast::text_on(super::contrast::over(fill, panel));
            let r = egui::Rect::from_min_size(
                egui::pos2(rect.left() + label_w + cell * j as f32, y),
                egui::vec2(cell - 2.0, cell - 2.0),
            );
            painter.rect_filled(r, 4.0, fill);
            painter.text(
                r.center() - egui::vec2(0.0, 8.0),
                egui::Align2::CENTER_CENTER,
                super::format::count(count as usize),
                font.clone(),
                ink,
            );
            painter.text(
                r.center() + egui::vec2(0.0, 10.0),
                egui::Align2::CENTER_CENTER,
                super::format::pct(rate),
                small.clone(),
                ink,
            );
            let hovered = ui.rect_contains_pointer(r);
            if hovered {
                painter.rect_stroke(
                    r,
                    4.0,
                    Stroke::new(2.0, pal.accent),
                    egui::StrokeKind::Inside,
                );
            }
        }
        for (j, l) in labels.iter().enumerate().take(k) {
            if i + 1 == k {
                painter.text(
                    egui::pos2(
                        rect.left() + label_w + cell * j as f32 + cell / 2.0,
                        top + cell * k as f32 + 2.0,
                    ),
                    egui::Align2::CENTER_TOP,
                    l,
                    small.clone(),
                    text,
                );
            }
        }
    }
    ui.label(
        RichText::new("cells: count and share of the actual class (row)")
            .small()
            .color(pal.muted),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui_plot::Corner;

    #[test]
    fn the_legend_goes_where_no_curve_is() {
        // A ROC curve fills the upper left; the diagonal the middle: lower right is empty.
        let x = [0.0, 0.05, 0.2, 0.5, 1.0];
        let y = [0.0, 0.5, 0.8, 0.95, 1.0];
        let roc = [Curve {
            name: String::new(),
            x: &x,
            y: &y,
            colour: None,
        }];
        let diag: Vec<[f64; 2]> = (0..=10).map(|k| [k as f64 / 10.0; 2]).collect();
        let c = empty_corner(&curve_points(&roc, &diag), [0.0, 1.0], [0.0, 1.0]);
        assert!(matches!(c, Corner::RightBottom), "{c:?}");
        // A precision–recall curve falls from the upper left to the lower right, the
        // no-skill line lies low: the upper right is empty.
        let r = [0.0, 0.3, 0.6, 0.9, 1.0];
        let p = [1.0, 0.85, 0.55, 0.35, 0.24];
        let pr = [Curve {
            name: String::new(),
            x: &r,
            y: &p,
            colour: None,
        }];
        let skill: Vec<[f64; 2]> = (0..=10).map(|k| [k as f64 / 10.0, 0.24]).collect();
        let c = empty_corner(&curve_points(&pr, &skill), [0.0, 1.0], [0.0, 1.0]);
        assert!(matches!(c, Corner::RightTop), "{c:?}");
    }
}

#[cfg(test)]
mod grid_tests {
    #[test]
    fn grid_steps_are_nice_and_nested() {
        assert_eq!(super::nice(0.03), 0.05);
        assert_eq!(super::nice(0.2), 0.2);
        assert_eq!(super::nice(7.0), 10.0);
        assert!((super::down(0.2) - 0.1).abs() < 1e-12);
        assert!((super::down(0.1) - 0.05).abs() < 1e-12);
        assert!((super::down(0.5) - 0.1).abs() < 1e-12);
    }
}

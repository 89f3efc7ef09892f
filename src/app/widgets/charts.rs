//! Charts for group comparisons: bars with interval whiskers and an overall line (the
//! two-attribute heat map is in `heat.rs`).

use eframe::egui::{self, Color32, RichText};
use egui_plot::{Bar, BarChart, Line, Plot, PlotPoints, VLine};

use super::theme::Palette;

// The two-attribute heat map lives in `heat.rs`; its old paths still work.
pub use super::heat::{heat_fill, heat_map, HEAT_SPAN};

/// One bar: label, value (None: undefined), interval, rows, too small to judge.
pub struct GroupBar {
    pub label: String,
    pub value: Option<f64>,
    pub ci: Option<[f64; 2]>,
    pub count: usize,
    pub too_small: bool,
}

/// A static horizontal-bar plot whose y axis names `names` (the first at the top).
fn category_plot(id: &str, h: f32, axis: &str, names: Vec<String>) -> Plot<'static> {
    let n = names.len();
    Plot::new(id.to_string())
        .x_grid_spacer(super::plots::nice_grid)
        .custom_x_axes(vec![super::plots::x_axis(axis)])
        .custom_y_axes(vec![super::plots::y_axis("")])
        // Every category labelled at full contrast (egui_plot would fade labels of a fine
        // step; a huge step size reads as "far apart").
        .y_grid_spacer(move |input| {
            let (lo, hi) = input.bounds;
            (0..n)
                .map(|i| i as f64)
                .filter(|v| *v >= lo - 0.5 && *v <= hi + 0.5)
                .map(|value| egui_plot::GridMark {
                    value,
                    step_size: 1e6,
                })
                .collect()
        })
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .show_grid([true, false])
        .y_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                names[n - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .include_x(0.0)
}

/// Bars per group with 95% whiskers; the overall value as a dashed line.
pub fn group_bars(
    ui: &mut egui::Ui,
    id: &str,
    metric: &str,
    bars: &[GroupBar],
    overall: Option<f64>,
    h: f32,
) {
    let pal = Palette::of(ui);
    let names: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let n = names.len();
    let chart: Vec<Bar> = bars
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            let v = b.value?;
            let ci =
                b.ci.map_or(String::new(), |[l, h]| format!("\n95% CI [{l:.4}, {h:.4}]"));
            let small = if b.too_small {
                "\ntoo small to judge"
            } else {
                ""
            };
            Some(
                Bar::new((n - 1 - i) as f64, v)
                    .width(0.7)
                    .name(format!(
                        "{}\n{metric} {v:.4}{ci}\nrows {}{small}",
                        b.label, b.count
                    ))
                    .fill(if b.too_small {
                        pal.muted.gamma_multiply(0.6)
                    } else {
                        pal.series[0]
                    }),
            )
        })
        .collect();
    category_plot(id, h, metric, names).show(ui, |p| {
        p.add(
            BarChart::new(metric.to_string(), chart)
                .color(pal.series[0])
                .horizontal(),
        );
        for (i, b) in bars.iter().enumerate() {
            if let Some([lo, hi]) = b.ci {
                let y = (n - 1 - i) as f64;
                let whisker: PlotPoints = vec![[lo, y], [hi, y]].into();
                p.add(
                    Line::new("95% CI", whisker)
                        .color(pal.warn)
                        .width(2.0)
                        .allow_hover(false),
                );
                for x in [lo, hi] {
                    let cap: PlotPoints = vec![[x, y - 0.15], [x, y + 0.15]].into();
                    p.add(
                        Line::new("95% CI", cap)
                            .color(pal.warn)
                            .width(2.0)
                            .allow_hover(false),
                    );
                }
            }
        }
        if let Some(o) = overall {
            p.add(
                VLine::new(format!("overall {o:.3}"), o)
                    .color(pal.muted)
                    .style(egui_plot::LineStyle::dashed_loose()),
            );
        }
    });
    // The key below the plot, never over the bars.
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("bars").color(pal.series[0]).strong());
        ui.label(RichText::new(metric).small());
        ui.label(RichText::new("whiskers").color(pal.warn).strong());
        ui.label(RichText::new("95% interval").small());
        if let Some(o) = overall {
            ui.label(RichText::new("dashed line").color(pal.muted).strong());
            ui.label(RichText::new(format!("overall {}", super::format::metric(Some(o)))).small());
        }
    });
}

/// One series of [`grouped_bars`]: a name and, per category, a value and its interval.
pub struct BarSeries {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub ci: Vec<Option<[f64; 2]>>,
    /// The model's colour (`Palette::model`); `None`: the s-th series colour.
    pub colour: Option<Color32>,
}

/// Horizontal bars, one group per category and one bar per series (e.g. per model), with
/// interval whiskers; hover shows the exact value and interval.
pub fn grouped_bars(
    ui: &mut egui::Ui,
    id: &str,
    axis: &str,
    categories: &[String],
    series: &[BarSeries],
    h: f32,
) {
    bars_on_scale(ui, id, axis, categories, series, h, false);
}

/// [`grouped_bars`] on a log10 axis, for values that span decades (throughput): every bar
/// stays visible; ticks at powers of ten.
pub fn grouped_bars_log(
    ui: &mut egui::Ui,
    id: &str,
    axis: &str,
    categories: &[String],
    series: &[BarSeries],
    h: f32,
) {
    bars_on_scale(ui, id, axis, categories, series, h, true);
}

fn bars_on_scale(
    ui: &mut egui::Ui,
    id: &str,
    axis: &str,
    categories: &[String],
    series: &[BarSeries],
    h: f32,
    log: bool,
) {
    let pal = Palette::of(ui);
    let tx = |v: f64| if log { v.max(1e-12).log10() } else { v };
    // Bars start at 0 (linear) or at 10^0 = 1 (log), lower when a value is below 1.
    let base = if log {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .map(|&v| tx(v).floor())
            .fold(0.0f64, f64::min)
    } else {
        0.0
    };
    let n = categories.len();
    let k = series.len().max(1);
    let width = 0.8 / k as f64;
    let names: Vec<String> = categories.to_vec();
    let y_of = |cat: usize, s: usize| (n - 1 - cat) as f64 + 0.4 - width * (s as f64 + 0.5);
    // No legend inside: bars fill the plot from its axis, so no corner is free; the key
    // is drawn below it.
    let plot = category_plot(id, h, axis, names);
    let plot = if log {
        plot.include_x(base)
            .x_grid_spacer(|input: egui_plot::GridInput| {
                let (lo, hi) = input.bounds;
                // Every decade a line, every other one a label.
                (lo.floor() as i64..=hi.ceil() as i64)
                    .map(|k| egui_plot::GridMark {
                        value: k as f64,
                        step_size: if k % 2 == 0 { 2.0 } else { 1.0 },
                    })
                    .collect()
            })
            .x_axis_formatter(|m, _| decade(m.value))
    } else {
        plot
    };
    plot.show(ui, |p| {
        for (s, ser) in series.iter().enumerate() {
            let colour = ser.colour.unwrap_or(pal.series[s % 6]);
            let bars: Vec<Bar> = ser
                .values
                .iter()
                .enumerate()
                .filter_map(|(c, v)| {
                    let v = (*v)?;
                    let ci = ser
                        .ci
                        .get(c)
                        .copied()
                        .flatten()
                        .map_or(String::new(), |[l, h]| {
                            format!("\ninterval [{l:.4}, {h:.4}]")
                        });
                    Some(
                        Bar::new(y_of(c, s), tx(v) - base)
                            .base_offset(base)
                            .width(width * 0.9)
                            .name(format!("{}\n{}: {v:.4}{ci}", categories[c], ser.name))
                            .fill(colour),
                    )
                })
                .collect();
            p.add(
                BarChart::new(ser.name.clone(), bars)
                    .color(colour)
                    .horizontal(),
            );
            for (c, ci) in ser.ci.iter().enumerate() {
                let Some([lo, hi]) = *ci else { continue };
                let y = y_of(c, s);
                let whisker: PlotPoints = vec![[tx(lo), y], [tx(hi), y]].into();
                p.add(
                    Line::new("interval", whisker)
                        .color(pal.muted)
                        .width(1.5)
                        .allow_hover(false),
                );
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        for (s, ser) in series.iter().enumerate() {
            let colour = ser.colour.unwrap_or(pal.series[s % 6]);
            ui.label(RichText::new(&ser.name).color(colour).strong());
        }
        if series.iter().any(|s| s.ci.iter().any(Option::is_some)) {
            ui.label(RichText::new("whiskers: interval").small().color(pal.muted));
        }
    });
}

/// One line of [`lines`]: its name, points, and the model's colour (`None`: the i-th).
pub type LineSeries = (String, Vec<[f64; 2]>, Option<Color32>);

/// Lines through points, one per series (e.g. flip rate against noise scale per model).
pub fn lines(
    ui: &mut egui::Ui,
    id: &str,
    x_label: &str,
    y_label: &str,
    series: &[LineSeries],
    h: f32,
) {
    let pal = Palette::of(ui);
    let (xl, yl) = (x_label.to_string(), y_label.to_string());
    Plot::new(id.to_string())
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .x_grid_spacer(super::plots::nice_grid)
        .y_grid_spacer(super::plots::nice_grid)
        .x_axis_formatter(super::plots::tick)
        .y_axis_formatter(super::plots::tick)
        .x_axis_label(x_label.to_string())
        .y_axis_label(y_label.to_string())
        .label_formatter(move |hover: &egui_plot::HoverPosition| match hover {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{xl} {:.4}\n{yl} {:.4}",
                position.x, position.y
            )),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .legend(egui_plot::Legend::default().position(lines_corner(series)))
        .show(ui, |p| {
            for (i, (name, pts, colour)) in series.iter().enumerate() {
                let colour = colour.unwrap_or(pal.series[i % 6]);
                p.add(
                    Line::new(name.clone(), PlotPoints::from(pts.clone()))
                        .color(colour)
                        .width(2.0),
                );
                p.add(
                    egui_plot::Points::new(name.clone(), PlotPoints::from(pts.clone()))
                        .color(colour)
                        .radius(3.5),
                );
            }
        });
}

/// The emptiest corner of a line chart (segments sampled), for its legend.
fn lines_corner(series: &[LineSeries]) -> egui_plot::Corner {
    let mut pts = Vec::new();
    for (_, p, _) in series {
        for w in p.windows(2) {
            for k in 0..8 {
                let t = k as f64 / 8.0;
                pts.push([
                    w[0][0] + t * (w[1][0] - w[0][0]),
                    w[0][1] + t * (w[1][1] - w[0][1]),
                ]);
            }
        }
        pts.extend(p.last().copied());
    }
    let range = |k: usize| {
        let lo = pts
            .iter()
            .map(|p| p[k])
            .fold(f64::INFINITY, f64::min)
            .min(0.0);
        let hi = pts.iter().map(|p| p[k]).fold(f64::NEG_INFINITY, f64::max);
        [lo, if hi.is_finite() { hi * 1.05 } else { 1.0 }]
    };
    super::plots::empty_corner(&pts, range(0), range(1))
}

/// A power of ten, short enough for a tick: `1`, `100`, `10k`, `1M`, `100M`, `1e12`.
fn decade(k: f64) -> String {
    let k = k.round() as i32;
    match k {
        i32::MIN..=-1 => format!("1e{k}"),
        0..=2 => format!("{}", 10i64.pow(k as u32)),
        3..=5 => format!("{}k", 10i64.pow((k - 3) as u32)),
        6..=8 => format!("{}M", 10i64.pow((k - 6) as u32)),
        _ => format!("1e{k}"),
    }
}

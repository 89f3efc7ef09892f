//! Explanation plots drawn with egui_plot: the dependence scatter (SHAP value against the
//! feature's value, coloured by another feature) and partial dependence with ICE lines.

use eframe::egui::{self, RichText};
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoints, Points};

use super::shap::{colour_scale, value_colour};
use super::theme::Palette;

/// Dependence plot: SHAP value of one feature against its value, coloured by another
/// feature's value (in 8 colour bands, each a series).
pub fn dependence(
    ui: &mut egui::Ui,
    id: &str,
    feature: &str,
    x: &[f64],
    phi: &[f64],
    colour_by: Option<(&str, &[Option<f64>])>,
    h: f32,
) {
    let pal = Palette::of(ui);
    let bands = 8usize;
    let mut series: Vec<Vec<[f64; 2]>> = vec![Vec::new(); bands + 1];
    let scale = colour_by.map(|(_, v)| colour_scale(v.iter().copied()));
    for (i, (&xi, &pi)) in x.iter().zip(phi).enumerate() {
        if !xi.is_finite() || !pi.is_finite() {
            continue;
        }
        let band = match (colour_by, scale) {
            (Some((_, v)), Some((lo, hi))) => match v.get(i).copied().flatten() {
                Some(c) if c.is_finite() => {
                    let t = ((c - lo) / (hi - lo)).clamp(0.0, 1.0);
                    ((t * (bands - 1) as f64).round() as usize).min(bands - 1)
                }
                _ => bands,
            },
            _ => bands / 2,
        };
        series[band].push([xi, pi]);
    }
    let by = colour_by.map(|(n, _)| n.to_string());
    Plot::new(id.to_string())
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .x_axis_label(feature.to_string())
        .y_axis_label(format!("SHAP value of {feature}"))
        .label_formatter(|hover: &HoverPosition| match hover {
            HoverPosition::NearDataPoint { position, .. } => {
                Some(format!("value {:.4}\nSHAP {:.6}", position.x, position.y))
            }
            HoverPosition::Elsewhere { .. } => None,
        })
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .show(ui, |p| {
            p.add(
                egui_plot::HLine::new("zero", 0.0)
                    .color(pal.muted.gamma_multiply(0.6))
                    .allow_hover(false),
            );
            for (b, pts) in series.into_iter().enumerate() {
                if pts.is_empty() {
                    continue;
                }
                let (name, colour) = if b == bands {
                    ("missing or text".to_string(), pal.muted)
                } else {
                    let t = b as f32 / (bands - 1) as f32;
                    let name = match (&by, b) {
                        (Some(n), 0) => format!("{n} low"),
                        (Some(n), k) if k == bands - 1 => format!("{n} high"),
                        (Some(_), _) => format!("band {}", b + 1),
                        (None, _) => "rows".into(),
                    };
                    (
                        name,
                        if by.is_some() {
                            value_colour(t)
                        } else {
                            pal.series[0]
                        },
                    )
                };
                p.add(
                    Points::new(name, PlotPoints::from(pts))
                        .radius(2.2)
                        .color(colour),
                );
            }
        });
}

/// Partial dependence (thick) over individual conditional expectation lines (thin).
#[allow(clippy::too_many_arguments)]
pub fn pdp(
    ui: &mut egui::Ui,
    id: &str,
    feature: &str,
    grid: &[f64],
    average: &[f64],
    ice: &[Vec<f64>],
    y_label: &str,
    h: f32,
) {
    let pal = Palette::of(ui);
    let line = |ys: &[f64]| -> PlotPoints<'static> {
        grid.iter().zip(ys).map(|(&x, &y)| [x, y]).collect()
    };
    Plot::new(id.to_string())
        .height(h)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .x_axis_label(feature.to_string())
        .y_axis_label(y_label.to_string())
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .show(ui, |p| {
            let ice_colour = pal.muted.gamma_multiply(0.35);
            for (i, ys) in ice.iter().enumerate() {
                let name = if i == 0 {
                    "ICE (one line per row)"
                } else {
                    "ICE"
                };
                p.add(
                    Line::new(name, line(ys))
                        .color(ice_colour)
                        .width(1.0)
                        .allow_hover(false),
                );
            }
            p.add(
                Line::new("partial dependence", line(average))
                    .color(pal.series[1])
                    .width(3.0),
            );
            p.add(
                Points::new("grid", line(average))
                    .color(pal.series[1])
                    .radius(3.0),
            );
        });
    ui.label(
        RichText::new("thick: average prediction as the feature is set to each grid value; thin: the same for single rows")
            .small()
            .color(pal.muted),
    );
}

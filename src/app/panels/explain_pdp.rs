//! The Explain page's partial dependence and permutation importance views.

use eframe::egui::{self, RichText};

use crate::app::widgets::charts::{self, GroupBar};
use crate::app::widgets::shap_plots;
use crate::app::widgets::theme::Palette;
use crate::engine::explain::importance::Importance;
use crate::engine::explain::pdp::PartialDependence;
use crate::engine::explain::OutputSpace;

/// ICE lines drawn at most (evenly chosen); the average uses every row.
const MAX_ICE_LINES: usize = 150;

pub fn draw(ui: &mut egui::Ui, p: &PartialDependence, h: f32) {
    let pal = Palette::of(ui);
    let (Some(feature), Some(grid)) = (p.features.first(), p.grid.first()) else {
        return;
    };
    let ice: Vec<Vec<f64>> = p.individual.as_ref().map_or_else(Vec::new, |rows| {
        let step = rows.len().div_ceil(MAX_ICE_LINES).max(1);
        rows.iter().step_by(step).cloned().collect()
    });
    let y = match (p.output_space, &p.class_label) {
        (OutputSpace::Probability, Some(c)) => format!("predicted probability of {c}"),
        (OutputSpace::Raw, Some(c)) => format!("log-odds of {c}"),
        _ => "prediction".to_string(),
    };
    shap_plots::pdp(ui, "pdp_plot", feature, grid, &p.average, &ice, &y, h);
    ui.label(
        RichText::new(format!(
            "average over {} rows; {} of them drawn as ICE lines; grid from the 5th to the 95th percentile",
            p.rows,
            ice.len()
        ))
        .small()
        .color(pal.muted),
    );
}

pub fn importance(ui: &mut egui::Ui, imp: &Importance, h: f32) {
    let pal = Palette::of(ui);
    ui.label(
        RichText::new(format!(
            "drop in {} (baseline {:.4}) when each feature is shuffled; {} repeats on {} rows (seed {}); whiskers: mean ± one standard deviation",
            imp.metric, imp.baseline_score, imp.repeats, imp.rows, imp.seed
        ))
        .color(pal.muted),
    );
    let mut features: Vec<_> = imp.features.iter().collect();
    features.sort_by(|a, b| b.importances_mean.total_cmp(&a.importances_mean));
    let bars: Vec<GroupBar> = features
        .iter()
        .map(|f| GroupBar {
            label: f.feature.clone(),
            value: Some(f.importances_mean),
            ci: Some([
                f.importances_mean - f.importances_std,
                f.importances_mean + f.importances_std,
            ]),
            count: imp.rows,
            too_small: false,
        })
        .collect();
    let h = (bars.len() as f32 * 26.0 + 60.0).max(h);
    charts::group_bars(
        ui,
        "perm_importance",
        &format!("decrease in {}", imp.metric),
        &bars,
        None,
        h,
    );
}

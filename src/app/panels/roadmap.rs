//! Pages whose analyses are not built yet: what they will do and which roadmap issue brings
//! them. No placeholder numbers.

use eframe::egui::{self, RichText};

use crate::app::state::Page;
use crate::app::widgets::theme::Palette;

pub fn roadmap_ui(ui: &mut egui::Ui, page: Page) {
    let pal = Palette::of(ui);
    let (issue, what): (&str, &[&str]) = match page {
        Page::Fairness => (
            "#4 Bias slices",
            &[
                "Per-group metrics for each sensitive attribute and their intersections, with bootstrap intervals",
                "Demographic parity, equalized odds and equal opportunity, checked against a policy you set",
                "Weak-slice discovery: the feature ranges where the model does worst",
            ],
        ),
        Page::Explain => (
            "#5 Explanations",
            &[
                "Native TreeSHAP on ONNX tree ensembles; exact, Kernel and Permutation SHAP for any model",
                "Beeswarm, importance bars, waterfall for one row, dependence and PDP/ICE plots",
                "A tree viewer with the path a selected row takes",
            ],
        ),
        Page::Drift => (
            "#6 Drift and data quality",
            &[
                "Reference vs current per column: KS, chi-square, Wasserstein, Jensen–Shannon, PSI",
                "Overlaid histograms, drift over time, and a data-quality summary",
            ],
        ),
        Page::Compare => (
            "#7 Compare versions",
            &[
                "Metric deltas with paired bootstrap intervals, McNemar and DeLong tests",
                "Slice regressions, latency and robustness, and a promotion gate",
            ],
        ),
        Page::Package => (
            "#8 Signed deployment package",
            &[
                "Model, evidence, model card, sign-off and audit log sealed with an OpenSSF-compatible signature",
                "Triton and KServe descriptors generated from the model's signature",
            ],
        ),
        _ => ("", &[]),
    };
    ui.heading(page.label());
    ui.add_space(8.0);
    ui.label(
        RichText::new(format!(
            "Not built yet — arrives with roadmap issue {issue}."
        ))
        .color(pal.warn),
    );
    ui.add_space(6.0);
    ui.label("This page will show:");
    for w in what {
        ui.label(format!("  •  {w}"));
    }
    ui.add_space(6.0);
    ui.label(
        RichText::new("Assay never shows placeholder numbers.")
            .small()
            .color(pal.muted),
    );
}

//! Every page of the demo workspace at 1280×720 — dark, light, and in presentation mode —
//! as snapshot images (docs/UI.md: each page opens at its top with its headline visible).
#![cfg(feature = "gui")]
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

mod common;

use assay::app::state::Page;
use assay::app::{AssayApp, Options};
use common::{nav, settle};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn app_1280(dark: bool, presentation: bool) -> Harness<'static, AssayApp> {
    // Presentation mode zooms the window: a 1280×720 screen holds 1280/zoom × 720/zoom points.
    let zoom = if presentation {
        assay::app::widgets::theme::PRESENTATION_ZOOM
    } else {
        1.0
    };
    let mut h = Harness::builder()
        .with_size([1280.0 / zoom, 720.0 / zoom])
        .wgpu()
        .build_eframe(move |cc| {
            let mut app = AssayApp::new(
                &cc.egui_ctx,
                Options {
                    paths: Vec::new(),
                    settings_path: None,
                },
            );
            app.state.dark = dark;
            app.state.presentation = presentation;
            // Fixed paths, so the Package page's image does not depend on the machine.
            app.pages.package.key_path = "/home/reviewer/.config/assay/signing-key.pem".into();
            app.pages.package.out_dir = "/home/reviewer/reviews/adult_logreg-package".into();
            app
        });
    settle(&mut h);
    h
}

fn every_page(mode: &str, dark: bool, presentation: bool) {
    let mut h = app_1280(dark, presentation);
    let mut errors = Vec::new();
    for page in Page::ALL {
        nav(&mut h, page.label());
        assert_eq!(h.state().state.page, page);
        // The page opens at its top: its heading is on screen.
        h.run_steps(2);
        let name = format!("page_{}_{mode}", page.label().to_lowercase());
        if let Err(e) = h.try_snapshot(&name) {
            errors.push(e.to_string());
        }
    }
    assert!(
        h.state().state.errors.is_empty(),
        "{:?}",
        h.state()
            .state
            .errors
            .iter()
            .map(|e| &e.text)
            .collect::<Vec<_>>()
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn every_page_at_1280x720_dark() {
    every_page("dark", true, false);
}

#[test]
fn every_page_at_1280x720_light() {
    every_page("light", false, false);
}

#[test]
fn every_page_at_1280x720_presentation() {
    every_page("presentation", true, true);
}

/// The views behind tabs and selections that the page snapshots do not reach: the fairness
/// heat map, the waterfall, the tree viewer on a row's path, Compare's disagreements and
/// promotion gate (naming its failing groups), a jump to a row on the Data page, and the
/// Overview's column roles.
#[test]
fn detail_views_at_1280x720() {
    use assay::app::state::{CompareView, ExplainView};
    let mut h = app_1280(true, false);
    let mut errors = Vec::new();
    let mut shot = |h: &mut Harness<'static, AssayApp>, name: &str| {
        h.run_steps(3);
        if let Err(e) = h.try_snapshot(name) {
            errors.push(e.to_string());
        }
    };
    nav(&mut h, "Fairness");
    h.get_by_label("sex × race").click();
    settle(&mut h);
    shot(&mut h, "detail_fairness_heat_map");
    nav(&mut h, "Explain");
    h.state_mut().pages.explain.view = ExplainView::Row;
    settle(&mut h);
    shot(&mut h, "detail_explain_waterfall");
    // adult_gbdt v1.0 is a tree ensemble: its trees with the row's path.
    h.state_mut().state.select_model(1);
    h.state_mut().pages.explain.view = ExplainView::Trees;
    settle(&mut h);
    shot(&mut h, "detail_explain_tree");
    nav(&mut h, "Compare");
    h.state_mut().pages.compare.view = CompareView::Disagreements;
    settle(&mut h);
    shot(&mut h, "detail_compare_disagreements");
    h.state_mut().pages.compare.view = CompareView::Gate;
    settle(&mut h);
    shot(&mut h, "detail_compare_gate");
    h.state_mut().pages.compare.view = CompareView::Disagreements;
    settle(&mut h);
    h.get_all_by_label("Show in data")
        .next()
        .expect("a disagreement row")
        .click();
    settle(&mut h);
    assert_eq!(h.state().state.page, Page::Data);
    shot(&mut h, "detail_data_jump");
    nav(&mut h, "Overview");
    h.set_size(eframe::egui::vec2(1280.0, 1100.0));
    settle(&mut h);
    shot(&mut h, "detail_overview_roles");
    assert!(errors.is_empty(), "{errors:#?}");
}

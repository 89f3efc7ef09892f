//! The Explain and Compare pages, reviewer notes and the report export, driven headless on
//! the demo workspace (egui_kittest), with snapshot images of both pages.
#![cfg(feature = "gui")]
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use assay::app::state::{Page, Slot};
use assay::engine::analysis::Output;
use assay::engine::explain::Method;
use assay::engine::report::notes::Finding;
use egui_kittest::kittest::Queryable;

mod common;
use common::{app, nav, settle};

#[test]
fn explain_page_draws_treeshap_with_a_waterfall_and_the_tree_path() {
    let mut h = app(Vec::new(), true);
    // The demo's second model is the boosted-trees v1.
    h.state_mut().state.select_model(1);
    nav(&mut h, "Explain");
    assert_eq!(h.state().state.page, Page::Explain);
    let s = &h.state().state;
    let key = s
        .planner()
        .explanation(s.selected_index())
        .expect("inputs loaded")
        .key;
    let Some(Slot::Ready(Output::Explanation(e))) = s.cache.get(&key) else {
        panic!("the explanation did not finish")
    };
    assert_eq!(e.method, Method::Tree, "a GBM is explained with TreeSHAP");
    assert_eq!(e.values.len(), 200);
    assert!(
        e.additivity_max_abs_error < 1e-9,
        "{}",
        e.additivity_max_abs_error
    );
    h.get_by_label("Mean |SHAP value| per feature");
    h.get_by_label_contains("additivity: base + Σφ = output");
    h.snapshot("explain_dark");

    h.get_by_label("One row").click();
    h.run_steps(3);
    h.get_by_label_contains("from the base value to the model output");
    h.get_by_label("Fit a local surrogate (LIME-style)").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("Local surrogate: R²");

    h.get_by_label("Trees").click();
    h.run_steps(3);
    h.get_by_label_contains("depth 3");
    h.get_by_label_contains("path of row 1 highlighted");

    h.get_by_label("Dependence").click();
    h.run_steps(3);
    h.get_by_label("Colour by");

    h.get_by_label("Partial dependence").click();
    h.run_steps(2);
    settle(&mut h);
    h.get_by_label_contains("average over 1000 rows");
}

#[test]
fn compare_page_shows_paired_deltas_tests_groups_and_the_gate() {
    let mut h = app(Vec::new(), false);
    nav(&mut h, "Compare");
    let s = &h.state().state;
    let key = s.planner().comparison().expect("every model loaded").key;
    let Some(Slot::Ready(Output::Comparison(c))) = s.cache.get(&key) else {
        panic!("the comparison did not finish")
    };
    assert_eq!(c.models.len(), 5);
    assert!(!c.pairs.is_empty());
    h.get_by_label("Δ (B − A)");
    h.get_by_label_contains("McNemar");
    h.get_by_label_contains("DeLong");
    h.get_by_label("ROC curves");
    h.snapshot("compare_light");

    h.get_by_label("Groups").click();
    h.run_steps(3);
    h.get_by_label_contains("Per-group change");

    // Explanation shift: every model explained on 50 rows, rankings side by side.
    h.state_mut().state.workspace.settings.explain.rows = 50;
    h.get_by_label("Explanations").click();
    h.run_steps(2);
    h.get_by_label("Explain every model").click();
    for _ in 0..20 {
        h.run_steps(2);
        settle(&mut h);
    }
    h.get_by_label("rank change, first to last");
    h.get_by_label_contains("adult_gbdt v1.0: Tree in Probability space");

    // Speed: two models measured, each in its own colour, throughput on a log axis.
    h.get_by_label("Speed").click();
    h.run_steps(2);
    for model in ["adult_logreg v1.0", "adult_gbdt v1.0"] {
        h.get_by_label(&format!("Measure {model}")).click();
        h.run_steps(2);
        settle(&mut h);
    }
    h.get_by_label("Measure adult_logreg v1.0 again");
    // No snapshot: measured timings differ from run to run.
    h.get_by_label_contains("log scale");
    h.get_by_label("Single-row latency");

    h.get_by_label("Promotion gate").click();
    h.run_steps(3);
    h.get_by_label_contains("promote");
    h.get_by_label("Add rule");

    // Judge another pair: saved in the workspace, the comparison recomputed for it.
    h.get_by_label("Judge").click();
    h.run_steps(2);
    h.get_by_label("adult_gbdt v1.0 over adult_logreg v1.0")
        .click();
    h.run_steps(2);
    settle(&mut h);
    let s = &h.state().state;
    assert_eq!(
        s.workspace.gate_pair,
        Some(("adult_logreg v1.0".into(), "adult_gbdt v1.0".into()))
    );
    let key = s.planner().comparison().expect("every model loaded").key;
    let Some(Slot::Ready(Output::Comparison(c))) = s.cache.get(&key) else {
        panic!("the comparison for the chosen pair did not finish")
    };
    assert_eq!(
        (c.gate.baseline.as_str(), c.gate.candidate.as_str()),
        ("adult_logreg v1.0", "adult_gbdt v1.0")
    );
    h.get_by_label_contains("promote adult_gbdt v1.0 over adult_logreg v1.0");
}

#[test]
fn a_note_pinned_on_the_evaluate_page_is_saved_and_goes_into_the_exported_report() {
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Evaluate");
    h.get_by_label("Pin a note").click();
    h.run_steps(3);
    h.get_by_label("Author").click();
    h.run_steps(1);
    h.get_by_label("Author").type_text("Dana (risk)");
    h.get_by_label("Note").click();
    h.run_steps(1);
    h.get_by_label("Note")
        .type_text("AUC interval is wide: ask for more data");
    h.run_steps(2);
    h.get_by_label("Pin note").click();
    h.run_steps(3);
    let notes = h.state().state.workspace.notes.clone();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].author, "Dana (risk)");
    assert!(matches!(notes[0].finding, Finding::Metric { .. }));
    assert!(h.state().state.dirty, "a note is a change to save");
    h.get_by_label("AUC interval is wide: ask for more data");

    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("review.html");
    assay::app::report_job::request_report(&mut h.state_mut().state, out.clone());
    settle(&mut h);
    let html = std::fs::read_to_string(&out).expect("report written");
    assert!(html.contains("AUC interval is wide: ask for more data"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    let msg = h.state().state.message.clone().expect("a confirmation");
    assert!(msg.contains("review.html"), "{msg}");
}

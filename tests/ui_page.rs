//! One page drawn on its own, without ONNX Runtime and without the demo's models: a `State`
//! whose caches hold two small datasets and an engine drift result, and the Drift page drawn
//! from it (egui_kittest, no GPU: accessibility tree only).
#![cfg(feature = "gui")]
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assay::app::jobs::Jobs;
use assay::app::panels::Pages;
use assay::app::state::{Page, Slot, State};
use assay::engine::analysis::{LoadedData, Output};
use assay::engine::workspace::{DatasetRole, Workspace};
use assay::engine::Progress;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn write(path: &Path, shift: f64) {
    let mut text = String::from("x,colour,label\n");
    for i in 0..400 {
        let x = (i % 50) as f64 + if i % 3 == 0 { shift } else { 0.0 };
        let colour = ["red", "green", "blue"][(i + (shift as usize)) % 3];
        text.push_str(&format!("{x},{colour},{}\n", i % 2));
    }
    std::fs::write(path, text).expect("write csv");
}

/// A state with reference and current data loaded and the drift analysis already in the
/// cache (as a finished job would leave it).
fn state_with_drift(dir: &Path) -> (State, Arc<assay::engine::drift::DriftReport>) {
    let reference: PathBuf = dir.join("reference.csv");
    let current: PathBuf = dir.join("current.csv");
    write(&reference, 0.0);
    write(&current, 25.0);
    let mut ws = Workspace::default();
    ws.add_dataset(&reference, DatasetRole::Reference);
    ws.add_dataset(&current, DatasetRole::Current);
    ws.settings.drift_with_model = false;
    let mut state = State::new(ws, Jobs::new(Arc::new(|| {})));
    for p in [&reference, &current] {
        let loaded = LoadedData::load(p, &Progress::none()).expect("load");
        state
            .loaded
            .datasets
            .insert(p.clone(), Slot::Ready(Arc::new(loaded)));
    }
    let request = state.planner().drift().expect("drift planned");
    let key = request.key.clone();
    let out = request.run(&Progress::none()).expect("drift");
    let Output::Drift(report) = &out else {
        panic!("a drift report")
    };
    let report = report.clone();
    state.cache.insert(key, Slot::Ready(out));
    state.page = Page::Drift;
    (state, report)
}

/// The state with fresh pages (what the app owns), for `shell::frame_page`.
fn with_pages(state: State) -> (State, Pages) {
    let pages = Pages::new(&state);
    (state, pages)
}

#[test]
fn the_drift_page_draws_a_cached_engine_result_without_a_model_or_a_job() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (state, report) = state_with_drift(tmp.path());
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_ui_state(
            |ui, (state, pages): &mut (State, Pages)| {
                assay::app::shell::frame_page(ui, state, pages);
            },
            with_pages(state),
        );
    h.run_steps(3);
    assert!(
        h.state().0.jobs.is_idle(),
        "nothing recomputed: the cache had it"
    );
    let verdict = if report.dataset_drift {
        "Dataset drift detected"
    } else {
        "No dataset drift"
    };
    h.get_by_label(verdict);
    h.get_by_label_contains(&format!(
        "{} of {} columns drifted",
        report.n_drifted,
        report.columns.len()
    ));
    // The most drifted column (the engine's order) is the one shown in detail.
    let first = &report.columns[report.most_drifted_first()[0]];
    assert_eq!(
        h.state().1.drift.column.as_deref(),
        Some(first.name.as_str())
    );
}

#[test]
fn eviction_keeps_what_the_page_draws_and_retry_runs_a_failed_analysis_again() {
    use assay::app::state::Failure;
    use assay::engine::analysis::{Key, Kind};
    use assay::engine::ErrorKind;

    let tmp = tempfile::tempdir().expect("tmp");
    let (mut state, _) = state_with_drift(tmp.path());
    let shown = state.planner().drift().expect("planned").key;
    let drawn = state.cache.get(&shown).and_then(Slot::ready).cloned();
    let other = Key::new(Kind::Drift, Vec::new(), vec!["elsewhere".into()], &());
    state
        .cache
        .insert(other.clone(), Slot::Ready(drawn.expect("ready")));
    state.cache.budget = 0;
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_ui_state(
            |ui, (state, pages): &mut (State, Pages)| {
                assay::app::commands::sync(state);
                assay::app::shell::frame_page(ui, state, pages);
            },
            with_pages(state),
        );
    h.run_steps(4);
    assert!(
        h.state().0.cache.get(&shown).is_some(),
        "the result on screen is kept"
    );
    assert!(
        h.state().0.cache.get(&other).is_none(),
        "a result no page draws is evicted over budget"
    );

    // A cancelled analysis shows Retry, and Retry runs it again.
    h.state_mut().0.cache.budget = usize::MAX;
    h.state_mut().0.cache.insert(
        shown.clone(),
        Slot::Failed(Failure {
            kind: ErrorKind::Cancelled,
            text: "cancelled".into(),
        }),
    );
    h.run_steps(2);
    h.get_by_label("cancelled");
    h.get_by_label("Retry").click();
    h.run_steps(2);
    for _ in 0..500 {
        if matches!(h.state().0.cache.get(&shown), Some(Slot::Ready(_))) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.run_steps(1);
    }
    assert!(
        matches!(h.state().0.cache.get(&shown), Some(Slot::Ready(_))),
        "the retried drift finished"
    );
}

/// Three classes, two groups; the model is worse on group "b" (every third row wrong).
fn multiclass_fairness(dir: &Path) -> (LoadedData, assay::engine::analysis::FairnessResult) {
    use assay::engine::fairness::slices::{search, SliceSearchOptions};
    use assay::engine::fairness::stats::Outcomes;
    use assay::engine::fairness::{fairness_outcomes, FairnessOptions};
    let classes = ["setosa", "versicolor", "virginica"];
    let path = dir.join("iris_like.csv");
    let mut text = String::from("group,y_true\n");
    let (mut y, mut pred) = (Vec::new(), Vec::new());
    for i in 0..300u32 {
        let group = if i % 2 == 0 { "a" } else { "b" };
        let t = i % 3;
        let p = if group == "b" && i % 5 == 0 {
            (t + 1) % 3
        } else {
            t
        };
        text.push_str(&format!("{group},{}\n", classes[t as usize]));
        y.push(t);
        pred.push(p);
    }
    std::fs::write(&path, text).expect("write csv");
    let data = LoadedData::load(&path, &Progress::none()).expect("load");
    let outcomes = Outcomes::Multiclass {
        y,
        pred,
        classes: classes.iter().map(|c| c.to_string()).collect(),
    };
    let mut opts = FairnessOptions::new("y_true", vec![vec!["group".into()]]);
    opts.bootstrap.resamples = 50;
    let ds = data.in_memory().expect("a small file is held");
    let report =
        fairness_outcomes(ds, &outcomes, None, &opts, &Progress::none()).expect("fairness");
    let slices = search(
        ds,
        &outcomes,
        None,
        &SliceSearchOptions::new("y_true"),
        &Progress::none(),
    )
    .expect("slices");
    (
        data,
        assay::engine::analysis::FairnessResult { report, slices },
    )
}

#[test]
fn the_fairness_page_draws_a_multiclass_result_per_class() {
    use assay::app::command::CommandSender;
    use assay::app::panels::fairness::FairnessPage;
    let tmp = tempfile::tempdir().expect("tmp");
    let (_data, result) = multiclass_fairness(tmp.path());
    assert!(result
        .report
        .metrics
        .iter()
        .any(|m| m == "recall[virginica]"));
    let state = State::new(Workspace::default(), Jobs::new(Arc::new(|| {})));
    let result = Arc::new(result);
    let shown = result.clone();
    let mut h = Harness::builder()
        .with_size([1280.0, 720.0])
        .wgpu()
        .build_ui_state(
            move |ui, (state, page): &mut (State, FairnessPage)| {
                let tx = CommandSender::default();
                page.show(ui, state, &tx, &shown);
            },
            (state, FairnessPage::default()),
        );
    h.run_steps(3);
    // The page falls back to the multiclass report's first metric (no selection rate).
    assert_eq!(h.state().1.metric, "accuracy");
    h.get_by_label("accuracy by group (group)");
    h.get_by_label_contains("300 rows");
    // Per-class metrics are offered one vs rest.
    h.get_by_role_and_label(eframe::egui::accesskit::Role::ComboBox, "Metric")
        .click();
    h.run_steps(2);
    h.get_by_label("recall[virginica]").click();
    h.run_steps(3);
    assert_eq!(h.state().1.metric, "recall[virginica]");
    h.get_by_label("recall[virginica] by group (group)");
    // Multiclass has no binary disparities: the metric's own summaries stand in for them.
    h.get_by_label("recall[virginica] difference between groups");
    h.snapshot("fairness_multiclass");
}

/// Past `BLOCK_ROWS` rows the Data preview holds one block of rows at a time (egui lays rows
/// out in f32 pixels, which drift by up to 16 px at 10,000,000 rows): a jump to a row opens
/// its block, draws it at 18 px a row and highlights it; the block buttons move block to block.
#[test]
fn the_data_preview_holds_a_block_of_rows_and_jumps_across_blocks() {
    use assay::app::panels::data::BLOCK_ROWS;
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("long.csv");
    let n = BLOCK_ROWS * 2 + 100_000;
    let mut text = String::from("x\n");
    for i in 0..n {
        text.push_str(&format!("{}\n", i * 7));
    }
    std::fs::write(&path, text).expect("write csv");
    let mut ws = Workspace::default();
    ws.add_dataset(&path, DatasetRole::Evaluation);
    let mut state = State::new(ws, Jobs::new(Arc::new(|| {})));
    let loaded = LoadedData::load(&path, &Progress::none()).expect("load");
    state
        .loaded
        .datasets
        .insert(path.clone(), Slot::Ready(Arc::new(loaded)));
    state.page = Page::Data;
    let (state, mut pages) = with_pages(state);
    let row = BLOCK_ROWS * 2 + 50_000;
    pages.data.open_row(0, row);
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_ui_state(
            |ui, (state, pages): &mut (State, Pages)| {
                assay::app::shell::frame_page(ui, state, pages);
            },
            (state, pages),
        );
    h.run_steps(4);
    h.get_by_label("rows 500,001–600,000");
    // The row's number and its value (row r holds (r - 1) × 7), rows evenly spaced.
    let y = |r: usize| h.get_by_label(&r.to_string()).rect().min.y;
    let (gap, next_gap) = (y(row + 1) - y(row), y(row + 2) - y(row + 1));
    assert!((18.0..=22.0).contains(&gap), "{gap}");
    assert!((gap - next_gap).abs() < 0.01, "{gap} {next_gap}");
    h.get_by_label(&((row - 1) * 7).to_string());
    assert_eq!(h.state().1.data.highlight, Some(row));
    // Back a block: its last rows are shown, nothing new highlighted.
    h.get_by_label("Previous rows").click();
    h.run_steps(4);
    h.get_by_label("rows 250,001–500,000");
    h.get_by_label("500000");
    assert_eq!(h.state().1.data.highlight, Some(row));
}

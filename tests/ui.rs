//! The window, driven headless by accessible labels (egui_kittest), with snapshot images of
//! the Overview, Data and Evaluate pages in both themes (rendered by wgpu; on a CPU-only
//! machine through Mesa's lavapipe). Update snapshots with `UPDATE_SNAPSHOTS=1 make test`.
#![cfg(feature = "gui")]
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use std::path::Path;

use assay::app::state::{Page, Slot};
use assay::app::{AssayApp, Options};
use assay::engine::analysis::{Kind, Output, Task};
use eframe::egui::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;

mod common;
use common::{app, nav, root, settle};

#[test]
fn demo_workspace_evaluates_every_model_and_pages_switch() {
    let mut h = app(Vec::new(), true);
    let s = &h.state().state;
    assert_eq!(
        s.workspace.models.len(),
        5,
        "the demo has the five Adult models"
    );
    for (i, m) in s.workspace.models.iter().enumerate() {
        let Some(Slot::Ready(ev)) = s.evaluation(i, None) else {
            panic!("{} was not evaluated", m.label)
        };
        assert_eq!(ev.n, 5000);
        assert!(
            ev.metrics.get("roc_auc").is_some_and(|a| a > 0.75),
            "{}",
            m.label
        );
    }
    h.get_by_label("Evaluation summary");
    nav(&mut h, "Evaluate");
    assert_eq!(h.state().state.page, Page::Evaluate);
    h.get_by_label("ROC curve");
    h.get_by_label_contains("Confusion matrix at 0.50");
    nav(&mut h, "Data");
    assert_eq!(h.state().state.page, Page::Data);
    h.get_by_label("Schema");
    nav(&mut h, "Explain");
    assert_eq!(h.state().state.page, Page::Explain);
}

#[test]
fn threshold_slider_moves_the_confusion_matrix_without_reinference() {
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Evaluate");
    let evaluations = h.state().state.cache.count(Kind::Evaluation);
    h.state_mut().pages.evaluate.live_threshold = 0.3;
    h.run_steps(3);
    h.get_by_label_contains("Confusion matrix at 0.30");
    h.get_by_label("Evaluate at 0.30 with intervals");
    assert_eq!(
        h.state().state.cache.count(Kind::Evaluation),
        evaluations,
        "no new job for a slider move"
    );
    // The counts shown come from the engine's sweep at 0.30.
    let s = &h.state().state;
    let entry = s.selected_index();
    let Some(Slot::Ready(ev)) = s.evaluation(entry, None) else {
        panic!("evaluated")
    };
    let sweep = ev.curves.threshold_sweep.as_ref().expect("sweep");
    h.get_by_label_contains(&format!(
        "TP {} · FP {} · TN {} · FN {}",
        sweep.tp[30], sweep.fp[30], sweep.tn[30], sweep.fn_[30]
    ));
    // Asking for intervals at 0.30 evaluates again (a new cache entry).
    h.get_by_label("Evaluate at 0.30 with intervals").click();
    h.run_steps(2);
    settle(&mut h);
    let s = &h.state().state;
    assert!(
        s.cache.count(Kind::Evaluation) > evaluations,
        "earlier results stay cached"
    );
    let Some(Slot::Ready(ev)) = s.evaluation(entry, None) else {
        panic!("re-evaluated")
    };
    assert_eq!(ev.threshold, Some(0.3));
    assert!(ev.ci.contains_key("precision"));
}

#[test]
fn broken_csv_shows_a_visible_error_naming_the_file_and_the_app_keeps_running() {
    let bad = root().join("tests/fixtures/bad/empty.csv");
    let mut h = app(vec![bad], true);
    assert!(h
        .query_all_by_label_contains("empty.csv: the file is empty")
        .next()
        .is_some());
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(h.state().state.errors.is_empty());
    nav(&mut h, "Data");
    assert_eq!(h.state().state.page, Page::Data);
    h.get_by_label_contains("empty.csv: the file is empty");
}

#[test]
fn unknown_file_kind_is_an_error_not_a_crash() {
    let h = app(vec![root().join("README.md")], true);
    h.get_by_label_contains("Assay opens ONNX models");
}

#[test]
fn a_running_job_can_be_cancelled_from_the_status_bar() {
    let tmp = tempfile::tempdir().expect("tmp");
    let big = tmp.path().join("big.csv");
    write_big_csv(&big, 400_000);
    let mut h = Harness::builder()
        .with_size([1360.0, 860.0])
        .build_eframe(move |cc| {
            AssayApp::new(
                &cc.egui_ctx,
                Options {
                    paths: vec![big],
                    settings_path: None,
                },
            )
        });
    h.step();
    assert!(!h.state().state.jobs.is_idle(), "loading runs as a job");
    h.get_by_label("Cancel").click();
    h.step();
    settle(&mut h);
    let s = &h.state().state;
    assert!(s
        .loaded
        .datasets
        .values()
        .any(|v| matches!(v, Slot::Failed(t) if t == "cancelled")));
    assert!(s.errors.is_empty(), "cancelling is not an error");
}

fn write_big_csv(path: &Path, rows: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(f, "a,b,c,label").expect("write");
    for i in 0..rows {
        writeln!(
            f,
            "{},{},{},{}",
            i % 97,
            (i * 7) % 13,
            i as f64 * 0.5,
            i % 2
        )
        .expect("write");
    }
}

#[test]
fn workspace_saves_and_reopens() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("review.assay.json");
    let h = app(Vec::new(), true);
    h.state().state.workspace.save(&path).expect("save");
    let reopened = assay::engine::workspace::Workspace::load(&path).expect("load");
    assert_eq!(reopened, h.state().state.workspace);
}

#[test]
fn fairness_page_shows_groups_policy_and_weak_slices_from_the_engine() {
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Fairness");
    let s = &h.state().state;
    let entry = s.selected_index();
    let request = s.planner().fairness(entry).expect("fairness planned");
    let Task::Fairness { options: opts, .. } = &request.task else {
        panic!("a fairness task")
    };
    assert_eq!(
        opts.slicings,
        vec![
            vec!["sex".to_string()],
            vec!["race".into()],
            vec!["age".into()],
            vec!["sex".into(), "race".into()]
        ]
    );
    let Some(Slot::Ready(Output::Fairness(r))) = s.cache.get(&request.key) else {
        panic!("fairness computed")
    };
    let r = r.clone();
    let dpr = r.report.slices[0]
        .disparities
        .get("demographic_parity_ratio")
        .expect("dpr");
    h.get_by_label("Policy");
    h.get_by_label("demographic_parity_ratio ≥ 0.8");
    assert!(h.query_all_by_label(&format!("{dpr:.3}")).next().is_some());
    h.get_by_label_contains("Weak slices");
    // The intersection shows a heat map.
    h.get_by_label("sex × race").click();
    h.run_steps(3);
    h.get_by_label_contains("rows: sex, columns: race");
    h.snapshot("fairness_dark");
    // A weak slice opens the Evaluate page on its rows only.
    let first = r.slices.slices[0].clone();
    h.get_all_by_label("Evaluate")
        .find(|n| {
            n.accesskit_node().role() == Role::Button
                && n.accesskit_node()
                    .bounding_box()
                    .is_some_and(|b| b.x0 > 140.0)
        })
        .expect("a slice's Evaluate button")
        .click_accesskit();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(h.state().state.page, Page::Evaluate);
    h.get_by_label_contains(&format!("({} rows)", first.count));
    let s = &h.state().state;
    let slice = h.state().pages.evaluate.slice.as_ref();
    let Some(Slot::Ready(ev)) = s.evaluation(entry, slice) else {
        panic!("slice evaluated")
    };
    assert_eq!(ev.n, first.count);
    h.get_by_label("Show all rows").click();
    h.run_steps(2);
    assert!(h.state().pages.evaluate.slice.is_none());
}

#[test]
fn drift_page_compares_reference_and_current_with_quality_links() {
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Drift");
    let s = &h.state().state;
    let key = s.planner().drift().expect("both datasets loaded").key;
    let Some(Slot::Ready(Output::Drift(report))) = s.cache.get(&key) else {
        panic!("drift computed")
    };
    assert!(
        report.columns.iter().any(|c| c.name == "prediction"),
        "model predictions compared"
    );
    let over_time = report.over_time.as_ref().expect("monthly windows");
    assert_eq!(over_time.windows.len(), 6, "Jan-Jun 2024");
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
    h.get_by_label("Data quality");
    h.get_by_label_contains("Over time (6 windows");
    h.snapshot("drift_dark");
}

#[test]
fn package_page_creates_a_key_seals_and_verifies_with_per_file_results() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = tmp.path().join("review.pem");
    let out = tmp.path().join("adult-package");
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Fairness");
    nav(&mut h, "Drift");
    nav(&mut h, "Package");
    {
        // Fixed paths for a reproducible image, then the real temporary ones.
        let p = &mut h.state_mut().pages.package;
        p.key_path = "/home/reviewer/.config/assay/signing-key.pem".into();
        p.out_dir = "/home/reviewer/reviews/adult_logreg-package".into();
    }
    h.run_steps(3);
    h.snapshot("package_dark");
    {
        let p = &mut h.state_mut().pages.package;
        p.key_path = key.display().to_string();
        p.out_dir = out.display().to_string();
    }
    h.run_steps(2);
    h.get_by_label("Create key").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(key.is_file() && tmp.path().join("review.pub.pem").is_file());
    // Sign-off through the form.
    {
        let d = &mut h.state_mut().pages.package.signoff;
        d.reviewer = "Ada Lovelace".into();
        d.role = "Model risk".into();
        d.decision = Some(assay::engine::package::Decision::ApprovedWithConditions);
        d.conditions = "monitor drift monthly".into();
    }
    h.run_steps(2);
    h.get_by_label("Add sign-off").click();
    h.run_steps(2);
    assert_eq!(
        h.state().state.workspace.signoffs.len(),
        1,
        "{:?}",
        h.state()
            .state
            .errors
            .iter()
            .map(|e| &e.text)
            .collect::<Vec<_>>()
    );
    h.get_by_label("Draft from the evidence").click();
    h.run_steps(2);
    h.get_by_label("Seal package").click();
    h.run_steps(2);
    settle(&mut h);
    let sealed = match &h.state().state.package.sealed {
        Some(Ok(r)) => r.clone(),
        other => panic!("not sealed: {:?}", other.as_ref().map(|r| r.as_ref().err())),
    };
    for f in [
        "model.sig",
        "README.md",
        "evidence/evaluation.json",
        "evidence/fairness.json",
        "evidence/drift.json",
        "report.html",
    ] {
        assert!(out.join(f).is_file(), "{f} in the package");
    }
    let report = std::fs::read_to_string(out.join("report.html")).expect("report");
    assert!(
        report.contains("adult_logreg"),
        "the report of the results on screen"
    );
    assert!(sealed.files.len() >= 8);
    {
        let p = &mut h.state_mut().pages.package;
        p.verify_dir = out.display().to_string();
        p.verify_key = tmp.path().join("review.pub.pem").display().to_string();
    }
    h.run_steps(2);
    h.get_by_label("Verify").click_accesskit();
    h.run_steps(2);
    settle(&mut h);
    match &h.state().state.package.verified {
        Some(Ok(v)) => assert!(v.ok, "{:?}", v.problems),
        other => panic!(
            "not verified: {:?}",
            other.as_ref().map(|r| r.as_ref().err())
        ),
    }
    // One changed byte is found and named.
    let card = out.join("README.md");
    let mut bytes = std::fs::read(&card).expect("card");
    bytes[0] ^= 1;
    std::fs::write(&card, bytes).expect("tamper");
    h.get_by_label("Verify").click_accesskit();
    h.run_steps(2);
    settle(&mut h);
    let Some(Ok(v)) = &h.state().state.package.verified else {
        panic!("verified")
    };
    assert_eq!(v.changed, vec!["README.md".to_string()]);
}

#[test]
fn snapshots_of_the_main_pages_in_both_themes() {
    let mut results = egui_kittest::SnapshotResults::new();
    for (dark, theme) in [(true, "dark"), (false, "light")] {
        let mut h = app(Vec::new(), dark);
        h.snapshot(format!("overview_{theme}"));
        nav(&mut h, "Data");
        h.state_mut().pages.data.selected_column = Some("age".into());
        h.run_steps(2);
        settle(&mut h);
        h.snapshot(format!("data_{theme}"));
        nav(&mut h, "Evaluate");
        h.snapshot(format!("evaluate_{theme}"));
        results.extend_harness(&mut h);
    }
    results.unwrap();
}

#[test]
fn a_malformed_model_is_a_visible_error_naming_the_file() {
    let bad = root().join("tests/fixtures/bad/garbage.onnx");
    let h = app(vec![bad.clone()], true);
    let errors: Vec<&str> = h
        .state()
        .state
        .errors
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("garbage.onnx"), "{}", errors[0]);
    assert!(h
        .query_all_by_label_contains("garbage.onnx")
        .next()
        .is_some());
    // The Overview names the failed load and offers Retry (not "waiting for files").
    let mut h = h;
    h.get_by_label("model failed to load");
    assert!(h.query_by_label("waiting for files").is_none());
    let failed = |h: &egui_kittest::Harness<'static, AssayApp>| {
        matches!(
            h.state().state.loaded.models.get(&bad),
            Some(Slot::Failed(_))
        )
    };
    assert!(failed(&h));
    // One in the results table, one on the model's card.
    assert_eq!(
        h.query_all_by_role_and_label(Role::Button, "Retry").count(),
        2
    );
    h.query_all_by_role_and_label(Role::Button, "Retry")
        .next()
        .expect("Retry")
        .click();
    let mut retried = false;
    for _ in 0..3 {
        h.step();
        if !failed(&h) {
            retried = true;
            break;
        }
    }
    assert!(retried, "Retry forgets the failed load so it runs again");
    settle(&mut h);
    assert!(failed(&h), "the file is still garbage");
}

#[test]
fn the_monitor_page_shows_the_demo_log_and_opens_a_chunk_on_the_data_page() {
    let mut h = app(Vec::new(), true);
    nav(&mut h, "Monitor");
    let key = h
        .state()
        .state
        .planner()
        .monitor()
        .map(|r| r.key)
        .expect("the demo workspace monitors its log");
    let Some(Slot::Ready(Output::Monitor(m))) = h.state().state.slot(Some(&key)).cloned() else {
        panic!("the monitoring result is on the page")
    };
    // The demo log drops after week 9: the page has alerts to show.
    assert!(!m.alerts.is_empty(), "the demo log alerts");
    h.get_by_label_contains("labelled) against");
    h.snapshot("monitor_dark");
    // A selected log chunk opens its rows on the Data page.
    let last = m.chunks.len() - 1;
    h.state_mut().pages.monitor.selected = Some(last);
    h.run_steps(2);
    h.get_by_role_and_label(Role::Button, "Open its rows on the Data page")
        .click();
    h.run_steps(2);
    settle(&mut h);
    let s = &h.state().state;
    assert_eq!(s.page, Page::Data);
    assert_eq!(
        s.workspace.datasets[h.state().pages.data.dataset_index].role,
        assay::engine::workspace::DatasetRole::Log
    );
    // … and its drift on the Drift page: the monitoring reference against its rows only.
    nav(&mut h, "Monitor");
    h.get_by_role_and_label(Role::Button, "Show its drift on the Drift page")
        .click();
    h.run_steps(2);
    settle(&mut h);
    assert_eq!(h.state().state.page, Page::Drift);
    let rows = h
        .state()
        .pages
        .drift
        .rows
        .clone()
        .expect("the chunk's rows");
    let chunk = &m.chunks[last];
    assert_eq!(rows.rows.len(), chunk.rows);
    let key = h
        .state()
        .state
        .planner()
        .drift_rows(&rows)
        .map(|r| r.key)
        .expect("planned");
    let Some(Slot::Ready(Output::Drift(d))) = h.state().state.slot(Some(&key)).cloned() else {
        panic!("the chunk's drift is on the page")
    };
    assert_eq!(d.current.rows, chunk.rows);
    h.get_by_label_contains("(monitoring reference) vs chunk");
    h.snapshot("drift_chunk_dark");
    h.get_by_role_and_label(Role::Button, "Back to reference vs current")
        .click();
    h.run_steps(2);
    assert!(h.state().pages.drift.rows.is_none());
}

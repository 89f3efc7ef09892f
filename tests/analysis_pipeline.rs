//! The analysis pipeline (`engine::analysis`): keys follow every setting that changes a
//! number, and what `assay package --workspace` seals and `assay report --workspace` judges is
//! exactly the review the engine gathers for the same workspace.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::path::Path;

use assay::engine::analysis::{compute, Kind, LoadedFiles, NoResults, Planner, Review, Wants};
use assay::engine::workspace::{demo_workspace, Workspace};
use assay::engine::Progress;
use serde_json::Value;

mod support;
use support::{assay, first_difference};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The demo workspace, smaller: two models, 50 resamples.
fn small_demo() -> Workspace {
    let mut ws = demo_workspace().expect("demo workspace");
    ws.models.truncate(2);
    ws.settings.bootstrap = 50;
    ws
}

#[test]
fn keys_follow_every_setting() {
    let ws = small_demo();
    let files = LoadedFiles::load(&ws, &Progress::none()).expect("load");
    let p = Planner::new(&ws, &files, &NoResults);
    let a = p.evaluation(0, None).expect("evaluation").key;
    assert_eq!(a.kind, Kind::Evaluation);
    assert_eq!(a, p.evaluation(0, None).expect("again").key);
    assert_ne!(a, p.evaluation(1, None).expect("model 1").key);

    let mut changed = ws.clone();
    changed.settings.threshold = 0.4;
    let p2 = Planner::new(&changed, &files, &NoResults);
    assert_ne!(a, p2.evaluation(0, None).expect("evaluation").key);

    // Drift compares the focus model's predictions: another focus, another key.
    let d = p.drift().expect("drift").key;
    assert_eq!(d.models.len(), 1);
    let mut focus = ws.clone();
    focus.settings.focus_model = Some(ws.models[1].label.clone());
    let d1 = Planner::new(&focus, &files, &NoResults)
        .drift()
        .expect("drift")
        .key;
    assert_ne!(d, d1);
    focus.settings.drift_with_model = false;
    let d2 = Planner::new(&focus, &files, &NoResults)
        .drift()
        .expect("drift")
        .key;
    assert!(d2.models.is_empty());

    // Fairness waits for its model's evaluation (it must know the task).
    assert!(p.fairness(0).is_none());
}

#[test]
fn package_and_report_seal_the_engine_review() {
    let ws = small_demo();
    let tmp = tempfile::tempdir().expect("tmp");
    let wpath = tmp.path().join("demo.assay.json");
    ws.save(&wpath).expect("save");
    let ws = Workspace::load(&wpath).expect("reload");

    let files = LoadedFiles::load(&ws, &Progress::none()).expect("load");
    let results = compute(&ws, &files, Wants::default(), &Progress::none()).expect("compute");
    let review = Review::gather(
        &Planner::new(&ws, &files, &results),
        Some(ws.name.clone()),
        None,
    );
    let evidence = review.evidence().expect("evidence");
    let names: Vec<&str> = evidence.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["evaluation", "fairness", "drift", "compare"]);
    let rendered = review.render("2026-01-01T00:00:00Z").expect("render");
    let (verdict, checks) = (rendered.verdict, rendered.checks);
    // The demo monitors its prediction log: the checklist names the monitoring files a
    // package carries, after the evidence.
    let checklist = serde_json::to_value(review.checklist()).expect("checklist");
    let listed: Vec<(&str, bool)> = checklist
        .as_array()
        .expect("list")
        .iter()
        .map(|i| {
            (
                i["evidence"].as_str().expect("name"),
                i["present"].as_bool().expect("present"),
            )
        })
        .collect();
    assert_eq!(
        &listed[listed.len() - 2..],
        [
            ("monitoring/alert-rules.yml", true),
            ("monitoring/grafana.json", true)
        ],
        "{listed:?}"
    );
    let files: Vec<String> = review
        .monitoring_files()
        .expect("monitoring files")
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(files, review.monitoring_file_names());

    let key = tmp.path().join("k.pem");
    let out = assay(&["keygen", "--out", s(&key)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pkg = tmp.path().join("pkg");
    let out = assay(&[
        "package",
        "--workspace",
        s(&wpath),
        "--key",
        s(&key),
        "--out",
        s(&pkg),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, value) in &evidence {
        let file = pkg.join(format!("evidence/{name}.json"));
        let sealed: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("evidence file")).expect("json");
        assert!(
            &sealed == value,
            "{name} evidence differs from the engine's review at {}",
            first_difference(&sealed, value, String::new())
        );
    }
    assert!(
        pkg.join("report.html").is_file(),
        "a workspace package seals its report"
    );
    let card = std::fs::read_to_string(pkg.join("README.md")).expect("card");
    assert!(card.contains("Findings") || card.contains("every policy rule passed"));
    let contents: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("package.json")).expect("package.json"))
            .expect("json");
    assert_eq!(
        contents["checklist"], checklist,
        "the sealed checklist is the review's"
    );

    let html = tmp.path().join("r.html");
    let out = assay(&[
        "report",
        "--workspace",
        s(&wpath),
        "--out",
        s(&html),
        "--json",
        "-",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        summary["verdict"],
        serde_json::to_value(verdict).expect("verdict")
    );
    assert_eq!(
        summary["checks"],
        serde_json::to_value(&checks).expect("checks")
    );
    // The monitoring check is in the JSON checks and in the HTML summary, identically.
    let monitoring: Vec<&Value> = summary["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["name"] == "Monitoring")
        .collect();
    assert_eq!(monitoring.len(), 1, "{}", summary["checks"]);
    let status = monitoring[0]["status"].as_str().expect("status");
    let detail = monitoring[0]["detail"].as_str().expect("detail");
    assert!(detail.contains("log chunks"), "{detail}");
    let text = std::fs::read_to_string(&html).expect("report");
    let row = format!(
        "<tr><td><span class=\"badge {status}\">{status}</span></td><td>Monitoring</td><td>{detail}</td></tr>"
    );
    assert!(text.contains(&row), "the HTML summary lacks {row}");
}

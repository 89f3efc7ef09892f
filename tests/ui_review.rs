//! The window and the CLI seal the same review: on the (smaller) demo workspace, the evidence
//! the window's *Seal package* writes, and the review it would seal (`State::review`), equal
//! what `assay package --workspace` seals and what `assay report --workspace` judges — same
//! facts, verdicts, drift windows and gate result.
#![cfg(feature = "gui")]
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::Path;
use std::process::{Command, Output};

use assay::app::commands::run_review;
use assay::engine::analysis::Wants;
use assay::engine::workspace::{demo_workspace, Workspace};
use egui_kittest::kittest::Queryable;
use serde_json::Value;

mod common;
use common::{app, first_difference, nav, settle};

fn assay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("assay runs")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("file")).expect("json")
}

#[test]
fn the_window_seals_the_evidence_assay_package_seals() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The demo, smaller: two models, 50 resamples.
    let mut ws = demo_workspace().expect("demo workspace");
    ws.models.truncate(2);
    ws.settings.bootstrap = 50;
    let wpath = tmp.path().join("demo.assay.json");
    ws.save(&wpath).expect("save");
    let ws = Workspace::load(&wpath).expect("reload");

    let mut h = app(vec![wpath.clone()], true);
    assert_eq!(h.state().state.workspace, ws);
    // What the checklist's Run buttons start: every analysis a package carries (fairness
    // follows its model's evaluation, so a few rounds).
    for _ in 0..4 {
        run_review(&mut h.state_mut().state, Wants::default());
        h.run_steps(2);
        settle(&mut h);
    }
    let review = h.state().state.review();
    let evidence = review.evidence().expect("evidence");
    let names: Vec<&str> = evidence.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["evaluation", "fairness", "drift", "compare"]);
    assert_eq!(
        review.evidence_names(),
        names,
        "the checklist lists what is sealed"
    );
    let drift = &evidence[2].1;
    assert_eq!(
        drift["over_time"]["windows"].as_array().map(Vec::len),
        Some(6),
        "monthly drift windows"
    );
    let rendered = review.render("2026-01-01T00:00:00Z").expect("render");
    let (verdict, checks) = (rendered.verdict, rendered.checks);

    // The CLI on the same workspace file.
    let key = tmp.path().join("k.pem");
    ok(&assay(&["keygen", "--out", s(&key)]));
    let cli_pkg = tmp.path().join("cli-pkg");
    ok(&assay(&[
        "package",
        "--workspace",
        s(&wpath),
        "--key",
        s(&key),
        "--out",
        s(&cli_pkg),
    ]));
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
    ok(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        summary["verdict"],
        serde_json::to_value(verdict).expect("verdict")
    );
    assert_eq!(
        summary["checks"],
        serde_json::to_value(&checks).expect("checks")
    );

    // Seal from the window, through the Package page.
    let win_pkg = tmp.path().join("window-pkg");
    nav(&mut h, "Package");
    {
        let p = &mut h.state_mut().pages.package;
        p.key_path = key.display().to_string();
        p.out_dir = win_pkg.display().to_string();
    }
    h.run_steps(2);
    h.get_by_label("Seal package").click();
    h.run_steps(2);
    settle(&mut h);
    assert!(
        matches!(h.state().state.package.sealed, Some(Ok(_))),
        "sealed from the window: {:?}",
        h.state()
            .state
            .package
            .sealed
            .as_ref()
            .and_then(|r| r.as_ref().err())
    );

    for (name, value) in &evidence {
        let cli = read_json(&cli_pkg.join(format!("evidence/{name}.json")));
        let window = read_json(&win_pkg.join(format!("evidence/{name}.json")));
        assert!(
            &cli == value,
            "{name}: the window's review differs from `assay package` at {}",
            first_difference(&cli, value, String::new())
        );
        assert!(
            cli == window,
            "{name}: the window sealed other evidence than `assay package` at {}",
            first_difference(&cli, &window, String::new())
        );
    }
    let sealed_names = |dir: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir.join("evidence"))
            .expect("evidence dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(sealed_names(&cli_pkg), sealed_names(&win_pkg));
    // The gate the window judges is the one sealed in the comparison.
    let gate = review.gate.as_ref().expect("gate judged");
    let sealed = read_json(&cli_pkg.join("evidence/compare.json"));
    let judged = serde_json::to_value(&gate.result).expect("gate");
    assert_eq!(sealed["gate"]["passed"], judged["passed"]);
    assert_eq!(sealed["gate"]["rules"], judged["rules"]);
}

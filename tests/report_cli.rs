//! End to end: `assay report` from models + data + flags and from a workspace file (with
//! sign-offs and reviewer notes), its printed path and size, the JSON summary, exit codes on
//! bad input, and `assay package --workspace --report` sealing the report and the notes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod report_support;

use std::path::Path;

use serde_json::Value;

mod support;
use support::{assay, text};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn report_from_models_and_data() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("r.html");
    let o = assay(&[
        "report",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--model",
        "sample_models/adult_gbdt_v1.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--features",
        "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male",
        "--sensitive",
        "sex",
        "--reference",
        "sample_data/adult_reference.csv",
        "--bootstrap",
        "30",
        "--title",
        "Two versions",
        "--explain",
        "40",
        "--robustness",
        "50",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let html = std::fs::read_to_string(&out).expect("report written");
    assert!(
        stdout.contains(s(&out)) && stdout.contains("KB"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Fairness policy — adult_gbdt_v1") && stdout.contains("Data drift"),
        "{stdout}"
    );
    report_support::assert_well_formed(&html);
    report_support::assert_self_contained(&html);
    assert!(html.contains("<title>Two versions</title>"));
    assert!(
        html.contains("Evaluation — adult_logreg") && html.contains("Evaluation — adult_gbdt_v1")
    );
    assert!(html.contains("Fairness — adult_gbdt_v1") && html.contains("id=\"drift\""));
    // Two versions: compared, gated; the candidate explained; robustness measured.
    for id in ["comparison", "explanation", "robustness"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(!html.contains("<section id=\"performance\">"));
    assert!(
        stdout.contains("Promotion gate — adult_logreg → adult_gbdt_v1"),
        "{stdout}"
    );
    assert!(!out.with_extension("html.part").exists());
}

#[test]
fn report_from_a_workspace_with_notes_then_sealed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = env!("CARGO_MANIFEST_DIR");
    let ws = tmp.path().join("review.assay.json");
    let feats =
        r#"["age","education_num","capital_gain","capital_loss","hours_per_week","sex_male"]"#;
    std::fs::write(
        &ws,
        format!(
            r#"{{"name": "Adult review",
  "models": [{{"path": "{root}/sample_models/adult_gbdt_v1.onnx", "label": "gbdt v1", "features": {feats}}}],
  "datasets": [{{"path": "{root}/sample_data/adult_eval.csv", "role": "evaluation"}},
               {{"path": "{root}/sample_data/adult_reference.csv", "role": "reference"}},
               {{"path": "{root}/sample_data/adult_current.csv", "role": "current"}}],
  "roles": {{"target": "income_over_50k", "positive_class": "1", "sensitive": ["sex"]}},
  "settings": {{"threshold": 0.5, "bootstrap": 30, "seed": 1}},
  "signoffs": [{{"reviewer": "R. One", "role": "validator", "decision": "approved", "date": "2026-11-25"}}],
  "notes": [{{"id": "n1", "finding": {{"kind": "metric", "model": "gbdt v1", "metric": "recall"}}, "text": "recall is low", "author": "Ann", "created": "2026-11-25T14:00:00Z"}},
            {{"id": "n2", "finding": {{"kind": "drift_column", "column": "age"}}, "text": "age shift expected", "author": "Bob", "created": "2026-11-25T14:01:00Z"}}]}}"#
        ),
    )
    .expect("write");
    let out = tmp.path().join("review.html");
    let o = assay(&[
        "report",
        "--workspace",
        s(&ws),
        "--out",
        s(&out),
        "--json",
        "-",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).expect("json");
    let html = std::fs::read_to_string(&out).expect("report");
    assert_eq!(summary["bytes"].as_u64(), Some(html.len() as u64));
    assert!(
        ["fail", "inconclusive", "pass"].contains(&summary["verdict"].as_str().expect("verdict"))
    );
    report_support::assert_well_formed(&html);
    report_support::assert_self_contained(&html);
    // The warnings are counted by kind, the same in the JSON and in the report's summary.
    let counts = summary["warnings"].as_object().expect("warnings by kind");
    let total: u64 = counts.values().filter_map(Value::as_u64).sum();
    let line = format!(
        "{total} warning{} in the sections below",
        if total == 1 { "" } else { "s" }
    );
    assert_eq!(html.contains(&line), total > 0, "{counts:?}");
    assert_eq!(html.contains("in the sections below"), total > 0);
    for kind in counts.keys() {
        assert!(
            [
                "rows_left_out",
                "undefined",
                "small_sample",
                "assumption",
                "option",
                "data"
            ]
            .contains(&kind.as_str()),
            "{kind}"
        );
    }
    assert!(html.contains("Adult review") && html.contains("R. One"));
    // Drift compares the reference with the workspace's current data.
    assert!(html.contains("adult_current.csv"));
    for (id, words) in [("n1", "recall is low"), ("n2", "age shift expected")] {
        assert!(html.contains(&format!("id=\"note-{id}\"")) && html.contains(words));
    }

    // The same workspace packaged with the report: both sealed, notes in the audit log.
    let key = tmp.path().join("k.pem");
    assert!(assay(&["keygen", "--out", s(&key)]).status.success());
    let pkg = tmp.path().join("pkg");
    let o = assay(&[
        "package",
        "--workspace",
        s(&ws),
        "--report",
        s(&out),
        "--bootstrap",
        "20",
        "--key",
        s(&key),
        "--out",
        s(&pkg),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(pkg.join("report.html")).expect("sealed report"),
        html
    );
    let notes: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("notes.json")).expect("notes"))
            .expect("json");
    assert_eq!(notes.as_array().map(Vec::len), Some(2));
    let audit = std::fs::read_to_string(pkg.join("audit.jsonl")).expect("audit");
    assert_eq!(audit.matches("\"note.added\"").count(), 2);
    let o = assay(&[
        "verify",
        s(&pkg),
        "--public-key",
        s(&tmp.path().join("k.pub.pem")),
    ]);
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("r.html");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "report",
                "--model",
                "sample_models/adult_gbdt_v1.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "nope",
                "--out",
                s(&out),
            ],
            "nope",
        ),
        (
            vec![
                "report",
                "--workspace",
                "missing.assay.json",
                "--out",
                s(&out),
            ],
            "missing.assay.json",
        ),
        (
            vec![
                "report",
                "--model",
                "sample_models/adult_gbdt_v1.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "income_over_50k",
                "--features",
                "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male",
                "--sensitive",
                "planet",
                "--bootstrap",
                "0",
                "--out",
                s(&out),
            ],
            "planet",
        ),
        (
            vec![
                "report",
                "--model",
                "sample_models/adult_gbdt_v1.onnx",
                "--out",
                s(&out),
            ],
            "--data",
        ),
    ];
    for (args, names) in cases {
        let o = assay(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(names),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(!out.exists(), "no report on error");
    }
}

//! Monitoring as one analysis of the pipeline: the demo workspace's prediction log (role
//! `log`, committed by sample_data/make_data.py) really shows a performance drop after the
//! shift, estimated and realized, with alerts; `assay monitor --workspace` computes exactly
//! what the flags compute; `assay report --workspace` has the monitoring section and
//! `assay package --workspace` seals the alert rules and the Grafana dashboard.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::path::{Path, PathBuf};
use std::process::Output;

use assay::engine::monitor::Chunking;
use assay::engine::workspace::{demo_workspace, DatasetRole, Workspace};
use serde_json::Value;

mod support;
use support::assay;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn saved_demo(dir: &Path, models: usize) -> PathBuf {
    let mut ws = demo_workspace().expect("demo workspace");
    ws.models.truncate(models);
    ws.settings.bootstrap = 50;
    let p = dir.join("demo.assay.json");
    ws.save(&p).expect("save");
    p
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn demo_workspace_has_the_log_and_old_workspaces_still_load() {
    let ws = demo_workspace().expect("demo workspace");
    let log = ws.dataset(DatasetRole::Log).expect("a log dataset");
    assert!(log.path.ends_with("sample_data/adult_log.csv"));
    let m = &ws.settings.monitor;
    assert_eq!(m.model.as_deref(), Some("adult_gbdt v1.0"));
    assert_eq!(m.score.as_deref(), Some("score"));
    assert_eq!(m.prediction.as_deref(), Some("prediction"));
    assert_eq!(m.timestamp.as_deref(), Some("timestamp"));
    assert_eq!(m.chunking, Some(Chunking::Size(300)));
    assert!(ws.models.iter().any(|e| e.label == "adult_gbdt v1.0"));

    let tmp = tempfile::tempdir().expect("tmp");
    let p = tmp.path().join("w.assay.json");
    ws.save(&p).expect("save");
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains("\"role\": \"log\""), "{text}");
    assert!(text.contains("\"by\": \"size\""), "{text}");
    assert_eq!(Workspace::load(&p).expect("reload"), ws);

    // A workspace written before monitoring existed loads with no monitoring settings.
    std::fs::write(
        &p,
        r#"{"name": "old", "datasets": [{"path": "a.csv", "role": "current"}],
            "settings": {"threshold": 0.5, "bootstrap": 10, "seed": 0}}"#,
    )
    .expect("write");
    let old = Workspace::load(&p).expect("old workspace loads");
    assert!(old.settings.monitor.is_unset());
    assert!(!std::fs::read_to_string({
        old.save(&p).expect("save");
        &p
    })
    .expect("read")
    .contains("monitor"));
}

#[test]
fn workspace_monitor_shows_the_drop_and_equals_the_flags() {
    let tmp = tempfile::tempdir().expect("tmp");
    let w = saved_demo(tmp.path(), 4);
    let out = assay(&["monitor", "--workspace", s(&w), "--json", "-"]);
    ok(&out);
    let ws: Value = serde_json::from_slice(&out.stdout).expect("json");

    let chunks = ws["chunks"].as_array().expect("chunks");
    let log: Vec<&Value> = chunks
        .iter()
        .filter(|c| c["period"] == "analysis")
        .collect();
    assert_eq!(log.len(), 16, "one chunk of 300 rows a week");
    assert_eq!(ws["analysis"]["rows"], 4800);
    assert_eq!(ws["analysis"]["labelled_rows"], 4200);
    let value = |c: &Value, side: &str, m: &str| c[side][m]["value"].as_f64();
    for m in ["accuracy", "roc_auc"] {
        let est: Vec<f64> = log
            .iter()
            .map(|c| value(c, "estimated", m).expect("estimate"))
            .collect();
        let (before, after) = (mean(&est[..8]), mean(&est[8..]));
        assert!(
            before - after > 0.05,
            "estimated {m}: {before} before the shift, {after} after"
        );
        let real: Vec<f64> = log[..14]
            .iter()
            .map(|c| value(c, "realized", m).expect("realized"))
            .collect();
        let (before, after) = (mean(&real[..8]), mean(&real[8..]));
        assert!(
            before - after > 0.05,
            "realized {m}: {before} before the shift, {after} after"
        );
        // The last two weeks have no labels yet: realized is null with a reason, never NaN.
        for c in &log[14..] {
            assert!(c["realized"][m]["value"].is_null());
            assert!(c["realized"][m]["reason"].is_string());
        }
    }
    let first_log = log[0]["index"].as_u64().expect("index");
    let alerts = ws["alerts"].as_array().expect("alerts");
    for kind in ["estimated", "realized"] {
        let of_kind: Vec<&Value> = alerts.iter().filter(|a| a["kind"] == kind).collect();
        assert!(!of_kind.is_empty(), "{kind} alerts: {alerts:?}");
        for a in of_kind {
            assert!(
                a["chunk"].as_u64().expect("chunk") >= first_log + 8,
                "{kind} alert before the shift: {a}"
            );
        }
    }
    // Drift per chunk: a 300-row chunk's distance is judged against the reference's own noise
    // at that size (native_country's 41 levels sit above Evidently's 0.1 in every chunk by
    // sampling alone); the shifted columns drift in every week after the shift.
    // No alert of any kind (metrics, drift, multivariate) before the shift.
    for a in alerts {
        assert!(
            a["chunk"].as_u64().expect("chunk") >= first_log + 8,
            "alert before the shift: {a}"
        );
    }
    let drift: Vec<&Value> = alerts.iter().filter(|a| a["kind"] == "drift").collect();
    for column in ["age", "hours_per_week"] {
        let weeks = drift.iter().filter(|a| a["column"] == column).count();
        assert_eq!(weeks, 8, "{column} drifts in every week after the shift");
    }
    let country = log[0]["drift"]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["column"] == "native_country")
        .expect("native_country");
    assert!(country["value"].as_f64().expect("value") > 0.1);
    assert!(country["threshold"].as_f64().expect("threshold") > 0.1);
    assert_eq!(country["drifted"], false);
    assert!(ws["model"]["sha256"].is_string());

    // The same run from flags: identical JSON (one engine call, options from one place).
    let demo = demo_workspace().expect("demo");
    let model = demo
        .models
        .iter()
        .find(|m| m.label == "adult_gbdt v1.0")
        .expect("model");
    let eval = demo.dataset(DatasetRole::Evaluation).expect("eval");
    let logp = demo.dataset(DatasetRole::Log).expect("log");
    let features = model.features.clone().expect("features").join(",");
    let out = assay(&[
        "monitor",
        "--reference",
        s(&eval.path),
        "--analysis",
        s(&logp.path),
        "--model",
        s(&model.path),
        "--features",
        &features,
        "--target",
        "income_over_50k",
        "--score",
        "score",
        "--timestamp",
        "timestamp",
        "--chunk-size",
        "300",
        "--json",
        "-",
    ]);
    ok(&out);
    let flags: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(ws, flags, "--workspace and the flags disagree");

    // Exit 3 with --fail-on-alert; a workspace without a log is a clear error (exit 2).
    let out = assay(&["monitor", "--workspace", s(&w), "--fail-on-alert"]);
    assert_eq!(out.status.code(), Some(3));
    let mut none = Workspace::load(&w).expect("load");
    none.datasets.retain(|d| d.role != DatasetRole::Log);
    let w2 = tmp.path().join("nolog.assay.json");
    none.save(&w2).expect("save");
    let out = assay(&["monitor", "--workspace", s(&w2)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nolog.assay.json") && err.contains("\"log\""),
        "{err}"
    );
}

#[test]
fn report_and_package_of_the_demo_carry_monitoring() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Two models: adult_logreg v1.0 and adult_gbdt v1.0 (the model that wrote the log).
    let w = saved_demo(tmp.path(), 2);
    let html = tmp.path().join("r.html");
    ok(&assay(&["report", "--workspace", s(&w), "--out", s(&html)]));
    let text = std::fs::read_to_string(&html).expect("report");
    let at = text
        .find("<section id=\"monitoring\">")
        .expect("a monitoring section");
    let section = &text[at..at + text[at..].find("</section>").expect("end")];
    assert!(section.contains("adult_gbdt v1.0"));
    assert!(section.contains("adult_log.csv"));
    assert!(section.matches("<svg").count() >= 6, "a chart per metric");
    assert!(section.contains("class=\"band\""), "threshold band");
    assert!(section.contains("class=\"al\""), "alert markers");
    assert!(section.contains("<h3>Alerts</h3>"));
    assert!(text.contains("href=\"#monitoring\""));
    assert!(text.contains("<td>Monitoring</td>"), "a summary check");

    let key = tmp.path().join("k.pem");
    ok(&assay(&["keygen", "--out", s(&key)]));
    let pkg = tmp.path().join("pkg");
    ok(&assay(&[
        "package",
        "--workspace",
        s(&w),
        "--key",
        s(&key),
        "--out",
        s(&pkg),
    ]));
    let rules = std::fs::read_to_string(pkg.join("monitoring/alert-rules.yml")).expect("rules");
    assert!(rules.contains("groups:") && rules.contains("model=\"adult_gbdt\""));
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(pkg.join("monitoring/grafana.json")).expect("dashboard"),
    )
    .expect("dashboard json");
    assert!(dash["panels"].as_array().is_some_and(|p| !p.is_empty()));
    let contents: Value = serde_json::from_str(
        &std::fs::read_to_string(pkg.join("package.json")).expect("package.json"),
    )
    .expect("json");
    let files: Vec<&str> = contents["monitoring"]
        .as_array()
        .expect("monitoring list")
        .iter()
        .map(|f| f["file"].as_str().expect("file"))
        .collect();
    assert_eq!(
        files,
        ["monitoring/alert-rules.yml", "monitoring/grafana.json"]
    );
    let report = std::fs::read_to_string(pkg.join("report.html")).expect("sealed report");
    assert!(report.contains("<section id=\"monitoring\">"));
    let pubkey = tmp.path().join("k.pub.pem");
    ok(&assay(&["verify", s(&pkg), "--public-key", s(&pubkey)]));
    // Sealed: an edited rule file fails verification.
    std::fs::write(
        pkg.join("monitoring/alert-rules.yml"),
        rules.replace("for: 0m", "for: 1h"),
    )
    .expect("edit");
    let out = assay(&["verify", s(&pkg), "--public-key", s(&pubkey)]);
    assert!(!out.status.success(), "an edited rule file must not verify");
}

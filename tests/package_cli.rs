//! End to end: `assay keygen`, `assay package` (with a real evaluation through ONNX Runtime)
//! and `assay verify` — exit codes 0 / 4 / 2, per-file messages, wrong key vs corruption, the
//! model card and descriptors generated from the evidence and the model's signature.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod support;
use support::{assay, text};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn keygen_package_verify_end_to_end() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = tmp.path().join("keys/k.pem");
    let out = assay(&["keygen", "--out", s(&key), "--json", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let k: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(k["curve"], "P-256");
    let pubkey = tmp.path().join("keys/k.pub.pem");
    assert!(pubkey.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // keygen never overwrites.
    let again = assay(&["keygen", "--out", s(&key)]);
    assert_eq!(again.status.code(), Some(2));

    let pkg = tmp.path().join("adult-review");
    let sign = tmp.path().join("signoff.json");
    std::fs::write(
        &sign,
        r#"[{"reviewer": "R. One", "role": "validator", "decision": "approved", "date": "2026-11-25"},
           {"reviewer": "R. Two", "role": "owner", "decision": "rejected", "date": "2026-11-24", "notes": "needs drift data"}]"#,
    )
    .expect("write");
    let out = assay(&[
        "package",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--bootstrap",
        "50",
        "--sensitive",
        "sex,race",
        "--reference",
        "sample_data/adult_reference.csv",
        "--signoff",
        s(&sign),
        "--key",
        s(&key),
        "--out",
        s(&pkg),
        "--zip",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["checklist"][0]["evidence"], "evaluation");
    assert_eq!(report["checklist"][0]["present"], true);
    assert_eq!(report["datasets"][1]["role"], "reference");
    assert_eq!(
        report["datasets"][1]["sha256"].as_str().map(str::len),
        Some(64)
    );

    // Evidence = evaluate's JSON; the card's model-index carries its numbers.
    let ev: Value = serde_json::from_str(
        &std::fs::read_to_string(pkg.join("evidence/evaluation.json")).expect("evidence"),
    )
    .expect("json");
    let acc = ev["metrics"]["accuracy"].as_f64().expect("accuracy");
    let card = std::fs::read_to_string(pkg.join("README.md")).expect("card");
    assert!(
        card.contains("model-index:\n- name: \"adult_logreg\""),
        "{card}"
    );
    assert!(
        card.contains(&format!("    - type: \"accuracy\"\n      value: {acc}\n")),
        "{card}"
    );
    let [lo, hi] = [
        ev["ci"]["accuracy"][0].as_f64().expect("lo"),
        ev["ci"]["accuracy"][1].as_f64().expect("hi"),
    ];
    assert!(
        card.contains(&format!("| accuracy | {acc:.4} | [{lo:.4}, {hi:.4}] |")),
        "{card}"
    );
    assert!(card.contains("**R. Two** (owner), 2026-11-24: rejected — needs drift data"));
    let cols: Value = serde_json::from_str(
        &std::fs::read_to_string(pkg.join("schema/columns.json")).expect("columns"),
    )
    .expect("json");
    assert_eq!(cols["sensitive"], serde_json::json!(["sex", "race"]));
    assert_eq!(cols["target"], "income_over_50k");

    // Verify: ok (folder and zip), then tamper.
    let ok = assay(&["verify", s(&pkg), "--public-key", s(&pubkey)]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        text(&ok.stdout),
        text(&ok.stderr)
    );
    let zip = tmp.path().join("adult-review.zip");
    let ok = assay(&["verify", s(&zip), "--public-key", s(&pubkey)]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    let evp = pkg.join("evidence/evaluation.json");
    let orig = std::fs::read(&evp).expect("read");
    let mut bad = orig.clone();
    bad[10] ^= 1;
    std::fs::write(&evp, &bad).expect("write");
    let v = assay(&["verify", s(&pkg), "--public-key", s(&pubkey)]);
    assert_eq!(v.status.code(), Some(4));
    assert!(
        text(&v.stderr).contains("FAILED: changed: evidence/evaluation.json"),
        "{}",
        text(&v.stderr)
    );
    let v = assay(&["verify", s(&pkg), "--public-key", s(&pubkey), "--json", "-"]);
    assert_eq!(v.status.code(), Some(4));
    let j: Value = serde_json::from_slice(&v.stdout).expect("json");
    assert_eq!(j["ok"], false);
    assert_eq!(
        j["changed"],
        serde_json::json!(["evidence/evaluation.json"])
    );
    std::fs::write(&evp, &orig).expect("restore");

    // Wrong key: a distinct message, exit 4.
    let other = tmp.path().join("other.pem");
    assert!(assay(&["keygen", "--out", s(&other)]).status.success());
    let v = assay(&[
        "verify",
        s(&pkg),
        "--public-key",
        s(&tmp.path().join("other.pub.pem")),
    ]);
    assert_eq!(v.status.code(), Some(4));
    assert!(
        text(&v.stderr).contains("FAILED: wrong key"),
        "{}",
        text(&v.stderr)
    );

    // Refuses to overwrite without --force (exit 2), replaces with it.
    let base = [
        "package",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--key",
        s(&key),
        "--out",
        s(&pkg),
    ];
    let again = assay(&base);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    let mut forced = base.to_vec();
    forced.push("--force");
    assert!(assay(&forced).status.success());
    assert!(!pkg.join("evidence/evaluation.json").exists());
    let ok = assay(&["verify", s(&pkg), "--public-key", s(&pubkey)]);
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn passphrase_protected_keys() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = tmp.path().join("k.pem");
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "keygen",
            "--out",
            s(&key),
            "--passphrase-env",
            "ASSAY_TEST_PASS",
        ])
        .env("ASSAY_TEST_PASS", "correct horse")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&key)
        .expect("pem")
        .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let pkg = tmp.path().join("p");
    let args = [
        "package",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--key",
        s(&key),
        "--out",
        s(&pkg),
        "--passphrase-env",
        "ASSAY_TEST_PASS",
    ];
    let run = |pass: &str| {
        Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("ASSAY_TEST_PASS", pass)
            .output()
            .expect("runs")
    };
    let flags = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .args([
            "--force",
            "--reviewer",
            "Q. Tester",
            "--role",
            "QA",
            "--decision",
            "approved_with_conditions",
            "--condition",
            "retrain quarterly",
            "--date",
            "2026-01-02",
            "--json",
            "-",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ASSAY_TEST_PASS", "correct horse")
        .output()
        .expect("runs");
    assert!(flags.status.success(), "{}", text(&flags.stderr));
    let so: Value =
        serde_json::from_str(&std::fs::read_to_string(pkg.join("signoff.json")).expect("signoff"))
            .expect("json");
    assert_eq!(
        so,
        serde_json::json!([{"reviewer": "Q. Tester", "role": "QA", "decision": "approved_with_conditions",
        "conditions": ["retrain quarterly"], "date": "2026-01-02", "notes": ""}])
    );
    std::fs::remove_dir_all(&pkg).expect("rm");
    let bad = run("wrong");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("wrong passphrase"),
        "{}",
        text(&bad.stderr)
    );
    let good = run("correct horse");
    assert!(good.status.success(), "{}", text(&good.stderr));
    let v = assay(&[
        "verify",
        s(&pkg),
        "--public-key",
        s(&tmp.path().join("k.pub.pem")),
    ]);
    assert_eq!(v.status.code(), Some(0));
}

#[test]
fn verify_bad_inputs_exit_2() {
    let out = assay(&[
        "verify",
        "no/such/dir",
        "--public-key",
        "tests/fixtures/package/test-key.pub.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = assay(&[
        "verify",
        "tests/fixtures/package/signed_by_model_signing",
        "--public-key",
        "Cargo.toml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // A model_signing directory verifies with the CLI too.
    let out = assay(&[
        "verify",
        "tests/fixtures/package/signed_by_model_signing",
        "--public-key",
        "tests/fixtures/package/test-key.pub.pem",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn package_from_a_workspace_runs_fairness_and_drift_and_carries_sign_offs() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut ws = assay::engine::workspace::demo_workspace().expect("demo workspace");
    ws.signoffs.push(assay::engine::package::SignOff {
        reviewer: "Grace Hopper".into(),
        role: "Model risk".into(),
        decision: assay::engine::package::Decision::Approved,
        conditions: Vec::new(),
        date: "2026-11-25".into(),
        notes: String::new(),
    });
    let wpath = tmp.path().join("review.assay.json");
    ws.save(&wpath).expect("save workspace");
    let key = tmp.path().join("k.pem");
    assert!(assay(&["keygen", "--out", s(&key)]).status.success());
    let dir = tmp.path().join("pkg");
    let out = assay(&[
        "package",
        "--workspace",
        s(&wpath),
        "--bootstrap",
        "50",
        "--key",
        s(&key),
        "--out",
        s(&dir),
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let checklist = report["checklist"].as_array().expect("checklist");
    for name in ["evaluation", "fairness", "drift"] {
        assert!(
            dir.join(format!("evidence/{name}.json")).is_file(),
            "{name} evidence"
        );
        assert!(checklist
            .iter()
            .any(|c| c["evidence"] == name && c["present"] == true));
    }
    let fairness: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("evidence/fairness.json")).expect("read"),
    )
    .expect("json");
    let cols: Vec<&Value> = fairness["slices"]
        .as_array()
        .expect("slices")
        .iter()
        .map(|s| &s["columns"])
        .collect();
    // The workspace's sensitive roles, plus the intersection of the first two, as the window
    // slices them (one planner for both).
    assert_eq!(
        cols,
        [
            &serde_json::json!(["sex"]),
            &serde_json::json!(["race"]),
            &serde_json::json!(["age"]),
            &serde_json::json!(["sex", "race"]),
        ],
        "sex, race, age and sex × race from the workspace roles"
    );
    let signoff = std::fs::read_to_string(dir.join("signoff.json")).expect("signoff");
    assert!(signoff.contains("Grace Hopper"));
    let verify = assay(&[
        "verify",
        s(&dir),
        "--public-key",
        s(&tmp.path().join("k.pub.pem")),
    ]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

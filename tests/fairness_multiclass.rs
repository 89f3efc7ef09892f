//! Fairness of a multiclass model against fairlearn 0.15 MetricFrame (issue 17, item 6):
//! accuracy and one-vs-rest recall / precision / selection rate per class, by group, with the
//! MetricFrame summaries at 1e-9 (`tests/fixtures/fairness/multiclass.json`, made by
//! `make_multiclass_fixtures.py` from onnxruntime's predictions), bootstrap intervals, the
//! default per-class policy, and the CLI's table and JSON.

#![allow(clippy::expect_used)] // tests may expect

use std::collections::BTreeMap;
use std::process::Command;

use assay::engine::data::load;
use assay::engine::evaluate::Task;
use assay::engine::fairness::stats::STATS;
use assay::engine::fairness::{fairness, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::Progress;
use serde_json::Value;

mod support;
use support::root;

const TOL: f64 = 1e-9;

fn fixture() -> Value {
    let p = root().join("tests/fixtures/fairness/multiclass.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json")
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (a - b).abs() <= TOL * (1.0 + b.abs()),
        _ => false,
    }
}

fn key_of(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .expect("group")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_string()))
        .collect()
}

fn options(fx: &Value) -> FairnessOptions {
    let slicings = fx["slicings"]
        .as_array()
        .expect("slicings")
        .iter()
        .map(|s| {
            s["columns"]
                .as_array()
                .expect("columns")
                .iter()
                .map(|c| c.as_str().expect("column").to_string())
                .collect()
        })
        .collect();
    let mut opts = FairnessOptions::new("target", slicings);
    opts.bootstrap.resamples = 200;
    opts.min_group_size = 1;
    opts
}

#[test]
fn multiclass_groups_and_summaries_match_fairlearn() {
    let fx = fixture();
    let model = Model::load(&root().join(fx["model"].as_str().expect("model"))).expect("model");
    let ds = load(
        &root().join(fx["data"].as_str().expect("data")),
        &Progress::none(),
    )
    .expect("data");
    let report = fairness(&model, &ds, &options(&fx), &Progress::none()).expect("fairness");
    assert_eq!(report.task, Task::MulticlassClassification);
    let names: Vec<String> = fx["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m.as_str().expect("name").to_string())
        .collect();
    assert_eq!(report.metrics, names, "metric names and order");
    assert_eq!(report.n, 150);
    let json = serde_json::to_value(&report).expect("json");
    for (i, want) in fx["slicings"].as_array().expect("s").iter().enumerate() {
        let got = &json["slices"][i];
        let groups = got["groups"].as_array().expect("groups");
        let want_h = want["groups_honest"].as_array().expect("groups");
        let want_f = want["groups_fairlearn"].as_array().expect("groups");
        assert_eq!(groups.len(), want_h.len(), "slicing {i}: groups");
        for (wh, wf) in want_h.iter().zip(want_f) {
            let key = key_of(&wh["group"]);
            let g = groups
                .iter()
                .find(|g| key_of(&g["group"]) == key)
                .expect("group present");
            assert_eq!(g["count"], wh["count"], "slicing {i} {key:?}: count");
            let undefined: Vec<&str> = g["undefined"]
                .as_array()
                .map(|u| u.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for m in &names {
                let (v, h) = (g[m].as_f64(), wh["metrics"][m].as_f64());
                assert!(
                    close(v, h),
                    "slicing {i} {key:?} {m}: Assay {v:?}, honest {h:?}"
                );
                // fairlearn's zero_division=0 is listed as undefined where it differs.
                let f = wf["metrics"][m].as_f64();
                if h.is_none() {
                    assert_eq!(f, Some(0.0), "{m}: fairlearn reports 0 for 0/0");
                    assert!(undefined.contains(&m.as_str()), "{m} listed as undefined");
                }
            }
        }
        for m in &names {
            for stat in STATS {
                let v = got["summaries"][m][stat].as_f64();
                let h = want["summaries_honest"][m][stat].as_f64();
                assert!(
                    close(v, h),
                    "slicing {i} {m}.{stat}: Assay {v:?}, honest {h:?}"
                );
                let name = format!("{m}.{stat}");
                let fl = match got["fairlearn"].get(&name) {
                    Some(x) => x.as_f64(),
                    None => v,
                };
                let f = want["summaries_fairlearn"][m][stat].as_f64();
                assert!(
                    close(fl, f),
                    "slicing {i} {name}: Assay-as-fairlearn {fl:?}, fairlearn {f:?}"
                );
            }
        }
        // Headline disparities per metric: difference and ratio between groups, with CIs.
        assert!(got["summaries"]["accuracy"]["ci"]["difference_between_groups"].is_array());
    }
    // The default policy: per class, selection-rate ratio and recall gap.
    let s = &json["slices"][0];
    let rules = s["policy"].as_array().expect("policy");
    assert_eq!(rules.len(), 6);
    assert_eq!(
        rules[0]["metric"],
        "selection_rate[setosa].ratio_between_groups"
    );
    assert_eq!(
        json["classes"],
        serde_json::json!(["setosa", "versicolor", "virginica"])
    );
}

#[test]
fn cli_fairness_accepts_a_multiclass_model() {
    let fx = fixture();
    let out = Command::new(env!("CARGO_BIN_EXE_assay"))
        .current_dir(root())
        .args([
            "fairness",
            "--model",
            fx["model"].as_str().expect("model"),
            "--data",
            fx["data"].as_str().expect("data"),
            "--target",
            "target",
            "--sensitive",
            "site",
            "--bootstrap",
            "50",
        ])
        .output()
        .expect("run assay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("rec[setosa]"), "{stdout}");
    assert!(stdout.contains("recall[versicolor]"), "{stdout}");
    assert!(
        stdout.contains("selection_rate[setosa].ratio_between_groups"),
        "{stdout}"
    );

    let json_path = std::env::temp_dir().join(format!("assay-mc-{}.json", std::process::id()));
    let st = Command::new(env!("CARGO_BIN_EXE_assay"))
        .current_dir(root())
        .args([
            "fairness",
            "--model",
            fx["model"].as_str().expect("model"),
            "--data",
            fx["data"].as_str().expect("data"),
            "--target",
            "target",
            "--sensitive",
            "site+batch",
            "--bootstrap",
            "0",
            "--json",
        ])
        .arg(&json_path)
        .status()
        .expect("run assay");
    assert!(st.success());
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json")).expect("json");
    let _ = std::fs::remove_file(&json_path);
    assert_eq!(v["task"], "multiclass_classification");
    let want = &fx["slicings"][1]["summaries_honest"]["recall[versicolor]"];
    let got = &v["slices"][0]["summaries"]["recall[versicolor]"];
    for stat in STATS {
        assert!(
            close(got[stat].as_f64(), want[stat].as_f64()),
            "CLI recall[versicolor].{stat}"
        );
    }
}

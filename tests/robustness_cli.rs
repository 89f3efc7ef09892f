//! `assay perf` and `assay robustness` end to end: JSON contract, human tables, exit codes.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

mod support;
use support::{assay, json_of};

const QUICK_PERF: &[&str] = &[
    "perf",
    "--model",
    "sample_models/adult_logreg.onnx",
    "--data",
    "sample_data/adult_eval.csv",
    "--calls",
    "40",
    "--warmup",
    "5",
    "--repeats",
    "2",
    "--batch-sizes",
    "1,64",
    "--rows-per-repeat",
    "128",
];

#[test]
fn perf_json_contract() {
    let mut args = QUICK_PERF.to_vec();
    args.extend(["--json", "-"]);
    let v = json_of(&assay(&args));
    for key in [
        "p50_latency_ms",
        "p95_latency_ms",
        "p99_latency_ms",
        "load_time_ms",
        "max_throughput_rows_per_s",
    ] {
        assert!(v[key].as_f64().expect(key) > 0.0, "{key}");
    }
    assert_eq!(v["latency"]["calls"], 40);
    let tp = v["throughput"].as_array().expect("throughput");
    assert!(tp
        .iter()
        .all(|t| t["rows_per_s"]["median"].as_f64().expect("median") > 0.0));
    assert!(tp.iter().any(|t| t["batch_size"] == 64));
}

#[test]
fn perf_human_table() {
    let out = assay(QUICK_PERF);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("single-row latency"), "{text}");
    assert!(text.contains("rows/s median"), "{text}");
}

#[test]
fn robustness_json_and_table() {
    let base = [
        "robustness",
        "--model",
        "sample_models/adult_logreg.onnx",
        "--data",
        "sample_data/adult_eval.csv",
        "--target",
        "income_over_50k",
        "--rows",
        "120",
        "--seed",
        "3",
        "--adversarial-rows",
        "10",
        "--monotonic",
        "education_num:increasing",
        "--monotonic",
        "age:decreasing",
    ];
    let mut args = base.to_vec();
    args.extend(["--json", "-"]);
    let v = json_of(&assay(&args));
    assert_eq!(v["sample_rows"].as_array().expect("rows").len(), 120);
    assert_eq!(v["seed"], 3);
    assert_eq!(v["monotonic"].as_array().expect("monotonic").len(), 2);
    assert_eq!(v["adversarial"]["rows_tried"], 10);
    let first = &v["perturbations"][0];
    assert_eq!(first["kind"], "noise");
    assert!(first["feature"].is_null());
    assert_eq!(first["scale"], 0.01);
    let out = assay(&base);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("flip rate"), "{text}");
    assert!(text.contains("monotonic constraints"), "{text}");
    assert!(text.contains("adversarial search"), "{text}");
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    for (args, needle) in [
        (
            vec![
                "robustness",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "income_over_50k",
                "--monotonic",
                "age:sideways",
            ],
            "FEATURE:increasing",
        ),
        (
            vec![
                "robustness",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--target",
                "nope",
            ],
            "nope",
        ),
        (
            vec![
                "perf",
                "--model",
                "tests/fixtures/bad/garbage.onnx",
                "--data",
                "sample_data/adult_eval.csv",
            ],
            "garbage.onnx",
        ),
        (
            vec![
                "perf",
                "--model",
                "sample_models/adult_logreg.onnx",
                "--data",
                "sample_data/adult_eval.csv",
                "--calls",
                "0",
            ],
            "--calls",
        ),
    ] {
        let out = assay(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

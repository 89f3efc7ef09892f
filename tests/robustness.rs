//! Robustness engine against onnxruntime on committed fixtures
//! (`tests/fixtures/robustness/`, made by `make_robustness_fixtures.py`): the Rust run replays
//! the fixture's sampled rows and normal draws, so flip counts must match exactly and score
//! changes to 1e-9 relative (same ONNX Runtime 1.31.1, same float32 inputs; only the order of
//! summation of the mean differs); monotonic checks on a logistic regression with known
//! coefficient signs; every adversarial flip re-run through the model; seeded determinism;
//! bad input; cancellation. (The sample models: `robustness_models.rs`.)

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use assay::engine::data::extract::InputData;
use assay::engine::data::load;
use assay::engine::model::{predict, InferOptions, Model, Predictions};
use assay::engine::robustness::adversarial::AdversarialOptions;
use assay::engine::robustness::monotonic::{Direction, MonotonicConstraint};
use assay::engine::robustness::perturb::PerturbationKind;
use assay::engine::robustness::{run, Replay, RobustnessOptions, RobustnessReport};
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

mod support;
use support::root;

fn fixture() -> Value {
    let p = root().join("tests/fixtures/robustness/robustness.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json")
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * (1.0 + b.abs())
}

fn kind_name(k: PerturbationKind) -> String {
    serde_json::to_value(k)
        .expect("json")
        .as_str()
        .expect("str")
        .to_string()
}

fn run_files(
    model: &str,
    data: &str,
    target: &str,
    opts: &RobustnessOptions,
) -> assay::engine::Result<RobustnessReport> {
    let model = Model::load(&root().join(model))?;
    let ds = load(&root().join(data), &Progress::none())?;
    run(&model, None, &ds, target, opts, &Progress::none())
}

fn replay_options(fx: &Value) -> RobustnessOptions {
    let rows = fx["replay"]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|v| v.as_u64().expect("row") as usize)
        .collect();
    let z = fx["replay"]["z"]
        .as_array()
        .expect("z")
        .iter()
        .map(|v| v.as_f64().expect("z"))
        .collect();
    let mut monotonic = Vec::new();
    for f in ["x0", "x1", "x2", "x3"] {
        for d in ["increasing", "decreasing"] {
            monotonic.push(MonotonicConstraint::parse(&format!("{f}:{d}")).expect("parse"));
        }
    }
    RobustnessOptions {
        noise_scales: fx["scales"]
            .as_array()
            .expect("scales")
            .iter()
            .map(|v| v.as_f64().expect("scale"))
            .collect(),
        monotonic,
        monotonic_tolerance: fx["tolerance"].as_f64().expect("tol"),
        grid_points: fx["grid_points"].as_u64().expect("grid") as usize,
        adversarial: Some(AdversarialOptions {
            rows: 60,
            ..AdversarialOptions::default()
        }),
        replay: Some(Replay { rows, z }),
        ..RobustnessOptions::default()
    }
}

#[test]
fn replayed_perturbations_match_onnxruntime_exactly() {
    let fx = fixture();
    let opts = replay_options(&fx);
    let rep = run_files(
        fx["model"].as_str().expect("model"),
        fx["data"].as_str().expect("data"),
        "y",
        &opts,
    )
    .expect("robustness runs");

    // Feature scales: sequential mean and population std, as the script computes them.
    for (got, want) in rep
        .feature_stats
        .iter()
        .zip(fx["feature_stats"].as_array().expect("stats"))
    {
        assert_eq!(got.name, want["name"].as_str().expect("name"));
        for (g, key) in [
            (got.mean, "mean"),
            (got.std, "std"),
            (got.min, "min"),
            (got.max, "max"),
        ] {
            let w = want[key].as_f64().expect("number");
            assert!(
                close(g.expect("numeric"), w, 1e-12),
                "{} {key}: {g:?} vs {w}",
                got.name
            );
        }
    }
    assert_eq!(rep.sample_rows.len(), 200);
    assert!(close(
        rep.baseline.accuracy.expect("accuracy"),
        fx["baseline"]["accuracy"].as_f64().expect("acc"),
        1e-12
    ));

    let want = fx["perturbations"].as_array().expect("perturbations");
    let mut matched = 0;
    for w in want {
        let kind = w["kind"].as_str().expect("kind");
        let feature = w["feature"].as_str();
        let scale = w["scale"].as_f64();
        let got = rep
            .perturbations
            .iter()
            .find(|p| {
                kind_name(p.kind) == kind && p.feature.as_deref() == feature && p.scale == scale
            })
            .unwrap_or_else(|| panic!("no result for {kind} {feature:?} {scale:?}"));
        let ctx = format!("{kind} {feature:?} scale {scale:?}");
        if w["non_finite_scores"].as_u64() == Some(200) {
            // LinearClassifier turns NaN into NaN probabilities: reported as not applicable.
            assert!(!got.applicable, "{ctx}");
            assert!(
                got.reason.as_deref().unwrap_or("").contains("non-finite"),
                "{ctx}"
            );
            matched += 1;
            continue;
        }
        assert!(got.applicable, "{ctx}");
        assert_eq!(got.rows, 200, "{ctx}");
        assert_eq!(
            got.flips,
            Some(w["flips"].as_u64().expect("flips") as usize),
            "{ctx}"
        );
        assert_eq!(
            got.flip_rate,
            Some(w["flips"].as_f64().expect("f") / 200.0),
            "{ctx}"
        );
        for (g, key) in [
            (got.mean_abs_score_change, "mean_abs_score_change"),
            (got.max_abs_score_change, "max_abs_score_change"),
            (got.accuracy, "accuracy"),
        ] {
            let wv = w[key].as_f64().expect("number");
            assert!(
                close(g.expect("value"), wv, 1e-9),
                "{ctx} {key}: {g:?} vs {wv}"
            );
        }
        if scale == Some(0.0) {
            // Zero noise: exactly the unperturbed decisions.
            assert_eq!(got.flips, Some(0), "{ctx}");
        }
        matched += 1;
    }
    assert_eq!(matched, want.len());
    // Every applicable non-noise perturbation of the fixture is present, plus n/a swaps.
    let swaps = rep
        .perturbations
        .iter()
        .filter(|p| p.kind == PerturbationKind::CategorySwap)
        .count();
    assert_eq!(swaps, 4);
    assert!(rep
        .perturbations
        .iter()
        .filter(|p| p.kind == PerturbationKind::CategorySwap)
        .all(|p| !p.applicable && p.reason.is_some()));

    // Monotonic: no violation of the true directions; every row violates the opposite one.
    let coef: Vec<f64> = fx["coefficients"]
        .as_array()
        .expect("coef")
        .iter()
        .map(|v| v.as_f64().expect("c"))
        .collect();
    for w in fx["monotonic"].as_array().expect("monotonic") {
        let f = w["feature"].as_str().expect("feature");
        let dir = w["direction"].as_str().expect("direction");
        let got = rep
            .monotonic
            .iter()
            .find(|m| {
                m.feature == f && (m.direction == Direction::Increasing) == (dir == "increasing")
            })
            .expect("monotonic result");
        let ctx = format!("{f} {dir}");
        assert_eq!(got.rows_checked, 200, "{ctx}");
        assert_eq!(got.grid.len(), 21, "{ctx}");
        assert_eq!(
            got.violating_rows as u64,
            w["violating_rows"].as_u64().expect("v"),
            "{ctx}"
        );
        assert_eq!(
            got.violating_steps as u64,
            w["violating_steps"].as_u64().expect("v"),
            "{ctx}"
        );
        assert!(
            close(
                got.max_violation,
                w["max_violation"].as_f64().expect("m"),
                1e-9
            ),
            "{ctx}"
        );
        let j = ["x0", "x1", "x2", "x3"]
            .iter()
            .position(|x| *x == f)
            .expect("j");
        let truly_increasing = coef[j] > 0.0;
        if truly_increasing == (got.direction == Direction::Increasing) {
            assert_eq!(got.violating_rows, 0, "{ctx}");
            assert!(got.worst.is_none(), "{ctx}");
        } else {
            assert_eq!(got.violating_rows, 200, "{ctx}");
            assert_eq!(got.violating_steps, 200 * 20, "{ctx}");
            assert_eq!(got.violation_rate, 1.0, "{ctx}");
            let worst = got.worst.as_ref().expect("worst example");
            assert!(worst.to_value > worst.from_value, "{ctx}");
        }
    }

    // Adversarial: every reported flip really flips when re-run.
    let adv = rep.adversarial.as_ref().expect("adversarial");
    assert_eq!(adv.rows_tried, 60);
    assert_eq!(adv.per_row.len(), 60);
    assert!(
        adv.flipped_rows > 0,
        "a logistic regression flips within 3 std"
    );
    assert_eq!(
        adv.flipped_rows,
        adv.flipped_by_single_feature + adv.flipped_by_pair
    );
    assert_eq!(
        adv.size_histogram_counts.iter().sum::<u64>() as usize,
        adv.flipped_rows
    );
    let ds = load(
        &root().join("tests/fixtures/robustness/monotonic_data.csv"),
        &Progress::none(),
    )
    .expect("data");
    let model = Model::load(&root().join("tests/fixtures/robustness/monotonic_logreg.onnx"))
        .expect("model");
    let names = ["x0", "x1", "x2", "x3"];
    let col = |name: &str| -> Vec<f64> {
        use polars::prelude::*;
        let c = ds
            .df
            .column(name)
            .expect("col")
            .cast(&DataType::Float64)
            .expect("cast");
        c.f64().expect("f64").into_no_null_iter().collect()
    };
    let cols: Vec<Vec<f64>> = names.iter().map(|n| col(n)).collect();
    let mut values = Vec::new();
    let mut expected = Vec::new();
    for r in adv.per_row.iter().filter(|r| r.flipped) {
        let size = r.size_std.expect("size");
        assert!(
            size > 0.0 && size <= 3.0 + 1e-9,
            "row {}: size {size}",
            r.row
        );
        let mut row: Vec<f32> = cols.iter().map(|c| c[r.row - 1] as f32).collect();
        for ch in &r.changes {
            let j = names
                .iter()
                .position(|n| *n == ch.feature)
                .expect("feature");
            assert_eq!(f64::from(row[j]), ch.from, "row {}", r.row);
            row[j] = ch.to as f32;
            assert_eq!(
                f64::from(ch.to as f32),
                ch.to,
                "reported value is the fed value"
            );
        }
        values.extend(row);
        expected.push(r);
    }
    let preds = predict(
        &model,
        &InputData::MatrixF32 {
            input: "input".into(),
            width: 4,
            values,
        },
        &InferOptions::default(),
        &Progress::none().stage(0.0, 1.0),
    )
    .expect("predict");
    let Predictions::Classification { proba, .. } = preds else {
        panic!("classifier");
    };
    for (i, r) in expected.iter().enumerate() {
        let p = f64::from(proba[i * 2 + 1]);
        let after = if p >= 0.5 { "1" } else { "0" };
        assert_ne!(after, r.decision_before, "row {} does not flip", r.row);
        assert_eq!(Some(after.to_string()), r.decision_after, "row {}", r.row);
        assert_eq!(Some(p), r.score_after, "row {}", r.row);
    }
}

#[test]
fn seeded_sample_is_deterministic_and_zero_noise_flips_nothing() {
    let opts = RobustnessOptions {
        rows: 150,
        seed: 11,
        noise_scales: vec![0.0, 0.1],
        adversarial: None,
        ..RobustnessOptions::default()
    };
    let a = run_files(
        "sample_models/adult_gbdt_v1.onnx",
        "sample_data/adult_eval.csv",
        "income_over_50k",
        &opts,
    )
    .expect("run");
    let b = run_files(
        "sample_models/adult_gbdt_v1.onnx",
        "sample_data/adult_eval.csv",
        "income_over_50k",
        &opts,
    )
    .expect("run");
    assert_eq!(
        serde_json::to_string(&a).expect("json"),
        serde_json::to_string(&b).expect("json")
    );
    assert_eq!(a.sample_rows.len(), 150);
    assert!(a.sample_rows.windows(2).all(|w| w[0] < w[1]));
    for p in a.perturbations.iter().filter(|p| p.scale == Some(0.0)) {
        assert_eq!(p.flips, Some(0), "{:?}", p.feature);
        // Not exactly 0: ONNX Runtime's TreeEnsemble sums trees in an order that depends on
        // the batch size (the unperturbed rows ran in a smaller batch), so float32 scores
        // move by ~1e-8. Decisions cannot flip on that (checked above).
        assert!(
            p.mean_abs_score_change.expect("mean") < 1e-6,
            "{:?}",
            p.feature
        );
    }
    let other = RobustnessOptions { seed: 12, ..opts };
    let c = run_files(
        "sample_models/adult_gbdt_v1.onnx",
        "sample_data/adult_eval.csv",
        "income_over_50k",
        &other,
    )
    .expect("run");
    assert_ne!(a.sample_rows, c.sample_rows);
}

fn small(rows: usize) -> RobustnessOptions {
    RobustnessOptions {
        rows,
        adversarial: Some(AdversarialOptions {
            rows: 20,
            ..AdversarialOptions::default()
        }),
        ..RobustnessOptions::default()
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let model = "sample_models/adult_logreg.onnx";
    let data = "sample_data/adult_eval.csv";
    let t = "income_over_50k";
    let cases: Vec<(RobustnessOptions, &str, &str)> = vec![
        (
            RobustnessOptions {
                rows: 0,
                ..small(1)
            },
            t,
            "--rows",
        ),
        (
            RobustnessOptions {
                noise_scales: vec![-1.0],
                ..small(10)
            },
            t,
            "noise scale",
        ),
        (
            RobustnessOptions {
                threshold: 2.0,
                ..small(10)
            },
            t,
            "threshold",
        ),
        (
            RobustnessOptions {
                monotonic: vec![MonotonicConstraint::parse("debt:increasing").expect("parse")],
                ..small(10)
            },
            t,
            "not a model input",
        ),
        (
            RobustnessOptions {
                positive_class: Some("7".into()),
                ..small(10)
            },
            t,
            "positive class",
        ),
        (
            RobustnessOptions {
                replay: Some(Replay {
                    rows: vec![999_999],
                    z: vec![],
                }),
                ..small(10)
            },
            t,
            "outside",
        ),
        (small(10), "no_such_column", "no_such_column"),
    ];
    for (opts, target, needle) in cases {
        let err = run_files(model, data, target, &opts).expect_err(needle);
        assert_eq!(err.kind(), ErrorKind::BadInput, "{needle}: {err}");
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    for spec in ["age", "age:sideways", ":increasing", ""] {
        let err = MonotonicConstraint::parse(spec).expect_err(spec);
        assert_eq!(err.kind(), ErrorKind::BadInput);
    }
    let err = run_files(
        "sample_models/adult_pipeline_raw.onnx",
        data,
        t,
        &RobustnessOptions {
            monotonic: vec![MonotonicConstraint::parse("race:increasing").expect("parse")],
            ..small(10)
        },
    )
    .expect_err("text feature");
    assert!(err.to_string().contains("text input"), "{err}");
    // A NaN in a feature names the cell.
    let err = run_files(
        "sample_models/adult_logreg.onnx",
        "tests/fixtures/bad/nan_in_feature.csv",
        t,
        &small(10),
    )
    .expect_err("NaN feature");
    assert_eq!(err.kind(), ErrorKind::BadInput, "{err}");
    assert!(err.to_string().contains("row"), "{err}");
}

#[test]
fn cancellation_stops_the_run() {
    let model = Model::load(&root().join("sample_models/adult_logreg.onnx")).expect("model");
    let ds = load(
        &root().join("sample_data/adult_eval.csv"),
        &Progress::none(),
    )
    .expect("data");
    let p = Progress::none();
    p.cancel();
    let err = run(&model, None, &ds, "income_over_50k", &small(50), &p).expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

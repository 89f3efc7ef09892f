//! Robustness engine on the sample models: structure of the report for a binary classifier
//! (float matrix input, a 0/1 indicator swapped as a category), a regressor (no flips, no
//! adversarial search), a raw-column pipeline (text inputs swapped, int64 inputs without
//! missing values) and a multiclass model (arg-max decisions, monotonic checks per class).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use assay::engine::data::load;
use assay::engine::model::Model;
use assay::engine::robustness::adversarial::AdversarialOptions;
use assay::engine::robustness::monotonic::MonotonicConstraint;
use assay::engine::robustness::perturb::PerturbationKind;
use assay::engine::robustness::{run, RobustnessOptions, RobustnessReport};
use assay::engine::{ErrorKind, Progress};

mod support;
use support::root;

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
fn binary_sample_model_structure() {
    let mut opts = small(300);
    opts.monotonic = vec![MonotonicConstraint::parse("education_num:increasing").expect("parse")];
    let rep = run_files(
        "sample_models/adult_logreg.onnx",
        "sample_data/adult_eval.csv",
        "income_over_50k",
        &opts,
    )
    .expect("run");
    assert_eq!(rep.positive_class.as_deref(), Some("1"));
    assert_eq!(rep.threshold, Some(0.5));
    let f = rep.features.len();
    // Noise: 4 scales × (all + each numeric feature); per feature: missing, mean, low,
    // high, swap.
    assert_eq!(rep.perturbations.len(), 4 * (1 + f) + 5 * f);
    for p in rep.perturbations.iter().filter(|p| p.applicable) {
        assert_eq!(p.rows, 300);
        let flips = p.flips.expect("classifier flips");
        assert!(flips <= 300);
        assert!((0.0..=1.0).contains(&p.flip_rate.expect("rate")));
        assert!(p.mean_abs_score_change.expect("mean") <= p.max_abs_score_change.expect("max"));
    }
    assert_eq!(
        rep.baseline.decisions.values().sum::<usize>(),
        300,
        "every sampled row has a decision"
    );
    assert!(rep.max_noise_flip_rate.is_some());
    // The 0/1 indicator in the float matrix is categorical enough for a swap (0 ↔ 1).
    let swap = rep
        .perturbations
        .iter()
        .find(|p| {
            p.kind == PerturbationKind::CategorySwap && p.feature.as_deref() == Some("sex_male")
        })
        .expect("swap");
    assert!(swap.applicable);
    let sex = rep
        .feature_stats
        .iter()
        .find(|s| s.name == "sex_male")
        .expect("stats");
    assert_eq!(sex.categories, Some(vec!["0".to_string(), "1".to_string()]));
    let age_swap = rep
        .perturbations
        .iter()
        .find(|p| p.kind == PerturbationKind::CategorySwap && p.feature.as_deref() == Some("age"))
        .expect("swap");
    assert!(!age_swap.applicable);
    let m = &rep.monotonic[0];
    assert_eq!(m.rows_checked, 300);
    assert_eq!(m.mean_score.len(), m.grid.len());
    let adv = rep.adversarial.expect("adversarial");
    assert_eq!(adv.per_row.len(), 20);
    assert_eq!(adv.features_searched.len(), f);
}

#[test]
fn regression_has_no_flips_and_no_adversarial_search() {
    let rep = run_files(
        "sample_models/abalone_rf.onnx",
        "sample_data/abalone_eval.csv",
        "rings",
        &small(200),
    )
    .expect("run");
    assert!(rep.classes.is_none());
    assert!(rep.baseline.mae.is_some());
    for p in rep.perturbations.iter().filter(|p| p.applicable) {
        assert_eq!(p.flips, None);
        assert_eq!(p.flip_rate, None);
        assert!(p.mae.is_some());
        assert!(p.mean_abs_score_change.is_some());
    }
    assert!(rep.adversarial.is_none());
    assert!(rep.warnings.iter().any(|w| w.message.contains("regressor")));
    assert_eq!(rep.max_noise_flip_rate, None);
}

#[test]
fn text_inputs_get_category_swaps_and_int_inputs_no_missing() {
    let rep = run_files(
        "sample_models/adult_pipeline_raw.onnx",
        "sample_data/adult_eval.csv",
        "income_over_50k",
        &small(200),
    )
    .expect("run");
    let find = |kind: PerturbationKind, f: &str| {
        rep.perturbations
            .iter()
            .find(|p| p.kind == kind && p.feature.as_deref() == Some(f))
            .expect("result")
    };
    let swap = find(PerturbationKind::CategorySwap, "race");
    assert!(swap.applicable);
    assert_eq!(swap.rows, 200);
    let missing = find(PerturbationKind::Missing, "age");
    assert!(!missing.applicable);
    assert!(missing.reason.as_deref().unwrap_or("").contains("int64"));
    let text_missing = find(PerturbationKind::Missing, "sex");
    assert!(!text_missing.applicable);
    assert!(find(PerturbationKind::Mean, "age").applicable);
    assert!(!find(PerturbationKind::Mean, "sex").applicable);
    let stats = rep
        .feature_stats
        .iter()
        .find(|s| s.name == "race")
        .expect("race");
    assert_eq!(stats.kind, "text");
    assert!(stats.categories.as_ref().expect("cats").len() >= 2);
    let adv = rep.adversarial.expect("adversarial");
    assert_eq!(
        adv.features_searched,
        vec!["age", "education_num", "hours_per_week"]
    );
}

#[test]
fn multiclass_uses_argmax_and_needs_a_class_for_monotonic_checks() {
    let model = "tests/fixtures/models/skl_multiclass.onnx";
    let data = "tests/fixtures/models/skl_multiclass.csv";
    let rep = run_files(model, data, "target", &small(100)).expect("run");
    assert_eq!(rep.classes.as_ref().map(Vec::len), Some(3));
    assert_eq!(rep.threshold, None);
    assert!(rep
        .perturbations
        .iter()
        .filter(|p| p.applicable)
        .all(|p| p.flips.is_some()));
    let mut opts = small(50);
    opts.monotonic = vec![MonotonicConstraint::parse("petal_length:increasing").expect("parse")];
    let err = run_files(model, data, "target", &opts).expect_err("needs a class");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("name the class"), "{err}");
    opts.monotonic = vec![MonotonicConstraint::parse("petal_length:increasing:2").expect("parse")];
    let rep = run_files(model, data, "target", &opts).expect("run");
    assert_eq!(rep.monotonic[0].class.as_deref(), Some("2"));
    assert_eq!(rep.monotonic[0].rows_checked, rep.sample_rows.len());
    assert!(rep.sample_rows.len() <= 50);
}

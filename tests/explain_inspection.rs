//! Permutation importance, partial dependence / ICE and the local surrogate.
//!
//! Importance: the shuffles of sklearn's `permutation_importance` come from numpy's RNG and
//! cannot be reproduced, so the fixture stores its own permutations and the ROC AUC drop
//! scikit-learn 1.7 computes for each (`roc_auc_score` on the ONNX model's probabilities);
//! Assay replays the same permutations (1e-12: same float32 outputs, same AUC). Seeded runs
//! are checked for the invariants (no-shuffle baseline, determinism, spread). Partial
//! dependence: `sklearn.inspection.partial_dependence(method="brute")` grid (mquantiles
//! percentiles + linspace, or the unique values) and averages/ICE to 1e-9 (the averages of
//! the same float32 outputs; the grid is exact to 1e-12).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use assay::engine::data::{load, Dataset};
use assay::engine::explain::importance::{
    importance_with_permutations, permutation_importance, ImportanceOptions,
};
use assay::engine::explain::pdp::{grid_axis, mquantile, partial_dependence, PdpOptions};
use assay::engine::explain::surrogate::{surrogate, SurrogateOptions};
use assay::engine::explain::OutputSpace;
use assay::engine::model::Model;
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn data(rel: &str) -> Dataset {
    load(&root(rel), &Progress::none()).expect("data loads")
}

fn fixture() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root("tests/fixtures/explain/sklearn_inspection.json"))
            .expect("fixture"),
    )
    .expect("json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn importance_replays_sklearn_statistic_with_fixed_permutations() {
    let fx = fixture();
    let imp = &fx["importance"];
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let perms: Vec<Vec<Vec<usize>>> = imp["permutations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f.as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    p.as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i.as_u64().unwrap() as usize)
                        .collect()
                })
                .collect()
        })
        .collect();
    let mut o = ImportanceOptions::new("income_over_50k");
    o.rows = Some(0..500);
    let got =
        importance_with_permutations(&model, None, &ds, &o, &perms, &Progress::none()).unwrap();
    assert_eq!(got.metric, "roc_auc");
    assert!((got.baseline_score - imp["baseline_score"].as_f64().unwrap()).abs() < 1e-12);
    let names = [
        "age",
        "education_num",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
        "sex_male",
    ];
    for (j, name) in names.iter().enumerate() {
        let f = got.features.iter().find(|f| f.feature == *name).unwrap();
        close(&f.importances, &floats(&imp["importances"][j]), 1e-12, name);
        assert!((f.importances_mean - imp["importances_mean"][j].as_f64().unwrap()).abs() < 1e-12);
        assert!((f.importances_std - imp["importances_std"][j].as_f64().unwrap()).abs() < 1e-12);
    }
    for w in got.features.windows(2) {
        assert!(w[0].importances_mean >= w[1].importances_mean);
    }
}

#[test]
fn seeded_importance_invariants() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let mut o = ImportanceOptions::new("income_over_50k");
    o.rows = Some(0..800);
    o.repeats = 4;
    let a = permutation_importance(&model, None, &ds, &o, &Progress::none()).unwrap();
    let b = permutation_importance(&model, None, &ds, &o, &Progress::none()).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.repeats, 4);
    for f in &a.features {
        assert_eq!(f.importances.len(), 4);
        let mean = f.importances.iter().sum::<f64>() / 4.0;
        assert!((mean - f.importances_mean).abs() < 1e-15);
    }
    // Identity permutations change nothing: every drop is exactly 0.
    let id: Vec<Vec<Vec<usize>>> = (0..6).map(|_| vec![(0..800).collect()]).collect();
    let z = importance_with_permutations(&model, None, &ds, &o, &id, &Progress::none()).unwrap();
    assert!(z
        .features
        .iter()
        .all(|f| f.importances_mean == 0.0 && f.importances_std == 0.0));
    // The baseline is the evaluate metric.
    assert!((z.baseline_score - a.baseline_score).abs() == 0.0);
    // Regression scores R².
    let rf = Model::load(&root("sample_models/abalone_rf.onnx")).unwrap();
    let ab = data("sample_data/abalone_eval.csv");
    let mut o = ImportanceOptions::new("rings");
    o.repeats = 2;
    let r = permutation_importance(&rf, None, &ab, &o, &Progress::none()).unwrap();
    assert_eq!(r.metric, "r2");
    // Bad target.
    let o = ImportanceOptions::new("nope");
    let err = permutation_importance(&model, None, &ds, &o, &Progress::none()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("'nope'"), "{err}");
}

#[test]
fn partial_dependence_matches_sklearn_brute() {
    let fx = fixture();
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    for feat in ["age", "hours_per_week", "sex_male"] {
        let want = &fx["pdp"][feat];
        let mut o = PdpOptions::new(feat);
        o.grid_resolution = want["grid_resolution"].as_u64().unwrap() as usize;
        o.rows = Some(0..500);
        let pd = partial_dependence(&model, None, &ds, &o, &Progress::none()).unwrap();
        close(
            &pd.grid[0],
            &floats(&want["grid"]),
            1e-12,
            &format!("{feat} grid"),
        );
        close(
            &pd.average,
            &floats(&want["average"]),
            1e-9,
            &format!("{feat} average"),
        );
        let ice = pd.individual.as_ref().unwrap();
        assert_eq!(ice.len(), 500);
        for (i, row) in ice.iter().enumerate() {
            close(
                row,
                &floats(&want["individual"][i]),
                1e-9,
                &format!("{feat} ICE {i}"),
            );
        }
        assert_eq!(pd.class_label.as_deref(), Some("1"));
    }
    let want = &fx["pdp2"];
    let mut o = PdpOptions::new("age");
    o.feature2 = Some("education_num".into());
    o.grid_resolution = 8;
    o.rows = Some(0..500);
    let pd = partial_dependence(&model, None, &ds, &o, &Progress::none()).unwrap();
    close(
        &pd.grid[0],
        &floats(&want["grid"][0]),
        1e-12,
        "2-way grid 0",
    );
    close(
        &pd.grid[1],
        &floats(&want["grid"][1]),
        1e-12,
        "2-way grid 1",
    );
    let avg: Vec<f64> = want["average"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    close(&pd.average, &avg, 1e-9, "2-way average");
    assert!(pd.individual.is_none());

    // Bad input: unknown feature, same feature twice, constant column.
    let mut o = PdpOptions::new("nope");
    let err = partial_dependence(&model, None, &ds, &o, &Progress::none()).unwrap_err();
    assert!(err.to_string().contains("unknown feature 'nope'"), "{err}");
    o.feature = "age".into();
    o.feature2 = Some("age".into());
    assert!(partial_dependence(&model, None, &ds, &o, &Progress::none()).is_err());
}

#[test]
fn mquantiles_and_grid_follow_scipy_and_sklearn() {
    // scipy.stats.mstats.mquantiles([1..10], [0.05, 0.95]) = [1.0, 10.0]; on 1..100:
    // [5.41, 95.59] (alphap = betap = 0.4; values from scipy 1.17).
    let x: Vec<f64> = (1..=100).map(f64::from).collect();
    assert!((mquantile(&x, 0.05) - 5.41).abs() < 1e-12);
    assert!((mquantile(&x, 0.95) - 95.59).abs() < 1e-12);
    let g = grid_axis(&x, (0.05, 0.95), 3).unwrap();
    close(&g, &[5.41, 50.5, 95.59], 1e-12, "grid");
    // Fewer unique values than the resolution: the unique values.
    assert_eq!(
        grid_axis(&[3.0, 1.0, 3.0, 2.0], (0.05, 0.95), 10).unwrap(),
        vec![1.0, 2.0, 3.0]
    );
    assert!(grid_axis(&x, (0.9, 0.1), 10).is_err());
    let mut flat = vec![5.0; 100];
    flat[0] = 1.0;
    flat[99] = 9.0;
    // Percentiles that coincide (scipy: [5, 5]) cannot make a grid.
    let err = grid_axis(&flat, (0.3, 0.4), 2).unwrap_err();
    assert!(err.to_string().contains("too close"), "{err}");
}

#[test]
fn surrogate_recovers_a_linear_model() {
    // On a linear regressor the local surrogate is the model: R² = 1 and the per-unit
    // coefficients are the model's weights (the ridge shrinkage is negligible: alpha = 1
    // against 5000 samples of weight near 1, so within 1e-3).
    let model = Model::load(&root("tests/fixtures/explain/tiny_linreg.onnx")).unwrap();
    let ds = data("tests/fixtures/explain/tiny_data.csv");
    let o = SurrogateOptions {
        row: 3,
        ..SurrogateOptions::default()
    };
    let s = surrogate(&model, None, &ds, &ds, &o, &Progress::none()).unwrap();
    assert!(s.r2 > 1.0 - 1e-6, "{}", s.r2);
    let lin = assay::engine::explain::linear::parse(&model, 3, 0, 0)
        .unwrap()
        .unwrap();
    for (j, name) in ["a", "b", "c"].iter().enumerate() {
        let t = s.terms.iter().find(|t| t.feature == *name).unwrap();
        let w = lin.weights[j];
        assert!(
            (t.per_unit.unwrap() - w).abs() < 1e-3 * w.abs().max(1.0),
            "{name}: {} vs {w}",
            t.per_unit.unwrap()
        );
    }
    assert!((s.local_prediction - s.model_output).abs() < 1e-3);
    // A classifier: deterministic for a seed; text features work (raw-column pipeline).
    let raw = Model::load(&root("sample_models/adult_pipeline_raw.onnx")).unwrap();
    let adult = data("sample_data/adult_eval.csv");
    let o = SurrogateOptions {
        row: 1,
        nsamples: 800,
        output_space: OutputSpace::Raw,
        ..SurrogateOptions::default()
    };
    let a = surrogate(&raw, None, &adult, &adult, &o, &Progress::none()).unwrap();
    let b = surrogate(&raw, None, &adult, &adult, &o, &Progress::none()).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.terms.len(), 7);
    assert!(a.r2 > 0.0 && a.r2 <= 1.0);
    let o = SurrogateOptions {
        row: 99_999,
        ..SurrogateOptions::default()
    };
    assert!(surrogate(&raw, None, &adult, &adult, &o, &Progress::none())
        .unwrap_err()
        .to_string()
        .contains("outside"));
}

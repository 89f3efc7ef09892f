//! Model-agnostic SHAP against shap 0.51 on committed fixtures
//! (tests/fixtures/explain/make_explain_fixtures.py): ExactExplainer and KernelExplainer
//! (every coalition enumerated) in probability and logit space, LinearExplainer
//! (interventional) on the logistic regression, all on adult_eval rows 0..20 with the
//! committed 100-row background. Tolerance 1e-6 absolute: the models' outputs are float32
//! from ONNX Runtime, and ORT's kernels can round a row differently depending on the batch it
//! is in (shap batches coalitions differently from Assay); everything after the model is
//! float64 on both sides. Plus a brute-force check of Exact against the permutation
//! definition of Shapley values, permutation SHAP's additivity and closeness to exact,
//! KernelSHAP sampling, and bad input.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use assay::engine::data::extract::{prepare, InvalidRows};
use assay::engine::data::{load, Dataset};
use assay::engine::explain::{explain, ExplainOptions, Method, OutputSpace, Summarise};
use assay::engine::model::{plan_inputs, predict, InferOptions, Model, Predictions};
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
        &std::fs::read_to_string(root("tests/fixtures/explain/shap_adult.json")).expect("fixture"),
    )
    .expect("json")
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        })
        .collect()
}

fn assert_close(got: &[Vec<f64>], want: &[Vec<f64>], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.len(), w.len(), "{what}: features");
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(
        worst <= tol,
        "{what}: max abs difference {worst:e} > {tol:e}"
    );
}

fn opts(method: Method, space: OutputSpace) -> ExplainOptions {
    ExplainOptions {
        method: Some(method),
        output_space: space,
        rows: 0..20,
        ..ExplainOptions::default()
    }
}

#[test]
fn exact_and_kernel_match_shap_on_adult_models() {
    let fx = fixture();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    for name in ["adult_logreg", "adult_mlp"] {
        let m = &fx["models"][name];
        let model = Model::load(&root(m["model"].as_str().unwrap())).expect("model");
        for (space, key) in [
            (OutputSpace::Probability, "probability"),
            (OutputSpace::Raw, "raw"),
        ] {
            let want_exact = matrix(&m[format!("exact_{key}")]["values"]);
            let base = m[format!("exact_{key}")]["base_values"][0]
                .as_f64()
                .unwrap();
            let e = explain(
                &model,
                None,
                &ds,
                &bg,
                &opts(Method::Exact, space),
                &Progress::none(),
            )
            .expect("exact");
            assert_eq!(e.method, Method::Exact);
            assert_eq!(e.class_label.as_deref(), Some("1"));
            assert_eq!(e.background.rows, 100);
            assert_eq!(e.row_indices, (0..20).collect::<Vec<_>>());
            assert_close(&e.values, &want_exact, 1e-6, &format!("{name} exact {key}"));
            assert!((e.base_value - base).abs() < 1e-6, "{name} {key} base");
            assert!(
                e.additivity_max_abs_error < 1e-6,
                "{name} {key} additivity {}",
                e.additivity_max_abs_error
            );

            // KernelSHAP with nsamples >= 2^F - 2 enumerates every coalition: shap's Kernel
            // and Assay's agree, and both equal the exact values.
            let want_kernel = matrix(&m[format!("kernel_{key}")]["values"]);
            let mut o = opts(Method::Kernel, space);
            o.nsamples = Some(64);
            let k = explain(&model, None, &ds, &bg, &o, &Progress::none()).expect("kernel");
            assert_eq!(k.nsamples, Some(62));
            assert!(k.notes.iter().any(|n| n.contains("exact")), "{:?}", k.notes);
            assert_close(
                &k.values,
                &want_kernel,
                1e-6,
                &format!("{name} kernel {key}"),
            );
            assert_close(
                &k.values,
                &e.values,
                1e-6,
                &format!("{name} kernel vs exact {key}"),
            );
            let ev = m[format!("kernel_{key}")]["expected_value"]
                .as_f64()
                .unwrap();
            assert!((k.base_value - ev).abs() < 1e-6);
        }
        let probs: Vec<f64> = m["outputs_probability"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let e = explain(
            &model,
            None,
            &ds,
            &bg,
            &opts(Method::Exact, OutputSpace::Probability),
            &Progress::none(),
        )
        .unwrap();
        for (a, b) in e.outputs.iter().zip(&probs) {
            assert!((a - b).abs() < 1e-7, "model output {a} vs onnxruntime {b}");
        }
        // Importance is mean |φ|, sorted.
        for w in e.importance.windows(2) {
            assert!(w[0].1 >= w[1].1);
        }
        let j = e
            .feature_names
            .iter()
            .position(|n| *n == e.importance[0].0)
            .unwrap();
        let mean: f64 = e.values.iter().map(|r| r[j].abs()).sum::<f64>() / 20.0;
        assert!((mean - e.importance[0].1).abs() < 1e-15);
        assert_eq!(e.feature_values[0][0], Some(38.0));
    }
}

#[test]
fn linear_matches_shap_linear_explainer() {
    let fx = fixture();
    let m = &fx["models"]["adult_logreg"];
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let model = Model::load(&root("sample_models/adult_logreg.onnx")).unwrap();
    // Auto picks linear in raw space for Scaler + LinearClassifier.
    let mut o = opts(Method::Linear, OutputSpace::Raw);
    o.method = None;
    let e = explain(&model, None, &ds, &bg, &o, &Progress::none()).expect("linear");
    assert_eq!(e.method, Method::Linear);
    assert_close(
        &e.values,
        &matrix(&m["linear_raw"]["values"]),
        1e-6,
        "linear",
    );
    let ev = m["linear_raw"]["expected_value"].as_f64().unwrap();
    assert!((e.base_value - ev).abs() < 1e-6, "{} vs {ev}", e.base_value);
    // Against the model's own float32 output (as logit p): float32 rounding only.
    assert!(
        e.additivity_max_abs_error < 1e-4,
        "{}",
        e.additivity_max_abs_error
    );
    // Probability space is not the linear explainer's: a clear error.
    let err = explain(
        &model,
        None,
        &ds,
        &bg,
        &opts(Method::Linear, OutputSpace::Probability),
        &Progress::none(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("raw"), "{err}");
    // And on a model that is not linear.
    let mlp = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let err = explain(
        &mlp,
        None,
        &ds,
        &bg,
        &opts(Method::Linear, OutputSpace::Raw),
        &Progress::none(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("LinearClassifier"), "{err}");
}

#[test]
fn linear_regressor_exact_and_kernel_agree() {
    // A LinearRegressor: linear φ, exact Shapley and KernelSHAP are all w_i (x_i − E x_i).
    let model = Model::load(&root("tests/fixtures/explain/tiny_linreg.onnx")).unwrap();
    let ds = data("tests/fixtures/explain/tiny_data.csv");
    let mut o = opts(Method::Linear, OutputSpace::Raw);
    o.rows = 0..10;
    let lin = explain(&model, None, &ds, &ds, &o, &Progress::none()).expect("linear");
    o.method = Some(Method::Exact);
    let ex = explain(&model, None, &ds, &ds, &o, &Progress::none()).expect("exact");
    assert_close(
        &lin.values,
        &ex.values,
        1e-5,
        "linear vs exact (float32 model)",
    );
    o.method = None;
    o.output_space = OutputSpace::Probability;
    let auto = explain(&model, None, &ds, &ds, &o, &Progress::none()).unwrap();
    // Regressors are explained in raw space; auto picks linear for the linear graph.
    assert_eq!(auto.output_space, OutputSpace::Raw);
    assert_eq!(auto.method, Method::Linear);
    assert!(auto.class_label.is_none());
}

/// Output of the model for one row, as f64.
fn f_rows(model: &Model, rows: &[Vec<f32>], f: usize) -> Vec<f64> {
    let inputs = assay::engine::data::extract::InputData::MatrixF32 {
        input: "input".into(),
        width: f,
        values: rows.concat(),
    };
    match predict(
        model,
        &inputs,
        &InferOptions::default(),
        &Progress::none().stage(0.0, 1.0),
    )
    .unwrap()
    {
        Predictions::Classification { proba, .. } => {
            proba.chunks(2).map(|p| f64::from(p[1])).collect()
        }
        Predictions::Regression { values } => values.iter().map(|&v| f64::from(v)).collect(),
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

#[test]
fn exact_equals_the_permutation_definition_by_brute_force() {
    // φ_i = mean over all F! orders of v(pre ∪ {i}) − v(pre), with v(S) = mean over the
    // background of the model on (x_S, b_notS), computed here by calling the model directly.
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let plan = plan_inputs(&model.info, None).unwrap();
    let to_rows = |d: &Dataset| -> Vec<Vec<f32>> {
        match prepare(d, &plan, None, InvalidRows::Error).unwrap().inputs {
            assay::engine::data::extract::InputData::MatrixF32 { values, width, .. } => {
                values.chunks(width).map(<[f32]>::to_vec).collect()
            }
            _ => unreachable!(),
        }
    };
    let xs = to_rows(&ds);
    let bgs: Vec<Vec<f32>> = to_rows(&bg).into_iter().take(5).collect();
    let small_bg = assay::engine::data::subset(&bg, &[0, 1, 2, 3, 4]).unwrap();
    let f = 6;
    let mut o = opts(Method::Exact, OutputSpace::Probability);
    o.rows = 3..5;
    let e = explain(&model, None, &ds, &small_bg, &o, &Progress::none()).unwrap();
    for (k, r) in (3..5).enumerate() {
        let x = &xs[r];
        let mut rows = Vec::new();
        for s in 0..1usize << f {
            for b in &bgs {
                rows.push(
                    (0..f)
                        .map(|j| if s & (1 << j) != 0 { x[j] } else { b[j] })
                        .collect(),
                );
            }
        }
        let out = f_rows(&model, &rows, f);
        let v: Vec<f64> = out
            .chunks(bgs.len())
            .map(|c| c.iter().sum::<f64>() / bgs.len() as f64)
            .collect();
        let mut phi = vec![0.0; f];
        let perms = permutations(f);
        for p in &perms {
            let mut s = 0usize;
            for &i in p {
                phi[i] += v[s | (1 << i)] - v[s];
                s |= 1 << i;
            }
        }
        for p in &mut phi {
            *p /= perms.len() as f64;
        }
        assert_close(&[e.values[k].clone()], &[phi], 1e-12, "brute force");
    }
}

#[test]
fn permutation_shap_is_additive_and_close_to_exact() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let mut o = opts(Method::Permutation, OutputSpace::Probability);
    o.rows = 0..5;
    o.nsamples = Some(13 * 40);
    let p = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(p.nsamples, Some(40));
    assert!(
        p.additivity_max_abs_error < 1e-9,
        "{}",
        p.additivity_max_abs_error
    );
    o.method = Some(Method::Exact);
    let e = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_close(&p.values, &e.values, 0.02, "permutation vs exact");
    // Same seed, same values; another seed, other values.
    o.method = Some(Method::Permutation);
    let again = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(again.values, p.values);
    // Too small a budget is a clear error.
    o.nsamples = Some(5);
    let err = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap_err();
    assert!(err.to_string().contains("2 × features + 1"), "{err}");
}

#[test]
fn kernel_sampling_is_additive_seeded_and_near_exact() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let mut o = opts(Method::Kernel, OutputSpace::Probability);
    o.rows = 0..5;
    o.nsamples = Some(30);
    let k = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(k.nsamples, Some(30));
    assert!(k.additivity_max_abs_error < 1e-9);
    let again = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(again.values, k.values);
    o.method = Some(Method::Exact);
    let e = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_close(&k.values, &e.values, 0.03, "sampled kernel vs exact");
}

#[test]
fn kmeans_background_is_weighted_real_values() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("sample_data/adult_reference.csv");
    let mut o = opts(Method::Exact, OutputSpace::Probability);
    o.rows = 0..3;
    o.background = Summarise::KMeans;
    o.background_size = 10;
    let e = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert!(e.background.rows <= 10 && e.background.rows >= 2);
    assert_eq!(e.background.source_rows, bg.rows());
    let total: f64 = e.background.weights.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    assert!(e.additivity_max_abs_error < 1e-9);
    // Deterministic for a seed.
    let again = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(again.values, e.values);
    o.background = Summarise::Sample;
    let s = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(s.background.rows, 10);
}

#[test]
fn text_inputs_are_swapped_as_whole_values() {
    // The raw-column pipeline (int64 and string inputs): coalitions take whole column values
    // from the background rows; exact and kernel (full enumeration) agree and are additive.
    let model = Model::load(&root("sample_models/adult_pipeline_raw.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let mut o = opts(Method::Exact, OutputSpace::Probability);
    o.rows = 0..4;
    o.background_size = 30;
    let e = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_eq!(e.feature_names.len(), 7);
    assert!(e.additivity_max_abs_error < 1e-9);
    assert!(e.feature_values[0].iter().any(Option::is_none));
    o.method = Some(Method::Kernel);
    o.nsamples = Some(1000);
    let k = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap();
    assert_close(&k.values, &e.values, 1e-9, "kernel vs exact on text inputs");
    o.background = Summarise::KMeans;
    let err = explain(&model, None, &ds, &bg, &o, &Progress::none()).unwrap_err();
    assert!(err.to_string().contains("numeric"), "{err}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let run = |o: &ExplainOptions, features: Option<&[String]>| {
        explain(&model, features, &ds, &bg, o, &Progress::none()).unwrap_err()
    };
    let mut o = opts(Method::Exact, OutputSpace::Probability);
    o.rows = 4990..5010;
    let err = run(&o, None);
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("5000 rows"), "{err}");
    o.rows = 3..3;
    assert!(run(&o, None).to_string().contains("empty"));
    o.rows = 0..2;
    let bad: Vec<String> = [
        "age",
        "nope",
        "capital_gain",
        "capital_loss",
        "hours_per_week",
        "sex_male",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let err = run(&o, Some(&bad));
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("'nope'"), "{err}");
    o.class = Some("7".into());
    assert!(run(&o, None).to_string().contains("not a class"));
    o.class = None;
    o.method = Some(Method::Tree);
    assert!(run(&o, None).to_string().contains("not yet wired"));
    o.method = Some(Method::Exact);
    o.background_size = 0;
    assert_eq!(run(&o, None).kind(), ErrorKind::BadInput);

    // An empty background and text in a numeric column.
    let dir = tempfile::tempdir().unwrap();
    let header = "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male\n";
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, header).unwrap();
    // Loading a header-only file already fails; a dataset with no rows fails in explain too.
    assert!(load(&empty, &Progress::none()).is_err());
    let text = dir.path().join("text.csv");
    std::fs::write(&text, format!("{header}30,9,0,0,40,1\nthirty,9,0,0,40,1\n")).unwrap();
    let o = opts(Method::Exact, OutputSpace::Probability);
    let empty_ds = Dataset {
        df: bg.df.head(Some(0)),
        ..bg.clone()
    };
    let err = explain(&model, None, &ds, &empty_ds, &o, &Progress::none()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("no rows"), "{err}");
    let text_ds = load(&text, &Progress::none()).unwrap();
    let err = explain(&model, None, &ds, &text_ds, &o, &Progress::none()).unwrap_err();
    assert!(err.to_string().contains("'age', row 2"), "{err}");
    assert!(err.to_string().contains("not a number"), "{err}");
}

#[test]
fn cancel_stops_the_work() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).unwrap();
    let ds = data("sample_data/adult_eval.csv");
    let bg = data("tests/fixtures/explain/background_adult.csv");
    let p = Progress::none();
    p.cancel();
    let err = explain(
        &model,
        None,
        &ds,
        &bg,
        &opts(Method::Exact, OutputSpace::Probability),
        &p,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

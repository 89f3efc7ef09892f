//! TreeSHAP behind `explain()` (the path `assay explain --method tree|tree-path` and the
//! Explain page take): the rows and background reach the tree code intact, the explained
//! class picks the right margin and sign, and the result is the same as calling the tree code
//! directly (which tests/explain_tree_shap.rs proves against shap and brute force). In
//! probability space the values are shap's rescaled ones and the outputs ONNX Runtime's
//! probabilities; a softmax across classes is refused, and `--method auto` then picks another
//! method; the JSON never says "probability" for log-odds.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;

use assay::engine::data::{load, Dataset};
use assay::engine::explain::tree::{interventional, interventional_transformed, Forest};
use assay::engine::explain::{explain, ExplainOptions, Method, OutputSpace};
use assay::engine::model::{plan_inputs, predict, InferOptions, Model, Predictions};
use assay::engine::Progress;

fn root(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn data(rel: &str) -> Dataset {
    load(&root(rel), &Progress::none()).expect("data loads")
}

fn opts(method: Method, class: Option<&str>) -> ExplainOptions {
    ExplainOptions {
        method: Some(method),
        output_space: OutputSpace::Raw,
        class: class.map(str::to_string),
        rows: 0..40,
        background_size: 60,
        seed: 3,
        ..ExplainOptions::default()
    }
}

#[test]
fn tree_method_equals_the_tree_code_and_its_outputs_are_the_models_log_odds() {
    let model = Model::load(&root("sample_models/adult_gbdt_v1.onnx")).expect("model");
    let (x, bg) = (
        data("sample_data/adult_eval.csv"),
        data("sample_data/adult_reference.csv"),
    );
    let e = explain(
        &model,
        None,
        &x,
        &bg,
        &opts(Method::Tree, None),
        &Progress::none(),
    )
    .expect("explains");
    assert_eq!(e.method, Method::Tree);
    assert_eq!(
        e.output_space,
        OutputSpace::Raw,
        "TreeSHAP lives in the margin"
    );
    assert_eq!(e.class_label.as_deref(), Some("1"));
    assert_eq!(e.values.len(), 40);
    assert_eq!(e.background.rows, 60);
    assert!(e.additivity_max_abs_error < 1e-9);

    // Outputs are the logit of ONNX Runtime's probability of class 1 (float32 model).
    let plan = plan_inputs(&model.info, None).expect("plan");
    let prepared = assay::engine::data::extract::prepare(
        &x,
        &plan,
        None,
        assay::engine::data::extract::InvalidRows::Error,
    )
    .expect("inputs");
    let preds = predict(
        &model,
        &prepared.inputs,
        &InferOptions::default(),
        &Progress::none().stage(0.0, 1.0),
    )
    .expect("predicts");
    let Predictions::Classification { classes, proba } = preds else {
        panic!("a classifier")
    };
    let k = classes.len();
    for (i, out) in e.outputs.iter().enumerate() {
        let p = f64::from(proba[i * k + 1]);
        let logit = (p / (1.0 - p)).ln();
        assert!((out - logit).abs() < 1e-4, "row {i}: {out} vs {logit}");
    }

    // The same numbers as the tree code on the same rows and background rows.
    let forest = Forest::from_model(&model).expect("a forest");
    let rows: Vec<f64> = e
        .feature_values
        .iter()
        .flat_map(|r| r.iter().map(|v| v.expect("numeric")))
        .collect();
    let bg_rows = assay::engine::data::subset(
        &bg,
        &e.background
            .row_indices
            .iter()
            .map(|&r| r as u32)
            .collect::<Vec<_>>(),
    )
    .expect("subset");
    let bg_inputs = assay::engine::data::extract::prepare(
        &bg_rows,
        &plan,
        None,
        assay::engine::data::extract::InvalidRows::Error,
    )
    .expect("background inputs");
    let bg_block: Vec<f64> = match bg_inputs.inputs {
        assay::engine::data::extract::InputData::MatrixF32 { values, .. } => {
            values.iter().map(|&v| f64::from(v)).collect()
        }
        other => panic!("float matrix expected, got {other:?}"),
    };
    let direct = interventional(&forest, &rows, &bg_block, &Progress::none()).expect("shap");
    assert!((direct.base_values[0] - e.base_value).abs() < 1e-12);
    for (i, phi) in e.values.iter().enumerate() {
        for (a, b) in phi.iter().zip(direct.row_values(i, 0)) {
            assert!((a - b).abs() < 1e-12, "row {i}: {a} vs {b}");
        }
    }

    // Class "0" is the negated margin of class "1".
    let e0 = explain(
        &model,
        None,
        &x,
        &bg,
        &opts(Method::Tree, Some("0")),
        &Progress::none(),
    )
    .expect("explains class 0");
    assert_eq!(e0.class_label.as_deref(), Some("0"));
    assert!((e0.base_value + e.base_value).abs() < 1e-12);
    for (a, b) in e0.values.iter().flatten().zip(e.values.iter().flatten()) {
        assert!((a + b).abs() < 1e-12);
    }
}

#[test]
fn path_dependent_method_says_where_its_covers_come_from() {
    let model = Model::load(&root("sample_models/adult_gbdt_v1.onnx")).expect("model");
    let (x, bg) = (
        data("sample_data/adult_eval.csv"),
        data("sample_data/adult_reference.csv"),
    );
    let e = explain(
        &model,
        None,
        &x,
        &bg,
        &opts(Method::TreePath, None),
        &Progress::none(),
    )
    .expect("explains");
    assert_eq!(e.method, Method::TreePath);
    assert!(e.additivity_max_abs_error < 1e-9);
    let rows = bg.rows().to_string();
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("covers") && n.contains(&rows)),
        "{:?}",
        e.notes
    );
}

#[test]
fn tree_method_on_a_network_is_a_clear_error() {
    let model = Model::load(&root("sample_models/adult_mlp.onnx")).expect("model");
    let x = data("sample_data/adult_eval.csv");
    let err = explain(
        &model,
        None,
        &x,
        &x,
        &opts(Method::Tree, None),
        &Progress::none(),
    )
    .expect_err("not a tree ensemble");
    assert!(
        err.to_string().contains("not a plain tree ensemble"),
        "{err}"
    );
}

#[test]
fn random_forest_classes_are_probabilities_class_zero_is_one_minus_p() {
    // A binary random forest has one score column, P(class 1), and no post-transform.
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root("tests/fixtures/explain/tree/sk_rfc.json")).expect("fixture"),
    )
    .expect("json");
    let rows = fixture["rows"].as_array().expect("rows");
    let ort = fixture["ort"].as_array().expect("ort outputs");
    let names: Vec<String> = (0..6).map(|j| format!("f{j}")).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("rows.csv");
    let mut text = names.join(",") + "\n";
    for r in rows.iter().take(30) {
        let cells: Vec<String> = r
            .as_array()
            .expect("row")
            .iter()
            .map(|v| format!("{}", v.as_f64().expect("number")))
            .collect();
        text += &(cells.join(",") + "\n");
    }
    std::fs::write(&csv, text).expect("csv");
    let x = load(&csv, &Progress::none()).expect("data");
    let model = Model::load(&root("tests/fixtures/explain/tree/sk_rfc.onnx")).expect("model");
    let mut o = opts(Method::Tree, Some("1"));
    o.rows = 0..30;
    o.background_size = 30;
    let e1 = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect("class 1");
    o.class = Some("0".into());
    let e0 = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect("class 0");
    for (i, probabilities) in ort.iter().take(30).enumerate() {
        let p: Vec<f64> = probabilities
            .as_array()
            .expect("probabilities")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        assert!(
            (e1.outputs[i] - p[1]).abs() < 1e-5,
            "row {i}: {} vs {}",
            e1.outputs[i],
            p[1]
        );
        assert!(
            (e0.outputs[i] - p[0]).abs() < 1e-5,
            "row {i}: {} vs {}",
            e0.outputs[i],
            p[0]
        );
    }
    assert!((e0.base_value - (1.0 - e1.base_value)).abs() < 1e-12);
    assert!(e0.additivity_max_abs_error < 1e-9 && e1.additivity_max_abs_error < 1e-9);
}

/// The first `n` rows of a tree fixture as a CSV dataset with columns f0.. (kept in `dir`).
fn fixture_data(name: &str, n: usize, dir: &tempfile::TempDir) -> (Dataset, Vec<String>) {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root(&format!("tests/fixtures/explain/tree/{name}.json")))
            .expect("fixture"),
    )
    .expect("json");
    let nf = fixture["n_features"].as_u64().expect("n_features") as usize;
    let names: Vec<String> = (0..nf).map(|j| format!("f{j}")).collect();
    let csv = dir.path().join(format!("{name}.csv"));
    let mut text = names.join(",") + "\n";
    for r in fixture["rows"].as_array().expect("rows").iter().take(n) {
        let cells: Vec<String> = r
            .as_array()
            .expect("row")
            .iter()
            .map(|v| v.as_f64().map(|x| x.to_string()).unwrap_or_default())
            .collect();
        text += &(cells.join(",") + "\n");
    }
    std::fs::write(&csv, text).expect("csv");
    (load(&csv, &Progress::none()).expect("data"), names)
}

#[test]
fn probability_space_is_shaps_rescaled_treeshap_with_the_models_probabilities() {
    let model = Model::load(&root("sample_models/adult_gbdt_v1.onnx")).expect("model");
    let (x, bg) = (
        data("sample_data/adult_eval.csv"),
        data("sample_data/adult_reference.csv"),
    );
    let mut o = opts(Method::Tree, None);
    o.output_space = OutputSpace::Probability;
    let e = explain(&model, None, &x, &bg, &o, &Progress::none()).expect("explains");
    assert_eq!(e.method, Method::Tree);
    assert_eq!(e.output_space, OutputSpace::Probability);
    assert!(e.additivity_max_abs_error < 1e-12);
    assert!(
        e.notes.iter().any(|n| n.contains("model_output")),
        "{:?}",
        e.notes
    );
    let json = serde_json::to_value(&e).expect("json");
    assert_eq!(json["output_space"], "probability");

    // Outputs are ONNX Runtime's probabilities of class 1.
    let plan = plan_inputs(&model.info, None).expect("plan");
    let prep = |ds: &Dataset| {
        assay::engine::data::extract::prepare(
            ds,
            &plan,
            None,
            assay::engine::data::extract::InvalidRows::Error,
        )
        .expect("inputs")
    };
    let preds = predict(
        &model,
        &prep(&x).inputs,
        &InferOptions::default(),
        &Progress::none().stage(0.0, 1.0),
    )
    .expect("predicts");
    let Predictions::Classification { proba, .. } = preds else {
        panic!("a classifier")
    };
    for (i, out) in e.outputs.iter().enumerate() {
        let p = f64::from(proba[i * 2 + 1]);
        assert!((out - p).abs() < 1e-6, "row {i}: {out} vs ORT {p}");
    }

    // The same numbers as the tree code (proven against shap in explain_tree_shap.rs).
    let forest = Forest::from_model(&model).expect("a forest");
    let rows: Vec<f64> = e
        .feature_values
        .iter()
        .flat_map(|r| r.iter().map(|v| v.expect("numeric")))
        .collect();
    let idx: Vec<u32> = e.background.row_indices.iter().map(|&r| r as u32).collect();
    let bg_rows = assay::engine::data::subset(&bg, &idx).expect("subset");
    let bg_block: Vec<f64> = match prep(&bg_rows).inputs {
        assay::engine::data::extract::InputData::MatrixF32 { values, .. } => {
            values.iter().map(|&v| f64::from(v)).collect()
        }
        other => panic!("float matrix expected, got {other:?}"),
    };
    let t = |m: f64| forest.finalize(&[m])[1];
    let direct = interventional_transformed(
        &forest,
        &rows,
        &bg_block,
        0,
        &t,
        "probability",
        &Progress::none(),
    )
    .expect("shap");
    assert!((direct.base_values[0] - e.base_value).abs() < 1e-12);
    for (i, phi) in e.values.iter().enumerate() {
        for (a, b) in phi.iter().zip(direct.row_values(i, 0)) {
            assert!((a - b).abs() < 1e-12, "row {i}: {a} vs {b}");
        }
    }

    // Class "0": 1 − p, so its values are the negation and its base 1 − base.
    let mut o0 = o.clone();
    o0.class = Some("0".into());
    let e0 = explain(&model, None, &x, &bg, &o0, &Progress::none()).expect("class 0");
    assert!((e0.base_value - (1.0 - e.base_value)).abs() < 1e-12);
    for (a, b) in e0.values.iter().flatten().zip(e.values.iter().flatten()) {
        assert!((a + b).abs() < 1e-12);
    }

    // --method auto in probability space takes TreeSHAP in probability space.
    o.method = None;
    let auto = explain(&model, None, &x, &bg, &o, &Progress::none()).expect("auto");
    assert_eq!(
        (auto.method, auto.output_space),
        (Method::Tree, OutputSpace::Probability)
    );
    assert_eq!(auto.values, e.values);

    // Path-dependent TreeSHAP explains margins only: a clear refusal, not log-odds.
    o.method = Some(Method::TreePath);
    let err = explain(&model, None, &x, &bg, &o, &Progress::none()).expect_err("refused");
    assert!(
        err.to_string()
            .contains("--method tree-path explains the raw margin only"),
        "{err}"
    );
}

#[test]
fn softmax_probabilities_are_refused_and_auto_picks_a_method_that_explains_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (x, names) = fixture_data("sk_gbc_multiclass", 20, &dir);
    let model =
        Model::load(&root("tests/fixtures/explain/tree/sk_gbc_multiclass.onnx")).expect("model");
    let mut o = opts(Method::Tree, Some("2"));
    o.rows = 0..5;
    o.background_size = 20;
    o.output_space = OutputSpace::Probability;
    let err = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("softmax") && msg.contains("--output-space raw"),
        "{msg}"
    );
    o.method = None;
    let e = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect("auto");
    assert_eq!(
        (e.method, e.output_space),
        (Method::Exact, OutputSpace::Probability)
    );
    // Raw space still takes TreeSHAP, labelled raw.
    o.output_space = OutputSpace::Raw;
    let e = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect("raw");
    assert_eq!((e.method, e.output_space), (Method::Tree, OutputSpace::Raw));
}

#[test]
fn a_regressor_with_a_sigmoid_after_the_trees_explains_its_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (x, names) = fixture_data("sk_gbr_opset5_sigmoid", 30, &dir);
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root(
            "tests/fixtures/explain/tree/sk_gbr_opset5_sigmoid.json",
        ))
        .expect("fixture"),
    )
    .expect("json");
    let model = Model::load(&root(
        "tests/fixtures/explain/tree/sk_gbr_opset5_sigmoid.onnx",
    ))
    .expect("model");
    let mut o = opts(Method::Tree, None);
    o.rows = 0..30;
    o.background_size = 30;
    let e = explain(&model, Some(&names), &x, &x, &o, &Progress::none()).expect("explains");
    assert_eq!((e.method, e.output_space), (Method::Tree, OutputSpace::Raw));
    assert!(e.additivity_max_abs_error < 1e-12);
    for (i, out) in e.outputs.iter().enumerate() {
        let want = fixture["ort"][i][0].as_f64().expect("ort");
        assert!((out - want).abs() < 1e-6, "row {i}: {out} vs ORT {want}");
    }
}

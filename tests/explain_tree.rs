//! Native tree ensembles read from ONNX reproduce ONNX Runtime (Python onnxruntime 1.31 outputs
//! committed by tests/fixtures/explain/tree/make_tree_fixtures.py) on models from
//! scikit-learn (skl2onnx), LightGBM and XGBoost (onnxmltools), including NaN routing; graphs
//! with preprocessing are a typed NotATree error; the viewer data is consistent.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};

use assay::engine::explain::tree::{Forest, NodeMode, TreeError};
use assay::engine::model::Model;
use assay::engine::ErrorKind;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir() -> PathBuf {
    root().join("tests/fixtures/explain/tree")
}

fn json(name: &str) -> Value {
    let text =
        std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(num).collect())
        .collect()
}

fn forest(path: &Path) -> Forest {
    Forest::from_model(&Model::load(path).expect("model loads")).expect("a tree ensemble")
}

/// ORT computes in float32 (f32 thresholds compared with the f32 input — which we reproduce
/// exactly by rounding inputs to f32 — but also f32 leaf sums and f32 exp/softmax), so scores
/// agree to float32 rounding of sums of up to 120 leaves: 1e-5 absolute.
const ORT_TOL: f64 = 1e-5;

fn check_ort(name: &str, model: &Path, doc: &Value) -> Forest {
    let f = forest(model);
    let rows = matrix(&doc["rows"]);
    let want = matrix(&doc["ort"]);
    assert_eq!(
        f.n_features,
        doc["n_features"].as_u64().unwrap() as usize,
        "{name}"
    );
    let mut worst: f64 = 0.0;
    for (i, (row, w)) in rows.iter().zip(&want).enumerate() {
        let got = f.predict_output(row).expect("predict");
        assert_eq!(got.len(), w.len(), "{name} row {i}: score columns");
        for (g, e) in got.iter().zip(w) {
            worst = worst.max((g - e).abs());
            assert!(
                (g - e).abs() <= ORT_TOL,
                "{name} row {i}: {got:?} vs ORT {w:?}"
            );
        }
    }
    eprintln!(
        "{name}: max |native - ORT| = {worst:.3e} over {} rows",
        rows.len()
    );
    f
}

const FIXTURES: &[&str] = &[
    "sk_gbc_binary",
    "sk_gbc_multiclass",
    "sk_gbr",
    "sk_rfc",
    "sk_rfr",
    "lgbm_binary_nan",
    "lgbm_multiclass",
    "lgbm_regressor",
    "xgb_binary_nan",
    "xgb_multiclass",
    "xgb_regressor",
];

#[test]
fn converters_match_onnxruntime() {
    for name in FIXTURES {
        let doc = json(name);
        let f = check_ort(name, &fixture_dir().join(format!("{name}.onnx")), &doc);
        // Raw margins are the pre-transform scores shap explains.
        if let Some(raw) = doc.get("interventional").map(|b| matrix(&b["raw"])) {
            let rows = matrix(&doc["shap_rows"]);
            for (row, want) in rows.iter().zip(&raw) {
                let got = f.predict_raw(row).unwrap();
                for (g, e) in got.iter().zip(want) {
                    assert!(
                        (g - e).abs() <= ORT_TOL,
                        "{name}: raw {got:?} vs shap {want:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn sample_models_match_onnxruntime() {
    for stem in ["adult_gbdt_v1", "adult_gbdt_v2", "abalone_rf"] {
        let doc = json(&format!("sample_{stem}"));
        let model = root().join(doc["model"].as_str().unwrap());
        check_ort(stem, &model, &doc);
    }
}

#[test]
fn binary_layouts_follow_the_converters() {
    // skl2onnx GBM: one score column with base value and LOGISTIC → raw is the log-odds.
    let f = forest(&fixture_dir().join("sk_gbc_binary.onnx"));
    assert_eq!((f.n_outputs, f.n_scores), (1, 2));
    assert_eq!(f.output_names, vec!["1".to_string()]);
    // RandomForest: one column of (averaged, all-positive) class-1 probabilities; the runtime
    // writes [1 − p, p].
    let f = forest(&fixture_dir().join("sk_rfc.onnx"));
    assert_eq!((f.n_outputs, f.n_scores), (1, 2));
    assert!(f.classifier.as_ref().unwrap().weights_all_positive);
    let g = forest(&fixture_dir().join("lgbm_multiclass.onnx"));
    assert_eq!((g.n_outputs, g.n_scores), (3, 3));
    assert!(g.trees.iter().all(|t| t.depth <= 4));
}

#[test]
fn missing_values_follow_the_tracked_direction() {
    // At least one split of the NaN-trained models sends NaN to the true side, one to false.
    for name in ["lgbm_binary_nan", "xgb_binary_nan"] {
        let f = forest(&fixture_dir().join(format!("{name}.onnx")));
        let splits: Vec<_> = f
            .trees
            .iter()
            .flat_map(|t| t.nodes.iter().filter(|n| !n.is_leaf()))
            .collect();
        assert!(splits.iter().any(|n| n.missing_goes_true), "{name}");
        // Rows of the fixture do hold NaN, and they were checked against ORT above.
        let rows = matrix(&json(name)["rows"]);
        assert!(rows.iter().flatten().any(|v| v.is_nan()), "{name}");
    }
}

#[test]
fn decision_path_ends_at_the_leaf_that_predicts() {
    let f = forest(&fixture_dir().join("xgb_multiclass.onnx"));
    let rows = matrix(&json("xgb_multiclass")["rows"]);
    for row in rows.iter().take(20) {
        let mut raw = f.bias.clone();
        for t in 0..f.trees.len() {
            let path = f.decision_path(t, row).unwrap();
            assert_eq!(path[0], 0);
            let nodes = &f.trees[t].nodes;
            for w in path.windows(2) {
                let n = &nodes[w[0]];
                assert!(!n.is_leaf());
                let x = row[n.feature];
                let want = if n.goes_true(x as f32 as f64) {
                    n.true_child
                } else {
                    n.false_child
                };
                assert_eq!(w[1], want);
            }
            let leaf = &nodes[*path.last().unwrap()];
            assert_eq!(leaf.mode, NodeMode::Leaf);
            for (r, v) in raw.iter_mut().zip(&leaf.values) {
                *r += v;
            }
        }
        let want = f.predict_raw(row).unwrap();
        for (a, b) in raw.iter().zip(&want) {
            assert!((a - b).abs() < 1e-12);
        }
    }
    assert!(f.decision_path(f.trees.len(), &rows[0]).is_err());
    assert!(f.decision_path(0, &rows[0][..2]).is_err());
    // The viewer data serialises (modes in ONNX spelling).
    let text = serde_json::to_string(&f.trees[0]).unwrap();
    assert!(text.contains("\"mode\":\"BRANCH_LT\"") || text.contains("\"mode\":\"BRANCH_LEQ\""));
}

#[test]
fn covers_count_routed_rows() {
    let f = forest(&fixture_dir().join("sk_gbr.onnx"));
    let rows = matrix(&json("sk_gbr")["rows"]);
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    let f = f.with_covers(&flat).unwrap();
    assert!(f.has_covers());
    for t in &f.trees {
        assert_eq!(t.nodes[0].cover, Some(rows.len() as f64));
        for n in t.nodes.iter().filter(|n| !n.is_leaf()) {
            let c = |i: usize| t.nodes[i].cover.unwrap();
            assert_eq!(n.cover.unwrap(), c(n.true_child) + c(n.false_child));
        }
    }
    assert!(f
        .notes
        .iter()
        .any(|n| n.contains("recomputed by routing 200 rows")));
    assert!(f.clone().with_covers(&flat[..5]).is_err());
    assert!(f.with_covers(&[]).is_err());
}

#[test]
fn graphs_with_preprocessing_are_not_plain_trees() {
    // A pipeline (one-hot encoding, concatenation…) in front of the trees, and a linear model.
    for (file, op) in [
        (
            "sample_models/adult_pipeline_raw.onnx",
            "before the tree ensemble",
        ),
        ("sample_models/adult_logreg.onnx", "no tree ensemble op"),
        ("sample_models/adult_mlp.onnx", "no tree ensemble op"),
    ] {
        let model = Model::load(&root().join(file)).expect("loads");
        match Forest::from_model(&model) {
            Err(TreeError::NotATree(msg)) => {
                eprintln!("{file}: {msg}");
                assert!(
                    msg.contains(op) || msg.contains("found op"),
                    "{file}: {msg}"
                );
                let e: assay::engine::EngineError = TreeError::NotATree(msg).into();
                assert_eq!(e.kind(), ErrorKind::BadInput);
            }
            other => panic!("{file}: expected NotATree, got {other:?}"),
        }
    }
}

#[test]
fn broken_files_are_clear_errors() {
    let p = Path::new("broken.onnx");
    match Forest::from_bytes(p, b"definitely not protobuf \xff\xff\xff") {
        Err(TreeError::Engine(e)) => {
            assert_eq!(e.kind(), ErrorKind::BadInput);
            assert!(e.to_string().contains("broken.onnx"), "{e}");
        }
        other => panic!("expected a file error, got {other:?}"),
    }
    assert!(Forest::from_bytes(p, &[]).is_err());
    // Truncations of a real model: never a panic.
    let bytes = std::fs::read(fixture_dir().join("lgbm_binary_nan.onnx")).unwrap();
    for cut in [
        1,
        10,
        100,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 7,
    ] {
        let _ = Forest::from_bytes(p, &bytes[..cut]);
    }
    // A row of the wrong width.
    let f = forest(&fixture_dir().join("sk_gbr.onnx"));
    let e = f.predict_raw(&[1.0, 2.0]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
}

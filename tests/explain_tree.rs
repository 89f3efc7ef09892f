//! Native tree ensembles read from ONNX reproduce ONNX Runtime (Python onnxruntime 1.31 outputs
//! committed by tests/fixtures/explain/tree/make_tree_fixtures.py) on models from
//! scikit-learn (skl2onnx), LightGBM and XGBoost (onnxmltools), including NaN routing,
//! LightGBM categorical splits (trees that share nodes: DAGs, unfolded) and opset-5 ensembles
//! followed by constant affine ops (folded) and a Sigmoid; graphs with preprocessing or a
//! non-affine op after the trees are a typed NotATree error; the viewer data is consistent.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::{Path, PathBuf};

use assay::engine::explain::tree::{Activation, Forest, NodeMode, TreeError};
use assay::engine::model::Model;
use assay::engine::ErrorKind;
use serde_json::Value;

mod support;
use support::root;

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
    "sk_rfr_cast",
    "sk_gbr_opset5",
    "lgbm_binary_nan",
    "lgbm_multiclass",
    "lgbm_regressor",
    "xgb_binary_nan",
    "xgb_multiclass",
    "xgb_regressor",
    // LightGBM categorical splits: BRANCH_EQ chains sharing nodes (DAGs, unfolded).
    "lgbm_cat_binary",
    "lgbm_cat_regressor",
    // Opset-5 TreeEnsemble + constant post-processing (folded), one with a Sigmoid.
    "sk_gbr_opset5_add",
    "sk_gbr_opset5_affine",
    "sk_gbr_opset5_sigmoid",
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
fn input_chain_and_opset5() {
    // double input → Cast(float) → trees: values are compared as float32.
    let f = forest(&fixture_dir().join("sk_rfr_cast.onnx"));
    assert_eq!(f.input_name, "input_double");
    assert!(f.float_input);
    // Opset-5 TreeEnsemble gives the same forest as the legacy regressor it was written from.
    let legacy = forest(&fixture_dir().join("sk_gbr.onnx"));
    let v5 = forest(&fixture_dir().join("sk_gbr_opset5.onnx"));
    assert_eq!(v5.op_type, "TreeEnsemble");
    assert_eq!(v5.trees.len(), legacy.trees.len());
    for row in matrix(&json("sk_gbr")["rows"]).iter().take(50) {
        let (a, b) = (
            legacy.predict_raw(row).unwrap(),
            v5.predict_raw(row).unwrap(),
        );
        assert!((a[0] - b[0]).abs() < 1e-5, "{a:?} vs {b:?}");
    }
    // Preprocessing in front of the trees.
    let model = Model::load(&fixture_dir().join("sk_scaled_gbr.onnx")).unwrap();
    match Forest::from_model(&model) {
        Err(TreeError::NotATree(msg)) => {
            assert!(
                msg.contains("found op Scaler before the tree ensemble"),
                "{msg}"
            )
        }
        other => panic!("expected NotATree, got {other:?}"),
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

#[test]
fn categorical_splits_are_dags_unfolded_into_trees() {
    for name in ["lgbm_cat_binary", "lgbm_cat_regressor"] {
        let doc = json(name);
        let f = forest(&fixture_dir().join(format!("{name}.onnx")));
        // The file shares nodes (some ONNX node id appears twice in one unfolded tree)…
        let shared = f.trees.iter().any(|t| {
            let mut ids: Vec<i64> = t.nodes.iter().map(|n| n.onnx_id).collect();
            ids.sort_unstable();
            ids.windows(2).any(|w| w[0] == w[1])
        });
        assert!(shared, "{name}: expected shared nodes");
        assert!(
            f.trees
                .iter()
                .any(|t| t.nodes.iter().any(|n| n.mode == NodeMode::BranchEq)),
            "{name}: categorical splits are BRANCH_EQ"
        );
        assert!(
            f.notes.iter().any(|n| n.contains("unfolded")),
            "{:?}",
            f.notes
        );
        // …and the unfolded trees are real trees: every node but the root has one parent.
        for t in &f.trees {
            let mut parents = vec![0; t.nodes.len()];
            for n in t.nodes.iter().filter(|n| !n.is_leaf()) {
                parents[n.true_child] += 1;
                parents[n.false_child] += 1;
            }
            assert_eq!(parents[0], 0);
            assert!(parents[1..].iter().all(|&p| p == 1), "{name}");
        }
        // The library's own predictions (LightGBM) agree too, to float32 rounding.
        let rows = matrix(&doc["rows"]);
        let (lib, col) = match doc.get("lib_proba") {
            Some(v) => (v, 1),
            None => (&doc["lib_pred"], 0),
        };
        for (row, want) in rows.iter().zip(lib.as_array().unwrap()) {
            let got = f.predict_output(row).unwrap()[col];
            assert!((got - num(want)).abs() < ORT_TOL, "{name}: {got} vs {want}");
        }
    }
}

#[test]
fn affine_ops_after_an_opset5_ensemble_are_folded() {
    let plain = forest(&fixture_dir().join("sk_gbr_opset5.onnx"));
    let add = forest(&fixture_dir().join("sk_gbr_opset5_add.onnx"));
    let affine = forest(&fixture_dir().join("sk_gbr_opset5_affine.onnx"));
    let sig = forest(&fixture_dir().join("sk_gbr_opset5_sigmoid.onnx"));
    assert!(
        add.notes.iter().any(|n| n.contains("folded")),
        "{:?}",
        add.notes
    );
    // (2.5 t + base − 0.75) / 0.5 = 5 t + 2 base − 1.5, t = the trees without base.
    let base = add.bias[0];
    assert_eq!(affine.activation, Activation::None);
    assert!((affine.bias[0] - (2.0 * base - 1.5)).abs() < 1e-6);
    assert_eq!(sig.activation, Activation::Sigmoid);
    for row in matrix(&json("sk_gbr")["rows"]).iter().take(60) {
        let p = plain.predict_raw(row).unwrap()[0];
        let a = add.predict_raw(row).unwrap()[0];
        // The base folded into the first tree's leaves vs added after: same margin.
        assert!((p - a).abs() < 1e-5, "{p} vs {a}");
        let t = a - base;
        let y = affine.predict_raw(row).unwrap()[0];
        assert!((y - (5.0 * t + 2.0 * base - 1.5)).abs() < 1e-9, "{y}");
        // Sigmoid((c − t) × k), c = base + 0.5 and k = −0.8 as float32: the raw output is
        // the Sigmoid's input.
        let (c, k) = (f64::from((base + 0.5) as f32), f64::from(-0.8f32));
        let m = sig.predict_raw(row).unwrap()[0];
        assert!((m - k * (c - t)).abs() < 1e-9, "{m} vs {}", k * (c - t));
        let o = sig.predict_output(row).unwrap()[0];
        assert!((o - 1.0 / (1.0 + (-m).exp())).abs() < 1e-12);
    }
    // Not affine: refused, naming the op.
    let model = Model::load(&fixture_dir().join("sk_gbr_opset5_relu.onnx")).unwrap();
    match Forest::from_model(&model) {
        Err(TreeError::NotATree(msg)) => {
            assert!(
                msg.contains("found op Relu after the tree ensemble"),
                "{msg}"
            )
        }
        other => panic!("expected NotATree, got {other:?}"),
    }
}

/// A TreeEnsembleRegressor on input "x" with the given nodes `(id, mode, true, false)` (one
/// tree, feature 0, threshold 0.5, weight 1 on every leaf), as ONNX bytes.
fn one_tree_model(nodes: &[(i64, &str, i64, i64)]) -> Vec<u8> {
    use assay::engine::model::proto::full::{AttributeProto, GraphProto, ModelProto, NodeProto};
    use assay::engine::model::proto::ValueInfoProto;
    use prost::Message;
    let ints = |name: &str, v: Vec<i64>| AttributeProto {
        name: name.into(),
        ints: v,
        ..Default::default()
    };
    let n = nodes.len();
    let leaves: Vec<i64> = nodes
        .iter()
        .filter(|x| x.1 == "LEAF")
        .map(|x| x.0)
        .collect();
    let attrs = vec![
        ints("nodes_treeids", vec![0; n]),
        ints("nodes_nodeids", nodes.iter().map(|x| x.0).collect()),
        ints("nodes_featureids", vec![0; n]),
        ints("nodes_truenodeids", nodes.iter().map(|x| x.2).collect()),
        ints("nodes_falsenodeids", nodes.iter().map(|x| x.3).collect()),
        AttributeProto {
            name: "nodes_modes".into(),
            strings: nodes.iter().map(|x| x.1.as_bytes().to_vec()).collect(),
            ..Default::default()
        },
        AttributeProto {
            name: "nodes_values".into(),
            floats: vec![0.5; n],
            ..Default::default()
        },
        ints("target_treeids", vec![0; leaves.len()]),
        ints("target_nodeids", leaves.clone()),
        ints("target_ids", vec![0; leaves.len()]),
        AttributeProto {
            name: "target_weights".into(),
            floats: vec![1.0; leaves.len()],
            ..Default::default()
        },
    ];
    let model = ModelProto {
        graph: Some(GraphProto {
            node: vec![NodeProto {
                input: vec!["x".into()],
                output: vec!["y".into()],
                op_type: "TreeEnsembleRegressor".into(),
                domain: "ai.onnx.ml".into(),
                attribute: attrs,
            }],
            initializer: Vec::new(),
            input: vec![ValueInfoProto {
                name: "x".into(),
                r#type: None,
            }],
            output: Vec::new(),
        }),
    };
    model.encode_to_vec()
}

#[test]
fn shared_nodes_unfold_within_a_cap_and_cycles_are_file_errors() {
    let p = Path::new("dag.onnx");
    // A diamond: both branches of the root reach node 1.
    let f = Forest::from_bytes(
        p,
        &one_tree_model(&[
            (0, "BRANCH_LEQ", 1, 1),
            (1, "BRANCH_LEQ", 2, 3),
            (2, "LEAF", 0, 0),
            (3, "LEAF", 0, 0),
        ]),
    )
    .expect("a DAG is read");
    assert_eq!(
        f.trees[0].nodes.len(),
        7,
        "root + two copies of a 3-node subtree"
    );
    assert_eq!(f.predict_raw(&[0.0]).unwrap(), vec![1.0]);
    // A chain where both branches of each of 25 nodes go to the next: 2^25 paths.
    let mut chain: Vec<(i64, &str, i64, i64)> =
        (0..25).map(|i| (i, "BRANCH_LEQ", i + 1, i + 1)).collect();
    chain.push((25, "LEAF", 0, 0));
    match Forest::from_bytes(p, &one_tree_model(&chain)) {
        Err(TreeError::NotATree(msg)) => {
            assert!(
                msg.contains("unfolding") && msg.contains("1048576"),
                "{msg}"
            )
        }
        other => panic!("expected NotATree, got {other:?}"),
    }
    // A cycle below the root (1 → 2 → 1).
    let cyc = [
        (0, "BRANCH_LEQ", 1, 3),
        (1, "BRANCH_LEQ", 2, 3),
        (2, "BRANCH_LEQ", 1, 4),
        (3, "LEAF", 0, 0),
        (4, "LEAF", 0, 0),
    ];
    match Forest::from_bytes(p, &one_tree_model(&cyc)) {
        Err(TreeError::Engine(e)) => {
            assert_eq!(e.kind(), ErrorKind::BadInput);
            assert!(e.to_string().contains("cycle"), "{e}");
        }
        other => panic!("expected a file error, got {other:?}"),
    }
}

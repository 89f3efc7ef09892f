//! TreeSHAP on native forests: interventional and path-dependent values equal shap 0.51's
//! TreeExplainer (committed fixtures, tests/fixtures/explain/tree/make_tree_fixtures.py) and
//! brute-force Shapley values over all 2^F coalitions (random forests with every split mode,
//! repeated features and NaN routing; LightGBM categorical DAGs; opset-5 ensembles with
//! folded affine post-processing); probability space equals shap's model_output="probability";
//! additivity; cancel; degenerate inputs.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::PathBuf;

use assay::engine::explain::tree::{
    interventional, interventional_transformed, path_dependent, Activation, Forest, Node, NodeMode,
    PostTransform, Tree, TreeShap,
};
use assay::engine::model::Model;
use assay::engine::{EngineError, ErrorKind, Progress};
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain/tree")
}

fn json(name: &str) -> Value {
    let text =
        std::fs::read_to_string(fixture_dir().join(format!("{name}.json"))).expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn flat(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .flat_map(|r| r.as_array().expect("row").iter())
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// `[row][K][F]` or `[row][K]` → flat.
fn flat3(v: &Value) -> Vec<f64> {
    fn walk(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            x => out.push(x.as_f64().unwrap_or(f64::NAN)),
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

fn forest(name: &str) -> Forest {
    Forest::from_model(&Model::load(&fixture_dir().join(format!("{name}.onnx"))).unwrap()).unwrap()
}

/// shap explains the library's own model (float64 leaf values, e.g. sklearn's
/// learning_rate × value); ONNX stores them as float32, so each leaf differs by up to one
/// float32 ulp (~6e-8 relative). Summed over ≤ 40 trees with |leaf| < 1, that bounds the
/// difference well under 1e-6.
const SHAP_TOL: f64 = 1e-6;

fn compare(name: &str, got: &TreeShap, want: &Value) {
    let base = flat3(&want["base_values"]);
    let vals = flat3(&want["values"]);
    assert_eq!(got.base_values.len(), base.len(), "{name}: outputs");
    assert_eq!(got.values.len(), vals.len(), "{name}: values");
    let mut worst: f64 = 0.0;
    for (g, w) in got.base_values.iter().zip(&base) {
        assert!((g - w).abs() <= SHAP_TOL, "{name}: base {g} vs shap {w}");
    }
    for (i, (g, w)) in got.values.iter().zip(&vals).enumerate() {
        worst = worst.max((g - w).abs());
        assert!(
            (g - w).abs() <= SHAP_TOL,
            "{name}: value {i}: {g} vs shap {w}"
        );
    }
    assert!(got.additivity_max_abs_error < 1e-9, "{name}: additivity");
    eprintln!(
        "{name} ({}): max |φ − shap| = {worst:.2e}, additivity {:.1e}",
        got.method, got.additivity_max_abs_error
    );
}

#[test]
fn interventional_matches_shap() {
    for name in [
        "sk_gbc_binary",
        "sk_gbr",
        "sk_rfr",
        "lgbm_binary_nan",
        "lgbm_multiclass",
        "lgbm_regressor",
        "xgb_binary_nan",
        "xgb_multiclass",
        "xgb_regressor",
    ] {
        let doc = json(name);
        let f = forest(name);
        let got = interventional(
            &f,
            &flat(&doc["shap_rows"]),
            &flat(&doc["background"]),
            &Progress::none(),
        )
        .unwrap();
        assert_eq!(got.n_rows, 50);
        assert_eq!(got.background_rows, 100);
        compare(name, &got, &doc["interventional"]);
    }
}

#[test]
fn path_dependent_matches_shap_with_routed_covers() {
    for name in ["sk_gbc_binary", "sk_gbr", "lgbm_binary_nan"] {
        let doc = json(name);
        let f = forest(name).with_covers(&flat(&doc["cover_data"])).unwrap();
        // The covers recomputed by routing the training rows are the ones the library stored.
        let want_covers = doc["model_covers"].as_array().unwrap();
        assert_eq!(want_covers.len(), f.trees.len(), "{name}");
        for (t, want) in f.trees.iter().zip(want_covers) {
            let mut got: Vec<f64> = t
                .nodes
                .iter()
                .filter_map(|n| n.cover)
                .filter(|&c| c > 0.0)
                .collect();
            got.sort_by(f64::total_cmp);
            let want: Vec<f64> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(got, want, "{name}: covers of tree {}", t.onnx_id);
        }
        let got = path_dependent(&f, &flat(&doc["shap_rows"]), &Progress::none()).unwrap();
        assert!(got.notes.iter().any(|n| n.contains("recomputed")));
        compare(name, &got, &doc["path_dependent"]);
    }
}

// ---------- brute force ----------

/// Exact Shapley values of a set function over F players by enumerating coalitions.
fn shapley(nf: usize, no: usize, v: impl Fn(u32) -> Vec<f64>) -> Vec<f64> {
    let vals: Vec<Vec<f64>> = (0..1u32 << nf).map(&v).collect();
    let fact = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let mut phi = vec![0.0; no * nf];
    for i in 0..nf {
        for s in 0..1u32 << nf {
            if s & (1 << i) != 0 {
                continue;
            }
            let k = s.count_ones() as usize;
            let w = fact(k) * fact(nf - k - 1) / fact(nf);
            for o in 0..no {
                phi[o * nf + i] += w * (vals[(s | 1 << i) as usize][o] - vals[s as usize][o]);
            }
        }
    }
    phi
}

fn brute_interventional(f: &Forest, x: &[f64], bg: &[f64]) -> Vec<f64> {
    let nf = f.n_features;
    let nb = bg.len() / nf;
    shapley(nf, f.n_outputs, |s| {
        let mut acc = vec![0.0; f.n_outputs];
        for b in bg.chunks_exact(nf) {
            let row: Vec<f64> = (0..nf)
                .map(|j| if s >> j & 1 == 1 { x[j] } else { b[j] })
                .collect();
            for (a, r) in acc.iter_mut().zip(f.predict_raw(&row).unwrap()) {
                *a += r / nb as f64;
            }
        }
        acc
    })
}

/// E[f(x) | x_S] with the tree's covers: follow x on features of S, else average children.
fn cond_expect(t: &Tree, i: usize, x: &[f64], s: u32, out: &mut [f64], w: f64) {
    let n = &t.nodes[i];
    if n.is_leaf() {
        for (o, v) in out.iter_mut().zip(&n.values) {
            *o += w * v;
        }
        return;
    }
    if s >> n.feature & 1 == 1 {
        cond_expect(t, n.next(x[n.feature]), x, s, out, w);
    } else {
        let c = n.cover.unwrap();
        for ch in [n.true_child, n.false_child] {
            let cc = t.nodes[ch].cover.unwrap();
            if cc > 0.0 {
                cond_expect(t, ch, x, s, out, w * cc / c);
            }
        }
    }
}

fn brute_path(f: &Forest, x: &[f64]) -> Vec<f64> {
    shapley(f.n_features, f.n_outputs, |s| {
        let mut acc = f.bias.clone();
        for t in &f.trees {
            cond_expect(t, 0, x, s, &mut acc, 1.0);
        }
        acc
    })
}

fn random_tree(rng: &mut rand_pcg::Pcg64, nf: usize, no: usize, depth: usize) -> Tree {
    fn grow(
        rng: &mut rand_pcg::Pcg64,
        nodes: &mut Vec<Node>,
        nf: usize,
        no: usize,
        d: usize,
    ) -> usize {
        let me = nodes.len();
        let leaf = d == 0 || (me > 0 && rng.random_bool(0.2));
        let modes = [
            NodeMode::BranchLeq,
            NodeMode::BranchLt,
            NodeMode::BranchGte,
            NodeMode::BranchGt,
            NodeMode::BranchEq,
            NodeMode::BranchNeq,
        ];
        nodes.push(Node {
            onnx_id: me as i64,
            mode: if leaf {
                NodeMode::Leaf
            } else {
                modes[rng.random_range(0..6)]
            },
            // Few features so that paths repeat them.
            feature: if leaf { 0 } else { rng.random_range(0..nf) },
            threshold: rng.random_range(0..4) as f64,
            missing_goes_true: rng.random_bool(0.5),
            true_child: 0,
            false_child: 0,
            cover: None,
            values: if leaf {
                (0..no).map(|_| rng.random_range(-2.0..2.0)).collect()
            } else {
                Vec::new()
            },
        });
        if !leaf {
            let t = grow(rng, nodes, nf, no, d - 1);
            let f = grow(rng, nodes, nf, no, d - 1);
            nodes[me].true_child = t;
            nodes[me].false_child = f;
        }
        me
    }
    let mut nodes = Vec::new();
    grow(rng, &mut nodes, nf, no, depth);
    Tree {
        onnx_id: 0,
        nodes,
        depth,
    }
}

fn random_forest(seed: u64, nf: usize, no: usize) -> Forest {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    let trees = (0..6).map(|_| random_tree(&mut rng, nf, no, 5)).collect();
    Forest {
        op_type: "TreeEnsembleRegressor".into(),
        input_name: "x".into(),
        n_features: nf,
        n_outputs: no,
        output_names: (0..no).map(|k| format!("target {k}")).collect(),
        bias: (0..no).map(|k| k as f64 * 0.5).collect(),
        post_transform: PostTransform::None,
        n_scores: no,
        classifier: None,
        float_input: false,
        activation: Activation::None,
        trees,
        notes: Vec::new(),
    }
}

/// Small integers (ties with thresholds exercise EQ/NEQ/LEQ/LT) and some NaN.
fn random_rows(seed: u64, n: usize, nf: usize) -> Vec<f64> {
    let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
    (0..n * nf)
        .map(|_| {
            if rng.random_bool(0.1) {
                f64::NAN
            } else {
                rng.random_range(0..5) as f64 - 0.5 * rng.random_range(0..2) as f64
            }
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: {g} vs brute force {w}");
    }
}

#[test]
fn interventional_equals_brute_force_shapley() {
    for (seed, nf, no) in [(1, 8, 1), (2, 5, 3), (3, 3, 2), (4, 8, 2)] {
        let f = random_forest(seed, nf, no);
        let x = random_rows(seed + 100, 6, nf);
        let bg = random_rows(seed + 200, 9, nf);
        let got = interventional(&f, &x, &bg, &Progress::none()).unwrap();
        for (r, row) in x.chunks_exact(nf).enumerate() {
            let want = brute_interventional(&f, row, &bg);
            let start = r * no * nf;
            assert_close(
                &format!("seed {seed} row {r}"),
                &got.values[start..start + no * nf],
                &want,
                1e-9,
            );
        }
        assert!(got.additivity_max_abs_error < 1e-9);
    }
    // And on a real converted model with NaN routing (float thresholds).
    let f = forest("xgb_binary_nan");
    let doc = json("xgb_binary_nan");
    let x: Vec<f64> = flat(&doc["shap_rows"])[..4 * 6].to_vec();
    let bg: Vec<f64> = flat(&doc["background"])[..15 * 6].to_vec();
    let got = interventional(&f, &x, &bg, &Progress::none()).unwrap();
    for (r, row) in x.chunks_exact(6).enumerate() {
        let want = brute_interventional(&f, row, &bg);
        assert_close("xgb row", &got.values[r * 6..(r + 1) * 6], &want, 1e-9);
    }
}

#[test]
fn path_dependent_equals_brute_force_conditional_shapley() {
    for (seed, nf, no) in [(5, 8, 1), (6, 4, 3), (7, 6, 2)] {
        let data = random_rows(seed + 300, 80, nf);
        let f = random_forest(seed, nf, no).with_covers(&data).unwrap();
        let x = random_rows(seed + 400, 5, nf);
        let got = path_dependent(&f, &x, &Progress::none()).unwrap();
        for (r, row) in x.chunks_exact(nf).enumerate() {
            let want = brute_path(&f, row);
            let start = r * no * nf;
            assert_close(
                &format!("seed {seed} row {r}"),
                &got.values[start..start + no * nf],
                &want,
                1e-9,
            );
        }
        assert!(
            got.additivity_max_abs_error < 1e-9,
            "{}",
            got.additivity_max_abs_error
        );
    }
}

#[test]
fn cancel_and_bad_input() {
    let f = random_forest(9, 4, 1);
    let x = random_rows(1, 100, 4);
    let p = Progress::none();
    p.cancel();
    assert!(matches!(
        interventional(&f, &x, &x, &p),
        Err(EngineError::Cancelled)
    ));
    let e = interventional(&f, &x, &[], &Progress::none()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let e = interventional(&f, &x[..5], &x, &Progress::none()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let e = path_dependent(&f, &x, &Progress::none()).unwrap_err();
    assert!(e.to_string().contains("covers"), "{e}");
    let fc = f.with_covers(&x).unwrap();
    let p = Progress::none();
    p.cancel();
    assert!(matches!(
        path_dependent(&fc, &x, &p),
        Err(EngineError::Cancelled)
    ));
}

#[test]
fn degenerate_cases() {
    let f = random_forest(10, 4, 2);
    let bg = random_rows(2, 10, 4);
    // No rows: an empty, well-formed result.
    let r = interventional(&f, &[], &bg, &Progress::none()).unwrap();
    assert_eq!((r.n_rows, r.values.len()), (0, 0));
    // A row explained against itself: all zeros, base = its own output.
    let x = &bg[..4];
    let r = interventional(&f, x, x, &Progress::none()).unwrap();
    assert!(r.values.iter().all(|&v| v == 0.0));
    assert_eq!(r.base_values, f.predict_raw(x).unwrap());
    // Single-leaf trees: nothing to attribute.
    let mut g = f.clone();
    for t in &mut g.trees {
        t.nodes.truncate(1);
        t.nodes[0].mode = NodeMode::Leaf;
        t.nodes[0].values = vec![1.0, -1.0];
        t.depth = 0;
    }
    let r = interventional(&g, &bg, &bg, &Progress::none()).unwrap();
    assert!(r.values.iter().all(|&v| v == 0.0));
    let g = g.with_covers(&bg).unwrap();
    let r = path_dependent(&g, &bg, &Progress::none()).unwrap();
    assert!(r.values.iter().all(|&v| v == 0.0));
    assert_eq!(r.base_values, vec![6.0 + 0.0, -6.0 + 0.5]);
    // The JSON contract serialises.
    let text = serde_json::to_string(&r).unwrap();
    assert!(text.contains("\"method\":\"tree_path_dependent\""));
}

/// The first `n` rows of a fixture's `rows` (row-major) from row `from`.
fn fixture_rows(doc: &Value, from: usize, n: usize) -> Vec<f64> {
    let nf = doc["n_features"].as_u64().unwrap() as usize;
    flat(&doc["rows"])[from * nf..(from + n) * nf].to_vec()
}

#[test]
fn categorical_dags_and_folded_tails_equal_brute_force() {
    let mut worst: f64 = 0.0;
    for name in [
        "lgbm_cat_binary",
        "lgbm_cat_regressor",
        "sk_gbr_opset5_add",
        "sk_gbr_opset5_affine",
        "sk_gbr_opset5_sigmoid",
    ] {
        let doc = json(name);
        let f = forest(name);
        let nf = f.n_features;
        let x = fixture_rows(&doc, 0, 6);
        let bg = fixture_rows(&doc, 60, 12);
        let got = interventional(&f, &x, &bg, &Progress::none()).unwrap();
        for (r, row) in x.chunks_exact(nf).enumerate() {
            let want = brute_interventional(&f, row, &bg);
            let g = &got.values[r * nf..(r + 1) * nf];
            worst = worst.max(
                g.iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max),
            );
            assert_close(&format!("{name} row {r}"), g, &want, 1e-9);
        }
        assert!(got.additivity_max_abs_error < 1e-9, "{name}");
    }
    // Path-dependent TreeSHAP on the unfolded trees, covers from routing rows.
    let doc = json("lgbm_cat_binary");
    let f = forest("lgbm_cat_binary")
        .with_covers(&fixture_rows(&doc, 0, 120))
        .unwrap();
    let x = fixture_rows(&doc, 0, 5);
    let got = path_dependent(&f, &x, &Progress::none()).unwrap();
    for (r, row) in x.chunks_exact(5).enumerate() {
        let want = brute_path(&f, row);
        let g = &got.values[r * 5..(r + 1) * 5];
        worst = worst.max(
            g.iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max),
        );
        assert_close(&format!("cat path row {r}"), g, &want, 1e-9);
    }
    eprintln!("DAGs and folded tails: max |φ − brute force| = {worst:.2e}");
}

#[test]
fn a_multiplication_after_the_trees_scales_values_and_an_addition_shifts_the_base() {
    // affine = (2.5 t + base − 0.75) / 0.5 = 5 (add − base) + 2 base − 1.5.
    let doc = json("sk_gbr");
    let (add, affine) = (forest("sk_gbr_opset5_add"), forest("sk_gbr_opset5_affine"));
    let base = add.bias[0];
    let x = fixture_rows(&doc, 0, 20);
    let bg = fixture_rows(&doc, 100, 40);
    let a = interventional(&add, &x, &bg, &Progress::none()).unwrap();
    let b = interventional(&affine, &x, &bg, &Progress::none()).unwrap();
    assert!((b.base_values[0] - (5.0 * (a.base_values[0] - base) + 2.0 * base - 1.5)).abs() < 1e-9);
    for (u, v) in a.values.iter().zip(&b.values) {
        assert!((5.0 * u - v).abs() < 1e-9, "{u} × 5 vs {v}");
    }
}

/// shap's probability values are rescaled raw values of its float64 model (see SHAP_TOL).
#[test]
fn probability_space_matches_shap_and_rescaled_brute_force() {
    for name in ["sk_gbc_binary", "lgbm_binary_nan", "xgb_binary_nan"] {
        let doc = json(name);
        let f = forest(name);
        let t = |m: f64| f.finalize(&[m])[1];
        let x = flat(&doc["shap_rows"]);
        let bg = flat(&doc["background"]);
        let got = interventional_transformed(&f, &x, &bg, 0, &t, "probability", &Progress::none())
            .unwrap();
        let want = &doc["probability"];
        let base = want["base_value"].as_f64().unwrap();
        assert!(
            (got.base_values[0] - base).abs() <= SHAP_TOL,
            "{name}: base"
        );
        let vals = flat3(&want["values"]);
        assert_eq!(got.values.len(), vals.len());
        let worst = got
            .values
            .iter()
            .zip(&vals)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f64::max);
        assert!(worst <= SHAP_TOL, "{name}: max |φ − shap| = {worst}");
        assert!(got.additivity_max_abs_error < 1e-12, "{name}");
        // The outputs are ONNX Runtime's probabilities of class 1.
        let ort = flat(&doc["ort"]);
        let all = flat(&doc["rows"]);
        for (r, xr) in x.chunks_exact(6).enumerate().take(10) {
            let i = all.chunks_exact(6).position(|a| {
                a.iter()
                    .zip(xr)
                    .all(|(p, q)| p == q || (p.is_nan() && q.is_nan()))
            });
            if let Some(i) = i {
                assert!((got.raw_outputs[r] - ort[2 * i + 1]).abs() < 1e-5);
            }
        }
        eprintln!("{name} (probability): max |φ − shap| = {worst:.2e}");
        // And the rescaling itself, from brute-force raw values per background row.
        for (r, xr) in x.chunks_exact(6).enumerate().take(3) {
            let mx = f.predict_raw(xr).unwrap()[0];
            let mut want = [0.0; 6];
            let nb = bg.len() / 6;
            for br in bg.chunks_exact(6) {
                let mr = f.predict_raw(br).unwrap()[0];
                let phi = brute_interventional(&f, xr, br);
                let s = (t(mx) - t(mr)) / (mx - mr);
                for (w, p) in want.iter_mut().zip(&phi) {
                    *w += if mx == mr { 0.0 } else { p * s / nb as f64 };
                }
            }
            assert_close(
                &format!("{name} row {r}"),
                got.row_values(r, 0),
                &want,
                1e-9,
            );
        }
    }
}

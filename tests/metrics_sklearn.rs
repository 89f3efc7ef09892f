//! Metrics and curves against scikit-learn on the committed fixtures
//! (`tests/fixtures/metrics/*.json`, made by `tests/fixtures/make_fixtures.py`).
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use assay::engine::metrics::{binary, curves, multiclass, order_desc, regression};
use serde_json::Value;

const TOL: f64 = 1e-9;

fn load(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/metrics/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) if s == "inf" => Some(f64::INFINITY),
        Value::String(s) if s == "-inf" => Some(f64::NEG_INFINITY),
        Value::String(s) if s == "nan" => Some(f64::NAN),
        other => other.as_f64(),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| num(x).expect("number"))
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= TOL * (1.0 + b.abs())
}

fn assert_vec(case: &str, what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{case}: {what} length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, *w), "{case}: {what}[{i}] = {g}, scikit-learn {w}");
    }
}

fn assert_metrics(case: &str, got: &assay::engine::metrics::Metrics, want: &Value) {
    let want = want.as_object().expect("metrics object");
    for (name, expected) in want {
        let expected = num(expected);
        let actual = got
            .0
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{case}: no metric {name}"))
            .1;
        match (actual, expected) {
            (Some(a), Some(e)) => assert!(close(a, e), "{case}: {name} = {a}, scikit-learn {e}"),
            (None, None) => {}
            (a, e) => panic!("{case}: {name} = {a:?}, scikit-learn {e:?}"),
        }
    }
}

#[test]
fn binary_metrics_and_curves_match_sklearn() {
    let fx = load("binary.json");
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let y: Vec<bool> = case["y_true"]
            .as_array()
            .expect("y")
            .iter()
            .map(|v| v.as_i64() == Some(1))
            .collect();
        let s = nums(&case["y_score"]);
        let t = case["threshold"].as_f64().expect("threshold");
        let order = order_desc(&s);
        let (m, c) = binary::metrics(&y, &s, &order, t, None);
        assert_metrics(name, &m, &case["metrics"]);
        let cm = &case["confusion_matrix"];
        let want = [
            cm[0][0].as_f64(),
            cm[0][1].as_f64(),
            cm[1][0].as_f64(),
            cm[1][1].as_f64(),
        ];
        assert_eq!(
            [Some(c.tn), Some(c.fp), Some(c.fn_), Some(c.tp)],
            want,
            "{name}: confusion"
        );

        let clf = curves::binary_clf_curve(&y, &s, &order);
        for (key, drop) in [("roc_curve", true), ("roc_curve_full", false)] {
            if case[key].is_null() {
                continue;
            }
            let roc = curves::roc_curve(&clf, drop);
            assert_vec(
                name,
                &format!("{key}.fpr"),
                &roc.fpr,
                &nums(&case[key]["fpr"]),
            );
            assert_vec(
                name,
                &format!("{key}.tpr"),
                &roc.tpr,
                &nums(&case[key]["tpr"]),
            );
            assert_vec(
                name,
                &format!("{key}.thresholds"),
                &roc.thresholds,
                &nums(&case[key]["thresholds"]),
            );
        }
        let pr = curves::pr_curve(&clf);
        assert_vec(
            name,
            "pr.precision",
            &pr.precision,
            &nums(&case["pr_curve"]["precision"]),
        );
        assert_vec(
            name,
            "pr.recall",
            &pr.recall,
            &nums(&case["pr_curve"]["recall"]),
        );
        assert_vec(
            name,
            "pr.thresholds",
            &pr.thresholds,
            &nums(&case["pr_curve"]["thresholds"]),
        );

        let cal = curves::calibration(
            &y,
            &s,
            case["calibration"]["n_bins"].as_u64().expect("bins") as usize,
        );
        assert_vec(
            name,
            "calibration.prob_true",
            &cal.prob_true,
            &nums(&case["calibration"]["prob_true"]),
        );
        assert_vec(
            name,
            "calibration.prob_pred",
            &cal.prob_pred,
            &nums(&case["calibration"]["prob_pred"]),
        );
        let counts: Vec<f64> = cal.counts.iter().map(|&c| c as f64).collect();
        assert_vec(
            name,
            "calibration.counts",
            &counts,
            &nums(&case["calibration"]["bin_counts"]),
        );
        assert!(
            close(cal.ece, num(&case["ece"]).expect("ece")),
            "{name}: ece {} vs {}",
            cal.ece,
            case["ece"]
        );
    }
}

#[test]
fn multiclass_metrics_match_sklearn() {
    let fx = load("multiclass.json");
    for case in fx["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let k = case["n_classes"].as_u64().expect("k") as usize;
        let y: Vec<u32> = case["y_true"]
            .as_array()
            .expect("y")
            .iter()
            .map(|v| v.as_u64().expect("label") as u32)
            .collect();
        let proba: Vec<f64> = case["proba"]
            .as_array()
            .expect("proba")
            .iter()
            .flat_map(nums)
            .collect();
        let mc = multiclass::Prepared::new(&y, &proba, k);
        let want_pred: Vec<u32> = case["y_pred"]
            .as_array()
            .expect("pred")
            .iter()
            .map(|v| v.as_u64().expect("p") as u32)
            .collect();
        assert_eq!(mc.pred, want_pred, "{name}: argmax");
        assert_metrics(name, &mc.metrics(None), &case["metrics"]);
        let cm = mc.confusion(None);
        let want = case["confusion_matrix"].as_array().expect("cm");
        for (r, row) in want.iter().enumerate() {
            for (c, v) in row.as_array().expect("row").iter().enumerate() {
                assert_eq!(cm[r][c], v.as_f64().expect("count"), "{name}: cm[{r}][{c}]");
            }
        }
    }
}

#[test]
fn regression_metrics_match_sklearn() {
    let fx = load("regression.json");
    for case in fx["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let y = nums(&case["y_true"]);
        let p = nums(&case["y_pred"]);
        let reg = regression::Prepared::new(&y, &p);
        assert_metrics(name, &reg.metrics(None), &case["metrics"]);
    }
}

/// A bootstrap replicate (integer weights) must equal the metric on the expanded rows.
#[test]
fn weighted_metrics_equal_expanded_rows() {
    let fx = load("binary.json");
    let case = &fx["cases"][0];
    let y: Vec<bool> = case["y_true"]
        .as_array()
        .expect("y")
        .iter()
        .map(|v| v.as_i64() == Some(1))
        .collect();
    let s = nums(&case["y_score"]);
    let weights = assay::engine::metrics::bootstrap::replicate_weights(y.len(), 7, 3);
    let (mut ye, mut se) = (Vec::new(), Vec::new());
    for i in 0..y.len() {
        for _ in 0..weights[i] {
            ye.push(y[i]);
            se.push(s[i]);
        }
    }
    let order = order_desc(&s);
    let (wm, _) = binary::metrics(&y, &s, &order, 0.5, Some(&weights));
    let (em, _) = binary::metrics(&ye, &se, &order_desc(&se), 0.5, None);
    for ((n, a), (_, b)) in wm.0.iter().zip(&em.0) {
        let (a, b) = (a.expect("defined"), b.expect("defined"));
        assert!((a - b).abs() < 1e-12, "{n}: weighted {a} vs expanded {b}");
    }

    let yr: Vec<f64> = (0..200).map(|i| f64::from(i % 17) * 0.7 + 1.0).collect();
    let pr: Vec<f64> = (0..200).map(|i| f64::from((i * 7) % 23) * 0.5).collect();
    let w = assay::engine::metrics::bootstrap::replicate_weights(yr.len(), 1, 0);
    let (mut ye, mut pe) = (Vec::new(), Vec::new());
    for i in 0..yr.len() {
        for _ in 0..w[i] {
            ye.push(yr[i]);
            pe.push(pr[i]);
        }
    }
    let a = regression::Prepared::new(&yr, &pr).metrics(Some(&w));
    let b = regression::Prepared::new(&ye, &pe).metrics(None);
    for ((n, x), (_, y)) in a.0.iter().zip(&b.0) {
        let (x, y) = (x.expect("defined"), y.expect("defined"));
        assert!(
            (x - y).abs() < 1e-9 * (1.0 + y.abs()),
            "{n}: weighted {x} vs expanded {y}"
        );
    }
}

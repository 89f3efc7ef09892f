//! The paired tests of `assay compare` against statsmodels / scipy and a reference DeLong
//! implementation (tests/fixtures/compare/make_compare_fixtures.py → compare.json).
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::path::Path;

use assay::engine::compare::gate::{judge_rule, Gate, GateOp, GateRule};
use assay::engine::compare::stats::{
    delong, mcnemar_chi2_corrected, mcnemar_exact_p, midranks, pearson, spearman,
};
use serde_json::Value;

fn fixture() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compare/compare.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json")
}

/// `|a − b| ≤ tol · max(|a|, |b|)` (relative), or both tiny.
fn close(a: f64, b: f64, tol: f64) -> bool {
    a == b || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}

#[test]
fn mcnemar_matches_statsmodels() {
    let fx = fixture();
    for case in fx["mcnemar"].as_array().expect("cases") {
        let t = &case["table"];
        let b = t[0][1].as_u64().expect("b");
        let c = t[1][0].as_u64().expect("c");
        let p = mcnemar_exact_p(b, c);
        let want = f(&case["exact_p_value"]);
        // The exact p-value is a finite binomial sum: 1e-12.
        assert!(close(p, want, 1e-12), "exact {t}: {p} vs {want}");
        match mcnemar_chi2_corrected(b, c) {
            Some(chi) => {
                let s = f(&case["chi2_statistic"]);
                assert!(
                    close(chi.statistic, s, 1e-12),
                    "chi2 stat {t}: {} vs {s}",
                    chi.statistic
                );
                let pw = f(&case["chi2_p_value"]);
                // erfc-based survival function vs scipy's chi2.sf: 1e-9.
                assert!(
                    close(chi.p_value, pw, 1e-9),
                    "chi2 p {t}: {} vs {pw}",
                    chi.p_value
                );
            }
            None => {
                // No discordant pairs: statsmodels divides 1 by 0 (statistic inf, p 0); we
                // report the statistic as undefined.
                assert_eq!(b + c, 0, "{t}");
                assert!(case["chi2_statistic"].is_null(), "{t}");
            }
        }
    }
}

#[test]
fn delong_matches_the_reference_implementation() {
    let fx = fixture();
    let cases = fx["delong"].as_array().expect("cases");
    assert!(cases.len() >= 3);
    for want in cases {
        let name = want["name"].as_str().expect("name");
        let y: Vec<bool> = want["y"]
            .as_array()
            .expect("y")
            .iter()
            .map(|v| v.as_bool().expect("bool"))
            .collect();
        let (a, b) = (floats(&want["score_a"]), floats(&want["score_b"]));
        let d = delong(&y, &a, &b).expect("defined");
        for (field, got) in [
            ("auc_a", d.auc_a),
            ("auc_b", d.auc_b),
            ("auc_difference", d.auc_difference),
            ("variance_a", d.variance_a),
            ("variance_b", d.variance_b),
            ("covariance", d.covariance),
            ("variance", d.variance),
            ("z", d.z.expect("z")),
            ("p_value", d.p_value.expect("p")),
        ] {
            let w = f(&want[field]);
            assert!(close(got, w, 1e-9), "{name} {field}: {got} vs {w}");
        }
    }
}

#[test]
fn delong_degenerate_cases() {
    // Fewer than two rows of a class: undefined.
    assert!(delong(&[true, false, false], &[0.9, 0.1, 0.2], &[0.8, 0.2, 0.1]).is_none());
    // Identical scores: zero variance of the difference, no p-value.
    let y = [true, true, false, false, true];
    let s = [0.9, 0.4, 0.3, 0.5, 0.7];
    let d = delong(&y, &s, &s).expect("defined");
    assert_eq!(d.auc_difference, 0.0);
    assert!(d.p_value.is_none() && d.z.is_none());
}

#[test]
fn correlations_match_scipy() {
    let fx = fixture();
    for c in fx["correlations"].as_array().expect("cases") {
        let (a, b) = (floats(&c["a"]), floats(&c["b"]));
        let name = c["name"].as_str().expect("name");
        let p = pearson(&a, &b).expect("pearson");
        let s = spearman(&a, &b).expect("spearman");
        assert!(
            close(p, f(&c["pearson"]), 1e-9),
            "{name} pearson {p} vs {}",
            c["pearson"]
        );
        assert!(
            close(s, f(&c["spearman"]), 1e-9),
            "{name} spearman {s} vs {}",
            c["spearman"]
        );
    }
    // Constant input: undefined (scipy returns NaN with a warning).
    assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
    assert!(spearman(&[1.0], &[2.0]).is_none());
}

#[test]
fn midranks_average_ties() {
    assert_eq!(midranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    assert_eq!(midranks(&[5.0, 5.0, 5.0]), vec![2.0, 2.0, 2.0]);
    assert!(midranks(&[]).is_empty());
}

#[test]
fn gate_rules_judge_facts_with_reasons() {
    let mut facts = std::collections::BTreeMap::new();
    facts.insert("delta.roc_auc".to_string(), -0.012);
    facts.insert("p95_latency_ms".to_string(), 1.5);
    let gate = Gate {
        rules: vec![
            GateRule::new("delta.roc_auc", GateOp::Ge, 0.0),
            GateRule::new("p95_latency_ms", GateOp::Le, 2.0),
            GateRule::new("max_group_worsening.true_positive_rate", GateOp::Le, 0.05),
        ],
    };
    let r = gate.evaluate(&facts);
    assert!(!r.passed);
    assert_eq!(r.rules[0].reason, "delta.roc_auc = -0.012 < 0 (needs ≥ 0)");
    assert!(!r.rules[0].passed);
    assert!(r.rules[1].passed, "{}", r.rules[1].reason);
    assert_eq!(r.rules[1].reason, "p95_latency_ms = 1.5 ≤ 2");
    assert_eq!(
        r.rules[2].reason,
        "max_group_worsening.true_positive_rate: not measured"
    );
    assert!(r.rules[2].value.is_none());
    // Strict operators at the boundary.
    assert!(!judge_rule(&GateRule::new("x", GateOp::Gt, 1.0), Some(1.0)).passed);
    assert!(judge_rule(&GateRule::new("x", GateOp::Ge, 1.0), Some(1.0)).passed);
    assert!(!judge_rule(&GateRule::new("x", GateOp::Lt, 1.0), Some(1.0)).passed);
    assert!(!judge_rule(&GateRule::new("x", GateOp::Ge, 0.0), Some(f64::NAN)).passed);
}

#[test]
fn gate_json_round_trips_and_rejects_garbage() {
    let p = Path::new("gate.json");
    let g = Gate::from_json(
        r#"{"rules": [{"fact": "delta.roc_auc", "op": ">=", "value": 0}, {"fact": "p95_latency_ms", "op": "<", "value": 2}]}"#,
        p,
    )
    .expect("gate");
    assert_eq!(g.rules[1].op, GateOp::Lt);
    let text = serde_json::to_string(&g).expect("serialise");
    assert_eq!(Gate::from_json(&text, p).expect("again"), g);
    // A bare array of rules is accepted too.
    let bare = Gate::from_json(r#"[{"fact": "a", "op": "<=", "value": 1.5}]"#, p).expect("bare");
    assert_eq!(bare.rules.len(), 1);
    for bad in [
        "",
        "{}",
        r#"{"rules": []}"#,
        r#"{"rules": [{"fact": "a", "op": "=>", "value": 1}]}"#,
        r#"{"rules": [{"fact": "a", "op": ">=", "value": "x"}]}"#,
        r#"{"rules": [{"fact": "a", "op": ">=", "value": 1, "extra": 2}]}"#,
        r#"{"rules": [{"fact": " ", "op": ">=", "value": 1}]}"#,
    ] {
        let e = Gate::from_json(bad, p).expect_err(bad);
        assert!(e.to_string().contains("gate.json"), "{bad}: {e}");
    }
}

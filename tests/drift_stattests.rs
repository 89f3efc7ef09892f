//! Drift statistics against scipy 1.17.1 and Evidently 0.7.23 on the committed fixtures in
//! tests/fixtures/drift/stattests.json (made by make_drift_fixtures.py).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use assay::engine::drift::binning::{self, Counts};
use assay::engine::drift::column_drift::{default_method, Method};
use assay::engine::drift::columns::{sorted_finite, ColumnKind};
use assay::engine::drift::stattests::{self, KsMode};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/drift/stattests.json").expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Null => f64::NAN,
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        v => v.as_f64().expect("number"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// |a − b| ≤ abs + rel·|b|; NaN matches NaN, ±inf match exactly.
fn close(what: &str, case: &str, a: f64, b: f64, rel: f64, abs: f64) {
    if b.is_nan() || b.is_infinite() {
        assert!(
            (a.is_nan() && b.is_nan()) || a == b,
            "{case}: {what}: got {a}, expected {b}"
        );
        return;
    }
    assert!(
        (a - b).abs() <= abs + rel * b.abs(),
        "{case}: {what}: got {a:e}, expected {b:e} (diff {:e})",
        (a - b).abs()
    );
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::Ks => "ks",
        Method::Chi2 => "chisquare",
        Method::Z => "z",
        Method::Wasserstein => "wasserstein",
        Method::JensenShannon => "jensenshannon",
        Method::Psi => "psi",
    }
}

#[test]
fn numeric_cases_match_scipy_and_evidently() {
    let fx = fixture();
    let mut n = 0;
    for case in fx["cases"].as_array().expect("cases") {
        if case["kind"] != "numeric" {
            continue;
        }
        n += 1;
        let name = case["name"].as_str().expect("name");
        let integer = case["integer"].as_bool().unwrap_or(false);
        let a = sorted_finite(&nums(&case["reference"]));
        let b = sorted_finite(&nums(&case["current"]));

        let ks = stattests::ks_2samp(&a, &b);
        let exact = a.len().max(b.len()) <= 10_000;
        assert_eq!(ks.mode == KsMode::Exact, exact, "{name}: KS mode");
        close(
            "ks statistic",
            name,
            ks.statistic,
            num(&case["ks_statistic"]),
            1e-12,
            0.0,
        );
        // Exact p-values: the same recursions as scipy, so 1e-9 relative. Asymptotic ones go
        // through the one-sided Smirnov sum evaluated in log space (scipy: double-double),
        // good to ~1e-10 relative; 1e-14 absolute covers p-values that scipy rounds to 0.
        close(
            "ks p-value",
            name,
            ks.p_value,
            num(&case["ks_p_value"]),
            1e-9,
            1e-14,
        );
        close(
            "evidently ks p-value",
            name,
            ks.p_value,
            num(&case["evidently_ks_p_value"]),
            1e-9,
            1e-14,
        );
        // Wasserstein sums |ΔCDF|·Δx over all points; numpy sums pairwise, we sum in order.
        close(
            "wasserstein",
            name,
            stattests::wasserstein(&a, &b),
            num(&case["wasserstein"]),
            1e-10,
            1e-15,
        );
        close(
            "wasserstein normed",
            name,
            stattests::wasserstein_normed(&a, &b),
            num(&case["wasserstein_normed"]),
            1e-10,
            1e-15,
        );

        let counts = Counts::from_sorted(&a, &b);
        let binned = binning::binned_percents(Some((&a, &b, integer)), &counts);
        let br = nums(&case["binned_reference"]);
        let bc = nums(&case["binned_current"]);
        assert_eq!(binned.reference.len(), br.len(), "{name}: number of bins");
        // Per-value bins: Evidently orders keys by a Python set, we sort; compare as multisets.
        let sorted = |v: &[f64]| {
            let mut v = v.to_vec();
            v.sort_by(f64::total_cmp);
            v
        };
        let numeric_bins = binning::n_unique_sorted(&a) > 20;
        let (gr, er) = if numeric_bins {
            (binned.reference.clone(), br.clone())
        } else {
            (sorted(&binned.reference), sorted(&br))
        };
        for (x, y) in gr.iter().zip(&er) {
            close("binned reference", name, *x, *y, 1e-15, 0.0);
        }
        if numeric_bins {
            for (x, y) in binned.current.iter().zip(&bc) {
                close("binned current", name, *x, *y, 1e-15, 0.0);
            }
        }
        let js = stattests::jensen_shannon(&binned.reference, &binned.current);
        close(
            "jensen-shannon",
            name,
            js,
            num(&case["jensen_shannon"]),
            1e-9,
            1e-15,
        );
        let (mut r, mut c) = (binned.reference.clone(), binned.current.clone());
        binning::fill_zeroes(&mut r);
        binning::fill_zeroes(&mut c);
        close(
            "psi",
            name,
            stattests::psi(&r, &c),
            num(&case["psi"]),
            1e-9,
            1e-15,
        );

        let n_values = binning::n_unique_sorted(&sorted(&[a.clone(), b.clone()].concat()));
        let m = default_method(ColumnKind::Numeric, a.len(), n_values);
        assert_eq!(
            method_name(m),
            case["default_method"],
            "{name}: default method"
        );
        if case.get("chi2_p_value").is_some() {
            let (_, p) = stattests::chi_square(&counts);
            close("chi2 p", name, p, num(&case["chi2_p_value"]), 1e-9, 1e-15);
            let z = stattests::z_test(&counts);
            close("z p", name, z.p_value, num(&case["z_p_value"]), 1e-9, 1e-15);
        }
    }
    assert!(n >= 15, "expected the numeric fixtures, found {n}");
}

#[test]
fn categorical_cases_match_evidently() {
    let fx = fixture();
    let mut n = 0;
    for case in fx["cases"].as_array().expect("cases") {
        if case["kind"] != "categorical" {
            continue;
        }
        n += 1;
        let name = case["name"].as_str().expect("name");
        let labels = |v: &Value| -> Vec<String> {
            v.as_array()
                .expect("array")
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        };
        let (r, c) = (labels(&case["reference"]), labels(&case["current"]));
        let counts =
            Counts::from_labels(r.iter().map(String::as_str), c.iter().map(String::as_str));
        let (chi, p) = stattests::chi_square(&counts);
        close(
            "chi2 statistic",
            name,
            chi,
            num(&case["chi2_statistic"]),
            1e-12,
            0.0,
        );
        close(
            "chi2 p-value",
            name,
            p,
            num(&case["chi2_p_value"]),
            1e-9,
            1e-15,
        );
        let z = stattests::z_test(&counts);
        // norm.cdf near 1 loses digits in both implementations: 1e-15 absolute.
        close(
            "z p-value",
            name,
            z.p_value,
            num(&case["z_p_value"]),
            1e-9,
            1e-15,
        );
        let binned = binning::binned_percents(None, &counts);
        let js = stattests::jensen_shannon(&binned.reference, &binned.current);
        close(
            "jensen-shannon",
            name,
            js,
            num(&case["jensen_shannon"]),
            1e-9,
            1e-15,
        );
        let (mut rp, mut cp) = (binned.reference.clone(), binned.current.clone());
        binning::fill_zeroes(&mut rp);
        binning::fill_zeroes(&mut cp);
        close(
            "psi",
            name,
            stattests::psi(&rp, &cp),
            num(&case["psi"]),
            1e-9,
            1e-15,
        );
        let m = default_method(ColumnKind::Categorical, r.len(), counts.labels.len());
        assert_eq!(
            method_name(m),
            case["default_method"],
            "{name}: default method"
        );
    }
    assert!(n >= 8);
}

#[test]
fn sturges_edges_follow_numpy() {
    // np.histogram_bin_edges([1, 2, 3, 4, 10], "sturges") = 4 bins over [1, 10].
    let e = binning::sturges_edges(&[1.0, 2.0, 3.0], &[4.0, 10.0], false);
    assert_eq!(e, vec![1.0, 3.25, 5.5, 7.75, 10.0]);
    // Integer data: width raised to 1 → np.histogram_bin_edges(np.arange(3), "sturges").
    let e = binning::sturges_edges(&[0.0, 1.0], &[2.0], true);
    assert_eq!(e, vec![0.0, 1.0, 2.0]);
    // Constant data: one bin of width 1 around the value.
    let e = binning::sturges_edges(&[5.0], &[5.0], false);
    assert_eq!(e, vec![4.5, 5.5]);
    assert_eq!(
        binning::histogram_sorted(&[0.0, 1.0, 1.0, 2.0], &[0.0, 1.0, 2.0]),
        vec![1, 3]
    );
}

#[test]
fn kolmogorov_and_smirnov_tails_match_scipy() {
    use assay::engine::drift::ksdist::{kolmogorov_sf, smirnov_sf};
    let fx = fixture();
    let grid = fx["distributions"].as_array().expect("grid");
    assert!(grid.len() > 100);
    for g in grid {
        let n = g["n"].as_u64().expect("n");
        let d = num(&g["d"]);
        let case = format!("n={n} d={d:e}");
        // 1e-9 relative; 1e-13 absolute for tails scipy resolves below double rounding
        // of 1 − CDF.
        close(
            "kstwo.sf",
            &case,
            kolmogorov_sf(n, d),
            num(&g["kstwo_sf"]),
            1e-9,
            1e-13,
        );
        close(
            "smirnov",
            &case,
            smirnov_sf(n, d),
            num(&g["smirnov"]),
            1e-9,
            1e-13,
        );
    }
}

#[test]
fn radix_sort_matches_total_order() {
    // Large inputs take the radix path; compare with the comparison sort.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut v: Vec<f64> = (0..200_000)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            match i % 7 {
                0 => -u * 1e6,
                1 => u * 1e-300,
                2 => (u * 10.0).floor(),
                3 => f64::NAN,
                4 => -0.0,
                5 => f64::INFINITY,
                _ => u - 0.5,
            }
        })
        .collect();
    let got = sorted_finite(&v);
    v.retain(|x| x.is_finite());
    v.sort_by(f64::total_cmp);
    assert_eq!(got.len(), v.len());
    assert!(got.iter().zip(&v).all(|(a, b)| a.to_bits() == b.to_bits()));
}

//! The per-window drift path (`drift::chunked::per_window`, what `assay monitor` computes per
//! chunk) against the full drift report (`drift::drift`) with the same windows: the same
//! columns, methods, thresholds, skipped columns and windows, and every per-window value
//! within 1e-12 — numeric and categorical columns, with missing values, a column of
//! identifiers (skipped), windows by row count and by week, a small reference (tests: KS,
//! chi-square, Z) and a large one (distances). Missing and unseen values per window equal a
//! direct count.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use assay::engine::data::{self, Dataset};
use assay::engine::drift::chunked::per_window;
use assay::engine::drift::columns::{self, Raw};
use assay::engine::drift::over_time::{Period, Windows};
use assay::engine::drift::{drift, DriftOptions, Method};
use assay::engine::Progress;

/// A deterministic table: `shift` moves the numbers and the category mix; every 17th `x` and
/// every 23rd `cat` are missing; `grade` has 4 integer levels (categorical); `id` is unique.
fn table(path: &Path, rows: usize, seed: u64, shift: f64) {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut text = String::from("timestamp,x,y,grade,cat,flag,id\n");
    for i in 0..rows {
        let (u, v, w, c) = (next(), next(), next(), next());
        let x = if i % 17 == 5 {
            String::new()
        } else {
            format!("{:.4}", (u - 0.5) * 4.0 + shift * (i as f64 / rows as f64))
        };
        let y = format!("{:.2}", v * 10.0 + shift);
        let grade = (w * 4.0).floor() as i64 + 1;
        let cat = if i % 23 == 7 {
            ""
        } else if c < 0.4 + 0.2 * shift {
            "a"
        } else if c < 0.7 {
            "b"
        } else if c < 0.95 || shift == 0.0 {
            "c"
        } else {
            "new"
        };
        let flag = if v < 0.5 + 0.1 * shift { "yes" } else { "no" };
        let day = i / (rows / 30).max(1);
        let _ = writeln!(
            text,
            "2024-01-{:02}T{:02}:00:00Z,{x},{y},{grade},{cat},{flag},id{seed}_{i}",
            day.min(27) + 1,
            i % 24
        );
    }
    std::fs::write(path, text).expect("write");
}

fn load(p: &Path) -> Dataset {
    data::load(p, &Progress::none()).expect("loads")
}

fn names() -> Vec<String> {
    ["x", "y", "grade", "cat", "flag", "id"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn same(reference: &Dataset, current: &Dataset, windows: Windows) {
    let cols = names();
    let opts = DriftOptions {
        columns: Some(cols.clone()),
        timestamp: Some("timestamp".into()),
        windows: Some(windows),
        ..DriftOptions::default()
    };
    let full = drift(reference, current, None, &opts, &Progress::none()).expect("drift");
    let fast = per_window(
        reference,
        current,
        &cols,
        Some("timestamp"),
        windows,
        true,
        &Progress::none(),
    )
    .expect("per window");
    let over = full.over_time.as_ref().expect("over time");

    let key = |c: &assay::engine::drift::ColumnDrift| {
        (
            c.name.clone(),
            c.method,
            c.threshold,
            c.drifted,
            c.p_value,
            c.statistic,
        )
    };
    let fast_key = |c: &assay::engine::drift::chunked::WholeColumn| {
        (
            c.name.clone(),
            c.method,
            c.threshold,
            c.drifted,
            c.p_value,
            c.statistic,
        )
    };
    assert_eq!(
        fast.columns.iter().map(fast_key).collect::<Vec<_>>(),
        full.columns.iter().map(key).collect::<Vec<_>>()
    );
    // Without the whole data's statistic: the same methods and the same series.
    let lean = per_window(
        reference,
        current,
        &cols,
        Some("timestamp"),
        windows,
        false,
        &Progress::none(),
    )
    .expect("per window");
    let method =
        |c: &assay::engine::drift::chunked::WholeColumn| (c.name.clone(), c.method, c.threshold);
    assert_eq!(
        lean.columns.iter().map(method).collect::<Vec<_>>(),
        fast.columns.iter().map(method).collect::<Vec<_>>()
    );
    let series = |s: &assay::engine::drift::over_time::Series| {
        let bits: Vec<Option<u64>> = s.values.iter().map(|v| v.map(f64::to_bits)).collect();
        (s.name.clone(), s.method, bits, s.drifted.clone())
    };
    assert_eq!(
        lean.series.iter().map(series).collect::<Vec<_>>(),
        fast.series.iter().map(series).collect::<Vec<_>>()
    );
    let skip = |s: &assay::engine::drift::Skipped| (s.name.clone(), s.reason.clone());
    assert_eq!(
        fast.skipped.iter().map(skip).collect::<Vec<_>>(),
        full.skipped.iter().map(skip).collect::<Vec<_>>()
    );
    assert!(
        fast.skipped.iter().any(|s| s.name == "id"),
        "identifiers skipped"
    );
    let win = |w: &assay::engine::drift::over_time::Window| {
        (w.label.clone(), w.rows, w.first_row, w.last_row)
    };
    assert_eq!(
        fast.windows.iter().map(win).collect::<Vec<_>>(),
        over.windows.iter().map(win).collect::<Vec<_>>()
    );
    assert!(fast.windows.len() >= 3);
    assert_eq!(fast.series.len(), over.columns.len());
    for (a, b) in fast.series.iter().zip(&over.columns) {
        assert_eq!(
            (&a.name, a.method, a.threshold, a.is_p_value, &a.drifted),
            (&b.name, b.method, b.threshold, b.is_p_value, &b.drifted)
        );
        assert_eq!(a.values.len(), b.values.len());
        for (x, y) in a.values.iter().zip(&b.values) {
            match (x, y) {
                (Some(x), Some(y)) => assert!(
                    x == y || (x - y).abs() <= 1e-12 || (x.is_nan() && y.is_nan()),
                    "{}: {x} vs {y}",
                    a.name
                ),
                _ => assert_eq!(x, y, "{}", a.name),
            }
        }
    }

    // Missing and unseen values per window, counted directly.
    assert_eq!(fast.counts.len(), fast.series.len());
    for ((name, counts), s) in fast.counts.iter().zip(&fast.series) {
        assert_eq!(name, &s.name);
        let r = columns::read(reference, name).expect("read");
        let c = columns::read(current, name).expect("read");
        for (k, w) in fast.windows.iter().enumerate() {
            let rows = w.first_row - 1..w.last_row;
            let missing = rows.clone().filter(|&i| c.is_missing(i)).count();
            let unseen = match (&r, &c) {
                (Raw::Text { values: rv }, Raw::Text { values: cv }) => {
                    let seen: HashSet<&str> = rv.iter().flatten().collect();
                    rows.filter(|&i| cv.get(i).is_some_and(|v| !seen.contains(v)))
                        .count()
                }
                _ => 0,
            };
            assert_eq!(counts.missing[k], missing, "{name} window {k}");
            assert_eq!(counts.unseen[k], unseen, "{name} window {k}");
        }
    }
    let x = fast.counts.iter().find(|c| c.0 == "x").expect("x");
    assert!(x.1.missing.iter().all(|&m| m > 0), "x has missing values");
    let cat = fast.counts.iter().find(|c| c.0 == "cat").expect("cat");
    assert!(cat.1.missing.iter().sum::<usize>() > 0);
}

#[test]
fn per_window_equals_the_drift_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let (r_small, r_big, cur) = (
        dir.path().join("r_small.csv"),
        dir.path().join("r_big.csv"),
        dir.path().join("cur.csv"),
    );
    table(&r_small, 600, 1, 0.0);
    table(&r_big, 3000, 2, 0.0);
    table(&cur, 2400, 3, 1.0);
    let (r_small, r_big, cur) = (load(&r_small), load(&r_big), load(&cur));
    for reference in [&r_small, &r_big] {
        same(reference, &cur, Windows::Rows(500));
        same(reference, &cur, Windows::Period(Period::Week));
    }
    // The methods met: tests on the small reference, distances on the large one.
    let methods = |r: &Dataset| -> Vec<Method> {
        per_window(
            r,
            &cur,
            &names(),
            None,
            Windows::Rows(500),
            true,
            &Progress::none(),
        )
        .expect("runs")
        .columns
        .iter()
        .map(|c| c.method)
        .collect()
    };
    let small = methods(&r_small);
    assert!(small.contains(&Method::Ks) && small.contains(&Method::Chi2));
    assert!(small.contains(&Method::Z));
    let big = methods(&r_big);
    assert!(big.contains(&Method::Wasserstein) && big.contains(&Method::JensenShannon));
}

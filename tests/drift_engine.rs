//! The drift engine end to end: the sample Adult datasets against Evidently 0.7.23's
//! DataDriftPreset (per-column method, score and verdict; dataset drift), drift over time,
//! data quality, overrides and degenerate / bad inputs.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use assay::engine::data;
use assay::engine::drift::over_time::{Period, Windows};
use assay::engine::drift::{drift, ColumnKind, DriftOptions, DriftReport, Method, Role};
use assay::engine::{ErrorKind, Progress};
use serde_json::Value;

fn load(p: &str) -> data::Dataset {
    data::load(Path::new(p), &Progress::none()).expect("loads")
}

fn run(r: &str, c: &str, opts: &DriftOptions) -> DriftReport {
    drift(&load(r), &load(c), None, opts, &Progress::none()).expect("drift runs")
}

fn evidently_method(name: &str) -> Method {
    match name {
        "K-S p_value" => Method::Ks,
        "chi-square p_value" => Method::Chi2,
        "Z-test p_value" => Method::Z,
        "Wasserstein distance (normed)" => Method::Wasserstein,
        "Jensen-Shannon distance" => Method::JensenShannon,
        "PSI" => Method::Psi,
        other => panic!("unexpected Evidently method {other}"),
    }
}

fn check_against_evidently(report: &DriftReport, fixture: &str) {
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("json");
    let cols = fx["columns"].as_array().expect("columns");
    assert_eq!(report.columns.len(), cols.len(), "same column set");
    for e in cols {
        let name = e["name"].as_str().expect("name");
        let c = report
            .columns
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("column {name} missing"));
        let m = evidently_method(e["method"].as_str().expect("method"));
        assert_eq!(c.method, m, "{name}: method");
        assert_eq!(c.threshold, e["threshold"].as_f64().expect("t"), "{name}");
        let expected = e["value"].as_f64().expect("value");
        let got = if m.is_test() {
            c.p_value.expect("p")
        } else {
            c.statistic.expect("statistic")
        };
        assert!(
            (got - expected).abs() <= 1e-9 * expected.abs() + 1e-14,
            "{name}: got {got:e}, Evidently {expected:e}"
        );
        assert_eq!(
            c.drifted,
            m.drifted(expected, c.threshold),
            "{name}: verdict"
        );
        assert!(c.effect_size.value.is_some(), "{name}: effect size");
    }
    let drifted = fx["drifted_count"].as_f64().expect("count") as usize;
    assert_eq!(report.n_drifted, drifted);
    let share = fx["share_drifted"].as_f64().expect("share");
    assert!((report.share_drifted - share).abs() < 1e-15);
    assert_eq!(
        report.dataset_drift,
        fx["dataset_drift"].as_bool().expect("bool")
    );
}

#[test]
fn adult_matches_evidently_data_drift_preset() {
    let report = run(
        "sample_data/adult_reference.csv",
        "sample_data/adult_current.csv",
        &DriftOptions::default(),
    );
    assert_eq!(report.timestamp_column.as_deref(), Some("timestamp"));
    check_against_evidently(&report, "tests/fixtures/drift/adult_evidently.json");
    // Kinds inferred as Evidently does: low-cardinality integers are categorical.
    let kind = |n: &str| {
        report
            .columns
            .iter()
            .find(|c| c.name == n)
            .expect("col")
            .kind
    };
    assert_eq!(kind("sex_male"), ColumnKind::Categorical);
    assert_eq!(kind("education_num"), ColumnKind::Numeric);
    assert_eq!(kind("workclass"), ColumnKind::Categorical);
    // Schema drift: the timestamp exists only in the current data.
    assert_eq!(report.quality.schema.only_in_current, vec!["timestamp"]);
}

#[test]
fn small_adult_uses_tests_and_matches_evidently() {
    let report = run(
        "tests/fixtures/drift/adult_reference_800.csv",
        "tests/fixtures/drift/adult_current_800.csv",
        &DriftOptions::default(),
    );
    check_against_evidently(&report, "tests/fixtures/drift/adult_800_evidently.json");
    let sex = report
        .columns
        .iter()
        .find(|c| c.name == "sex")
        .expect("sex");
    assert_eq!(sex.effect_size.measure, "cohens_h");
}

#[test]
fn overrides_are_applied_and_reported() {
    let opts = DriftOptions {
        columns: Some(vec!["age".into(), "sex_male".into(), "race".into()]),
        numeric: vec!["sex_male".into()],
        method: Some(Method::Psi),
        threshold: Some(0.2),
        drift_share: 0.3,
        target: Some("race".into()),
        ..DriftOptions::default()
    };
    let report = run(
        "sample_data/adult_reference.csv",
        "sample_data/adult_current.csv",
        &opts,
    );
    assert_eq!(report.columns.len(), 3);
    for c in &report.columns {
        assert_eq!(c.method, Method::Psi);
        assert_eq!(c.threshold, 0.2);
        assert_eq!(c.p_value, None);
        assert_eq!(c.statistic, c.stats.psi);
        assert_eq!(c.drifted, c.stats.psi.expect("psi") >= 0.2);
    }
    let sm = &report.columns[1];
    assert_eq!(sm.kind, ColumnKind::Numeric);
    assert_eq!(report.columns[2].role, Role::Target);
    let share = report.n_drifted as f64 / 3.0;
    assert_eq!(report.dataset_drift, share >= 0.3);
}

#[test]
fn drift_over_time_by_month_and_rows() {
    let opts = DriftOptions {
        columns: Some(vec!["age".into(), "sex".into()]),
        windows: Some(Windows::Period(Period::Month)),
        ..DriftOptions::default()
    };
    let report = run(
        "sample_data/adult_reference.csv",
        "sample_data/adult_current.csv",
        &opts,
    );
    let ot = report.over_time.expect("over time");
    let labels: Vec<&str> = ot.windows.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(
        labels,
        ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    );
    let sizes: Vec<usize> = ot.windows.iter().map(|w| w.rows).collect();
    assert_eq!(sizes, [834, 834, 833, 833, 833, 833]);
    let age = ot.columns.iter().find(|s| s.name == "age").expect("age");
    assert_eq!(age.method, Method::Wasserstein);
    // Age drifts more every month (sample_data/README.md): the first month is below the
    // threshold, the last far above.
    let v: Vec<f64> = age.values.iter().map(|v| v.expect("value")).collect();
    assert!(v[0] < 0.1 && v[5] > 0.5, "{v:?}");
    assert!(age.drifted[5] && !age.drifted[0]);
    // The per-window value is the same statistic as a full run on just those rows.
    let rows = Windows::Rows(1000);
    let report = run(
        "sample_data/adult_reference.csv",
        "sample_data/adult_current.csv",
        &DriftOptions {
            columns: Some(vec!["age".into()]),
            windows: Some(rows),
            ..DriftOptions::default()
        },
    );
    let ot = report.over_time.expect("over time");
    assert_eq!(ot.windows.len(), 5);
    assert_eq!(
        (ot.windows[4].first_row, ot.windows[4].last_row),
        (4001, 5000)
    );
}

fn write_csv(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    let mut f = std::fs::File::create(&p).expect("create");
    f.write_all(text.as_bytes()).expect("write");
    p.to_string_lossy().into_owned()
}

#[test]
fn quality_findings_name_rows() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = write_csv(
        &dir,
        "r.csv",
        "x,c,k,only_ref,t\n1.0,a,7,1,1\n2.0,b,7,2,2\n3.0,a,7,3,3\n4.0,b,7,4,4\n",
    );
    let c = write_csv(
        &dir,
        "c.csv",
        "x,c,k,t,only_cur\n9.0,a,7,1,1\n,z,7,2,1\n2.0,b,7,oops,1\n2.0,b,7,oops,1\n-1.0,z,7,3,1\n",
    );
    let report = drift(
        &load(&r),
        &load(&c),
        None,
        &DriftOptions::default(),
        &Progress::none(),
    )
    .expect("runs");
    let q = &report.quality;
    assert_eq!(q.schema.only_in_reference, vec!["only_ref"]);
    assert_eq!(q.schema.only_in_current, vec!["only_cur"]);
    assert_eq!(q.current.duplicated_rows, 1);
    assert_eq!(q.current.duplicated_row_numbers, vec![4]);
    let miss_x = q.current.missing.iter().find(|m| m.name == "x").expect("x");
    assert_eq!((miss_x.count, miss_x.rows.clone()), (1, vec![2]));
    assert!(q.current.constant_columns.contains(&"k".to_string()));
    assert!(q.current.constant_columns.contains(&"only_cur".to_string()));
    let oor = q
        .out_of_range
        .iter()
        .find(|o| o.name == "x")
        .expect("x out of range");
    assert_eq!((oor.below, oor.above, oor.rows.clone()), (1, 1, vec![1, 5]));
    let unseen = q
        .unseen_categories
        .iter()
        .find(|u| u.name == "c")
        .expect("c");
    assert_eq!(unseen.categories, vec![("z".to_string(), 2)]);
    assert_eq!(unseen.rows, vec![2, 5]);
    let tm = q
        .type_mismatches
        .iter()
        .find(|t| t.name == "t")
        .expect("t mismatch");
    assert_eq!(tm.count, 2);
    assert_eq!(tm.examples[0], (3, "oops".to_string()));
    assert!(report.skipped.iter().any(|s| s.name == "t"));
    // Constant k in both: Z-test p = 1, no drift.
    let k = report.columns.iter().find(|c| c.name == "k").expect("k");
    assert_eq!(
        (k.method, k.p_value, k.drifted),
        (Method::Z, Some(1.0), false)
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let r = load("sample_data/adult_reference.csv");
    let c = load("sample_data/adult_current.csv");
    let err =
        |opts: DriftOptions| drift(&r, &c, None, &opts, &Progress::none()).expect_err("must fail");
    let e = err(DriftOptions {
        columns: Some(vec!["nope".into()]),
        ..DriftOptions::default()
    });
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("'nope'"), "{e}");
    let e = err(DriftOptions {
        drift_share: 0.0,
        ..DriftOptions::default()
    });
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let e = err(DriftOptions {
        numeric: vec!["workclass".into()],
        ..DriftOptions::default()
    });
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(e.to_string().contains("row 1"), "{e}");
    let e = err(DriftOptions {
        categorical: vec!["age".into()],
        numeric: vec!["age".into()],
        ..DriftOptions::default()
    });
    assert!(e.to_string().contains("both"), "{e}");
    let e = err(DriftOptions {
        windows: Some(Windows::Period(Period::Day)),
        timestamp: Some("age".into()),
        ..DriftOptions::default()
    });
    assert_eq!(e.kind(), ErrorKind::BadInput);
    // Period windows on a dataset without timestamps.
    let e = drift(
        &r,
        &r,
        None,
        &DriftOptions {
            windows: Some(Windows::Period(Period::Week)),
            ..DriftOptions::default()
        },
        &Progress::none(),
    )
    .expect_err("no timestamp");
    assert!(e.to_string().contains("timestamp"), "{e}");
}

#[test]
fn identical_data_has_no_drift() {
    let report = run(
        "sample_data/adult_reference.csv",
        "sample_data/adult_reference.csv",
        &DriftOptions::default(),
    );
    assert_eq!(report.n_drifted, 0);
    for c in &report.columns {
        assert!(
            c.statistic.is_some_and(|s| s.abs() < 1e-12) || c.p_value == Some(1.0),
            "{}",
            c.name
        );
    }
    assert_eq!(
        report.quality.reference.duplicated_rows,
        report.quality.current.duplicated_rows
    );
}

#[test]
fn integers_with_missing_values_are_numeric_as_in_pandas() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = write_csv(&dir, "r.csv", "n,m\n1,1\n2,2\n,3\n3,1\n");
    let c = write_csv(&dir, "c.csv", "n,m\n1,1\n2,2\n3,3\n3,2\n");
    let report = drift(
        &load(&r),
        &load(&c),
        None,
        &DriftOptions::default(),
        &Progress::none(),
    )
    .expect("runs");
    let kind = |n: &str| {
        report
            .columns
            .iter()
            .find(|c| c.name == n)
            .expect("col")
            .kind
    };
    assert_eq!(kind("n"), ColumnKind::Numeric);
    assert_eq!(kind("m"), ColumnKind::Categorical);
    let n = report.columns.iter().find(|c| c.name == "n").expect("n");
    assert_eq!((n.n_reference, n.missing_reference), (3, 1));
}

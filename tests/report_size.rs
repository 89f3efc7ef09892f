//! The report stays small whatever the data size: a real evaluation, fairness and drift of the
//! demo model on a generated 1,000,000-row dataset (written to a temporary folder by this
//! test) render to well under 2 MB, because only aggregates are drawn (thinned curves, binned
//! histograms, capped tables).

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod report_support;

use std::io::Write;

use assay::engine::data::{inspect, load};
use assay::engine::drift::{drift, DriftOptions};
use assay::engine::evaluate::{evaluate, EvalOptions};
use assay::engine::fairness::{fairness, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::report::{render, Finding, ModelSection, ReportInput, ReviewNote};
use assay::engine::Progress;

mod support;
use support::root;

const ROWS: usize = 1_000_000;
const FEATURES: [&str; 6] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "sex_male",
];

/// splitmix64: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn write_big_csv(path: &std::path::Path) {
    let f = std::fs::File::create(path).expect("create");
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male,sex,race,zip,income_over_50k").expect("w");
    let races = [
        "White",
        "Black",
        "Asian-Pac-Islander",
        "Amer-Indian-Eskimo",
        "Other",
    ];
    let mut r = Rng(42);
    for _ in 0..ROWS {
        let age = 17 + (r.unit() * 60.0) as u32;
        let edu = 1 + (r.unit() * 16.0) as u32;
        let gain = if r.unit() < 0.08 {
            (r.unit() * 20000.0) as u32
        } else {
            0
        };
        let loss = if r.unit() < 0.05 {
            (r.unit() * 2500.0) as u32
        } else {
            0
        };
        let hours = 10 + (r.unit() * 60.0) as u32;
        let male = u32::from(r.unit() < 0.67);
        let race = races[((r.unit().powi(3)) * 5.0) as usize % 5];
        let zip = (r.unit() * 3000.0) as u32;
        let logit = -6.0
            + 0.04 * f64::from(age)
            + 0.3 * f64::from(edu)
            + 0.0002 * f64::from(gain)
            + 0.6 * f64::from(male);
        let y = u32::from(r.unit() < 1.0 / (1.0 + (-logit).exp()));
        let sex = if male == 1 { "Male" } else { "Female" };
        writeln!(
            w,
            "{age},{edu},{gain},{loss},{hours},{male},{sex},{race},z{zip},{y}"
        )
        .expect("w");
    }
    w.flush().expect("flush");
}

#[test]
fn a_one_million_row_review_renders_under_two_megabytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let big = tmp.path().join("big.csv");
    write_big_csv(&big);
    let p = Progress::none();
    let model = Model::load(&root().join("sample_models/adult_gbdt_v1.onnx")).expect("model");
    let ds = load(&big, &p).expect("load 1M rows");
    assert_eq!(ds.rows(), ROWS);
    let features: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let mut opts = EvalOptions::new("income_over_50k");
    opts.features = Some(features.clone());
    // Intervals do not change the report's size; a few resamples keep the test quick.
    opts.bootstrap.resamples = 5;
    let eval = evaluate(&model, &ds, &opts, &p).expect("evaluate");
    assert_eq!(eval.n, ROWS);
    let mut fo = FairnessOptions::new(
        "income_over_50k",
        vec![
            vec!["sex".into()],
            vec!["race".into()],
            vec!["sex".into(), "race".into()],
            vec!["zip".into()],
        ],
    );
    fo.run.features = Some(features.clone());
    fo.bootstrap.resamples = 5;
    // The 3,000 zip codes are the point: a high-cardinality slicing the report must keep small.
    fo.max_groups = 5_000;
    let fair = fairness(&model, &ds, &fo, &p).expect("fairness");
    let reference = load(&root().join("sample_data/adult_reference.csv"), &p).expect("reference");
    let dopts = DriftOptions {
        target: Some("income_over_50k".into()),
        features: Some(features),
        ..DriftOptions::default()
    };
    let drift_report = drift(&reference, &ds, Some(&model), &dopts, &p).expect("drift");
    let info = inspect(&ds).expect("inspect");
    let notes = vec![ReviewNote {
        id: "n1".into(),
        finding: Finding::Metric {
            model: "adult_gbdt v1.0".into(),
            metric: "roc_auc".into(),
        },
        text: "holds at scale".into(),
        author: "R".into(),
        created: "2026-11-25T15:00:00Z".into(),
    }];
    let input = ReportInput {
        title: "One million rows".into(),
        generated: "2026-11-25T15:00:00Z".into(),
        models: vec![ModelSection {
            label: "adult_gbdt v1.0",
            info: Some(&model.info),
            evaluation: Some(&eval),
            fairness: Some(&fair),
        }],
        data: Some(&info),
        drift: Some(&drift_report),
        notes: &notes,
        ..ReportInput::default()
    };
    let html = render(&input).expect("render");
    report_support::assert_well_formed(&html);
    report_support::assert_self_contained(&html);
    let size = html.len();
    eprintln!("report for {ROWS} rows: {size} bytes");
    assert!(size < 2 * 1024 * 1024, "{size} bytes");
    // In practice far smaller: aggregates only.
    assert!(size < 400 * 1024, "{size} bytes");
    // The 3000-value zip slicing is capped in the table.
    assert!(html.contains("more groups"));
}

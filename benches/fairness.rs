//! Fairness benchmark: 1M rows × 2 sensitive attributes (6 and 4 groups), slicings a, b and
//! a+b, all group metrics, MetricFrame summaries and disparities, from in-memory outcomes (no
//! file reading, no model). Prints the median of 5 runs without bootstrap (what
//! `benches/fairness_baseline.py` times with fairlearn) and one run with 200 resamples.
//!
//!     cargo bench --no-default-features --bench fairness

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::data::{Dataset, Format};
use assay::engine::fairness::stats::Outcomes;
use assay::engine::fairness::{fairness_outcomes, FairnessOptions};
use assay::engine::Progress;
use polars::prelude::*;
use rand::{Rng, SeedableRng};

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches once without `--bench`: nothing to measure.
        eprintln!("usage: cargo bench --no-default-features --bench fairness");
        return Ok(());
    }
    let n = 1_000_000;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(42);
    let a_levels = ["a0", "a1", "a2", "a3", "a4", "a5"];
    let b_levels = ["b0", "b1", "b2", "b3"];
    let a: Vec<&str> = (0..n).map(|_| a_levels[rng.random_range(0..6)]).collect();
    let b: Vec<&str> = (0..n).map(|_| b_levels[rng.random_range(0..4)]).collect();
    let y: Vec<bool> = (0..n).map(|_| rng.random_bool(0.4)).collect();
    let pred: Vec<bool> = y
        .iter()
        .map(|&t| if rng.random_bool(0.2) { !t } else { t })
        .collect();
    let df =
        DataFrame::new_infer_height(vec![Column::new("a".into(), a), Column::new("b".into(), b)])?;
    let ds = Dataset {
        path: PathBuf::from("bench"),
        sha256: String::new(),
        format: Format::Csv,
        file_size: 0,
        df,
    };
    let out = Outcomes::Binary { y, pred };
    let slicings = vec![
        vec!["a".to_string()],
        vec!["b".to_string()],
        vec!["a".to_string(), "b".to_string()],
    ];
    let mut opts = FairnessOptions::new("y", slicings);
    opts.bootstrap.resamples = 0;
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let r = fairness_outcomes(&ds, &out, None, &opts, &Progress::none())?;
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(r.slices.len(), 3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "assay fairness 1M x 2 attributes (a, b, a+b), no bootstrap: median {:.4} s",
        times[2]
    );
    println!("median_seconds {:.6}", times[2]);
    opts.bootstrap.resamples = 200;
    let t = Instant::now();
    fairness_outcomes(&ds, &out, None, &opts, &Progress::none())?;
    println!(
        "assay fairness 1M x 2 attributes with 200 stratified bootstrap resamples: {:.3} s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

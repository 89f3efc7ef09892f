//! Compare benchmark: the paired bootstrap of `assay compare` (1000 replicates, every binary
//! evaluation metric for both models on the same resampled rows) on 100k synthetic rows, plus
//! DeLong's test and the agreement statistics on the same rows. Prints the median of 5 runs of
//! each (what `benches/compare_models_baseline.py` times with numpy / scikit-learn).
//!
//!     cargo bench --no-default-features --bench compare_models

use std::time::Instant;

use assay::engine::compare::paired::{paired_intervals, Scorer};
use assay::engine::compare::stats::{delong, pearson, spearman};
use assay::engine::evaluate::RowOutputs;
use assay::engine::metrics::bootstrap::BootstrapSettings;
use assay::engine::Progress;
use rand::{Rng, SeedableRng};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches once without `--bench`: nothing to measure.
        eprintln!("usage: cargo bench --no-default-features --bench compare_models");
        return Ok(());
    }
    let n = 100_000;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(42);
    let y: Vec<bool> = (0..n).map(|_| rng.random_bool(0.3)).collect();
    let noisy = |rng: &mut rand_pcg::Pcg64Mcg, t: bool, s: f64| -> f64 {
        let base = if t { 0.65 } else { 0.35 };
        (base + s * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0)
    };
    let a: Vec<f64> = y.iter().map(|&t| noisy(&mut rng, t, 0.9)).collect();
    let b: Vec<f64> = y.iter().map(|&t| noisy(&mut rng, t, 0.8)).collect();
    let ra = RowOutputs::Binary {
        y: y.clone(),
        score: a.clone(),
    };
    let rb = RowOutputs::Binary {
        y: y.clone(),
        score: b.clone(),
    };
    let settings = BootstrapSettings {
        resamples: 1000,
        seed: 0,
        confidence: 0.95,
    };
    let progress = Progress::none();
    let (mut boot, mut stats) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        let scorers = [Scorer::new(&ra, 0.5), Scorer::new(&rb, 0.5)];
        let ci = paired_intervals(&scorers, n, &[(0, 1)], &settings, &progress.stage(0.0, 1.0))?;
        boot.push(t.elapsed().as_secs_f64());
        assert!(ci[0].0.contains_key("roc_auc"));
        let t = Instant::now();
        let d = delong(&y, &a, &b).ok_or_else(|| anyhow::anyhow!("delong undefined"))?;
        let r = pearson(&a, &b).zip(spearman(&a, &b));
        stats.push(t.elapsed().as_secs_f64());
        assert!(d.p_value.is_some() && r.is_some());
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("rows {n}, resamples 1000, 2 models, 11 metrics each, {threads} threads");
    println!("paired_bootstrap_s {:.4}", median(boot));
    println!("delong_and_correlations_s {:.4}", median(stats));
    Ok(())
}

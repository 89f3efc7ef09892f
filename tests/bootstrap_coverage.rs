//! The bootstrap's intervals are proven by simulation: many synthetic datasets from a known
//! distribution (true ROC AUC, accuracy and mean absolute error known analytically), a 95%
//! interval from each with few resamples, and the share of intervals that contain the true
//! value must be within a binomial tolerance of 0.95.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use assay::engine::metrics::bootstrap::{intervals, BootstrapSettings};
use assay::engine::metrics::order_desc;
use assay::engine::metrics::regression;
use assay::engine::metrics::sorted::SortedBinary;
use assay::engine::Progress;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const DATASETS: usize = 400;
const ROWS: usize = 200;

fn normal(rng: &mut Pcg64Mcg) -> f64 {
    // Box–Muller.
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// Standard normal CDF by Simpson's rule on the density (error far below 1e-9).
fn phi(x: f64) -> f64 {
    let (a, steps) = (-12.0, 20_000);
    let h = (x - a) / f64::from(steps);
    let f = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = f(a) + f(x);
    for i in 1..steps {
        let t = a + h * f64::from(i);
        s += if i % 2 == 1 { 4.0 } else { 2.0 } * f(t);
    }
    s * h / 3.0
}

/// Checks `hits` of `DATASETS` against 0.95 within three binomial standard deviations.
fn assert_coverage(name: &str, hits: usize) {
    let p = 0.95;
    let cov = hits as f64 / DATASETS as f64;
    let sd = (p * (1.0 - p) / DATASETS as f64).sqrt();
    assert!(
        (cov - p).abs() <= 3.0 * sd,
        "{name}: coverage {cov:.3} of {DATASETS} intervals, expected 0.95 ± {:.3}",
        3.0 * sd
    );
}

fn settings(seed: u64) -> BootstrapSettings {
    BootstrapSettings {
        resamples: 200,
        seed,
        confidence: 0.95,
    }
}

#[test]
fn binary_intervals_cover_the_true_auc_and_accuracy() {
    // Positives (share 0.4): x ~ N(1, 1); negatives x ~ N(0, 1); score = sigmoid(x), so the
    // 0.5 threshold is x ≥ 0. ROC AUC = Φ(1/√2); accuracy = 0.4·Φ(1) + 0.6·0.5.
    let (prevalence, shift) = (0.4, 1.0);
    let true_auc = phi(shift / 2f64.sqrt());
    let true_acc = prevalence * phi(shift) + (1.0 - prevalence) * 0.5;
    let mut rng = Pcg64Mcg::seed_from_u64(2024);
    let progress = Progress::none();
    let (mut auc_hits, mut acc_hits) = (0, 0);
    for d in 0..DATASETS {
        let y: Vec<bool> = (0..ROWS)
            .map(|_| rng.random::<f64>() < prevalence)
            .collect();
        let score: Vec<f64> = y
            .iter()
            .map(|&p| {
                let x = normal(&mut rng) + if p { shift } else { 0.0 };
                1.0 / (1.0 + (-x).exp())
            })
            .collect();
        let order = order_desc(&score);
        let sorted = SortedBinary::new(&y, &score, &order, 0.5).unwrap();
        let (ci, _) = intervals(
            ROWS,
            &settings(d as u64),
            &progress.stage(0.0, 1.0),
            |draw| sorted.metrics(draw),
        )
        .unwrap();
        let inside = |name: &str, truth: f64| {
            let [lo, hi] = ci[name];
            lo <= truth && truth <= hi
        };
        auc_hits += usize::from(inside("roc_auc", true_auc));
        acc_hits += usize::from(inside("accuracy", true_acc));
    }
    assert_coverage("roc_auc", auc_hits);
    assert_coverage("accuracy", acc_hits);
}

#[test]
fn regression_intervals_cover_the_true_mean_absolute_error() {
    // Errors ~ N(0, 1): the mean absolute error is √(2/π).
    let true_mae = (2.0 / std::f64::consts::PI).sqrt();
    let mut rng = Pcg64Mcg::seed_from_u64(7);
    let progress = Progress::none();
    let mut hits = 0;
    for d in 0..DATASETS {
        let y: Vec<f64> = (0..ROWS).map(|_| 10.0 * rng.random::<f64>()).collect();
        let pred: Vec<f64> = y.iter().map(|v| v + normal(&mut rng)).collect();
        let prepared = regression::Prepared::new(&y, &pred);
        let (ci, _) = intervals(
            ROWS,
            &settings(1000 + d as u64),
            &progress.stage(0.0, 1.0),
            |draw| prepared.metrics(Some(&draw.weights(ROWS))),
        )
        .unwrap();
        let [lo, hi] = ci["mae"];
        hits += usize::from(lo <= true_mae && true_mae <= hi);
    }
    assert_coverage("mae", hits);
}

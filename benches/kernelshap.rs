//! KernelSHAP benchmark (run by `benches/kernelshap_compare.sh` next to
//! `benches/kernelshap_baseline.py`, shap.KernelExplainer on the same ONNX model and rows):
//! the 24-feature MLP of tests/fixtures/explain/, rows 0..ROWS of bench_data24.csv explained
//! against rows 900..1000 (100 background rows), nsamples 2048 coalitions per row, all cores.
//! Also times the floor: one ONNX Runtime pass over the same number of model rows
//! (ROWS × 2048 × 100) through `predict`, which no KernelSHAP of a black box can avoid.
//!
//! `cargo bench --bench kernelshap -- [--rows 50] [--repeats 3]` prints
//! `median_seconds S` and `floor_seconds S`.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::data::extract::InputData;
use assay::engine::explain::{explain, ExplainOptions, Method};
use assay::engine::model::{predict, InferOptions, Model};
use assay::engine::{data, Progress};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut rows, mut repeats, mut run) = (50usize, 3usize, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rows" => rows = args.next().and_then(|r| r.parse().ok()).unwrap_or(50),
            "--repeats" => repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(3),
            "--run" => run = true,
            _ => {}
        }
    }
    if !run {
        // `cargo test --all-targets` runs benches once without arguments: nothing to measure.
        eprintln!("usage: cargo bench --bench kernelshap -- --run [--rows 50] [--repeats 3]");
        return Ok(());
    }
    let fix = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/explain");
    let model = Model::load(&fix.join("bench_mlp24.onnx"))?;
    let ds = data::load(&fix.join("bench_data24.csv"), &Progress::none())?;
    let bg = data::subset(&ds, &(900..1000).collect::<Vec<u32>>())?;
    let opts = ExplainOptions {
        method: Some(Method::Kernel),
        rows: 0..rows,
        nsamples: Some(2048),
        ..ExplainOptions::default()
    };
    let mut times = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        let e = explain(&model, None, &ds, &bg, &opts, &Progress::none())?;
        times.push(t.elapsed().as_secs_f64());
        let mean: f64 =
            e.values.iter().flatten().map(|v| v.abs()).sum::<f64>() / (rows * 24) as f64;
        println!(
            "run {:.3} s, mean |phi| {mean:.6}, additivity {:.1e}",
            times.last().unwrap(),
            e.additivity_max_abs_error
        );
    }
    // The floor: the same number of model rows through ONNX Runtime, nothing else.
    let n = rows * 2048 * 100;
    let values: Vec<f32> = (0..n * 24)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let input = InputData::MatrixF32 {
        input: "input".into(),
        width: 24,
        values,
    };
    let mut floor = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        predict(
            &model,
            &input,
            &InferOptions::default(),
            &Progress::none().stage(0.0, 1.0),
        )?;
        floor.push(t.elapsed().as_secs_f64());
    }
    println!("rows {rows}, features 24, background 100, nsamples 2048");
    println!("floor_seconds {}", median(floor));
    println!("median_seconds {}", median(times));
    Ok(())
}

//! End-to-end evaluation benchmark (run by `benches/compare.sh`, which runs the Python
//! reference pipeline on the same files and prints both side by side).
//!
//! For each data file: median over `--repeats` runs of
//! - `read_s`: dataset load (parse + hash),
//! - `floor_s`: the floor — one ONNX Runtime `Session::run` over all rows with all cores,
//!   on an already prepared float matrix (no reading, no metrics),
//! - `total_s`: `assay evaluate` end to end (read, check, infer, all metrics and curves,
//!   no bootstrap).
//!
//! - with `--bootstrap N`, `boot_s`: the same with N bootstrap resamples (confidence
//!   intervals on every metric), and `boot_ratio` = `boot_s / total_s` (issue 19's goal: 1,000
//!   resamples on 1M rows ≤ 2.5× the point estimate).
//!
//! Prints one JSON line per file. Usage:
//! `cargo bench --bench evaluate -- --model M --target T --repeats 5 [--bootstrap 1000] FILE…`
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic on setup failures

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::data::extract::{prepare, InputData, InvalidRows};
use assay::engine::evaluate::{evaluate_files, EvalOptions};
use assay::engine::model::{plan_inputs, Model};
use assay::engine::{data, Progress};
use ort::value::TensorRef;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (mut model, mut target, mut repeats, mut files) = (None, None, 5usize, Vec::new());
    let mut bootstrap = 0usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => model = args.next().map(PathBuf::from),
            "--target" => target = args.next(),
            "--repeats" => repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
            "--bootstrap" => bootstrap = args.next().and_then(|r| r.parse().ok()).unwrap_or(0),
            "--bench" => {}
            other => files.push(PathBuf::from(other)),
        }
    }
    let Some(model_path) = model else {
        // `cargo test --all-targets` runs benches once without arguments: nothing to measure.
        eprintln!(
            "usage: cargo bench --bench evaluate -- --model M --target T [--repeats N] FILE…"
        );
        return Ok(());
    };
    let target = target.ok_or_else(|| anyhow::anyhow!("--target is required"))?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let model = Model::load(&model_path)?;
    let plan = plan_inputs(&model.info, None)?;
    for file in files {
        let (mut read, mut floor, mut total) = (Vec::new(), Vec::new(), Vec::new());
        let mut boot = Vec::new();
        let mut rows = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            let ds = data::load(&file, &Progress::none())?;
            read.push(t.elapsed().as_secs_f64());
            rows = ds.rows();
            let prepared = prepare(&ds, &plan, None, InvalidRows::Error)?;
            drop(ds);
            if let InputData::MatrixF32 {
                input,
                width,
                values,
            } = &prepared.inputs
            {
                let mut session = model.session(threads)?;
                let t = Instant::now();
                let tensor = TensorRef::from_array_view((
                    [values.len() / width, *width],
                    values.as_slice(),
                ))?;
                let out = session.run(ort::inputs![input.as_str() => tensor])?;
                floor.push(t.elapsed().as_secs_f64());
                drop(out);
            }
            let mut opts = EvalOptions::new(target.clone());
            opts.bootstrap.resamples = 0;
            let t = Instant::now();
            let eval = evaluate_files(&model_path, &file, &opts, &Progress::none())?;
            total.push(t.elapsed().as_secs_f64());
            assert_eq!(eval.n, rows);
            if bootstrap > 0 {
                opts.bootstrap.resamples = bootstrap;
                let t = Instant::now();
                let eval = evaluate_files(&model_path, &file, &opts, &Progress::none())?;
                boot.push(t.elapsed().as_secs_f64());
                assert!(!eval.ci.is_empty());
            }
        }
        let boot_fields = if boot.is_empty() {
            String::new()
        } else {
            let b = median(boot);
            format!(
                ", \"bootstrap\": {bootstrap}, \"boot_s\": {b:.4}, \"boot_ratio\": {:.3}",
                b / median(total.clone())
            )
        };
        println!(
            "{{\"file\": \"{}\", \"rows\": {rows}, \"read_s\": {:.4}, \"floor_s\": {:.4}, \"total_s\": {:.4}{boot_fields}}}",
            file.display(),
            median(read),
            if floor.is_empty() { f64::NAN } else { median(floor) },
            median(total)
        );
    }
    Ok(())
}

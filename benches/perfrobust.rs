//! Perf and robustness benchmark on `adult_gbdt_v2.onnx` (GradientBoosting, 120 trees) and
//! `sample_data/adult_eval.csv` (5000 rows):
//! - single-row latency p50/p95 over 2000 calls (1 intra-op thread), as `assay perf` measures;
//! - throughput at batch 4096 with 1 thread (median of 5 repeats);
//! - the robustness perturbations (noise at 4 scales, all features and each, missing, mean,
//!   out of range) on 1000 sampled rows, median of 3 runs (no monotonic, no adversarial).
//!
//! `benches/perfrobust_baseline.py` does the same with onnxruntime's Python API and numpy;
//! `benches/perfrobust_compare.sh` runs both.
//!
//!     cargo bench --no-default-features --bench perfrobust

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::data::load;
use assay::engine::model::Model;
use assay::engine::perf::{measure, PerfOptions};
use assay::engine::robustness::{run, RobustnessOptions};
use assay::engine::Progress;

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches once without `--bench`: nothing to measure.
        eprintln!("usage: cargo bench --no-default-features --bench perfrobust");
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = Model::load(&root.join("sample_models/adult_gbdt_v2.onnx"))?;
    let ds = load(&root.join("sample_data/adult_eval.csv"), &Progress::none())?;

    let opts = PerfOptions {
        latency_calls: 2000,
        warmup_calls: 200,
        batch_sizes: vec![4096],
        thread_counts: vec![1],
        throughput_repeats: 5,
        rows_per_repeat: 4096 * 4,
        measure_memory: false,
        ..PerfOptions::default()
    };
    let rep = measure(&model, None, &ds, &opts, &Progress::none())?;
    println!(
        "assay perf adult_gbdt_v2: single-row p50 {:.4} ms, p95 {:.4} ms; batch 4096 x 1 thread {:.0} rows/s; load {:.2} ms",
        rep.p50_latency_ms, rep.p95_latency_ms, rep.throughput[0].rows_per_s.median, rep.load_time_ms
    );
    println!("latency_p50_ms {:.6}", rep.p50_latency_ms);
    println!(
        "throughput_rows_per_s {:.1}",
        rep.throughput[0].rows_per_s.median
    );

    let ropts = RobustnessOptions {
        rows: 1000,
        adversarial: None,
        ..RobustnessOptions::default()
    };
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = run(
            &model,
            None,
            &ds,
            "income_over_50k",
            &ropts,
            &Progress::none(),
        )?;
        times.push(t.elapsed().as_secs_f64());
        assert_eq!(r.sample_rows.len(), 1000);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "assay robustness perturbations, 1000 rows x 6 features (52k perturbed rows): median {:.3} s",
        times[1]
    );
    println!("robustness_seconds {:.6}", times[1]);
    Ok(())
}

//! `assay perf --model M --data D …`: load time, single-row latency, batch throughput and
//! peak memory of a model on this machine.

use std::path::PathBuf;

use super::output::{human_bytes, with_progress, write_json};
use super::JsonTarget;
use crate::engine::data;
use crate::engine::model::Model;
use crate::engine::perf::{measure, PerfOptions};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model.
    #[arg(long)]
    pub model: PathBuf,
    /// Rows to feed the model (.csv, .parquet, .arrow); cycled as needed.
    #[arg(long)]
    pub data: PathBuf,
    /// Columns feeding a single [N, F] model input, in order (default: the model's
    /// `features` metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Timed single-row calls.
    #[arg(long, default_value_t = 1000)]
    pub calls: usize,
    /// Untimed single-row calls first.
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
    /// Repeats of each load and throughput measurement.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Batch sizes for throughput.
    #[arg(long, value_delimiter = ',', default_value = "1,32,256,4096")]
    pub batch_sizes: Vec<usize>,
    /// Intra-op thread counts for throughput (default: 1 and all cores).
    #[arg(long, value_delimiter = ',')]
    pub threads: Option<Vec<usize>>,
    /// Rows each throughput repeat runs at least.
    #[arg(long, default_value_t = 8192)]
    pub rows_per_repeat: usize,
    /// Skip the peak-memory measurement.
    #[arg(long)]
    pub no_memory: bool,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

pub fn run(args: Args) -> Result<()> {
    let opts = PerfOptions {
        load_repeats: args.repeats,
        warmup_calls: args.warmup,
        latency_calls: args.calls,
        batch_sizes: args.batch_sizes.clone(),
        thread_counts: args.threads.clone().unwrap_or_default(),
        throughput_repeats: args.repeats,
        rows_per_repeat: args.rows_per_repeat,
        measure_memory: !args.no_memory,
        ..PerfOptions::default()
    };
    let report = with_progress(|p| {
        p.set(0.0, "loading model");
        let model = Model::load(&args.model)?;
        let ds = data::load(&args.data, p)?;
        measure(&model, args.features.as_deref(), &ds, &opts, p)
    })?;
    if let Some(target) = &args.json {
        return write_json(&report, target);
    }
    let env = &report.environment;
    println!(
        "{} {} on {} ({} rows), {} cores, ONNX Runtime {}",
        report.model.name.as_deref().unwrap_or("model"),
        report.model.version.as_deref().unwrap_or(""),
        report.data.path.display(),
        report.data.rows - report.data.rows_dropped,
        env.cores,
        env.ort_version.as_deref().unwrap_or("?")
    );
    println!(
        "measured on a dedicated thread ({}), after warm-up",
        env.thread
    );
    println!();
    let l = &report.load.ms;
    println!(
        "load (session creation)  median {:.3} ms  [min {:.3}, max {:.3}, IQR {:.3}] over {}",
        l.median, l.min, l.max, l.iqr, l.n
    );
    let t = &report.latency;
    println!(
        "single-row latency       p50 {:.4} ms  p95 {:.4} ms  p99 {:.4} ms  mean {:.4} ms  max {:.4} ms  ({} calls, {} thread)",
        t.p50_ms, t.p95_ms, t.p99_ms, t.mean_ms, t.max_ms, t.calls, t.threads
    );
    println!();
    println!(
        "{:>6} {:>8} {:>14} {:>14} {:>14} {:>12} {:>12}",
        "batch", "threads", "rows/s median", "min", "max", "IQR", "call ms"
    );
    for tp in &report.throughput {
        let r = &tp.rows_per_s;
        println!(
            "{:>6} {:>8} {:>14.0} {:>14.0} {:>14.0} {:>12.0} {:>12.4}",
            tp.batch_size, tp.threads, r.median, r.min, r.max, r.iqr, tp.call_ms.median
        );
    }
    println!();
    match &report.memory {
        Some(m) => println!(
            "peak memory              +{} over {} resident ({} rows, {} threads{}); process-wide",
            human_bytes(m.peak_increase_bytes),
            human_bytes(m.baseline_rss_bytes),
            m.batch_rows,
            m.threads,
            if m.peak_reset {
                ""
            } else {
                ", peak not reset: upper bound"
            }
        ),
        None => println!("peak memory              not measured on this system"),
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

//! `assay perf --model M --data D …`: load time, single-row latency, batch throughput and
//! peak memory of a model on this machine.

use super::args::{
    count, JsonArg, ModelDataArgs, MAX_BATCH, MAX_CALLS, MAX_REPEATS, MAX_ROWS_PER_REPEAT,
    MAX_THREADS,
};
use super::output::{human_bytes, write_json};
use crate::engine::perf::{measure, PerfOptions};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: ModelDataArgs,
    /// Timed single-row calls (1 to 1000000).
    #[arg(long, default_value_t = 1000, value_parser = count(1, MAX_CALLS))]
    pub calls: usize,
    /// Untimed single-row calls first (at most 1000000).
    #[arg(long, default_value_t = 100, value_parser = count(0, MAX_CALLS))]
    pub warmup: usize,
    /// Repeats of each load and throughput measurement (1 to 1000).
    #[arg(long, default_value_t = 5, value_parser = count(1, MAX_REPEATS))]
    pub repeats: usize,
    /// Batch sizes for throughput (each 1 to 1000000).
    #[arg(long, value_delimiter = ',', default_value = "1,32,256,4096", value_parser = count(1, MAX_BATCH))]
    pub batch_sizes: Vec<usize>,
    /// Intra-op thread counts for throughput, each 1 to 1024 (default: 1 and all cores).
    #[arg(long, value_delimiter = ',', value_parser = count(1, MAX_THREADS))]
    pub threads: Option<Vec<usize>>,
    /// Rows each throughput repeat runs at least (1 to 100000000).
    #[arg(long, default_value_t = 8192, value_parser = count(1, MAX_ROWS_PER_REPEAT))]
    pub rows_per_repeat: usize,
    /// Skip the peak-memory measurement.
    #[arg(long)]
    pub no_memory: bool,
    #[command(flatten)]
    pub json: JsonArg,
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
    let report = args
        .input
        .load_and(|model, ds, p| measure(model, args.input.features(), ds, &opts, p))?;
    if let Some(target) = &args.json.json {
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

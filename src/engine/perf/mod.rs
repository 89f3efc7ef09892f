//! Performance of a model on this machine: session creation (load) time, single-row latency
//! percentiles, batch throughput at several batch sizes and thread counts, and the peak
//! resident memory of inference (`assay perf`'s JSON contract is [`PerfReport`]).
//!
//! Isolation: everything runs on one dedicated thread (`assay-perf`) while the caller waits;
//! each measurement is preceded by warm-up calls and repeated, and every figure carries its
//! spread. Timings are wall-clock (`Instant`) around `Session::run` including building the
//! input tensors (as a caller would). The memory figure is process-wide (see [`memory`]).

pub mod feed;
pub mod memory;
pub mod stats;

use crate::engine::Warning;
use std::time::Instant;

use serde::Serialize;

use self::stats::{percentile_sorted, Histogram, Spread};
use super::data::extract::{prepare, InputData, InvalidRows};
use super::data::Dataset;
use super::error::{EngineError, Result};
use super::evaluate::{DataRef, ModelRef};
use super::model::{plan_inputs, Model};
use super::progress::Progress;

#[derive(Debug, Clone, serde::Serialize)]
pub struct PerfOptions {
    /// Session creations timed (after one untimed warm-up creation).
    pub load_repeats: usize,
    /// Untimed single-row calls before the latency measurement.
    pub warmup_calls: usize,
    /// Timed single-row calls; rows are cycled from the dataset.
    pub latency_calls: usize,
    pub batch_sizes: Vec<usize>,
    /// Intra-op thread counts for throughput; empty means `[1, all cores]`.
    pub thread_counts: Vec<usize>,
    /// Timed repeats per (batch size, threads) configuration.
    pub throughput_repeats: usize,
    /// Rows each throughput repeat runs at least (`⌈rows / batch⌉` calls, at least one).
    pub rows_per_repeat: usize,
    /// Measure peak resident memory (Linux only; `None` in the report elsewhere).
    pub measure_memory: bool,
    /// Rows in the batch whose inference memory is measured (default: largest batch size).
    pub memory_batch: Option<usize>,
    pub invalid_rows: InvalidRows,
}

impl Default for PerfOptions {
    fn default() -> Self {
        Self {
            load_repeats: 5,
            warmup_calls: 100,
            latency_calls: 1000,
            batch_sizes: vec![1, 32, 256, 4096],
            thread_counts: Vec::new(),
            throughput_repeats: 5,
            rows_per_repeat: 8192,
            measure_memory: true,
            memory_batch: None,
            invalid_rows: InvalidRows::Drop,
        }
    }
}

impl PerfOptions {
    /// A fast configuration for tests and smoke runs (same structure, fewer calls).
    pub fn quick() -> Self {
        Self {
            load_repeats: 2,
            warmup_calls: 5,
            latency_calls: 50,
            batch_sizes: vec![1, 32, 256],
            thread_counts: Vec::new(),
            throughput_repeats: 3,
            rows_per_repeat: 256,
            measure_memory: true,
            memory_batch: None,
            invalid_rows: InvalidRows::Drop,
        }
    }
}

/// Where the numbers were measured.
#[derive(Debug, Clone, Serialize)]
pub struct PerfEnvironment {
    /// Logical cores available to this process.
    pub cores: usize,
    pub os: String,
    pub arch: String,
    /// ONNX Runtime version from its build info (`rel-1.31.1`) or its library file name
    /// (`libonnxruntime.so.1.31.1`), when either states one.
    pub ort_version: Option<String>,
    pub ort_library: Option<std::path::PathBuf>,
    pub ort_build_info: String,
    pub assay_version: String,
    /// The dedicated thread every measurement ran on.
    pub thread: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadTime {
    /// Session creation from the model bytes in memory (graph parsing, optimisation,
    /// kernel setup), one intra-op thread; not the file read.
    pub repeats: usize,
    pub ms: Spread,
    pub samples_ms: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub calls: usize,
    pub warmup_calls: usize,
    /// Intra-op threads of the session used (1: single-row calls gain nothing from more).
    pub threads: usize,
    /// Distinct dataset rows cycled through.
    pub distinct_rows: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub std_ms: f64,
    /// Per-call latencies binned for a histogram.
    pub histogram_ms: Histogram,
}

#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    pub batch_size: usize,
    /// Intra-op threads of the one session used.
    pub threads: usize,
    pub repeats: usize,
    pub calls_per_repeat: usize,
    /// Rows per second, one value per repeat, summarised.
    pub rows_per_s: Spread,
    pub samples_rows_per_s: Vec<f64>,
    /// Wall time of one call of this batch size (all calls of all repeats).
    pub call_ms: Spread,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryUse {
    /// Resident set size before the measured work.
    pub baseline_rss_bytes: u64,
    /// Peak resident set size during it (`VmHWM`).
    pub peak_rss_bytes: u64,
    /// `peak − baseline`: what creating a session and running one batch added at most.
    pub peak_increase_bytes: u64,
    /// Resident size still added after the batch, with the session alive.
    pub retained_with_session_bytes: i64,
    /// Rows in the measured batch.
    pub batch_rows: usize,
    pub threads: usize,
    /// True when the peak was reset right before the work; false: the peak is the process's
    /// lifetime peak and `peak_increase_bytes` is only an upper bound.
    pub peak_reset: bool,
    pub note: String,
}

/// Everything `assay perf` reports. Gate-friendly headline numbers are at the top level.
#[derive(Debug, Clone, Serialize)]
pub struct PerfReport {
    pub model: ModelRef,
    pub data: DataRef,
    pub features: Vec<String>,
    pub environment: PerfEnvironment,
    /// Headline: single-row latency percentiles (ms) and the best median throughput.
    pub p50_latency_ms: f64,
    pub p95_latency_ms: f64,
    pub p99_latency_ms: f64,
    pub load_time_ms: f64,
    pub max_throughput_rows_per_s: f64,
    pub peak_memory_increase_bytes: Option<u64>,
    pub load: LoadTime,
    pub latency: Latency,
    pub throughput: Vec<Throughput>,
    /// `None` on systems without `/proc/self/status` or when turned off.
    pub memory: Option<MemoryUse>,
    pub warnings: Vec<crate::engine::Warning>,
}

fn check_options(opts: &PerfOptions) -> Result<()> {
    if opts.latency_calls == 0 {
        return Err(EngineError::usage("--calls must be at least 1"));
    }
    if opts.load_repeats == 0 || opts.throughput_repeats == 0 {
        return Err(EngineError::usage("repeats must be at least 1"));
    }
    if opts.batch_sizes.is_empty() || opts.batch_sizes.contains(&0) {
        return Err(EngineError::usage(
            "batch sizes must be a non-empty list of positive numbers",
        ));
    }
    if opts.thread_counts.contains(&0) {
        return Err(EngineError::usage("thread counts must be positive"));
    }
    Ok(())
}

/// Measures `model` on rows of `ds`, on a dedicated thread. Cancellable between calls.
pub fn measure(
    model: &Model,
    features: Option<&[String]>,
    ds: &Dataset,
    opts: &PerfOptions,
    progress: &Progress,
) -> Result<PerfReport> {
    check_options(opts)?;
    let plan = plan_inputs(&model.info, features)?;
    progress.set(0.0, "checking data");
    let prepared = prepare(ds, &plan, None, opts.invalid_rows)?;
    let mut warnings = Vec::new();
    if prepared.dropped > 0 {
        warnings.push(Warning::rows_left_out(format!(
            "dropped {} of {} rows with missing or non-finite values (e.g. {})",
            prepared.dropped,
            ds.rows(),
            prepared.drop_examples.join("; ")
        )));
    }
    // Fail fast, on this thread, when the runtime or the model cannot load.
    model.validate()?;
    let inputs = &prepared.inputs;
    let report = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("assay-perf".into())
            .spawn_scoped(s, || measure_on_thread(model, inputs, opts, progress))
            .map_err(|e| EngineError::internal(format!("cannot start the perf thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("the perf thread panicked")))
    })?;
    let data = DataRef::of(ds, prepared.dropped);
    let (load, latency, throughput, memory) = report;
    let max_tp = throughput
        .iter()
        .map(|t| t.rows_per_s.median)
        .fold(0.0, f64::max);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let build = ort::info().to_string();
    let library = super::runtime::ensure_loaded().ok();
    warnings.extend(throughput.iter().filter(|t| t.threads > cores).map(|t| {
        Warning::option(format!(
            "{} threads requested but only {cores} cores are available",
            t.threads
        ))
    }));
    progress.set(1.0, "done");
    Ok(PerfReport {
        model: ModelRef::of(model),
        data,
        features: plan.columns(),
        environment: PerfEnvironment {
            cores,
            os: std::env::consts::OS.into(),
            arch: std::env::consts::ARCH.into(),
            ort_version: ort_version(&build).or_else(|| {
                library
                    .as_ref()
                    .and_then(|p| p.file_name())
                    .and_then(|n| version_in_file_name(&n.to_string_lossy()))
            }),
            ort_library: library,
            ort_build_info: build,
            assay_version: env!("CARGO_PKG_VERSION").into(),
            thread: "assay-perf".into(),
        },
        p50_latency_ms: latency.p50_ms,
        p95_latency_ms: latency.p95_ms,
        p99_latency_ms: latency.p99_ms,
        load_time_ms: load.ms.median,
        max_throughput_rows_per_s: max_tp,
        peak_memory_increase_bytes: memory.as_ref().map(|m| m.peak_increase_bytes),
        load,
        latency,
        throughput,
        memory,
        warnings,
    })
}

/// `git-branch=rel-1.31.1` → `1.31.1`.
fn ort_version(build: &str) -> Option<String> {
    let rest = build.split("rel-").nth(1)?;
    let v: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!v.is_empty()).then_some(v)
}

/// `libonnxruntime.so.1.31.1` / `libonnxruntime.1.31.1.dylib` → `1.31.1`.
fn version_in_file_name(name: &str) -> Option<String> {
    let parts: Vec<&str> = name
        .split('.')
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    (parts.len() >= 2).then(|| parts.join("."))
}

type Measured = (LoadTime, Latency, Vec<Throughput>, Option<MemoryUse>);

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

fn measure_on_thread(
    model: &Model,
    inputs: &InputData,
    opts: &PerfOptions,
    progress: &Progress,
) -> Result<Measured> {
    let path = model.path();
    let n = inputs.rows();
    if n == 0 {
        return Err(EngineError::usage("no rows to run the model on"));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads: Vec<usize> = if opts.thread_counts.is_empty() {
        vec![1, cores]
    } else {
        opts.thread_counts.clone()
    };
    threads.dedup();
    let configs = threads.len() * opts.batch_sizes.len();
    let total_units = (1 + 1 + configs + 1) as f32;
    let mut unit = 0f32;
    let mut step = |msg: &str| {
        progress.set(unit / total_units, msg);
        unit += 1.0;
    };

    // Memory first, on a fresh session, so nothing measured later is in the baseline.
    step("measuring memory");
    let largest = opts.batch_sizes.iter().copied().max().unwrap_or(1);
    let memory = if opts.measure_memory {
        let rows = opts.memory_batch.unwrap_or(largest).max(1);
        measure_memory(model, inputs, rows, cores, path)?
    } else {
        None
    };
    progress.check()?;

    step("timing model load");
    drop(model.session(1)?);
    let mut load_samples = Vec::with_capacity(opts.load_repeats);
    for _ in 0..opts.load_repeats {
        progress.check()?;
        let t = Instant::now();
        let s = model.session(1)?;
        load_samples.push(ms(t));
        drop(s);
    }

    step("timing single-row latency");
    let mut session = model.session(1)?;
    let distinct = n.min(opts.latency_calls.max(opts.warmup_calls)).max(1);
    let singles: Vec<InputData> = (0..distinct).map(|i| inputs.take_rows(&[i])).collect();
    for i in 0..opts.warmup_calls {
        progress.check()?;
        feed::run(&mut session, &singles[i % distinct], path)?;
    }
    let mut lat = Vec::with_capacity(opts.latency_calls);
    for i in 0..opts.latency_calls {
        progress.check()?;
        let t = Instant::now();
        feed::run(&mut session, &singles[i % distinct], path)?;
        lat.push(ms(t));
    }
    drop(session);
    let latency = latency_of(&lat, opts, distinct.min(opts.latency_calls));

    let mut throughput = Vec::new();
    for &t in &threads {
        let mut session = model.session(t)?;
        for &b in &opts.batch_sizes {
            step(&format!("throughput: batch {b}, {t} thread(s)"));
            let calls = opts.rows_per_repeat.div_ceil(b).max(1);
            // Up to 16 different batches, cycled, so calls do not all see the same rows.
            let distinct_batches = calls.min(n.div_ceil(b)).clamp(1, 16);
            let batches: Vec<InputData> = (0..distinct_batches)
                .map(|k| inputs.take_rows(&feed::cycled(k * b, b, n)))
                .collect();
            for batch in batches.iter().take(2) {
                feed::run(&mut session, batch, path)?;
            }
            let mut samples = Vec::with_capacity(opts.throughput_repeats);
            let mut call_ms = Vec::with_capacity(opts.throughput_repeats * calls);
            for _ in 0..opts.throughput_repeats {
                let start = Instant::now();
                for c in 0..calls {
                    progress.check()?;
                    let t0 = Instant::now();
                    feed::run(&mut session, &batches[c % distinct_batches], path)?;
                    call_ms.push(ms(t0));
                }
                let secs = start.elapsed().as_secs_f64().max(1e-12);
                samples.push((b * calls) as f64 / secs);
            }
            throughput.push(Throughput {
                batch_size: b,
                threads: t,
                repeats: opts.throughput_repeats,
                calls_per_repeat: calls,
                rows_per_s: Spread::of(&samples),
                samples_rows_per_s: samples,
                call_ms: Spread::of(&call_ms),
            });
        }
    }
    let load = LoadTime {
        repeats: opts.load_repeats,
        ms: Spread::of(&load_samples),
        samples_ms: load_samples,
    };
    Ok((load, latency, throughput, memory))
}

fn latency_of(samples: &[f64], opts: &PerfOptions, distinct: usize) -> Latency {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len().max(1) as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    Latency {
        calls: samples.len(),
        warmup_calls: opts.warmup_calls,
        threads: 1,
        distinct_rows: distinct,
        p50_ms: percentile_sorted(&v, 50.0),
        p95_ms: percentile_sorted(&v, 95.0),
        p99_ms: percentile_sorted(&v, 99.0),
        mean_ms: mean,
        min_ms: v.first().copied().unwrap_or(f64::NAN),
        max_ms: v.last().copied().unwrap_or(f64::NAN),
        std_ms: var.sqrt(),
        histogram_ms: Histogram::of(&v, 30),
    }
}

const MEMORY_NOTE: &str = "process-wide resident memory from /proc/self/status: the peak (VmHWM) is reset via /proc/self/clear_refs, then a new session is created and one batch is run on the dedicated perf thread while no other measurement runs; allocations by other threads of the process in that window count too";

fn measure_memory(
    model: &Model,
    inputs: &InputData,
    rows: usize,
    threads: usize,
    path: &std::path::Path,
) -> Result<Option<MemoryUse>> {
    let n = inputs.rows();
    let batch = inputs.take_rows(&feed::cycled(0, rows, n));
    let Some(before) = memory::read() else {
        return Ok(None);
    };
    let peak_reset = memory::reset_peak();
    let before = memory::read().unwrap_or(before);
    let mut session = model.session(threads)?;
    feed::run(&mut session, &batch, path)?;
    let Some(after) = memory::read() else {
        return Ok(None);
    };
    drop(session);
    // The kernel's RSS counters are per-CPU approximations: with other threads freeing memory
    // in the window, VmHWM can read a little below the VmRSS read before it. The peak of the
    // window is at least where it started.
    let peak = after.peak.max(before.current);
    Ok(Some(MemoryUse {
        baseline_rss_bytes: before.current,
        peak_rss_bytes: peak,
        peak_increase_bytes: peak - before.current,
        retained_with_session_bytes: after.current as i64 - before.current as i64,
        batch_rows: rows,
        threads,
        peak_reset,
        note: MEMORY_NOTE.into(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ort_version_from_build_info() {
        assert_eq!(
            super::ort_version("ORT Build Info: git-branch=rel-1.31.1, git-commit-id=x"),
            Some("1.31.1".into())
        );
        assert_eq!(super::ort_version("no branch"), None);
        assert_eq!(
            super::version_in_file_name("libonnxruntime.so.1.31.1"),
            Some("1.31.1".into())
        );
        assert_eq!(
            super::version_in_file_name("libonnxruntime.1.31.1.dylib"),
            Some("1.31.1".into())
        );
        assert_eq!(super::version_in_file_name("libonnxruntime.so"), None);
    }
}

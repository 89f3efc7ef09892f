//! Perf engine on the sample models: structure and sanity of every figure (never timings):
//! ordered percentiles, positive throughput for every (batch, threads) configuration, spread
//! consistent with its samples, memory on Linux, cancellation and bad input.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use assay::engine::data::load;
use assay::engine::model::Model;
use assay::engine::perf::stats::Spread;
use assay::engine::perf::{measure, PerfOptions, PerfReport};
use assay::engine::{ErrorKind, Progress};

mod support;
use support::root;

fn measure_files(model: &str, data: &str, opts: &PerfOptions) -> assay::engine::Result<PerfReport> {
    let model = Model::load(&root().join(model))?;
    let ds = load(&root().join(data), &Progress::none())?;
    measure(&model, None, &ds, opts, &Progress::none())
}

fn check_spread(s: &Spread, samples: &[f64]) {
    assert_eq!(s.n, samples.len());
    assert!(
        s.min <= s.q1 && s.q1 <= s.median && s.median <= s.q3 && s.q3 <= s.max,
        "{s:?}"
    );
    assert!((s.iqr - (s.q3 - s.q1)).abs() < 1e-12);
    let lo = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!((s.min, s.max), (lo, hi));
}

fn check_report(rep: &PerfReport, opts: &PerfOptions) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(rep.environment.cores, cores);
    assert_eq!(rep.environment.ort_version.as_deref(), Some("1.31.1"));
    assert_eq!(rep.environment.thread, "assay-perf");

    assert_eq!(rep.load.samples_ms.len(), opts.load_repeats);
    check_spread(&rep.load.ms, &rep.load.samples_ms);
    assert!(rep.load.ms.min > 0.0);
    assert_eq!(rep.load_time_ms, rep.load.ms.median);

    let l = &rep.latency;
    assert_eq!(l.calls, opts.latency_calls);
    assert!(l.min_ms > 0.0);
    assert!(
        l.min_ms <= l.p50_ms
            && l.p50_ms <= l.p95_ms
            && l.p95_ms <= l.p99_ms
            && l.p99_ms <= l.max_ms
    );
    assert!(l.min_ms <= l.mean_ms && l.mean_ms <= l.max_ms);
    assert_eq!(l.histogram_ms.counts.iter().sum::<u64>() as usize, l.calls);
    assert_eq!(l.histogram_ms.edges.len(), l.histogram_ms.counts.len() + 1);
    assert_eq!(
        (rep.p50_latency_ms, rep.p95_latency_ms, rep.p99_latency_ms),
        (l.p50_ms, l.p95_ms, l.p99_ms)
    );

    let mut threads = vec![1, cores];
    threads.dedup();
    assert_eq!(rep.throughput.len(), threads.len() * opts.batch_sizes.len());
    for (i, t) in rep.throughput.iter().enumerate() {
        assert_eq!(t.threads, threads[i / opts.batch_sizes.len()]);
        assert_eq!(t.batch_size, opts.batch_sizes[i % opts.batch_sizes.len()]);
        assert_eq!(
            t.calls_per_repeat,
            opts.rows_per_repeat.div_ceil(t.batch_size).max(1)
        );
        assert_eq!(t.samples_rows_per_s.len(), opts.throughput_repeats);
        assert!(t
            .samples_rows_per_s
            .iter()
            .all(|&v| v > 0.0 && v.is_finite()));
        check_spread(&t.rows_per_s, &t.samples_rows_per_s);
        assert_eq!(t.call_ms.n, opts.throughput_repeats * t.calls_per_repeat);
    }
    let best = rep
        .throughput
        .iter()
        .map(|t| t.rows_per_s.median)
        .fold(0.0, f64::max);
    assert_eq!(rep.max_throughput_rows_per_s, best);

    if cfg!(target_os = "linux") {
        let m = rep.memory.as_ref().expect("memory on Linux");
        assert!(m.peak_rss_bytes >= m.baseline_rss_bytes);
        assert_eq!(
            m.peak_increase_bytes,
            m.peak_rss_bytes - m.baseline_rss_bytes
        );
        assert_eq!(rep.peak_memory_increase_bytes, Some(m.peak_increase_bytes));
        assert!(m.note.contains("process-wide"));
        assert_eq!(m.batch_rows, *opts.batch_sizes.iter().max().expect("sizes"));
    }
    let json = serde_json::to_value(rep).expect("json");
    for key in [
        "p95_latency_ms",
        "max_throughput_rows_per_s",
        "load",
        "latency",
        "throughput",
        "environment",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}

#[test]
fn matrix_model_structure_and_sanity() {
    let opts = PerfOptions::quick();
    let rep = measure_files(
        "sample_models/adult_gbdt_v1.onnx",
        "sample_data/adult_eval.csv",
        &opts,
    )
    .expect("perf runs");
    check_report(&rep, &opts);
    assert_eq!(rep.features.len(), 6);
}

#[test]
fn per_column_text_model_structure_and_sanity() {
    let opts = PerfOptions {
        batch_sizes: vec![1, 64],
        thread_counts: vec![1],
        ..PerfOptions::quick()
    };
    let rep = measure_files(
        "sample_models/adult_pipeline_raw.onnx",
        "sample_data/adult_eval.csv",
        &opts,
    )
    .expect("perf runs");
    assert_eq!(rep.throughput.len(), 2);
    assert!(rep.throughput.iter().all(|t| t.threads == 1));
    assert!(rep.throughput.iter().all(|t| t.rows_per_s.median > 0.0));
}

#[test]
fn regression_model_and_memory_off() {
    let opts = PerfOptions {
        measure_memory: false,
        ..PerfOptions::quick()
    };
    let rep = measure_files(
        "sample_models/abalone_rf.onnx",
        "sample_data/abalone_eval.csv",
        &opts,
    )
    .expect("perf runs");
    assert!(rep.memory.is_none());
    assert!(rep.peak_memory_increase_bytes.is_none());
    assert!(rep.p50_latency_ms <= rep.p99_latency_ms);
}

#[test]
fn batches_larger_than_the_data_cycle_rows() {
    // 3 data rows, batch 100: rows are cycled to fill the batch.
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("three.csv");
    std::fs::write(
        &csv,
        "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male\n30,9,0,0,40,1\n50,13,0,0,50,0\n22,10,0,0,20,1\n",
    )
    .expect("write");
    let model = Model::load(&root().join("sample_models/adult_logreg.onnx")).expect("model");
    let ds = load(&csv, &Progress::none()).expect("data");
    let opts = PerfOptions {
        batch_sizes: vec![100],
        thread_counts: vec![1],
        ..PerfOptions::quick()
    };
    let rep = measure(&model, None, &ds, &opts, &Progress::none()).expect("perf");
    assert_eq!(rep.latency.distinct_rows, 3);
    assert_eq!(rep.throughput[0].batch_size, 100);
    assert_eq!(
        rep.memory.as_ref().map(|m| m.batch_rows),
        Some(100).filter(|_| cfg!(target_os = "linux"))
    );
}

#[test]
fn bad_options_and_data_are_clear_errors() {
    let model = "sample_models/adult_logreg.onnx";
    let data = "sample_data/adult_eval.csv";
    for (opts, needle) in [
        (
            PerfOptions {
                latency_calls: 0,
                ..PerfOptions::quick()
            },
            "--calls",
        ),
        (
            PerfOptions {
                batch_sizes: vec![],
                ..PerfOptions::quick()
            },
            "batch sizes",
        ),
        (
            PerfOptions {
                batch_sizes: vec![0],
                ..PerfOptions::quick()
            },
            "batch sizes",
        ),
        (
            PerfOptions {
                thread_counts: vec![0],
                ..PerfOptions::quick()
            },
            "thread",
        ),
        (
            PerfOptions {
                load_repeats: 0,
                ..PerfOptions::quick()
            },
            "repeats",
        ),
    ] {
        let err = measure_files(model, data, &opts).expect_err(needle);
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
    let err = measure_files(model, "sample_data/abalone_eval.csv", &PerfOptions::quick())
        .expect_err("missing columns");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("missing column"), "{err}");
    let err = Model::load(&root().join("tests/fixtures/bad/garbage.onnx")).expect_err("garbage");
    assert_eq!(err.kind(), ErrorKind::BadInput);
}

#[test]
fn cancellation_stops_the_measurement() {
    let model = Model::load(&root().join("sample_models/adult_logreg.onnx")).expect("model");
    let ds = load(
        &root().join("sample_data/adult_eval.csv"),
        &Progress::none(),
    )
    .expect("data");
    let p = Progress::none();
    p.cancel();
    let err = measure(&model, None, &ds, &PerfOptions::quick(), &p).expect_err("cancelled");
    assert_eq!(err.kind(), ErrorKind::Cancelled);
}

#[test]
fn percentiles_match_numpy() {
    use assay::engine::perf::stats::{percentile_sorted, Histogram};
    // numpy.percentile([1, 2, 3, 4, 10], [25, 50, 75, 95, 99]) = [2, 3, 4, 8.8, 9.76]
    let v = [1.0, 2.0, 3.0, 4.0, 10.0];
    for (q, want) in [
        (25.0, 2.0),
        (50.0, 3.0),
        (75.0, 4.0),
        (95.0, 8.8),
        (99.0, 9.76),
    ] {
        let got = percentile_sorted(&v, q);
        assert!((got - want).abs() <= 1e-12 * want, "q{q}: {got} vs {want}");
    }
    let s = Spread::of(&[3.0, 1.0, 2.0, 10.0]);
    // numpy: median 2.5, q1 1.75, q3 4.75
    assert_eq!(
        (s.median, s.q1, s.q3, s.min, s.max),
        (2.5, 1.75, 4.75, 1.0, 10.0)
    );
    assert_eq!(s.mean, 4.0);
    let h = Histogram::of(&[0.0, 0.5, 1.0, f64::NAN], 2);
    assert_eq!(h.counts, vec![1, 2]);
    assert_eq!(h.edges, vec![0.0, 0.5, 1.0]);
}

//! Speed and robustness results as promotion-gate facts, so one gate can say "AUC no worse
//! and p95 latency ≤ 2 ms": `{role}.p95_latency_ms`, `{role}.max_noise_flip_rate`, …
//! with `role` = `baseline` or `candidate`.

use std::collections::BTreeMap;

use crate::engine::perf::PerfReport;
use crate::engine::robustness::RobustnessReport;

/// Adds `role`'s speed facts to `facts` (latency and load time in ms, throughput in rows/s,
/// memory in MB).
pub fn add_perf_facts(facts: &mut BTreeMap<String, f64>, role: &str, perf: &PerfReport) {
    let mut put = |k: &str, v: f64| {
        if v.is_finite() {
            facts.insert(format!("{role}.{k}"), v);
        }
    };
    put("p50_latency_ms", perf.p50_latency_ms);
    put("p95_latency_ms", perf.p95_latency_ms);
    put("p99_latency_ms", perf.p99_latency_ms);
    put("load_time_ms", perf.load_time_ms);
    put("max_throughput_rows_per_s", perf.max_throughput_rows_per_s);
    if let Some(b) = perf.peak_memory_increase_bytes {
        put("peak_memory_increase_mb", b as f64 / 1_048_576.0);
    }
}

/// Adds `role`'s robustness facts: the largest flip rate under Gaussian noise, the share of
/// rows the adversarial search flipped, and the largest monotonic violation rate.
pub fn add_robustness_facts(facts: &mut BTreeMap<String, f64>, role: &str, r: &RobustnessReport) {
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            facts.insert(format!("{role}.{k}"), v);
        }
    };
    put("max_noise_flip_rate", r.max_noise_flip_rate);
    put(
        "adversarial_flip_rate",
        r.adversarial.as_ref().map(|a| a.flip_rate),
    );
    put(
        "max_monotonic_violation_rate",
        r.monotonic
            .iter()
            .map(|m| m.violation_rate)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            }),
    );
}

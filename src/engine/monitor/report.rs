//! The monitoring report; its JSON form is `assay monitor --json`'s contract. Undefined
//! numbers are `null` with a `reason`, never NaN.

use crate::engine::Warning;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::chunk_drift::{ChunkDrift, DriftSummary};
use super::{Chunking, ThresholdSpec};

/// NannyML's `SAMPLING_ERROR_RANGE`: confidence bounds are ± 3 sampling errors.
pub const SAMPLING_ERROR_RANGE: f64 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    BinaryClassification,
    MulticlassClassification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkPeriod {
    Reference,
    Analysis,
}

/// One metric of one chunk (estimated or realized).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MetricResult {
    pub value: Option<f64>,
    pub sampling_error: Option<f64>,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
    /// The value is below the lower or above the upper threshold.
    pub alert: bool,
    /// value ± 3 sampling errors, clipped to the metric's range.
    pub lower_confidence_bound: Option<f64>,
    pub upper_confidence_bound: Option<f64>,
    /// Why `value` is null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MetricResult {
    pub fn new(
        value: Result<f64, String>,
        sampling_error: Option<f64>,
        lower_threshold: Option<f64>,
        upper_threshold: Option<f64>,
        lower_limit: Option<f64>,
        upper_limit: Option<f64>,
    ) -> MetricResult {
        let (value, reason) = match value {
            Ok(v) if v.is_finite() => (Some(v), None),
            Ok(_) => (None, Some("undefined".to_string())),
            Err(r) => (None, Some(r)),
        };
        let alert = value.is_some_and(|v| {
            lower_threshold.is_some_and(|l| v < l) || upper_threshold.is_some_and(|u| v > u)
        });
        let bound = |sign: f64| -> Option<f64> {
            let (v, se) = (value?, sampling_error?);
            let b = v + sign * SAMPLING_ERROR_RANGE * se;
            Some(if sign > 0.0 {
                upper_limit.map_or(b, |u| b.min(u))
            } else {
                lower_limit.map_or(b, |l| b.max(l))
            })
        };
        MetricResult {
            value,
            sampling_error: sampling_error.filter(|s| s.is_finite()),
            lower_threshold,
            upper_threshold,
            alert,
            lower_confidence_bound: bound(-1.0),
            upper_confidence_bound: bound(1.0),
            reason,
        }
    }
}

/// One chunk of the reference or of the log (`chunks[]`).
#[derive(Debug, Clone, Serialize)]
pub struct Chunk {
    /// Position in `chunks[]` (reference chunks first).
    pub index: usize,
    pub period: ChunkPeriod,
    /// NannyML's chunk key: `[start:end]` rows, or the calendar period.
    pub key: String,
    /// First and last 0-based rows of this chunk in its own file (inclusive).
    pub start_index: usize,
    pub end_index: usize,
    /// ISO 8601 UTC: the earliest / latest timestamp of the rows, or the period's bounds.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub rows: usize,
    pub labelled_rows: usize,
    pub estimated: BTreeMap<String, MetricResult>,
    pub realized: BTreeMap<String, MetricResult>,
    /// Drift and data quality of the chunk against the whole reference (log chunks only).
    pub drift: Option<ChunkDrift>,
}

impl Chunk {
    /// "2026-01-05 – 2026-01-11" (dates of its first and last timestamps), else
    /// "rows 1–300" (1-based rows of its file).
    pub fn span_label(&self) -> String {
        match (&self.start_time, &self.end_time) {
            (Some(a), Some(b)) => format!(
                "{} – {}",
                a.chars().take(10).collect::<String>(),
                b.chars().take(10).collect::<String>()
            ),
            _ => format!("rows {}–{}", self.start_index + 1, self.end_index + 1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Estimated,
    Realized,
    Drift,
    Multivariate,
}

/// An analysis chunk outside a threshold (`alerts[]`).
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    pub chunk: usize,
    pub kind: AlertKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub value: f64,
    /// The threshold crossed.
    pub threshold: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassCalibration {
    /// `null` for a binary classifier.
    pub class: Option<String>,
    /// True when isotonic calibration is applied to these scores.
    pub calibrated: bool,
    /// Expected calibration error on held-out folds before / after calibration (`null` when
    /// the rule did not get that far or the choice was fixed by the user).
    pub ece_before: Option<f64>,
    pub ece_after: Option<f64>,
}

impl ClassCalibration {
    pub(crate) fn new(
        class: Option<String>,
        c: &super::calibration::Calibrator,
        d: &Option<super::calibration::Decision>,
    ) -> Self {
        ClassCalibration {
            class,
            calibrated: !c.is_noop(),
            ece_before: d.and_then(|d| d.ece_before),
            ece_after: d.and_then(|d| d.ece_after),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ThresholdSummary {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub spec: ThresholdSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReferenceSummary {
    pub path: PathBuf,
    pub sha256: String,
    pub rows: usize,
    pub chunks: usize,
    pub calibration: Vec<ClassCalibration>,
    /// Per metric: the thresholds from the reference chunks.
    pub thresholds: BTreeMap<String, ThresholdSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataRef {
    pub path: PathBuf,
    pub sha256: String,
    pub rows: usize,
    pub chunks: usize,
    pub labelled_rows: usize,
    /// The label file joined by id, when given.
    pub labels_from: Option<PathBuf>,
    /// The partitions of a lake-style log that were read (`--where`); absent: all of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected: Option<Selection>,
}

/// The part of a lake-style log that `--where` kept: its predicates and how many files
/// passed them (the other partitions were never opened).
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    #[serde(rename = "where")]
    pub predicates: Vec<String>,
    pub files: usize,
}

pub use crate::engine::evaluate::ModelRef;

/// `assay monitor --json`.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorReport {
    pub problem: Problem,
    /// Multiclass: the classes, sorted.
    pub classes: Vec<String>,
    pub metrics: Vec<String>,
    pub chunking: Chunking,
    pub timestamp_column: Option<String>,
    pub model: Option<ModelRef>,
    pub reference: ReferenceSummary,
    pub analysis: DataRef,
    /// Whole-log drift per column and the multivariate signal's reference statistics.
    pub drift: Option<DriftSummary>,
    pub chunks: Vec<Chunk>,
    /// Alerts of the analysis chunks.
    pub alerts: Vec<Alert>,
    pub warnings: Vec<Warning>,
}

impl MonitorReport {
    pub fn analysis_alerts(&self) -> usize {
        self.alerts.len()
    }
}

//! The fitted state of a run (sampling-error components and thresholds per metric, from the
//! reference) and the per-chunk results and alerts.

use crate::engine::Warning;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::cbpe::{self, Components};
use super::realized::Realized;
use super::tasks::Task;
use super::{
    chunking, realized, Alert, AlertKind, Chunk, ChunkPeriod, ClassCalibration, Metric,
    MetricResult, MonitorOptions, ThresholdSpec, ThresholdSummary,
};
use crate::engine::error::{EngineError, Result};

/// The fitted state: components and thresholds per metric.
pub(super) struct Engine<'a> {
    task: &'a Task,
    metrics: Vec<Metric>,
    components: Vec<Option<Components>>,
    thresholds: Vec<(Option<f64>, Option<f64>)>,
    specs: Vec<ThresholdSpec>,
    /// Every metric's realized value on each reference chunk (what the thresholds came from).
    reference_realized: Vec<Vec<Realized>>,
}

impl<'a> Engine<'a> {
    pub(super) fn new(
        task: &'a Task,
        metrics: &[Metric],
        opts: &MonitorOptions,
        ref_spans: &[chunking::Span],
        warnings: &mut Vec<Warning>,
    ) -> Result<Engine<'a>> {
        for key in opts.thresholds.keys() {
            let known = key == "confusion_matrix" || metrics.iter().any(|m| m.name() == key);
            if !known {
                return Err(EngineError::usage(format!(
                    "--thresholds names '{key}', which is not a monitored metric"
                )));
            }
        }
        let mut components = Vec::new();
        let mut thresholds = Vec::new();
        let mut specs = Vec::new();
        let reference_realized: Vec<Vec<Realized>> = ref_spans
            .par_iter()
            .map(|s| realized_all(task, metrics, s, true, None))
            .collect();
        for (j, &m) in metrics.iter().enumerate() {
            let comp = match task {
                Task::Binary { reference: r, .. } => {
                    let y: Vec<bool> = r.y.iter().map(|v| *v == Some(true)).collect();
                    cbpe::binary_components(m, &y, &r.pred, &r.raw)
                }
                Task::Multiclass {
                    reference: r,
                    classes,
                    ..
                } => {
                    let y: Vec<u32> = r.y.iter().map(|v| v.unwrap_or(u32::MAX)).collect();
                    cbpe::multiclass_components(m, &y, &r.pred, &r.raw, classes.len())
                }
            };
            if comp.is_none() {
                warnings.push(Warning::undefined(format!(
                    "{}: the reference gives no sampling error (too few relevant rows)",
                    m.name()
                )));
            }
            components.push(comp);
            let key = if m.is_count() {
                "confusion_matrix"
            } else {
                m.name()
            };
            let spec = opts
                .thresholds
                .get(m.name())
                .or_else(|| opts.thresholds.get(key))
                .cloned()
                .unwrap_or_default();
            let values: Vec<Option<f64>> = reference_realized
                .iter()
                .map(|r| r[j].as_ref().ok().copied())
                .collect();
            let t = thresholds_of(&spec, &values, m.limits());
            if t.0.is_none()
                && t.1.is_none()
                && matches!(spec, ThresholdSpec::StandardDeviation { .. })
            {
                warnings.push(Warning::undefined(format!(
                    "{}: undefined on every reference chunk, so it has no thresholds",
                    m.name()
                )));
            }
            thresholds.push(t);
            specs.push(spec);
        }
        Ok(Engine {
            task,
            metrics: metrics.to_vec(),
            components,
            thresholds,
            specs,
            reference_realized,
        })
    }

    pub(super) fn chunk(&self, index: usize, period: ChunkPeriod, span: &chunking::Span) -> Chunk {
        let is_ref = period == ChunkPeriod::Reference;
        let mut estimated = BTreeMap::new();
        let mut realized_map = BTreeMap::new();
        // Binary: the raw scores' order, sorted once for the ROC AUC estimate and the realized
        // one, and the expected confusion matrix, summed once for every estimated metric.
        let (asc, sums) = match self.task {
            Task::Binary {
                reference,
                analysis,
                ..
            } => {
                let side = if is_ref { reference } else { analysis };
                let r = span.start..=span.end;
                let asc = self
                    .metrics
                    .contains(&Metric::RocAuc)
                    .then(|| cbpe::argsort_stable(&side.raw[r.clone()]));
                (
                    asc,
                    Some(cbpe::expected(&side.cal[r.clone()], &side.pred[r])),
                )
            }
            Task::Multiclass { .. } => (None, None),
        };
        let mut realized = match self.reference_realized.get(index) {
            Some(r) if is_ref => r.clone(),
            _ => realized_all(self.task, &self.metrics, span, is_ref, asc.as_deref()),
        }
        .into_iter();
        let labelled = labelled_rows(self.task, span, is_ref);
        for (j, &m) in self.metrics.iter().enumerate() {
            let (lo, hi) = self.thresholds[j];
            let (llim, ulim) = m.limits();
            let se = self.components[j]
                .as_ref()
                .and_then(|c| cbpe::sampling_error(c, span.rows()));
            let est = estimate_of(self.task, m, span, is_ref, asc.as_deref(), sums);
            estimated.insert(
                m.name().to_string(),
                MetricResult::new(est, se, lo, hi, llim, ulim),
            );
            let real = realized
                .next()
                .unwrap_or_else(|| Err("undefined".to_string()));
            let se_r = self.components[j]
                .as_ref()
                .and_then(|c| cbpe::sampling_error(c, labelled.max(1)));
            realized_map.insert(
                m.name().to_string(),
                MetricResult::new(
                    real,
                    if labelled > 0 { se_r } else { None },
                    lo,
                    hi,
                    llim,
                    ulim,
                ),
            );
        }
        Chunk {
            index,
            period,
            key: span.key.clone(),
            start_index: span.start,
            end_index: span.end,
            start_time: span.start_time.map(chunking::format_instant),
            end_time: span.end_time.map(chunking::format_instant),
            rows: span.rows(),
            labelled_rows: labelled,
            estimated,
            realized: realized_map,
            drift: None,
        }
    }

    pub(super) fn calibration_summary(&self, task: &Task) -> Vec<ClassCalibration> {
        match task {
            Task::Binary {
                calibrator,
                decision,
                ..
            } => {
                vec![ClassCalibration::new(None, calibrator, decision)]
            }
            Task::Multiclass {
                classes,
                calibrators,
                decisions,
                ..
            } => classes
                .iter()
                .zip(calibrators)
                .zip(decisions)
                .map(|((c, k), d)| ClassCalibration::new(Some(c.clone()), k, d))
                .collect(),
        }
    }

    pub(super) fn threshold_summary(&self) -> BTreeMap<String, ThresholdSummary> {
        self.metrics
            .iter()
            .zip(&self.thresholds)
            .zip(&self.specs)
            .map(|((m, t), s)| {
                (
                    m.name().to_string(),
                    ThresholdSummary {
                        lower: t.0,
                        upper: t.1,
                        spec: s.clone(),
                    },
                )
            })
            .collect()
    }

    pub(super) fn analysis_labelled(&self, task: &Task) -> usize {
        match task {
            Task::Binary { analysis, .. } => analysis.y.iter().flatten().count(),
            Task::Multiclass { analysis, .. } => analysis.y.iter().flatten().count(),
        }
    }
}

fn labelled_rows(task: &Task, s: &chunking::Span, is_ref: bool) -> usize {
    match task {
        Task::Binary {
            reference,
            analysis,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            side.y[s.start..=s.end].iter().flatten().count()
        }
        Task::Multiclass {
            reference,
            analysis,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            side.y[s.start..=s.end].iter().flatten().count()
        }
    }
}

fn estimate_of(
    task: &Task,
    m: Metric,
    s: &chunking::Span,
    is_ref: bool,
    asc: Option<&[usize]>,
    sums: Option<(f64, f64, f64, f64)>,
) -> std::result::Result<f64, String> {
    let r = s.start..=s.end;
    let v = match task {
        Task::Binary {
            reference,
            analysis,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            cbpe::estimate_binary(
                m,
                &side.cal[r.clone()],
                &side.raw[r.clone()],
                &side.pred[r],
                asc,
                sums,
            )
        }
        Task::Multiclass {
            reference,
            analysis,
            classes,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            let k = classes.len();
            cbpe::estimate_multiclass(
                m,
                &side.cal[s.start * k..(s.end + 1) * k],
                &side.raw[s.start * k..(s.end + 1) * k],
                &side.pred[r],
                k,
            )
        }
    };
    v.filter(|x| x.is_finite())
        .ok_or_else(|| "no expected positive or negative in this chunk".to_string())
}

/// Every metric's realized value on the labelled rows of a chunk (gathered once).
fn realized_all(
    task: &Task,
    metrics: &[Metric],
    s: &chunking::Span,
    is_ref: bool,
    asc: Option<&[usize]>,
) -> Vec<Realized> {
    let finite = |v: Realized| {
        v.and_then(|v| {
            if v.is_finite() {
                Ok(v)
            } else {
                Err("undefined".into())
            }
        })
    };
    match task {
        Task::Binary {
            reference,
            analysis,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            let (mut y, mut p, mut sc) = (Vec::new(), Vec::new(), Vec::new());
            for i in s.start..=s.end {
                if let Some(t) = side.y[i] {
                    y.push(t);
                    p.push(side.pred[i]);
                    sc.push(side.raw[i]);
                }
            }
            // The chunk's order of the raw scores is theirs when every row is labelled.
            let asc = asc.filter(|_| y.len() == s.rows());
            let counts = Some(realized::confusion(&y, &p));
            metrics
                .iter()
                .map(|&m| finite(realized::binary(m, &y, &p, &sc, asc, counts)))
                .collect()
        }
        Task::Multiclass {
            reference,
            analysis,
            classes,
            ..
        } => {
            let side = if is_ref { reference } else { analysis };
            let k = classes.len();
            let (mut y, mut p, mut sc) = (Vec::new(), Vec::new(), Vec::new());
            for i in s.start..=s.end {
                if let Some(t) = side.y[i] {
                    y.push(t);
                    p.push(side.pred[i]);
                    sc.extend_from_slice(&side.raw[i * k..(i + 1) * k]);
                }
            }
            metrics
                .iter()
                .map(|&m| finite(realized::multiclass(m, &y, &p, &sc, k)))
                .collect()
        }
    }
}

/// NannyML's `calculate_threshold_values`: the spec on the reference-chunk values, then a
/// bound at or beyond the metric's limit is replaced by the limit.
pub fn thresholds_of(
    spec: &ThresholdSpec,
    values: &[Option<f64>],
    limits: (Option<f64>, Option<f64>),
) -> (Option<f64>, Option<f64>) {
    let (lo, hi) = match spec {
        ThresholdSpec::Constant { lower, upper } => (*lower, *upper),
        ThresholdSpec::StandardDeviation {
            std_lower_multiplier,
            std_upper_multiplier,
        } => {
            let v: Vec<f64> = values.iter().flatten().copied().collect();
            if v.is_empty() {
                return (None, None);
            }
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            (
                std_lower_multiplier.map(|k| mean - std * k),
                std_upper_multiplier.map(|k| mean + std * k),
            )
        }
    };
    let lo = match (lo, limits.0) {
        (Some(l), Some(lim)) if l <= lim => Some(lim),
        (l, _) => l,
    };
    let hi = match (hi, limits.1) {
        (Some(h), Some(lim)) if h >= lim => Some(lim),
        (h, _) => h,
    };
    (lo, hi)
}

pub(super) fn collect_alerts(chunks: &[Chunk]) -> Vec<Alert> {
    let mut out = Vec::new();
    for c in chunks.iter().filter(|c| c.period == ChunkPeriod::Analysis) {
        for (kind, map) in [
            (AlertKind::Estimated, &c.estimated),
            (AlertKind::Realized, &c.realized),
        ] {
            for (name, r) in map {
                if let (true, Some(v)) = (r.alert, r.value) {
                    let threshold = match (r.lower_threshold, r.upper_threshold) {
                        (Some(l), _) if v < l => l,
                        (_, Some(u)) => u,
                        (Some(l), None) => l,
                        (None, None) => continue,
                    };
                    out.push(Alert {
                        chunk: c.index,
                        kind,
                        metric: Some(name.clone()),
                        column: None,
                        value: v,
                        threshold,
                    });
                }
            }
        }
        if let Some(d) = &c.drift {
            for col in &d.columns {
                if col.drifted {
                    if let Some(v) = col.value {
                        out.push(Alert {
                            chunk: c.index,
                            kind: AlertKind::Drift,
                            metric: None,
                            column: Some(col.column.clone()),
                            value: v,
                            threshold: col.threshold,
                        });
                    }
                }
            }
            if let Some(mv) = &d.multivariate {
                if let (true, Some(v)) = (mv.alert, mv.value) {
                    let threshold = match (mv.lower_threshold, mv.upper_threshold) {
                        (Some(l), _) if v < l => l,
                        (_, Some(u)) => u,
                        (Some(l), None) => l,
                        (None, None) => continue,
                    };
                    out.push(Alert {
                        chunk: c.index,
                        kind: AlertKind::Multivariate,
                        metric: Some("reconstruction_error".into()),
                        column: None,
                        value: v,
                        threshold,
                    });
                }
            }
        }
    }
    out
}

//! Drift and data quality per chunk of the log, from the existing drift engine
//! ([`crate::engine::drift::drift`] with windows equal to the monitoring chunks: every
//! column's Evidently-default statistic and threshold per chunk against the whole
//! reference, the score and prediction columns included — that is the prediction drift),
//! missing values and values never seen in the reference per chunk, and the multivariate
//! signal ([`super::multivariate`]).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::chunking::{Chunking, Period, Span};
use super::multivariate::{self, PcaSummary};
use super::{thresholds_of, ThresholdSpec};
use crate::engine::data::{self, Dataset};
use crate::engine::drift::columns::{self, Raw};
use crate::engine::drift::over_time::{Period as DPeriod, Windows};
use crate::engine::drift::{self, DriftOptions, Method};
use crate::engine::error::Result;
use crate::engine::progress::Progress;

#[derive(Debug, Clone, Serialize)]
pub struct ColumnChunkDrift {
    pub column: String,
    pub method: Method,
    /// p-value (tests) or distance of this chunk against the whole reference.
    pub value: Option<f64>,
    pub threshold: f64,
    pub is_p_value: bool,
    pub drifted: bool,
    pub missing: usize,
    /// Rows whose (categorical) value never occurs in the reference.
    pub unseen: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Multivariate {
    pub value: Option<f64>,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
    pub alert: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChunkDrift {
    pub columns: Vec<ColumnChunkDrift>,
    pub multivariate: Option<Multivariate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnSummary {
    pub column: String,
    pub method: Method,
    pub value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftSummary {
    /// Whole log against the reference.
    pub columns: Vec<ColumnSummary>,
    pub skipped: Vec<String>,
    pub multivariate: Option<PcaSummary>,
}

pub struct Computed {
    /// Aligned with the report's chunks: reference chunks (multivariate only), then the log's.
    pub per_chunk: Vec<Option<ChunkDrift>>,
    pub summary: DriftSummary,
    pub warnings: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
pub fn compute(
    reference: &Dataset,
    analysis: &Dataset,
    exclude: &[String],
    timestamp: Option<&str>,
    chunking: Chunking,
    ref_spans: &[Span],
    ana_spans: &[Span],
    progress: &Progress,
) -> Result<Computed> {
    let mut warnings = Vec::new();
    let in_both: HashSet<String> = analysis.column_names().into_iter().collect();
    let cols: Vec<String> = reference
        .column_names()
        .into_iter()
        .filter(|c| in_both.contains(c) && !exclude.contains(c))
        .collect();
    let n_ana = analysis.rows();
    let windows = match chunking {
        Chunking::Size(s) => Windows::Rows(s),
        Chunking::Number(k) => Windows::Rows((n_ana / k.max(1)).max(1)),
        Chunking::Default => Windows::Rows((n_ana / 10).max(1)),
        Chunking::Period(p) => Windows::Period(match p {
            Period::Day => DPeriod::Day,
            Period::Week => DPeriod::Week,
            Period::Month => DPeriod::Month,
        }),
    };
    let mut per_chunk: Vec<Option<ChunkDrift>> = vec![None; ref_spans.len() + ana_spans.len()];
    let mut summary = DriftSummary {
        columns: Vec::new(),
        skipped: Vec::new(),
        multivariate: None,
    };
    if cols.is_empty() {
        warnings.push("drift: the reference and the log share no feature column".to_string());
        return Ok(Computed {
            per_chunk,
            summary,
            warnings,
        });
    }
    let opts = DriftOptions {
        columns: Some(cols.clone()),
        timestamp: timestamp.map(str::to_string),
        windows: Some(windows),
        ..DriftOptions::default()
    };
    let report = drift::drift(reference, analysis, None, &opts, progress)?;
    let noise = reference_noise(reference, &cols, ana_spans, progress)?;
    warnings.extend(report.warnings.iter().map(|w| format!("drift: {w}")));
    summary.skipped = report
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.name, s.reason))
        .collect();
    summary.columns = report
        .columns
        .iter()
        .map(|c| ColumnSummary {
            column: c.name.clone(),
            method: c.method,
            value: c.p_value.or(c.statistic),
            threshold: c.threshold,
            drifted: c.drifted,
        })
        .collect();
    let over = report.over_time.as_ref();
    let aligned = over.is_some_and(|o| {
        o.windows.len() == ana_spans.len()
            && o.windows
                .iter()
                .zip(ana_spans)
                .all(|(w, s)| w.first_row == s.start + 1 && w.last_row == s.end + 1)
    });
    if !aligned {
        warnings.push(
            "drift: the drift windows do not line up with the chunks; per-chunk drift left out"
                .into(),
        );
    }
    // Missing and unseen values per chunk.
    let mut quality: Vec<(String, Vec<usize>, Vec<usize>)> = Vec::new();
    for name in &cols {
        let a = columns::read(analysis, name)?;
        let r = columns::read(reference, name)?;
        let seen: Option<HashSet<&str>> = match &r {
            Raw::Text { values } => Some(values.iter().flatten().collect()),
            Raw::Numeric { .. } => None,
        };
        let mut miss = Vec::with_capacity(ana_spans.len());
        let mut unseen = Vec::with_capacity(ana_spans.len());
        for s in ana_spans {
            miss.push((s.start..=s.end).filter(|&i| a.is_missing(i)).count());
            unseen.push(match (&a, &seen) {
                (Raw::Text { values }, Some(seen)) => (s.start..=s.end)
                    .filter(|&i| values.get(i).is_some_and(|v| !seen.contains(v)))
                    .count(),
                _ => 0,
            });
        }
        quality.push((name.clone(), miss, unseen));
    }
    progress.check()?;
    // Multivariate.
    let pca = multivariate::fit(reference, &cols)?;
    let mut mv_ref = Vec::new();
    let mut mv_ana = Vec::new();
    let mut mv_thr = (None, None);
    if let Some(pca) = &pca {
        mv_ref = pca.chunk_errors(reference, ref_spans)?;
        mv_ana = pca.chunk_errors(analysis, ana_spans)?;
        mv_thr = thresholds_of(&ThresholdSpec::default(), &mv_ref, (Some(0.0), None));
        summary.multivariate = Some(PcaSummary {
            method: "pca_reconstruction_error",
            features: pca.features().to_vec(),
            components: pca.n_components(),
            explained_variance: pca.explained,
            lower_threshold: mv_thr.0,
            upper_threshold: mv_thr.1,
        });
    } else {
        warnings.push("drift: fewer than two usable features; no multivariate signal".into());
    }
    let mv = |v: Option<f64>| Multivariate {
        value: v,
        lower_threshold: mv_thr.0,
        upper_threshold: mv_thr.1,
        alert: v
            .is_some_and(|x| mv_thr.0.is_some_and(|l| x < l) || mv_thr.1.is_some_and(|u| x > u)),
    };
    for (i, slot) in per_chunk.iter_mut().enumerate().take(ref_spans.len()) {
        if pca.is_some() {
            *slot = Some(ChunkDrift {
                columns: Vec::new(),
                multivariate: Some(mv(mv_ref.get(i).copied().flatten())),
            });
        }
    }
    for j in 0..ana_spans.len() {
        let mut columns_out = Vec::new();
        if let (true, Some(o)) = (aligned, over) {
            for s in &o.columns {
                let (missing, unseen) = quality
                    .iter()
                    .find(|q| q.0 == s.name)
                    .map_or((0, 0), |q| (q.1[j], q.2[j]));
                let value = s.values.get(j).copied().flatten().filter(|v| v.is_finite());
                let mut threshold = s.threshold;
                let mut drifted = s.drifted.get(j).copied().unwrap_or(false);
                if let Some(&(method, Some(floor))) = noise.get(&s.name) {
                    if method == s.method && !s.is_p_value && floor > threshold {
                        threshold = floor;
                        drifted = value.is_some_and(|v| v > floor);
                    }
                }
                columns_out.push(ColumnChunkDrift {
                    column: s.name.clone(),
                    method: s.method,
                    value,
                    threshold,
                    is_p_value: s.is_p_value,
                    drifted,
                    missing,
                    unseen,
                });
            }
        }
        per_chunk[ref_spans.len() + j] = Some(ChunkDrift {
            columns: columns_out,
            multivariate: pca.as_ref().map(|_| mv(mv_ana.get(j).copied().flatten())),
        });
    }
    Ok(Computed {
        per_chunk,
        summary,
        warnings,
    })
}

/// The sampling noise of each column's distance statistic at the log's chunk size. A distance
/// (Wasserstein, Jensen-Shannon, PSI, …) of a few hundred rows is far from zero even when
/// nothing changed — a categorical column with dozens of rare levels sits above Evidently's 0.1
/// in every chunk of 300 rows — so a chunk alerts only when its distance exceeds both the
/// method's threshold and this noise level. Measured out of sample: the reference is cut into
/// its first and second half, each half into windows of the log's median chunk rows, and each
/// window's statistic taken against the other half; the level is mean + 3 standard deviations
/// of those values (the rule of the metrics' and the multivariate thresholds). A window of the
/// reference itself would be part of what it is compared with and look calmer than new data.
/// Columns whose method differs on the halves, or without two full windows per half, keep the
/// method's threshold; p-value methods too (their false-alarm rate does not grow as chunks
/// shrink).
fn reference_noise(
    reference: &Dataset,
    cols: &[String],
    ana_spans: &[Span],
    progress: &Progress,
) -> Result<HashMap<String, (Method, Option<f64>)>> {
    let mut rows: Vec<usize> = ana_spans.iter().map(|s| s.end + 1 - s.start).collect();
    rows.sort_unstable();
    let chunk = rows.get(rows.len() / 2).copied().unwrap_or(0);
    let mut out = HashMap::new();
    let n = reference.rows();
    let half = n / 2;
    let Ok(n32) = u32::try_from(n) else {
        return Ok(out);
    };
    if chunk == 0 || half < 2 * chunk {
        return Ok(out);
    }
    let split = half as u32;
    let first = data::subset(reference, &(0..split).collect::<Vec<_>>())?;
    let second = data::subset(reference, &(split..n32).collect::<Vec<_>>())?;
    let opts = DriftOptions {
        columns: Some(cols.to_vec()),
        windows: Some(Windows::Rows(chunk)),
        ..DriftOptions::default()
    };
    let mut values: HashMap<String, (Method, Vec<f64>)> = HashMap::new();
    let mut mixed: HashSet<String> = HashSet::new();
    for (against, windows) in [(&first, &second), (&second, &first)] {
        let report = drift::drift(against, windows, None, &opts, progress)?;
        let Some(over) = report.over_time else {
            return Ok(out);
        };
        // Only full windows: a short last window is noisier than the log's chunks.
        let full: Vec<usize> = (0..over.windows.len())
            .filter(|&i| over.windows[i].rows == chunk)
            .collect();
        for s in &over.columns {
            let entry = values
                .entry(s.name.clone())
                .or_insert_with(|| (s.method, Vec::new()));
            if entry.0 != s.method {
                mixed.insert(s.name.clone());
            }
            entry.1.extend(
                full.iter()
                    .filter_map(|&i| s.values.get(i).copied().flatten())
                    .filter(|v| v.is_finite()),
            );
        }
    }
    for (name, (method, v)) in values {
        if mixed.contains(&name) {
            continue;
        }
        let level = (v.len() >= 2).then(|| {
            let n = v.len() as f64;
            let mean = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            mean + 3.0 * var.sqrt()
        });
        out.insert(name, (method, level));
    }
    Ok(out)
}

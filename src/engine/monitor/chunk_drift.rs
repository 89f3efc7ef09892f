//! Drift and data quality per chunk of the log, from the drift engine's per-window path
//! ([`crate::engine::drift::chunked::per_window`], the numbers of
//! [`crate::engine::drift::drift`] with windows equal to the monitoring chunks: every
//! column's Evidently-default statistic and threshold per chunk against the whole
//! reference, the score and prediction columns included — that is the prediction drift),
//! missing values and values never seen in the reference per chunk, and the multivariate
//! signal ([`super::multivariate`]).

use crate::engine::Warning;
use std::collections::{HashMap, HashSet};

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use serde::Serialize;

use super::chunking::{Chunking, Period, Span};
use super::log_data::LogData;
use super::multivariate::{self, PcaSummary};
use super::{thresholds_of, ThresholdSpec};
use crate::engine::data::{self, Dataset};
use crate::engine::drift::columns::Raw;
use crate::engine::drift::over_time::{Period as DPeriod, Series, Windows};
use crate::engine::drift::Method;
use crate::engine::drift::{chunked, self_windows};
use crate::engine::error::{EngineError, Result};
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
    pub warnings: Vec<Warning>,
}

#[allow(clippy::too_many_arguments)]
pub fn compute(
    reference: &Dataset,
    analysis: LogData<'_>,
    n_ana: usize,
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
        warnings.push(Warning::data(
            "drift: the reference and the log share no feature column",
        ));
        return Ok(Computed {
            per_chunk,
            summary,
            warnings,
        });
    }
    let report = match analysis {
        LogData::Whole(ds) => {
            chunked::per_window(reference, ds, &cols, timestamp, windows, true, progress)?
        }
        LogData::Columns(log) => {
            let per_pass = log.per_pass(n_ana);
            let passes = cols.len().div_ceil(per_pass);
            let read = std::sync::atomic::AtomicUsize::new(0);
            // Calendar windows read the timestamp with every pass.
            let with_time = |group: &[String]| {
                // After the estimate: read by columns, the two run one after the other.
                let k = read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                progress.set(
                    0.5 + 0.45 * k as f32 / passes as f32,
                    &format!("drift: reading column pass {} of {passes}", k + 1),
                );
                let mut names = group.to_vec();
                if let (Windows::Period(_), Some(t)) = (windows, timestamp) {
                    names.push(t.to_string());
                }
                log.load(&names)
            };
            chunked::per_window_by_columns(
                reference,
                &analysis.column_names(),
                &cols,
                per_pass,
                timestamp,
                windows,
                true,
                with_time,
                |group: &[String]| log.any_text(group),
                progress,
            )?
        }
    };
    // The reference's noise levels and the multivariate signal need nothing of each other.
    let (noise, fitted) = rayon::join(
        || reference_noise(reference, &report, ana_spans, progress),
        || pca_of(reference, analysis, &cols, &report, ana_spans),
    );
    let noise = noise?;
    let (pca, mv_ana) = fitted?;
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
    let aligned = report.windows.len() == ana_spans.len()
        && report
            .windows
            .iter()
            .zip(ana_spans)
            .all(|(w, s)| w.first_row == s.start + 1 && w.last_row == s.end + 1);
    if !aligned {
        warnings.push(Warning::data(
            "drift: the drift windows do not line up with the chunks; per-chunk drift left out",
        ));
    }
    progress.check()?;
    let mut mv_ref = Vec::new();
    let mut mv_thr = (None, None);
    if let Some(pca) = &pca {
        let ref_rows = &pca.reference_errors;
        mv_ref = spans_mean(ref_rows, ref_spans);
        let chunk = median_rows(ana_spans);
        let calibration = if chunk > 0 && chunk < ref_rows.len() {
            random_windows(0..ref_rows.len(), chunk, PCA_WINDOWS, WINDOW_SEED + 2)
                .chunks(chunk)
                .map(|w| Some(w.iter().map(|&r| ref_rows[r as usize]).sum::<f64>() / chunk as f64))
                .collect()
        } else {
            mv_ref.clone()
        };
        mv_thr = thresholds_of(&ThresholdSpec::default(), &calibration, (Some(0.0), None));
        summary.multivariate = Some(PcaSummary {
            method: "pca_reconstruction_error",
            features: pca.features().to_vec(),
            components: pca.n_components(),
            explained_variance: pca.explained,
            lower_threshold: mv_thr.0,
            upper_threshold: mv_thr.1,
        });
    } else {
        warnings.push(Warning::small_sample(
            "drift: fewer than two usable features; no multivariate signal",
        ));
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
        if aligned {
            for s in &report.series {
                let (missing, unseen) = report
                    .counts
                    .iter()
                    .find(|q| q.0 == s.name)
                    .map_or((0, 0), |q| (q.1.missing[j], q.1.unseen[j]));
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

/// The multivariate signal: the PCA fitted on the reference (`None` with fewer than two usable
/// features) and the mean reconstruction error of each chunk of the log.
fn pca_of(
    reference: &Dataset,
    analysis: LogData<'_>,
    cols: &[String],
    report: &chunked::Chunked,
    ana_spans: &[Span],
) -> Result<(Option<multivariate::Pca>, Vec<Option<f64>>)> {
    // Columns of mostly distinct text are never features of the PCA either (its fit skips
    // them after reading them again).
    let pca_cols: Vec<String> = cols
        .iter()
        .filter(|c| !report.text_columns.contains(c))
        .cloned()
        .collect();
    // The columns the drift read, not read again.
    let known_ref: multivariate::Known = report
        .read
        .iter()
        .map(|(n, r, _)| (n.as_str(), r))
        .collect();
    let known_ana: multivariate::Known = report
        .read
        .iter()
        .map(|(n, _, c)| (n.as_str(), c))
        .collect();
    let pca = multivariate::fit(reference, &pca_cols, &known_ref)?;
    let mv_ana = match (&pca, analysis) {
        (Some(pca), LogData::Whole(ds)) => pca.chunk_errors(ds, ana_spans, &known_ana)?,
        (Some(pca), LogData::Columns(log)) => log.chunk_errors(pca, ana_spans)?,
        (None, _) => Vec::new(),
    };
    Ok((pca, mv_ana))
}

/// Random windows of the calibration: how many per half of the reference (fewer when the
/// chunks are large, so one call reads at most [`WINDOW_ROWS`] rows), and the seed.
const WINDOWS: usize = 100;
const WINDOW_ROWS: usize = 200_000;
const WINDOW_SEED: u64 = 0x006d_6f6e_6974_6f72;
/// Random reference samples the multivariate thresholds are computed from.
const PCA_WINDOWS: usize = 200;

/// The median row count of the log's chunks.
fn median_rows(spans: &[Span]) -> usize {
    let mut rows: Vec<usize> = spans.iter().map(Span::rows).collect();
    rows.sort_unstable();
    rows.get(rows.len() / 2).copied().unwrap_or(0)
}

/// The mean of `values` over each span.
fn spans_mean(values: &[f64], spans: &[Span]) -> Vec<Option<f64>> {
    spans
        .iter()
        .map(|s| {
            let v = values.get(s.start..=s.end)?;
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect()
}

/// `count` windows of `size` rows each drawn at random (without replacement within a window)
/// from the rows `range`, concatenated: window k is rows `k*size..(k+1)*size` of the result.
fn random_windows(range: std::ops::Range<usize>, size: usize, count: usize, seed: u64) -> Vec<u32> {
    let mut rng = Pcg64Mcg::seed_from_u64(seed);
    let n = range.len();
    let mut out = Vec::with_capacity(size * count);
    for _ in 0..count {
        let mut picked = sample(&mut rng, n, size.min(n)).into_vec();
        picked.sort_unstable();
        out.extend(picked.into_iter().map(|i| (range.start + i) as u32));
    }
    out
}

/// Mean + 3 standard deviations (the rule of the metrics' thresholds), `None` below 2 values.
fn mean_plus_3sd(v: &[f64]) -> Option<f64> {
    (v.len() >= 2).then(|| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        mean + 3.0 * var.sqrt()
    })
}

/// The sampling noise of each column's distance statistic at the log's chunk size. A distance
/// (Wasserstein, Jensen-Shannon, PSI, …) of a few hundred rows is far from zero even when
/// nothing changed — a categorical column with dozens of rare levels sits above Evidently's 0.1
/// in every chunk of 300 rows — so a chunk alerts only when its distance exceeds both the
/// method's threshold and this noise level. Measured out of sample: the reference is cut into
/// its first and second half; from each half, [`WINDOWS`] random samples of the log's median
/// chunk rows (seeded) are each compared with the other half; the level is mean + 3 standard
/// deviations of those values (the rule of the metrics' thresholds). Windows of the reference
/// itself would be part of what they are compared with and look calmer than new data, and its
/// few consecutive chunks estimate the spread poorly. Columns whose method differs on the
/// halves, or a reference with fewer than two chunks' rows per half, keep the method's
/// threshold; p-value methods too (their false-alarm rate does not grow as chunks shrink).
fn reference_noise(
    reference: &Dataset,
    report: &chunked::Chunked,
    ana_spans: &[Span],
    progress: &Progress,
) -> Result<HashMap<String, (Method, Option<f64>)>> {
    let chunk = median_rows(ana_spans);
    let mut out = HashMap::new();
    let n = reference.rows();
    let half = n / 2;
    if chunk == 0 || half < 2 * chunk || u32::try_from(n).is_err() {
        return Ok(out);
    }
    let count = (WINDOW_ROWS / chunk).clamp(8, WINDOWS);
    // (rows compared against, the windows' rows drawn from the other half)
    let parts: Vec<(std::ops::Range<usize>, Vec<u32>)> = [(half..n, 0..half), (0..half, half..n)]
        .into_iter()
        .enumerate()
        .map(|(k, (against, range))| {
            let rows = random_windows(range, chunk, count, WINDOW_SEED + k as u64);
            (against, rows)
        })
        .collect();
    // Only the compared columns' levels are read. The numeric ones the drift read are
    // compared in place (each window's values picked out of the column's sorted order).
    let numeric: Vec<(&str, &[f64])> = report
        .series
        .iter()
        .filter_map(|s| report.read.iter().find(|(name, _, _)| *name == s.name))
        .filter_map(|(name, r, _)| match r {
            Raw::Numeric { values, .. } => Some((name.as_str(), values.as_slice())),
            Raw::Text { .. } => None,
        })
        .collect();
    let fast: Vec<Result<Vec<Option<Series>>>> = numeric
        .par_iter()
        .map(|&(name, values)| {
            let integer = data::extract::column(reference, name)?.dtype().is_integer();
            let order = self_windows::finite_order(values);
            parts
                .iter()
                .map(|(against, rows)| {
                    self_windows::self_windows(
                        name,
                        values,
                        integer,
                        &order,
                        against.clone(),
                        rows,
                        chunk,
                        progress,
                    )
                })
                .collect()
        })
        .collect();
    let mut values: HashMap<String, (Method, Vec<f64>)> = HashMap::new();
    let mut mixed: HashSet<String> = HashSet::new();
    let mut add = |s: &Series| {
        let entry = values
            .entry(s.name.clone())
            .or_insert_with(|| (s.method, Vec::new()));
        if entry.0 != s.method {
            mixed.insert(s.name.clone());
        }
        entry
            .1
            .extend(s.values.iter().flatten().copied().filter(|v| v.is_finite()));
    };
    let mut compared = false;
    for f in fast {
        for s in f?.iter().flatten() {
            add(s);
            compared = true;
        }
    }
    // The other columns from copies of the rows (of these columns only).
    let rest: Vec<String> = report
        .series
        .iter()
        .map(|s| s.name.clone())
        .filter(|name| !numeric.iter().any(|(m, _)| m == name))
        .collect();
    if !rest.is_empty() {
        let narrow = Dataset {
            df: reference
                .df
                .select(rest.iter().map(String::as_str))
                .map_err(|e| EngineError::internal(format!("cannot select columns: {e}")))?,
            ..reference.clone()
        };
        let first = data::subset(&narrow, &(0..half as u32).collect::<Vec<_>>())?;
        let second = data::subset(&narrow, &(half as u32..n as u32).collect::<Vec<_>>())?;
        for (against, (_, rows)) in [&second, &first].into_iter().zip(&parts) {
            let windows = data::subset(&narrow, rows)?;
            match chunked::per_window(
                against,
                &windows,
                &rest,
                None,
                Windows::Rows(chunk),
                false,
                progress,
            ) {
                Ok(r) => r.series.iter().for_each(&mut add),
                // Every one of these columns skipped on this half: the numeric ones count.
                Err(_) if compared => progress.check()?,
                Err(e) => return Err(e),
            }
        }
    }
    for (name, (method, v)) in values {
        if !mixed.contains(&name) {
            out.insert(name, (method, mean_plus_3sd(&v)));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_windows_are_seeded_distinct_rows_in_range() {
        let w = random_windows(100..400, 50, 7, 3);
        assert_eq!(w.len(), 350);
        assert_eq!(w, random_windows(100..400, 50, 7, 3));
        assert_ne!(w, random_windows(100..400, 50, 7, 4));
        for win in w.chunks(50) {
            assert!(win.iter().all(|&r| (100..400).contains(&r)));
            assert!(win.windows(2).all(|p| p[0] < p[1]), "sorted, no repeat");
        }
    }

    #[test]
    fn level_is_mean_plus_three_sample_sd() {
        assert_eq!(mean_plus_3sd(&[1.0]), None);
        let v = [1.0, 2.0, 3.0, 4.0];
        let sd = (5.0f64 / 3.0).sqrt();
        assert!((mean_plus_3sd(&v).unwrap_or(0.0) - (2.5 + 3.0 * sd)).abs() < 1e-12);
    }
}

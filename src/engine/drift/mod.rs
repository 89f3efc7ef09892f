//! Drift and data quality: a reference dataset against a current one, column by column, with
//! the statistics of scipy and Evidently 0.7 ([`stattests`], [`binning`]), Evidently's
//! DataDriftPreset defaults ([`column_drift::default_method`]), data quality ([`quality`]) and
//! drift over time ([`over_time`]). The CLI's `assay drift` and the GUI's Drift page both call
//! [`drift`], so they show the same numbers.

pub mod binning;
mod checks;
pub mod chunked;
mod chunked_column;
pub mod column_drift;
pub mod columns;
pub mod ksdist;
pub mod order;
pub mod over_time;
mod predictions;
mod prepare;

pub(crate) use checks::{check_options, method_warning, nothing_to_compare, require_columns};
pub mod quality;
pub mod rows;
pub mod self_windows;
pub mod stattests;
pub mod stream;
mod stream_pass;
mod stream_quality;
mod stream_state;
pub mod stream_stats;
mod stream_windows;
mod window_stats;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

pub use column_drift::{EffectSize, Method, Stats};
pub use columns::ColumnKind;

use super::data::{self, Dataset};
use super::error::{EngineError, Result};
use super::model::{InferOptions, Model};
use super::progress::Progress;
use binning::{Counts, Histogram};
use column_drift::Samples;
use columns::Raw;
use prepare::prepare_column;

/// Options of a drift run; every default is Evidently's DataDriftPreset's.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DriftOptions {
    /// Columns to compare (default: every column in both files except the timestamp).
    pub columns: Option<Vec<String>>,
    /// Kind overrides.
    pub categorical: Vec<String>,
    pub numeric: Vec<String>,
    /// One method for every column (`None`: Evidently's per-column default).
    pub method: Option<Method>,
    /// One threshold for every column (`None`: the method's default).
    pub threshold: Option<f64>,
    /// Dataset drift when the share of drifted columns is ≥ this.
    pub drift_share: f64,
    /// Marks a column as the target (role only).
    pub target: Option<String>,
    /// Timestamp column of the current data (`None`: detected — the first text column whose
    /// values all parse as ISO 8601 dates).
    pub timestamp: Option<String>,
    /// Drift-over-time windows (`None`: no over-time analysis).
    pub windows: Option<over_time::Windows>,
    /// Columns feeding a `[N, F]` model input (as `evaluate --features`).
    pub features: Option<Vec<String>>,
    pub infer: InferOptions,
    /// Row indices listed per data-quality finding (counts are always complete).
    pub max_rows_listed: usize,
}

impl Default for DriftOptions {
    fn default() -> Self {
        Self {
            columns: None,
            categorical: Vec::new(),
            numeric: Vec::new(),
            method: None,
            threshold: None,
            drift_share: 0.5,
            target: None,
            timestamp: None,
            windows: None,
            features: None,
            infer: InferOptions::default(),
            max_rows_listed: 100,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Feature,
    Target,
    Prediction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Inferred,
    User,
}

/// One column of the report (the CLI's `columns[]`).
#[derive(Debug, Clone, Serialize)]
pub struct ColumnDrift {
    pub name: String,
    pub role: Role,
    pub kind: ColumnKind,
    pub kind_source: Source,
    pub method: Method,
    pub method_source: Source,
    /// The method's value: p-value-based methods report their test statistic here.
    pub statistic: Option<f64>,
    /// `null` when the method is not a test.
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    pub effect_size: EffectSize,
    /// Values used (missing, NaN and ±inf dropped).
    pub n_reference: usize,
    pub n_current: usize,
    pub missing_reference: usize,
    pub missing_current: usize,
    /// Distinct values over both samples.
    pub n_unique: usize,
    pub stats: Stats,
    pub histogram: Histogram,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataRef {
    pub path: PathBuf,
    pub sha256: String,
    pub rows: usize,
}

/// The drift report; its JSON form is the CLI contract.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub reference: DataRef,
    pub current: DataRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    pub method: Option<Method>,
    pub threshold: Option<f64>,
    pub drift_share: f64,
    /// Columns sorted as in the reference file (prediction last).
    pub columns: Vec<ColumnDrift>,
    pub n_drifted: usize,
    pub share_drifted: f64,
    pub dataset_drift: bool,
    pub skipped: Vec<Skipped>,
    pub timestamp_column: Option<String>,
    pub quality: quality::Quality,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_time: Option<over_time::OverTime>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Loads the files (and model) and runs [`drift`].
pub fn drift_files(
    reference: &Path,
    current: &Path,
    model: Option<&Path>,
    opts: &DriftOptions,
    progress: &Progress,
) -> Result<DriftReport> {
    progress.set(0.0, "loading data");
    let model = model.map(Model::load).transpose()?;
    if crate::engine::data::batches::is_large(current) {
        if let Some(report) =
            stream::drift_streamed(reference, current, model.as_ref(), opts, None, progress)?
        {
            return Ok(report);
        }
    }
    let r = data::load(reference, progress)?;
    let c = data::load(current, progress)?;
    drift(&r, &c, model.as_ref(), opts, progress)
}

/// A column prepared for the statistics.
pub(crate) struct Prepared {
    pub name: String,
    pub role: Role,
    pub kind: ColumnKind,
    pub kind_source: Source,
    pub reference: Raw,
    pub current: Raw,
}

impl Prepared {
    /// Sorted finite numbers (numeric storage) or category counts of the given rows of the
    /// current data (`None`: all rows).
    pub fn run(
        &self,
        rows: Option<&rows::Rows>,
        method: Option<Method>,
        threshold: Option<f64>,
        ref_sorted: &Option<Vec<f64>>,
    ) -> column_drift::Outcome {
        match (&self.reference, &self.current, ref_sorted) {
            (
                Raw::Numeric { integer: ia, .. },
                Raw::Numeric {
                    values,
                    integer: ib,
                },
                Some(a),
            ) => {
                let b = window_stats::sorted_rows(values, rows);
                column_drift::evaluate(
                    self.kind,
                    Samples::Numeric {
                        reference: a,
                        current: &b,
                        integer: *ia && *ib,
                    },
                    method,
                    threshold,
                )
            }
            (Raw::Text { values: ra }, Raw::Text { values: rb }, _) => {
                let counts = Counts::from_texts(ra, rb, rows);
                column_drift::evaluate(self.kind, Samples::Categorical(&counts), method, threshold)
            }
            // Mixed storage never reaches here: `prepare` converts both sides to one storage.
            _ => column_drift::evaluate(
                self.kind,
                Samples::Categorical(&Counts::default()),
                method,
                threshold,
            ),
        }
    }
}

/// Compares `current` with `reference`; `model` adds a `prediction` column.
pub fn drift(
    reference: &Dataset,
    current: &Dataset,
    model: Option<&Model>,
    opts: &DriftOptions,
    progress: &Progress,
) -> Result<DriftReport> {
    check_options(reference, current, opts)?;
    let mut warnings = Vec::new();
    let ref_names = reference.column_names();
    let cur_names: BTreeSet<String> = current.column_names().into_iter().collect();
    let timestamp = match &opts.timestamp {
        Some(t) => Some(t.clone()),
        None => over_time::detect_timestamp(current),
    };
    let wanted: Vec<String> = match &opts.columns {
        Some(cols) => cols.clone(),
        None => ref_names
            .iter()
            .filter(|c| cur_names.contains(*c) && Some(*c) != timestamp.as_ref())
            .cloned()
            .collect(),
    };

    progress.set(0.05, "reading columns");
    let mut skipped = Vec::new();
    let mut prepared = Vec::new();
    let mut type_mismatches = Vec::new();
    let decided: Vec<Result<_>> = wanted
        .par_iter()
        .map(|name| {
            progress.check()?;
            let (r, c) = match prepare::read_both(name, opts, reference, current)? {
                Ok(both) => both,
                Err(reason) => return Ok(Err((reason, None))),
            };
            let role = if opts.target.as_deref() == Some(name.as_str()) {
                Role::Target
            } else {
                Role::Feature
            };
            prepare_column(name, role, r, c, opts, reference, current)
        })
        .collect();
    for (name, d) in wanted.iter().zip(decided) {
        match d? {
            Ok(p) => prepared.push(p),
            Err((reason, mismatch)) => {
                if let Some(m) = mismatch {
                    type_mismatches.push(m);
                }
                skipped.push(Skipped {
                    name: name.clone(),
                    reason,
                });
            }
        }
    }
    if let Some(model) = model {
        progress.set(0.1, "running the model on both datasets");
        let (r, c, kind, w) = predictions::predict_both(model, reference, current, opts, progress)?;
        warnings.extend(w);
        prepared.push(Prepared {
            name: "prediction".into(),
            role: Role::Prediction,
            kind,
            kind_source: Source::Inferred,
            reference: r,
            current: c,
        });
    }
    if prepared.is_empty() {
        return Err(nothing_to_compare(
            &skipped,
            timestamp.as_deref(),
            &ref_names,
            &cur_names,
        ));
    }

    progress.set(0.4, "computing drift");
    let (sorted_refs, cols) = compare(&prepared, &mut skipped, opts, progress)?;
    warnings.extend(method_warning(opts, &cols));
    let n_drifted = cols.iter().filter(|c| c.drifted).count();
    let share = n_drifted as f64 / cols.len() as f64;

    progress.set(0.8, "data quality");
    let quality = quality::assess(
        reference,
        current,
        &prepared,
        type_mismatches,
        opts.max_rows_listed,
    )?;
    progress.check()?;
    let over_time = match (&opts.windows, &timestamp) {
        (Some(w), ts) => Some(over_time::compute(
            current,
            ts.as_deref(),
            w,
            &prepared,
            &sorted_refs,
            &cols
                .iter()
                .map(|c| (c.name.clone(), c.method, c.threshold))
                .collect::<Vec<_>>(),
            opts,
            progress,
        )?),
        (None, _) => None,
    };
    progress.set(1.0, "done");
    Ok(DriftReport {
        reference: DataRef {
            path: reference.path.clone(),
            sha256: reference.sha256.clone(),
            rows: reference.rows(),
        },
        current: DataRef {
            path: current.path.clone(),
            sha256: current.sha256.clone(),
            rows: current.rows(),
        },
        model: model.map(|m| m.info.path.clone()),
        method: opts.method,
        threshold: opts.threshold,
        drift_share: opts.drift_share,
        columns: cols,
        n_drifted,
        share_drifted: share,
        dataset_drift: share >= opts.drift_share,
        skipped,
        timestamp_column: timestamp,
        quality,
        over_time,
        warnings,
    })
}

/// The reference of every prepared column sorted once, and each column's comparison of the
/// whole current data; columns without values on one side move to `skipped`.
#[allow(clippy::type_complexity)]
pub(crate) fn compare(
    prepared: &[Prepared],
    skipped: &mut Vec<Skipped>,
    opts: &DriftOptions,
    progress: &Progress,
) -> Result<(Vec<Option<Vec<f64>>>, Vec<ColumnDrift>)> {
    let sorted_refs: Vec<Option<Vec<f64>>> = prepared
        .par_iter()
        .map(|p| match &p.reference {
            Raw::Numeric { values, .. } => Some(columns::sorted_finite(values)),
            Raw::Text { .. } => None,
        })
        .collect();
    let mut results: Vec<Result<ColumnDrift>> = prepared
        .par_iter()
        .zip(&sorted_refs)
        .map(|(p, a)| {
            progress.check()?;
            column_result(p, a, opts)
        })
        .collect();
    let mut cols = Vec::with_capacity(results.len());
    for r in results.drain(..) {
        match r {
            Ok(c) => cols.push(c),
            Err(e) if e.kind() == super::ErrorKind::BadInput => {
                if let EngineError::Column {
                    column, message, ..
                } = &e
                {
                    skipped.push(Skipped {
                        name: column.clone(),
                        reason: message.clone(),
                    });
                } else {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if cols.is_empty() {
        return Err(EngineError::usage(
            "no column could be compared (see the reasons above)".to_string(),
        ));
    }
    Ok((sorted_refs, cols))
}
/// Missing, NaN and infinite values of a prepared sample.
pub(crate) fn missing_count(raw: &Raw) -> usize {
    match raw {
        Raw::Numeric { values, .. } => values.iter().filter(|v| !v.is_finite()).count(),
        Raw::Text { values } => values
            .codes
            .iter()
            .filter(|&&c| c == columns::MISSING)
            .count(),
    }
}

/// Why a column with `nr` reference and `nc` current values left cannot be compared.
pub(crate) fn no_values_left(nr: usize, nc: usize) -> Option<String> {
    (nr == 0 || nc == 0).then(|| {
        format!(
            "no values left in the {} data after dropping missing, NaN and infinite values",
            if nr == 0 { "reference" } else { "current" }
        )
    })
}

/// A column's result from its test's outcome; `counts`: values and missing values of the
/// reference and current samples, `[nr, nc, mr, mc]`.
pub(crate) fn column_drift_of(
    p: &Prepared,
    out: column_drift::Outcome,
    user_method: Option<Method>,
    [nr, nc, mr, mc]: [usize; 4],
) -> ColumnDrift {
    ColumnDrift {
        name: p.name.clone(),
        role: p.role,
        kind: p.kind,
        kind_source: p.kind_source,
        method: out.method,
        method_source: if user_method == Some(out.method) {
            Source::User
        } else {
            Source::Inferred
        },
        statistic: out.statistic,
        p_value: out.p_value,
        threshold: out.threshold,
        drifted: out.drifted,
        effect_size: out.effect_size,
        n_reference: nr,
        n_current: nc,
        missing_reference: mr,
        missing_current: mc,
        n_unique: out.n_values,
        stats: out.stats,
        histogram: out.histogram,
    }
}

fn column_result(p: &Prepared, a: &Option<Vec<f64>>, opts: &DriftOptions) -> Result<ColumnDrift> {
    let (mr, mc) = (missing_count(&p.reference), missing_count(&p.current));
    let (nr, nc) = (p.reference.len() - mr, p.current.len() - mc);
    if let Some(message) = no_values_left(nr, nc) {
        return Err(EngineError::Column {
            path: PathBuf::new(),
            column: p.name.clone(),
            message,
        });
    }
    let out = p.run(None, opts.method, opts.threshold, a);
    Ok(column_drift_of(p, out, opts.method, [nr, nc, mr, mc]))
}

//! Monitoring a deployed classifier over time (`assay monitor`): a prediction log (analysis)
//! against a labelled reference, cut into chunks ([`chunking`]); per chunk the performance
//! estimated without labels (CBPE, [`cbpe`], with [`calibration`]), the realized performance
//! where labels exist ([`realized`]), thresholds from the reference chunks (NannyML's
//! `StandardDeviationThreshold`: mean ± 3 standard deviations of the realized reference-chunk
//! values, clipped to the metric's range) and alerts, drift and data quality per chunk
//! ([`chunk_drift`]), and the outputs for Prometheus and Grafana ([`prometheus`], [`serve`]).
//! Every number of the estimate is NannyML 0.13.1's (proven on its shipped datasets).

pub mod calibration;
pub mod cbpe;
pub mod chunk_drift;
pub mod chunking;
mod fitted;
mod inputs;
pub mod log_data;
pub mod multivariate;
mod options;
pub mod prometheus;
pub mod realized;
mod report;
pub mod serve;
mod tasks;

use crate::engine::Warning;
use std::borrow::Cow;
use std::path::Path;

use rayon::prelude::*;

pub use chunking::{Chunking, Period};
pub use fitted::thresholds_of;
pub use options::*;
pub use report::*;

use super::data::{self, Dataset};
use super::drift::columns;
use super::error::{EngineError, Result};
use super::model::Model;
use super::progress::Progress;
use fitted::{collect_alerts, Engine};
use log_data::LogData;
use tasks::{binary_model, binary_task, multi_task, Task};

/// Loads the files and runs [`run`].
pub fn run_files(
    reference: &Path,
    analysis: &Path,
    analysis_target: Option<&Path>,
    model: Option<&Path>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    let log = Log {
        path: analysis,
        partitions: &[],
    };
    run_log(reference, log, analysis_target, model, opts, progress)
}

/// The prediction log to read: a file, or a lake-style set of which only the partitions
/// passing `partitions` are read (a monitoring window, `--where 'date>=2024-03-01'`).
#[derive(Debug, Clone, Copy)]
pub struct Log<'a> {
    pub path: &'a Path,
    pub partitions: &'a [data::Predicate],
}

/// [`run_files`] of a log of which only some partitions may be read. A log that would take
/// [`log_data::BY_COLUMNS_MIN_BYTES`] or more loaded whole is read by columns
/// ([`run_by_columns`]) unless the model scores the log.
pub fn run_log(
    reference: &Path,
    log: Log<'_>,
    analysis_target: Option<&Path>,
    model: Option<&Path>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    let large = data::batches::held_bytes_where(log.path, log.partitions)
        .is_some_and(|b| b >= log_data::BY_COLUMNS_MIN_BYTES);
    let passes = large.then(log_data::Passes::default);
    run_log_with(
        reference,
        log,
        analysis_target,
        model,
        opts,
        passes,
        progress,
    )
}

/// [`run_log`], the log read by columns as `passes` says when given (whatever its size), else
/// loaded whole. A read by columns that fails falls back to the whole load, and the report
/// says so ([`log_data::ColumnLog::fallback_warning`]).
pub fn run_log_with(
    reference: &Path,
    log: Log<'_>,
    analysis_target: Option<&Path>,
    model: Option<&Path>,
    opts: &MonitorOptions,
    passes: Option<log_data::Passes>,
    progress: &Progress,
) -> Result<MonitorReport> {
    progress.set(0.0, "loading data");
    let model = model.map(Model::load).transpose()?;
    let mut fell_back = None;
    if let Some(passes) = passes {
        match run_by_columns(
            reference,
            log,
            analysis_target,
            model.as_ref(),
            opts,
            passes,
            progress,
        )? {
            ByColumns::Report(report) => return Ok(*report),
            ByColumns::LoadWhole(warning) => fell_back = warning,
        }
    }
    // Both files at once (the reference's error first, as when read in turn).
    let (r, a) = rayon::join(
        || data::load(reference, progress),
        || data::load_where(log.path, log.partitions, progress),
    );
    let (r, (a, files)) = (r?, a?);
    let t = analysis_target
        .map(|p| data::load(p, progress))
        .transpose()?;
    let mut report = run(&r, &a, t.as_ref(), model.as_ref(), opts, progress)?;
    report.warnings.extend(fell_back);
    report.analysis.selected = files.map(|files| Selection {
        predicates: log.partitions.iter().map(ToString::to_string).collect(),
        files,
    });
    Ok(report)
}

/// What a run of a log read by columns gave.
#[derive(Debug)]
pub enum ByColumns {
    Report(Box<MonitorReport>),
    /// The log is to be loaded whole (which reports any problem with it): its scores come
    /// from the model (which needs every column), or it cannot be read in batches, or a read
    /// of it failed — then with the warning that the whole load's report is to carry.
    LoadWhole(Option<Warning>),
}

impl ByColumns {
    /// The report, if the log was read by columns.
    pub fn report(self) -> Option<MonitorReport> {
        match self {
            ByColumns::Report(r) => Some(*r),
            ByColumns::LoadWhole(_) => None,
        }
    }
}

/// [`run_log`] of a log read by columns ([`log_data::ColumnLog`], read as `passes` says),
/// whatever its size, or why it is to be loaded whole instead.
pub fn run_by_columns(
    reference: &Path,
    log: Log<'_>,
    analysis_target: Option<&Path>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    passes: log_data::Passes,
    progress: &Progress,
) -> Result<ByColumns> {
    progress.set(0.0, "loading data");
    let (r, c) = rayon::join(
        || data::load(reference, progress),
        || log_data::ColumnLog::open(log.path, log.partitions, passes),
    );
    let r = r?;
    let Some(c) = c.filter(|c| model.is_none() || scores_in(&LogData::Columns(c), opts)) else {
        return Ok(ByColumns::LoadWhole(None));
    };
    let t = analysis_target
        .map(|p| data::load(p, progress))
        .transpose()?;
    let mut out = run_columns(&r, &c, t.as_ref(), model, opts, progress)?;
    if let ByColumns::Report(report) = &mut out {
        report.analysis.selected = c.files.map(|files| Selection {
            predicates: log.partitions.iter().map(ToString::to_string).collect(),
            files,
        });
    }
    Ok(out)
}

/// [`run`] of the log at `path` read by columns (the window's log, read on demand), or why
/// it is to be loaded whole (as [`run_by_columns`]).
pub fn run_file_by_columns(
    reference: &Dataset,
    path: &Path,
    model: Option<&Model>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<ByColumns> {
    match log_data::ColumnLog::open(path, &[], log_data::Passes::default()) {
        Some(c) => run_columns(reference, &c, None, model, opts, progress),
        None => Ok(ByColumns::LoadWhole(None)),
    }
}

/// [`run_with`] of a log read by columns, or why it is to be loaded whole.
fn run_columns(
    reference: &Dataset,
    columns: &log_data::ColumnLog,
    analysis_target: Option<&Dataset>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<ByColumns> {
    let log = LogData::Columns(columns);
    if model.is_some() && !scores_in(&log, opts) {
        return Ok(ByColumns::LoadWhole(None));
    }
    let fallback = || ByColumns::LoadWhole(columns.fallback_warning());
    match columns.prepare(progress) {
        Err(_) if columns.failed() => return Ok(fallback()),
        r => r?,
    }
    match run_with(reference, log, analysis_target, model, opts, progress) {
        Ok(report) => Ok(ByColumns::Report(Box::new(report))),
        Err(_) if columns.failed() => Ok(fallback()),
        Err(e) => Err(e),
    }
}

/// Monitors `analysis` against `reference`.
pub fn run(
    reference: &Dataset,
    analysis: &Dataset,
    analysis_target: Option<&Dataset>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    run_with(
        reference,
        LogData::Whole(analysis),
        analysis_target,
        model,
        opts,
        progress,
    )
}

/// [`run`] of a log loaded whole or read by columns.
fn run_with(
    reference: &Dataset,
    analysis: LogData<'_>,
    analysis_target: Option<&Dataset>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    progress: &Progress,
) -> Result<MonitorReport> {
    let mut warnings = Vec::new();
    if opts.target.is_empty() {
        return Err(EngineError::usage(
            "--target names the label column of the reference",
        ));
    }
    if !reference.has_column(&opts.target) {
        return Err(EngineError::column(
            &reference.path,
            &opts.target,
            "the reference has no such label column; monitoring needs a labelled reference",
        ));
    }
    if analysis_target.is_some() && opts.id.is_none() {
        return Err(EngineError::usage(
            "--analysis-target needs --id COL to join the labels to the log",
        ));
    }
    let metrics: Vec<Metric> = if opts.metrics.is_empty() {
        Metric::DEFAULT.to_vec()
    } else {
        opts.metrics.clone()
    };
    let chunking = opts.chunking.unwrap_or(Chunking::Default);
    let by_period = matches!(chunking, Chunking::Period(_));
    // The log's label columns (of a log read by columns; a log loaded whole is itself). The
    // task reads the scores and predicted labels, one column at a time.
    let log = analysis.columns(&label_columns(opts))?;
    // Timestamps (sorted, file order). The log must have the named column; a reference
    // without it is chunked by rows (its chunks have no times) unless chunks are periods.
    let times: Option<(Option<Vec<f64>>, Vec<f64>)> = match &opts.timestamp {
        Some(col) => {
            let missing = |path: &Path, names: Vec<String>| {
                EngineError::column(
                    path,
                    col,
                    format!(
                        "no such timestamp column; the file has: {}",
                        names.join(", ")
                    ),
                )
            };
            if !analysis.has_column(col) {
                return Err(missing(analysis.path(), analysis.column_names()));
            }
            let r = if reference.has_column(col) {
                Some(chunking::read_timestamps(reference, col)?)
            } else if by_period {
                return Err(missing(&reference.path, reference.column_names()));
            } else {
                None
            };
            Some((r, chunking::read_timestamps(&*analysis.column(col)?, col)?))
        }
        None => None,
    };
    if by_period && times.is_none() {
        return Err(EngineError::usage(
            "--chunk-period needs a timestamp column: name it with --timestamp COL",
        ));
    }
    // Chunks of both files. An error here is reported after any error of the scores and
    // labels (their order before the estimate and the drift ran side by side).
    let n_ref = reference.rows();
    let n_ana = log.rows();
    let spans = chunking::split(
        n_ref,
        times.as_ref().and_then(|t| t.0.as_deref()),
        chunking,
        "reference",
    )
    .and_then(|r| {
        let a = chunking::split(
            n_ana,
            times.as_ref().map(|t| t.1.as_slice()),
            chunking,
            "analysis log",
        )?;
        Ok((r, a))
    });
    if let (Some(_), Some(id)) = (analysis_target, &opts.id) {
        // Named against every column of the log (read by columns, `log` has only some).
        if !analysis.has_column(id) {
            return Err(EngineError::column(
                analysis.path(),
                id,
                format!(
                    "no such column; the file has: {}",
                    analysis.column_names().join(", ")
                ),
            ));
        }
    }
    // The timestamps have given the chunks.
    drop(times);
    let estimate = |log: Cow<'_, Dataset>| {
        let mut warnings = Vec::new();
        estimate(
            reference,
            log,
            analysis,
            analysis_target,
            model,
            opts,
            &metrics,
            spans.as_ref().ok(),
            &mut warnings,
            progress,
        )
        .map(|e| (e, warnings))
    };
    let drift = || match &spans {
        Ok((ref_spans, ana_spans)) if opts.drift => Some(drift_of(
            reference, analysis, n_ana, opts, chunking, ref_spans, ana_spans, progress,
        )),
        _ => None,
    };
    let (estimated, drift) = match analysis {
        // The estimate and the drift need nothing of each other: they run side by side.
        LogData::Whole(_) => rayon::join(|| estimate(log), drift),
        // One after the other: the estimate lets go of its columns before the drift reads.
        LogData::Columns(_) => {
            let estimated = estimate(log);
            match estimated {
                Ok(e) => (Ok(e), drift()),
                Err(e) => (Err(e), None),
            }
        }
    };
    let (estimated, task_warnings) = estimated?;
    warnings.extend(task_warnings);
    let (ref_spans, ana_spans) = spans?;
    let Some((engine_summary, mut chunks)) = estimated else {
        return Err(EngineError::internal("monitor: chunks without an estimate"));
    };
    let mut drift_summary = None;
    if let Some(d) = drift {
        let d = d?;
        warnings.extend(d.warnings.iter().cloned());
        for (c, cd) in chunks.iter_mut().zip(d.per_chunk.iter()) {
            c.drift = cd.clone();
        }
        drift_summary = Some(d.summary);
    }

    let alerts = collect_alerts(&chunks);
    progress.set(1.0, "done");
    Ok(MonitorReport {
        problem: engine_summary.problem,
        classes: engine_summary.classes,
        metrics: metrics.iter().map(|m| m.name().to_string()).collect(),
        chunking,
        timestamp_column: opts.timestamp.clone(),
        model: model.map(ModelRef::of),
        reference: ReferenceSummary {
            path: reference.path.clone(),
            sha256: reference.sha256.clone(),
            rows: n_ref,
            chunks: ref_spans.len(),
            calibration: engine_summary.calibration,
            thresholds: engine_summary.thresholds,
        },
        analysis: DataRef {
            path: analysis.path().to_path_buf(),
            sha256: analysis.sha256().to_string(),
            rows: n_ana,
            chunks: ana_spans.len(),
            labelled_rows: engine_summary.analysis_labelled,
            labels_from: analysis_target.map(|t| t.path.clone()),
            selected: None,
        },
        drift: drift_summary,
        chunks,
        alerts,
        warnings,
    })
}

/// What the report keeps of the task and the fitted engine (not the rows' inputs).
struct EngineSummary {
    problem: Problem,
    classes: Vec<String>,
    calibration: Vec<ClassCalibration>,
    thresholds: std::collections::BTreeMap<String, ThresholdSummary>,
    analysis_labelled: usize,
}

type Spans = (Vec<chunking::Span>, Vec<chunking::Span>);

/// Scores, labels and calibration, then the estimated and realized performance of every
/// chunk (reference chunks first); `None` when the files could not be chunked (`spans`
/// `None`: that error is the caller's, reported after any error of the scores and labels).
/// `log` holds the log's label columns ([`label_columns`]), let go once they are read.
#[allow(clippy::too_many_arguments)]
fn estimate(
    reference: &Dataset,
    log: Cow<'_, Dataset>,
    analysis: LogData<'_>,
    analysis_target: Option<&Dataset>,
    model: Option<&Model>,
    opts: &MonitorOptions,
    metrics: &[Metric],
    spans: Option<&Spans>,
    warnings: &mut Vec<Warning>,
    progress: &Progress,
) -> Result<Option<(EngineSummary, Vec<Chunk>)>> {
    progress.set(0.1, "reading scores and labels");
    progress.check()?;
    // Labels of the log.
    let analysis_labels: Option<columns::Text> = match (analysis_target, &opts.id) {
        (Some(t), Some(id)) => {
            let (labels, unjoined) = inputs::join_labels(&log, t, id, &opts.target)?;
            if unjoined > 0 {
                warnings.push(Warning::rows_left_out(format!(
                    "{unjoined} of {} log rows have no label in {} yet; realized performance \
                     uses the labelled rows",
                    log.rows(),
                    t.path.display()
                )));
            }
            Some(labels)
        }
        _ if log.has_column(&opts.target) => Some(inputs::labels(&log, &opts.target)?),
        _ => None,
    };
    drop(log);
    let task = if opts.scores.is_empty() && opts.score.is_some()
        || opts.scores.is_empty() && model.is_some_and(binary_model)
    {
        binary_task(
            reference,
            analysis,
            model,
            opts,
            analysis_labels,
            warnings,
            progress,
        )?
    } else {
        multi_task(
            reference,
            analysis,
            model,
            opts,
            analysis_labels,
            warnings,
            progress,
        )?
    };
    if matches!(task, Task::Multiclass { .. }) && metrics.iter().any(|m| m.is_count()) {
        return Err(EngineError::usage(
            "the confusion-matrix metrics are binary only; leave confusion_matrix out of --metrics",
        ));
    }
    progress.set(0.4, "estimating performance per chunk");
    progress.check()?;
    let Some((ref_spans, ana_spans)) = spans else {
        return Ok(None);
    };
    if ref_spans.len() < 6 {
        warnings.push(Warning::small_sample(format!(
            "the reference makes only {} chunks; thresholds from fewer than 6 chunks are unreliable",
            ref_spans.len()
        )));
    }
    let engine = Engine::new(&task, metrics, opts, ref_spans, warnings)?;
    let all: Vec<(ChunkPeriod, &chunking::Span)> = ref_spans
        .iter()
        .map(|s| (ChunkPeriod::Reference, s))
        .chain(ana_spans.iter().map(|s| (ChunkPeriod::Analysis, s)))
        .collect();
    let chunks: Vec<Chunk> = all
        .par_iter()
        .enumerate()
        .map(|(i, (period, span))| engine.chunk(i, *period, span))
        .collect();
    progress.check()?;
    let (problem, classes) = match &task {
        Task::Binary { .. } => (Problem::BinaryClassification, Vec::new()),
        Task::Multiclass { classes, .. } => (Problem::MulticlassClassification, classes.clone()),
    };
    let summary = EngineSummary {
        problem,
        classes,
        calibration: engine.calibration_summary(&task),
        thresholds: engine.threshold_summary(),
        analysis_labelled: engine.analysis_labelled(&task),
    };
    Ok(Some((summary, chunks)))
}

/// Drift and data quality per chunk ([`chunk_drift`]).
#[allow(clippy::too_many_arguments)]
fn drift_of(
    reference: &Dataset,
    analysis: LogData<'_>,
    n_ana: usize,
    opts: &MonitorOptions,
    chunking: Chunking,
    ref_spans: &[chunking::Span],
    ana_spans: &[chunking::Span],
    progress: &Progress,
) -> Result<chunk_drift::Computed> {
    let exclude: Vec<String> = [
        Some(opts.target.clone()),
        opts.id.clone(),
        opts.timestamp.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    chunk_drift::compute(
        reference,
        analysis,
        n_ana,
        &exclude,
        opts.timestamp.as_deref(),
        chunking,
        ref_spans,
        ana_spans,
        progress,
    )
}

/// Whether the log has the score columns (else the model scores it), as the tasks decide.
fn scores_in(log: &LogData<'_>, opts: &MonitorOptions) -> bool {
    if opts.scores.is_empty() {
        opts.score.as_ref().is_some_and(|c| log.has_column(c))
    } else {
        opts.scores.iter().all(|(_, c)| log.has_column(c))
    }
}

/// The log's columns the estimate's labels are read from: the label column and the ids.
fn label_columns(opts: &MonitorOptions) -> Vec<String> {
    [&opts.id, &Some(opts.target.clone())]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

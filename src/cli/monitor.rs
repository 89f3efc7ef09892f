//! `assay monitor --reference R --analysis A --target COL …`: performance over time without
//! labels (CBPE), realized performance, drift per chunk, alerts; Prometheus / Grafana outputs
//! and a `/metrics` endpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::output::{fmt_opt, with_progress, write_json};
use super::JsonTarget;
use crate::engine::analysis::{LoadedFiles, NoResults, Output, Planner};
use crate::engine::data::{lake, Predicate};
use crate::engine::monitor::prometheus::{self, ModelLabels};
use crate::engine::monitor::{
    run_log, serve, CalibrationChoice, ChunkPeriod, Chunking, Log, Metric, MonitorOptions,
    MonitorReport, Period, ThresholdSpec,
};
use crate::engine::workspace::{DatasetRole, Workspace};
use crate::engine::{EngineError, Progress, Result};

/// Exit code of `--fail-on-alert` when an analysis chunk alerts.
pub const ALERT_EXIT_CODE: i32 = 3;

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("chunks").args(["chunk_size", "chunk_period", "chunk_number"])))]
pub struct Args {
    /// A workspace (*.assay.json) with a prediction log (dataset role `log`): the log is
    /// monitored against the evaluation data with the workspace's target, monitoring columns,
    /// chunking and model, through the same analysis pipeline as `report` and `package`.
    #[arg(long, conflicts_with_all = [
        "reference", "analysis", "target", "score", "scores", "prediction", "model",
        "features", "timestamp", "analysis_target", "id", "chunk_size", "chunk_period",
        "chunk_number", "metrics", "thresholds", "partitions",
    ])]
    pub workspace: Option<PathBuf>,
    /// The labelled reference (e.g. the test set the model was signed off on).
    #[arg(long, required_unless_present = "workspace")]
    pub reference: Option<PathBuf>,
    /// The prediction log to monitor (.csv, .parquet, .arrow, or a directory / quoted glob of
    /// them, read in sorted path order), rows in time order.
    #[arg(long, required_unless_present = "workspace")]
    pub analysis: Option<PathBuf>,
    /// A monitoring window of a partitioned log: only the `key=value` folders passing
    /// `COL OP VALUE` (OP: = != < <= > >=; numbers compare as numbers, the rest as text, so
    /// ISO dates in time order) are read; the others are never opened. Repeat to narrow
    /// (`--where 'date>=2024-03-01' --where 'date<2024-04-01'`).
    #[arg(long = "where", value_name = "COL OP VALUE", id = "partitions")]
    pub partitions: Vec<String>,
    /// The label column (of the reference; of the log or --analysis-target when present).
    #[arg(long, required_unless_present = "workspace")]
    pub target: Option<String>,
    /// Binary classifier: the positive-class score column.
    #[arg(long, conflicts_with = "scores")]
    pub score: Option<String>,
    /// Multiclass classifier: CLASS=COLUMN for every class.
    #[arg(long, value_delimiter = ',', value_name = "CLASS=COL,…")]
    pub scores: Vec<String>,
    /// The predicted-label column (default: score ≥ 0.5, or the top-scored class).
    #[arg(long)]
    pub prediction: Option<String>,
    /// An ONNX model run on the logged features when the files have no score columns.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Model input columns for a single [N, F] input (default: the model's metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Timestamp column (ISO 8601 text or a date/datetime column), sorted ascending.
    #[arg(long)]
    pub timestamp: Option<String>,
    /// A file of labels that arrived later, joined to the log by --id.
    #[arg(long, requires = "id")]
    pub analysis_target: Option<PathBuf>,
    /// The id column shared by the log and --analysis-target.
    #[arg(long)]
    pub id: Option<String>,
    /// Chunks of N rows (the last may be shorter).
    #[arg(long)]
    pub chunk_size: Option<usize>,
    /// Calendar chunks of the timestamp: day | week | month.
    #[arg(long, value_name = "day|week|month")]
    pub chunk_period: Option<String>,
    /// N chunks of rows/N rows (a remainder makes one more, as NannyML).
    #[arg(long)]
    pub chunk_number: Option<usize>,
    /// Metrics (default roc_auc,f1,precision,recall,specificity,accuracy; binary also
    /// confusion_matrix).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// Threshold rules per metric, e.g. {"f1": {"type": "constant", "lower": 0.9},
    /// "roc_auc": {"type": "standard_deviation", "std_lower_multiplier": 2}}.
    #[arg(long, value_name = "FILE.json")]
    pub thresholds: Option<PathBuf>,
    /// auto (NannyML's rule: isotonic when it lowers the calibration error on held-out
    /// folds) | isotonic | none.
    #[arg(long, default_value = "auto")]
    pub calibration: String,
    /// Leave out drift and data quality per chunk.
    #[arg(long)]
    pub no_drift: bool,
    /// Write the Prometheus text exposition (atomically; for node_exporter's textfile collector).
    #[arg(long, value_name = "OUT.prom")]
    pub prometheus: Option<PathBuf>,
    /// Write Prometheus alerting rules for those series.
    #[arg(long, value_name = "OUT.yml")]
    pub alert_rules: Option<PathBuf>,
    /// Write a Grafana dashboard (JSON model).
    #[arg(long, value_name = "OUT.json")]
    pub grafana: Option<PathBuf>,
    /// Serve /metrics at PORT, :PORT or HOST:PORT (host default 127.0.0.1) until stopped;
    /// the log is re-read when it changes.
    #[arg(long, value_name = "127.0.0.1:PORT")]
    pub serve: Option<String>,
    /// Model name label of the Prometheus series (default: the model's, else the log's file name).
    #[arg(long)]
    pub model_name: Option<String>,
    /// Model version label of the Prometheus series.
    #[arg(long)]
    pub model_version: Option<String>,
    /// Exit with code 3 when any analysis chunk alerts (for CI gates and cron jobs).
    #[arg(long)]
    pub fail_on_alert: bool,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

fn options(args: &Args) -> Result<MonitorOptions> {
    let mut scores = Vec::new();
    for s in &args.scores {
        let Some((class, col)) = s.split_once('=') else {
            return Err(EngineError::usage(format!(
                "--scores '{s}' is not CLASS=COLUMN"
            )));
        };
        if scores
            .iter()
            .any(|(c, _): &(String, String)| c == class.trim())
        {
            return Err(EngineError::usage(format!(
                "--scores names class '{class}' twice"
            )));
        }
        scores.push((class.trim().to_string(), col.trim().to_string()));
    }
    let chunking = match (&args.chunk_size, &args.chunk_period, &args.chunk_number) {
        (Some(n), _, _) => Some(Chunking::Size(*n)),
        (_, Some(p), _) => Some(Chunking::Period(match p.to_ascii_lowercase().as_str() {
            "day" | "d" => Period::Day,
            "week" | "w" => Period::Week,
            "month" | "m" => Period::Month,
            other => {
                return Err(EngineError::usage(format!(
                    "--chunk-period '{other}' is not day, week or month"
                )))
            }
        })),
        (_, _, Some(n)) => Some(Chunking::Number(*n)),
        _ => None,
    };
    let thresholds: BTreeMap<String, ThresholdSpec> = match &args.thresholds {
        None => BTreeMap::new(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| EngineError::file(p, format!("cannot read: {e}")))?;
            serde_json::from_str(&text).map_err(|e| {
                EngineError::file(
                    p,
                    format!(
                        "not a thresholds file ({e}); expected {{\"METRIC\": {{\"type\": \
                         \"standard_deviation\"|\"constant\", …}}}}"
                    ),
                )
            })?
        }
    };
    Ok(MonitorOptions {
        target: args.target.clone().unwrap_or_default(),
        score: args.score.clone(),
        scores,
        prediction: args.prediction.clone(),
        timestamp: args.timestamp.clone(),
        id: args.id.clone(),
        chunking,
        metrics: Metric::parse_list(&args.metrics)?,
        thresholds,
        features: args.features.clone(),
        drift: !args.no_drift,
        calibration: match args.calibration.to_ascii_lowercase().as_str() {
            "auto" => CalibrationChoice::Auto,
            "isotonic" => CalibrationChoice::Isotonic,
            "none" => CalibrationChoice::None,
            other => {
                return Err(EngineError::usage(format!(
                    "--calibration '{other}' is not auto, isotonic or none"
                )))
            }
        },
    })
}

fn compute(args: &Args, opts: &MonitorOptions, progress: &Progress) -> Result<MonitorReport> {
    match (&args.workspace, &args.reference, &args.analysis) {
        (Some(w), _, _) => workspace_monitor(w, progress),
        (None, Some(reference), Some(analysis)) => run_log(
            reference,
            Log {
                path: analysis,
                partitions: &predicates(args)?,
            },
            args.analysis_target.as_deref(),
            args.model.as_deref(),
            opts,
            progress,
        ),
        _ => Err(EngineError::usage(
            "give --reference and --analysis, or --workspace",
        )),
    }
}

/// Monitoring of a workspace's prediction log through the analysis pipeline (the planner
/// builds the options from the workspace, as for `report` and `package`).
fn workspace_monitor(path: &Path, progress: &Progress) -> Result<MonitorReport> {
    let ws = Workspace::load(path)?;
    let log = ws.dataset(DatasetRole::Log).ok_or_else(|| {
        EngineError::file(
            path,
            "the workspace has no prediction log (a dataset with role \"log\")",
        )
    })?;
    if ws.dataset(DatasetRole::Evaluation).is_none() {
        return Err(EngineError::file(
            path,
            "the workspace has no evaluation data: monitoring needs it as the labelled reference",
        ));
    }
    if ws.roles.target.is_none() {
        return Err(EngineError::file(
            path,
            "the workspace sets no target (label) column",
        ));
    }
    let model = {
        let none = LoadedFiles::default();
        let p = Planner::new(&ws, &none, &NoResults);
        match (&ws.settings.monitor.model, p.monitor_model()) {
            (Some(label), None) => {
                return Err(EngineError::file(
                    path,
                    format!(
                    "settings.monitor.model names '{label}', which is not a model of the workspace"
                ),
                ))
            }
            (_, i) => i.and_then(|i| ws.models.get(i)).map(|m| m.path.clone()),
        }
    };
    let log = log.path.clone();
    let files = LoadedFiles::load_selected(
        &ws,
        |m| Some(&m.path) == model.as_ref(),
        |d| d.path == log || d.role == DatasetRole::Evaluation,
        progress,
    )?;
    let p = Planner::new(&ws, &files, &NoResults);
    let request = p
        .monitor()
        .ok_or_else(|| EngineError::internal("the monitoring request could not be planned"))?;
    match request.run(progress)? {
        Output::Monitor(m) => Ok(Arc::unwrap_or_clone(m)),
        _ => Err(EngineError::internal(
            "monitoring returned another analysis",
        )),
    }
}

fn predicates(args: &Args) -> Result<Vec<Predicate>> {
    args.partitions
        .iter()
        .map(|s| Predicate::parse(s))
        .collect()
}

/// The files `--serve` watches: the log (and the label file); of a lake-style log, the files
/// (of the partitions `--where` keeps) as listed at each scrape, so a new file is seen.
fn watched(args: &Args) -> Vec<PathBuf> {
    let paths: Vec<PathBuf> = match &args.workspace {
        Some(w) => Workspace::load(w)
            .ok()
            .and_then(|ws| ws.dataset(DatasetRole::Log).map(|d| d.path.clone()))
            .into_iter()
            .collect(),
        None => args
            .analysis
            .iter()
            .chain(args.analysis_target.iter())
            .cloned()
            .collect(),
    };
    let partitions = predicates(args).unwrap_or_default();
    paths
        .into_iter()
        .flat_map(|p| {
            if lake::is_set(&p) {
                lake::list_where(&p, &partitions)
                    .map(|parts| parts.into_iter().map(|part| part.path).collect())
                    .unwrap_or_default()
            } else {
                vec![p]
            }
        })
        .collect()
}

fn labels(args: &Args, r: &MonitorReport) -> ModelLabels {
    ModelLabels::from_report(r, args.model_name.as_deref(), args.model_version.as_deref())
}

/// Runs the command; returns the exit code on success (0, or 3 with `--fail-on-alert`).
pub fn run(args: Args) -> Result<i32> {
    let opts = options(&args)?;
    // Bind first, so a port in use fails before the work.
    let listener = match &args.serve {
        Some(a) => Some(serve::bind(serve::parse_addr(a)?)?),
        None => None,
    };
    let report = with_progress(|p| compute(&args, &opts, p))?;
    let model = labels(&args, &report);
    if let Some(p) = &args.prometheus {
        prometheus::write_atomic(p, &prometheus::exposition(&report, &model))?;
    }
    if let Some(p) = &args.alert_rules {
        prometheus::write_atomic(p, &prometheus::alert_rules(&model))?;
    }
    if let Some(p) = &args.grafana {
        prometheus::write_atomic(p, &prometheus::grafana_dashboard(&model, &report.metrics)?)?;
    }
    let code = if args.fail_on_alert && !report.alerts.is_empty() {
        ALERT_EXIT_CODE
    } else {
        0
    };
    if let Some(target) = &args.json {
        write_json(&report, target)?;
    } else {
        print_summary(&report);
    }
    if let Some(listener) = listener {
        let addr = listener
            .local_addr()
            .map_err(|e| EngineError::internal(format!("listener: {e}")))?;
        eprintln!("assay monitor: serving http://{addr}/metrics (Ctrl-C stops)");
        let mut text = prometheus::exposition(&report, &model);
        let mut seen = stamps(&watched(&args));
        let stop = Progress::none();
        serve::serve(&listener, &stop, None, || {
            let now = stamps(&watched(&args));
            if now != seen {
                match compute(&args, &opts, &Progress::none()) {
                    Ok(r) => {
                        text = prometheus::exposition(&r, &labels(&args, &r));
                        seen = now;
                        if let Some(p) = &args.prometheus {
                            if let Err(e) = prometheus::write_atomic(p, &text) {
                                eprintln!("assay monitor: {e}");
                            }
                        }
                    }
                    // A log caught mid-write: keep serving the last good metrics.
                    Err(e) => eprintln!("assay monitor: re-reading the log failed: {e}"),
                }
            }
            text.clone()
        })?;
    }
    Ok(code)
}

/// Name, size and modification time of the files that can grow (or come and go).
type Stamp = (PathBuf, Option<(u64, SystemTime)>);

fn stamps(paths: &[PathBuf]) -> Vec<Stamp> {
    paths
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)));
            (p.clone(), m)
        })
        .collect()
}

fn print_summary(r: &MonitorReport) {
    println!(
        "{} → {} ({} reference rows in {} chunks, {} log rows in {} chunks)",
        r.reference.path.display(),
        r.analysis.path.display(),
        r.reference.rows,
        r.reference.chunks,
        r.analysis.rows,
        r.analysis.chunks
    );
    if let Some(s) = &r.analysis.selected {
        println!(
            "log partitions where {} ({} files)",
            s.predicates.join(", "),
            s.files
        );
    }
    print!("{:<24} {:>7}", "chunk", "rows");
    for m in &r.metrics {
        print!(" {:>16}", m);
    }
    println!();
    for c in r
        .chunks
        .iter()
        .filter(|c| c.period == ChunkPeriod::Analysis)
    {
        print!("{:<24} {:>7}", c.key, c.rows);
        for m in &r.metrics {
            let e = c.estimated.get(m);
            let real = c.realized.get(m).and_then(|v| v.value);
            let flag = if e.is_some_and(|v| v.alert) { "!" } else { " " };
            let cell = match real {
                Some(x) => format!("{}/{x:.3}{flag}", fmt_opt(e.and_then(|v| v.value))),
                None => format!("{}{flag}", fmt_opt(e.and_then(|v| v.value))),
            };
            print!(" {cell:>16}");
        }
        println!();
    }
    println!("(estimated[/realized]; ! = outside the thresholds)");
    println!("{} alerts", r.alerts.len());
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
}

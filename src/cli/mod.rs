//! Command line: clap definitions, dispatch, and the mapping from engine errors to exit codes
//! (0 success, 2 bad input or usage, 1 internal or environment error).

mod args;
mod compare;
mod drift;
mod evaluate;
mod explain;
mod fairness;
mod importance;
mod inspect;
mod keygen;
mod monitor;
mod output;
mod package;
mod package_inputs;
mod pdp;
mod perf;
mod report;
mod robustness;
mod slices;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::engine::{EngineError, ErrorKind};

#[derive(Debug, Parser)]
#[command(name = "assay", version, about = "Offline model-ops workbench for ONNX models", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Describe a model (inputs, outputs, opsets, ops, metadata, hash) or a dataset (schema,
    /// missing values, summary statistics).
    Inspect(inspect::Args),
    /// Run a model on a labelled dataset and report metrics with bootstrap confidence
    /// intervals, curves and warnings.
    Evaluate(evaluate::Args),
    /// Compare two or more models on one labelled dataset: metric deltas with paired
    /// intervals, McNemar, DeLong, agreement, slice regressions and a promotion gate (exit 3
    /// when it fails).
    Compare(compare::Args),
    /// Compare a current dataset with a reference: per-column drift (KS, chi-square, Z,
    /// Wasserstein, Jensen-Shannon, PSI), dataset drift, drift over time and data quality.
    Drift(drift::Args),
    /// Metrics per group of sensitive columns (and intersections), fairlearn disparities with
    /// bootstrap intervals, judged against a fairness policy.
    Fairness(fairness::Args),
    /// Find the slices (single columns and pairs) where the model does worst.
    Slices(slices::Args),
    /// SHAP values of rows: exact, KernelSHAP, permutation or linear, against a background,
    /// with the additivity check.
    Explain(explain::Args),
    /// Permutation feature importance: how much the score drops when a feature is shuffled.
    Importance(importance::Args),
    /// Partial dependence (and ICE curves) of the prediction on one or two features.
    Pdp(pdp::Args),
    /// Open the window on the given models (.onnx), datasets (.csv, .parquet, .arrow) and/or
    /// workspace (.assay.json).
    Open(OpenArgs),
    /// Create a P-256 signing key pair (PKCS#8 PEM) for `assay package`.
    Keygen(keygen::Args),
    /// Build a signed deployment package: model, evidence, model card, deployment
    /// descriptors, sign-off, audit log and an OpenSSF model_signing signature.
    Package(Box<package::Args>),
    /// Write a self-contained HTML review report (metrics, charts, fairness, drift,
    /// sign-offs, reviewer notes) for a workspace or for models on a dataset.
    Report(Box<report::Args>),
    /// Time a model: session load, single-row latency percentiles, batch throughput at
    /// several batch sizes and thread counts, peak memory of inference.
    Perf(perf::Args),
    /// Flip rates and score changes under noise, missing/mean/out-of-range values and
    /// category swaps; monotonic constraints; a small adversarial search.
    Robustness(robustness::Args),
    /// Verify a signed package (folder, .zip or .tar.gz): exit 0 when everything holds, 4
    /// when the signature or any file does not.
    Verify(verify::Args),
    /// Monitor a prediction log over time: performance estimated without labels (CBPE),
    /// realized performance, drift per chunk, alerts (exit 3 with --fail-on-alert),
    /// Prometheus / Grafana outputs and a /metrics endpoint.
    Monitor(Box<monitor::Args>),
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// Files to open.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Where `--json` writes: a file path, or `-` for standard output.
#[derive(Debug, Clone)]
pub enum JsonTarget {
    Stdout,
    File(PathBuf),
}

impl std::str::FromStr for JsonTarget {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(if s == "-" {
            JsonTarget::Stdout
        } else {
            JsonTarget::File(PathBuf::from(s))
        })
    }
}

/// Runs a parsed command; returns the process exit code. Errors are printed as one line.
pub fn run(command: Command) -> i32 {
    let result = match command {
        Command::Inspect(args) => inspect::run(args).map(|()| 0),
        Command::Evaluate(args) => evaluate::run(args).map(|()| 0),
        Command::Drift(args) => drift::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Fairness(args) => fairness::run(args).map(|()| 0),
        Command::Slices(args) => slices::run(args).map(|()| 0),
        Command::Explain(args) => explain::run(args).map(|()| 0),
        Command::Importance(args) => importance::run(args).map(|()| 0),
        Command::Pdp(args) => pdp::run(args).map(|()| 0),
        Command::Open(_) => Err(EngineError::usage(
            "`assay open` needs the window; this build has no `gui` feature",
        )),
        Command::Keygen(args) => keygen::run(args).map(|()| 0),
        Command::Package(args) => package::run(*args).map(|()| 0),
        Command::Report(args) => report::run(*args).map(|()| 0),
        Command::Verify(args) => verify::run(args),
        Command::Perf(args) => perf::run(args).map(|()| 0),
        Command::Robustness(args) => robustness::run(args).map(|()| 0),
        Command::Monitor(args) => monitor::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("assay: error: {}", one_line(&e.to_string()));
            exit_code(&e)
        }
    }
}

pub fn exit_code(e: &EngineError) -> i32 {
    match e.kind() {
        ErrorKind::BadInput => 2,
        ErrorKind::Runtime | ErrorKind::Cancelled | ErrorKind::Internal => 1,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

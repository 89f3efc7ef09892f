//! `assay drift --reference R --current C …`: per-column drift, dataset drift and data quality.

use std::path::PathBuf;

use super::args::{non_negative, unit_interval, FeaturesArg, JsonArg};
use super::output::{fmt_opt, with_progress, write_json};
use crate::engine::drift::over_time::{Period, Windows};
use crate::engine::drift::{drift_files, DriftOptions, Method};
use crate::engine::{EngineError, Result};

/// Exit code of `--fail-on-drift` when dataset drift is found.
pub const DRIFT_EXIT_CODE: i32 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The reference dataset (.csv, .parquet, .arrow, or a directory / quoted glob of them).
    #[arg(long)]
    pub reference: PathBuf,
    /// The current dataset.
    #[arg(long)]
    pub current: PathBuf,
    /// An ONNX model run on both datasets; its output is compared as a `prediction` column.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Columns to compare (default: every column in both files except the timestamp).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Columns to treat as categorical.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Columns to treat as numeric.
    #[arg(long, value_delimiter = ',')]
    pub numeric: Vec<String>,
    /// auto (Evidently's per-column default) | ks | chi2 | z | wasserstein | jensenshannon | psi
    #[arg(long, default_value = "auto")]
    pub method: String,
    /// Drift threshold for every column, finite and ≥ 0 (default: 0.05 for p-values, 0.1
    /// for distances).
    #[arg(long, value_parser = non_negative)]
    pub threshold: Option<f64>,
    /// Dataset drift when the share of drifted columns, in [0, 1], is at least this.
    #[arg(long, default_value_t = 0.5, value_parser = unit_interval)]
    pub drift_share: f64,
    /// The target column (reported with role `target`).
    #[arg(long)]
    pub target: Option<String>,
    /// Timestamp column of the current data (default: detected ISO 8601 text column).
    #[arg(long)]
    pub timestamp: Option<String>,
    /// Drift over time: day | week | month (needs a timestamp) or a row count, e.g. 1000.
    #[arg(long, value_name = "day|week|month|N")]
    pub windows: Option<String>,
    #[command(flatten)]
    pub features: FeaturesArg,
    /// Exit with code 3 when dataset drift is found (for CI gates).
    #[arg(long)]
    pub fail_on_drift: bool,
    #[command(flatten)]
    pub json: JsonArg,
}

/// Runs the command; returns the exit code on success (0, or 3 with `--fail-on-drift`).
pub fn run(args: Args) -> Result<i32> {
    let mut opts = DriftOptions {
        columns: args.columns.clone(),
        categorical: args.categorical.clone(),
        numeric: args.numeric.clone(),
        threshold: args.threshold,
        drift_share: args.drift_share,
        target: args.target.clone(),
        timestamp: args.timestamp.clone(),
        features: args.features.features.clone(),
        ..DriftOptions::default()
    };
    if args.method != "auto" {
        opts.method = Some(Method::parse(&args.method).ok_or_else(|| {
            EngineError::usage(format!(
                "unknown --method '{}'; use auto, ks, chi2, z, wasserstein, jensenshannon or psi",
                args.method
            ))
        })?);
    }
    if let Some(w) = &args.windows {
        opts.windows = Some(match w.as_str() {
            "day" => Windows::Period(Period::Day),
            "week" => Windows::Period(Period::Week),
            "month" => Windows::Period(Period::Month),
            n => Windows::Rows(n.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
                EngineError::usage(format!(
                    "--windows '{n}' is not day, week, month or a positive row count"
                ))
            })?),
        });
    }
    let report = with_progress(|p| {
        drift_files(
            &args.reference,
            &args.current,
            args.model.as_deref(),
            &opts,
            p,
        )
    })?;
    let code = if args.fail_on_drift && report.dataset_drift {
        DRIFT_EXIT_CODE
    } else {
        0
    };
    if let Some(target) = &args.json.json {
        write_json(&report, target)?;
        return Ok(code);
    }
    println!(
        "{} → {} ({} vs {} rows)",
        report.reference.path.display(),
        report.current.path.display(),
        report.reference.rows,
        report.current.rows
    );
    println!();
    println!(
        "{:<20} {:<12} {:<14} {:>10} {:>10} {:>9} {:>12}  drift",
        "column", "kind", "method", "statistic", "p-value", "threshold", "effect size"
    );
    let mut order: Vec<usize> = (0..report.columns.len()).collect();
    order.sort_by_key(|&i| !report.columns[i].drifted);
    for i in order {
        let c = &report.columns[i];
        println!(
            "{:<20} {:<12} {:<14} {:>10} {:>10} {:>9} {:>12}  {}",
            truncate(&c.name, 20),
            format!("{:?}", c.kind).to_lowercase(),
            serde_json::to_value(c.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            fmt_opt(c.statistic),
            fmt_opt(c.p_value),
            c.threshold,
            fmt_opt(c.effect_size.value),
            if c.drifted { "DRIFT" } else { "-" }
        );
    }
    println!();
    println!(
        "{} of {} columns drifted (share {:.3}); dataset drift (share ≥ {}): {}",
        report.n_drifted,
        report.columns.len(),
        report.share_drifted,
        report.drift_share,
        if report.dataset_drift { "YES" } else { "no" }
    );
    for s in &report.skipped {
        println!("skipped {}: {}", s.name, s.reason);
    }
    let q = &report.quality;
    println!();
    println!(
        "quality: duplicated rows {} (reference) / {} (current); constant columns {}; \
         out-of-range columns {}; columns with unseen categories {}; type mismatches {}",
        q.reference.duplicated_rows,
        q.current.duplicated_rows,
        q.current.constant_columns.len(),
        q.out_of_range.len(),
        q.unseen_categories.len(),
        q.type_mismatches.len()
    );
    if !q.schema.only_in_reference.is_empty() || !q.schema.only_in_current.is_empty() {
        println!(
            "schema: only in reference [{}]; only in current [{}]",
            q.schema.only_in_reference.join(", "),
            q.schema.only_in_current.join(", ")
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(code)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

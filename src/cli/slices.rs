//! `assay slices --model M --data D --target T [--metric M] [--min-size F]`: weak-slice
//! discovery over single columns and pairs of columns.

use std::path::PathBuf;

use super::fairness::parse_cuts;
use super::output::{with_progress, write_json};
use super::JsonTarget;
use crate::engine::data::extract::InvalidRows;
use crate::engine::data::load;
use crate::engine::fairness::group_text;
use crate::engine::fairness::slices::{find_weak_slices, SliceSearchOptions};
use crate::engine::model::Model;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model (binary classifier or regressor).
    #[arg(long)]
    pub model: PathBuf,
    /// The labelled dataset (.csv, .parquet, .arrow).
    #[arg(long)]
    pub data: PathBuf,
    /// The target (label) column.
    #[arg(long)]
    pub target: String,
    /// Metric to compare: accuracy (default), selection_rate, true_positive_rate,
    /// false_positive_rate, false_negative_rate, precision; regression: mae (default), mse.
    #[arg(long)]
    pub metric: Option<String>,
    /// Minimum slice size: a fraction of rows when < 1, else a row count.
    #[arg(long, default_value_t = 0.05)]
    pub min_size: f64,
    /// Columns to search (default: all but the target).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Search single columns only (no pairs).
    #[arg(long)]
    pub no_pairs: bool,
    /// Number of slices to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Quantile bins for numeric columns.
    #[arg(long, default_value_t = 4)]
    pub bins: usize,
    /// User cut points for a numeric column, e.g. `--cuts age=30,50` (repeatable).
    #[arg(long, value_name = "COL=C1,C2,…")]
    pub cuts: Vec<String>,
    /// Decision threshold: predicted positive when p >= T.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Columns feeding a single [N, F] model input, in order (default: model metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Positive class (default: metadata `positive_class`, else the second class).
    #[arg(long)]
    pub positive_class: Option<String>,
    /// Drop rows with missing or non-finite features/target instead of failing.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = SliceSearchOptions::new(args.target.clone());
    opts.metric = args.metric.clone();
    opts.min_size = args.min_size;
    opts.columns = args.columns.clone();
    opts.pairs = !args.no_pairs;
    opts.top = args.top;
    opts.binning.quantiles = args.bins.max(1);
    opts.binning.cuts = parse_cuts(&args.cuts)?;
    opts.run.threshold = args.threshold;
    opts.run.features = args.features.clone();
    opts.run.positive_class = args.positive_class.clone();
    if args.drop_invalid {
        opts.run.invalid_rows = InvalidRows::Drop;
    }
    let res = with_progress(|p| {
        let model = Model::load(&args.model)?;
        let ds = load(&args.data, p)?;
        find_weak_slices(&model, &ds, &opts, p)
    })?;
    if let Some(target) = &args.json {
        return write_json(&res, target);
    }
    println!(
        "{} rows; {} overall {:.4}; {} slices of at least {} rows scored",
        res.n, res.metric, res.overall, res.candidates, res.min_size
    );
    println!();
    let names: Vec<String> = res
        .slices
        .iter()
        .map(|s| group_text(&s.conditions))
        .collect();
    let w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 80);
    println!(
        "{:<w$} {:>7} {:>9} {:>9}   {:<20} {:>9}",
        "slice",
        "count",
        res.metric.chars().take(9).collect::<String>(),
        "gap",
        "95% CI",
        "p"
    );
    for (s, name) in res.slices.iter().zip(&names) {
        println!(
            "{:<w$} {:>7} {:>9.4} {:>9.4}   [{:.4}, {:.4}] {:>9}",
            name,
            s.count,
            s.metric,
            s.gap,
            s.ci[0],
            s.ci[1],
            s.p_value
                .map_or_else(|| "—".to_string(), |p| format!("{p:.2e}"))
        );
    }
    for (c, why) in &res.skipped {
        eprintln!("note: column '{c}' not searched: {why}");
    }
    for w in &res.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

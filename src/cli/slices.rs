//! `assay slices --model M --data D --target T [--metric M] [--min-size F]`: weak-slice
//! discovery over single columns and pairs of columns.

use super::args::{count, non_negative, ModelRunArgs, OutputArgs, MAX_BINS, MAX_TOP};
use super::fairness::parse_cuts;
use super::output::with_progress;
use crate::engine::fairness::group_text;
use crate::engine::fairness::slices::SliceSearchOptions;
use crate::engine::fairness::slices_stream::slices_files;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: ModelRunArgs,
    /// Metric to compare: accuracy (default), selection_rate, true_positive_rate,
    /// false_positive_rate, false_negative_rate, precision; regression: mae (default), mse.
    #[arg(long)]
    pub metric: Option<String>,
    /// Minimum slice size: a fraction of rows when < 1, else a row count.
    #[arg(long, default_value_t = 0.05, value_parser = non_negative)]
    pub min_size: f64,
    /// Columns to search (default: all but the target).
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// Search single columns only (no pairs).
    #[arg(long)]
    pub no_pairs: bool,
    /// Number of slices to list (at most 10000).
    #[arg(long, default_value_t = 20, value_parser = count(0, MAX_TOP))]
    pub top: usize,
    /// Quantile bins (1 to 100) for numeric columns.
    #[arg(long, default_value_t = 4, value_parser = count(1, MAX_BINS))]
    pub bins: usize,
    /// User cut points for a numeric column, e.g. `--cuts age=30,50` (repeatable).
    #[arg(long, value_name = "COL=C1,C2,…")]
    pub cuts: Vec<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let r = &args.run;
    let mut opts = SliceSearchOptions::new(r.target.target.clone());
    opts.metric = args.metric.clone();
    opts.min_size = args.min_size;
    opts.columns = args.columns.clone();
    opts.pairs = !args.no_pairs;
    opts.top = args.top;
    opts.binning.quantiles = args.bins.max(1);
    opts.binning.cuts = parse_cuts(&args.cuts)?;
    opts.run = r.run_options(&args.out);
    let res = with_progress(|p| slices_files(&r.input.model.model, &r.input.data.data, &opts, p))?;
    args.out.emit(&res, print)
}

fn print(res: &crate::engine::fairness::slices::SliceSearch) {
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
}

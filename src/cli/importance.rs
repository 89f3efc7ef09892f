//! `assay importance --model M --data D --target COL [--repeats 5] …`: permutation feature
//! importance (score drop when a feature is shuffled).

use super::args::{
    count, DropInvalidArg, ModelDataArgs, OutputArgs, SeedArg, TargetArg, MAX_REPEATS,
};
use super::explain::parse_rows;
use crate::engine::explain::importance::{permutation_importance, Importance, ImportanceOptions};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: ModelDataArgs,
    #[command(flatten)]
    pub target: TargetArg,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Positive class of a binary classifier (default: metadata, else the second class).
    #[arg(long)]
    pub class: Option<String>,
    /// Shuffles per feature (1 to 1000).
    #[arg(long, default_value_t = 5, value_parser = count(1, MAX_REPEATS))]
    pub repeats: usize,
    /// Rows to use, half-open and 0-based (default: all).
    #[arg(long, value_name = "a..b")]
    pub rows: Option<String>,
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = ImportanceOptions::new(args.target.target.clone());
    opts.repeats = args.repeats;
    opts.seed = args.seed.seed;
    opts.invalid_rows = args.drop_invalid.policy();
    opts.class = args.class.clone();
    opts.rows = args.rows.as_deref().map(parse_rows).transpose()?;
    args.out.threads.apply(&mut opts.infer);
    let imp = args.input.load_and(|model, ds, p| {
        permutation_importance(model, args.input.features(), ds, &opts, p)
    })?;
    args.out.emit(&imp, print)
}

fn print(imp: &Importance) {
    println!(
        "permutation importance: drop of {} (baseline {:.6}) over {} shuffles, {} rows",
        imp.metric, imp.baseline_score, imp.repeats, imp.rows
    );
    println!();
    println!("{:<28} {:>12} {:>12}", "feature", "mean", "std");
    for f in &imp.features {
        println!(
            "{:<28} {:>12.6} {:>12.6}",
            f.feature, f.importances_mean, f.importances_std
        );
    }
}

//! `assay importance --model M --data D --target COL [--repeats 5] …`: permutation feature
//! importance (score drop when a feature is shuffled).

use super::args::{
    count, DataArg, DropInvalidArg, FeaturesArg, JsonArg, ModelArg, SeedArg, TargetArg, ThreadsArg,
    MAX_REPEATS,
};
use super::explain::parse_rows;
use super::output::{with_progress, write_json};
use crate::engine::data;
use crate::engine::explain::importance::{permutation_importance, ImportanceOptions};
use crate::engine::model::Model;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub target: TargetArg,
    /// Shuffles per feature (1 to 1000).
    #[arg(long, default_value_t = 5, value_parser = count(1, MAX_REPEATS))]
    pub repeats: usize,
    /// Rows to use, half-open and 0-based (default: all).
    #[arg(long, value_name = "a..b")]
    pub rows: Option<String>,
    /// Positive class of a binary classifier (default: metadata, else the second class).
    #[arg(long)]
    pub class: Option<String>,
    #[command(flatten)]
    pub features: FeaturesArg,
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = ImportanceOptions::new(args.target.target.clone());
    opts.repeats = args.repeats;
    opts.seed = args.seed.seed;
    opts.invalid_rows = args.drop_invalid.policy();
    opts.class = args.class.clone();
    opts.rows = args.rows.as_deref().map(parse_rows).transpose()?;
    args.threads.apply(&mut opts.infer);
    let imp = with_progress(|p| {
        let model = Model::load(&args.model.model)?;
        let ds = data::load(&args.data.data, p)?;
        permutation_importance(&model, args.features.features.as_deref(), &ds, &opts, p)
    })?;
    if let Some(target) = &args.json.json {
        return write_json(&imp, target);
    }
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
    Ok(())
}

//! `assay importance --model M --data D --target COL [--repeats 5] …`: permutation feature
//! importance (score drop when a feature is shuffled).

use std::path::PathBuf;

use super::explain::parse_rows;
use super::output::{with_progress, write_json};
use super::JsonTarget;
use crate::engine::data;
use crate::engine::explain::importance::{permutation_importance, ImportanceOptions};
use crate::engine::model::Model;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model.
    #[arg(long)]
    pub model: PathBuf,
    /// The labelled dataset.
    #[arg(long)]
    pub data: PathBuf,
    /// The target (label) column.
    #[arg(long)]
    pub target: String,
    /// Shuffles per feature.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Rows to use, half-open and 0-based (default: all).
    #[arg(long, value_name = "a..b")]
    pub rows: Option<String>,
    /// Positive class of a binary classifier (default: metadata, else the second class).
    #[arg(long)]
    pub class: Option<String>,
    /// Columns feeding a single [N, F] model input, in order (default: model metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Inference threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = ImportanceOptions::new(args.target.clone());
    opts.repeats = args.repeats;
    opts.seed = args.seed;
    opts.class = args.class.clone();
    opts.rows = args.rows.as_deref().map(parse_rows).transpose()?;
    if let Some(t) = args.threads {
        opts.infer.threads = t.max(1);
    }
    let imp = with_progress(|p| {
        let model = Model::load(&args.model)?;
        let ds = data::load(&args.data, p)?;
        permutation_importance(&model, args.features.as_deref(), &ds, &opts, p)
    })?;
    if let Some(target) = &args.json {
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

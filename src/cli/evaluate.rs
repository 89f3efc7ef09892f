//! `assay evaluate --model M --data D --target COL …`: metrics with confidence intervals.

use std::path::PathBuf;

use super::output::{fmt_opt, with_progress, write_json};
use super::JsonTarget;
use crate::engine::data::extract::InvalidRows;
use crate::engine::evaluate::{evaluate_files, EvalOptions, Task};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model.
    #[arg(long)]
    pub model: PathBuf,
    /// The labelled dataset (.csv, .parquet, .arrow).
    #[arg(long)]
    pub data: PathBuf,
    /// The target (label) column.
    #[arg(long)]
    pub target: String,
    /// Columns feeding a single [N, F] model input, in order (default: the model's
    /// `features` metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Positive class of a binary classifier (default: metadata `positive_class`, else the
    /// second class).
    #[arg(long)]
    pub positive_class: Option<String>,
    /// Decision threshold: predicted positive when p >= T.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Bootstrap resamples for confidence intervals (0 turns them off).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Drop rows with missing or non-finite features/target instead of failing.
    #[arg(long)]
    pub drop_invalid: bool,
    /// Inference threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = EvalOptions::new(args.target.clone());
    opts.features = args.features.clone();
    opts.positive_class = args.positive_class.clone();
    opts.threshold = args.threshold;
    opts.bootstrap.resamples = args.bootstrap;
    opts.bootstrap.seed = args.seed;
    if args.drop_invalid {
        opts.invalid_rows = InvalidRows::Drop;
    }
    if let Some(t) = args.threads {
        opts.infer.threads = t.max(1);
    }
    let eval = with_progress(|p| evaluate_files(&args.model, &args.data, &opts, p))?;
    if let Some(target) = &args.json {
        return write_json(&eval, target);
    }
    let task = match eval.task {
        Task::BinaryClassification => "binary classification",
        Task::MulticlassClassification => "multiclass classification",
        Task::Regression => "regression",
    };
    println!(
        "{} {} on {} ({} rows), {task}",
        eval.model.name.as_deref().unwrap_or("model"),
        eval.model.version.as_deref().unwrap_or(""),
        eval.data.path.display(),
        eval.n
    );
    if let (Some(pc), Some(t)) = (&eval.positive_class, eval.threshold) {
        println!("positive class {pc}, threshold {t}");
    }
    println!();
    let level = (eval.bootstrap.confidence * 100.0).round();
    println!(
        "{:<24} {:>10}   {}",
        "metric",
        "value",
        if eval.ci.is_empty() {
            String::new()
        } else {
            format!("{level}% CI")
        }
    );
    for (name, value) in &eval.metrics.0 {
        let ci = eval
            .ci
            .get(*name)
            .map_or_else(String::new, |[lo, hi]| format!("[{lo:.4}, {hi:.4}]"));
        println!("{name:<24} {:>10}   {ci}", fmt_opt(*value));
    }
    if let Some(cm) = &eval.confusion_matrix {
        println!();
        println!("confusion matrix (rows: true, columns: predicted)");
        let classes = eval.classes.clone().unwrap_or_default();
        print!("{:>12}", "");
        for c in &classes {
            print!(" {c:>10}");
        }
        println!();
        for (i, row) in cm.iter().enumerate() {
            print!("{:>12}", classes.get(i).map_or("", String::as_str));
            for v in row {
                print!(" {v:>10}");
            }
            println!();
        }
    }
    for w in &eval.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

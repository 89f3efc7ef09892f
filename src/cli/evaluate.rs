//! `assay evaluate --model M --data D --target COL …`: metrics with confidence intervals.

use super::args::{BootstrapArg, ModelRunArgs, OutputArgs, SeedArg};
use super::output::{fmt_opt, with_progress};
use crate::engine::evaluate::{evaluate_files, EvalOptions, Task};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: ModelRunArgs,
    #[command(flatten)]
    pub bootstrap: BootstrapArg,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let r = &args.run;
    let run = r.run_options(&args.out);
    let mut opts = EvalOptions::new(run.target);
    opts.features = run.features;
    opts.positive_class = run.positive_class;
    opts.threshold = run.threshold;
    opts.invalid_rows = run.invalid_rows;
    opts.infer = run.infer;
    opts.bootstrap.resamples = args.bootstrap.bootstrap;
    opts.bootstrap.seed = args.seed.seed;
    let eval =
        with_progress(|p| evaluate_files(&r.input.model.model, &r.input.data.data, &opts, p))?;
    args.out.emit(&eval, print)
}

fn print(eval: &crate::engine::evaluate::Evaluation) {
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
}

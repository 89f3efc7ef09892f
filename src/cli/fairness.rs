//! `assay fairness --model M --data D --target T --sensitive COL [--sensitive a+b …]`: group
//! metrics, fairlearn disparities with bootstrap intervals, and the fairness policy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::args::{
    count, BootstrapArg, ModelRunArgs, OutputArgs, SeedArg, MAX_BINS, MAX_MIN_GROUP,
};
use super::output::{fmt_opt, with_progress, write_json};
use crate::engine::fairness::policy::Policy;
use crate::engine::fairness::{fairness_files, group_text, FairnessOptions};
use crate::engine::{EngineError, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: ModelRunArgs,
    /// A sensitive column; repeat for several slicings; `a+b` slices by the intersection.
    #[arg(long, required = true)]
    pub sensitive: Vec<String>,
    #[command(flatten)]
    pub bootstrap: BootstrapArg,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Groups with fewer rows are flagged too small to judge.
    #[arg(long, default_value_t = 30, value_parser = count(0, MAX_MIN_GROUP))]
    pub min_group_size: usize,
    /// Slicings with more groups are refused (bin the column, or raise this).
    #[arg(long, default_value_t = crate::engine::fairness::DEFAULT_MAX_GROUPS)]
    pub max_groups: usize,
    /// Quantile bins (1 to 100) for numeric sensitive columns with many distinct values.
    #[arg(long, default_value_t = 4, value_parser = count(1, MAX_BINS))]
    pub bins: usize,
    /// User cut points for a numeric column, e.g. `--cuts age=30,50` (repeatable).
    #[arg(long, value_name = "COL=C1,C2,…")]
    pub cuts: Vec<String>,
    /// Fairness policy JSON: {"rules": [{"metric": …, "op": ">=" | "<=", "threshold": …}]}.
    #[arg(long, value_name = "FILE.json")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `age=30,50` → ("age", [30, 50]).
pub fn parse_cuts(specs: &[String]) -> Result<BTreeMap<String, Vec<f64>>> {
    let mut out = BTreeMap::new();
    for s in specs {
        let (col, list) = s.split_once('=').ok_or_else(|| {
            EngineError::usage(format!("--cuts '{s}': expected COL=C1,C2,… e.g. age=30,50"))
        })?;
        let cuts = list
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<std::result::Result<Vec<f64>, _>>()
            .map_err(|_| EngineError::usage(format!("--cuts '{s}': cut points must be numbers")))?;
        out.insert(col.to_string(), cuts);
    }
    Ok(out)
}

pub fn run(args: Args) -> Result<()> {
    let slicings: Vec<Vec<String>> = args
        .sensitive
        .iter()
        .map(|s| s.split('+').map(|c| c.trim().to_string()).collect())
        .collect();
    let r = &args.run;
    let mut opts = FairnessOptions::new(r.target.target.clone(), slicings);
    opts.run = r.run_options(&args.out);
    opts.bootstrap.resamples = args.bootstrap.bootstrap;
    opts.bootstrap.seed = args.seed.seed;
    opts.min_group_size = args.min_group_size;
    opts.max_groups = args.max_groups;
    opts.binning.quantiles = args.bins.max(1);
    opts.binning.cuts = parse_cuts(&args.cuts)?;
    if let Some(p) = &args.policy {
        opts.policy = Some(Policy::load(p)?);
    }
    let report =
        with_progress(|p| fairness_files(&r.input.model.model, &r.input.data.data, &opts, p))?;
    if let Some(target) = &args.out.json.json {
        return write_json(&report, target);
    }
    println!(
        "{} rows, target {}{}",
        report.n,
        report.target,
        report
            .threshold
            .map_or_else(String::new, |t| format!(", threshold {t}"))
    );
    let level = (report.bootstrap.confidence * 100.0).round();
    for s in &report.slices {
        println!();
        println!("== {} ==", s.columns.join(" + "));
        let heads: Vec<String> = report.metrics.iter().map(|m| short(m)).collect();
        let widths: Vec<usize> = heads.iter().map(|h| h.chars().count().max(9)).collect();
        print!("{:<32} {:>7}", "group", "count");
        for (h, &w) in heads.iter().zip(&widths) {
            print!(" {h:>w$}");
        }
        println!();
        for g in &s.groups {
            print!("{:<32} {:>7}", clip(&group_text(&g.group), 32), g.count);
            for ((_, v), &w) in g.metrics.0.iter().zip(&widths) {
                print!(" {:>w$}", fmt_opt(*v));
            }
            println!("{}", if g.too_small { "  (too small)" } else { "" });
        }
        print!("{:<32} {:>7}", "overall", s.overall_count);
        for ((_, v), &w) in s.overall.0.iter().zip(&widths) {
            print!(" {:>w$}", fmt_opt(*v));
        }
        println!();
        if s.disparities.0.is_empty() {
            // Regression and multiclass: each metric's gap and ratio between groups.
            println!();
            println!(
                "{:<34} {:>10} {:>10}   {level}% CI of the difference",
                "metric", "difference", "ratio"
            );
            for m in &report.metrics {
                let Some(sm) = s.summaries.get(m) else {
                    continue;
                };
                let ci = sm
                    .ci
                    .get("difference_between_groups")
                    .map_or_else(String::new, |[a, b]| format!("[{a:.4}, {b:.4}]"));
                println!(
                    "{m:<34} {:>10} {:>10}   {ci}",
                    fmt_opt(sm.values.get("difference_between_groups")),
                    fmt_opt(sm.values.get("ratio_between_groups"))
                );
            }
        }
        if !s.disparities.0.is_empty() {
            println!();
            println!("{:<34} {:>9}   {level}% CI", "disparity", "value");
            for (name, v) in &s.disparities.0 {
                let ci =
                    s.ci.get(name)
                        .map_or_else(String::new, |[a, b]| format!("[{a:.4}, {b:.4}]"));
                println!("{name:<34} {:>9}   {ci}", fmt_opt(*v));
            }
        }
        if !s.policy.is_empty() {
            println!();
            println!("policy:");
            for r in &s.policy {
                let op = match r.op {
                    crate::engine::fairness::policy::Op::Ge => ">=",
                    crate::engine::fairness::policy::Op::Le => "<=",
                };
                println!(
                    "  {:<40} {op} {:<6} {:>9}  {:?}",
                    r.metric,
                    r.threshold,
                    fmt_opt(r.value),
                    r.result
                );
            }
        }
        for w in &s.warnings {
            eprintln!("warning: {}: {w}", s.columns.join(" + "));
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn short(m: &str) -> String {
    match m {
        "selection_rate" => "sel_rate",
        "accuracy" => "accuracy",
        "true_positive_rate" => "tpr",
        "false_positive_rate" => "fpr",
        "true_negative_rate" => "tnr",
        "false_negative_rate" => "fnr",
        "precision" => "precision",
        "mean_prediction" => "mean_pred",
        "mean_target" => "mean_y",
        other => {
            // Per-class metrics: `recall[setosa]` → `rec[setosa]`.
            for (long, abbr) in [
                ("recall[", "rec["),
                ("precision[", "prec["),
                ("selection_rate[", "sel["),
            ] {
                if let Some(rest) = other.strip_prefix(long) {
                    return format!("{abbr}{rest}");
                }
            }
            other
        }
    }
    .to_string()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

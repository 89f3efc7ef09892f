//! `assay explain --model M --data D [--rows a..b] [--background B] [--method …]
//! [--output-space raw|probability] [--nsamples N] [--class C] [--json PATH|-]`: SHAP values.

use std::ops::Range;
use std::path::PathBuf;

use super::args::{
    count, DropInvalidArg, ModelDataArgs, OutputArgs, SeedArg, MAX_BACKGROUND, MAX_NSAMPLES,
};
use super::output::write_json;
use crate::engine::data;
use crate::engine::explain::{explain, ExplainOptions, Method, OutputSpace, Summarise};
use crate::engine::{EngineError, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: ModelDataArgs,
    /// Rows to explain, half-open and 0-based: `0..50` is rows 0 to 49 (default: the first
    /// 50 rows, or all when fewer).
    #[arg(long, value_name = "a..b")]
    pub rows: Option<String>,
    /// Background dataset the absent features are drawn from (default: the data itself).
    #[arg(long)]
    pub background: Option<PathBuf>,
    /// Background rows used after summarisation (1 to 100000).
    #[arg(long, default_value_t = 100, value_parser = count(1, MAX_BACKGROUND))]
    pub background_size: usize,
    /// How the background is summarised: sample | kmeans.
    #[arg(long, default_value = "sample", value_name = "sample|kmeans")]
    pub background_summary: String,
    /// auto | exact | kernel | permutation | linear | tree | tree-path (auto: linear for a
    /// linear graph in raw space, exact up to 12 features, else kernel).
    #[arg(long, default_value = "auto")]
    pub method: String,
    /// probability (classifiers: the class probability) | raw (the logit of it).
    #[arg(long, default_value = "probability", value_name = "raw|probability")]
    pub output_space: String,
    /// KernelSHAP coalitions per row (default 2F + 2048; every coalition, exactly, when
    /// N ≥ 2^F − 2) or permutation SHAP evaluations per row (default 500); at most 1000000.
    #[arg(long, value_parser = count(1, MAX_NSAMPLES))]
    pub nsamples: Option<usize>,
    /// Class to explain (default: the positive class of a binary classifier, else the last).
    #[arg(long)]
    pub class: Option<String>,
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Parses `a..b` (half-open).
pub fn parse_rows(s: &str) -> Result<Range<usize>> {
    let bad = || {
        EngineError::usage(format!(
            "--rows '{s}' is not a range like 0..50 (half-open: rows a to b−1)"
        ))
    };
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let a: usize = a.trim().parse().map_err(|_| bad())?;
    let b: usize = b.trim().parse().map_err(|_| bad())?;
    Ok(a..b)
}

pub fn parse_space(s: &str) -> Result<OutputSpace> {
    match s {
        "raw" => Ok(OutputSpace::Raw),
        "probability" => Ok(OutputSpace::Probability),
        _ => Err(EngineError::usage(format!(
            "--output-space '{s}': use raw or probability"
        ))),
    }
}

fn parse_method(s: &str) -> Result<Option<Method>> {
    Ok(Some(match s {
        "auto" => return Ok(None),
        "exact" => Method::Exact,
        "kernel" => Method::Kernel,
        "permutation" => Method::Permutation,
        "linear" => Method::Linear,
        "tree" => Method::Tree,
        "tree-path" => Method::TreePath,
        _ => {
            return Err(EngineError::usage(format!(
                "--method '{s}': use auto, exact, kernel, permutation, linear, tree or tree-path"
            )))
        }
    }))
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = ExplainOptions {
        method: parse_method(&args.method)?,
        output_space: parse_space(&args.output_space)?,
        class: args.class.clone(),
        rows: 0..50,
        background_size: args.background_size,
        background: match args.background_summary.as_str() {
            "sample" => Summarise::Sample,
            "kmeans" => Summarise::KMeans,
            other => {
                return Err(EngineError::usage(format!(
                    "--background-summary '{other}': use sample or kmeans"
                )))
            }
        },
        nsamples: args.nsamples,
        seed: args.seed.seed,
        invalid_rows: args.drop_invalid.policy(),
        ..ExplainOptions::default()
    };
    args.out.threads.apply(&mut opts.infer);
    let given_rows = args.rows.as_deref().map(parse_rows).transpose()?;
    let e = args.input.load_and(|model, ds, p| {
        opts.rows = given_rows.clone().unwrap_or(0..ds.rows().min(50));
        let bg = match &args.background {
            Some(b) => data::load(b, p)?,
            None => ds.clone(),
        };
        explain(model, args.input.features(), ds, &bg, &opts, p)
    })?;
    if let Some(target) = &args.out.json.json {
        return write_json(&e, target);
    }
    let method = serde_json::to_value(e.method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let space = match e.output_space {
        OutputSpace::Raw => "raw",
        OutputSpace::Probability => "probability",
    };
    println!(
        "{method} SHAP values for rows {}..{} of {} ({space} space{}), background {} rows",
        e.row_indices.first().copied().unwrap_or(0),
        e.row_indices.last().map_or(0, |r| r + 1),
        args.input.data.data.display(),
        e.class_label
            .as_ref()
            .map_or_else(String::new, |c| format!(", class {c}")),
        e.background.rows
    );
    println!(
        "base value {:.6}; additivity max |error| {:.2e}",
        e.base_value, e.additivity_max_abs_error
    );
    println!();
    println!("{:<28} {:>12}", "feature", "mean |SHAP|");
    for (name, v) in &e.importance {
        println!("{name:<28} {v:>12.6}");
    }
    for n in &e.notes {
        eprintln!("note: {n}");
    }
    Ok(())
}

//! `assay pdp --model M --data D --feature F [--feature2 G] …`: partial dependence (and ICE).

use std::path::PathBuf;

use super::explain::{parse_rows, parse_space};
use super::output::{with_progress, write_json};
use super::JsonTarget;
use crate::engine::data;
use crate::engine::explain::pdp::{partial_dependence, PdpOptions};
use crate::engine::model::Model;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model.
    #[arg(long)]
    pub model: PathBuf,
    /// The dataset averaged over.
    #[arg(long)]
    pub data: PathBuf,
    /// The feature whose effect is shown.
    #[arg(long)]
    pub feature: String,
    /// A second feature: two-way partial dependence over the grid of both.
    #[arg(long)]
    pub feature2: Option<String>,
    /// Grid points per feature (fewer when the feature has fewer distinct values).
    #[arg(long, default_value_t = 100)]
    pub grid_resolution: usize,
    /// Grid range: the low and high percentiles of the feature.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.05,0.95",
        value_name = "LOW,HIGH"
    )]
    pub percentiles: Vec<f64>,
    /// Rows to average over, half-open and 0-based (default: all).
    #[arg(long, value_name = "a..b")]
    pub rows: Option<String>,
    /// Class whose probability is shown (default: positive / last class).
    #[arg(long)]
    pub class: Option<String>,
    /// probability | raw (logit of the probability).
    #[arg(long, default_value = "probability", value_name = "raw|probability")]
    pub output_space: String,
    /// Leave the per-row ICE curves out of the JSON.
    #[arg(long)]
    pub no_ice: bool,
    /// Columns feeding a single [N, F] model input, in order (default: model metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Inference threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

pub fn run(args: Args) -> Result<()> {
    let mut opts = PdpOptions::new(args.feature.clone());
    opts.feature2 = args.feature2.clone();
    opts.grid_resolution = args.grid_resolution;
    if let [lo, hi] = args.percentiles[..] {
        opts.percentiles = (lo, hi);
    } else {
        return Err(crate::engine::EngineError::usage(
            "--percentiles takes two numbers, e.g. 0.05,0.95",
        ));
    }
    opts.rows = args.rows.as_deref().map(parse_rows).transpose()?;
    opts.class = args.class.clone();
    opts.output_space = parse_space(&args.output_space)?;
    opts.ice = !args.no_ice;
    if let Some(t) = args.threads {
        opts.infer.threads = t.max(1);
    }
    let pd = with_progress(|p| {
        let model = Model::load(&args.model)?;
        let ds = data::load(&args.data, p)?;
        partial_dependence(&model, args.features.as_deref(), &ds, &opts, p)
    })?;
    if let Some(target) = &args.json {
        return write_json(&pd, target);
    }
    println!(
        "partial dependence of {} on {} ({} rows)",
        pd.class_label
            .as_ref()
            .map_or_else(|| "the prediction".to_string(), |c| format!("P(class {c})")),
        pd.features.join(" × "),
        pd.rows
    );
    println!();
    if pd.grid.len() == 1 {
        println!("{:>14} {:>12}", pd.features[0], "average");
        for (g, a) in pd.grid[0].iter().zip(&pd.average) {
            println!("{g:>14.6} {a:>12.6}");
        }
    } else {
        let (g1, g2) = (&pd.grid[0], &pd.grid[1]);
        print!("{:>12}", format!("{}\\{}", pd.features[0], pd.features[1]));
        for b in g2 {
            print!(" {b:>10.4}");
        }
        println!();
        for (i, a) in g1.iter().enumerate() {
            print!("{a:>12.4}");
            for k in 0..g2.len() {
                print!(" {:>10.6}", pd.average[i * g2.len() + k]);
            }
            println!();
        }
    }
    Ok(())
}

//! `assay pdp --model M --data D --feature F [--feature2 G] …`: partial dependence (and ICE).

use super::args::{count, unit_interval, DropInvalidArg, ModelDataArgs, OutputArgs, MAX_GRID};
use super::explain::{parse_rows, parse_space};
use super::output::write_json;
use crate::engine::explain::pdp::{partial_dependence, PdpOptions};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: ModelDataArgs,
    /// The feature whose effect is shown.
    #[arg(long)]
    pub feature: String,
    /// A second feature: two-way partial dependence over the grid of both.
    #[arg(long)]
    pub feature2: Option<String>,
    /// Grid points per feature, 2 to 1000 (fewer when the feature has fewer distinct values).
    #[arg(long, default_value_t = 100, value_parser = count(2, MAX_GRID))]
    pub grid_resolution: usize,
    /// Grid range: the low and high percentiles of the feature, each in [0, 1].
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.05,0.95",
        value_name = "LOW,HIGH",
        value_parser = unit_interval
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
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
    #[command(flatten)]
    pub out: OutputArgs,
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
    opts.invalid_rows = args.drop_invalid.policy();
    args.out.threads.apply(&mut opts.infer);
    let pd = args
        .input
        .load_and(|model, ds, p| partial_dependence(model, args.input.features(), ds, &opts, p))?;
    if let Some(target) = &args.out.json.json {
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

//! `assay robustness --model M --data D --target T …`: flip rates and score changes under
//! perturbations, monotonic constraints and a small adversarial search.

use super::args::{
    count, non_negative, ModelRunArgs, OutputArgs, SeedArg, MAX_ADVERSARIAL_ROWS, MAX_SAMPLE_ROWS,
};
use super::output::write_json;
use crate::engine::model::InferOptions;
use crate::engine::robustness::adversarial::AdversarialOptions;
use crate::engine::robustness::monotonic::{Direction, MonotonicConstraint};
use crate::engine::robustness::{run as run_robustness, RobustnessOptions};
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: ModelRunArgs,
    /// Rows sampled (seeded, without replacement; 1 to 1000000).
    #[arg(long, default_value_t = 1000, value_parser = count(1, MAX_SAMPLE_ROWS))]
    pub rows: usize,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Gaussian noise scales, in standard deviations of each feature (finite, ≥ 0).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.05,0.1,0.25", value_parser = non_negative)]
    pub noise_scales: Vec<f64>,
    /// A monotonic constraint FEATURE:increasing|decreasing[:CLASS]; repeat for more.
    #[arg(long, value_name = "FEATURE:DIRECTION[:CLASS]")]
    pub monotonic: Vec<String>,
    /// Rows the adversarial search tries (at most 100000).
    #[arg(long, default_value_t = 100, value_parser = count(0, MAX_ADVERSARIAL_ROWS))]
    pub adversarial_rows: usize,
    /// Largest move of a feature in the adversarial search, in standard deviations (finite, ≥ 0).
    #[arg(long, default_value_t = 3.0, value_parser = non_negative)]
    pub adversarial_bound: f64,
    /// Skip the adversarial search.
    #[arg(long)]
    pub no_adversarial: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "—".to_string(), |x| format!("{x:.digits$}"))
}

pub fn run(args: Args) -> Result<()> {
    let monotonic = args
        .monotonic
        .iter()
        .map(|s| MonotonicConstraint::parse(s))
        .collect::<Result<Vec<_>>>()?;
    let mut infer = InferOptions::default();
    args.out.threads.apply(&mut infer);
    let opts = RobustnessOptions {
        rows: args.rows,
        seed: args.seed.seed,
        noise_scales: args.noise_scales.clone(),
        positive_class: args.run.positive_class.positive_class.clone(),
        threshold: args.run.threshold.threshold,
        monotonic,
        adversarial: (!args.no_adversarial).then(|| AdversarialOptions {
            rows: args.adversarial_rows,
            max_std: args.adversarial_bound,
            ..AdversarialOptions::default()
        }),
        infer,
        invalid_rows: args.run.drop_invalid.policy(),
        ..RobustnessOptions::default()
    };
    let rep = args.run.input.load_and(|model, ds, p| {
        run_robustness(
            model,
            args.run.input.features(),
            ds,
            &args.run.target.target,
            &opts,
            p,
        )
    })?;
    if let Some(target) = &args.out.json.json {
        return write_json(&rep, target);
    }
    println!(
        "{} {} on {}: {} sampled rows (seed {})",
        rep.model.name.as_deref().unwrap_or("model"),
        rep.model.version.as_deref().unwrap_or(""),
        rep.data.path.display(),
        rep.sample_rows.len(),
        rep.seed
    );
    match (rep.baseline.accuracy, rep.baseline.mae) {
        (Some(a), _) => println!("baseline accuracy on the sample {a:.4}"),
        (_, Some(m)) => println!("baseline MAE on the sample {m:.4}"),
        _ => {}
    }
    println!();
    println!(
        "{:<18} {:<18} {:>6} {:>9} {:>12} {:>12} {:>9}",
        "perturbation",
        "feature",
        "scale",
        "flip rate",
        "mean |Δscore|",
        "max |Δscore|",
        if rep.baseline.mae.is_some() {
            "MAE"
        } else {
            "accuracy"
        }
    );
    for p in &rep.perturbations {
        let kind = serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let feature = p.feature.as_deref().unwrap_or("(all numeric)");
        let scale = p.scale.map_or_else(String::new, |s| format!("{s}"));
        if !p.applicable {
            println!(
                "{kind:<18} {feature:<18} {scale:>6} n/a: {}",
                p.reason.as_deref().unwrap_or("")
            );
            continue;
        }
        println!(
            "{kind:<18} {feature:<18} {scale:>6} {:>9} {:>12} {:>12} {:>9}",
            opt(p.flip_rate, 4),
            opt(p.mean_abs_score_change, 5),
            opt(p.max_abs_score_change, 5),
            opt(p.accuracy.or(p.mae), 4)
        );
    }
    if !rep.monotonic.is_empty() {
        println!();
        println!("monotonic constraints");
        for m in &rep.monotonic {
            let dir = match m.direction {
                Direction::Increasing => "increasing",
                Direction::Decreasing => "decreasing",
            };
            print!(
                "  {} {dir} ({}): {} of {} rows violate ({:.1}%), {} of {} steps",
                m.feature,
                m.score,
                m.violating_rows,
                m.rows_checked,
                m.violation_rate * 100.0,
                m.violating_steps,
                m.total_steps
            );
            if let Some(w) = &m.worst {
                print!(
                    "; worst: row {}, {} → {} moves the score {:.4} → {:.4}",
                    w.row, w.from_value, w.to_value, w.score_from, w.score_to
                );
            }
            println!();
        }
    }
    if let Some(a) = &rep.adversarial {
        println!();
        println!(
            "adversarial search (±{} std, {} features): {} of {} rows flipped ({} by one feature, {} by a pair)",
            a.max_std,
            a.features_searched.len(),
            a.flipped_rows,
            a.rows_tried,
            a.flipped_by_single_feature,
            a.flipped_by_pair
        );
        if let Some(s) = &a.size_std {
            println!(
                "  smallest flipping change (std): median {:.3}, min {:.3}, q1 {:.3}, q3 {:.3}, max {:.3}",
                s.median, s.min, s.q1, s.q3, s.max
            );
        }
    }
    for w in &rep.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

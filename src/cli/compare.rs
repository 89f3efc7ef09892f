//! `assay compare --model A --model B [--model C …] --data D --target T [--sensitive COL …]`:
//! each model's metrics, per pair deltas with paired intervals, McNemar, DeLong, agreement,
//! slice regressions and the promotion gate. Exit 3 when the gate fails.

use std::path::PathBuf;

use super::output::{fmt_opt, with_progress, write_json};
use super::JsonTarget;
use crate::engine::compare::gate::Gate;
use crate::engine::compare::{compare_files, CompareSettings, Comparison, Roles};
use crate::engine::fairness::group_text;
use crate::engine::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An ONNX model; repeat (at least twice). The first is the baseline, the last the
    /// candidate the gate judges.
    #[arg(long, required = true)]
    pub model: Vec<PathBuf>,
    /// The labelled dataset (.csv, .parquet, .arrow).
    #[arg(long)]
    pub data: PathBuf,
    /// The target (label) column.
    #[arg(long)]
    pub target: String,
    /// A sensitive column for slice regressions; repeat; `a+b` slices by the intersection.
    #[arg(long)]
    pub sensitive: Vec<String>,
    /// Bootstrap resamples for confidence intervals (0 turns them off).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Decision threshold: predicted positive when p >= T.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Positive class (default: each model's metadata `positive_class`, else the second class).
    #[arg(long)]
    pub positive_class: Option<String>,
    /// Promotion gate JSON: {"rules": [{"fact": "delta.roc_auc", "op": ">=", "value": 0}]}.
    #[arg(long, value_name = "FILE.json")]
    pub gate: Option<PathBuf>,
    /// Rows listed per pair where the models disagree most.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Inference threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

/// Exit code 3: the promotion gate failed.
pub const GATE_FAILED: i32 = 3;

pub fn run(args: Args) -> Result<i32> {
    let mut settings = CompareSettings {
        threshold: args.threshold,
        top_disagreements: args.top,
        ..CompareSettings::default()
    };
    settings.bootstrap.resamples = args.bootstrap;
    settings.bootstrap.seed = args.seed;
    if let Some(t) = args.threads {
        settings.infer.threads = t.max(1);
    }
    if let Some(path) = &args.gate {
        settings.gate = Some(Gate::load(path)?);
    }
    let roles = Roles {
        target: args.target.clone(),
        positive_class: args.positive_class.clone(),
        sensitive: args
            .sensitive
            .iter()
            .map(|s| s.split('+').map(|c| c.trim().to_string()).collect())
            .collect(),
    };
    let cmp = with_progress(|p| compare_files(&args.model, &args.data, &roles, &settings, p))?;
    if let Some(target) = &args.json {
        write_json(&cmp, target)?;
    } else {
        print_human(&cmp);
    }
    Ok(if cmp.gate.result.passed {
        0
    } else {
        GATE_FAILED
    })
}

fn print_human(c: &Comparison) {
    println!(
        "{} rows of {}, target {}",
        c.n,
        c.data.path.display(),
        c.target
    );
    if let (Some(pc), Some(t)) = (&c.positive_class, c.threshold) {
        println!("positive class {pc}, threshold {t}");
    }
    println!();
    print!("{:<22}", "metric");
    for m in &c.models {
        print!(" {:>14}", truncate(&m.label, 14));
    }
    println!();
    if let Some(first) = c.models.first() {
        for (name, _) in &first.evaluation.metrics.0 {
            print!("{name:<22}");
            for m in &c.models {
                print!(" {:>14}", fmt_opt(m.evaluation.metrics.get(name)));
            }
            println!();
        }
    }
    for p in &c.pairs {
        println!();
        println!("{} → {}", p.a, p.b);
        println!("{:<22} {:>10}   paired 95% CI", "delta (B − A)", "");
        for (name, d) in &p.delta.0 {
            let ci = p
                .delta_ci
                .get(name)
                .map_or_else(String::new, |[lo, hi]| format!("[{lo:+.4}, {hi:+.4}]"));
            let d = d.map_or_else(|| "—".to_string(), |x| format!("{x:+.4}"));
            println!("{name:<22} {d:>10}   {ci}");
        }
        if let Some(t) = p.mcnemar_table {
            println!(
                "McNemar: both right {}, only A {}, only B {}, both wrong {}; exact p {}, chi² p {}",
                t[0][0],
                t[0][1],
                t[1][0],
                t[1][1],
                fmt_opt(p.mcnemar_exact_p_value),
                fmt_opt(p.mcnemar_chi2_corrected.map(|x| x.p_value))
            );
        }
        if let Some(d) = &p.delong {
            println!(
                "DeLong: AUC {:.4} → {:.4} (Δ {:+.4}), z {}, p {}",
                d.auc_a,
                d.auc_b,
                d.auc_difference,
                fmt_opt(d.z),
                fmt_opt(d.p_value)
            );
        }
        if let (Some(k), Some(r)) = (p.label_disagreements, p.label_disagreement_rate) {
            println!("label disagreements {k} ({:.2}%)", r * 100.0);
        }
        println!(
            "score |Δ| mean {}, max {}; Pearson {}, Spearman {}",
            fmt_opt(p.mean_abs_prob_diff),
            fmt_opt(p.max_abs_prob_diff),
            fmt_opt(p.pearson_r),
            fmt_opt(p.spearman_r)
        );
        for n in &p.notes {
            println!("note: {n}");
        }
    }
    for s in &c.slices {
        for p in &s.pairs {
            let worse: Vec<String> = p
                .groups
                .iter()
                .filter(|g| g.significantly_worse)
                .map(|g| format!("{} ({})", group_text(&g.group), g.worse_metrics.join(", ")))
                .collect();
            println!();
            println!(
                "slices by {}, {} → {}: {}",
                s.columns.join(" + "),
                p.a,
                p.b,
                if worse.is_empty() {
                    "no group significantly worse".to_string()
                } else {
                    format!("significantly worse: {}", worse.join("; "))
                }
            );
        }
    }
    println!();
    println!(
        "gate ({} → {}): {}",
        c.gate.baseline,
        c.gate.candidate,
        if c.gate.result.passed { "PASS" } else { "FAIL" }
    );
    for r in &c.gate.result.rules {
        println!("  [{}] {}", if r.passed { "ok" } else { "FAIL" }, r.reason);
    }
    for w in &c.warnings {
        eprintln!("warning: {w}");
    }
    for m in &c.models {
        for w in &m.evaluation.warnings {
            eprintln!("warning ({}): {w}", m.label);
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let t: String = s.chars().take(n - 1).collect();
        format!("{t}…")
    }
}

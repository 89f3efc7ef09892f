//! `assay compare --model A --model B [--model C …] --data D --target T [--sensitive COL …]`:
//! each model's metrics, per pair deltas with paired intervals, McNemar, DeLong, agreement,
//! slice regressions and the promotion gate. Exit 3 when the gate fails.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::args::{
    count, BootstrapArg, DataArg, DropInvalidArg, FeaturesArg, OutputArgs, PositiveClassArg,
    SeedArg, TargetArg, ThresholdArg, MAX_TOP,
};
use super::output::{fmt_opt, with_progress, write_json};
use crate::engine::compare::gate::Gate;
use crate::engine::compare::{
    compare, model_labels, CompareSettings, Comparison, ModelInput, Roles,
};
use crate::engine::data;
use crate::engine::fairness::group_text;
use crate::engine::model::Model;
use crate::engine::{EngineError, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An ONNX model; repeat (at least twice). The first is the baseline, the last the
    /// candidate the gate judges (unless --gate-pair picks another pair).
    #[arg(long, required = true)]
    pub model: Vec<PathBuf>,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub target: TargetArg,
    #[command(flatten)]
    pub features: FeaturesArg,
    /// The feature columns of one model, in input order: N is its 1-based position among
    /// the --model flags, e.g. `--model-features 2=age,income,score`; repeatable; overrides
    /// --features for that model.
    #[arg(long, value_name = "N=COL,COL,…")]
    pub model_features: Vec<String>,
    /// A sensitive column for slice regressions; repeat; `a+b` slices by the intersection.
    #[arg(long)]
    pub sensitive: Vec<String>,
    #[command(flatten)]
    pub bootstrap: BootstrapArg,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub threshold: ThresholdArg,
    #[command(flatten)]
    pub positive_class: PositiveClassArg,
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
    /// Promotion gate JSON: {"rules": [{"fact": "delta.roc_auc", "op": ">=", "value": 0}]}.
    #[arg(long, value_name = "FILE.json")]
    pub gate: Option<PathBuf>,
    /// The pair the gate judges, as 1-based positions among the --model flags, baseline
    /// first: `--gate-pair 2,3` (default: the first and the last model).
    #[arg(long, value_name = "BASE,CAND", value_parser = gate_pair)]
    pub gate_pair: Option<(usize, usize)>,
    /// Rows listed per pair where the models disagree most (at most 10000).
    #[arg(long, default_value_t = 20, value_parser = count(0, MAX_TOP))]
    pub top: usize,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `B,C` (1-based) → 0-based (baseline, candidate); the engine checks them against the models.
fn gate_pair(s: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("'{s}' is not two 1-based model positions, baseline first (e.g. 1,3)");
    let (b, c) = s.split_once(',').ok_or_else(bad)?;
    let pos = |t: &str| match t.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(bad()),
    };
    let (b, c) = (pos(b)?, pos(c)?);
    if b >= c {
        return Err(bad());
    }
    Ok((b, c))
}

/// Exit code 3: the promotion gate failed.
pub const GATE_FAILED: i32 = 3;

/// Each model's feature list: its `--model-features N=…`, else `--features`, else `None`
/// (the model's metadata).
pub fn features_per_model(
    models: usize,
    common: Option<&[String]>,
    specs: &[String],
) -> Result<Vec<Option<Vec<String>>>> {
    let mut own: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for s in specs {
        let bad = |why: &str| {
            EngineError::usage(format!(
                "--model-features '{s}': {why}; expected N=COL,COL,… with N the 1-based position of a --model (1 to {models})"
            ))
        };
        let (n, list) = s.split_once('=').ok_or_else(|| bad("no '='"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 || n > models {
            return Err(bad("no such model"));
        }
        let cols: Vec<String> = list
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if cols.is_empty() {
            return Err(bad("no columns"));
        }
        if own.insert(n, cols).is_some() {
            return Err(bad("model given twice"));
        }
    }
    Ok((1..=models)
        .map(|i| own.remove(&i).or_else(|| common.map(<[String]>::to_vec)))
        .collect())
}

pub fn run(args: Args) -> Result<i32> {
    let mut settings = CompareSettings {
        threshold: args.threshold.threshold,
        top_disagreements: args.top,
        invalid_rows: args.drop_invalid.policy(),
        gate_pair: args.gate_pair,
        ..CompareSettings::default()
    };
    settings.bootstrap.resamples = args.bootstrap.bootstrap;
    settings.bootstrap.seed = args.seed.seed;
    args.out.threads.apply(&mut settings.infer);
    if let Some(path) = &args.gate {
        settings.gate = Some(Gate::load(path)?);
    }
    let roles = Roles {
        target: args.target.target.clone(),
        positive_class: args.positive_class.positive_class.clone(),
        sensitive: args
            .sensitive
            .iter()
            .map(|s| s.split('+').map(|c| c.trim().to_string()).collect())
            .collect(),
    };
    let features = features_per_model(
        args.model.len(),
        args.features.features.as_deref(),
        &args.model_features,
    )?;
    let cmp = with_progress(|p| {
        p.set(0.0, "loading models");
        let loaded: Vec<Model> = args
            .model
            .iter()
            .map(|m| Model::load(m))
            .collect::<Result<_>>()?;
        let ds = data::load(&args.data.data, p)?;
        let inputs: Vec<ModelInput<'_>> = loaded
            .iter()
            .zip(model_labels(&loaded))
            .zip(features)
            .map(|((model, label), features)| ModelInput {
                label,
                model,
                features,
            })
            .collect();
        compare(&inputs, &ds, &roles, &settings, p)
    })?;
    if let Some(target) = &args.out.json.json {
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

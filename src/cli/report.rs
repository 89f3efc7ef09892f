//! `assay report --workspace W --out report.html` or `assay report --model M [--model M2]
//! --data D --target T [--sensitive COL …] [--reference R] --out report.html`: runs the
//! evaluation of every model, fairness when sensitive columns are given and drift when a
//! reference is, then writes ONE self-contained HTML review report (`engine::report`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::args::{
    count, unit_interval, FeaturesArg, JsonArg, PositiveClassArg, MAX_BOOTSTRAP, MAX_SAMPLE_ROWS,
};
use super::output::{human_bytes, with_progress, write_json};
use crate::engine::compare::{
    compare, CompareSettings, Comparison, ModelInput, Roles as CompareRoles,
};
use crate::engine::data::{self, inspect, DatasetInfo};
use crate::engine::drift::{drift, DriftOptions, DriftReport};
use crate::engine::evaluate::{evaluate, EvalOptions, Evaluation, Task};
use crate::engine::explain::{explain, ExplainOptions, Explanation};
use crate::engine::fairness::policy::Policy;
use crate::engine::fairness::{fairness, FairnessOptions, FairnessReport};
use crate::engine::model::Model;
use crate::engine::package::audit::now_rfc3339;
use crate::engine::package::SignOff;
use crate::engine::perf::{measure, PerfOptions, PerfReport};
use crate::engine::report::{self, checks, ext, ModelSection, ReportInput, ReviewNote, Status};
use crate::engine::robustness::{self, RobustnessOptions, RobustnessReport};
use crate::engine::workspace::{stem, DatasetRole, Workspace};
use crate::engine::{EngineError, Progress, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A workspace (*.assay.json): its models, evaluation data, roles, reference/current
    /// data, settings, fairness policy, sign-offs and reviewer notes.
    #[arg(long, conflicts_with_all = ["model", "data"])]
    pub workspace: Option<PathBuf>,
    /// An ONNX model (repeat for several versions).
    #[arg(long, required_unless_present = "workspace")]
    pub model: Vec<PathBuf>,
    /// The labelled evaluation dataset.
    #[arg(long, required_unless_present = "workspace", requires = "target")]
    pub data: Option<PathBuf>,
    /// The target (label) column.
    #[arg(long)]
    pub target: Option<String>,
    #[command(flatten)]
    pub features: FeaturesArg,
    #[command(flatten)]
    pub positive_class: PositiveClassArg,
    /// A sensitive column for fairness (repeatable or comma-separated; `a+b` intersects).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Reference (training) data: drift of the evaluation data against it.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Report title (default: the workspace name or the model's name).
    #[arg(long)]
    pub title: Option<String>,
    /// Decision threshold in [0, 1] (default 0.5, or the workspace's).
    #[arg(long, value_parser = unit_interval)]
    pub threshold: Option<f64>,
    /// Bootstrap resamples for intervals (default 1000, or the workspace's; 0 turns them
    /// off; at most 100000).
    #[arg(long, value_parser = count(0, MAX_BOOTSTRAP))]
    pub bootstrap: Option<usize>,
    /// Bootstrap seed (default 0, or the workspace's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also explain the last model (the candidate) with SHAP on the first N evaluation rows
    /// (background: the reference data, else the evaluation data).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "200", value_parser = count(1, MAX_SAMPLE_ROWS))]
    pub explain: Option<usize>,
    /// Also measure latency, throughput and memory of every model (quick settings).
    #[arg(long)]
    pub perf: bool,
    /// Also run the robustness checks of every model (perturbation flips, adversarial search)
    /// on N evaluation rows.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "300", value_parser = count(1, MAX_SAMPLE_ROWS))]
    pub robustness: Option<usize>,
    /// The HTML file to write.
    #[arg(long, value_name = "report.html")]
    pub out: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

/// What the report is made from, after reading the workspace or the flags.
struct Plan {
    title: String,
    workspace: Option<String>,
    models: Vec<(String, PathBuf, Option<Vec<String>>)>,
    data: PathBuf,
    target: String,
    positive_class: Option<String>,
    slicings: Vec<Vec<String>>,
    reference: Option<PathBuf>,
    current: Option<PathBuf>,
    policy: Option<Policy>,
    threshold: f64,
    bootstrap: usize,
    seed: u64,
    signoffs: Vec<SignOff>,
    notes: Vec<ReviewNote>,
    /// The workspace's promotion gate (`None`: the default rules).
    gate: Option<crate::engine::compare::gate::Gate>,
}

fn plan(args: &Args) -> Result<Plan> {
    if let Some(w) = &args.workspace {
        let ws = Workspace::load(w)?;
        if ws.models.is_empty() {
            return Err(EngineError::file(w, "the workspace lists no model"));
        }
        let data = ws
            .dataset(DatasetRole::Evaluation)
            .map(|d| d.path.clone())
            .ok_or_else(|| EngineError::file(w, "the workspace has no evaluation dataset"))?;
        let target = args
            .target
            .clone()
            .or_else(|| ws.roles.target.clone())
            .ok_or_else(|| EngineError::file(w, "the workspace has no target column role"))?;
        let slicings = if args.sensitive.is_empty() {
            ws.slicings()
        } else {
            split_slicings(&args.sensitive)
        };
        return Ok(Plan {
            title: args.title.clone().unwrap_or_else(|| ws.name.clone()),
            workspace: Some(ws.name.clone()),
            models: ws
                .models
                .iter()
                .map(|m| (m.label.clone(), m.path.clone(), m.features.clone()))
                .collect(),
            data,
            target,
            positive_class: args
                .positive_class
                .positive_class
                .clone()
                .or(ws.roles.positive_class.clone()),
            slicings,
            reference: args
                .reference
                .clone()
                .or_else(|| ws.dataset(DatasetRole::Reference).map(|d| d.path.clone())),
            current: ws.dataset(DatasetRole::Current).map(|d| d.path.clone()),
            policy: ws.fairness_policy.clone(),
            threshold: args.threshold.unwrap_or(ws.settings.threshold),
            bootstrap: args.bootstrap.unwrap_or(ws.settings.bootstrap),
            seed: args.seed.unwrap_or(ws.settings.seed),
            signoffs: ws.signoffs.clone(),
            notes: ws.notes.clone(),
            gate: ws.gate.clone(),
        });
    }
    let data = args
        .data
        .clone()
        .ok_or_else(|| EngineError::usage("give --data (or --workspace)"))?;
    let target = args
        .target
        .clone()
        .ok_or_else(|| EngineError::usage("give --target with --data"))?;
    let models: Vec<_> = args
        .model
        .iter()
        .map(|m| (stem(m), m.clone(), args.features.features.clone()))
        .collect();
    let title = args.title.clone().unwrap_or_else(|| {
        format!(
            "Review of {}",
            models
                .iter()
                .map(|m| m.0.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    Ok(Plan {
        title,
        workspace: None,
        models,
        data,
        target,
        positive_class: args.positive_class.positive_class.clone(),
        slicings: split_slicings(&args.sensitive),
        reference: args.reference.clone(),
        current: None,
        policy: None,
        threshold: args.threshold.unwrap_or(0.5),
        bootstrap: args.bootstrap.unwrap_or(1000),
        seed: args.seed.unwrap_or(0),
        signoffs: Vec::new(),
        notes: Vec::new(),
        gate: None,
    })
}

fn split_slicings(s: &[String]) -> Vec<Vec<String>> {
    s.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split('+').map(|p| p.trim().to_string()).collect())
        .collect()
}

/// The results of one report run.
struct Results {
    infos: Vec<Model>,
    evaluations: Vec<Evaluation>,
    fairness: Vec<Option<FairnessReport>>,
    data: DatasetInfo,
    drift: Option<DriftReport>,
    comparison: Option<Comparison>,
    explanation: Option<Explanation>,
    perf: Vec<PerfReport>,
    robustness: Vec<RobustnessReport>,
}

/// What else to run besides evaluation, fairness and drift.
struct Extras {
    explain_rows: Option<usize>,
    perf: bool,
    robustness_rows: Option<usize>,
}

fn analyse(p: &Plan, extras: &Extras, progress: &Progress) -> Result<Results> {
    progress.set(0.0, "loading data");
    let ds = data::load(&p.data, progress)?;
    let data_info = inspect(&ds)?;
    let n = p.models.len().max(1) as f32;
    let mut infos = Vec::new();
    let mut evaluations = Vec::new();
    let mut fair = Vec::new();
    for (i, (label, path, features)) in p.models.iter().enumerate() {
        progress.check()?;
        let model = Model::load(path)?;
        let mut opts = EvalOptions::new(p.target.clone());
        opts.features = features.clone();
        opts.positive_class = p.positive_class.clone();
        opts.threshold = p.threshold;
        opts.bootstrap.resamples = p.bootstrap;
        opts.bootstrap.seed = p.seed;
        progress.set(0.1 + 0.7 * i as f32 / n, &format!("evaluating {label}"));
        let eval = evaluate(&model, &ds, &opts, progress)?;
        let f = if !p.slicings.is_empty() && eval.task != Task::MulticlassClassification {
            progress.set(
                0.1 + 0.7 * (i as f32 + 0.5) / n,
                &format!("fairness of {label}"),
            );
            let mut fo = FairnessOptions::new(p.target.clone(), p.slicings.clone());
            fo.run.features = features.clone();
            fo.run.positive_class = p.positive_class.clone();
            fo.run.threshold = p.threshold;
            fo.bootstrap.resamples = p.bootstrap;
            fo.bootstrap.seed = p.seed;
            fo.policy = p.policy.clone();
            Some(fairness(&model, &ds, &fo, progress)?)
        } else {
            None
        };
        infos.push(model);
        evaluations.push(eval);
        fair.push(f);
    }
    let reference = match &p.reference {
        Some(r) => Some(data::load(r, progress)?),
        None => None,
    };
    let drift_report = match &reference {
        Some(reference) => {
            progress.set(0.85, "drift");
            let current = match &p.current {
                Some(c) => Some(data::load(c, progress)?),
                None => None,
            };
            let opts = DriftOptions {
                target: Some(p.target.clone()),
                features: p.models.first().and_then(|m| m.2.clone()),
                ..DriftOptions::default()
            };
            Some(drift(
                reference,
                current.as_ref().unwrap_or(&ds),
                infos.first(),
                &opts,
                progress,
            )?)
        }
        None => None,
    };
    let comparison = if infos.len() >= 2 {
        progress.set(0.9, "comparing versions");
        let inputs: Vec<ModelInput> = p
            .models
            .iter()
            .zip(&infos)
            .map(|((label, _, features), model)| ModelInput {
                label: label.clone(),
                model,
                features: features.clone(),
            })
            .collect();
        let roles = CompareRoles {
            target: p.target.clone(),
            positive_class: p.positive_class.clone(),
            sensitive: p.slicings.clone(),
        };
        let mut settings = CompareSettings {
            threshold: p.threshold,
            gate: p.gate.clone(),
            ..CompareSettings::default()
        };
        settings.bootstrap.resamples = p.bootstrap;
        settings.bootstrap.seed = p.seed;
        Some(compare(&inputs, &ds, &roles, &settings, progress)?)
    } else {
        None
    };
    let explanation = match (extras.explain_rows, infos.last(), p.models.last()) {
        (Some(n), Some(model), Some((_, _, features))) => {
            progress.set(0.93, "explaining");
            let opts = ExplainOptions {
                rows: 0..n.clamp(1, ds.rows()),
                class: p.positive_class.clone(),
                ..ExplainOptions::default()
            };
            let background = reference.as_ref().unwrap_or(&ds);
            Some(explain(
                model,
                features.as_deref(),
                &ds,
                background,
                &opts,
                progress,
            )?)
        }
        _ => None,
    };
    let mut perf = Vec::new();
    let mut robust = Vec::new();
    for (model, (_, _, features)) in infos.iter().zip(&p.models) {
        if extras.perf {
            progress.set(0.95, "measuring speed");
            perf.push(measure(
                model,
                features.as_deref(),
                &ds,
                &PerfOptions::quick(),
                progress,
            )?);
        }
        if let Some(rows) = extras.robustness_rows {
            progress.set(0.97, "robustness");
            let opts = RobustnessOptions {
                rows: rows.max(1),
                seed: p.seed,
                positive_class: p.positive_class.clone(),
                threshold: p.threshold,
                ..RobustnessOptions::default()
            };
            robust.push(robustness::run(
                model,
                features.as_deref(),
                &ds,
                &p.target,
                &opts,
                progress,
            )?);
        }
    }
    Ok(Results {
        infos,
        evaluations,
        fairness: fair,
        data: data_info,
        drift: drift_report,
        comparison,
        explanation,
        perf,
        robustness: robust,
    })
}

#[derive(Serialize)]
struct Summary<'a> {
    path: &'a Path,
    bytes: usize,
    verdict: Status,
    checks: Vec<report::Gate>,
}

pub fn run(args: Args) -> Result<()> {
    let p = plan(&args)?;
    let extras = Extras {
        explain_rows: args.explain,
        perf: args.perf,
        robustness_rows: args.robustness,
    };
    let res = with_progress(|pr| analyse(&p, &extras, pr))?;
    let models: Vec<ModelSection> = p
        .models
        .iter()
        .enumerate()
        .map(|(i, (label, _, _))| ModelSection {
            label,
            info: res.infos.get(i).map(|m| &m.info),
            evaluation: res.evaluations.get(i),
            fairness: res.fairness.get(i).and_then(Option::as_ref),
        })
        .collect();
    let labels: Vec<&str> = p.models.iter().map(|m| m.0.as_str()).collect();
    let explanation = res
        .explanation
        .as_ref()
        .map(|e| ext::explanation_section(labels.last().copied().unwrap_or("model"), e));
    let comparison = res.comparison.as_ref().map(ext::comparison_section);
    let perf_list: Vec<(&str, &PerfReport)> = labels.iter().copied().zip(&res.perf).collect();
    let performance = (!perf_list.is_empty()).then(|| ext::performance_section(&perf_list));
    let rob_list: Vec<(&str, &RobustnessReport)> =
        labels.iter().copied().zip(&res.robustness).collect();
    let robustness = (!rob_list.is_empty()).then(|| ext::robustness_section(&rob_list));
    let input = ReportInput {
        title: p.title.clone(),
        generated: now_rfc3339(),
        workspace: p.workspace.clone(),
        models,
        data: Some(&res.data),
        drift: res.drift.as_ref(),
        card: None,
        gates: res.comparison.iter().map(ext::comparison_gate).collect(),
        signoffs: &p.signoffs,
        notes: &p.notes,
        extensions: report::Extensions {
            explanation: explanation.as_ref(),
            comparison: comparison.as_ref(),
            performance: performance.as_ref(),
            robustness: robustness.as_ref(),
        },
    };
    let html = report::render(&input)?;
    crate::engine::fsio::write(&args.out, "report", html.as_bytes())?;
    let (verdict, list) = checks(&input);
    if let Some(target) = &args.json.json {
        return write_json(
            &Summary {
                path: &args.out,
                bytes: html.len(),
                verdict,
                checks: list,
            },
            target,
        );
    }
    println!(
        "report  {} ({})",
        args.out.display(),
        human_bytes(html.len() as u64)
    );
    for g in &list {
        println!(
            "  {:<13} {} — {}",
            format!("[{:?}]", g.status).to_lowercase(),
            g.name,
            g.detail
        );
    }
    Ok(())
}

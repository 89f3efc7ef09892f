//! `assay report --workspace W --out report.html` or `assay report --model M [--model M2]
//! --data D --target T [--sensitive COL …] [--reference R] --out report.html`: runs the
//! evaluation of every model, fairness when sensitive columns are given and drift when a
//! reference is, then writes ONE self-contained HTML review report (`engine::report`).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::args::{count, FeaturesArg, JsonArg, PositiveClassArg, MAX_SAMPLE_ROWS};
use super::output::{human_bytes, with_progress, write_json};
use crate::engine::analysis::{compute, LoadedFiles, Planner, Review, Wants};
use crate::engine::package::audit::now_rfc3339;
use crate::engine::report::{self, Status};
use crate::engine::workspace::{DatasetRole, Workspace};
use crate::engine::{EngineError, Result};

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
    #[command(flatten)]
    pub settings: super::args::SettingsArgs,
    /// Also explain the focus model (the workspace's; with --model, the last: the candidate)
    /// with SHAP on the first N evaluation rows
    /// (background: the reference data, else the evaluation data).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "200", value_parser = count(1, MAX_SAMPLE_ROWS))]
    pub explain: Option<usize>,
    /// Also measure latency, throughput and memory of every model (its speed facts join the
    /// promotion gate, as in the window).
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

/// The workspace the report reviews: the `--workspace` file with the flags' overrides, or
/// one made from `--model`/`--data`/`--reference`. Returns it with the label the report
/// shows for it.
pub(super) fn review_workspace(args: &Args) -> Result<(Workspace, Option<String>)> {
    let (mut ws, label) = match &args.workspace {
        Some(w) => {
            let ws = Workspace::load(w)?;
            if ws.models.is_empty() {
                return Err(EngineError::file(w, "the workspace lists no model"));
            }
            if ws.dataset(DatasetRole::Evaluation).is_none() {
                return Err(EngineError::file(
                    w,
                    "the workspace has no evaluation dataset",
                ));
            }
            let label = Some(ws.name.clone());
            (ws, label)
        }
        None => {
            let data = args
                .data
                .clone()
                .ok_or_else(|| EngineError::usage("give --data (or --workspace)"))?;
            let models: Vec<(PathBuf, Option<Vec<String>>)> = args
                .model
                .iter()
                .map(|m| (m.clone(), args.features.features.clone()))
                .collect();
            let ws = Workspace::from_files(&models, Some(&data), args.reference.as_deref());
            (ws, None)
        }
    };
    if let Some(t) = &args.target {
        ws.roles.target = Some(t.clone());
    }
    if ws.roles.target.is_none() {
        return Err(match &args.workspace {
            Some(w) => EngineError::file(w, "the workspace has no target column role"),
            None => EngineError::usage("give --target with --data"),
        });
    }
    if let Some(p) = &args.positive_class.positive_class {
        ws.roles.positive_class = Some(p.clone());
    }
    let sensitive: Vec<String> = args
        .sensitive
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split('+').map(str::trim).collect::<Vec<_>>().join("+"))
        .collect();
    if !sensitive.is_empty() {
        ws.roles.sensitive = sensitive;
    }
    if let (Some(r), Some(_)) = (&args.reference, &args.workspace) {
        ws.datasets.retain(|d| d.role != DatasetRole::Reference);
        ws.add_dataset(r, DatasetRole::Reference);
        if ws.dataset(DatasetRole::Current).is_none() {
            if let Some(e) = ws.dataset(DatasetRole::Evaluation).cloned() {
                ws.datasets.push(crate::engine::workspace::DatasetEntry {
                    path: e.path,
                    role: DatasetRole::Current,
                });
            }
        }
    }
    args.settings.apply(&mut ws.settings);
    if let Some(n) = args.explain {
        ws.settings.explain.rows = n.max(1);
    }
    if let Some(n) = args.robustness {
        ws.settings.robustness_rows = n.max(1);
    }
    Ok((ws, label))
}

#[derive(Serialize)]
struct Summary<'a> {
    path: &'a Path,
    bytes: usize,
    verdict: Status,
    checks: Vec<report::Gate>,
    /// The warnings of the reviewed analyses by kind (`rows_left_out`, `undefined`, …).
    warnings: std::collections::BTreeMap<crate::engine::WarningKind, usize>,
}

pub fn run(args: Args) -> Result<()> {
    let (ws, label) = review_workspace(&args)?;
    let wants = Wants {
        explanation: args.explain.is_some(),
        perf: args.perf,
        robustness: args.robustness.is_some(),
    };
    let mut review = with_progress(|pr| {
        pr.set(0.0, "loading files");
        let files = LoadedFiles::load(&ws, pr)?;
        let results = compute(&ws, &files, wants, pr)?;
        let p = Planner::new(&ws, &files, &results);
        Ok(Review::gather(&p, label, None))
    })?;
    if let Some(t) = &args.title {
        review.title = t.clone();
    }
    let rendered = review.render(&now_rfc3339())?;
    let (html, verdict, list) = (rendered.html, rendered.verdict, rendered.checks);
    let warnings = rendered.warnings.into_iter().collect();
    let tmp = args.out.with_extension("html.part");
    std::fs::write(&tmp, &html)
        .and_then(|()| std::fs::rename(&tmp, &args.out))
        .map_err(|e| EngineError::file(&args.out, format!("cannot write the report: {e}")))?;
    if let Some(target) = &args.json.json {
        return write_json(
            &Summary {
                path: &args.out,
                bytes: html.len(),
                verdict,
                checks: list,
                warnings,
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

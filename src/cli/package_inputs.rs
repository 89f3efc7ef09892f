//! What `assay package` reviews: the `--workspace` file (with the flags' overrides) or a
//! workspace made from the flags, analysed through `engine::analysis` exactly as the window
//! does (evaluation, fairness with sensitive columns, drift with reference and current data,
//! the comparison when the workspace has several models), so the package seals the same
//! evidence as *Seal package* in the window.

use std::path::Path;

use super::package::Args;
use crate::engine::analysis::{compute, LoadedFiles, Planner, Review, Wants};
use crate::engine::workspace::{DatasetRole, Workspace};
use crate::engine::{EngineError, Progress, Result};

/// The workspace to package: its focus model is the one packaged (`--model` picks it).
pub fn package_workspace(args: &Args) -> Result<Workspace> {
    let mut ws = match &args.workspace {
        Some(w) => {
            let mut ws = Workspace::load(w)?;
            match &args.model {
                Some(m) => {
                    let found = ws.models.iter().find(|e| same_file(&e.path, m)).cloned();
                    let entry = match found {
                        Some(e) => e,
                        None => {
                            ws.add_model(m);
                            ws.models
                                .last()
                                .cloned()
                                .ok_or_else(|| EngineError::internal("model not added"))?
                        }
                    };
                    ws.settings.focus_model = Some(entry.label);
                }
                None if ws.models.is_empty() => {
                    return Err(EngineError::file(
                        w,
                        "the workspace lists no model; give --model",
                    ))
                }
                None => {}
            }
            if let Some(d) = &args.data {
                ws.datasets.retain(|e| e.role != DatasetRole::Evaluation);
                ws.add_dataset(d, DatasetRole::Evaluation);
            }
            if let Some(r) = &args.reference {
                ws.datasets.retain(|e| e.role != DatasetRole::Reference);
                ws.add_dataset(r, DatasetRole::Reference);
            }
            ws
        }
        None => {
            let model = args
                .model
                .clone()
                .ok_or_else(|| EngineError::usage("give --model (or --workspace with a model)"))?;
            Workspace::from_files(
                &[(model, args.features.clone())],
                args.data.as_deref(),
                args.reference.as_deref(),
            )
        }
    };
    if let Some(f) = &args.features {
        let i = ws.focus_index();
        if let Some(entry) = ws.models.get_mut(i) {
            entry.features = Some(f.clone());
        }
    }
    if let Some(t) = &args.target {
        ws.roles.target = Some(t.clone());
    }
    if let Some(p) = &args.positive_class {
        ws.roles.positive_class = Some(p.clone());
    }
    if !args.sensitive.is_empty() {
        ws.roles.sensitive = args.sensitive.clone();
    }
    args.settings.apply(&mut ws.settings);
    Ok(ws)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Runs the review of `ws` and gathers it (evidence the caller already gave by
/// `--evidence NAME=FILE` is left to the caller).
pub fn review(ws: &Workspace, label: Option<String>, progress: &Progress) -> Result<Review> {
    progress.set(0.0, "loading files");
    let files = LoadedFiles::load(ws, progress)?;
    let results = compute(ws, &files, Wants::default(), progress)?;
    let p = Planner::new(ws, &files, &results);
    Ok(Review::gather(&p, label, None))
}

//! What `assay package` takes from a workspace file, and the analyses it runs itself when its
//! inputs allow (fairness with `--sensitive`, drift with `--reference`), so a package carries
//! that evidence without separate runs.

use std::path::{Path, PathBuf};

use super::package::Args;
use crate::engine::drift::{drift_files, DriftOptions};
use crate::engine::fairness::{fairness_files, FairnessOptions};
use crate::engine::workspace::{DatasetRole, Workspace};
use crate::engine::{EngineError, Progress, Result};

/// Fills the options the command line left out from the workspace file: the model (the
/// first, or the one `--model` names), its feature list, the evaluation data, target,
/// positive class, sensitive columns, reference data; returns its sign-offs and reviewer notes.
pub fn apply_workspace(
    args: &mut Args,
    path: &Path,
) -> Result<(
    Vec<crate::engine::package::SignOff>,
    Vec<crate::engine::report::ReviewNote>,
)> {
    let ws = Workspace::load(path)?;
    let entry = match &args.model {
        Some(m) => ws.models.iter().find(|e| same_file(&e.path, m)),
        None => ws.models.first(),
    };
    if args.model.is_none() {
        let e = entry
            .ok_or_else(|| EngineError::file(path, "the workspace lists no model; give --model"))?;
        args.model = Some(e.path.clone());
    }
    if args.features.features.is_none() {
        args.features.features = entry.and_then(|e| e.features.clone());
    }
    if args.data.is_none() {
        args.data = ws.dataset(DatasetRole::Evaluation).map(|d| d.path.clone());
    }
    if args.target.is_none() {
        args.target = ws.roles.target.clone();
    }
    if args.positive_class.positive_class.is_none() {
        args.positive_class.positive_class = ws.roles.positive_class.clone();
    }
    if args.sensitive.is_empty() {
        args.sensitive = ws.roles.sensitive.clone();
    }
    if args.reference.is_none() {
        args.reference = ws.dataset(DatasetRole::Reference).map(|d| d.path.clone());
    }
    Ok((ws.signoffs, ws.notes))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Runs fairness (data + target + sensitive columns) and drift (reference + data) unless the
/// caller already gave that evidence; returns (name, JSON file) pairs written into `dir`.
pub fn run_analyses(
    args: &Args,
    model: &Path,
    dir: &Path,
    progress: &Progress,
) -> Result<Vec<(String, PathBuf)>> {
    let given = |name: &str| {
        args.evidence
            .iter()
            .any(|e| e.split('=').next() == Some(name))
    };
    let mut out = Vec::new();
    let write = |name: &str, value: &dyn erased::Json| -> Result<(String, PathBuf)> {
        std::fs::create_dir_all(dir)
            .map_err(|e| EngineError::file(dir, format!("cannot create: {e}")))?;
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, value.to_json()?)
            .map_err(|e| EngineError::file(&path, format!("cannot write: {e}")))?;
        Ok((name.to_string(), path))
    };
    if let (Some(data), Some(target)) = (&args.data, &args.target) {
        if !args.sensitive.is_empty() && !given("fairness") {
            progress.set(0.0, "fairness");
            let slicings = args
                .sensitive
                .iter()
                .map(|s| s.split('+').map(str::to_string).collect())
                .collect();
            let mut opts = FairnessOptions::new(target.clone(), slicings);
            opts.run.features = args.features.features.clone();
            opts.run.positive_class = args.positive_class.positive_class.clone();
            opts.run.threshold = args.threshold.threshold;
            opts.bootstrap.resamples = args.bootstrap.bootstrap;
            opts.bootstrap.seed = args.seed.seed;
            let report = fairness_files(model, data, &opts, progress)?;
            out.push(write("fairness", &report)?);
        }
        if let Some(reference) = args.reference.as_ref().filter(|_| !given("drift")) {
            progress.set(0.0, "drift");
            let opts = DriftOptions {
                target: Some(target.clone()),
                features: args.features.features.clone(),
                ..DriftOptions::default()
            };
            let report = drift_files(reference, data, Some(model), &opts, progress)?;
            out.push(write("drift", &report)?);
        }
    }
    Ok(out)
}

mod erased {
    use crate::engine::{EngineError, Result};

    /// Object-safe JSON encoding for the reports written above.
    pub trait Json {
        fn to_json(&self) -> Result<String>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Result<String> {
            serde_json::to_string_pretty(self)
                .map_err(|e| EngineError::internal(format!("JSON encoding failed: {e}")))
        }
    }
}

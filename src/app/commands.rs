//! What the user can ask for (open files, save, evaluate, …) and the per-frame bookkeeping
//! that turns finished jobs into cached results and starts the jobs the workspace needs.
//! Every computation is an engine call made inside a job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::data::{self, summary};
use crate::engine::evaluate::evaluate;
use crate::engine::model::Model;
use crate::engine::workspace::{DatasetRole, Workspace};
use crate::engine::ErrorKind;

use super::jobs::{FairnessResult, JobKey, LoadedData, Output};
use super::state::{EvalKey, Page, Slot, State};
use serde_json::json;

use crate::engine::drift::over_time::{detect_timestamp, Period, Windows};
use crate::engine::drift::{drift, DriftOptions};
use crate::engine::fairness::slices::{find_weak_slices, SliceSearchOptions};
use crate::engine::fairness::{fairness, FairnessOptions};

/// What kind of file a dropped or picked path is.
enum FileKind {
    Model,
    Data,
    Workspace,
    Unknown,
}

fn kind_of(path: &Path) -> FileKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".assay.json") {
        return FileKind::Workspace;
    }
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("onnx") => FileKind::Model,
        Some("csv" | "tsv" | "txt" | "parquet" | "pq" | "arrow" | "ipc" | "feather") => {
            FileKind::Data
        }
        _ => FileKind::Unknown,
    }
}

/// Adds models and datasets to the workspace, or opens a workspace file.
pub fn open_paths(state: &mut State, paths: &[PathBuf]) {
    for path in paths {
        match kind_of(path) {
            FileKind::Model => {
                state.workspace.add_model(path);
                state.models.remove(path);
                state.model_index = state
                    .workspace
                    .models
                    .iter()
                    .position(|m| &m.path == path)
                    .unwrap_or(0);
                state.dirty = true;
            }
            FileKind::Data => {
                let role = guess_role(&state.workspace, path);
                state.workspace.add_dataset(path, role);
                state.datasets.remove(path);
                state.dataset_index = state
                    .workspace
                    .datasets
                    .iter()
                    .position(|d| &d.path == path)
                    .unwrap_or(0);
                state.dirty = true;
            }
            FileKind::Workspace => match Workspace::load(path) {
                Ok(ws) => set_workspace(state, ws, Some(path.clone())),
                Err(e) => state.error(e.to_string()),
            },
            FileKind::Unknown => state.error(format!(
                "{}: Assay opens ONNX models (.onnx), datasets (.csv, .tsv, .parquet, .arrow) and workspaces (.assay.json)",
                path.display()
            )),
        }
    }
}

fn guess_role(ws: &Workspace, path: &Path) -> DatasetRole {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if ws.dataset(DatasetRole::Evaluation).is_none() {
        DatasetRole::Evaluation
    } else if name.contains("reference") || name.contains("train") {
        DatasetRole::Reference
    } else if name.contains("current") || name.contains("prod") {
        DatasetRole::Current
    } else {
        DatasetRole::Evaluation
    }
}

pub fn set_workspace(state: &mut State, ws: Workspace, path: Option<PathBuf>) {
    state.live_threshold = ws.settings.threshold;
    state.workspace = ws;
    state.workspace_path = path;
    state.model_index = 0;
    state.dataset_index = 0;
    state.selected_column = None;
    state.dirty = false;
    state.page = Page::Overview;
}

pub fn save_workspace(state: &mut State, path: &Path) -> bool {
    match state.workspace.save(path) {
        Ok(()) => {
            state.workspace_path = Some(path.to_path_buf());
            state.dirty = false;
            true
        }
        Err(e) => {
            state.error(e.to_string());
            false
        }
    }
}

/// Collects finished jobs into the cache and starts what the workspace needs next: loading
/// every model and dataset, then evaluating every model whose roles check out.
pub fn sync(state: &mut State) {
    for (key, result) in state.jobs.poll() {
        let failed = |e: &crate::engine::EngineError| match e.kind() {
            ErrorKind::Cancelled => "cancelled".to_string(),
            _ => e.to_string(),
        };
        match (key, result) {
            (JobKey::LoadModel(p), Ok(Output::Model(m))) => {
                audit(
                    state,
                    "model_loaded",
                    json!({"path": p, "sha256": m.info.sha256}),
                );
                state.models.insert(p, Slot::Ready(m));
            }
            (JobKey::LoadData(p), Ok(Output::Data(d))) => {
                audit(
                    state,
                    "dataset_loaded",
                    json!({"path": p, "sha256": d.ds.sha256, "rows": d.ds.rows()}),
                );
                state.datasets.insert(p, Slot::Ready(d));
            }
            (JobKey::Evaluate(k), Ok(Output::Evaluation(e))) => {
                audit(
                    state,
                    "evaluated",
                    json!({"model": e.model.sha256, "data": e.data.sha256, "settings": k.settings}),
                );
                state.evaluations.insert(k, Slot::Ready(e));
            }
            (JobKey::Distribution(p, c), Ok(Output::Distribution(d))) => {
                state.distributions.insert((p, c), Slot::Ready(d));
            }
            (JobKey::Fairness(k), Ok(Output::Fairness(f))) => {
                audit(
                    state,
                    "fairness",
                    json!({"data": f.report.data.sha256, "settings": k.settings}),
                );
                state.fairness.insert(k, Slot::Ready(f));
            }
            (JobKey::Drift(k), Ok(Output::Drift(d))) => {
                audit(
                    state,
                    "drift",
                    json!({"reference": d.reference.sha256, "current": d.current.sha256, "dataset_drift": d.dataset_drift}),
                );
                state.drift.insert(k, Slot::Ready(d));
            }
            (JobKey::Package(_), Ok(Output::Sealed(r))) => {
                audit(
                    state,
                    "package_sealed",
                    json!({"path": r.path, "subject_digest": r.subject_digest}),
                );
                state.package.sealed = Some(Ok(r));
            }
            (JobKey::Package(_), Ok(Output::Verified(v))) => {
                state.package.verified = Some(Ok(v));
            }
            (JobKey::Package(_), Ok(Output::Done(m))) => {
                state.package.message = Some(m);
            }
            (key @ JobKey::Analysis(..), Ok(Output::Analysis(a))) => {
                let (action, details) = super::analyses::describe(&a);
                audit(state, action, details);
                state.analyses.insert(key, Slot::Ready(a));
            }
            (key, Ok(_)) => state.error(format!("internal error: unexpected result for {key:?}")),
            (key, Err(e)) => {
                let text = failed(&e);
                // Not being a tree ensemble is an answer, not an error.
                let quiet = matches!(key, JobKey::Analysis(super::analyses::Kind::Forest, _));
                if e.kind() != ErrorKind::Cancelled && !quiet {
                    state.error(text.clone());
                }
                match key {
                    JobKey::LoadModel(p) => {
                        state.models.insert(p, Slot::Failed(text));
                    }
                    JobKey::LoadData(p) => {
                        state.datasets.insert(p, Slot::Failed(text));
                    }
                    JobKey::Evaluate(k) => {
                        state.evaluations.insert(k, Slot::Failed(text));
                    }
                    JobKey::Distribution(p, c) => {
                        state.distributions.insert((p, c), Slot::Failed(text));
                    }
                    JobKey::Fairness(k) => {
                        state.fairness.insert(k, Slot::Failed(text));
                    }
                    JobKey::Drift(k) => {
                        state.drift.insert(k, Slot::Failed(text));
                    }
                    JobKey::Package("seal") => state.package.sealed = Some(Err(text)),
                    JobKey::Package("verify") => state.package.verified = Some(Err(text)),
                    JobKey::Package(_) => state.package.message = Some(text),
                    key @ JobKey::Analysis(..) => {
                        state.analyses.insert(key, Slot::Failed(text));
                    }
                }
            }
        }
    }
    let model_paths: Vec<PathBuf> = state
        .workspace
        .models
        .iter()
        .map(|m| m.path.clone())
        .collect();
    for path in model_paths {
        if !state.models.contains_key(&path) {
            state.models.insert(path.clone(), Slot::Loading);
            let p = path.clone();
            state.jobs.spawn(
                JobKey::LoadModel(path.clone()),
                format!("Loading {}", file_name(&path)),
                move |progress| {
                    progress.set(0.0, &format!("reading {}", file_name(&p)));
                    let model = Model::load(&p)?;
                    model.validate()?;
                    Ok(Output::Model(Arc::new(model)))
                },
            );
        }
    }
    let data_paths: Vec<PathBuf> = state
        .workspace
        .datasets
        .iter()
        .map(|d| d.path.clone())
        .collect();
    for path in data_paths {
        if !state.datasets.contains_key(&path) {
            state.datasets.insert(path.clone(), Slot::Loading);
            let p = path.clone();
            state.jobs.spawn(
                JobKey::LoadData(path.clone()),
                format!("Loading {}", file_name(&path)),
                move |progress| {
                    let ds = data::load(&p, progress)?;
                    progress.set(0.9, "summarising columns");
                    let info = data::inspect(&ds)?;
                    progress.check()?;
                    Ok(Output::Data(Arc::new(LoadedData { ds, info })))
                },
            );
        }
    }
    // Every model on all rows (the Overview's table); the Evaluate page asks for its slice.
    let entries = state.workspace.models.clone();
    let slice = state.slice.take();
    for entry in &entries {
        request_evaluation(state, entry);
    }
    state.slice = slice;
}

/// Starts the evaluation of `entry` when its inputs are ready, its roles check out and it is
/// not cached yet.
pub fn request_evaluation(state: &mut State, entry: &crate::engine::workspace::ModelEntry) {
    let Some((key, opts)) = state.eval_key(entry) else {
        return;
    };
    if state.evaluations.contains_key(&key) || !state.role_issues(entry).is_empty() {
        return;
    }
    let (Some(model), Some(data)) = (
        state.model(&entry.path).cloned(),
        state.eval_data_path().and_then(|p| state.data(p)).cloned(),
    ) else {
        return;
    };
    state.evaluations.insert(key.clone(), Slot::Loading);
    let rows = state.slice.as_ref().map(|s| s.rows.clone());
    state.jobs.spawn(
        JobKey::Evaluate(key),
        format!("Evaluating {}", entry.label),
        move |progress| {
            let eval = match rows {
                Some(rows) => evaluate(&model, &data::subset(&data.ds, &rows)?, &opts, progress)?,
                None => evaluate(&model, &data.ds, &opts, progress)?,
            };
            Ok(Output::Evaluation(Arc::new(eval)))
        },
    );
}

/// The cache key and options of `entry`'s fairness analysis, once its evaluation inputs are
/// ready and the workspace names sensitive attributes.
pub fn fairness_key(
    state: &State,
    entry: &crate::engine::workspace::ModelEntry,
) -> Option<(EvalKey, FairnessOptions)> {
    let (eval_key, eval) = state.eval_key_on(entry, None)?;
    let slicings = state.workspace.slicings();
    if slicings.is_empty() {
        return None;
    }
    let mut opts = FairnessOptions::new(eval.target.clone(), slicings);
    opts.run.features = eval.features.clone();
    opts.run.positive_class = eval.positive_class.clone();
    opts.run.threshold = eval.threshold;
    opts.bootstrap = eval.bootstrap.clone();
    opts.policy = state.workspace.fairness_policy.clone();
    let key = EvalKey {
        settings: format!(
            "fairness|{}|{:?}|{:?}",
            eval_key.settings, opts.slicings, opts.policy
        ),
        ..eval_key
    };
    Some((key, opts))
}

/// Starts the fairness analysis and weak-slice search of `entry` unless cached.
pub fn request_fairness(state: &mut State, entry: &crate::engine::workspace::ModelEntry) {
    let Some((key, opts)) = fairness_key(state, entry) else {
        return;
    };
    if state.fairness.contains_key(&key) || !state.role_issues(entry).is_empty() {
        return;
    }
    let (Some(model), Some(data)) = (
        state.model(&entry.path).cloned(),
        state.eval_data_path().and_then(|p| state.data(p)).cloned(),
    ) else {
        return;
    };
    state.fairness.insert(key.clone(), Slot::Loading);
    state.jobs.spawn(
        JobKey::Fairness(key),
        format!("Fairness of {}", entry.label),
        move |progress| {
            let report = fairness(&model, &data.ds, &opts, progress)?;
            progress.set(0.9, "searching weak slices");
            let mut search = SliceSearchOptions::new(opts.run.target.clone());
            search.run = opts.run.clone();
            let slices = find_weak_slices(&model, &data.ds, &search, progress)?;
            Ok(Output::Fairness(Arc::new(FairnessResult {
                report,
                slices,
            })))
        },
    );
}

/// The cache key of the drift analysis (reference vs current, with the selected model's
/// predictions when asked), once both datasets (and the model) are loaded.
pub fn drift_key(state: &State) -> Option<EvalKey> {
    let r = state.data(&state.workspace.dataset(DatasetRole::Reference)?.path)?;
    let c = state.data(&state.workspace.dataset(DatasetRole::Current)?.path)?;
    let model = drift_model(state);
    Some(EvalKey {
        model_sha: model
            .as_ref()
            .map_or_else(String::new, |(m, _)| m.info.sha256.clone()),
        data_sha: format!("{}|{}", r.ds.sha256, c.ds.sha256),
        settings: format!(
            "drift|{:?}|{:?}|{:?}",
            state.workspace.roles,
            model.map(|(_, f)| f),
            state.workspace.settings
        ),
    })
}

/// The selected model and its feature list, when the Drift page compares predictions.
fn drift_model(state: &State) -> Option<(&Arc<Model>, Option<Vec<String>>)> {
    if !state.drift_with_model {
        return None;
    }
    let entry = state.selected_model()?;
    state
        .model(&entry.path)
        .map(|m| (m, entry.features.clone()))
}

/// Starts the drift analysis unless cached.
pub fn request_drift(state: &mut State) {
    let Some(key) = drift_key(state) else {
        return;
    };
    if state.drift.contains_key(&key) {
        return;
    }
    let (Some(r), Some(c)) = (
        state
            .workspace
            .dataset(DatasetRole::Reference)
            .and_then(|d| state.data(&d.path))
            .cloned(),
        state
            .workspace
            .dataset(DatasetRole::Current)
            .and_then(|d| state.data(&d.path))
            .cloned(),
    ) else {
        return;
    };
    let model = drift_model(state).map(|(m, f)| (m.clone(), f));
    let roles = state.workspace.roles.clone();
    state.drift.insert(key.clone(), Slot::Loading);
    state.jobs.spawn(
        JobKey::Drift(key),
        "Drift: reference vs current".into(),
        move |progress| {
            let mut opts = DriftOptions {
                target: roles.target.clone(),
                timestamp: roles.timestamp.clone(),
                ..DriftOptions::default()
            };
            // Windows by month when the current data has a timestamp, else six row chunks.
            let has_time = roles.timestamp.is_some() || detect_timestamp(&c.ds).is_some();
            opts.windows = Some(if has_time {
                Windows::Period(Period::Month)
            } else {
                Windows::Rows(c.ds.rows().div_ceil(6).max(1))
            });
            opts.features = model.as_ref().and_then(|(_, f)| f.clone());
            let report = drift(
                &r.ds,
                &c.ds,
                model.as_ref().map(|(m, _)| m.as_ref()),
                &opts,
                progress,
            )?;
            Ok(Output::Drift(Arc::new(report)))
        },
    );
}

/// Starts computing the distribution of `column` of the dataset at `path` unless cached.
pub fn request_distribution(state: &mut State, path: &Path, column: &str) {
    let key = (path.to_path_buf(), column.to_string());
    if state.distributions.contains_key(&key) {
        return;
    }
    let Some(data) = state.data(path).cloned() else {
        return;
    };
    state.distributions.insert(key.clone(), Slot::Loading);
    let c = column.to_string();
    state.jobs.spawn(
        JobKey::Distribution(key.0, key.1),
        format!("Summarising {column}"),
        move |_| {
            let d = summary::distribution(&data.ds, &c, 30)?;
            Ok(Output::Distribution(Arc::new(d)))
        },
    );
}

/// Drops cached evaluations that failed, so they are tried again.
pub fn retry_failed(state: &mut State) {
    state
        .evaluations
        .retain(|_, s| !matches!(s, Slot::Failed(_)));
    state.models.retain(|_, s| !matches!(s, Slot::Failed(_)));
    state.fairness.retain(|_, s| !matches!(s, Slot::Failed(_)));
    state.drift.retain(|_, s| !matches!(s, Slot::Failed(_)));
    state.datasets.retain(|_, s| !matches!(s, Slot::Failed(_)));
}

/// Appends to the session's audit log (a failure to encode is shown, never fatal).
pub fn audit(state: &mut State, action: &str, details: serde_json::Value) {
    if let Err(e) = state.audit.append(action, details) {
        state.error(e.to_string());
    }
}

pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

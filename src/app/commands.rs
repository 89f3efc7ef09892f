//! What the user can ask for (open files, save, evaluate, …) and the per-frame bookkeeping
//! that turns finished jobs into cached results and starts the jobs the workspace needs.
//! Every computation is an engine call made inside a job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::engine::analysis::{Kind, LoadedData, Request};
use crate::engine::data::summary;
use crate::engine::model::Model;
use crate::engine::workspace::{DatasetRole, Workspace};

use super::jobs::{Done, JobKey};
use super::state::{Failure, Page, Slot, State};

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
                state.loaded.models.remove(path);
                let i = state
                    .workspace
                    .models
                    .iter()
                    .position(|m| &m.path == path)
                    .unwrap_or(0);
                state.select_model(i);
                state.dirty = true;
            }
            FileKind::Data => {
                let role = guess_role(&state.workspace, path);
                state.workspace.add_dataset(path, role);
                state.loaded.datasets.remove(path);
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

/// Replaces the workspace (the shell gives the pages fresh structs: a weak slice's rows, a
/// selected column, belong to the workspace they were made on).
pub fn set_workspace(state: &mut State, ws: Workspace, path: Option<PathBuf>) {
    state.workspace = ws;
    state.workspace_path = path;
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

/// Collects finished jobs into the caches and starts what the workspace needs next: loading
/// every model and dataset, then evaluating every model whose roles check out.
pub fn sync(state: &mut State) {
    state.cache.next_frame();
    for (key, result) in state.jobs.poll() {
        match (key, result) {
            (JobKey::LoadModel(p), Ok(Done::Model(m))) => {
                state.audit("model_loaded", json!({"path": p, "sha256": m.info.sha256}));
                state.loaded.models.insert(p, Slot::Ready(m));
            }
            (JobKey::LoadData(p), Ok(Done::Data(d))) => {
                state.audit(
                    "dataset_loaded",
                    json!({"path": p, "sha256": d.sha256(), "rows": d.rows()}),
                );
                state.loaded.datasets.insert(p, Slot::Ready(d));
            }
            (JobKey::Distribution(p, c), Ok(Done::Distribution(d))) => {
                state.distributions.insert((p, c), Slot::Ready(d));
            }
            (JobKey::Page(p, i), Ok(Done::Page(d))) => {
                state.pages.insert((p, i), Slot::Ready(d));
            }
            (JobKey::Analysis(k), Ok(Done::Analysis(out))) => {
                let (action, mut details) = out.audit();
                if let Some(d) = details.as_object_mut() {
                    d.insert("settings".into(), json!(k.settings));
                }
                state.audit(action, details);
                state.cache.insert(k, Slot::Ready(out));
            }
            (JobKey::Seal, Ok(Done::Sealed(r))) => {
                state.audit(
                    "package_sealed",
                    json!({"path": r.path, "subject_digest": r.subject_digest}),
                );
                state.package.sealed = Some(Ok(r));
            }
            (JobKey::Verify, Ok(Done::Verified(v))) => state.package.verified = Some(Ok(v)),
            (JobKey::Report, Ok(Done::Message(m))) => {
                state.audit("report_exported", json!({ "message": m }));
                state.message = Some(m);
            }
            (_, Ok(Done::Message(m))) => state.package.message = Some(m),
            (key, Ok(_)) => state.error(format!("internal error: unexpected result for {key:?}")),
            (key, Err(e)) => {
                let failure = Failure::from(&e);
                // Not being a tree ensemble is an answer, not an error.
                let quiet = matches!(&key, JobKey::Analysis(k) if k.kind == Kind::Forest);
                if !failure.cancelled() && !quiet {
                    state.error(failure.text.clone());
                }
                match key {
                    JobKey::LoadModel(p) => {
                        state.loaded.models.insert(p, Slot::Failed(failure));
                    }
                    JobKey::LoadData(p) => {
                        state.loaded.datasets.insert(p, Slot::Failed(failure));
                    }
                    JobKey::Distribution(p, c) => {
                        state.distributions.insert((p, c), Slot::Failed(failure));
                    }
                    JobKey::Page(p, i) => {
                        state.pages.insert((p, i), Slot::Failed(failure));
                    }
                    JobKey::Analysis(k) => state.cache.insert(k, Slot::Failed(failure)),
                    JobKey::Seal => state.package.sealed = Some(Err(failure)),
                    JobKey::Verify => state.package.verified = Some(Err(failure)),
                    JobKey::Keygen | JobKey::Report => state.package.message = Some(failure.text),
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
        if !state.loaded.models.contains_key(&path) {
            state.loaded.models.insert(path.clone(), Slot::Loading);
            let p = path.clone();
            state.jobs.spawn(
                JobKey::LoadModel(path.clone()),
                format!("Loading {}", file_name(&path)),
                move |progress| {
                    progress.set(0.0, &format!("reading {}", file_name(&p)));
                    let model = Model::load(&p)?;
                    model.validate()?;
                    Ok(Done::Model(Arc::new(model)))
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
        if !state.loaded.datasets.contains_key(&path) {
            state.loaded.datasets.insert(path.clone(), Slot::Loading);
            let p = path.clone();
            state.jobs.spawn(
                JobKey::LoadData(path.clone()),
                format!("Loading {}", file_name(&path)),
                move |progress| Ok(Done::Data(Arc::new(LoadedData::load(&p, progress)?))),
            );
        }
    }
    // Every model on all rows (the Overview's table); the Evaluate page asks for its slice.
    for i in 0..state.workspace.models.len() {
        let r = state.planner().evaluation(i, None);
        run(state, r);
    }
}

/// Runs a planned analysis as a job unless its key is cached (ready, running or failed:
/// a failure stays until Retry).
pub fn run(state: &mut State, request: Option<Request>) {
    let Some(request) = request else {
        return;
    };
    if state.cache.get(&request.key).is_some() {
        return;
    }
    let key = request.key.clone();
    state.cache.insert(key.clone(), Slot::Loading);
    let title = request.title.clone();
    state
        .jobs
        .spawn(JobKey::Analysis(key), title, move |progress| {
            Ok(Done::Analysis(request.run(progress)?))
        });
}

/// Runs every analysis of the review the package carries that can be planned now (the
/// checklist's "Run what is missing"; fairness follows its evaluation on a later frame).
pub fn run_review(state: &mut State, wants: crate::engine::analysis::Wants) {
    let requests = crate::engine::analysis::review_requests(&state.planner(), wants);
    for r in requests {
        run(state, Some(r));
    }
}

/// Starts computing the distribution of `column` of the dataset at `path` unless cached.
pub fn request_distribution(state: &mut State, path: &Path, column: &str) {
    let key = (path.to_path_buf(), column.to_string());
    if state.distributions.contains_key(&key) {
        return;
    }
    let Some(data) = state
        .loaded
        .datasets
        .get(path)
        .and_then(Slot::ready)
        .cloned()
    else {
        return;
    };
    state.distributions.insert(key.clone(), Slot::Loading);
    let c = column.to_string();
    state.jobs.spawn(
        JobKey::Distribution(key.0, key.1),
        format!("Summarising {column}"),
        move |progress| {
            let d = match data.in_memory() {
                Some(ds) => summary::distribution(ds, &c, 30)?,
                None => summary::distribution_file(data.path(), &c, 30, progress)?,
            };
            Ok(Done::Distribution(Arc::new(d)))
        },
    );
}

/// Preview pages kept (of every dataset read on demand): 48 pages of 1,000 rows.
const PAGES_KEPT: usize = 48;

/// Starts reading page `page` of the dataset at `path` unless it is cached or being read; forgets
/// the pages furthest from it (other datasets' first) beyond [`PAGES_KEPT`].
pub fn request_page(state: &mut State, path: &Path, page: usize) {
    let key = (path.to_path_buf(), page);
    if state.pages.contains_key(&key) {
        return;
    }
    let Some(data) = state.data(path).cloned() else {
        return;
    };
    if state.pages.len() >= PAGES_KEPT {
        let mut ready: Vec<(PathBuf, usize)> = state
            .pages
            .iter()
            .filter(|(_, s)| !matches!(s, Slot::Loading))
            .map(|(k, _)| k.clone())
            .collect();
        ready.sort_by_key(|(p, i)| std::cmp::Reverse((p != path, i.abs_diff(page))));
        for k in ready.iter().take(state.pages.len() + 1 - PAGES_KEPT) {
            state.pages.remove(k);
        }
    }
    state.pages.insert(key.clone(), Slot::Loading);
    state.jobs.spawn(
        JobKey::Page(key.0, key.1),
        format!("Reading rows of {}", file_name(path)),
        move |_| Ok(Done::Page(Arc::new(data.page(page)?))),
    );
}

/// Forgets a failed load of the model or dataset at `path`, so the next frame loads it again.
pub fn retry_file(state: &mut State, path: &Path) {
    if matches!(state.loaded.models.get(path), Some(Slot::Failed(_))) {
        state.loaded.models.remove(path);
    }
    if matches!(state.loaded.datasets.get(path), Some(Slot::Failed(_))) {
        state.loaded.datasets.remove(path);
    }
}

/// Forgets every failed or cancelled load and analysis, so each is tried again.
pub fn retry_failed(state: &mut State) {
    state.cache.retry_failed();
    state
        .loaded
        .models
        .retain(|_, s| !matches!(s, Slot::Failed(_)));
    state
        .loaded
        .datasets
        .retain(|_, s| !matches!(s, Slot::Failed(_)));
    state
        .distributions
        .retain(|_, s| !matches!(s, Slot::Failed(_)));
    state.pages.retain(|_, s| !matches!(s, Slot::Failed(_)));
}

pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

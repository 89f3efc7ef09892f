//! The one job runner: every long piece of work (loading, inference, evaluation, …) runs on a
//! named background thread with a [`Progress`] (fraction, message, cancel). The UI thread
//! only starts jobs, draws their progress and collects finished results in [`Jobs::poll`];
//! it never waits on one.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use crate::engine::data::summary::Distribution;
use crate::engine::data::{Dataset, DatasetInfo};
use crate::engine::drift::DriftReport;
use crate::engine::evaluate::Evaluation;
use crate::engine::fairness::slices::SliceSearch;
use crate::engine::fairness::FairnessReport;
use crate::engine::model::Model;
use crate::engine::package::{PackageReport, PackageVerification};
use crate::engine::{EngineError, Progress};

use super::state::EvalKey;

/// What a job produces.
pub enum Output {
    Model(Arc<Model>),
    Data(Arc<LoadedData>),
    Evaluation(Arc<Evaluation>),
    Distribution(Arc<Distribution>),
    Fairness(Arc<FairnessResult>),
    Drift(Arc<DriftReport>),
    Sealed(Arc<PackageReport>),
    Verified(Arc<PackageVerification>),
    /// An on-demand analysis (explanation, comparison, …), cached in `State::analyses`.
    Analysis(super::analyses::Analysis),
    /// A short confirmation (e.g. a key pair written).
    Done(String),
}

/// The Fairness page's results: group metrics and disparities per slicing, and weak slices.
pub struct FairnessResult {
    pub report: FairnessReport,
    pub slices: SliceSearch,
}

/// A dataset with its inspection (schema, missing counts, summary statistics).
pub struct LoadedData {
    pub ds: Dataset,
    pub info: DatasetInfo,
}

/// What a job is for; also the key under which its result is cached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobKey {
    LoadModel(std::path::PathBuf),
    LoadData(std::path::PathBuf),
    Evaluate(EvalKey),
    Distribution(std::path::PathBuf, String),
    Fairness(EvalKey),
    Drift(EvalKey),
    /// Package page actions: "keygen", "seal", "verify".
    Package(&'static str),
    /// On-demand analyses, keyed by kind, model and data hashes and settings.
    Analysis(super::analyses::Kind, EvalKey),
}

pub struct Running {
    pub id: u64,
    pub key: JobKey,
    pub title: String,
    pub progress: Progress,
    pub started: Instant,
}

type Done = (u64, JobKey, Result<Output, EngineError>);

pub struct Jobs {
    running: Vec<Running>,
    tx: Sender<Done>,
    rx: Receiver<Done>,
    next_id: u64,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Jobs {
    /// `repaint` is called from job threads whenever there is something new to draw.
    pub fn new(repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (tx, rx) = channel();
        Self {
            running: Vec::new(),
            tx,
            rx,
            next_id: 1,
            repaint,
        }
    }

    pub fn running(&self) -> &[Running] {
        &self.running
    }

    pub fn is_running(&self, key: &JobKey) -> bool {
        self.running.iter().any(|r| &r.key == key)
    }

    pub fn is_idle(&self) -> bool {
        self.running.is_empty()
    }

    /// Starts `work` on a new named thread unless a job with the same key is running.
    pub fn spawn(
        &mut self,
        key: JobKey,
        title: String,
        work: impl FnOnce(&Progress) -> Result<Output, EngineError> + Send + 'static,
    ) {
        if self.is_running(&key) {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let repaint = self.repaint.clone();
        let progress = Progress::with_notify(move || repaint());
        let (tx, p, k, repaint) = (
            self.tx.clone(),
            progress.clone(),
            key.clone(),
            self.repaint.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("assay-job-{id}"))
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&p)))
                    .unwrap_or_else(|_| Err(EngineError::internal("the job panicked")));
                let _ = tx.send((id, k, result));
                repaint();
            });
        match spawned {
            Ok(_) => self.running.push(Running {
                id,
                key,
                title,
                progress,
                started: Instant::now(),
            }),
            Err(e) => {
                let _ = self.tx.send((
                    id,
                    key,
                    Err(EngineError::internal(format!(
                        "cannot start a job thread: {e}"
                    ))),
                ));
            }
        }
    }

    /// Asks a running job to stop; it finishes with `EngineError::Cancelled`.
    pub fn cancel(&self, id: u64) {
        if let Some(r) = self.running.iter().find(|r| r.id == id) {
            r.progress.cancel();
        }
    }

    /// Finished jobs since the last call.
    pub fn poll(&mut self) -> Vec<(JobKey, Result<Output, EngineError>)> {
        let mut done = Vec::new();
        while let Ok((id, key, result)) = self.rx.try_recv() {
            self.running.retain(|r| r.id != id);
            done.push((key, result));
        }
        done
    }
}

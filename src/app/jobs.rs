//! The one job runner: every long piece of work (loading, inference, evaluation, …) runs on a
//! named background thread with a [`Progress`] (fraction, message, cancel). The UI thread
//! only starts jobs, draws their progress and collects finished results in [`Jobs::poll`];
//! it never waits on one.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use polars::prelude::DataFrame;

use crate::engine::analysis::{Key, LoadedData, Output};
use crate::engine::data::summary::Distribution;
use crate::engine::model::Model;
use crate::engine::package::{PackageReport, PackageVerification};
use crate::engine::{EngineError, Progress};

/// What a job produces.
pub enum Done {
    Model(Arc<Model>),
    Data(Arc<LoadedData>),
    Distribution(Arc<Distribution>),
    /// A page of rows of a dataset read on demand.
    Page(Arc<DataFrame>),
    /// An analysis planned by `engine::analysis::Planner`, cached by its key.
    Analysis(Output),
    Sealed(Arc<PackageReport>),
    Verified(Arc<PackageVerification>),
    /// A short confirmation (e.g. a key pair or a report written).
    Message(String),
}

/// What a job is for: the key of its result, and of its busy state (one job per key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobKey {
    LoadModel(PathBuf),
    LoadData(PathBuf),
    Distribution(PathBuf, String),
    Page(PathBuf, usize),
    /// Any analysis, by its engine key.
    Analysis(Key),
    Keygen,
    Seal,
    Verify,
    Report,
}

pub struct Running {
    pub id: u64,
    pub key: JobKey,
    pub title: String,
    pub progress: Progress,
    pub started: Instant,
}

type Finished = (u64, JobKey, Result<Done, EngineError>);

pub struct Jobs {
    running: Vec<Running>,
    tx: Sender<Finished>,
    rx: Receiver<Finished>,
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
        work: impl FnOnce(&Progress) -> Result<Done, EngineError> + Send + 'static,
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
    pub fn poll(&mut self) -> Vec<(JobKey, Result<Done, EngineError>)> {
        let mut done = Vec::new();
        while let Ok((id, key, result)) = self.rx.try_recv() {
            self.running.retain(|r| r.id != id);
            done.push((key, result));
        }
        done
    }
}

//! Reused ONNX Runtime sessions. Creating a session parses and optimises the graph (tens of
//! milliseconds for a gradient-boosting model, seconds for a large network); a streamed run
//! calls [`super::predict`] once per batch, and the window runs many jobs on one model, so
//! sessions are kept per model (shared by its clones) and handed out again. A session is
//! used by one thread at a time ([`Pooled`] holds it exclusively) and goes back to the pool
//! when dropped. Sessions of the same thread count compute the same numbers, so reuse never
//! changes a result.

use std::sync::{Arc, Mutex};

use ort::session::Session;

use super::Model;
use crate::engine::error::{EngineError, Result};

/// Sessions kept per model beyond those in use: enough for every worker of a run.
fn keep() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) + 1
}

/// Idle sessions of one model with their intra-op thread count.
#[derive(Default, Clone)]
pub(crate) struct SessionPool {
    idle: Arc<Mutex<Vec<(usize, Session)>>>,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.idle.lock().map_or(0, |v| v.len());
        write!(f, "SessionPool({n} idle)")
    }
}

/// A session taken from a model's pool; back into it when dropped.
pub struct Pooled {
    intra: usize,
    session: Option<Session>,
    pool: SessionPool,
}

impl Pooled {
    /// The session (present until the guard is dropped).
    pub fn get(&mut self) -> Result<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| EngineError::internal("a pooled session was used after its return"))
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        if let Ok(mut idle) = self.pool.idle.lock() {
            if idle.len() < keep() {
                idle.push((self.intra, session));
            }
        }
    }
}

impl Model {
    /// A session with `intra_threads` threads: an idle one of this model if there is one,
    /// else a new one ([`Model::session`]).
    pub fn pooled_session(&self, intra_threads: usize) -> Result<Pooled> {
        let intra = intra_threads.max(1);
        let reused = self.pool.idle.lock().ok().and_then(|mut idle| {
            let i = idle.iter().rposition(|(n, _)| *n == intra)?;
            Some(idle.swap_remove(i).1)
        });
        let session = match reused {
            Some(s) => s,
            None => self.session(intra)?,
        };
        Ok(Pooled {
            intra,
            session: Some(session),
            pool: self.pool.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(model: &Model) -> Vec<usize> {
        model
            .pool
            .idle
            .lock()
            .map(|v| v.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default()
    }

    /// A dropped session goes back to its model's pool (shared by clones) and is taken again
    /// for the same thread count only; the pool keeps a bounded number.
    #[test]
    fn sessions_are_reused_per_thread_count() -> Result<()> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample_models/adult_gbdt_v1.onnx");
        let model = Model::load(&path)?;
        let clone = model.clone();
        model.validate()?;
        assert_eq!(idle(&clone), [1]);
        let a = clone.pooled_session(1)?;
        assert!(idle(&model).is_empty());
        let b = model.pooled_session(2)?;
        drop((a, b));
        let mut kept = idle(&model);
        kept.sort_unstable();
        assert_eq!(kept, [1, 2]);
        let many: Vec<Pooled> = (0..keep() + 3)
            .map(|_| model.pooled_session(1))
            .collect::<Result<_>>()?;
        drop(many);
        assert_eq!(idle(&model).len(), keep());
        Ok(())
    }
}

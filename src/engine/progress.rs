//! Progress and cancellation shared between a long engine function and whoever watches it
//! (the GUI's job runner, the CLI's progress bar). Cheap to clone; all clones share state.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::error::{EngineError, Result};

#[derive(Default)]
struct Inner {
    /// Fraction done in [0, 1], stored as `f32` bits.
    fraction: AtomicU32,
    cancelled: AtomicBool,
    message: Mutex<String>,
    /// Called after every update (the GUI passes `request_repaint`).
    notify: Option<Box<dyn Fn() + Send + Sync>>,
}

/// A progress + cancel handle. Engine functions call [`Progress::set`] and
/// [`Progress::check`]; front ends call [`Progress::cancel`] and read [`Progress::snapshot`].
#[derive(Clone, Default)]
pub struct Progress {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (fraction, message) = self.snapshot();
        f.debug_struct("Progress")
            .field("fraction", &fraction)
            .field("message", &message)
            .finish()
    }
}

impl Progress {
    /// A handle nobody watches.
    pub fn none() -> Self {
        Self::default()
    }

    /// A handle that calls `notify` after every update.
    pub fn with_notify(notify: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            inner: Arc::new(Inner {
                notify: Some(Box::new(notify)),
                ..Inner::default()
            }),
        }
    }

    pub fn set(&self, fraction: f32, message: &str) {
        self.inner
            .fraction
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
        if let Ok(mut m) = self.inner.message.lock() {
            if m.as_str() != message {
                m.clear();
                m.push_str(message);
            }
        }
        if let Some(notify) = &self.inner.notify {
            notify();
        }
    }

    pub fn set_fraction(&self, fraction: f32) {
        self.inner
            .fraction
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
        if let Some(notify) = &self.inner.notify {
            notify();
        }
    }

    pub fn snapshot(&self) -> (f32, String) {
        let fraction = f32::from_bits(self.inner.fraction.load(Ordering::Relaxed));
        let message = self
            .inner
            .message
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        (fraction, message)
    }

    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once [`Progress::cancel`] was called: use with `?` between work units.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(EngineError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// A view of this handle that maps its own [0, 1] onto [start, end] of this one, for
    /// functions that are one stage of a longer job.
    pub fn stage(&self, start: f32, end: f32) -> Stage<'_> {
        Stage {
            parent: self,
            start,
            end,
        }
    }
}

/// A sub-range of a [`Progress`]; see [`Progress::stage`].
pub struct Stage<'a> {
    parent: &'a Progress,
    start: f32,
    end: f32,
}

impl Stage<'_> {
    pub fn set(&self, fraction: f32, message: &str) {
        self.parent.set(
            self.start + (self.end - self.start) * fraction.clamp(0.0, 1.0),
            message,
        );
    }

    pub fn set_fraction(&self, fraction: f32) {
        self.parent
            .set_fraction(self.start + (self.end - self.start) * fraction.clamp(0.0, 1.0));
    }

    pub fn check(&self) -> Result<()> {
        self.parent.check()
    }

    pub fn progress(&self) -> &Progress {
        self.parent
    }
}

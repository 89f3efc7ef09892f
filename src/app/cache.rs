//! The window's caches, at the bottom of `src/app` (they import nothing from it):
//! loaded models and datasets by path ([`Loaded`], the engine's [`Sources`]) and finished
//! analyses by their engine [`Key`] ([`Cache`], the engine's [`Results`]). A slot is loading,
//! ready, or failed with the error's kind kept; large results are evicted under a byte
//! budget, never the ones drawn in the current frame.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::analysis::{Key, Kind, LoadedData, Output, Results, Sources};
use crate::engine::model::Model;
use crate::engine::{EngineError, ErrorKind};

/// Why a job did not produce its result: the engine error's kind and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub text: String,
}

impl Failure {
    pub fn cancelled(&self) -> bool {
        self.kind == ErrorKind::Cancelled
    }
}

impl From<&EngineError> for Failure {
    fn from(e: &EngineError) -> Self {
        Failure {
            kind: e.kind(),
            text: match e.kind() {
                ErrorKind::Cancelled => "cancelled".to_string(),
                _ => e.to_string(),
            },
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for Failure {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

/// A cached value that may still be loading or may have failed.
#[derive(Clone)]
pub enum Slot<T> {
    Loading,
    Ready(T),
    Failed(Failure),
}

impl<T> Slot<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Slot::Ready(v) => Some(v),
            _ => None,
        }
    }

    pub fn failed(&self) -> Option<&Failure> {
        match self {
            Slot::Failed(f) => Some(f),
            _ => None,
        }
    }
}

/// Models and datasets by path: what analyses read.
#[derive(Default)]
pub struct Loaded {
    pub models: HashMap<PathBuf, Slot<Arc<Model>>>,
    pub datasets: HashMap<PathBuf, Slot<Arc<LoadedData>>>,
}

impl Sources for Loaded {
    fn model(&self, path: &Path) -> Option<Arc<Model>> {
        self.models.get(path).and_then(Slot::ready).cloned()
    }

    fn data(&self, path: &Path) -> Option<Arc<LoadedData>> {
        self.datasets.get(path).and_then(Slot::ready).cloned()
    }
}

struct Entry {
    slot: Slot<Output>,
    /// The frame it was last read in.
    used: Cell<u64>,
}

/// Finished, running and failed analyses by key: one cache for every analysis.
pub struct Cache {
    entries: HashMap<Key, Entry>,
    frame: u64,
    /// Ready results are evicted (least recently drawn first) while their
    /// [`Output::approx_bytes`] add up to more than this.
    pub budget: usize,
}

impl Default for Cache {
    fn default() -> Self {
        Cache {
            entries: HashMap::new(),
            frame: 0,
            budget: 512 << 20,
        }
    }
}

impl Cache {
    /// The slot of `key`, marked as drawn in this frame.
    pub fn get(&self, key: &Key) -> Option<&Slot<Output>> {
        let e = self.entries.get(key)?;
        e.used.set(self.frame);
        Some(&e.slot)
    }

    pub fn contains(&self, key: &Key) -> bool {
        self.entries.contains_key(key)
    }

    pub fn insert(&mut self, key: Key, slot: Slot<Output>) {
        self.entries.insert(
            key,
            Entry {
                slot,
                used: Cell::new(self.frame),
            },
        );
    }

    pub fn remove(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    /// How many entries (any state) are for `kind`.
    pub fn count(&self, kind: Kind) -> usize {
        self.entries.keys().filter(|k| k.kind == kind).count()
    }

    /// Every slot (for "is anything loading").
    pub fn slots(&self) -> impl Iterator<Item = (&Key, &Slot<Output>)> {
        self.entries.iter().map(|(k, e)| (k, &e.slot))
    }

    /// Forgets every failed or cancelled analysis, so it is planned and run again.
    pub fn retry_failed(&mut self) {
        self.entries
            .retain(|_, e| !matches!(e.slot, Slot::Failed(_)));
    }

    /// Forgets the failed result of `key` only.
    pub fn retry(&mut self, key: &Key) {
        if matches!(
            self.entries.get(key).map(|e| &e.slot),
            Some(Slot::Failed(_))
        ) {
            self.entries.remove(key);
        }
    }

    /// Bytes held by ready results.
    pub fn bytes(&self) -> usize {
        self.entries
            .values()
            .filter_map(|e| e.slot.ready().map(Output::approx_bytes))
            .sum()
    }

    /// Starts a new frame: evicts the least recently drawn ready results while over budget,
    /// keeping everything read in the frame that just ended (what the page shows).
    pub fn next_frame(&mut self) {
        let mut total = self.bytes();
        if total > self.budget {
            let mut old: Vec<(u64, Key, usize)> = self
                .entries
                .iter()
                .filter(|(_, e)| e.used.get() < self.frame)
                .filter_map(|(k, e)| {
                    e.slot
                        .ready()
                        .map(|o| (e.used.get(), k.clone(), o.approx_bytes()))
                })
                .collect();
            old.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.2.cmp(&a.2)));
            for (_, key, bytes) in old {
                if total <= self.budget {
                    break;
                }
                self.entries.remove(&key);
                total -= bytes;
            }
        }
        self.frame += 1;
    }
}

impl Results for Cache {
    fn result(&self, key: &Key) -> Option<Output> {
        self.get(key).and_then(Slot::ready).cloned()
    }
}

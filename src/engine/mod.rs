//! The UI-free core. Never imports egui, never prints, never spawns UI threads. Long
//! functions take a [`progress::Progress`] (progress + cancel); errors are
//! [`error::EngineError`] with an [`error::ErrorKind`].

pub mod data;
pub mod error;
pub mod evaluate;
pub mod hash;
pub mod metrics;
pub mod model;
pub mod package;
pub mod progress;
pub mod runtime;
pub mod workspace;

pub use error::{EngineError, ErrorKind, Result};
pub use progress::Progress;

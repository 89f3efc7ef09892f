//! The engine's one error type. Every variant has a [`ErrorKind`] so front ends can map it to
//! an exit code (CLI) or a visible, dismissible message (GUI) without parsing text.

use std::path::{Path, PathBuf};

/// What kind of failure this is, from the user's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The user's file, column mapping or option is wrong; fixing the input fixes it.
    BadInput,
    /// The ONNX Runtime library could not be found or loaded.
    Runtime,
    /// The user cancelled the job.
    Cancelled,
    /// A bug or an unexpected environment failure.
    Internal,
}

/// Errors raised by the engine. Messages are complete sentences meant for the user: they name
/// the file, column and 1-based data row when those are known.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },

    #[error("{path}: column '{column}': {message}")]
    Column {
        path: PathBuf,
        column: String,
        message: String,
    },

    #[error("{path}: column '{column}', row {row}: {message}")]
    Cell {
        path: PathBuf,
        column: String,
        row: usize,
        message: String,
    },

    /// A whole data row (e.g. the model's output for it), not one cell.
    #[error("{path}: row {row}: {message}")]
    Row {
        path: PathBuf,
        row: usize,
        message: String,
    },

    #[error("{0}")]
    Usage(String),

    #[error("{0}")]
    Runtime(String),

    #[error("cancelled")]
    Cancelled,

    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::File { .. }
            | EngineError::Column { .. }
            | EngineError::Cell { .. }
            | EngineError::Row { .. }
            | EngineError::Usage(_) => ErrorKind::BadInput,
            EngineError::Runtime(_) => ErrorKind::Runtime,
            EngineError::Cancelled => ErrorKind::Cancelled,
            EngineError::Internal(_) => ErrorKind::Internal,
        }
    }

    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        EngineError::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    pub fn column(path: &Path, column: &str, message: impl Into<String>) -> Self {
        EngineError::Column {
            path: path.to_path_buf(),
            column: column.to_string(),
            message: message.into(),
        }
    }

    /// `row` is 1-based over data rows (the first row after a CSV header is row 1).
    pub fn cell(path: &Path, column: &str, row: usize, message: impl Into<String>) -> Self {
        EngineError::Cell {
            path: path.to_path_buf(),
            column: column.to_string(),
            row,
            message: message.into(),
        }
    }

    pub fn row(path: &Path, row: usize, message: impl Into<String>) -> Self {
        EngineError::Row {
            path: path.to_path_buf(),
            row,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        EngineError::Usage(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        EngineError::Internal(message.into())
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

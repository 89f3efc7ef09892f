//! The engine's one error type. Every variant has a [`ErrorKind`] so front ends can map it to
//! an exit code (CLI) or a visible, dismissible message (GUI) without parsing text.
//!
//! Errors carry a source chain: [`Context::context`] wraps an error in what was being done
//! when it happened ("model 'v2'", "workspace demo.assay.json, dataset 2"), keeping the
//! original as its [`std::error::Error::source`] and its kind; [`EngineError::chain`] walks
//! it, outermost first. [`bail!`](crate::bail) returns an error of a named variant from a
//! format string, as polars-error's `polars_bail!` does.

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

    /// What was being done when `source` happened. Shown as "context: source" on one line;
    /// the kind is the source's.
    #[error("{context}: {source}")]
    Context {
        context: String,
        source: Box<EngineError>,
    },
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
            EngineError::Context { source, .. } => source.kind(),
        }
    }

    /// This error and its causes, outermost first: the contexts, then the error that
    /// happened.
    pub fn chain(&self) -> impl Iterator<Item = &EngineError> {
        std::iter::successors(Some(self), |e| match e {
            EngineError::Context { source, .. } => Some(source.as_ref()),
            _ => None,
        })
    }

    /// The error that happened, without the contexts around it.
    pub fn root(&self) -> &EngineError {
        self.chain().last().unwrap_or(self)
    }

    /// Wraps this error in what was being done when it happened.
    pub fn context(self, context: impl Into<String>) -> Self {
        EngineError::Context {
            context: context.into(),
            source: Box::new(self),
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

/// Adds what was being done to the error of a [`Result`], keeping the error as its source.
pub trait Context<T> {
    fn context(self, context: impl Into<String>) -> Result<T>;
    /// Like [`Context::context`], building the text only when there is an error.
    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.context(context))
    }

    fn with_context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| e.context(context()))
    }
}

/// Returns early with an [`EngineError`]: `bail!(usage: "…{x}…")`, `bail!(file: path, "…")`,
/// `bail!(column: path, col, "…")`, `bail!(cell: path, col, row, "…")`,
/// `bail!(row: path, row, "…")`, `bail!(internal: "…")`.
#[macro_export]
macro_rules! bail {
    (usage: $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::usage(format!($($fmt)+)))
    };
    (internal: $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::internal(format!($($fmt)+)))
    };
    (file: $path:expr, $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::file($path, format!($($fmt)+)))
    };
    (column: $path:expr, $col:expr, $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::column($path, $col, format!($($fmt)+)))
    };
    (cell: $path:expr, $col:expr, $row:expr, $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::cell($path, $col, $row, format!($($fmt)+)))
    };
    (row: $path:expr, $row:expr, $($fmt:tt)+) => {
        return Err($crate::engine::EngineError::row($path, $row, format!($($fmt)+)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn load(path: &Path) -> Result<()> {
        bail!(column: path, "age", "text '{}' in a numeric column", "n/a")
    }

    #[test]
    fn context_keeps_the_source_and_its_kind() {
        let e = load(Path::new("eval.csv"))
            .context("dataset 'eval'")
            .with_context(|| "workspace demo.assay.json")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "workspace demo.assay.json: dataset 'eval': eval.csv: column 'age': text 'n/a' in a numeric column"
        );
        assert_eq!(e.kind(), ErrorKind::BadInput);
        assert_eq!(e.chain().count(), 3);
        assert!(matches!(e.root(), EngineError::Column { column, .. } if column == "age"));
        let source = e.source().map(|s| s.to_string());
        assert_eq!(
            source.as_deref(),
            Some("dataset 'eval': eval.csv: column 'age': text 'n/a' in a numeric column")
        );
    }

    #[test]
    fn bail_builds_each_variant() {
        fn f(which: u8) -> Result<()> {
            let p = Path::new("m.onnx");
            match which {
                0 => bail!(usage: "bad {}", 1),
                1 => bail!(internal: "oops"),
                2 => bail!(file: p, "empty"),
                3 => bail!(cell: p, "x", 4, "NaN"),
                _ => bail!(row: p, 7, "score is NaN"),
            }
        }
        let texts: Vec<String> = (0..5).map(|i| f(i).unwrap_err().to_string()).collect();
        assert_eq!(
            texts,
            [
                "bad 1",
                "internal error: oops",
                "m.onnx: empty",
                "m.onnx: column 'x', row 4: NaN",
                "m.onnx: row 7: score is NaN"
            ]
        );
        assert_eq!(f(1).unwrap_err().kind(), ErrorKind::Internal);
    }
}

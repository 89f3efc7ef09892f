//! A dataset as analyses read it: its inspection (schema, summary statistics) and either the
//! whole frame or — for a file (or set of files) too large to hold ([`batches::is_large`]) — only its first
//! rows, the rest read on demand: pages of rows for a preview, batches for the analyses that
//! stream (evaluation, fairness, drift without a model), or the whole frame, loaded for the
//! length of an analysis that needs every row in memory.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use polars::prelude::DataFrame;

use crate::engine::data::csv_pages::CsvRows;
use crate::engine::data::{self, batches, Dataset, DatasetInfo, Format};
use crate::engine::{EngineError, Progress, Result};

/// Rows per preview page of a file read on demand (and rows held of it).
pub const PAGE_ROWS: usize = 1_000;

pub struct LoadedData {
    pub info: DatasetInfo,
    held: Held,
}

enum Held {
    /// Every row.
    Frame(Arc<Dataset>),
    /// A file summarised in batches.
    File(Box<OnDemand>),
}

/// What is held of a file read on demand.
struct OnDemand {
    /// Its first [`PAGE_ROWS`] rows.
    head: Dataset,
    /// The whole frame while an analysis holds it (analyses running at once share one copy).
    whole: Mutex<Weak<Dataset>>,
    /// Where each page's rows start, of a CSV file (found on the first page after the head;
    /// `None`: read pages by slice).
    csv_rows: OnceLock<Option<CsvRows>>,
}

impl LoadedData {
    /// Loads and inspects the dataset at `path`: a file (or set of files) of at least
    /// [`batches::STREAM_MIN_BYTES`] is summarised in batches and not held (unless the
    /// summary cannot be streamed — then, like any other dataset, it is loaded whole).
    pub fn load(path: &Path, progress: &Progress) -> Result<LoadedData> {
        if let Some(info) = data::inspect_file(path, progress)? {
            return Self::file(info);
        }
        Self::loaded(data::load(path, progress)?, progress)
    }

    /// The file at `path` summarised in batches of `batch_rows` rows and not held, whatever
    /// its size (`None`: it cannot be read that way) — what [`Self::load`] does for a large
    /// file, on small ones.
    pub fn streamed(
        path: &Path,
        batch_rows: usize,
        progress: &Progress,
    ) -> Result<Option<LoadedData>> {
        data::inspect_streamed(path, Some(batch_rows), progress)?
            .map(Self::file)
            .transpose()
    }

    /// A frame already in memory, inspected.
    pub fn loaded(ds: Dataset, progress: &Progress) -> Result<LoadedData> {
        progress.set(0.9, "summarising columns");
        let info = data::inspect(&ds)?;
        progress.check()?;
        Ok(LoadedData {
            info,
            held: Held::Frame(Arc::new(ds)),
        })
    }

    fn file(info: DatasetInfo) -> Result<LoadedData> {
        let df = batches::read_slice(&info.path, 0, PAGE_ROWS)?;
        let head = Dataset {
            path: info.path.clone(),
            sha256: info.sha256.clone(),
            format: info.format,
            file_size: info.file_size,
            df,
        };
        Ok(LoadedData {
            info,
            held: Held::File(Box::new(OnDemand {
                head,
                whole: Mutex::new(Weak::new()),
                csv_rows: OnceLock::new(),
            })),
        })
    }

    pub fn path(&self) -> &Path {
        &self.info.path
    }

    /// SHA-256 of the file (of the set's files, for a lake-style dataset).
    pub fn sha256(&self) -> &str {
        &self.info.sha256
    }

    pub fn rows(&self) -> usize {
        self.info.rows
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.info.columns.iter().any(|c| c.name == name)
    }

    /// Every row, when they are held (`None`: a large file read on demand).
    pub fn in_memory(&self) -> Option<&Dataset> {
        match &self.held {
            Held::Frame(ds) => Some(ds),
            Held::File(_) => None,
        }
    }

    /// The rows held: every row, or the first [`PAGE_ROWS`] of a file read on demand (what
    /// options are guessed from, e.g. a timestamp column).
    pub fn head(&self) -> &Dataset {
        match &self.held {
            Held::Frame(ds) => ds,
            Held::File(f) => &f.head,
        }
    }

    /// Every row: the frame held, or the file loaded now (for an analysis that needs every
    /// row in memory; freed when the last analysis holding it drops it — one copy however
    /// many run at once: a second caller waits for the first one's load). A file that changed
    /// since it was summarised is an error: results are keyed by the summarised file's hash.
    pub fn frame(&self, progress: &Progress) -> Result<Arc<Dataset>> {
        match &self.held {
            Held::Frame(ds) => Ok(ds.clone()),
            Held::File(f) => {
                let mut whole = f.whole.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(ds) = whole.upgrade() {
                    return Ok(ds);
                }
                progress.set(
                    0.0,
                    &format!(
                        "loading all {} rows of {} (this analysis needs them in memory)",
                        self.info.rows,
                        data::display_name(&self.info.path)
                    ),
                );
                let ds = data::load(&self.info.path, progress)?;
                if ds.sha256 != self.info.sha256 {
                    return Err(EngineError::file(
                        &self.info.path,
                        "the file changed since it was opened; open it again",
                    ));
                }
                let ds = Arc::new(ds);
                *whole = Arc::downgrade(&ds);
                Ok(ds)
            }
        }
    }

    /// Rows `page * PAGE_ROWS ..` (at most [`PAGE_ROWS`]) for a preview. Of a CSV file read on
    /// demand, the first page after the head finds where every page starts (one pass over the
    /// bytes); later pages read only their own bytes.
    pub fn page(&self, page: usize) -> Result<DataFrame> {
        let offset = page.saturating_mul(PAGE_ROWS);
        match &self.held {
            Held::Frame(ds) => Ok(ds.df.slice(offset as i64, PAGE_ROWS)),
            Held::File(f) if page == 0 => Ok(f.head.df.clone()),
            Held::File(f) => {
                let path = &self.info.path;
                let index = f.csv_rows.get_or_init(|| {
                    (self.info.format == Format::Csv && !data::lake::is_set(path))
                        .then(|| CsvRows::index(path, PAGE_ROWS, self.info.rows, &Progress::none()))
                        .and_then(std::result::Result::ok)
                        .flatten()
                });
                match index {
                    Some(rows) => rows.page(path, page),
                    None => batches::read_slice(path, offset, PAGE_ROWS),
                }
            }
        }
    }
}

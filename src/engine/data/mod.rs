//! Tabular datasets: CSV, Parquet and Arrow IPC through polars lazy scans (one file, or a
//! directory / glob of hive-partitioned files: [`lake`]), inspection
//! (schema, missing counts, summary statistics) and strict extraction of model inputs and
//! targets (see [`extract`]).

pub mod batches;
pub mod csv_pages;
pub mod extract;
mod file_facts;
mod inspect;
pub mod lake;
mod lake_batches;
mod lake_list;
pub mod lake_where;
pub mod rows;
pub mod summary;

pub use inspect::{inspect, inspect_file, inspect_streamed, ColumnInfo, DatasetInfo};
pub use lake_where::Predicate;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::error::{EngineError, Result};
use super::hash::sha256_file;
use super::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Parquet,
    Ipc,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv" | "tsv" | "txt") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            Some("arrow" | "ipc" | "feather") => Ok(Format::Ipc),
            _ => Err(EngineError::file(
                path,
                "unknown data format; Assay reads .csv/.tsv, .parquet and .arrow/.ipc/.feather files",
            )),
        }
    }
}

/// The environment variable polars 0.55 reads, at each Parquet scan, for how many values
/// (rows × columns) one decoding task of a row group takes on.
const PARQUET_DECODE_VAR: &str = "POLARS_PARQUET_DECODE_TARGET_VALUES_PER_THREAD";

/// Lets polars decode a Parquet row group's columns on every core. Its default gives one task
/// about 16.8M values, so a file written as one row group of 1M rows and 14 columns (pyarrow's
/// default row group holds up to 1,048,576 rows) decodes on one core while the others wait;
/// tasks of about 2^20 values decode it a column or so a task. Only how the work is split
/// changes, not what is read. A value the user set is kept. Call it before any other thread
/// starts (it sets an environment variable): `main` does.
pub fn parallel_parquet_decoding() {
    if std::env::var_os(PARQUET_DECODE_VAR).is_none() {
        std::env::set_var(PARQUET_DECODE_VAR, (1usize << 20).to_string());
    }
}

/// A dataset loaded into memory.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub path: PathBuf,
    pub sha256: String,
    pub format: Format,
    pub file_size: u64,
    pub df: DataFrame,
}

impl Dataset {
    /// A frame as a dataset with no file behind it (unit tests).
    #[cfg(test)]
    pub(crate) fn of_frame(df: DataFrame, format: Format) -> Dataset {
        Dataset {
            path: format!("t.{}", format!("{format:?}").to_lowercase()).into(),
            sha256: String::new(),
            format,
            file_size: 0,
            df,
        }
    }

    pub fn rows(&self) -> usize {
        self.df.height()
    }

    pub fn has_column(&self, name: &str) -> bool {
        self.df.schema().contains(name)
    }

    pub fn column_names(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

/// Reads the files of the set at `path` whose partition folders pass `predicates` (none:
/// [`load`]); the other partitions are never opened ([`lake_where`]). With predicates, also
/// the number of files read.
pub fn load_where(
    path: &Path,
    predicates: &[Predicate],
    progress: &Progress,
) -> Result<(Dataset, Option<usize>)> {
    if predicates.is_empty() {
        return Ok((load(path, progress)?, None));
    }
    if !lake::is_set(path) {
        return Err(EngineError::file(
            path,
            format!(
                "--where {} selects partition folders (key=value) of a directory or glob; \
                 this is one file",
                lake_where::describe(predicates)
            ),
        ));
    }
    let (ds, files) = lake::load_set_where(path, predicates, progress)?;
    Ok((ds, Some(files)))
}

/// Reads a dataset. The file is hashed on a second thread while polars parses it. A directory
/// or a glob is a set of files read as one dataset ([`lake`]).
pub fn load(path: &Path, progress: &Progress) -> Result<Dataset> {
    if lake::is_set(path) {
        return lake::load_set(path, progress);
    }
    let meta = crate::engine::fsio::check_regular(path, "dataset")?;
    let format = Format::from_path(path)?;
    if meta.len() == 0 {
        return Err(EngineError::file(path, "the file is empty"));
    }
    check_claimed_size(path, format)?;
    progress.set(0.0, &format!("reading {}", display_name(path)));
    let (df, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| sha256_file(path));
        let df = read_frame(path, format, false);
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (df, sha)
    });
    let df = df?;
    let sha256 = sha256?;
    if format == Format::Csv {
        check_duplicate_headers(path, &df)?;
    }
    if df.width() == 0 {
        return Err(EngineError::file(path, "the file has no columns"));
    }
    if df.height() == 0 {
        return Err(EngineError::file(
            path,
            "the file has a header but no data rows",
        ));
    }
    progress.check()?;
    Ok(Dataset {
        path: path.to_path_buf(),
        sha256,
        format,
        file_size: meta.len(),
        df,
    })
}

/// The rows `rows` (0-based) of `ds`, e.g. a weak slice to evaluate on its own. The result
/// keeps the file's path (errors still name it) and gets its own hash (of the parent's hash
/// and the row list), so results on it are cached apart.
pub fn subset(ds: &Dataset, rows: &[u32]) -> Result<Dataset> {
    if rows.is_empty() {
        return Err(EngineError::usage("the slice has no rows"));
    }
    if let Some(&r) = rows.iter().find(|&&r| r as usize >= ds.rows()) {
        return Err(EngineError::internal(format!(
            "slice row {r} is outside the {} rows of {}",
            ds.rows(),
            ds.path.display()
        )));
    }
    let idx = IdxCa::from_vec("rows".into(), rows.iter().map(|&r| r as IdxSize).collect());
    let df = ds.df.take(&idx).map_err(|e| {
        EngineError::internal(format!("cannot take slice rows: {}", clean_polars(&e)))
    })?;
    let mut key = ds.sha256.clone().into_bytes();
    for r in rows {
        key.extend_from_slice(&r.to_le_bytes());
    }
    Ok(Dataset {
        path: ds.path.clone(),
        sha256: super::hash::sha256_bytes(&key),
        format: ds.format,
        file_size: ds.file_size,
        df,
    })
}

pub(crate) fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// One file's frame. `no_hive`: no columns from `key=value` folders in the path (polars adds
/// them by default for Parquet and Arrow; a file set adds its own, see [`lake`]).
fn read_frame(path: &Path, format: Format, no_hive: bool) -> Result<DataFrame> {
    let wrap = |e: PolarsError| {
        EngineError::file(
            path,
            format!("cannot read {format:?} data: {}", clean_polars(&e)),
        )
    };
    if format == Format::Csv {
        // Type inference looks at the first 10,000 rows; a value further down that does not
        // fit the inferred type makes the scan fail, so read again inferring from all rows
        // (that column then becomes text and extraction names the offending row).
        let collect = |infer| {
            scan_frame(path, format, no_hive, infer)?
                .collect()
                .map_err(wrap)
        };
        return match collect(Some(10_000)) {
            Ok(df) => Ok(df),
            Err(first) => collect(None).map_err(|_| first),
        };
    }
    scan_frame(path, format, no_hive, None)?
        .collect()
        .map_err(wrap)
}

/// The field separator of a delimited text file: a tab for `.tsv`, else a comma.
pub(crate) fn csv_separator(path: &Path) -> u8 {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        b'\t'
    } else {
        b','
    }
}

/// The lazy scan of one file (see [`read_frame`]); `infer`: rows a CSV's column types are
/// inferred from (`None`: all).
pub(crate) fn scan_frame(
    path: &Path,
    format: Format,
    no_hive: bool,
    infer: Option<usize>,
) -> Result<LazyFrame> {
    let pl_path = PlRefPath::try_from_path(path)
        .map_err(|e| EngineError::file(path, format!("cannot use this path: {e}")))?;
    let wrap = |e: PolarsError| {
        EngineError::file(
            path,
            format!("cannot read {format:?} data: {}", clean_polars(&e)),
        )
    };
    match format {
        Format::Csv => {
            let sep = csv_separator(path);
            LazyCsvReader::new(pl_path)
                .with_has_header(true)
                .with_separator(sep)
                .with_infer_schema_length(infer)
                .finish()
                .map_err(wrap)
        }
        Format::Parquet => {
            let mut args = ScanArgsParquet::default();
            if no_hive {
                args.hive_options = HiveOptions::new_disabled();
            }
            LazyFrame::scan_parquet(pl_path, args).map_err(wrap)
        }
        Format::Ipc => {
            let mut args = UnifiedScanArgs::default();
            if no_hive {
                args.hive_options = HiveOptions::new_disabled();
            }
            LazyFrame::scan_ipc(pl_path, Default::default(), args).map_err(wrap)
        }
    }
}

/// Most cells (rows × columns) a Parquet or Arrow file may claim; checked from the file's
/// metadata before any column is read. See the README section "Limits".
pub const MAX_CELLS: u64 = 2_000_000_000;

/// Most rows a dataset may have (polars' row index is 32-bit).
pub const MAX_ROWS: u64 = u32::MAX as u64 - 1;

/// Refuses a Parquet file whose footer claims more rows × columns than Assay reads, or more
/// than this machine has memory for, before polars allocates for them.
pub(crate) fn check_claimed_size(path: &Path, format: Format) -> Result<()> {
    check_claimed(path, format, true)
}

/// [`check_claimed_size`]; `whole`: the frame is to be held in memory (also checked against
/// the memory available; a reader in batches only needs the row and cell limits).
pub(crate) fn check_claimed(path: &Path, format: Format, whole: bool) -> Result<()> {
    if format != Format::Parquet {
        return Ok(());
    }
    let (rows, cols) = parquet_claims(path)?;
    check_cells(
        path,
        rows,
        cols,
        if whole { available_memory() } else { None },
    )
}

/// The rows and columns (at least one) a Parquet file's footer claims (read once per version
/// of the file, [`file_facts`]).
pub(crate) fn parquet_claims(path: &Path) -> Result<(u64, u64)> {
    file_facts::claims(path, || read_parquet_claims(path))
}

fn read_parquet_claims(path: &Path) -> Result<(u64, u64)> {
    let file = std::fs::File::open(path)
        .map_err(|e| EngineError::file(path, format!("cannot open: {e}")))?;
    let mut reader = ParquetReader::new(file);
    let bad = |e: PolarsError| {
        EngineError::file(
            path,
            format!("cannot read Parquet metadata: {}", clean_polars(&e)),
        )
    };
    let rows = reader.num_rows().map_err(bad)? as u64;
    let cols = reader.schema().map_err(bad)?.len().max(1) as u64;
    Ok((rows, cols))
}

/// The rule of [`check_claimed_size`] (8 bytes a cell is the least a column takes).
pub fn check_cells(path: &Path, rows: u64, cols: u64, available: Option<u64>) -> Result<()> {
    let cells = rows.saturating_mul(cols);
    let bytes = cells.saturating_mul(8);
    let gb = |b: u64| b as f64 / 1e9;
    if rows > MAX_ROWS {
        return Err(EngineError::file(
            path,
            format!("the file claims {rows} rows; Assay reads at most {MAX_ROWS} rows"),
        ));
    }
    if cells > MAX_CELLS {
        return Err(EngineError::file(
            path,
            format!(
                "the file claims {rows} rows × {cols} columns ({cells} cells, at least {:.1} GB in memory); Assay reads at most {MAX_CELLS} cells",
                gb(bytes)
            ),
        ));
    }
    if let Some(free) = available.filter(|&free| bytes > free) {
        return Err(EngineError::file(
            path,
            format!(
                "the file claims {rows} rows × {cols} columns (at least {:.1} GB in memory), more than the {:.1} GB this machine has available",
                gb(bytes),
                gb(free)
            ),
        ));
    }
    Ok(())
}

/// `MemAvailable` of `/proc/meminfo` (Linux), in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// Polars renames a repeated CSV header `x` to `x_duplicated_0`, `x_duplicated_1`, …; a
/// file with repeated column names is refused, naming them.
pub(crate) fn check_duplicate_headers(path: &Path, df: &DataFrame) -> Result<()> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    check_duplicate_names(path, &names)
}

/// [`check_duplicate_headers`] on the column names.
pub(crate) fn check_duplicate_names(path: &Path, names: &[String]) -> Result<()> {
    let mut repeated: Vec<(String, usize)> = Vec::new();
    for n in names {
        let Some((base, k)) = n.rsplit_once("_duplicated_") else {
            continue;
        };
        if k.is_empty()
            || !k.bytes().all(|b| b.is_ascii_digit())
            || !names.iter().any(|m| m == base)
        {
            continue;
        }
        match repeated.iter_mut().find(|(b, _)| b == base) {
            Some((_, c)) => *c += 1,
            None => repeated.push((base.to_string(), 2)),
        }
    }
    if repeated.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = repeated
        .iter()
        .map(|(b, c)| format!("'{b}' ({c} times)"))
        .collect();
    Err(EngineError::file(
        path,
        format!(
            "the header repeats column name{} {}; each column needs its own name",
            if repeated.len() > 1 { "s" } else { "" },
            list.join(", ")
        ),
    ))
}

/// Polars errors carry multi-line hints aimed at polars users; keep the first line, and say
/// in Assay's words what a hint for polars' Python users means.
fn clean_polars(e: &PolarsError) -> String {
    let s = e.to_string();
    let first = s.lines().next().unwrap_or("").trim();
    if first.contains("pip install") || first.contains("bigidx") {
        return format!("the file has more rows than Assay can read (at most {MAX_ROWS})");
    }
    first.to_string()
}

pub fn is_numeric(dtype: &DataType) -> bool {
    dtype.is_primitive_numeric() || matches!(dtype, DataType::Boolean)
}

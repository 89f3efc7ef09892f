//! Lake-style datasets: a directory of (hive-partitioned) data files, or a glob such as
//! `logs/date=*/part-*.parquet`, is one dataset — what Spark, Flink and warehouse exports write.
//!
//! - **Files**: a directory is walked recursively; a glob matches `*`, `?` and `**` (any number
//!   of folders) per path component, from the folder before its first wildcard. Names
//!   starting with `.` or `_` (`_SUCCESS`, `.part-0.crc`) and, in a directory, files that are
//!   not data files are skipped. Every file of the set goes through [`fsio::check_regular`]
//!   (regular files only) and must have the same format; symbolic links to folders are not
//!   followed. At most [`MAX_FILES`] files.
//! - **Partition columns**: each `key=value` folder between the base folder and a file is a
//!   column (`__HIVE_DEFAULT_PARTITION__` is missing); its type is whole numbers if every value
//!   is one, else numbers, else text. Every file must sit under the same keys.
//! - **Rows**: each file is read on its own (errors name it) and the frames are stacked in
//!   sorted relative-path order; every file must have the first file's columns and types.
//! - **Predicates** (`monitor --where 'date>=2024-03-01'`): a `key=value` folder failing one
//!   is never entered ([`super::lake_where`]; the listing is [`super::lake_list`]).
//! - **Hash**: SHA-256 of the manifest `"<sha256 of the file>  <relative path>\n"` per file,
//!   in sorted order, so it is deterministic and changes with any file's name or content.

use std::path::Path;

use polars::prelude::*;

pub use super::lake_list::{is_set, list, list_where, Part, MAX_FILES};
use super::lake_where::{Predicate, HIVE_MISSING};
use super::{check_cells, clean_polars, read_frame, Dataset, Format, MAX_ROWS};
use crate::engine::error::{EngineError, Result};
use crate::engine::fsio;
use crate::engine::hash::{sha256_bytes, sha256_file};
use crate::engine::progress::Progress;

/// The `key=value` folders of a relative path (`%XX` escapes decoded).
pub fn partitions(relative: &str) -> Vec<(String, String)> {
    let mut dirs: Vec<&str> = relative.split('/').collect();
    dirs.pop();
    dirs.iter()
        .filter_map(|d| d.split_once('='))
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (unescape(k), unescape(v)))
        .collect()
}

pub(super) fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Each file's value repeated over its rows.
fn repeated<T: Copy>(values: &[T], heights: &[usize]) -> Vec<T> {
    values
        .iter()
        .zip(heights)
        .flat_map(|(v, h)| std::iter::repeat_n(*v, *h))
        .collect()
}

/// Each value parsed (`None`: missing or not a `T`).
fn parsed<T: std::str::FromStr>(values: &[Option<&str>]) -> Vec<Option<T>> {
    values
        .iter()
        .map(|v| v.and_then(|v| v.parse().ok()))
        .collect()
}

/// The type of a partition column: whole numbers if every value present is one, else numbers
/// if every one is, else text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Text,
}

impl Kind {
    fn of<'a>(values: impl Iterator<Item = &'a str> + Clone) -> Kind {
        if values.clone().all(|v| v.parse::<i64>().is_ok()) {
            Kind::Int
        } else if values.into_iter().all(|v| v.parse::<f64>().is_ok()) {
            Kind::Float
        } else {
            Kind::Text
        }
    }

    /// The column `name` for files with `values` (`None` = missing) and `heights` rows.
    fn column(self, name: &str, values: &[Option<&str>], heights: &[usize]) -> Column {
        let name = PlSmallStr::from_str(name);
        match self {
            Kind::Int => Column::new(name, repeated(&parsed::<i64>(values), heights)),
            Kind::Float => Column::new(name, repeated(&parsed::<f64>(values), heights)),
            Kind::Text => Column::new(name, repeated(values, heights)),
        }
    }
}

/// The files of a directory or glob, checked as one dataset: regular, non-empty files of one
/// format under the same partition keys (see the module docs).
#[derive(Debug, Clone)]
pub struct Set {
    pub parts: Vec<Part>,
    pub format: Format,
    /// Bytes of all the files.
    pub size: u64,
    /// The partition keys, in folder order.
    pub keys: Vec<String>,
    /// Per file, its value of each key (`None`: `__HIVE_DEFAULT_PARTITION__`, missing).
    values: Vec<Vec<Option<String>>>,
    kinds: Vec<Kind>,
}

impl Set {
    /// Lists and checks the set at `path`. `whole`: the files are to be held in memory (a
    /// Parquet footer's claimed size is also checked against the memory available).
    pub fn open(path: &Path, whole: bool) -> Result<Set> {
        Set::open_where(path, whole, &[])
    }

    /// [`Set::open`] of the files whose partition folders pass `predicates`: the others are
    /// never listed, checked or read ([`lake_where`]). A predicate on a column that is not a
    /// partition key of the kept files is an error.
    pub fn open_where(path: &Path, whole: bool, predicates: &[Predicate]) -> Result<Set> {
        let parts = list_where(path, predicates)?;
        let keys: Vec<String> = partitions(&parts[0].relative)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let mut values = Vec::with_capacity(parts.len());
        for p in &parts {
            let kv = partitions(&p.relative);
            if kv.iter().map(|(k, _)| k).ne(keys.iter()) {
                return Err(EngineError::file(
                    &p.path,
                    format!(
                        "is not under the partition folders of {} ({}); every file needs the same key=value folders",
                        parts[0].relative,
                        if keys.is_empty() { "none".to_string() } else { keys.join(", ") }
                    ),
                ));
            }
            values.push(
                kv.into_iter()
                    .map(|(_, v)| Some(v).filter(|v| v != HIVE_MISSING))
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(p) = predicates.iter().find(|p| !keys.contains(&p.column)) {
            return Err(EngineError::usage(format!(
                "--where {p}: '{}' is not a partition column of {} (its partition folders: {}); \
                 --where selects key=value folders",
                p.column,
                path.display(),
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            )));
        }
        // Only now the files themselves: the names decide what is read.
        let format = Format::from_path(&parts[0].path)?;
        let mut size = 0u64;
        for p in &parts {
            let meta = fsio::check_regular(&p.path, "dataset file")?;
            if Format::from_path(&p.path)? != format {
                return Err(EngineError::file(
                    &p.path,
                    format!(
                        "is not in the format of {} ({format:?}); the files of one dataset share a format",
                        parts[0].relative
                    ),
                ));
            }
            if meta.len() == 0 {
                return Err(EngineError::file(&p.path, "the file is empty"));
            }
            super::check_claimed(&p.path, format, whole)?;
            size += meta.len();
        }
        let kinds = (0..keys.len())
            .map(|j| {
                Kind::of(
                    values
                        .iter()
                        .filter_map(|v: &Vec<Option<String>>| v[j].as_deref()),
                )
            })
            .collect();
        Ok(Set {
            parts,
            format,
            size,
            keys,
            values,
            kinds,
        })
    }

    /// SHA-256 of the manifest `"<sha256 of the file>  <relative path>\n"` per file.
    pub fn sha256(&self) -> Result<String> {
        let mut manifest = String::new();
        for p in &self.parts {
            manifest.push_str(&format!("{}  {}\n", sha256_file(&p.path)?, p.relative));
        }
        Ok(sha256_bytes(manifest.as_bytes()))
    }

    /// Partition column `j` for files `files` with `heights` rows each.
    fn column(&self, j: usize, files: std::ops::Range<usize>, heights: &[usize]) -> Column {
        let vals: Vec<Option<&str>> = self.values[files].iter().map(|v| v[j].as_deref()).collect();
        self.kinds[j].column(&self.keys[j], &vals, heights)
    }

    /// `df` (rows of file `file`, or of every file when `file` is `None` and `heights` gives
    /// each file's rows) with the partition columns appended. A file column with a partition
    /// key's name is an error.
    pub fn with_partitions(
        &self,
        df: DataFrame,
        files: std::ops::Range<usize>,
        heights: &[usize],
    ) -> Result<DataFrame> {
        self.with_some_partitions(df, files, heights, None)
    }

    /// [`Set::with_partitions`] of only the partition columns in `only` (`None`: all).
    pub fn with_some_partitions(
        &self,
        mut df: DataFrame,
        files: std::ops::Range<usize>,
        heights: &[usize],
        only: Option<&[String]>,
    ) -> Result<DataFrame> {
        for (j, key) in self.keys.iter().enumerate() {
            if only.is_some_and(|o| !o.contains(key)) {
                continue;
            }
            if df.schema().contains(key) {
                return Err(EngineError::file(
                    &self.parts[files.start].path,
                    format!("has a column '{key}' that is also a partition folder ({key}=…)"),
                ));
            }
            df.with_column(self.column(j, files.clone(), heights))
                .map_err(|e| EngineError::internal(format!("partition column '{key}': {e}")))?;
        }
        Ok(df)
    }
}

/// Reads a directory or glob as one dataset (see the module docs).
pub fn load_set(path: &Path, progress: &Progress) -> Result<Dataset> {
    load_set_where(path, &[], progress).map(|(ds, _)| ds)
}

/// [`load_set`] of the files whose partition folders pass `predicates` ([`Set::open_where`]),
/// with the number of files read; the hash is the manifest of those files.
pub fn load_set_where(
    path: &Path,
    predicates: &[Predicate],
    progress: &Progress,
) -> Result<(Dataset, usize)> {
    let set = Set::open_where(path, true, predicates)?;
    let (frames, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| set.sha256());
        let frames = read_all(&set.parts, set.format, None, progress);
        let sha = hasher
            .join()
            .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
        (frames, sha)
    });
    let (df, heights) = frames?;
    let sha256 = sha256?;
    let df = set.with_partitions(df, 0..set.parts.len(), &heights)?;
    check_cells(path, df.height() as u64, df.width() as u64, None)?;
    if df.height() == 0 {
        return Err(EngineError::file(path, "the files have no data rows"));
    }
    progress.check()?;
    let files = set.parts.len();
    Ok((
        Dataset {
            path: path.to_path_buf(),
            sha256,
            format: set.format,
            file_size: set.size,
            df,
        },
        files,
    ))
}

/// The columns `columns` (file or partition columns) of every file of a Parquet or Arrow `set`
/// stacked: what [`load_set_where`] reads of them, the other columns never decoded. Only the
/// columns read are checked against the first file's. A CSV set is an error (its text would
/// be parsed whole for any column).
pub fn read_set_columns(set: &Set, columns: &[String]) -> Result<DataFrame> {
    if set.format == Format::Csv {
        return Err(EngineError::file(
            &set.parts[0].path,
            "reading some columns takes Parquet or Arrow files",
        ));
    }
    let mut file_cols: Vec<String> = columns
        .iter()
        .filter(|c| !set.keys.contains(c))
        .cloned()
        .collect();
    if file_cols.is_empty() {
        // Only partition columns: the files' first column gives their rows (then dropped).
        let first = super::batches::file_schema(&set.parts[0].path, true)?;
        file_cols.extend(first.iter_names().take(1).map(|n| n.to_string()));
    }
    let (df, heights) = read_all(&set.parts, set.format, Some(&file_cols), &Progress::none())?;
    set.with_some_partitions(df, 0..set.parts.len(), &heights, Some(columns))?
        .select(columns.iter().map(String::as_str))
        .map_err(|e| EngineError::internal(format!("cannot order the columns: {e}")))
}

/// Every file's frame stacked (same columns and types as the first), with each file's rows.
/// `columns`: only these file columns, scanned for alone (a Parquet or Arrow file), left in
/// the files' pieces (else the frame is made contiguous).
fn read_all(
    parts: &[Part],
    format: Format,
    columns: Option<&[String]>,
    progress: &Progress,
) -> Result<(DataFrame, Vec<usize>)> {
    let mut df: Option<DataFrame> = None;
    let mut heights = Vec::with_capacity(parts.len());
    let mut rows = 0u64;
    for (i, p) in parts.iter().enumerate() {
        progress.check()?;
        progress.set(
            i as f32 / parts.len() as f32,
            &format!("reading {} ({} of {})", p.relative, i + 1, parts.len()),
        );
        let frame = match columns {
            None => read_frame(&p.path, format, true)?,
            Some(cols) => super::scan_frame(&p.path, format, true, None)?
                .select(cols.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
                .collect()
                .map_err(|e| {
                    EngineError::file(
                        &p.path,
                        format!("cannot read {format:?} data: {}", clean_polars(&e)),
                    )
                })?,
        };
        if format == Format::Csv {
            super::check_duplicate_headers(&p.path, &frame)?;
        }
        rows += frame.height() as u64;
        if rows > MAX_ROWS {
            return Err(EngineError::file(
                &p.path,
                format!(
                    "the files up to this one have more than {MAX_ROWS} rows, the most Assay reads"
                ),
            ));
        }
        heights.push(frame.height());
        match df.as_mut() {
            None => df = Some(frame),
            Some(all) => {
                if all.schema() != frame.schema() {
                    return Err(unlike(&p.path, &frame, &parts[0].relative, all));
                }
                all.vstack_mut_owned(frame).map_err(|e| {
                    EngineError::file(
                        &p.path,
                        format!("cannot append the rows: {}", clean_polars(&e)),
                    )
                })?;
            }
        }
    }
    let mut df = df.ok_or_else(|| EngineError::internal("empty file set"))?;
    // A whole set is made contiguous for the pages and analyses that read it row by row; the
    // columns read alone (by columns) are copied out by their reader anyway, so they stay in
    // the files' pieces (a contiguous copy held both at once: 8 bytes a row a number
    // column, 16 a text column).
    if columns.is_none() {
        df.rechunk_mut_par();
    }
    Ok((df, heights))
}

/// The error for the file at `path`, whose frame `df` has other columns or types than
/// `first` of the set's file `first_relative`.
pub(super) fn unlike(
    path: &Path,
    df: &DataFrame,
    first_relative: &str,
    first: &DataFrame,
) -> EngineError {
    EngineError::file(
        path,
        format!(
            "has columns {} but {first_relative} has {}; the files of one dataset need the same columns and types",
            describe(df),
            describe(first)
        ),
    )
}

fn describe(df: &DataFrame) -> String {
    let cols: Vec<String> = df
        .schema()
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect();
    format!("({})", cols.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_come_from_key_value_folders() {
        assert_eq!(
            partitions("date=2024-01-01/region=eu%2Fwest/part-0.parquet"),
            vec![
                ("date".to_string(), "2024-01-01".to_string()),
                ("region".to_string(), "eu/west".to_string())
            ]
        );
        assert!(partitions("part-0.parquet").is_empty());
    }
}

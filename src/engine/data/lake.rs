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
//! - **Hash**: SHA-256 of the manifest `"<sha256 of the file>  <relative path>\n"` per file,
//!   in sorted order, so it is deterministic and changes with any file's name or content.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::lake_where::{self, Predicate, HIVE_MISSING};
use super::{check_cells, clean_polars, read_frame, Dataset, Format, MAX_ROWS};
use crate::engine::error::{EngineError, Result};
use crate::engine::fsio;
use crate::engine::hash::{sha256_bytes, sha256_file};
use crate::engine::progress::Progress;

/// Most files one dataset may have.
pub const MAX_FILES: usize = 100_000;

/// One file of a set: its path and its path relative to the base folder (`/`-separated).
#[derive(Debug, Clone)]
pub struct Part {
    pub path: PathBuf,
    pub relative: String,
}

/// True when `path` names a set of files (a directory, or a glob that is not an existing
/// file's name) rather than one file.
pub fn is_set(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) => meta.is_dir(),
        Err(_) => has_glob(&path.to_string_lossy()),
    }
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The files of a directory or glob, sorted by relative path.
pub fn list(path: &Path) -> Result<Vec<Part>> {
    list_where(path, &[])
}

/// The files of a directory or glob whose `key=value` folders pass `predicates`, sorted by
/// relative path; a folder that fails one is not entered ([`lake_where`]).
pub fn list_where(path: &Path, predicates: &[Predicate]) -> Result<Vec<Part>> {
    let mut l = Lister {
        whole: path,
        predicates,
        parts: Vec::new(),
        pruned: 0,
    };
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        l.walk(path, "")?;
        l.parts.retain(|p| Format::from_path(&p.path).is_ok());
        if l.parts.is_empty() && l.pruned == 0 {
            return Err(EngineError::file(
                path,
                "the folder has no data files (.csv/.tsv, .parquet, .arrow/.ipc/.feather)",
            ));
        }
    } else {
        let text = path.to_string_lossy();
        let comps: Vec<&str> = text.split('/').collect();
        let first = comps.iter().position(|c| has_glob(c)).unwrap_or(0);
        let base = if first == 0 {
            PathBuf::from(if text.starts_with('/') { "/" } else { "." })
        } else {
            let b = comps[..first].join("/");
            PathBuf::from(if b.is_empty() { "/".to_string() } else { b })
        };
        l.matches(&base, "", &comps[first..])?;
        if l.parts.is_empty() && l.pruned == 0 {
            return Err(EngineError::file(path, "no file matches this pattern"));
        }
    }
    if l.parts.is_empty() {
        return Err(EngineError::file(
            path,
            format!(
                "no partition satisfies --where {} ({} folders left out)",
                lake_where::describe(predicates),
                l.pruned
            ),
        ));
    }
    let mut parts = l.parts;
    parts.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(parts)
}

fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

/// Entries of a folder as (name, is a real folder, path), sorted by name.
fn entries(dir: &Path) -> Result<Vec<(String, bool, PathBuf)>> {
    let read = std::fs::read_dir(dir)
        .map_err(|e| EngineError::file(dir, format!("cannot list the folder: {e}")))?;
    let mut out = Vec::new();
    for entry in read {
        let entry =
            entry.map_err(|e| EngineError::file(dir, format!("cannot list the folder: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if hidden(&name) {
            continue;
        }
        // The entry's own type: a link to a folder is not followed.
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        out.push((name, is_dir, entry.path()));
    }
    out.sort();
    Ok(out)
}

fn join_rel(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}/{name}")
    }
}

/// The files found so far, and how many folders the predicates left out.
struct Lister<'a> {
    whole: &'a Path,
    predicates: &'a [Predicate],
    parts: Vec<Part>,
    pruned: usize,
}

impl Lister<'_> {
    fn push(&mut self, path: PathBuf, relative: String) -> Result<()> {
        if self.parts.len() >= MAX_FILES {
            return Err(EngineError::file(
                self.whole,
                format!(
                    "more than {MAX_FILES} files; Assay reads at most {MAX_FILES} files as one dataset"
                ),
            ));
        }
        self.parts.push(Part { path, relative });
        Ok(())
    }

    /// False (and counted) for a `key=value` folder that fails a predicate on `key`.
    fn enters(&mut self, name: &str) -> bool {
        let Some((k, v)) = name.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return true;
        };
        if self.predicates.is_empty()
            || lake_where::folder_passes(self.predicates, &unescape(k), &unescape(v))
        {
            return true;
        }
        self.pruned += 1;
        false
    }

    fn walk(&mut self, dir: &Path, rel: &str) -> Result<()> {
        for (name, is_dir, path) in entries(dir)? {
            let r = join_rel(rel, &name);
            if !is_dir {
                self.push(path, r)?;
            } else if self.enters(&name) {
                self.walk(&path, &r)?;
            }
        }
        Ok(())
    }

    fn matches(&mut self, dir: &Path, rel: &str, pat: &[&str]) -> Result<()> {
        let Some((&head, rest)) = pat.split_first() else {
            return Ok(());
        };
        if head == "**" {
            // Zero folders here, or one more folder and `**` again.
            self.matches(dir, rel, rest)?;
            for (name, is_dir, path) in entries(dir)? {
                if is_dir && self.enters(&name) {
                    self.matches(&path, &join_rel(rel, &name), pat)?;
                }
            }
            return Ok(());
        }
        if head.is_empty() || head == "." {
            return self.matches(dir, rel, rest);
        }
        if !has_glob(head) {
            let path = dir.join(head);
            let r = join_rel(rel, head);
            if rest.is_empty() {
                if path.exists() {
                    self.push(path, r)?;
                }
            } else if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir())
                && self.enters(head)
            {
                self.matches(&path, &r, rest)?;
            }
            return Ok(());
        }
        for (name, is_dir, path) in entries(dir)? {
            if !wildcard(head.as_bytes(), name.as_bytes()) {
                continue;
            }
            let r = join_rel(rel, &name);
            match (rest.is_empty(), is_dir) {
                (true, false) => self.push(path, r)?,
                (false, true) if self.enters(&name) => self.matches(&path, &r, rest)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// `*` (any run of characters), `?` (one character) and `[…]` (one of a set, `!`/`^`
/// negates, `a-z` ranges) against one path component.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| wildcard(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && wildcard(rest, &s[1..]),
        Some((b'[', rest)) => {
            let Some(end) = rest.iter().skip(1).position(|&c| c == b']').map(|e| e + 1) else {
                return s.first() == Some(&b'[') && wildcard(rest, &s[1..]);
            };
            let Some((&c, tail)) = s.split_first() else {
                return false;
            };
            let (neg, set) = match rest[..end].split_first() {
                Some((b'!' | b'^', set)) => (true, set),
                _ => (false, &rest[..end]),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == b'-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != neg && wildcard(&rest[end + 1..], tail)
        }
        Some((&c, rest)) => s.first() == Some(&c) && wildcard(rest, &s[1..]),
    }
}

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

fn unescape(s: &str) -> String {
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
        mut df: DataFrame,
        files: std::ops::Range<usize>,
        heights: &[usize],
    ) -> Result<DataFrame> {
        for (j, key) in self.keys.iter().enumerate() {
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
    load_set_where(path, &[], progress)
}

/// [`load_set`] of the files whose partition folders pass `predicates` ([`Set::open_where`]);
/// the hash is the manifest of those files.
pub fn load_set_where(
    path: &Path,
    predicates: &[Predicate],
    progress: &Progress,
) -> Result<Dataset> {
    let set = Set::open_where(path, true, predicates)?;
    let (frames, sha256) = std::thread::scope(|s| {
        let hasher = s.spawn(|| set.sha256());
        let frames = read_all(&set.parts, set.format, progress);
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
    Ok(Dataset {
        path: path.to_path_buf(),
        sha256,
        format: set.format,
        file_size: set.size,
        df,
    })
}

/// Every file's frame stacked (same columns and types as the first), with each file's rows.
fn read_all(
    parts: &[Part],
    format: Format,
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
        let frame = read_frame(&p.path, format, true)?;
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
    df.rechunk_mut_par();
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
    fn wildcards_match_one_component() {
        assert!(wildcard(b"part-*.parquet", b"part-0001.parquet"));
        assert!(!wildcard(b"part-*.parquet", b"part-0001.csv"));
        assert!(wildcard(b"date=*", b"date=2024-01-01"));
        assert!(wildcard(b"p?rt", b"part"));
        assert!(wildcard(b"[ab]x", b"bx") && !wildcard(b"[!ab]x", b"bx"));
        assert!(wildcard(b"[0-9]", b"7") && !wildcard(b"[0-9]", b"x"));
        assert!(wildcard(b"*", b""));
    }

    #[test]
    fn predicates_prune_folders_before_their_files_are_listed() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = tmp.path();
        for (date, hour) in [("2024-02-29", 1), ("2024-03-01", 9), ("2024-03-01", 10)] {
            let dir = root.join(format!("date={date}/hour={hour}"));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.join("part-0.csv"), "x\n1\n").unwrap_or_else(|e| panic!("{e}"));
        }
        // An unreadable folder outside the window is never listed.
        std::fs::create_dir_all(root.join("date=2024-01-01/hour=0/part-0.csv"))
            .unwrap_or_else(|e| panic!("{e}"));
        let p = |s: &str| Predicate::parse(s).unwrap_or_else(|e| panic!("{e}"));
        let rel = |path: &Path, w: &[Predicate]| -> Vec<String> {
            list_where(path, w)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .map(|p| p.relative)
                .collect()
        };
        let march = [p("date>=2024-03-01")];
        assert_eq!(
            rel(root, &march),
            [
                "date=2024-03-01/hour=10/part-0.csv",
                "date=2024-03-01/hour=9/part-0.csv"
            ]
        );
        let glob = root.join("**/*.csv");
        assert_eq!(rel(&glob, &[p("hour<10"), p("date>2024-02-01")]).len(), 2);
        assert_eq!(
            rel(&root.join("date=*/hour=*/*.csv"), &[p("hour=10")]).len(),
            1
        );
        let set = Set::open_where(root, false, &march).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(set.parts.len(), 2);
        let err = Set::open_where(root, false, &[p("region=eu")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("partition folders: date, hour"), "{err}");
        let none = list_where(root, &[p("date>2025")])
            .err()
            .map(|e| e.to_string());
        assert!(none.is_some_and(|e| e.contains("3 folders left out")));
    }

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

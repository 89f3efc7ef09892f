//! A dataset read in batches of rows through polars' streaming engine, for engines that keep
//! only what they compute per row (scores, labels, codes) instead of the whole frame: memory
//! is bounded by a few batches, not by the data. A dataset is one file or a lake-style set of
//! files ([`super::lake`], read file after file with its partition columns added:
//! [`super::lake_batches`]).
//!
//! Batches arrive in file order. The CSV column types are inferred from the first 10,000 rows,
//! as in [`super::load`]; a file whose later rows do not fit them fails here, and the caller
//! falls back to [`super::load`] (which re-infers from all rows).
//!
//! A CSV file is read through a `file://` URL ([`unmapped_source`]): polars then reads it in
//! chunks through its object-store reader instead of memory-mapping all of it. A mapped file's
//! pages stay in the resident set once read (clean file pages, but counted in the peak RSS:
//! 0.95 GiB of a 1 GiB CSV). A Parquet file is read one batch of rows per query (a slice,
//! which polars reads from the row groups it overlaps): its streaming engine would decode up
//! to 16 row groups ahead of a slow consumer.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::mpsc::sync_channel;

use polars::prelude::*;

use super::lake::{self, Set};
use super::{check_duplicate_headers, check_duplicate_names, scan_frame, Format};
use crate::engine::error::{EngineError, Result};
use crate::engine::hash::sha256_file;

/// Datasets at least this large (one file, or the files of a set together; a Parquet file
/// counts as at least 8 bytes a cell its footer claims, since it may compress its columns
/// far below what they take in memory) are read in batches by the engines that can
/// (evaluate, fairness, drift, the data summary) instead of loaded whole.
pub const STREAM_MIN_BYTES: u64 = 64 << 20;

/// A regular file, or a set of files that checks out ([`Set::open`]), of at least
/// [`STREAM_MIN_BYTES`].
pub fn is_large(path: &Path) -> bool {
    if lake::is_set(path) {
        return Set::open(path, false).is_ok_and(|s| {
            let claimed = s.parts.iter().fold(0u64, |sum, p| {
                sum.saturating_add(held_bytes(&p.path, s.format, 0))
            });
            s.size.max(claimed) >= STREAM_MIN_BYTES
        });
    }
    std::fs::metadata(path).is_ok_and(|m| {
        m.is_file()
            && Format::from_path(path)
                .is_ok_and(|f| held_bytes(path, f, m.len()) >= STREAM_MIN_BYTES)
    })
}

/// The bytes a file of `len` bytes takes at least once read: its size, or for Parquet 8
/// bytes a claimed cell if that is more.
fn held_bytes(path: &Path, format: Format, len: u64) -> u64 {
    if format != Format::Parquet || len >= STREAM_MIN_BYTES {
        return len;
    }
    super::parquet_claims(path).map_or(len, |(rows, cols)| {
        len.max(rows.saturating_mul(cols).saturating_mul(8))
    })
}

/// A dataset the batch readers can take: its format and size in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub format: Format,
    pub size: u64,
}

/// Checks the dataset at `path` for reading in batches: one regular, non-empty CSV, Parquet
/// or Arrow file whose claimed size (a Parquet footer's) is within the row and cell limits,
/// or a set of such files ([`Set::open`]).
pub fn source(path: &Path) -> Result<Source> {
    if lake::is_set(path) {
        let set = Set::open(path, false)?;
        return Ok(Source {
            format: set.format,
            size: set.size,
        });
    }
    let meta = crate::engine::fsio::check_regular(path, "dataset")?;
    let format = Format::from_path(path)?;
    if meta.len() == 0 {
        return Err(EngineError::file(path, "the file is empty"));
    }
    super::check_claimed(path, format, false)?;
    Ok(Source {
        format,
        size: meta.len(),
    })
}

/// SHA-256 of the file at `path`, or of a set's manifest ([`Set::sha256`]): the hash
/// [`super::load`] gives the dataset.
pub fn sha256(path: &Path) -> Result<String> {
    if lake::is_set(path) {
        return Set::open(path, false)?.sha256();
    }
    sha256_file(path)
}

/// The columns and types batches of the dataset at `path` have (a CSV's inferred from its
/// first 10,000 rows; a set's from its first file, with the partition columns).
pub fn schema(path: &Path) -> Result<Schema> {
    if lake::is_set(path) {
        return super::lake_batches::schema(&Set::open(path, false)?);
    }
    file_schema(path, false)
}

/// [`schema`] of one file; `no_hive`: as in [`scan_frame`].
pub(super) fn file_schema(path: &Path, no_hive: bool) -> Result<Schema> {
    let format = Format::from_path(path)?;
    let mut lf = scan_frame(path, format, no_hive, Some(10_000))?;
    let schema = lf.collect_schema().map_err(|e| {
        EngineError::file(
            path,
            format!("cannot read {format:?} data: {}", super::clean_polars(&e)),
        )
    })?;
    Ok(schema.as_ref().clone())
}

/// Rows of one file (a Parquet or Arrow file's from its metadata; a CSV file is scanned).
/// Counted once per version of the file ([`super::file_facts`]), so paging deep into a CSV
/// set does not scan the earlier files again.
pub(super) fn file_rows(path: &Path, no_hive: bool) -> Result<usize> {
    super::file_facts::rows(path, || {
        let format = Format::from_path(path)?;
        let lf = batch_scan(path, format, no_hive)?;
        count_rows(path, format, lf)
    })
}

/// The scan the batch readers use: types inferred from 10,000 CSV rows, a CSV file through
/// its `file://` URL ([`unmapped_source`]); `no_hive`: as in [`scan_frame`].
fn batch_scan(path: &Path, format: Format, no_hive: bool) -> Result<LazyFrame> {
    let source = match format {
        Format::Csv => unmapped_source(path),
        _ => None,
    };
    scan_frame(
        source.as_deref().unwrap_or(path),
        format,
        no_hive,
        Some(10_000),
    )
}

fn count_rows(path: &Path, format: Format, lf: LazyFrame) -> Result<usize> {
    let count = lf.select([len()]).collect().map_err(|e| {
        EngineError::file(
            path,
            format!("cannot read {format:?} data: {}", super::clean_polars(&e)),
        )
    })?;
    count
        .columns()
        .first()
        .and_then(|c| c.cast(&DataType::UInt64).ok())
        .and_then(|c| c.u64().ok().and_then(|v| v.get(0)))
        .map(|n| n as usize)
        .ok_or_else(|| EngineError::internal("no row count"))
}

/// Rows per batch for `columns` columns: about 128 MiB of 8-byte cells, a multiple of 2¹⁶
/// rows between 2¹⁶ and 2²⁰.
pub fn batch_rows(columns: usize) -> usize {
    let rows = (128usize << 20) / (8 * columns.max(1));
    (rows & !0xFFFF).clamp(1 << 16, 1 << 20)
}

enum Message {
    Batch(DataFrame),
    Done(PolarsResult<()>),
}

/// The read on the query thread: a streaming query sinking batches, or consecutive slices of
/// `rows` rows each sent as a batch.
enum Query {
    Sink(LazyFrame),
    Slices {
        lf: LazyFrame,
        total: usize,
        tx: std::sync::mpsc::SyncSender<Message>,
    },
}

impl Query {
    fn run(self, rows: usize) -> PolarsResult<()> {
        match self {
            Query::Sink(lf) => lf.collect_with_engine(Engine::Streaming).map(|_| ()),
            Query::Slices { lf, total, tx } => {
                let mut offset = 0usize;
                while offset < total {
                    let df = lf.clone().slice(offset as i64, rows as IdxSize).collect()?;
                    if df.height() == 0 {
                        break;
                    }
                    offset += df.height();
                    if tx.send(Message::Batch(df)).is_err() {
                        break;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Calls `f` on consecutive batches of exactly `rows` rows (the last one: the rest) of the
/// dataset at `path` (one CSV, Parquet or Arrow file, or a set of them), in file order;
/// returns the number of rows read. `columns`: read only these (a missing one is an error).
/// Stops at the first error of `f` or of the read.
pub fn for_each_batch(
    path: &Path,
    columns: Option<&[String]>,
    rows: usize,
    f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<usize> {
    if lake::is_set(path) {
        let set = Set::open(path, false)?;
        return super::lake_batches::for_each_batch(&set, columns, rows, f);
    }
    file_batches(path, false, columns, rows, f)
}

/// [`for_each_batch`] of the files of the set at `path` whose partition folders pass
/// `predicates` ([`Set::open_where`]; none: [`for_each_batch`]).
pub fn for_each_batch_where(
    path: &Path,
    predicates: &[super::Predicate],
    columns: Option<&[String]>,
    rows: usize,
    f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<usize> {
    if predicates.is_empty() {
        return for_each_batch(path, columns, rows, f);
    }
    let set = Set::open_where(path, false, predicates)?;
    super::lake_batches::for_each_batch(&set, columns, rows, f)
}

/// The columns `columns` of every row of the Parquet or Arrow dataset at `path` (of a set, the
/// files passing `predicates`): a few columns of a dataset too large to hold whole, each
/// file scanned for them alone ([`lake::read_set_columns`] for a set). A CSV file is an error
/// (its text would be parsed whole for any column); so is no rows.
pub fn read_columns(
    path: &Path,
    predicates: &[super::Predicate],
    columns: &[String],
) -> Result<DataFrame> {
    let df = if lake::is_set(path) {
        lake::read_set_columns(&Set::open_where(path, false, predicates)?, columns)?
    } else {
        let format = Format::from_path(path)?;
        if !predicates.is_empty() || format == Format::Csv {
            return Err(EngineError::file(
                path,
                "reading some columns takes a Parquet or Arrow file, or a set of them",
            ));
        }
        scan_frame(path, format, false, None)?
            .select(columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
            .collect()
            .map_err(|e| {
                EngineError::file(
                    path,
                    format!("cannot read {format:?} data: {}", super::clean_polars(&e)),
                )
            })?
    };
    if df.height() == 0 {
        return Err(EngineError::file(path, "the dataset has no data rows"));
    }
    Ok(df)
}

/// The bytes the dataset at `path` (the files passing `predicates`) takes at least once read:
/// its files' sizes, a Parquet file's 8 bytes a claimed cell when that is more; `None` when it
/// cannot be listed or checked.
pub fn held_bytes_where(path: &Path, predicates: &[super::Predicate]) -> Option<u64> {
    let held = |p: &Path, format: Format, len: u64| match format {
        Format::Parquet => super::parquet_claims(p).map_or(len, |(rows, cols)| {
            len.max(rows.saturating_mul(cols).saturating_mul(8))
        }),
        _ => len,
    };
    if lake::is_set(path) {
        let s = Set::open_where(path, false, predicates).ok()?;
        return Some(s.parts.iter().fold(0u64, |sum, p| {
            let len = std::fs::metadata(&p.path).map_or(0, |m| m.len());
            sum.saturating_add(held(&p.path, s.format, len))
        }));
    }
    let m = std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)?;
    let f = Format::from_path(path).ok()?;
    Some(held(path, f, m.len()))
}

/// [`for_each_batch`] of one file; `no_hive`: as in [`scan_frame`].
pub(super) fn file_batches(
    path: &Path,
    no_hive: bool,
    columns: Option<&[String]>,
    rows: usize,
    mut f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<usize> {
    let format = Format::from_path(path)?;
    let mut lf = batch_scan(path, format, no_hive)?;
    let wrap = |e: PolarsError| {
        EngineError::file(
            path,
            format!("cannot read {format:?} data: {}", super::clean_polars(&e)),
        )
    };
    if let Some(columns) = columns {
        if format == Format::Csv {
            // The header check needs every name, not only the columns read.
            let schema = lf.collect_schema().map_err(wrap)?;
            let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
            check_duplicate_names(path, &names)?;
        }
        lf = lf.select(columns.iter().map(|c| col(c.as_str())).collect::<Vec<_>>());
    }
    let rows = rows.max(1);
    // A rendezvous channel: the query thread holds at most one batch ready while `f` runs on
    // the one before (a buffered batch more would add one to the batches in flight).
    let (tx, rx) = sync_channel::<Message>(0);
    let done = tx.clone();
    let query = if format == Format::Parquet {
        // The streaming engine decodes up to 16 row groups ahead of the consumer (1.5 GiB
        // of the German-credit columns in row groups of 2^20 rows); one query per batch of
        // rows reads only the row groups it covers.
        let total = count_rows(path, format, lf.clone())?;
        Query::Slices { lf, total, tx }
    } else {
        // The callback runs on polars' threads; a closed channel (the reader stopped) ends
        // the query (`true` = stop).
        Query::Sink(
            lf.sink_batches(
                PlanCallback::new(move |df| Ok(tx.send(Message::Batch(df)).is_err())),
                true,
                NonZeroUsize::new(rows),
            )
            .map_err(wrap)?,
        )
    };
    // `rx` moves into the scope's closure and is dropped when it returns, before the scope
    // waits for the query thread: a stopped reader never leaves that thread blocked on a send.
    std::thread::scope(move |s| {
        s.spawn(move || {
            let r = query.run(rows);
            done.send(Message::Done(r)).ok();
        });
        let mut total = 0usize;
        let mut pending: Option<DataFrame> = None;
        for message in &rx {
            match message {
                Message::Batch(df) => {
                    let all = match pending.take() {
                        None => {
                            if format == Format::Csv && columns.is_none() {
                                check_duplicate_headers(path, &df)?;
                            }
                            df
                        }
                        Some(mut p) => {
                            p.vstack_mut(&df).map_err(wrap)?;
                            p
                        }
                    };
                    pending = Some(emit_full(all, rows, &mut total, &mut f)?);
                }
                Message::Done(r) => {
                    r.map_err(wrap)?;
                    if let Some(last) = pending.filter(|p| p.height() > 0) {
                        total += last.height();
                        f(last)?;
                    }
                    return Ok(total);
                }
            }
        }
        Err(EngineError::internal(
            "the batch reader stopped without a result",
        ))
    })
}

/// Calls `f` on each whole batch of `rows` rows at the front of `all` (counted in `total`);
/// returns the rest (fewer than `rows`).
pub(super) fn emit_full(
    mut all: DataFrame,
    rows: usize,
    total: &mut usize,
    f: &mut impl FnMut(DataFrame) -> Result<()>,
) -> Result<DataFrame> {
    while all.height() >= rows {
        let rest = all.slice(rows as i64, all.height() - rows);
        *total += rows;
        f(all.slice(0, rows))?;
        all = rest;
    }
    Ok(all)
}

/// Rows `offset .. offset + len` of the dataset at `path` (one CSV, Parquet or Arrow file, or
/// a set of them), read as [`for_each_batch`] reads them (the same CSV column types): a page
/// of data too large to hold. Fewer rows at the end; a CSV file is scanned up to `offset`, a
/// Parquet file reads only the row groups the rows are in (of a set, the files before the
/// one `offset` is in are counted: from metadata, or by a scan of a CSV file).
pub fn read_slice(path: &Path, offset: usize, len: usize) -> Result<DataFrame> {
    if lake::is_set(path) {
        let set = Set::open(path, false)?;
        return super::lake_batches::read_slice(&set, offset, len);
    }
    file_slice(path, false, offset, len)
}

/// [`read_slice`] of one file; `no_hive`: as in [`scan_frame`].
pub(super) fn file_slice(
    path: &Path,
    no_hive: bool,
    offset: usize,
    len: usize,
) -> Result<DataFrame> {
    let format = Format::from_path(path)?;
    let lf = batch_scan(path, format, no_hive)?;
    let df = lf
        .slice(offset as i64, len as IdxSize)
        .collect()
        .map_err(|e| {
            EngineError::file(
                path,
                format!("cannot read {format:?} data: {}", super::clean_polars(&e)),
            )
        })?;
    if format == Format::Csv {
        check_duplicate_headers(path, &df)?;
    }
    Ok(df)
}

/// The `file://` URL of the file at `path`, which polars reads in chunks (as it reads cloud
/// files) rather than through a memory map; `None` (read the path, mapped) where the URL would
/// not name the same file: a path that is not valid UTF-8 or holds a character a URL escapes.
fn unmapped_source(path: &Path) -> Option<std::path::PathBuf> {
    let full = std::fs::canonicalize(path).ok()?;
    let text = full.to_str()?;
    let plain = text.starts_with('/')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=,@~".contains(&b));
    plain.then(|| format!("file://{text}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_the_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut text = String::from("a,b\n");
        for i in 0..1000 {
            text.push_str(&format!("{i},x{}\n", i % 7));
        }
        std::fs::write(&path, text).unwrap();
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let n = for_each_batch(&path, None, 128, |df| {
            sizes.push(df.height());
            let a = df.column("a").unwrap().i64().unwrap().clone();
            seen.extend(a.into_no_null_iter());
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 1000);
        assert_eq!(seen, (0..1000).collect::<Vec<i64>>());
        let mut want = vec![128; 7];
        want.push(104);
        assert_eq!(sizes, want);
        let err =
            for_each_batch(&path, None, 100, |_| Err(EngineError::usage("stop"))).unwrap_err();
        assert!(err.to_string().contains("stop"), "{err}");
        let mut widths = Vec::new();
        let cols = ["b".to_string()];
        for_each_batch(&path, Some(&cols), 600, |df| {
            widths.push((df.width(), df.height()));
            Ok(())
        })
        .unwrap();
        assert_eq!(widths, [(1, 600), (1, 400)]);
        let bad = ["nope".to_string()];
        assert!(for_each_batch(&path, Some(&bad), 600, |_| Ok(())).is_err());
        std::fs::write(&path, "a,b,a\n1,2,3\n").unwrap();
        let err = for_each_batch(&path, Some(&cols), 10, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("repeats column name 'a'"), "{err}");
        assert_eq!(batch_rows(7), 1 << 20);
        assert_eq!(batch_rows(200), 1 << 16);
        assert_eq!(batch_rows(40), 6 << 16);
    }
}

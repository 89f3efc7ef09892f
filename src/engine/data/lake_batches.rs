//! A lake-style dataset ([`super::lake`]) read in batches: its files one after another in
//! sorted relative-path order (the rows [`super::lake::load_set`] stacks), each through the
//! one-file reader of [`super::batches`] with its partition columns appended, cut into
//! batches of exactly the rows asked for across file boundaries. Memory is bounded by a few
//! batches whatever the number or size of the files.
//!
//! A file whose columns or types differ from the first file's is an error naming it (the
//! caller falls back to loading the set, which reports it the same way).

use polars::prelude::*;

use super::batches::{emit_full, file_batches, file_rows, file_schema, file_slice};
use super::lake::{unlike, Set};
use crate::engine::error::{EngineError, Result};

/// [`super::batches::schema`] of a set: the first file's columns, then the partition columns.
pub(super) fn schema(set: &Set) -> Result<Schema> {
    let first = &set.parts[0];
    let schema = file_schema(&first.path, true)?;
    let empty = DataFrame::empty_with_schema(&schema);
    let df = set.with_partitions(empty, 0..1, &[0])?;
    Ok(df.schema().as_ref().clone())
}

/// Splits `columns` into those read from the files and (implicitly) the partition keys.
fn file_columns(set: &Set, columns: Option<&[String]>) -> Option<Vec<String>> {
    columns.map(|cols| {
        cols.iter()
            .filter(|c| !set.keys.contains(c))
            .cloned()
            .collect()
    })
}

/// `df` of file `i` with its partition columns, its columns in the order of `columns` (when
/// given); its file columns must be those of the first file (`first`, taken from the first
/// frame seen).
fn complete(
    set: &Set,
    i: usize,
    df: DataFrame,
    columns: Option<&[String]>,
    first: &mut Option<(usize, DataFrame)>,
) -> Result<DataFrame> {
    match first {
        None => *first = Some((i, df.clear())),
        Some((j, shape)) => {
            if shape.schema() != df.schema() {
                return Err(unlike(
                    &set.parts[i].path,
                    &df,
                    &set.parts[*j].relative,
                    shape,
                ));
            }
        }
    }
    let height = df.height();
    let df = set.with_some_partitions(df, i..i + 1, &[height], columns)?;
    match columns {
        Some(cols) => df.select(cols.iter().map(String::as_str)).map_err(|e| {
            EngineError::internal(format!(
                "cannot order the columns: {}",
                super::clean_polars(&e)
            ))
        }),
        None => Ok(df),
    }
}

fn append(pending: Option<DataFrame>, df: DataFrame) -> Result<DataFrame> {
    match pending {
        None => Ok(df),
        Some(mut p) => {
            p.vstack_mut_owned(df).map_err(|e| {
                EngineError::internal(format!(
                    "cannot append a batch: {}",
                    super::clean_polars(&e)
                ))
            })?;
            Ok(p)
        }
    }
}

/// [`super::batches::for_each_batch`] of a set.
pub(super) fn for_each_batch(
    set: &Set,
    columns: Option<&[String]>,
    rows: usize,
    mut f: impl FnMut(DataFrame) -> Result<()>,
) -> Result<usize> {
    let rows = rows.max(1);
    let mut read = file_columns(set, columns);
    if read.as_ref().is_some_and(Vec::is_empty) {
        // Only partition columns: the files' first column gives their rows (then dropped).
        let first = file_schema(&set.parts[0].path, true)?;
        read = Some(first.iter_names().take(1).map(|n| n.to_string()).collect());
    }
    let mut first = None;
    let mut pending: Option<DataFrame> = None;
    let mut total = 0usize;
    for (i, part) in set.parts.iter().enumerate() {
        file_batches(&part.path, true, read.as_deref(), rows, |df| {
            let df = complete(set, i, df, columns, &mut first)?;
            let all = append(pending.take(), df)?;
            pending = Some(emit_full(all, rows, &mut total, &mut f)?);
            Ok(())
        })?;
    }
    if let Some(last) = pending.filter(|p| p.height() > 0) {
        total += last.height();
        f(last)?;
    }
    Ok(total)
}

/// [`super::batches::read_slice`] of a set.
pub(super) fn read_slice(set: &Set, offset: usize, len: usize) -> Result<DataFrame> {
    let mut skip = offset;
    let mut want = len;
    let mut out: Option<DataFrame> = None;
    let mut first = None;
    for (i, part) in set.parts.iter().enumerate() {
        if want == 0 {
            break;
        }
        if skip > 0 {
            let height = file_rows(&part.path, true)?;
            if skip >= height {
                skip -= height;
                continue;
            }
        }
        let df = file_slice(&part.path, true, skip, want)?;
        skip = 0;
        want -= df.height().min(want);
        let df = complete(set, i, df, None, &mut first)?;
        out = Some(append(out, df)?);
    }
    match out {
        Some(df) => Ok(df),
        // Past the last row: no rows, with the columns.
        None => Ok(DataFrame::empty_with_schema(&schema(set)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::batches;
    use crate::engine::progress::Progress;

    /// Three CSV files under `day=` folders (one of them the default partition), 5 + 2 + 7
    /// rows, and a file that is not data.
    fn lake(dir: &std::path::Path) {
        for (day, rows) in [("1", 5), ("2", 2), ("__HIVE_DEFAULT_PARTITION__", 7)] {
            let sub = dir.join(format!("day={day}"));
            std::fs::create_dir_all(&sub).unwrap();
            let mut text = String::from("x,name\n");
            for r in 0..rows {
                text.push_str(&format!("{}.5,n{r}\n", r * 10));
            }
            std::fs::write(sub.join("part-0.csv"), text).unwrap();
        }
        std::fs::write(dir.join("day=1").join("_SUCCESS"), "").unwrap();
    }

    #[test]
    fn a_set_streams_as_it_loads() {
        let dir = tempfile::tempdir().unwrap();
        lake(dir.path());
        let whole = crate::engine::data::load(dir.path(), &Progress::none()).unwrap();
        for rows in [1, 3, 5, 12, 100] {
            let mut got: Option<DataFrame> = None;
            let mut heights = Vec::new();
            let n = batches::for_each_batch(dir.path(), None, rows, |df| {
                heights.push(df.height());
                got = Some(append(got.take(), df)?);
                Ok(())
            })
            .unwrap();
            assert_eq!(n, 14);
            assert!(heights[..heights.len() - 1].iter().all(|&h| h == rows));
            assert!(
                got.unwrap().equals_missing(&whole.df),
                "{rows} rows a batch"
            );
        }
        // Selected columns, partition key first.
        let cols = ["day".to_string(), "x".to_string()];
        let mut got = None;
        batches::for_each_batch(dir.path(), Some(&cols), 4, |df| {
            got = Some(append(got.take(), df)?);
            Ok(())
        })
        .unwrap();
        let want = whole.df.select(["day", "x"]).unwrap();
        assert!(got.unwrap().equals_missing(&want));
        // Only a partition column.
        let cols = ["day".to_string()];
        let mut got = None;
        let n = batches::for_each_batch(dir.path(), Some(&cols), 4, |df| {
            got = Some(append(got.take(), df)?);
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 14);
        assert!(got
            .unwrap()
            .equals_missing(&whole.df.select(["day"]).unwrap()));
        // Pages across the file boundary and past the end.
        for (offset, len) in [(0, 3), (3, 5), (4, 100), (6, 2), (12, 5)] {
            let page = batches::read_slice(dir.path(), offset, len).unwrap();
            let want = whole.df.slice(offset as i64, len);
            assert!(page.equals_missing(&want), "rows {offset}+{len}");
        }
        let past = batches::read_slice(dir.path(), 50, 5).unwrap();
        assert_eq!((past.height(), past.width()), (0, 3));
        assert_eq!(
            batches::schema(dir.path()).unwrap(),
            *whole.df.schema().as_ref()
        );
        assert_eq!(batches::sha256(dir.path()).unwrap(), whole.sha256);
        let source = batches::source(dir.path()).unwrap();
        assert_eq!(source.size, whole.file_size);
    }

    #[test]
    fn a_file_unlike_the_first_is_named() {
        let dir = tempfile::tempdir().unwrap();
        lake(dir.path());
        std::fs::write(
            dir.path().join("day=2").join("part-0.csv"),
            "x,other\n1,a\n",
        )
        .unwrap();
        let err = batches::for_each_batch(dir.path(), None, 4, |_| Ok(())).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("day=2") && text.contains("same columns"),
            "{text}"
        );
        std::fs::write(
            dir.path().join("day=1").join("part-0.csv"),
            "x,name,day\n1.5,a,3\n",
        )
        .unwrap();
        let err = batches::for_each_batch(dir.path(), None, 4, |_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("also a partition folder"), "{err}");
    }
}

//! What reading a file's footer or scanning it once tells (its rows; a Parquet footer's
//! claimed rows and columns), remembered per file while the file stays the same: the same
//! path, length, modification time and inode. The batch readers ask for these often — every
//! streamed analysis of a lake-style set checks each file's footer, and a page deep into a CSV
//! set counts the rows of every earlier file — so without this a set of thousands of files,
//! or a page far into large CSV files, repeats that work on every call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::engine::error::Result;

/// Most files remembered; past this the memory is cleared and refilled.
const MAX_ENTRIES: usize = 200_000;

/// A file as it was when its facts were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        })
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    rows: Option<usize>,
    claims: Option<(u64, u64)>,
}

static MEMORY: Mutex<Option<HashMap<PathBuf, (Stamp, Facts)>>> = Mutex::new(None);

/// The fact `get` picks from what is remembered of `path`, or `read` (then remembered by
/// `put`) when the file is new or changed. Errors are not remembered.
fn remembered<T: Copy>(
    path: &Path,
    get: impl Fn(&Facts) -> Option<T>,
    put: impl Fn(&mut Facts, T),
    read: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let Some(stamp) = Stamp::of(path) else {
        return read();
    };
    {
        let memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
        let known = memory
            .as_ref()
            .and_then(|m| m.get(path))
            .filter(|(s, _)| *s == stamp)
            .and_then(|(_, f)| get(f));
        if let Some(v) = known {
            return Ok(v);
        }
    }
    let value = read()?;
    // Remembered only if the file did not change while it was read.
    if Stamp::of(path) == Some(stamp) {
        let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
        let map = memory.get_or_insert_with(HashMap::new);
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        let entry = map
            .entry(path.to_path_buf())
            .or_insert((stamp, Facts::default()));
        if entry.0 != stamp {
            *entry = (stamp, Facts::default());
        }
        put(&mut entry.1, value);
    }
    Ok(value)
}

/// The rows of the file at `path`, counted by `count` once per version of the file.
pub(super) fn rows(path: &Path, count: impl FnOnce() -> Result<usize>) -> Result<usize> {
    remembered(path, |f| f.rows, |f, v| f.rows = Some(v), count)
}

/// The (rows, columns) a Parquet file's footer claims, read by `read` once per version.
pub(super) fn claims(path: &Path, read: impl FnOnce() -> Result<(u64, u64)>) -> Result<(u64, u64)> {
    remembered(path, |f| f.claims, |f, v| f.claims = Some(v), read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_fact_is_read_once_per_version_of_the_file() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = tmp.path().join("a.csv");
        let write = |text: &str| std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        write("x\n1\n2\n");
        let reads = Cell::new(0);
        let count = |n: usize| {
            reads.set(reads.get() + 1);
            Ok(n)
        };
        assert_eq!(rows(&path, || count(2)).ok(), Some(2));
        assert_eq!(rows(&path, || count(99)).ok(), Some(2));
        assert_eq!(reads.get(), 1);
        // Claims are their own fact.
        assert_eq!(claims(&path, || Ok((2, 1))).ok(), Some((2, 1)));
        assert_eq!(rows(&path, || count(99)).ok(), Some(2));
        // A changed file is read again.
        write("x\n1\n2\n3\n");
        assert_eq!(rows(&path, || count(3)).ok(), Some(3));
        assert_eq!(reads.get(), 2);
        assert_eq!(claims(&path, || Ok((3, 1))).ok(), Some((3, 1)));
        // An error is not remembered; a missing file is always read.
        let missing = tmp.path().join("missing.csv");
        assert!(rows(&missing, || Err(crate::engine::EngineError::usage("x"))).is_err());
        assert_eq!(rows(&missing, || count(5)).ok(), Some(5));
        assert_eq!(rows(&missing, || count(6)).ok(), Some(6));
    }
}

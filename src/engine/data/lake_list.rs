//! The files of a lake-style set: a directory walked recursively, or a glob matched per path
//! component (`*`, `?`, `[…]`, `**`), hidden names (`.`, `_`) skipped, at most [`MAX_FILES`]
//! files, sorted by relative path; with predicates ([`lake_where`]), a `key=value` folder that
//! fails one is not entered. See [`super::lake`] for what a set is.

use std::path::{Path, PathBuf};

use super::lake::unescape;
use super::lake_where::{self, Predicate};
use super::Format;
use crate::engine::error::{EngineError, Result};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::lake::Set;

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
}

//! The file manifest signed by OpenSSF `model_signing` in `method: files` mode: every regular
//! file under the model directory (hidden files included), keyed by its POSIX path relative
//! to the directory, paired with its SHA-256. Symbolic links and special files are refused,
//! exactly as `model_signing` does by default (it checks every path, ignored ones included),
//! and ignored paths are matched by whole leading path components (`is_relative_to`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::error::{EngineError, Result};
use crate::engine::hash::sha256_file;
use crate::engine::Progress;

/// The signature file name, inside the signed directory.
pub const SIGNATURE_FILE: &str = "model.sig";

/// Paths `model_signing` ignores by default (`ignore_git_paths=True`).
pub const GIT_PATHS: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// One signed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDigest {
    /// POSIX path relative to the package root (`evidence/evaluation.json`).
    pub name: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

/// Orders POSIX relative paths the way Python's `PurePosixPath` does: component by
/// component (so `a/b` sorts before `a.txt`, unlike a plain string sort).
pub fn posix_path_cmp(a: &str, b: &str) -> Ordering {
    a.split('/').cmp(b.split('/'))
}

/// Checks that a manifest or archive entry name is a plain relative POSIX path inside the
/// package: no absolute path, no `..` or `.` component, no empty component, no backslash,
/// no NUL. Returns the components.
pub fn safe_relative_components(name: &str) -> Result<Vec<&str>> {
    let bad = |why: &str| EngineError::usage(format!("unsafe path '{name}' in package: {why}"));
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    if name.starts_with('/') {
        return Err(bad("absolute path"));
    }
    if name.contains('\\') || name.contains('\0') {
        return Err(bad("backslash or NUL in name"));
    }
    let parts: Vec<&str> = name.split('/').collect();
    for p in &parts {
        match *p {
            "" => return Err(bad("empty path component")),
            "." | ".." => return Err(bad("'.' or '..' component (path traversal)")),
            _ if cfg!(windows) && p.contains(':') => return Err(bad("drive or stream name")),
            _ => {}
        }
    }
    Ok(parts)
}

/// Whether `rel` (components) lies at or under one of `ignored` (each a relative POSIX path).
pub fn is_ignored(rel: &[&str], ignored: &[String]) -> bool {
    ignored.iter().any(|ig| {
        let ig: Vec<&str> = ig
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        !ig.is_empty() && rel.len() >= ig.len() && rel[..ig.len()] == ig[..]
    })
}

/// Lists every regular file under `root` as (POSIX relative path, absolute path), sorted
/// like `model_signing`, skipping `ignored`. Any symbolic link or special file anywhere under
/// `root` is an error, as in `model_signing` with `allow_symlinks=False`.
pub fn list_files(root: &Path, ignored: &[String]) -> Result<Vec<(String, PathBuf)>> {
    let meta = std::fs::symlink_metadata(root)
        .map_err(|e| EngineError::file(root, format!("cannot read package directory: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(EngineError::file(
            root,
            "the package directory is a symbolic link; symbolic links are refused",
        ));
    }
    if !meta.is_dir() {
        return Err(EngineError::file(root, "not a directory"));
    }
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), Vec::<String>::new())];
    while let Some((dir, rel)) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| EngineError::file(&dir, format!("cannot list directory: {e}")))?;
        for entry in entries {
            let entry = entry
                .map_err(|e| EngineError::file(&dir, format!("cannot list directory: {e}")))?;
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                return Err(EngineError::file(&path, "file name is not valid UTF-8"));
            };
            let ft = entry
                .file_type()
                .map_err(|e| EngineError::file(&path, format!("cannot stat: {e}")))?;
            let mut child = rel.clone();
            child.push(name);
            if ft.is_symlink() {
                return Err(EngineError::file(
                    &path,
                    "is a symbolic link; symbolic links are refused in a package",
                ));
            }
            if ft.is_dir() {
                stack.push((path, child));
            } else if ft.is_file() {
                let parts: Vec<&str> = child.iter().map(String::as_str).collect();
                if !is_ignored(&parts, ignored) {
                    out.push((child.join("/"), path));
                }
            } else {
                return Err(EngineError::file(
                    &path,
                    "is not a regular file or directory (special files are refused)",
                ));
            }
        }
    }
    out.sort_by(|a, b| posix_path_cmp(&a.0, &b.0));
    Ok(out)
}

/// Reads `path` whole only when it is a regular file (a symbolic link, FIFO or device is
/// refused without being opened for reading) of at most `cap` bytes; `what` names it in the
/// message.
pub fn read_regular_capped(
    path: &Path,
    cap: u64,
    what: &str,
) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown} is a symbolic link or special file, not a {what}; refused"
        ));
    }
    if meta.len() > cap {
        return Err(format!(
            "{shown} is {} bytes, more than the {cap} a {what} may have; refused",
            meta.len()
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Err(format!("{shown} is not a regular file; refused"));
    }
    let mut bytes = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > cap {
        return Err(format!(
            "{shown} grew past {cap} bytes while it was read; refused"
        ));
    }
    Ok(bytes)
}

/// Hashes listed files (see [`list_files`]) in parallel, keeping their order.
pub fn hash_files(files: &[(String, PathBuf)], progress: &Progress) -> Result<Vec<FileDigest>> {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
    let done = AtomicUsize::new(0);
    let total = files.len().max(1) as f32;
    files
        .par_iter()
        .map(|(name, path)| {
            progress.check()?;
            let sha256 = sha256_file(path)?;
            let k = done.fetch_add(1, AtomicOrdering::Relaxed) + 1;
            progress.set_fraction(k as f32 / total);
            Ok(FileDigest {
                name: name.clone(),
                sha256,
            })
        })
        .collect()
}

/// The in-toto subject digest `model_signing` computes: SHA-256 over the concatenated raw
/// digest bytes of the resources, in the order given.
pub fn subject_digest(resources: &[FileDigest]) -> Result<String> {
    let mut hasher = Sha256::new();
    for r in resources {
        let raw = hex::decode(&r.sha256).map_err(|_| {
            EngineError::usage(format!("digest of '{}' is not hexadecimal", r.name))
        })?;
        hasher.update(raw);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// How one file compares with the signed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileStatus {
    Ok,
    /// Present in both, different bytes.
    Changed {
        expected: String,
        actual: String,
    },
    /// On disk but not signed.
    Added {
        actual: String,
    },
    /// Signed but not on disk.
    Missing {
        expected: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    pub path: String,
    #[serde(flatten)]
    pub status: FileStatus,
}

/// Compares the signed manifest with what is on disk; one entry per path, sorted.
pub fn compare(expected: &[FileDigest], actual: &[FileDigest]) -> Vec<FileCheck> {
    let exp: BTreeMap<&str, &str> = expected
        .iter()
        .map(|f| (f.name.as_str(), f.sha256.as_str()))
        .collect();
    let act: BTreeMap<&str, &str> = actual
        .iter()
        .map(|f| (f.name.as_str(), f.sha256.as_str()))
        .collect();
    let mut names: Vec<&str> = exp.keys().chain(act.keys()).copied().collect();
    names.sort_by(|a, b| posix_path_cmp(a, b));
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let status = match (exp.get(name), act.get(name)) {
                (Some(e), Some(a)) if e == a => FileStatus::Ok,
                (Some(e), Some(a)) => FileStatus::Changed {
                    expected: (*e).to_string(),
                    actual: (*a).to_string(),
                },
                (None, Some(a)) => FileStatus::Added {
                    actual: (*a).to_string(),
                },
                (Some(e), None) => FileStatus::Missing {
                    expected: (*e).to_string(),
                },
                (None, None) => FileStatus::Ok,
            };
            FileCheck {
                path: name.to_string(),
                status,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_order_is_component_wise() {
        let mut v = vec!["a.txt", "a/b", "a-b", "B", "a"];
        v.sort_by(|a, b| posix_path_cmp(a, b));
        // Python: sorted(PurePosixPath(p) for p in v)
        assert_eq!(v, vec!["B", "a", "a/b", "a-b", "a.txt"]);
    }

    #[test]
    fn ignore_matches_whole_components() {
        let ig = vec![".git".to_string(), "sub/x".to_string()];
        assert!(is_ignored(&[".git", "HEAD"], &ig));
        assert!(is_ignored(&[".git"], &ig));
        assert!(!is_ignored(&[".gitx"], &ig));
        assert!(is_ignored(&["sub", "x", "y"], &ig));
        assert!(!is_ignored(&["sub", "xy"], &ig));
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a/.",
        ] {
            assert!(safe_relative_components(bad).is_err(), "{bad}");
        }
        assert!(safe_relative_components("a/b.json").is_ok());
    }
}

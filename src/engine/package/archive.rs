//! `.zip` and `.tar.gz` forms of a package (writing; the hardened, size-capped extraction is
//! in [`super::extract`] and re-exported here), and private temporary folders.

use std::io::Write;
use std::path::{Path, PathBuf};

pub use super::extract::{extract_archive, extract_archive_with, ArchiveLimits};
use super::manifest::list_files;
use crate::engine::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveKind {
    Zip,
    TarGz,
}

impl ArchiveKind {
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveKind::Zip => "zip",
            ArchiveKind::TarGz => "tar.gz",
        }
    }

    /// Recognises `.zip`, `.tar.gz` and `.tgz` by name.
    pub fn from_path(path: &Path) -> Option<ArchiveKind> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".zip") {
            Some(ArchiveKind::Zip)
        } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
            Some(ArchiveKind::TarGz)
        } else {
            None
        }
    }
}

fn io_err(path: &Path, what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::file(path, format!("{what}: {e}"))
}

/// Writes every file of `dir` (all of them, `model.sig` included) into `out` under the
/// top-level folder `top`, atomically (temp file + rename).
pub fn write_archive(dir: &Path, top: &str, kind: ArchiveKind, out: &Path) -> Result<()> {
    let files = list_files(dir, &[])?;
    crate::engine::fsio::write_with(out, "archive", |file| match kind {
        ArchiveKind::Zip => write_zip(file, top, &files, out),
        ArchiveKind::TarGz => write_tar_gz(file, top, &files, out),
    })
}

fn write_zip(
    file: &mut std::fs::File,
    top: &str,
    files: &[(String, PathBuf)],
    at: &Path,
) -> Result<()> {
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for (name, path) in files {
        zip.start_file(format!("{top}/{name}"), opts)
            .map_err(|e| io_err(at, "zip", e))?;
        let bytes = std::fs::read(path).map_err(|e| io_err(path, "cannot read", e))?;
        zip.write_all(&bytes).map_err(|e| io_err(at, "zip", e))?;
    }
    zip.finish().map_err(|e| io_err(at, "zip", e))?;
    Ok(())
}

fn write_tar_gz(
    file: &mut std::fs::File,
    top: &str,
    files: &[(String, PathBuf)],
    at: &Path,
) -> Result<()> {
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, path) in files {
        let f = std::fs::File::open(path).map_err(|e| io_err(path, "cannot open", e))?;
        let len = f
            .metadata()
            .map_err(|e| io_err(path, "cannot stat", e))?
            .len();
        let mut header = tar::Header::new_gnu();
        header.set_size(len);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{top}/{name}"), f)
            .map_err(|e| io_err(at, "tar", e))?;
    }
    let gz = tar.into_inner().map_err(|e| io_err(at, "tar", e))?;
    gz.finish().map_err(|e| io_err(at, "gzip", e))?;
    Ok(())
}

/// Removes temporary folders `.<prefix>-<pid>-…` under `parent` left by a process that no
/// longer runs (killed before its [`TempDir`] was dropped). Linux only (`/proc`); best effort.
pub fn remove_stale(parent: &Path, prefixes: &[&str]) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        for prefix in prefixes {
            let Some(rest) = name.strip_prefix(&format!(".{prefix}-")) else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// A fresh, private temporary directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<parent>/.<prefix>-<pid>-<nanos>` (mode 0700 on Unix).
    pub fn new_in(parent: &Path, prefix: &str) -> Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let p = parent.join(format!(
                ".{prefix}-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                b.mode(0o700);
            }
            match b.create(&p) {
                Ok(()) => return Ok(TempDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(parent, "cannot create a temporary folder", e)),
            }
        }
        Err(EngineError::file(
            parent,
            "cannot create a temporary folder",
        ))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Keeps the directory (after it was renamed into place, for example).
    pub fn into_path(self) -> PathBuf {
        let p = self.0.clone();
        std::mem::forget(self);
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

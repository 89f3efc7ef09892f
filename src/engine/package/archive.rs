//! `.zip` and `.tar.gz` forms of a package, and their hardened extraction: every entry must
//! be a regular file or directory under one top-level folder, with a plain relative name (no
//! absolute path, no `..`, no symbolic or hard link, no device); duplicates are refused.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::manifest::{list_files, safe_relative_components};
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

/// Checks an entry name and returns (top-level folder, path below it).
fn split_entry(archive: &Path, name: &str) -> Result<(String, Vec<String>)> {
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    let parts =
        safe_relative_components(trimmed).map_err(|e| EngineError::file(archive, e.to_string()))?;
    let (top, rest) = parts
        .split_first()
        .ok_or_else(|| EngineError::file(archive, "empty entry name"))?;
    Ok((
        (*top).to_string(),
        rest.iter().map(|s| (*s).to_string()).collect(),
    ))
}

struct Extractor<'a> {
    archive: &'a Path,
    dest: &'a Path,
    top: Option<String>,
    seen: std::collections::BTreeSet<String>,
}

impl Extractor<'_> {
    fn place(&mut self, name: &str, is_dir: bool) -> Result<Option<PathBuf>> {
        let (top, rest) = split_entry(self.archive, name)?;
        match &self.top {
            None => self.top = Some(top.clone()),
            Some(t) if *t != top => {
                return Err(EngineError::file(
                    self.archive,
                    format!("entries under more than one top-level folder ('{t}', '{top}')"),
                ))
            }
            Some(_) => {}
        }
        let mut path = self.dest.join(&top);
        for c in &rest {
            path.push(c);
        }
        if is_dir {
            std::fs::create_dir_all(&path).map_err(|e| io_err(&path, "cannot create", e))?;
            return Ok(None);
        }
        if rest.is_empty() {
            return Err(EngineError::file(
                self.archive,
                format!("'{name}' is a file at the top level; a package is one folder"),
            ));
        }
        if !self.seen.insert(rest.join("/")) {
            return Err(EngineError::file(
                self.archive,
                format!("duplicate entry '{name}'"),
            ));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, "cannot create", e))?;
        }
        Ok(Some(path))
    }
}

fn write_new(path: &Path, mut reader: impl Read) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io_err(path, "cannot create", e))?;
    std::io::copy(&mut reader, &mut f).map_err(|e| io_err(path, "cannot extract", e))?;
    Ok(())
}

/// Extracts `archive` into the empty directory `dest` and returns the package folder.
pub fn extract_archive(archive: &Path, dest: &Path) -> Result<PathBuf> {
    let kind = ArchiveKind::from_path(archive)
        .ok_or_else(|| EngineError::file(archive, "not a .zip, .tar.gz or .tgz package archive"))?;
    let file = std::fs::File::open(archive).map_err(|e| io_err(archive, "cannot open", e))?;
    let mut ex = Extractor {
        archive,
        dest,
        top: None,
        seen: Default::default(),
    };
    match kind {
        ArchiveKind::Zip => {
            let mut zip =
                zip::ZipArchive::new(file).map_err(|e| io_err(archive, "not a zip archive", e))?;
            for i in 0..zip.len() {
                let entry = zip
                    .by_index(i)
                    .map_err(|e| io_err(archive, "corrupt zip entry", e))?;
                let name = entry.name().to_string();
                let mode = entry.unix_mode().unwrap_or(0) & 0o170_000;
                if mode != 0 && mode != 0o100_000 && mode != 0o040_000 {
                    return Err(EngineError::file(
                        archive,
                        format!("'{name}' is a symbolic link or special file; refused"),
                    ));
                }
                if let Some(path) = ex.place(&name, entry.is_dir())? {
                    write_new(&path, entry)?;
                }
            }
        }
        ArchiveKind::TarGz => {
            let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
            let entries = tar
                .entries()
                .map_err(|e| io_err(archive, "not a tar.gz archive", e))?;
            for entry in entries {
                let entry = entry.map_err(|e| io_err(archive, "corrupt tar entry", e))?;
                let name = String::from_utf8(entry.path_bytes().into_owned())
                    .map_err(|_| EngineError::file(archive, "entry name is not UTF-8"))?;
                let is_dir = match entry.header().entry_type() {
                    tar::EntryType::Regular | tar::EntryType::Continuous => false,
                    tar::EntryType::Directory => true,
                    other => {
                        return Err(EngineError::file(
                            archive,
                            format!(
                            "'{name}' is a {other:?} entry (links and special files are refused)"
                        ),
                        ))
                    }
                };
                if let Some(path) = ex.place(&name, is_dir)? {
                    write_new(&path, entry)?;
                }
            }
        }
    }
    let top = ex
        .top
        .ok_or_else(|| EngineError::file(archive, "the archive is empty"))?;
    Ok(dest.join(top))
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

//! Hardened extraction of a `.zip` / `.tar.gz` package: every entry must be a regular file
//! or directory under one top-level folder, with a plain relative name (no absolute path, no
//! `..`, no symbolic or hard link, no device); duplicate names are refused (in a zip, from the
//! raw central directory, which the zip crate would otherwise collapse to the last copy), and
//! the expanded sizes and the entry count are capped ([`ArchiveLimits`]) before anything is
//! written: a declared size over a cap, or a compression ratio past a bomb's, is refused
//! up front, and the bytes actually written are counted against the same caps.

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::archive::ArchiveKind;
use super::manifest::safe_relative_components;
use crate::engine::error::{EngineError, Result};

/// What an archive may expand to. See the README section "Limits".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Entries (files and folders, zip central directory records, tar headers).
    pub max_entries: usize,
    /// Expanded bytes of one file.
    pub max_entry_bytes: u64,
    /// Expanded bytes of all files together.
    pub max_total_bytes: u64,
    /// Expanded / compressed bytes (per zip entry, over the whole tar.gz), checked once an
    /// entry (zip) or the archive (tar.gz) expands past [`ArchiveLimits::ratio_from_bytes`].
    pub max_ratio: u64,
    pub ratio_from_bytes: u64,
}

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_entries: 10_000,
            max_entry_bytes: 4 * GIB,
            max_total_bytes: 16 * GIB,
            max_ratio: 200,
            ratio_from_bytes: 16 * MIB,
        }
    }
}

/// Longest GNU long name / PAX record block read into memory.
const MAX_NAME_BLOCK: u64 = 64 * 1024;

fn refuse(archive: &Path, why: impl Into<String>) -> EngineError {
    EngineError::file(archive, why.into())
}

fn io_err(path: &Path, what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::file(path, format!("{what}: {e}"))
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
    limits: ArchiveLimits,
    top: Option<String>,
    seen: BTreeSet<String>,
    entries: usize,
    total: u64,
}

impl Extractor<'_> {
    fn count_entry(&mut self) -> Result<()> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(refuse(
                self.archive,
                format!(
                    "more than {} entries; refused (a package archive holds at most {} files and folders)",
                    self.limits.max_entries, self.limits.max_entries
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a file whose declared size is over a cap, before anything is written.
    fn check_declared(&self, name: &str, size: u64) -> Result<()> {
        let l = &self.limits;
        if size > l.max_entry_bytes {
            return Err(refuse(
                self.archive,
                format!(
                    "'{name}' expands to {size} bytes, more than the {} bytes allowed for one file; refused",
                    l.max_entry_bytes
                ),
            ));
        }
        if self.total.saturating_add(size) > l.max_total_bytes {
            return Err(refuse(
                self.archive,
                format!(
                    "the archive expands to more than {} bytes; refused at '{name}'",
                    l.max_total_bytes
                ),
            ));
        }
        Ok(())
    }

    fn place(&mut self, name: &str, is_dir: bool) -> Result<Option<PathBuf>> {
        let (top, rest) = split_entry(self.archive, name)?;
        match &self.top {
            None => self.top = Some(top.clone()),
            Some(t) if *t != top => {
                return Err(refuse(
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
            return Err(refuse(
                self.archive,
                format!("'{name}' is a file at the top level; a package is one folder"),
            ));
        }
        if !self.seen.insert(rest.join("/")) {
            return Err(refuse(self.archive, format!("duplicate entry '{name}'")));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io_err(parent, "cannot create", e))?;
        }
        Ok(Some(path))
    }

    /// Writes one entry, counting the bytes: more than `declared` (or than a cap) is refused
    /// and the partial file removed.
    fn write(&mut self, path: &Path, name: &str, declared: u64, reader: impl Read) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| io_err(path, "cannot create", e))?;
        let allowed = declared
            .min(self.limits.max_entry_bytes)
            .min(self.limits.max_total_bytes.saturating_sub(self.total));
        let mut limited = reader.take(allowed.saturating_add(1));
        let written = std::io::copy(&mut limited, &mut f);
        let written = match written {
            Ok(n) => n,
            Err(e) => {
                let _ = std::fs::remove_file(path);
                return Err(io_err(self.archive, &format!("cannot extract '{name}'"), e));
            }
        };
        if written > allowed {
            let _ = std::fs::remove_file(path);
            return Err(refuse(
                self.archive,
                format!(
                    "'{name}' expands past its declared size of {declared} bytes (or a size limit); refused"
                ),
            ));
        }
        self.total += written;
        Ok(())
    }
}

/// Extracts `archive` into the empty directory `dest` and returns the package folder, with
/// the default [`ArchiveLimits`].
pub fn extract_archive(archive: &Path, dest: &Path) -> Result<PathBuf> {
    extract_archive_with(archive, dest, ArchiveLimits::default())
}

/// [`extract_archive`] with explicit limits.
pub fn extract_archive_with(archive: &Path, dest: &Path, limits: ArchiveLimits) -> Result<PathBuf> {
    let kind = ArchiveKind::from_path(archive)
        .ok_or_else(|| refuse(archive, "not a .zip, .tar.gz or .tgz package archive"))?;
    let meta = std::fs::symlink_metadata(archive).map_err(|e| io_err(archive, "cannot open", e))?;
    if !meta.is_file() {
        return Err(refuse(
            archive,
            "not a regular file (links and special files are refused)",
        ));
    }
    let file = std::fs::File::open(archive).map_err(|e| io_err(archive, "cannot open", e))?;
    let mut ex = Extractor {
        archive,
        dest,
        limits,
        top: None,
        seen: BTreeSet::new(),
        entries: 0,
        total: 0,
    };
    match kind {
        ArchiveKind::Zip => extract_zip(&mut ex, file)?,
        ArchiveKind::TarGz => extract_tar_gz(&mut ex, file, meta.len())?,
    }
    let top = ex
        .top
        .ok_or_else(|| refuse(archive, "the archive is empty"))?;
    Ok(dest.join(top))
}

/// The entry names of a zip's central directory as stored (duplicates kept), read from the
/// raw records: the zip crate keeps only the last of two entries with one name.
fn zip_raw_names(
    file: &mut std::fs::File,
    start: u64,
    limit: usize,
) -> std::io::Result<Vec<Vec<u8>>> {
    const CDH: u32 = 0x0201_4b50;
    let mut r = std::io::BufReader::new(file);
    r.seek(SeekFrom::Start(start))?;
    let mut names = Vec::new();
    loop {
        let mut fixed = [0u8; 46];
        if r.read_exact(&mut fixed).is_err() {
            break;
        }
        if u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]) != CDH {
            break;
        }
        let le16 = |i: usize| u64::from(u16::from_le_bytes([fixed[i], fixed[i + 1]]));
        let (name_len, extra_len, comment_len) = (le16(28), le16(30), le16(32));
        let mut name = Vec::new();
        (&mut r).take(name_len).read_to_end(&mut name)?;
        std::io::copy(
            &mut (&mut r).take(extra_len + comment_len),
            &mut std::io::sink(),
        )?;
        names.push(name);
        if names.len() > limit {
            break;
        }
    }
    Ok(names)
}

fn extract_zip(ex: &mut Extractor, mut file: std::fs::File) -> Result<()> {
    let archive = ex.archive;
    let raw = {
        let probe =
            zip::ZipArchive::new(&mut file).map_err(|e| io_err(archive, "not a zip archive", e))?;
        let start = probe.central_directory_start();
        let len = probe.len();
        drop(probe);
        let names = zip_raw_names(&mut file, start, ex.limits.max_entries)
            .map_err(|e| io_err(archive, "cannot read the zip directory", e))?;
        (names, len)
    };
    let (names, parsed) = raw;
    if names.len() > ex.limits.max_entries || parsed > ex.limits.max_entries {
        return Err(refuse(
            archive,
            format!(
                "more than {} entries; refused (a package archive holds at most {} files and folders)",
                ex.limits.max_entries, ex.limits.max_entries
            ),
        ));
    }
    let mut distinct = BTreeSet::new();
    for n in &names {
        if !distinct.insert(n.as_slice()) {
            return Err(refuse(
                archive,
                format!(
                    "duplicate entry '{}' (two files with one name: readers disagree on which is the package's)",
                    String::from_utf8_lossy(n)
                ),
            ));
        }
    }
    if names.len() != parsed {
        return Err(refuse(
            archive,
            format!(
                "the zip directory lists {} entries but {parsed} could be read; refused",
                names.len()
            ),
        ));
    }
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| io_err(archive, "not a zip archive", e))?;
    for i in 0..zip.len() {
        ex.count_entry()?;
        let entry = zip
            .by_index(i)
            .map_err(|e| io_err(archive, "corrupt zip entry", e))?;
        let name = entry.name().to_string();
        let mode = entry.unix_mode().unwrap_or(0) & 0o170_000;
        if mode != 0 && mode != 0o100_000 && mode != 0o040_000 {
            return Err(refuse(
                archive,
                format!("'{name}' is a symbolic link or special file; refused"),
            ));
        }
        let declared = entry.size();
        if !entry.is_dir() {
            ex.check_declared(&name, declared)?;
            let compressed = entry.compressed_size().max(1);
            if declared > ex.limits.ratio_from_bytes && declared / compressed > ex.limits.max_ratio
            {
                return Err(refuse(
                    archive,
                    format!(
                        "'{name}' expands {}-fold ({compressed} bytes to {declared}), like an archive bomb; refused",
                        declared / compressed
                    ),
                ));
            }
        }
        if let Some(path) = ex.place(&name, entry.is_dir())? {
            ex.write(&path, &name, declared, entry)?;
        }
    }
    Ok(())
}

/// Reads a GNU long-name or PAX block (small, capped) of a raw tar entry.
fn small_block(archive: &Path, what: &str, mut entry: impl Read, size: u64) -> Result<Vec<u8>> {
    if size > MAX_NAME_BLOCK {
        return Err(refuse(
            archive,
            format!("a {what} block of {size} bytes (more than {MAX_NAME_BLOCK}); refused"),
        ));
    }
    let mut v = Vec::new();
    (&mut entry)
        .take(size)
        .read_to_end(&mut v)
        .map_err(|e| io_err(archive, "corrupt tar entry", e))?;
    Ok(v)
}

/// The `path` of PAX records (`"LEN key=value\n"`…); a `size` record (files over 8 GiB) is
/// refused, since raw entries are read with their header's size.
fn pax_path(archive: &Path, block: &[u8]) -> Result<Option<Vec<u8>>> {
    let mut path = None;
    let mut rest = block;
    while !rest.is_empty() {
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| refuse(archive, "malformed PAX header"))?;
        let len: usize = std::str::from_utf8(&rest[..space])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&l| l > space + 1 && l <= rest.len())
            .ok_or_else(|| refuse(archive, "malformed PAX header"))?;
        let record = &rest[space + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| refuse(archive, "malformed PAX header"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        match key {
            b"path" => path = Some(value.to_vec()),
            b"size" | b"GNU.sparse.size" | b"GNU.sparse.map" | b"linkpath" => {
                return Err(refuse(
                    archive,
                    format!(
                        "a PAX '{}' record (sparse, huge or linked files are refused)",
                        String::from_utf8_lossy(key)
                    ),
                ))
            }
            _ => {}
        }
        rest = &rest[len..];
    }
    Ok(path)
}

fn extract_tar_gz(ex: &mut Extractor, file: std::fs::File, archive_len: u64) -> Result<()> {
    let archive = ex.archive;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    // Raw entries: GNU long names and PAX blocks are read here, capped, instead of whole
    // into memory by the tar crate.
    let entries = tar
        .entries()
        .map_err(|e| io_err(archive, "not a tar.gz archive", e))?
        .raw(true);
    let mut long_name: Option<Vec<u8>> = None;
    for entry in entries {
        ex.count_entry()?;
        let entry = entry.map_err(|e| io_err(archive, "corrupt tar entry", e))?;
        let header = entry.header();
        let kind = header.entry_type();
        let size = header
            .entry_size()
            .map_err(|e| io_err(archive, "corrupt tar entry", e))?;
        let recognised = header.as_gnu().is_some() || header.as_ustar().is_some();
        if recognised && kind.is_gnu_longname() {
            let mut block = small_block(archive, "long-name", entry, size)?;
            while block.last() == Some(&0) {
                block.pop();
            }
            long_name = Some(block);
            continue;
        }
        if recognised && kind.is_pax_local_extensions() {
            let block = small_block(archive, "PAX", entry, size)?;
            if let Some(p) = pax_path(archive, &block)? {
                long_name = Some(p);
            }
            continue;
        }
        if recognised && kind.is_pax_global_extensions() {
            small_block(archive, "PAX", entry, size)?;
            continue;
        }
        let raw_name = long_name
            .take()
            .unwrap_or_else(|| entry.path_bytes().into_owned());
        let name =
            String::from_utf8(raw_name).map_err(|_| refuse(archive, "entry name is not UTF-8"))?;
        let is_dir = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => false,
            tar::EntryType::Directory => true,
            other => {
                return Err(refuse(
                    archive,
                    format!("'{name}' is a {other:?} entry (links and special files are refused)"),
                ))
            }
        };
        if !is_dir {
            ex.check_declared(&name, size)?;
            let expanded = ex.total.saturating_add(size);
            if expanded > ex.limits.ratio_from_bytes
                && expanded / archive_len.max(1) > ex.limits.max_ratio
            {
                return Err(refuse(
                    archive,
                    format!(
                        "the archive expands more than {}-fold ({archive_len} bytes to over {expanded}), like an archive bomb; refused at '{name}'",
                        ex.limits.max_ratio
                    ),
                ));
            }
        }
        if let Some(path) = ex.place(&name, is_dir)? {
            ex.write(&path, &name, size, entry)?;
        }
    }
    if long_name.is_some() {
        return Err(refuse(archive, "a long-name block describes no entry"));
    }
    Ok(())
}

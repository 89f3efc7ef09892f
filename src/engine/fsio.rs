//! The one place user-named files are opened and written.
//!
//! **Reading** ([`open_regular`], [`read_capped`], [`read_text`]): only regular files (a
//! symbolic link to one is fine). Directories, FIFOs, devices and sockets are refused with a
//! one-line message naming the file — a FIFO is opened non-blocking and checked on the open
//! handle, so it can neither hang nor be swapped in after the check. Content read whole is
//! capped ([`caps`]): the size on disk is checked first, and the read stops at cap + 1 bytes
//! anyway (a file growing while it is read).
//!
//! **Writing** ([`write`], [`write_with`]):
//! - a new path or an existing regular file: atomic — a temporary file in the same folder
//!   (`.NAME.PID-N.part`, removed on every error), flushed to disk, then renamed onto the
//!   name; an existing file keeps its permissions; temporary files of the same name left by
//!   a run that was killed (its PID gone) are removed first;
//! - a symbolic link: the link is kept and its target is written by the same rules (atomic
//!   when the target is a regular file, straight through when it is a device or FIFO); a
//!   dangling link is refused rather than guessing where it should point;
//! - a character device or FIFO (`/dev/null`, `/dev/stdout`, a pipe), and anything under
//!   `/dev` or `/proc`: written straight through, never replaced (`--json /dev/stdout >> log`
//!   appends to the log);
//! - a directory, block device or socket: refused.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{EngineError, Result};
use super::human_bytes;

/// Size caps of files read whole (bytes). Datasets are not read whole (polars scans them)
/// and have no cap.
pub mod caps {
    const MIB: u64 = 1024 * 1024;
    /// ONNX models (protobuf's own limit is 2 GiB).
    pub const MODEL: u64 = 2048 * MIB;
    /// PEM keys (private and public).
    pub const KEY: u64 = MIB;
    /// Fairness policy, promotion gate, sign-off records.
    pub const SETTINGS_JSON: u64 = 16 * MIB;
    /// Model card Markdown.
    pub const CARD: u64 = 16 * MIB;
    /// Workspace files (`*.assay.json`, with reviewer notes) and the demo manifest.
    pub const WORKSPACE: u64 = 64 * MIB;
    /// Audit logs (JSON lines).
    pub const AUDIT_LOG: u64 = 256 * MIB;
    /// A review report sealed into a package.
    pub const REPORT: u64 = 512 * MIB;
    /// An evidence JSON sealed into a package (an explanation of many rows is large).
    pub const EVIDENCE: u64 = 1024 * MIB;
}

/// What the path is, in words, when it is not a regular file.
fn kind_of(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

fn not_regular(path: &Path, what: &str, meta: &Metadata) -> EngineError {
    EngineError::file(
        path,
        format!("is {}; the {what} must be a regular file", kind_of(meta)),
    )
}

/// Opens a user-named file for reading: regular files only (a link to one is followed).
/// `what` names the role in messages ("fairness policy", "model", …).
pub fn open_regular(path: &Path, what: &str) -> Result<(File, Metadata)> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO opened for reading blocks until a writer appears; non-blocking it returns
        // at once and is refused below. No effect on regular files.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => not_regular(path, what, &meta),
        _ => EngineError::file(path, format!("cannot open the {what}: {e}")),
    })?;
    let meta = file
        .metadata()
        .map_err(|e| EngineError::file(path, format!("cannot read the {what}: {e}")))?;
    if !meta.is_file() {
        return Err(not_regular(path, what, &meta));
    }
    Ok((file, meta))
}

/// Checks that `path` is a regular file (for readers that open it themselves, e.g. polars)
/// and returns its metadata.
pub fn check_regular(path: &Path, what: &str) -> Result<Metadata> {
    open_regular(path, what).map(|(_, meta)| meta)
}

/// Reads a regular file whole, refusing one larger than `cap` bytes.
pub fn read_capped(path: &Path, what: &str, cap: u64) -> Result<Vec<u8>> {
    let (file, meta) = open_regular(path, what)?;
    let too_big = || {
        EngineError::file(
            path,
            format!("the {what} is larger than the {} limit", human_bytes(cap)),
        )
    };
    if meta.len() > cap {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| EngineError::file(path, format!("cannot read the {what}: {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text(path: &Path, what: &str, cap: u64) -> Result<String> {
    String::from_utf8(read_capped(path, what, cap)?)
        .map_err(|_| EngineError::file(path, format!("the {what} is not UTF-8 text")))
}

/// Writes `bytes` to a user-named path by the rules in the module docs.
pub fn write(path: &Path, what: &str, bytes: &[u8]) -> Result<()> {
    write_with(path, what, |f| {
        f.write_all(bytes)
            .map_err(|e| EngineError::file(path, format!("cannot write the {what}: {e}")))
    })
}

/// Where a write goes, after looking at what is at the path now.
enum Dest {
    /// Temp file + rename onto this path (the original, or a link's target).
    Atomic {
        path: PathBuf,
        keep: Option<std::fs::Permissions>,
    },
    /// Open and write in place (device, FIFO).
    Through(PathBuf),
}

fn destination(path: &Path, what: &str) -> Result<Dest> {
    let io = |e: std::io::Error| EngineError::file(path, format!("cannot write the {what}: {e}"));
    let own = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Dest::Atomic {
                path: path.to_path_buf(),
                keep: None,
            })
        }
        Err(e) => return Err(io(e)),
    };
    // What the path leads to (links followed by the kernel, so /proc magic links such as
    // /dev/stdout → /proc/self/fd/1 → pipe:[…] resolve too).
    let meta = if own.file_type().is_symlink() {
        std::fs::metadata(path).map_err(|e| {
            EngineError::file(
                path,
                format!("is a symbolic link that leads nowhere ({e}); refusing to write the {what} through it"),
            )
        })?
    } else {
        own.clone()
    };
    let special = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            meta.file_type().is_char_device() || meta.file_type().is_fifo()
        }
        #[cfg(not(unix))]
        {
            false
        }
    };
    // Under /dev and /proc nothing is ever renamed onto: `--json /dev/stdout >> log` appends
    // to the log rather than replacing it.
    let system = path.starts_with("/dev") || path.starts_with("/proc");
    if special || (system && meta.is_file()) {
        return Ok(Dest::Through(path.to_path_buf()));
    }
    if meta.is_file() {
        let target = if own.file_type().is_symlink() {
            std::fs::canonicalize(path).map_err(io)?
        } else {
            path.to_path_buf()
        };
        return Ok(Dest::Atomic {
            path: target,
            keep: Some(meta.permissions()),
        });
    }
    Err(EngineError::file(
        path,
        format!("is {}; cannot write the {what} there", kind_of(&meta)),
    ))
}

/// A temporary file that is removed unless [`Temp::commit`] renames it into place.
struct Temp {
    path: PathBuf,
    done: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes `.NAME.PID-N.part` files next to `dest` left by a process that no longer runs
/// (killed by a signal between creating its temporary file and renaming it). Linux only
/// (`/proc`); best effort: only regular files of exactly that shape are touched.
fn remove_stale_parts(dest: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let (Some(dir), Some(name)) = (dest.parent(), dest.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".part"))
        else {
            continue;
        };
        let Some((pid, n)) = rest.split_once('-') else {
            continue;
        };
        let (Ok(pid), true) = (
            pid.parse::<u32>(),
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        ) else {
            continue;
        };
        let regular = e.file_type().is_ok_and(|t| t.is_file());
        if regular && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn temp_path(dest: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = dest
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dest.with_file_name(format!(".{name}.{}-{n}.part", std::process::id()))
}

/// Writes a user-named file through `fill`, which gets the open file (seekable when the
/// write is atomic). On any error the temporary file is removed and the destination is
/// left as it was (for a device or FIFO: whatever was written so far).
pub fn write_with(
    path: &Path,
    what: &str,
    fill: impl FnOnce(&mut File) -> Result<()>,
) -> Result<()> {
    match destination(path, what)? {
        Dest::Through(target) => {
            // Append: a no-op for devices and pipes; after what is already there for a
            // regular file reached through /dev/stdout.
            let mut file = OpenOptions::new()
                .append(true)
                .open(&target)
                .map_err(|e| EngineError::file(path, format!("cannot write the {what}: {e}")))?;
            fill(&mut file)?;
            file.flush()
                .map_err(|e| EngineError::file(path, format!("cannot write the {what}: {e}")))
        }
        Dest::Atomic { path: target, keep } => {
            let io = |e: std::io::Error| {
                EngineError::file(path, format!("cannot write the {what}: {e}"))
            };
            remove_stale_parts(&target);
            let mut tmp = Temp {
                path: temp_path(&target),
                done: false,
            };
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp.path)
                .map_err(io)?;
            fill(&mut file)?;
            file.flush().map_err(io)?;
            file.sync_all().map_err(io)?;
            drop(file);
            if let Some(perms) = keep {
                std::fs::set_permissions(&tmp.path, perms).map_err(io)?;
            }
            std::fs::rename(&tmp.path, &target).map_err(io)?;
            tmp.done = true;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn atomic_write_replaces_a_file_keeps_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write(&p, "JSON", b"one").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        write(&p, "JSON", b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the output remains");
    }

    #[test]
    fn a_failed_fill_removes_the_temp_and_keeps_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.html");
        write(&p, "report", b"old").unwrap();
        let r = write_with(&p, "report", |f| {
            f.write_all(b"partial").unwrap();
            Err(EngineError::usage("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_keep_pointing_and_dev_null_stays_a_device() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "x").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, "JSON", b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");

        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        let e = write(&dangling, "JSON", b"x").unwrap_err().to_string();
        assert!(e.contains("symbolic link that leads nowhere"), "{e}");

        write(Path::new("/dev/null"), "JSON", b"discarded").unwrap();
        assert!(std::fs::symlink_metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());

        let e = write(dir.path(), "JSON", b"x").unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn temp_files_of_dead_runs_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        // A run killed by SIGTERM mid-write (no such pid), this process's own, another name.
        let dead = dir.path().join(".out.json.4294967295-0.part");
        let live = dir
            .path()
            .join(format!(".out.json.{}-99.part", std::process::id()));
        let other = dir.path().join(".other.json.4294967295-0.part");
        let odd = dir.path().join(".out.json.4294967295-x.part");
        for f in [&dead, &live, &other, &odd] {
            std::fs::write(f, "partial").unwrap();
        }
        write(&p, "JSON", b"{}").unwrap();
        assert!(!dead.exists(), "the dead run's temporary file is removed");
        assert!(live.exists() && other.exists() && odd.exists());
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
    }

    #[cfg(unix)]
    #[test]
    fn readers_refuse_special_files_and_cap_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_capped(dir.path(), "key", 10).unwrap_err().to_string();
        assert!(
            e.contains("is a directory; the key must be a regular file"),
            "{e}"
        );
        let e = read_capped(Path::new("/dev/zero"), "model", 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a character device"), "{e}");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = read_text(&fifo, "fairness policy", 10)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a FIFO"), "{e}");
        let big = dir.path().join("big.json");
        std::fs::write(&big, vec![b' '; 11]).unwrap();
        let e = read_text(&big, "gate", 10).unwrap_err().to_string();
        assert!(e.contains("larger than the 10 B limit"), "{e}");
        std::fs::write(&big, b"0123456789").unwrap();
        assert_eq!(read_text(&big, "gate", 10).unwrap(), "0123456789");
    }
}

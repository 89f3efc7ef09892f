//! Verifying a package folder or archive: the signature, every file, and (for Assay
//! packages) the audit chain against the head recorded in the signed `package.json`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::archive::{extract_archive, ArchiveKind, TempDir};
use super::audit::{check_jsonl, AuditCheck};
use super::keys::PublicKey;
use super::manifest::{is_ignored, read_regular_capped, FileCheck, FileStatus, SIGNATURE_FILE};
use super::sign::default_ignored;
use super::sign::{verify_directory, SignatureCheck, SignatureStatus};

/// Largest `package.json` / `audit.jsonl` read whole while verifying.
pub const MAX_CONTENTS_BYTES: u64 = 64 << 20;
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::Progress;

/// The full result of `assay verify`; `ok` is true only when everything holds.
#[derive(Debug, Clone, Serialize)]
pub struct PackageVerification {
    pub ok: bool,
    pub path: PathBuf,
    pub archive: Option<ArchiveKind>,
    pub signature: SignatureCheck,
    /// Every file, signed or present, with its status.
    pub files: Vec<FileCheck>,
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub missing: Vec<String>,
    /// Present but outside the signature by the model_signing ignore rules (git paths, …).
    pub ignored_present: Vec<String>,
    /// Whether `package.json` (Assay's contents file) is present; other model_signing
    /// directories verify on signature and files alone.
    pub assay_package: bool,
    pub audit: Option<AuditCheck>,
    /// Everything that is wrong, one sentence each.
    pub problems: Vec<String>,
}

/// Verifies a package folder, or a `.zip` / `.tar.gz` package (extracted with the hardened
/// extractor into a private temporary folder first).
pub fn verify_package(
    path: &Path,
    key: &PublicKey,
    progress: &Progress,
) -> Result<PackageVerification> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| EngineError::file(path, format!("cannot open package: {e}")))?;
    if meta.is_file() {
        let kind = ArchiveKind::from_path(path)
            .ok_or_else(|| EngineError::file(path, "not a package folder, .zip or .tar.gz"))?;
        let tmp = TempDir::new_in(&std::env::temp_dir(), "assay-verify")?;
        let root = match extract_archive(path, tmp.path()) {
            Ok(root) => root,
            // A hostile or malformed archive (duplicate names, links, traversal, a bomb)
            // is a failed verification, not a usage error.
            Err(e) if e.kind() == ErrorKind::BadInput => {
                return Ok(refused(path, kind, key, e.to_string()))
            }
            Err(e) => return Err(e),
        };
        let mut v = verify_folder(&root, key, progress)?;
        v.path = path.to_path_buf();
        v.archive = Some(kind);
        return Ok(v);
    }
    verify_folder(path, key, progress)
}

/// The verification of an archive refused before its signature could be checked.
fn refused(path: &Path, kind: ArchiveKind, key: &PublicKey, why: String) -> PackageVerification {
    PackageVerification {
        ok: false,
        path: path.to_path_buf(),
        archive: Some(kind),
        signature: SignatureCheck {
            status: SignatureStatus::Unreadable,
            message: format!("the archive was refused: {why}"),
            key_curve: key.curve(),
            key_hint: key.hint(),
            bundle_hint: None,
            subject_name: None,
            subject_digest: None,
        },
        files: Vec::new(),
        changed: Vec::new(),
        added: Vec::new(),
        missing: Vec::new(),
        ignored_present: Vec::new(),
        assay_package: false,
        audit: None,
        problems: vec![why],
    }
}

/// The files an Assay package's `package.json` says it holds: the model (and its external
/// data), the evidence, the report and the audit log. Each must be signed and intact.
fn named_files(contents: &Value) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut push = |v: &Value, what: &'static str| {
        if let Some(f) = v.as_str() {
            out.push((f.to_string(), what));
        }
    };
    push(&contents["model"]["file"], "model");
    if let Some(list) = contents["model"]["external_data"].as_array() {
        for x in list {
            push(&x["file"], "model's external data");
        }
    }
    if let Some(list) = contents["evidence"].as_array() {
        for x in list {
            push(&x["file"], "evidence");
        }
    }
    push(&contents["report"]["file"], "report");
    push(&contents["audit"]["file"], "audit log");
    out
}

/// Problems of an Assay package beyond the per-file digests: `package.json` itself unsigned,
/// no model named, a named file unsigned or excluded by the statement's own `ignore_paths`.
fn weak_package_problems(
    check: &super::sign::DirectoryCheck,
    contents: &Value,
    problems: &mut Vec<String>,
) {
    let status = |name: &str| {
        check
            .files
            .iter()
            .find(|f| f.path == name)
            .map(|f| &f.status)
    };
    let defaults = default_ignored();
    for p in &check.ignored_present {
        let parts: Vec<&str> = p.split('/').collect();
        if !is_ignored(&parts, &defaults) {
            problems.push(format!(
                "'{p}' is excluded from the signature by the signed ignore_paths; every file of an Assay package must be signed"
            ));
        }
    }
    if !matches!(
        status("package.json"),
        Some(FileStatus::Ok | FileStatus::Changed { .. })
    ) {
        problems.push("package.json is not covered by the signature".into());
    }
    if contents["model"]["file"].as_str().is_none() {
        problems.push("package.json names no model: the package has no model".into());
    }
    for (file, what) in named_files(contents) {
        match status(&file) {
            // Changed / missing files are already reported.
            Some(FileStatus::Ok | FileStatus::Changed { .. } | FileStatus::Missing { .. }) => {}
            Some(FileStatus::Added { .. }) => {} // reported as added
            None => problems.push(format!(
                "the {what} '{file}' named in package.json is not covered by the signature"
            )),
        }
    }
}

fn verify_folder(dir: &Path, key: &PublicKey, progress: &Progress) -> Result<PackageVerification> {
    let check = verify_directory(dir, &dir.join(SIGNATURE_FILE), key, progress)?;
    let mut problems = Vec::new();
    if check.signature.status != SignatureStatus::Valid {
        problems.push(check.signature.message.clone());
    }
    problems.extend(check.problems.iter().cloned());
    let pick = |want: fn(&FileStatus) -> bool| -> Vec<String> {
        check
            .files
            .iter()
            .filter(|f| want(&f.status))
            .map(|f| f.path.clone())
            .collect()
    };
    let changed = pick(|s| matches!(s, FileStatus::Changed { .. }));
    let added = pick(|s| matches!(s, FileStatus::Added { .. }));
    let missing = pick(|s| matches!(s, FileStatus::Missing { .. }));
    for c in &changed {
        problems.push(format!("changed: {c}"));
    }
    for a in &added {
        problems.push(format!("added (not signed): {a}"));
    }
    for m in &missing {
        problems.push(format!("missing: {m}"));
    }
    let contents_path = dir.join("package.json");
    let signed_contents = check
        .files
        .iter()
        .any(|f| f.path == "package.json" && !matches!(f.status, FileStatus::Added { .. }));
    let assay_package = std::fs::symlink_metadata(&contents_path).is_ok() || signed_contents;
    let mut audit = None;
    if assay_package {
        let contents: std::result::Result<Value, String> =
            read_regular_capped(&contents_path, MAX_CONTENTS_BYTES, "package contents file")
                .and_then(|b| {
                    serde_json::from_slice(&b)
                        .map_err(|_| "package.json is not valid JSON".to_string())
                });
        match contents {
            Err(msg) => problems.push(msg),
            Ok(c) => {
                weak_package_problems(&check, &c, &mut problems);
                let log_path = dir.join("audit.jsonl");
                if std::fs::symlink_metadata(&log_path).is_ok() {
                    let text = match read_regular_capped(&log_path, MAX_CONTENTS_BYTES, "audit log")
                    {
                        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                        Err(msg) => {
                            problems.push(msg);
                            String::new()
                        }
                    };
                    let mut a = check_jsonl(&text);
                    let head = c["audit"]["head"].as_str();
                    let entries = c["audit"]["entries"].as_u64();
                    if head.is_some_and(|h| h != a.head)
                        || entries.is_some_and(|n| n != a.entries as u64)
                    {
                        a.ok = false;
                        a.problems.push(format!(
                            "the log has {} entries ending in {}, but package.json recorded {} ending in {}: entries were removed or edited",
                            a.entries,
                            a.head,
                            entries.unwrap_or(0),
                            head.unwrap_or("?")
                        ));
                    }
                    for p in &a.problems {
                        problems.push(format!("audit log: {p}"));
                    }
                    audit = Some(a);
                } else {
                    problems.push("audit.jsonl is missing".into());
                }
            }
        }
    }
    Ok(PackageVerification {
        ok: problems.is_empty(),
        path: dir.to_path_buf(),
        archive: None,
        signature: check.signature,
        files: check.files,
        changed,
        added,
        missing,
        ignored_present: check.ignored_present,
        assay_package,
        audit,
        problems,
    })
}

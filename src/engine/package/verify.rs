//! Verifying a package folder or archive: the signature, every file, and (for Assay
//! packages) the audit chain against the head recorded in the signed `package.json`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::archive::{extract_archive, ArchiveKind, TempDir};
use super::audit::{check_jsonl, AuditCheck};
use super::keys::PublicKey;
use super::manifest::{FileCheck, FileStatus, SIGNATURE_FILE};
use super::sign::{verify_directory, SignatureCheck, SignatureStatus};
use crate::engine::error::{EngineError, Result};
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
        let root = extract_archive(path, tmp.path())?;
        let mut v = verify_folder(&root, key, progress)?;
        v.path = path.to_path_buf();
        v.archive = Some(kind);
        return Ok(v);
    }
    verify_folder(path, key, progress)
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
    let assay_package = contents_path.is_file();
    let mut audit = None;
    if assay_package {
        let contents: Option<Value> = std::fs::read(&contents_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        match contents {
            None => problems.push("package.json is not valid JSON".into()),
            Some(c) => {
                let log_path = dir.join("audit.jsonl");
                if log_path.is_file() {
                    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
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

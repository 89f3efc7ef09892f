//! Signing and verifying a directory the way OpenSSF `model_signing` 1.x does in private-key
//! mode: an in-toto Statement v1 (predicate `https://model_signing/signature/v1.0`, `method:
//! files` resources sorted by POSIX path, subject digest = SHA-256 over the raw resource
//! digests) in a DSSE envelope signed with ECDSA over the DSSE pre-authentication encoding,
//! wrapped in a Sigstore bundle v0.3 whose public-key hint is the SHA-256 of the public key's
//! PEM text. The bundle is written compact, with the same field order `model_signing` writes.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::keys::{PublicKey, SigningKey};
use super::manifest::{
    compare, hash_files, is_ignored, list_files, read_regular_capped, safe_relative_components,
    subject_digest, FileCheck, FileDigest, FileStatus, GIT_PATHS, SIGNATURE_FILE,
};
use crate::engine::error::{EngineError, Result};
use crate::engine::Progress;

pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";

/// DSSE v1 pre-authentication encoding of an in-toto payload.
pub fn pae(payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Bundle {
    media_type: String,
    verification_material: VerificationMaterial,
    dsse_envelope: Envelope,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerificationMaterial {
    public_key: KeyIdentifier,
    #[serde(default)]
    tlog_entries: Vec<serde_json::Value>,
}

/// `hint` since model_signing 1.1; `rawBytes`/`keyDetails` in 1.0 bundles (ignored there).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyIdentifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(default, skip_serializing)]
    raw_bytes: Option<String>,
    #[serde(rename = "keyDetails", default, skip_serializing)]
    _key_details: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeSignature {
    sig: String,
    /// `""` from model_signing 1.1, `null` from 1.0.
    #[serde(default)]
    keyid: Option<String>,
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "_type")]
    type_: &'a str,
    subject: [Subject<'a>; 1],
    #[serde(rename = "predicateType")]
    predicate_type: &'a str,
    predicate: Predicate<'a>,
}

#[derive(Serialize)]
struct Subject<'a> {
    name: &'a str,
    digest: Sha256Digest<'a>,
}

#[derive(Serialize)]
struct Sha256Digest<'a> {
    sha256: &'a str,
}

#[derive(Serialize)]
struct Predicate<'a> {
    resources: Vec<Resource<'a>>,
    serialization: Serialization<'a>,
}

#[derive(Serialize)]
struct Resource<'a> {
    algorithm: &'a str,
    digest: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct Serialization<'a> {
    allow_symlinks: bool,
    hash_type: &'a str,
    ignore_paths: Vec<&'a str>,
    method: &'a str,
}

/// The paths ignored when signing (and recorded in the statement): the signature file and
/// `model_signing`'s default git paths.
pub fn default_ignored() -> Vec<String> {
    let mut v: Vec<String> = GIT_PATHS.iter().map(|s| (*s).to_string()).collect();
    v.push(SIGNATURE_FILE.to_string());
    v.sort();
    v
}

/// What signing produced.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    pub subject_name: String,
    pub subject_digest: String,
    pub public_key_hint: String,
    pub files: Vec<FileDigest>,
}

/// Signs every file of `dir` (except `model.sig` and git paths) and writes `dir/model.sig`.
/// `subject_name` is the informative model name (`model_signing` uses the directory name).
pub fn sign_directory(
    dir: &Path,
    subject_name: &str,
    key: &SigningKey,
    progress: &Progress,
) -> Result<Signed> {
    let ignored = default_ignored();
    progress.set(0.0, "hashing files");
    let files = hash_files(&list_files(dir, &ignored)?, progress)?;
    let digest = subject_digest(&files)?;
    let statement = Statement {
        type_: STATEMENT_TYPE,
        subject: [Subject {
            name: subject_name,
            digest: Sha256Digest { sha256: &digest },
        }],
        predicate_type: PREDICATE_TYPE,
        predicate: Predicate {
            resources: files
                .iter()
                .map(|f| Resource {
                    algorithm: "sha256",
                    digest: &f.sha256,
                    name: &f.name,
                })
                .collect(),
            serialization: Serialization {
                allow_symlinks: false,
                hash_type: "sha256",
                ignore_paths: ignored.iter().map(String::as_str).collect(),
                method: "files",
            },
        },
    };
    let payload = serde_json::to_vec_pretty(&statement)
        .map_err(|e| EngineError::internal(format!("cannot encode statement: {e}")))?;
    let signature: p256::ecdsa::Signature =
        p256::ecdsa::signature::Signer::sign(key.ecdsa(), &pae(&payload));
    let public = key.public_key();
    let hint = public.hint();
    let bundle = Bundle {
        media_type: BUNDLE_MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            public_key: KeyIdentifier {
                hint: Some(hint.clone()),
                raw_bytes: None,
                _key_details: None,
            },
            tlog_entries: Vec::new(),
        },
        dsse_envelope: Envelope {
            payload: B64.encode(&payload),
            payload_type: PAYLOAD_TYPE.to_string(),
            signatures: vec![EnvelopeSignature {
                sig: B64.encode(signature.to_der().as_bytes()),
                keyid: Some(String::new()),
            }],
        },
    };
    let text = serde_json::to_string(&bundle)
        .map_err(|e| EngineError::internal(format!("cannot encode bundle: {e}")))?;
    let sig_path = dir.join(SIGNATURE_FILE);
    std::fs::write(&sig_path, text)
        .map_err(|e| EngineError::file(&sig_path, format!("cannot write signature: {e}")))?;
    progress.set(1.0, "signed");
    Ok(Signed {
        subject_name: subject_name.to_string(),
        subject_digest: digest,
        public_key_hint: hint,
        files,
    })
}

/// The outcome of checking the bundle's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// The signature verifies with the given public key.
    Valid,
    /// The bundle was made with a different key (its key hint names another key and the
    /// signature does not verify with this one).
    WrongKey,
    /// The bundle names this key but the signature does not verify: the signature or the
    /// signed statement was altered.
    Corrupted,
    /// `model.sig` is missing, unreadable or not a model_signing bundle.
    Unreadable,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    pub status: SignatureStatus,
    /// One sentence for the user.
    pub message: String,
    pub key_curve: &'static str,
    pub key_hint: String,
    pub bundle_hint: Option<String>,
    pub subject_name: Option<String>,
    pub subject_digest: Option<String>,
}

/// Per-file result of a directory verification.
#[derive(Debug, Clone, Serialize)]
pub struct DirectoryCheck {
    pub signature: SignatureCheck,
    /// Every signed or present file with its status (empty when the statement is unreadable).
    pub files: Vec<FileCheck>,
    /// Files present but ignored by the model_signing rules (not covered by the signature).
    pub ignored_present: Vec<String>,
    /// Problems with the statement itself (inconsistent subject digest, unsafe names, …).
    pub problems: Vec<String>,
    /// The `ignore_paths` the signed statement itself lists (beyond the defaults).
    pub signed_ignore_paths: Vec<String>,
}

/// Largest `model.sig` read (a bundle is a few kilobytes).
pub const MAX_SIGNATURE_BYTES: u64 = 1 << 20;

/// Reads the signature file only when it is a regular file (not a link to `/dev/zero`, a
/// FIFO, …) of at most [`MAX_SIGNATURE_BYTES`].
fn read_signature_file(path: &Path) -> std::result::Result<Vec<u8>, String> {
    read_regular_capped(path, MAX_SIGNATURE_BYTES, "signature bundle")
}

impl DirectoryCheck {
    pub fn ok(&self) -> bool {
        self.signature.status == SignatureStatus::Valid
            && self.problems.is_empty()
            && self.files.iter().all(|f| f.status == FileStatus::Ok)
    }
}

struct Decoded {
    payload: Vec<u8>,
    signature: Vec<u8>,
    hint: Option<String>,
}

fn read_bundle(text: &str) -> std::result::Result<Decoded, String> {
    let bundle: Bundle =
        serde_json::from_str(text).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    if bundle.media_type != BUNDLE_MEDIA_TYPE {
        return Err(format!(
            "bundle media type is '{}', expected '{BUNDLE_MEDIA_TYPE}'",
            bundle.media_type
        ));
    }
    let env = bundle.dsse_envelope;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(format!(
            "DSSE payload type is '{}', expected '{PAYLOAD_TYPE}'",
            env.payload_type
        ));
    }
    if env.signatures.len() != 1 {
        return Err(format!(
            "expected exactly one DSSE signature, found {}",
            env.signatures.len()
        ));
    }
    let payload = B64
        .decode(env.payload.as_bytes())
        .map_err(|e| format!("DSSE payload is not valid base64: {e}"))?;
    let signature = B64
        .decode(env.signatures[0].sig.as_bytes())
        .map_err(|e| format!("DSSE signature is not valid base64: {e}"))?;
    let key = bundle.verification_material.public_key;
    // model_signing 1.0 bundles carry the public key PEM (base64) instead of a hint; its
    // hint is computed the same way, so "wrong key" is told apart for those too.
    let hint = key.hint.or_else(|| {
        let pem = B64.decode(key.raw_bytes?.as_bytes()).ok()?;
        let pem = String::from_utf8(pem).ok()?;
        PublicKey::from_pem(Path::new("model.sig"), &pem)
            .ok()
            .map(|k| k.hint())
    });
    Ok(Decoded {
        payload,
        signature,
        hint,
    })
}

fn verify_ecdsa(key: &PublicKey, message: &[u8], der: &[u8]) -> bool {
    use ecdsa::signature::Verifier;
    match key {
        PublicKey::P256(k) => p256::ecdsa::Signature::from_der(der)
            .map(|s| k.verify(message, &s).is_ok())
            .unwrap_or(false),
        PublicKey::P384(k) => p384::ecdsa::Signature::from_der(der)
            .map(|s| k.verify(message, &s).is_ok())
            .unwrap_or(false),
    }
}

/// The parts of a verified statement a directory comparison needs.
struct SignedManifest {
    subject_name: String,
    subject_digest: String,
    resources: Vec<FileDigest>,
    ignore_paths: Vec<String>,
}

fn parse_statement(payload: &[u8]) -> std::result::Result<SignedManifest, String> {
    use serde_json::Value;
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("signed statement is not JSON: {e}"))?;
    let s = |v: &Value, what: &str| -> std::result::Result<String, String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("statement: '{what}' is missing or not a string"))
    };
    if s(&v["_type"], "_type")? != STATEMENT_TYPE {
        return Err(format!("statement type is not '{STATEMENT_TYPE}'"));
    }
    let ptype = s(&v["predicateType"], "predicateType")?;
    if ptype != PREDICATE_TYPE {
        return Err(format!(
            "predicate type '{ptype}' is not supported (expected '{PREDICATE_TYPE}')"
        ));
    }
    let subjects = v["subject"].as_array().ok_or("statement: no subject")?;
    if subjects.len() != 1 {
        return Err(format!("expected one subject, found {}", subjects.len()));
    }
    let subject_name = s(&subjects[0]["name"], "subject.name")?;
    let subject_digest = s(&subjects[0]["digest"]["sha256"], "subject.digest.sha256")?;
    let pred = &v["predicate"];
    let ser = &pred["serialization"];
    let method = s(&ser["method"], "serialization.method")?;
    if method != "files" {
        return Err(format!(
            "serialization method '{method}' is not supported (Assay verifies 'files')"
        ));
    }
    let hash_type = s(&ser["hash_type"], "serialization.hash_type")?;
    if hash_type != "sha256" {
        return Err(format!(
            "hash type '{hash_type}' is not supported (sha256 only)"
        ));
    }
    let mut ignore_paths = Vec::new();
    if let Some(list) = ser.get("ignore_paths") {
        for p in list
            .as_array()
            .ok_or("serialization.ignore_paths is not a list")?
        {
            ignore_paths.push(s(p, "serialization.ignore_paths[]")?);
        }
    }
    let mut resources = Vec::new();
    for r in pred["resources"]
        .as_array()
        .ok_or("statement: predicate.resources is missing")?
    {
        let name = s(&r["name"], "resources[].name")?;
        let alg = s(&r["algorithm"], "resources[].algorithm")?;
        let digest = s(&r["digest"], "resources[].digest")?;
        if alg != "sha256" {
            return Err(format!("resource '{name}' uses '{alg}' (sha256 only)"));
        }
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("resource '{name}' has a malformed digest"));
        }
        resources.push(FileDigest {
            name,
            sha256: digest.to_ascii_lowercase(),
        });
    }
    Ok(SignedManifest {
        subject_name,
        subject_digest,
        resources,
        ignore_paths,
    })
}

/// Verifies `dir` against `signature_file` (normally `dir/model.sig`) and `key`, with the
/// ignore rules of `model_signing verify key`: the signature file, git paths and the
/// statement's `ignore_paths`.
pub fn verify_directory(
    dir: &Path,
    signature_file: &Path,
    key: &PublicKey,
    progress: &Progress,
) -> Result<DirectoryCheck> {
    let key_hint = key.hint();
    let mut check = DirectoryCheck {
        signature: SignatureCheck {
            status: SignatureStatus::Unreadable,
            message: String::new(),
            key_curve: key.curve(),
            key_hint: key_hint.clone(),
            bundle_hint: None,
            subject_name: None,
            subject_digest: None,
        },
        files: Vec::new(),
        ignored_present: Vec::new(),
        problems: Vec::new(),
        signed_ignore_paths: Vec::new(),
    };
    let text = match read_signature_file(signature_file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                check.signature.message = "the signature file is not UTF-8 text".into();
                return Ok(check);
            }
        },
        Err(msg) => {
            check.signature.message = msg;
            return Ok(check);
        }
    };
    let decoded = match read_bundle(&text) {
        Ok(d) => d,
        Err(msg) => {
            check.signature.message = format!("corrupted signature file: {msg}");
            return Ok(check);
        }
    };
    check.signature.bundle_hint = decoded.hint.clone();
    let valid = verify_ecdsa(key, &pae(&decoded.payload), &decoded.signature);
    let hint_matches = decoded.hint.as_deref().is_none_or(|h| h == key_hint);
    (check.signature.status, check.signature.message) = match (valid, hint_matches) {
        (true, true) => (SignatureStatus::Valid, "signature verifies".to_string()),
        (true, false) => (
            SignatureStatus::Corrupted,
            "the signature verifies but the bundle's public-key hint was altered".to_string(),
        ),
        (false, false) => (
            SignatureStatus::WrongKey,
            format!(
                "wrong key: the package was signed by another key (hint {}), not by this {} key (hint {key_hint})",
                decoded.hint.as_deref().unwrap_or("?"),
                key.curve()
            ),
        ),
        (false, true) => (
            SignatureStatus::Corrupted,
            "corrupted signature: the bundle names this key but its signature does not verify (signature or signed statement altered)"
                .to_string(),
        ),
    };
    let manifest = match parse_statement(&decoded.payload) {
        Ok(m) => m,
        Err(msg) => {
            check.problems.push(msg);
            return Ok(check);
        }
    };
    let mut names = std::collections::BTreeSet::new();
    for r in &manifest.resources {
        if !names.insert(r.name.as_str()) {
            check.problems.push(format!(
                "the signed manifest lists '{}' twice (which digest holds is up to the reader)",
                r.name
            ));
        }
    }
    if manifest.resources.is_empty() {
        check
            .problems
            .push("the signature covers no files (the package has no model)".into());
    }
    check.signed_ignore_paths = manifest.ignore_paths.clone();
    check.signature.subject_name = Some(manifest.subject_name.clone());
    check.signature.subject_digest = Some(manifest.subject_digest.clone());
    match subject_digest(&manifest.resources) {
        Ok(d) if d == manifest.subject_digest => {}
        Ok(d) => check.problems.push(format!(
            "the statement is inconsistent: subject digest {} but its resources hash to {d}",
            manifest.subject_digest
        )),
        Err(e) => check.problems.push(e.to_string()),
    }
    let mut expected = Vec::new();
    for r in manifest.resources {
        match safe_relative_components(&r.name) {
            Ok(_) => expected.push(r),
            Err(e) => check.problems.push(e.to_string()),
        }
    }
    let mut ignored = default_ignored();
    if let Some(rel) = signature_file
        .strip_prefix(dir)
        .ok()
        .and_then(|p| p.to_str())
    {
        ignored.push(rel.replace('\\', "/"));
    }
    ignored.extend(
        manifest
            .ignore_paths
            .into_iter()
            .filter(|p| safe_relative_components(p.trim_end_matches('/')).is_ok()),
    );
    let all = match list_files(dir, &[]) {
        Ok(all) => all,
        Err(e) => {
            // A symbolic link or special file inside a package is a failed verification.
            check.problems.push(e.to_string());
            return Ok(check);
        }
    };
    let mut to_hash = Vec::new();
    for (name, path) in all {
        let parts: Vec<&str> = name.split('/').collect();
        if is_ignored(&parts, &ignored) {
            if name != SIGNATURE_FILE {
                check.ignored_present.push(name);
            }
        } else {
            to_hash.push((name, path));
        }
    }
    progress.set(0.0, "hashing files");
    let actual = hash_files(&to_hash, progress)?;
    check.files = compare(&expected, &actual);
    progress.set(1.0, "verified");
    Ok(check)
}

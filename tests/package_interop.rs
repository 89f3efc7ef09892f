//! Interop with OpenSSF `model_signing`: directories it signed (our committed fixture, made by
//! tests/fixtures/package/make_signed_fixture.py with model-signing 1.1.1, and upstream's own
//! test vectors) verify in Assay, and Assay's manifest, order, subject digest and key hint for
//! the same directory equal what model_signing computed. No Python at test time.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic

use std::path::{Path, PathBuf};

use assay::engine::package::keys::{PublicKey, SigningKey};
use assay::engine::package::manifest::FileStatus;
use assay::engine::package::sign::{sign_directory, verify_directory, SignatureStatus};
use assay::engine::Progress;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/package")
}

fn expected() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json"),
    )
    .expect("json")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let t = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &t);
        } else {
            std::fs::copy(e.path(), &t).expect("copy");
        }
    }
}

#[test]
fn directory_signed_by_model_signing_verifies() {
    let dir = fixtures().join("signed_by_model_signing");
    let key = PublicKey::load(&fixtures().join("test-key.pub.pem")).expect("pub key");
    let check = verify_directory(&dir, &dir.join("model.sig"), &key, &Progress::none())
        .expect("verify runs");
    assert_eq!(
        check.signature.status,
        SignatureStatus::Valid,
        "{}",
        check.signature.message
    );
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert!(check.ok());
    let exp = expected();
    assert_eq!(
        check.signature.subject_digest.as_deref(),
        exp["subject_digest"].as_str()
    );
    assert_eq!(
        check.signature.bundle_hint.as_deref(),
        exp["public_key_hint"].as_str()
    );
    let names: Vec<&str> = check.files.iter().map(|f| f.path.as_str()).collect();
    let exp_names: Vec<&str> = exp["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names, exp_names,
        "same files in the same (PurePosixPath) order"
    );
    assert_eq!(check.ignored_present, vec![".gitignore".to_string()]);
}

#[test]
fn assay_manifest_subject_digest_and_hint_equal_model_signing() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Same folder name, so the (informative) subject name matches too.
    let dir = tmp.path().join("signed_by_model_signing");
    copy_dir(&fixtures().join("signed_by_model_signing"), &dir);
    let key = SigningKey::load(&fixtures().join("test-key.pem"), None).expect("key");
    let signed =
        sign_directory(&dir, "signed_by_model_signing", &key, &Progress::none()).expect("sign");
    let exp = expected();
    let ours: Vec<(String, String)> = signed
        .files
        .iter()
        .map(|f| (f.name.clone(), f.sha256.clone()))
        .collect();
    let theirs: Vec<(String, String)> = exp["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().expect("name").to_string(),
                r["sha256"].as_str().expect("sha").to_string(),
            )
        })
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        signed.subject_digest,
        exp["subject_digest"].as_str().expect("d")
    );
    assert_eq!(
        signed.public_key_hint,
        exp["public_key_hint"].as_str().expect("h")
    );
    // The public key PEM Assay writes is byte-identical to Python cryptography's.
    let pem = key.public_key().to_pem().expect("pem");
    assert_eq!(
        pem,
        std::fs::read_to_string(fixtures().join("test-key.pub.pem")).expect("pub")
    );
    // And Assay's own bundle verifies with Assay.
    let pubkey = key.public_key();
    let check =
        verify_directory(&dir, &dir.join("model.sig"), &pubkey, &Progress::none()).expect("verify");
    assert!(check.ok(), "{check:?}");
    // Bundle layout: the fields model_signing writes, in its order, compact.
    let text = std::fs::read_to_string(dir.join("model.sig")).expect("sig");
    assert!(text.starts_with(
        "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"publicKey\":{\"hint\":\""
    ));
    assert!(text.contains("\"tlogEntries\":[]},\"dsseEnvelope\":{\"payload\":\""));
    assert!(text.ends_with("\",\"keyid\":\"\"}]}}"));
}

#[test]
fn passphrase_encrypted_key_from_python_cryptography_loads() {
    let exp = expected();
    let pass = exp["passphrase"].as_str().expect("passphrase");
    let plain = SigningKey::load(&fixtures().join("test-key.pem"), None).expect("plain");
    let enc_path = fixtures().join("test-key-encrypted.pem");
    let enc = SigningKey::load(&enc_path, Some(pass)).expect("encrypted");
    assert_eq!(enc.public_key().hint(), plain.public_key().hint());
    let wrong = SigningKey::load(&enc_path, Some("not the passphrase")).expect_err("wrong");
    assert!(wrong.to_string().contains("wrong passphrase"), "{wrong}");
    let missing = SigningKey::load(&enc_path, None).expect_err("no passphrase");
    assert!(missing.to_string().contains("encrypted"), "{missing}");
}

#[test]
fn upstream_v1_1_0_p384_vector_verifies() {
    let dir = fixtures().join("upstream/v1.1.0-elliptic-key");
    let key = PublicKey::load(&fixtures().join("upstream/signing-key-pub.pem")).expect("key");
    assert_eq!(key.curve(), "P-384");
    let check =
        verify_directory(&dir, &dir.join("model.sig"), &key, &Progress::none()).expect("verify");
    assert_eq!(check.signature.status, SignatureStatus::Valid, "{check:?}");
    assert!(check.ok(), "{check:?}");
    assert_eq!(check.ignored_present, vec!["ignore-me".to_string()]);
    // The hint in the bundle is the SHA-256 of the key's canonical PEM, as Assay computes it.
    assert_eq!(
        check.signature.bundle_hint.as_deref(),
        Some(key.hint().as_str())
    );
    let names: Vec<&str> = check.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(names, vec!["signme-1", "signme-2"]);
}

#[test]
fn upstream_v1_0_1_vector_without_hint_verifies_and_flags_the_unsigned_file() {
    let dir = fixtures().join("upstream/v1.0.1-elliptic-key");
    let key = PublicKey::load(&fixtures().join("upstream/signing-key-pub.pem")).expect("key");
    let check =
        verify_directory(&dir, &dir.join("model.sig"), &key, &Progress::none()).expect("verify");
    assert_eq!(check.signature.status, SignatureStatus::Valid, "{check:?}");
    // No hint in 1.0 bundles: Assay derives it from the embedded key (rawBytes).
    assert_eq!(
        check.signature.bundle_hint.as_deref(),
        Some(key.hint().as_str())
    );
    // Upstream verifies this one with `--ignore-paths ignore-me`: it is not signed.
    let added: Vec<&str> = check
        .files
        .iter()
        .filter(|f| matches!(f.status, FileStatus::Added { .. }))
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(added, vec!["ignore-me"]);
    assert!(!check.ok());
}

#[test]
fn wrong_key_is_reported_as_wrong_key() {
    let dir = fixtures().join("signed_by_model_signing");
    let other = SigningKey::generate().public_key();
    let check =
        verify_directory(&dir, &dir.join("model.sig"), &other, &Progress::none()).expect("verify");
    assert_eq!(check.signature.status, SignatureStatus::WrongKey);
    assert!(check.signature.message.starts_with("wrong key"));
    let p384 = PublicKey::load(&fixtures().join("upstream/signing-key-pub.pem")).expect("key");
    let check =
        verify_directory(&dir, &dir.join("model.sig"), &p384, &Progress::none()).expect("verify");
    assert_eq!(check.signature.status, SignatureStatus::WrongKey);
}

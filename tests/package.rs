//! Signed packages: every single-byte change, addition and removal is detected; corrupted
//! signatures and wrong keys are told apart; archives and manifests cannot escape the
//! package; the audit chain catches edits; existing packages are not overwritten.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic

use std::io::Write;
use std::path::{Path, PathBuf};

use assay::engine::package::archive::extract_archive;
use assay::engine::package::audit::{check_jsonl, AuditLog};
use assay::engine::package::keys::SigningKey;
use assay::engine::package::sign::{pae, SignatureStatus};
use assay::engine::package::{
    build_package, verify_package, ArchiveKind, Decision, PackageRequest, SignOff,
};
use assay::engine::{ErrorKind, Progress};
use base64::Engine as _;
use serde_json::{json, Value};

mod support;
use support::root;

fn signoff() -> SignOff {
    SignOff {
        reviewer: "Ada Reviewer".into(),
        role: "Model risk".into(),
        decision: Decision::ApprovedWithConditions,
        conditions: vec!["monitor drift monthly".into()],
        date: "2026-11-25".into(),
        notes: "fine".into(),
    }
}

/// A small package (no ONNX Runtime needed: no evaluation, evidence given as files).
fn small_package(dir: &Path, key: &SigningKey) -> PathBuf {
    let ev = dir.join("fairness-input.json");
    std::fs::write(
        &ev,
        r#"{"data": {"path": "x.csv", "sha256": "00ff"}, "warnings": ["gap 0.12 on sex"]}"#,
    )
    .expect("write");
    let out = dir.join("pkg");
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &out);
    req.evidence.push(("fairness".into(), ev));
    req.signoffs.push(signoff());
    req.sensitive = vec!["sex".into()];
    build_package(&req, key, &Progress::none()).expect("package builds");
    out
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fresh_package_verifies_and_has_every_part() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key);
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert!(v.ok, "{:?}", v.problems);
    assert!(v.assay_package);
    let names: Vec<&str> = v.files.iter().map(|f| f.path.as_str()).collect();
    for want in [
        "README.md",
        "audit.jsonl",
        "deploy/kserve/inferenceservice.yaml",
        "deploy/triton/adult_logreg/1/model.onnx",
        "deploy/triton/adult_logreg/config.pbtxt",
        "evidence/fairness.json",
        "model.onnx",
        "package.json",
        "schema/columns.json",
        "schema/input.schema.json",
        "signoff.json",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let audit = v.audit.expect("audit checked");
    assert!(audit.ok);
    let contents: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("package.json")).expect("read"))
            .expect("json");
    assert_eq!(contents["evidence"][0]["inputs"][0]["sha256"], "00ff");
    assert_eq!(contents["checklist"][0]["evidence"], "evaluation");
    assert_eq!(contents["checklist"][0]["present"], false);
    let card = std::fs::read_to_string(pkg.join("README.md")).expect("card");
    assert!(card.starts_with("---\nlibrary_name: onnx\n"));
    assert!(card.contains("gap 0.12 on sex"));
    assert!(card.contains("**Ada Reviewer** (Model risk), 2026-11-25: approved with conditions"));
}

#[test]
fn every_single_byte_change_is_detected() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pubkey = key.public_key();
    let pkg = small_package(tmp.path(), &key);
    let mut checked = 0usize;
    for file in files_of(&pkg) {
        let original = std::fs::read(&file).expect("read");
        // Every position of small files; 300 fixed-seed positions (plus both ends) of big ones.
        let positions: Vec<usize> = if original.len() <= 6000 {
            (0..original.len()).collect()
        } else {
            let mut state = 0x9e37_79b9_7f4a_7c15_u64;
            let mut v: Vec<usize> = (0..300)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % original.len() as u64) as usize
                })
                .collect();
            v.extend([0, original.len() - 1]);
            v
        };
        for pos in positions {
            // Both a low-bit and a case flip in the signature; one flip elsewhere (any
            // change of a signed file's bytes changes its SHA-256).
            let is_sig = file.ends_with("model.sig");
            for flip in [0x01u8, 0x20].into_iter().take(if is_sig { 2 } else { 1 }) {
                let mut bytes = original.clone();
                bytes[pos] ^= flip;
                std::fs::write(&file, &bytes).expect("write");
                let v = verify_package(&pkg, &pubkey, &Progress::none()).expect("verify");
                assert!(
                    !v.ok,
                    "undetected change of byte {pos} (xor {flip:#x}) in {}",
                    file.display()
                );
                checked += 1;
            }
        }
        std::fs::write(&file, &original).expect("restore");
        let rel = file
            .strip_prefix(&pkg)
            .expect("rel")
            .to_string_lossy()
            .replace('\\', "/");
        // Changing a signed file is reported as exactly that file.
        if rel != "model.sig" {
            let mut bytes = original.clone();
            bytes.push(b'\n');
            std::fs::write(&file, &bytes).expect("write");
            let v = verify_package(&pkg, &pubkey, &Progress::none()).expect("verify");
            assert_eq!(v.changed, vec![rel.clone()]);
            assert_eq!(v.signature.status, SignatureStatus::Valid);
            std::fs::write(&file, &original).expect("restore");
        }
        // Removal.
        std::fs::remove_file(&file).expect("rm");
        let v = verify_package(&pkg, &pubkey, &Progress::none()).expect("verify");
        assert!(!v.ok, "removal of {rel} undetected");
        if rel == "model.sig" {
            assert_eq!(v.signature.status, SignatureStatus::Unreadable);
        } else {
            assert_eq!(v.missing, vec![rel.clone()]);
        }
        std::fs::write(&file, &original).expect("restore");
    }
    assert!(checked > 5_000, "only {checked} mutations");
    let v = verify_package(&pkg, &pubkey, &Progress::none()).expect("verify");
    assert!(v.ok, "restored package verifies again: {:?}", v.problems);
    // Additions, at the top and deep inside.
    for extra in [
        "extra.txt",
        "evidence/extra.json",
        "deploy/triton/x/y/z.bin",
    ] {
        let p = pkg.join(extra);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, b"{}").expect("write");
        let v = verify_package(&pkg, &pubkey, &Progress::none()).expect("verify");
        assert_eq!(v.added, vec![extra.to_string()]);
        assert!(!v.ok);
        std::fs::remove_file(&p).expect("rm");
    }
}

#[test]
fn wrong_key_and_corrupted_signature_are_distinct() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key);
    let other = SigningKey::generate();
    let v = verify_package(&pkg, &other.public_key(), &Progress::none()).expect("verify");
    assert_eq!(v.signature.status, SignatureStatus::WrongKey);
    assert!(v.problems[0].starts_with("wrong key"), "{:?}", v.problems);

    // Corrupt the DER signature itself (decoded, one bit, re-encoded): corrupted, not wrong key.
    let sig_path = pkg.join("model.sig");
    let original = std::fs::read_to_string(&sig_path).expect("read");
    let mut bundle: Value = serde_json::from_str(&original).expect("json");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut der = b64
        .decode(
            bundle["dsseEnvelope"]["signatures"][0]["sig"]
                .as_str()
                .expect("sig"),
        )
        .expect("b64");
    let last = der.len() - 1;
    der[last] ^= 0x01;
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = json!(b64.encode(&der));
    std::fs::write(&sig_path, serde_json::to_string(&bundle).expect("json")).expect("write");
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert_eq!(v.signature.status, SignatureStatus::Corrupted);
    assert!(
        v.problems[0].starts_with("corrupted signature"),
        "{:?}",
        v.problems
    );

    // A re-written statement (a digest swapped to match a tampered file) without re-signing.
    let mut bundle: Value = serde_json::from_str(&original).expect("json");
    let payload = b64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("b64");
    let text = String::from_utf8(payload)
        .expect("utf8")
        .replace("model.onnx", "model.onnX");
    bundle["dsseEnvelope"]["payload"] = json!(b64.encode(text.as_bytes()));
    std::fs::write(&sig_path, serde_json::to_string(&bundle).expect("json")).expect("write");
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert_eq!(v.signature.status, SignatureStatus::Corrupted);

    // Not a bundle at all.
    std::fs::write(&sig_path, "garbage").expect("write");
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert_eq!(v.signature.status, SignatureStatus::Unreadable);
    assert!(
        v.problems[0].contains("corrupted signature file"),
        "{:?}",
        v.problems
    );
}

/// Signs an arbitrary statement with `key` the way model_signing does (for hostile manifests).
fn sign_statement(dir: &Path, key_pem: &str, statement: &Value) {
    use p256::pkcs8::DecodePrivateKey;
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(key_pem).expect("key");
    let payload = serde_json::to_vec(statement).expect("json");
    let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&sk, &pae(&payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {}, "tlogEntries": []},
        "dsseEnvelope": {"payload": b64.encode(&payload), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": b64.encode(sig.to_der().as_bytes()), "keyid": ""}]}
    });
    std::fs::write(dir.join("model.sig"), bundle.to_string()).expect("write");
}

#[test]
fn path_traversal_in_a_signed_manifest_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pem = key.to_pkcs8_pem(None).expect("pem");
    let dir = tmp.path().join("m");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(tmp.path().join("outside.txt"), b"secret").expect("write");
    let digest = assay::engine::hash::sha256_bytes(b"secret");
    for name in ["../outside.txt", "/etc/passwd", "a/../../outside.txt"] {
        let root_digest = assay::engine::hash::sha256_bytes(&hex::decode(&digest).expect("hex"));
        let st = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "m", "digest": {"sha256": root_digest}}],
            "predicateType": "https://model_signing/signature/v1.0",
            "predicate": {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false},
                          "resources": [{"name": name, "algorithm": "sha256", "digest": digest}]}
        });
        sign_statement(&dir, &pem, &st);
        let v = verify_package(&dir, &key.public_key(), &Progress::none()).expect("verify");
        assert_eq!(v.signature.status, SignatureStatus::Valid);
        assert!(!v.ok);
        assert!(
            v.problems.iter().any(|p| p.contains("unsafe path")),
            "{name}: {:?}",
            v.problems
        );
    }
}

#[test]
fn symlinks_in_a_package_fail_verification() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", pkg.join("evidence/link.json")).expect("ln");
        let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
        assert!(!v.ok);
        assert!(
            v.problems.iter().any(|p| p.contains("symbolic link")),
            "{:?}",
            v.problems
        );
    }
}

fn zip_with(path: &Path, entries: &[(&str, Option<u32>)]) {
    let f = std::fs::File::create(path).expect("create");
    let mut z = zip::ZipWriter::new(f);
    for (name, mode) in entries {
        let mut opts = zip::write::SimpleFileOptions::default();
        if let Some(m) = mode {
            opts = opts.unix_permissions(*m);
        }
        if mode.is_some_and(|m| m & 0o170000 == 0o120000) {
            z.add_symlink(*name, "/etc/passwd", opts).expect("symlink");
        } else {
            z.start_file(*name, opts).expect("start");
            z.write_all(b"x").expect("write");
        }
    }
    z.finish().expect("finish");
}

#[test]
fn hostile_archives_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    type Case<'a> = (&'a str, &'a [(&'a str, Option<u32>)], &'a str);
    let cases: &[Case] = &[
        (
            "trav.zip",
            &[("pkg/a", None), ("pkg/../../evil", None)],
            "path traversal",
        ),
        ("abs.zip", &[("/etc/evil", None)], "absolute"),
        (
            "link.zip",
            &[("pkg/a", None), ("pkg/l", Some(0o120777))],
            "symbolic link",
        ),
        (
            "two.zip",
            &[("a/x", None), ("b/y", None)],
            "more than one top-level",
        ),
        (
            "dup.zip",
            &[("p/x", None), ("p/./x", None)],
            "path traversal",
        ),
    ];
    for (name, entries, want) in cases {
        let p = tmp.path().join(name);
        zip_with(&p, entries);
        let dest = tmp.path().join(format!("out-{name}"));
        std::fs::create_dir_all(&dest).expect("mkdir");
        let err = extract_archive(&p, &dest).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::BadInput);
        assert!(err.to_string().contains(want), "{name}: {err}");
        assert!(!tmp.path().join("evil").exists());
    }
    // tar.gz: a raw '..' name and a symlink entry (the tar crate refuses to *write* '..'
    // through set_path, so the name bytes are set directly).
    for (name, kind) in [
        ("trav.tar.gz", tar::EntryType::Regular),
        ("link.tar.gz", tar::EntryType::Symlink),
    ] {
        let p = tmp.path().join(name);
        let f = std::fs::File::create(&p).expect("create");
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::fast(),
        ));
        let mut h = tar::Header::new_old();
        let raw = if kind == tar::EntryType::Regular {
            &b"pkg/../../evil"[..]
        } else {
            &b"pkg/link"[..]
        };
        h.as_old_mut().name[..raw.len()].copy_from_slice(raw);
        h.set_entry_type(kind);
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, &b"x"[..]).expect("append");
        b.into_inner().expect("tar").finish().expect("gz");
        let dest = tmp.path().join(format!("out-{name}"));
        std::fs::create_dir_all(&dest).expect("mkdir");
        let err = extract_archive(&p, &dest).expect_err(name);
        assert!(
            err.to_string().contains("path traversal") || err.to_string().contains("Symlink"),
            "{name}: {err}"
        );
        assert!(!tmp.path().join("evil").exists());
    }
}

#[test]
fn archives_round_trip_and_existing_packages_are_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key);
    // Refuse to overwrite without force.
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &pkg);
    let err = build_package(&req, &key, &Progress::none()).expect_err("exists");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("--force"), "{err}");
    assert!(
        pkg.join("evidence/fairness.json").exists(),
        "old package untouched"
    );
    for kind in [ArchiveKind::Zip, ArchiveKind::TarGz] {
        req.force = true;
        req.archive = Some(kind);
        let report = build_package(&req, &key, &Progress::none()).expect("force");
        assert!(!pkg.join("evidence/fairness.json").exists(), "replaced");
        let archive = report.archive.expect("archive written");
        let v = verify_package(&archive, &key.public_key(), &Progress::none()).expect("verify");
        assert!(v.ok, "{kind:?}: {:?}", v.problems);
        assert_eq!(v.archive, Some(kind));
    }
    // No temporary folders left behind.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("assay-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn audit_chain_detects_edits_removals_and_reordering() {
    let mut log = AuditLog::new();
    for i in 0..5 {
        log.append_at(
            "analysis.run",
            json!({"i": i, "x": 0.1 + 0.2}),
            format!("2026-11-25T12:00:0{i}Z"),
        )
        .expect("append");
    }
    let text = log.to_jsonl();
    let ok = check_jsonl(&text);
    assert!(ok.ok && ok.entries == 5 && ok.head == log.head());
    let lines: Vec<&str> = text.lines().collect();
    let join = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    // Edit the third entry.
    let edited: Vec<String> = lines
        .iter()
        .map(|l| l.replace("\"i\":2", "\"i\":7"))
        .collect();
    let refs: Vec<&str> = edited.iter().map(String::as_str).collect();
    let c = check_jsonl(&join(&refs));
    assert!(!c.ok);
    assert!(
        c.problems.iter().any(|p| p.starts_with("line 4")),
        "{:?}",
        c.problems
    );
    // Remove the second entry.
    let c = check_jsonl(&join(&[lines[0], lines[2], lines[3], lines[4]]));
    assert!(
        !c.ok && c.problems.iter().any(|p| p.starts_with("line 2")),
        "{:?}",
        c.problems
    );
    // Swap two entries.
    let c = check_jsonl(&join(&[lines[0], lines[2], lines[1], lines[3], lines[4]]));
    assert!(!c.ok);
    // Remove the last entry: the chain alone holds, but the head differs.
    let c = check_jsonl(&join(&lines[..4]));
    assert!(c.ok && c.head != log.head());
    // Round trip through the file form keeps the chain extendable.
    let mut back = AuditLog::from_jsonl(Path::new("log.jsonl"), &text).expect("parse");
    back.append("card.edited", json!({})).expect("append");
    assert!(check_jsonl(&back.to_jsonl()).ok);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("workspace.audit.jsonl");
    back.save(&file).expect("save");
    let loaded = AuditLog::load(&file).expect("load");
    assert_eq!(loaded.entries(), back.entries());
    assert_eq!(loaded.head(), back.head());
    assert!(AuditLog::from_jsonl(Path::new("log.jsonl"), &join(&lines[1..])).is_err());
}

#[test]
fn tampered_audit_log_inside_a_package_is_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key);
    let log = pkg.join("audit.jsonl");
    let text = std::fs::read_to_string(&log).expect("read");
    let kept: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(&log, kept).expect("write");
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert!(!v.ok);
    assert_eq!(v.changed, vec!["audit.jsonl".to_string()]);
    let a = v.audit.expect("audit");
    assert!(!a.ok);
    assert!(
        v.problems
            .iter()
            .any(|p| p.starts_with("audit log: line 1")),
        "{:?}",
        v.problems
    );
}

#[test]
fn bad_inputs_give_clear_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let model = root().join("sample_models/adult_logreg.onnx");
    let mut req = PackageRequest::new(&model, tmp.path().join("p"));
    req.evidence.push(("Bad Name".into(), model.clone()));
    let e = build_package(&req, &key, &Progress::none()).expect_err("name");
    assert!(e.to_string().contains("evidence name"), "{e}");
    let not_json = tmp.path().join("x.json");
    std::fs::write(&not_json, "{nope").expect("write");
    req.evidence = vec![("drift".into(), not_json)];
    let e = build_package(&req, &key, &Progress::none()).expect_err("json");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    req.evidence.clear();
    let mut s = signoff();
    s.conditions.clear();
    req.signoffs = vec![s];
    let e = build_package(&req, &key, &Progress::none()).expect_err("signoff");
    assert!(
        e.to_string().contains("needs at least one condition"),
        "{e}"
    );
    req.signoffs.clear();
    req.model = root().join("tests/fixtures/bad/garbage.onnx");
    let e = build_package(&req, &key, &Progress::none()).expect_err("model");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(!tmp.path().join("p").exists(), "nothing written on failure");
    let leftovers = std::fs::read_dir(tmp.path()).expect("ls").count();
    assert_eq!(leftovers, 1, "only x.json remains");
}

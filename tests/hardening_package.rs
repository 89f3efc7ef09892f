//! Issue 16, package side: external data sealed with the model; weak packages (duplicate
//! names, ignored model or evidence, duplicate manifest entries, no model) are invalid;
//! archive bombs and oversized entries are refused before anything is written; a package
//! entry that is a link to a special file is refused without being read; `--force` replaces
//! only a package.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assay::engine::evaluate::{evaluate_files, EvalOptions};
use assay::engine::hash::{sha256_bytes, sha256_file};
use assay::engine::model::Model;
use assay::engine::package::archive::{extract_archive, extract_archive_with, ArchiveLimits};
use assay::engine::package::keys::SigningKey;
use assay::engine::package::sign::pae;
use assay::engine::package::{build_package, verify_package, ArchiveKind, PackageRequest};
use assay::engine::{ErrorKind, Progress};
use base64::Engine as _;
use serde_json::{json, Value};

fn bad(p: &str) -> PathBuf {
    root().join("tests/fixtures/bad").join(p)
}

fn expected_external() -> Value {
    serde_json::from_slice(&std::fs::read(bad("external/expected.json")).expect("read"))
        .expect("json")
}

/// The external-data model and its data copied into `dir/m/`.
fn external_model(dir: &Path) -> PathBuf {
    let m = dir.join("m");
    std::fs::create_dir_all(&m).expect("mkdir");
    for f in ["model.onnx", "w.bin", "data.csv"] {
        std::fs::copy(bad(&format!("external/{f}")), m.join(f)).expect("copy");
    }
    m.join("model.onnx")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A small package of the logistic-regression sample (no ONNX Runtime needed).
fn small_package(dir: &Path, key: &SigningKey, archive: Option<ArchiveKind>) -> PathBuf {
    let ev = dir.join("fairness-input.json");
    std::fs::write(&ev, br#"{"warnings": []}"#).expect("write");
    let out = dir.join("pkg");
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &out);
    req.evidence.push(("fairness".into(), ev));
    req.archive = archive;
    build_package(&req, key, &Progress::none()).expect("package builds");
    out
}

#[test]
fn external_data_is_sealed_and_the_package_loads() {
    let tmp = tempfile::tempdir().expect("tmp");
    let model = external_model(tmp.path());
    let key = SigningKey::generate();
    let out = tmp.path().join("pkg");
    let req = PackageRequest::new(&model, &out);
    build_package(&req, &key, &Progress::none()).expect("package");
    let want = expected_external();
    for f in ["w.bin", "deploy/triton/external_linear/1/w.bin"] {
        assert_eq!(
            sha256_file(&out.join(f)).expect("hash"),
            want["w_bin_sha256"].as_str().expect("sha"),
            "{f}"
        );
    }
    let v = verify_package(&out, &key.public_key(), &Progress::none()).expect("verify");
    assert!(v.ok, "{:?}", v.problems);
    assert!(v.files.iter().any(|f| f.path == "w.bin"));
    let contents: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).expect("read"))
            .expect("json");
    assert_eq!(contents["model"]["external_data"][0]["file"], "w.bin");
    // The sealed model loads and predicts what ONNX Runtime predicts from its own folder.
    let m = Model::load(&out.join("model.onnx")).expect("load");
    assert_eq!(m.info.external_data.len(), 1);
    assert_eq!(m.info.external_data[0].sha256, want["w_bin_sha256"]);
    let mut opts = EvalOptions::new("y");
    opts.bootstrap.resamples = 0;
    let eval = evaluate_files(
        &out.join("model.onnx"),
        &tmp.path().join("m/data.csv"),
        &opts,
        &Progress::none(),
    )
    .expect("evaluate");
    let mae = eval.metrics.get("mae").expect("mae");
    let mse = eval.metrics.get("mse").expect("mse");
    assert!(close(mae, want["mae"].as_f64().unwrap(), 1e-9), "{mae}");
    assert!(close(mse, want["mse"].as_f64().unwrap(), 1e-9), "{mse}");
    // Removing the sealed weights is a failed verification, not a loadable package.
    std::fs::remove_file(out.join("w.bin")).expect("rm");
    let v = verify_package(&out, &key.public_key(), &Progress::none()).expect("verify");
    assert!(!v.ok);
    assert_eq!(v.missing, vec!["w.bin".to_string()]);
}

#[test]
fn external_data_that_would_overwrite_a_package_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let m = tmp.path().join("m");
    std::fs::create_dir_all(&m).expect("mkdir");
    // The same model with its weights in a file named like the package's model card.
    std::fs::copy(bad("external/clash.onnx"), m.join("model.onnx")).expect("copy");
    std::fs::copy(bad("external/w.bin"), m.join("README.md")).expect("copy");
    let req = PackageRequest::new(m.join("model.onnx"), tmp.path().join("pkg"));
    let err = build_package(&req, &SigningKey::generate(), &Progress::none()).expect_err("clash");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(
        err.to_string()
            .contains("name of a package file ('README.md')"),
        "{err}"
    );
    assert!(!tmp.path().join("pkg").exists());
}

/// Signs `statement` over `dir` with `key` the way model_signing does.
fn sign_statement(dir: &Path, key: &SigningKey, statement: &Value) {
    use p256::pkcs8::DecodePrivateKey;
    let pem = key.to_pkcs8_pem(None).expect("pem");
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).expect("key");
    let payload = serde_json::to_vec(statement).expect("json");
    let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&sk, &pae(&payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": key.public_key().hint()}, "tlogEntries": []},
        "dsseEnvelope": {"payload": b64.encode(&payload), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": b64.encode(sig.to_der().as_bytes()), "keyid": ""}]}
    });
    std::fs::write(dir.join("model.sig"), bundle.to_string()).expect("write");
}

/// Re-signs every file of `dir` except `model.sig` and `skip`, listing `dup` twice, with
/// `ignore` added to the statement's ignore_paths.
fn resign(dir: &Path, key: &SigningKey, skip: &[&str], dup: Option<&str>, ignore: &[&str]) {
    let files = assay::engine::package::manifest::list_files(dir, &[]).expect("list");
    let mut resources = Vec::new();
    let mut raw = Vec::new();
    for (name, path) in files {
        if name == "model.sig" || skip.contains(&name.as_str()) {
            continue;
        }
        let d = sha256_file(&path).expect("hash");
        let times = if dup == Some(name.as_str()) { 2 } else { 1 };
        for _ in 0..times {
            raw.extend(hex::decode(&d).expect("hex"));
            resources.push(json!({"name": name, "algorithm": "sha256", "digest": d}));
        }
    }
    let mut ignore_paths: Vec<&str> = vec![
        ".git",
        ".gitattributes",
        ".github",
        ".gitignore",
        "model.sig",
    ];
    ignore_paths.extend(ignore);
    let st = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg", "digest": {"sha256": sha256_bytes(&raw)}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {"serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": false,
                                         "ignore_paths": ignore_paths},
                      "resources": resources}
    });
    sign_statement(dir, key, &st);
}

fn problems_of(dir: &Path, key: &SigningKey) -> (bool, String) {
    let v = verify_package(dir, &key.public_key(), &Progress::none()).expect("verify");
    (v.ok, v.problems.join(" | "))
}

#[test]
fn weak_packages_are_invalid() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key, None);
    // Control: re-signing everything with the test signer verifies.
    resign(&pkg, &key, &[], None, &[]);
    assert_eq!(problems_of(&pkg, &key), (true, String::new()));

    // The model covered by signed ignore_paths, then replaced.
    resign(&pkg, &key, &["model.onnx"], None, &["model.onnx"]);
    let original = std::fs::read(pkg.join("model.onnx")).expect("read");
    std::fs::write(pkg.join("model.onnx"), b"not the reviewed model").expect("write");
    let (ok, p) = problems_of(&pkg, &key);
    assert!(!ok);
    assert!(
        p.contains("'model.onnx' is excluded from the signature"),
        "{p}"
    );
    assert!(
        p.contains("the model 'model.onnx' named in package.json is not covered"),
        "{p}"
    );
    std::fs::write(pkg.join("model.onnx"), &original).expect("restore");

    // Evidence covered by ignore_paths (a whole folder).
    resign(&pkg, &key, &["evidence/fairness.json"], None, &["evidence"]);
    let (ok, p) = problems_of(&pkg, &key);
    assert!(!ok);
    assert!(p.contains("'evidence/fairness.json' is excluded"), "{p}");

    // A duplicate manifest entry.
    resign(&pkg, &key, &[], Some("model.onnx"), &[]);
    let (ok, p) = problems_of(&pkg, &key);
    assert!(!ok);
    assert!(p.contains("lists 'model.onnx' twice"), "{p}");

    // No model: package.json without one, the model file gone, all re-signed.
    let mut contents: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("package.json")).expect("read"))
            .expect("json");
    contents.as_object_mut().expect("object").remove("model");
    std::fs::write(pkg.join("package.json"), contents.to_string()).expect("write");
    std::fs::remove_file(pkg.join("model.onnx")).expect("rm");
    resign(&pkg, &key, &[], None, &[]);
    let (ok, p) = problems_of(&pkg, &key);
    assert!(!ok);
    assert!(p.contains("names no model"), "{p}");

    // A signature over nothing at all.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    resign(&empty, &key, &[], None, &[]);
    let (ok, p) = problems_of(&empty, &key);
    assert!(!ok);
    assert!(p.contains("covers no files"), "{p}");
}

/// The zip of a package with `pkg/model.onnx` twice, the tampered copy first.
fn zip_with_duplicate_model(good: &Path, out: &Path) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(good).expect("open")).expect("zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).expect("create"));
    let opts = zip::write::SimpleFileOptions::default();
    // A second name of the same length, renamed to the real one in the bytes below.
    w.start_file("pkg/model.onnY", opts).expect("start");
    w.write_all(b"tampered model").expect("write");
    for i in 0..src.len() {
        let f = src.by_index(i).expect("entry");
        w.raw_copy_file(f).expect("copy");
    }
    w.finish().expect("finish");
    let bytes = std::fs::read(out).expect("read");
    let mut fixed = bytes.clone();
    let pat = b"pkg/model.onnY";
    let mut i = 0;
    while let Some(p) = fixed[i..].windows(pat.len()).position(|w| w == pat) {
        fixed[i + p + pat.len() - 1] = b'x';
        i += p + 1;
    }
    assert_ne!(fixed, bytes);
    std::fs::write(out, fixed).expect("write");
}

#[test]
fn archives_with_duplicate_names_are_invalid_exit_4() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    small_package(tmp.path(), &key, Some(ArchiveKind::Zip));
    let good = tmp.path().join("pkg.zip");
    let v = verify_package(&good, &key.public_key(), &Progress::none()).expect("verify");
    assert!(v.ok, "{:?}", v.problems);
    let dup = tmp.path().join("dup.zip");
    zip_with_duplicate_model(&good, &dup);
    let v = verify_package(&dup, &key.public_key(), &Progress::none()).expect("verify");
    assert!(!v.ok);
    assert!(
        v.problems
            .iter()
            .any(|p| p.contains("duplicate entry 'pkg/model.onnx'")),
        "{:?}",
        v.problems
    );
    // The CLI says invalid (exit 4), not a usage error.
    let keyfile = tmp.path().join("k.pub.pem");
    std::fs::write(&keyfile, key.public_key().to_pem().expect("pem")).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
        .args([
            "verify",
            dup.to_str().unwrap(),
            "--public-key",
            keyfile.to_str().unwrap(),
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate entry"));

    // A tar.gz with the model twice.
    let tgz = tmp.path().join("dup.tar.gz");
    let f = std::fs::File::create(&tgz).expect("create");
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    for data in [&b"tampered"[..], &b"second"[..]] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "pkg/model.onnx", data)
            .expect("append");
    }
    b.into_inner().expect("tar").finish().expect("gz");
    let v = verify_package(&tgz, &key.public_key(), &Progress::none()).expect("verify");
    assert!(!v.ok);
    assert!(
        v.problems[0].contains("duplicate entry"),
        "{:?}",
        v.problems
    );
}

fn stored_zip(path: &Path, entries: &[(&str, Vec<u8>)], method: zip::CompressionMethod) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).expect("create"));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .large_file(false);
    for (name, data) in entries {
        w.start_file(*name, opts).expect("start");
        w.write_all(data).expect("write");
    }
    w.finish().expect("finish");
}

/// Sets every central-directory and local uncompressed-size field of a one-entry zip.
fn claim_size(path: &Path, size: u32) {
    let mut b = std::fs::read(path).expect("read");
    for (sig, off) in [
        (&[0x50u8, 0x4b, 0x01, 0x02][..], 24usize),
        (&[0x50, 0x4b, 0x03, 0x04][..], 22),
    ] {
        let i = b.windows(4).position(|w| w == sig).expect("header");
        b[i + off..i + off + 4].copy_from_slice(&size.to_le_bytes());
    }
    std::fs::write(path, b).expect("write");
}

fn files_under(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("ls").flatten() {
            if e.file_type().expect("type").is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn archive_bombs_and_oversized_entries_are_refused_before_writing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let t = tmp.path();
    let fresh = |name: &str| {
        let d = t.join(format!("out-{name}"));
        std::fs::create_dir_all(&d).expect("mkdir");
        d
    };
    // A real deflate bomb: 64 MiB of zeros, about 64 KB on disk.
    let bomb = t.join("bomb.zip");
    stored_zip(
        &bomb,
        &[("pkg/model.onnx", vec![0u8; 64 << 20])],
        zip::CompressionMethod::Deflated,
    );
    assert!(std::fs::metadata(&bomb).expect("meta").len() < 200_000);
    let d = fresh("bomb");
    let err = extract_archive(&bomb, &d).expect_err("bomb");
    assert!(err.to_string().contains("archive bomb"), "{err}");
    assert_eq!(files_under(&d), 0, "nothing written");
    // A zip claiming an entry of 4,294,967,280 bytes (a few bytes on disk).
    let claim = t.join("claim.zip");
    stored_zip(
        &claim,
        &[("pkg/model.onnx", b"x".to_vec())],
        zip::CompressionMethod::Deflated,
    );
    claim_size(&claim, 0xFFFF_FFF0);
    let d = fresh("claim");
    let err = extract_archive(&claim, &d).expect_err("claim");
    assert!(
        err.to_string().contains("archive bomb") || err.to_string().contains("more than"),
        "{err}"
    );
    assert_eq!(files_under(&d), 0);
    // Each cap on its own, with small limits (stored entries: ratio 1).
    let limits = ArchiveLimits {
        max_entries: 4,
        max_entry_bytes: 1000,
        max_total_bytes: 2500,
        ..ArchiveLimits::default()
    };
    let stored = zip::CompressionMethod::Stored;
    let many = t.join("many.zip");
    let names: Vec<String> = (0..5).map(|i| format!("pkg/f{i}")).collect();
    stored_zip(
        &many,
        &names
            .iter()
            .map(|n| (n.as_str(), vec![1u8]))
            .collect::<Vec<_>>(),
        stored,
    );
    let err = extract_archive_with(&many, &fresh("many"), limits).expect_err("entries");
    assert!(err.to_string().contains("more than 4 entries"), "{err}");
    let big = t.join("big.zip");
    stored_zip(&big, &[("pkg/a", vec![1u8; 1001])], stored);
    let d = fresh("big");
    let err = extract_archive_with(&big, &d, limits).expect_err("entry size");
    assert!(
        err.to_string()
            .contains("more than the 1000 bytes allowed for one file"),
        "{err}"
    );
    assert_eq!(files_under(&d), 0);
    let total = t.join("total.zip");
    stored_zip(
        &total,
        &[
            ("pkg/a", vec![1u8; 1000]),
            ("pkg/b", vec![1u8; 1000]),
            ("pkg/c", vec![1u8; 1000]),
        ],
        stored,
    );
    let d = fresh("total");
    let err = extract_archive_with(&total, &d, limits).expect_err("total");
    assert!(
        err.to_string()
            .contains("expands to more than 2500 bytes; refused at 'pkg/c'"),
        "{err}"
    );
    assert_eq!(files_under(&d), 2, "stopped before the third file");

    // tar.gz: a header claiming 5 GiB, a 64 MiB zero file (a gzip bomb), a 1 MiB long name.
    let tar_of =
        |name: &str, build: &dyn Fn(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>)| {
            let p = t.join(name);
            let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
                std::fs::File::create(&p).expect("create"),
                flate2::Compression::best(),
            ));
            build(&mut b);
            b.into_inner().expect("tar").finish().expect("gz");
            p
        };
    let huge = tar_of("huge.tar.gz", &|b| {
        let mut h = tar::Header::new_gnu();
        h.set_path("pkg/model.onnx").expect("path");
        h.set_size(5 << 30);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, std::io::empty()).ok();
    });
    let d = fresh("huge");
    let err = extract_archive(&huge, &d).expect_err("huge");
    assert!(
        err.to_string().contains("5368709120 bytes, more than the"),
        "{err}"
    );
    assert_eq!(files_under(&d), 0);
    let zeros = tar_of("zeros.tar.gz", &|b| {
        let mut h = tar::Header::new_gnu();
        h.set_size(64 << 20);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "pkg/model.onnx", std::io::repeat(0).take(64 << 20))
            .expect("append");
    });
    let d = fresh("zeros");
    let err = extract_archive(&zeros, &d).expect_err("gzip bomb");
    assert!(err.to_string().contains("archive bomb"), "{err}");
    assert_eq!(files_under(&d), 0);
    let longname = tar_of("long.tar.gz", &|b| {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().expect("gnu").name[..13].copy_from_slice(b"././@LongLink");
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(1 << 20);
        h.set_cksum();
        b.append(&h, std::io::repeat(b'a').take(1 << 20))
            .expect("append");
    });
    let err = extract_archive(&longname, &fresh("long")).expect_err("long name");
    assert!(
        err.to_string().contains("long-name block of 1048576 bytes"),
        "{err}"
    );
    // Verification of a bomb is a failed verification (exit 4), quickly.
    let key = SigningKey::generate();
    let v = verify_package(&bomb, &key.public_key(), &Progress::none()).expect("verify");
    assert!(!v.ok);
    assert!(v.problems[0].contains("archive bomb"), "{:?}", v.problems);
}

use std::io::Read as _;

mod support;
use support::root;

/// Runs `f` on a thread; fails the test if it takes longer than `secs` (a read of
/// `/dev/zero` would never end).
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("finished in time (a special file was read?)")
}

#[cfg(unix)]
#[test]
fn package_entries_linked_to_special_files_are_refused_unread() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key, None);
    for entry in ["model.sig", "package.json", "audit.jsonl"] {
        let saved = tmp.path().join("saved");
        std::fs::rename(pkg.join(entry), &saved).expect("mv");
        std::os::unix::fs::symlink("/dev/zero", pkg.join(entry)).expect("ln");
        let (p, k) = (pkg.clone(), key.public_key());
        let v = within(30, move || {
            verify_package(&p, &k, &Progress::none()).expect("verify")
        });
        assert!(!v.ok, "{entry}");
        let all = format!("{} {}", v.signature.message, v.problems.join(" "));
        assert!(all.contains("symbolic link"), "{entry}: {all}");
        std::fs::remove_file(pkg.join(entry)).expect("rm");
        std::fs::rename(&saved, pkg.join(entry)).expect("mv back");
    }
    let v = verify_package(&pkg, &key.public_key(), &Progress::none()).expect("verify");
    assert!(v.ok, "{:?}", v.problems);
}

#[test]
fn force_replaces_only_a_package() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let pkg = small_package(tmp.path(), &key, None);
    // Not a package: a folder of someone's files.
    let other = tmp.path().join("photos");
    std::fs::create_dir_all(&other).expect("mkdir");
    std::fs::write(other.join("holiday.jpg"), b"precious").expect("write");
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &other);
    req.force = true;
    let err = build_package(&req, &key, &Progress::none()).expect_err("not a package");
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(err.to_string().contains("is not an Assay package"), "{err}");
    assert_eq!(
        std::fs::read(other.join("holiday.jpg")).expect("kept"),
        b"precious"
    );
    // A folder with a package.json but no signature is not a package either.
    std::fs::write(other.join("package.json"), b"{}").expect("write");
    assert!(build_package(&req, &key, &Progress::none()).is_err());
    assert!(other.join("holiday.jpg").exists());
    // A package is replaced.
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &pkg);
    req.force = true;
    build_package(&req, &key, &Progress::none()).expect("replaces a package");
    // --out naming an archive is refused (no `x.zip/` folder next to `x.zip.zip`).
    let req = PackageRequest::new(
        root().join("sample_models/adult_logreg.onnx"),
        tmp.path().join("x.zip"),
    );
    let err = build_package(&req, &key, &Progress::none()).expect_err("archive name");
    assert!(
        err.to_string().contains("names the package folder"),
        "{err}"
    );
}

#[test]
fn stale_temporary_folders_of_dead_runs_are_removed() {
    let tmp = tempfile::tempdir().expect("tmp");
    // What a run killed by SIGTERM leaves: pid 999999999 is not running.
    let stale = tmp.path().join(".pkg.assay-tmp-999999999-1-0");
    std::fs::create_dir_all(stale.join("evidence")).expect("mkdir");
    let live = tmp
        .path()
        .join(format!(".pkg.assay-tmp-{}-1-0", std::process::id()));
    std::fs::create_dir_all(&live).expect("mkdir");
    let key = SigningKey::generate();
    small_package(tmp.path(), &key, None);
    assert!(!stale.exists(), "stale temp folder removed");
    assert!(live.exists(), "a running process's folder is kept");
    // A failed run leaves nothing behind.
    let mut req = PackageRequest::new(
        root().join("sample_models/adult_logreg.onnx"),
        tmp.path().join("p2"),
    );
    let bad_ev = tmp.path().join("bad.json");
    std::fs::write(&bad_ev, b"{not json").expect("write");
    req.evidence.push(("fairness".into(), bad_ev));
    assert!(build_package(&req, &key, &Progress::none()).is_err());
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".p2."))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

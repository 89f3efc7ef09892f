//! Issue 16, fuzzing (stable toolchain, seeded, fixed case counts): the signature bundle and
//! manifest reader and package verification (`package::sign`, `manifest`, `verify`), and the
//! archive reader (`package::archive` / `extract`), from a package signed in the test.
//!
//! Properties, for every case: no panic, a time bound and a memory cap (`fuzz_support`), and
//! - **verification never accepts a changed package**: when `verify` says ok, every file of
//!   the package is byte-identical to the signed one and none was added or removed, except
//!   `model.sig` itself, which may differ only where the signature format carries nothing
//!   signed (JSON layout, `tlogEntries`, `keyid`): its payload and signature decode to the
//!   signed ones (an accepted bundle can carry no other statement: ECDSA);
//! - a statement re-signed with the right key after a mutation (so the signature holds) is
//!   accepted only when the package is complete: every file present is listed once with its
//!   digest and the model named in `package.json` is among them;
//! - extraction with small limits writes nothing outside its folder, no link, no more files
//!   or bytes than the limits, whatever the archive says.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod fuzz_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assay::engine::hash::{sha256_bytes, sha256_file};
use assay::engine::package::archive::{
    extract_archive, extract_archive_with, write_archive, ArchiveLimits,
};
use assay::engine::package::keys::{PublicKey, SigningKey};
use assay::engine::package::manifest::list_files;
use assay::engine::package::sign::pae;
use assay::engine::package::{build_package, verify_package, ArchiveKind, PackageRequest};
use assay::engine::Progress;
use base64::Engine as _;
use fuzz_support::{
    cases, gunzip, gzip, mutate_json, mutate_stacked, mutate_tar, mutate_zip, rng, serial, Alloc,
    Runner,
};
use rand::Rng;
use rand_pcg::Pcg64;
use serde_json::{json, Value};

mod support;
use support::root;

#[global_allocator]
static ALLOC: Alloc = cap::Cap::new(std::alloc::System, usize::MAX);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A signed package of the logistic-regression sample with one evidence file and a note
/// (no ONNX Runtime needed), as a folder.
fn signed_package(dir: &Path, key: &SigningKey) -> PathBuf {
    let ev = dir.join("fairness-input.json");
    std::fs::write(&ev, br#"{"warnings": [], "groups": {"a": 1}}"#).expect("write");
    let out = dir.join("pkg");
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &out);
    req.evidence.push(("fairness".into(), ev));
    build_package(&req, key, &Progress::none()).expect("package builds");
    out
}

/// Every file under `dir` by POSIX path (links and special files are an error).
fn tree(dir: &Path) -> Option<BTreeMap<String, Vec<u8>>> {
    let files = list_files(dir, &[]).ok()?;
    files
        .into_iter()
        .map(|(name, path)| std::fs::read(path).ok().map(|b| (name, b)))
        .collect()
}

/// The signed parts of a bundle: (payload, signature) decoded.
fn signed_parts(bundle: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let v: Value = serde_json::from_slice(bundle).ok()?;
    let env = &v["dsseEnvelope"];
    let payload = B64.decode(env["payload"].as_str()?).ok()?;
    let sig = B64.decode(env["signatures"][0]["sig"].as_str()?).ok()?;
    Some((payload, sig))
}

fn git_path(name: &str) -> bool {
    let first = name.split('/').next().unwrap_or("");
    [".git", ".gitattributes", ".github", ".gitignore"].contains(&first)
}

/// The oracle: what `verify` accepted is the signed package (see the module docs).
fn assert_same_package(
    signed: &BTreeMap<String, Vec<u8>>,
    got: &BTreeMap<String, Vec<u8>>,
    label: &str,
) {
    let keys = |m: &BTreeMap<String, Vec<u8>>| -> Vec<String> {
        m.keys().filter(|k| !git_path(k)).cloned().collect()
    };
    assert_eq!(
        keys(signed),
        keys(got),
        "{label}: verify accepted a package with other files"
    );
    for (name, bytes) in signed {
        let other = &got[name];
        if name == "model.sig" {
            assert_eq!(
                signed_parts(bytes),
                signed_parts(other),
                "{label}: verify accepted a model.sig with another payload or signature"
            );
        } else {
            assert!(
                bytes == other,
                "{label}: verify accepted a changed '{name}'"
            );
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).expect("mkdir");
    for (name, path) in list_files(from, &[]).expect("list") {
        let dest = to.join(&name);
        std::fs::create_dir_all(dest.parent().unwrap()).expect("mkdir");
        std::fs::copy(path, dest).expect("copy");
    }
}

/// A keyless change to the package folder `dir`; returns what was done.
fn tamper_folder(rng: &mut Pcg64, dir: &Path, names: &[String]) -> String {
    let pick = |rng: &mut Pcg64| -> String {
        match rng.random_range(0..10u32) {
            0..=2 => "model.sig".into(),
            3 => "package.json".into(),
            4 => "audit.jsonl".into(),
            _ => names[rng.random_range(0..names.len())].clone(),
        }
    };
    match rng.random_range(0..12u32) {
        0..=6 => {
            let name = pick(rng);
            let p = dir.join(&name);
            let mut b = std::fs::read(&p).expect("read");
            let what = mutate_stacked(rng, &mut b);
            std::fs::write(&p, b).expect("write");
            format!("{name}: {what}")
        }
        7 => {
            let name = ["model.sig", "package.json"][rng.random_range(0..2usize)];
            let p = dir.join(name);
            let Ok(mut v) = serde_json::from_slice::<Value>(&std::fs::read(&p).expect("read"))
            else {
                return "not json".into();
            };
            let what = mutate_json(rng, &mut v);
            std::fs::write(&p, serde_json::to_vec(&v).expect("json")).expect("write");
            format!("{name}: {what}")
        }
        8 => {
            let name = [
                ".git/config",
                "extra.txt",
                "evidence/more.json",
                "model.onnx.bak",
                "deploy/x",
            ][rng.random_range(0..5usize)];
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).expect("mkdir");
            std::fs::write(&p, b"added").expect("write");
            format!("added {name}")
        }
        9 => {
            let name = pick(rng);
            std::fs::remove_file(dir.join(&name)).expect("rm");
            format!("removed {name}")
        }
        10 => {
            let name = pick(rng);
            let p = dir.join(&name);
            std::fs::remove_file(&p).expect("rm");
            let target = ["/dev/zero", "/dev/null", "package.json", "/etc/hostname"]
                [rng.random_range(0..4usize)];
            std::os::unix::fs::symlink(target, &p).expect("symlink");
            format!("{name} -> {target}")
        }
        _ => {
            // Two files swapped.
            let (a, b) = (pick(rng), pick(rng));
            let (pa, pb) = (dir.join(&a), dir.join(&b));
            let (ba, bb) = (
                std::fs::read(&pa).expect("read"),
                std::fs::read(&pb).expect("read"),
            );
            std::fs::write(&pa, bb).expect("write");
            std::fs::write(&pb, ba).expect("write");
            format!("swapped {a} and {b}")
        }
    }
}

#[test]
fn verification_never_accepts_a_changed_package_folder() {
    let _one = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let public = key.public_key();
    let pkg = signed_package(tmp.path(), &key);
    let signed = tree(&pkg).expect("tree");
    let names: Vec<String> = signed.keys().cloned().collect();
    assert!(
        verify_package(&pkg, &public, &Progress::none())
            .expect("verify")
            .ok
    );
    let other = SigningKey::generate().public_key();
    assert!(
        !verify_package(&pkg, &other, &Progress::none())
            .expect("verify")
            .ok
    );

    let mut rng = rng(3);
    let mut runner = Runner::new("package-folder", &ALLOC);
    let case_dir = tmp.path().join("case");
    for i in 0..cases(500) {
        copy_dir(&pkg, &case_dir);
        let what = tamper_folder(&mut rng, &case_dir, &names);
        if tree(&case_dir).as_ref() == Some(&signed) {
            continue; // the mutation changed nothing
        }
        let (dir, key) = (case_dir.clone(), public.clone());
        let verdict = runner.case(format!("folder #{i}: {what}"), move || {
            verify_package(&dir, &key, &Progress::none()).map(|v| (v.ok, v.problems))
        });
        match verdict {
            Ok((true, _)) => {
                let got = tree(&case_dir).expect("an accepted package has only regular files");
                assert_same_package(&signed, &got, &format!("folder #{i}: {what}"));
            }
            Ok((false, problems)) => assert!(
                !problems.is_empty(),
                "folder #{i}: {what}: invalid without a reason"
            ),
            Err(_) => {} // refused as unreadable (exit 2): not accepted
        }
    }
    runner.finish();
}

/// Signs `statement` over `dir` with `key` the way model_signing does.
fn sign_statement(dir: &Path, key: &SigningKey, statement: &Value) {
    use p256::pkcs8::DecodePrivateKey;
    let pem = key.to_pkcs8_pem(None).expect("pem");
    let sk = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).expect("key");
    let payload = serde_json::to_vec(statement).expect("json");
    let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&sk, &pae(&payload));
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": key.public_key().hint()}, "tlogEntries": []},
        "dsseEnvelope": {"payload": B64.encode(&payload), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": B64.encode(sig.to_der().as_bytes()), "keyid": ""}]}
    });
    std::fs::write(dir.join("model.sig"), bundle.to_string()).expect("write");
}

/// Whether a re-signed statement describes `dir` completely: every file present (but the
/// signature and git paths) listed once with its digest, the model `package.json` names
/// among them, and the subject digest over the listed digests.
fn statement_is_complete(dir: &Path, st: &Value) -> bool {
    let Some(resources) = st["predicate"]["resources"].as_array() else {
        return false;
    };
    let mut listed = BTreeMap::new();
    let mut raw = Vec::new();
    for r in resources {
        let (Some(n), Some(d)) = (r["name"].as_str(), r["digest"].as_str()) else {
            return false;
        };
        if listed
            .insert(n.to_string(), d.to_ascii_lowercase())
            .is_some()
        {
            return false;
        }
        match hex::decode(d) {
            Ok(b) => raw.extend(b),
            Err(_) => return false,
        }
    }
    if st["subject"][0]["digest"]["sha256"].as_str() != Some(sha256_bytes(&raw).as_str()) {
        return false;
    }
    let Ok(files) = list_files(dir, &[]) else {
        return false;
    };
    let present: BTreeMap<String, String> = files
        .into_iter()
        .filter(|(n, _)| n != "model.sig" && !git_path(n))
        .map(|(n, p)| (n, sha256_file(&p).expect("hash")))
        .collect();
    let contents: Value = std::fs::read(dir.join("package.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let model_listed = contents["model"]["file"]
        .as_str()
        .is_some_and(|m| listed.contains_key(m));
    present == listed && model_listed
}

#[test]
fn resigned_statements_are_accepted_only_for_complete_packages() {
    let _one = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let public = key.public_key();
    let pkg = signed_package(tmp.path(), &key);
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(pkg.join("model.sig")).expect("read")).expect("json");
    let payload = B64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("b64");
    let statement: Value = serde_json::from_slice(&payload).expect("statement");

    let mut rng = rng(4);
    let mut runner = Runner::new("resigned", &ALLOC);
    let case_dir = tmp.path().join("case");
    for i in 0..cases(150) {
        copy_dir(&pkg, &case_dir);
        let mut st = statement.clone();
        let mut what = Vec::new();
        for _ in 0..rng.random_range(1..=2) {
            what.push(mutate_json(&mut rng, &mut st));
        }
        if rng.random_bool(0.3) {
            what.push(tamper_folder(
                &mut rng,
                &case_dir,
                &["model.onnx".to_string()],
            ));
        }
        sign_statement(&case_dir, &key, &st);
        let what = what.join(", ");
        let (dir, k) = (case_dir.clone(), public.clone());
        let verdict = runner.case(format!("resigned #{i}: {what}"), move || {
            verify_package(&dir, &k, &Progress::none()).map(|v| v.ok)
        });
        if verdict.unwrap_or(false) {
            assert!(
                statement_is_complete(&case_dir, &st),
                "resigned #{i}: {what}: verify accepted an incomplete statement: {st}"
            );
        }
    }
    runner.finish();
}

/// Extraction with small limits: nothing outside `dest`, no link, limits held.
fn check_extraction(work: &Path, archive: &Path, limits: ArchiveLimits) {
    let dest = work.join("dest");
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::create_dir_all(&dest).expect("mkdir");
    let _ = extract_archive_with(archive, &dest, limits);
    let outside: Vec<String> = std::fs::read_dir(work)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "dest" && Some(n.as_str()) != archive.file_name().and_then(|f| f.to_str()))
        .collect();
    assert!(
        outside.is_empty(),
        "extraction wrote outside its folder: {outside:?}"
    );
    let (mut files, mut bytes) = (0usize, 0u64); // regular files, their bytes
    let mut stack = vec![dest];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list") {
            let e = e.expect("entry");
            let ft = e.file_type().expect("type");
            assert!(
                !ft.is_symlink(),
                "extraction made a link: {}",
                e.path().display()
            );
            if ft.is_dir() {
                stack.push(e.path());
            } else {
                assert!(ft.is_file(), "extraction made a special file");
                files += 1;
                bytes += e.metadata().expect("meta").len();
            }
        }
    }
    assert!(files <= limits.max_entries, "{files} files extracted");
    assert!(bytes <= limits.max_total_bytes, "{bytes} bytes extracted");
}

#[test]
fn archives_extract_within_limits_and_never_verify_changed() {
    let _one = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let public: PublicKey = key.public_key();
    let pkg = signed_package(tmp.path(), &key);
    let signed = tree(&pkg).expect("tree");
    let zip_path = tmp.path().join("pkg.zip");
    let tgz_path = tmp.path().join("pkg.tar.gz");
    write_archive(&pkg, "pkg", ArchiveKind::Zip, &zip_path).expect("zip");
    write_archive(&pkg, "pkg", ArchiveKind::TarGz, &tgz_path).expect("tar.gz");
    let zip = std::fs::read(&zip_path).expect("read");
    let tgz = std::fs::read(&tgz_path).expect("read");
    let tar = gunzip(&tgz);
    for p in [&zip_path, &tgz_path] {
        assert!(
            verify_package(p, &public, &Progress::none())
                .expect("verify")
                .ok
        );
    }
    let limits = ArchiveLimits {
        max_entries: 40,
        max_entry_bytes: 1 << 20,
        max_total_bytes: 4 << 20,
        max_ratio: 200,
        ratio_from_bytes: 64 << 10,
    };

    let mut rng = rng(5);
    let mut runner = Runner::new("archive", &ALLOC);
    let work = tmp.path().join("work");
    for i in 0..cases(400) {
        let zip_case = i % 2 == 0;
        let (bytes, what) = if zip_case {
            let mut b = zip.clone();
            let what = if rng.random_bool(0.5) {
                mutate_zip(&mut rng, &mut b)
            } else {
                mutate_stacked(&mut rng, &mut b)
            };
            (b, what)
        } else if rng.random_bool(0.7) {
            let mut t = tar.clone();
            let what = mutate_tar(&mut rng, &mut t);
            (gzip(&t), format!("tar {what}"))
        } else {
            let mut b = tgz.clone();
            let what = mutate_stacked(&mut rng, &mut b);
            (b, format!("gz {what}"))
        };
        if bytes == zip || bytes == tgz {
            continue;
        }
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).expect("mkdir");
        let archive = work.join(if zip_case { "pkg.zip" } else { "pkg.tar.gz" });
        std::fs::write(&archive, &bytes).expect("write");
        let label = format!("{} #{i}: {what}", if zip_case { "zip" } else { "tar.gz" });
        let (w, a, k) = (work.clone(), archive.clone(), public.clone());
        let accepted = runner.case(label.clone(), move || {
            check_extraction(&w, &a, limits);
            verify_package(&a, &k, &Progress::none()).is_ok_and(|v| v.ok)
        });
        if accepted {
            let out = work.join("accepted");
            std::fs::create_dir_all(&out).expect("mkdir");
            let root = extract_archive(&archive, &out).expect("an accepted archive extracts");
            let got = tree(&root).expect("tree");
            assert_same_package(&signed, &got, &label);
        }
    }
    runner.finish();
}

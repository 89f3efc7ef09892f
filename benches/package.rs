//! Signing and verification throughput: `cargo bench --bench package -- DIR [--repeats N]`.
//! Signs DIR with a fresh P-256 key (writing DIR/model.sig) and verifies it, N times each;
//! prints one JSON line with the medians. benches/package_compare.sh runs this next to
//! OpenSSF model_signing on the same folder.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests and benches may panic

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::package::keys::SigningKey;
use assay::engine::package::sign::{sign_directory, verify_directory};
use assay::engine::Progress;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut dir = None;
    let mut repeats = 5usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeats" => repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
            "--bench" => {}
            other => dir = Some(PathBuf::from(other)),
        }
    }
    let Some(dir) = dir else {
        // `cargo test --all-targets` runs benches once without arguments: nothing to measure.
        eprintln!("usage: cargo bench --bench package -- DIR [--repeats N]");
        return;
    };
    let key = SigningKey::generate();
    let public = key.public_key();
    let (mut sign_s, mut verify_s) = (Vec::new(), Vec::new());
    let mut files = 0;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let signed = sign_directory(&dir, "bench", &key, &Progress::none()).expect("sign");
        sign_s.push(t.elapsed().as_secs_f64());
        files = signed.files.len();
        let t = Instant::now();
        let check = verify_directory(&dir, &dir.join("model.sig"), &public, &Progress::none())
            .expect("verify");
        verify_s.push(t.elapsed().as_secs_f64());
        assert!(check.ok());
    }
    println!(
        "{{\"files\": {files}, \"sign_s\": {:.4}, \"verify_s\": {:.4}}}",
        median(sign_s),
        median(verify_s)
    );
}

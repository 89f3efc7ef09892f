//! Shared helpers for the tests that run the `assay` binary or read the repository's files
//! (no window: the kittest harness lives in `tests/common`).
#![allow(dead_code, clippy::expect_used)] // not every test uses every helper; setup may panic

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// The repository root (where `sample_models/`, `sample_data/` and `tests/fixtures/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the `assay` binary in the repository root and waits for it.
pub fn assay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("assay runs")
}

/// A process's stderr (or any bytes) as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// The JSON on stdout of a run that must have succeeded.
pub fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "assay failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// The JSON path of the first place two values differ, with both sides.
pub fn first_difference(a: &Value, b: &Value, at: String) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) if p == q => {}
                    (Some(p), Some(q)) => return first_difference(p, q, format!("{at}.{k}")),
                    (p, q) => return format!("{at}.{k}: {p:?} vs {q:?}"),
                }
            }
            at
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(p, q, format!("{at}[{i}]"));
                }
            }
            at
        }
        _ => format!("{at}: {a} vs {b}"),
    }
}

//! Issue 16, the bad-input corpus for the items without a test of their own elsewhere (see
//! the table in README "Limits" → "How the limits are tested"): external data resolved next
//! to the model (never the working directory) and bad references refused; every remaining
//! file argument (`--signoff`, `--audit`, `--card`, `--report`, `--evidence`) refuses special
//! files fast; high-cardinality fairness groupings refused before memory grows; a Parquet
//! footer claiming 4,294,967,294 rows refused from its metadata; ONNX Runtime leaves no
//! telemetry database in a fresh HOME; the unclear cases of item 11 (float32 range, duplicate
//! headers, drift with no shared column, one-group slicings, ONNX Runtime's own log line);
//! `make dist` fetches crates before reading metadata offline.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{root, stderr};

fn bad(p: &str) -> PathBuf {
    root().join("tests/fixtures/bad").join(p)
}

/// Runs assay in `cwd` with a time bound (a hang fails the test, not the suite).
fn assay_in(cwd: &Path, args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("assay starts");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("assay {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assay(args: &[&str]) -> Output {
    assay_in(&root(), args, Duration::from_secs(120))
}

/// Exit 2, one error line containing every needle, no panic, no terminal escapes.
fn usage_error(out: &Output, needles: &[&str]) {
    let e = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    for n in needles {
        assert!(e.contains(n), "expected '{n}' in: {e}");
    }
    assert!(!e.contains("panicked") && !e.contains('\u{1b}'), "{e}");
    assert_eq!(
        e.lines().filter(|l| l.contains("error")).count(),
        1,
        "one error line: {e}"
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const M: &str = "sample_models/adult_logreg.onnx";
const T: &str = "income_over_50k";

/// `clean.csv` with `edit(header, rows)` applied, written to `dir/name`.
fn edited_clean(
    dir: &Path,
    name: &str,
    edit: impl FnOnce(&mut Vec<String>, &mut Vec<Vec<String>>),
) -> PathBuf {
    let text = std::fs::read_to_string(bad("clean.csv")).unwrap();
    let mut lines = text.lines();
    let mut header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    let mut rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    edit(&mut header, &mut rows);
    let mut out = header.join(",") + "\n";
    for r in rows {
        out += &(r.join(",") + "\n");
    }
    let p = dir.join(name);
    std::fs::write(&p, out).unwrap();
    p
}

// Item 2 ---------------------------------------------------------------------------------

#[test]
fn external_data_is_read_next_to_the_model_never_the_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("m");
    let cwd = tmp.path().join("cwd");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    for f in ["model.onnx", "w.bin", "data.csv"] {
        std::fs::copy(bad(&format!("external/{f}")), m.join(f)).unwrap();
    }
    // Other weights named like the model's, in the working directory.
    std::fs::copy(bad("external/decoy_w.bin"), cwd.join("w.bin")).unwrap();
    let want: Value =
        serde_json::from_slice(&std::fs::read(bad("external/expected.json")).unwrap()).unwrap();
    for model in [s(&m.join("model.onnx")), "../m/model.onnx"] {
        let out = assay_in(
            &cwd,
            &[
                "evaluate",
                "--model",
                model,
                "--data",
                "../m/data.csv",
                "--target",
                "y",
                "--bootstrap",
                "0",
                "--json",
                "-",
            ],
            Duration::from_secs(120),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mae = got["metrics"]["mae"].as_f64().unwrap();
        let expected = want["mae"].as_f64().unwrap();
        assert!(
            (mae - expected).abs() <= 1e-9 * expected,
            "{model}: mae {mae}, expected {expected}"
        );
    }
    // Bad references: refused with one line naming the problem.
    for (file, needle) in [
        ("missing.onnx", "external data 'nope.bin'"),
        ("traversal.onnx", "'.' or '..' component"),
        ("memaddr.onnx", "memory-address tag"),
        ("past_end.onnx", "past the end of 'w.bin'"),
    ] {
        std::fs::copy(bad(&format!("external/{file}")), m.join(file)).unwrap();
        let out = assay_in(
            &cwd,
            &["inspect", "--model", s(&m.join(file))],
            Duration::from_secs(30),
        );
        usage_error(&out, &[file, needle]);
    }
}

// Item 3 ---------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn package_file_arguments_refuse_special_files_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.pem");
    let pem = assay::engine::package::keys::SigningKey::generate()
        .to_pkcs8_pem(None)
        .unwrap();
    std::fs::write(&key, pem).unwrap();
    let fifo = tmp.path().join("fifo.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let dir = tmp.path().join("folder");
    std::fs::create_dir_all(&dir).unwrap();
    let evidence = format!("fairness={}", s(&fifo));
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["--signoff", s(&fifo)],
            s(&fifo),
            "is a FIFO (named pipe)",
        ),
        (
            vec!["--audit", "/dev/zero"],
            "/dev/zero",
            "is a character device",
        ),
        (vec!["--card", s(&dir)], s(&dir), "is a directory"),
        (
            vec!["--report", "/dev/zero"],
            "/dev/zero",
            "is a character device",
        ),
        (
            vec!["--evidence", &evidence],
            s(&fifo),
            "is a FIFO (named pipe)",
        ),
    ];
    for (extra, path, kind) in cases {
        let out_dir = tmp.path().join("pkg");
        let mut args = vec![
            "package",
            "--model",
            M,
            "--key",
            s(&key),
            "--out",
            s(&out_dir),
        ];
        args.extend(extra.iter().copied());
        let t = Instant::now();
        let out = assay_in(&root(), &args, Duration::from_secs(30));
        usage_error(&out, &[path, kind, "must be a regular file"]);
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            t.elapsed()
        );
        assert!(!out_dir.exists(), "{args:?} left a package behind");
    }
}

// Item 6 ---------------------------------------------------------------------------------

#[test]
fn high_cardinality_groupings_are_refused_before_memory_grows() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("sample_data/adult_eval.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out += line;
        out += &if i == 0 {
            ",uid\n".to_string()
        } else {
            format!(",u{i}\n")
        };
    }
    let data = tmp.path().join("ids.csv");
    std::fs::write(&data, out).unwrap();
    let base = [
        "fairness",
        "--model",
        M,
        "--data",
        s(&data),
        "--target",
        T,
        "--sensitive",
        "uid",
    ];
    let t = Instant::now();
    let o = assay(&[&base[..], &["--bootstrap", "0"]].concat());
    usage_error(
        &o,
        &[
            "column 'uid' has 5000 groups (more than --max-groups 1000)",
            "bin it",
        ],
    );
    // Raising --max-groups still meets the groups × resamples budget.
    let o = assay(&[&base[..], &["--max-groups", "10000", "--bootstrap", "1000"]].concat());
    usage_error(
        &o,
        &[
            "5000 groups",
            "2000000 group replicates",
            "lower --bootstrap to 400",
        ],
    );
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

// Item 7 ---------------------------------------------------------------------------------

#[test]
fn parquet_claiming_four_billion_rows_is_refused_from_its_footer() {
    let p = bad("huge_rows.parquet");
    for args in [
        vec!["inspect", "--data", s(&p)],
        vec![
            "evaluate",
            "--model",
            M,
            "--data",
            s(&p),
            "--target",
            T,
            "--bootstrap",
            "0",
        ],
    ] {
        let t = Instant::now();
        let out = assay_in(&root(), &args, Duration::from_secs(60));
        usage_error(&out, &["huge_rows.parquet", "claims 4294967294 rows"]);
        assert!(!stderr(&out).contains("pip install"), "{}", stderr(&out));
        assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    }
}

// Item 9 ---------------------------------------------------------------------------------

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn onnx_runtime_leaves_no_telemetry_in_a_fresh_home() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "evaluate",
            "--model",
            M,
            "--data",
            "sample_data/adult_eval.csv",
            "--target",
            T,
            "--bootstrap",
            "0",
        ],
        vec![
            "evaluate",
            "--model",
            "sample_models/adult_gbdt_v1.onnx",
            "--data",
            "sample_data/adult_eval.csv",
            "--target",
            T,
            "--bootstrap",
            "0",
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(&args)
            .current_dir(root())
            .env("HOME", home.path())
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_DATA_HOME")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let left = files_under(home.path());
    assert!(
        !home.path().join(".cache/Microsoft").exists()
            && left.iter().all(|f| !f.ends_with("onnxruntime.db")),
        "ONNX Runtime wrote to the home folder: {left:?}"
    );
}

// Item 11 --------------------------------------------------------------------------------

#[test]
fn unclear_cases_get_clear_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let col = |h: &[String], name: &str| h.iter().position(|c| c == name).unwrap();
    // 1e39 in a float32 input: a range error naming file, column and row (not a silent inf).
    let huge = edited_clean(tmp.path(), "huge.csv", |h, rows| {
        let k = col(h, "capital_gain");
        rows[1][k] = "1e39".into();
    });
    let out = assay(&[
        "evaluate",
        "--model",
        M,
        "--data",
        s(&huge),
        "--target",
        T,
        "--bootstrap",
        "0",
    ]);
    usage_error(&out, &["huge.csv", "capital_gain", "row 2", "float32"]);
    // A repeated header name.
    let dup = edited_clean(tmp.path(), "dup.csv", |h, _| {
        let k = col(h, "education_num");
        h[k] = "age".into();
    });
    let out = assay(&["inspect", "--data", s(&dup)]);
    usage_error(&out, &["dup.csv", "repeats column name 'age' (2 times)"]);
    // Drift with no shared column says so, listing both sides.
    let other = tmp.path().join("other.csv");
    std::fs::write(&other, "p,q\n1,2\n3,4\n").unwrap();
    let out = assay(&[
        "drift",
        "--reference",
        s(&bad("clean.csv")),
        "--current",
        s(&other),
    ]);
    usage_error(
        &out,
        &[
            "no column to compare: the files share no column",
            "current: p, q",
        ],
    );
}

#[test]
fn a_one_group_slicing_is_not_applicable_not_a_pass() {
    let tmp = tempfile::tempdir().unwrap();
    let one = edited_clean(tmp.path(), "one.csv", |h, rows| {
        h.push("site".into());
        for r in rows.iter_mut() {
            r.push("A".into());
        }
    });
    let out = assay(&[
        "fairness",
        "--model",
        M,
        "--data",
        s(&one),
        "--target",
        T,
        "--sensitive",
        "site",
        "--bootstrap",
        "0",
        "--json",
        "-",
    ]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let slice = &v["slices"][0];
    let results: Vec<&str> = slice["policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert!(!results.is_empty());
    assert!(
        results.iter().all(|r| *r == "not_applicable"),
        "{results:?}"
    );
    assert!(
        slice["warnings"].to_string().contains("only one group"),
        "{}",
        slice["warnings"]
    );
}

/// A model our reader accepts but ONNX Runtime refuses (an op no domain defines): Assay
/// reports it in one line of its own, without ONNX Runtime's coloured log line.
#[test]
fn onnx_runtime_errors_arrive_in_one_plain_line() {
    use assay::engine::model::proto::{
        dimension, type_proto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
        TensorShapeProto, TypeProto, ValueInfoProto,
    };
    use prost::Message;
    let tensor = |name: &str| ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: vec![
                        Dimension {
                            value: Some(dimension::Value::DimParam("N".into())),
                        },
                        Dimension {
                            value: Some(dimension::Value::DimValue(1)),
                        },
                    ],
                }),
            })),
        }),
    };
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(GraphProto {
            node: vec![NodeProto {
                input: vec!["X".into()],
                output: vec!["y".into()],
                op_type: "NoSuchOp".into(),
                ..Default::default()
            }],
            name: "g".into(),
            input: vec![tensor("X")],
            output: vec![tensor("y")],
        }),
        ..Default::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("nosuchop.onnx");
    std::fs::write(&p, model.encode_to_vec()).unwrap();
    let data = bad("clean.csv");
    let out = assay(&[
        "evaluate",
        "--model",
        s(&p),
        "--data",
        s(&data),
        "--target",
        T,
        "--features",
        "age",
        "--bootstrap",
        "0",
    ]);
    let e = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{e}");
    assert!(e.contains("nosuchop.onnx") && e.contains("NoSuchOp"), "{e}");
    assert!(
        !e.contains('\u{1b}') && !e.contains("[E:onnxruntime") && !e.contains("[W:onnxruntime"),
        "ONNX Runtime's own log line: {e}"
    );
    assert_eq!(
        e.lines().filter(|l| l.contains("error")).count(),
        1,
        "one error line: {e}"
    );
}

// Item 12 --------------------------------------------------------------------------------

/// `make dist` on a clone where only `make run` ran: the licence script reads `cargo
/// metadata --offline`, which needs every crate of the graph (dev-dependencies included) in
/// the local registry, so it runs `cargo fetch --locked` first.
#[test]
fn dist_licence_script_fetches_crates_before_reading_metadata_offline() {
    let script = std::fs::read_to_string(root().join("dist/crate-licenses.py")).unwrap();
    let code: Vec<&str> = script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    let code = code.join("\n");
    let fetch = code
        .find("\"cargo\", \"fetch\"")
        .expect("the script runs cargo fetch");
    let offline = code
        .find("\"--offline\"")
        .expect("the script reads metadata offline");
    assert!(
        fetch < offline,
        "cargo fetch must run before cargo metadata --offline"
    );
    assert!(
        code[fetch..].contains("\"--locked\""),
        "the fetch is --locked"
    );
    // And the build script calls it (so `make dist` runs it).
    let build = std::fs::read_to_string(root().join("dist/build.sh")).unwrap();
    assert!(
        build.contains("crate-licenses.py"),
        "dist/build.sh runs the licence script"
    );
}

/// Protobuf wire-format rewrite: every length-delimited field whose payload is exactly
/// `from` becomes `to`, and the lengths of the messages around it are fixed up.
fn replace_field(msg: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn put(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = Vec::with_capacity(msg.len());
    let mut i = 0;
    while i < msg.len() {
        let start = i;
        let key = varint(msg, &mut i)?;
        match key & 7 {
            0 => {
                varint(msg, &mut i)?;
                out.extend_from_slice(&msg[start..i]);
            }
            1 | 5 => {
                i += if key & 7 == 1 { 8 } else { 4 };
                out.extend_from_slice(msg.get(start..i)?);
            }
            2 => {
                let len = varint(msg, &mut i)? as usize;
                let payload = msg.get(i..i + len)?;
                i += len;
                let new = if payload == from {
                    to.to_vec()
                } else if payload.windows(from.len()).any(|w| w == from) {
                    replace_field(payload, from, to).unwrap_or_else(|| payload.to_vec())
                } else {
                    payload.to_vec()
                };
                put(key, &mut out);
                put(new.len() as u64, &mut out);
                out.extend_from_slice(&new);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Scores that are not probabilities (a logistic regression with its sigmoid removed: raw
/// logits) are evaluated with a warning that Brier score, log loss and calibration assume
/// probabilities, instead of a silent Brier score in the hundreds.
#[test]
fn scores_outside_zero_one_are_flagged() {
    let bytes = std::fs::read(root().join(M)).unwrap();
    let raw = replace_field(&bytes, b"LOGISTIC", b"NONE").expect("rewrite");
    assert_ne!(raw, bytes);
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("logits.onnx");
    std::fs::write(&p, raw).unwrap();
    let data = bad("clean.csv");
    let out = assay(&[
        "evaluate",
        "--model",
        s(&p),
        "--data",
        s(&data),
        "--target",
        T,
        "--bootstrap",
        "0",
        "--json",
        "-",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let w = v["warnings"].to_string();
    assert!(
        w.contains("not probabilities") && w.contains("Brier score"),
        "{w}"
    );
}

/// Newlines and Markdown in a reviewer's name, role, conditions or notes stay inside their
/// line of the model card: no injected heading, section or link.
#[test]
fn card_text_from_users_cannot_inject_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.pem");
    let pem = assay::engine::package::keys::SigningKey::generate()
        .to_pkcs8_pem(None)
        .unwrap();
    std::fs::write(&key, pem).unwrap();
    let out_dir = tmp.path().join("pkg");
    let hostile = "Eve\n## Approved by the board\n[click](http://example.invalid)";
    let out = assay(&[
        "package",
        "--model",
        M,
        "--key",
        s(&key),
        "--out",
        s(&out_dir),
        "--reviewer",
        hostile,
        "--role",
        "lead\n# Title",
        "--decision",
        "approved",
        "--condition",
        "none\n---\n<script>x</script>",
        "--notes",
        "ok\n\n## Limits\n*all* fine",
        "--date",
        "2026-01-02",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let card = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    for line in card.lines() {
        for start in ["## Approved", "# Title", "## Limits"] {
            assert!(
                !line.trim_start().starts_with(start),
                "'{line}' was injected:\n{card}"
            );
        }
    }
    // The YAML front matter's two fences only.
    assert_eq!(
        card.lines().filter(|l| l.trim() == "---").count(),
        2,
        "{card}"
    );
    for injected in ["<script>", "[click](http"] {
        assert!(
            !card.contains(injected),
            "'{injected}' reached the card:\n{card}"
        );
    }
    assert!(
        card.contains("Eve ## Approved by the board \\[click\\](http://example.invalid)"),
        "{card}"
    );
}

// Item 10, by the workspace route ----------------------------------------------------------

/// A workspace file's settings reach the same engine calls as command-line values, so they
/// are held to the same limits when the file is loaded (found by `tests/fuzz_model.rs`).
#[test]
fn workspace_settings_outside_the_limits_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = |settings: &str| {
        let p = tmp.path().join("ws.assay.json");
        let model = root().join(M);
        let data = root().join("sample_data/adult_eval.csv");
        let text = format!(
            r#"{{"name": "w", "models": [{{"path": {model:?}, "label": "m"}}], "datasets": [{{"path": {data:?}}}],
               "roles": {{"target": "{T}"}}, "settings": {settings}}}"#
        );
        std::fs::write(&p, text).unwrap();
        p
    };
    let html = tmp.path().join("r.html");
    for (settings, needle) in [
        (
            r#"{"threshold": 0.5, "bootstrap": 18446744073709551615, "seed": 0}"#,
            "settings.bootstrap is 18446744073709551615; it must be at most 100000",
        ),
        (
            r#"{"threshold": 0.5, "bootstrap": 1000000000000, "seed": 0}"#,
            "settings.bootstrap",
        ),
        (
            r#"{"threshold": 7, "bootstrap": 0, "seed": 0}"#,
            "settings.threshold is 7; it must be in [0, 1]",
        ),
        (
            r#"{"threshold": 0.5, "bootstrap": 0, "seed": 0, "robustness_rows": 18446744073709551615}"#,
            "settings.robustness_rows",
        ),
        (
            r#"{"threshold": 0.5, "bootstrap": 0, "seed": 0, "explain": {"nsamples": 10000000000}}"#,
            "settings.explain.nsamples",
        ),
    ] {
        let p = ws(settings);
        let out = assay_in(
            &root(),
            &["report", "--workspace", s(&p), "--out", s(&html)],
            Duration::from_secs(60),
        );
        usage_error(&out, &["ws.assay.json", needle]);
        assert!(!html.exists());
    }
}

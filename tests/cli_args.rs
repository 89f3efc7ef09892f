//! The CLI's argument surface and file handling: range-checked counts are one-line usage
//! errors at parse time (exit 2, never a panic or an abort), file arguments must be regular
//! files (no hang on a FIFO, no 7 GB read of /dev/zero), outputs never replace special files
//! or symbolic links, and the shared flags exist where the engine's hints name them
//! (`compare --features / --model-features / --drop-invalid`, `explain` and `importance
//! --drop-invalid`), with numbers equal to the same run on the cleaned file.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on setup failures

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod support;
use support::{assay, json_of, root, stderr};

/// Runs assay with a time bound (a hang on a FIFO fails the test instead of the suite).
fn assay_bounded(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(args)
        .current_dir(root())
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

/// `compare`'s JSON, whatever the gate decided (exit 0 or 3).
fn compare_json(out: &Output) -> Value {
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "assay failed: {}",
        stderr(out)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Exit 2 with one `error:` line naming `needle`, and no panic.
fn usage_error(out: &Output, needle: &str) {
    let e = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains(needle), "expected '{needle}' in: {e}");
    assert!(!e.contains("panicked"), "{e}");
    assert_eq!(
        e.lines().filter(|l| l.contains("error")).count(),
        1,
        "one error line: {e}"
    );
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(ok.success());
}

const M: &str = "sample_models/adult_logreg.onnx";
const D: &str = "sample_data/adult_eval.csv";
const T: &str = "income_over_50k";
const MAX: &str = "18446744073709551615";

#[test]
fn huge_or_out_of_range_counts_are_usage_errors_at_parse_time() {
    let base = ["--model", M, "--data", D];
    let labelled = ["--model", M, "--data", D, "--target", T];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["evaluate", "--bootstrap", MAX], "--bootstrap"),
        (
            vec!["evaluate", "--bootstrap", "1000000000000"],
            "--bootstrap",
        ),
        (vec!["evaluate", "--threads", "100000"], "--threads"),
        (vec!["evaluate", "--threads", "0"], "--threads"),
        (vec!["evaluate", "--threshold", "1.5"], "--threshold"),
        (vec!["evaluate", "--threshold", "NaN"], "--threshold"),
        (
            vec!["fairness", "--sensitive", "sex", "--bootstrap", MAX],
            "--bootstrap",
        ),
        (
            vec!["fairness", "--sensitive", "sex", "--bins", "0"],
            "--bins",
        ),
        (
            vec!["fairness", "--sensitive", "sex", "--threshold=-0.1"],
            "--threshold",
        ),
        (vec!["slices", "--top", MAX], "--top"),
        (vec!["slices", "--min-size", "inf"], "--min-size"),
        (vec!["importance", "--repeats", MAX], "--repeats"),
        (vec!["importance", "--repeats", "0"], "--repeats"),
        (vec!["robustness", "--rows", MAX], "--rows"),
        (
            vec!["robustness", "--adversarial-rows", MAX],
            "--adversarial-rows",
        ),
        (
            vec!["robustness", "--noise-scales=0.1,-1"],
            "--noise-scales",
        ),
        (
            vec!["robustness", "--adversarial-bound", "inf"],
            "--adversarial-bound",
        ),
    ];
    for (extra, flag) in &cases {
        let mut args = vec![extra[0]];
        args.extend_from_slice(&labelled);
        args.extend_from_slice(&extra[1..]);
        usage_error(&assay(&args), flag);
    }
    let unlabelled: Vec<(Vec<&str>, &str)> = vec![
        (vec!["perf", "--calls", MAX], "--calls"),
        (vec!["perf", "--calls", "0"], "--calls"),
        (vec!["perf", "--warmup", MAX], "--warmup"),
        (vec!["perf", "--repeats", MAX], "--repeats"),
        (
            vec!["perf", "--batch-sizes", "1,1000000000000"],
            "--batch-sizes",
        ),
        (vec!["perf", "--threads", "1,2000"], "--threads"),
        (vec!["perf", "--rows-per-repeat", MAX], "--rows-per-repeat"),
        (vec!["explain", "--nsamples", MAX], "--nsamples"),
        (
            vec!["explain", "--background-size", MAX],
            "--background-size",
        ),
        (vec!["explain", "--threads", "5000"], "--threads"),
        (
            vec!["pdp", "--feature", "age", "--grid-resolution", MAX],
            "--grid-resolution",
        ),
        (
            vec!["pdp", "--feature", "age", "--grid-resolution", "1"],
            "--grid-resolution",
        ),
        (
            vec!["pdp", "--feature", "age", "--percentiles", "0.05,1.5"],
            "--percentiles",
        ),
    ];
    for (extra, flag) in &unlabelled {
        let mut args = vec![extra[0]];
        args.extend_from_slice(&base);
        args.extend_from_slice(&extra[1..]);
        usage_error(&assay(&args), flag);
    }
    let two = [
        "compare", "--model", M, "--model", M, "--data", D, "--target", T,
    ];
    for (extra, flag) in [
        (["--bootstrap", MAX], "--bootstrap"),
        (["--top", MAX], "--top"),
        (["--threads", "2000"], "--threads"),
    ] {
        let mut args = two.to_vec();
        args.extend_from_slice(&extra);
        usage_error(&assay(&args), flag);
    }
    let report = [
        "report", "--model", M, "--data", D, "--target", T, "--out", "x.html",
    ];
    for (extra, flag) in [
        (["--bootstrap", MAX], "--bootstrap"),
        (["--threshold", "2"], "--threshold"),
        (["--explain", MAX], "--explain"),
        (["--robustness", MAX], "--robustness"),
    ] {
        let mut args = report.to_vec();
        args.extend_from_slice(&extra);
        usage_error(&assay(&args), flag);
    }
    let pkg = ["package", "--model", M, "--key", "k.pem", "--out", "p"];
    for (extra, flag) in [
        (["--bootstrap", MAX], "--bootstrap"),
        (["--threshold", "7"], "--threshold"),
        (["--triton-max-batch", "0"], "--triton-max-batch"),
    ] {
        let mut args = pkg.to_vec();
        args.extend_from_slice(&extra);
        usage_error(&assay(&args), flag);
    }
    usage_error(
        &assay(&[
            "drift",
            "--reference",
            D,
            "--current",
            D,
            "--drift-share",
            "2",
        ]),
        "--drift-share",
    );
}

#[test]
fn special_files_as_inputs_are_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    let t = Instant::now();
    let out = assay_bounded(
        &["inspect", "--model", "/dev/zero"],
        Duration::from_secs(20),
    );
    usage_error(
        &out,
        "/dev/zero: is a character device; the model must be a regular file",
    );
    assert!(t.elapsed() < Duration::from_secs(10));

    let fifo = dir.path().join("policy.json");
    mkfifo(&fifo);
    let f = fifo.to_str().unwrap();
    let out = assay_bounded(
        &[
            "fairness",
            "--model",
            M,
            "--data",
            D,
            "--target",
            T,
            "--sensitive",
            "sex",
            "--policy",
            f,
        ],
        Duration::from_secs(20),
    );
    usage_error(
        &out,
        "is a FIFO (named pipe); the fairness policy must be a regular file",
    );

    let out = assay_bounded(
        &[
            "package",
            "--model",
            M,
            "--key",
            d,
            "--out",
            "unused-package",
        ],
        Duration::from_secs(20),
    );
    usage_error(
        &out,
        &format!("{d}: is a directory; the private key must be a regular file"),
    );

    let out = assay_bounded(&["verify", d, "--public-key", f], Duration::from_secs(20));
    usage_error(&out, "the public key must be a regular file");
    let out = assay_bounded(
        &[
            "compare", "--model", M, "--model", M, "--data", D, "--target", T, "--gate", d,
        ],
        Duration::from_secs(20),
    );
    usage_error(&out, "the promotion gate must be a regular file");
    let out = assay_bounded(
        &["report", "--workspace", "/dev/zero", "--out", "unused.html"],
        Duration::from_secs(20),
    );
    usage_error(&out, "the workspace must be a regular file");
    let out = assay_bounded(&["inspect", "--data", f], Duration::from_secs(20));
    usage_error(&out, "the dataset must be a regular file");
    let out = assay_bounded(
        &["drift", "--reference", D, "--current", "/dev/zero"],
        Duration::from_secs(20),
    );
    usage_error(
        &out,
        "/dev/zero: is a character device; the dataset must be",
    );
}

#[cfg(unix)]
#[test]
fn json_outputs_write_through_devices_fifos_and_links() {
    use std::os::unix::fs::FileTypeExt;
    let inspect = |json: &str| assay(&["inspect", "--model", M, "--json", json]);
    let expected = json_of(&assay(&["inspect", "--model", M, "--json", "-"]));

    // /dev/null stays a device (it used to be replaced by a regular file). Checked only when
    // it is one to begin with: another program on the machine may have replaced it already.
    let was_device = std::fs::symlink_metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device();
    let out = inspect("/dev/null");
    assert!(out.status.success(), "{}", stderr(&out));
    if was_device {
        let ft = std::fs::symlink_metadata("/dev/null").unwrap().file_type();
        assert!(ft.is_char_device());
    }
    // /dev/stdout: the JSON arrives on standard output.
    assert_eq!(json_of(&inspect("/dev/stdout")), expected);

    let dir = tempfile::tempdir().unwrap();
    // A FIFO: read by another thread; the command neither hangs nor replaces it.
    let fifo = dir.path().join("out.json");
    mkfifo(&fifo);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut s = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            s
        })
    };
    let out = assay_bounded(
        &["inspect", "--model", M, "--json", fifo.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert_eq!(got, expected);
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // A symbolic link to a regular file: the link stays, its target gets the JSON.
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = inspect(link.to_str().unwrap());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(got, expected);

    // A regular file is replaced atomically, and nothing else is left in the folder.
    let file = dir.path().join("model.json");
    let out = inspect(file.to_str().unwrap());
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(got, expected);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["link.json", "model.json", "out.json", "real.json"]);

    // A directory is refused with one line.
    usage_error(
        &inspect(dir.path().to_str().unwrap()),
        "is a directory; cannot write the JSON there",
    );
}

/// `adult_eval.csv` with a missing `age` in data row 3 (used by every adult model) and a
/// missing `workclass` in data row 8 (read only by the raw pipeline): the dirty file, the
/// same file without those two rows, and without row 3 only.
fn dirty_and_clean(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let text = std::fs::read_to_string(root().join(D)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (age, workclass) = (col("age"), col("workclass"));
    let blank = |line: &str, c: usize| {
        let mut cells: Vec<&str> = line.split(',').collect();
        cells[c] = "";
        cells.join(",")
    };
    lines[3] = blank(&lines[3], age);
    lines[8] = blank(&lines[8], workclass);
    let dirty = dir.join("dirty.csv");
    std::fs::write(&dirty, lines.join("\n") + "\n").unwrap();
    let without = |name: &str, skip: &[usize]| {
        let kept: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, l)| l.as_str())
            .collect();
        let p = dir.join(name);
        std::fs::write(&p, kept.join("\n") + "\n").unwrap();
        p
    };
    let clean = without("clean.csv", &[3, 8]);
    let clean_age = without("clean_age.csv", &[3]);
    (dirty, clean, clean_age)
}

/// 1-based clean row → 1-based dirty row (data rows `removed`, ascending, were removed).
fn dirty_row(clean: u64, removed: &[u64]) -> u64 {
    let mut r = clean;
    for &dropped in removed {
        if r >= dropped {
            r += 1;
        }
    }
    r
}

#[test]
fn compare_drop_invalid_is_the_comparison_of_the_cleaned_file() {
    let dir = tempfile::tempdir().unwrap();
    // Row 3 has no age: adult_logreg returns NaN for it and adult_pipeline_raw's int64 input
    // cannot hold it. Row 8 has no workclass: adult_pipeline_raw's text input gets "" (its
    // OneHotEncoder ignores it), so the row stays.
    let (dirty, _, clean) = dirty_and_clean(dir.path());
    let run = |data: &Path, extra: &[&str]| {
        let mut args = vec![
            "compare",
            "--model",
            M,
            "--model",
            "sample_models/adult_pipeline_raw.onnx",
            "--data",
            data.to_str().unwrap(),
            "--target",
            T,
            "--bootstrap",
            "50",
            "--threads",
            "1",
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        assay(&args)
    };
    // Without the flag: the row error names the flag, which now exists.
    let out = run(&dirty, &[]);
    usage_error(&out, "pass --drop-invalid");
    let a = compare_json(&run(&dirty, &["--drop-invalid"]));
    let b = compare_json(&run(&clean, &[]));
    assert_eq!(a["n"], b["n"]);
    assert_eq!(a["n"].as_u64(), Some(4999));
    for i in 0..2 {
        let (ma, mb) = (&a["models"][i], &b["models"][i]);
        assert_eq!(ma["metrics"], mb["metrics"], "model {i}");
        assert_eq!(ma["ci"], mb["ci"], "model {i}");
        assert_eq!(ma["data"]["rows"].as_u64(), Some(5000));
        assert_eq!(ma["data"]["rows_dropped"].as_u64(), Some(1));
    }
    assert_eq!(a["pairs"][0]["delta"], b["pairs"][0]["delta"]);
    assert_eq!(a["pairs"][0]["delta_ci"], b["pairs"][0]["delta_ci"]);
    assert_eq!(
        a["pairs"][0]["mcnemar_table"],
        b["pairs"][0]["mcnemar_table"]
    );
    let (ta, tb) = (
        a["pairs"][0]["top_disagreements"].as_array().unwrap(),
        b["pairs"][0]["top_disagreements"].as_array().unwrap(),
    );
    assert!(!ta.is_empty());
    assert_eq!(ta.len(), tb.len());
    for (x, y) in ta.iter().zip(tb) {
        assert_eq!(
            x["row"].as_u64(),
            Some(dirty_row(y["row"].as_u64().unwrap(), &[3]))
        );
        assert_eq!(x["score_a"], y["score_a"]);
        assert_eq!(x["score_b"], y["score_b"]);
    }
    let w = a["warnings"][0].as_str().unwrap();
    assert!(w.starts_with("dropped 1 of 5000 rows"), "{w}");
    assert!(w.contains("row 3, column 'age'"), "{w}");
    let passed = a["models"][1]["warnings"].to_string();
    assert!(passed.contains("'workclass' in 1 row"), "{passed}");
}

#[test]
fn compare_takes_common_and_per_model_features() {
    let base = [
        "compare", "--model", M, "--model", M, "--data", D, "--target", T,
    ];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(&["--bootstrap", "0", "--json", "-"]);
        args.extend_from_slice(extra);
        assay(&args)
    };
    let features = "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male";
    let plain = compare_json(&run(&[]));
    let given = compare_json(&run(&["--features", features]));
    assert_eq!(plain["models"][1]["metrics"], given["models"][1]["metrics"]);
    // --features reaches every model: a wrong column fails for the first one.
    let out = run(&[
        "--features",
        "age,nope,capital_gain,capital_loss,hours_per_week,sex_male",
    ]);
    usage_error(&out, "'nope'");
    // --model-features 2=… reaches the second model only: the same wrong list there fails,
    // a reordered list gives other numbers for model 2 and the same for model 1.
    let out = run(&[
        "--model-features",
        "2=age,nope,capital_gain,capital_loss,hours_per_week,sex_male",
    ]);
    usage_error(&out, "'nope'");
    let swapped = "education_num,age,capital_gain,capital_loss,hours_per_week,sex_male";
    let j = compare_json(&run(&["--model-features", &format!("2={swapped}")]));
    assert_eq!(j["models"][0]["metrics"], plain["models"][0]["metrics"]);
    assert_ne!(j["models"][1]["metrics"], plain["models"][1]["metrics"]);
    assert_eq!(
        j["models"][1]["features"].as_array().unwrap()[0],
        "education_num"
    );
    usage_error(&run(&["--model-features", "3=age"]), "no such model");
    usage_error(
        &run(&["--model-features", "2=age", "--model-features", "2=age"]),
        "model given twice",
    );
}

#[test]
fn explain_and_importance_drop_invalid_equal_the_cleaned_file() {
    let dir = tempfile::tempdir().unwrap();
    // adult_logreg reads `age` but not `workclass`: only data row 3 is invalid for it.
    let (dirty, _, clean) = dirty_and_clean(dir.path());
    let explain = |data: &Path, rows: &str, extra: &[&str]| {
        let mut args = vec![
            "explain",
            "--model",
            M,
            "--data",
            data.to_str().unwrap(),
            "--rows",
            rows,
            "--method",
            "exact",
            "--background-size",
            "30",
            "--threads",
            "1",
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        assay(&args)
    };
    usage_error(&explain(&dirty, "0..12", &[]), "pass --drop-invalid");
    // File rows 0..12 minus index 2 (data row 3) = rows 0..11 of the file without row 3.
    let a = json_of(&explain(&dirty, "0..12", &["--drop-invalid"]));
    let b = json_of(&explain(&clean, "0..11", &[]));
    assert_eq!(a["values"], b["values"]);
    assert_eq!(a["base_value"], b["base_value"]);
    let rows: Vec<u64> = a["row_indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(rows, [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Background: sampled from the kept rows, reported as file rows.
    let bg_a = a["background"]["row_indices"].as_array().unwrap();
    let bg_b = b["background"]["row_indices"].as_array().unwrap();
    assert_eq!(bg_a.len(), 30);
    for (x, y) in bg_a.iter().zip(bg_b) {
        assert_eq!(
            x.as_u64().unwrap() + 1,
            dirty_row(y.as_u64().unwrap() + 1, &[3])
        );
    }

    let importance = |data: &Path, extra: &[&str]| {
        let mut args = vec![
            "importance",
            "--model",
            M,
            "--data",
            data.to_str().unwrap(),
            "--target",
            T,
            "--threads",
            "1",
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        assay(&args)
    };
    usage_error(&importance(&dirty, &[]), "pass --drop-invalid");
    let a = json_of(&importance(&dirty, &["--drop-invalid"]));
    let b = json_of(&importance(&clean, &[]));
    assert_eq!(a["features"], b["features"]);
    assert_eq!(a["baseline_score"], b["baseline_score"]);
    assert_eq!(
        a["rows"].as_u64(),
        Some(4999),
        "only the age row is invalid for this model"
    );
    assert_eq!(a["rows_dropped"].as_u64(), Some(1));
}

#[test]
fn package_out_naming_an_archive_makes_one_folder_and_one_archive() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let out = assay(&["keygen", "--out", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let target = dir.path().join("pkg.zip");
    let out = assay(&[
        "package",
        "--model",
        M,
        "--key",
        key.to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
        "--zip",
        "--json",
        "-",
    ]);
    let j = json_of(&out);
    assert!(dir.path().join("pkg").is_dir());
    assert!(target.is_file());
    assert!(!dir.path().join("pkg.zip.zip").exists());
    assert_eq!(j["path"].as_str(), dir.path().join("pkg").to_str());
    assert_eq!(j["archive"].as_str(), target.to_str());
    let pubkey = dir.path().join("k.pub.pem");
    let v = assay(&[
        "verify",
        target.to_str().unwrap(),
        "--public-key",
        pubkey.to_str().unwrap(),
    ]);
    assert_eq!(v.status.code(), Some(0), "{}", stderr(&v));
    usage_error(
        &assay(&[
            "package",
            "--model",
            M,
            "--key",
            key.to_str().unwrap(),
            "--out",
            dir.path().join("other.zip").to_str().unwrap(),
            "--tar-gz",
        ]),
        "asks for the other kind",
    );
}

#[test]
fn robustness_drop_invalid_equals_the_cleaned_file() {
    let dir = tempfile::tempdir().unwrap();
    let (dirty, _, clean) = dirty_and_clean(dir.path());
    let run = |data: &Path, extra: &[&str]| {
        let mut args = vec![
            "robustness",
            "--model",
            M,
            "--data",
            data.to_str().unwrap(),
            "--target",
            T,
            "--rows",
            "120",
            "--adversarial-rows",
            "8",
            "--monotonic",
            "education_num:increasing",
            "--threads",
            "1",
            "--json",
            "-",
        ];
        args.extend_from_slice(extra);
        assay(&args)
    };
    usage_error(&run(&dirty, &[]), "pass --drop-invalid");
    let a = json_of(&run(&dirty, &["--drop-invalid"]));
    let b = json_of(&run(&clean, &[]));
    assert_eq!(a["perturbations"], b["perturbations"]);
    assert_eq!(a["baseline"], b["baseline"]);
    let rows = |j: &Value| -> Vec<u64> {
        j["sample_rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let mapped: Vec<u64> = rows(&b).into_iter().map(|r| dirty_row(r, &[3])).collect();
    assert_eq!(rows(&a), mapped);
    for (x, y) in a["adversarial"]["per_row"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["adversarial"]["per_row"].as_array().unwrap())
    {
        assert_eq!(
            x["row"].as_u64(),
            Some(dirty_row(y["row"].as_u64().unwrap(), &[3]))
        );
        assert_eq!(x["size_std"], y["size_std"]);
    }
    if let Some(w) = b["monotonic"][0]["worst"].as_object() {
        let r = w["row"].as_u64().unwrap();
        assert_eq!(
            a["monotonic"][0]["worst"]["row"].as_u64(),
            Some(dirty_row(r, &[3]))
        );
    }
    assert_eq!(a["data"]["rows_dropped"].as_u64(), Some(1));
    assert!(a["warnings"][0]
        .as_str()
        .unwrap()
        .starts_with("dropped 1 of 5000 rows"));
}

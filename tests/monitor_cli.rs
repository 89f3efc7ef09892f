//! `assay monitor` end to end: the JSON contract, `--fail-on-alert` (exit 3), bad input
//! (exit 2), and the real Prometheus: `promtool check metrics` / `check rules` on what Assay
//! writes, and a Prometheus server scraping `assay monitor --serve` on loopback, read back
//! through its HTTP query API. Without promtool/prometheus the Prometheus tests skip loudly,
//! except under CI (`CI` set), where they fail.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fx(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monitor")
        .join(name)
}

fn assay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assay"))
}

fn binary_args(cmd: &mut Command) -> &mut Command {
    cmd.arg("monitor")
        .arg("--reference")
        .arg(fx("car_loan_reference.parquet"))
        .arg("--analysis")
        .arg(fx("car_loan_analysis.parquet"))
        .args([
            "--target",
            "repaid",
            "--score",
            "y_pred_proba",
            "--prediction",
            "y_pred",
        ])
        .args([
            "--timestamp",
            "timestamp",
            "--id",
            "id",
            "--chunk-size",
            "5000",
        ])
        .arg("--analysis-target")
        .arg(fx("car_loan_analysis_target.parquet"))
}

fn tool(name: &str) -> Option<PathBuf> {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var_os("CI").is_some() {
        panic!("{name} is not installed; CI must install Debian's `prometheus` package (.ci/run)");
    }
    eprintln!("\n*** SKIPPED: {name} is not installed (apt-get install prometheus) ***\n");
    None
}

#[test]
fn json_contract_and_fail_on_alert() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("m.json");
    let out = binary_args(&mut assay())
        .arg("--json")
        .arg(&json)
        .arg("--fail-on-alert")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let chunks = v["chunks"].as_array().unwrap();
    assert_eq!(chunks.len(), 20);
    for key in [
        "index",
        "period",
        "start_index",
        "end_index",
        "start_time",
        "end_time",
        "rows",
        "estimated",
        "realized",
        "drift",
    ] {
        assert!(chunks[12].get(key).is_some(), "chunks[].{key}");
    }
    assert_eq!(chunks[12]["period"], "analysis");
    assert_eq!(chunks[12]["start_index"], 10000);
    assert_eq!(chunks[12]["end_index"], 14999);
    for f in [
        "value",
        "sampling_error",
        "lower_threshold",
        "upper_threshold",
        "alert",
    ] {
        assert!(
            chunks[12]["estimated"]["roc_auc"].get(f).is_some(),
            "estimated.roc_auc.{f}"
        );
        assert!(
            chunks[12]["realized"]["roc_auc"].get(f).is_some(),
            "realized.roc_auc.{f}"
        );
    }
    let drift = chunks[12]["drift"]["columns"].as_array().unwrap();
    assert!(drift.iter().any(|c| c["column"] == "car_value"));
    assert!(chunks[12]["drift"]["multivariate"]["value"]
        .as_f64()
        .is_some());
    let alerts = v["alerts"].as_array().unwrap();
    assert!(!alerts.is_empty());
    for a in alerts {
        assert!(a["chunk"].as_u64().is_some() && a["kind"].is_string() && a["value"].is_number());
        assert!(a["threshold"].is_number());
        assert!(a.get("metric").is_some() || a.get("column").is_some());
    }
    assert!(v["reference"]["thresholds"]["roc_auc"]["lower"].is_number());
    assert!(v["warnings"].is_array());
    // Never NaN: the file parses as strict JSON (checked above) and has no NaN token.
    assert!(!std::fs::read_to_string(&json).unwrap().contains("NaN"));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

fn bad(args: &[&str], dir: &Path, expect: &str) {
    let out = assay()
        .arg("monitor")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(expect),
        "{args:?}: expected '{expect}' in: {err}"
    );
}

#[test]
fn bad_input_exits_2_with_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut good = String::from("t,p,y,id\n");
    for i in 0..40 {
        good += &format!(
            "2024-01-{:02}T00:00:00Z,{},{},{i}\n",
            i % 28 + 1,
            (i % 10) as f64 / 10.0,
            i % 2
        );
    }
    let sorted: String = {
        let mut lines: Vec<&str> = good.lines().skip(1).collect();
        lines.sort();
        format!("t,p,y,id\n{}\n", lines.join("\n"))
    };
    write(d, "ref.csv", &sorted);
    write(d, "unsorted.csv", &good);
    write(d, "outside.csv", &sorted.replacen(",0.5,", ",1.5,", 1));
    write(d, "oneclass.csv", &sorted.replace(",1,", ",0,"));
    write(d, "labels.csv", "id,y\n900,1\n901,0\n");
    let base = ["--reference", "ref.csv", "--target", "y", "--score", "p"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v: Vec<&'static str> = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    bad(
        &with(&["--analysis", "ref.csv", "--chunk-period", "week"]),
        d,
        "--chunk-period needs a timestamp column",
    );
    bad(
        &with(&[
            "--analysis",
            "unsorted.csv",
            "--timestamp",
            "t",
            "--chunk-size",
            "5",
        ]),
        d,
        "unsorted.csv: column 't', row",
    );
    bad(
        &with(&["--analysis", "outside.csv", "--chunk-size", "5"]),
        d,
        "outside.csv: column 'p', row",
    );
    let mut one = vec![
        "--reference",
        "oneclass.csv",
        "--target",
        "y",
        "--score",
        "p",
    ];
    one.extend_from_slice(&["--analysis", "ref.csv", "--chunk-size", "5"]);
    bad(&one, d, "one class");
    bad(
        &[
            "--reference",
            "ref.csv",
            "--target",
            "nope",
            "--score",
            "p",
            "--analysis",
            "ref.csv",
        ],
        d,
        "no such label column",
    );
    bad(
        &with(&[
            "--analysis",
            "ref.csv",
            "--analysis-target",
            "labels.csv",
            "--id",
            "id",
            "--chunk-size",
            "5",
        ]),
        d,
        "no id joins",
    );
    // A port in use.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let serve = format!("127.0.0.1:{port}");
    let mut args = with(&["--analysis", "ref.csv", "--chunk-size", "5", "--serve"]);
    let leaked: &'static str = Box::leak(serve.into_boxed_str());
    args.push(leaked);
    bad(&args, d, "the port is in use");
}

#[test]
fn promtool_accepts_metrics_and_rules() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prom = dir.path().join("m.prom");
    let rules = dir.path().join("rules.yml");
    let graf = dir.path().join("dash.json");
    let out = binary_args(&mut assay())
        .arg("--prometheus")
        .arg(&prom)
        .arg("--alert-rules")
        .arg(&rules)
        .arg("--grafana")
        .arg(&graf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("assay_monitor_estimated{"));
    assert!(text.contains("metric=\"roc_auc\""));
    assert!(!text.contains("NaN"));
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "promtool check rules: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let dash: Value = serde_json::from_str(&std::fs::read_to_string(&graf).unwrap()).unwrap();
    assert!(dash["panels"].as_array().unwrap().len() >= 3);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn real_prometheus_scrapes_assay_monitor_serve() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (assay_port, prom_port) = (free_port(), free_port());
    let _server = Kill(
        binary_args(&mut assay())
            .arg("--no-drift")
            .arg("--serve")
            .arg(format!("127.0.0.1:{assay_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let metrics = loop {
        if let Some(b) = http_get(assay_port, "/metrics") {
            break b;
        }
        assert!(
            Instant::now() < deadline,
            "assay monitor --serve did not come up"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(metrics.contains("assay_monitor_latest_estimated{"));
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: assay\n    static_configs:\n      - targets: ['127.0.0.1:{assay_port}']\n"
        ),
    )
    .unwrap();
    let _prom = Kill(
        Command::new(prometheus)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let q = "/api/v1/query?query=assay_monitor_latest_estimated%7Bmetric%3D%22roc_auc%22%7D";
    let value = loop {
        if let Some(body) = http_get(prom_port, q) {
            if let Ok(v) = serde_json::from_str::<Value>(&body) {
                if let Some(r) = v["data"]["result"].as_array().and_then(|r| r.first()) {
                    break r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never returned the series"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // The value Prometheus stored is the one Assay served.
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("assay_monitor_latest_estimated{") && l.contains("metric=\"roc_auc\"")
        })
        .unwrap();
    let served: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (value - served).abs() <= 1e-12 * served.abs(),
        "{value} vs {served}"
    );
}

/// The value of the series `name{…}` in an exposition.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// `--serve` on a partitioned log with a `--where` window: a file appearing in a partition of
/// the window (a new partition, or a new file in one) is read at the next scrape; partitions outside it (here a broken file) never are.
#[test]
fn serve_rereads_a_partitioned_log_when_a_file_of_its_window_appears() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("log");
    let put = |rel: &str| {
        let p = lake.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::copy(fx("car_loan_analysis.parquet"), &p).unwrap();
    };
    put("month=2019-01/part-0.parquet");
    std::fs::create_dir_all(lake.join("month=2018-12")).unwrap();
    std::fs::write(lake.join("month=2018-12/part-0.parquet"), b"not parquet").unwrap();
    let port = free_port();
    let _server = Kill(
        assay()
            .arg("monitor")
            .arg("--reference")
            .arg(fx("car_loan_reference.parquet"))
            .arg("--analysis")
            .arg(&lake)
            .args(["--where", "month>=2019-01"])
            .args(["--target", "repaid", "--score", "y_pred_proba"])
            .args([
                "--prediction",
                "y_pred",
                "--chunk-size",
                "5000",
                "--no-drift",
            ])
            .arg("--serve")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let scrape_until = |want: f64| {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let rows = http_get(port, "/metrics").and_then(|m| gauge(&m, "assay_monitor_rows"));
            if rows == Some(want) {
                return;
            }
            assert!(Instant::now() < deadline, "rows {rows:?}, expected {want}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    scrape_until(50_000.0);
    // A new file in a partition folder that exists (the log folder itself does not change).
    put("month=2019-01/part-1.parquet");
    scrape_until(100_000.0);
    put("month=2019-02/part-0.parquet");
    scrape_until(150_000.0);
}

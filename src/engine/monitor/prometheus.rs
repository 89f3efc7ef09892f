//! Monitoring results for Prometheus and Grafana: the text exposition format (version 0.0.4,
//! for `/metrics` and node_exporter's textfile collector), alerting rules over those series,
//! and a Grafana dashboard.
//!
//! Series (gauges; labels `model`, `model_version`, `model_sha256` on every one):
//! per analysis chunk (`chunk` = NannyML's key, `chunk_end` = its last instant or row)
//! `assay_monitor_estimated`, `assay_monitor_estimated_sampling_error`,
//! `assay_monitor_realized`, `assay_monitor_alert{kind}`, `assay_monitor_drift{column}`,
//! `assay_monitor_drift_alert{column}`, `assay_monitor_reconstruction_error`; per metric the
//! `assay_monitor_lower_threshold` / `assay_monitor_upper_threshold`; the latest chunk's
//! values as `assay_monitor_latest_*` (what alert rules and dashboards read). Undefined values
//! are left out, never NaN.

use std::fmt::Write as _;
use std::path::Path;

use super::{Chunk, ChunkPeriod, MonitorReport};
use crate::engine::error::{EngineError, Result};

/// Identity labels of the monitored model.
#[derive(Debug, Clone, Default)]
pub struct ModelLabels {
    pub name: String,
    pub version: String,
    pub sha256: String,
}

impl ModelLabels {
    /// From the report's model, else from the log's file name.
    pub fn from_report(r: &MonitorReport, name: Option<&str>, version: Option<&str>) -> Self {
        let stem = r
            .analysis
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        ModelLabels {
            name: name
                .map(str::to_string)
                .or_else(|| r.model.as_ref().and_then(|m| m.name.clone()))
                .unwrap_or(stem),
            version: version
                .map(str::to_string)
                .or_else(|| r.model.as_ref().and_then(|m| m.version.clone()))
                .unwrap_or_default(),
            sha256: r
                .model
                .as_ref()
                .map(|m| m.sha256.clone())
                .unwrap_or_default(),
        }
    }
}

/// Escapes a label value (`\`, `"`, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Go's strconv-style float: shortest round-trip text.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(String, f64)>,
}

fn chunk_end(c: &Chunk) -> String {
    c.end_time
        .clone()
        .unwrap_or_else(|| format!("row {}", c.end_index))
}

/// The exposition text of a report.
pub fn exposition(r: &MonitorReport, m: &ModelLabels) -> String {
    let base = format!(
        "model=\"{}\",model_version=\"{}\",model_sha256=\"{}\"",
        esc(&m.name),
        esc(&m.version),
        esc(&m.sha256)
    );
    let fam = |name, help| Family {
        name,
        help,
        samples: Vec::new(),
    };
    let mut est = fam(
        "assay_monitor_estimated",
        "Performance estimated without labels (NannyML CBPE) per chunk of the log.",
    );
    let mut se = fam(
        "assay_monitor_estimated_sampling_error",
        "Sampling error of the estimate per chunk.",
    );
    let mut real = fam(
        "assay_monitor_realized",
        "Realized performance from the labels per chunk.",
    );
    let mut alert = fam(
        "assay_monitor_alert",
        "1 when the chunk's metric is outside its thresholds (kind: estimated or realized).",
    );
    let mut lo = fam(
        "assay_monitor_lower_threshold",
        "Lower alert threshold of the metric, from the reference chunks.",
    );
    let mut hi = fam(
        "assay_monitor_upper_threshold",
        "Upper alert threshold of the metric, from the reference chunks.",
    );
    let mut drift = fam(
        "assay_monitor_drift",
        "Drift statistic of the column in the chunk against the reference (p-value or distance).",
    );
    let mut dalert = fam(
        "assay_monitor_drift_alert",
        "1 when the column drifted in the chunk.",
    );
    let mut rec = fam(
        "assay_monitor_reconstruction_error",
        "Multivariate drift: mean PCA reconstruction error of the chunk.",
    );
    let mut l_est = fam(
        "assay_monitor_latest_estimated",
        "Estimated performance of the latest chunk.",
    );
    let mut l_real = fam(
        "assay_monitor_latest_realized",
        "Realized performance of the latest chunk with a value.",
    );
    let mut l_alert = fam(
        "assay_monitor_latest_alert",
        "1 when the latest chunk's metric is outside its thresholds.",
    );
    let mut l_drift = fam(
        "assay_monitor_latest_drift",
        "Drift statistic of the column in the latest chunk.",
    );
    let mut l_dalert = fam(
        "assay_monitor_latest_drift_alert",
        "1 when the column drifted in the latest chunk.",
    );
    let mut l_mv = fam(
        "assay_monitor_latest_multivariate_alert",
        "1 when the latest chunk's reconstruction error is outside its thresholds.",
    );
    let mut info = fam("assay_monitor_chunks", "Chunks of the log monitored.");
    let mut rows = fam("assay_monitor_rows", "Rows of the log monitored.");

    let analysis: Vec<&Chunk> = r
        .chunks
        .iter()
        .filter(|c| c.period == ChunkPeriod::Analysis)
        .collect();
    for c in &analysis {
        let cl = format!(
            "{base},chunk=\"{}\",chunk_end=\"{}\"",
            esc(&c.key),
            esc(&chunk_end(c))
        );
        for (name, v) in &c.estimated {
            if let Some(x) = v.value {
                est.samples.push((format!("{cl},metric=\"{name}\""), x));
                alert.samples.push((
                    format!("{cl},metric=\"{name}\",kind=\"estimated\""),
                    f64::from(u8::from(v.alert)),
                ));
            }
            if let Some(s) = v.sampling_error {
                se.samples.push((format!("{cl},metric=\"{name}\""), s));
            }
        }
        for (name, v) in &c.realized {
            if let Some(x) = v.value {
                real.samples.push((format!("{cl},metric=\"{name}\""), x));
                alert.samples.push((
                    format!("{cl},metric=\"{name}\",kind=\"realized\""),
                    f64::from(u8::from(v.alert)),
                ));
            }
        }
        if let Some(d) = &c.drift {
            for col in &d.columns {
                if let Some(v) = col.value {
                    drift
                        .samples
                        .push((format!("{cl},column=\"{}\"", esc(&col.column)), v));
                }
                dalert.samples.push((
                    format!("{cl},column=\"{}\"", esc(&col.column)),
                    f64::from(u8::from(col.drifted)),
                ));
            }
            if let Some(v) = d.multivariate.as_ref().and_then(|m| m.value) {
                rec.samples.push((cl.clone(), v));
            }
        }
    }
    for (name, t) in &r.reference.thresholds {
        if let Some(v) = t.lower {
            lo.samples.push((format!("{base},metric=\"{name}\""), v));
        }
        if let Some(v) = t.upper {
            hi.samples.push((format!("{base},metric=\"{name}\""), v));
        }
    }
    if let Some(last) = analysis.last() {
        for (name, v) in &last.estimated {
            if let Some(x) = v.value {
                l_est.samples.push((format!("{base},metric=\"{name}\""), x));
                l_alert.samples.push((
                    format!("{base},metric=\"{name}\",kind=\"estimated\""),
                    f64::from(u8::from(v.alert)),
                ));
            }
        }
        if let Some(d) = &last.drift {
            for col in &d.columns {
                if let Some(v) = col.value {
                    l_drift
                        .samples
                        .push((format!("{base},column=\"{}\"", esc(&col.column)), v));
                }
                l_dalert.samples.push((
                    format!("{base},column=\"{}\"", esc(&col.column)),
                    f64::from(u8::from(col.drifted)),
                ));
            }
            if let Some(mv) = &d.multivariate {
                l_mv.samples
                    .push((base.clone(), f64::from(u8::from(mv.alert))));
            }
        }
    }
    // Latest realized value per metric: the last chunk where it is defined.
    for name in &r.metrics {
        let found = analysis.iter().rev().find_map(|c| {
            c.realized
                .get(name)
                .and_then(|v| v.value.map(|x| (x, v.alert)))
        });
        if let Some((x, a)) = found {
            l_real
                .samples
                .push((format!("{base},metric=\"{name}\""), x));
            l_alert.samples.push((
                format!("{base},metric=\"{name}\",kind=\"realized\""),
                f64::from(u8::from(a)),
            ));
        }
    }
    info.samples.push((base.clone(), analysis.len() as f64));
    rows.samples.push((base.clone(), r.analysis.rows as f64));

    let mut out = String::new();
    for f in [
        est, se, real, alert, lo, hi, drift, dalert, rec, l_est, l_real, l_alert, l_drift,
        l_dalert, l_mv, info, rows,
    ] {
        if f.samples.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} gauge", f.name);
        for (labels, v) in &f.samples {
            let _ = writeln!(out, "{}{{{}}} {}", f.name, labels, num(*v));
        }
    }
    out
}

/// Writes `text` to `path` atomically (a temporary file in the same folder, then rename), as
/// node_exporter's textfile collector needs.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| EngineError::usage(format!("{}: cannot write: {e}", path.display())))
}

/// Prometheus alerting rules for the series above.
pub fn alert_rules(m: &ModelLabels) -> String {
    let sel = format!("model=\"{}\"", esc(&m.name));
    let rule = |alert: &str, expr: String, summary: &str, description: &str| {
        format!(
            "      - alert: {alert}\n        expr: {expr}\n        for: 0m\n        labels:\n          severity: warning\n        annotations:\n          summary: {}\n          description: {}\n",
            yaml_str(summary),
            yaml_str(description)
        )
    };
    let mut out = String::from("# Prometheus alerting rules written by `assay monitor --alert-rules`.\ngroups:\n  - name: assay-monitor\n    rules:\n");
    out += &rule(
        "AssayEstimatedPerformanceOutOfBounds",
        format!("max by (model, model_version, metric) (assay_monitor_latest_alert{{{sel},kind=\"estimated\"}}) == 1"),
        "Estimated {{ $labels.metric }} of {{ $labels.model }} is outside its thresholds",
        "CBPE's label-free estimate for the latest chunk of the prediction log left the band set on the reference chunks.",
    );
    out += &rule(
        "AssayRealizedPerformanceOutOfBounds",
        format!("max by (model, model_version, metric) (assay_monitor_latest_alert{{{sel},kind=\"realized\"}}) == 1"),
        "Realized {{ $labels.metric }} of {{ $labels.model }} is outside its thresholds",
        "The performance measured on the labels that arrived left the band set on the reference chunks.",
    );
    out += &rule(
        "AssayFeatureDrift",
        format!("max by (model, model_version, column) (assay_monitor_latest_drift_alert{{{sel}}}) == 1"),
        "Column {{ $labels.column }} drifted in the latest chunk for {{ $labels.model }}",
        "The column's distribution in the latest chunk differs from the reference (Evidently's default test and threshold).",
    );
    out += &rule(
        "AssayMultivariateDrift",
        format!("max by (model, model_version) (assay_monitor_latest_multivariate_alert{{{sel}}}) == 1"),
        "The joint feature distribution of {{ $labels.model }} changed",
        "PCA reconstruction error of the latest chunk is outside the band set on the reference chunks.",
    );
    out
}

fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A Grafana dashboard (JSON model, Prometheus data source chosen at import): estimated vs
/// realized performance with the threshold band, drift per column as a heat map, and the
/// firing alerts.
pub fn grafana_dashboard(m: &ModelLabels, metrics: &[String]) -> Result<String> {
    use serde_json::json;
    let sel = format!("model=\"{}\"", esc(&m.name));
    let ds = json!({"type": "prometheus", "uid": "${DS_PROMETHEUS}"});
    let mut panels = Vec::new();
    let mut y = 0;
    for (i, metric) in metrics.iter().enumerate() {
        let q = |expr: String, legend: &str, refid: &str| json!({"datasource": ds, "expr": expr, "legendFormat": legend, "refId": refid});
        panels.push(json!({
            "type": "timeseries",
            "title": format!("{metric}: estimated vs realized"),
            "datasource": ds,
            "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": y},
            "targets": [
                q(format!("assay_monitor_latest_estimated{{{sel},metric=\"{metric}\"}}"), "estimated", "A"),
                q(format!("assay_monitor_latest_realized{{{sel},metric=\"{metric}\"}}"), "realized", "B"),
                q(format!("assay_monitor_lower_threshold{{{sel},metric=\"{metric}\"}}"), "lower threshold", "C"),
                q(format!("assay_monitor_upper_threshold{{{sel},metric=\"{metric}\"}}"), "upper threshold", "D"),
            ],
            "fieldConfig": {
                "defaults": {"custom": {"fillOpacity": 0}},
                "overrides": [
                    {"matcher": {"id": "byName", "options": "lower threshold"},
                     "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                                    {"id": "custom.fillBelowTo", "value": "upper threshold"},
                                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]},
                    {"matcher": {"id": "byName", "options": "upper threshold"},
                     "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                                    {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}
                ]
            }
        }));
        if i % 2 == 1 {
            y += 8;
        }
    }
    if metrics.len() % 2 == 1 {
        y += 8;
    }
    panels.push(json!({
        "type": "heatmap",
        "title": "Drift per column and chunk (1 = drifted)",
        "datasource": ds,
        "gridPos": {"h": 10, "w": 24, "x": 0, "y": y},
        "targets": [{"datasource": ds, "expr": format!("assay_monitor_drift_alert{{{sel}}}"),
                     "legendFormat": "{{column}}", "format": "time_series", "instant": true, "refId": "A"}],
        "options": {"calculate": false, "yAxis": {"axisPlacement": "left"}, "cellValues": {"unit": "none"}}
    }));
    panels.push(json!({
        "type": "table",
        "title": "Firing alerts (latest chunk)",
        "datasource": ds,
        "gridPos": {"h": 8, "w": 24, "x": 0, "y": y + 10},
        "targets": [
            {"datasource": ds, "expr": format!("assay_monitor_latest_alert{{{sel}}} == 1"), "format": "table", "instant": true, "refId": "A"},
            {"datasource": ds, "expr": format!("assay_monitor_latest_drift_alert{{{sel}}} == 1"), "format": "table", "instant": true, "refId": "B"}
        ]
    }));
    let dash = json!({
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource", "pluginId": "prometheus"}],
        "title": format!("Assay monitor: {}", m.name),
        "uid": format!("assay-monitor-{}", m.name.chars().filter(char::is_ascii_alphanumeric).take(24).collect::<String>()),
        "tags": ["assay", "model-monitoring"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "1m",
        "time": {"from": "now-7d", "to": "now"},
        "panels": panels
    });
    serde_json::to_string_pretty(&dash)
        .map_err(|e| EngineError::internal(format!("dashboard JSON: {e}")))
}

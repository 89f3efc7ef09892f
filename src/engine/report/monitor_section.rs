//! Monitoring section: the prediction log against its reference, chunk by chunk — per
//! metric a line chart of the estimated (CBPE, no labels) and realized performance with the
//! threshold band and the alerting chunks marked, a per-chunk table, the alerts and the
//! columns that drifted most in the alerting chunks.

use super::eval_section::{figure, file_name};
use super::html::{count, fmt, Html};
use super::svg::{extent, Chart};
use super::MAX_TABLE_ROWS;
use crate::engine::monitor::{AlertKind, Chunk, ChunkPeriod, MonitorReport};

const W: f64 = 500.0;
const H: f64 = 230.0;

/// The metric names of the report for people.
fn metric_name(m: &str) -> String {
    match m {
        "roc_auc" => "ROC AUC".into(),
        other => other.replace('_', " "),
    }
}

/// The analysis chunks' alert count.
pub fn alert_chunks(r: &MonitorReport) -> usize {
    let mut chunks: Vec<usize> = r.alerts.iter().map(|a| a.chunk).collect();
    chunks.sort_unstable();
    chunks.dedup();
    chunks.len()
}

fn when(c: &Chunk) -> String {
    c.span_label()
}

pub(crate) fn render(h: &mut Html, r: &MonitorReport, model: Option<&str>) {
    h.raw("<section id=\"monitoring\">")
        .el("h2", "", "Monitoring");
    let who = model.map_or_else(String::new, |m| format!("{m}: "));
    h.el(
        "p",
        "sub",
        &format!(
            "{who}log {} ({} rows in {} chunks, {} labelled) against reference {} ({} rows in {} chunks). Estimated: CBPE without labels (as NannyML 0.13.1); realized: where the log has labels. Thresholds: from the reference chunks.",
            file_name(&r.analysis.path),
            count(r.analysis.rows),
            r.analysis.chunks,
            count(r.analysis.labelled_rows),
            file_name(&r.reference.path),
            count(r.reference.rows),
            r.reference.chunks
        ),
    );
    let n_alerts = r.alerts.len();
    h.raw("<p>");
    if n_alerts == 0 {
        h.badge("pass", "no alerts");
        h.text(" every log chunk is inside the thresholds.");
    } else {
        h.badge("fail", &format!("{n_alerts} alerts"));
        h.text(&format!(
            " in {} of {} log chunks.",
            alert_chunks(r),
            r.analysis.chunks
        ));
    }
    h.raw("</p>");
    for w in &r.warnings {
        h.el("p", "warn", &format!("Warning: {w}"));
    }
    h.raw("<div class=\"charts\">");
    for m in &r.metrics {
        figure(
            h,
            &metric_chart(r, m),
            &format!(
                "{}: estimated (blue) and realized (orange) per chunk; shaded: the thresholds; red dots: alerts; dashed line: where the log starts.",
                metric_name(m)
            ),
        );
    }
    h.raw("</div>");
    chunk_table(h, r);
    alert_table(h, r);
    h.close("section");
}

fn metric_chart(r: &MonitorReport, m: &str) -> String {
    let n = r.chunks.len();
    let est: Vec<f64> = r
        .chunks
        .iter()
        .map(|c| c.estimated.get(m).and_then(|v| v.value).unwrap_or(f64::NAN))
        .collect();
    let real: Vec<f64> = r
        .chunks
        .iter()
        .map(|c| c.realized.get(m).and_then(|v| v.value).unwrap_or(f64::NAN))
        .collect();
    let th = r.reference.thresholds.get(m);
    let (lo_t, hi_t) = (th.and_then(|t| t.lower), th.and_then(|t| t.upper));
    let (lo, hi) = extent(
        est.iter()
            .chain(&real)
            .copied()
            .chain(lo_t)
            .chain(hi_t)
            .filter(|v| v.is_finite()),
    );
    let pad = ((hi - lo) * 0.08).max(1e-3);
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut ch = Chart::new(
        W,
        H,
        (-0.5, n as f64 - 0.5),
        (lo - pad, hi + pad),
        &format!("{} per chunk", metric_name(m)),
    );
    ch.title(&metric_name(m));
    if let (Some(a), Some(b)) = (lo_t, hi_t) {
        ch.rect(
            (-0.5, n as f64 - 0.5),
            (a, b),
            "band",
            &format!("thresholds {} – {}", fmt(Some(a)), fmt(Some(b))),
        );
    }
    for t in [lo_t, hi_t].into_iter().flatten() {
        ch.seg((-0.5, t), (n as f64 - 0.5, t), "ref");
    }
    ch.axes("chunk", &metric_name(m), 8, 4);
    if let Some(first) = r
        .chunks
        .iter()
        .position(|c| c.period == ChunkPeriod::Analysis)
    {
        let x = first as f64 - 0.5;
        ch.seg((x, lo - pad), (x, hi + pad), "diag");
    }
    ch.line(&xs, &est, "l0", "estimated");
    ch.line(&xs, &real, "l1", "realized");
    for (i, c) in r.chunks.iter().enumerate() {
        for (v, kind) in [(est[i], "estimated"), (real[i], "realized")] {
            let alert = match kind {
                "estimated" => c.estimated.get(m).is_some_and(|x| x.alert),
                _ => c.realized.get(m).is_some_and(|x| x.alert),
            };
            let class = match (alert, kind) {
                (true, _) => "al",
                (false, "estimated") => "f0",
                _ => "f1",
            };
            ch.dot(
                i as f64,
                v,
                if alert { 3.5 } else { 2.0 },
                class,
                &format!("{} ({}): {kind} {}", c.key, when(c), fmt(Some(v))),
            );
        }
    }
    ch.finish()
}

fn chunk_table(h: &mut Html, r: &MonitorReport) {
    let shown: Vec<&String> = ["roc_auc", "accuracy"]
        .iter()
        .filter_map(|k| r.metrics.iter().find(|m| m == k))
        .chain(r.metrics.iter())
        .fold(Vec::new(), |mut v, m| {
            if !v.contains(&m) && v.len() < 2 {
                v.push(m);
            }
            v
        });
    h.el("h3", "", "Log chunks");
    let mut head: Vec<String> = vec!["chunk".into(), "time".into(), "rows".into()];
    for m in &shown {
        head.push(format!("{} estimated", metric_name(m)));
        head.push(format!("{} realized", metric_name(m)));
    }
    head.push("drifted columns".into());
    head.push("alerts".into());
    let refs: Vec<&str> = head.iter().map(String::as_str).collect();
    h.raw("<table class=\"compact\">")
        .head_row(&refs)
        .raw("<tbody>");
    let chunks: Vec<&Chunk> = r
        .chunks
        .iter()
        .filter(|c| c.period == ChunkPeriod::Analysis)
        .collect();
    for c in chunks.iter().take(MAX_TABLE_ROWS) {
        let alerts = r.alerts.iter().filter(|a| a.chunk == c.index).count();
        h.raw(if alerts > 0 {
            "<tr class=\"hl\">"
        } else {
            "<tr>"
        })
        .td(&c.key)
        .td(&when(c))
        .raw(&format!("<td class=\"n\">{}</td>", count(c.rows)));
        for m in &shown {
            h.num(c.estimated.get(*m).and_then(|v| v.value));
            h.num(c.realized.get(*m).and_then(|v| v.value));
        }
        let drifted: Vec<&str> = c
            .drift
            .as_ref()
            .map(|d| {
                d.columns
                    .iter()
                    .filter(|x| x.drifted)
                    .map(|x| x.column.as_str())
                    .collect()
            })
            .unwrap_or_default();
        h.td(&if drifted.len() > 4 {
            format!("{} and {} more", drifted[..4].join(", "), drifted.len() - 4)
        } else {
            drifted.join(", ")
        });
        h.raw(&format!("<td class=\"n\">{alerts}</td></tr>"));
    }
    h.more_row(
        chunks.len().saturating_sub(MAX_TABLE_ROWS),
        head.len(),
        "chunks",
    );
    h.raw("</tbody></table>");
}

fn alert_table(h: &mut Html, r: &MonitorReport) {
    if r.alerts.is_empty() {
        return;
    }
    h.el("h3", "", "Alerts");
    h.raw("<table class=\"compact\">")
        .head_row(&[
            "chunk",
            "time",
            "kind",
            "metric / column",
            "value",
            "threshold",
        ])
        .raw("<tbody>");
    for a in r.alerts.iter().take(MAX_TABLE_ROWS) {
        let c = r.chunks.get(a.chunk);
        let kind = match a.kind {
            AlertKind::Estimated => "estimated",
            AlertKind::Realized => "realized",
            AlertKind::Drift => "drift",
            AlertKind::Multivariate => "multivariate",
        };
        let what = a
            .metric
            .as_deref()
            .map(metric_name)
            .or_else(|| a.column.clone())
            .unwrap_or_else(|| "reconstruction error".into());
        h.raw("<tr>")
            .td(c.map_or("", |c| c.key.as_str()))
            .td(&c.map(when).unwrap_or_default())
            .td(kind)
            .td(&what)
            .num(Some(a.value))
            .num(Some(a.threshold))
            .raw("</tr>");
    }
    h.more_row(r.alerts.len().saturating_sub(MAX_TABLE_ROWS), 6, "alerts");
    h.raw("</tbody></table>");
}

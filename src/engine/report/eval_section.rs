//! Evaluation section of one model: metrics with intervals (notes beside them), ROC, PR,
//! calibration, confusion matrix and score histogram (classification), or a binned
//! predicted-vs-actual heat map and the residual histogram (regression).

use std::fmt::Write;

use super::html::{count, exact, fmt, Html};
use super::notes::Finding;
use super::svg::{extent, heat, rebin, Chart};
use super::{Ctx, MAX_CURVE_POINTS};
use crate::engine::evaluate::Evaluation;
use crate::engine::metrics::curves::{Calibration, PrCurve, Residuals, RocCurve, ScoreHistogram};
use crate::engine::metrics::thin_indices;

const W: f64 = 320.0;
const H: f64 = 260.0;

/// Thins parallel arrays to at most [`MAX_CURVE_POINTS`] points (first and last kept).
pub(crate) fn thin(xs: &[f64], ys: &[f64]) -> (Vec<f64>, Vec<f64>) {
    match thin_indices(xs.len().min(ys.len()), MAX_CURVE_POINTS) {
        Some(idx) => (
            idx.iter().map(|&i| xs[i]).collect(),
            idx.iter().map(|&i| ys[i]).collect(),
        ),
        None => (xs.to_vec(), ys.to_vec()),
    }
}

pub(crate) fn render(h: &mut Html, index: usize, label: &str, e: &Evaluation, ctx: &Ctx) {
    let _ = write!(h.out, "<section id=\"evaluation-{index}\">");
    h.el("h2", "", &format!("Evaluation — {label}"));
    let task = super::task_name(e.task);
    let mut sub = format!(
        "{task} on {} rows of {}",
        count(e.n),
        file_name(&e.data.path)
    );
    if let (Some(pc), Some(t)) = (&e.positive_class, e.threshold) {
        sub.push_str(&format!(" · positive class {pc} · threshold {t}"));
    }
    if e.bootstrap.resamples > 0 {
        sub.push_str(&format!(
            " · {:.0}% percentile bootstrap intervals ({} resamples, seed {})",
            e.bootstrap.confidence * 100.0,
            e.bootstrap.resamples,
            e.bootstrap.seed
        ));
    }
    h.el("p", "sub", &sub);
    h.raw("<table>")
        .head_row(&["metric", "value", "interval", "notes"])
        .raw("<tbody>");
    let mut findings = Vec::new();
    for (name, v) in &e.metrics.0 {
        let f = Finding::Metric {
            model: label.to_string(),
            metric: (*name).to_string(),
        };
        let mark = ctx.marker(&f);
        h.raw(if mark.is_empty() {
            "<tr>"
        } else {
            "<tr class=\"hl\">"
        });
        h.td(name).num(*v).ci(e.ci.get(*name).copied());
        h.raw("<td>").raw(&mark).raw("</td></tr>");
        findings.push(f);
    }
    h.raw("</tbody></table>");
    ctx.place(h, &findings, &format!("Evaluation — {label}"));
    for w in &e.warnings {
        h.el("p", "warn", &format!("Warning: {w}"));
    }
    h.raw("<div class=\"charts\">");
    let c = &e.curves;
    if let Some(roc) = &c.roc {
        figure(
            h,
            &roc_chart(&[("", roc)], e.metrics.get("roc_auc")),
            "ROC curve; dashed: chance.",
        );
    }
    if !c.roc_per_class.is_empty() {
        let list: Vec<(&str, &RocCurve)> = c
            .roc_per_class
            .iter()
            .take(5)
            .map(|(n, r)| (n.as_str(), r))
            .collect();
        let more = c.roc_per_class.len().saturating_sub(5);
        let cap = if more > 0 {
            format!("One-vs-rest ROC of the first 5 classes ({more} more not drawn).")
        } else {
            "One-vs-rest ROC per class.".into()
        };
        figure(h, &roc_chart(&list, None), &cap);
    }
    if let Some(pr) = &c.precision_recall {
        figure(
            h,
            &pr_chart(pr, e.metrics.get("average_precision")),
            "Precision–recall curve.",
        );
    }
    if let Some(cal) = &c.calibration {
        figure(
            h,
            &calibration_chart(cal),
            "Calibration: observed rate per score bin (dot area ∝ rows); dashed: perfect.",
        );
    }
    if let (Some(cm), Some(classes)) = (&e.confusion_matrix, &e.classes) {
        figure(
            h,
            &confusion_chart(cm, classes),
            "Confusion matrix: rows true, columns predicted; share of the true class in brackets.",
        );
    }
    if let Some(sh) = &c.score_histogram {
        figure(
            h,
            &score_chart(sh),
            "Scores by true class (blue: positive, orange: negative).",
        );
    }
    if let Some(r) = &c.residuals {
        figure(
            h,
            &scatter_heat(r),
            &if r.sampled {
                format!("Predicted vs actual, binned 2-D histogram of an even sample of {} rows; dashed: y = x.", count(r.y_true.len()))
            } else {
                "Predicted vs actual, binned 2-D histogram; dashed: y = x.".into()
            },
        );
        figure(h, &residual_chart(r), "Residuals (predicted − actual).");
    }
    h.raw("</div></section>");
}

pub(crate) fn file_name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

pub(crate) fn figure(h: &mut Html, svg: &str, caption: &str) {
    h.raw("<figure>")
        .raw(svg)
        .el("figcaption", "", caption)
        .raw("</figure>");
}

fn roc_chart(curves: &[(&str, &RocCurve)], auc: Option<f64>) -> String {
    let mut ch = Chart::new(W, H, (0.0, 1.0), (0.0, 1.0), "ROC curve");
    ch.title(&match auc {
        Some(a) => format!("ROC (AUC {})", fmt(Some(a))),
        None => "ROC".into(),
    });
    ch.axes("false positive rate", "true positive rate", 5, 5);
    ch.seg((0.0, 0.0), (1.0, 1.0), "diag");
    for (i, (name, roc)) in curves.iter().enumerate() {
        let (x, y) = thin(&roc.fpr, &roc.tpr);
        let tip = if name.is_empty() {
            format!("ROC AUC {}", exact(auc))
        } else {
            format!("class {name}")
        };
        ch.line(&x, &y, &format!("l{}", i % 5), &tip);
        if !name.is_empty() {
            ch.text_px(
                W - 14.0,
                H - 44.0 - 13.0 * i as f64,
                "end",
                &format!("t{}", i % 5),
                name,
            );
        }
    }
    ch.finish()
}

fn pr_chart(pr: &PrCurve, ap: Option<f64>) -> String {
    let mut ch = Chart::new(W, H, (0.0, 1.0), (0.0, 1.0), "Precision-recall curve");
    ch.title(&match ap {
        Some(a) => format!("Precision–recall (AP {})", fmt(Some(a))),
        None => "Precision–recall".into(),
    });
    ch.axes("recall", "precision", 5, 5);
    let (x, y) = thin(&pr.recall, &pr.precision);
    ch.line(&x, &y, "l0", &format!("average precision {}", exact(ap)));
    ch.finish()
}

fn calibration_chart(c: &Calibration) -> String {
    let mut ch = Chart::new(W, H, (0.0, 1.0), (0.0, 1.0), "Calibration");
    ch.title(&format!("Calibration (ECE {})", fmt(Some(c.ece))));
    ch.axes("mean predicted probability", "observed positive rate", 5, 5);
    ch.seg((0.0, 0.0), (1.0, 1.0), "diag");
    ch.line(&c.prob_pred, &c.prob_true, "l0", "");
    let max = c.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    for ((p, t), n) in c.prob_pred.iter().zip(&c.prob_true).zip(&c.counts) {
        let r = 2.0 + 5.0 * (*n as f64 / max).sqrt();
        ch.dot(
            *p,
            *t,
            r,
            "f0",
            &format!("predicted {p}, observed {t}, {n} rows"),
        );
    }
    ch.finish()
}

fn confusion_chart(cm: &[Vec<u64>], classes: &[String]) -> String {
    let k = cm.len().min(20);
    let size = if k <= 2 { 260.0 } else { 320.0 };
    let mut ch = Chart::new(
        size + 40.0,
        size,
        (0.0, k as f64),
        (k as f64, 0.0),
        "Confusion matrix",
    );
    ch.title(&format!(
        "Confusion matrix{}",
        if cm.len() > k {
            " (first 20 classes)"
        } else {
            ""
        }
    ));
    for (i, row) in cm.iter().take(k).enumerate() {
        let total: u64 = row.iter().sum();
        for (j, &v) in row.iter().take(k).enumerate() {
            let share = if total > 0 {
                v as f64 / total as f64
            } else {
                0.0
            };
            let (fill, dark) = heat(share);
            let tip = format!(
                "true {}, predicted {}: {v} rows ({:.4}% of the true class)",
                classes.get(i).map_or("?", String::as_str),
                classes.get(j).map_or("?", String::as_str),
                share * 100.0
            );
            ch.cell(
                (j as f64, j as f64 + 1.0),
                (i as f64, i as f64 + 1.0),
                &fill,
                &tip,
            );
            if k <= 6 {
                let cls = if dark { "cell-t lt" } else { "cell-t" };
                ch.text(
                    j as f64 + 0.5,
                    i as f64 + 0.5,
                    "middle",
                    cls,
                    &count(v as usize),
                );
                ch.text(
                    j as f64 + 0.5,
                    i as f64 + 0.72,
                    "middle",
                    if dark { "lt" } else { "" },
                    &format!("({:.1}%)", share * 100.0),
                );
            }
        }
    }
    for (i, c) in classes.iter().take(k).enumerate() {
        let short: String = c.chars().take(10).collect();
        ch.text(i as f64 + 0.5, k as f64 + 0.12, "middle", "", &short);
        let py = ch.y.map(i as f64 + 0.5) + 4.0;
        ch.text_px(ch.x.px0 - 4.0, py, "end", "", &short);
    }
    ch.text_px(
        (ch.x.px0 + ch.x.px1) / 2.0,
        size - 4.0,
        "middle",
        "",
        "predicted",
    );
    ch.finish()
}

fn score_chart(sh: &ScoreHistogram) -> String {
    let max = sh
        .positives
        .iter()
        .chain(&sh.negatives)
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut ch = Chart::new(W, H, (0.0, 1.0), (0.0, max * 1.05), "Score distribution");
    ch.title("Score distribution");
    ch.axes("score (probability of the positive class)", "rows", 5, 4);
    for (i, w) in sh.edges.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        let mid = (a + b) / 2.0;
        let neg = sh.negatives.get(i).copied().unwrap_or(0);
        let pos = sh.positives.get(i).copied().unwrap_or(0);
        ch.rect(
            (a, mid),
            (0.0, neg as f64),
            "f1",
            &format!("[{a}, {b}): {neg} negatives"),
        );
        ch.rect(
            (mid, b),
            (0.0, pos as f64),
            "f0",
            &format!("[{a}, {b}): {pos} positives"),
        );
    }
    ch.finish()
}

fn residual_chart(r: &Residuals) -> String {
    let (edges, counts) = rebin(&r.histogram.edges, &r.histogram.counts, 40);
    let (lo, hi) = extent(edges.iter().copied());
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut ch = Chart::new(W, H, (lo, hi), (0.0, max * 1.05), "Residual histogram");
    ch.title("Residuals");
    ch.axes("predicted − actual", "rows", 4, 4);
    for (i, w) in edges.windows(2).enumerate() {
        let n = counts.get(i).copied().unwrap_or(0);
        ch.rect(
            (w[0], w[1]),
            (0.0, n as f64),
            "f0",
            &format!("[{}, {}): {n} rows", w[0], w[1]),
        );
    }
    if lo < 0.0 && hi > 0.0 {
        ch.seg((0.0, 0.0), (0.0, max * 1.05), "ref");
    }
    ch.finish()
}

/// Predicted vs actual as a 30 × 30 grid of counts (never one mark per row).
fn scatter_heat(r: &Residuals) -> String {
    const G: usize = 30;
    let (lo, hi) = extent(r.y_true.iter().chain(&r.y_pred).copied());
    let width = (hi - lo) / G as f64;
    let mut grid = vec![0u64; G * G];
    for (t, p) in r.y_true.iter().zip(&r.y_pred) {
        if t.is_finite() && p.is_finite() {
            let i = (((t - lo) / width) as usize).min(G - 1);
            let j = (((p - lo) / width) as usize).min(G - 1);
            grid[j * G + i] += 1;
        }
    }
    let max = grid.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut ch = Chart::new(W, H + 20.0, (lo, hi), (lo, hi), "Predicted vs actual");
    ch.title("Predicted vs actual");
    ch.axes("actual", "predicted", 4, 4);
    for (k, &n) in grid.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let (i, j) = (k % G, k / G);
        let x0 = lo + width * i as f64;
        let y0 = lo + width * j as f64;
        let (fill, _) = heat(0.15 + 0.85 * (n as f64 / max).sqrt());
        let tip = format!(
            "actual [{x0:.4}, {:.4}), predicted [{y0:.4}, {:.4}): {n} rows",
            x0 + width,
            y0 + width
        );
        ch.cell((x0, x0 + width), (y0, y0 + width), &fill, &tip);
    }
    ch.seg((lo, lo), (hi, hi), "diag");
    ch.finish()
}

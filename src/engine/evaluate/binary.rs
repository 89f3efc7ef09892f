//! The binary part of [`super::evaluate`]: metrics, curves and intervals of one positive
//! class's scores (kept as the model gave them) and the labels.

use super::{EvalOptions, Evaluation, RowOutputs};
use crate::engine::error::{EngineError, Result};
use crate::engine::metrics::binary::{Confusion, RowPart};
use crate::engine::metrics::curves::{self, ClfCurve, RocCurve};
use crate::engine::metrics::sorted::{self, SortedBinary};
use crate::engine::metrics::{binary, bootstrap, order_desc, split, thin_indices, Metrics, Score};
use crate::engine::progress::Stage;
use crate::engine::Warning;

pub(super) fn thin_roc(roc: &mut RocCurve, max: usize) -> bool {
    match thin_indices(roc.fpr.len(), max) {
        Some(idx) => {
            roc.fpr = idx.iter().map(|&i| roc.fpr[i]).collect();
            roc.tpr = idx.iter().map(|&i| roc.tpr[i]).collect();
            roc.thresholds = idx.iter().map(|&i| roc.thresholds[i]).collect();
            true
        }
        None => false,
    }
}

/// The binary metrics, curves and intervals of labels `y` (positive = true) and the positive
/// class's scores; with `keep_rows`, also the per-row outcomes. With intervals, the rows are
/// dropped once sorted for them: the memory of a run peaks at 9 bytes a row (`f32` scores,
/// the labels and the sort order, which becomes the sorted rows); without, at 5 (the scores
/// are sorted in place, split by label, [`split`]).
pub(super) fn binary_eval<S: Score>(
    eval: &mut Evaluation,
    y: Vec<bool>,
    score: Vec<S>,
    opts: &EvalOptions,
    boot: &Stage,
    warnings: &mut Vec<Warning>,
    keep_rows: bool,
) -> Result<Option<RowOutputs>> {
    let rows = keep_rows.then(|| RowOutputs::Binary {
        y: y.clone(),
        score: score.iter().map(|&s| s.into()).collect(),
    });
    eval.threshold = Some(opts.threshold);
    if opts.bootstrap.resamples == 0 {
        // No intervals: no sort order of the rows is needed (see `metrics::split`).
        let part = RowPart::of(&y, &score, opts.threshold, None);
        eval.curves.calibration = Some(curves::calibration(&y, &score, 10));
        eval.curves.score_histogram = Some(curves::score_histogram(&y, &score, 20));
        let clf = split::clf_curve(y, score);
        let (auc, ap) = split::ranking(&clf);
        let (m, c) = part.metrics(auc, ap);
        set_metrics(eval, m, &c);
        eval.curves.threshold_sweep = Some(split::threshold_sweep(&clf, 100));
        set_curves(eval, &clf, opts);
        return Ok(rows);
    }
    let order = order_desc(&score);
    let (y, score) = (y.as_slice(), score);
    let (m, c) = binary::metrics(y, &score, &order, opts.threshold, None);
    set_metrics(eval, m, &c);
    let clf = curves::binary_clf_curve(y, &score, &order);
    set_curves(eval, &clf, opts);
    eval.curves.calibration = Some(curves::calibration(y, &score, 10));
    eval.curves.threshold_sweep = Some(curves::threshold_sweep(y, &score, &order, 100));
    eval.curves.score_histogram = Some(curves::score_histogram(y, &score, 20));
    let n = y.len();
    let (ci, w) = if n < sorted::MAX_ROWS {
        let sorted = SortedBinary::from_order(y, &score, order, opts.threshold)
            .ok_or_else(|| EngineError::internal("too many rows to sort"))?;
        drop(score);
        bootstrap::intervals_blocked(n, &opts.bootstrap, boot, |b| sorted.metrics_block(b))?
    } else {
        bootstrap::intervals(n, &opts.bootstrap, boot, |d| {
            binary::metrics(y, &score, &order, opts.threshold, Some(&d.weights(n))).0
        })?
    };
    eval.ci = ci;
    warnings.extend(w.into_iter().map(Warning::undefined));
    Ok(rows)
}

fn set_metrics(eval: &mut Evaluation, m: Metrics, c: &Confusion) {
    eval.metrics = m;
    eval.confusion_matrix = Some(vec![
        vec![c.tn as u64, c.fp as u64],
        vec![c.fn_ as u64, c.tp as u64],
    ]);
}

/// ROC and precision-recall curves, thinned to `opts.max_curve_points`.
fn set_curves(eval: &mut Evaluation, clf: &ClfCurve, opts: &EvalOptions) {
    let mut roc = curves::roc_curve(clf, true);
    let mut pr = curves::pr_curve(clf);
    let mut thinned = thin_roc(&mut roc, opts.max_curve_points);
    if let Some(idx) = thin_indices(pr.precision.len(), opts.max_curve_points) {
        // thresholds has one element fewer than precision/recall.
        pr.thresholds = idx
            .iter()
            .filter(|&&i| i < pr.thresholds.len())
            .map(|&i| pr.thresholds[i])
            .collect();
        pr.precision = idx.iter().map(|&i| pr.precision[i]).collect();
        pr.recall = idx.iter().map(|&i| pr.recall[i]).collect();
        thinned = true;
    }
    eval.curves.roc = Some(roc);
    eval.curves.precision_recall = Some(pr);
    eval.curves.thinned = thinned;
}

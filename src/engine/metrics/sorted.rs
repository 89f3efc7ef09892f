//! Binary outcomes sorted once by descending score, so that every binary metric under any row
//! weights (a bootstrap replicate) comes from one sequential pass of weighted cumulative sums:
//! ROC AUC and average precision over tie groups, the confusion counts at the threshold (a
//! prefix of the sorted rows), log loss and Brier score (per-row terms computed once).
//!
//! Same definitions as [`super::binary::metrics`] with weights (tested equal to it); used for
//! bootstrap replicates, where the weights come from a [`Draw`] and are never materialised.

use super::binary::{row_log_loss, Confusion};
use super::bootstrap::{Draw, DrawBlock, BLOCK};
use super::{Metrics, Score};

/// Rows in descending score order with what each metric needs per row.
#[derive(Debug, Clone)]
pub struct SortedBinary {
    /// Original row index (for the row's draw count) in the low 31 bits; label in the top bit.
    row: Vec<u32>,
    /// Exclusive end of each group of tied scores, in sorted order.
    group_end: Vec<u32>,
    /// Log loss and squared error of the positive probability, per row or per group.
    terms: Terms,
    /// Number of leading sorted rows predicted positive (scores `>= threshold`; scores are
    /// finite, so they are a prefix).
    cut: usize,
}

/// A row's log loss and squared error depend only on its score and label: with many tied
/// scores they are kept once per group of ties (`[negative row, positive row]`, 32 bytes a
/// group), else once per row (16 bytes a row). Either way a row's terms are the same numbers.
#[derive(Debug, Clone)]
enum Terms {
    Group {
        log_loss: Vec<[f64; 2]>,
        squared: Vec<[f64; 2]>,
    },
    Row {
        log_loss: Vec<f64>,
        squared: Vec<f64>,
    },
}

const LABEL: u32 = 1 << 31;

/// [`SortedBinary`] takes fewer rows than this.
pub const MAX_ROWS: usize = LABEL as usize;

/// Log loss and squared error of a row with label `y` and positive probability `s`.
#[inline]
fn terms(y: bool, s: f64) -> (f64, f64) {
    let d = f64::from(u8::from(y)) - s;
    (row_log_loss(y, s), d * d)
}

impl SortedBinary {
    /// `order` sorts `score` descending ([`super::order_desc`]); rows with `score >= threshold`
    /// are predicted positive. `None` when there are [`MAX_ROWS`] rows or more.
    pub fn new<S: Score>(y: &[bool], score: &[S], order: &[u32], threshold: f64) -> Option<Self> {
        Self::from_order(y, score, order.to_vec(), threshold)
    }

    /// [`SortedBinary::new`] reusing `order`'s memory for the sorted rows.
    pub fn from_order<S: Score>(
        y: &[bool],
        score: &[S],
        mut order: Vec<u32>,
        threshold: f64,
    ) -> Option<Self> {
        let n = order.len();
        if n >= MAX_ROWS {
            return None;
        }
        let at = |k: usize| -> f64 { score[order[k] as usize].into() };
        let mut group_end = Vec::new();
        for k in 0..n {
            // Tied scores are on the same side of the threshold, so the predicted-positive
            // rows (a prefix) end at a group's end.
            if k + 1 == n || at(k + 1) != at(k) {
                group_end.push(k as u32 + 1);
            }
        }
        let cut = order.partition_point(|&i| score[i as usize].into() >= threshold);
        let terms = if group_end.len() * 2 <= n {
            let (mut log_loss, mut squared) = (Vec::new(), Vec::new());
            let mut start = 0usize;
            for &end in &group_end {
                let s = at(start);
                let ((ln, sn), (lp, sp)) = (terms(false, s), terms(true, s));
                log_loss.push([ln, lp]);
                squared.push([sn, sp]);
                start = end as usize;
            }
            Terms::Group { log_loss, squared }
        } else {
            let (mut log_loss, mut squared) = (Vec::with_capacity(n), Vec::with_capacity(n));
            for &i in &order {
                let (l, q) = terms(y[i as usize], score[i as usize].into());
                log_loss.push(l);
                squared.push(q);
            }
            Terms::Row { log_loss, squared }
        };
        for i in order.iter_mut() {
            if y[*i as usize] {
                *i |= LABEL;
            }
        }
        Some(Self {
            row: order,
            group_end,
            terms,
            cut,
        })
    }

    pub fn len(&self) -> usize {
        self.row.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// All binary metrics (in [`super::binary::NAMES`] order) with each row weighted by its
    /// count in `draw`, at `threshold` (the one given to [`SortedBinary::new`]).
    pub fn metrics(&self, draw: &Draw) -> Metrics {
        self.metrics_with(|i| draw.weight(i))
    }

    /// [`SortedBinary::metrics`] under each replicate of `block`, in one pass over the rows
    /// (the same numbers as one replicate at a time).
    pub fn metrics_block(&self, block: &DrawBlock) -> [Metrics; BLOCK] {
        self.pass(|i| block.weights(i))
    }

    /// [`SortedBinary::metrics`] with the weight of original row `i` given by `weight(i)`.
    pub fn metrics_with(&self, weight: impl Fn(usize) -> u32) -> Metrics {
        let [m] = self.pass(|i| [weight(i)]);
        m
    }

    /// The metrics under `K` weightings at once: `weights(i)` gives original row `i`'s weight
    /// in each. Each weighting's sums are formed in the same order as alone.
    fn pass<const K: usize>(&self, weights: impl Fn(usize) -> [u32; K]) -> [Metrics; K] {
        match &self.terms {
            Terms::Group { log_loss, squared } => self.pass_with(weights, |_, g, positive| {
                let p = usize::from(positive);
                (log_loss[g][p], squared[g][p])
            }),
            Terms::Row { log_loss, squared } => {
                self.pass_with(weights, |k, _, _| (log_loss[k], squared[k]))
            }
        }
    }

    /// [`SortedBinary::pass`] with `term(k, g, positive)` the log loss and squared error of
    /// sorted row `k`, in tie group `g`, with that label.
    #[inline(always)]
    fn pass_with<const K: usize>(
        &self,
        weights: impl Fn(usize) -> [u32; K],
        term: impl Fn(usize, usize, bool) -> (f64, f64),
    ) -> [Metrics; K] {
        let cut = self.cut;
        let (mut tp, mut fp) = ([0.0f64; K], [0.0f64; K]);
        let (mut auc2, mut ap) = ([0.0f64; K], [0.0f64; K]);
        let (mut ll, mut sq) = ([0.0f64; K], [0.0f64; K]);
        let (mut cut_tp, mut cut_fp) = ([0.0f64; K], [0.0f64; K]);
        let mut start = 0usize;
        for (g, &end) in self.group_end.iter().enumerate() {
            let end = end as usize;
            let (mut gw, mut gtp) = ([0.0f64; K], [0.0f64; K]);
            for k in start..end {
                let r = self.row[k];
                let w = weights((r & !LABEL) as usize);
                let positive = r & LABEL != 0;
                let (lk, sk) = term(k, g, positive);
                for j in 0..K {
                    let wk = f64::from(w[j]);
                    gw[j] += wk;
                    gtp[j] += if positive { wk } else { 0.0 };
                    ll[j] += wk * lk;
                    sq[j] += wk * sk;
                }
            }
            for j in 0..K {
                let gfp = gw[j] - gtp[j];
                // Trapezoid between (fp, tp) and (fp + gfp, tp + gtp), doubled.
                auc2[j] += gfp * (2.0 * tp[j] + gtp[j]);
                tp[j] += gtp[j];
                fp[j] += gfp;
                // Computed unconditionally and selected: no unpredictable branch per group.
                let step = gtp[j] * (tp[j] / (tp[j] + fp[j]));
                ap[j] += if gtp[j] > 0.0 { step } else { 0.0 };
            }
            if end == cut {
                (cut_tp, cut_fp) = (tp, fp);
            }
            start = end;
        }
        std::array::from_fn(|j| {
            let (pos, neg) = (tp[j], fp[j]);
            let c = Confusion {
                tp: cut_tp[j],
                fp: cut_fp[j],
                fn_: pos - cut_tp[j],
                tn: neg - cut_fp[j],
            };
            let total = pos + neg;
            let auc = (pos > 0.0 && neg > 0.0).then(|| auc2[j] / (2.0 * pos * neg));
            // scikit-learn reports 0 (with a warning) when there is no positive row.
            let ap = Some(if pos > 0.0 { ap[j] / pos } else { 0.0 });
            super::binary::assemble(
                &c,
                auc,
                ap,
                (total > 0.0).then(|| ll[j] / total),
                (total > 0.0).then(|| sq[j] / total),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::{binary, order_desc};

    /// Scores with many ties, labels and draws from a fixed generator.
    fn case(n: usize, seed: u64) -> (Vec<bool>, Vec<f64>) {
        let d = Draw::new(seed, 0);
        let score: Vec<f64> = (0..n)
            .map(|i| f64::from(Draw::new(seed, i + 1).weight(0) * 7 + d.weight(i)) / 40.0)
            .map(|s| s.min(1.0))
            .collect();
        let y = (0..n)
            .map(|i| (score[i] + f64::from(d.weight(i + n)) / 5.0) > 0.6)
            .collect();
        (y, score)
    }

    fn assert_close(a: &Metrics, b: &Metrics) {
        assert_eq!(a.names(), b.names());
        for ((name, x), (_, y)) in a.0.iter().zip(&b.0) {
            match (x, y) {
                (Some(x), Some(y)) => {
                    assert!(
                        (x - y).abs() <= 1e-12 * x.abs().max(1.0),
                        "{name}: {x} vs {y}"
                    )
                }
                _ => assert_eq!(x, y, "{name}"),
            }
        }
    }

    #[test]
    fn one_pass_equals_the_weighted_metrics() {
        for (n, threshold) in [(1usize, 0.5), (7, 0.0), (500, 0.5), (2000, 0.3), (300, 1.0)] {
            let (y, score) = case(n, n as u64);
            let order = order_desc(&score);
            let sorted = SortedBinary::new(&y, &score, &order, threshold).unwrap();
            assert_close(
                &sorted.metrics_with(|_| 1),
                &binary::metrics(&y, &score, &order, threshold, None).0,
            );
            let block = sorted.metrics_block(&DrawBlock::new(3, 0));
            assert_eq!(block.len(), BLOCK);
            for (r, in_block) in block.iter().enumerate() {
                let draw = Draw::new(3, r);
                assert_eq!(
                    in_block.0,
                    sorted.metrics(&draw).0,
                    "replicate {r} of a block"
                );
                let w = draw.weights(n);
                assert_close(
                    &sorted.metrics(&draw),
                    &binary::metrics(&y, &score, &order, threshold, Some(&w)).0,
                );
            }
        }
    }

    #[test]
    fn distinct_scores_keep_terms_per_row() {
        // Scores all distinct (terms per row) and f32 scores (widened exactly): the same numbers.
        let n = 400;
        let score32: Vec<f32> = (0..n).map(|i| ((i * 37) % n) as f32 / n as f32).collect();
        let score: Vec<f64> = score32.iter().map(|&s| f64::from(s)).collect();
        let y: Vec<bool> = (0..n).map(|i| (i * 7) % 5 < 2).collect();
        let order = order_desc(&score);
        assert_eq!(order, order_desc(&score32));
        let sorted = SortedBinary::new(&y, &score, &order, 0.4).unwrap();
        assert!(matches!(sorted.terms, Terms::Row { .. }));
        let from32 = SortedBinary::from_order(&y, &score32, order.clone(), 0.4).unwrap();
        for r in 0..4 {
            let draw = Draw::new(1, r);
            assert_eq!(sorted.metrics(&draw).0, from32.metrics(&draw).0);
            let w = draw.weights(n);
            assert_close(
                &sorted.metrics(&draw),
                &binary::metrics(&y, &score, &order, 0.4, Some(&w)).0,
            );
        }
        let (ties_y, ties) = case(500, 4);
        let order = order_desc(&ties);
        let grouped = SortedBinary::new(&ties_y, &ties, &order, 0.5).unwrap();
        assert!(matches!(grouped.terms, Terms::Group { .. }));
    }

    #[test]
    fn zero_weights_give_the_same_undefined_metrics() {
        let (y, score) = case(50, 9);
        let order = order_desc(&score);
        let sorted = SortedBinary::new(&y, &score, &order, 0.5).unwrap();
        let none = vec![0u32; 50];
        assert_close(
            &sorted.metrics_with(|_| 0),
            &binary::metrics(&y, &score, &order, 0.5, Some(&none)).0,
        );
        let only_neg: Vec<u32> = y.iter().map(|&p| u32::from(!p)).collect();
        assert_close(
            &sorted.metrics_with(|i| only_neg[i]),
            &binary::metrics(&y, &score, &order, 0.5, Some(&only_neg)).0,
        );
    }
}

//! One pair of models (A, B) on the same rows: metric deltas, McNemar, DeLong and prediction
//! agreement, plus the rows where they disagree most.

use std::collections::BTreeMap;

use serde::Serialize;

use super::stats::{self, ChiSquare, DeLong};
use crate::engine::evaluate::RowOutputs;
use crate::engine::fairness::Named;
use crate::engine::metrics::multiclass::argmax;

/// What `score` means in the agreement statistics and the disagreement rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreKind {
    /// Binary: the probability of the positive class.
    PositiveClassProbability,
    /// Multiclass: the probability the model gives the true class.
    TrueClassProbability,
    /// Regression: the predicted value.
    Prediction,
}

/// A row where the two models disagree (largest `|score_b − score_a|` first).
#[derive(Debug, Clone, Serialize)]
pub struct Disagreement {
    /// 1-based data row.
    pub row: usize,
    pub score_a: f64,
    pub score_b: f64,
    /// Predicted labels (classification).
    pub label_a: Option<String>,
    pub label_b: Option<String>,
    /// The true label (classification) or value (regression, as text).
    pub target: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairComparison {
    pub a: String,
    pub b: String,
    /// `B − A` per evaluation metric (evaluate's names; `null` where either is undefined).
    pub delta: Named,
    /// Paired bootstrap interval of each delta (the same resampled rows for both models).
    pub delta_ci: BTreeMap<String, [f64; 2]>,
    /// `[[both correct, only A correct], [only B correct, both wrong]]` (classification).
    pub mcnemar_table: Option<[[u64; 2]; 2]>,
    /// statsmodels `mcnemar(exact=True)`: two-sided exact binomial on the discordant pairs.
    pub mcnemar_exact_p_value: Option<f64>,
    /// statsmodels `mcnemar(exact=False, correction=True)`; `null` without discordant pairs.
    pub mcnemar_chi2_corrected: Option<ChiSquare>,
    /// DeLong's test of the ROC AUC difference (binary only).
    pub delong_p_value: Option<f64>,
    pub delong: Option<DeLong>,
    /// Rows whose predicted labels differ (classification).
    pub label_disagreements: Option<u64>,
    pub label_disagreement_rate: Option<f64>,
    pub score_kind: ScoreKind,
    /// Mean and max of `|score_b − score_a|` over rows.
    pub mean_abs_prob_diff: Option<f64>,
    pub max_abs_prob_diff: Option<f64>,
    /// Correlations of the two models' scores (`null` when a side is constant).
    pub pearson_r: Option<f64>,
    pub spearman_r: Option<f64>,
    pub top_disagreements: Vec<Disagreement>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Row outcomes as the pair statistics see them.
pub struct View<'a> {
    pub rows: &'a RowOutputs,
    /// Class names (classification), model order.
    pub classes: &'a [String],
    /// Index of the positive class (binary).
    pub positive: usize,
    pub threshold: f64,
}

impl View<'_> {
    pub fn n(&self) -> usize {
        match self.rows {
            RowOutputs::Binary { y, .. } => y.len(),
            RowOutputs::Multiclass { y, .. } => y.len(),
            RowOutputs::Regression { y, .. } => y.len(),
        }
    }

    pub fn kind(&self) -> ScoreKind {
        match self.rows {
            RowOutputs::Binary { .. } => ScoreKind::PositiveClassProbability,
            RowOutputs::Multiclass { .. } => ScoreKind::TrueClassProbability,
            RowOutputs::Regression { .. } => ScoreKind::Prediction,
        }
    }

    pub fn scores(&self) -> Vec<f64> {
        match self.rows {
            RowOutputs::Binary { score, .. } => score.clone(),
            RowOutputs::Multiclass { y, proba, k } => y
                .iter()
                .enumerate()
                .map(|(i, &c)| proba[i * k + c as usize])
                .collect(),
            RowOutputs::Regression { pred, .. } => pred.clone(),
        }
    }

    /// Predicted class index per row (classification).
    pub fn labels(&self) -> Option<Vec<usize>> {
        let neg = 1 - self.positive.min(1);
        match self.rows {
            RowOutputs::Binary { score, .. } => Some(
                score
                    .iter()
                    .map(|&s| {
                        if s >= self.threshold {
                            self.positive
                        } else {
                            neg
                        }
                    })
                    .collect(),
            ),
            RowOutputs::Multiclass { proba, k, .. } => Some(
                proba
                    .chunks_exact((*k).max(1))
                    .map(|r| argmax(r) as usize)
                    .collect(),
            ),
            RowOutputs::Regression { .. } => None,
        }
    }

    /// True class index per row (classification).
    pub fn truth(&self) -> Option<Vec<usize>> {
        let neg = 1 - self.positive.min(1);
        match self.rows {
            RowOutputs::Binary { y, .. } => Some(
                y.iter()
                    .map(|&t| if t { self.positive } else { neg })
                    .collect(),
            ),
            RowOutputs::Multiclass { y, .. } => Some(y.iter().map(|&c| c as usize).collect()),
            RowOutputs::Regression { .. } => None,
        }
    }

    fn target_text(&self, i: usize, truth: Option<&[usize]>) -> String {
        match (self.rows, truth) {
            (RowOutputs::Regression { y, .. }, _) => format!("{}", y[i]),
            (_, Some(t)) => self.class(t[i]),
            _ => String::new(),
        }
    }

    fn class(&self, c: usize) -> String {
        self.classes
            .get(c)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    }
}

/// Everything about one pair except the metric deltas and their intervals.
pub fn compare_pair(
    a_label: &str,
    b_label: &str,
    a: &View<'_>,
    b: &View<'_>,
    top: usize,
) -> PairComparison {
    let n = a.n();
    let sa = a.scores();
    let sb = b.scores();
    let mut notes = Vec::new();
    let truth = a.truth();
    let (la, lb) = (a.labels(), b.labels());
    let mut table = None;
    let mut exact = None;
    let mut chi2 = None;
    let mut disagreements = None;
    let mut rate = None;
    if let (Some(t), Some(la), Some(lb)) = (&truth, &la, &lb) {
        let mut c = [[0u64; 2]; 2];
        let mut dis = 0u64;
        for i in 0..n {
            let ca = la[i] == t[i];
            let cb = lb[i] == t[i];
            match (ca, cb) {
                (true, true) => c[0][0] += 1,
                (true, false) => c[0][1] += 1,
                (false, true) => c[1][0] += 1,
                (false, false) => c[1][1] += 1,
            }
            dis += u64::from(la[i] != lb[i]);
        }
        let (only_a, only_b) = (c[0][1], c[1][0]);
        exact = Some(stats::mcnemar_exact_p(only_a, only_b));
        chi2 = stats::mcnemar_chi2_corrected(only_a, only_b);
        if chi2.is_none() {
            notes.push(
                "McNemar chi-square: no discordant pairs (both models right or wrong on every row), the statistic is undefined; the exact p-value is 1"
                    .to_string(),
            );
        }
        table = Some(c);
        disagreements = Some(dis);
        rate = (n > 0).then(|| dis as f64 / n as f64);
    } else {
        notes.push(
            "McNemar's test and label agreement need predicted labels: not computed for regression"
                .to_string(),
        );
    }
    let delong = match (a.rows, b.rows) {
        (RowOutputs::Binary { y, score: s1 }, RowOutputs::Binary { score: s2, .. }) => {
            let d = stats::delong(y, s1, s2);
            match &d {
                None => notes.push(
                    "DeLong's test needs at least two positive and two negative rows".to_string(),
                ),
                Some(d) if d.p_value.is_none() => notes.push(
                    "DeLong's test: the variance of the AUC difference is 0 (the models rank the rows identically), no p-value"
                        .to_string(),
                ),
                Some(_) => {}
            }
            d
        }
        (RowOutputs::Multiclass { .. }, _) => {
            notes.push(
                "DeLong's test compares two ROC AUCs of a binary task; for multiclass models (one-vs-rest macro AUC) it is not defined, so it is left out"
                    .to_string(),
            );
            None
        }
        _ => {
            notes.push("DeLong's test needs class scores: not computed for regression".to_string());
            None
        }
    };
    let diffs: Vec<f64> = sa.iter().zip(&sb).map(|(x, y)| (y - x).abs()).collect();
    let mean_abs = (n > 0).then(|| diffs.iter().sum::<f64>() / n as f64);
    let max_abs = diffs.iter().copied().reduce(f64::max);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| diffs[j].total_cmp(&diffs[i]).then(i.cmp(&j)));
    let top_disagreements = order
        .into_iter()
        .take(top)
        .filter(|&i| {
            diffs[i] > 0.0
                || la
                    .as_ref()
                    .zip(lb.as_ref())
                    .is_some_and(|(x, y)| x[i] != y[i])
        })
        .map(|i| Disagreement {
            row: i + 1,
            score_a: sa[i],
            score_b: sb[i],
            label_a: la.as_ref().map(|l| a.class(l[i])),
            label_b: lb.as_ref().map(|l| b.class(l[i])),
            target: a.target_text(i, truth.as_deref()),
        })
        .collect();
    PairComparison {
        a: a_label.to_string(),
        b: b_label.to_string(),
        delta: Named::default(),
        delta_ci: BTreeMap::new(),
        mcnemar_table: table,
        mcnemar_exact_p_value: exact,
        mcnemar_chi2_corrected: chi2,
        delong_p_value: delong.as_ref().and_then(|d| d.p_value),
        delong,
        label_disagreements: disagreements,
        label_disagreement_rate: rate,
        score_kind: a.kind(),
        mean_abs_prob_diff: mean_abs,
        max_abs_prob_diff: max_abs,
        pearson_r: stats::pearson(&sa, &sb),
        spearman_r: stats::spearman(&sa, &sb),
        top_disagreements,
        notes,
        warnings: Vec::new(),
    }
}

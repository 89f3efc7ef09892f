//! Per-group metrics and fairlearn 0.15 `MetricFrame` summaries.
//!
//! Every metric is computed from integer row weights (1 for the point estimate, draw counts in
//! a bootstrap replicate). Undefined values (0/0) are `None`. fairlearn computes the rates
//! through scikit-learn's `confusion_matrix(normalize="true")`, which turns 0/0 into 0, and
//! `precision_score` returns 0 (`zero_division="warn"`); [`Values::fairlearn`] keeps those
//! zeros so the numbers fairlearn would report can be shown next to the honest ones.

/// Binary classification metrics, in output order.
pub const BINARY: [&str; 7] = [
    "selection_rate",
    "accuracy",
    "true_positive_rate",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "precision",
];

/// Multiclass: per-class (one-vs-rest) metrics, each named `metric[class]`, after `accuracy`.
pub const PER_CLASS: [&str; 3] = ["recall", "precision", "selection_rate"];

/// Regression metrics, in output order.
pub const REGRESSION: [&str; 5] = ["mae", "rmse", "r2", "mean_prediction", "mean_target"];

/// Summary statistics per metric, as MetricFrame names them.
pub const STATS: [&str; 7] = [
    "overall",
    "group_min",
    "group_max",
    "difference_between_groups",
    "difference_to_overall",
    "ratio_between_groups",
    "ratio_to_overall",
];

/// The classification disparities (fairlearn's functions, `method="between_groups"`).
pub const DISPARITIES: [&str; 8] = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equalized_odds_difference_mean",
    "equalized_odds_ratio_mean",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
];

/// The task's outcomes for every kept row.
#[derive(Debug, Clone)]
pub enum Outcomes {
    /// True labels and predicted labels (positive = true).
    Binary {
        y: Vec<bool>,
        pred: Vec<bool>,
    },
    /// Class indices (into `classes`) of the true and the predicted (arg-max) labels.
    Multiclass {
        y: Vec<u32>,
        pred: Vec<u32>,
        classes: Vec<String>,
    },
    Regression {
        y: Vec<f64>,
        pred: Vec<f64>,
    },
}

/// `recall[setosa]`: a per-class metric's name.
pub fn class_metric(metric: &str, class: &str) -> String {
    format!("{metric}[{class}]")
}

impl Outcomes {
    pub fn len(&self) -> usize {
        match self {
            Outcomes::Binary { y, .. } => y.len(),
            Outcomes::Multiclass { y, .. } => y.len(),
            Outcomes::Regression { y, .. } => y.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Metric names in output order (multiclass: `accuracy`, then [`PER_CLASS`] × classes).
    pub fn names(&self) -> Vec<String> {
        match self {
            Outcomes::Binary { .. } => BINARY.iter().map(|s| s.to_string()).collect(),
            Outcomes::Multiclass { classes, .. } => std::iter::once("accuracy".to_string())
                .chain(
                    PER_CLASS
                        .iter()
                        .flat_map(|m| classes.iter().map(move |c| class_metric(m, c))),
                )
                .collect(),
            Outcomes::Regression { .. } => REGRESSION.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Confusion cell of row `i`: 0 tn, 1 fp, 2 fn, 3 tp (binary only).
    pub fn cell(&self, i: usize) -> usize {
        match self {
            Outcomes::Binary { y, pred } => usize::from(y[i]) * 2 + usize::from(pred[i]),
            _ => 0,
        }
    }
}

/// Metric values of one group (or overall) in the task's name order.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub count: f64,
    pub honest: Vec<Option<f64>>,
    /// What fairlearn reports (0 where it turns 0/0 into 0).
    pub fairlearn: Vec<Option<f64>>,
}

fn div(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

/// Binary metrics from weighted confusion counts `[tn, fp, fn, tp]`.
pub fn binary_values(c: [f64; 4]) -> Values {
    let [tn, fp, fn_, tp] = c;
    let n = tn + fp + fn_ + tp;
    let honest = vec![
        div(tp + fp, n),
        div(tp + tn, n),
        div(tp, tp + fn_),
        div(fp, fp + tn),
        div(tn, fp + tn),
        div(fn_, tp + fn_),
        div(tp, tp + fp),
    ];
    // selection_rate and accuracy of an empty set are errors in fairlearn/scikit-learn; a
    // group is never empty, so only the rates and precision differ.
    let fairlearn = honest
        .iter()
        .enumerate()
        .map(|(j, v)| if j >= 2 { Some(v.unwrap_or(0.0)) } else { *v })
        .collect();
    Values {
        count: n,
        honest,
        fairlearn,
    }
}

/// Multiclass metrics from a weighted confusion matrix `cm[true * k + pred]` (k classes):
/// accuracy, then per class recall, precision and selection rate (one-vs-rest). fairlearn
/// users' `recall_score(labels=[c], average="micro", zero_division=0)` report 0 for 0/0.
pub fn multiclass_values(cm: &[f64], k: usize) -> Values {
    let n: f64 = cm.iter().sum();
    let correct: f64 = (0..k).map(|c| cm[c * k + c]).sum();
    let actual = |c: usize| -> f64 { cm[c * k..(c + 1) * k].iter().sum() };
    let predicted = |c: usize| -> f64 { (0..k).map(|t| cm[t * k + c]).sum() };
    let mut honest = vec![div(correct, n)];
    honest.extend((0..k).map(|c| div(cm[c * k + c], actual(c))));
    honest.extend((0..k).map(|c| div(cm[c * k + c], predicted(c))));
    honest.extend((0..k).map(|c| div(predicted(c), n)));
    let fairlearn = honest
        .iter()
        .enumerate()
        .map(|(j, v)| {
            if (1..=2 * k).contains(&j) {
                Some(v.unwrap_or(0.0))
            } else {
                *v
            }
        })
        .collect();
    Values {
        count: n,
        honest,
        fairlearn,
    }
}

/// Regression metrics of the rows `rows` with weights `w` (two passes, like scikit-learn).
pub fn regression_values(y: &[f64], pred: &[f64], rows: &[u32], w: Option<&[u32]>) -> Values {
    let wt = |k: usize| w.map_or(1.0, |w| f64::from(w[k]));
    let (mut n, mut sy, mut sp, mut sa, mut ss) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &r) in rows.iter().enumerate() {
        let wi = wt(k);
        if wi == 0.0 {
            continue;
        }
        let (yi, pi) = (y[r as usize], pred[r as usize]);
        n += wi;
        sy += wi * yi;
        sp += wi * pi;
        sa += wi * (yi - pi).abs();
        ss += wi * (yi - pi) * (yi - pi);
    }
    if n == 0.0 {
        let none = vec![None; REGRESSION.len()];
        return Values {
            count: 0.0,
            honest: none.clone(),
            fairlearn: none,
        };
    }
    let mean_y = sy / n;
    let mut tot = 0.0;
    for (k, &r) in rows.iter().enumerate() {
        let wi = wt(k);
        if wi != 0.0 {
            let d = y[r as usize] - mean_y;
            tot += wi * d * d;
        }
    }
    // scikit-learn r2_score: nan for fewer than two samples; force_finite for constant y.
    let r2 = if n < 2.0 {
        None
    } else if tot == 0.0 {
        Some(if ss == 0.0 { 1.0 } else { 0.0 })
    } else {
        Some(1.0 - ss / tot)
    };
    let honest = vec![
        Some(sa / n),
        Some((ss / n).sqrt()),
        r2,
        Some(sp / n),
        Some(mean_y),
    ];
    Values {
        count: n,
        fairlearn: honest.clone(),
        honest,
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// MetricFrame summaries of one metric: `STATS` order. Undefined group values are skipped
/// (pandas' `skipna`); an undefined result is `None`.
pub fn summarize(groups: &[Option<f64>], overall: Option<f64>) -> [Option<f64>; 7] {
    let vals: Vec<f64> = groups.iter().flatten().copied().collect();
    let min = vals.iter().copied().reduce(f64::min);
    let max = vals.iter().copied().reduce(f64::max);
    let diff_between = min.zip(max).map(|(a, b)| b - a);
    let diff_overall = overall.and_then(|o| {
        vals.iter()
            .map(|g| (g - o).abs())
            .filter(|d| !d.is_nan())
            .reduce(f64::max)
    });
    let ratio_between = min.zip(max).and_then(|(a, b)| finite(a / b));
    // fairlearn: r = g / overall, folded below one (1/r when r > 1), minimum skipping NaN.
    let ratio_overall = overall.and_then(|o| {
        vals.iter()
            .map(|g| {
                let r = g / o;
                if r > 1.0 {
                    1.0 / r
                } else {
                    r
                }
            })
            .filter(|r| !r.is_nan())
            .reduce(f64::min)
            .and_then(finite)
    });
    [
        overall,
        min,
        max,
        diff_between,
        diff_overall,
        ratio_between,
        ratio_overall,
    ]
}

/// Python's builtin `max`/`min` over `[a, b]` (as fairlearn's `max(eo.difference())`):
/// keeps the first value unless the second compares greater/smaller, so a NaN first wins.
fn py_fold(a: Option<f64>, b: Option<f64>, greater: bool) -> Option<f64> {
    let (x, y) = (a.unwrap_or(f64::NAN), b.unwrap_or(f64::NAN));
    let r = if (greater && y > x) || (!greater && y < x) {
        y
    } else {
        x
    };
    finite(r)
}

fn nan_skip_fold(a: Option<f64>, b: Option<f64>, greater: bool) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if greater { x.max(y) } else { x.min(y) }),
        (x, y) => x.or(y),
    }
}

fn mean2(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(0.5 * (x + y)),
        (x, y) => x.or(y),
    }
}

/// Index of a stat in [`STATS`].
const DIFF: usize = 3;
const RATIO: usize = 5;

/// The eight classification disparities from the summaries of selection rate, TPR and FPR
/// ([`DISPARITIES`] order). `fairlearn_fold` reproduces Python's `max`/`min` on NaN.
pub fn disparities(
    sel: &[Option<f64>; 7],
    tpr: &[Option<f64>; 7],
    fpr: &[Option<f64>; 7],
    fairlearn_fold: bool,
) -> [Option<f64>; 8] {
    let fold = if fairlearn_fold {
        py_fold
    } else {
        nan_skip_fold
    };
    [
        sel[DIFF],
        sel[RATIO],
        fold(tpr[DIFF], fpr[DIFF], true),
        fold(tpr[RATIO], fpr[RATIO], false),
        mean2(tpr[DIFF], fpr[DIFF]),
        mean2(tpr[RATIO], fpr[RATIO]),
        tpr[DIFF],
        tpr[RATIO],
    ]
}

/// Everything computed for one slicing at one set of weights, flattened: per group the
/// metric values, then per metric the [`STATS`], then (binary) the [`DISPARITIES`].
#[derive(Debug, Clone)]
pub struct SliceValues {
    pub groups: Vec<Values>,
    pub overall: Values,
    /// `[metric][stat]`.
    pub summaries: Vec<[Option<f64>; 7]>,
    pub disparities: Option<[Option<f64>; 8]>,
    /// The same summaries and disparities with fairlearn's zeros for undefined values.
    pub fairlearn_summaries: Vec<[Option<f64>; 7]>,
    pub fairlearn_disparities: Option<[Option<f64>; 8]>,
}

pub fn slice_values(groups: Vec<Values>, overall: Values, binary: bool) -> SliceValues {
    let m = overall.honest.len();
    let sum = |fl: bool| -> Vec<[Option<f64>; 7]> {
        (0..m)
            .map(|j| {
                let g: Vec<Option<f64>> = groups
                    .iter()
                    .map(|v| if fl { v.fairlearn[j] } else { v.honest[j] })
                    .collect();
                let o = if fl {
                    overall.fairlearn[j]
                } else {
                    overall.honest[j]
                };
                summarize(&g, o)
            })
            .collect()
    };
    let summaries = sum(false);
    let fairlearn_summaries = sum(true);
    let disp =
        |s: &[[Option<f64>; 7]], fl: bool| binary.then(|| disparities(&s[0], &s[2], &s[3], fl));
    SliceValues {
        disparities: disp(&summaries, false),
        fairlearn_disparities: disp(&fairlearn_summaries, true),
        groups,
        overall,
        summaries,
        fairlearn_summaries,
    }
}

/// Computes a slicing's values from group membership and optional per-row weights.
pub fn compute(
    outcomes: &Outcomes,
    members: &[Vec<u32>],
    weights: Option<&[Vec<u32>]>,
) -> SliceValues {
    match outcomes {
        Outcomes::Binary { .. } => {
            let mut total = [0.0f64; 4];
            let groups: Vec<Values> = members
                .iter()
                .enumerate()
                .map(|(g, rows)| {
                    let mut c = [0.0f64; 4];
                    for (k, &r) in rows.iter().enumerate() {
                        let wi = weights.map_or(1.0, |w| f64::from(w[g][k]));
                        c[outcomes.cell(r as usize)] += wi;
                    }
                    for (t, x) in total.iter_mut().zip(c) {
                        *t += x;
                    }
                    binary_values(c)
                })
                .collect();
            slice_values(groups, binary_values(total), true)
        }
        Outcomes::Multiclass {
            y, pred, classes, ..
        } => {
            let k = classes.len();
            let mut total = vec![0.0f64; k * k];
            let groups: Vec<Values> = members
                .iter()
                .enumerate()
                .map(|(g, rows)| {
                    let mut cm = vec![0.0f64; k * k];
                    for (j, &r) in rows.iter().enumerate() {
                        let wi = weights.map_or(1.0, |w| f64::from(w[g][j]));
                        let r = r as usize;
                        cm[y[r] as usize * k + pred[r] as usize] += wi;
                    }
                    for (t, x) in total.iter_mut().zip(&cm) {
                        *t += x;
                    }
                    multiclass_values(&cm, k)
                })
                .collect();
            slice_values(groups, multiclass_values(&total, k), false)
        }
        Outcomes::Regression { y, pred } => {
            let groups: Vec<Values> = members
                .iter()
                .enumerate()
                .map(|(g, rows)| regression_values(y, pred, rows, weights.map(|w| &w[g][..])))
                .collect();
            let all: Vec<u32> = members.iter().flatten().copied().collect();
            let all_w: Option<Vec<u32>> = weights.map(|w| w.iter().flatten().copied().collect());
            let overall = regression_values(y, pred, &all, all_w.as_deref());
            slice_values(groups, overall, false)
        }
    }
}

/// The headline disparities of a slicing: the eight binary disparities, or (regression,
/// multiclass) each metric's difference and ratio between groups.
pub fn headline(v: &SliceValues, names: &[String]) -> Vec<(String, Option<f64>)> {
    match v.disparities {
        Some(d) => DISPARITIES
            .iter()
            .zip(d)
            .map(|(n, x)| (n.to_string(), x))
            .collect(),
        None => names
            .iter()
            .enumerate()
            .flat_map(|(j, m)| {
                [
                    (
                        format!("{m}.difference_between_groups"),
                        v.summaries[j][DIFF],
                    ),
                    (format!("{m}.ratio_between_groups"), v.summaries[j][RATIO]),
                ]
            })
            .collect(),
    }
}

/// Every named quantity of a slicing: the disparities (classification) and `metric.stat`.
pub fn flat(v: &SliceValues, names: &[String]) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> = match v.disparities {
        Some(d) => DISPARITIES
            .iter()
            .zip(d)
            .map(|(n, x)| (n.to_string(), x))
            .collect(),
        None => Vec::new(),
    };
    for (j, m) in names.iter().enumerate() {
        for (s, stat) in STATS.iter().enumerate() {
            out.push((format!("{m}.{stat}"), v.summaries[j][s]));
        }
    }
    out
}

/// The same slicing restricted to the groups with `keep[g]` (overall unchanged).
pub fn subset(v: &SliceValues, keep: &[bool]) -> SliceValues {
    let groups = v
        .groups
        .iter()
        .zip(keep)
        .filter(|(_, &k)| k)
        .map(|(g, _)| g.clone())
        .collect();
    slice_values(groups, v.overall.clone(), v.disparities.is_some())
}

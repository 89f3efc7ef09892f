//! Weak-slice discovery: every group of one column and every combination of two columns
//! (numeric columns in quantile bins, text as categories, missing as its own group) with at
//! least `min_size` rows, ranked by how much worse the chosen metric is there than overall.
//!
//! Each metric is a mean of a per-row value over the rows it counts (accuracy: correctness
//! over all rows; TPR: predicted-positive over true positives; MAE: |error| over all rows),
//! so a slice needs only four sums, accumulated in one pass per column or pair of columns
//! (pairs in parallel). The effect is `gap = metric(slice) − metric(all)`, signed so that
//! positive is worse. Since the slice is part of all rows, `gap = (1 − k_s/K)·(m_s − m_c)`
//! with `m_c` the complement's mean. Rates (classification): z from the two-proportion test
//! with the pooled rate, 95% interval of Agresti–Caffo; errors (regression): Welch standard
//! error of `m_s − m_c` for both (normal approximation).

use crate::engine::Warning;
use rayon::prelude::*;
use serde::Serialize;

use super::groups::{column_groups, Binning, Grouping};
use super::run::{run_model, RunOptions};
use super::stats::Outcomes;
use super::GroupKey;
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::{DataRef, ModelRef};
use crate::engine::model::Model;
use crate::engine::progress::Progress;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SliceSearchOptions {
    pub run: RunOptions,
    /// Metric name (see [`metric_names`]); default accuracy / mae.
    pub metric: Option<String>,
    /// Minimum slice size: a fraction of rows when < 1, else a row count.
    pub min_size: f64,
    /// Columns to search (default: every column but the target).
    pub columns: Option<Vec<String>>,
    pub binning: Binning,
    /// Text columns with more distinct values than this are skipped.
    pub max_levels: usize,
    pub pairs: bool,
    /// How many slices to report.
    pub top: usize,
}

impl SliceSearchOptions {
    pub fn new(target: impl Into<String>) -> Self {
        Self {
            run: RunOptions::new(target),
            metric: None,
            min_size: 0.05,
            columns: None,
            binning: Binning::default(),
            max_levels: 50,
            pairs: true,
            top: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    /// Selection rate: a gap either way is a finding; ranked by absolute gap.
    Either,
}

pub fn metric_names(binary: bool) -> &'static [&'static str] {
    if binary {
        &[
            "accuracy",
            "selection_rate",
            "true_positive_rate",
            "false_positive_rate",
            "false_negative_rate",
            "precision",
        ]
    } else {
        &["mae", "mse"]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WeakSlice {
    /// Column → group label (one or two columns).
    pub conditions: GroupKey,
    pub count: usize,
    pub fraction: f64,
    /// Rows the metric counts in the slice (e.g. true positives for TPR).
    pub support: usize,
    pub metric: f64,
    /// metric(slice) − metric(all), signed so that positive means worse.
    pub gap: f64,
    /// 95% interval of `gap`.
    pub ci: [f64; 2],
    /// Welch z of slice vs the rest (positive = worse); `None` with < 2 rows on a side.
    pub z: Option<f64>,
    /// Two-sided p-value of `z` (normal approximation), not corrected for the number tested.
    pub p_value: Option<f64>,
    /// 0-based rows of the loaded dataset in this slice (not in JSON), e.g. to filter the
    /// Evaluate page to it.
    #[serde(skip)]
    pub rows: Vec<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SliceSearch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    pub data: DataRef,
    pub n: usize,
    pub metric: String,
    pub direction: Direction,
    pub overall: f64,
    pub min_size: usize,
    /// Columns searched, with their groups (labels and bin edges).
    pub columns: Vec<Grouping>,
    /// Columns left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Slices of at least `min_size` rows that were scored.
    pub candidates: usize,
    /// The worst slices, worst first (only those with `gap > 0`).
    pub slices: Vec<WeakSlice>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Per-row metric inputs: whether the row counts, and its value.
fn per_row(outcomes: &Outcomes, metric: &str) -> Result<(Vec<bool>, Vec<f64>, Direction)> {
    let bad = || {
        EngineError::usage(format!(
            "unknown slice metric '{metric}'; choose one of: {}",
            match outcomes {
                Outcomes::Multiclass { .. } => "accuracy".to_string(),
                _ => metric_names(matches!(outcomes, Outcomes::Binary { .. })).join(", "),
            }
        ))
    };
    let b = |x: bool| f64::from(u8::from(x));
    Ok(match outcomes {
        Outcomes::Binary { y, pred } => {
            let all = vec![true; y.len()];
            let zip = y.iter().zip(pred);
            match metric {
                "accuracy" => (
                    all,
                    zip.map(|(a, p)| b(a == p)).collect(),
                    Direction::HigherIsBetter,
                ),
                "selection_rate" => (all, pred.iter().map(|&p| b(p)).collect(), Direction::Either),
                "true_positive_rate" => (
                    y.clone(),
                    pred.iter().map(|&p| b(p)).collect(),
                    Direction::HigherIsBetter,
                ),
                "false_positive_rate" => (
                    y.iter().map(|t| !t).collect(),
                    pred.iter().map(|&p| b(p)).collect(),
                    Direction::LowerIsBetter,
                ),
                "false_negative_rate" => (
                    y.clone(),
                    pred.iter().map(|&p| b(!p)).collect(),
                    Direction::LowerIsBetter,
                ),
                "precision" => (
                    pred.clone(),
                    y.iter().map(|&t| b(t)).collect(),
                    Direction::HigherIsBetter,
                ),
                _ => return Err(bad()),
            }
        }
        Outcomes::Multiclass { y, pred, .. } => match metric {
            "accuracy" => (
                vec![true; y.len()],
                y.iter().zip(pred).map(|(a, p)| b(a == p)).collect(),
                Direction::HigherIsBetter,
            ),
            _ => return Err(bad()),
        },
        Outcomes::Regression { y, pred } => {
            let all = vec![true; y.len()];
            let zip = y.iter().zip(pred);
            match metric {
                "mae" => (
                    all,
                    zip.map(|(a, p)| (a - p).abs()).collect(),
                    Direction::LowerIsBetter,
                ),
                "mse" => (
                    all,
                    zip.map(|(a, p)| (a - p) * (a - p)).collect(),
                    Direction::LowerIsBetter,
                ),
                _ => return Err(bad()),
            }
        }
    })
}

/// Sums of one cell: rows, counted rows, Σv, Σv².
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    rows: u64,
    k: u64,
    s: f64,
    s2: f64,
}

/// Complementary error function (Numerical Recipes `erfcc`, |error| < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

const Z95: f64 = 1.959_963_984_540_054;

fn score(
    a: Acc,
    total: Acc,
    dir: Direction,
    n: usize,
    bernoulli: bool,
) -> Option<(f64, WeakSliceStats)> {
    if a.k == 0 || total.k == a.k {
        return None;
    }
    let ks = a.k as f64;
    let kc = (total.k - a.k) as f64;
    let ms = a.s / ks;
    let sc = total.s - a.s;
    let mc = sc / kc;
    let m_all = total.s / total.k as f64;
    let var = |s: f64, s2: f64, k: f64, m: f64| ((s2 - s * m) / (k - 1.0)).max(0.0);
    let se = (ks >= 2.0 && kc >= 2.0)
        .then(|| (var(a.s, a.s2, ks, ms) / ks + var(sc, total.s2 - a.s2, kc, mc) / kc).sqrt());
    let sign = match dir {
        Direction::HigherIsBetter => -1.0,
        Direction::LowerIsBetter => 1.0,
        Direction::Either => {
            if ms >= m_all {
                1.0
            } else {
                -1.0
            }
        }
    };
    let shrink = kc / total.k as f64;
    let d = sign * (ms - mc);
    let gap = sign * (ms - m_all);
    let (ci, z, p) = if bernoulli {
        // Rates: two-proportion z test with the pooled rate; Agresti–Caffo interval (one
        // success and one failure added to each side), so a slice with a rate of exactly 0 or
        // 1 does not get a zero-width interval.
        let se0 = (m_all * (1.0 - m_all) * (1.0 / ks + 1.0 / kc)).sqrt();
        let (ps, pc) = ((a.s + 1.0) / (ks + 2.0), (sc + 1.0) / (kc + 2.0));
        let se = (ps * (1.0 - ps) / (ks + 2.0) + pc * (1.0 - pc) / (kc + 2.0)).sqrt();
        let dt = sign * (ps - pc);
        let z = (se0 > 0.0).then(|| d / se0);
        (
            [shrink * (dt - Z95 * se), shrink * (dt + Z95 * se)],
            z,
            z.map(|z| erfc(z.abs() / std::f64::consts::SQRT_2)),
        )
    } else {
        match se {
            Some(se) if se > 0.0 => {
                let z = d / se;
                (
                    [shrink * (d - Z95 * se), shrink * (d + Z95 * se)],
                    Some(z),
                    Some(erfc(z.abs() / std::f64::consts::SQRT_2)),
                )
            }
            _ => ([gap, gap], None, None),
        }
    };
    Some((
        gap,
        WeakSliceStats {
            count: a.rows as usize,
            fraction: a.rows as f64 / n as f64,
            support: a.k as usize,
            metric: ms,
            ci,
            z,
            p,
        },
    ))
}

/// A scored slice: gap, (column, label index) conditions, statistics.
type Found = (f64, Vec<(usize, u32)>, WeakSliceStats);

struct WeakSliceStats {
    count: usize,
    fraction: f64,
    support: usize,
    metric: f64,
    ci: [f64; 2],
    z: Option<f64>,
    p: Option<f64>,
}

fn accumulate(codes: &[&[u32]], radix: &[usize], inc: &[bool], v: &[f64]) -> Vec<Acc> {
    let cells: usize = radix.iter().product();
    let mut acc = vec![Acc::default(); cells];
    for i in 0..inc.len() {
        let mut c = 0usize;
        for (col, &r) in codes.iter().zip(radix) {
            c = c * r + col[i] as usize;
        }
        let a = &mut acc[c];
        a.rows += 1;
        if inc[i] {
            a.k += 1;
            a.s += v[i];
            a.s2 += v[i] * v[i];
        }
    }
    acc
}

/// Runs the model once and searches its outcomes.
pub fn find_weak_slices(
    model: &Model,
    ds: &Dataset,
    opts: &SliceSearchOptions,
    progress: &Progress,
) -> Result<SliceSearch> {
    let run = run_model(model, ds, &opts.run, progress)?;
    let mut out = search(ds, &run.outcomes, run.kept.as_deref(), opts, progress)?;
    out.model = Some(run.model);
    out.data = run.data;
    let later = std::mem::replace(&mut out.warnings, run.warnings);
    out.warnings.extend(later);
    Ok(out)
}

/// Searches outcomes aligned with the `kept` rows of `ds` (`None`: all rows).
pub fn search(
    ds: &Dataset,
    outcomes: &Outcomes,
    kept: Option<&[u32]>,
    opts: &SliceSearchOptions,
    progress: &Progress,
) -> Result<SliceSearch> {
    let names: Vec<String> = match &opts.columns {
        Some(c) => c.clone(),
        None => searched_columns(ds.column_names(), opts),
    };
    let data = DataRef::of(ds, ds.rows() - outcomes.len());
    let groups = |name: &str| column_groups(ds, name, kept, &opts.binning);
    search_columns(&names, groups, data, outcomes, kept, opts, progress)
}

/// The columns searched by default: every column of the data but the target.
pub(super) fn searched_columns(names: Vec<String>, opts: &SliceSearchOptions) -> Vec<String> {
    names
        .into_iter()
        .filter(|c| *c != opts.run.target)
        .collect()
}

/// [`search`] over the columns `names`, each grouped by `groups` (its codes aligned with the
/// outcomes).
pub(super) fn search_columns(
    names: &[String],
    mut groups: impl FnMut(&str) -> Result<Grouping>,
    data: DataRef,
    outcomes: &Outcomes,
    kept: Option<&[u32]>,
    opts: &SliceSearchOptions,
    progress: &Progress,
) -> Result<SliceSearch> {
    let n = outcomes.len();
    let regression = matches!(outcomes, Outcomes::Regression { .. });
    let metric = opts
        .metric
        .clone()
        .unwrap_or_else(|| if regression { "mae" } else { "accuracy" }.to_string());
    // Classification metrics are 0/1 per row (Bernoulli).
    let binary = !regression;
    let (inc, v, dir) = per_row(outcomes, &metric)?;
    if opts.min_size.is_nan() || opts.min_size <= 0.0 || opts.min_size.is_infinite() {
        return Err(EngineError::usage(
            "min-size must be a positive fraction (< 1) or row count",
        ));
    }
    let min_rows = if opts.min_size < 1.0 {
        (opts.min_size * n as f64).ceil() as usize
    } else {
        opts.min_size as usize
    }
    .max(1);
    let mut cols: Vec<Grouping> = Vec::new();
    let mut skipped = Vec::new();
    for name in names {
        progress.check()?;
        let g = groups(name)?;
        if g.labels.len() > opts.max_levels {
            skipped.push((
                name.clone(),
                format!(
                    "{} distinct values (more than {})",
                    g.labels.len(),
                    opts.max_levels
                ),
            ));
        } else if g.labels.len() < 2 {
            skipped.push((
                name.clone(),
                "one group only (a single value, or quantile bins that collapse)".to_string(),
            ));
        } else {
            cols.push(g);
        }
    }
    progress.set(0.7, "searching slices");
    let total = accumulate(&[], &[], &inc, &v)[0];
    let overall = total.s / (total.k.max(1) as f64);
    let mut tasks: Vec<Vec<usize>> = (0..cols.len()).map(|i| vec![i]).collect();
    if opts.pairs {
        for a in 0..cols.len() {
            for b in a + 1..cols.len() {
                tasks.push(vec![a, b]);
            }
        }
    }
    let singles: Vec<Vec<Acc>> = (0..cols.len())
        .into_par_iter()
        .map(|i| accumulate(&[&cols[i].codes], &[cols[i].labels.len()], &inc, &v))
        .collect();
    progress.check()?;
    let found: Vec<Vec<Found>> = tasks
        .par_iter()
        .map(|t| {
            let radix: Vec<usize> = t.iter().map(|&c| cols[c].labels.len()).collect();
            let acc = if t.len() == 1 {
                singles[t[0]].clone()
            } else {
                let codes: Vec<&[u32]> = t.iter().map(|&c| &cols[c].codes[..]).collect();
                accumulate(&codes, &radix, &inc, &v)
            };
            let mut res = Vec::new();
            for (cell, a) in acc.iter().enumerate() {
                if (a.rows as usize) < min_rows {
                    continue;
                }
                let mut key = vec![0u32; t.len()];
                let mut rest = cell;
                for j in (0..t.len()).rev() {
                    key[j] = (rest % radix[j]) as u32;
                    rest /= radix[j];
                }
                // A pair with the same rows as one of its columns' groups adds nothing.
                if t.len() == 2
                    && t.iter()
                        .zip(&key)
                        .any(|(&c, &k)| singles[c][k as usize].rows == a.rows)
                {
                    continue;
                }
                if let Some((gap, st)) = score(*a, total, dir, n, binary) {
                    res.push((gap, t.iter().copied().zip(key).collect(), st));
                }
            }
            res
        })
        .collect();
    progress.check()?;
    let mut all: Vec<Found> = found.into_iter().flatten().collect();
    let candidates = all.len();
    all.retain(|x| x.0 > 0.0);
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    all.truncate(opts.top);
    let slices = all
        .into_iter()
        .map(|(gap, key, st)| WeakSlice {
            rows: (0..n)
                .filter(|&i| key.iter().all(|&(c, k)| cols[c].codes[i] == k))
                .map(|i| kept.map_or(i as u32, |kr| kr[i]))
                .collect(),
            conditions: GroupKey(
                key.iter()
                    .map(|&(c, k)| (cols[c].column.clone(), cols[c].labels[k as usize].clone()))
                    .collect(),
            ),
            count: st.count,
            fraction: st.fraction,
            support: st.support,
            metric: st.metric,
            gap,
            ci: st.ci,
            z: st.z,
            p_value: st.p,
        })
        .collect();
    let mut warnings = Vec::new();
    if total.k == 0 {
        warnings.push(Warning::undefined(format!(
            "{metric} is undefined on this data (no rows it counts)"
        )));
    }
    progress.set(1.0, "done");
    Ok(SliceSearch {
        model: None,
        data,
        n,
        metric,
        direction: dir,
        overall,
        min_size: min_rows,
        columns: cols
            .into_iter()
            .map(|g| Grouping {
                codes: Vec::new(),
                ..g
            })
            .collect(),
        skipped,
        candidates,
        slices,
        warnings,
    })
}

//! Sensitive columns → per-row group codes. Text, boolean and low-cardinality numeric columns
//! are categories; other numeric columns are binned (quantile bins like `pandas.qcut`, or user
//! cut points). Missing values (null, empty text, NaN) form their own group, [`MISSING`].
//! Several columns form their intersection: only combinations that occur become groups.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{FairnessOptions, MAX_GROUP_REPLICATES};
use crate::engine::data::extract::label_of_number;
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};

/// Label of the group of rows whose sensitive value is missing.
pub const MISSING: &str = "(missing)";

/// How numeric sensitive columns become groups.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Binning {
    /// Quantile bins for numeric columns with more than `max_categories` distinct values.
    pub quantiles: usize,
    /// User cut points per column (bins `(-inf, c1], (c1, c2], …, (ck, inf)`); override
    /// `quantiles` and also apply to low-cardinality numeric columns.
    pub cuts: BTreeMap<String, Vec<f64>>,
    /// Numeric columns with at most this many distinct values are treated as categories.
    pub max_categories: usize,
}

impl Default for Binning {
    fn default() -> Self {
        Self {
            quantiles: 4,
            cuts: BTreeMap::new(),
            max_categories: 10,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupingKind {
    Category,
    QuantileBins,
    CutBins,
}

/// One column's groups: `labels[codes[row]]` is the group of a kept row; labels are in
/// display order (categories sorted, bins ascending, missing last).
#[derive(Debug, Clone, Serialize)]
pub struct Grouping {
    pub column: String,
    pub kind: GroupingKind,
    /// Bin edges (quantile edges, or the user's cut points) for binned columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edges: Option<Vec<f64>>,
    pub labels: Vec<String>,
    #[serde(skip)]
    pub codes: Vec<u32>,
}

/// A column's values before grouping.
pub(crate) enum Raw {
    /// Sorted distinct labels and per-row index into them (`u32::MAX`: missing).
    Text(Vec<String>, Vec<u32>),
    /// Numbers; NaN: missing (a null or a NaN).
    Num(Vec<f64>),
}

const NONE: u32 = u32::MAX;

/// A sensitive column's values gathered from one frame or from consecutive batches of a file:
/// a numeric column's numbers, or a text column's (any other type read as text) codes in order
/// of first appearance with their dictionary. [`Values::finish`] gives the same [`Raw`] for
/// the batches as for the whole column.
#[derive(Clone)]
pub(crate) enum Values {
    Text {
        index: HashMap<String, u32>,
        order: Vec<String>,
        codes: Vec<u32>,
    },
    Num(Vec<f64>),
}

impl Values {
    /// Empty values of the type of `col`.
    pub fn of(col: &Column) -> Self {
        if col.dtype().is_primitive_numeric() {
            Values::Num(Vec::new())
        } else {
            Values::Text {
                index: HashMap::new(),
                order: Vec::new(),
                codes: Vec::new(),
            }
        }
    }

    /// Appends the rows of `col` (column `name` of the file at `path`), which must be of the
    /// type these values were made for.
    pub fn add(&mut self, path: &std::path::Path, name: &str, col: &Column) -> Result<()> {
        match self {
            Values::Num(v) => {
                if !col.dtype().is_primitive_numeric() {
                    return Err(EngineError::internal("a numeric column changed type"));
                }
                let ca = crate::engine::data::extract::floats(col)?;
                v.reserve(ca.len());
                v.extend(ca.iter().map(|x| x.unwrap_or(f64::NAN)));
            }
            Values::Text {
                index,
                order,
                codes,
            } => {
                if col.dtype().is_primitive_numeric() {
                    return Err(EngineError::internal("a text column changed type"));
                }
                let cast = col.cast(&DataType::String).map_err(|e| {
                    EngineError::column(path, name, format!("cannot be read as groups: {e}"))
                })?;
                let ca = cast
                    .str()
                    .map_err(|e| EngineError::internal(e.to_string()))?;
                codes.reserve(ca.len());
                for v in ca.iter() {
                    let code = match v.map(str::trim).filter(|s| !s.is_empty()) {
                        None => NONE,
                        Some(s) => match index.get(s) {
                            Some(&c) => c,
                            None => {
                                let c = order.len() as u32;
                                index.insert(s.to_string(), c);
                                order.push(s.to_string());
                                c
                            }
                        },
                    };
                    codes.push(code);
                }
            }
        }
        Ok(())
    }

    /// The values of the rows `kept` (`None`: all rows); text labels sorted.
    pub fn finish(self, kept: Option<&[u32]>) -> Raw {
        fn select<T: Copy>(all: Vec<T>, kept: Option<&[u32]>) -> Vec<T> {
            match kept {
                Some(k) => k.iter().map(|&r| all[r as usize]).collect(),
                None => all,
            }
        }
        match self {
            Values::Num(v) => Raw::Num(select(v, kept)),
            Values::Text { order, codes, .. } => {
                // Codes in order of first appearance renumbered in sorted order.
                let codes = select(codes, kept);
                let mut sorted: Vec<u32> = (0..order.len() as u32).collect();
                sorted.sort_by(|&a, &b| order[a as usize].cmp(&order[b as usize]));
                let mut rank = vec![0u32; order.len()];
                for (r, &i) in sorted.iter().enumerate() {
                    rank[i as usize] = r as u32;
                }
                let codes = codes
                    .into_iter()
                    .map(|c| if c == NONE { NONE } else { rank[c as usize] })
                    .collect();
                let mut order: Vec<Option<String>> = order.into_iter().map(Some).collect();
                let labels = sorted
                    .iter()
                    .map(|&i| order[i as usize].take().unwrap_or_default())
                    .collect();
                Raw::Text(labels, codes)
            }
        }
    }
}

fn read_raw(ds: &Dataset, name: &str, kept: Option<&[u32]>) -> Result<Raw> {
    let col = crate::engine::data::extract::column(ds, name)?;
    let mut values = Values::of(col);
    values.add(&ds.path, name, col)?;
    Ok(values.finish(kept))
}

/// Linear-interpolation quantile of sorted values (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Short, exact-enough number text for bin labels.
pub fn fmt_edge(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return label_of_number(x);
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Quantile edges as `pandas.qcut(x, q, duplicates="drop")` computes them.
pub fn quantile_edges(values: &[f64], q: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return Vec::new();
    }
    let q = q.max(1);
    let mut edges: Vec<f64> = (0..=q)
        .map(|i| quantile(&sorted, i as f64 / q as f64))
        .collect();
    edges.dedup();
    edges
}

/// Builds the groups of one column over the kept rows (`None`: all rows).
pub fn column_groups(
    ds: &Dataset,
    name: &str,
    kept: Option<&[u32]>,
    binning: &Binning,
) -> Result<Grouping> {
    raw_groups(&ds.path, name, read_raw(ds, name, kept)?, binning)
}

/// The groups of column `name` of the file at `path` from its values.
pub(crate) fn raw_groups(
    path: &std::path::Path,
    name: &str,
    raw: Raw,
    binning: &Binning,
) -> Result<Grouping> {
    let cuts = binning.cuts.get(name);
    match raw {
        Raw::Text(mut labels, codes) => {
            if cuts.is_some() {
                return Err(EngineError::column(
                    path,
                    name,
                    "has text values; cut points apply to numeric columns only",
                ));
            }
            let missing = labels.len() as u32;
            let codes = codes
                .into_iter()
                .map(|c| if c == NONE { missing } else { c })
                .collect();
            labels.push(MISSING.to_string());
            Ok(compact(Grouping {
                column: name.to_string(),
                kind: GroupingKind::Category,
                edges: None,
                labels,
                codes,
            }))
        }
        Raw::Num(vals) => {
            let present: Vec<f64> = vals.iter().copied().filter(|x| !x.is_nan()).collect();
            let mut distinct = present.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let (kind, edges) = if let Some(c) = cuts {
                let mut c = c.clone();
                if c.iter().any(|x| !x.is_finite()) {
                    return Err(EngineError::usage(format!(
                        "cut points of '{name}' must be finite numbers"
                    )));
                }
                c.sort_by(f64::total_cmp);
                c.dedup();
                (GroupingKind::CutBins, c)
            } else if distinct.len() <= binning.max_categories.max(1) {
                (GroupingKind::Category, Vec::new())
            } else {
                (
                    GroupingKind::QuantileBins,
                    quantile_edges(&present, binning.quantiles),
                )
            };
            let (labels, code_of): (Vec<String>, Box<dyn Fn(f64) -> u32>) = match kind {
                GroupingKind::Category => {
                    let labels = distinct.iter().map(|&x| label_of_number(x)).collect();
                    let d = distinct.clone();
                    (
                        labels,
                        Box::new(move |x| {
                            d.binary_search_by(|p| p.total_cmp(&x)).unwrap_or(0) as u32
                        }),
                    )
                }
                GroupingKind::QuantileBins => {
                    // Right-closed bins (e0, e1], (e1, e2], … with the lowest edge included.
                    let inner: Vec<f64> = edges[1..edges.len().saturating_sub(1)].to_vec();
                    let labels = if edges.len() < 2 {
                        edges.iter().map(|&e| fmt_edge(e)).collect()
                    } else {
                        edges
                            .windows(2)
                            .enumerate()
                            .map(|(i, w)| {
                                let open = if i == 0 { '[' } else { '(' };
                                format!("{open}{}, {}]", fmt_edge(w[0]), fmt_edge(w[1]))
                            })
                            .collect()
                    };
                    (
                        labels,
                        Box::new(move |x| inner.partition_point(|&e| e < x) as u32),
                    )
                }
                GroupingKind::CutBins => {
                    let mut labels = Vec::with_capacity(edges.len() + 1);
                    let mut lo = "-inf".to_string();
                    for &e in &edges {
                        labels.push(format!("({lo}, {}]", fmt_edge(e)));
                        lo = fmt_edge(e);
                    }
                    labels.push(format!("({lo}, inf)"));
                    let e = edges.clone();
                    (
                        labels,
                        Box::new(move |x| e.partition_point(|&c| c < x) as u32),
                    )
                }
            };
            let missing = labels.len() as u32;
            let codes: Vec<u32> = vals
                .iter()
                .map(|&v| if v.is_nan() { missing } else { code_of(v) })
                .collect();
            let mut labels = labels;
            labels.push(MISSING.to_string());
            Ok(compact(Grouping {
                column: name.to_string(),
                kind,
                edges: (kind != GroupingKind::Category).then_some(edges),
                labels,
                codes,
            }))
        }
    }
}

/// Drops labels no row has (empty bins, the missing group when nothing is missing).
fn compact(mut g: Grouping) -> Grouping {
    let mut used = vec![false; g.labels.len()];
    for &c in &g.codes {
        used[c as usize] = true;
    }
    let mut remap = vec![0u32; g.labels.len()];
    let mut labels = Vec::new();
    for (i, l) in g.labels.iter().enumerate() {
        if used[i] {
            remap[i] = labels.len() as u32;
            labels.push(l.clone());
        }
    }
    for c in &mut g.codes {
        *c = remap[*c as usize];
    }
    g.labels = labels;
    g
}

/// The intersection of several groupings: one group per combination that occurs, ordered
/// lexicographically by the columns' label order.
#[derive(Debug, Clone)]
pub struct Intersection {
    /// Per group, the label index in each column's grouping.
    pub keys: Vec<Vec<u32>>,
    /// Group of each kept row.
    pub codes: Vec<u32>,
}

pub fn intersect(cols: &[&Grouping]) -> Intersection {
    if let [one] = cols {
        // Every label of a compacted grouping occurs: the groups are its labels.
        return Intersection {
            keys: (0..one.labels.len() as u32).map(|k| vec![k]).collect(),
            codes: one.codes.clone(),
        };
    }
    let n = cols.first().map_or(0, |g| g.codes.len());
    let mut map: BTreeMap<Vec<u32>, u32> = BTreeMap::new();
    let mut row_keys: Vec<u32> = Vec::with_capacity(n);
    // Combined key as a mixed-radix number when it fits, else via the map directly.
    let radix: Vec<u64> = cols.iter().map(|g| g.labels.len().max(1) as u64).collect();
    let fits = radix
        .iter()
        .try_fold(1u64, |a, &r| a.checked_mul(r))
        .is_some();
    if fits {
        let mut combined: Vec<u64> = vec![0; n];
        for (g, &r) in cols.iter().zip(&radix) {
            for (c, &code) in combined.iter_mut().zip(&g.codes) {
                *c = *c * r + u64::from(code);
            }
        }
        let mut uniq = combined.clone();
        uniq.sort_unstable();
        uniq.dedup();
        for &c in &combined {
            row_keys.push(uniq.partition_point(|&u| u < c) as u32);
        }
        let keys = uniq
            .iter()
            .map(|&u| {
                let mut rest = u;
                let mut key = vec![0u32; cols.len()];
                for j in (0..cols.len()).rev() {
                    key[j] = (rest % radix[j]) as u32;
                    rest /= radix[j];
                }
                key
            })
            .collect();
        return Intersection {
            keys,
            codes: row_keys,
        };
    }
    for i in 0..n {
        let key: Vec<u32> = cols.iter().map(|g| g.codes[i]).collect();
        map.entry(key).or_insert(0);
    }
    for (i, v) in map.values_mut().enumerate() {
        *v = i as u32;
    }
    for i in 0..n {
        let key: Vec<u32> = cols.iter().map(|g| g.codes[i]).collect();
        row_keys.push(map.get(&key).copied().unwrap_or(0));
    }
    Intersection {
        keys: map.into_keys().collect(),
        codes: row_keys,
    }
}

/// Refuses a slicing with more groups than `max_groups`, or more groups × resamples than
/// [`MAX_GROUP_REPLICATES`], before its members and replicates are allocated.
pub(crate) fn check_group_count(gs: &[&Grouping], n: usize, opts: &FairnessOptions) -> Result<()> {
    let what = match gs {
        [one] => format!("column '{}' has", one.column),
        _ => format!(
            "the intersection {} has",
            gs.iter()
                .map(|g| g.column.as_str())
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    };
    if n > opts.max_groups {
        return Err(EngineError::usage(format!(
            "{what} {n} groups (more than --max-groups {}): bin it (numeric columns: --bins or --cuts; text: fewer categories) or raise --max-groups",
            opts.max_groups
        )));
    }
    let resamples = opts.bootstrap.resamples;
    if n.saturating_mul(resamples) > MAX_GROUP_REPLICATES {
        return Err(EngineError::usage(format!(
            "{what} {n} groups; with {resamples} bootstrap resamples that is more than the {MAX_GROUP_REPLICATES} group replicates Assay holds in memory: lower --bootstrap to {} or use fewer groups",
            MAX_GROUP_REPLICATES / n.max(1)
        )));
    }
    Ok(())
}

//! Evidently 0.7's binning for the histogram-based statistics (`get_binned_data` in
//! `evidently/legacy/calculations/stattests/utils.py`), and the shared-bin histograms the GUI
//! overlays.
//!
//! Rules (exactly as Evidently 0.7.23, NaN/±inf already dropped):
//!
//! 1. **Numeric column whose reference has more than 20 distinct values**: bin edges are
//!    `np.histogram_bin_edges(concat(ref, cur), bins="sturges")` — width = range /
//!    (log2(n_ref + n_cur) + 1), raised to 1 when both columns are integer-typed,
//!    `ceil(range / width)` equal bins from min to max (one bin of [v − 0.5, v + 0.5] when
//!    the range is 0); edges are `start + i·step` with the last edge exactly `max`. Counts
//!    are `np.histogram(x, edges)`: bins are half-open [e_i, e_(i+1)) except the last, which
//!    is closed. Percent = count / n of that sample.
//! 2. **Otherwise** (categorical columns, and numeric columns with ≤ 20 distinct reference
//!    values): one bin per distinct value of the union of both samples; percent = count / n.
//! 3. **Empty-bin epsilon** (PSI only; Jensen–Shannon uses the raw percents): in each sample
//!    separately, zero percents are replaced by `min(non-zero) / 10⁶` when that minimum is
//!    ≤ 0.0001, else by 0.0001.

use serde::Serialize;

use super::columns::Text;
use crate::engine::data::extract::label_of_number;

/// Per-category counts of both samples over the union of their categories, labels sorted
/// (numerically for numeric columns, by code point for text).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Counts {
    pub labels: Vec<String>,
    pub reference: Vec<u64>,
    pub current: Vec<u64>,
}

impl Counts {
    pub fn total_reference(&self) -> u64 {
        self.reference.iter().sum()
    }
    pub fn total_current(&self) -> u64 {
        self.current.iter().sum()
    }

    /// Distinct values of two sorted numeric samples.
    pub fn from_sorted(a: &[f64], b: &[f64]) -> Counts {
        let mut c = Counts::default();
        for (v, na, nb) in merge_distinct(a, b) {
            c.labels.push(label_of_number(v));
            c.reference.push(na as u64);
            c.current.push(nb as u64);
        }
        c
    }

    /// Categories of two dictionary-encoded text columns; `rows_b` selects rows of `b`.
    pub fn from_texts(a: &Text, b: &Text, rows_b: Option<&super::rows::Rows>) -> Counts {
        let mut map: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for (s, &n) in a.dict.iter().zip(&a.code_counts(None)) {
            if n > 0 {
                map.entry(s).or_default().0 += n;
            }
        }
        for (s, &n) in b.dict.iter().zip(&b.code_counts(rows_b)) {
            if n > 0 {
                map.entry(s).or_default().1 += n;
            }
        }
        let mut c = Counts::default();
        for (k, (r, o)) in map {
            c.labels.push(k.to_string());
            c.reference.push(r);
            c.current.push(o);
        }
        c
    }

    /// Categories of two text samples (missing values already removed).
    pub fn from_labels<'a>(
        a: impl Iterator<Item = &'a str>,
        b: impl Iterator<Item = &'a str>,
    ) -> Counts {
        let mut map: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
        for s in a {
            map.entry(s).or_default().0 += 1;
        }
        for s in b {
            map.entry(s).or_default().1 += 1;
        }
        let mut c = Counts::default();
        for (k, (r, o)) in map {
            c.labels.push(k.to_string());
            c.reference.push(r);
            c.current.push(o);
        }
        c
    }
}

/// Number of distinct values of a sorted sample.
pub fn n_unique_sorted(x: &[f64]) -> usize {
    if x.is_empty() {
        return 0;
    }
    1 + x.windows(2).filter(|w| w[0] != w[1]).count()
}

/// `np.histogram_bin_edges(concat(a, b), bins="sturges")` for sorted, non-empty a and b.
pub fn sturges_edges(a: &[f64], b: &[f64], integer: bool) -> Vec<f64> {
    sturges_edges_of(
        a[0].min(b[0]),
        a[a.len() - 1].max(b[b.len() - 1]),
        (a.len() + b.len()) as f64,
        integer,
    )
}

/// Sturges' edges of `n` values from `lo` to `hi` (they depend on nothing else).
pub fn sturges_edges_of(lo: f64, hi: f64, n: f64, integer: bool) -> Vec<f64> {
    let (mut first, mut last) = (lo, hi);
    if first == last {
        first -= 0.5;
        last += 0.5;
    }
    let mut width = (hi - lo) / (n.log2() + 1.0);
    let bins = if width > 0.0 {
        if integer && width < 1.0 {
            width = 1.0;
        }
        ((last - first) / width).ceil() as usize
    } else {
        1
    };
    let bins = bins.max(1);
    let step = (last - first) / bins as f64;
    let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + first).collect();
    edges[bins] = last;
    edges
}

/// `np.histogram(x, edges)[0]` for a sorted sample.
pub fn histogram_sorted(x: &[f64], edges: &[f64]) -> Vec<u64> {
    let k = edges.len() - 1;
    let mut cum = Vec::with_capacity(edges.len());
    for (i, &e) in edges.iter().enumerate() {
        let pos = if i == k {
            x.partition_point(|&v| v <= e)
        } else {
            x.partition_point(|&v| v < e)
        };
        cum.push(pos);
    }
    cum.windows(2).map(|w| (w[1] - w[0]) as u64).collect()
}

/// Percents per bin of reference and current, before the empty-bin epsilon.
#[derive(Debug, Clone)]
pub struct Binned {
    pub reference: Vec<f64>,
    pub current: Vec<f64>,
}

/// Evidently's `get_binned_data` without `feel_zeroes`: sturges bins for numeric columns
/// with > 20 distinct reference values, else per-value counts.
pub fn binned_percents(numeric: Option<(&[f64], &[f64], bool)>, counts: &Counts) -> Binned {
    if let Some((a, b, integer)) = numeric {
        if n_unique_sorted(a) > 20 {
            let edges = sturges_edges(a, b, integer);
            let (na, nb) = (a.len() as f64, b.len() as f64);
            return Binned {
                reference: histogram_sorted(a, &edges)
                    .iter()
                    .map(|&c| c as f64 / na)
                    .collect(),
                current: histogram_sorted(b, &edges)
                    .iter()
                    .map(|&c| c as f64 / nb)
                    .collect(),
            };
        }
    }
    let (na, nb) = (
        counts.total_reference() as f64,
        counts.total_current() as f64,
    );
    Binned {
        reference: counts.reference.iter().map(|&c| c as f64 / na).collect(),
        current: counts.current.iter().map(|&c| c as f64 / nb).collect(),
    }
}

/// Evidently's empty-bin epsilon (`feel_zeroes=True`), applied to one sample's percents.
pub fn fill_zeroes(p: &mut [f64]) {
    let min_nz = p
        .iter()
        .copied()
        .filter(|&v| v != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !min_nz.is_finite() {
        return;
    }
    let eps = if min_nz <= 0.0001 {
        min_nz / 1e6
    } else {
        0.0001
    };
    for v in p.iter_mut() {
        if *v == 0.0 {
            *v = eps;
        }
    }
}

/// What a GUI overlays for one column: shared bins (numeric) or category counts.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Histogram {
    /// `edges.len() == reference.len() + 1`; the same sturges edges as rule 1 above.
    Numeric {
        edges: Vec<f64>,
        reference: Vec<u64>,
        current: Vec<u64>,
    },
    /// Categories sorted by total count (descending); at most `MAX_CATEGORIES`, the rest
    /// summed into `other_reference` / `other_current`.
    Categorical {
        labels: Vec<String>,
        reference: Vec<u64>,
        current: Vec<u64>,
        other_reference: u64,
        other_current: u64,
    },
}

pub const MAX_CATEGORIES: usize = 50;

pub fn numeric_histogram(a: &[f64], b: &[f64], integer: bool) -> Histogram {
    let edges = sturges_edges(a, b, integer);
    Histogram::Numeric {
        reference: histogram_sorted(a, &edges),
        current: histogram_sorted(b, &edges),
        edges,
    }
}

pub fn categorical_histogram(c: &Counts) -> Histogram {
    let mut idx: Vec<usize> = (0..c.labels.len()).collect();
    idx.sort_by(|&i, &j| {
        (c.reference[j] + c.current[j])
            .cmp(&(c.reference[i] + c.current[i]))
            .then(i.cmp(&j))
    });
    let (keep, rest) = idx.split_at(idx.len().min(MAX_CATEGORIES));
    Histogram::Categorical {
        labels: keep.iter().map(|&i| c.labels[i].clone()).collect(),
        reference: keep.iter().map(|&i| c.reference[i]).collect(),
        current: keep.iter().map(|&i| c.current[i]).collect(),
        other_reference: rest.iter().map(|&i| c.reference[i]).sum(),
        other_current: rest.iter().map(|&i| c.current[i]).sum(),
    }
}

/// Walks two ascending samples together: each distinct value `v`, ascending, with how many
/// elements of `a` and of `b` equal it.
pub fn merge_distinct<'a>(
    a: &'a [f64],
    b: &'a [f64],
) -> impl Iterator<Item = (f64, usize, usize)> + 'a {
    let (mut i, mut j) = (0usize, 0usize);
    std::iter::from_fn(move || {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => return None,
        };
        let (i0, j0) = (i, j);
        while i < a.len() && a[i] == v {
            i += 1;
        }
        while j < b.len() && b[j] == v {
            j += 1;
        }
        Some((v, i - i0, j - j0))
    })
}

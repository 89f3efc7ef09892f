//! The numeric statistics of [`super::column_drift::evaluate`] on a current sample kept as its
//! distinct values with counts ([`Dist`]) instead of every value: the streamed drift path
//! ([`super::stream`]) builds a `Dist` batch by batch, and these functions walk it exactly as
//! the in-memory functions walk the sorted sample — the same distinct values in the same
//! order with the same counts, so every number (KS statistic and p-value, Wasserstein sum,
//! sturges edges, histogram counts, category counts) is the same to the bit.

use super::binning::{self, Binned, Counts, Histogram};
use super::column_drift::{self, default_method, EffectSize, Method, Outcome, Stats};
use super::columns::ColumnKind;
use super::stattests::{self, KsResult};
use crate::engine::data::extract::label_of_number;

/// A sample as its distinct finite values, ascending (`f64::total_cmp`; values equal under
/// `==`, such as -0.0 and 0.0, are one entry holding the first of them), with counts.
#[derive(Debug, Clone, Default)]
pub struct Dist {
    pub values: Vec<f64>,
    pub counts: Vec<u64>,
}

impl Dist {
    /// The distinct values of a sorted sample.
    pub fn from_sorted(x: &[f64]) -> Dist {
        let mut d = Dist::default();
        for &v in x {
            match d.values.last() {
                Some(&l) if l == v => {
                    if let Some(c) = d.counts.last_mut() {
                        *c += 1;
                    }
                }
                _ => {
                    d.values.push(v);
                    d.counts.push(1);
                }
            }
        }
        d
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Both samples as one (values in both are added up).
    pub fn merge(&self, other: &Dist) -> Dist {
        let mut d = Dist {
            values: Vec::with_capacity(self.len() + other.len()),
            counts: Vec::with_capacity(self.len() + other.len()),
        };
        let (mut i, mut j) = (0, 0);
        while i < self.len() || j < other.len() {
            let take_a = match (self.values.get(i), other.values.get(j)) {
                (Some(a), Some(b)) => a.total_cmp(b).is_le(),
                (Some(_), None) => true,
                _ => false,
            };
            let (v, c) = if take_a {
                i += 1;
                (self.values[i - 1], self.counts[i - 1])
            } else {
                j += 1;
                (other.values[j - 1], other.counts[j - 1])
            };
            match d.values.last() {
                Some(&l) if l == v => {
                    if let Some(n) = d.counts.last_mut() {
                        *n += c;
                    }
                }
                _ => {
                    d.values.push(v);
                    d.counts.push(c);
                }
            }
        }
        d
    }

    /// (most frequent value — the smallest on ties —, its count, distinct values).
    pub fn mode(&self) -> (Option<f64>, u64, usize) {
        let mut best = (None, 0u64);
        for (&v, &c) in self.values.iter().zip(&self.counts) {
            if c > best.1 {
                best = (Some(v), c);
            }
        }
        (best.0, best.1, self.len())
    }

    /// How many values are below `e` (`inclusive`: at most `e`).
    fn rank(&self, prefix: &[u64], e: f64, inclusive: bool) -> u64 {
        let k = if inclusive {
            self.values.partition_point(|&v| v <= e)
        } else {
            self.values.partition_point(|&v| v < e)
        };
        prefix[k]
    }
}

/// A [`Dist`] built from batches: sorted runs merged while they are of similar size, so
/// merging costs O(n log n) over the stream.
#[derive(Debug, Default)]
pub struct DistBuilder {
    runs: Vec<Dist>,
}

impl DistBuilder {
    /// Adds a batch of values (non-finite ones are left out).
    pub fn add(&mut self, values: &[f64]) {
        let sorted = super::columns::sorted_finite(values);
        if sorted.is_empty() {
            return;
        }
        self.runs.push(Dist::from_sorted(&sorted));
        while self.runs.len() >= 2 {
            let n = self.runs.len();
            if self.runs[n - 2].len() > 2 * self.runs[n - 1].len() {
                break;
            }
            let (b, a) = (self.runs.pop(), self.runs.pop());
            if let (Some(a), Some(b)) = (a, b) {
                self.runs.push(a.merge(&b));
            }
        }
    }

    pub fn finish(mut self) -> Dist {
        let mut out = self.runs.pop().unwrap_or_default();
        while let Some(r) = self.runs.pop() {
            out = r.merge(&out);
        }
        out
    }
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

/// Distinct values of `a` (sorted) and `b` together (`merged_unique`).
fn merged_unique(a: &[f64], b: &Dist) -> usize {
    merge_distinct(a, b).count()
}

/// [`binning::merge_distinct`] with `b` as a [`Dist`].
fn merge_distinct<'a>(a: &'a [f64], b: &'a Dist) -> impl Iterator<Item = (f64, usize, u64)> + 'a {
    let (mut i, mut j) = (0usize, 0usize);
    std::iter::from_fn(move || {
        let v = match (a.get(i), b.values.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => return None,
        };
        let i0 = i;
        while i < a.len() && a[i] == v {
            i += 1;
        }
        let mut nb = 0;
        while j < b.len() && b.values[j] == v {
            nb += b.counts[j];
            j += 1;
        }
        Some((v, i - i0, nb))
    })
}

/// [`stattests::ks_2samp`] with the current sample as a [`Dist`].
pub fn ks_2samp(a: &[f64], b: &Dist) -> KsResult {
    let (n1, n2) = (a.len(), b.total() as usize);
    let (f1, f2) = (n1 as f64, n2 as f64);
    let (mut i, mut j, mut jn) = (0usize, 0usize, 0usize);
    let (mut max_s, mut min_s) = (f64::NEG_INFINITY, f64::INFINITY);
    while i < n1 || j < b.len() {
        let v = match (a.get(i), b.values.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        while i < n1 && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b.values[j] <= v {
            jn += b.counts[j] as usize;
            j += 1;
        }
        let diff = i as f64 / f1 - jn as f64 / f2;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    stattests::ks_result(max_s, min_s, n1, n2)
}

/// [`stattests::wasserstein_normed`] with the current sample as a [`Dist`].
pub fn wasserstein_normed(a: &[f64], b: &Dist) -> f64 {
    let (n1, n2) = (a.len() as f64, b.total() as f64);
    let (mut i, mut j) = (0usize, 0u64);
    let mut total = 0.0;
    let mut prev: Option<f64> = None;
    for (v, na, nb) in merge_distinct(a, b) {
        if let Some(p) = prev {
            total += (i as f64 / n1 - j as f64 / n2).abs() * (v - p);
        }
        i += na;
        j += nb;
        prev = Some(v);
    }
    total / stattests::std_pop(a).max(0.001)
}

/// [`Counts::from_sorted`] with the current sample as a [`Dist`].
pub fn counts(a: &[f64], b: &Dist) -> Counts {
    let mut c = Counts::default();
    for (v, na, nb) in merge_distinct(a, b) {
        c.labels.push(label_of_number(v));
        c.reference.push(na as u64);
        c.current.push(nb);
    }
    c
}

/// [`binning::sturges_edges`] with `b` as a [`Dist`] (both non-empty).
fn sturges_edges(a: &[f64], b: &Dist, integer: bool) -> Vec<f64> {
    // The edges depend on min, max and n only: two values standing for b give the same.
    let (b_lo, b_hi) = (b.values[0], b.values[b.len() - 1]);
    binning::sturges_edges_of(
        a[0].min(b_lo),
        a[a.len() - 1].max(b_hi),
        (a.len() as u64 + b.total()) as f64,
        integer,
    )
}

/// [`binning::histogram_sorted`] of a [`Dist`].
fn histogram(b: &Dist, edges: &[f64]) -> Vec<u64> {
    let mut prefix = Vec::with_capacity(b.len() + 1);
    prefix.push(0u64);
    for &c in &b.counts {
        prefix.push(prefix[prefix.len() - 1] + c);
    }
    let k = edges.len() - 1;
    let cum: Vec<u64> = edges
        .iter()
        .enumerate()
        .map(|(i, &e)| b.rank(&prefix, e, i == k))
        .collect();
    cum.windows(2).map(|w| w[1] - w[0]).collect()
}

/// [`column_drift::evaluate`] of a numeric-storage column: `a` the sorted finite reference,
/// `b` the current sample (both non-empty).
pub fn evaluate(
    kind: ColumnKind,
    a: &[f64],
    b: &Dist,
    integer: bool,
    method: Option<Method>,
    threshold: Option<f64>,
) -> Outcome {
    let mut st = Stats::default();
    let n_ref = a.len();
    let combined_unique = merged_unique(a, b);
    let n_values = combined_unique;
    if kind == ColumnKind::Numeric {
        let ks = ks_2samp(a, b);
        st.ks_statistic = finite(ks.statistic);
        st.ks_p_value = finite(ks.p_value);
        st.ks_mode = Some(ks.mode);
        st.wasserstein_normed = finite(wasserstein_normed(a, b));
    }
    let needs_counts = kind == ColumnKind::Categorical
        || binning::n_unique_sorted(a) <= 20
        || combined_unique <= 5
        || matches!(method, Some(Method::Chi2 | Method::Z));
    let counts_owned = needs_counts.then(|| counts(a, b));
    let empty = Counts::default();
    let c = counts_owned.as_ref().unwrap_or(&empty);
    let binned = if kind == ColumnKind::Numeric && binning::n_unique_sorted(a) > 20 {
        let edges = sturges_edges(a, b, integer);
        let (na, nb) = (a.len() as f64, b.total() as f64);
        Binned {
            reference: binning::histogram_sorted(a, &edges)
                .iter()
                .map(|&x| x as f64 / na)
                .collect(),
            current: histogram(b, &edges)
                .iter()
                .map(|&x| x as f64 / nb)
                .collect(),
        }
    } else {
        binning::binned_percents(None, c)
    };
    column_drift::histogram_js_psi(&mut st, &binned);
    if let Some(c) = counts_owned.as_ref() {
        if kind == ColumnKind::Categorical || combined_unique <= 5 || method.is_some() {
            column_drift::categorical_tests(&mut st, c, method);
        }
    }
    let histogram = if kind == ColumnKind::Numeric {
        let edges = sturges_edges(a, b, integer);
        Histogram::Numeric {
            reference: binning::histogram_sorted(a, &edges),
            current: histogram(b, &edges),
            edges,
        }
    } else {
        binning::categorical_histogram(c)
    };
    conclude(kind, st, histogram, n_ref, n_values, method, threshold)
}

/// Method, threshold, verdict and effect size: the end of [`column_drift::evaluate`].
fn conclude(
    kind: ColumnKind,
    st: Stats,
    histogram: Histogram,
    n_ref: usize,
    n_values: usize,
    method: Option<Method>,
    threshold: Option<f64>,
) -> Outcome {
    let method = method
        .filter(|m| m.supports(kind))
        .unwrap_or_else(|| default_method(kind, n_ref, n_values));
    let threshold = threshold.unwrap_or_else(|| method.default_threshold());
    let score = st.score(method);
    let drifted = score.is_some_and(|s| method.drifted(s, threshold));
    let (measure, value) = match method {
        Method::Ks => ("ks_statistic", st.ks_statistic),
        Method::Chi2 => ("cramers_v", st.cramers_v),
        Method::Z => ("cohens_h", st.cohens_h),
        Method::Wasserstein => ("wasserstein_normed", st.wasserstein_normed),
        Method::JensenShannon => ("jensen_shannon", st.jensen_shannon),
        Method::Psi => ("psi", st.psi),
    };
    let (statistic, p_value) = match method {
        Method::Ks => (st.ks_statistic, st.ks_p_value),
        Method::Chi2 => (st.chi2_statistic, st.chi2_p_value),
        Method::Z => (st.z_statistic, st.z_p_value),
        _ => (score, None),
    };
    Outcome {
        method,
        statistic,
        p_value,
        threshold,
        drifted,
        effect_size: EffectSize { measure, value },
        stats: st,
        histogram,
        n_values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_statistics_equal_the_sorted_ones() {
        let a: Vec<f64> = (0..300).map(|i| ((i * 37) % 101) as f64 * 0.5).collect();
        let mut a = a;
        a.sort_by(f64::total_cmp);
        let raw: Vec<f64> = (0..5000)
            .map(|i| ((i * 53) % 97) as f64 * 0.55 - 3.0)
            .chain([-0.0, 0.0, f64::NAN, f64::INFINITY])
            .collect();
        let mut builder = DistBuilder::default();
        for chunk in raw.chunks(333) {
            builder.add(chunk);
        }
        let d = builder.finish();
        let b = super::super::columns::sorted_finite(&raw);
        assert_eq!(d.total() as usize, b.len());
        let k1 = stattests::ks_2samp(&a, &b);
        let k2 = ks_2samp(&a, &d);
        assert_eq!(k1.statistic.to_bits(), k2.statistic.to_bits());
        assert_eq!(k1.p_value.to_bits(), k2.p_value.to_bits());
        assert_eq!(
            stattests::wasserstein_normed(&a, &b).to_bits(),
            wasserstein_normed(&a, &d).to_bits()
        );
        assert_eq!(
            binning::sturges_edges(&a, &b, false),
            sturges_edges(&a, &d, false)
        );
        let e = binning::sturges_edges(&a, &b, true);
        assert_eq!(binning::histogram_sorted(&b, &e), histogram(&d, &e));
        let c1 = Counts::from_sorted(&a, &b);
        let c2 = counts(&a, &d);
        assert_eq!((c1.labels, c1.current), (c2.labels, c2.current));
    }
}

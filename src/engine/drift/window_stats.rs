//! One column's chosen statistic alone, for the whole current data and for many windows of
//! it against a reference prepared once: what [`super::chunked::per_window`] needs. Every
//! number is the one [`super::column_drift::evaluate`] gives for the same method (the same
//! functions of [`super::stattests`] and [`super::binning`] on the same inputs, summed in the
//! same order), without the statistics, histograms and effect sizes the window does not
//! report. The reference's sorted values, standard deviation and distinct-value count (numeric
//! storage) or its category counts (text) are computed once per column, not once per window.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::binning::{self, Counts};
use super::column_drift::Method;
use super::columns::{sorted_finite, ColumnKind, Raw};
use super::rows::Rows;
use super::stattests;
use super::Prepared;

/// A reference column prepared for many windows.
pub(crate) enum Reference {
    Numeric {
        /// Finite values, ascending.
        sorted: Vec<f64>,
        /// `np.std` of `sorted` (Wasserstein's norm).
        std: f64,
        /// Distinct values of `sorted` (Evidently's binning rule).
        n_unique: usize,
        /// Both files store integers (sturges widths).
        integer: bool,
    },
    Text {
        /// The union of both dictionaries, sorted; reference rows per entry.
        labels: Vec<String>,
        reference: Vec<u64>,
        /// Entry of `labels` per code of the current column's dictionary.
        slot_of_code: Vec<u32>,
    },
}

/// A window's (or the whole data's) result: the method's statistic, its p-value when it is
/// a test, and the verdict, as [`super::column_drift::Outcome`] holds them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Value {
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub drifted: bool,
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl Reference {
    /// `None` for storage the statistics never see (mixed storage, which
    /// [`super::prepare`] converts away).
    pub(crate) fn of(p: &Prepared, sorted: Option<Vec<f64>>) -> Option<Reference> {
        match (&p.reference, &p.current, sorted) {
            (Raw::Numeric { integer: ia, .. }, Raw::Numeric { integer: ib, .. }, Some(sorted)) => {
                Some(Reference::Numeric {
                    std: stattests::std_pop(&sorted),
                    n_unique: binning::n_unique_sorted(&sorted),
                    sorted,
                    integer: *ia && *ib,
                })
            }
            (Raw::Text { values: ra }, Raw::Text { values: rb }, _) => {
                let mut map: BTreeMap<&str, (u64, Option<u32>)> = BTreeMap::new();
                for (s, &n) in ra.dict.iter().zip(&ra.code_counts(None)) {
                    map.entry(s).or_default().0 += n;
                }
                for s in &rb.dict {
                    map.entry(s).or_default();
                }
                let mut labels = Vec::with_capacity(map.len());
                let mut reference = Vec::with_capacity(map.len());
                let mut slot: std::collections::HashMap<&str, u32> = Default::default();
                for (k, (n, _)) in map {
                    slot.insert(k, labels.len() as u32);
                    labels.push(k.to_string());
                    reference.push(n);
                }
                let slot_of_code = rb
                    .dict
                    .iter()
                    .map(|s| slot.get(s.as_str()).copied().unwrap_or(u32::MAX))
                    .collect();
                Some(Reference::Text {
                    labels,
                    reference,
                    slot_of_code,
                })
            }
            _ => None,
        }
    }

    /// Values used of the reference (missing, NaN and ±inf dropped).
    pub(crate) fn n(&self) -> usize {
        match self {
            Reference::Numeric { sorted, .. } => sorted.len(),
            Reference::Text { reference, .. } => reference.iter().sum::<u64>() as usize,
        }
    }
}

/// The current values of `rows` (`None`: every row) ready for the statistics.
pub(crate) enum Current<'a> {
    /// Finite values, ascending (owned, or a window's part of a column's sorted windows).
    Numeric(Cow<'a, [f64]>),
    /// The window's categories (labels sorted, entries with no row on either side left out).
    Text(Counts),
}

impl Current<'_> {
    pub(crate) fn of(p: &Prepared, r: &Reference, rows: Option<&Rows>) -> Option<Current<'static>> {
        match (&p.current, r) {
            (Raw::Numeric { values, .. }, Reference::Numeric { .. }) => {
                Some(Current::Numeric(Cow::Owned(sorted_rows(values, rows))))
            }
            (
                Raw::Text { values },
                Reference::Text {
                    labels,
                    reference,
                    slot_of_code,
                },
            ) => {
                let mut n = vec![0u64; labels.len()];
                let mut add = |code: u32| {
                    if let Some(&s) = slot_of_code.get(code as usize) {
                        if let Some(v) = n.get_mut(s as usize) {
                            *v += 1;
                        }
                    }
                };
                match rows {
                    None => values.codes.iter().for_each(|&c| add(c)),
                    Some(rows) => rows.iter().for_each(|i| add(values.codes[i])),
                }
                let mut c = Counts::default();
                for ((label, &r), &o) in labels.iter().zip(reference).zip(&n) {
                    if r > 0 || o > 0 {
                        c.labels.push(label.clone());
                        c.reference.push(r);
                        c.current.push(o);
                    }
                }
                Some(Current::Text(c))
            }
            _ => None,
        }
    }

    /// Distinct values over both samples (what the default method depends on), counted up
    /// to `cap`.
    pub(crate) fn n_values_upto(&self, r: &Reference, cap: usize) -> usize {
        match (self, r) {
            (Current::Numeric(b), Reference::Numeric { sorted, .. }) => {
                binning::merge_distinct(sorted, b).take(cap).count()
            }
            (Current::Text(c), _) => c.labels.len().min(cap),
            _ => 0,
        }
    }
}

/// The rows' finite values sorted (`None`: every row); a run of consecutive rows is read in
/// place.
pub(crate) fn sorted_rows(values: &[f64], rows: Option<&Rows>) -> Vec<f64> {
    match rows.map(Rows::as_range) {
        None => sorted_finite(values),
        Some(Some(r)) => sorted_finite(&values[r]),
        Some(None) => sorted_finite(&rows.map_or_else(Vec::new, |r| r.gather(values))),
    }
}

/// `method`'s statistic of the current values against the reference, and its verdict at
/// `threshold`.
pub(crate) fn value(
    kind: ColumnKind,
    r: &Reference,
    c: &Current,
    method: Method,
    threshold: f64,
) -> Value {
    // (statistic, p-value, score judged against the threshold)
    let (statistic, p_value, score) = match (r, c) {
        (
            Reference::Numeric {
                sorted: a,
                std,
                n_unique,
                integer,
            },
            Current::Numeric(b),
        ) => match method {
            Method::Ks if kind == ColumnKind::Numeric => {
                let ks = stattests::ks_2samp(a, b);
                let p = finite(ks.p_value);
                (finite(ks.statistic), p, p)
            }
            Method::Wasserstein if kind == ColumnKind::Numeric => {
                let w = finite(stattests::wasserstein(a, b) / std.max(0.001));
                (w, None, w)
            }
            Method::Chi2 | Method::Z => tests(&Counts::from_sorted(a, b), method),
            Method::JensenShannon | Method::Psi => {
                let binned = if kind == ColumnKind::Numeric && *n_unique > 20 {
                    binning::binned_percents(Some((a, b, *integer)), &Counts::default())
                } else {
                    let (mut ra, mut rb) = (Vec::new(), Vec::new());
                    for (_, na, nb) in binning::merge_distinct(a, b) {
                        ra.push(na as f64 / a.len() as f64);
                        rb.push(nb as f64 / b.len() as f64);
                    }
                    binning::Binned {
                        reference: ra,
                        current: rb,
                    }
                };
                let s = distance(&binned, method);
                (s, None, s)
            }
            // KS and Wasserstein of a categorical column are never chosen.
            Method::Ks | Method::Wasserstein => (None, None, None),
        },
        (Reference::Text { .. }, Current::Text(counts)) => match method {
            Method::Chi2 | Method::Z => tests(counts, method),
            Method::JensenShannon | Method::Psi => {
                let s = distance(&binning::binned_percents(None, counts), method);
                (s, None, s)
            }
            Method::Ks | Method::Wasserstein => (None, None, None),
        },
        _ => (None, None, None),
    };
    Value {
        statistic,
        p_value,
        drifted: score.is_some_and(|s| method.drifted(s, threshold)),
    }
}

/// Chi-square or Z: (statistic, p-value, p-value).
fn tests(c: &Counts, method: Method) -> (Option<f64>, Option<f64>, Option<f64>) {
    if method == Method::Z {
        let z = stattests::z_test(c);
        let p = finite(z.p_value);
        (finite(z.statistic), p, p)
    } else {
        let (chi, p) = stattests::chi_square(c);
        let p = finite(p);
        (Some(chi), p, p)
    }
}

/// Jensen-Shannon on the raw percents, PSI after the empty-bin epsilon.
fn distance(binned: &binning::Binned, method: Method) -> Option<f64> {
    if method == Method::JensenShannon {
        finite(stattests::jensen_shannon(
            &binned.reference,
            &binned.current,
        ))
    } else {
        let (mut r, mut c) = (binned.reference.clone(), binned.current.clone());
        binning::fill_zeroes(&mut r);
        binning::fill_zeroes(&mut c);
        finite(stattests::psi(&r, &c))
    }
}

//! One column of [`super::chunked`]'s drift per window: the whole current column's method,
//! threshold and (when asked) statistic, each window's statistic with that method, and each
//! window's missing and unseen counts.

use std::collections::HashSet;
use std::path::PathBuf;

use rayon::prelude::*;

use super::column_drift::default_method;
use super::columns::{self, Raw};
use super::over_time::Series;
use super::window_stats::{self, Current, Reference, Value};
use super::{Method, Prepared};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// Missing values and values never seen in the reference, per window, of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowCounts {
    pub missing: Vec<usize>,
    /// Rows whose (text) value occurs nowhere in the reference's (text) column.
    pub unseen: Vec<usize>,
}

/// A column of the whole current data against the reference: its method and threshold (a
/// drift report's), and, when asked for (`whole` of [`super::chunked::per_window`]), its statistic, p-value
/// and verdict (`None`, `None`, `false` otherwise).
#[derive(Debug, Clone)]
pub struct WholeColumn {
    pub name: String,
    pub method: Method,
    pub threshold: f64,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub drifted: bool,
}

/// Whether the windows are every row once, in order (windows by row count are).
pub(super) fn covers_in_order(groups: &[(String, Vec<usize>)], n: usize) -> bool {
    let mut next = 0;
    for (_, rows) in groups {
        for &i in rows {
            if i != next {
                return false;
            }
            next += 1;
        }
    }
    next == n
}

/// The numeric windows' sorted values merged: the whole column's [`Current`] when the windows
/// are its rows in order ([`covers_in_order`]); `None` for a text column.
pub(super) fn merged(windows: &[Option<Current>]) -> Option<Current> {
    let parts = windows
        .iter()
        .map(|w| match w {
            Some(Current::Numeric(v)) => Some(v.as_slice()),
            _ => None,
        })
        .collect::<Option<Vec<&[f64]>>>()?;
    Some(Current::Numeric(columns::merge_sorted(&parts)))
}

/// One column of the whole current data: [`super::column_result`]'s method, threshold and
/// (when `whole`) statistic, p-value and verdict. Without `whole`, a numeric column's method
/// comes from the distinct count of both sides up to 6 (all [`default_method`] tells apart)
/// without sorting the whole current column: the reference's alone when it has more than 5.
/// `merged`: the whole current column as [`Current::of`] gives it, when the caller has it.
pub(super) fn whole_column(
    p: &Prepared,
    r: Option<&Reference>,
    whole: bool,
    merged: Option<Current>,
) -> Result<WholeColumn> {
    let (mr, mc) = (
        super::missing_count(&p.reference),
        super::missing_count(&p.current),
    );
    let (nr, nc) = (p.reference.len() - mr, p.current.len() - mc);
    if let Some(message) = super::no_values_left(nr, nc) {
        return Err(EngineError::Column {
            path: PathBuf::new(),
            column: p.name.clone(),
            message,
        });
    }
    let out = |method: Method, threshold: f64, v: Option<Value>| WholeColumn {
        name: p.name.clone(),
        method,
        threshold,
        statistic: v.and_then(|v| v.statistic),
        p_value: v.and_then(|v| v.p_value),
        drifted: v.is_some_and(|v| v.drifted),
    };
    if let (
        false,
        Some(
            r @ Reference::Numeric {
                sorted, n_unique, ..
            },
        ),
        Raw::Numeric { values, .. },
    ) = (whole, r, &p.current)
    {
        let n_values = if *n_unique > DISTINCT_CAP {
            *n_unique
        } else {
            distinct_upto(sorted, values, DISTINCT_CAP + 1)
        };
        let method = default_method(p.kind, r.n(), n_values);
        return Ok(out(method, method.default_threshold(), None));
    }
    let Some((r, c)) = r.and_then(|r| Some((r, merged.or_else(|| Current::of(p, r, None))?)))
    else {
        // Storage the statistics never see (prepare converts mixed storage): the full path.
        let o = p.run(None, None, None, &None);
        let v = Value {
            statistic: o.statistic,
            p_value: o.p_value,
            drifted: o.drifted,
        };
        return Ok(out(o.method, o.threshold, Some(v)));
    };
    let method = default_method(p.kind, r.n(), c.n_values_upto(r, DISTINCT_CAP + 1));
    let threshold = method.default_threshold();
    let v = whole.then(|| window_stats::value(p.kind, r, &c, method, threshold));
    Ok(out(method, threshold, v))
}

/// [`default_method`] tells distinct counts apart only up to this many (≤ 2, ≤ 5, more).
const DISTINCT_CAP: usize = 5;

/// Distinct finite values (as `==` tells them apart, as [`super::binning::merge_distinct`]
/// does) of `sorted` and `values` together, counted up to `cap`.
fn distinct_upto(sorted: &[f64], values: &[f64], cap: usize) -> usize {
    let mut seen: Vec<f64> = Vec::with_capacity(cap);
    for &x in sorted.iter().chain(values).filter(|x| x.is_finite()) {
        if !seen.contains(&x) {
            seen.push(x);
            if seen.len() >= cap {
                break;
            }
        }
    }
    seen.len()
}

/// A compared column's statistic per window (`windows`: each window's values as
/// [`Current::of`] gives them) with the method and threshold of the whole comparison; a
/// window without a usable value is `null`.
pub(super) fn series_of(
    groups: &[(String, Vec<usize>)],
    p: &Prepared,
    col: &WholeColumn,
    r: Option<&Reference>,
    windows: &[Option<Current>],
    progress: &Progress,
) -> Result<Series> {
    let (method, threshold) = (col.method, col.threshold);
    let values: Vec<Result<(Option<f64>, bool)>> = groups
        .par_iter()
        .enumerate()
        .map(|(k, (_, rows))| {
            progress.check()?;
            let usable = rows.iter().any(|&i| match &p.current {
                Raw::Numeric { values, .. } => values[i].is_finite(),
                Raw::Text { values } => values.codes[i] != columns::MISSING,
            });
            if !usable {
                return Ok((None, false));
            }
            let v = match r.zip(windows.get(k).and_then(Option::as_ref)) {
                Some((r, c)) => window_stats::value(p.kind, r, c, method, threshold),
                None => {
                    let out = p.run(Some(rows), Some(method), Some(threshold), &None);
                    Value {
                        statistic: out.statistic,
                        p_value: out.p_value,
                        drifted: out.drifted,
                    }
                }
            };
            Ok((v.p_value.or(v.statistic), v.drifted))
        })
        .collect();
    let mut s = Series {
        name: col.name.clone(),
        method,
        threshold,
        is_p_value: method.is_test(),
        values: Vec::with_capacity(values.len()),
        drifted: Vec::with_capacity(values.len()),
    };
    for v in values {
        let (value, drifted) = v?;
        s.values.push(value);
        s.drifted.push(drifted);
    }
    Ok(s)
}

/// Missing values per window (null, NaN or empty text) and, when both columns are text,
/// values absent from the reference.
pub(super) fn window_counts(
    reference: &Raw,
    current: &Raw,
    groups: &[(String, Vec<usize>)],
) -> WindowCounts {
    let unseen_code: Option<Vec<bool>> = match (reference, current) {
        (Raw::Text { values: r }, Raw::Text { values: c }) => {
            let seen: HashSet<&str> = r.dict.iter().map(String::as_str).collect();
            Some(c.dict.iter().map(|s| !seen.contains(s.as_str())).collect())
        }
        _ => None,
    };
    let mut out = WindowCounts {
        missing: Vec::with_capacity(groups.len()),
        unseen: Vec::with_capacity(groups.len()),
    };
    for (_, rows) in groups {
        out.missing
            .push(rows.iter().filter(|&&i| current.is_missing(i)).count());
        out.unseen.push(match (current, &unseen_code) {
            (Raw::Text { values }, Some(unseen)) => rows
                .iter()
                .filter(|&&i| unseen.get(values.codes[i] as usize) == Some(&true))
                .count(),
            _ => 0,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_count_up_to_a_cap_as_merge_distinct_counts() {
        let a = [-0.0, 0.0, 1.0, 1.0, 2.0];
        let b = [0.0, f64::NAN, 3.0, f64::INFINITY, 1.0];
        let mut sa = a.to_vec();
        sa.sort_by(f64::total_cmp);
        let sb = columns::sorted_finite(&b);
        let all = super::super::binning::merge_distinct(&sa, &sb).count();
        assert_eq!(distinct_upto(&sa, &b, 10), all);
        assert_eq!(distinct_upto(&sa, &b, 2), 2);
    }

    #[test]
    fn counts_missing_and_unseen_per_window() {
        let r = Raw::Text {
            values: crate::engine::drift::columns::Text::from_values([Some("a"), Some("b"), None]),
        };
        let c = Raw::Text {
            values: crate::engine::drift::columns::Text::from_values([
                Some("a"),
                Some("c"),
                None,
                Some("c"),
                Some("b"),
            ]),
        };
        let groups = vec![
            ("1".to_string(), vec![0, 1, 2]),
            ("2".to_string(), vec![3, 4]),
        ];
        let got = window_counts(&r, &c, &groups);
        assert_eq!(got.missing, vec![1, 0]);
        assert_eq!(got.unseen, vec![1, 1]);
        let n = Raw::Numeric {
            values: vec![1.0, f64::NAN, 2.0, f64::INFINITY, f64::NAN],
            integer: false,
        };
        let got = window_counts(&n, &n, &groups);
        assert_eq!(got.missing, vec![1, 1]);
        assert_eq!(got.unseen, vec![0, 0]);
    }
}

//! One column of [`super::chunked`]'s drift per window: the whole current column's method,
//! threshold and (when asked) statistic, each window's statistic with that method, and each
//! window's missing and unseen counts.

use std::collections::HashSet;
use std::path::PathBuf;

use rayon::prelude::*;

use super::column_drift::default_method;
use super::columns::{self, Raw};
use super::over_time::Series;
use super::rows::Rows;
use super::window_stats::{self, Current, Reference, Value};
use super::{Method, Prepared};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;
use crate::engine::sortkey;

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
pub(super) fn covers_in_order(groups: &[(String, Rows)], n: usize) -> bool {
    let mut next = 0;
    for (_, rows) in groups {
        match rows.as_range() {
            Some(r) if r.start == next => next = r.end,
            _ => return false,
        }
    }
    next == n
}

/// The finite values of a numeric column whose windows are its rows in order
/// ([`covers_in_order`]), each window's sorted, one after the other in one buffer: what the
/// windows' statistics read ([`Runs::windows`]), then sorted whole in place for the whole
/// column's ([`Runs::into_sorted`]). One buffer for both takes 8 bytes a value, where each
/// window's values and the whole column's merged apart took 16.
pub(super) struct Runs {
    values: Vec<f64>,
    /// Where each window's values end in `values`.
    ends: Vec<usize>,
}

impl Runs {
    pub(super) fn of(values: &[f64], groups: &[(String, Rows)]) -> Runs {
        let finite = values.iter().filter(|x| x.is_finite()).count();
        let mut keys: Vec<u64> = Vec::with_capacity(finite);
        let mut ends = Vec::with_capacity(groups.len());
        for (_, rows) in groups {
            debug_assert!(rows.as_range().is_some(), "windows in order are ranges");
            if let Some(r) = rows.as_range() {
                let part = values.get(r).unwrap_or_default();
                keys.extend(
                    part.iter()
                        .filter(|x| x.is_finite())
                        .map(|&x| sortkey::key(x)),
                );
            }
            ends.push(keys.len());
        }
        // Each window sorted as `columns::sorted_finite` sorts it, windows in parallel.
        let mut parts: Vec<&mut [u64]> = Vec::with_capacity(ends.len());
        let mut rest = keys.as_mut_slice();
        let mut start = 0;
        for &end in &ends {
            let (part, after) = rest.split_at_mut(end - start);
            parts.push(part);
            rest = after;
            start = end;
        }
        parts.into_par_iter().for_each(|p| p.sort_unstable());
        Runs {
            values: keys.into_iter().map(sortkey::unkey).collect(),
            ends,
        }
    }

    /// Each window's sorted values, as [`Current::of`] gives them.
    pub(super) fn windows(&self) -> Vec<Option<Current<'_>>> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let part = self.values.get(start..end).unwrap_or_default();
                start = end;
                Some(Current::Numeric(part.into()))
            })
            .collect()
    }

    /// The whole column's sorted values, as [`columns::sorted_finite`] of the column gives
    /// them (the standard stable sort finds the windows as runs and merges them).
    pub(super) fn into_sorted(self) -> Vec<f64> {
        let mut keys: Vec<u64> = self.values.into_iter().map(sortkey::key).collect();
        keys.sort();
        keys.into_iter().map(sortkey::unkey).collect()
    }
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
    groups: &[(String, Rows)],
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
            let usable = match (windows.get(k), &p.current) {
                // A window's finite values: whether it has any.
                (Some(Some(Current::Numeric(v))), _) => !v.is_empty(),
                (_, Raw::Numeric { values, .. }) => rows.iter().any(|i| values[i].is_finite()),
                (_, Raw::Text { values }) => {
                    rows.iter().any(|i| values.codes[i] != columns::MISSING)
                }
            };
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
    groups: &[(String, Rows)],
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
            .push(rows.iter().filter(|&i| current.is_missing(i)).count());
        out.unseen.push(match (current, &unseen_code) {
            (Raw::Text { values }, Some(unseen)) => rows
                .iter()
                .filter(|&i| unseen.get(values.codes[i] as usize) == Some(&true))
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

    /// Each window's values in the runs are its sorted finite values, and the runs sorted
    /// whole are the whole column's, bit for bit (signed zeros, NaN and ±inf among them).
    #[test]
    fn runs_are_the_windows_sorted_and_sort_whole() {
        let v = columns::awkward_values(&mut 0x9e37_79b9_7f4a_7c15u64, 20_000);
        let bits = |x: &[f64]| x.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let groups: Vec<(String, Rows)> = (0..v.len())
            .step_by(2_857)
            .map(|a| (String::new(), Rows::Range(a..(a + 2_857).min(v.len()))))
            .collect();
        assert!(covers_in_order(&groups, v.len()));
        let runs = Runs::of(&v, &groups);
        let windows = runs.windows();
        assert_eq!(windows.len(), groups.len());
        for ((_, rows), w) in groups.iter().zip(&windows) {
            let Some(Current::Numeric(w)) = w else {
                panic!("a numeric window");
            };
            let want = columns::sorted_finite(&rows.gather(&v));
            assert_eq!(bits(w), bits(&want));
        }
        drop(windows);
        let mut want: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        want.sort_by(f64::total_cmp);
        assert_eq!(bits(&runs.into_sorted()), bits(&want));
        let gap = vec![
            (String::new(), Rows::Range(0..5)),
            (String::new(), Rows::Range(6..9)),
        ];
        assert!(!covers_in_order(&gap, 9));
        assert!(!covers_in_order(&gap[..1], 9));
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
            ("1".to_string(), Rows::Range(0..3)),
            ("2".to_string(), Rows::List(vec![3, 4])),
        ];
        let got = window_counts(&r, &c, &groups);
        assert_eq!(got.missing, vec![1, 0]);
        assert_eq!(got.unseen, vec![1, 1]);
        let n = Raw::Numeric {
            values: vec![1.0, f64::NAN, 2.0, f64::INFINITY, f64::NAN].into(),
            integer: false,
        };
        let got = window_counts(&n, &n, &groups);
        assert_eq!(got.missing, vec![1, 1]);
        assert_eq!(got.unseen, vec![0, 0]);
    }
}

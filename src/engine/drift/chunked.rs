//! Drift per window of the current data without the rest of a drift report: what
//! `assay monitor` needs for every chunk of a prediction log. The columns are read and
//! prepared by the code of [`super::drift`] (a column the reference alone marks as skipped —
//! identifiers, timestamps — is not read from the current data); each reference column is
//! prepared once ([`super::window_stats::Reference`]: sorted values, standard deviation,
//! category counts), the whole current data decides every column's method (as in a drift
//! report) and is compared once when asked, and every window is counted against the prepared
//! reference, columns and windows in parallel, computing only the chosen method's statistic.
//! Data quality of the whole files, timestamp detection, histograms, distinct counts and the
//! statistics of the methods not chosen are left out, so every reported number equals
//! [`super::drift`]'s with the same windows and comes much sooner on a long log. Missing values
//! and values never seen in the reference are counted per window from the columns as read.

use std::collections::{BTreeSet, HashSet};

use rayon::prelude::*;

use std::path::PathBuf;

use super::column_drift::default_method;
use super::columns::{self, Raw};
use super::over_time::{self, Series, Window, Windows};
use super::prepare::{self, prepare_column};
use super::window_stats::{self, Current, Reference, Value};
use super::{DriftOptions, Method, Prepared, Role, Skipped};
use crate::engine::data::Dataset;
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
/// drift report's), and, when asked for (`whole` of [`per_window`]), its statistic, p-value
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

pub struct Chunked {
    /// The whole current data against the reference (a drift report's `columns`, only the
    /// method, threshold and value).
    pub columns: Vec<WholeColumn>,
    pub skipped: Vec<Skipped>,
    pub windows: Vec<Window>,
    /// One series per compared column, as a drift report's `over_time.columns`.
    pub series: Vec<Series>,
    /// Per compared column, in the order of `series` (empty when `whole` is false).
    pub counts: Vec<(String, WindowCounts)>,
    /// The skipped columns of mostly distinct text (identifiers, timestamps, free text).
    pub text_columns: Vec<String>,
    /// (name, reference, current) of the compared columns as [`columns::read`] read them
    /// (those whose storage the preparation did not convert), for callers that need them too.
    pub read: Vec<(String, Raw, Raw)>,
}

/// Drift of every column of `names` (all must be in both datasets) per window of `current`.
/// `timestamp` is only read for calendar windows. `whole`: also the whole current data's
/// statistic and each window's missing and unseen counts (without, a numeric column is never
/// sorted whole).
pub fn per_window(
    reference: &Dataset,
    current: &Dataset,
    names: &[String],
    timestamp: Option<&str>,
    windows: Windows,
    whole: bool,
    progress: &Progress,
) -> Result<Chunked> {
    let part = part(
        reference, current, names, timestamp, windows, whole, true, progress,
    )?;
    let cur: BTreeSet<String> = current.column_names().into_iter().collect();
    finish(vec![part], reference, &cur, timestamp)
}

/// [`per_window`] of a current dataset too large to hold whole, read `per_pass` of the
/// columns `names` at a time: `load` gives a dataset of the current data's rows with the
/// columns asked for (and the timestamp column, for calendar windows), each pass's read while
/// the pass before is compared. `current_names`: every column of the current data. The same report as [`per_window`] (every column is compared
/// on its own), but `read` holds only the reference's columns (the current ones are empty).
#[allow(clippy::too_many_arguments)]
pub fn per_window_by_columns(
    reference: &Dataset,
    current_names: &[String],
    names: &[String],
    per_pass: usize,
    timestamp: Option<&str>,
    windows: Windows,
    whole: bool,
    load: impl Fn(&[String]) -> Result<Dataset> + Sync,
    progress: &Progress,
) -> Result<Chunked> {
    let mut parts = Vec::new();
    let groups: Vec<&[String]> = names.chunks(per_pass.max(1)).collect();
    // Each pass's columns are read while the pass before is compared.
    let mut next = groups.first().map(|g| load(g)).transpose()?;
    for (i, group) in groups.iter().enumerate() {
        progress.check()?;
        let Some(current) = next.take() else {
            break;
        };
        let (p, read) = rayon::join(
            || {
                part(
                    reference, &current, group, timestamp, windows, whole, false, progress,
                )
            },
            || groups.get(i + 1).map(|g| load(g)).transpose(),
        );
        drop(current);
        parts.push(p?);
        next = read?;
    }
    let cur: BTreeSet<String> = current_names.iter().cloned().collect();
    finish(parts, reference, &cur, timestamp)
}

/// What [`per_window`] finds for some of its columns.
struct Part {
    /// Columns the preparation skipped, in the order of the names.
    prepare_skipped: Vec<Skipped>,
    /// Columns the comparison skipped (no values left on one side), in the prepared order.
    compare_skipped: Vec<Skipped>,
    any_prepared: bool,
    columns: Vec<WholeColumn>,
    series: Vec<Series>,
    counts: Vec<(String, WindowCounts)>,
    read: Vec<(String, Raw, Raw)>,
    windows: Vec<Window>,
}

/// [`per_window`] of the columns `names`, without the checks of the whole report
/// ([`finish`]). `keep_current`: `read` keeps the current columns too (else empty ones).
#[allow(clippy::too_many_arguments)]
fn part(
    reference: &Dataset,
    current: &Dataset,
    names: &[String],
    timestamp: Option<&str>,
    windows: Windows,
    whole: bool,
    keep_current: bool,
    progress: &Progress,
) -> Result<Part> {
    super::require_columns(names, [reference, current])?;
    let opts = DriftOptions {
        columns: Some(names.to_vec()),
        timestamp: timestamp.map(str::to_string),
        windows: Some(windows),
        ..DriftOptions::default()
    };
    let (groups, _) = over_time::groups(current, timestamp, &windows)?;
    let decided: Vec<Result<_>> = names
        .par_iter()
        .map(|name| {
            progress.check()?;
            let (r, c) = match prepare::read_both(name, &opts, reference, current)? {
                Ok(both) => both,
                Err(reason) => return Ok((Err(reason), None)),
            };
            let counts = whole.then(|| window_counts(&r, &c, &groups));
            // Both sides in one storage: prepare keeps the columns as read.
            let as_read = std::mem::discriminant(&r) == std::mem::discriminant(&c);
            let p = prepare_column(name, Role::Feature, r, c, &opts, reference, current)?;
            Ok((
                p.map(|p| (p, as_read)).map_err(|(reason, _)| reason),
                counts,
            ))
        })
        .collect();
    let mut prepared = Vec::new();
    let mut as_read = Vec::new();
    let mut prepare_skipped = Vec::new();
    let mut counts = Vec::new();
    for (name, d) in names.iter().zip(decided) {
        let (p, c) = d?;
        match p {
            Ok((p, same)) => {
                prepared.push(p);
                as_read.push(same);
            }
            Err(reason) => prepare_skipped.push(Skipped {
                name: name.clone(),
                reason,
            }),
        }
        if let Some(c) = c {
            counts.push((name.clone(), c));
        }
    }
    let any_prepared = !prepared.is_empty();
    let (columns, series, compare_skipped) = if prepared.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        compare(&groups, &prepared, whole, progress)?
    };
    counts.retain(|(name, _)| series.iter().any(|s| &s.name == name));
    let read = prepared
        .into_iter()
        .zip(as_read)
        .filter(|(_, same)| *same)
        .map(|(p, _)| {
            let current = if keep_current {
                p.current
            } else {
                match p.current {
                    Raw::Numeric { integer, .. } => Raw::Numeric {
                        values: Vec::new(),
                        integer,
                    },
                    Raw::Text { .. } => Raw::Text {
                        values: columns::Text::default(),
                    },
                }
            };
            (p.name, p.reference, current)
        })
        .collect();
    Ok(Part {
        prepare_skipped,
        compare_skipped,
        any_prepared,
        columns,
        series,
        counts,
        read,
        windows: over_time::window_list(&groups),
    })
}

/// The report of the parts of [`per_window`] (in the order of the names): an error when no
/// column was prepared or none could be compared; the skipped columns as one call lists them
/// (the preparation's, then the comparison's).
fn finish(
    parts: Vec<Part>,
    reference: &Dataset,
    current_names: &BTreeSet<String>,
    timestamp: Option<&str>,
) -> Result<Chunked> {
    let mut skipped: Vec<Skipped> = parts
        .iter()
        .flat_map(|p| p.prepare_skipped.iter().cloned())
        .collect();
    if !parts.iter().any(|p| p.any_prepared) {
        return Err(super::nothing_to_compare(
            &skipped,
            timestamp,
            &reference.column_names(),
            current_names,
        ));
    }
    if parts.iter().all(|p| p.columns.is_empty()) {
        return Err(EngineError::usage(
            "no column could be compared (see the reasons above)".to_string(),
        ));
    }
    let windows = parts.first().map(|p| p.windows.clone()).unwrap_or_default();
    let mut out = Chunked {
        text_columns: Vec::new(),
        columns: Vec::new(),
        skipped: Vec::new(),
        windows,
        series: Vec::new(),
        counts: Vec::new(),
        read: Vec::new(),
    };
    let mut later = Vec::new();
    for p in parts {
        later.extend(p.compare_skipped);
        out.columns.extend(p.columns);
        out.series.extend(p.series);
        out.counts.extend(p.counts);
        out.read.extend(p.read);
    }
    skipped.extend(later);
    out.text_columns = skipped
        .iter()
        .filter(|s| s.reason == prepare::TEXT_COLUMN)
        .map(|s| s.name.clone())
        .collect();
    out.skipped = skipped;
    Ok(out)
}

/// The whole current data against the reference, column by column (a drift report's
/// `columns`, Evidently's default method; its statistic when `whole`), and every window's
/// statistic with that method (a drift report's `over_time.columns`), with the columns it
/// skipped (no values left on one side, as in a drift report); columns and windows in
/// parallel, each column's reference prepared once. (Merging the windows' sorted values into
/// the whole column's order was tried: a two-way merge tree costs more than sorting the whole
/// column.)
type Compared = (Vec<WholeColumn>, Vec<Series>, Vec<Skipped>);

fn compare(
    groups: &[(String, Vec<usize>)],
    prepared: &[Prepared],
    whole: bool,
    progress: &Progress,
) -> Result<Compared> {
    type One = std::result::Result<(WholeColumn, Series), Skipped>;
    let in_order = prepared
        .first()
        .is_some_and(|p| covers_in_order(groups, p.current.len()));
    let results: Vec<Result<One>> = prepared
        .par_iter()
        .map(|p| {
            progress.check()?;
            let sorted = match &p.reference {
                Raw::Numeric { values, .. } => Some(columns::sorted_finite(values)),
                Raw::Text { .. } => None,
            };
            let r = Reference::of(p, sorted);
            let windows: Vec<Option<Current>> = match &r {
                Some(r) => groups
                    .par_iter()
                    .map(|(_, rows)| Current::of(p, r, Some(rows)))
                    .collect(),
                None => Vec::new(),
            };
            // The whole column's sorted values from the windows' when they are its rows.
            let merged = (whole && in_order).then(|| merged(&windows)).flatten();
            let col = match whole_column(p, r.as_ref(), whole, merged) {
                Ok(c) => c,
                Err(EngineError::Column {
                    column, message, ..
                }) => {
                    return Ok(Err(Skipped {
                        name: column,
                        reason: message,
                    }))
                }
                Err(e) => return Err(e),
            };
            let s = series_of(groups, p, &col, r.as_ref(), &windows, progress)?;
            Ok(Ok((col, s)))
        })
        .collect();
    let mut columns = Vec::with_capacity(results.len());
    let mut series = Vec::with_capacity(results.len());
    let mut skipped = Vec::new();
    for r in results {
        match r? {
            Ok((c, s)) => {
                columns.push(c);
                series.push(s);
            }
            Err(s) => skipped.push(s),
        }
    }
    Ok((columns, series, skipped))
}

/// Whether the windows are every row once, in order (windows by row count are).
fn covers_in_order(groups: &[(String, Vec<usize>)], n: usize) -> bool {
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
fn merged(windows: &[Option<Current>]) -> Option<Current> {
    let parts = windows
        .iter()
        .map(|w| match w {
            Some(Current::Numeric(v)) => Some(v.as_slice()),
            _ => None,
        })
        .collect::<Option<Vec<&[f64]>>>()?;
    Some(Current::Numeric(columns::merge_sorted(parts)))
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
fn window_counts(reference: &Raw, current: &Raw, groups: &[(String, Vec<usize>)]) -> WindowCounts {
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
    use crate::engine::data::Format;
    use polars::prelude::{Column, DataFrame};

    fn frame(rows: usize, shift: f64, gone: bool) -> DataFrame {
        let x: Vec<f64> = (0..rows).map(|i| ((i * 37) % 101) as f64 + shift).collect();
        let id: Vec<String> = (0..rows).map(|i| format!("row-{i}-{shift}")).collect();
        let g: Vec<Option<f64>> = (0..rows)
            .map(|i| (!gone).then_some((i % 7) as f64))
            .collect();
        let y: Vec<f64> = (0..rows)
            .map(|i| ((i * 13) % 29) as f64 * (1.0 + shift))
            .collect();
        let c: Vec<&str> = (0..rows)
            .map(|i| ["a", "b", "c"][(i + shift as usize) % 3])
            .collect();
        DataFrame::new_infer_height(vec![
            Column::new("x".into(), x),
            Column::new("gone".into(), g),
            Column::new("id".into(), id),
            Column::new("y".into(), y),
            Column::new("c".into(), c),
        ])
        .unwrap_or_default()
    }

    /// Read a few columns a pass, the report is the one of all columns at once: the same
    /// columns, series, counts and windows, and the skipped columns in the same order (the
    /// preparation's — an identifier — before the comparison's — no values left — though
    /// the second comes first in the file).
    #[test]
    fn by_columns_is_the_report_of_all_columns_at_once() {
        let reference = Dataset::of_frame(frame(400, 0.0, false), Format::Csv);
        let current = Dataset::of_frame(frame(600, 1.0, true), Format::Csv);
        let names: Vec<String> = current.column_names();
        let windows = Windows::Rows(100);
        let p = Progress::none();
        let all = per_window(&reference, &current, &names, None, windows, true, &p)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            all.skipped
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["id", "gone"]
        );
        for per_pass in [1, 2, 4] {
            let load = |cols: &[String]| -> Result<Dataset> {
                Ok(Dataset {
                    df: current
                        .df
                        .select(cols.iter().map(String::as_str))
                        .map_err(|e| EngineError::internal(e.to_string()))?,
                    ..current.clone()
                })
            };
            let by = per_window_by_columns(
                &reference, &names, &names, per_pass, None, windows, true, load, &p,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let show = |c: &Chunked| {
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                    c.columns,
                    c.skipped,
                    c.windows,
                    c.series,
                    c.counts,
                    c.text_columns,
                    c.read.iter().map(|r| &r.0).collect::<Vec<_>>()
                )
            };
            assert_eq!(show(&by), show(&all), "{per_pass} a pass");
            assert!(by.read.iter().all(|(_, _, c)| c.is_empty()));
        }
    }

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

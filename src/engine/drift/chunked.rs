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

use std::borrow::Cow;
use std::collections::BTreeSet;

use rayon::prelude::*;

use super::chunked_column::{covers_in_order, series_of, whole_column, window_counts, Runs};
pub use super::chunked_column::{WholeColumn, WindowCounts};
use super::columns::{self, Raw, Values};
use super::over_time::{self, Series, Window, Windows};
use super::prepare::{self, prepare_column};
use super::rows::Rows;
use super::window_stats::{self, Current, Reference};
use super::{DriftOptions, Prepared, Role, Skipped};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

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
        reference,
        Cow::Borrowed(current),
        names,
        timestamp,
        windows,
        whole,
        true,
        progress,
    )?;
    let cur: BTreeSet<String> = current.column_names().into_iter().collect();
    finish(vec![part], reference, &cur, timestamp)
}

/// [`per_window`] of a current dataset too large to hold whole, read `per_pass` of the
/// columns `names` at a time: `load` gives a dataset of the current data's rows with the
/// columns asked for (and the timestamp column, for calendar windows), each pass's read while
/// the pass before is compared, except beside a pass of which `alone` says it takes more
/// memory (text, 16 bytes a row as read, against 8 for a number): such a pass is read after
/// the pass before, and compared before the next is read. `current_names`: every column of
/// the current data. The same report as [`per_window`] (every column is compared on its
/// own), but `read` holds only the reference's columns (the current ones are empty).
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
    alone: impl Fn(&[String]) -> bool,
    progress: &Progress,
) -> Result<Chunked> {
    let mut parts = Vec::new();
    let groups: Vec<&[String]> = names.chunks(per_pass.max(1)).collect();
    let mut next = None;
    for (i, group) in groups.iter().enumerate() {
        progress.check()?;
        let current = match next.take() {
            Some(read) => read,
            None => load(group)?,
        };
        // The next pass's columns are read while this one is compared, unless either takes
        // more memory.
        let following = groups.get(i + 1).filter(|g| !alone(group) && !alone(g));
        // The pass lets go of its dataset once its columns are read out of it.
        let (p, read) = rayon::join(
            || {
                part(
                    reference,
                    Cow::Owned(current),
                    group,
                    timestamp,
                    windows,
                    whole,
                    false,
                    progress,
                )
            },
            || following.map(|g| load(g)).transpose(),
        );
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
/// ([`finish`]) on the current dataset `data`, which, when owned, is dropped once its columns
/// are read out of it, before they are compared. `keep_current`: `read` keeps the current
/// columns too (else empty ones).
#[allow(clippy::too_many_arguments)]
fn part(
    reference: &Dataset,
    data: Cow<'_, Dataset>,
    names: &[String],
    timestamp: Option<&str>,
    windows: Windows,
    whole: bool,
    keep_current: bool,
    progress: &Progress,
) -> Result<Part> {
    let current: &Dataset = &data;
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
    drop(data);
    let any_prepared = !prepared.is_empty();
    let (columns, series, compare_skipped) = if prepared.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        compare(&groups, &mut prepared, whole, keep_current, progress)?
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
                        values: Values::default(),
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
/// parallel, each column's reference prepared once. A numeric column whose windows are its
/// rows in order (windows by row count) is compared from its windows' sorted values in one
/// buffer ([`Runs`]), sorted whole in place for the whole column's statistic; without
/// `keep_current`, its current values are let go once that buffer holds them.
type Compared = (Vec<WholeColumn>, Vec<Series>, Vec<Skipped>);

type One = std::result::Result<(WholeColumn, Series), Skipped>;

fn compare(
    groups: &[(String, Rows)],
    prepared: &mut [Prepared],
    whole: bool,
    keep_current: bool,
    progress: &Progress,
) -> Result<Compared> {
    let in_order = prepared
        .first()
        .is_some_and(|p| covers_in_order(groups, p.current.len()));
    let results: Vec<Result<One>> = prepared
        .par_iter_mut()
        .map(|p| {
            progress.check()?;
            let sorted = match &p.reference {
                Raw::Numeric { values, .. } => Some(columns::sorted_finite(values)),
                Raw::Text { .. } => None,
            };
            let r = Reference::of(p, sorted);
            if let (true, Some(r @ Reference::Numeric { .. }), Raw::Numeric { values, .. }) =
                (in_order, &r, &p.current)
            {
                let runs = Runs::of(values, groups);
                return compare_runs(groups, p, r, runs, whole, keep_current, progress);
            }
            let windows: Vec<Option<Current>> = match &r {
                Some(r) => groups
                    .par_iter()
                    .map(|(_, rows)| Current::of(p, r, Some(rows)))
                    .collect(),
                None => Vec::new(),
            };
            let col = match skipped(whole_column(p, r.as_ref(), whole, None))? {
                Ok(c) => c,
                Err(s) => return Ok(Err(s)),
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

/// A column's error that skips it (no values left on one side) as the skipped column.
fn skipped(col: Result<WholeColumn>) -> Result<std::result::Result<WholeColumn, Skipped>> {
    match col {
        Ok(c) => Ok(Ok(c)),
        Err(EngineError::Column {
            column, message, ..
        }) => Ok(Err(Skipped {
            name: column,
            reason: message,
        })),
        Err(e) => Err(e),
    }
}

/// [`compare`] of a numeric column from its windows' sorted values: the method and threshold
/// from the distinct values (as without `whole`, with no sort of the whole column), each
/// window's statistic, then the whole column's, sorted from the windows'.
fn compare_runs(
    groups: &[(String, Rows)],
    p: &mut Prepared,
    r: &Reference,
    runs: Runs,
    whole: bool,
    keep_current: bool,
    progress: &Progress,
) -> Result<One> {
    let mut col = match skipped(whole_column(p, Some(r), false, None))? {
        Ok(c) => c,
        Err(s) => return Ok(Err(s)),
    };
    if !keep_current {
        // The runs hold what is left to compare of the column.
        if let Raw::Numeric { values, .. } = &mut p.current {
            *values = Values::default();
        }
    }
    let s = series_of(groups, p, &col, Some(r), &runs.windows(), progress)?;
    if whole {
        progress.check()?;
        let c = Current::Numeric(runs.into_sorted().into());
        let v = window_stats::value(p.kind, r, &c, col.method, col.threshold);
        col.statistic = v.statistic;
        col.p_value = v.p_value;
        col.drifted = v.drifted;
    }
    Ok(Ok((col, s)))
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
        for (per_pass, text) in [(1, false), (1, true), (2, true), (4, false)] {
            let load = |cols: &[String]| -> Result<Dataset> {
                Ok(Dataset {
                    df: current
                        .df
                        .select(cols.iter().map(String::as_str))
                        .map_err(|e| EngineError::internal(e.to_string()))?,
                    ..current.clone()
                })
            };
            // Passes with the text column `c` read alone, or every pass beside another.
            let alone = |g: &[String]| text && g.iter().any(|n| n == "c");
            let by = per_window_by_columns(
                &reference, &names, &names, per_pass, None, windows, true, load, alone, &p,
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
            assert_eq!(
                show(&by),
                show(&all),
                "{per_pass} a pass, text alone: {text}"
            );
            assert!(by.read.iter().all(|(_, _, c)| c.is_empty()));
        }
    }
}

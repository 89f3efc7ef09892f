//! Drift per window of the current data without the rest of a drift report: what
//! `assay monitor` needs for every chunk of a prediction log. The columns are read and
//! prepared by the code of [`super::drift`] (a column the reference alone marks as skipped —
//! identifiers, timestamps — is not read from the current data), each reference column is
//! sorted once, the whole current data is compared once (it decides every column's method, as
//! in a drift report) and every window is counted against the prepared reference, columns in
//! parallel ([`over_time::series`]). Data quality of the whole files, timestamp detection and
//! effect-size reporting are left out, so every number equals [`super::drift`]'s with the
//! same windows and comes much sooner on a long log. Missing values and values never seen in
//! the reference are counted per window from the columns as read.

use std::collections::{BTreeSet, HashSet};

use rayon::prelude::*;

use super::columns::Raw;
use super::over_time::{self, Series, Window, Windows};
use super::prepare::{self, prepare_column};
use super::{ColumnDrift, DriftOptions, Role, Skipped};
use crate::engine::data::Dataset;
use crate::engine::error::Result;
use crate::engine::progress::Progress;

/// Missing values and values never seen in the reference, per window, of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowCounts {
    pub missing: Vec<usize>,
    /// Rows whose (text) value occurs nowhere in the reference's (text) column.
    pub unseen: Vec<usize>,
}

pub struct Chunked {
    /// The whole current data against the reference, as a drift report's `columns`.
    pub columns: Vec<ColumnDrift>,
    pub skipped: Vec<Skipped>,
    pub windows: Vec<Window>,
    /// One series per compared column, as a drift report's `over_time.columns`.
    pub series: Vec<Series>,
    /// Per compared column, in the order of `series`.
    pub counts: Vec<(String, WindowCounts)>,
}

/// Drift of every column of `names` (all must be in both datasets) per window of `current`.
/// `timestamp` is only read for calendar windows.
pub fn per_window(
    reference: &Dataset,
    current: &Dataset,
    names: &[String],
    timestamp: Option<&str>,
    windows: Windows,
    progress: &Progress,
) -> Result<Chunked> {
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
            let counts = window_counts(&r, &c, &groups);
            let p = prepare_column(name, Role::Feature, r, c, &opts, reference, current)?;
            Ok((p.map_err(|(reason, _)| reason), Some(counts)))
        })
        .collect();
    let mut prepared = Vec::new();
    let mut skipped = Vec::new();
    let mut counts = Vec::new();
    for (name, d) in names.iter().zip(decided) {
        let (p, c) = d?;
        match p {
            Ok(p) => prepared.push(p),
            Err(reason) => skipped.push(Skipped {
                name: name.clone(),
                reason,
            }),
        }
        if let Some(c) = c {
            counts.push((name.clone(), c));
        }
    }
    if prepared.is_empty() {
        let cur: BTreeSet<String> = current.column_names().into_iter().collect();
        return Err(super::nothing_to_compare(
            &skipped,
            timestamp,
            &reference.column_names(),
            &cur,
        ));
    }
    let (sorted_refs, columns) = super::compare(&prepared, &mut skipped, &opts, progress)?;
    let methods: Vec<_> = columns
        .iter()
        .map(|c| (c.name.clone(), c.method, c.threshold))
        .collect();
    let series = over_time::series(&groups, &prepared, &sorted_refs, &methods, progress)?;
    counts.retain(|(name, _)| series.iter().any(|s| &s.name == name));
    Ok(Chunked {
        columns,
        skipped,
        windows: over_time::window_list(&groups),
        series,
        counts,
    })
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

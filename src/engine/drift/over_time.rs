//! Drift over time: the current data split into windows — calendar periods of a timestamp
//! column (ISO 8601 text such as `2024-01-01T00:38:48Z`, or a date/datetime column) or
//! consecutive row counts — and every column's drift statistic per window against the whole
//! reference, with its threshold.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use super::columns::{self, Raw};
use super::rows::Rows;
use super::{DriftOptions, Method, Prepared};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Windows {
    /// Calendar periods of the timestamp column (UTC; weeks start on Monday).
    Period(Period),
    /// Consecutive chunks of this many rows in file order (the last may be shorter).
    Rows(usize),
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub label: String,
    pub rows: usize,
    /// First and last 1-based data rows of the window (in file order).
    pub first_row: usize,
    pub last_row: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub method: Method,
    pub threshold: f64,
    /// True when `values` are p-values (drift when small), false for distances / PSI.
    pub is_p_value: bool,
    /// One value per window (`null` when the window has no usable value).
    pub values: Vec<Option<f64>>,
    pub drifted: Vec<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverTime {
    pub windows_by: Windows,
    pub timestamp_column: Option<String>,
    pub windows: Vec<Window>,
    /// Rows left out because their timestamp is missing or unreadable.
    pub rows_without_time: usize,
    pub columns: Vec<Series>,
}

/// A date or date-time column without a time zone, from its stored integers: what
/// [`parse_iso8601`] (and the monitor's `parse_instant`) give the text the column reads as
/// ([`columns::read`] formats it), without formatting a row. Each value is `ticks / per`
/// seconds since the epoch: whole seconds `ticks.div_euclid(per)` (the text's, floored) and
/// the fraction `ticks.rem_euclid(per) / per` (one correctly rounded division, as parsing
/// the text's digits rounds that same number).
pub(crate) struct StoredTimes {
    pub ticks: polars::prelude::Int64Chunked,
    pub per: i64,
}

impl StoredTimes {
    /// The column `name` of `ds` when it is a date, or a date-time without a time zone, whose
    /// values all fall in the years 1-9999 (the text [`parse_iso8601`] reads); `None` for
    /// any other column, which is then read as text.
    pub(crate) fn of(ds: &Dataset, name: &str) -> Result<Option<StoredTimes>> {
        use polars::prelude::{ChunkApply, DataType, TimeUnit};
        let col = crate::engine::data::extract::column(ds, name)?;
        let internal = |e: polars::prelude::PolarsError| {
            EngineError::internal(format!("column '{name}': {e}"))
        };
        let (per, scale) = match col.dtype() {
            DataType::Date => (1, 86_400),
            DataType::Datetime(unit, None) => match unit {
                TimeUnit::Nanoseconds => (1_000_000_000, 1),
                TimeUnit::Microseconds => (1_000_000, 1),
                TimeUnit::Milliseconds => (1_000, 1),
            },
            _ => return Ok(None),
        };
        let ints = col
            .to_physical_repr()
            .cast(&DataType::Int64)
            .map_err(internal)?;
        let mut ticks = ints.i64().map_err(internal)?.clone();
        if scale != 1 {
            ticks = ticks.apply_values(|d| d.saturating_mul(scale));
        }
        let (lo, hi) = (
            days_from_civil(1, 1, 1) * 86_400,
            days_from_civil(10_000, 1, 1) * 86_400,
        );
        let readable = ticks
            .iter()
            .flatten()
            .all(|t| (lo..hi).contains(&t.div_euclid(per)));
        Ok(readable.then_some(StoredTimes { ticks, per }))
    }

    /// Whole seconds of each row (`None` where missing), as [`parse_iso8601`] reads its text.
    pub(crate) fn seconds(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        self.ticks.iter().map(|t| t.map(|t| t.div_euclid(self.per)))
    }

    /// Seconds with the fraction of each row (`None` where missing), as the monitor's
    /// `parse_instant` reads its text.
    pub(crate) fn instants(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        let per = self.per;
        self.ticks.iter().map(move |t| {
            t.map(|t| t.div_euclid(per) as f64 + t.rem_euclid(per) as f64 / per as f64)
        })
    }
}

/// Seconds since 1970-01-01 UTC of `YYYY-MM-DD`, optionally followed by `T` or a space,
/// `HH:MM[:SS[.fff]]` and `Z` or `±HH:MM`.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = b.get(r)?;
        if t.iter().all(u8::is_ascii_digit) && !t.is_empty() {
            std::str::from_utf8(t).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some(secs);
    }
    if b[10] != b'T' && b[10] != b' ' {
        return None;
    }
    let (h, mi) = (num(11..13)?, num(14..16)?);
    if b.get(13) != Some(&b':') || h > 23 || mi > 59 {
        return None;
    }
    secs += h * 3600 + mi * 60;
    let mut i = 16;
    if b.get(i) == Some(&b':') {
        secs += num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
    }
    match b.get(i) {
        None => Some(secs),
        Some(b'Z') if i + 1 == b.len() => Some(secs),
        Some(&sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = if b.get(i + 3) == Some(&b':') {
                num(i + 4..i + 6)?
            } else {
                num(i + 3..i + 5).unwrap_or(0)
            };
            let off = oh * 3600 + om * 60;
            Some(if sign == b'+' { secs - off } else { secs + off })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

impl Period {
    /// The period of `secs` (seconds since 1970-01-01 UTC) as a number that sorts as the
    /// periods do.
    pub(crate) fn key(self, secs: i64) -> i64 {
        let day = secs.div_euclid(86_400);
        match self {
            Period::Day => day,
            // 1970-01-05 (day 4) was a Monday.
            Period::Week => (day - 4).div_euclid(7),
            Period::Month => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + (m - 1)
            }
        }
    }

    /// The window label of a [`Period::key`].
    pub(crate) fn label(self, key: i64) -> String {
        match self {
            Period::Day => {
                let (y, m, d) = civil_from_days(key);
                format!("{y:04}-{m:02}-{d:02}")
            }
            Period::Week => {
                let (y, m, d) = civil_from_days(key * 7 + 4);
                format!("week of {y:04}-{m:02}-{d:02}")
            }
            Period::Month => format!("{:04}-{:02}", key.div_euclid(12), key % 12 + 1),
        }
    }
}

/// Windows by calendar period without a timestamp column.
pub(crate) fn no_timestamp() -> EngineError {
    EngineError::usage(
        "windows by day/week/month need a timestamp column in the current data \
         (none was found; name one with --timestamp, or use windows by row count)",
    )
}

/// The first text (or date) column of `ds` whose non-missing values all parse as ISO 8601 (a
/// date or date-time column told from its stored integers, [`StoredTimes`], unformatted).
pub fn detect_timestamp(ds: &Dataset) -> Option<String> {
    for name in ds.column_names() {
        if let Ok(Some(stored)) = StoredTimes::of(ds, &name) {
            if stored.ticks.null_count() < stored.ticks.len() {
                return Some(name);
            }
            continue;
        }
        let Ok(Raw::Text { values }) = columns::read(ds, &name) else {
            continue;
        };
        if !values.dict.is_empty() && values.dict.iter().all(|s| parse_iso8601(s).is_some()) {
            return Some(name);
        }
    }
    None
}

/// The rows of each window (a label and its 0-based rows, in file order: consecutive rows
/// for windows by row count) and the number of rows left out for a missing or unreadable
/// timestamp.
pub(crate) type Groups = (Vec<(String, Rows)>, usize);

/// Cuts `current` into windows: consecutive row counts, or calendar periods of `timestamp`.
pub(crate) fn groups(
    current: &Dataset,
    timestamp: Option<&str>,
    windows: &Windows,
) -> Result<Groups> {
    let n = current.rows();
    let mut groups: Vec<(String, Rows)> = Vec::new();
    let mut without = 0usize;
    match windows {
        Windows::Rows(size) => {
            if *size == 0 {
                return Err(EngineError::usage("the window size must be at least 1 row"));
            }
            for start in (0..n).step_by(*size) {
                let end = (start + size).min(n);
                groups.push((
                    format!("rows {}–{}", start + 1, end),
                    Rows::Range(start..end),
                ));
            }
        }
        Windows::Period(p) => {
            let Some(ts) = timestamp else {
                return Err(no_timestamp());
            };
            let mut map: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
            let mut add = |i: usize, secs: Option<i64>| match secs {
                Some(secs) => map.entry(p.key(secs)).or_default().push(i),
                None => without += 1,
            };
            // A date or date-time column from its stored integers (as its text reads).
            if let Some(stored) = StoredTimes::of(current, ts)? {
                stored.seconds().enumerate().for_each(|(i, s)| add(i, s));
            } else {
                let Raw::Text { values } = columns::read(current, ts)? else {
                    return Err(EngineError::column(
                        &current.path,
                        ts,
                        "holds numbers, not ISO 8601 timestamps",
                    ));
                };
                let parsed: Vec<Option<i64>> =
                    values.dict.iter().map(|s| parse_iso8601(s)).collect();
                for (i, &code) in values.codes.iter().enumerate() {
                    add(i, parsed.get(code as usize).copied().flatten());
                }
            }
            for (key, rows) in map {
                groups.push((p.label(key), Rows::List(rows)));
            }
        }
    }
    Ok((groups, without))
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn compute(
    current: &Dataset,
    timestamp: Option<&str>,
    windows: &Windows,
    prepared: &[Prepared],
    sorted_refs: &[Option<Vec<f64>>],
    methods: &[(String, Method, f64)],
    opts: &DriftOptions,
    progress: &Progress,
) -> Result<OverTime> {
    let (groups, without) = groups(current, timestamp, windows)?;
    let series = series(&groups, prepared, sorted_refs, methods, progress)?;
    let _ = opts;
    Ok(OverTime {
        windows_by: *windows,
        timestamp_column: timestamp.map(str::to_string),
        windows: window_list(&groups),
        rows_without_time: without,
        columns: series,
    })
}

/// The windows' labels, row counts and first and last rows.
pub(crate) fn window_list(groups: &[(String, Rows)]) -> Vec<Window> {
    groups
        .iter()
        .map(|(label, rows)| Window {
            label: label.clone(),
            rows: rows.len(),
            first_row: rows.first().map_or(0, |r| r + 1),
            last_row: rows.last().map_or(0, |r| r + 1),
        })
        .collect()
}

/// Every compared column's statistic per window (columns in parallel; `methods` names the
/// compared columns with the method and threshold of the whole comparison).
pub(crate) fn series(
    groups: &[(String, Rows)],
    prepared: &[Prepared],
    sorted_refs: &[Option<Vec<f64>>],
    methods: &[(String, Method, f64)],
    progress: &Progress,
) -> Result<Vec<Series>> {
    let each: Vec<Result<Option<Series>>> = prepared
        .par_iter()
        .zip(sorted_refs)
        .map(|(p, a)| {
            let Some((_, method, threshold)) = methods.iter().find(|m| m.0 == p.name) else {
                return Ok(None);
            };
            let mut s = Series {
                name: p.name.clone(),
                method: *method,
                threshold: *threshold,
                is_p_value: method.is_test(),
                values: Vec::new(),
                drifted: Vec::new(),
            };
            for (_, rows) in groups {
                progress.check()?;
                let usable = rows.iter().any(|i| match &p.current {
                    Raw::Numeric { values, .. } => values[i].is_finite(),
                    Raw::Text { values } => values.codes[i] != columns::MISSING,
                });
                if !usable || (a.is_none() && matches!(p.reference, Raw::Numeric { .. })) {
                    s.values.push(None);
                    s.drifted.push(false);
                    continue;
                }
                let out = p.run(Some(rows), Some(*method), Some(*threshold), a);
                s.values.push(out.p_value.or(out.statistic));
                s.drifted.push(out.drifted);
            }
            Ok(Some(s))
        })
        .collect();
    let mut out = Vec::with_capacity(each.len());
    for s in each {
        out.extend(s?);
    }
    Ok(out)
}

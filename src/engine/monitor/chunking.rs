//! Chunks of a prediction log, as NannyML 0.13.1's chunkers cut them, rows in file order:
//! by size (full chunks, the incomplete rest kept as a last chunk), by number (size =
//! rows / N, then by size, so a remainder makes one more chunk), by calendar period of the
//! timestamp (day, week from Monday, month; UTC), or the default (10 chunks by number).

use serde::{Deserialize, Serialize};

use crate::engine::data::Dataset;
use crate::engine::drift::columns::{self, Raw};
use crate::engine::drift::over_time::{parse_iso8601, StoredTimes};
use crate::engine::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by", content = "value")]
pub enum Chunking {
    Size(usize),
    Number(usize),
    Period(Period),
    /// NannyML's DefaultChunker: 10 chunks by number.
    Default,
}

/// One chunk of one file: 0-based rows `start..=end` of that file.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub key: String,
    pub start: usize,
    pub end: usize,
    /// Seconds since the epoch (UTC) of the chunk's first and last instant: the earliest and
    /// latest timestamp of its rows, or the calendar period's bounds.
    pub start_time: Option<f64>,
    pub end_time: Option<f64>,
}

impl Span {
    pub fn rows(&self) -> usize {
        self.end + 1 - self.start
    }
}

/// Timestamps of a file, seconds since the epoch with the fraction kept: a date or date-time
/// column from its stored integers ([`StoredTimes`], the values its text parses to), else
/// its text parsed.
pub fn read_timestamps(ds: &Dataset, column: &str) -> Result<Vec<f64>> {
    let Some(stored) = StoredTimes::of(ds, column)? else {
        return text_timestamps(ds, column);
    };
    let mut out = Vec::with_capacity(ds.rows());
    for (i, t) in stored.instants().enumerate() {
        let Some(t) = t else {
            return Err(EngineError::cell(
                &ds.path,
                column,
                i + 1,
                "missing timestamp",
            ));
        };
        push_sorted(&mut out, t, ds, column, i)?;
    }
    Ok(out)
}

/// `t` after the timestamps before it, or the error of row `i` when it is earlier.
fn push_sorted(out: &mut Vec<f64>, t: f64, ds: &Dataset, column: &str, i: usize) -> Result<()> {
    if out.last().is_some_and(|&prev| t < prev) {
        return Err(EngineError::cell(
            &ds.path,
            column,
            i + 1,
            "timestamps are not sorted: this row is earlier than the row before it \
             (monitoring keeps rows in file order; sort the log by time first)",
        ));
    }
    out.push(t);
    Ok(())
}

/// [`read_timestamps`] of a column read as text.
fn text_timestamps(ds: &Dataset, column: &str) -> Result<Vec<f64>> {
    let raw = columns::read(ds, column)?;
    let Raw::Text { values } = raw else {
        return Err(EngineError::column(
            &ds.path,
            column,
            "holds numbers, not timestamps (ISO 8601 text such as 2024-01-31T12:00:00Z, or a \
             date/datetime column)",
        ));
    };
    let parsed: Vec<Option<f64>> = values.dict.iter().map(|s| parse_instant(s)).collect();
    let mut out = Vec::with_capacity(values.len());
    for (i, &code) in values.codes.iter().enumerate() {
        let t = parsed.get(code as usize).copied().flatten();
        let Some(t) = t else {
            let shown = values.get(i).unwrap_or("");
            return Err(EngineError::cell(
                &ds.path,
                column,
                i + 1,
                if shown.is_empty() {
                    "missing timestamp".to_string()
                } else {
                    format!("'{shown}' is not an ISO 8601 timestamp")
                },
            ));
        };
        push_sorted(&mut out, t, ds, column, i)?;
    }
    Ok(out)
}

/// `parse_iso8601` plus the fraction of a second.
pub fn parse_instant(s: &str) -> Option<f64> {
    let secs = parse_iso8601(s)? as f64;
    let t = s.trim();
    let frac = t
        .get(19..)
        .filter(|r| r.starts_with('.'))
        .map(|r| {
            let digits: String = r[1..].chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                0.0
            } else {
                format!("0.{digits}").parse::<f64>().unwrap_or(0.0)
            }
        })
        .unwrap_or(0.0);
    Some(secs + frac)
}

/// ISO 8601 (UTC, `Z`) of seconds since the epoch, milliseconds shown when not whole.
pub fn format_instant(t: f64) -> String {
    let secs = t.floor();
    let millis = ((t - secs) * 1000.0).round() as i64;
    let (secs, millis) = if millis >= 1000 {
        (secs as i64 + 1, 0)
    } else {
        (secs as i64, millis)
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if millis == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{millis:03}Z")
    }
}

pub(crate) use crate::engine::drift::over_time::{civil_from_days, days_from_civil};

/// Cuts `n` rows (with their timestamps, when known) into chunks.
pub fn split(n: usize, times: Option<&[f64]>, chunking: Chunking, what: &str) -> Result<Vec<Span>> {
    if n == 0 {
        return Err(EngineError::usage(format!("the {what} has no rows")));
    }
    let by_size = |size: usize| -> Vec<Span> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < n {
            let end = (start + size).min(n) - 1;
            let (st, et) = match times {
                Some(t) => (Some(t[start]), Some(t[end])),
                None => (None, None),
            };
            out.push(Span {
                key: format!("[{start}:{}]", start + size - 1),
                start,
                end,
                start_time: st,
                end_time: et,
            });
            start += size;
        }
        // NannyML keys the incomplete last chunk by its own length.
        if let Some(last) = out.last_mut() {
            last.key = format!("[{}:{}]", last.start, last.end);
        }
        out
    };
    match chunking {
        Chunking::Size(0) => Err(EngineError::usage("--chunk-size must be at least 1")),
        Chunking::Size(size) => Ok(by_size(size)),
        Chunking::Number(0) => Err(EngineError::usage("--chunk-number must be at least 1")),
        Chunking::Number(k) => number(n, k, what).map(by_size),
        Chunking::Default => number(n, 10, what).map(by_size),
        Chunking::Period(p) => {
            let Some(t) = times else {
                return Err(EngineError::usage(
                    "--chunk-period needs a timestamp column: name it with --timestamp",
                ));
            };
            Ok(by_period(t, p))
        }
    }
}

fn number(n: usize, k: usize, what: &str) -> Result<usize> {
    let size = n / k;
    if size == 0 {
        return Err(EngineError::usage(format!(
            "the {what} has {n} rows, fewer than the {k} chunks asked for"
        )));
    }
    Ok(size)
}

/// Period key and its first instant (seconds) and the first instant of the next period.
fn period_of(t: f64, p: Period) -> (i64, f64, f64) {
    let day = (t / 86_400.0).floor() as i64;
    match p {
        Period::Day => (day, day as f64 * 86_400.0, (day + 1) as f64 * 86_400.0),
        Period::Week => {
            // 1970-01-05 (day 4) was a Monday.
            let w = (day - 4).div_euclid(7);
            let s = w * 7 + 4;
            (w, s as f64 * 86_400.0, (s + 7) as f64 * 86_400.0)
        }
        Period::Month => {
            let (y, m, _) = civil_from_days(day);
            let first = days_from_civil(y, m, 1);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            let next = days_from_civil(ny, nm, 1);
            (
                y * 12 + m - 1,
                first as f64 * 86_400.0,
                next as f64 * 86_400.0,
            )
        }
    }
}

fn by_period(t: &[f64], p: Period) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut current: Option<i64> = None;
    for (i, &ti) in t.iter().enumerate() {
        let (key, start, next) = period_of(ti, p);
        if current == Some(key) {
            if let Some(last) = out.last_mut() {
                last.end = i;
            }
            continue;
        }
        current = Some(key);
        let label = match p {
            Period::Day => {
                let (y, m, d) = civil_from_days((start / 86_400.0) as i64);
                format!("{y:04}-{m:02}-{d:02}")
            }
            Period::Week => {
                let (y, m, d) = civil_from_days((start / 86_400.0) as i64);
                let (y2, m2, d2) = civil_from_days((next / 86_400.0) as i64 - 1);
                format!("{y:04}-{m:02}-{d:02}/{y2:04}-{m2:02}-{d2:02}")
            }
            Period::Month => {
                let (y, m, _) = civil_from_days((start / 86_400.0) as i64);
                format!("{y:04}-{m:02}")
            }
        };
        out.push(Span {
            key: label,
            start: i,
            end: i,
            start_time: Some(start),
            // The period's last millisecond (NannyML: Period.end_time, 1 ns before the next).
            end_time: Some(next - 0.001),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::Format;
    use crate::engine::drift::over_time::{self, Windows};
    use polars::prelude::*;

    /// Dates and date-times (each unit, no time zone) with fractions, instants before 1970,
    /// and a missing value, read from their stored integers and, cast to text, parsed: the
    /// same seconds to the bit, the same calendar windows.
    #[test]
    fn stored_times_read_as_their_text_parses() {
        let ticks: Vec<i64> = vec![
            -86_400_123_456_789,
            -1,
            0,
            1,
            999_999_999,
            1_000_000_000,
            1_704_067_200_000_000_000,
            1_704_067_200_123_456_789,
            1_709_251_199_999_999_999,
            1_709_251_200_000_000_001,
            4_102_444_800_500_000_000,
        ];
        let frames: Vec<(&str, Column)> = vec![
            (
                "ns",
                Int64Chunked::from_vec("t".into(), ticks.clone())
                    .into_datetime(TimeUnit::Nanoseconds, None)
                    .into_column(),
            ),
            (
                "us",
                Int64Chunked::from_vec("t".into(), ticks.iter().map(|t| t / 1000).collect())
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ),
            (
                "ms",
                Int64Chunked::from_vec("t".into(), ticks.iter().map(|t| t / 1_000_000).collect())
                    .into_datetime(TimeUnit::Milliseconds, None)
                    .into_column(),
            ),
            (
                "date",
                Int32Chunked::from_vec(
                    "t".into(),
                    ticks
                        .iter()
                        .map(|t| (t / 1_000_000_000).div_euclid(86_400) as i32)
                        .collect(),
                )
                .into_date()
                .into_column(),
            ),
        ];
        for (unit, col) in frames {
            let stored = Dataset::of_frame(
                DataFrame::new(col.len(), vec![col.clone()]).expect("frame"),
                Format::Parquet,
            );
            let text_col = col.cast(&DataType::String).expect("text");
            let text = Dataset::of_frame(
                DataFrame::new(col.len(), vec![text_col]).expect("frame"),
                Format::Parquet,
            );
            assert!(over_time::StoredTimes::of(&stored, "t")
                .expect("of")
                .is_some());
            assert_eq!(over_time::detect_timestamp(&stored).as_deref(), Some("t"));
            assert_eq!(over_time::detect_timestamp(&text).as_deref(), Some("t"));
            assert!(over_time::StoredTimes::of(&text, "t")
                .expect("of")
                .is_none());
            let (a, b) = (
                read_timestamps(&stored, "t").expect("stored"),
                read_timestamps(&text, "t").expect("text"),
            );
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{unit}");
            for p in [
                over_time::Period::Day,
                over_time::Period::Week,
                over_time::Period::Month,
            ] {
                let w = Windows::Period(p);
                let (ga, na) = over_time::groups(&stored, Some("t"), &w).expect("stored");
                let (gb, nb) = over_time::groups(&text, Some("t"), &w).expect("text");
                let rows = |g: &[(String, crate::engine::drift::rows::Rows)]| {
                    g.iter()
                        .map(|(k, r)| (k.clone(), r.iter().collect::<Vec<_>>()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(rows(&ga), rows(&gb), "{unit} {p:?}");
                assert_eq!(na, nb);
            }
        }
        // A missing instant is the error its text gives.
        let col = Int64Chunked::from_slice_options("t".into(), &[Some(0), None])
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column();
        let ds = Dataset::of_frame(
            DataFrame::new(2, vec![col]).expect("frame"),
            Format::Parquet,
        );
        let e = read_timestamps(&ds, "t").expect_err("missing").to_string();
        assert!(
            e.contains("missing timestamp") && e.contains("row 2"),
            "{e}"
        );
        // A date-time column with no value is no timestamp, as its (empty) text is not.
        let none = Int64Chunked::from_slice_options("t".into(), &[None, None])
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_column();
        let text_none = none.cast(&DataType::String).expect("text");
        for col in [none, text_none] {
            let ds = Dataset::of_frame(
                DataFrame::new(2, vec![col]).expect("frame"),
                Format::Parquet,
            );
            assert_eq!(over_time::detect_timestamp(&ds), None);
        }
    }
}

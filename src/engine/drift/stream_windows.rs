//! Drift over time by row-count windows in the streamed report ([`super::stream`]): each
//! compared column keeps its values per window as it goes by (distinct numbers with counts,
//! or text counts), and each window is compared with the reference as
//! [`super::over_time::series`] does, with the method and threshold of the whole comparison.
//! Windows by calendar period stay in memory.

use std::collections::{BTreeMap, HashMap};

use super::binning::Counts;
use super::column_drift::{self, Samples};
use super::columns::{self, Raw, Text};
use super::over_time::{OverTime, Series, Window, Windows};
use super::stream_stats::{self, Dist};
use super::{ColumnDrift, Prepared};

/// Category counts of the reference and of some current text counts, labels sorted
/// ([`Counts::from_texts`]).
pub(super) fn text_counts<'a>(
    reference: &'a Text,
    current: impl Iterator<Item = (&'a String, &'a u64)>,
) -> Counts {
    let mut map: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (s, &n) in reference.dict.iter().zip(&reference.code_counts(None)) {
        if n > 0 {
            map.entry(s).or_default().0 += n;
        }
    }
    for (s, &n) in current {
        if n > 0 {
            map.entry(s).or_default().1 += n;
        }
    }
    let mut counts = Counts::default();
    for (k, (r, o)) in map {
        counts.labels.push(k.to_string());
        counts.reference.push(r);
        counts.current.push(o);
    }
    counts
}

/// One compared column's windows: numbers (with the current column's integer flag) or text.
pub(super) enum Windowed {
    Numbers(Vec<Dist>, bool),
    Text(Vec<HashMap<String, u64>>),
}

/// The over-time section for windows of `size` rows over `rows` rows.
pub(super) fn over_time(
    prepared: &[&Prepared],
    windowed: &[Windowed],
    cols: &[ColumnDrift],
    rows: usize,
    size: usize,
    timestamp: Option<String>,
) -> OverTime {
    let starts: Vec<usize> = (0..rows).step_by(size.max(1)).collect();
    let windows = starts
        .iter()
        .map(|&start| {
            let end = (start + size).min(rows);
            Window {
                label: format!("rows {}–{}", start + 1, end),
                rows: end - start,
                first_row: start + 1,
                last_row: end,
            }
        })
        .collect();
    let mut series = Vec::new();
    for (p, w) in prepared.iter().zip(windowed) {
        let Some(c) = cols.iter().find(|c| c.name == p.name) else {
            continue;
        };
        let (method, threshold) = (c.method, c.threshold);
        let mut s = Series {
            name: p.name.clone(),
            method,
            threshold,
            is_p_value: method.is_test(),
            values: Vec::new(),
            drifted: Vec::new(),
        };
        let sorted = match &p.reference {
            Raw::Numeric { values, .. } => columns::sorted_finite(values),
            Raw::Text { .. } => Vec::new(),
        };
        for k in 0..starts.len() {
            let out = match (&p.reference, w) {
                (Raw::Numeric { integer, .. }, Windowed::Numbers(d, ib)) => {
                    d.get(k).filter(|d| !d.is_empty()).map(|d| {
                        stream_stats::evaluate(
                            p.kind,
                            &sorted,
                            d,
                            *integer && *ib,
                            Some(method),
                            Some(threshold),
                        )
                    })
                }
                (Raw::Text { values }, Windowed::Text(t)) => {
                    t.get(k).filter(|m| m.values().any(|&n| n > 0)).map(|m| {
                        let counts = text_counts(values, m.iter());
                        column_drift::evaluate(
                            p.kind,
                            Samples::Categorical(&counts),
                            Some(method),
                            Some(threshold),
                        )
                    })
                }
                _ => None,
            };
            match out {
                Some(o) => {
                    s.values.push(o.p_value.or(o.statistic));
                    s.drifted.push(o.drifted);
                }
                None => {
                    s.values.push(None);
                    s.drifted.push(false);
                }
            }
        }
        series.push(s);
    }
    OverTime {
        windows_by: Windows::Rows(size),
        timestamp_column: timestamp,
        windows,
        rows_without_time: 0,
        columns: series,
    }
}

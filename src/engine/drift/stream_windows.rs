//! Drift over time in the streamed report ([`super::stream`]): [`WindowTrack`] cuts each
//! batch into runs of rows of one window — consecutive row counts, or calendar periods of the
//! timestamp column (rows in any order) — and each compared column keeps its values per
//! window as they go by (distinct numbers with counts, or text counts). Each window is then
//! compared with the reference as [`super::over_time::series`] does, with the method and
//! threshold of the whole comparison.

use std::collections::{BTreeMap, HashMap};

use super::binning::Counts;
use super::column_drift::{self, Samples};
use super::columns::{self, Raw, Text};
use super::over_time::{parse_iso8601, OverTime, Series, Window, Windows};
use super::stream_state::fallback;
use super::stream_stats::{self, Dist};
use super::{ColumnDrift, Prepared};
use crate::engine::error::Result;

/// A run of rows of one window in a batch: (window index, first row, end) of the batch.
pub(super) type Segment = (usize, usize, usize);

/// The windows met so far: indices in the order first met; rows, first and last file row
/// (0-based) of each.
pub(super) struct WindowTrack {
    by: Windows,
    /// The timestamp column's position among the batch's columns (windows by period).
    ts: Option<usize>,
    index: HashMap<i64, usize>,
    keys: Vec<i64>,
    seen: Vec<(usize, usize, usize)>,
    without: usize,
}

/// The windows in label order: each one, the index its rows were kept under, and the rows
/// left out for a missing or unreadable timestamp.
pub(super) struct Cut {
    pub by: Windows,
    pub windows: Vec<Window>,
    pub order: Vec<usize>,
    pub without: usize,
}

impl WindowTrack {
    /// `ts`: the timestamp column's position for windows by period (required for them).
    pub fn new(by: Windows, ts: Option<usize>) -> WindowTrack {
        WindowTrack {
            by,
            ts,
            index: HashMap::new(),
            keys: Vec::new(),
            seen: Vec::new(),
            without: 0,
        }
    }

    /// The timestamp column's position, once known (windows by period).
    pub fn set_timestamp(&mut self, ts: Option<usize>) {
        self.ts = ts;
    }

    fn run(&mut self, key: i64, offset: usize, start: usize, end: usize, out: &mut Vec<Segment>) {
        let next = self.keys.len();
        let w = *self.index.entry(key).or_insert(next);
        if w == next {
            self.keys.push(key);
            self.seen.push((0, offset + start, 0));
        }
        let s = &mut self.seen[w];
        s.0 += end - start;
        s.2 = offset + end - 1;
        out.push((w, start, end));
    }

    /// Cuts a batch of `len` rows from file row `offset` (`raws`: its columns). A timestamp
    /// column holding numbers sends the file to the in-memory path, which reports it.
    pub fn cut(&mut self, raws: &[Raw], offset: usize, len: usize) -> Result<Vec<Segment>> {
        let mut out = Vec::new();
        match self.by {
            Windows::Rows(size) => {
                let size = size.max(1);
                let mut i = 0;
                while i < len {
                    let w = (offset + i) / size;
                    let end = ((w + 1) * size - offset).min(len);
                    self.run(w as i64, offset, i, end, &mut out);
                    i = end;
                }
            }
            Windows::Period(p) => {
                let Some(Raw::Text { values: t }) = self.ts.and_then(|i| raws.get(i)) else {
                    return Err(fallback());
                };
                let keys: Vec<Option<i64>> = t
                    .dict
                    .iter()
                    .map(|s| parse_iso8601(s).map(|secs| p.key(secs)))
                    .collect();
                let mut open: Option<(i64, usize)> = None;
                for (i, &c) in t.codes.iter().enumerate() {
                    let key = keys.get(c as usize).copied().flatten();
                    if let Some((k, start)) = open {
                        if key != Some(k) {
                            self.run(k, offset, start, i, &mut out);
                            open = None;
                        }
                    }
                    match key {
                        None => self.without += 1,
                        Some(k) if open.is_none() => open = Some((k, i)),
                        Some(_) => {}
                    }
                }
                if let Some((k, start)) = open {
                    self.run(k, offset, start, t.codes.len(), &mut out);
                }
            }
        }
        Ok(out)
    }

    /// The windows in label order.
    pub fn finish(self) -> Cut {
        let mut order: Vec<usize> = (0..self.keys.len()).collect();
        order.sort_by_key(|&w| self.keys[w]);
        let windows = order
            .iter()
            .map(|&w| {
                let (rows, first, last) = self.seen[w];
                let label = match self.by {
                    Windows::Rows(_) => format!("rows {}–{}", first + 1, last + 1),
                    Windows::Period(p) => p.label(self.keys[w]),
                };
                Window {
                    label,
                    rows,
                    first_row: first + 1,
                    last_row: last + 1,
                }
            })
            .collect();
        Cut {
            by: self.by,
            windows,
            order,
            without: self.without,
        }
    }
}

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

/// The over-time section of the windows `cut` (`windowed`: each column's values by window
/// index).
pub(super) fn over_time(
    prepared: &[&Prepared],
    windowed: &[Windowed],
    cols: &[ColumnDrift],
    cut: Cut,
    timestamp: Option<String>,
) -> OverTime {
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
        for &k in &cut.order {
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
        windows_by: cut.by,
        timestamp_column: timestamp,
        windows: cut.windows,
        rows_without_time: cut.without,
        columns: series,
    }
}

//! What the streamed drift path ([`super::stream`]) keeps per column while the current file
//! goes by in batches: missing counts and the first listed rows, distinct values with counts
//! (numbers: [`DistBuilder`]; text: a dictionary of counts), whether the column could be the
//! timestamp, and for each compared column the out-of-range / unseen findings and, for text
//! that must become numbers, the parsed values or the type mismatch. Rows are 0-based file
//! rows (`offset` is the batch's first row).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use super::columns::{Raw, Text, MISSING};
use super::over_time::parse_iso8601;
use super::stream_stats::{Dist, DistBuilder};
use super::stream_windows::Segment;
use crate::engine::error::{EngineError, Result};

/// Distinct text values counted exactly per column that is not compared; beyond it only values
/// already counted are (see [`TextCounts::mode_outcome`]).
pub(super) const TEXT_CAP: usize = 1 << 20;

/// Text values with their counts; `cap` bounds the dictionary of columns that are not compared
/// (identifiers), with a weighted Boyer–Moore majority candidate for the mode.
#[derive(Debug, Default)]
pub(super) struct TextCounts {
    pub map: HashMap<String, u64>,
    cap: Option<usize>,
    overflow: bool,
    candidate: Option<String>,
    candidate_n: u64,
    pub present: u64,
}

/// A column's verdict of the data-quality constant checks.
pub(super) enum ModeOutcome {
    Constant,
    Almost(String, f64),
    Neither,
}

impl TextCounts {
    fn add(&mut self, t: &Text) {
        for (s, &n) in t.dict.iter().zip(&t.code_counts(None)) {
            if n == 0 {
                continue;
            }
            self.present += n;
            if let Some(c) = self.map.get_mut(s.as_str()) {
                *c += n;
            } else if self.cap.is_none_or(|c| self.map.len() < c) {
                self.map.insert(s.clone(), n);
            } else {
                self.overflow = true;
            }
            match &self.candidate {
                Some(c) if c == s => self.candidate_n += n,
                _ if self.candidate_n >= n => self.candidate_n -= n,
                _ => {
                    self.candidate_n = n - self.candidate_n;
                    self.candidate = Some(s.clone());
                }
            }
        }
    }

    /// `None` when the capped dictionary cannot decide (a value first seen after the cap
    /// could cover 95 % of the rows).
    pub fn mode_outcome(&self) -> Option<ModeOutcome> {
        let share = |n: u64| n as f64 / self.present as f64;
        if !self.overflow {
            let best = self
                .map
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(s, &n)| (s.clone(), n))
                .unwrap_or_default();
            return Some(almost_or_not(self.map.len(), self.present, best));
        }
        let cand = self.candidate.clone().unwrap_or_default();
        match self.map.get(&cand) {
            Some(&n) => Some(almost_or_not(2, self.present, (cand, n))),
            // Every counted value differs from the candidate.
            None if share(self.present - self.map.len() as u64)
                < super::quality::ALMOST_CONSTANT =>
            {
                Some(ModeOutcome::Neither)
            }
            None => None,
        }
    }
}

fn almost_or_not(distinct: usize, present: u64, (top, top_n): (String, u64)) -> ModeOutcome {
    if distinct <= 1 {
        ModeOutcome::Constant
    } else if present > 0 && top_n as f64 / present as f64 >= super::quality::ALMOST_CONSTANT {
        ModeOutcome::Almost(top, top_n as f64 / present as f64)
    } else {
        ModeOutcome::Neither
    }
}

/// The constant checks of a numeric column from its distinct finite values; `present`:
/// values that are not NaN (±inf included, as the in-memory check counts them).
pub(super) fn numeric_mode(d: &Dist, present: u64) -> ModeOutcome {
    let (v, n, distinct) = d.mode();
    let label = v.map_or_else(String::new, crate::engine::data::extract::label_of_number);
    almost_or_not(distinct, present, (label, n))
}

/// One column of the current file.
#[derive(Debug)]
pub(super) struct ColState {
    pub name: String,
    /// Every batch read it as an integer column without missing values.
    pub integer: bool,
    pub numeric: bool,
    pub missing: usize,
    pub missing_rows: Vec<usize>,
    pub nan_free: u64,
    pub dist: DistBuilder,
    pub text: TextCounts,
    /// Text whose values all parse as ISO 8601 dates so far (and at least one value).
    pub timestamp_like: bool,
    pub any_text: bool,
}

impl ColState {
    pub fn new(name: &str, numeric: bool, compared: bool) -> ColState {
        ColState {
            name: name.to_string(),
            integer: true,
            numeric,
            missing: 0,
            missing_rows: Vec::new(),
            nan_free: 0,
            dist: DistBuilder::default(),
            text: TextCounts {
                cap: (!compared).then_some(TEXT_CAP),
                ..TextCounts::default()
            },
            timestamp_like: true,
            any_text: false,
        }
    }

    pub fn add(&mut self, raw: &Raw, offset: usize, cap: usize) -> Result<()> {
        let before = self.missing;
        match raw {
            Raw::Numeric { values, integer } if self.numeric => {
                self.integer &= *integer;
                for (i, v) in values.iter().enumerate() {
                    if v.is_nan() {
                        self.missing += 1;
                        if self.missing_rows.len() < cap {
                            self.missing_rows.push(offset + i);
                        }
                    }
                }
                self.nan_free += (values.len() - (self.missing - before)) as u64;
                self.dist.add(values);
            }
            Raw::Text { values } if !self.numeric => {
                for (i, &c) in values.codes.iter().enumerate() {
                    if c == MISSING {
                        self.missing += 1;
                        if self.missing_rows.len() < cap {
                            self.missing_rows.push(offset + i);
                        }
                    }
                }
                self.text.add(values);
                if !values.dict.is_empty() {
                    self.any_text = true;
                    self.timestamp_like &= values.dict.iter().all(|s| parse_iso8601(s).is_some());
                }
            }
            _ => return Err(fallback()),
        }
        Ok(())
    }

    pub fn type_name(&self) -> &'static str {
        match (self.numeric, self.integer) {
            (true, true) => "integer",
            (true, false) => "float",
            _ => "text",
        }
    }
}

/// A problem that sends the file to the in-memory path (which reports it properly).
pub(super) fn fallback() -> EngineError {
    EngineError::internal("streamed drift fell back to the in-memory path")
}

/// How a compared column's current values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Numbers stored as numbers.
    Numbers,
    /// Text that must parse as numbers; `skip`: a value that does not skips the column (text
    /// where the reference has numbers), else it is an error (named numeric).
    Parse {
        skip: bool,
    },
    Text,
}

/// Text of the current data that is not a number where numbers are needed.
#[derive(Debug, Default)]
pub(super) struct Bad {
    pub count: usize,
    pub examples: Vec<(usize, String)>,
}

/// A compared column's state beyond [`ColState`].
#[derive(Debug)]
pub(super) struct DriftState {
    pub col: usize,
    pub read: Read,
    /// Parsed values (`Read::Parse`); `nonfinite`: the parsed values that are not finite.
    pub parsed: DistBuilder,
    pub parsed_nonfinite: usize,
    pub bad: Bad,
    /// Reference min and max (numeric columns with a finite reference value).
    pub range: Option<(f64, f64)>,
    pub below: usize,
    pub above: usize,
    pub range_rows: Vec<usize>,
    /// Categories of the reference (categorical columns): text, or bits of `x + 0.0`.
    pub known_text: Option<HashSet<String>>,
    pub known_bits: Option<HashSet<u64>>,
    pub unseen_text: HashMap<String, usize>,
    pub unseen_bits: HashMap<u64, usize>,
    pub unseen: usize,
    pub unseen_rows: Vec<usize>,
    /// Each drift-over-time window's values, by window index ([`super::stream_windows`]).
    pub win_numbers: Vec<DistBuilder>,
    pub win_text: Vec<HashMap<String, u64>>,
}

impl DriftState {
    pub fn new(col: usize, read: Read) -> DriftState {
        DriftState {
            col,
            read,
            parsed: DistBuilder::default(),
            parsed_nonfinite: 0,
            bad: Bad::default(),
            range: None,
            below: 0,
            above: 0,
            range_rows: Vec::new(),
            known_text: None,
            known_bits: None,
            unseen_text: HashMap::new(),
            unseen_bits: HashMap::new(),
            unseen: 0,
            unseen_rows: Vec::new(),
            win_numbers: Vec::new(),
            win_text: Vec::new(),
        }
    }

    fn windows_text(&mut self, t: &Text, segments: &[Segment]) {
        for &(w, start, end) in segments {
            let mut n = vec![0u64; t.dict.len()];
            for &c in &t.codes[start..end] {
                if let Some(x) = n.get_mut(c as usize) {
                    *x += 1;
                }
            }
            while self.win_text.len() <= w {
                self.win_text.push(HashMap::new());
            }
            for (s, &k) in t.dict.iter().zip(&n) {
                if k > 0 {
                    *self.win_text[w].entry(s.clone()).or_default() += k;
                }
            }
        }
    }

    /// Adds a batch from file row `offset` cut into windows by `segments`.
    pub fn add(
        &mut self,
        raw: &Raw,
        offset: usize,
        cap: usize,
        segments: &[Segment],
    ) -> Result<()> {
        match (self.read, raw) {
            (Read::Numbers, Raw::Numeric { values, .. }) => {
                self.numbers(values, offset, cap, segments)
            }
            (Read::Parse { skip }, Raw::Text { values: t }) => {
                let parsed: Vec<Option<f64>> =
                    t.dict.iter().map(|s| s.parse::<f64>().ok()).collect();
                let mut out = Vec::with_capacity(t.len());
                for (i, &c) in t.codes.iter().enumerate() {
                    match parsed.get(c as usize) {
                        None => out.push(f64::NAN),
                        Some(Some(x)) => out.push(*x),
                        Some(None) if skip => {
                            self.bad.count += 1;
                            if self.bad.examples.len() < 20 {
                                self.bad
                                    .examples
                                    .push((offset + i, t.dict[c as usize].clone()));
                            }
                        }
                        Some(None) => return Err(fallback()),
                    }
                }
                if self.bad.count == 0 {
                    self.parsed_nonfinite += out.iter().filter(|v| !v.is_finite()).count();
                    self.parsed.add(&out);
                    self.numbers(&out, offset, cap, segments);
                } else {
                    self.parsed = DistBuilder::default();
                }
            }
            (Read::Text, Raw::Text { values: t }) => {
                self.windows_text(t, segments);
                if let Some(known) = &self.known_text {
                    let unseen: Vec<bool> =
                        t.dict.iter().map(|s| !known.contains(s.as_str())).collect();
                    for (s, &n) in t.dict.iter().zip(&t.code_counts(None)) {
                        if n > 0 && !known.contains(s.as_str()) {
                            *self.unseen_text.entry(s.clone()).or_default() += n as usize;
                            self.unseen += n as usize;
                        }
                    }
                    if self.unseen_rows.len() < cap && unseen.contains(&true) {
                        let rows = t
                            .codes
                            .iter()
                            .enumerate()
                            .filter(|(_, &c)| unseen.get(c as usize).copied().unwrap_or(false));
                        let room = cap - self.unseen_rows.len();
                        self.unseen_rows
                            .extend(rows.take(room).map(|(i, _)| offset + i));
                    }
                }
            }
            _ => return Err(fallback()),
        }
        Ok(())
    }

    fn numbers(&mut self, b: &[f64], offset: usize, cap: usize, segments: &[Segment]) {
        for &(w, start, end) in segments {
            while self.win_numbers.len() <= w {
                self.win_numbers.push(DistBuilder::default());
            }
            self.win_numbers[w].add(&b[start..end]);
        }
        if let Some((lo, hi)) = self.range {
            for (i, &v) in b.iter().enumerate() {
                let (under, over) = (v < lo, v > hi);
                self.below += under as usize;
                self.above += over as usize;
                if (under || over) && self.range_rows.len() < cap {
                    self.range_rows.push(offset + i);
                }
            }
        }
        if let Some(known) = &self.known_bits {
            for (i, &x) in b.iter().enumerate() {
                if !x.is_nan() && !known.contains(&(x + 0.0).to_bits()) {
                    *self.unseen_bits.entry(x.to_bits()).or_default() += 1;
                    self.unseen += 1;
                    if self.unseen_rows.len() < cap {
                        self.unseen_rows.push(offset + i);
                    }
                }
            }
        }
    }
}

/// Row fingerprints of one batch for the duplicate check: two independent 64-bit mixes over
/// the columns in file order of float bits (NaN as one value) or of two independent hashes of
/// the text (missing as one value). Rows equal in every column get equal fingerprints.
pub(super) fn fingerprints(raws: &[Raw], rows: usize) -> Vec<(u64, u64)> {
    let mut h1 = vec![0x243F_6A88_85A3_08D3u64; rows];
    let mut h2 = vec![0x1319_8A2E_0370_7344u64; rows];
    let hash = |seed: u64, s: &str| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        seed.hash(&mut h);
        s.hash(&mut h);
        h.finish()
    };
    for raw in raws {
        let mix = |i: usize, v1: u64, v2: u64, h1: &mut [u64], h2: &mut [u64]| {
            h1[i] = (h1[i] ^ v1)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
            h2[i] = (h2[i] ^ v2.rotate_left(17))
                .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                .rotate_left(31);
        };
        match raw {
            Raw::Numeric { values, .. } => {
                for (i, &x) in values.iter().enumerate().take(rows) {
                    let v = if x.is_nan() { u64::MAX } else { x.to_bits() };
                    mix(i, v, v, &mut h1, &mut h2);
                }
            }
            Raw::Text { values } => {
                let keys: Vec<(u64, u64)> = values
                    .dict
                    .iter()
                    .map(|s| (hash(1, s), hash(2, s)))
                    .collect();
                for (i, &c) in values.codes.iter().enumerate().take(rows) {
                    let (v1, v2) = keys
                        .get(c as usize)
                        .copied()
                        .unwrap_or((0x5A5A_5A5A_5A5A_5A5A, 0xA5A5_A5A5_A5A5_A5A5));
                    mix(i, v1, v2, &mut h1, &mut h2);
                }
            }
        }
    }
    h1.into_iter().zip(h2).collect()
}

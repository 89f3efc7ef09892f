//! The pass of the streamed drift report ([`super::stream`]) over the current file: each batch
//! read into every column's state, the compared columns' drift state, the model's
//! `prediction` column (when a model runs on the batches), the drift-over-time windows and
//! the duplicate-row fingerprints.

use std::collections::HashSet;

use rayon::prelude::*;

use super::columns::{self, Raw};
use super::over_time::parse_iso8601;
use super::stream_state::{fallback, fingerprints, ColState, DriftState};
use super::stream_windows::WindowTrack;
use crate::engine::data::Dataset;
use crate::engine::error::Result;

/// What the pass keeps of the batches gone by.
pub(super) struct Pass<'a> {
    /// The current file's columns, in file order.
    names: &'a [String],
    /// Rows listed per finding.
    cap: usize,
    pub cols: Vec<ColState>,
    pub states: Vec<DriftState>,
    /// The model's `prediction` column: its column state and drift state.
    pub prediction: Option<(ColState, DriftState)>,
    pub windows: Option<WindowTrack>,
    /// Windows by period with no timestamp named: the first column of the first batch that
    /// looks like one (the whole file must agree, see [`Pass::guessed`]).
    guess_timestamp: bool,
    pub guessed: Option<String>,
    seen: HashSet<(u64, u64)>,
    pub dups: usize,
    pub dup_rows: Vec<usize>,
    /// Rows read so far.
    pub rows: usize,
}

impl<'a> Pass<'a> {
    pub fn new(
        names: &'a [String],
        cap: usize,
        cols: Vec<ColState>,
        states: Vec<DriftState>,
        windows: Option<WindowTrack>,
        guess_timestamp: bool,
    ) -> Pass<'a> {
        Pass {
            names,
            cap,
            cols,
            states,
            prediction: None,
            windows,
            guess_timestamp,
            guessed: None,
            seen: HashSet::new(),
            dups: 0,
            dup_rows: Vec::new(),
            rows: 0,
        }
    }

    /// Adds one batch of the current file; `prediction`: the model's column for its rows
    /// (required when the pass has a prediction state).
    pub fn batch(&mut self, ds: &Dataset, prediction: Option<Raw>) -> Result<()> {
        let n = ds.df.height();
        let raws: Vec<Raw> = self
            .names
            .par_iter()
            .map(|name| columns::read(ds, name))
            .collect::<Result<_>>()?;
        if self.guess_timestamp && self.rows == 0 {
            let at = raws.iter().position(|r| {
                matches!(r, Raw::Text { values } if !values.dict.is_empty()
                    && values.dict.iter().all(|s| parse_iso8601(s).is_some()))
            });
            self.guessed = at.map(|i| self.names[i].clone());
            match (&mut self.windows, at) {
                (Some(w), Some(at)) => w.set_timestamp(Some(at)),
                // No windows: the report says why (or the whole file disagrees).
                _ => self.windows = None,
            }
        }
        let (offset, cap) = (self.rows, self.cap);
        let segments = match &mut self.windows {
            Some(w) => w.cut(&raws, offset, n)?,
            None => Vec::new(),
        };
        let (a, b) = rayon::join(
            || {
                self.cols
                    .par_iter_mut()
                    .zip(&raws)
                    .try_for_each(|(c, raw)| c.add(raw, offset, cap))
            },
            || {
                self.states
                    .par_iter_mut()
                    .try_for_each(|s| s.add(&raws[s.col], offset, cap, &segments))
            },
        );
        a?;
        b?;
        match (&mut self.prediction, &prediction) {
            (Some((col, st)), Some(raw)) if raw.len() == n => {
                col.add(raw, offset, cap)?;
                st.add(raw, offset, cap, &segments)?;
            }
            (None, None) => {}
            _ => return Err(fallback()),
        }
        for (i, fp) in fingerprints(&raws, n).into_iter().enumerate() {
            if !self.seen.insert(fp) {
                self.dups += 1;
                if self.dup_rows.len() < cap {
                    self.dup_rows.push(offset + i + 1);
                }
            }
        }
        self.rows += n;
        Ok(())
    }

    /// Frees the duplicate fingerprints (the rest of the report needs only the counts).
    pub fn end(&mut self) {
        self.seen = HashSet::new();
    }
}

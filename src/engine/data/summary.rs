//! Per-column views for front ends: the distribution of one column (histogram for numbers,
//! category counts otherwise) and the display text of single cells for a virtualised preview.

use polars::prelude::*;
use serde::Serialize;

use std::collections::HashMap;
use std::path::Path;

use super::batches::{batch_rows, for_each_batch};
use super::{is_numeric, Dataset};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

/// The distribution of one column, ready to draw.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distribution {
    /// `counts[i]` values fall in `[edges[i], edges[i + 1])` (the last bin is closed).
    Numeric {
        edges: Vec<f64>,
        counts: Vec<u64>,
        /// Missing, NaN or infinite values (not in any bin).
        missing: u64,
    },
    /// The most frequent categories, most frequent first; the rest are summed in `other`.
    Categorical {
        categories: Vec<(String, u64)>,
        other: u64,
        missing: u64,
    },
}

/// Histogram with `bins` equal-width bins (numeric columns) or the `bins` most frequent
/// categories (others).
pub fn distribution(ds: &Dataset, column: &str, bins: usize) -> Result<Distribution> {
    let col = ds
        .df
        .column(column)
        .map_err(|_| EngineError::column(&ds.path, column, "no such column"))?;
    let series = col.as_materialized_series();
    let mut tally = Tally::of(series.dtype());
    tally.add(series, column)?;
    match tally.bins(bins) {
        Some(mut b) => {
            b.add(series, column)?;
            Ok(b.finish())
        }
        None => Ok(tally.finish(bins)),
    }
}

/// [`distribution`] of a column of the file at `path` without holding the file: the column is
/// read in batches, twice for numbers (range, then counts).
pub fn distribution_file(
    path: &Path,
    column: &str,
    bins: usize,
    progress: &Progress,
) -> Result<Distribution> {
    let cols = [column.to_string()];
    let rows = batch_rows(1);
    let mut tally: Option<Tally> = None;
    let of = |df: &DataFrame| -> Result<Series> {
        df.column(column)
            .map(|c| c.as_materialized_series().clone())
            .map_err(|_| EngineError::column(path, column, "no such column"))
    };
    for_each_batch(path, Some(&cols), rows, |df| {
        progress.check()?;
        let s = of(&df)?;
        tally
            .get_or_insert_with(|| Tally::of(s.dtype()))
            .add(&s, column)
    })?;
    let tally = tally.unwrap_or_else(|| Tally::Text(HashMap::new(), 0));
    match tally.bins(bins) {
        Some(mut b) => {
            for_each_batch(path, Some(&cols), rows, |df| {
                progress.check()?;
                b.add(&of(&df)?, column)
            })?;
            Ok(b.finish())
        }
        None => Ok(tally.finish(bins)),
    }
}

/// A column's values so far: the range of the finite numbers, or the count of each text.
enum Tally {
    Numeric { lo: f64, hi: f64, missing: u64 },
    Text(HashMap<String, u64>, u64),
}

impl Tally {
    fn of(dtype: &DataType) -> Tally {
        if is_numeric(dtype) {
            Tally::Numeric {
                lo: f64::INFINITY,
                hi: f64::NEG_INFINITY,
                missing: 0,
            }
        } else {
            Tally::Text(HashMap::new(), 0)
        }
    }

    fn add(&mut self, series: &Series, column: &str) -> Result<()> {
        match self {
            Tally::Numeric { lo, hi, missing } => {
                for v in floats(series, column)?.iter() {
                    match v {
                        Some(x) if x.is_finite() => {
                            *lo = lo.min(x);
                            *hi = hi.max(x);
                        }
                        _ => *missing += 1,
                    }
                }
            }
            Tally::Text(counts, missing) => {
                let text = series.cast(&DataType::String).map_err(|e| {
                    EngineError::internal(format!("cast of '{column}' failed: {e}"))
                })?;
                let ca = text
                    .str()
                    .map_err(|e| EngineError::internal(format!("column '{column}': {e}")))?;
                for v in ca.iter() {
                    match v {
                        Some(s) => match counts.get_mut(s) {
                            Some(n) => *n += 1,
                            None => {
                                counts.insert(s.to_string(), 1);
                            }
                        },
                        None => *missing += 1,
                    }
                }
            }
        }
        Ok(())
    }

    /// The empty bins of a numeric column (`None`: a text column, finished by [`Self::finish`]).
    fn bins(&self, bins: usize) -> Option<Bins> {
        let &Tally::Numeric { lo, hi, missing } = self else {
            return None;
        };
        let bins = bins.max(1);
        if lo > hi {
            return Some(Bins {
                lo: 0.0,
                width: 1.0,
                edges: Vec::new(),
                counts: Vec::new(),
                missing,
            });
        }
        let (lo, hi) = if lo == hi {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        };
        let width = (hi - lo) / bins as f64;
        Some(Bins {
            lo,
            width,
            edges: (0..=bins).map(|i| lo + width * i as f64).collect(),
            counts: vec![0; bins],
            missing,
        })
    }

    /// The `bins` most frequent categories (a numeric tally gives no categories).
    fn finish(self, bins: usize) -> Distribution {
        let (counts, missing) = match self {
            Tally::Text(counts, missing) => (counts, missing),
            Tally::Numeric { missing, .. } => (HashMap::new(), missing),
        };
        let bins = bins.max(1);
        let mut all: Vec<(String, u64)> = counts.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let other = all.iter().skip(bins).map(|(_, c)| c).sum();
        all.truncate(bins);
        Distribution::Categorical {
            categories: all,
            other,
            missing,
        }
    }
}

/// Equal-width bins over a known range, counting the finite values.
struct Bins {
    lo: f64,
    width: f64,
    edges: Vec<f64>,
    counts: Vec<u64>,
    missing: u64,
}

impl Bins {
    fn add(&mut self, series: &Series, column: &str) -> Result<()> {
        let n = self.counts.len();
        if n == 0 {
            return Ok(());
        }
        for x in floats(series, column)?
            .iter()
            .flatten()
            .filter(|x| x.is_finite())
        {
            let b = (((x - self.lo) / self.width) as usize).min(n - 1);
            self.counts[b] += 1;
        }
        Ok(())
    }

    fn finish(self) -> Distribution {
        Distribution::Numeric {
            edges: self.edges,
            counts: self.counts,
            missing: self.missing,
        }
    }
}

fn floats(series: &Series, column: &str) -> Result<Float64Chunked> {
    let f = series
        .cast(&DataType::Float64)
        .map_err(|e| EngineError::internal(format!("cast of '{column}' failed: {e}")))?;
    f.f64()
        .cloned()
        .map_err(|e| EngineError::internal(format!("column '{column}': {e}")))
}

/// Display text of one cell (`row` 0-based); empty for missing values.
pub fn cell_text(df: &DataFrame, row: usize, column: usize) -> String {
    let Some(col) = df.columns().get(column) else {
        return String::new();
    };
    match col.get(row) {
        Ok(AnyValue::Null) | Err(_) => String::new(),
        Ok(AnyValue::String(s)) => s.to_string(),
        Ok(AnyValue::StringOwned(s)) => s.to_string(),
        Ok(AnyValue::Float64(x)) => format_float(x),
        Ok(AnyValue::Float32(x)) => format_float(f64::from(x)),
        Ok(v) => v.to_string(),
    }
}

fn format_float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::Format;

    fn ds(df: DataFrame) -> Dataset {
        Dataset::of_frame(df, Format::Csv)
    }

    #[test]
    fn numeric_histogram_counts_every_finite_value_once() {
        let d = ds(
            df!("x" => [Some(0.0), Some(1.0), Some(2.0), Some(10.0), None, Some(f64::NAN)])
                .expect("df"),
        );
        let Distribution::Numeric {
            edges,
            counts,
            missing,
        } = distribution(&d, "x", 5).expect("hist")
        else {
            panic!("numeric expected")
        };
        assert_eq!(edges, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(counts, vec![2, 1, 0, 0, 1]);
        assert_eq!(missing, 2);
    }

    #[test]
    fn categories_sorted_by_count_then_name_with_other() {
        let d = ds(df!("c" => [Some("b"), Some("a"), Some("b"), Some("c"), None]).expect("df"));
        let dist = distribution(&d, "c", 2).expect("bars");
        assert_eq!(
            dist,
            Distribution::Categorical {
                categories: vec![("b".into(), 2), ("a".into(), 1)],
                other: 1,
                missing: 1
            }
        );
        assert_eq!(cell_text(&d.df, 0, 0), "b");
        assert_eq!(cell_text(&d.df, 4, 0), "");
        assert!(distribution(&d, "nope", 2).is_err());
    }
}

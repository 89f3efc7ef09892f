//! Per-column views for front ends: the distribution of one column (histogram for numbers,
//! category counts otherwise) and the display text of single cells for a virtualised preview.

use polars::prelude::*;
use serde::Serialize;

use super::{is_numeric, Dataset};
use crate::engine::error::{EngineError, Result};

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
    let bins = bins.max(1);
    if is_numeric(col.dtype()) {
        let series = col
            .cast(&DataType::Float64)
            .map_err(|e| EngineError::internal(format!("cast of '{column}' failed: {e}")))?;
        let ca = series
            .f64()
            .map_err(|e| EngineError::internal(format!("column '{column}': {e}")))?;
        let (mut lo, mut hi, mut missing) = (f64::INFINITY, f64::NEG_INFINITY, 0u64);
        for v in ca.iter() {
            match v {
                Some(x) if x.is_finite() => {
                    lo = lo.min(x);
                    hi = hi.max(x);
                }
                _ => missing += 1,
            }
        }
        if lo > hi {
            return Ok(Distribution::Numeric {
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
        let edges: Vec<f64> = (0..=bins).map(|i| lo + width * i as f64).collect();
        let mut counts = vec![0u64; bins];
        for x in ca.iter().flatten().filter(|x| x.is_finite()) {
            let b = (((x - lo) / width) as usize).min(bins - 1);
            counts[b] += 1;
        }
        Ok(Distribution::Numeric {
            edges,
            counts,
            missing,
        })
    } else {
        let series = col
            .cast(&DataType::String)
            .map_err(|e| EngineError::internal(format!("cast of '{column}' failed: {e}")))?;
        let ca = series
            .str()
            .map_err(|e| EngineError::internal(format!("column '{column}': {e}")))?;
        let mut counts: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        let mut missing = 0u64;
        for v in ca.iter() {
            match v {
                Some(s) => *counts.entry(s).or_insert(0) += 1,
                None => missing += 1,
            }
        }
        let mut all: Vec<(String, u64)> = counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let other = all.iter().skip(bins).map(|(_, c)| c).sum();
        all.truncate(bins);
        Ok(Distribution::Categorical {
            categories: all,
            other,
            missing,
        })
    }
}

/// Display text of one cell (`row` 0-based); empty for missing values.
pub fn cell_text(ds: &Dataset, row: usize, column: usize) -> String {
    let Some(col) = ds.df.columns().get(column) else {
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
        Dataset {
            path: "t.csv".into(),
            sha256: String::new(),
            format: Format::Csv,
            file_size: 0,
            df,
        }
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
        assert_eq!(cell_text(&d, 0, 0), "b");
        assert_eq!(cell_text(&d, 4, 0), "");
        assert!(distribution(&d, "nope", 2).is_err());
    }
}

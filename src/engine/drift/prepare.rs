//! Deciding a column's kind and storage before the statistics: text that parses as numbers
//! on one side is converted, text that does not is a type mismatch (the column is skipped),
//! `--numeric` / `--categorical` overrides are applied, Evidently's "text" columns are skipped.

use super::columns::{self, ColumnKind, Inferred, Raw};
use super::{quality, DriftOptions, Prepared, Role, Source};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};

type Mismatch = quality::TypeMismatch;

/// Why a column of mostly distinct text is skipped.
pub(super) const TEXT_COLUMN: &str =
    "more than half of its values are distinct text (an identifier or \
                           free text); name it in --categorical to compare it anyway";

/// Reads a column of both datasets. `Ok(Err(reason))` when the reference alone decides that
/// [`prepare_column`] skips it — text with mostly distinct values (Evidently's "text" type),
/// not named in `--categorical`/`--numeric`, whose current column is not numbers either —
/// so a long current column of identifiers or timestamps is never read as text.
pub(super) fn read_both(
    name: &str,
    opts: &DriftOptions,
    reference: &Dataset,
    current: &Dataset,
) -> Result<std::result::Result<(Raw, Raw), String>> {
    let named = opts
        .categorical
        .iter()
        .chain(&opts.numeric)
        .any(|x| x == name);
    if !named && mostly_distinct_dates(reference, name)? {
        let numbers = crate::engine::data::extract::column(current, name)?
            .dtype()
            .is_primitive_numeric();
        if !numbers {
            return Ok(Err(TEXT_COLUMN.to_string()));
        }
    }
    let r = columns::read(reference, name)?;
    if !named && matches!(r, Raw::Text { .. }) && columns::infer_kind(&r) == Inferred::Text {
        let numbers = crate::engine::data::extract::column(current, name)?
            .dtype()
            .is_primitive_numeric();
        if !numbers {
            return Ok(Err(TEXT_COLUMN.to_string()));
        }
    }
    Ok(Ok((r, columns::read(current, name)?)))
}

/// Whether a date or date-time column would read as text ([`columns::read`] formats it) that
/// [`columns::infer_kind`] calls mostly distinct, decided on its stored integers without
/// formatting them (formatting is one-to-one, so the distinct counts are the same).
fn mostly_distinct_dates(ds: &Dataset, name: &str) -> Result<bool> {
    use polars::prelude::DataType;
    let col = crate::engine::data::extract::column(ds, name)?;
    if !matches!(col.dtype(), DataType::Date | DataType::Datetime(..)) {
        return Ok(false);
    }
    let physical = col
        .to_physical_repr()
        .cast(&DataType::Int64)
        .map_err(|e| EngineError::internal(format!("column '{name}': {e}")))?;
    let ints = physical
        .i64()
        .map_err(|e| EngineError::internal(format!("column '{name}': {e}")))?;
    let mut v: Vec<i64> = ints.iter().flatten().collect();
    let count = v.len();
    v.sort_unstable();
    v.dedup();
    Ok(v.len() as f64 > count as f64 * 0.5)
}

/// Decides kind and storage of one column. `Ok(Err(reason))` skips the column.
#[allow(clippy::type_complexity)]
pub(super) fn prepare_column(
    name: &str,
    role: Role,
    r: Raw,
    c: Raw,
    opts: &DriftOptions,
    reference: &Dataset,
    current: &Dataset,
) -> Result<std::result::Result<Prepared, (String, Option<Mismatch>)>> {
    let user_cat = opts.categorical.iter().any(|x| x == name);
    let user_num = opts.numeric.iter().any(|x| x == name);
    // Bring both sides to one storage: text that parses as numbers becomes numbers.
    let (r, c) = match (r, c) {
        (Raw::Numeric { values, integer }, Raw::Text { values: t }) => {
            match columns::text_to_numeric(&t) {
                Ok(v) => (
                    Raw::Numeric { values, integer },
                    Raw::Numeric {
                        values: v.into(),
                        integer: false,
                    },
                ),
                Err(row) => {
                    let m = quality::TypeMismatch::new(name, "number", "text", &t, row);
                    return Ok(Err((
                        format!(
                            "numbers in the reference but text in the current data (row {}: '{}')",
                            row + 1,
                            t.get(row).unwrap_or_default()
                        ),
                        Some(m),
                    )));
                }
            }
        }
        (Raw::Text { values: t }, Raw::Numeric { values, integer }) => {
            match columns::text_to_numeric(&t) {
                Ok(v) => (
                    Raw::Numeric {
                        values: v.into(),
                        integer: false,
                    },
                    Raw::Numeric { values, integer },
                ),
                Err(row) => {
                    let m = quality::TypeMismatch::reference(name, &t, row);
                    return Ok(Err((
                        format!(
                            "text in the reference (row {}: '{}') but numbers in the current data",
                            row + 1,
                            t.get(row).unwrap_or_default()
                        ),
                        Some(m),
                    )));
                }
            }
        }
        other => other,
    };
    let (r, c) = if user_num {
        match (r, c) {
            (Raw::Text { values: a }, Raw::Text { values: b }) => {
                let conv = |ds: &Dataset, v: &columns::Text| {
                    columns::text_to_numeric(v).map_err(|row| {
                        EngineError::cell(
                            &ds.path,
                            name,
                            row + 1,
                            format!(
                                "'{}' is not a number, but the column was named numeric",
                                v.get(row).unwrap_or_default()
                            ),
                        )
                    })
                };
                (
                    Raw::Numeric {
                        values: conv(reference, &a)?.into(),
                        integer: false,
                    },
                    Raw::Numeric {
                        values: conv(current, &b)?.into(),
                        integer: false,
                    },
                )
            }
            other => other,
        }
    } else {
        (r, c)
    };
    let (kind, source) = if user_cat {
        (ColumnKind::Categorical, Source::User)
    } else if user_num {
        (ColumnKind::Numeric, Source::User)
    } else {
        match columns::infer_kind(&r) {
            Inferred::Kind(k) => (k, Source::Inferred),
            Inferred::Text => return Ok(Err((TEXT_COLUMN.to_string(), None))),
        }
    };
    Ok(Ok(Prepared {
        name: name.to_string(),
        role,
        kind,
        kind_source: source,
        reference: r,
        current: c,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::Format;
    use polars::prelude::*;

    fn ds(df: DataFrame) -> Dataset {
        Dataset::of_frame(df, Format::Parquet)
    }

    /// The stored integers decide as the formatted text does: mostly distinct date-times and
    /// dates are skipped, repeated ones are not, nulls count as missing.
    #[test]
    fn dates_decided_on_stored_integers_as_on_their_text() {
        let distinct: Vec<Option<i64>> =
            (0..40).map(|i| (i % 7 != 0).then_some(i * 1000)).collect();
        let repeated: Vec<Option<i64>> = (0..40).map(|i| Some((i % 3) * 86_400_000)).collect();
        let days: Vec<Option<i32>> = (0..40).map(Some).collect();
        let df = df!("a" => &distinct, "b" => &repeated, "d" => &days).expect("df");
        let df = df
            .lazy()
            .with_columns([
                col("a").cast(DataType::Datetime(TimeUnit::Nanoseconds, None)),
                col("b").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
                col("d").cast(DataType::Date),
            ])
            .collect()
            .expect("cast");
        let d = ds(df);
        for name in ["a", "b", "d"] {
            let as_text = columns::infer_kind(&columns::read(&d, name).expect("read"));
            assert_eq!(
                mostly_distinct_dates(&d, name).expect("dates"),
                as_text == Inferred::Text,
                "{name}"
            );
        }
        assert!(mostly_distinct_dates(&d, "a").expect("a"));
        assert!(!mostly_distinct_dates(&d, "b").expect("b"));
        let opts = DriftOptions::default();
        assert_eq!(
            read_both("a", &opts, &d, &d).expect("read").err(),
            Some(TEXT_COLUMN.to_string())
        );
    }
}

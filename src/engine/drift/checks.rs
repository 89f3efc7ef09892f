//! Checks and messages of a drift comparison shared by the in-memory and streamed paths: the
//! options against both files' columns, the warning when `--method` does not apply, and the
//! error when nothing can be compared.

use std::collections::BTreeSet;

use super::{ColumnDrift, DriftOptions, Skipped};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::Warning;

/// The warning when `--method` does not apply to some columns.
pub(crate) fn method_warning(opts: &DriftOptions, cols: &[ColumnDrift]) -> Option<Warning> {
    let m = opts.method?;
    let bad: Vec<&str> = cols
        .iter()
        .filter(|c| c.method != m)
        .map(|c| c.name.as_str())
        .collect();
    (!bad.is_empty()).then(|| {
        Warning::option(format!(
            "method {m:?} does not apply to categorical columns; they keep the default: {}",
            bad.join(", ")
        ))
    })
}

/// The options checked against both files' columns, before any value is read (the streamed
/// path checks them on the current file's schema).
pub(crate) fn check_options(
    reference: &Dataset,
    current: &Dataset,
    opts: &DriftOptions,
) -> Result<()> {
    if !(opts.drift_share > 0.0 && opts.drift_share <= 1.0) {
        return Err(EngineError::usage(format!(
            "drift share {} must be in (0, 1]",
            opts.drift_share
        )));
    }
    if let Some(t) = opts.threshold {
        if !(t.is_finite() && t >= 0.0) {
            return Err(EngineError::usage(format!(
                "threshold {t} must be a non-negative number"
            )));
        }
    }
    if let Some(t) = &opts.timestamp {
        if !current.has_column(t) {
            return Err(EngineError::column(
                &current.path,
                t,
                "no such timestamp column in the current data",
            ));
        }
    }
    for name in opts.categorical.iter().chain(&opts.numeric) {
        if !reference.has_column(name) || !current.has_column(name) {
            return Err(EngineError::usage(format!(
                "column '{name}' named in --categorical/--numeric is not in both files"
            )));
        }
    }
    if let Some(both) = opts.categorical.iter().find(|c| opts.numeric.contains(c)) {
        return Err(EngineError::usage(format!(
            "column '{both}' is named both categorical and numeric"
        )));
    }
    if let Some(cols) = &opts.columns {
        require_columns(cols, [reference, current])?;
    }
    Ok(())
}

/// The error when every wanted column was skipped (or the files share none).
pub(crate) fn nothing_to_compare(
    skipped: &[Skipped],
    timestamp: Option<&str>,
    ref_names: &[String],
    cur_names: &BTreeSet<String>,
) -> EngineError {
    let why = if skipped.is_empty() {
        let cur: Vec<&str> = cur_names.iter().map(String::as_str).collect();
        format!(
            "the files share no column{} (reference: {}; current: {})",
            timestamp
                .as_ref()
                .map_or_else(String::new, |t| format!(" besides the timestamp '{t}'")),
            ref_names.join(", "),
            cur.join(", ")
        )
    } else {
        let mut each: Vec<String> = skipped
            .iter()
            .take(10)
            .map(|s| format!("'{}': {}", s.name, s.reason))
            .collect();
        if skipped.len() > 10 {
            each.push(format!("and {} more", skipped.len() - 10));
        }
        format!("every shared column was skipped: {}", each.join("; "))
    };
    EngineError::usage(format!("no column to compare: {why}"))
}

/// Every named column exists in both files (the error names the file and lists its columns).
pub(crate) fn require_columns(names: &[String], files: [&Dataset; 2]) -> Result<()> {
    for c in names {
        for ds in files {
            if !ds.has_column(c) {
                return Err(EngineError::column(
                    &ds.path,
                    c,
                    format!(
                        "no such column; the file has: {}",
                        ds.column_names().join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

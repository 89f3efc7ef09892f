//! Streamed drift (issue 19): the whole-file report of [`super::drift`] for a large current
//! file read in batches ([`for_each_batch`]), keeping per column only what the report needs —
//! distinct values with counts ([`super::stream_stats::Dist`]: KS, Wasserstein, sturges bins,
//! category counts and the data-quality mode are exact from them), text category counts,
//! missing counts, out-of-range / unseen counts and the first listed rows — plus one 128-bit
//! fingerprint per distinct row for the duplicate check. The reference is loaded whole.
//!
//! With a model, the batches are scored as streamed `evaluate` scores them
//! ([`score_batches`]: the same chunks, so the same numbers as in memory) and the `prediction`
//! column is kept like the others. Drift over time: windows by row count or calendar period
//! ([`super::stream_windows`]); without a named timestamp, the first batch's guess must be the
//! whole file's.
//!
//! [`super::drift_files`] takes this path for a CSV, Parquet or Arrow current file, or a set
//! of them, of at least [`data::batches::STREAM_MIN_BYTES`] ([`data::batches::is_large`]);
//! otherwise, and
//! whenever the streamed run meets a problem of the data (a column type that changes after the
//! first 10,000 CSV rows, text in a column named numeric, …), it runs in memory, which
//! reports the problem as before. Both give the same report (tests/drift_stream.rs): every
//! statistic walks the same distinct values in the same order, so the numbers are equal to
//! the bit; duplicated rows are found by fingerprints of the values instead of dictionary
//! codes (equal rows always match; distinct rows collide with probability ~2⁻¹²⁸).
//!
//! Memory: one batch, 16 bytes per distinct finite value of each numeric column, the text
//! categories of compared columns (other text columns: at most [`TEXT_CAP`] values), and
//! 16 bytes (plus hash-set overhead) per distinct row. Measured (release, 2 cores, through
//! [`for_each_batch`], batches of 2²⁰ rows of every column): a 10M-row CSV of 5,000 distinct
//! rows 0.88–0.93 GiB, a 100M-row Parquet file of them 0.86 GiB. With the older CSV reader
//! (hand-chunked): 0.41–0.53 GiB for that CSV (0.57 GiB with 10 row-count windows), the same
//! with every row distinct and one numeric column of 10M distinct values 1.17 GiB.
//! With many distinct rows or values the per-row state dominates (100M distinct rows would
//! not fit 1.5 GiB).
//!
//! [`TEXT_CAP`]: super::stream_state::TEXT_CAP

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::binning::Counts;
use super::column_drift::{self, Samples};
use super::columns::{self, ColumnKind, Raw, Text};
use super::over_time::no_timestamp;
use super::over_time::Windows;
use super::predictions::{predict_one, prediction_column};
use super::prepare::{prepare_column, read_both};
use super::quality::TypeMismatch;
use super::stream_pass::Pass;
use super::stream_quality::assess;
use super::stream_state::{ColState, DriftState, Read};
use super::stream_stats::{self, Dist};
use super::stream_windows::{self, text_counts, WindowTrack, Windowed};
use super::{
    check_options, method_warning, nothing_to_compare, ColumnDrift, DataRef, DriftOptions,
    DriftReport, Prepared, Role, Skipped, Source,
};
use crate::engine::data::batches::{batch_rows as batch_rows_for, for_each_batch};
use crate::engine::data::{self, Dataset};
use crate::engine::error::{EngineError, ErrorKind, Result};
use crate::engine::model::{plan_inputs, Model};
use crate::engine::progress::Progress;
use crate::engine::scored_stream::{score_batches, BatchScoring, StreamFile};

/// A wanted column as decided from the reference and the current file's schema.
type Decision = std::result::Result<(Prepared, usize), (String, Option<TypeMismatch>)>;

/// The drift report of `current` against `reference`, the current file read `batch_rows`
/// rows at a time (`None`: [`batch_rows_for`] its width). `Ok(None)`: not done this way (see
/// the module docs); run
/// [`super::drift`] in memory. Errors of the options and of the reference are returned as the
/// in-memory path returns them.
pub fn drift_streamed(
    reference: &Path,
    current: &Path,
    model: Option<&Model>,
    opts: &DriftOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<DriftReport>> {
    if opts.windows == Some(Windows::Rows(0)) {
        return Ok(None);
    }
    let Ok(source) = data::batches::source(current) else {
        return Ok(None);
    };
    let format = source.format;
    let reference = data::load(reference, progress)?;
    let Ok(schema) = data::batches::schema(current) else {
        return Ok(None);
    };
    let cur_names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    if cur_names.is_empty() || data::check_duplicate_names(current, &cur_names).is_err() {
        return Ok(None);
    }
    // The current file without rows: its columns and types for the checks and decisions.
    let shape = Dataset {
        path: current.to_path_buf(),
        sha256: String::new(),
        format,
        file_size: source.size,
        df: DataFrame::empty_with_schema(&schema),
    };
    check_options(&reference, &shape, opts)?;
    let cur_set: BTreeSet<&str> = cur_names.iter().map(String::as_str).collect();
    let ref_names = reference.column_names();
    let wanted: Vec<String> = match &opts.columns {
        Some(cols) => cols.clone(),
        None => ref_names
            .iter()
            .filter(|c| cur_set.contains(c.as_str()) && Some(*c) != opts.timestamp.as_ref())
            .cloned()
            .collect(),
    };
    let index: HashMap<&str, usize> = cur_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let numeric = |name: &str| schema.get(name).is_some_and(|dt| dt.is_primitive_numeric());
    progress.set(0.05, "reading columns");
    let mut decided: Vec<(String, Decision)> = Vec::new();
    let mut states: Vec<DriftState> = Vec::new();
    for name in &wanted {
        progress.check()?;
        let Ok(both) = read_both(name, opts, &reference, &shape) else {
            return Ok(None);
        };
        let (r, c) = match both {
            Ok(both) => both,
            Err(reason) => {
                decided.push((name.clone(), Err((reason, None))));
                continue;
            }
        };
        let ref_numbers = matches!(r, Raw::Numeric { .. });
        let role = if opts.target.as_deref() == Some(name.as_str()) {
            Role::Target
        } else {
            Role::Feature
        };
        let Ok(p) = prepare_column(name, role, r, c, opts, &reference, &shape) else {
            return Ok(None);
        };
        let p = match p {
            Ok(p) => p,
            Err(skip) => {
                decided.push((name.clone(), Err(skip)));
                continue;
            }
        };
        let Some(&col) = index.get(name.as_str()) else {
            return Ok(None);
        };
        let read = match (&p.current, numeric(name)) {
            (Raw::Text { .. }, _) => Read::Text,
            (Raw::Numeric { .. }, true) => Read::Numbers,
            (Raw::Numeric { .. }, false) => Read::Parse { skip: ref_numbers },
        };
        states.push(new_state(&p, col, read));
        decided.push((name.clone(), Ok((p, states.len() - 1))));
    }
    let compared_text: HashSet<usize> = states
        .iter()
        .filter(|s| s.read == Read::Text)
        .map(|s| s.col)
        .collect();
    let cols: Vec<ColState> = cur_names
        .iter()
        .enumerate()
        .map(|(i, n)| ColState::new(n, numeric(n), compared_text.contains(&i)))
        .collect();
    let named_ts = opts
        .timestamp
        .as_ref()
        .and_then(|t| index.get(t.as_str()).copied());
    let guess_timestamp = matches!(opts.windows, Some(Windows::Period(_))) && named_ts.is_none();
    let windows = opts.windows.map(|w| WindowTrack::new(w, named_ts));
    let cap = opts.max_rows_listed;
    let mut pass = Pass::new(&cur_names, cap, cols, states, windows, guess_timestamp);
    let mut predicted = None;
    if let Some(model) = model {
        progress.set(0.08, "running the model on the reference");
        let plan = plan_inputs(&model.info, opts.features.as_deref())?;
        let ((r, warning), kind) =
            predict_one(model, &reference, &plan, opts, &progress.stage(0.08, 0.1))?;
        let p = Prepared {
            name: "prediction".into(),
            role: Role::Prediction,
            kind,
            kind_source: Source::Inferred,
            current: match &r {
                Raw::Numeric { .. } => Raw::Numeric {
                    values: columns::Values::default(),
                    integer: false,
                },
                Raw::Text { .. } => Raw::Text {
                    values: Text::from_values(std::iter::empty::<Option<&str>>()),
                },
            },
            reference: r,
        };
        let (numbers, read) = match &p.reference {
            Raw::Numeric { .. } => (true, Read::Numbers),
            Raw::Text { .. } => (false, Read::Text),
        };
        pass.prediction = Some((
            ColState::new(&p.name, numbers, true),
            new_state(&p, usize::MAX, read),
        ));
        predicted = Some((p, plan, warning));
    }

    progress.set(0.1, "reading the current data in batches");
    let read = match (model, &predicted) {
        (Some(model), Some((_, plan, _))) => {
            let file = StreamFile {
                path: current,
                format,
                size: source.size,
            };
            let run = BatchScoring {
                model,
                plan,
                target: None,
                extra: &cur_names,
                infer: &opts.infer,
                batch_rows,
            };
            score_batches(file, &run, progress, (0.1, 0.6), |scored, ds| {
                let (raw, _) = prediction_column(model, scored.predictions);
                pass.batch(ds, Some(raw))
            })?
            .map(|f| (f.rows, f.sha256))
        }
        _ => std::thread::scope(|s| {
            let hasher = s.spawn(|| data::batches::sha256(current));
            let rows = batch_rows.unwrap_or_else(|| batch_rows_for(cur_names.len()));
            let read = for_each_batch(current, None, rows, |df| {
                progress.check()?;
                let ds = Dataset {
                    path: current.to_path_buf(),
                    sha256: String::new(),
                    format,
                    file_size: source.size,
                    df,
                };
                pass.batch(&ds, None)
            });
            let sha = hasher
                .join()
                .unwrap_or_else(|_| Err(EngineError::internal("hashing thread panicked")));
            match (read, sha) {
                (Err(e), _) if e.kind() == ErrorKind::Cancelled => Err(e),
                (Ok(rows), Ok(sha)) => Ok(Some((rows, sha))),
                _ => Ok(None),
            }
        })?,
    };
    pass.end();
    let (rows, sha256) = match read {
        Some((rows, sha)) if rows > 0 && rows == pass.rows => (rows, sha),
        _ => return Ok(None),
    };
    let Pass {
        mut cols,
        states,
        prediction,
        windows,
        guessed,
        dups,
        dup_rows,
        ..
    } = pass;

    progress.set(0.6, "computing drift");
    let timestamp = match &opts.timestamp {
        Some(t) => Some(t.clone()),
        None => cols
            .iter()
            .find(|c| !c.numeric && c.any_text && c.timestamp_like)
            .map(|c| c.name.clone()),
    };
    if guess_timestamp && guessed != timestamp {
        // The first batch's guess is not the whole file's timestamp column.
        return Ok(None);
    }
    // In memory the detected timestamp is never a wanted column.
    let left_out = match (&opts.columns, &opts.timestamp) {
        (None, None) => timestamp.clone(),
        _ => None,
    };
    let dists: Vec<Option<Dist>> = cols
        .iter_mut()
        .map(|c| c.numeric.then(|| std::mem::take(&mut c.dist).finish()))
        .collect();
    let mut states: Vec<Option<DriftState>> = states.into_iter().map(Some).collect();
    let mut skipped = Vec::new();
    let mut type_mismatches = Vec::new();
    let mut prepared: Vec<(Prepared, DriftState, Option<Dist>)> = Vec::new();
    for (name, d) in decided {
        if Some(&name) == left_out.as_ref() {
            continue;
        }
        let (p, st) = match d {
            Err((reason, m)) => {
                type_mismatches.extend(m);
                skipped.push(Skipped { name, reason });
                continue;
            }
            Ok((p, i)) => match states.get_mut(i).and_then(Option::take) {
                Some(st) => (p, st),
                None => return Ok(None),
            },
        };
        if let Some((row, value)) = st.bad.examples.first().cloned() {
            skipped.push(Skipped {
                name: name.clone(),
                reason: format!(
                    "numbers in the reference but text in the current data (row {}: '{value}')",
                    row + 1
                ),
            });
            type_mismatches.push(TypeMismatch {
                name,
                dataset: "current",
                expected: "number",
                found: "text",
                count: st.bad.count,
                examples: st
                    .bad
                    .examples
                    .into_iter()
                    .map(|(r, v)| (r + 1, v))
                    .collect(),
            });
            continue;
        }
        let mut st = st;
        let parsed =
            matches!(st.read, Read::Parse { .. }).then(|| std::mem::take(&mut st.parsed).finish());
        prepared.push((p, st, parsed));
    }
    // The model's column comes last (as in memory), its states after the file's columns.
    let mut warnings = Vec::new();
    let mut predicted_col: Option<(ColState, Dist)> = None;
    if let (Some((p, _, warning)), Some((mut col, mut st))) = (predicted, prediction) {
        warnings.extend(warning);
        st.col = cols.len();
        let dist = std::mem::take(&mut col.dist).finish();
        predicted_col = Some((col, dist));
        prepared.push((p, st, None));
    }
    // A compared column's state and distinct numbers, the model's column after the file's.
    let col_at = |i: usize| cols.get(i).or(predicted_col.as_ref().map(|(c, _)| c));
    let dist_at = |i: usize| match dists.get(i) {
        Some(d) => d.as_ref(),
        None => predicted_col.as_ref().map(|(_, d)| d),
    };
    if prepared.is_empty() {
        let cur: BTreeSet<String> = cur_names.iter().cloned().collect();
        return Err(nothing_to_compare(
            &skipped,
            timestamp.as_deref(),
            &ref_names,
            &cur,
        ));
    }
    let results: Vec<std::result::Result<ColumnDrift, String>> = prepared
        .par_iter()
        .map(|(p, st, parsed)| {
            let Some(col) = col_at(st.col) else {
                return Err("internal: no column state".to_string());
            };
            let current = match st.read {
                Read::Text => Current::Text(col),
                Read::Numbers => match dist_at(st.col) {
                    Some(d) => Current::Numbers(d, col.integer),
                    None => Current::Numbers(&EMPTY, false),
                },
                Read::Parse { .. } => Current::Numbers(parsed.as_ref().unwrap_or(&EMPTY), false),
            };
            column_result(p, current, rows, opts)
        })
        .collect();
    let mut out = Vec::new();
    for (r, (p, _, _)) in results.into_iter().zip(&prepared) {
        match r {
            Ok(c) => out.push(c),
            Err(reason) => skipped.push(Skipped {
                name: p.name.clone(),
                reason,
            }),
        }
    }
    if out.is_empty() {
        return Err(EngineError::usage(
            "no column could be compared (see the reasons above)".to_string(),
        ));
    }
    warnings.extend(method_warning(opts, &out));
    let n_drifted = out.iter().filter(|c| c.drifted).count();
    let share = n_drifted as f64 / out.len() as f64;

    let over_time = match windows {
        Some(cut) => {
            let windowed: Vec<Windowed> = prepared
                .iter_mut()
                .map(|(_, st, _)| match st.read {
                    Read::Text => Windowed::Text(std::mem::take(&mut st.win_text)),
                    read => Windowed::Numbers(
                        std::mem::take(&mut st.win_numbers)
                            .into_iter()
                            .map(|b| b.finish())
                            .collect(),
                        read == Read::Numbers && col_at(st.col).is_some_and(|c| c.integer),
                    ),
                })
                .collect();
            let ps: Vec<&Prepared> = prepared.iter().map(|(p, _, _)| p).collect();
            Some(stream_windows::over_time(
                &ps,
                &windowed,
                &out,
                cut.finish(),
                timestamp.clone(),
            ))
        }
        // Windows by period and no timestamp column in the whole file.
        None if opts.windows.is_some() => return Err(no_timestamp()),
        None => None,
    };
    progress.set(0.8, "data quality");
    let Some(quality) = assess(
        &reference,
        &cols,
        &dists,
        (rows, dups, dup_rows),
        &prepared,
        type_mismatches,
        cap,
    )?
    else {
        return Ok(None);
    };
    progress.set(1.0, "done");
    Ok(Some(DriftReport {
        reference: DataRef {
            path: reference.path.clone(),
            sha256: reference.sha256.clone(),
            rows: reference.rows(),
        },
        current: DataRef {
            path: current.to_path_buf(),
            sha256,
            rows,
        },
        model: model.map(|m| m.info.path.clone()),
        method: opts.method,
        threshold: opts.threshold,
        drift_share: opts.drift_share,
        columns: out,
        n_drifted,
        share_drifted: share,
        dataset_drift: share >= opts.drift_share,
        skipped,
        timestamp_column: timestamp,
        quality,
        over_time,
        warnings,
    }))
}

static EMPTY: Dist = Dist {
    values: Vec::new(),
    counts: Vec::new(),
};

/// The state of a compared column: reference range (numeric) or categories (categorical).
fn new_state(p: &Prepared, col: usize, read: Read) -> DriftState {
    let mut st = DriftState::new(col, read);
    match (p.kind, &p.reference, read) {
        (ColumnKind::Numeric, Raw::Numeric { values, .. }, Read::Numbers | Read::Parse { .. }) => {
            let (lo, hi) = values
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            st.range = lo.is_finite().then_some((lo, hi));
        }
        (ColumnKind::Categorical, Raw::Text { values: a }, Read::Text) => {
            let counts = a.code_counts(None);
            st.known_text = Some(
                a.dict
                    .iter()
                    .zip(&counts)
                    .filter(|(_, &n)| n > 0)
                    .map(|(s, _)| s.clone())
                    .collect(),
            );
        }
        (
            ColumnKind::Categorical,
            Raw::Numeric { values, .. },
            Read::Numbers | Read::Parse { .. },
        ) => {
            st.known_bits = Some(
                values
                    .iter()
                    .filter(|x| !x.is_nan())
                    .map(|x| (x + 0.0).to_bits())
                    .collect(),
            );
        }
        _ => {}
    }
    st
}

/// A compared column's current sample.
enum Current<'a> {
    Numbers(&'a Dist, bool),
    Text(&'a ColState),
}

/// `super::column_result` on the streamed state; `Err(reason)` skips the column.
fn column_result(
    p: &Prepared,
    current: Current<'_>,
    rows: usize,
    opts: &DriftOptions,
) -> std::result::Result<ColumnDrift, String> {
    let mr = super::missing_count(&p.reference);
    let mc = match &current {
        Current::Numbers(d, _) => rows - d.total() as usize,
        Current::Text(c) => c.missing,
    };
    let (nr, nc) = (p.reference.len() - mr, rows - mc);
    if let Some(reason) = super::no_values_left(nr, nc) {
        return Err(reason);
    }
    let out = match (&p.reference, &current) {
        (Raw::Numeric { values, integer }, Current::Numbers(d, ib)) => {
            let a = columns::sorted_finite(values);
            stream_stats::evaluate(p.kind, &a, d, *integer && *ib, opts.method, opts.threshold)
        }
        (Raw::Text { values: ra }, Current::Text(c)) => {
            let counts = text_counts(ra, c.text.map.iter());
            column_drift::evaluate(
                p.kind,
                Samples::Categorical(&counts),
                opts.method,
                opts.threshold,
            )
        }
        _ => column_drift::evaluate(
            p.kind,
            Samples::Categorical(&Counts::default()),
            opts.method,
            opts.threshold,
        ),
    };
    Ok(super::column_drift_of(
        p,
        out,
        opts.method,
        [nr, nc, mr, mc],
    ))
}

//! Streamed weak-slice search (issue 19): the data file is read in batches and scored as
//! streamed fairness scores it ([`super::stream::gather`]); per row only the outcome and the
//! searched columns' values are kept (4 bytes a row per text column, 8 per numeric one, and
//! the outcomes), never the frame. The groups and the search are then those of the in-memory
//! path ([`super::slices::search_columns`]), so the result is the same (tests/fairness_stream.rs).
//!
//! The window's Fairness page gets the fairness report and the weak slices from one run over
//! the file ([`fairness_and_slices_streamed`]): the sensitive columns' values are copied for
//! the report, then the searched columns' are taken by the search, so the peak is that of the
//! search alone.
//!
//! [`slices_files`] (the CLI's `slices`) and the analysis pipeline take this path for the same
//! files as streamed fairness; `Ok(None)` (search in memory, which reports
//! any problem) on the same problems, and when a column is named twice.

use std::path::Path;

use super::groups::raw_groups;
use super::slices::{
    find_weak_slices, search_columns, searched_columns, SliceSearch, SliceSearchOptions,
};
use super::stream::{fairness_streamed, gather, report_of, sensitive_columns, Gather};
use super::{FairnessOptions, FairnessReport};
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::ModelRef;
use crate::engine::model::Model;
use crate::engine::progress::Progress;

/// The weak slices of the model on the one data file at `path`, read `batch_rows` rows at a
/// time (`None`: the shared streamed run's default). `Ok(None)`: not done this way; search in
/// memory.
pub fn slices_streamed(
    model: &Model,
    path: &Path,
    opts: &SliceSearchOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<SliceSearch>> {
    let Some(names) = searched(path, opts) else {
        return Ok(None);
    };
    let Some(got) = gather(model, path, &opts.run, &names, batch_rows, progress)? else {
        return Ok(None);
    };
    search_of(model, path, opts, &names, got, progress).map(Some)
}

/// The fairness report and the weak slices of one streamed run: the file is read and scored
/// once, keeping the sensitive and the searched columns (the window's Fairness page). When the
/// two option sets run the model differently, each gets its own run. `Ok(None)`: not done this
/// way.
pub fn fairness_and_slices_streamed(
    model: &Model,
    path: &Path,
    fairness: &FairnessOptions,
    slices: &SliceSearchOptions,
    batch_rows: Option<usize>,
    progress: &Progress,
) -> Result<Option<(FairnessReport, SliceSearch)>> {
    let same_run =
        serde_json::to_value(&fairness.run).ok() == serde_json::to_value(&slices.run).ok();
    if !same_run {
        let Some(report) = fairness_streamed(model, path, fairness, batch_rows, progress)? else {
            return Ok(None);
        };
        return Ok(slices_streamed(model, path, slices, batch_rows, progress)?.map(|s| (report, s)));
    }
    if fairness.slicings.is_empty() || fairness.slicings.iter().any(Vec::is_empty) {
        return Ok(None);
    }
    let Some(names) = searched(path, slices) else {
        return Ok(None);
    };
    let mut columns = sensitive_columns(fairness);
    columns.retain(|c| !names.contains(c));
    columns.extend(names.iter().cloned());
    let Some(mut got) = gather(model, path, &fairness.run, &columns, batch_rows, progress)? else {
        return Ok(None);
    };
    let report = report_of(model, path, fairness, &mut got, false, progress)?;
    progress.set(0.9, "searching weak slices");
    let search = search_of(model, path, slices, &names, got, progress)?;
    Ok(Some((report, search)))
}

/// The searched columns (`None`: the file's columns cannot be read here, or a column is named
/// twice).
fn searched(path: &Path, opts: &SliceSearchOptions) -> Option<Vec<String>> {
    let names = match &opts.columns {
        Some(c) => c.clone(),
        None => {
            let schema = crate::engine::data::batches::schema(path).ok()?;
            searched_columns(schema.iter_names().map(|n| n.to_string()).collect(), opts)
        }
    };
    let mut distinct = names.clone();
    distinct.sort();
    distinct.dedup();
    (distinct.len() == names.len()).then_some(names)
}

/// The search over the gathered values of `names` (taken from `got`).
fn search_of(
    model: &Model,
    path: &Path,
    opts: &SliceSearchOptions,
    names: &[String],
    mut got: Gather,
    progress: &Progress,
) -> Result<SliceSearch> {
    let groups = |name: &str| {
        let v = got
            .values
            .remove(name)
            .ok_or_else(|| EngineError::internal("a searched column was not read"))?;
        raw_groups(path, name, v.finish(None), &opts.binning)
    };
    let mut out = search_columns(
        names,
        groups,
        got.data.clone(),
        &got.outcomes,
        None,
        opts,
        progress,
    )?;
    out.model = Some(ModelRef::of(model));
    let later = std::mem::replace(&mut out.warnings, got.warnings);
    out.warnings.extend(later);
    Ok(out)
}

/// Loads the model and searches the data at `data`: streamed when it is a file (or set) of at
/// least [`crate::engine::data::batches::STREAM_MIN_BYTES`] the streamed run takes, else in
/// memory ([`find_weak_slices`]).
pub fn slices_files(
    model: &Path,
    data: &Path,
    opts: &SliceSearchOptions,
    progress: &Progress,
) -> Result<SliceSearch> {
    progress.set(0.0, "loading");
    let model = Model::load(model)?;
    if crate::engine::data::batches::is_large(data) {
        if let Some(out) = slices_streamed(&model, data, opts, None, progress)? {
            return Ok(out);
        }
    }
    let ds = crate::engine::data::load(data, progress)?;
    find_weak_slices(&model, &ds, opts, progress)
}

//! Streamed weak-slice search (issue 19): the data file is read in batches and scored as
//! streamed fairness scores it ([`super::stream::gather`]); per row only the outcome and the
//! searched columns' values are kept (4 bytes a row per text column, 8 per numeric one, and
//! the outcomes), never the frame. The groups and the search are then those of the in-memory
//! path ([`super::slices::search_columns`]), so the result is the same (tests/fairness_stream.rs).
//!
//! [`slices_files`] (the CLI's `slices`) and the analysis pipeline take this path for the same
//! files as streamed fairness; `Ok(None)` (search in memory, which reports
//! any problem) on the same problems, and when a column is named twice.

use std::path::Path;

use super::groups::raw_groups;
use super::slices::{
    find_weak_slices, search_columns, searched_columns, SliceSearch, SliceSearchOptions,
};
use super::stream::gather;
use crate::engine::data::{scan_frame, Format};
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
    let names = match &opts.columns {
        Some(c) => c.clone(),
        None => {
            let Ok(format) = Format::from_path(path) else {
                return Ok(None);
            };
            let Some(schema) = scan_frame(path, format, false, Some(10_000))
                .ok()
                .and_then(|mut lf| lf.collect_schema().ok())
            else {
                return Ok(None);
            };
            let all = schema.iter_names().map(|n| n.to_string()).collect();
            searched_columns(all, opts)
        }
    };
    let mut distinct = names.clone();
    distinct.sort();
    distinct.dedup();
    if distinct.len() != names.len() {
        return Ok(None);
    }
    let Some(mut got) = gather(model, path, &opts.run, &names, batch_rows, progress)? else {
        return Ok(None);
    };
    progress.set(0.6, "grouping the columns");
    let groups = |name: &str| {
        let v = got
            .values
            .remove(name)
            .ok_or_else(|| EngineError::internal("a searched column was not read"))?;
        raw_groups(path, name, v.finish(None), &opts.binning)
    };
    let mut out = search_columns(
        &names,
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
    Ok(Some(out))
}

/// Loads the model and searches the data file at `data`: streamed when it is one file of at
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

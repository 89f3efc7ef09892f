//! The data-quality part of the streamed drift report ([`super::stream`]): what
//! [`super::quality::assess`] computes, from the per-column state kept while the current file
//! went by.

use std::collections::HashMap;

use super::quality::{self, Quality, TypeMismatch};
use super::stream_state::{numeric_mode, ColState, DriftState, ModeOutcome};
use super::stream_stats::Dist;
use super::Prepared;
use crate::engine::data::Dataset;
use crate::engine::error::Result;

/// [`quality::assess`] from the streamed state; `None` when a constant check cannot be
/// decided from it (fall back to the in-memory path).
#[allow(clippy::type_complexity)]
pub(super) fn assess(
    reference: &Dataset,
    cols: &[ColState],
    dists: &[Option<Dist>],
    (rows, dups, dup_rows): (usize, usize, Vec<usize>),
    prepared: &[(Prepared, DriftState, Option<Dist>)],
    type_mismatches: Vec<TypeMismatch>,
    cap: usize,
) -> Result<Option<Quality>> {
    let (rq, rraw) = quality::dataset_quality(reference, cap)?;
    let mut missing = Vec::new();
    let mut constant = Vec::new();
    let mut almost = Vec::new();
    for (c, d) in cols.iter().zip(dists) {
        missing.push(quality::ColumnMissing {
            name: c.name.clone(),
            count: c.missing,
            share: if rows > 0 {
                c.missing as f64 / rows as f64
            } else {
                0.0
            },
            rows: c.missing_rows.iter().map(|r| r + 1).collect(),
        });
        let outcome = match d {
            Some(d) => numeric_mode(d, c.nan_free),
            None => match c.text.mode_outcome() {
                Some(o) => o,
                None => return Ok(None),
            },
        };
        match outcome {
            ModeOutcome::Constant => constant.push(c.name.clone()),
            ModeOutcome::Almost(value, share) => almost.push(quality::AlmostConstant {
                name: c.name.clone(),
                value,
                share,
            }),
            ModeOutcome::Neither => {}
        }
    }
    let cq = quality::DatasetQuality {
        rows,
        columns: cols.len(),
        missing,
        duplicated_rows: dups,
        duplicated_row_numbers: dup_rows,
        constant_columns: constant,
        almost_constant_columns: almost,
    };
    let schema = quality::schema_drift(
        rraw.iter().map(|(n, r)| (n.as_str(), r.type_name())),
        cols.iter().map(|c| c.name.as_str()),
        |n| cols.iter().find(|c| c.name == n).map(|c| c.type_name()),
    );
    let mut out_of_range = Vec::new();
    let mut unseen = Vec::new();
    for (p, st, _) in prepared {
        if let Some((lo, hi)) = st.range {
            if st.below + st.above > 0 {
                out_of_range.push(quality::OutOfRange {
                    name: p.name.clone(),
                    reference_min: lo,
                    reference_max: hi,
                    below: st.below,
                    above: st.above,
                    rows: st.range_rows.iter().map(|r| r + 1).collect(),
                });
            }
        }
        if st.unseen > 0 {
            let mut counts: HashMap<String, usize> = st.unseen_text.clone();
            for (&bits, &n) in &st.unseen_bits {
                let label = crate::engine::data::extract::label_of_number(f64::from_bits(bits));
                *counts.entry(label).or_default() += n;
            }
            let mut cats: Vec<(String, usize)> = counts.into_iter().collect();
            cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            unseen.push(quality::Unseen {
                name: p.name.clone(),
                categories: cats,
                count: st.unseen,
                rows: st.unseen_rows.iter().map(|r| r + 1).collect(),
            });
        }
    }
    Ok(Some(Quality {
        reference: rq,
        current: cq,
        schema,
        out_of_range,
        unseen_categories: unseen,
        type_mismatches,
    }))
}

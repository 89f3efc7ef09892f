//! Data quality of both datasets and between them: missing values per column, duplicated rows,
//! constant and almost-constant columns, out-of-range values and unseen categories relative to
//! the reference, type mismatches and schema drift. Every finding carries its complete count
//! and up to `max_rows_listed` 1-based data-row numbers, so a GUI can link to the rows.

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use super::columns::{self, ColumnKind, Raw, Text};
use super::Prepared;
use crate::engine::data::Dataset;
use crate::engine::error::Result;

/// Share of the most frequent value from which a column counts as almost constant
/// (Evidently's `almost_constant_threshold`).
pub const ALMOST_CONSTANT: f64 = 0.95;

#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub reference: DatasetQuality,
    pub current: DatasetQuality,
    pub schema: SchemaDrift,
    pub out_of_range: Vec<OutOfRange>,
    pub unseen_categories: Vec<Unseen>,
    pub type_mismatches: Vec<TypeMismatch>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnMissing {
    pub name: String,
    pub count: usize,
    pub share: f64,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlmostConstant {
    pub name: String,
    pub value: String,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatasetQuality {
    pub rows: usize,
    pub columns: usize,
    /// Every column, in file order (missing = null, NaN or empty text).
    pub missing: Vec<ColumnMissing>,
    /// Rows identical (all columns) to an earlier row.
    pub duplicated_rows: usize,
    pub duplicated_row_numbers: Vec<usize>,
    /// Columns with at most one distinct non-missing value.
    pub constant_columns: Vec<String>,
    /// Columns whose most frequent value covers ≥ 95 % of the non-missing values (constant
    /// columns excluded).
    pub almost_constant_columns: Vec<AlmostConstant>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeChange {
    pub name: String,
    pub reference: String,
    pub current: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaDrift {
    pub only_in_reference: Vec<String>,
    pub only_in_current: Vec<String>,
    pub type_changed: Vec<TypeChange>,
    /// True when the shared columns appear in a different order.
    pub order_changed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutOfRange {
    pub name: String,
    pub reference_min: f64,
    pub reference_max: f64,
    pub below: usize,
    pub above: usize,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unseen {
    pub name: String,
    /// Categories of the current data absent from the reference, with their counts (most
    /// frequent first).
    pub categories: Vec<(String, usize)>,
    pub count: usize,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeMismatch {
    pub name: String,
    /// `reference` or `current`: where the offending text is.
    pub dataset: &'static str,
    pub expected: &'static str,
    pub found: &'static str,
    pub count: usize,
    /// (row, value) pairs, 1-based rows.
    pub examples: Vec<(usize, String)>,
}

impl TypeMismatch {
    fn build(name: &str, dataset: &'static str, values: &Text) -> Self {
        let bad_code: Vec<bool> = values
            .dict
            .iter()
            .map(|s| s.parse::<f64>().is_err())
            .collect();
        let mut count = 0;
        let mut examples = Vec::new();
        for (i, &c) in values.codes.iter().enumerate() {
            if bad_code.get(c as usize).copied().unwrap_or(false) {
                count += 1;
                if examples.len() < 20 {
                    examples.push((i + 1, values.dict[c as usize].clone()));
                }
            }
        }
        TypeMismatch {
            name: name.to_string(),
            dataset,
            expected: "number",
            found: "text",
            count,
            examples,
        }
    }

    /// Text in the current data where the reference has numbers.
    pub fn new(name: &str, _expected: &str, _found: &str, values: &Text, _first: usize) -> Self {
        Self::build(name, "current", values)
    }

    /// Text in the reference where the current data has numbers.
    pub fn reference(name: &str, values: &Text, _first: usize) -> Self {
        Self::build(name, "reference", values)
    }
}

pub(crate) fn listed(rows: impl Iterator<Item = usize>, cap: usize) -> Vec<usize> {
    rows.take(cap).map(|i| i + 1).collect()
}

pub(crate) fn dataset_quality(
    ds: &Dataset,
    cap: usize,
) -> Result<(DatasetQuality, Vec<(String, Raw)>)> {
    let names = ds.column_names();
    let raws: Vec<(String, Raw)> = names
        .par_iter()
        .map(|n| Ok((n.clone(), columns::read(ds, n)?)))
        .collect::<Result<_>>()?;
    let rows = ds.rows();
    let mut missing = Vec::new();
    let mut constant = Vec::new();
    let mut almost = Vec::new();
    for (name, raw) in &raws {
        let miss = (0..rows).filter(|&i| raw.is_missing(i));
        let count = (0..rows).filter(|&i| raw.is_missing(i)).count();
        missing.push(ColumnMissing {
            name: name.clone(),
            count,
            share: if rows > 0 {
                count as f64 / rows as f64
            } else {
                0.0
            },
            rows: listed(miss, cap),
        });
        let (top, top_n, distinct, present) = mode_of(raw);
        if distinct <= 1 {
            constant.push(name.clone());
        } else if present > 0 && top_n as f64 / present as f64 >= ALMOST_CONSTANT {
            almost.push(AlmostConstant {
                name: name.clone(),
                value: top,
                share: top_n as f64 / present as f64,
            });
        }
    }
    // Duplicates: rows are compared by a 128-bit fingerprint of all their values (two
    // independent multiply-rotate mixes of float bits / dictionary codes).
    let mut h1 = vec![0x243F_6A88_85A3_08D3u64; rows];
    let mut h2 = vec![0x1319_8A2E_0370_7344u64; rows];
    for (_, raw) in &raws {
        for i in 0..rows {
            let v = match raw {
                Raw::Numeric { values, .. } => {
                    let x = values[i];
                    if x.is_nan() {
                        u64::MAX
                    } else {
                        x.to_bits()
                    }
                }
                Raw::Text { values } => u64::from(values.codes[i]) ^ 0x5A5A_0000_0000_0000,
            };
            h1[i] = (h1[i] ^ v)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
            h2[i] = (h2[i] ^ v.rotate_left(17))
                .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                .rotate_left(31);
        }
    }
    let mut seen: HashSet<(u64, u64)> = HashSet::with_capacity(rows);
    let mut dups = Vec::new();
    for i in 0..rows {
        if !seen.insert((h1[i], h2[i])) {
            dups.push(i);
        }
    }
    Ok((
        DatasetQuality {
            rows,
            columns: names.len(),
            missing,
            duplicated_rows: dups.len(),
            duplicated_row_numbers: listed(dups.into_iter(), cap),
            constant_columns: constant,
            almost_constant_columns: almost,
        },
        raws,
    ))
}

/// (most frequent value, its count, distinct values, non-missing values).
fn mode_of(raw: &Raw) -> (String, usize, usize, usize) {
    match raw {
        Raw::Numeric { values, .. } => {
            let v = columns::sorted_finite(values);
            let nan_free: usize = values.iter().filter(|x| !x.is_nan()).count();
            let (mut best, mut best_n, mut distinct) = (f64::NAN, 0usize, 0usize);
            let mut i = 0;
            while i < v.len() {
                let mut j = i;
                while j < v.len() && v[j] == v[i] {
                    j += 1;
                }
                distinct += 1;
                if j - i > best_n {
                    best_n = j - i;
                    best = v[i];
                }
                i = j;
            }
            let label = if best.is_nan() {
                String::new()
            } else {
                crate::engine::data::extract::label_of_number(best)
            };
            (label, best_n, distinct, nan_free)
        }
        Raw::Text { values } => {
            let counts = values.code_counts(None);
            let present = counts.iter().sum::<u64>() as usize;
            let distinct = counts.iter().filter(|&&c| c > 0).count();
            let best = counts
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.cmp(b.1).then(values.dict[b.0].cmp(&values.dict[a.0])))
                .map(|(k, &v)| (values.dict[k].clone(), v as usize))
                .unwrap_or_default();
            (best.0, best.1, distinct, present)
        }
    }
}

/// Columns only on one side, columns whose type changed (in reference order) and whether the
/// shared columns come in another order. `reference`: names and type names; `current_type`:
/// a current column's type name (the first column of that name).
pub(crate) fn schema_drift<'a>(
    reference: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    current: impl Iterator<Item = &'a str> + Clone,
    current_type: impl Fn(&str) -> Option<&'a str>,
) -> SchemaDrift {
    let rset: BTreeSet<&str> = reference.clone().map(|(n, _)| n).collect();
    let cset: BTreeSet<&str> = current.clone().collect();
    let type_changed = reference
        .clone()
        .filter_map(|(n, r)| {
            let c = current_type(n)?;
            (r != c).then(|| TypeChange {
                name: n.to_string(),
                reference: r.into(),
                current: c.into(),
            })
        })
        .collect();
    let shared_r: Vec<&str> = reference
        .clone()
        .map(|(n, _)| n)
        .filter(|n| cset.contains(n))
        .collect();
    let shared_c: Vec<&str> = current.clone().filter(|n| rset.contains(n)).collect();
    SchemaDrift {
        only_in_reference: reference
            .filter(|(n, _)| !cset.contains(n))
            .map(|(n, _)| n.to_string())
            .collect(),
        only_in_current: current
            .filter(|n| !rset.contains(n))
            .map(|n| n.to_string())
            .collect(),
        type_changed,
        order_changed: shared_r != shared_c,
    }
}

pub(crate) fn assess(
    reference: &Dataset,
    current: &Dataset,
    prepared: &[Prepared],
    type_mismatches: Vec<TypeMismatch>,
    cap: usize,
) -> Result<Quality> {
    let (rq, cq) = rayon::join(
        || dataset_quality(reference, cap),
        || dataset_quality(current, cap),
    );
    let ((rq, rraw), (cq, craw)) = (rq?, cq?);
    let schema = schema_drift(
        rraw.iter().map(|(n, r)| (n.as_str(), r.type_name())),
        craw.iter().map(|(n, _)| n.as_str()),
        |n| {
            craw.iter()
                .find(|(m, _)| m == n)
                .map(|(_, c)| c.type_name())
        },
    );

    let mut out_of_range = Vec::new();
    let mut unseen = Vec::new();
    for p in prepared {
        match (&p.kind, &p.reference, &p.current) {
            (
                ColumnKind::Numeric,
                Raw::Numeric { values: a, .. },
                Raw::Numeric { values: b, .. },
            ) => {
                let (lo, hi) = a
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
                        (l.min(v), h.max(v))
                    });
                if !lo.is_finite() {
                    continue;
                }
                let below = b.iter().filter(|&&v| v < lo).count();
                let above = b.iter().filter(|&&v| v > hi).count();
                if below + above > 0 {
                    let rows = (0..b.len()).filter(|&i| b[i] < lo || b[i] > hi);
                    out_of_range.push(OutOfRange {
                        name: p.name.clone(),
                        reference_min: lo,
                        reference_max: hi,
                        below,
                        above,
                        rows: listed(rows, cap),
                    });
                }
            }
            (ColumnKind::Categorical, r, c) => {
                let mut counts: HashMap<String, usize> = HashMap::new();
                let mut rows = Vec::new();
                match (r, c) {
                    (Raw::Text { values: a }, Raw::Text { values: b }) => {
                        let ra = a.code_counts(None);
                        let known: HashSet<&str> = a
                            .dict
                            .iter()
                            .zip(&ra)
                            .filter(|(_, &n)| n > 0)
                            .map(|(s, _)| s.as_str())
                            .collect();
                        let unseen: Vec<bool> =
                            b.dict.iter().map(|s| !known.contains(s.as_str())).collect();
                        for (i, &code) in b.codes.iter().enumerate() {
                            if unseen.get(code as usize).copied().unwrap_or(false) {
                                *counts.entry(b.dict[code as usize].clone()).or_default() += 1;
                                rows.push(i);
                            }
                        }
                    }
                    (Raw::Numeric { values: a, .. }, Raw::Numeric { values: b, .. }) => {
                        let known: HashSet<u64> = a
                            .iter()
                            .filter(|x| !x.is_nan())
                            .map(|x| (x + 0.0).to_bits())
                            .collect();
                        for (i, x) in b.iter().enumerate() {
                            if !x.is_nan() && !known.contains(&(x + 0.0).to_bits()) {
                                *counts.entry(c.display(i)).or_default() += 1;
                                rows.push(i);
                            }
                        }
                    }
                    _ => {}
                }
                if !rows.is_empty() {
                    let mut cats: Vec<(String, usize)> = counts.into_iter().collect();
                    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                    unseen.push(Unseen {
                        name: p.name.clone(),
                        categories: cats,
                        count: rows.len(),
                        rows: listed(rows.into_iter(), cap),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(Quality {
        reference: rq,
        current: cq,
        schema,
        out_of_range,
        unseen_categories: unseen,
        type_mismatches,
    })
}

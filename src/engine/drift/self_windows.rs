//! One numeric column compared with samples of itself, without copying the file: what
//! `assay monitor`'s reference noise level needs (windows drawn from one half of the reference
//! compared with the other half). Each window's sorted values are picked out of the column's
//! sorted order once ([`finite_order`]), and every number equals [`super::chunked::per_window`]'s
//! on copies of the same rows.

use std::borrow::Cow;

use rayon::prelude::*;

use super::chunked_column::{series_of, whole_column};
use super::columns::{self, Raw};
use super::over_time::Series;
use super::rows::Rows;
use super::window_stats::{Current, Reference};
use super::{Prepared, Role};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;
use crate::engine::sortkey;

/// The rows of `values`' finite values in ascending order (ties in row order): what
/// [`self_windows`] picks each window's sorted values out of.
pub(crate) fn finite_order(values: &[f64]) -> Vec<u32> {
    let keyed: Vec<(u64, u32)> = values
        .iter()
        .zip(0u32..)
        .filter(|(x, _)| x.is_finite())
        .map(|(&x, i)| (sortkey::key(x), i))
        .collect();
    match sortkey::argsort_by_key(&keyed, |&(k, _)| k) {
        Some(order) => order.into_iter().map(|p| keyed[p as usize].1).collect(),
        None => Vec::new(),
    }
}

/// One numeric column compared with samples of itself: the series [`super::chunked::per_window`] gives with
/// the rows `against` of a reference as the reference and the rows `windows` of the same
/// reference as the current data, `size` rows a window (`whole` false), without copying the
/// file. `values`: the reference column as read (`integer_dtype`: the file stores integers;
/// a part with a missing value reads as float, as [`columns::read`] reads it), `order`: its
/// [`finite_order`]. Each window's sorted values are its rows picked out of `order` (the same
/// values in the same total order as sorting them), or sorted when the window is small.
/// `Ok(None)` when the column would be skipped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn self_windows(
    name: &str,
    values: &[f64],
    integer_dtype: bool,
    order: &[u32],
    against: std::ops::Range<usize>,
    windows: &[u32],
    size: usize,
    progress: &Progress,
) -> Result<Option<Series>> {
    let as_read = |v: Vec<f64>| Raw::Numeric {
        integer: integer_dtype && !v.iter().any(|x| x.is_nan()),
        values: v.into(),
    };
    let Some(part) = values.get(against.clone()) else {
        return Err(EngineError::internal("reference rows out of range"));
    };
    let reference = as_read(part.to_vec());
    let current = as_read(
        windows
            .iter()
            .map(|&i| values.get(i as usize).copied().unwrap_or(f64::NAN))
            .collect(),
    );
    let kind = match columns::infer_kind(&reference) {
        columns::Inferred::Kind(k) => k,
        columns::Inferred::Text => return Ok(None),
    };
    let p = Prepared {
        name: name.to_string(),
        role: Role::Feature,
        kind,
        kind_source: super::Source::Inferred,
        reference,
        current,
    };
    let sorted_ref: Vec<f64> = order
        .iter()
        .filter(|&&i| against.contains(&(i as usize)))
        .map(|&i| values[i as usize])
        .collect();
    let r = Reference::of(&p, Some(sorted_ref));
    let col = match whole_column(&p, r.as_ref(), false, None) {
        Ok(c) => c,
        Err(EngineError::Column { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let size = size.max(1);
    let sorted: Vec<Option<Current>> = windows
        .par_chunks(size)
        .map_init(
            || vec![false; values.len()],
            |mark, w| {
                if w.len() * 16 < order.len() {
                    let v: Vec<f64> = w.iter().map(|&i| values[i as usize]).collect();
                    return Some(Current::Numeric(columns::sorted_finite(&v).into()));
                }
                for &i in w {
                    mark[i as usize] = true;
                }
                let v = order
                    .iter()
                    .filter(|&&i| mark[i as usize])
                    .map(|&i| values[i as usize])
                    .collect();
                for &i in w {
                    mark[i as usize] = false;
                }
                Some(Current::Numeric(Cow::Owned(v)))
            },
        )
        .collect();
    let groups: Vec<(String, Rows)> = (0..windows.len())
        .step_by(size)
        .map(|a| (String::new(), Rows::Range(a..(a + size).min(windows.len()))))
        .collect();
    series_of(&groups, &p, &col, r.as_ref(), &sorted, progress).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::{self, Dataset, Format};
    use crate::engine::drift::chunked::per_window;
    use crate::engine::drift::over_time::Windows;
    use polars::prelude::*;

    fn ds(df: DataFrame) -> Dataset {
        Dataset::of_frame(df, Format::Parquet)
    }

    /// `self_windows` gives the series `per_window` gives on copies of the rows, bit for bit,
    /// for a float column (Wasserstein), a low-cardinality one with a zero of each sign, an
    /// integer column (categorical) and one with missing values.
    #[test]
    fn self_windows_equal_per_window_on_copied_rows() {
        let n = 6000usize;
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let x: Vec<f64> = (0..n).map(|_| (next() - 0.5) * 10.0).collect();
        let zeros: Vec<f64> = (0..n)
            .map(|_| [0.0, -0.0, 1.5, 2.0][(next() * 4.0) as usize % 4])
            .collect();
        let k: Vec<i64> = (0..n).map(|_| (next() * 7.0) as i64).collect();
        let gaps: Vec<Option<f64>> = (0..n)
            .map(|i| (i % 17 != 3).then(|| (next() * 100.0).round()))
            .collect();
        let reference = ds(df!("x" => &x, "z" => &zeros, "k" => &k, "g" => &gaps).expect("df"));
        let (half, size) = (n / 2, 250usize);
        let mut rng = 11u64;
        let mut windows = |range: std::ops::Range<usize>| -> Vec<u32> {
            (0..4)
                .flat_map(|_| {
                    let mut w: Vec<u32> = (0..size)
                        .map(|_| {
                            rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                            (range.start + (rng >> 33) as usize % range.len()) as u32
                        })
                        .collect();
                    w.sort_unstable();
                    w.dedup();
                    w.truncate(200);
                    w
                })
                .collect()
        };
        let rows = windows(0..half);
        let against =
            data::subset(&reference, &(half as u32..n as u32).collect::<Vec<_>>()).expect("subset");
        let copied = data::subset(&reference, &rows).expect("subset");
        let names: Vec<String> = ["x", "z", "k", "g"].map(String::from).to_vec();
        let progress = Progress::default();
        // Windows of the copies: 200 rows each.
        let want = per_window(
            &against,
            &copied,
            &names,
            None,
            Windows::Rows(200),
            false,
            &progress,
        )
        .expect("per_window");
        for name in &names {
            let Raw::Numeric { values, .. } = columns::read(&reference, name).expect("read") else {
                panic!("numeric expected")
            };
            let integer = name == "k";
            let order = finite_order(&values);
            let got = self_windows(
                name,
                &values,
                integer,
                &order,
                half..n,
                &rows,
                200,
                &progress,
            )
            .expect("self_windows")
            .expect("compared");
            let w = want
                .series
                .iter()
                .find(|s| &s.name == name)
                .expect("series");
            assert_eq!(got.method, w.method, "{name}");
            assert_eq!(got.drifted, w.drifted, "{name}");
            let bits =
                |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
            assert_eq!(bits(&got.values), bits(&w.values), "{name}");
        }
    }
}

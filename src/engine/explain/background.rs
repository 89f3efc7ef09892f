//! Background summarisation: a seeded random sample of rows, or k-means centres (k-means++
//! initialisation, Lloyd iterations) snapped to real data values and weighted by cluster
//! size, like `shap.kmeans` (which rounds every centre coordinate to the nearest value seen
//! in that column, so centres are valid inputs).

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;

use super::masked::{column_f64, rows, set_column, take_rows, width};
use crate::engine::data::extract::InputData;
use crate::engine::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Summarise {
    /// A seeded random sample of rows without replacement (all rows, in order, when the
    /// background has no more rows than asked for).
    #[default]
    Sample,
    /// k-means centres weighted by cluster size (numeric inputs only).
    KMeans,
}

/// The summarised background: rows and weights that sum to 1.
pub(crate) struct Background {
    pub data: InputData,
    pub weights: Vec<f64>,
    /// Row indices of the source background (sample), empty for k-means.
    pub source_rows: Vec<usize>,
}

pub(crate) fn summarise(
    data: &InputData,
    how: Summarise,
    size: usize,
    seed: u64,
) -> Result<Background> {
    let n = rows(data);
    if n == 0 {
        return Err(EngineError::usage("the background has no rows"));
    }
    if size == 0 {
        return Err(EngineError::usage("the background size must be at least 1"));
    }
    if n <= size {
        let all: Vec<usize> = (0..n).collect();
        return Ok(Background {
            data: data.clone(),
            weights: vec![1.0 / n as f64; n],
            source_rows: all,
        });
    }
    match how {
        Summarise::Sample => {
            let mut rng = Pcg64::seed_from_u64(seed);
            let mut idx = sample(&mut rng, n, size).into_vec();
            idx.sort_unstable();
            Ok(Background {
                data: take_rows(data, &idx),
                weights: vec![1.0 / size as f64; size],
                source_rows: idx,
            })
        }
        Summarise::KMeans => kmeans(data, size, seed),
    }
}

fn kmeans(data: &InputData, k: usize, seed: u64) -> Result<Background> {
    let n = rows(data);
    let f = width(data);
    let mut cols = Vec::with_capacity(f);
    for j in 0..f {
        cols.push(column_f64(data, j).ok_or_else(|| {
            EngineError::usage(
                "k-means background needs numeric inputs; this model has text inputs (use the sampled background)",
            )
        })?);
    }
    if cols.iter().any(|c| c.iter().any(|v| v.is_nan())) {
        return Err(EngineError::usage(
            "k-means background needs complete rows; this background has missing values, which reach the model as NaN (use the sampled background)",
        ));
    }
    let point = |i: usize| -> Vec<f64> { cols.iter().map(|c| c[i]).collect() };
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut rng = Pcg64::seed_from_u64(seed);
    // k-means++ initialisation.
    let mut centres: Vec<Vec<f64>> = vec![point(rng.random_range(0..n))];
    let mut d2: Vec<f64> = (0..n).map(|i| dist(&point(i), &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = d2.iter().sum();
        let next = if total <= 0.0 {
            rng.random_range(0..n)
        } else {
            let mut t = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (i, &d) in d2.iter().enumerate() {
                if t < d {
                    pick = i;
                    break;
                }
                t -= d;
            }
            pick
        };
        let c = point(next);
        for (i, d) in d2.iter_mut().enumerate() {
            *d = d.min(dist(&point(i), &c));
        }
        centres.push(c);
    }
    // Lloyd iterations.
    let mut label = vec![0usize; n];
    for _ in 0..300 {
        let mut changed = false;
        for (i, l) in label.iter_mut().enumerate() {
            let p = point(i);
            let best = (0..k)
                .min_by(|&a, &b| dist(&p, &centres[a]).total_cmp(&dist(&p, &centres[b])))
                .unwrap_or(0);
            if best != *l {
                *l = best;
                changed = true;
            }
        }
        let mut sums = vec![vec![0.0; f]; k];
        let mut counts = vec![0usize; k];
        for (i, &l) in label.iter().enumerate() {
            counts[l] += 1;
            for j in 0..f {
                sums[l][j] += cols[j][i];
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                centres[c] = sums[c].iter().map(|s| s / counts[c] as f64).collect();
            }
        }
        if !changed {
            break;
        }
    }
    let mut counts = vec![0usize; k];
    for &l in &label {
        counts[l] += 1;
    }
    // Snap every coordinate to the nearest value of its column (shap.kmeans round_values);
    // represent each centre by the data row nearest to it, then overwrite its values.
    let kept: Vec<usize> = (0..k).filter(|&c| counts[c] > 0).collect();
    let mut snapped: Vec<Vec<f64>> = Vec::with_capacity(kept.len());
    for &c in &kept {
        let row: Vec<f64> = (0..f)
            .map(|j| {
                cols[j]
                    .iter()
                    .copied()
                    .min_by(|a, b| {
                        (a - centres[c][j])
                            .abs()
                            .total_cmp(&(b - centres[c][j]).abs())
                    })
                    .unwrap_or(centres[c][j])
            })
            .collect();
        snapped.push(row);
    }
    let template: Vec<usize> = vec![0; kept.len()];
    let mut out = take_rows(data, &template);
    for j in 0..f {
        let vals: Vec<f64> = snapped.iter().map(|r| r[j]).collect();
        set_column(&mut out, j, &vals)?;
    }
    let total = n as f64;
    Ok(Background {
        data: out,
        weights: kept.iter().map(|&c| counts[c] as f64 / total).collect(),
        source_rows: Vec::new(),
    })
}

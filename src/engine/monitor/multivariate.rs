//! The multivariate drift signal: PCA reconstruction error, the method of NannyML's
//! `DataReconstructionDriftCalculator`. Chosen because one number per chunk catches a change
//! in the *joint* distribution (correlations between features) that no univariate test sees,
//! it needs no labels, and its thresholds come from the reference chunks like the metrics'.
//!
//! Assay's version (not claimed number-for-number equal to NannyML's): numeric features as
//! they are, categorical ones frequency-encoded (their share of reference rows; unseen → 0),
//! missing values imputed with the reference mean, standardised with the reference mean and
//! standard deviation; principal components of the reference covariance (Jacobi
//! eigen-decomposition) kept until 65 % of the variance is explained (NannyML's default);
//! a row's error is the Euclidean distance between its standardised vector and its
//! reconstruction from the kept components; a chunk's value is the mean over its rows.
//! Thresholds: mean ± 3 standard deviations of the values of 200 random samples of the
//! reference of the log's median chunk size (seeded; NannyML uses the reference's own
//! consecutive chunks, whose few values — 17 in the demo — underestimate the spread of this
//! heavy-tailed mean: on the demo's population, chunks of new rows spread 40 % wider than the
//! 17 reference chunks said, and 3 % of them crossed the band).

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use super::chunking::Span;
use crate::engine::data::Dataset;
use crate::engine::drift::columns::{self, infer_kind, Inferred, Raw};
use crate::engine::error::Result;

/// NannyML's default share of variance the kept components explain.
pub const EXPLAINED_VARIANCE: f64 = 0.65;

enum Encoder {
    Numeric {
        mean: f64,
        std: f64,
    },
    Frequency {
        share: HashMap<String, f64>,
        mean: f64,
        std: f64,
    },
}

pub struct Pca {
    columns: Vec<String>,
    /// The reconstruction error of every reference row.
    pub reference_errors: Vec<f64>,
    encoders: Vec<Encoder>,
    /// Kept eigenvectors, each of length `columns.len()`.
    components: Vec<Vec<f64>>,
    pub explained: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PcaSummary {
    pub method: &'static str,
    pub features: Vec<String>,
    pub components: usize,
    pub explained_variance: f64,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
}

fn encode_column(raw: &Raw, enc: &Encoder) -> Vec<f64> {
    let mut out = vec![0.0; raw.len()];
    Encoded::of(raw, enc).fill(0, &mut out);
    out
}

/// A column as the PCA sees it, encoded a block of rows at a time ([`Encoded::fill`]), so the
/// log's columns are never copied whole: encoded already (the reference's, needed whole for
/// the covariance), numbers scaled on the fly, or text through each code's encoded value.
enum Encoded<'a> {
    Done(&'a [f64]),
    Numeric {
        values: &'a [f64],
        mean: f64,
        std: f64,
    },
    Codes {
        codes: &'a [u32],
        per_code: Vec<f64>,
    },
    Zero,
}

impl<'a> Encoded<'a> {
    fn of(raw: &'a Raw, enc: &Encoder) -> Encoded<'a> {
        match (raw, enc) {
            (Raw::Numeric { values, .. }, &Encoder::Numeric { mean, std }) => {
                Encoded::Numeric { values, mean, std }
            }
            (Raw::Text { values }, Encoder::Frequency { share, mean, std }) => Encoded::Codes {
                codes: &values.codes,
                per_code: values
                    .dict
                    .iter()
                    .map(|s| (share.get(s).copied().unwrap_or(0.0) - mean) / std)
                    .collect(),
            },
            _ => Encoded::Zero,
        }
    }

    /// Rows `start..start + out.len()`, encoded, into `out`: a number scaled (missing → 0), a
    /// text code by its value's reference share, scaled (missing → 0).
    fn fill(&self, start: usize, out: &mut [f64]) {
        let rows = start..start + out.len();
        match self {
            Encoded::Done(v) => out.copy_from_slice(&v[rows]),
            Encoded::Numeric { values, mean, std } => {
                for (o, &v) in out.iter_mut().zip(&values[rows]) {
                    *o = if v.is_finite() { (v - mean) / std } else { 0.0 };
                }
            }
            Encoded::Codes { codes, per_code } => {
                for (o, &c) in out.iter_mut().zip(&codes[rows]) {
                    *o = per_code.get(c as usize).copied().unwrap_or(0.0);
                }
            }
            Encoded::Zero => out.fill(0.0),
        }
    }
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
    (m, s)
}

/// Columns already read ([`columns::read`]'s values), by name.
pub type Known<'a> = HashMap<&'a str, &'a Raw>;

/// The column `name` of `ds`: the one already read, else read now.
fn column<'a>(ds: &Dataset, name: &str, known: &Known<'a>) -> Result<Cow<'a, Raw>> {
    Ok(match known.get(name) {
        Some(&r) => Cow::Borrowed(r),
        None => Cow::Owned(columns::read(ds, name)?),
    })
}

/// Fits on the reference (`known`: its columns already read); `None` when fewer than two
/// usable features.
pub fn fit(reference: &Dataset, candidates: &[String], known: &Known) -> Result<Option<Pca>> {
    let mut cols = Vec::new();
    let mut encoders = Vec::new();
    let mut encoded: Vec<Vec<f64>> = Vec::new();
    for name in candidates {
        let raw = column(reference, name, known)?;
        let raw = raw.as_ref();
        let enc = match (raw, infer_kind(raw)) {
            (_, Inferred::Text) => continue,
            (Raw::Numeric { values, .. }, _) => {
                let f: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
                let (mean, std) = mean_std(&f);
                Encoder::Numeric { mean, std }
            }
            (Raw::Text { values }, _) => {
                let counts = values.code_counts(None);
                let total: u64 = counts.iter().sum();
                if total == 0 {
                    continue;
                }
                let share: HashMap<String, f64> = values
                    .dict
                    .iter()
                    .zip(&counts)
                    .map(|(s, &c)| (s.clone(), c as f64 / total as f64))
                    .collect();
                let f: Vec<f64> = values
                    .codes
                    .iter()
                    .filter_map(|&c| values.dict.get(c as usize).map(|s| share[s]))
                    .collect();
                let (mean, std) = mean_std(&f);
                Encoder::Frequency { share, mean, std }
            }
        };
        let std = match &enc {
            Encoder::Numeric { std, .. } | Encoder::Frequency { std, .. } => *std,
        };
        if !(std > 0.0 && std.is_finite()) {
            continue;
        }
        encoded.push(encode_column(raw, &enc));
        cols.push(name.clone());
        encoders.push(enc);
    }
    let f = cols.len();
    if f < 2 {
        return Ok(None);
    }
    let n = reference.rows() as f64;
    let mut cov = vec![0.0; f * f];
    for a in 0..f {
        for b in a..f {
            let s: f64 = encoded[a]
                .iter()
                .zip(&encoded[b])
                .map(|(x, y)| x * y)
                .sum::<f64>()
                / n;
            cov[a * f + b] = s;
            cov[b * f + a] = s;
        }
    }
    let (vals, vecs) = jacobi(&mut cov, f);
    let mut order: Vec<usize> = (0..f).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
    let mut kept = Vec::new();
    let mut acc = 0.0;
    for &i in &order {
        kept.push((0..f).map(|r| vecs[r * f + i]).collect::<Vec<f64>>());
        acc += vals[i].max(0.0);
        if total <= 0.0 || acc / total >= EXPLAINED_VARIANCE {
            break;
        }
    }
    let mut pca = Pca {
        columns: cols,
        reference_errors: Vec::new(),
        encoders,
        components: kept,
        explained: if total > 0.0 { acc / total } else { 0.0 },
    };
    let done: Vec<Encoded> = encoded.iter().map(|e| Encoded::Done(e)).collect();
    pca.reference_errors = pca.errors(&done, reference.rows());
    Ok(Some(pca))
}

impl Pca {
    pub fn features(&self) -> &[String] {
        &self.columns
    }

    pub fn n_components(&self) -> usize {
        self.components.len()
    }

    /// Mean reconstruction error of each span of `ds` (`known`: its columns already read).
    pub fn chunk_errors(
        &self,
        ds: &Dataset,
        spans: &[Span],
        known: &Known,
    ) -> Result<Vec<Option<f64>>> {
        let err = self.row_errors(ds, known)?;
        Ok(spans
            .iter()
            .map(|s| {
                let n = s.rows();
                (n > 0).then(|| err[s.start..=s.end].iter().sum::<f64>() / n as f64)
            })
            .collect())
    }

    /// The reconstruction error of every row of `ds` (`known`: its columns already read).
    pub fn row_errors(&self, ds: &Dataset, known: &Known) -> Result<Vec<f64>> {
        let raw: Vec<Cow<Raw>> = self
            .columns
            .iter()
            .map(|name| column(ds, name, known))
            .collect::<Result<_>>()?;
        let enc: Vec<Encoded> = raw
            .iter()
            .zip(&self.encoders)
            .map(|(r, e)| Encoded::of(r, e))
            .collect();
        Ok(self.errors(&enc, ds.rows()))
    }

    /// The reconstruction error of each of `rows` rows of the encoded columns `enc`: per row
    /// `sqrt(max(|x|² - Σ_k (v_k · x)², 0))`, every sum taken over the columns in order from
    /// -0.0 (as `Iterator::sum` does). Rows go in blocks of [`ROW_BLOCK`], each sum element-wise
    /// over the block's rows, so the additions of one row are the same and in the same order
    /// as one row at a time, while the compiler can use vector registers across rows. Each
    /// block's columns are encoded into a buffer of the worker's.
    fn errors(&self, enc: &[Encoded], rows: usize) -> Vec<f64> {
        let mut out = vec![0.0; rows];
        out.par_chunks_mut(ROW_BLOCK).enumerate().for_each_init(
            || vec![[0.0f64; ROW_BLOCK]; enc.len()],
            |x, (b, out)| {
                let len = out.len();
                for (c, buf) in enc.iter().zip(x.iter_mut()) {
                    c.fill(b * ROW_BLOCK, &mut buf[..len]);
                }
                let mut norm2 = [-0.0f64; ROW_BLOCK];
                for c in x.iter() {
                    for (n, &x) in norm2.iter_mut().zip(&c[..len]) {
                        *n += x * x;
                    }
                }
                let mut proj2 = [-0.0f64; ROW_BLOCK];
                for v in &self.components {
                    let mut dot = [-0.0f64; ROW_BLOCK];
                    for (a, c) in v.iter().zip(x.iter()) {
                        for (d, &x) in dot.iter_mut().zip(&c[..len]) {
                            *d += a * x;
                        }
                    }
                    for (p, d) in proj2.iter_mut().zip(&dot) {
                        *p += d.powi(2);
                    }
                }
                for ((o, n), p) in out.iter_mut().zip(&norm2).zip(&proj2) {
                    *o = (n - p).max(0.0).sqrt();
                }
            },
        );
        out
    }
}

/// Rows of [`Pca::errors`]' blocks.
const ROW_BLOCK: usize = 256;

/// Eigenvalues and eigenvectors (columns of the returned row-major matrix) of a symmetric
/// matrix by cyclic Jacobi rotations.
fn jacobi(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_diagonalises_a_symmetric_matrix() {
        let mut a = vec![2.0, 1.0, 1.0, 2.0];
        let (vals, vecs) = jacobi(&mut a, 2);
        let mut v = vals.clone();
        v.sort_by(f64::total_cmp);
        assert!((v[0] - 1.0).abs() < 1e-12 && (v[1] - 3.0).abs() < 1e-12);
        // A v = λ v for each column.
        let orig = [2.0, 1.0, 1.0, 2.0];
        for (i, &lam) in vals.iter().enumerate() {
            for r in 0..2 {
                let av: f64 = (0..2).map(|c| orig[r * 2 + c] * vecs[c * 2 + i]).sum();
                assert!((av - lam * vecs[r * 2 + i]).abs() < 1e-12);
            }
        }
    }
}

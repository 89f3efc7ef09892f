//! A local surrogate for one row, LIME-style (tabular, without discretisation):
//!
//! - samples: the row itself, then `nsamples − 1` perturbations; a numeric feature is
//!   `x_j + σ_j ε` with `ε ~ N(0, 1)` and `σ_j` the feature's standard deviation over the
//!   background (sampling around the instance); a text/categorical feature takes the value of
//!   a random background row (its empirical frequencies, as LIME samples categories);
//! - representation: numeric `(z_j − x_j) / σ_j`, categorical `1` when equal to the row's value,
//!   else `0`; distance = Euclidean norm of the numeric part plus the categorical mismatches
//!   (LIME compares the scaled data to the scaled row);
//! - kernel: `sqrt(exp(−d² / width²))` with `width = 0.75 √F` (LIME's default);
//! - fit: weighted ridge regression with intercept, `alpha = 1` (LIME's `Ridge(alpha=1)`),
//!   the intercept not penalised; R² is the weighted coefficient of determination of the fit;
//! - coefficients are reported per standard deviation (the fitted ones) and, for numeric
//!   features, per unit of the feature (divided by σ_j).

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64;
use serde::Serialize;

use super::masked::{column_f64, outputs, rows as n_rows, same_value, set_column, take_rows};
use super::{inputs_of, resolve_target, OutputSpace};
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{predict, InferOptions, Model};
use crate::engine::progress::Progress;

#[derive(Debug, Clone, serde::Serialize)]
pub struct SurrogateOptions {
    /// 0-based data row to explain.
    pub row: usize,
    /// Samples including the row itself (LIME's default 5000).
    pub nsamples: usize,
    /// Kernel width (default 0.75 √F).
    pub kernel_width: Option<f64>,
    pub alpha: f64,
    pub class: Option<String>,
    pub output_space: OutputSpace,
    pub seed: u64,
    pub infer: InferOptions,
}

impl Default for SurrogateOptions {
    fn default() -> Self {
        Self {
            row: 0,
            nsamples: 5000,
            kernel_width: None,
            alpha: 1.0,
            class: None,
            output_space: OutputSpace::Probability,
            seed: 0,
            infer: InferOptions::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SurrogateTerm {
    pub feature: String,
    /// Fitted coefficient per standard deviation (numeric) or for "equal to the row's value"
    /// (categorical).
    pub coefficient: f64,
    /// Per unit of the feature (numeric features), `coefficient / σ`.
    pub per_unit: Option<f64>,
    pub sigma: Option<f64>,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Surrogate {
    pub row: usize,
    pub class_label: Option<String>,
    pub output_space: OutputSpace,
    pub intercept: f64,
    /// Sorted by |coefficient|, largest first.
    pub terms: Vec<SurrogateTerm>,
    /// Weighted R² of the surrogate on its samples.
    pub r2: f64,
    /// The surrogate's prediction at the row (= intercept for numeric features) and the model's.
    pub local_prediction: f64,
    pub model_output: f64,
    pub nsamples: usize,
    pub kernel_width: f64,
    pub notes: Vec<String>,
}

fn normal(rng: &mut Pcg64) -> f64 {
    // Box–Muller.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub fn surrogate(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    background: &Dataset,
    opts: &SurrogateOptions,
    progress: &Progress,
) -> Result<Surrogate> {
    if opts.row >= data.rows() {
        return Err(EngineError::usage(format!(
            "row {} is outside {}, which has {} rows",
            opts.row,
            data.path.display(),
            data.rows()
        )));
    }
    if opts.nsamples < 10 {
        return Err(EngineError::usage(
            "the surrogate needs at least 10 samples",
        ));
    }
    let (names, all) = inputs_of(data, model, features)?;
    let x = take_rows(&all, &[opts.row]);
    drop(all);
    let (_, bg) = inputs_of(background, model, features)?;
    let f = names.len();
    let nb = n_rows(&bg);
    let mut rng = Pcg64::seed_from_u64(opts.seed);
    let ns = opts.nsamples;
    // Whole rows from the background give valid categorical values; numeric columns are
    // then overwritten with Gaussian perturbations around the row.
    let mut idx: Vec<usize> = (0..ns).map(|_| rng.random_range(0..nb)).collect();
    idx[0] = 0;
    let mut z = take_rows(&bg, &idx);
    let mut repr = vec![vec![0.0; f]; ns];
    let mut sigmas = vec![None; f];
    let xrow = super::masked::row_f64(&x, 0);
    for j in 0..f {
        match (column_f64(&bg, j), xrow[j]) {
            (Some(col), Some(xj)) => {
                let mean = col.iter().sum::<f64>() / nb as f64;
                let sd =
                    (col.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / nb as f64).sqrt();
                let sd = if sd > 0.0 { sd } else { 1.0 };
                sigmas[j] = Some(sd);
                let mut vals = vec![xj; ns];
                for i in 1..ns {
                    let e = normal(&mut rng);
                    vals[i] = xj + sd * e;
                    repr[i][j] = e;
                }
                set_column(&mut z, j, &vals)?;
            }
            _ => {
                for (i, r) in repr.iter_mut().enumerate() {
                    r[j] = if i == 0 || same_value(&z, i, &x, 0, j) {
                        1.0
                    } else {
                        0.0
                    };
                }
            }
        }
    }
    // Row 0 must be the instance itself, also for categorical columns.
    if let (
        crate::engine::data::extract::InputData::Columns(zc),
        crate::engine::data::extract::InputData::Columns(xc),
    ) = (&mut z, &x)
    {
        for ((_, zcol), (_, xcol)) in zc.iter_mut().zip(xc) {
            use crate::engine::data::extract::ColumnData as C;
            match (zcol, xcol) {
                (C::Str(a), C::Str(b)) => a[0] = b[0].clone(),
                (C::F32(a), C::F32(b)) => a[0] = b[0],
                (C::F64(a), C::F64(b)) => a[0] = b[0],
                (C::I64(a), C::I64(b)) => a[0] = b[0],
                (C::I32(a), C::I32(b)) => a[0] = b[0],
                (C::Bool(a), C::Bool(b)) => a[0] = b[0],
                _ => {}
            }
        }
    }
    progress.check()?;
    let preds = predict(model, &x, &opts.infer, &progress.stage(0.0, 0.05))?;
    let tgt = resolve_target(model, &preds, opts.class.as_deref())?;
    let (space, link) = super::space_and_link(&tgt, opts.output_space);
    let y: Vec<f64> = outputs(model, &z, tgt.output, &opts.infer, progress, (0.05, 0.95))?
        .into_iter()
        .map(|p| link.apply(p))
        .collect();
    let width = opts.kernel_width.unwrap_or(0.75 * (f as f64).sqrt());
    let w: Vec<f64> = repr
        .iter()
        .map(|r| {
            let d2: f64 = (0..f)
                .map(|j| {
                    if sigmas[j].is_some() {
                        r[j] * r[j]
                    } else {
                        1.0 - r[j]
                    }
                })
                .sum();
            (-d2 / (width * width)).exp().sqrt()
        })
        .collect();
    let (intercept, coef) = weighted_ridge(&repr, &y, &w, opts.alpha)?;
    let fit = |r: &[f64]| intercept + r.iter().zip(&coef).map(|(a, b)| a * b).sum::<f64>();
    let wsum: f64 = w.iter().sum();
    let ybar = y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / wsum;
    let ss_res: f64 = (0..ns).map(|i| w[i] * (y[i] - fit(&repr[i])).powi(2)).sum();
    let ss_tot: f64 = (0..ns).map(|i| w[i] * (y[i] - ybar).powi(2)).sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    let mut terms: Vec<SurrogateTerm> = (0..f)
        .map(|j| SurrogateTerm {
            feature: names[j].clone(),
            coefficient: coef[j],
            per_unit: sigmas[j].map(|s| coef[j] / s),
            sigma: sigmas[j],
            value: xrow[j],
        })
        .collect();
    terms.sort_by(|a, b| b.coefficient.abs().total_cmp(&a.coefficient.abs()));
    progress.set(1.0, "done");
    Ok(Surrogate {
        row: opts.row,
        class_label: tgt.class_label,
        output_space: space,
        intercept,
        terms,
        r2,
        local_prediction: fit(&repr[0]),
        model_output: y[0],
        nsamples: ns,
        kernel_width: width,
        notes: vec![format!(
            "LIME-style: Gaussian perturbations (σ from the background) around the row, categorical values from background rows, kernel sqrt(exp(−d²/w²)) with w = {width:.4}, ridge alpha {}",
            opts.alpha
        )],
    })
}

/// Weighted ridge with an unpenalised intercept: centre by weighted means, solve
/// `(XᵀWX + αI) β = XᵀWy`.
fn weighted_ridge(x: &[Vec<f64>], y: &[f64], w: &[f64], alpha: f64) -> Result<(f64, Vec<f64>)> {
    let f = x.first().map_or(0, Vec::len);
    let ws: f64 = w.iter().sum();
    if ws <= 0.0 {
        return Err(EngineError::usage(
            "all surrogate samples have zero weight; raise the kernel width",
        ));
    }
    let xm: Vec<f64> = (0..f)
        .map(|j| x.iter().zip(w).map(|(r, wi)| r[j] * wi).sum::<f64>() / ws)
        .collect();
    let ym = y.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / ws;
    let mut a = vec![vec![0.0; f]; f];
    let mut b = vec![0.0; f];
    for ((r, &yi), &wi) in x.iter().zip(y).zip(w) {
        for i in 0..f {
            let xi = r[i] - xm[i];
            b[i] += wi * xi * (yi - ym);
            for k in 0..f {
                a[i][k] += wi * xi * (r[k] - xm[k]);
            }
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += alpha;
    }
    let beta = super::kernel::solve_system(a, b)
        .ok_or_else(|| EngineError::usage("the surrogate's ridge system is singular"))?;
    let intercept = ym - beta.iter().zip(&xm).map(|(b, m)| b * m).sum::<f64>();
    Ok((intercept, beta))
}

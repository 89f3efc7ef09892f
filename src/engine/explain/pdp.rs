//! Partial dependence and ICE, like `sklearn.inspection.partial_dependence(method="brute")`:
//! the grid of a feature is its sorted unique values when there are fewer than
//! `grid_resolution` of them, else `grid_resolution` evenly spaced points between its
//! empirical percentiles (scipy's `mquantiles`, alphap = betap = 0.4, default (0.05, 0.95));
//! each grid value is written into every row and the model's output is averaged over rows
//! (ICE keeps the per-row curves). Two features: the PD over the Cartesian grid (first
//! feature varies slowest).

use std::ops::Range;

use serde::Serialize;

use super::masked::{column_f64, outputs, rows as n_rows, set_column, take_rows, with_values};
use super::{inputs_of, resolve_target, OutputSpace};
use crate::engine::data::extract::InvalidRows;
use crate::engine::data::Dataset;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{plan_inputs, predict, InferOptions, Model};
use crate::engine::progress::Progress;
use crate::engine::valid_rows::valid_scored_rows;

#[derive(Debug, Clone, serde::Serialize)]
pub struct PdpOptions {
    pub feature: String,
    pub feature2: Option<String>,
    /// scikit-learn's default is 100.
    pub grid_resolution: usize,
    pub percentiles: (f64, f64),
    pub class: Option<String>,
    pub output_space: OutputSpace,
    /// Half-open range of rows averaged over (default all).
    pub rows: Option<Range<usize>>,
    /// Keep ICE curves (one feature only).
    pub ice: bool,
    pub infer: InferOptions,
    /// `Drop`: rows (of `rows`) with a missing or non-finite input are left out.
    pub invalid_rows: InvalidRows,
}

impl PdpOptions {
    pub fn new(feature: impl Into<String>) -> Self {
        Self {
            feature: feature.into(),
            feature2: None,
            grid_resolution: 100,
            percentiles: (0.05, 0.95),
            class: None,
            output_space: OutputSpace::Probability,
            rows: None,
            ice: true,
            infer: InferOptions::default(),
            invalid_rows: InvalidRows::Error,
        }
    }
}

/// `assay pdp --json`'s contract.
#[derive(Debug, Clone, Serialize)]
pub struct PartialDependence {
    pub features: Vec<String>,
    pub class_label: Option<String>,
    pub output_space: OutputSpace,
    /// One axis per feature.
    pub grid: Vec<Vec<f64>>,
    /// One feature: one value per grid point; two: `grid[0].len() × grid[1].len()`, row-major.
    pub average: Vec<f64>,
    /// ICE: rows × grid points (one feature, when asked).
    pub individual: Option<Vec<Vec<f64>>>,
    pub rows: usize,
    /// The feature values of the rows (for rug plots / ICE colouring), per feature.
    pub feature_values: Vec<Vec<f64>>,
}

/// `scipy.stats.mstats.mquantiles(x, prob, alphap=0.4, betap=0.4)` on sorted `x`.
pub fn mquantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let m = 0.4 + p * (1.0 - 0.4 - 0.4);
    let aleph = n as f64 * p + m;
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * sorted[k - 1] + gamma * sorted[k]
}

/// scikit-learn's `_grid_from_X` for one numeric column.
pub fn grid_axis(values: &[f64], percentiles: (f64, f64), resolution: usize) -> Result<Vec<f64>> {
    if !(0.0..=1.0).contains(&percentiles.0)
        || !(0.0..=1.0).contains(&percentiles.1)
        || percentiles.0 >= percentiles.1
    {
        return Err(EngineError::usage(
            "percentiles must satisfy 0 <= low < high <= 1",
        ));
    }
    if resolution < 2 {
        return Err(EngineError::usage("--grid-resolution must be at least 2"));
    }
    // Missing values (NaN) are not grid points.
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return Err(EngineError::usage(
            "every value of the feature is missing: no grid to vary it over",
        ));
    }
    sorted.sort_by(f64::total_cmp);
    let mut uniques = sorted.clone();
    uniques.dedup();
    if uniques.len() < resolution {
        return Ok(uniques);
    }
    let lo = mquantile(&sorted, percentiles.0);
    let hi = mquantile(&sorted, percentiles.1);
    if (lo - hi).abs() <= 1e-8 + 1e-5 * hi.abs() {
        return Err(EngineError::usage(
            "the percentiles are too close to each other to build a grid; choose percentiles further apart",
        ));
    }
    // numpy.linspace(lo, hi, resolution, endpoint=True).
    let step = (hi - lo) / (resolution - 1) as f64;
    let mut g: Vec<f64> = (0..resolution).map(|i| lo + i as f64 * step).collect();
    g[resolution - 1] = hi;
    Ok(g)
}

pub fn partial_dependence(
    model: &Model,
    features: Option<&[String]>,
    data: &Dataset,
    opts: &PdpOptions,
    progress: &Progress,
) -> Result<PartialDependence> {
    if opts.invalid_rows == InvalidRows::Drop {
        let plan = [plan_inputs(&model.info, features)?];
        if let Some(v) = valid_scored_rows(data, &[(model, &plan[0])], None, &opts.infer, progress)?
        {
            let range = opts.rows.clone().unwrap_or(0..data.rows());
            super::check_rows(&range, data)?;
            let inner = PdpOptions {
                rows: Some(v.positions_of(&range, &data.path, "input")?),
                invalid_rows: InvalidRows::Error,
                ..opts.clone()
            };
            return partial_dependence(model, features, &v.ds, &inner, progress);
        }
    }
    let (names, all) = inputs_of(data, model, features)?;
    let x = match &opts.rows {
        Some(r) => {
            if r.start >= r.end || r.end > data.rows() {
                return Err(EngineError::usage(format!(
                    "--rows {}..{} is outside {}, which has {} rows",
                    r.start,
                    r.end,
                    data.path.display(),
                    data.rows()
                )));
            }
            take_rows(&all, &r.clone().collect::<Vec<_>>())
        }
        None => all,
    };
    let n = n_rows(&x);
    let find = |f: &str| {
        names.iter().position(|c| c == f).ok_or_else(|| {
            EngineError::usage(format!(
                "unknown feature '{f}'; the model's features are: {}",
                names.join(", ")
            ))
        })
    };
    let mut js = vec![find(&opts.feature)?];
    if let Some(f2) = &opts.feature2 {
        let j2 = find(f2)?;
        if j2 == js[0] {
            return Err(EngineError::usage("--feature2 must differ from --feature"));
        }
        js.push(j2);
    }
    let mut grid = Vec::new();
    let mut feature_values = Vec::new();
    for &j in &js {
        let col = column_f64(&x, j).ok_or_else(|| {
            EngineError::usage(format!(
                "feature '{}' is text; partial dependence needs a numeric feature",
                names[j]
            ))
        })?;
        grid.push(grid_axis(&col, opts.percentiles, opts.grid_resolution)?);
        feature_values.push(col);
    }
    // Every row once (1% of the curve's work): missing values reach the model, and a row it
    // returns NaN for would poison the average, so it is named instead.
    let preds = predict(model, &x, &opts.infer, &progress.stage(0.0, 0.02))?;
    let first = opts.rows.as_ref().map_or(0, |r| r.start);
    let plan = crate::engine::model::plan_inputs(&model.info, features)?;
    crate::engine::scored::require_finite(&preds, data, &plan, |i| first + i + 1)?;
    let tgt = resolve_target(model, &preds, opts.class.as_deref())?;
    let (space, link) = super::space_and_link(&tgt, opts.output_space);
    let (average, individual) = if js.len() == 1 {
        let g = &grid[0];
        // Grid points per model call, bounded by the batch size.
        let per = (super::masked::max_batch_rows(names.len()) / n.max(1)).max(1);
        let mut ice = vec![vec![0.0; g.len()]; n];
        let mut avg = Vec::with_capacity(g.len());
        for (c, chunk) in g.chunks(per).enumerate() {
            progress.check()?;
            let d = with_values(&x, js[0], chunk)?;
            let a = 0.02 + 0.98 * (c * per) as f32 / g.len() as f32;
            let b = 0.02 + 0.98 * ((c + 1) * per).min(g.len()) as f32 / g.len() as f32;
            let y = outputs(model, &d, tgt.output, &opts.infer, progress, (a, b))?;
            for (k, block) in y.chunks_exact(n).enumerate() {
                let gi = c * per + k;
                let mut s = 0.0;
                for (i, &v) in block.iter().enumerate() {
                    let lv = link.apply(v);
                    ice[i][gi] = lv;
                    s += lv;
                }
                avg.push(s / n as f64);
            }
        }
        (avg, opts.ice.then_some(ice))
    } else {
        let (g1, g2) = (&grid[0], &grid[1]);
        let mut avg = Vec::with_capacity(g1.len() * g2.len());
        for (c, &a1) in g1.iter().enumerate() {
            progress.check()?;
            let mut d = with_values(&x, js[1], g2)?;
            set_column(&mut d, js[0], &vec![a1; g2.len() * n])?;
            let a = 0.02 + 0.98 * c as f32 / g1.len() as f32;
            let b = 0.02 + 0.98 * (c + 1) as f32 / g1.len() as f32;
            let y = outputs(model, &d, tgt.output, &opts.infer, progress, (a, b))?;
            for block in y.chunks_exact(n) {
                avg.push(block.iter().map(|&v| link.apply(v)).sum::<f64>() / n as f64);
            }
        }
        (avg, None)
    };
    progress.set(1.0, "done");
    Ok(PartialDependence {
        features: js.iter().map(|&j| names[j].clone()).collect(),
        class_label: tgt.class_label,
        output_space: space,
        grid,
        average,
        individual,
        rows: n,
        feature_values,
    })
}

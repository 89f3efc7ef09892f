//! User-declared monotonic constraints ("the score must not increase with debt"), checked on
//! the sampled rows by sweeping the feature over an even grid from its minimum to its
//! maximum while the other features keep the row's values.

use serde::Serialize;

use super::frame::{Col, Decider, Edit, NumKind, Val};
use super::{Ctx, RobustnessOptions};
use crate::engine::error::{EngineError, Result};
use crate::engine::progress::Progress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Increasing,
    Decreasing,
}

/// The score must move in `direction` as `feature` grows. `class` names the class whose
/// probability is constrained (default: the positive class of a binary classifier; required
/// for multiclass; none for regression, whose value is constrained).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MonotonicConstraint {
    pub feature: String,
    pub direction: Direction,
    pub class: Option<String>,
}

impl MonotonicConstraint {
    /// Parses `FEATURE:increasing` / `FEATURE:decreasing`, optionally `:CLASS` after it.
    pub fn parse(spec: &str) -> Result<Self> {
        let bad = || {
            EngineError::usage(format!(
                "monotonic constraint '{spec}' must look like FEATURE:increasing or FEATURE:decreasing (optionally :CLASS after it)"
            ))
        };
        let mut parts = spec.splitn(3, ':');
        let feature = parts
            .next()
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(bad)?;
        let direction = match parts
            .next()
            .map(|d| d.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("increasing" | "inc" | "up") => Direction::Increasing,
            Some("decreasing" | "dec" | "down") => Direction::Decreasing,
            _ => return Err(bad()),
        };
        let class = parts
            .next()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        Ok(Self {
            feature: feature.trim().to_string(),
            direction,
            class,
        })
    }
}

/// The worst move against the declared direction.
#[derive(Debug, Clone, Serialize)]
pub struct MonotonicViolation {
    /// 1-based data row.
    pub row: usize,
    pub from_value: f64,
    pub to_value: f64,
    pub score_from: f64,
    pub score_to: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonotonicResult {
    pub feature: String,
    pub direction: Direction,
    pub class: Option<String>,
    /// What is constrained, in words.
    pub score: String,
    /// The feature values swept (as fed to the model), ascending.
    pub grid: Vec<f64>,
    /// Mean score over the rows at each grid point (a partial-dependence line).
    pub mean_score: Vec<f64>,
    pub tolerance: f64,
    pub rows_checked: usize,
    /// Rows with at least one grid step against the direction.
    pub violating_rows: usize,
    pub violation_rate: f64,
    pub violating_steps: usize,
    pub total_steps: usize,
    /// Largest score move against the direction (0 when none).
    pub max_violation: f64,
    pub worst: Option<MonotonicViolation>,
    pub note: Option<String>,
}

/// Checks one constraint on every sampled row.
pub fn check(
    ctx: &Ctx,
    c: &MonotonicConstraint,
    opts: &RobustnessOptions,
    progress: &Progress,
    span: (f32, f32),
) -> Result<MonotonicResult> {
    let frame = &ctx.sample;
    let j = frame
        .names
        .iter()
        .position(|n| *n == c.feature)
        .ok_or_else(|| {
            EngineError::usage(format!(
                "monotonic constraint on '{}', which is not a model input (inputs: {})",
                c.feature,
                frame.names.join(", ")
            ))
        })?;
    let kind = match &frame.cols[j] {
        Col::Num(k, _) => *k,
        Col::Text(_) => {
            return Err(EngineError::usage(format!(
                "monotonic constraint on '{}', a text input; only numeric inputs have an order",
                c.feature
            )))
        }
    };
    // Which score: (class index for multiclass, complement for the binary negative class).
    let (class_idx, complement, score_name) = match (&ctx.decider, &c.class) {
        (Decider::Regression, None) => (0, false, "predicted value".to_string()),
        (Decider::Regression, Some(cl)) => {
            return Err(EngineError::usage(format!(
                "monotonic constraint on '{}' names class '{cl}', but the model is a regressor",
                c.feature
            )))
        }
        (Decider::Binary { pos, .. }, cl) => {
            let pos_name = ctx.class_name(*pos as u32);
            match cl {
                None => (0, false, format!("probability of class {pos_name}")),
                Some(cl) if *cl == pos_name => (0, false, format!("probability of class {cl}")),
                Some(cl) => {
                    class_index(ctx, cl, &c.feature)?;
                    (0, true, format!("probability of class {cl}"))
                }
            }
        }
        (Decider::Multiclass { .. }, None) => {
            return Err(EngineError::usage(format!(
            "monotonic constraint on '{}': name the class of this multiclass model, e.g. {}:{}:{}",
            c.feature,
            c.feature,
            match c.direction {
                Direction::Increasing => "increasing",
                Direction::Decreasing => "decreasing",
            },
            ctx.class_name(0)
        )))
        }
        (Decider::Multiclass { .. }, Some(cl)) => (
            class_index(ctx, cl, &c.feature)?,
            false,
            format!("probability of class {cl}"),
        ),
    };
    let st = &ctx.stats[j];
    let (lo, hi) = (st.min.unwrap_or(0.0), st.max.unwrap_or(0.0));
    let g = opts.grid_points.max(2);
    let mut grid: Vec<f64> = (0..g)
        .map(|i| kind.fed(lo + (hi - lo) * i as f64 / (g - 1) as f64))
        .collect();
    if kind == NumKind::Bool {
        grid = vec![0.0, 1.0];
    }
    grid.dedup();
    let mut result = MonotonicResult {
        feature: c.feature.clone(),
        direction: c.direction,
        class: c.class.clone(),
        score: score_name,
        grid: grid.clone(),
        mean_score: Vec::new(),
        tolerance: opts.monotonic_tolerance,
        rows_checked: 0,
        violating_rows: 0,
        violation_rate: 0.0,
        violating_steps: 0,
        total_steps: 0,
        max_violation: 0.0,
        worst: None,
        note: None,
    };
    if grid.len() < 2 {
        result.note = Some("the feature is constant in the data; nothing to sweep".into());
        return Ok(result);
    }
    let m = frame.rows();
    let edits: Vec<Edit> = (0..m)
        .flat_map(|r| {
            grid.iter().map(move |&v| Edit {
                row: r,
                changes: vec![(j, Val::Num(v))],
            })
        })
        .collect();
    progress.set(span.0, &format!("checking monotonicity of '{}'", c.feature));
    let scored = ctx.score_edits(&edits, progress, span.0)?;
    let gl = grid.len();
    let value = |i: usize| {
        let s = scored.score(i, class_idx as u32);
        if complement {
            1.0 - s
        } else {
            s
        }
    };
    let mut mean = vec![0.0; gl];
    let mut worst: Option<(f64, MonotonicViolation)> = None;
    for r in 0..m {
        let mut row_bad = false;
        for k in 0..gl {
            mean[k] += value(r * gl + k);
        }
        for k in 0..gl - 1 {
            let (a, b) = (value(r * gl + k), value(r * gl + k + 1));
            let against = match c.direction {
                Direction::Increasing => a - b,
                Direction::Decreasing => b - a,
            };
            if against > opts.monotonic_tolerance {
                row_bad = true;
                result.violating_steps += 1;
                if worst.as_ref().is_none_or(|(w, _)| against > *w) {
                    worst = Some((
                        against,
                        MonotonicViolation {
                            row: ctx.data_rows[r],
                            from_value: grid[k],
                            to_value: grid[k + 1],
                            score_from: a,
                            score_to: b,
                        },
                    ));
                }
            }
        }
        result.violating_rows += usize::from(row_bad);
    }
    result.rows_checked = m;
    result.total_steps = m * (gl - 1);
    result.violation_rate = result.violating_rows as f64 / m.max(1) as f64;
    result.mean_score = mean.into_iter().map(|s| s / m.max(1) as f64).collect();
    if let Some((w, v)) = worst {
        result.max_violation = w;
        result.worst = Some(v);
    }
    progress.set(span.1, "monotonic check done");
    Ok(result)
}

fn class_index(ctx: &Ctx, class: &str, feature: &str) -> Result<usize> {
    let classes = ctx.classes.clone().unwrap_or_default();
    classes.iter().position(|c| c == class).ok_or_else(|| {
        EngineError::usage(format!(
            "monotonic constraint on '{feature}' names class '{class}', which is not a class of the model (classes: {})",
            classes.join(", ")
        ))
    })
}

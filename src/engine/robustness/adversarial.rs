//! A small greedy adversarial search: for each row tried, move one numeric feature at a time
//! (both directions, on a grid of steps up to ±`max_std` standard deviations), then — for
//! rows no single feature flips — pairs of the most promising features, each moved in the
//! direction that brought the row closest to the decision boundary. The first flipping step
//! is refined by bisection. Every change reported was run through the model and flips it.

use serde::Serialize;

use super::frame::{Edit, Scored, Val};
use super::Ctx;
use crate::engine::error::{EngineError, Result};
use crate::engine::perf::stats::Spread;
use crate::engine::progress::Progress;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AdversarialOptions {
    /// Sampled rows tried (the first ones of the sample).
    pub rows: usize,
    /// Largest move of a feature, in its standard deviations.
    pub max_std: f64,
    /// Grid steps from 0 to `max_std`.
    pub steps: usize,
    /// Bisection rounds refining the first flipping step.
    pub refine_rounds: usize,
    pub pairs: bool,
    /// Features per row considered for pairs (the ones that moved it most toward the
    /// boundary on their own).
    pub pair_features: usize,
}

impl Default for AdversarialOptions {
    fn default() -> Self {
        Self {
            rows: 100,
            max_std: 3.0,
            steps: 12,
            refine_rounds: 8,
            pairs: true,
            pair_features: 8,
        }
    }
}

impl AdversarialOptions {
    pub fn check(&self) -> Result<()> {
        if self.rows == 0 || self.steps == 0 {
            return Err(EngineError::usage(
                "the adversarial search needs at least one row and one step",
            ));
        }
        if !(self.max_std.is_finite() && self.max_std > 0.0) {
            return Err(EngineError::usage(format!(
                "the adversarial bound {} must be a positive number of standard deviations",
                self.max_std
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AdversarialChange {
    pub feature: String,
    pub from: f64,
    /// The value fed to the model.
    pub to: f64,
    pub delta: f64,
    /// `delta / std` of the feature.
    pub delta_std: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdversarialRow {
    /// 1-based data row.
    pub row: usize,
    pub flipped: bool,
    /// `single` or `pair` when flipped.
    pub stage: Option<String>,
    /// Largest |change| in standard deviations among the features changed.
    pub size_std: Option<f64>,
    pub changes: Vec<AdversarialChange>,
    pub decision_before: String,
    pub decision_after: Option<String>,
    /// The score of the original decision (binary: positive-class probability).
    pub score_before: f64,
    pub score_after: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdversarialReport {
    pub rows_tried: usize,
    /// Numeric, non-constant inputs the search moved.
    pub features_searched: Vec<String>,
    pub max_std: f64,
    pub steps: usize,
    pub refine_rounds: usize,
    pub flipped_rows: usize,
    pub flip_rate: f64,
    pub flipped_by_single_feature: usize,
    pub flipped_by_pair: usize,
    /// Distribution of the smallest flipping change (std units) over flipped rows.
    pub size_std: Option<Spread>,
    /// Counts of that change in `steps` equal bins over `[0, max_std]`.
    pub size_histogram_edges: Vec<f64>,
    pub size_histogram_counts: Vec<u64>,
    pub per_row: Vec<AdversarialRow>,
}

/// A search direction: features with signs, moved together by `t` standard deviations.
#[derive(Debug, Clone)]
struct Line {
    row: usize,
    dirs: Vec<(usize, f64)>,
}

/// The smallest verified flip on a line: `t`, and the score/decision there.
#[derive(Debug, Clone)]
struct Hit {
    line: Line,
    lo: f64,
    hi: f64,
    score: f64,
    decision: u32,
}

fn edit(ctx: &Ctx, line: &Line, t: f64) -> Edit {
    Edit {
        row: line.row,
        changes: line
            .dirs
            .iter()
            .map(|&(j, s)| {
                let x = ctx.sample.num(j, line.row).unwrap_or(f64::NAN);
                let sd = ctx.stats[j].std.unwrap_or(0.0);
                (j, Val::Num(x + s * t * sd))
            })
            .collect(),
    }
}

/// Scans each line over the grid; returns per line the first hit and the margins per step.
fn scan(
    ctx: &Ctx,
    lines: &[Line],
    grid: &[f64],
    progress: &Progress,
    at: f32,
) -> Result<Vec<(Option<Hit>, Vec<f64>)>> {
    let edits: Vec<Edit> = lines
        .iter()
        .flat_map(|l| grid.iter().map(move |&t| edit(ctx, l, t)))
        .collect();
    let scored = ctx.score_edits(&edits, progress, at)?;
    let g = grid.len();
    Ok(lines
        .iter()
        .enumerate()
        .map(|(li, l)| {
            let c0 = ctx.base.decision[l.row];
            let margins: Vec<f64> = (0..g)
                .map(|k| scored.margin(li * g + k, c0, &ctx.decider))
                .collect();
            let hit = (0..g)
                .find(|&k| scored.decision[li * g + k] != c0)
                .map(|k| Hit {
                    line: l.clone(),
                    lo: if k == 0 { 0.0 } else { grid[k - 1] },
                    hi: grid[k],
                    score: scored.score(li * g + k, c0),
                    decision: scored.decision[li * g + k],
                });
            (hit, margins)
        })
        .collect())
}

/// Bisection on every hit's bracket, all hits in one predict call per round.
fn refine(ctx: &Ctx, hits: &mut [Hit], rounds: usize, progress: &Progress, at: f32) -> Result<()> {
    for _ in 0..rounds {
        if hits.is_empty() {
            break;
        }
        let edits: Vec<Edit> = hits
            .iter()
            .map(|h| edit(ctx, &h.line, 0.5 * (h.lo + h.hi)))
            .collect();
        let scored: Scored = ctx.score_edits(&edits, progress, at)?;
        for (i, h) in hits.iter_mut().enumerate() {
            let mid = 0.5 * (h.lo + h.hi);
            let c0 = ctx.base.decision[h.line.row];
            if scored.decision[i] != c0 {
                h.hi = mid;
                h.score = scored.score(i, c0);
                h.decision = scored.decision[i];
            } else {
                h.lo = mid;
            }
        }
    }
    Ok(())
}

/// Runs the search on the first `opts.rows` sampled rows.
pub fn search(
    ctx: &Ctx,
    opts: &AdversarialOptions,
    progress: &Progress,
    span: (f32, f32),
) -> Result<AdversarialReport> {
    let at = |f: f32| span.0 + (span.1 - span.0) * f;
    let rows = opts.rows.min(ctx.sample.rows());
    let feats: Vec<usize> = (0..ctx.sample.cols.len())
        .filter(|&j| {
            ctx.sample
                .kind(j)
                .is_some_and(|k| k != super::frame::NumKind::Bool)
                && ctx.stats[j].std.is_some_and(|s| s > 0.0)
        })
        .collect();
    let grid: Vec<f64> = (1..=opts.steps)
        .map(|k| opts.max_std * k as f64 / opts.steps as f64)
        .collect();
    progress.set(at(0.0), "adversarial search: single features");
    let singles: Vec<Line> = (0..rows)
        .flat_map(|r| {
            feats.iter().flat_map(move |&j| {
                [-1.0, 1.0].into_iter().map(move |s| Line {
                    row: r,
                    dirs: vec![(j, s)],
                })
            })
        })
        .collect();
    let scanned = if singles.is_empty() {
        Vec::new()
    } else {
        scan(ctx, &singles, &grid, progress, at(0.1))?
    };
    // Per row: the best single hit, and per feature the best direction and its margin.
    let mut best: Vec<Option<Hit>> = vec![None; rows];
    let mut toward: Vec<Vec<(f64, usize, f64)>> = vec![Vec::new(); rows];
    for (line, (hit, margins)) in singles.iter().zip(&scanned) {
        let r = line.row;
        if let Some(h) = hit {
            if best[r].as_ref().is_none_or(|b| h.hi < b.hi) {
                best[r] = Some(h.clone());
            }
        }
        let m = margins.iter().copied().fold(f64::INFINITY, f64::min);
        let (j, s) = line.dirs[0];
        match toward[r].iter_mut().find(|e| e.1 == j) {
            Some(e) if m < e.0 => *e = (m, j, s),
            Some(_) => {}
            None => toward[r].push((m, j, s)),
        }
    }
    let mut single_hits: Vec<Hit> = best.iter().flatten().cloned().collect();
    progress.set(at(0.3), "adversarial search: refining");
    refine(ctx, &mut single_hits, opts.refine_rounds, progress, at(0.3))?;

    let mut pair_hits: Vec<Hit> = Vec::new();
    if opts.pairs && feats.len() >= 2 {
        progress.set(at(0.5), "adversarial search: pairs");
        let mut pairs: Vec<Line> = Vec::new();
        for r in (0..rows).filter(|&r| best[r].is_none()) {
            let mut cand = toward[r].clone();
            cand.sort_by(|a, b| a.0.total_cmp(&b.0));
            cand.truncate(opts.pair_features.max(2));
            for a in 0..cand.len() {
                for b in a + 1..cand.len() {
                    pairs.push(Line {
                        row: r,
                        dirs: vec![(cand[a].1, cand[a].2), (cand[b].1, cand[b].2)],
                    });
                }
            }
        }
        if !pairs.is_empty() {
            let mut best_pair: Vec<Option<Hit>> = vec![None; rows];
            for (hit, _) in scan(ctx, &pairs, &grid, progress, at(0.6))? {
                if let Some(h) = hit {
                    let r = h.line.row;
                    if best_pair[r].as_ref().is_none_or(|b| h.hi < b.hi) {
                        best_pair[r] = Some(h);
                    }
                }
            }
            pair_hits = best_pair.into_iter().flatten().collect();
            refine(ctx, &mut pair_hits, opts.refine_rounds, progress, at(0.8))?;
        }
    }

    let mut found: Vec<Option<(Hit, &str)>> = vec![None; rows];
    for h in single_hits {
        let r = h.line.row;
        found[r] = Some((h, "single"));
    }
    for h in pair_hits {
        let r = h.line.row;
        found[r] = Some((h, "pair"));
    }
    let per_row: Vec<AdversarialRow> = (0..rows)
        .map(|r| {
            let c0 = ctx.base.decision[r];
            let mut out = AdversarialRow {
                row: ctx.data_rows[r],
                flipped: false,
                stage: None,
                size_std: None,
                changes: Vec::new(),
                decision_before: ctx.class_name(c0),
                decision_after: None,
                score_before: ctx.base.score(r, c0),
                score_after: None,
            };
            if let Some((h, stage)) = &found[r] {
                let e = edit(ctx, &h.line, h.hi);
                out.changes = e
                    .changes
                    .iter()
                    .map(|(j, v)| {
                        let from = ctx.sample.num(*j, r).unwrap_or(f64::NAN);
                        let raw = if let Val::Num(x) = v { *x } else { f64::NAN };
                        let to = ctx.sample.kind(*j).map_or(raw, |k| k.fed(raw));
                        let sd = ctx.stats[*j].std.unwrap_or(f64::NAN);
                        AdversarialChange {
                            feature: ctx.sample.names[*j].clone(),
                            from,
                            to,
                            delta: to - from,
                            delta_std: (to - from) / sd,
                        }
                    })
                    .collect();
                out.flipped = true;
                out.stage = Some((*stage).to_string());
                out.size_std = Some(
                    out.changes
                        .iter()
                        .map(|c| c.delta_std.abs())
                        .fold(0.0, f64::max),
                );
                out.decision_after = Some(ctx.class_name(h.decision));
                out.score_after = Some(h.score);
            }
            out
        })
        .collect();
    let sizes: Vec<f64> = per_row.iter().filter_map(|r| r.size_std).collect();
    let bins = opts.steps;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| opts.max_std * i as f64 / bins as f64)
        .collect();
    let mut counts = vec![0u64; bins];
    for &s in &sizes {
        let b = ((s / opts.max_std * bins as f64) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let flipped = sizes.len();
    progress.set(span.1, "adversarial search done");
    Ok(AdversarialReport {
        rows_tried: rows,
        features_searched: feats.iter().map(|&j| ctx.sample.names[j].clone()).collect(),
        max_std: opts.max_std,
        steps: opts.steps,
        refine_rounds: opts.refine_rounds,
        flipped_rows: flipped,
        flip_rate: flipped as f64 / rows.max(1) as f64,
        flipped_by_single_feature: per_row
            .iter()
            .filter(|r| r.stage.as_deref() == Some("single"))
            .count(),
        flipped_by_pair: per_row
            .iter()
            .filter(|r| r.stage.as_deref() == Some("pair"))
            .count(),
        size_std: (!sizes.is_empty()).then(|| Spread::of(&sizes)),
        size_histogram_edges: edges,
        size_histogram_counts: counts,
        per_row,
    })
}

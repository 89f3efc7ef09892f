//! Fairness policy: user-set rules such as `demographic_parity_ratio >= 0.8`, judged with the
//! bootstrap interval (over the groups large enough to judge, when some are too small): pass when the whole interval is on the good side, fail when it is all
//! on the bad side, inconclusive when it straddles the threshold. Without an interval (no
//! bootstrap, or too few defined replicates) the point value decides and `basis` says so.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::stats::{class_metric, DISPARITIES, STATS};
use crate::engine::error::{EngineError, Result};
use crate::engine::evaluate::Task;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
}

impl Op {
    fn ok(self, v: f64, t: f64) -> bool {
        match self {
            Op::Ge => v >= t,
            Op::Le => v <= t,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A disparity name (e.g. `demographic_parity_ratio`) or `metric.stat` (e.g.
    /// `accuracy.difference_between_groups`, `mae.ratio_to_overall`).
    pub metric: String,
    pub op: Op,
    pub threshold: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Common starting points, not verdicts: the four-fifths rule on selection rates and a
    /// 0.1 bound on equalized-odds and equal-opportunity gaps (classification only).
    pub fn default_for(binary: bool) -> Policy {
        let rule = |m: &str, op, t| Rule {
            metric: m.to_string(),
            op,
            threshold: t,
        };
        Policy {
            rules: if binary {
                vec![
                    rule("demographic_parity_ratio", Op::Ge, 0.8),
                    rule("equalized_odds_difference", Op::Le, 0.1),
                    rule("equal_opportunity_difference", Op::Le, 0.1),
                ]
            } else {
                vec![rule("r2.difference_between_groups", Op::Le, 0.1)]
            },
        }
    }

    /// [`Policy::default_for`] binary and regression; multiclass: per class, the four-fifths
    /// rule on selection rates and a 0.1 bound on the recall gap (one-vs-rest demographic
    /// parity and equal opportunity).
    pub fn default_for_task(task: Task, classes: &[String]) -> Policy {
        if task != Task::MulticlassClassification {
            return Policy::default_for(task == Task::BinaryClassification);
        }
        let mut rules = Vec::new();
        for c in classes {
            rules.push(Rule {
                metric: format!("{}.ratio_between_groups", class_metric("selection_rate", c)),
                op: Op::Ge,
                threshold: 0.8,
            });
            rules.push(Rule {
                metric: format!("{}.difference_between_groups", class_metric("recall", c)),
                op: Op::Le,
                threshold: 0.1,
            });
        }
        Policy { rules }
    }

    pub fn load(path: &Path) -> Result<Policy> {
        let text = crate::engine::fsio::read_text(
            path,
            "fairness policy",
            crate::engine::fsio::caps::SETTINGS_JSON,
        )?;
        let p: Policy = serde_json::from_str(&text).map_err(|e| {
            EngineError::file(
                path,
                format!(
                    "not a valid policy ({e}); expected {{\"rules\": [{{\"metric\": \"demographic_parity_ratio\", \"op\": \">=\", \"threshold\": 0.8}}]}}"
                ),
            )
        })?;
        if let Some(r) = p.rules.iter().find(|r| !r.threshold.is_finite()) {
            return Err(EngineError::file(
                path,
                format!("rule on '{}' has a non-finite threshold", r.metric),
            ));
        }
        Ok(p)
    }

    /// Checks that every rule names a known quantity.
    pub fn validate(&self, known: &[String]) -> Result<()> {
        for r in &self.rules {
            if !known.contains(&r.metric) {
                return Err(EngineError::usage(format!(
                    "policy rule on unknown metric '{}'; known: {}",
                    r.metric,
                    known.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// Every name a policy rule may use (binary or regression).
pub fn policy_names(binary: bool) -> Vec<String> {
    let metrics: &[&str] = if binary {
        &super::stats::BINARY
    } else {
        &super::stats::REGRESSION
    };
    let metrics: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    task_policy_names(binary, &metrics)
}

/// Every name a policy rule may use for a report's `metrics`: the binary disparities (when
/// `binary`), then `metric.stat` for every metric and [`STATS`].
pub fn task_policy_names(binary: bool, metrics: &[String]) -> Vec<String> {
    let mut out: Vec<String> = if binary {
        DISPARITIES.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    for m in metrics {
        for s in STATS {
            out.push(format!("{m}.{s}"));
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    /// The quantity is undefined for this slicing (e.g. no group has positives).
    Undefined,
    /// The slicing has a single group: there is nothing to compare, so no verdict (a
    /// disparity of 0 between one group and itself is not a pass).
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    ConfidenceInterval,
    PointEstimate,
}

/// Which groups a verdict was computed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    AllGroups,
    /// Groups smaller than the minimum size were left out (see `large_groups_only`).
    LargeGroupsOnly,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub metric: String,
    pub op: Op,
    pub threshold: f64,
    pub value: Option<f64>,
    pub ci: Option<[f64; 2]>,
    pub result: Verdict,
    pub basis: Basis,
    pub scope: Scope,
}

pub fn judge(rule: &Rule, value: Option<f64>, ci: Option<[f64; 2]>, scope: Scope) -> RuleResult {
    let t = rule.threshold;
    let (result, basis) = match (value, ci) {
        (None, _) => (Verdict::Undefined, Basis::PointEstimate),
        (Some(_), Some([lo, hi])) => {
            let (good_lo, good_hi) = (rule.op.ok(lo, t), rule.op.ok(hi, t));
            let v = if good_lo && good_hi {
                Verdict::Pass
            } else if !good_lo && !good_hi {
                Verdict::Fail
            } else {
                Verdict::Inconclusive
            };
            (v, Basis::ConfidenceInterval)
        }
        (Some(v), None) => (
            if rule.op.ok(v, t) {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            Basis::PointEstimate,
        ),
    };
    RuleResult {
        metric: rule.metric.clone(),
        op: rule.op,
        threshold: t,
        value,
        ci,
        result,
        basis,
        scope,
    }
}

//! The promotion gate: rules `fact op value` over a map of named facts (a comparison's deltas,
//! their intervals, group worsening…, and later latency figures), each judged pass/fail with
//! a reason a person can read; a missing fact fails as "not measured".

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateOp {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl GateOp {
    pub fn holds(self, v: f64, t: f64) -> bool {
        match self {
            GateOp::Ge => v >= t,
            GateOp::Le => v <= t,
            GateOp::Gt => v > t,
            GateOp::Lt => v < t,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            GateOp::Ge => "≥",
            GateOp::Le => "≤",
            GateOp::Gt => ">",
            GateOp::Lt => "<",
        }
    }

    /// The symbol of the opposite comparison (what holds when the rule fails).
    pub fn negated_symbol(self) -> &'static str {
        match self {
            GateOp::Ge => "<",
            GateOp::Le => ">",
            GateOp::Gt => "≤",
            GateOp::Lt => "≥",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    /// A fact name, e.g. `delta.roc_auc`, `delta_ci_low.roc_auc`,
    /// `max_group_worsening.true_positive_rate`, `p95_latency_ms`.
    pub fact: String,
    pub op: GateOp,
    pub value: f64,
}

impl GateRule {
    pub fn new(fact: &str, op: GateOp, value: f64) -> Self {
        Self {
            fact: fact.to_string(),
            op,
            value,
        }
    }
}

/// A set of rules (the JSON form of `--gate FILE`: `{"rules": [...]}` or a bare array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub rules: Vec<GateRule>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GateFile {
    Object(Gate),
    Rules(Vec<GateRule>),
}

impl Gate {
    /// Parses a gate from JSON text; `origin` names the file in errors.
    pub fn from_json(text: &str, origin: &Path) -> Result<Gate> {
        let gate = match serde_json::from_str::<GateFile>(text) {
            Ok(GateFile::Object(g)) => g,
            Ok(GateFile::Rules(rules)) => Gate { rules },
            Err(e) => {
                return Err(EngineError::file(
                    origin,
                    format!(
                        "not a gate ({e}); expected {{\"rules\": [{{\"fact\": \"delta.roc_auc\", \"op\": \">=\", \"value\": 0}}]}}"
                    ),
                ))
            }
        };
        gate.validate(origin)?;
        Ok(gate)
    }

    pub fn load(path: &Path) -> Result<Gate> {
        let text = crate::engine::fsio::read_text(
            path,
            "promotion gate",
            crate::engine::fsio::caps::SETTINGS_JSON,
        )?;
        Gate::from_json(&text, path)
    }

    fn validate(&self, origin: &Path) -> Result<()> {
        if self.rules.is_empty() {
            return Err(EngineError::file(origin, "the gate has no rules"));
        }
        for r in &self.rules {
            if r.fact.trim().is_empty() {
                return Err(EngineError::file(origin, "a gate rule has an empty fact"));
            }
            if !r.value.is_finite() {
                return Err(EngineError::file(
                    origin,
                    format!("gate rule on '{}' has a non-finite value", r.fact),
                ));
            }
        }
        Ok(())
    }

    /// Judges every rule against the facts.
    pub fn evaluate(&self, facts: &BTreeMap<String, f64>) -> GateResult {
        let rules: Vec<RuleVerdict> = self
            .rules
            .iter()
            .map(|r| judge_rule(r, facts.get(&r.fact).copied()))
            .collect();
        GateResult {
            passed: rules.iter().all(|r| r.passed),
            rules,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleVerdict {
    pub rule: GateRule,
    /// The fact's value (`None`: not measured).
    pub value: Option<f64>,
    pub passed: bool,
    /// e.g. `delta.roc_auc = -0.0120 < 0 (needs ≥ 0)` or `p95_latency_ms: not measured`.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    /// Every rule passed.
    pub passed: bool,
    pub rules: Vec<RuleVerdict>,
}

/// A number for a reason: 4 significant decimals, no trailing noise.
pub fn fmt_num(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 1e9 {
        return format!("{x:.0}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{x:.digits$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

pub fn judge_rule(rule: &GateRule, value: Option<f64>) -> RuleVerdict {
    let value = value.filter(|v| v.is_finite());
    let (passed, reason) = match value {
        None => (false, format!("{}: not measured", rule.fact)),
        Some(v) if rule.op.holds(v, rule.value) => (
            true,
            format!(
                "{} = {} {} {}",
                rule.fact,
                fmt_num(v),
                rule.op.symbol(),
                fmt_num(rule.value)
            ),
        ),
        Some(v) => (
            false,
            format!(
                "{} = {} {} {} (needs {} {})",
                rule.fact,
                fmt_num(v),
                rule.op.negated_symbol(),
                fmt_num(rule.value),
                rule.op.symbol(),
                fmt_num(rule.value)
            ),
        ),
    };
    RuleVerdict {
        rule: rule.clone(),
        value,
        passed,
        reason,
    }
}

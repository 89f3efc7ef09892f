//! Sign-off records: who reviewed the model, in what role, and what they decided. Several
//! reviewers can add records before the package is sealed; they are stored as
//! `signoff.json` (a JSON array) inside the signed package.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    ApprovedWithConditions,
    Rejected,
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::ApprovedWithConditions => "approved with conditions",
            Decision::Rejected => "rejected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    pub reviewer: String,
    pub role: String,
    pub decision: Decision,
    #[serde(default)]
    pub conditions: Vec<String>,
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub notes: String,
}

impl SignOff {
    /// Checks the record is complete and consistent.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.reviewer.trim().is_empty() {
            return Err("sign-off: reviewer name is empty".into());
        }
        if self.role.trim().is_empty() {
            return Err(format!("sign-off by {}: role is empty", self.reviewer));
        }
        if !is_iso_date(&self.date) {
            return Err(format!(
                "sign-off by {}: date '{}' is not YYYY-MM-DD",
                self.reviewer, self.date
            ));
        }
        if self.decision == Decision::ApprovedWithConditions && self.conditions.is_empty() {
            return Err(format!(
                "sign-off by {}: 'approved_with_conditions' needs at least one condition",
                self.reviewer
            ));
        }
        Ok(())
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// Reads sign-off records from a JSON file holding one record or an array of records.
pub fn load_signoffs(path: &Path) -> Result<Vec<SignOff>> {
    let text = crate::engine::fsio::read_text(
        path,
        "sign-off file",
        crate::engine::fsio::caps::SETTINGS_JSON,
    )?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EngineError::file(path, format!("not JSON: {e}")))?;
    let records: Vec<SignOff> = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|one| vec![one])
    }
    .map_err(|e| EngineError::file(path, format!("not a sign-off record: {e}")))?;
    for r in &records {
        r.validate().map_err(|m| EngineError::file(path, m))?;
    }
    Ok(records)
}

//! Reviewer notes: a short text pinned by a meeting participant to one finding (a metric of a
//! model, a fairness group, a drift column, an explanation, a comparison, or the review as a
//! whole). Notes are saved in the workspace (`Workspace::notes`), listed in the report next to
//! their finding, and carried into the signed package (`notes.json` and one audit entry each).
//!
//! Pure data: the caller passes the creation time (RFC 3339, UTC) and the id; nothing here
//! reads a clock.

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};

/// What a note is pinned to. Serialised with a `kind` tag, e.g.
/// `{"kind": "metric", "model": "adult_gbdt v1.0", "metric": "roc_auc"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A metric of one model's evaluation (`model` is the workspace label of the model).
    Metric { model: String, metric: String },
    /// A group of a sensitive attribute (`attribute` is the slicing, e.g. `sex` or `sex+race`;
    /// `group` the group's label as the fairness report prints it, e.g. `Female`).
    Group { attribute: String, group: String },
    /// One column of the drift report.
    DriftColumn { column: String },
    /// A feature of an explanation.
    Feature { feature: String },
    /// A metric of a version comparison (`pair` e.g. `v1 → v2`).
    Comparison { pair: String, metric: String },
    /// The review as a whole.
    General,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Metric { model, metric } => write!(f, "{metric} of {model}"),
            Finding::Group { attribute, group } => write!(f, "group {attribute} = {group}"),
            Finding::DriftColumn { column } => write!(f, "drift of column {column}"),
            Finding::Feature { feature } => write!(f, "explanation of feature {feature}"),
            Finding::Comparison { pair, metric } => write!(f, "{metric} in comparison {pair}"),
            Finding::General => write!(f, "the review as a whole"),
        }
    }
}

/// One reviewer note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewNote {
    /// Unique within the workspace (see [`next_note_id`]).
    pub id: String,
    pub finding: Finding,
    pub text: String,
    pub author: String,
    /// When it was written, RFC 3339 UTC (`2026-11-25T14:00:00Z`), given by the caller.
    pub created: String,
}

impl ReviewNote {
    /// Checks the note is complete: non-empty id, text and author, and an RFC 3339 UTC time.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(EngineError::usage(m));
        if self.id.trim().is_empty() {
            return bad("reviewer note: the id is empty".into());
        }
        if self.text.trim().is_empty() {
            return bad(format!("reviewer note {}: the text is empty", self.id));
        }
        if self.author.trim().is_empty() {
            return bad(format!("reviewer note {}: the author is empty", self.id));
        }
        if !is_rfc3339_utc(&self.created) {
            return bad(format!(
                "reviewer note {}: created '{}' is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                self.id, self.created
            ));
        }
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !s.ends_with('Z') {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let frac = &b[19..b.len() - 1];
    b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && digits(0..4)
        && digits(5..7)
        && digits(8..10)
        && digits(11..13)
        && digits(14..16)
        && digits(17..19)
        && (frac.is_empty()
            || (frac.len() >= 2 && frac[0] == b'.' && frac[1..].iter().all(u8::is_ascii_digit)))
}

/// The next free id `n1`, `n2`, … for a list of notes.
pub fn next_note_id(notes: &[ReviewNote]) -> String {
    let max = notes
        .iter()
        .filter_map(|n| n.id.strip_prefix('n').and_then(|d| d.parse::<u64>().ok()))
        .max()
        .unwrap_or(0);
    format!("n{}", max + 1)
}

/// The notes pinned to `finding`, in the order they were added.
pub fn notes_for<'a>(notes: &'a [ReviewNote], finding: &Finding) -> Vec<&'a ReviewNote> {
    notes.iter().filter(|n| &n.finding == finding).collect()
}

//! Warnings: a result that is still usable, with something the user should know about it.
//! A [`Warning`] is a [`WarningKind`] and a complete sentence; results carry them in their
//! `warnings` field, the window shows them next to the numbers they concern, and the report
//! counts them by kind. In JSON a warning is its sentence (the contract scripts read).

use serde::{Serialize, Serializer};

/// What a warning is about, so front ends can group and count warnings without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Rows were left out (invalid inputs or outputs, unlabelled, unjoined).
    RowsLeftOut,
    /// A figure could not be computed on this data (0/0, one class, no resamples).
    Undefined,
    /// Too few rows, groups or chunks for a figure to be trusted.
    SmallSample,
    /// An assumption of a figure does not hold (scores are not probabilities, …).
    Assumption,
    /// An option does not apply here and was replaced or ignored.
    Option,
    /// Something about the data worth knowing (unknown classes, no shared columns, …).
    Data,
}

impl WarningKind {
    /// A short plural heading for counts ("3 undefined figures").
    pub fn label(self) -> &'static str {
        match self {
            WarningKind::RowsLeftOut => "rows left out",
            WarningKind::Undefined => "undefined figures",
            WarningKind::SmallSample => "small samples",
            WarningKind::Assumption => "assumptions not met",
            WarningKind::Option => "options not applied",
            WarningKind::Data => "data notes",
        }
    }
}

/// One warning: its kind and the sentence shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Self {
        Warning {
            kind,
            message: message.into(),
        }
    }

    pub fn rows_left_out(message: impl Into<String>) -> Self {
        Self::new(WarningKind::RowsLeftOut, message)
    }

    pub fn undefined(message: impl Into<String>) -> Self {
        Self::new(WarningKind::Undefined, message)
    }

    pub fn small_sample(message: impl Into<String>) -> Self {
        Self::new(WarningKind::SmallSample, message)
    }

    pub fn assumption(message: impl Into<String>) -> Self {
        Self::new(WarningKind::Assumption, message)
    }

    pub fn option(message: impl Into<String>) -> Self {
        Self::new(WarningKind::Option, message)
    }

    pub fn data(message: impl Into<String>) -> Self {
        Self::new(WarningKind::Data, message)
    }

    pub fn as_str(&self) -> &str {
        &self.message
    }

    /// The same warning with `prefix: ` before its sentence (e.g. the analysis it came from).
    pub fn prefixed(&self, prefix: &str) -> Self {
        Self::new(self.kind, format!("{prefix}: {}", self.message))
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.message)
    }
}

impl From<&Warning> for String {
    fn from(w: &Warning) -> String {
        w.message.clone()
    }
}

/// How many warnings of each kind, in kind order (what the report prints).
pub fn count_by_kind<'a>(
    warnings: impl IntoIterator<Item = &'a Warning>,
) -> Vec<(WarningKind, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for w in warnings {
        *counts.entry(w.kind).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_is_its_sentence_in_json_and_text() {
        let w = Warning::small_sample("2 of 9 groups have fewer than 30 rows");
        assert_eq!(
            serde_json::to_string(&[&w]).ok().as_deref(),
            Some(r#"["2 of 9 groups have fewer than 30 rows"]"#)
        );
        assert_eq!(w.to_string(), "2 of 9 groups have fewer than 30 rows");
        assert_eq!(
            w.prefixed("drift").message,
            "drift: 2 of 9 groups have fewer than 30 rows"
        );
        assert_eq!(w.prefixed("drift").kind, WarningKind::SmallSample);
    }

    #[test]
    fn counts_group_by_kind_in_kind_order() {
        let ws = [
            Warning::undefined("a"),
            Warning::rows_left_out("b"),
            Warning::undefined("c"),
        ];
        assert_eq!(
            count_by_kind(&ws),
            vec![(WarningKind::RowsLeftOut, 1), (WarningKind::Undefined, 2)]
        );
    }
}

//! Predicates on the partition columns of a lake-style set (`date>=2024-03-01`), applied while
//! the set's folders are listed: a `key=value` folder whose value fails a predicate on `key`
//! is never entered, so none of its files is listed, checked or opened (predicate pushdown).
//!
//! - **Syntax**: `COLUMN OP VALUE`, `OP` one of `=` (or `==`), `!=`, `<`, `<=`, `>`, `>=`;
//!   spaces around the parts and quotes (`'…'`, `"…"`) around the value are optional.
//! - **Comparison**: as numbers when both the folder's value and the predicate's value are
//!   numbers (`hour=9` < `hour=10`), else as text, which orders ISO 8601 dates and times of one
//!   format (`2024-03-01`) in time order.
//! - **Missing values** (`__HIVE_DEFAULT_PARTITION__`) satisfy no predicate, as SQL's NULL.
//! - Several predicates must all hold. A predicate on a column that is not a partition column
//!   of the set is an error (see [`super::lake::Set::open_where`]).

use std::cmp::Ordering;
use std::fmt;

use crate::engine::error::{EngineError, Result};

/// The partition value hive writes for a missing value.
pub const HIVE_MISSING: &str = "__HIVE_DEFAULT_PARTITION__";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    const SPELLINGS: [(&'static str, Op); 7] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("=", Op::Eq),
    ];

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// One `COLUMN OP VALUE` on a partition column.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub column: String,
    op: Op,
    value: String,
}

impl Predicate {
    /// Parses `COLUMN OP VALUE` (see the module docs).
    pub fn parse(s: &str) -> Result<Predicate> {
        let bad = |why: &str| {
            EngineError::usage(format!(
                "--where '{s}': {why}; write COLUMN OP VALUE with OP one of = != < <= > >= \
                 (e.g. --where 'date>=2024-03-01')"
            ))
        };
        let at = s
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| bad("no comparison"))?;
        let rest = &s[at..];
        let (spelled, op) = Op::SPELLINGS
            .iter()
            .find(|(t, _)| rest.starts_with(t))
            .copied()
            .ok_or_else(|| bad("no comparison"))?;
        let column = s[..at].trim();
        let value = unquote(rest[spelled.len()..].trim());
        if column.is_empty() {
            return Err(bad("no column before the comparison"));
        }
        if value.is_empty() {
            return Err(bad("no value after the comparison"));
        }
        if value.starts_with(['<', '>', '=', '!']) {
            return Err(bad("two comparisons"));
        }
        Ok(Predicate {
            column: column.to_string(),
            op,
            value: value.to_string(),
        })
    }

    /// Does a folder's `value` (decoded; [`HIVE_MISSING`] for missing) satisfy this?
    pub fn keeps(&self, value: &str) -> bool {
        if value == HIVE_MISSING {
            return false;
        }
        let order = match (value.parse::<f64>(), self.value.parse::<f64>()) {
            (Ok(a), Ok(b)) if !a.is_nan() && !b.is_nan() => a.total_cmp(&b),
            _ => value.cmp(&self.value),
        };
        self.op.holds(order)
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.column, self.op.text(), self.value)
    }
}

fn unquote(s: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// Does the `key=value` folder (decoded) pass every predicate on `key`?
pub fn folder_passes(predicates: &[Predicate], key: &str, value: &str) -> bool {
    predicates
        .iter()
        .filter(|p| p.column == key)
        .all(|p| p.keeps(value))
}

/// The predicates as the user wrote them, joined for a message (`date>=…, hour<12`).
pub fn describe(predicates: &[Predicate]) -> String {
    predicates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Predicate {
        Predicate::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn predicates_parse_with_or_without_spaces_and_quotes() {
        assert_eq!(p("date>=2024-03-01").to_string(), "date>=2024-03-01");
        assert_eq!(p(" date >= '2024-03-01' ").to_string(), "date>=2024-03-01");
        assert_eq!(p("region == \"eu\"").to_string(), "region=eu");
        assert_eq!(p("hour!=3").to_string(), "hour!=3");
        assert_eq!(p("a=b=c").value, "b=c");
        for bad in ["date", ">=2024", "date>=", "date>>3", "date=<3", ""] {
            assert!(Predicate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_compare_as_numbers_and_the_rest_as_text() {
        assert!(p("hour<10").keeps("9"));
        assert!(!p("hour<10").keeps("10"));
        assert!(p("hour>=9.5").keeps("10"));
        assert!(p("x=1").keeps("1.0"));
        assert!(p("date>=2024-03-01").keeps("2024-03-01"));
        assert!(p("date>=2024-03-01").keeps("2024-12-31"));
        assert!(!p("date>=2024-03-01").keeps("2024-02-29"));
        assert!(p("date<2024-03").keeps("2024-02-29"));
        assert!(p("region!=eu").keeps("us"));
        assert!(!p("region!=eu").keeps("eu"));
        // Missing satisfies nothing, not even !=.
        assert!(!p("region!=eu").keeps(HIVE_MISSING));
        assert!(!p("hour>0").keeps(HIVE_MISSING));
    }

    #[test]
    fn every_predicate_on_the_key_must_hold() {
        let both = [p("date>=2024-03-01"), p("date<2024-04-01"), p("hour<12")];
        assert!(folder_passes(&both, "date", "2024-03-15"));
        assert!(!folder_passes(&both, "date", "2024-04-01"));
        assert!(folder_passes(&both, "region", "anything"));
        assert!(!folder_passes(&both, "hour", "12"));
        assert_eq!(
            describe(&both),
            "date>=2024-03-01, date<2024-04-01, hour<12"
        );
    }
}

//! The audit log: one JSON object per line, hash-chained. Every entry carries `prev`, the
//! SHA-256 of the previous line's exact bytes (64 zeros for the first), and `seq` (1, 2, …),
//! so an edited, removed, inserted or reordered entry breaks the chain. Truncation at the end
//! is caught by comparing the head (hash of the last line) with the one recorded in the
//! signed package manifest. Hashing the stored line bytes (not a re-serialisation) keeps the
//! chain independent of JSON number formatting.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::error::{EngineError, Result};
use crate::engine::hash::sha256_bytes;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    pub seq: u64,
    /// UTC, RFC 3339 (`2026-11-25T12:00:00Z`).
    pub time: String,
    /// What happened: `file.loaded`, `analysis.run`, `card.edited`, `signoff.added`, …
    pub action: String,
    pub details: serde_json::Value,
    /// SHA-256 of the previous line (hex), [`GENESIS`] for the first entry.
    pub prev: String,
}

/// An append-only, hash-chained log held in memory; [`AuditLog::to_jsonl`] is its file form.
#[derive(Debug, Clone, Default)]
pub struct AuditLog {
    lines: Vec<String>,
    entries: Vec<AuditEntry>,
}

/// The result of checking a log's chain.
#[derive(Debug, Clone, Serialize)]
pub struct AuditCheck {
    pub ok: bool,
    pub entries: usize,
    /// SHA-256 of the last line ([`GENESIS`] when empty).
    pub head: String,
    /// 1-based line numbers and what is wrong there.
    pub problems: Vec<String>,
}

impl AuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an entry stamped with the current UTC time and returns it.
    pub fn append(&mut self, action: &str, details: serde_json::Value) -> Result<&AuditEntry> {
        self.append_at(action, details, now_rfc3339())
    }

    /// [`AuditLog::append`] with an explicit timestamp (tests, replays).
    pub fn append_at(
        &mut self,
        action: &str,
        details: serde_json::Value,
        time: String,
    ) -> Result<&AuditEntry> {
        let entry = AuditEntry {
            seq: self.entries.len() as u64 + 1,
            time,
            action: action.to_string(),
            details,
            prev: self.head(),
        };
        let line = serde_json::to_string(&entry)
            .map_err(|e| EngineError::internal(format!("cannot encode audit entry: {e}")))?;
        self.lines.push(line);
        self.entries.push(entry);
        self.entries
            .last()
            .ok_or_else(|| EngineError::internal("audit log append lost its entry"))
    }

    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }

    /// Hash of the last line, [`GENESIS`] when empty.
    pub fn head(&self) -> String {
        self.lines
            .last()
            .map_or_else(|| GENESIS.to_string(), |l| sha256_bytes(l.as_bytes()))
    }

    /// The file form: one entry per line, each ending in `\n`.
    pub fn to_jsonl(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// Parses a log and insists the chain holds (use [`check_jsonl`] for a report).
    pub fn from_jsonl(path: &Path, text: &str) -> Result<AuditLog> {
        let check = check_jsonl(text);
        if !check.ok {
            return Err(EngineError::file(
                path,
                format!("audit log chain is broken: {}", check.problems.join("; ")),
            ));
        }
        let mut log = AuditLog::new();
        for line in text.lines() {
            let entry: AuditEntry = serde_json::from_str(line)
                .map_err(|e| EngineError::file(path, format!("bad audit entry: {e}")))?;
            log.lines.push(line.to_string());
            log.entries.push(entry);
        }
        Ok(log)
    }

    /// Writes the log atomically (temporary file + rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::engine::fsio::write(path, "audit log", self.to_jsonl().as_bytes())
    }

    pub fn load(path: &Path) -> Result<AuditLog> {
        let text = crate::engine::fsio::read_text(
            path,
            "audit log",
            crate::engine::fsio::caps::AUDIT_LOG,
        )?;
        AuditLog::from_jsonl(path, &text)
    }
}

/// Checks the chain of a JSON-lines audit log.
pub fn check_jsonl(text: &str) -> AuditCheck {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut n = 0usize;
    if !text.is_empty() && !text.ends_with('\n') {
        problems.push("the last line is not terminated (truncated file?)".to_string());
    }
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        n += 1;
        match serde_json::from_str::<AuditEntry>(line) {
            Ok(e) => {
                if e.seq != lineno as u64 {
                    problems.push(format!(
                        "line {lineno}: sequence number {} (expected {lineno}): an entry was removed or inserted",
                        e.seq
                    ));
                }
                if e.prev != prev {
                    problems.push(format!(
                        "line {lineno}: 'prev' does not match the hash of line {}: the previous entry was edited or removed",
                        lineno - 1
                    ));
                }
            }
            Err(e) => problems.push(format!("line {lineno}: not an audit entry: {e}")),
        }
        prev = sha256_bytes(line.as_bytes());
    }
    AuditCheck {
        ok: problems.is_empty(),
        entries: n,
        head: prev,
        problems,
    }
}

/// Current UTC time as RFC 3339 with second precision.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_rfc3339(secs)
}

/// Seconds since the Unix epoch → `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn format_rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}

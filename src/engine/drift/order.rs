//! One order of drifted columns for every view (the Drift page, the report): drifted columns
//! first, then by how far past (or short of) its threshold each column is, then by name.

use super::ColumnDrift;
use super::DriftReport;

/// How far past its threshold a column is: `threshold / p` for tests (p-values ≤ 1e-300 are
/// clamped), `statistic / threshold` for distances; larger is more drifted.
pub fn drift_strength(c: &ColumnDrift) -> f64 {
    let s = c.statistic.unwrap_or(f64::NAN);
    let v = if c.method.is_test() {
        c.p_value.map_or(0.0, |p| c.threshold / p.max(1e-300))
    } else if c.threshold > 0.0 {
        s / c.threshold
    } else {
        s
    };
    if v.is_finite() {
        v
    } else if v.is_nan() {
        0.0
    } else {
        f64::MAX
    }
}

impl DriftReport {
    /// Indices into `columns`, most drifted first.
    pub fn most_drifted_first(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.columns.len()).collect();
        idx.sort_by(|&a, &b| {
            let (a, b) = (&self.columns[a], &self.columns[b]);
            b.drifted
                .cmp(&a.drifted)
                .then(drift_strength(b).total_cmp(&drift_strength(a)))
                .then(a.name.cmp(&b.name))
        });
        idx
    }
}

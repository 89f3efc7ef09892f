//! Paired tests and agreement statistics of two models on the same rows: McNemar's test
//! (statsmodels `mcnemar`, exact and chi-square with continuity correction), DeLong's test for
//! two correlated ROC AUCs (the O(n log n) midrank algorithm of Sun & Xu 2014), and Pearson /
//! Spearman correlation (scipy `pearsonr` / `spearmanr`).

use serde::Serialize;
use statrs::function::erf::erfc;
use statrs::function::factorial::ln_binomial;

/// statsmodels `mcnemar(table, exact=True).pvalue`: two-sided exact binomial test on the
/// discordant pairs `b` (only A correct) and `c` (only B correct):
/// `min(1, 2 · P[Bin(b + c, ½) ≤ min(b, c)])`. No discordant pairs: 1.
pub fn mcnemar_exact_p(b: u64, c: u64) -> f64 {
    let n = b + c;
    let k = b.min(c);
    if n == 0 {
        return 1.0;
    }
    // P[X ≤ k] = pmf(k) · Σ_{i ≤ k} pmf(i)/pmf(k); since k ≤ n/2 the ratios fall as i
    // decreases (pmf(i-1)/pmf(i) = i / (n - i + 1)), so the sum stops once terms vanish.
    let mut term = 1.0f64;
    let mut sum = 1.0f64;
    let mut i = k;
    while i > 0 {
        term *= i as f64 / (n - i + 1) as f64;
        sum += term;
        if term < sum * 1e-18 {
            break;
        }
        i -= 1;
    }
    let ln_pmf_k = ln_binomial(n, k) - n as f64 * std::f64::consts::LN_2;
    (2.0 * ln_pmf_k.exp() * sum).min(1.0)
}

/// Chi-square statistic with its p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquare {
    pub statistic: f64,
    pub p_value: f64,
}

/// statsmodels `mcnemar(table, exact=False, correction=True)`: `(|b − c| − 1)² / (b + c)`
/// with one degree of freedom (statsmodels does not clamp `|b − c| − 1` at 0, so `b = c`
/// gives `1 / (b + c)`). `None` without discordant pairs (statsmodels divides by zero there).
pub fn mcnemar_chi2_corrected(b: u64, c: u64) -> Option<ChiSquare> {
    let n = b + c;
    if n == 0 {
        return None;
    }
    let d = b.abs_diff(c) as f64 - 1.0;
    let statistic = d * d / n as f64;
    Some(ChiSquare {
        statistic,
        p_value: chi2_sf_1(statistic),
    })
}

/// Survival function of the chi-square distribution with one degree of freedom.
pub fn chi2_sf_1(x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    erfc((x / 2.0).sqrt())
}

/// Two-sided normal p-value of a z score: `2 · Φ(−|z|)`.
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2)
}

/// 1-based average ranks (ties share the mean of their positions), like
/// `scipy.stats.rankdata(method="average")`.
pub fn midranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<u32> = (0..x.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| x[a as usize].total_cmp(&x[b as usize]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1] as usize] == x[order[i] as usize] {
            j += 1;
        }
        // positions i..=j (0-based) → mean 1-based rank
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o as usize] = r;
        }
        i = j + 1;
    }
    ranks
}

/// DeLong's test for the difference of two correlated ROC AUCs (B − A).
#[derive(Debug, Clone, Serialize)]
pub struct DeLong {
    pub auc_a: f64,
    pub auc_b: f64,
    /// `auc_b − auc_a`.
    pub auc_difference: f64,
    /// DeLong variance of each AUC (its squared standard error).
    pub variance_a: f64,
    pub variance_b: f64,
    pub covariance: f64,
    /// Variance of the difference: `var_a + var_b − 2 cov`.
    pub variance: f64,
    /// `auc_difference / sqrt(variance)`; `None` when the variance is 0.
    pub z: Option<f64>,
    /// Two-sided normal p-value; `None` when the variance is 0.
    pub p_value: Option<f64>,
}

/// Structural components of one model's scores (Sun & Xu 2014, fast DeLong): the AUC and
/// `v10` (per positive) / `v01` (per negative).
fn components(pos: &[f64], neg: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let (m, n) = (pos.len(), neg.len());
    let tx = midranks(pos);
    let ty = midranks(neg);
    let all: Vec<f64> = pos.iter().chain(neg).copied().collect();
    let tz = midranks(&all);
    let (mf, nf) = (m as f64, n as f64);
    let sum_pos: f64 = tz[..m].iter().sum();
    let auc = (sum_pos - mf * (mf + 1.0) / 2.0) / (mf * nf);
    let v10 = (0..m).map(|i| (tz[i] - tx[i]) / nf).collect();
    let v01 = (0..n).map(|j| 1.0 - (tz[m + j] - ty[j]) / mf).collect();
    (auc, v10, v01)
}

/// Sample covariance (ddof = 1, like `numpy.cov`).
fn cov(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (n - 1.0)
}

/// DeLong's test on binary labels and two models' scores. `None` unless there are at least
/// two positives and two negatives (the variance needs them).
pub fn delong(y: &[bool], score_a: &[f64], score_b: &[f64]) -> Option<DeLong> {
    let split = |s: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let pos = y.iter().zip(s).filter(|(t, _)| **t).map(|(_, v)| *v);
        let neg = y.iter().zip(s).filter(|(t, _)| !**t).map(|(_, v)| *v);
        (pos.collect(), neg.collect())
    };
    let (pa, na) = split(score_a);
    let (pb, nb) = split(score_b);
    let (m, n) = (pa.len(), na.len());
    if m < 2 || n < 2 {
        return None;
    }
    let (auc_a, v10a, v01a) = components(&pa, &na);
    let (auc_b, v10b, v01b) = components(&pb, &nb);
    let (mf, nf) = (m as f64, n as f64);
    let s = |x10: &[f64], y10: &[f64], x01: &[f64], y01: &[f64]| {
        cov(x10, y10) / mf + cov(x01, y01) / nf
    };
    let variance_a = s(&v10a, &v10a, &v01a, &v01a);
    let variance_b = s(&v10b, &v10b, &v01b, &v01b);
    let covariance = s(&v10a, &v10b, &v01a, &v01b);
    let variance = variance_a + variance_b - 2.0 * covariance;
    let auc_difference = auc_b - auc_a;
    let (z, p_value) = if variance > 0.0 {
        let z = auc_difference / variance.sqrt();
        (Some(z), Some(normal_two_sided_p(z)))
    } else {
        (None, None)
    };
    Some(DeLong {
        auc_a,
        auc_b,
        auc_difference,
        variance_a,
        variance_b,
        covariance,
        variance,
        z,
        p_value,
    })
}

/// Pearson correlation (two-pass, as `scipy.stats.pearsonr`); `None` when either side is
/// constant or there are fewer than two rows.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len();
    if n < 2 || b.len() != n {
        return None;
    }
    let nf = n as f64;
    let ma = a.iter().sum::<f64>() / nf;
    let mb = b.iter().sum::<f64>() / nf;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    if saa == 0.0 || sbb == 0.0 {
        return None;
    }
    Some((sab / (saa.sqrt() * sbb.sqrt())).clamp(-1.0, 1.0))
}

/// Spearman correlation: Pearson on average ranks (`scipy.stats.spearmanr`).
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&midranks(a), &midranks(b))
}

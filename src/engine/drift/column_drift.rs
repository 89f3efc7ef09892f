//! One column's drift: every statistic of its kind, the chosen method (Evidently's
//! DataDriftPreset default unless overridden), threshold, verdict, effect size and the
//! histograms a GUI overlays.

use serde::Serialize;

use super::binning::{self, Counts, Histogram};
use super::columns::ColumnKind;
use super::stattests::{self, KsMode};

/// A drift method; the names are the CLI's `--method` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Method {
    #[serde(rename = "ks")]
    Ks,
    #[serde(rename = "chi2")]
    Chi2,
    #[serde(rename = "z")]
    Z,
    #[serde(rename = "wasserstein")]
    Wasserstein,
    #[serde(rename = "jensenshannon")]
    JensenShannon,
    #[serde(rename = "psi")]
    Psi,
}

impl Method {
    pub fn parse(s: &str) -> Option<Method> {
        Some(match s.to_ascii_lowercase().as_str() {
            "ks" => Method::Ks,
            "chi2" | "chisquare" => Method::Chi2,
            "z" => Method::Z,
            "wasserstein" => Method::Wasserstein,
            "jensenshannon" | "js" | "jensen_shannon" => Method::JensenShannon,
            "psi" => Method::Psi,
            _ => return None,
        })
    }

    /// True when the statistic is a p-value (drift when small).
    pub fn is_test(self) -> bool {
        matches!(self, Method::Ks | Method::Chi2 | Method::Z)
    }

    /// Evidently's default thresholds: 0.05 for p-values, 0.1 for distances and PSI.
    pub fn default_threshold(self) -> f64 {
        if self.is_test() {
            0.05
        } else {
            0.1
        }
    }

    /// Whether this method applies to a column of `kind` (KS and Wasserstein need numbers).
    pub fn supports(self, kind: ColumnKind) -> bool {
        !(kind == ColumnKind::Categorical && matches!(self, Method::Ks | Method::Wasserstein))
    }

    /// Evidently's rule for the verdict: KS p ≤ t; chi-square and Z p < t; distances ≥ t.
    pub fn drifted(self, score: f64, threshold: f64) -> bool {
        if score.is_nan() {
            return false;
        }
        match self {
            Method::Ks => score <= threshold,
            Method::Chi2 | Method::Z => score < threshold,
            _ => score >= threshold,
        }
    }
}

/// Evidently's DataDriftPreset default (`_get_default_stattest`): `n_reference` values after
/// dropping NaN, `n_values` distinct values over both samples.
pub fn default_method(kind: ColumnKind, n_reference: usize, n_values: usize) -> Method {
    let small = if n_values > 2 {
        Method::Chi2
    } else {
        Method::Z
    };
    match (n_reference <= 1000, kind) {
        (true, ColumnKind::Numeric) if n_values <= 5 => small,
        (true, ColumnKind::Numeric) => Method::Ks,
        (true, ColumnKind::Categorical) => small,
        (false, ColumnKind::Numeric) if n_values <= 5 => Method::JensenShannon,
        (false, ColumnKind::Numeric) => Method::Wasserstein,
        (false, ColumnKind::Categorical) => Method::JensenShannon,
    }
}

/// Every statistic computed for a column (`null` when it does not apply to its kind).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Stats {
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    pub ks_mode: Option<KsMode>,
    pub wasserstein_normed: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub psi: Option<f64>,
    pub chi2_statistic: Option<f64>,
    pub chi2_p_value: Option<f64>,
    pub z_statistic: Option<f64>,
    pub z_p_value: Option<f64>,
    /// Effect size of the chi-square test (Cramér's V of the 2 × k table).
    pub cramers_v: Option<f64>,
    /// Effect size of the Z-test.
    pub cohens_h: Option<f64>,
}

impl Stats {
    pub(crate) fn score(&self, m: Method) -> Option<f64> {
        match m {
            Method::Ks => self.ks_p_value,
            Method::Chi2 => self.chi2_p_value,
            Method::Z => self.z_p_value,
            Method::Wasserstein => self.wasserstein_normed,
            Method::JensenShannon => self.jensen_shannon,
            Method::Psi => self.psi,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EffectSize {
    pub measure: &'static str,
    pub value: Option<f64>,
}

/// Values of one column ready for the statistics.
pub enum Samples<'a> {
    /// Sorted finite values; `integer` when both files store integers (for sturges widths).
    Numeric {
        reference: &'a [f64],
        current: &'a [f64],
        integer: bool,
    },
    Categorical(&'a Counts),
}

/// The statistics of one column and its verdict.
pub struct Outcome {
    pub method: Method,
    pub statistic: Option<f64>,
    pub p_value: Option<f64>,
    pub threshold: f64,
    pub drifted: bool,
    pub effect_size: EffectSize,
    pub stats: Stats,
    pub histogram: Histogram,
    pub n_values: usize,
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

/// Computes every statistic of the column's kind and applies `method` (or the default).
pub fn evaluate(
    kind: ColumnKind,
    samples: Samples<'_>,
    method: Option<Method>,
    threshold: Option<f64>,
) -> Outcome {
    let mut st = Stats::default();
    let (n_ref, n_values, histogram, counts_owned);
    match samples {
        Samples::Numeric {
            reference: a,
            current: b,
            integer,
        } => {
            n_ref = a.len();
            let combined_unique = merged_unique(a, b);
            n_values = combined_unique;
            if kind == ColumnKind::Numeric {
                let ks = stattests::ks_2samp(a, b);
                st.ks_statistic = finite(ks.statistic);
                st.ks_p_value = finite(ks.p_value);
                st.ks_mode = Some(ks.mode);
                st.wasserstein_normed = finite(stattests::wasserstein_normed(a, b));
            }
            // Per-value counts are only needed for few distinct values (binning rule 2, or
            // chi-square / Z on a numeric column).
            let needs_counts = kind == ColumnKind::Categorical
                || binning::n_unique_sorted(a) <= 20
                || combined_unique <= 5
                || matches!(method, Some(Method::Chi2 | Method::Z));
            counts_owned = needs_counts.then(|| Counts::from_sorted(a, b));
            let empty = Counts::default();
            let counts = counts_owned.as_ref().unwrap_or(&empty);
            let binned = binning::binned_percents(
                (kind == ColumnKind::Numeric).then_some((a, b, integer)),
                counts,
            );
            histogram_js_psi(&mut st, &binned);
            if let Some(c) = counts_owned.as_ref() {
                if kind == ColumnKind::Categorical || combined_unique <= 5 || method.is_some() {
                    categorical_tests(&mut st, c, method);
                }
            }
            histogram = if kind == ColumnKind::Numeric {
                binning::numeric_histogram(a, b, integer)
            } else {
                binning::categorical_histogram(counts)
            };
        }
        Samples::Categorical(c) => {
            n_ref = c.total_reference() as usize;
            n_values = c.labels.len();
            let binned = binning::binned_percents(None, c);
            histogram_js_psi(&mut st, &binned);
            categorical_tests(&mut st, c, method);
            histogram = binning::categorical_histogram(c);
        }
    }
    let method = method
        .filter(|m| m.supports(kind))
        .unwrap_or_else(|| default_method(kind, n_ref, n_values));
    let threshold = threshold.unwrap_or_else(|| method.default_threshold());
    let score = st.score(method);
    let drifted = score.is_some_and(|s| method.drifted(s, threshold));
    let effect_size = match method {
        Method::Ks => EffectSize {
            measure: "ks_statistic",
            value: st.ks_statistic,
        },
        Method::Chi2 => EffectSize {
            measure: "cramers_v",
            value: st.cramers_v,
        },
        Method::Z => EffectSize {
            measure: "cohens_h",
            value: st.cohens_h,
        },
        Method::Wasserstein => EffectSize {
            measure: "wasserstein_normed",
            value: st.wasserstein_normed,
        },
        Method::JensenShannon => EffectSize {
            measure: "jensen_shannon",
            value: st.jensen_shannon,
        },
        Method::Psi => EffectSize {
            measure: "psi",
            value: st.psi,
        },
    };
    let (statistic, p_value) = match method {
        Method::Ks => (st.ks_statistic, st.ks_p_value),
        Method::Chi2 => (st.chi2_statistic, st.chi2_p_value),
        Method::Z => (st.z_statistic, st.z_p_value),
        _ => (score, None),
    };
    Outcome {
        method,
        statistic,
        p_value,
        threshold,
        drifted,
        effect_size,
        stats: st,
        histogram,
        n_values,
    }
}

pub(crate) fn histogram_js_psi(st: &mut Stats, binned: &binning::Binned) {
    st.jensen_shannon = finite(stattests::jensen_shannon(
        &binned.reference,
        &binned.current,
    ));
    let (mut r, mut c) = (binned.reference.clone(), binned.current.clone());
    binning::fill_zeroes(&mut r);
    binning::fill_zeroes(&mut c);
    st.psi = finite(stattests::psi(&r, &c));
}

pub(crate) fn categorical_tests(st: &mut Stats, c: &Counts, method: Option<Method>) {
    let (chi, p) = stattests::chi_square(c);
    st.chi2_statistic = Some(chi);
    st.chi2_p_value = finite(p);
    st.cramers_v = finite(stattests::cramers_v(c));
    if c.labels.len() <= 2 || method == Some(Method::Z) {
        let z = stattests::z_test(c);
        st.z_statistic = finite(z.statistic);
        st.z_p_value = finite(z.p_value);
        st.cohens_h = finite(z.cohens_h);
    }
}

fn merged_unique(a: &[f64], b: &[f64]) -> usize {
    super::binning::merge_distinct(a, b).count()
}

//! Options of a monitoring run: the metrics, threshold rules and calibration choice.

use crate::engine::Warning;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calibration;
use super::Chunking;
use crate::engine::error::{EngineError, Result};

/// A monitored metric; its name is the JSON key and the `--metrics` value
/// (`confusion_matrix` names the four cells).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    RocAuc,
    F1,
    Precision,
    Recall,
    Specificity,
    Accuracy,
    TruePositive,
    TrueNegative,
    FalsePositive,
    FalseNegative,
}

impl Serialize for Metric {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Metric {
    pub const DEFAULT: [Metric; 6] = [
        Metric::RocAuc,
        Metric::F1,
        Metric::Precision,
        Metric::Recall,
        Metric::Specificity,
        Metric::Accuracy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::RocAuc => "roc_auc",
            Metric::F1 => "f1",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::Specificity => "specificity",
            Metric::Accuracy => "accuracy",
            Metric::TruePositive => "true_positive",
            Metric::TrueNegative => "true_negative",
            Metric::FalsePositive => "false_positive",
            Metric::FalseNegative => "false_negative",
        }
    }

    /// `--metrics` names; `confusion_matrix` expands to the four cells.
    pub fn parse_list(names: &[String]) -> Result<Vec<Metric>> {
        let mut out = Vec::new();
        for n in names {
            let add: Vec<Metric> = match n.trim().to_ascii_lowercase().as_str() {
                "roc_auc" | "auc" => vec![Metric::RocAuc],
                "f1" => vec![Metric::F1],
                "precision" => vec![Metric::Precision],
                "recall" => vec![Metric::Recall],
                "specificity" => vec![Metric::Specificity],
                "accuracy" => vec![Metric::Accuracy],
                "confusion_matrix" => vec![
                    Metric::TruePositive,
                    Metric::TrueNegative,
                    Metric::FalsePositive,
                    Metric::FalseNegative,
                ],
                "true_positive" => vec![Metric::TruePositive],
                "true_negative" => vec![Metric::TrueNegative],
                "false_positive" => vec![Metric::FalsePositive],
                "false_negative" => vec![Metric::FalseNegative],
                other => {
                    return Err(EngineError::usage(format!(
                        "unknown metric '{other}'; use roc_auc, f1, precision, recall, \
                         specificity, accuracy or confusion_matrix (binary only)"
                    )))
                }
            };
            for m in add {
                if !out.contains(&m) {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    pub fn is_count(self) -> bool {
        matches!(
            self,
            Metric::TruePositive
                | Metric::TrueNegative
                | Metric::FalsePositive
                | Metric::FalseNegative
        )
    }

    /// NannyML's value limits: every ratio is in [0, 1]; counts are ≥ 0.
    pub(crate) fn limits(self) -> (Option<f64>, Option<f64>) {
        if self.is_count() {
            (Some(0.0), None)
        } else {
            (Some(0.0), Some(1.0))
        }
    }
}

/// How a metric's alert thresholds are set (NannyML's `Threshold` classes; the
/// `--thresholds` file maps metric names to these, e.g.
/// `{"f1": {"type": "constant", "lower": 0.9}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ThresholdSpec {
    /// Mean of the realized reference-chunk values ± a multiple of their (population)
    /// standard deviation; `null` for no bound on that side.
    StandardDeviation {
        #[serde(default = "three")]
        std_lower_multiplier: Option<f64>,
        #[serde(default = "three")]
        std_upper_multiplier: Option<f64>,
    },
    Constant {
        #[serde(default)]
        lower: Option<f64>,
        #[serde(default)]
        upper: Option<f64>,
    },
}

fn three() -> Option<f64> {
    Some(3.0)
}

impl Default for ThresholdSpec {
    fn default() -> Self {
        ThresholdSpec::StandardDeviation {
            std_lower_multiplier: Some(3.0),
            std_upper_multiplier: Some(3.0),
        }
    }
}

/// Options of a monitoring run (serialised as the analysis pipeline's key).
#[derive(Debug, Clone, Default, Serialize)]
pub struct MonitorOptions {
    /// The label column of the reference (and of the log or the label file, when present).
    pub target: String,
    /// Binary: the positive-class score column.
    pub score: Option<String>,
    /// Multiclass: class → score column.
    pub scores: Vec<(String, String)>,
    /// The predicted-label column (default: score ≥ 0.5, or the class with the top score).
    pub prediction: Option<String>,
    pub timestamp: Option<String>,
    /// Joins a separate label file to the log.
    pub id: Option<String>,
    pub chunking: Option<Chunking>,
    /// Empty: [`Metric::DEFAULT`].
    pub metrics: Vec<Metric>,
    /// Per metric name (`confusion_matrix` for the four cells); the rest use the default.
    pub thresholds: BTreeMap<String, ThresholdSpec>,
    /// Model input columns, as `evaluate --features`.
    pub features: Option<Vec<String>>,
    /// Drift and data quality per chunk.
    pub drift: bool,
    pub calibration: CalibrationChoice,
}

/// Whether scores are calibrated before estimation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationChoice {
    /// NannyML's rule ([`calibration::needs_calibration`]).
    #[default]
    Auto,
    /// Isotonic calibration for every class.
    Isotonic,
    /// Scores as they are.
    None,
    /// Per class (`""` for a binary classifier); classes not named use the rule.
    PerClass(BTreeMap<String, bool>),
}

impl CalibrationChoice {
    pub(crate) fn decide(
        &self,
        class: &str,
        y: &[bool],
        p: &[f64],
        warnings: &mut Vec<Warning>,
    ) -> (bool, Option<calibration::Decision>) {
        let fixed = match self {
            CalibrationChoice::Auto => None,
            CalibrationChoice::Isotonic => Some(true),
            CalibrationChoice::None => Some(false),
            CalibrationChoice::PerClass(m) => m.get(class).copied(),
        };
        if let Some(f) = fixed {
            return (f, None);
        }
        let d = calibration::needs_calibration(y, p);
        if d.borderline() {
            let who = if class.is_empty() {
                "the scores".to_string()
            } else {
                format!("class '{class}'")
            };
            warnings.push(Warning::assumption(format!(
                "calibration of {who} is borderline (ECE {:.5} before, {:.5} after isotonic \
                 calibration on held-out folds): NannyML's decision here depends on its random \
                 split and the machine's sort; fix it with --calibration isotonic|none",
                d.ece_before.unwrap_or(f64::NAN),
                d.ece_after.unwrap_or(f64::NAN)
            )));
        }
        (d.calibrate, Some(d))
    }
}

//! Explanation shift: each model's global importance ranking (mean |SHAP| from its
//! explanation) side by side, with the rank each feature gains or loses from the first model
//! to the last.

use serde::Serialize;

/// One feature across models.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FeatureShift {
    pub feature: String,
    /// Mean |SHAP| per model (None: the model does not use the feature).
    pub importance: Vec<Option<f64>>,
    /// 1-based rank per model (1 = most important).
    pub rank: Vec<Option<usize>>,
    /// Rank in the first model − rank in the last (positive: more important in the last).
    pub rank_change: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExplanationShift {
    pub models: Vec<String>,
    /// Ordered by the first model's rank, then features only later models use.
    pub features: Vec<FeatureShift>,
}

/// Compares importance lists `(feature, mean |φ|)`, each sorted most important first.
pub fn explanation_shift(models: &[(&str, &[(String, f64)])]) -> ExplanationShift {
    let mut names: Vec<String> = Vec::new();
    for (_, imp) in models {
        for (f, _) in imp.iter() {
            if !names.contains(f) {
                names.push(f.clone());
            }
        }
    }
    let features = names
        .into_iter()
        .map(|feature| {
            let found: Vec<Option<(usize, f64)>> = models
                .iter()
                .map(|(_, imp)| {
                    imp.iter()
                        .position(|(f, _)| *f == feature)
                        .map(|i| (i + 1, imp[i].1))
                })
                .collect();
            let rank: Vec<Option<usize>> = found.iter().map(|f| f.map(|(r, _)| r)).collect();
            let rank_change = match (
                rank.first().copied().flatten(),
                rank.last().copied().flatten(),
            ) {
                (Some(a), Some(b)) if models.len() > 1 => Some(a as i64 - b as i64),
                _ => None,
            };
            FeatureShift {
                feature,
                importance: found.iter().map(|f| f.map(|(_, v)| v)).collect(),
                rank,
                rank_change,
            }
        })
        .collect();
    ExplanationShift {
        models: models.iter().map(|(l, _)| l.to_string()).collect(),
        features,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imp(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(f, x)| (f.to_string(), *x)).collect()
    }

    #[test]
    fn ranks_and_changes_follow_the_lists() {
        let a = imp(&[("age", 0.5), ("hours", 0.3), ("sex", 0.1)]);
        let b = imp(&[("hours", 0.6), ("age", 0.2), ("gain", 0.1)]);
        let s = explanation_shift(&[("v1", &a), ("v2", &b)]);
        assert_eq!(s.models, vec!["v1", "v2"]);
        let names: Vec<&str> = s.features.iter().map(|f| f.feature.as_str()).collect();
        assert_eq!(names, vec!["age", "hours", "sex", "gain"]);
        assert_eq!(s.features[0].rank, vec![Some(1), Some(2)]);
        assert_eq!(s.features[0].rank_change, Some(-1));
        assert_eq!(s.features[1].rank_change, Some(1));
        assert_eq!(s.features[1].importance, vec![Some(0.3), Some(0.6)]);
        assert_eq!(s.features[2].rank, vec![Some(3), None]);
        assert_eq!(s.features[2].rank_change, None);
        assert_eq!(s.features[3].rank, vec![None, Some(3)]);
    }

    #[test]
    fn one_model_has_no_changes() {
        let a = imp(&[("age", 0.5)]);
        let s = explanation_shift(&[("v1", &a)]);
        assert_eq!(s.features[0].rank_change, None);
    }
}

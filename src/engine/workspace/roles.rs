//! Checking a model's column roles against a dataset's columns, before any data is read.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{ModelEntry, Roles};
use crate::engine::model::{plan_inputs, Elem, InputPlan, ModelInfo};

/// One problem with the column roles, shown next to the offending column or role.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleIssue {
    /// `target`, `features`, `sensitive`, `id`, `timestamp` or `positive_class`.
    pub role: String,
    pub column: Option<String>,
    pub message: String,
}

/// A dataset column as the role check sees it.
#[derive(Debug, Clone)]
pub struct ColumnKind {
    pub name: String,
    pub numeric: bool,
}

/// Checks the roles of `model` against a dataset's columns, without reading any data: every
/// named column exists, model inputs are fed by columns of a fitting type, the target is not
/// also a feature.
pub fn validate_roles(
    entry: &ModelEntry,
    model: &ModelInfo,
    roles: &Roles,
    columns: &[ColumnKind],
) -> Vec<RoleIssue> {
    let mut issues = Vec::new();
    let find = |name: &str| columns.iter().find(|c| c.name == name);
    let mut issue = |role: &str, column: Option<&str>, message: String| {
        issues.push(RoleIssue {
            role: role.into(),
            column: column.map(str::to_string),
            message,
        });
    };
    match &roles.target {
        None => issue("target", None, "choose the target (label) column".into()),
        Some(t) if find(t).is_none() => {
            issue(
                "target",
                Some(t),
                format!("'{t}' is not a column of the dataset"),
            );
        }
        Some(_) => {}
    }
    match plan_inputs(model, entry.features.as_deref()) {
        Err(e) => issue("features", None, e.to_string()),
        Ok(plan) => {
            let wanted: Vec<(String, bool)> = match &plan {
                InputPlan::Matrix { features, .. } => {
                    features.iter().map(|f| (f.clone(), true)).collect()
                }
                InputPlan::PerColumn { inputs } => inputs
                    .iter()
                    .map(|(n, e)| (n.clone(), *e != Elem::String))
                    .collect(),
            };
            for (name, numeric) in wanted {
                match find(&name) {
                    None => issue(
                        "features",
                        Some(&name),
                        format!("the model needs column '{name}', which the dataset lacks"),
                    ),
                    Some(c) if numeric && !c.numeric => issue(
                        "features",
                        Some(&name),
                        format!("'{name}' feeds a numeric model input but holds text"),
                    ),
                    Some(_) => {}
                }
                if roles.target.as_deref() == Some(name.as_str()) {
                    issue(
                        "target",
                        Some(&name),
                        format!("'{name}' is both the target and a model input"),
                    );
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    for s in &roles.sensitive {
        if !seen.insert(s) {
            continue;
        }
        for part in s.split('+') {
            if find(part).is_none() {
                issue(
                    "sensitive",
                    Some(part),
                    format!("'{part}' is not a column of the dataset"),
                );
            }
        }
    }
    for (role, col) in [("id", &roles.id), ("timestamp", &roles.timestamp)] {
        if let Some(c) = col {
            if find(c).is_none() {
                issue(
                    role,
                    Some(c),
                    format!("'{c}' is not a column of the dataset"),
                );
            }
        }
    }
    if let (Some(p), Some(classes)) = (&roles.positive_class, &model.declared_classes) {
        if !classes.contains(p) {
            issue(
                "positive_class",
                Some(p),
                format!(
                    "'{p}' is not a class of the model (classes: {})",
                    classes.join(", ")
                ),
            );
        }
    }
    issues
}

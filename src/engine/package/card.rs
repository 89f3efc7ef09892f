//! The model card: a Hugging Face style `README.md` (YAML front matter with `model-index`
//! results, then prose sections). [`ModelCard::draft`] fills an editable struct from the
//! evidence; the GUI edits its text fields; [`ModelCard::render`] writes the Markdown.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::descriptors::yaml_str;
use super::signoff::SignOff;
use crate::engine::model::ModelInfo;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardMetric {
    /// snake_case metric id (`roc_auc`), as in the evaluation JSON.
    pub name: String,
    pub value: Option<f64>,
    /// Bootstrap confidence interval `[low, high]`, when computed.
    pub ci: Option<[f64; 2]>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardDataset {
    /// `evaluation`, `reference`, …
    pub role: String,
    pub name: String,
    pub sha256: String,
    pub rows: Option<u64>,
}

/// Everything the card shows. Text fields are free Markdown the reviewer may edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    pub model_name: String,
    pub model_version: Option<String>,
    pub model_sha256: String,
    pub summary: String,
    pub intended_use: String,
    pub out_of_scope_use: String,
    /// `binary_classification` | `multiclass_classification` | `regression`, if evaluated.
    pub task: Option<String>,
    pub datasets: Vec<CardDataset>,
    pub metrics: Vec<CardMetric>,
    /// e.g. 0.95 for 95% bootstrap intervals.
    pub confidence_level: Option<f64>,
    pub fairness: String,
    pub explanations: String,
    pub limitations: String,
    /// Names of the evidence files in the package (`evaluation`, `fairness`, …).
    pub evidence: Vec<String>,
    pub signoffs: Vec<SignOff>,
}

fn pretty_task(task: &str) -> &str {
    match task {
        "binary_classification" => "Binary classification",
        "multiclass_classification" => "Multiclass classification",
        "regression" => "Regression",
        other => other,
    }
}

fn hf_task(task: &str) -> &'static str {
    if task == "regression" {
        "tabular-regression"
    } else {
        "tabular-classification"
    }
}

/// Warnings of an evidence JSON: strings, or objects with a `message`.
fn warnings_of(v: &Value) -> Vec<String> {
    v.get("warnings")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|w| {
                    w.as_str()
                        .or_else(|| w.get("message").and_then(Value::as_str))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every fairness policy rule that did not pass, per slicing: "sex: demographic_parity_
/// difference ≤ 0.1 failed (0.19)".
fn policy_findings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for slice in v
        .get("slices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let columns: Vec<&str> = slice
            .get("columns")
            .and_then(Value::as_array)
            .map(|c| c.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for rule in slice
            .get("policy")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let result = rule.get("result").and_then(Value::as_str).unwrap_or("");
            if result == "pass" {
                continue;
            }
            let text = |k: &str| {
                rule.get(k)
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .unwrap_or_default()
            };
            let value = rule
                .get("value")
                .and_then(Value::as_f64)
                .map_or_else(|| "undefined".to_string(), |x| format!("{x:.4}"));
            out.push(format!(
                "{}: {} {} {} — {result} (value {value})",
                columns.join(" × "),
                text("metric"),
                text("op"),
                text("threshold"),
            ));
        }
    }
    out
}

fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

impl ModelCard {
    /// A first draft from the model and the evidence (name → parsed JSON).
    pub fn draft(info: &ModelInfo, evidence: &[(String, Value)], signoffs: &[SignOff]) -> Self {
        let model_name = info
            .name
            .clone()
            .unwrap_or_else(|| file_name(&info.path.to_string_lossy()));
        let mut card = ModelCard {
            model_name: model_name.clone(),
            model_version: info.version.clone(),
            model_sha256: info.sha256.clone(),
            summary: format!(
                "ONNX model `{model_name}` ({} {}, IR version {}), reviewed and packaged with Assay.",
                info.producer_name, info.producer_version, info.ir_version
            ),
            intended_use: "_To be completed by the reviewer: the decisions this model supports, its users, and the population it applies to._".to_string(),
            out_of_scope_use: "_To be completed by the reviewer._".to_string(),
            task: None,
            datasets: Vec::new(),
            metrics: Vec::new(),
            confidence_level: None,
            fairness: "No fairness evidence was included in this package.".to_string(),
            explanations: "No explanation evidence was included in this package.".to_string(),
            limitations: String::new(),
            evidence: evidence.iter().map(|(n, _)| n.clone()).collect(),
            signoffs: signoffs.to_vec(),
        };
        let mut limits = Vec::new();
        for (name, v) in evidence {
            match name.as_str() {
                "evaluation" => card.fill_from_evaluation(v),
                "fairness" => {
                    let mut findings = policy_findings(v);
                    findings.extend(warnings_of(v));
                    card.fairness = if findings.is_empty() {
                        "Fairness evidence is in `evidence/fairness.json`; every policy rule passed and no warnings were raised."
                            .into()
                    } else {
                        format!(
                            "Fairness evidence is in `evidence/fairness.json`. Findings:\n\n{}",
                            bullets(&findings)
                        )
                    };
                }
                "explain" | "explanations" => {
                    let w = warnings_of(v);
                    card.explanations = format!(
                        "Explanation evidence is in `evidence/{name}.json`.{}",
                        if w.is_empty() {
                            String::new()
                        } else {
                            format!("\n\n{}", bullets(&w))
                        }
                    );
                }
                _ => limits.extend(warnings_of(v).into_iter().map(|w| format!("{name}: {w}"))),
            }
        }
        if let Some((_, v)) = evidence.iter().find(|(n, _)| n == "evaluation") {
            limits.extend(
                warnings_of(v)
                    .into_iter()
                    .map(|w| format!("evaluation: {w}")),
            );
        } else {
            limits.push("The model was not evaluated on labelled data in this package.".into());
        }
        for missing in ["fairness", "drift", "explain"] {
            if !card.evidence.iter().any(|e| e.starts_with(missing)) {
                limits.push(format!("No {missing} evidence is included."));
            }
        }
        card.limitations = bullets(&limits);
        card
    }

    fn fill_from_evaluation(&mut self, v: &Value) {
        self.task = v.get("task").and_then(Value::as_str).map(str::to_string);
        for (role, key) in [("evaluation", "data"), ("reference", "reference")] {
            if let Some(d) = v.get(key) {
                if let (Some(p), Some(h)) = (
                    d.get("path").and_then(Value::as_str),
                    d.get("sha256").and_then(Value::as_str),
                ) {
                    self.datasets.push(CardDataset {
                        role: role.into(),
                        name: file_name(p),
                        sha256: h.into(),
                        rows: d.get("rows").and_then(Value::as_u64),
                    });
                }
            }
        }
        self.confidence_level = v
            .get("bootstrap")
            .and_then(|b| b.get("confidence"))
            .and_then(Value::as_f64);
        let ci = v.get("ci");
        if let Some(m) = v.get("metrics").and_then(Value::as_object) {
            for (name, value) in m {
                let ci = ci
                    .and_then(|c| c.get(name))
                    .and_then(Value::as_array)
                    .and_then(|a| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?]));
                self.metrics.push(CardMetric {
                    name: name.clone(),
                    value: value.as_f64(),
                    ci,
                });
            }
        }
    }

    /// The Markdown file (`README.md`) with Hugging Face front matter.
    pub fn render(&self) -> String {
        let mut s = String::from("---\n");
        s.push_str("library_name: onnx\n");
        s.push_str("tags:\n- onnx\n- assay\n");
        if let Some(t) = &self.task {
            s.push_str(&format!("- {}\n", hf_task(t)));
        }
        let measured: Vec<&CardMetric> = self
            .metrics
            .iter()
            .filter(|m| m.value.is_some_and(f64::is_finite))
            .collect();
        if let (Some(task), false) = (&self.task, measured.is_empty()) {
            s.push_str("model-index:\n");
            s.push_str(&format!("- name: {}\n", yaml_str(&self.model_name)));
            s.push_str("  results:\n");
            s.push_str("  - task:\n");
            s.push_str(&format!("      type: {}\n", hf_task(task)));
            s.push_str(&format!("      name: {}\n", yaml_str(pretty_task(task))));
            if let Some(d) = self.datasets.iter().find(|d| d.role == "evaluation") {
                s.push_str("    dataset:\n");
                s.push_str(&format!("      name: {}\n", yaml_str(&d.name)));
                s.push_str("      type: tabular\n");
                s.push_str(&format!("      revision: {}\n", yaml_str(&d.sha256)));
            }
            s.push_str("    metrics:\n");
            for m in measured {
                s.push_str(&format!("    - type: {}\n", yaml_str(&m.name)));
                s.push_str(&format!("      value: {}\n", m.value.unwrap_or(f64::NAN)));
                s.push_str(&format!(
                    "      name: {}\n",
                    yaml_str(&m.name.replace('_', " "))
                ));
                s.push_str("      verified: false\n");
            }
        }
        s.push_str("---\n\n");
        s.push_str(&format!("# {}", inline(&self.model_name)));
        if let Some(v) = &self.model_version {
            s.push_str(&format!(" {}", inline(v)));
        }
        s.push_str("\n\n");
        s.push_str(&self.summary);
        s.push_str(&format!(
            "\n\nModel file SHA-256: `{}`\n",
            self.model_sha256
        ));
        section(&mut s, "Intended use", &self.intended_use);
        section(&mut s, "Out-of-scope use", &self.out_of_scope_use);
        let mut data = String::new();
        if self.datasets.is_empty() {
            data.push_str("No dataset was used for the evidence in this package.");
        }
        for d in &self.datasets {
            data.push_str(&format!(
                "- {} data: `{}`{} — SHA-256 `{}`\n",
                inline(&d.role),
                code(&d.name),
                d.rows.map_or_else(String::new, |r| format!(", {r} rows")),
                code(&d.sha256)
            ));
        }
        section(&mut s, "Data", data.trim_end());
        section(&mut s, "Metrics", &self.metrics_table());
        section(&mut s, "Fairness", &self.fairness);
        section(&mut s, "Explanations", &self.explanations);
        section(&mut s, "Limitations", &self.limitations);
        let mut so = String::new();
        if self.signoffs.is_empty() {
            so.push_str("No sign-off recorded.");
        }
        for r in &self.signoffs {
            so.push_str(&format!(
                "- **{}** ({}), {}: {}",
                inline(&r.reviewer),
                inline(&r.role),
                inline(&r.date),
                r.decision.label()
            ));
            if !r.conditions.is_empty() {
                let c: Vec<String> = r.conditions.iter().map(|c| inline(c)).collect();
                so.push_str(&format!(" — conditions: {}", c.join("; ")));
            }
            if !r.notes.is_empty() {
                so.push_str(&format!(" — {}", inline(&r.notes)));
            }
            so.push('\n');
        }
        section(&mut s, "Sign-off", so.trim_end());
        let ev: Vec<String> = self
            .evidence
            .iter()
            .map(|e| format!("`evidence/{e}.json`"))
            .collect();
        section(
            &mut s,
            "Evidence",
            &format!(
                "{}\n\nThe package is signed (`model.sig`, OpenSSF model signing format); verify it with `assay verify DIR --public-key KEY.pub.pem` or `model_signing verify key`.",
                if ev.is_empty() { "None.".to_string() } else { ev.join(", ") }
            ),
        );
        s
    }

    fn metrics_table(&self) -> String {
        if self.metrics.is_empty() {
            return "No metrics were measured.".to_string();
        }
        let level = self.confidence_level.map_or_else(
            || "CI".to_string(),
            |c| format!("{}% CI", (c * 100.0).round()),
        );
        let mut t = format!(
            "{}| Metric | Value | {level} |\n|---|---:|---|\n",
            self.datasets
                .iter()
                .find(|d| d.role == "evaluation")
                .map_or_else(String::new, |d| format!(
                    "Measured on `{}`.\n\n",
                    code(&d.name)
                ))
        );
        for m in &self.metrics {
            let v = m
                .value
                .map_or_else(|| "—".to_string(), |x| format!("{x:.4}"));
            let ci =
                m.ci.map_or_else(|| "—".to_string(), |[lo, hi]| format!("[{lo:.4}, {hi:.4}]"));
            t.push_str(&format!("| {} | {v} | {ci} |\n", inline(&m.name)));
        }
        t.trim_end().to_string()
    }
}

/// One line of plain text inside Markdown: line breaks (and other control characters) become
/// spaces, and the characters that would start emphasis, code, a link, HTML or a table cell
/// are backslash-escaped — a name can never add a heading, a section or a link to the card.
pub fn inline(text: &str) -> String {
    let chars: Vec<char> = flatten(text).chars().collect();
    let mut out = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '|' | '~' | '!' | '&' => true,
            // `snake_case` stays readable: an underscore inside a word never emphasises.
            '_' => {
                let word = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                !(word(i.checked_sub(1)) && word(Some(i + 1)))
            }
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text for a code span: one line, no backtick (inside a code span nothing else is special).
pub fn code(text: &str) -> String {
    flatten(text).replace('`', "'")
}

fn flatten(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

fn section(s: &mut String, title: &str, body: &str) {
    s.push_str(&format!("\n## {title}\n\n{}\n", body.trim_end()));
}

fn bullets(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("- {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

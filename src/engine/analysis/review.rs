//! A review: what has been computed for a workspace, gathered by key from the window's cache
//! or the CLI's results, and everything made from it — the promotion gate (comparison facts
//! plus speed and robustness facts), the report, the package evidence, the package checklist
//! and the drafted model card. The window, `assay report` and `assay package` all call this,
//! so they show, write and seal the same results.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::{FairnessResult, LoadedData, Output, Planner};
use crate::engine::compare::gate::{Gate, GateResult};
use crate::engine::compare::{default_gate, evidence as gate_facts, Comparison};
use crate::engine::drift::DriftReport;
use crate::engine::evaluate::Evaluation;
use crate::engine::explain::Explanation;
use crate::engine::model::Model;
use crate::engine::monitor::MonitorReport;
use crate::engine::package::{self, ChecklistItem, ModelCard, SignOff};
use crate::engine::perf::PerfReport;
use crate::engine::report::{self, ext, ModelSection, ReportInput, ReviewNote, Status};
use crate::engine::robustness::RobustnessReport;
use crate::engine::{EngineError, Result};

/// One model's results.
#[derive(Clone)]
pub struct ModelReview {
    pub label: String,
    pub model: Arc<Model>,
    pub evaluation: Option<Arc<Evaluation>>,
    pub fairness: Option<Arc<FairnessResult>>,
    pub perf: Option<Arc<PerfReport>>,
    pub robustness: Option<Arc<RobustnessReport>>,
}

/// The promotion gate judged on everything measured so far.
#[derive(Debug, Clone)]
pub struct JudgedGate {
    pub gate: Gate,
    /// True when the workspace sets no rules (the default gate for the task).
    pub default_rules: bool,
    pub result: GateResult,
    pub facts: BTreeMap<String, f64>,
}

/// A rendered report and what `report --json` says of it.
pub struct Rendered {
    pub html: String,
    pub verdict: Status,
    pub checks: Vec<report::Gate>,
    /// Every warning of the reviewed analyses, counted by kind (as the summary prints them).
    pub warnings: Vec<(crate::engine::WarningKind, usize)>,
}

/// What has been computed for a workspace (cheap: shared results).
#[derive(Clone)]
pub struct Review {
    pub title: String,
    pub workspace: Option<String>,
    pub models: Vec<ModelReview>,
    /// Index into `models` of the focus model (the one packaged and explained).
    pub focus: usize,
    pub data: Option<Arc<LoadedData>>,
    pub drift: Option<Arc<DriftReport>>,
    /// The comparison, its gate judged as [`Review::gate`] says.
    pub comparison: Option<Comparison>,
    pub gate: Option<JudgedGate>,
    /// The focus model's explanation.
    pub explanation: Option<(String, Arc<Explanation>)>,
    pub signoffs: Vec<SignOff>,
    pub notes: Vec<ReviewNote>,
    /// The model card as the reviewers edited it, if they did.
    pub card: Option<ModelCard>,
    pub sensitive: Vec<String>,
    /// The prediction log monitored against the evaluation data, with the label of the
    /// model that wrote it (empty when the workspace has no model).
    pub monitor: Option<(String, Arc<MonitorReport>)>,
}

/// The workspace's gate (or the default) judged on the comparison's facts plus the speed and
/// robustness facts measured so far for the gated pair's baseline and candidate models.
pub fn judge_gate(p: &Planner, c: &Comparison) -> JudgedGate {
    let default_rules = p.ws.gate.is_none();
    let gate =
        p.ws.gate
            .clone()
            .unwrap_or_else(|| default_gate(c.task, !c.slices.is_empty()));
    let mut facts = c.facts.clone();
    let last = p.ws.models.len().saturating_sub(1);
    let (base, cand) = p.gate_pair().unwrap_or((0, last));
    for (role, i) in [("baseline", base), ("candidate", cand)] {
        if let Some(Output::Perf(r)) = p.done(p.perf(i)) {
            gate_facts::add_perf_facts(&mut facts, role, &r);
        }
        if let Some(Output::Robustness(r)) = p.done(p.robustness(i)) {
            gate_facts::add_robustness_facts(&mut facts, role, &r);
        }
    }
    let result = gate.evaluate(&facts);
    JudgedGate {
        gate,
        default_rules,
        result,
        facts,
    }
}

impl Review {
    /// Everything the planner's results hold for its workspace. `card` is the reviewers'
    /// edited card (the window's), if any.
    pub fn gather(p: &Planner, workspace: Option<String>, card: Option<ModelCard>) -> Review {
        let mut models = Vec::new();
        for (i, entry) in p.ws.models.iter().enumerate() {
            let Some(model) = p.src.model(&entry.path) else {
                continue;
            };
            models.push(ModelReview {
                label: entry.label.clone(),
                model,
                evaluation: p.evaluation_result(i),
                fairness: match p.done(p.fairness(i)) {
                    Some(Output::Fairness(f)) => Some(f),
                    _ => None,
                },
                perf: match p.done(p.perf(i)) {
                    Some(Output::Perf(r)) => Some(r),
                    _ => None,
                },
                robustness: match p.done(p.robustness(i)) {
                    Some(Output::Robustness(r)) => Some(r),
                    _ => None,
                },
            });
        }
        let focus_index = p.ws.focus_index();
        let focus =
            p.ws.models
                .get(focus_index)
                .and_then(|e| models.iter().position(|m| m.label == e.label))
                .unwrap_or(0);
        let (comparison, gate) = match p.done(p.comparison()) {
            Some(Output::Comparison(c)) => {
                let judged = judge_gate(p, &c);
                let mut c = (*c).clone();
                c.gate.default_rules = judged.default_rules;
                c.gate.result = judged.result.clone();
                (Some(c), Some(judged))
            }
            _ => (None, None),
        };
        let explanation = match p.done(p.explanation(focus_index)) {
            Some(Output::Explanation(e)) => {
                p.ws.models.get(focus_index).map(|m| (m.label.clone(), e))
            }
            _ => None,
        };
        Review {
            title: format!("Model review — {}", p.ws.name),
            workspace,
            models,
            focus,
            data: p.eval_data(),
            drift: match p.done(p.drift()) {
                Some(Output::Drift(d)) => Some(d),
                _ => None,
            },
            comparison,
            gate,
            explanation,
            signoffs: p.ws.signoffs.clone(),
            notes: p.ws.notes.clone(),
            card,
            sensitive: p.ws.roles.sensitive.clone(),
            monitor: p.monitor_result().map(|m| {
                let label = p
                    .monitor_model()
                    .and_then(|i| p.ws.models.get(i))
                    .map_or_else(String::new, |e| e.label.clone());
                (label, m)
            }),
        }
    }

    /// The report: its HTML, overall verdict, checks and warning counts, from one pass over
    /// the reviewed results. `generated` is RFC 3339 UTC.
    pub fn render(&self, generated: &str) -> Result<Rendered> {
        let sections = Sections::of(self);
        let input = self.report_input(generated, &sections);
        let monitoring = self.monitor.as_ref().map(|(label, m)| report::Monitoring {
            report: m.as_ref(),
            model: (!label.is_empty()).then_some(label.as_str()),
        });
        let warnings = report::warning_counts(&input, monitoring.as_ref().map(|m| m.report));
        let html = report::render_with(&input, monitoring)?;
        let (verdict, checks) = report::checks(&input);
        Ok(Rendered {
            html,
            verdict,
            checks,
            warnings,
        })
    }

    fn report_input<'a>(&'a self, generated: &str, s: &'a Sections) -> ReportInput<'a> {
        ReportInput {
            title: self.title.clone(),
            generated: generated.to_string(),
            workspace: self.workspace.clone(),
            models: self
                .models
                .iter()
                .map(|m| ModelSection {
                    label: &m.label,
                    info: Some(&m.model.info),
                    evaluation: m.evaluation.as_deref(),
                    fairness: m.fairness.as_deref().map(|f| &f.report),
                })
                .collect(),
            data: self.data.as_deref().map(|d| &d.info),
            drift: self.drift.as_deref(),
            card: self.card.as_ref(),
            gates: self
                .comparison
                .iter()
                .map(ext::comparison_gate)
                .chain(
                    self.monitor
                        .iter()
                        .map(|(_, m)| report::monitoring_check(m)),
                )
                .collect(),
            signoffs: &self.signoffs,
            notes: &self.notes,
            extensions: report::Extensions {
                explanation: s.explanation.as_ref(),
                comparison: s.comparison.as_ref(),
                performance: s.performance.as_ref(),
                robustness: s.robustness.as_ref(),
            },
        }
    }

    /// The focus model, when loaded.
    pub fn focus_model(&self) -> Option<&ModelReview> {
        self.models.get(self.focus)
    }

    /// The package evidence of the focus model, by [`package::EVIDENCE_KINDS`] name, as JSON.
    pub fn evidence(&self) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        let mut put = |name: &str, v: std::result::Result<Value, serde_json::Error>| {
            v.map(|v| out.push((name.to_string(), v))).map_err(|e| {
                EngineError::internal(format!("{name} evidence could not be encoded: {e}"))
            })
        };
        if let Some(m) = self.focus_model() {
            if let Some(e) = &m.evaluation {
                put("evaluation", serde_json::to_value(e.as_ref()))?;
            }
            if let Some(f) = &m.fairness {
                put("fairness", serde_json::to_value(&f.report))?;
            }
        }
        if let Some((_, e)) = &self.explanation {
            put("explain", serde_json::to_value(e.as_ref()))?;
        }
        if let Some(d) = &self.drift {
            put("drift", serde_json::to_value(d.as_ref()))?;
        }
        if let Some(c) = &self.comparison {
            put("compare", serde_json::to_value(c))?;
        }
        if let Some(m) = self.focus_model() {
            if let Some(r) = &m.perf {
                put("performance", serde_json::to_value(r.as_ref()))?;
            }
            if let Some(r) = &m.robustness {
                put("robustness", serde_json::to_value(r.as_ref()))?;
            }
        }
        Ok(out)
    }

    /// The files a package carries next to the model when the workspace monitors a
    /// prediction log: the Prometheus alerting rules and the Grafana dashboard for the series
    /// `assay monitor --prometheus` / `--serve` writes for that log (the same labels), as
    /// (path inside the package, text). Empty without a monitoring result.
    pub fn monitoring_files(&self) -> Result<Vec<(String, String)>> {
        use crate::engine::monitor::prometheus::{alert_rules, grafana_dashboard, ModelLabels};
        let Some((_, m)) = &self.monitor else {
            return Ok(Vec::new());
        };
        let labels = ModelLabels::from_report(m, None, None);
        let [rules, dashboard] = MONITORING_FILES;
        Ok(vec![
            (rules.to_string(), alert_rules(&labels)),
            (
                dashboard.to_string(),
                grafana_dashboard(&labels, &m.metrics)?,
            ),
        ])
    }

    /// The paths [`Review::monitoring_files`] would give, without writing anything.
    pub fn monitoring_file_names(&self) -> Vec<String> {
        if self.monitor.is_some() {
            MONITORING_FILES.iter().map(|f| (*f).to_string()).collect()
        } else {
            Vec::new()
        }
    }

    /// The names [`Review::evidence`] would give, without encoding anything (cheap enough
    /// for every frame of the window's Package page).
    pub fn evidence_names(&self) -> Vec<String> {
        let m = self.focus_model();
        [
            ("evaluation", m.is_some_and(|m| m.evaluation.is_some())),
            ("fairness", m.is_some_and(|m| m.fairness.is_some())),
            ("explain", self.explanation.is_some()),
            ("drift", self.drift.is_some()),
            ("compare", self.comparison.is_some()),
            ("performance", m.is_some_and(|m| m.perf.is_some())),
            ("robustness", m.is_some_and(|m| m.robustness.is_some())),
        ]
        .into_iter()
        .filter(|(_, present)| *present)
        .map(|(name, _)| name.to_string())
        .collect()
    }

    /// What a package of the focus model would carry, present or missing: the evidence, then
    /// the monitoring files when the workspace has a monitoring result.
    pub fn checklist(&self) -> Vec<ChecklistItem> {
        let mut items = package::checklist(&self.evidence_names());
        items.extend(
            self.monitoring_file_names()
                .into_iter()
                .map(|evidence| ChecklistItem {
                    evidence,
                    present: true,
                }),
        );
        items
    }

    /// The model card of the focus model drafted from the evidence (every failed fairness
    /// rule and every warning is stated).
    pub fn draft_card(&self) -> Result<Option<ModelCard>> {
        let Some(m) = self.focus_model() else {
            return Ok(None);
        };
        let evidence = self.evidence()?;
        let datasets = package::evidence_datasets(&evidence);
        Ok(Some(package::draft_card(
            &m.model.info,
            &evidence,
            &datasets,
            &self.sensitive,
            &self.signoffs,
        )))
    }
}

/// The files a package carries when the workspace monitors a prediction log, in order.
pub const MONITORING_FILES: [&str; 2] = ["monitoring/alert-rules.yml", "monitoring/grafana.json"];

/// The report's optional sections, built once from the review.
struct Sections {
    explanation: Option<report::CustomSection>,
    comparison: Option<report::CustomSection>,
    performance: Option<report::CustomSection>,
    robustness: Option<report::CustomSection>,
}

impl Sections {
    fn of(r: &Review) -> Sections {
        let perf: Vec<(&str, &PerfReport)> = r
            .models
            .iter()
            .filter_map(|m| m.perf.as_deref().map(|p| (m.label.as_str(), p)))
            .collect();
        let rob: Vec<(&str, &RobustnessReport)> = r
            .models
            .iter()
            .filter_map(|m| m.robustness.as_deref().map(|p| (m.label.as_str(), p)))
            .collect();
        Sections {
            explanation: r
                .explanation
                .as_ref()
                .map(|(label, e)| ext::explanation_section(label, e)),
            comparison: r.comparison.as_ref().map(ext::comparison_section),
            performance: (!perf.is_empty()).then(|| ext::performance_section(&perf)),
            robustness: (!rob.is_empty()).then(|| ext::robustness_section(&rob)),
        }
    }
}

//! The ONE place where a workspace (models, datasets, column roles, settings) becomes engine
//! options. Each method returns the [`Request`] of one analysis, or `None` while its inputs
//! are not loaded or its roles are not set; the window, `assay report` and `assay package`
//! all ask here.

use std::sync::Arc;

use serde::Serialize;

use super::run::CompareModel;
use super::{Key, Kind, LoadedData, Output, Request, Results, Sources, Task};
use crate::engine::compare::{self, CompareSettings};
use crate::engine::drift::over_time::{detect_timestamp, Period, Windows};
use crate::engine::drift::DriftOptions;
use crate::engine::evaluate::EvalOptions;
use crate::engine::explain::importance::ImportanceOptions;
use crate::engine::explain::pdp::PdpOptions;
use crate::engine::explain::surrogate::SurrogateOptions;
use crate::engine::explain::ExplainOptions;
use crate::engine::fairness::slices::SliceSearchOptions;
use crate::engine::fairness::FairnessOptions;
use crate::engine::metrics::bootstrap::BootstrapSettings;
use crate::engine::model::Model;
use crate::engine::perf::PerfOptions;
use crate::engine::robustness::RobustnessOptions;
use crate::engine::workspace::{ColumnKind, DatasetRole, ModelEntry, RoleIssue, Workspace};

/// Rows of one dataset an evaluation is restricted to (a weak slice). It remembers the
/// dataset it was made on: on another dataset it does not apply.
#[derive(Debug, Clone)]
pub struct RowFilter {
    pub label: String,
    /// SHA-256 of the dataset the row indices refer to.
    pub data_sha: String,
    /// 0-based row indices.
    pub rows: Arc<Vec<u32>>,
}

/// Turns a workspace into analysis requests.
pub struct Planner<'a> {
    pub ws: &'a Workspace,
    pub src: &'a dyn Sources,
    /// Finished results, for analyses that depend on another's answer (fairness needs to
    /// know the task the evaluation found).
    pub results: &'a dyn Results,
}

/// How a key's options are recorded: the engine options plus what the planner adds.
#[derive(Serialize)]
struct With<'a, T: Serialize, U: Serialize> {
    options: &'a T,
    extra: U,
}

impl<'a> Planner<'a> {
    pub fn new(ws: &'a Workspace, src: &'a dyn Sources, results: &'a dyn Results) -> Self {
        Planner { ws, src, results }
    }

    fn entry(&self, model: usize) -> Option<&'a ModelEntry> {
        self.ws.models.get(model)
    }

    fn loaded_model(&self, model: usize) -> Option<(&'a ModelEntry, Arc<Model>)> {
        let entry = self.entry(model)?;
        Some((entry, self.src.model(&entry.path)?))
    }

    fn dataset(&self, role: DatasetRole) -> Option<Arc<LoadedData>> {
        self.src.data(&self.ws.dataset(role)?.path)
    }

    /// The labelled dataset models are evaluated on.
    pub fn eval_data(&self) -> Option<Arc<LoadedData>> {
        self.dataset(DatasetRole::Evaluation)
    }

    /// Background rows for explanations: the reference (training-like) data when the
    /// workspace has it, else the evaluation data.
    pub fn background(&self) -> Option<Arc<LoadedData>> {
        let entry = self
            .ws
            .dataset(DatasetRole::Reference)
            .or_else(|| self.ws.dataset(DatasetRole::Evaluation))?;
        self.src.data(&entry.path)
    }

    fn bootstrap(&self) -> BootstrapSettings {
        BootstrapSettings {
            resamples: self.ws.settings.bootstrap,
            seed: self.ws.settings.seed,
            ..BootstrapSettings::default()
        }
    }

    /// The workspace's gated pair as 0-based (baseline, candidate) positions: `None` when it
    /// names no pair of the current models in order (then the first and the last are judged).
    pub fn gate_pair(&self) -> Option<(usize, usize)> {
        let (b, c) = self.ws.gate_pair.as_ref()?;
        let at = |l: &str| self.ws.models.iter().position(|m| m.label == l);
        let (b, c) = (at(b)?, at(c)?);
        (b < c).then_some((b, c))
    }

    /// Problems with the column roles of model `model` against the evaluation data (empty
    /// while either is not loaded).
    pub fn role_issues(&self, model: usize) -> Vec<RoleIssue> {
        let (Some((entry, m)), Some(data)) = (self.loaded_model(model), self.eval_data()) else {
            return Vec::new();
        };
        let columns: Vec<ColumnKind> = data
            .info
            .columns
            .iter()
            .map(|c| ColumnKind {
                name: c.name.clone(),
                numeric: c.numeric,
            })
            .collect();
        crate::engine::workspace::validate_roles(entry, &m.info, &self.ws.roles, &columns)
    }

    /// The evaluation options of model `model` (needs a target role).
    pub fn eval_options(&self, model: usize) -> Option<EvalOptions> {
        let entry = self.entry(model)?;
        let mut opts = EvalOptions::new(self.ws.roles.target.clone()?);
        opts.features = entry.features.clone();
        opts.positive_class = self.ws.roles.positive_class.clone();
        opts.threshold = self.ws.settings.threshold;
        opts.bootstrap = self.bootstrap();
        Some(opts)
    }

    /// Model `model` evaluated on the evaluation data, or on `rows` of it (a filter made on
    /// another dataset is ignored).
    pub fn evaluation(&self, model: usize, rows: Option<&RowFilter>) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let options = self.eval_options(model)?;
        if !self.role_issues(model).is_empty() {
            return None;
        }
        let rows = rows.filter(|r| r.data_sha == data.sha256());
        let slice = rows.map(|r| (r.label.clone(), row_digest(&r.rows)));
        let key = key_of(Kind::Evaluation, &m, &[&data], &options, &slice);
        Some(Request {
            key,
            title: match rows {
                Some(r) => format!("Evaluating {} on {}", entry.label, r.label),
                None => format!("Evaluating {}", entry.label),
            },
            task: Task::Evaluation {
                model: m,
                data,
                options,
                rows: rows.map(|r| r.rows.clone()),
            },
        })
    }

    /// The evaluation of model `model` on all rows, when it has finished.
    pub fn evaluation_result(
        &self,
        model: usize,
    ) -> Option<Arc<crate::engine::evaluate::Evaluation>> {
        match self.results.result(&self.evaluation(model, None)?.key)? {
            Output::Evaluation(e) => Some(e),
            _ => None,
        }
    }

    /// Fairness (per sensitive attribute and the intersection of the first two) and the
    /// weak-slice search of model `model`, once its evaluation is done (binary, multiclass
    /// and regression models alike).
    pub fn fairness(&self, model: usize) -> Option<Request> {
        let eval = self.evaluation(model, None)?;
        let slicings = self.ws.slicings();
        if slicings.is_empty() {
            return None;
        }
        // Wait for the evaluation (it checks the data and names the task).
        self.evaluation_result(model)?;
        let Task::Evaluation {
            model: m,
            data,
            options: eo,
            ..
        } = eval.task
        else {
            return None;
        };
        let mut options = FairnessOptions::new(eo.target.clone(), slicings);
        options.run.features = eo.features.clone();
        options.run.positive_class = eo.positive_class.clone();
        options.run.threshold = eo.threshold;
        options.bootstrap = eo.bootstrap.clone();
        options.policy = self.ws.fairness_policy.clone();
        let mut slices = SliceSearchOptions::new(eo.target.clone());
        slices.run = options.run.clone();
        let key = Key::new(
            Kind::Fairness,
            eval.key.models.clone(),
            eval.key.data.clone(),
            &With {
                options: &options,
                extra: &slices,
            },
        );
        let label = self.entry(model).map_or("", |e| e.label.as_str());
        Some(Request {
            key,
            title: format!("Fairness of {label}"),
            task: Task::Fairness {
                model: m,
                data,
                options,
                slices,
            },
        })
    }

    /// The model whose predictions drift compares: the focus model, when the workspace asks
    /// for it.
    fn drift_model(&self) -> Option<(&'a ModelEntry, Arc<Model>)> {
        if !self.ws.settings.drift_with_model {
            return None;
        }
        self.loaded_model(self.ws.focus_index())
    }

    /// Reference vs current data: every column, the focus model's predictions, drift over
    /// time (monthly windows of the timestamp role or a detected timestamp, else six row
    /// chunks) and data quality.
    pub fn drift(&self) -> Option<Request> {
        let reference = self.dataset(DatasetRole::Reference)?;
        let current = self.dataset(DatasetRole::Current)?;
        let model = self.drift_model();
        if self.ws.settings.drift_with_model && !self.ws.models.is_empty() && model.is_none() {
            // The focus model is still loading.
            return None;
        }
        let roles = &self.ws.roles;
        let has_time = roles.timestamp.is_some() || detect_timestamp(current.head()).is_some();
        let options = DriftOptions {
            target: roles.target.clone(),
            timestamp: roles.timestamp.clone(),
            windows: Some(if has_time {
                Windows::Period(Period::Month)
            } else {
                Windows::Rows(current.rows().div_ceil(6).max(1))
            }),
            features: model.as_ref().and_then(|(e, _)| e.features.clone()),
            ..DriftOptions::default()
        };
        let key = Key::new(
            Kind::Drift,
            model.iter().map(|(_, m)| m.info.sha256.clone()).collect(),
            vec![reference.sha256().to_string(), current.sha256().to_string()],
            &options,
        );
        Some(Request {
            key,
            title: "Drift: reference vs current".into(),
            task: Task::Drift {
                reference,
                current,
                model: model.map(|(_, m)| m),
                options,
                rows: None,
            },
        })
    }

    /// The monitoring reference (the evaluation data, as in `monitor`) against `rows` of the
    /// workspace dataset they were chosen on (a chunk of the log): every column in both, no
    /// over-time windows, no model.
    pub fn drift_rows(&self, rows: &RowFilter) -> Option<Request> {
        let reference = self.eval_data()?;
        let current = self.ws.datasets.iter().find_map(|d| {
            let l = self.src.data(&d.path)?;
            (l.sha256() == rows.data_sha).then_some(l)
        })?;
        let options = DriftOptions {
            target: self.ws.roles.target.clone(),
            timestamp: self.ws.roles.timestamp.clone(),
            ..DriftOptions::default()
        };
        let key = Key::new(
            Kind::Drift,
            Vec::new(),
            vec![reference.sha256().to_string(), current.sha256().to_string()],
            &With {
                options: &options,
                extra: (&rows.label, row_digest(&rows.rows)),
            },
        );
        Some(Request {
            key,
            title: format!("Drift: evaluation data vs {}", rows.label),
            task: Task::Drift {
                reference,
                current,
                model: None,
                options,
                rows: Some(rows.rows.clone()),
            },
        })
    }

    /// SHAP values of model `model` on the first rows of the evaluation data, with the
    /// workspace's explanation settings.
    pub fn explanation(&self, model: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let background = self.background()?;
        let s = &self.ws.settings.explain;
        let options = ExplainOptions {
            method: s.method,
            output_space: s.output_space,
            class: self.ws.roles.positive_class.clone(),
            rows: 0..s.rows.min(data.rows()).max(1),
            background_size: s.background,
            nsamples: Some(s.nsamples),
            seed: self.ws.settings.seed,
            ..ExplainOptions::default()
        };
        let key = key_of(
            Kind::Explanation,
            &m,
            &[&data, &background],
            &options,
            &entry.features,
        );
        Some(Request {
            key,
            title: format!("Explaining {}", entry.label),
            task: Task::Explanation {
                model: m,
                features: entry.features.clone(),
                data,
                background,
                options,
            },
        })
    }

    /// Partial dependence and ICE of `feature` for model `model` (first 1,000 rows).
    pub fn pdp(&self, model: usize, feature: &str) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let mut options = PdpOptions::new(feature);
        options.rows = Some(0..data.rows().min(1000));
        options.grid_resolution = 50;
        options.ice = true;
        let key = key_of(Kind::Pdp, &m, &[&data], &options, &entry.features);
        Some(Request {
            key,
            title: format!("Partial dependence of {feature}"),
            task: Task::Pdp {
                model: m,
                features: entry.features.clone(),
                data,
                options,
            },
        })
    }

    /// A local surrogate (LIME-style) of model `model` around 0-based data row `row`.
    pub fn surrogate(&self, model: usize, row: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let background = self.background()?;
        let options = SurrogateOptions {
            row,
            seed: self.ws.settings.seed,
            output_space: self.ws.settings.explain.output_space,
            ..SurrogateOptions::default()
        };
        let key = key_of(
            Kind::Surrogate,
            &m,
            &[&data, &background],
            &options,
            &entry.features,
        );
        Some(Request {
            key,
            title: format!("Local surrogate of row {}", row + 1),
            task: Task::Surrogate {
                model: m,
                features: entry.features.clone(),
                data,
                background,
                options,
            },
        })
    }

    /// Permutation importance of model `model` on the evaluation data.
    pub fn importance(&self, model: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let mut options = ImportanceOptions::new(self.ws.roles.target.clone()?);
        options.seed = self.ws.settings.seed;
        let key = key_of(Kind::Importance, &m, &[&data], &options, &entry.features);
        Some(Request {
            key,
            title: format!("Permutation importance of {}", entry.label),
            task: Task::Importance {
                model: m,
                features: entry.features.clone(),
                data,
                options,
            },
        })
    }

    /// The tree ensemble of model `model`, parsed (fails quietly for other models).
    pub fn forest(&self, model: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        Some(Request {
            key: Key::new(Kind::Forest, vec![m.info.sha256.clone()], Vec::new(), &()),
            title: format!("Reading trees of {}", entry.label),
            task: Task::Forest { model: m },
        })
    }

    /// Every workspace model on the evaluation data, side by side (the first is the
    /// baseline, the last the candidate). The promotion gate is judged by the review, so
    /// editing it does not recompute the comparison.
    pub fn comparison(&self) -> Option<Request> {
        if self.ws.models.len() < 2 {
            return None;
        }
        let data = self.eval_data()?;
        let mut models = Vec::new();
        for (i, entry) in self.ws.models.iter().enumerate() {
            let (_, m) = self.loaded_model(i)?;
            models.push(CompareModel {
                label: entry.label.clone(),
                model: m,
                features: entry.features.clone(),
            });
        }
        let roles = compare::Roles {
            target: self.ws.roles.target.clone()?,
            positive_class: self.ws.roles.positive_class.clone(),
            sensitive: self.ws.slicings(),
        };
        let settings = CompareSettings {
            threshold: self.ws.settings.threshold,
            bootstrap: self.bootstrap(),
            gate_pair: self.gate_pair(),
            ..CompareSettings::default()
        };
        let ids: Vec<(String, Option<Vec<String>>)> = models
            .iter()
            .map(|m| (m.label.clone(), m.features.clone()))
            .collect();
        let key = Key::new(
            Kind::Comparison,
            models.iter().map(|m| m.model.info.sha256.clone()).collect(),
            vec![data.sha256().to_string()],
            &With {
                options: &(&roles, &settings),
                extra: &ids,
            },
        );
        Some(Request {
            key,
            title: "Comparing models".into(),
            task: Task::Comparison {
                models,
                data,
                roles,
                settings,
            },
        })
    }

    /// Latency, throughput and memory of model `model` on rows of the evaluation data.
    pub fn perf(&self, model: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let options = PerfOptions::default();
        let key = key_of(Kind::Perf, &m, &[&data], &options, &entry.features);
        Some(Request {
            key,
            title: format!("Measuring speed of {}", entry.label),
            task: Task::Perf {
                model: m,
                features: entry.features.clone(),
                data,
                options,
            },
        })
    }

    /// Robustness checks of model `model` on a sample of the evaluation data.
    pub fn robustness(&self, model: usize) -> Option<Request> {
        let (entry, m) = self.loaded_model(model)?;
        let data = self.eval_data()?;
        let target = self.ws.roles.target.clone()?;
        let options = RobustnessOptions {
            rows: self.ws.settings.robustness_rows.max(1),
            seed: self.ws.settings.seed,
            positive_class: self.ws.roles.positive_class.clone(),
            threshold: self.ws.settings.threshold,
            monotonic: self.ws.monotonic.clone(),
            ..RobustnessOptions::default()
        };
        let key = key_of(
            Kind::Robustness,
            &m,
            &[&data],
            &options,
            (&target, &entry.features),
        );
        Some(Request {
            key,
            title: format!("Robustness of {}", entry.label),
            task: Task::Robustness {
                model: m,
                features: entry.features.clone(),
                data,
                target,
                options,
            },
        })
    }

    /// A finished result of `request`, if the cache has it.
    pub fn done(&self, request: Option<Request>) -> Option<Output> {
        self.results.result(&request?.key)
    }
}

/// The key of an analysis of one model on `data` with `options` (and what else it reads).
fn key_of(
    kind: Kind,
    model: &Model,
    data: &[&Arc<LoadedData>],
    options: &impl Serialize,
    extra: impl Serialize,
) -> Key {
    Key::new(
        kind,
        vec![model.info.sha256.clone()],
        data.iter().map(|d| d.sha256().to_string()).collect(),
        &With { options, extra },
    )
}

/// A short digest of row indices (the key of a sliced evaluation).
fn row_digest(rows: &[u32]) -> String {
    let bytes: Vec<u8> = rows.iter().flat_map(|r| r.to_le_bytes()).collect();
    crate::engine::hash::sha256_bytes(&bytes)
}

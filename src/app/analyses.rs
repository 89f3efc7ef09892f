//! On-demand analyses (explanations, PDP, permutation importance, the tree viewer's forest,
//! comparisons, speed and robustness): their cache keys, the jobs that compute them through
//! the engine, and one cache for all of them. The pages ask; nothing here draws.

use std::sync::Arc;

use std::collections::BTreeMap;

use crate::engine::compare::evidence;
use crate::engine::compare::gate::{Gate, GateResult};
use crate::engine::compare::{self, default_gate, CompareSettings, Comparison, ModelInput};
use crate::engine::explain::importance::{self, Importance, ImportanceOptions};
use crate::engine::explain::pdp::{self, PartialDependence, PdpOptions};
use crate::engine::explain::surrogate::{self, Surrogate, SurrogateOptions};
use crate::engine::explain::tree::Forest;
use crate::engine::explain::{explain, ExplainOptions, Explanation, Method, OutputSpace};
use crate::engine::perf::{measure, PerfOptions, PerfReport};
use crate::engine::robustness::{self, RobustnessOptions, RobustnessReport};
use crate::engine::workspace::{DatasetRole, ModelEntry};

use super::jobs::{JobKey, Output};
use super::state::{EvalKey, Slot, State};

/// A finished on-demand analysis.
#[derive(Clone)]
pub enum Analysis {
    Explanation(Arc<Explanation>),
    Pdp(Arc<PartialDependence>),
    Importance(Arc<Importance>),
    Forest(Arc<Forest>),
    Comparison(Arc<Comparison>),
    Perf(Arc<PerfReport>),
    Robustness(Arc<RobustnessReport>),
    Surrogate(Arc<Surrogate>),
}

/// Which analysis a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Explain,
    Pdp,
    Importance,
    Forest,
    Compare,
    Perf,
    Robustness,
    Surrogate,
}

/// The Explain page's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainSettings {
    /// `None`: automatic (TreeSHAP for tree ensembles, else exact or Kernel).
    pub method: Option<Method>,
    pub output_space: OutputSpace,
    pub rows: usize,
    pub background: usize,
    pub nsamples: usize,
}

impl Default for ExplainSettings {
    fn default() -> Self {
        Self {
            method: None,
            output_space: OutputSpace::Probability,
            rows: 200,
            background: 100,
            nsamples: 2048,
        }
    }
}

fn key(kind: Kind, model_sha: &str, data_sha: &str, settings: String) -> JobKey {
    JobKey::Analysis(
        kind,
        EvalKey {
            model_sha: model_sha.to_string(),
            data_sha: data_sha.to_string(),
            settings,
        },
    )
}

impl State {
    pub fn analysis(&self, key: &JobKey) -> Option<&Slot<Analysis>> {
        self.analyses.get(key)
    }

    /// Background rows for explanations: the reference (training-like) dataset when the
    /// workspace has one, else the evaluation data itself.
    pub fn background_path(&self) -> Option<std::path::PathBuf> {
        self.workspace
            .dataset(DatasetRole::Reference)
            .or_else(|| self.workspace.dataset(DatasetRole::Evaluation))
            .map(|d| d.path.clone())
    }
}

/// The explanation of `entry` with the page's settings, when the inputs are loaded.
pub fn explain_key(state: &State, entry: &ModelEntry) -> Option<(JobKey, ExplainOptions)> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    let bg = state.data(&state.background_path()?)?;
    let s = &state.explain_settings;
    let mut opts = ExplainOptions {
        method: s.method,
        output_space: s.output_space,
        rows: 0..s.rows.min(data.ds.rows()).max(1),
        background_size: s.background,
        nsamples: Some(s.nsamples),
        seed: state.workspace.settings.seed,
        ..ExplainOptions::default()
    };
    if opts.method.is_none() && state.forest_of(entry).is_some() {
        opts.method = Some(Method::Tree);
    }
    let settings = format!(
        "explain|{:?}|{:?}|{:?}|{}|{}|{:?}|{}|{}",
        opts.method,
        opts.output_space,
        opts.rows,
        opts.background_size,
        bg.ds.sha256,
        opts.nsamples,
        opts.seed,
        entry
            .features
            .as_ref()
            .map(|f| f.join(","))
            .unwrap_or_default()
    );
    Some((
        key(Kind::Explain, &model.info.sha256, &data.ds.sha256, settings),
        opts,
    ))
}

/// Starts `entry`'s explanation unless cached or running.
pub fn request_explanation(state: &mut State, entry: &ModelEntry) {
    let Some((key, opts)) = explain_key(state, entry) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some((model, data, bg)) = model_data_background(state, entry) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Explaining {}", entry.label),
        move |progress| {
            let e = explain(
                &model,
                features.as_deref(),
                &data.ds,
                &bg.ds,
                &opts,
                progress,
            )?;
            Ok(Analysis::Explanation(Arc::new(e)))
        },
    );
}

/// The forest of a tree-ensemble model (parsed once per model), or `None` when the model is
/// not a plain tree ensemble or not parsed yet.
impl State {
    pub fn forest_key(&self, entry: &ModelEntry) -> Option<JobKey> {
        let model = self.model(&entry.path)?;
        Some(key(Kind::Forest, &model.info.sha256, "", String::new()))
    }

    pub fn forest_of(&self, entry: &ModelEntry) -> Option<&Arc<Forest>> {
        match self.analyses.get(&self.forest_key(entry)?)? {
            Slot::Ready(Analysis::Forest(f)) => Some(f),
            _ => None,
        }
    }
}

/// Parses `entry`'s tree ensemble, if it is one (quietly: not being a tree is no error).
pub fn request_forest(state: &mut State, entry: &ModelEntry) {
    let Some(key) = state.forest_key(entry) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some(model) = state.model(&entry.path).cloned() else {
        return;
    };
    state.analyses.insert(key.clone(), Slot::Loading);
    state.jobs.spawn(
        key,
        format!("Reading trees of {}", entry.label),
        move |_| {
            let forest = Forest::from_model(&model)
                .map_err(|e| crate::engine::EngineError::usage(e.to_string()))?;
            Ok(Output::Analysis(Analysis::Forest(Arc::new(forest))))
        },
    );
}

/// Partial dependence and ICE of `feature` for `entry`.
pub fn pdp_key(state: &State, entry: &ModelEntry, feature: &str) -> Option<(JobKey, PdpOptions)> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    let mut opts = PdpOptions::new(feature);
    opts.rows = Some(0..data.ds.rows().min(1000));
    opts.grid_resolution = 50;
    opts.ice = true;
    let settings = format!("pdp|{feature}|{:?}|{:?}", entry.features, opts.rows);
    Some((
        key(Kind::Pdp, &model.info.sha256, &data.ds.sha256, settings),
        opts,
    ))
}

pub fn request_pdp(state: &mut State, entry: &ModelEntry, feature: &str) {
    let Some((key, opts)) = pdp_key(state, entry, feature) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some((model, data)) = model_and_data(state, entry) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Partial dependence of {feature}"),
        move |progress| {
            let r =
                pdp::partial_dependence(&model, features.as_deref(), &data.ds, &opts, progress)?;
            Ok(Analysis::Pdp(Arc::new(r)))
        },
    );
}

/// A local surrogate (LIME-style) of `entry` around 0-based data row `row`.
pub fn surrogate_key(
    state: &State,
    entry: &ModelEntry,
    row: usize,
) -> Option<(JobKey, SurrogateOptions)> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    let bg = state.data(&state.background_path()?)?;
    let opts = SurrogateOptions {
        row,
        seed: state.workspace.settings.seed,
        output_space: state.explain_settings.output_space,
        ..SurrogateOptions::default()
    };
    let settings = format!(
        "surrogate|{row}|{}|{:?}|{}|{:?}",
        bg.ds.sha256, opts.output_space, opts.seed, entry.features
    );
    Some((
        key(
            Kind::Surrogate,
            &model.info.sha256,
            &data.ds.sha256,
            settings,
        ),
        opts,
    ))
}

pub fn request_surrogate(state: &mut State, entry: &ModelEntry, row: usize) {
    let Some((key, opts)) = surrogate_key(state, entry, row) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some((model, data, bg)) = model_data_background(state, entry) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Local surrogate of row {}", row + 1),
        move |progress| {
            let r = surrogate::surrogate(
                &model,
                features.as_deref(),
                &data.ds,
                &bg.ds,
                &opts,
                progress,
            )?;
            Ok(Analysis::Surrogate(Arc::new(r)))
        },
    );
}

/// Permutation importance of `entry` on the evaluation data.
pub fn importance_key(state: &State, entry: &ModelEntry) -> Option<(JobKey, ImportanceOptions)> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    let target = state.workspace.roles.target.clone()?;
    let mut opts = ImportanceOptions::new(target);
    opts.seed = state.workspace.settings.seed;
    let settings = format!("importance|{:?}|{:?}", opts, entry.features);
    Some((
        key(
            Kind::Importance,
            &model.info.sha256,
            &data.ds.sha256,
            settings,
        ),
        opts,
    ))
}

pub fn request_importance(state: &mut State, entry: &ModelEntry) {
    let Some((key, opts)) = importance_key(state, entry) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some((model, data)) = model_and_data(state, entry) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Permutation importance of {}", entry.label),
        move |progress| {
            let r = importance::permutation_importance(
                &model,
                features.as_deref(),
                &data.ds,
                &opts,
                progress,
            )?;
            Ok(Analysis::Importance(Arc::new(r)))
        },
    );
}

/// The comparison of every workspace model on the evaluation data.
pub fn compare_key(state: &State) -> Option<(JobKey, compare::Roles, CompareSettings)> {
    if state.workspace.models.len() < 2 {
        return None;
    }
    let data = state.data(state.eval_data_path()?)?;
    let mut shas = Vec::new();
    for m in &state.workspace.models {
        shas.push(state.model(&m.path)?.info.sha256.clone());
    }
    let roles = compare::Roles {
        target: state.workspace.roles.target.clone()?,
        positive_class: state.workspace.roles.positive_class.clone(),
        sensitive: state.workspace.slicings(),
    };
    let settings = CompareSettings {
        threshold: state.workspace.settings.threshold,
        bootstrap: crate::engine::metrics::bootstrap::BootstrapSettings {
            resamples: state.workspace.settings.bootstrap,
            seed: state.workspace.settings.seed,
            ..Default::default()
        },
        ..CompareSettings::default()
    };
    let labels: Vec<String> = state
        .workspace
        .models
        .iter()
        .map(|m| m.label.clone())
        .collect();
    let text = format!(
        "compare|{}|{labels:?}|{:?}|{:?}|{}|{}|{}",
        shas.join(","),
        roles.positive_class,
        roles.sensitive,
        settings.threshold,
        settings.bootstrap.resamples,
        settings.bootstrap.seed
    );
    Some((
        key(Kind::Compare, &shas.join("+"), &data.ds.sha256, text),
        roles,
        settings,
    ))
}

pub fn request_compare(state: &mut State) {
    let Some((key, roles, settings)) = compare_key(state) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let Some(data) = state.eval_data_path().and_then(|p| state.data(p)).cloned() else {
        return;
    };
    let mut models = Vec::new();
    for m in &state.workspace.models {
        let Some(model) = state.model(&m.path).cloned() else {
            return;
        };
        models.push((m.label.clone(), model, m.features.clone()));
    }
    spawn(state, key, "Comparing models".into(), move |progress| {
        let inputs: Vec<ModelInput> = models
            .iter()
            .map(|(label, model, features)| ModelInput {
                label: label.clone(),
                model,
                features: features.clone(),
            })
            .collect();
        let c = compare::compare(&inputs, &data.ds, &roles, &settings, progress)?;
        Ok(Analysis::Comparison(Arc::new(c)))
    });
}

/// Speed of `entry` on rows of the evaluation data.
pub fn perf_key(state: &State, entry: &ModelEntry) -> Option<JobKey> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    Some(key(
        Kind::Perf,
        &model.info.sha256,
        &data.ds.sha256,
        format!("perf|{:?}", entry.features),
    ))
}

pub fn request_perf(state: &mut State, entry: &ModelEntry) {
    let Some(key) = perf_key(state, entry) else {
        return;
    };
    if state.jobs.is_running(&key) {
        return;
    }
    let Some((model, data)) = model_and_data(state, entry) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Measuring speed of {}", entry.label),
        move |progress| {
            let r = measure(
                &model,
                features.as_deref(),
                &data.ds,
                &PerfOptions::default(),
                progress,
            )?;
            Ok(Analysis::Perf(Arc::new(r)))
        },
    );
}

/// Robustness of `entry` on a sample of the evaluation data.
pub fn robustness_key(state: &State, entry: &ModelEntry) -> Option<(JobKey, RobustnessOptions)> {
    let model = state.model(&entry.path)?;
    let data = state.data(state.eval_data_path()?)?;
    state.workspace.roles.target.as_ref()?;
    let opts = RobustnessOptions {
        seed: state.workspace.settings.seed,
        positive_class: state.workspace.roles.positive_class.clone(),
        threshold: state.workspace.settings.threshold,
        monotonic: state.workspace.monotonic.clone(),
        ..RobustnessOptions::default()
    };
    let settings = format!(
        "robustness|{:?}|{}|{:?}|{}|{:?}",
        entry.features, opts.seed, opts.positive_class, opts.threshold, opts.monotonic
    );
    Some((
        key(
            Kind::Robustness,
            &model.info.sha256,
            &data.ds.sha256,
            settings,
        ),
        opts,
    ))
}

pub fn request_robustness(state: &mut State, entry: &ModelEntry) {
    let Some((key, opts)) = robustness_key(state, entry) else {
        return;
    };
    if state.analyses.contains_key(&key) {
        return;
    }
    let (Some((model, data)), Some(target)) = (
        model_and_data(state, entry),
        state.workspace.roles.target.clone(),
    ) else {
        return;
    };
    let features = entry.features.clone();
    spawn(
        state,
        key,
        format!("Robustness of {}", entry.label),
        move |progress| {
            let r = robustness::run(
                &model,
                features.as_deref(),
                &data.ds,
                &target,
                &opts,
                progress,
            )?;
            Ok(Analysis::Robustness(Arc::new(r)))
        },
    );
}

/// `entry`'s loaded model and the loaded evaluation dataset.
fn model_and_data(
    state: &State,
    entry: &ModelEntry,
) -> Option<(
    Arc<crate::engine::model::Model>,
    Arc<super::jobs::LoadedData>,
)> {
    Some((
        state.model(&entry.path)?.clone(),
        state.data(state.eval_data_path()?)?.clone(),
    ))
}

/// [`model_and_data`] and the loaded background dataset.
fn model_data_background(
    state: &State,
    entry: &ModelEntry,
) -> Option<(
    Arc<crate::engine::model::Model>,
    Arc<super::jobs::LoadedData>,
    Arc<super::jobs::LoadedData>,
)> {
    let (model, data) = model_and_data(state, entry)?;
    let bg = state.data(&state.background_path()?)?.clone();
    Some((model, data, bg))
}

fn spawn(
    state: &mut State,
    key: JobKey,
    title: String,
    work: impl FnOnce(&crate::engine::Progress) -> crate::engine::Result<Analysis> + Send + 'static,
) {
    state.analyses.insert(key.clone(), Slot::Loading);
    state.jobs.spawn(key, title, move |progress| {
        work(progress).map(Output::Analysis)
    });
}

/// Audit-log text of a finished analysis.
pub fn describe(a: &Analysis) -> (&'static str, serde_json::Value) {
    use serde_json::json;
    match a {
        Analysis::Explanation(e) => (
            "explained",
            json!({"method": e.method, "rows": e.row_indices.len(), "additivity_max_abs_error": e.additivity_max_abs_error}),
        ),
        Analysis::Pdp(p) => ("partial_dependence", json!({"features": p.features})),
        Analysis::Surrogate(s) => ("local_surrogate", json!({"row": s.row, "r2": s.r2})),
        Analysis::Importance(_) => ("permutation_importance", json!({})),
        Analysis::Forest(f) => ("trees_read", json!({"trees": f.trees.len()})),
        Analysis::Comparison(c) => (
            "compared",
            json!({"models": c.models.iter().map(|m| m.label.clone()).collect::<Vec<_>>(), "gate_passed": c.gate.result.passed}),
        ),
        Analysis::Perf(p) => (
            "perf_measured",
            json!({"model": p.model.sha256, "p95_latency_ms": p.p95_latency_ms}),
        ),
        Analysis::Robustness(r) => (
            "robustness",
            json!({"model": r.model.sha256, "max_noise_flip_rate": r.max_noise_flip_rate}),
        ),
    }
}

/// The workspace's gate (or the default) judged on the comparison's facts plus the speed and
/// robustness facts measured so far for the baseline (first) and candidate (last) models.
pub fn gate_now(state: &State, c: &Comparison) -> (Gate, GateResult, BTreeMap<String, f64>) {
    let gate = state
        .workspace
        .gate
        .clone()
        .unwrap_or_else(|| default_gate(c.task, !c.slices.is_empty()));
    let mut facts = c.facts.clone();
    let models = &state.workspace.models;
    for (role, entry) in [("baseline", models.first()), ("candidate", models.last())] {
        let Some(entry) = entry else { continue };
        if let Some(Slot::Ready(Analysis::Perf(p))) =
            perf_key(state, entry).and_then(|k| state.analysis(&k))
        {
            evidence::add_perf_facts(&mut facts, role, p);
        }
        if let Some(Slot::Ready(Analysis::Robustness(r))) =
            robustness_key(state, entry).and_then(|(k, _)| state.analysis(&k))
        {
            evidence::add_robustness_facts(&mut facts, role, r);
        }
    }
    let result = gate.evaluate(&facts);
    (gate, result, facts)
}

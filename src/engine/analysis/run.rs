//! A planned analysis and the one engine call that computes it. A [`Request`] owns shared
//! handles to its inputs, so the app can move it into a job thread and the CLI can run it in
//! place; both get the same [`Output`].

use std::sync::Arc;

use super::{FairnessResult, Key, LoadedData, Output};
use crate::engine::compare::{self, CompareSettings, ModelInput};
use crate::engine::data;
use crate::engine::data::Dataset;
use crate::engine::drift::stream::drift_streamed;
use crate::engine::drift::{drift, DriftOptions};
use crate::engine::evaluate::{evaluate, EvalOptions};
use crate::engine::evaluate_stream::evaluate_streamed;
use crate::engine::explain::importance::{self, ImportanceOptions};
use crate::engine::explain::pdp::{self, PdpOptions};
use crate::engine::explain::surrogate::{self, SurrogateOptions};
use crate::engine::explain::tree::Forest;
use crate::engine::explain::{explain, ExplainOptions};
use crate::engine::fairness::slices::{find_weak_slices, SliceSearchOptions};
use crate::engine::fairness::slices_stream::fairness_and_slices_streamed;
use crate::engine::fairness::{fairness, FairnessOptions};
use crate::engine::model::Model;
use crate::engine::monitor::{self, MonitorOptions};
use crate::engine::perf::{measure, PerfOptions};
use crate::engine::robustness::{self, RobustnessOptions};
use crate::engine::{EngineError, Progress, Result};

/// One model of a comparison.
#[derive(Clone)]
pub struct CompareModel {
    pub label: String,
    pub model: Arc<Model>,
    pub features: Option<Vec<String>>,
}

/// What to compute, with its inputs and options (built only by the planner).
#[derive(Clone)]
pub enum Task {
    Evaluation {
        model: Arc<Model>,
        data: Arc<LoadedData>,
        options: EvalOptions,
        /// Only these 0-based rows of `data` (a weak slice), when set.
        rows: Option<Arc<Vec<u32>>>,
    },
    Fairness {
        model: Arc<Model>,
        data: Arc<LoadedData>,
        options: FairnessOptions,
        slices: SliceSearchOptions,
    },
    Drift {
        reference: Arc<LoadedData>,
        current: Arc<LoadedData>,
        model: Option<Arc<Model>>,
        options: DriftOptions,
        /// Only these 0-based rows of `current` (a monitoring chunk), when set.
        rows: Option<Arc<Vec<u32>>>,
    },
    Explanation {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        background: Arc<LoadedData>,
        options: ExplainOptions,
    },
    Pdp {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        options: PdpOptions,
    },
    Surrogate {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        background: Arc<LoadedData>,
        options: SurrogateOptions,
    },
    Importance {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        options: ImportanceOptions,
    },
    Forest {
        model: Arc<Model>,
    },
    Comparison {
        models: Vec<CompareModel>,
        data: Arc<LoadedData>,
        roles: compare::Roles,
        settings: CompareSettings,
    },
    Perf {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        options: PerfOptions,
    },
    Robustness {
        model: Arc<Model>,
        features: Option<Vec<String>>,
        data: Arc<LoadedData>,
        target: String,
        options: RobustnessOptions,
    },
    Monitor {
        /// The labelled reference (the evaluation data).
        reference: Arc<LoadedData>,
        /// The prediction log.
        log: Arc<LoadedData>,
        /// The model that wrote the log: scores for files without score columns.
        model: Option<Arc<Model>>,
        options: MonitorOptions,
    },
}

/// A planned analysis: its cache key, a title for the status bar, and what to run.
#[derive(Clone)]
pub struct Request {
    pub key: Key,
    pub title: String,
    pub task: Task,
}

impl Request {
    /// Computes the analysis (long: call it in a job or with a progress display).
    pub fn run(self, progress: &Progress) -> Result<Output> {
        self.task.run(progress)
    }
}

impl Task {
    pub fn run(self, progress: &Progress) -> Result<Output> {
        Ok(match self {
            Task::Evaluation {
                model,
                data,
                options,
                rows,
            } => {
                let eval = match rows {
                    Some(rows) => {
                        let ds = data.frame(progress)?;
                        evaluate(&model, &data::subset(&ds, &rows)?, &options, progress)?
                    }
                    None => streamed_or_whole(
                        &data,
                        |path| evaluate_streamed(&model, path, &options, None, progress),
                        |ds| evaluate(&model, ds, &options, progress),
                        progress,
                    )?,
                };
                Output::Evaluation(Arc::new(eval))
            }
            Task::Fairness {
                model,
                data,
                options,
                slices,
            } => {
                let result = streamed_or_whole(
                    &data,
                    |path| {
                        let both = fairness_and_slices_streamed(
                            &model, path, &options, &slices, None, progress,
                        )?;
                        Ok(both.map(|(report, slices)| FairnessResult { report, slices }))
                    },
                    |ds| {
                        let report = fairness(&model, ds, &options, progress)?;
                        progress.set(0.9, "searching weak slices");
                        let slices = find_weak_slices(&model, ds, &slices, progress)?;
                        Ok(FairnessResult { report, slices })
                    },
                    progress,
                )?;
                Output::Fairness(Arc::new(result))
            }
            Task::Drift {
                reference,
                current,
                model,
                options,
                rows,
            } => {
                let report = match &rows {
                    None => streamed_or_whole(
                        &current,
                        |path| {
                            drift_streamed(
                                reference.path(),
                                path,
                                model.as_deref(),
                                &options,
                                None,
                                progress,
                            )
                        },
                        |ds| {
                            let reference = reference.frame(progress)?;
                            drift(&reference, ds, model.as_deref(), &options, progress)
                        },
                        progress,
                    )?,
                    Some(rows) => drift(
                        &*reference.frame(progress)?,
                        &data::subset(&*current.frame(progress)?, rows)?,
                        model.as_deref(),
                        &options,
                        progress,
                    )?,
                };
                Output::Drift(Arc::new(report))
            }
            Task::Explanation {
                model,
                features,
                data,
                background,
                options,
            } => Output::Explanation(Arc::new(explain(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &*background.frame(progress)?,
                &options,
                progress,
            )?)),
            Task::Pdp {
                model,
                features,
                data,
                options,
            } => Output::Pdp(Arc::new(pdp::partial_dependence(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &options,
                progress,
            )?)),
            Task::Surrogate {
                model,
                features,
                data,
                background,
                options,
            } => Output::Surrogate(Arc::new(surrogate::surrogate(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &*background.frame(progress)?,
                &options,
                progress,
            )?)),
            Task::Importance {
                model,
                features,
                data,
                options,
            } => Output::Importance(Arc::new(importance::permutation_importance(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &options,
                progress,
            )?)),
            Task::Forest { model } => {
                // Not being a tree ensemble is an answer about the model, not a failure.
                let forest =
                    Forest::from_model(&model).map_err(|e| EngineError::usage(e.to_string()))?;
                Output::Forest(Arc::new(forest))
            }
            Task::Comparison {
                models,
                data,
                roles,
                settings,
            } => {
                let inputs: Vec<ModelInput> = models
                    .iter()
                    .map(|m| ModelInput {
                        label: m.label.clone(),
                        model: &m.model,
                        features: m.features.clone(),
                    })
                    .collect();
                Output::Comparison(Arc::new(compare::compare(
                    &inputs,
                    &*data.frame(progress)?,
                    &roles,
                    &settings,
                    progress,
                )?))
            }
            Task::Perf {
                model,
                features,
                data,
                options,
            } => Output::Perf(Arc::new(measure(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &options,
                progress,
            )?)),
            Task::Robustness {
                model,
                features,
                data,
                target,
                options,
            } => Output::Robustness(Arc::new(robustness::run(
                &model,
                features.as_deref(),
                &*data.frame(progress)?,
                &target,
                &options,
                progress,
            )?)),
            Task::Monitor {
                reference,
                log,
                model,
                options,
            } => {
                let reference = reference.frame(progress)?;
                // A log read on demand is read by columns, not loaded whole; when that read
                // fails, the whole load's report says why it was loaded whole.
                let fell_back = std::cell::Cell::new(None);
                Output::Monitor(Arc::new(streamed_or_whole(
                    &log,
                    |path| {
                        let out = monitor::run_file_by_columns(
                            &reference,
                            path,
                            model.as_deref(),
                            &options,
                            progress,
                        )?;
                        Ok(match out {
                            monitor::ByColumns::Report(report) => Some(*report),
                            monitor::ByColumns::LoadWhole(warning) => {
                                fell_back.set(warning);
                                None
                            }
                        })
                    },
                    |log| {
                        let mut report = monitor::run(
                            &reference,
                            log,
                            None,
                            model.as_deref(),
                            &options,
                            progress,
                        )?;
                        report.warnings.extend(fell_back.take());
                        Ok(report)
                    },
                    progress,
                )?))
            }
        })
    }
}

/// `whole` on the frame when it is held; else `stream` on the file (bounded memory), and when
/// the streamed run cannot take the file (`Ok(None)`), `whole` on the file loaded now.
fn streamed_or_whole<T>(
    data: &LoadedData,
    stream: impl FnOnce(&std::path::Path) -> Result<Option<T>>,
    whole: impl FnOnce(&Dataset) -> Result<T>,
    progress: &Progress,
) -> Result<T> {
    if let Some(ds) = data.in_memory() {
        return whole(ds);
    }
    match stream(data.path())? {
        Some(out) => Ok(out),
        None => whole(&*data.frame(progress)?),
    }
}

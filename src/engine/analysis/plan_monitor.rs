//! The planner's monitoring method (part of [`Planner`], kept in its own file): the
//! workspace's prediction log (dataset role `log`) against the evaluation data, with the
//! monitoring columns and chunking of `settings.monitor`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Key, Kind, LoadedData, Planner, Request, Task};
use crate::engine::monitor::{CalibrationChoice, Metric, MonitorOptions};
use crate::engine::workspace::DatasetRole;

impl Planner<'_> {
    /// Index into the workspace's models of the model that wrote the log: the one
    /// `settings.monitor.model` names (none when it names no workspace model), else the focus
    /// model.
    pub fn monitor_model(&self) -> Option<usize> {
        match &self.ws.settings.monitor.model {
            Some(label) => self.ws.models.iter().position(|m| &m.label == label),
            None => (!self.ws.models.is_empty()).then(|| self.ws.focus_index()),
        }
    }

    /// The monitoring options for `reference` and `log` (needs the target role). A prediction
    /// column is used only when both files have it (else: score ≥ 0.5); unknown metric names
    /// fall back to the default metrics.
    pub fn monitor_options(
        &self,
        reference: &LoadedData,
        log: &LoadedData,
        features: Option<Vec<String>>,
    ) -> Option<MonitorOptions> {
        let s = &self.ws.settings.monitor;
        let in_both = |c: &Option<String>| {
            c.clone()
                .filter(|c| reference.has_column(c) && log.has_column(c))
        };
        Some(MonitorOptions {
            target: self.ws.roles.target.clone()?,
            score: s.score.clone(),
            scores: s
                .scores
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            prediction: in_both(&s.prediction),
            timestamp: s.timestamp.clone(),
            id: None,
            chunking: s.chunking,
            metrics: Metric::parse_list(&s.metrics).unwrap_or_default(),
            thresholds: BTreeMap::new(),
            features,
            drift: true,
            calibration: CalibrationChoice::Auto,
        })
    }

    /// The prediction log monitored against the evaluation data: CBPE estimates, realized
    /// performance where the log has labels, drift per chunk, alerts. `None` without a log,
    /// evaluation data or target, while the writing model is loading, or when
    /// `settings.monitor.model` names no workspace model.
    pub fn monitor(&self) -> Option<Request> {
        let log = self.src.data(&self.ws.dataset(DatasetRole::Log)?.path)?;
        let reference = self.eval_data()?;
        let (model, features, label) = if self.ws.models.is_empty() {
            (None, None, String::new())
        } else {
            let i = self.monitor_model()?;
            let entry = self.ws.models.get(i)?;
            let m = self.src.model(&entry.path)?;
            (Some(m), entry.features.clone(), entry.label.clone())
        };
        let options = self.monitor_options(&reference, &log, features)?;
        let key = Key::new(
            Kind::Monitor,
            model.iter().map(|m| m.info.sha256.clone()).collect(),
            vec![reference.sha256().to_string(), log.sha256().to_string()],
            &options,
        );
        Some(Request {
            key,
            title: if label.is_empty() {
                "Monitoring the prediction log".into()
            } else {
                format!("Monitoring the log of {label}")
            },
            task: Task::Monitor {
                reference,
                log,
                model,
                options,
            },
        })
    }

    /// The finished monitoring result, if any.
    pub fn monitor_result(&self) -> Option<Arc<crate::engine::monitor::MonitorReport>> {
        match self.done(self.monitor())? {
            super::Output::Monitor(m) => Some(m),
            _ => None,
        }
    }
}

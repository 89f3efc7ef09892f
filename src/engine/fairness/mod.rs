//! Bias slices: per-group metrics for one or more slicings (a slicing is one sensitive column
//! or the intersection of several), fairlearn 0.15 `MetricFrame` summaries and disparities,
//! stratified bootstrap intervals, a fairness policy judged with those intervals, and weak-
//! slice discovery ([`slices`]). The model runs once; every slicing reuses its outcomes.

pub mod boot;
pub mod groups;
pub mod policy;
pub mod run;
pub mod slices;
pub mod slices_stream;
pub mod stats;
pub mod stream;

use crate::engine::Warning;
use std::collections::BTreeMap;
use std::path::Path;

use serde::ser::SerializeMap;
use serde::Serialize;

use self::groups::{check_group_count, column_groups, intersect, Binning, Grouping};
use self::policy::{judge, Policy, RuleResult, Scope, Verdict};
pub use self::policy::{policy_names, task_policy_names};
use self::run::{run_model, RunOptions};
use self::stats::{compute, Outcomes, DISPARITIES, STATS};
use super::data::{self, Dataset};
use super::error::{EngineError, Result};
use super::evaluate::{DataRef, ModelRef, Task};
use super::metrics::bootstrap::BootstrapSettings;
use super::model::Model;
use super::progress::Progress;

#[derive(Debug, Clone, serde::Serialize)]
pub struct FairnessOptions {
    pub run: RunOptions,
    /// One entry per slicing; several columns = their intersection.
    pub slicings: Vec<Vec<String>>,
    pub binning: Binning,
    pub bootstrap: BootstrapSettings,
    /// Groups smaller than this are flagged `too_small`.
    pub min_group_size: usize,
    /// `None`: [`Policy::default_for`] the task.
    pub policy: Option<Policy>,
    /// A slicing with more groups is refused before anything is allocated for it (bin the
    /// column, or raise the limit).
    pub max_groups: usize,
}

/// Default of [`FairnessOptions::max_groups`].
pub const DEFAULT_MAX_GROUPS: usize = 1000;

/// Most groups × bootstrap resamples one slicing may hold in memory (each replicate keeps
/// every group's metrics): 1000 groups with 1000 resamples, or 100 with 20,000.
pub const MAX_GROUP_REPLICATES: usize = 2_000_000;

impl FairnessOptions {
    pub fn new(target: impl Into<String>, slicings: Vec<Vec<String>>) -> Self {
        Self {
            run: RunOptions::new(target),
            slicings,
            binning: Binning::default(),
            bootstrap: BootstrapSettings::default(),
            min_group_size: 30,
            policy: None,
            max_groups: DEFAULT_MAX_GROUPS,
        }
    }
}

/// Named optional numbers, serialised as a JSON object in order (`null` when undefined).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Named(pub Vec<(String, Option<f64>)>);

impl Named {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.iter().find(|(n, _)| n == name).and_then(|(_, v)| *v)
    }
}

impl Serialize for Named {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, &v.filter(|x| x.is_finite()))?;
        }
        map.end()
    }
}

/// A group's identity: column → label, in the slicing's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey(pub Vec<(String, String)>);

impl Serialize for GroupKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    pub group: GroupKey,
    pub count: usize,
    /// The task's metrics (`null` when undefined, e.g. TPR of a group without positives).
    #[serde(flatten)]
    pub metrics: Named,
    pub ci: BTreeMap<String, [f64; 2]>,
    pub too_small: bool,
    /// Metrics fairlearn would report as 0 here although they are 0/0.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undefined: Vec<String>,
}

/// MetricFrame summaries of one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `overall`, `group_min`, `group_max`, `difference_between_groups`,
    /// `difference_to_overall`, `ratio_between_groups`, `ratio_to_overall`.
    #[serde(flatten)]
    pub values: Named,
    pub ci: BTreeMap<String, [f64; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SliceReport {
    pub columns: Vec<String>,
    /// Per column: how it was grouped and its labels in display order (heat-map axes).
    pub groupings: Vec<Grouping>,
    pub groups: Vec<GroupReport>,
    pub overall: Named,
    pub overall_count: usize,
    /// Per metric: MetricFrame summaries with intervals.
    pub summaries: BTreeMap<String, Summary>,
    /// The classification disparities (absent for regression), `between_groups`.
    #[serde(flatten)]
    pub disparities: Named,
    /// Intervals of the disparities.
    pub ci: BTreeMap<String, [f64; 2]>,
    /// Disparities and summaries (`metric.stat`) as fairlearn 0.15 reports them, where they
    /// differ because fairlearn counts an undefined rate as 0.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fairlearn: BTreeMap<String, Option<f64>>,
    pub policy: Vec<RuleResult>,
    /// When some groups are too small: the headline disparities over the other groups only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub large_groups_only: Option<LargeGroupsOnly>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Disparities recomputed without the groups smaller than `min_group_size`.
#[derive(Debug, Clone, Serialize)]
pub struct LargeGroupsOnly {
    pub min_group_size: usize,
    /// Number of groups used.
    pub groups: usize,
    /// Classification: the eight disparities; regression: `metric.difference_between_groups`
    /// and `metric.ratio_between_groups`.
    pub values: Named,
    pub ci: BTreeMap<String, [f64; 2]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FairnessReport {
    pub task: Task,
    pub n: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRef>,
    pub data: DataRef,
    pub target: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub positive_class: Option<String>,
    /// Multiclass: the model's classes (per-class metrics are named `metric[class]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub metrics: Vec<String>,
    pub bootstrap: BootstrapSettings,
    pub min_group_size: usize,
    pub binning: Binning,
    pub policy: Policy,
    pub slices: Vec<SliceReport>,
    pub warnings: Vec<crate::engine::Warning>,
}

/// Loads both files and runs [`fairness`]: a data file (or set of files) of at least
/// [`crate::engine::data::batches::STREAM_MIN_BYTES`] streamed in batches ([`stream`]: bounded
/// memory, same report), anything else — and any file the streamed run cannot take — in
/// memory.
pub fn fairness_files(
    model: &Path,
    data: &Path,
    opts: &FairnessOptions,
    progress: &Progress,
) -> Result<FairnessReport> {
    progress.set(0.0, "loading model");
    let model = Model::load(model)?;
    if crate::engine::data::batches::is_large(data) {
        if let Some(report) = stream::fairness_streamed(&model, data, opts, None, progress)? {
            return Ok(report);
        }
    }
    let ds = data::load(data, progress)?;
    fairness(&model, &ds, opts, progress)
}

/// Runs the model once, then every slicing.
pub fn fairness(
    model: &Model,
    ds: &Dataset,
    opts: &FairnessOptions,
    progress: &Progress,
) -> Result<FairnessReport> {
    check_slicings(ds, &opts.slicings)?;
    let run = run_model(model, ds, &opts.run, progress)?;
    let mut report = fairness_outcomes(ds, &run.outcomes, run.kept.as_deref(), opts, progress)?;
    report.model = Some(run.model);
    report.data = run.data;
    report.positive_class = run.positive_class;
    let later = std::mem::replace(&mut report.warnings, run.warnings);
    report.warnings.extend(later);
    Ok(report)
}

fn check_slicings(ds: &Dataset, slicings: &[Vec<String>]) -> Result<()> {
    if slicings.is_empty() {
        return Err(EngineError::usage(
            "give at least one sensitive column (--sensitive COL, or a+b for an intersection)",
        ));
    }
    for s in slicings {
        if s.is_empty() {
            return Err(EngineError::usage("an empty sensitive-column list"));
        }
        require_sensitive(ds, s)?;
    }
    Ok(())
}

/// An error naming the file and the first of `columns` it lacks.
pub fn require_sensitive<'a>(
    ds: &Dataset,
    columns: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    match columns.into_iter().find(|c| !ds.has_column(c)) {
        Some(c) => Err(EngineError::column(
            &ds.path,
            c,
            format!(
                "no such sensitive column; the file has: {}",
                ds.column_names().join(", ")
            ),
        )),
        None => Ok(()),
    }
}

impl FairnessReport {
    /// The names a policy rule may use for this report.
    pub fn policy_names(&self) -> Vec<String> {
        task_policy_names(self.task == Task::BinaryClassification, &self.metrics)
    }

    /// The default policy for this report's task (and classes).
    pub fn default_policy(&self) -> Policy {
        Policy::default_for_task(self.task, self.classes.as_deref().unwrap_or_default())
    }
}

/// The fairness report from outcomes already computed, aligned with the `kept` rows of `ds`
/// (`None`: every row). No model is involved.
pub fn fairness_outcomes(
    ds: &Dataset,
    outcomes: &Outcomes,
    kept: Option<&[u32]>,
    opts: &FairnessOptions,
    progress: &Progress,
) -> Result<FairnessReport> {
    check_slicings(ds, &opts.slicings)?;
    let expected = kept.map_or(ds.rows(), <[u32]>::len);
    if outcomes.len() != expected || outcomes.is_empty() {
        return Err(EngineError::usage(format!(
            "{} outcomes for {expected} rows",
            outcomes.len()
        )));
    }
    let data = DataRef::of(ds, ds.rows() - outcomes.len());
    outcomes_report(outcomes, data, opts, progress, |c| {
        column_groups(ds, c, kept, &opts.binning)
    })
}

/// The report of [`fairness_outcomes`] with each sensitive column's groups from `groups`
/// (asked once per column, in the order the slicings name them); `data`: the rows read.
pub(crate) fn outcomes_report(
    outcomes: &Outcomes,
    data: DataRef,
    opts: &FairnessOptions,
    progress: &Progress,
    mut groups: impl FnMut(&str) -> Result<Grouping>,
) -> Result<FairnessReport> {
    let binary = matches!(outcomes, Outcomes::Binary { .. });
    let (task, classes) = match outcomes {
        Outcomes::Binary { .. } => (Task::BinaryClassification, None),
        Outcomes::Multiclass { classes, .. } => {
            (Task::MulticlassClassification, Some(classes.clone()))
        }
        Outcomes::Regression { .. } => (Task::Regression, None),
    };
    let metrics = outcomes.names();
    let policy = opts
        .policy
        .clone()
        .unwrap_or_else(|| Policy::default_for_task(task, classes.as_deref().unwrap_or_default()));
    policy.validate(&task_policy_names(binary, &metrics))?;
    let mut cache: BTreeMap<String, Grouping> = BTreeMap::new();
    let mut slices = Vec::with_capacity(opts.slicings.len());
    let n_sl = opts.slicings.len() as f32;
    for (si, cols) in opts.slicings.iter().enumerate() {
        progress.check()?;
        progress.set(
            0.6 + 0.4 * si as f32 / n_sl,
            &format!("slicing by {}", cols.join(" + ")),
        );
        for c in cols {
            if !cache.contains_key(c) {
                let g = groups(c)?;
                if g.codes.len() != outcomes.len() {
                    return Err(EngineError::internal("sensitive column length mismatch"));
                }
                cache.insert(c.clone(), g);
            }
        }
        let gs: Vec<&Grouping> = cols.iter().filter_map(|c| cache.get(c)).collect();
        let stage = progress.stage(
            0.6 + 0.4 * si as f32 / n_sl,
            0.6 + 0.4 * (si + 1) as f32 / n_sl,
        );
        let slice = slice_report(outcomes, &gs, opts, &policy, &stage)?;
        slices.push(slice);
    }
    progress.set(1.0, "done");
    Ok(FairnessReport {
        task,
        n: outcomes.len(),
        model: None,
        data,
        target: opts.run.target.clone(),
        positive_class: None,
        classes,
        threshold: binary.then_some(opts.run.threshold),
        metrics,
        bootstrap: opts.bootstrap.clone(),
        min_group_size: opts.min_group_size,
        binning: opts.binning.clone(),
        policy,
        slices,
        warnings: Vec::new(),
    })
}

/// Every named quantity of a slicing → (value, interval).
type FlatMap = BTreeMap<String, (Option<f64>, Option<[f64; 2]>)>;

fn slice_report(
    outcomes: &Outcomes,
    gs: &[&Grouping],
    opts: &FairnessOptions,
    policy: &Policy,
    stage: &crate::engine::progress::Stage,
) -> Result<SliceReport> {
    let inter = intersect(gs);
    check_group_count(gs, inter.keys.len(), opts)?;
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); inter.keys.len()];
    for (i, &g) in inter.codes.iter().enumerate() {
        members[g as usize].push(i as u32);
    }
    let names = outcomes.names();
    let point = compute(outcomes, &members, None);
    let reps = boot::replicates(outcomes, &members, &opts.bootstrap, stage)?;
    let conf = opts.bootstrap.confidence;
    let ci_of = |f: &dyn Fn(&stats::SliceValues) -> Option<f64>| {
        if reps.is_empty() {
            None
        } else {
            boot::interval(reps.iter().map(f), conf)
        }
    };
    let mut warnings = Vec::new();
    let mut groups = Vec::with_capacity(members.len());
    for (g, key) in inter.keys.iter().enumerate() {
        let v = &point.groups[g];
        let mut ci = BTreeMap::new();
        let mut undefined = Vec::new();
        for (j, name) in names.iter().enumerate() {
            if let Some(c) = ci_of(&|s| s.groups[g].honest[j]) {
                ci.insert(name.to_string(), c);
            }
            if v.honest[j].is_none() && v.fairlearn[j].is_some() {
                undefined.push(name.to_string());
            }
        }
        let count = members[g].len();
        let group = GroupKey(
            gs.iter()
                .zip(key)
                .map(|(col, &k)| (col.column.clone(), col.labels[k as usize].clone()))
                .collect(),
        );
        if !undefined.is_empty() {
            warnings.push(Warning::undefined(format!(
                "group {}: {} undefined (0/0; fairlearn reports 0)",
                group_text(&group),
                undefined.join(", ")
            )));
        }
        groups.push(GroupReport {
            group,
            count,
            metrics: Named(
                names
                    .iter()
                    .zip(&v.honest)
                    .map(|(n, x)| (n.to_string(), *x))
                    .collect(),
            ),
            ci,
            too_small: count < opts.min_group_size,
            undefined,
        });
    }
    let small = groups.iter().filter(|g| g.too_small).count();
    if small > 0 {
        warnings.push(Warning::small_sample(format!(
            "{small} of {} groups have fewer than {} rows: too small to judge",
            groups.len(),
            opts.min_group_size
        )));
    }
    let keep: Vec<bool> = groups.iter().map(|g| !g.too_small).collect();
    let large = keep.iter().filter(|&&k| k).count();
    // With too-small groups present, the disparities (and the policy) are also computed over
    // the other groups only, so a verdict is not driven by groups too small to judge.
    let mut large_flat: Option<FlatMap> = None;
    let large_groups_only = (small > 0 && large >= 2).then(|| {
        let sub = stats::flat(&stats::subset(&point, &keep), &names);
        let subs: Vec<Vec<(String, Option<f64>)>> = reps
            .iter()
            .map(|r| stats::flat(&stats::subset(r, &keep), &names))
            .collect();
        let mut all = BTreeMap::new();
        for (k, (name, v)) in sub.iter().enumerate() {
            let c = if subs.is_empty() {
                None
            } else {
                boot::interval(subs.iter().map(|r| r[k].1), conf)
            };
            all.insert(name.clone(), (*v, c));
        }
        let head = stats::headline(&stats::subset(&point, &keep), &names);
        let ci = head
            .iter()
            .filter_map(|(n, _)| all.get(n).and_then(|(_, c)| c.map(|c| (n.clone(), c))))
            .collect();
        large_flat = Some(all);
        LargeGroupsOnly {
            min_group_size: opts.min_group_size,
            groups: large,
            values: Named(head),
            ci,
        }
    });
    let mut fairlearn = BTreeMap::new();
    let mut summaries = BTreeMap::new();
    let mut flat: FlatMap = BTreeMap::new();
    for (j, name) in names.iter().enumerate() {
        let mut values = Vec::with_capacity(STATS.len());
        let mut ci = BTreeMap::new();
        for (s, stat) in STATS.iter().enumerate() {
            let v = point.summaries[j][s];
            let c = ci_of(&|r| r.summaries[j][s]);
            if let Some(c) = c {
                ci.insert(stat.to_string(), c);
            }
            let fl = point.fairlearn_summaries[j][s];
            if fl != v {
                fairlearn.insert(format!("{name}.{stat}"), fl);
            }
            flat.insert(format!("{name}.{stat}"), (v, c));
            values.push((stat.to_string(), v));
        }
        summaries.insert(
            name.to_string(),
            Summary {
                values: Named(values),
                ci,
            },
        );
    }
    let mut disparities = Vec::new();
    let mut dci = BTreeMap::new();
    if let (Some(d), Some(fd)) = (point.disparities, point.fairlearn_disparities) {
        for (k, name) in DISPARITIES.iter().enumerate() {
            let c = ci_of(&|r| r.disparities.and_then(|x| x[k]));
            if let Some(c) = c {
                dci.insert(name.to_string(), c);
            }
            if fd[k] != d[k] {
                fairlearn.insert(name.to_string(), fd[k]);
            }
            flat.insert(name.to_string(), (d[k], c));
            disparities.push((name.to_string(), d[k]));
        }
    }
    let populated = groups.iter().filter(|g| g.count > 0).count();
    if populated < 2 {
        warnings.push(Warning::small_sample(format!(
            "only one group ({}): nothing to compare, so the policy is not applicable to this slicing",
            groups.first().map_or_else(String::new, |g| group_text(&g.group))
        )));
    }
    let policy_results = policy
        .rules
        .iter()
        .map(|r| {
            let (source, scope) = match &large_flat {
                Some(l) => (l, Scope::LargeGroupsOnly),
                None => (&flat, Scope::AllGroups),
            };
            let (v, c) = source.get(&r.metric).copied().unwrap_or((None, None));
            let mut judged = judge(r, v, c, scope);
            if populated < 2 {
                judged.result = Verdict::NotApplicable;
            }
            judged
        })
        .collect();
    Ok(SliceReport {
        columns: gs.iter().map(|g| g.column.clone()).collect(),
        groupings: gs
            .iter()
            .map(|g| Grouping {
                codes: Vec::new(),
                ..(*g).clone()
            })
            .collect(),
        groups,
        overall: Named(
            names
                .iter()
                .zip(&point.overall.honest)
                .map(|(n, x)| (n.to_string(), *x))
                .collect(),
        ),
        overall_count: outcomes.len(),
        summaries,
        disparities: Named(disparities),
        ci: dci,
        fairlearn,
        policy: policy_results,
        large_groups_only,
        warnings,
    })
}

/// `sex=Male, race=White`.
pub fn group_text(g: &GroupKey) -> String {
    g.0.iter()
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

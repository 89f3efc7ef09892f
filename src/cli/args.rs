//! Argument groups shared by the subcommands (`#[command(flatten)]`), and the range-checked
//! value parsers: a count outside its documented range is a one-line usage error at parse
//! time (exit 2), never an allocation failure or a run of hours.
//!
//! Limits: bootstrap resamples ≤ 100,000; inference threads 1…1,024; permutation repeats
//! 1…1,000; perf calls 1…1,000,000, warm-up ≤ 1,000,000, repeats 1…1,000, batch sizes
//! 1…1,000,000, rows per repeat 1…100,000,000; SHAP nsamples 1…1,000,000, background rows
//! 1…100,000; PDP grid 2…1,000 points per feature; listed rows (`--top`) ≤ 10,000; sampled
//! rows (robustness, report) 1…1,000,000; adversarial rows ≤ 100,000; fairness quantile bins
//! 1…100; decision thresholds, drift share and percentiles in [0, 1]; scales finite and ≥ 0.

use std::path::{Path, PathBuf};

use clap::builder::RangedU64ValueParser;

use super::output::{with_progress, write_json};
use super::JsonTarget;
use crate::engine::data::{self, extract::InvalidRows, Dataset};
use crate::engine::fairness::run::RunOptions;
use crate::engine::model::Model;
use crate::engine::package::ArchiveKind;
use crate::engine::{EngineError, Progress, Result};

pub use crate::engine::limits::{
    MAX_ADVERSARIAL_ROWS, MAX_BACKGROUND, MAX_BATCH, MAX_BINS, MAX_BOOTSTRAP, MAX_CALLS, MAX_GRID,
    MAX_MIN_GROUP, MAX_NSAMPLES, MAX_REPEATS, MAX_ROWS_PER_REPEAT, MAX_SAMPLE_ROWS, MAX_THREADS,
    MAX_TOP,
};

/// A `usize` in `lo..=hi`.
pub fn count(lo: u64, hi: u64) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(lo..=hi)
}

/// A number in [0, 1].
pub fn unit_interval(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not in [0, 1]"))
    }
}

/// A finite number ≥ 0.
pub fn non_negative(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not a finite number ≥ 0"))
    }
}

/// The ONNX model.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArg {
    /// The ONNX model.
    #[arg(long)]
    pub model: PathBuf,
}

/// The dataset.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArg {
    /// The dataset (.csv, .parquet, .arrow, or a directory / quoted glob of such files, hive
    /// `key=value` folders as columns); labelled when the command takes --target.
    #[arg(long)]
    pub data: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TargetArg {
    /// The target (label) column.
    #[arg(long)]
    pub target: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct FeaturesArg {
    /// Columns feeding a single [N, F] model input, in order (default: the model's
    /// `features` metadata).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PositiveClassArg {
    /// Positive class of a binary classifier (default: metadata `positive_class`, else the
    /// second class).
    #[arg(long)]
    pub positive_class: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ThresholdArg {
    /// Decision threshold in [0, 1]: predicted positive when p >= T.
    #[arg(long, default_value_t = 0.5, value_parser = unit_interval)]
    pub threshold: f64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BootstrapArg {
    /// Bootstrap resamples for confidence intervals (0 turns them off; at most 100000).
    #[arg(long, default_value_t = 1000, value_parser = count(0, MAX_BOOTSTRAP))]
    pub bootstrap: usize,
}

#[derive(Debug, Clone, clap::Args)]
pub struct SeedArg {
    /// Seed of every random draw (bootstrap, sampling, shuffles).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ThreadsArg {
    /// Inference threads, 1 to 1024 (default: all cores).
    #[arg(long, value_parser = count(1, MAX_THREADS))]
    pub threads: Option<usize>,
}

impl ThreadsArg {
    /// Applies the flag to inference options.
    pub fn apply(&self, infer: &mut crate::engine::model::InferOptions) {
        if let Some(t) = self.threads {
            infer.threads = t;
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct DropInvalidArg {
    /// Drop rows with missing or non-finite features/target instead of failing.
    #[arg(long)]
    pub drop_invalid: bool,
}

impl DropInvalidArg {
    pub fn policy(&self) -> InvalidRows {
        if self.drop_invalid {
            InvalidRows::Drop
        } else {
            InvalidRows::Error
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct JsonArg {
    /// Write JSON to PATH, or to standard output with `-`.
    #[arg(long, value_name = "PATH|-")]
    pub json: Option<JsonTarget>,
}

/// The model, the dataset, and the columns that feed the model: what every command that runs
/// one model on one dataset takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelDataArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub data: DataArg,
    #[command(flatten)]
    pub features: FeaturesArg,
}

impl ModelDataArgs {
    pub fn features(&self) -> Option<&[String]> {
        self.features.features.as_deref()
    }

    /// Loads the model and the dataset under the progress bar, then runs `work` on them.
    pub fn load_and<T: Send>(
        &self,
        work: impl FnOnce(&Model, &Dataset, &Progress) -> Result<T> + Send,
    ) -> Result<T> {
        with_progress(|p| {
            p.set(0.0, "loading");
            let model = Model::load(&self.model.model)?;
            let ds = data::load(&self.data.data, p)?;
            work(&model, &ds, p)
        })
    }
}

/// `--threads` and `--json`: how inference runs and where the result goes.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub json: JsonArg,
}

impl OutputArgs {
    /// Writes `value` as JSON when `--json` was given, else prints it as text with `print`.
    pub fn emit<T: serde::Serialize>(&self, value: &T, print: impl FnOnce(&T)) -> Result<()> {
        match &self.json.json {
            Some(target) => write_json(value, target),
            None => {
                print(value);
                Ok(())
            }
        }
    }
}

/// Model + labelled data + the settings of one model run, as `evaluate`, `fairness` and
/// `slices` take them.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelRunArgs {
    #[command(flatten)]
    pub input: ModelDataArgs,
    #[command(flatten)]
    pub target: TargetArg,
    #[command(flatten)]
    pub positive_class: PositiveClassArg,
    #[command(flatten)]
    pub threshold: ThresholdArg,
    #[command(flatten)]
    pub drop_invalid: DropInvalidArg,
}

impl ModelRunArgs {
    /// The options of the model run these flags describe (inference threads from `out`).
    pub fn run_options(&self, out: &OutputArgs) -> RunOptions {
        let mut run = RunOptions::new(self.target.target.clone());
        run.features = self.input.features.features.clone();
        run.positive_class = self.positive_class.positive_class.clone();
        run.threshold = self.threshold.threshold;
        run.invalid_rows = self.drop_invalid.policy();
        out.threads.apply(&mut run.infer);
        run
    }
}

/// `--threshold`, `--bootstrap`, `--seed` of the commands that read a workspace: each, when
/// given, overrides the workspace's setting.
#[derive(Debug, Clone, clap::Args)]
pub struct SettingsArgs {
    /// Decision threshold in [0, 1] (default 0.5, or the workspace's).
    #[arg(long, value_parser = unit_interval)]
    pub threshold: Option<f64>,
    /// Bootstrap resamples for intervals (default 1000, or the workspace's; 0 turns them
    /// off; at most 100000).
    #[arg(long, value_parser = count(0, MAX_BOOTSTRAP))]
    pub bootstrap: Option<usize>,
    /// Bootstrap seed (default 0, or the workspace's).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SettingsArgs {
    pub fn apply(&self, settings: &mut crate::engine::workspace::Settings) {
        if let Some(t) = self.threshold {
            settings.threshold = t;
        }
        if let Some(b) = self.bootstrap {
            settings.bootstrap = b;
        }
        if let Some(s) = self.seed {
            settings.seed = s;
        }
    }
}

/// Where `package` writes, from `--out`, `--zip` and `--tar-gz`. `--out` names the package
/// folder; an `--out` that ends in `.zip` or `.tar.gz` names the archive instead: the folder
/// is that name without the extension, beside it, and the archive kind is implied
/// (`--out x.zip` = `--out x --zip`: `x/` and `x.zip`, never `x.zip/` and `x.zip.zip`, and
/// never a folder that `verify` would take for an archive). The other archive flag with such
/// a name, or `.tgz`, is a usage error.
pub fn package_out(
    out: &Path,
    zip: bool,
    tar_gz: bool,
) -> crate::engine::Result<(PathBuf, Option<ArchiveKind>)> {
    let flag = if zip {
        Some(ArchiveKind::Zip)
    } else if tar_gz {
        Some(ArchiveKind::TarGz)
    } else {
        None
    };
    let Some(named) = ArchiveKind::from_path(out) else {
        return Ok((out.to_path_buf(), flag));
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = name.to_ascii_lowercase();
    let suffix = format!(".{}", named.extension());
    if !lower.ends_with(&suffix) {
        return Err(EngineError::usage(format!(
            "--out {}: name the archive NAME.{} (or give the folder and --tar-gz)",
            out.display(),
            named.extension()
        )));
    }
    if flag.is_some_and(|f| f != named) {
        return Err(EngineError::usage(format!(
            "--out {} names a .{} archive, but --{} asks for the other kind",
            out.display(),
            named.extension(),
            if zip { "zip" } else { "tar-gz" }
        )));
    }
    let folder = out.with_file_name(&name[..name.len() - suffix.len()]);
    Ok((folder, Some(named)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_out_ending_in_an_archive_extension_names_the_archive() {
        let p = |s: &str| Path::new(s).to_path_buf();
        assert_eq!(
            package_out(&p("d/x"), true, false).unwrap(),
            (p("d/x"), Some(ArchiveKind::Zip))
        );
        assert_eq!(
            package_out(&p("d/x"), false, false).unwrap(),
            (p("d/x"), None)
        );
        assert_eq!(
            package_out(&p("d/x.zip"), true, false).unwrap(),
            (p("d/x"), Some(ArchiveKind::Zip))
        );
        assert_eq!(
            package_out(&p("x.zip"), false, false).unwrap(),
            (p("x"), Some(ArchiveKind::Zip))
        );
        assert_eq!(
            package_out(&p("x.tar.gz"), false, true).unwrap(),
            (p("x"), Some(ArchiveKind::TarGz))
        );
        assert!(package_out(&p("x.zip"), false, true).is_err());
        assert!(package_out(&p("x.tgz"), false, false).is_err());
    }

    #[test]
    fn parsers_check_ranges() {
        assert_eq!(unit_interval("0.25"), Ok(0.25));
        assert!(unit_interval("1.5").is_err());
        assert!(unit_interval("NaN").is_err());
        assert!(non_negative("inf").is_err());
        assert!(non_negative("-0.1").is_err());
        assert_eq!(non_negative("0"), Ok(0.0));
    }
}

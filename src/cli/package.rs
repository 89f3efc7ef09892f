//! `assay package --model M [--data D --target T] … --key KEY.pem --out DIR`: runs the
//! analyses its inputs allow, collects evidence, writes the model card, deployment
//! descriptors, sign-off and audit log, and seals it all with an OpenSSF-compatible signature.

use std::path::PathBuf;

use super::args::{package_out, JsonArg};
use super::keygen::passphrase;
use super::output::{with_progress, write_json};
use super::package_inputs::{package_workspace, review};
use crate::engine::package::audit::now_rfc3339;
use crate::engine::package::signoff::load_signoffs;
use crate::engine::package::{
    build_package, AuditLog, CardSource, Decision, PackageRequest, ReportSource, SignOff,
    SigningKey,
};
use crate::engine::workspace::DatasetRole;
use crate::engine::{fsio, EngineError, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ONNX model (default with --workspace: its first model).
    #[arg(long, required_unless_present = "workspace")]
    pub model: Option<PathBuf>,
    /// A workspace (*.assay.json): model, data, target, positive class, sensitive columns,
    /// reference and sign-offs not given on the command line are taken from it.
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Labelled dataset to evaluate the model on (needs --target).
    #[arg(long, requires = "target")]
    pub data: Option<PathBuf>,
    /// Target column of --data.
    #[arg(long, requires = "data")]
    pub target: Option<String>,
    /// Columns feeding a single [N, F] model input, in order.
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Positive class of a binary classifier.
    #[arg(long)]
    pub positive_class: Option<String>,
    #[command(flatten)]
    pub settings: super::args::SettingsArgs,
    /// Sensitive columns (recorded in the column mapping), repeatable or comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Reference (training) dataset; its SHA-256 is recorded.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Extra evidence JSON from another analysis, as NAME=FILE.json (repeatable), e.g.
    /// fairness=fair.json drift=drift.json.
    #[arg(long, value_name = "NAME=FILE")]
    pub evidence: Vec<String>,
    /// Sign-off records (a JSON object or array), repeatable.
    #[arg(long, value_name = "FILE.json")]
    pub signoff: Vec<PathBuf>,
    /// Add a sign-off record directly: the reviewer's name (with --role and --decision).
    #[arg(long, requires_all = ["role", "decision"])]
    pub reviewer: Option<String>,
    /// The reviewer's role.
    #[arg(long, requires = "reviewer")]
    pub role: Option<String>,
    /// approved | approved_with_conditions | rejected.
    #[arg(long, requires = "reviewer", value_parser = ["approved", "approved_with_conditions", "rejected"])]
    pub decision: Option<String>,
    /// A condition of the approval (repeatable).
    #[arg(long, requires = "reviewer")]
    pub condition: Vec<String>,
    /// Notes of the sign-off.
    #[arg(long, requires = "reviewer")]
    pub notes: Option<String>,
    /// Date of the sign-off, YYYY-MM-DD (default: today, UTC).
    #[arg(long, requires = "reviewer")]
    pub date: Option<String>,
    /// Use this Markdown as the model card instead of the generated draft.
    #[arg(long, value_name = "README.md")]
    pub card: Option<PathBuf>,
    /// The workspace audit log so far (JSON lines); packaging appends to it.
    #[arg(long, value_name = "LOG.jsonl")]
    pub audit: Option<PathBuf>,
    /// A review report (`assay report --out`) to seal in the package as report.html.
    #[arg(long, value_name = "report.html")]
    pub report: Option<PathBuf>,
    /// The private signing key (PKCS#8 PEM, P-256).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    /// Environment variable holding the private key's passphrase.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    /// The package folder to create; DIR.zip or DIR.tar.gz names the archive instead (the
    /// folder DIR beside it, --zip / --tar-gz implied).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace an existing package.
    #[arg(long)]
    pub force: bool,
    /// Also write DIR.zip.
    #[arg(long, conflicts_with = "tar_gz")]
    pub zip: bool,
    /// Also write DIR.tar.gz.
    #[arg(long)]
    pub tar_gz: bool,
    /// KServe storageUri for the Triton model repository (default pvc://models/NAME).
    #[arg(long)]
    pub storage_uri: Option<String>,
    /// Triton max_batch_size (1 to 1000000) when the model has a dynamic batch dimension.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub triton_max_batch: u32,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args) -> Result<()> {
    let pass = passphrase(args.passphrase_env.as_deref())?;
    let key = SigningKey::load(&args.key, pass.as_deref())?;
    let ws = package_workspace(&args)?;
    let focus = ws
        .models
        .get(ws.focus_index())
        .cloned()
        .ok_or_else(|| EngineError::usage("give --model (or --workspace with a model)"))?;
    let label = args.workspace.as_ref().map(|_| ws.name.clone());
    // Evaluation, fairness, drift and the comparison run here, through the same pipeline as
    // the window; their results go in as evidence (evidence given with --evidence wins).
    let review = with_progress(|p| review(&ws, label, p))?;
    let given = |name: &str| {
        args.evidence
            .iter()
            .any(|e| e.split('=').next() == Some(name))
    };
    let (out, archive) = package_out(&args.out, args.zip, args.tar_gz)?;
    let mut req = PackageRequest::new(&focus.path, &out);
    req.evidence_values = review
        .evidence()?
        .into_iter()
        .filter(|(name, _)| !given(name))
        .collect();
    req.signoffs = ws.signoffs.clone();
    req.notes = ws.notes.clone();
    req.report = match &args.report {
        Some(r) => Some(ReportSource::File(r.clone())),
        // A workspace review seals its report, as the window does.
        None if args.workspace.is_some() => {
            Some(ReportSource::Html(review.render(&now_rfc3339())?.html))
        }
        None => None,
    };
    // A workspace that monitors a prediction log seals its alert rules and dashboard.
    req.monitoring = review.monitoring_files()?;
    req.force = args.force;
    req.archive = archive;
    req.features = focus.features.clone();
    req.target = ws.roles.target.clone();
    req.sensitive = ws.roles.sensitive.clone();
    req.reference = ws.dataset(DatasetRole::Reference).map(|d| d.path.clone());
    for e in &args.evidence {
        let (name, file) = e.split_once('=').ok_or_else(|| {
            EngineError::usage(format!("--evidence '{e}': expected NAME=FILE.json"))
        })?;
        req.evidence.push((name.to_string(), PathBuf::from(file)));
    }
    for f in &args.signoff {
        req.signoffs.extend(load_signoffs(f)?);
    }
    if let (Some(reviewer), Some(role), Some(decision)) =
        (&args.reviewer, &args.role, &args.decision)
    {
        let decision = match decision.as_str() {
            "approved" => Decision::Approved,
            "approved_with_conditions" => Decision::ApprovedWithConditions,
            _ => Decision::Rejected,
        };
        req.signoffs.push(SignOff {
            reviewer: reviewer.clone(),
            role: role.clone(),
            decision,
            conditions: args.condition.clone(),
            date: args
                .date
                .clone()
                .unwrap_or_else(|| now_rfc3339().chars().take(10).collect()),
            notes: args.notes.clone().unwrap_or_default(),
        });
    }
    if let Some(card) = &args.card {
        let md = fsio::read_text(card, "model card", fsio::caps::CARD)?;
        req.card = CardSource::Markdown(md);
    }
    if let Some(log) = &args.audit {
        req.audit = AuditLog::load(log)?;
    }
    req.storage_uri = args.storage_uri.clone();
    req.triton_max_batch = args.triton_max_batch;
    let report = with_progress(|p| build_package(&req, &key, p))?;
    if let Some(target) = &args.json.json {
        return write_json(&report, target);
    }
    println!("package    {}", report.path.display());
    if let Some(a) = &report.archive {
        println!("archive    {}", a.display());
    }
    println!("model      sha256 {}", report.model_sha256);
    println!(
        "signature  model.sig, subject digest {}",
        report.subject_digest
    );
    println!("key hint   {}", report.public_key_hint);
    println!("files      {} signed", report.files.len());
    for item in &report.checklist {
        println!(
            "  [{}] {}",
            if item.present { "x" } else { " " },
            item.evidence
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

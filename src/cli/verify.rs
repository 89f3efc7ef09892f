//! `assay verify DIR|ARCHIVE --public-key PUB.pem [--json PATH|-]`: checks a package's
//! signature and every file. Exit 0 only when everything holds, 4 when verification fails.

use std::path::PathBuf;

use super::args::JsonArg;
use super::output::{with_progress, write_json};
use crate::engine::package::manifest::FileStatus;
use crate::engine::package::{verify_package, PublicKey};
use crate::engine::Result;

/// Exit code of a failed verification.
pub const EXIT_VERIFY_FAILED: i32 = 4;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The package folder, or its .zip / .tar.gz.
    pub package: PathBuf,
    /// The signer's public key (PEM, P-256 or P-384).
    #[arg(long, value_name = "PUB.pem")]
    pub public_key: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args) -> Result<i32> {
    let key = PublicKey::load(&args.public_key)?;
    let v = with_progress(|p| verify_package(&args.package, &key, p))?;
    let code = if v.ok { 0 } else { EXIT_VERIFY_FAILED };
    if let Some(target) = &args.json.json {
        write_json(&v, target)?;
        return Ok(code);
    }
    println!("package    {}", v.path.display());
    println!(
        "signature  {:?}: {}",
        v.signature.status, v.signature.message
    );
    println!(
        "key        {} (hint {})",
        v.signature.key_curve, v.signature.key_hint
    );
    for f in &v.files {
        let s = match &f.status {
            FileStatus::Ok => "ok",
            FileStatus::Changed { .. } => "CHANGED",
            FileStatus::Added { .. } => "ADDED (not signed)",
            FileStatus::Missing { .. } => "MISSING",
        };
        println!("  {s:<20} {}", f.path);
    }
    for i in &v.ignored_present {
        println!("  {:<20} {i}", "ignored");
    }
    if let Some(a) = &v.audit {
        println!(
            "audit log  {} entries, chain {}",
            a.entries,
            if a.ok { "intact" } else { "BROKEN" }
        );
    }
    if v.ok {
        println!("OK: signature valid and every file matches");
    } else {
        for p in &v.problems {
            eprintln!("FAILED: {p}");
        }
    }
    Ok(code)
}

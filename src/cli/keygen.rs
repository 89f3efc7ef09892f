//! `assay keygen [--out KEY.pem] [--passphrase-env VAR]`: a P-256 signing key pair.

use std::path::PathBuf;

use super::args::JsonArg;
use super::output::write_json;
use crate::engine::package::keys::{default_key_path, write_key_pair};
use crate::engine::{EngineError, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes beside it
    /// as KEY.pub.pem. Default: the OS config directory (e.g. ~/.config/assay/signing-key.pem).
    #[arg(long, value_name = "KEY.pem")]
    pub out: Option<PathBuf>,
    /// Encrypt the private key with the passphrase held in this environment variable.
    #[arg(long, value_name = "VAR")]
    pub passphrase_env: Option<String>,
    #[command(flatten)]
    pub json: JsonArg,
}

/// Reads a passphrase from the named environment variable.
pub fn passphrase(var: Option<&str>) -> Result<Option<String>> {
    let Some(var) = var else { return Ok(None) };
    match std::env::var(var) {
        Ok(p) if !p.is_empty() => Ok(Some(p)),
        _ => Err(EngineError::usage(format!(
            "--passphrase-env {var}: the environment variable is unset or empty"
        ))),
    }
}

pub fn run(args: Args) -> Result<()> {
    let out = match args.out {
        Some(p) => p,
        None => default_key_path()?,
    };
    let pass = passphrase(args.passphrase_env.as_deref())?;
    let files = write_key_pair(&out, pass.as_deref())?;
    if let Some(target) = &args.json.json {
        return write_json(&files, target);
    }
    println!(
        "private key  {} (P-256, PKCS#8{}, mode 0600)",
        files.private_key.display(),
        if files.encrypted { ", encrypted" } else { "" }
    );
    println!("public key   {}", files.public_key.display());
    println!("key hint     {}", files.public_key_hint);
    Ok(())
}

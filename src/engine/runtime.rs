//! Finding and loading the ONNX Runtime shared library (`ort` with `load-dynamic`).
//!
//! Lookup order: `ORT_DYLIB_PATH`, next to the executable (symlinks resolved), then the
//! project folder `.ort/` that `scripts/fetch-onnxruntime.sh` fills. We check the file exists and call
//! `ort::init_from` ourselves: plain `ort::init()` panics when the library is missing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::{EngineError, Result};

/// The ONNX Runtime version the project ships and tests with.
pub const ORT_VERSION: &str = "1.31.1";

/// The command that installs the library into the project folder.
pub const FIX_COMMAND: &str = "scripts/fetch-onnxruntime.sh";

static LOADED: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
/// Kept alive for the whole process so every session shares one environment.
static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();

/// File names the library may have on this platform, most specific first.
fn library_names() -> Vec<String> {
    if cfg!(target_os = "windows") {
        vec!["onnxruntime.dll".into()]
    } else if cfg!(target_os = "macos") {
        vec![
            format!("libonnxruntime.{ORT_VERSION}.dylib"),
            "libonnxruntime.dylib".into(),
        ]
    } else {
        vec![
            format!("libonnxruntime.so.{ORT_VERSION}"),
            "libonnxruntime.so".into(),
        ]
    }
}

/// The places searched, in order, each with the reason it is searched.
pub fn candidates() -> Vec<(PathBuf, &'static str)> {
    let mut out = Vec::new();
    // An explicit ORT_DYLIB_PATH is the only place looked at: a wrong setting must not be
    // silently replaced by another library.
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push((PathBuf::from(p), "ORT_DYLIB_PATH"));
        return out;
    }
    if let Some(dir) = exe_dir() {
        for name in library_names() {
            out.push((dir.join(&name), "next to the executable"));
        }
    }
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ort");
    for name in library_names() {
        out.push((project.join(&name), "project folder"));
    }
    out
}

/// The running executable's folder with symlinks resolved, so a `/usr/bin/assay` link to
/// `/usr/lib/assay/assay` finds the library and the samples installed beside the real binary.
pub fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()
        .and_then(|exe| resolved_parent(&exe))
}

/// The folder of `path` after resolving symlinks (of `path` as given when that fails).
pub fn resolved_parent(path: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    real.parent().map(Path::to_path_buf)
}

/// Loads ONNX Runtime once per process and returns the library path used.
pub fn ensure_loaded() -> Result<PathBuf> {
    LOADED
        .get_or_init(load)
        .clone()
        .map_err(EngineError::Runtime)
}

/// The process-wide ONNX Runtime environment, loading the library on first use.
pub fn environment() -> Result<&'static ort::environment::Environment> {
    ensure_loaded()?;
    ENVIRONMENT
        .get()
        .ok_or_else(|| EngineError::Runtime("ONNX Runtime environment was not created".into()))
}

fn load() -> std::result::Result<PathBuf, String> {
    let candidates = candidates();
    let from_env = std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| !p.is_empty());
    let Some((path, _)) = candidates.iter().find(|(p, _)| p.is_file()) else {
        let looked: Vec<String> = candidates
            .iter()
            .map(|(p, why)| format!("{} ({why})", p.display()))
            .collect();
        let hint = if from_env {
            "ORT_DYLIB_PATH is set but names no file; point it at the library, or unset it and run"
        } else {
            "run"
        };
        return Err(format!(
            "ONNX Runtime {ORT_VERSION} library not found; looked in: {}. To fix: {hint} `{FIX_COMMAND}` in the Assay source folder, or set ORT_DYLIB_PATH to a libonnxruntime {ORT_VERSION} file",
            looked.join(", ")
        ));
    };
    // ONNX Runtime 1.29+ on Linux starts its telemetry (a device id and an event database
    // under ~/.cache/Microsoft/DeveloperTools/.onnxruntime/) while the environment is being
    // created, before `with_telemetry(false)` can apply; only this variable, set before the
    // library initialises, turns it off entirely (tests/hardening_inputs.rs proves a fresh
    // HOME stays empty). Both spellings ONNX Runtime has read.
    for var in ["ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED"] {
        std::env::set_var(var, "1");
    }
    let builder = ort::init_from(path).map_err(|e| {
        format!(
            "ONNX Runtime library at {} could not be loaded ({e}); replace it with version {ORT_VERSION} by running `{FIX_COMMAND}`",
            path.display()
        )
    })?;
    // No telemetry (ONNX Runtime otherwise records events about every model it loads), and
    // no log lines of its own on the terminal: its errors come back through the API and are
    // reported by Assay, in Assay's words.
    let env = builder
        .with_name("assay")
        .with_telemetry(false)
        .with_logger(std::sync::Arc::new(
            |_level: ort::logging::LogLevel, _category: &str, _id: &str, _at: &str, _msg: &str| {},
        ))
        .build()
        .map_err(|e| format!("ONNX Runtime at {} failed to start: {e}", path.display()))?;
    env.set_log_level(ort::logging::LogLevel::Fatal);
    let _ = ENVIRONMENT.set(env);
    Ok(path.clone())
}

//! `assay`: no arguments opens the GUI on the demo workspace; `assay open FILE…` opens the GUI
//! on those files; any other subcommand runs the CLI.

use clap::Parser;

use assay::cli::{Cli, Command};

fn main() {
    // Before any thread starts.
    assay::engine::data::parallel_parquet_decoding();
    let cli = Cli::parse();
    let code = match cli.command {
        None => open_gui(Vec::new()),
        Some(Command::Open(args)) if cfg!(feature = "gui") => open_gui(args.files),
        Some(command) => assay::cli::run(command),
    };
    std::process::exit(code);
}

#[cfg(feature = "gui")]
fn open_gui(paths: Vec<std::path::PathBuf>) -> i32 {
    // Without ONNX Runtime the window still opens (data pages work); evaluations then show
    // the same one-line message in the window.
    if let Err(e) = assay::engine::runtime::ensure_loaded() {
        eprintln!("assay: warning: {e}");
    }
    match assay::app::run(paths) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("assay: error: {e}");
            1
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_gui(_paths: Vec<std::path::PathBuf>) -> i32 {
    eprintln!("assay: built without the `gui` feature; run `assay --help` for the commands");
    2
}

//! `assay`: no arguments opens the GUI on the demo workspace; a subcommand runs the CLI.

use clap::Parser;

fn main() {
    let cli = assay::cli::Cli::parse();
    let code = match cli.command {
        Some(command) => assay::cli::run(command),
        None => open_gui(),
    };
    std::process::exit(code);
}

#[cfg(feature = "gui")]
fn open_gui() -> i32 {
    match assay::app::run() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("assay: error: {e}");
            1
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_gui() -> i32 {
    eprintln!("assay: built without the `gui` feature; run `assay --help` for the commands");
    2
}

//! `assay inspect --model M | --data D [--json PATH|-]`.

use std::path::PathBuf;

use super::args::JsonArg;
use super::output::{fmt_opt, human_bytes, with_progress, write_json};
use crate::engine::model::Model;
use crate::engine::{data, EngineError, Result};

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["model", "data"]))]
pub struct Args {
    /// An ONNX model file.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A dataset (.csv, .parquet, .arrow, or a directory / quoted glob of them).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(path) = &args.model {
        let model = Model::load(path)?;
        model.validate()?;
        let info = &model.info;
        if let Some(target) = &args.json.json {
            return write_json(info, target);
        }
        println!("model      {}", info.path.display());
        println!(
            "name       {}  version {}",
            info.name.as_deref().unwrap_or("—"),
            info.version.as_deref().unwrap_or("—")
        );
        println!(
            "producer   {} {}",
            info.producer_name, info.producer_version
        );
        println!(
            "size       {}  sha256 {}",
            human_bytes(info.file_size),
            info.sha256
        );
        let opsets: Vec<String> = info
            .opset_imports
            .iter()
            .map(|o| format!("{} {}", o.domain, o.version))
            .collect();
        println!("opsets     {}  (IR {})", opsets.join(", "), info.ir_version);
        println!("inputs");
        for i in &info.inputs {
            println!("  {:<24} {}", i.name, i.kind);
        }
        println!("outputs");
        for o in &info.outputs {
            println!("  {:<24} {}", o.name, o.kind);
        }
        let ops: Vec<String> = info
            .op_types
            .iter()
            .map(|o| format!("{}×{}", o.op_type, o.count))
            .collect();
        println!("ops        {}", ops.join(", "));
        if let Some(c) = &info.declared_classes {
            println!("classes    {}", c.join(", "));
        }
        if !info.metadata.is_empty() {
            println!("metadata");
            for (k, v) in &info.metadata {
                println!("  {k:<24} {v}");
            }
        }
        return Ok(());
    }
    let path = args
        .data
        .ok_or_else(|| EngineError::usage("pass --model or --data"))?;
    // A large single file is summarised in batches (bounded memory, same numbers).
    let info = match with_progress(|p| data::inspect_file(&path, p))? {
        Some(info) => info,
        None => data::inspect(&with_progress(|p| data::load(&path, p))?)?,
    };
    if let Some(target) = &args.json.json {
        return write_json(&info, target);
    }
    println!(
        "data   {}  ({:?}, {})",
        info.path.display(),
        info.format,
        human_bytes(info.file_size)
    );
    println!(
        "rows   {}  columns {}  sha256 {}",
        info.rows,
        info.columns.len(),
        info.sha256
    );
    println!();
    println!(
        "{:<24} {:<8} {:>8} {:>8} {:>12} {:>12} {:>12}",
        "column", "dtype", "missing", "unique", "min", "max", "mean"
    );
    for c in &info.columns {
        println!(
            "{:<24} {:<8} {:>8} {:>8} {:>12} {:>12} {:>12}",
            c.name,
            c.dtype,
            c.missing,
            c.unique.map_or_else(|| "—".into(), |u| u.to_string()),
            fmt_opt(c.min),
            fmt_opt(c.max),
            fmt_opt(c.mean)
        );
    }
    Ok(())
}

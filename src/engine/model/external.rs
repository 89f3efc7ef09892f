//! ONNX external data: tensors whose bytes live in another file (`data_location: EXTERNAL`,
//! `external_data {location, offset, length}`). Assay resolves every location next to the
//! model file — never against the working directory — reads those files once (regular files,
//! capped), hashes them, and hands the bytes to ONNX Runtime in memory, so the weights a
//! session runs are the bytes Assay hashed and a package seals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use prost::Message;
use serde::Serialize;

use crate::engine::error::{EngineError, Result};
use crate::engine::hash::sha256_bytes;
use crate::engine::package::manifest::safe_relative_components;

/// Most external-data files one model may reference.
pub const MAX_EXTERNAL_FILES: usize = 1000;
/// Most bytes of external data one model may reference (all files together).
pub const MAX_EXTERNAL_BYTES: u64 = 16 << 30;

/// One external-data file, as `assay inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalFile {
    /// The location as written in the model (a relative POSIX path).
    pub location: String,
    pub size: u64,
    pub sha256: String,
}

/// An external-data file read into memory.
#[derive(Debug, Clone)]
pub struct ExternalData {
    pub file: ExternalFile,
    pub bytes: Arc<[u8]>,
}

mod wire {
    //! The few `onnx.proto` fields that can hold a tensor: initializers, sparse
    //! initializers, attribute tensors, and subgraphs (raw data is skipped, never copied).
    use prost::Message;

    #[derive(Clone, PartialEq, Message)]
    pub struct ModelProto {
        #[prost(message, optional, tag = "7")]
        pub graph: Option<GraphProto>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct GraphProto {
        #[prost(message, repeated, tag = "1")]
        pub node: Vec<NodeProto>,
        #[prost(message, repeated, tag = "5")]
        pub initializer: Vec<TensorProto>,
        #[prost(message, repeated, tag = "15")]
        pub sparse_initializer: Vec<SparseTensorProto>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct NodeProto {
        #[prost(message, repeated, tag = "5")]
        pub attribute: Vec<AttributeProto>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct AttributeProto {
        #[prost(message, optional, tag = "5")]
        pub t: Option<TensorProto>,
        #[prost(message, optional, boxed, tag = "6")]
        pub g: Option<Box<GraphProto>>,
        #[prost(message, repeated, tag = "10")]
        pub tensors: Vec<TensorProto>,
        #[prost(message, repeated, tag = "11")]
        pub graphs: Vec<GraphProto>,
        #[prost(message, optional, tag = "22")]
        pub sparse_tensor: Option<SparseTensorProto>,
        #[prost(message, repeated, tag = "23")]
        pub sparse_tensors: Vec<SparseTensorProto>,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct TensorProto {
        #[prost(string, tag = "8")]
        pub name: String,
        #[prost(message, repeated, tag = "13")]
        pub external_data: Vec<super::super::proto::StringStringEntryProto>,
        #[prost(int32, tag = "14")]
        pub data_location: i32,
    }

    #[derive(Clone, PartialEq, Message)]
    pub struct SparseTensorProto {
        #[prost(message, optional, tag = "1")]
        pub values: Option<TensorProto>,
        #[prost(message, optional, tag = "2")]
        pub indices: Option<TensorProto>,
    }
}

/// One tensor's reference into an external file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRef {
    pub tensor: String,
    pub location: String,
    pub offset: u64,
    pub length: Option<u64>,
}

fn collect_tensor(t: &wire::TensorProto, out: &mut Vec<std::result::Result<ExternalRef, String>>) {
    if t.data_location != 1 {
        return;
    }
    let get = |k: &str| {
        t.external_data
            .iter()
            .find(|e| e.key == k)
            .map(|e| e.value.as_str())
    };
    let num = |k: &str| -> std::result::Result<Option<u64>, String> {
        get(k)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    format!(
                        "tensor '{}': external data {k} '{v}' is not a number",
                        t.name
                    )
                })
            })
            .transpose()
    };
    let r = match get("location") {
        None => Err(format!(
            "tensor '{}' has external data without a location",
            t.name
        )),
        Some(loc) => num("offset").and_then(|offset| {
            num("length").map(|length| ExternalRef {
                tensor: t.name.clone(),
                location: loc.to_string(),
                offset: offset.unwrap_or(0),
                length,
            })
        }),
    };
    out.push(r);
}

fn collect_sparse(
    s: &wire::SparseTensorProto,
    out: &mut Vec<std::result::Result<ExternalRef, String>>,
) {
    for t in [&s.values, &s.indices].into_iter().flatten() {
        collect_tensor(t, out);
    }
}

fn collect_graph(
    g: &wire::GraphProto,
    depth: usize,
    out: &mut Vec<std::result::Result<ExternalRef, String>>,
) {
    if depth > 64 {
        out.push(Err("subgraphs nested more than 64 deep".into()));
        return;
    }
    for t in &g.initializer {
        collect_tensor(t, out);
    }
    for s in &g.sparse_initializer {
        collect_sparse(s, out);
    }
    for n in &g.node {
        for a in &n.attribute {
            for t in a.t.iter().chain(&a.tensors) {
                collect_tensor(t, out);
            }
            for s in a.sparse_tensor.iter().chain(&a.sparse_tensors) {
                collect_sparse(s, out);
            }
            if let Some(sub) = &a.g {
                collect_graph(sub, depth + 1, out);
            }
            for sub in &a.graphs {
                collect_graph(sub, depth + 1, out);
            }
        }
    }
}

/// Every external-data reference of a model's tensors (errors: malformed references).
pub fn external_refs(bytes: &[u8]) -> std::result::Result<Vec<ExternalRef>, String> {
    let m =
        wire::ModelProto::decode(bytes).map_err(|e| format!("protobuf decoding failed: {e}"))?;
    let mut out = Vec::new();
    if let Some(g) = &m.graph {
        collect_graph(g, 0, &mut out);
    }
    out.into_iter().collect()
}

/// Checks a location: a plain relative path below the model's folder (ONNX Runtime's
/// in-memory address tag is refused too).
pub fn check_location(location: &str) -> std::result::Result<(), String> {
    if location.contains("_ORT_MEM_ADDR_") {
        return Err(format!(
            "external data location '{location}' is ONNX Runtime's memory-address tag; refused"
        ));
    }
    safe_relative_components(location)
        .map(|_| ())
        .map_err(|e| format!("external data location: {e}"))
}

/// Reads one external file next to the model: a regular file (symbolic links are followed,
/// special files refused) of at most `cap` bytes.
fn read_external(model: &Path, path: &Path, location: &str, cap: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let fail = |m: String| EngineError::file(model, m);
    let meta = std::fs::metadata(path).map_err(|e| {
        fail(format!(
            "external data '{location}' (looked for {}): {e}",
            path.display()
        ))
    })?;
    if !meta.is_file() {
        return Err(fail(format!(
            "external data '{location}' is not a regular file; refused"
        )));
    }
    if meta.len() > cap {
        return Err(fail(format!(
            "external data is more than {MAX_EXTERNAL_BYTES} bytes; refused at '{location}'"
        )));
    }
    let f = std::fs::File::open(path)
        .map_err(|e| fail(format!("cannot read external data '{location}': {e}")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read external data '{location}': {e}")))?;
    if bytes.len() as u64 > cap {
        return Err(fail(format!(
            "external data '{location}' grew while it was read; refused"
        )));
    }
    Ok(bytes)
}

/// Finds, checks and reads the external data of the model at `path` (whose bytes are
/// `bytes`), resolved against the model's folder.
pub fn load_external(path: &Path, bytes: &[u8]) -> Result<Vec<ExternalData>> {
    let refs = external_refs(bytes)
        .map_err(|m| EngineError::file(path, format!("not a valid ONNX model ({m})")))?;
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let mut by_location: BTreeMap<&str, Vec<&ExternalRef>> = BTreeMap::new();
    for r in &refs {
        check_location(&r.location)
            .map_err(|m| EngineError::file(path, format!("tensor '{}': {m}", r.tensor)))?;
        by_location.entry(r.location.as_str()).or_default().push(r);
    }
    if by_location.len() > MAX_EXTERNAL_FILES {
        return Err(EngineError::file(
            path,
            format!(
                "the model references {} external-data files, more than {MAX_EXTERNAL_FILES}; refused",
                by_location.len()
            ),
        ));
    }
    let folder: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut out = Vec::with_capacity(by_location.len());
    let mut total = 0u64;
    for (location, uses) in by_location {
        let file = folder.join(location);
        let data = read_external(path, &file, location, MAX_EXTERNAL_BYTES - total)?;
        total += data.len() as u64;
        let size = data.len() as u64;
        for r in uses {
            let end = match r.length {
                Some(l) => r.offset.checked_add(l),
                None => Some(r.offset),
            };
            if end.is_none_or(|e| e > size) {
                return Err(EngineError::file(
                    path,
                    format!(
                        "tensor '{}': external data at offset {}{} is past the end of '{location}' ({size} bytes)",
                        r.tensor,
                        r.offset,
                        r.length.map_or_else(String::new, |l| format!(", length {l}"))
                    ),
                ));
            }
        }
        out.push(ExternalData {
            file: ExternalFile {
                location: location.to_string(),
                size,
                sha256: sha256_bytes(&data),
            },
            bytes: Arc::from(data),
        });
    }
    Ok(out)
}

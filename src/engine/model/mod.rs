//! ONNX models: inspection (from the protobuf, no runtime needed), the plan that maps dataset
//! columns onto model inputs, and batched multi-threaded inference through ONNX Runtime.

pub mod external;
pub mod infer;
mod pool;
pub mod proto;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::{EngineError, Result};
use super::hash::sha256_bytes;
pub use infer::{predict, InferOptions, Predictions};
pub use pool::Pooled;

/// One dimension of a declared shape: a number, a symbol (`"N"`) or unknown.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Dim {
    Fixed(i64),
    Symbolic(String),
    Unknown(Option<()>),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(v) => write!(f, "{v}"),
            Dim::Symbolic(s) => write!(f, "{s}"),
            Dim::Unknown(_) => write!(f, "?"),
        }
    }
}

/// The declared type of a model input or output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueKind {
    Tensor {
        element_type: String,
        shape: Option<Vec<Dim>>,
    },
    Sequence {
        of: Box<ValueKind>,
    },
    Map {
        key: String,
        value: Box<ValueKind>,
    },
    Unknown,
}

impl std::fmt::Display for ValueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueKind::Tensor {
                element_type,
                shape: Some(shape),
            } => {
                let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
                write!(f, "{element_type}[{}]", dims.join(", "))
            }
            ValueKind::Tensor {
                element_type,
                shape: None,
            } => write!(f, "{element_type}[…]"),
            ValueKind::Sequence { of } => write!(f, "seq({of})"),
            ValueKind::Map { key, value } => write!(f, "map({key}, {value})"),
            ValueKind::Unknown => write!(f, "unknown"),
        }
    }
}

impl ValueKind {
    fn from_proto(t: Option<&proto::TypeProto>) -> Self {
        use proto::type_proto::Value;
        match t.and_then(|t| t.value.as_ref()) {
            Some(Value::TensorType(tensor)) => ValueKind::Tensor {
                element_type: proto::elem_type_name(tensor.elem_type).to_string(),
                shape: tensor.shape.as_ref().map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match &d.value {
                            Some(proto::dimension::Value::DimValue(v)) => Dim::Fixed(*v),
                            Some(proto::dimension::Value::DimParam(p)) if !p.is_empty() => {
                                Dim::Symbolic(p.clone())
                            }
                            _ => Dim::Unknown(None),
                        })
                        .collect()
                }),
            },
            Some(Value::SequenceType(seq)) => ValueKind::Sequence {
                of: Box::new(ValueKind::from_proto(seq.elem_type.as_deref())),
            },
            Some(Value::MapType(map)) => ValueKind::Map {
                key: proto::elem_type_name(map.key_type).to_string(),
                value: Box::new(ValueKind::from_proto(map.value_type.as_deref())),
            },
            _ => ValueKind::Unknown,
        }
    }

    pub fn element_type(&self) -> Option<&str> {
        match self {
            ValueKind::Tensor { element_type, .. } => Some(element_type),
            _ => None,
        }
    }

    pub fn shape(&self) -> Option<&[Dim]> {
        match self {
            ValueKind::Tensor { shape: Some(s), .. } => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct IoDesc {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ValueKind,
}

#[derive(Debug, Clone, Serialize)]
pub struct Opset {
    pub domain: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpCount {
    pub domain: String,
    pub op_type: String,
    pub count: usize,
}

/// Everything `assay inspect --model` reports.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    pub file_size: u64,
    pub sha256: String,
    pub ir_version: i64,
    pub producer_name: String,
    pub producer_version: String,
    pub graph_name: String,
    /// `model_name` metadata, else the graph name.
    pub name: Option<String>,
    /// `model_version` metadata, else the ModelProto version when non-zero.
    pub version: Option<String>,
    pub opset_imports: Vec<Opset>,
    pub op_types: Vec<OpCount>,
    pub metadata: BTreeMap<String, String>,
    pub inputs: Vec<IoDesc>,
    pub outputs: Vec<IoDesc>,
    /// Class labels declared by a classifier node of the graph, when there is one.
    pub declared_classes: Option<Vec<String>>,
    /// External-data files of the model's tensors, resolved next to the model file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_data: Vec<external::ExternalFile>,
}

impl ModelInfo {
    /// The `features` metadata (Assay's convention), split on commas.
    pub fn metadata_features(&self) -> Option<Vec<String>> {
        let raw = self.metadata.get("features")?;
        let list: Vec<String> = raw
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!list.is_empty()).then_some(list)
    }
}

/// A model file read into memory and parsed; sessions are created from the bytes on demand
/// and reused ([`Model::pooled_session`]).
#[derive(Debug, Clone)]
pub struct Model {
    pub info: ModelInfo,
    bytes: std::sync::Arc<Vec<u8>>,
    /// External-data files, read once next to the model file and given to ONNX Runtime
    /// from memory.
    external: std::sync::Arc<Vec<external::ExternalData>>,
    /// Sessions made from these bytes, kept for the next run (shared by clones).
    pool: pool::SessionPool,
}

const CLASSIFIER_OPS: &[&str] = &[
    "LinearClassifier",
    "TreeEnsembleClassifier",
    "SVMClassifier",
    "ZipMap",
    "Normalizer",
];

impl Model {
    pub fn load(path: &Path) -> Result<Model> {
        let bytes =
            crate::engine::fsio::read_capped(path, "model", crate::engine::fsio::caps::MODEL)?;
        Self::from_bytes(path, bytes)
    }

    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Model> {
        if bytes.is_empty() {
            return Err(EngineError::file(
                path,
                "the file is empty, not an ONNX model",
            ));
        }
        let proto = proto::decode(&bytes).map_err(|e| {
            EngineError::file(
                path,
                format!("not a valid ONNX model (protobuf decoding failed: {e})"),
            )
        })?;
        let Some(graph) = proto.graph.as_ref() else {
            return Err(EngineError::file(
                path,
                "not a valid ONNX model (it has no graph)",
            ));
        };
        if proto.opset_import.is_empty() || graph.node.is_empty() {
            return Err(EngineError::file(
                path,
                "not a valid ONNX model (no operator set imports or no nodes)",
            ));
        }
        let external = external::load_external(path, &bytes)?;
        let metadata: BTreeMap<String, String> = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();

        let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut declared_classes = None;
        count_ops(graph, &mut counts, &mut declared_classes);

        let name = metadata
            .get("model_name")
            .cloned()
            .or_else(|| (!graph.name.is_empty()).then(|| graph.name.clone()));
        let version = metadata
            .get("model_version")
            .cloned()
            .or_else(|| (proto.model_version != 0).then(|| proto.model_version.to_string()));
        let info = ModelInfo {
            path: path.to_path_buf(),
            file_size: bytes.len() as u64,
            sha256: sha256_bytes(&bytes),
            ir_version: proto.ir_version,
            producer_name: proto.producer_name.clone(),
            producer_version: proto.producer_version.clone(),
            graph_name: graph.name.clone(),
            name,
            version,
            opset_imports: proto
                .opset_import
                .iter()
                .map(|o| Opset {
                    domain: if o.domain.is_empty() {
                        "ai.onnx".into()
                    } else {
                        o.domain.clone()
                    },
                    version: o.version,
                })
                .collect(),
            op_types: counts
                .into_iter()
                .map(|((domain, op_type), count)| OpCount {
                    domain,
                    op_type,
                    count,
                })
                .collect(),
            metadata,
            inputs: graph
                .input
                .iter()
                .map(|v| IoDesc {
                    name: v.name.clone(),
                    kind: ValueKind::from_proto(v.r#type.as_ref()),
                })
                .collect(),
            outputs: graph
                .output
                .iter()
                .map(|v| IoDesc {
                    name: v.name.clone(),
                    kind: ValueKind::from_proto(v.r#type.as_ref()),
                })
                .collect(),
            declared_classes,
            external_data: external.iter().map(|e| e.file.clone()).collect(),
        };
        Ok(Model {
            info,
            bytes: std::sync::Arc::new(bytes),
            external: std::sync::Arc::new(external),
            pool: pool::SessionPool::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.info.path
    }

    /// The model file's bytes (for reading graph attributes with [`proto::decode`]).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The external-data files (location, bytes) the model's tensors reference.
    pub fn external_data(&self) -> &[external::ExternalData] {
        &self.external
    }

    /// A new ONNX Runtime session on this model with `intra_threads` threads. External data
    /// is handed over from memory (the bytes read next to the model file), and the folder
    /// ONNX Runtime would read anything else from is the model's, never the working directory.
    pub fn session(&self, intra_threads: usize) -> Result<ort::session::Session> {
        let env = super::runtime::environment()?;
        let fail = |e: ort::Error| {
            EngineError::file(
                &self.info.path,
                format!("ONNX Runtime cannot load this model: {e}"),
            )
        };
        let mut builder = ort::session::Session::builder(env)
            .map_err(|e| {
                EngineError::Runtime(format!("cannot create an ONNX Runtime session: {e}"))
            })?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| fail(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| fail(e.into()))?;
        if !self.external.is_empty() {
            let folder = match self.info.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let folder = std::path::absolute(&folder).unwrap_or(folder);
            builder = builder
                .with_config_entry(
                    "session.model_external_initializers_file_folder_path",
                    folder.to_string_lossy(),
                )
                .map_err(|e| fail(e.into()))?;
            for x in self.external.iter() {
                builder = builder
                    .with_external_initializer_file_in_memory(
                        Path::new(&x.file.location),
                        x.bytes.clone(),
                    )
                    .map_err(|e| fail(e.into()))?;
            }
        }
        builder.commit_from_memory(&self.bytes).map_err(fail)
    }

    /// Loads the model into ONNX Runtime once, to prove it runs there.
    pub fn validate(&self) -> Result<()> {
        self.pooled_session(1).map(|_| ())
    }
}

fn count_ops(
    graph: &proto::GraphProto,
    counts: &mut BTreeMap<(String, String), usize>,
    classes: &mut Option<Vec<String>>,
) {
    for node in &graph.node {
        let domain = if node.domain.is_empty() {
            "ai.onnx".to_string()
        } else {
            node.domain.clone()
        };
        *counts.entry((domain, node.op_type.clone())).or_default() += 1;
        if classes.is_none() && CLASSIFIER_OPS.contains(&node.op_type.as_str()) {
            for attr in &node.attribute {
                match attr.name.as_str() {
                    "classlabels_ints" | "classlabels_int64s" if !attr.ints.is_empty() => {
                        *classes = Some(attr.ints.iter().map(ToString::to_string).collect());
                    }
                    "classlabels_strings" if !attr.strings.is_empty() => {
                        *classes = Some(
                            attr.strings
                                .iter()
                                .map(|s| String::from_utf8_lossy(s).into_owned())
                                .collect(),
                        );
                    }
                    _ => {}
                }
            }
        }
        for attr in &node.attribute {
            if let Some(g) = &attr.g {
                count_ops(g, counts, classes);
            }
            for g in &attr.graphs {
                count_ops(g, counts, classes);
            }
        }
    }
}

/// Element types a per-column model input can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Elem {
    Float,
    Double,
    Int64,
    Int32,
    String,
    Bool,
}

impl Elem {
    fn from_name(name: &str) -> Option<Elem> {
        Some(match name {
            "float" => Elem::Float,
            "double" => Elem::Double,
            "int64" => Elem::Int64,
            "int32" => Elem::Int32,
            "string" => Elem::String,
            "bool" => Elem::Bool,
            _ => return None,
        })
    }

    pub fn is_numeric(self) -> bool {
        !matches!(self, Elem::String)
    }
}

/// How dataset columns feed the model's inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputPlan {
    /// One `[N, F]` float tensor filled from `features`, in order.
    Matrix {
        input: String,
        features: Vec<String>,
        double: bool,
    },
    /// One `[N, 1]` tensor per input, each filled from the column of the same name.
    PerColumn { inputs: Vec<(String, Elem)> },
}

impl InputPlan {
    /// The dataset columns this plan reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            InputPlan::Matrix { features, .. } => features.clone(),
            InputPlan::PerColumn { inputs } => inputs.iter().map(|(n, _)| n.clone()).collect(),
        }
    }
}

/// Decides how to feed `info`'s inputs: `--features` first, then the `features` metadata,
/// else a clear error saying what is needed.
pub fn plan_inputs(info: &ModelInfo, features: Option<&[String]>) -> Result<InputPlan> {
    let path = &info.path;
    if info.inputs.is_empty() {
        return Err(EngineError::file(path, "the model declares no inputs"));
    }
    if info.inputs.len() == 1 {
        let input = &info.inputs[0];
        let elem = input.kind.element_type().and_then(Elem::from_name);
        let shape = input.kind.shape();
        let width = match shape {
            Some([_, Dim::Fixed(w)]) => Some(*w),
            _ => None,
        };
        let is_matrix = matches!(elem, Some(Elem::Float | Elem::Double))
            && matches!(shape, Some(s) if s.len() == 2);
        let chosen = features
            .map(<[String]>::to_vec)
            .or_else(|| info.metadata_features());
        if is_matrix && (width != Some(1) || chosen.is_some()) {
            let Some(list) = chosen else {
                let w = width.map_or_else(|| "F".to_string(), |w| w.to_string());
                return Err(EngineError::file(
                    path,
                    format!(
                        "input '{}' is a {} tensor [N, {w}] and the model has no 'features' metadata; pass --features with {w} dataset column names in input order",
                        input.name, input.kind.element_type().unwrap_or("float"),
                    ),
                ));
            };
            if let Some(w) = width {
                if w >= 0 && list.len() as i64 != w {
                    return Err(EngineError::usage(format!(
                        "{}: input '{}' has {w} features but {} column names were given ({})",
                        path.display(),
                        input.name,
                        list.len(),
                        list.join(",")
                    )));
                }
            }
            return Ok(InputPlan::Matrix {
                input: input.name.clone(),
                features: list,
                double: elem == Some(Elem::Double),
            });
        }
    }
    if let Some(list) = features.filter(|_| info.inputs.len() > 1) {
        // Per-column inputs are filled by name; a feature list is accepted when it names
        // exactly those inputs.
        let mut given: Vec<&str> = list.iter().map(String::as_str).collect();
        let mut wanted: Vec<&str> = info.inputs.iter().map(|i| i.name.as_str()).collect();
        given.sort_unstable();
        wanted.sort_unstable();
        if given != wanted {
            return Err(EngineError::usage(format!(
                "{}: the model has {} inputs, one per column, filled by name ({}); the features given ({}) do not match them",
                path.display(),
                info.inputs.len(),
                wanted.join(","),
                list.join(",")
            )));
        }
    }
    let mut inputs = Vec::new();
    for input in &info.inputs {
        let ok_shape = matches!(
            input.kind.shape(),
            Some([_] | [_, Dim::Fixed(1) | Dim::Unknown(_) | Dim::Symbolic(_)]) | None
        );
        match input.kind.element_type().and_then(Elem::from_name) {
            Some(elem) if ok_shape => inputs.push((input.name.clone(), elem)),
            _ => {
                return Err(EngineError::file(
                    path,
                    format!(
                        "input '{}' ({}) cannot be filled from a dataset column; Assay supports one [N, F] float input or one [N, 1] float/int/string input per column",
                        input.name, input.kind
                    ),
                ))
            }
        }
    }
    Ok(InputPlan::PerColumn { inputs })
}

//! The sampled rows as editable per-feature columns, the edits that make perturbed copies of
//! them, and the model's scores and decisions on a batch of such copies.

use crate::engine::data::extract::{ColumnData, InputData};
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{predict, InferOptions, Model, Predictions};
use crate::engine::progress::Stage;

/// The element type a numeric feature is fed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumKind {
    F32,
    F64,
    I64,
    I32,
    Bool,
}

impl NumKind {
    /// The value the model actually sees for `v`.
    pub fn fed(self, v: f64) -> f64 {
        match self {
            NumKind::F32 => f64::from(v as f32),
            NumKind::F64 => v,
            NumKind::I64 | NumKind::I32 => v.round(),
            NumKind::Bool => f64::from(u8::from(v != 0.0)),
        }
    }

    pub fn is_integer(self) -> bool {
        matches!(self, NumKind::I64 | NumKind::I32 | NumKind::Bool)
    }

    pub fn name(self) -> &'static str {
        match self {
            NumKind::F32 => "float",
            NumKind::F64 => "double",
            NumKind::I64 => "int64",
            NumKind::I32 => "int32",
            NumKind::Bool => "bool",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Col {
    Num(NumKind, Vec<f64>),
    Text(Vec<String>),
}

/// A new value for one feature of a perturbed row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Num(f64),
    Text(String),
}

/// A perturbed copy of sampled row `row`.
#[derive(Debug, Clone)]
pub struct Edit {
    pub row: usize,
    pub changes: Vec<(usize, Val)>,
}

#[derive(Debug, Clone)]
enum Layout {
    Matrix { input: String, double: bool },
    PerColumn,
}

/// Rows as per-feature columns, in the model's input order.
#[derive(Debug, Clone)]
pub struct Frame {
    layout: Layout,
    pub names: Vec<String>,
    pub cols: Vec<Col>,
}

impl Frame {
    pub fn from_inputs(inputs: &InputData, names: &[String]) -> Frame {
        match inputs {
            InputData::MatrixF32 {
                input,
                width,
                values,
            } => Frame::from_matrix(
                input,
                *width,
                values.iter().map(|&v| f64::from(v)),
                false,
                names,
            ),
            InputData::MatrixF64 {
                input,
                width,
                values,
            } => Frame::from_matrix(input, *width, values.iter().copied(), true, names),
            InputData::Columns(cols) => Frame {
                layout: Layout::PerColumn,
                names: cols.iter().map(|(n, _)| n.clone()).collect(),
                cols: cols
                    .iter()
                    .map(|(_, c)| match c {
                        ColumnData::F32(v) => {
                            Col::Num(NumKind::F32, v.iter().map(|&x| f64::from(x)).collect())
                        }
                        ColumnData::F64(v) => Col::Num(NumKind::F64, v.clone()),
                        ColumnData::I64(v) => {
                            Col::Num(NumKind::I64, v.iter().map(|&x| x as f64).collect())
                        }
                        ColumnData::I32(v) => {
                            Col::Num(NumKind::I32, v.iter().map(|&x| f64::from(x)).collect())
                        }
                        ColumnData::Bool(v) => Col::Num(
                            NumKind::Bool,
                            v.iter().map(|&x| f64::from(u8::from(x))).collect(),
                        ),
                        ColumnData::Str(v) => Col::Text(v.clone()),
                    })
                    .collect(),
            },
        }
    }

    fn from_matrix(
        input: &str,
        width: usize,
        values: impl Iterator<Item = f64>,
        double: bool,
        names: &[String],
    ) -> Frame {
        let all: Vec<f64> = values.collect();
        let rows = all.len() / width.max(1);
        let kind = if double { NumKind::F64 } else { NumKind::F32 };
        let cols = (0..width)
            .map(|j| Col::Num(kind, (0..rows).map(|r| all[r * width + j]).collect()))
            .collect();
        Frame {
            layout: Layout::Matrix {
                input: input.to_string(),
                double,
            },
            names: names.to_vec(),
            cols,
        }
    }

    pub fn rows(&self) -> usize {
        self.cols.first().map_or(0, |c| match c {
            Col::Num(_, v) => v.len(),
            Col::Text(v) => v.len(),
        })
    }

    /// The rows `idx` of this frame.
    pub fn gather(&self, idx: &[usize]) -> Frame {
        Frame {
            layout: self.layout.clone(),
            names: self.names.clone(),
            cols: self
                .cols
                .iter()
                .map(|c| match c {
                    Col::Num(k, v) => Col::Num(*k, idx.iter().map(|&i| v[i]).collect()),
                    Col::Text(v) => Col::Text(idx.iter().map(|&i| v[i].clone()).collect()),
                })
                .collect(),
        }
    }

    pub fn num(&self, j: usize, row: usize) -> Option<f64> {
        match &self.cols[j] {
            Col::Num(_, v) => Some(v[row]),
            Col::Text(_) => None,
        }
    }

    pub fn kind(&self, j: usize) -> Option<NumKind> {
        match &self.cols[j] {
            Col::Num(k, _) => Some(*k),
            Col::Text(_) => None,
        }
    }

    /// Model inputs for the unedited rows.
    pub fn inputs(&self) -> InputData {
        let all: Vec<Edit> = (0..self.rows())
            .map(|row| Edit {
                row,
                changes: Vec::new(),
            })
            .collect();
        self.build(&all)
    }

    /// Model inputs for `edits`, one row per edit, in order.
    pub fn build(&self, edits: &[Edit]) -> InputData {
        enum Built {
            Num(Vec<f64>),
            Text(Vec<String>),
        }
        let n = edits.len();
        let mut built: Vec<Built> = self
            .cols
            .iter()
            .map(|c| match c {
                Col::Num(_, v) => Built::Num(edits.iter().map(|e| v[e.row]).collect()),
                Col::Text(v) => Built::Text(edits.iter().map(|e| v[e.row].clone()).collect()),
            })
            .collect();
        for (i, e) in edits.iter().enumerate() {
            for (j, val) in &e.changes {
                match (&mut built[*j], val) {
                    (Built::Num(v), Val::Num(x)) => v[i] = *x,
                    (Built::Text(v), Val::Text(s)) => v[i].clone_from(s),
                    _ => {}
                }
            }
        }
        match &self.layout {
            Layout::Matrix { input, double } => {
                let width = self.cols.len();
                let value = |i: usize, j: usize| match &built[j] {
                    Built::Num(v) => v[i],
                    Built::Text(_) => f64::NAN,
                };
                if *double {
                    let values = (0..n * width)
                        .map(|x| value(x / width, x % width))
                        .collect();
                    InputData::MatrixF64 {
                        input: input.clone(),
                        width,
                        values,
                    }
                } else {
                    let values = (0..n * width)
                        .map(|x| value(x / width, x % width) as f32)
                        .collect();
                    InputData::MatrixF32 {
                        input: input.clone(),
                        width,
                        values,
                    }
                }
            }
            Layout::PerColumn => InputData::Columns(
                self.cols
                    .iter()
                    .zip(built)
                    .zip(&self.names)
                    .map(|((c, b), name)| {
                        let data = match (c, b) {
                            (_, Built::Text(v)) => ColumnData::Str(v),
                            (Col::Num(NumKind::F32, _), Built::Num(v)) => {
                                ColumnData::F32(v.iter().map(|&x| x as f32).collect())
                            }
                            (Col::Num(NumKind::I64, _), Built::Num(v)) => {
                                ColumnData::I64(v.iter().map(|&x| x.round() as i64).collect())
                            }
                            (Col::Num(NumKind::I32, _), Built::Num(v)) => {
                                ColumnData::I32(v.iter().map(|&x| x.round() as i32).collect())
                            }
                            (Col::Num(NumKind::Bool, _), Built::Num(v)) => {
                                ColumnData::Bool(v.iter().map(|&x| x != 0.0).collect())
                            }
                            (_, Built::Num(v)) => ColumnData::F64(v),
                        };
                        (name.clone(), data)
                    })
                    .collect(),
            ),
        }
    }
}

/// How predictions become one score and one decision per row.
#[derive(Debug, Clone)]
pub enum Decider {
    /// Probability of class `pos`; decision `pos` when `p >= threshold`, else `neg`.
    Binary {
        pos: usize,
        neg: usize,
        threshold: f64,
    },
    /// Arg-max (first of ties) over `k` classes.
    Multiclass {
        k: usize,
    },
    Regression,
}

/// Scores on a batch: `p` is row-major `[rows, k]` (`k = 1` for binary and regression: the
/// positive-class probability or the value); `decision` is a class index (0 for regression).
#[derive(Debug, Clone)]
pub struct Scored {
    pub k: usize,
    pub p: Vec<f64>,
    pub decision: Vec<u32>,
}

impl Scored {
    /// The score the decision of `base_decision` rests on: the binary/regression score, or
    /// the probability of that class (multiclass).
    pub fn score(&self, i: usize, class: u32) -> f64 {
        if self.k == 1 {
            self.p[i]
        } else {
            self.p[i * self.k + class as usize]
        }
    }

    /// Distance to the decision boundary, positive on the side of `class`.
    pub fn margin(&self, i: usize, class: u32, decider: &Decider) -> f64 {
        match decider {
            Decider::Binary { pos, threshold, .. } => {
                let m = self.p[i] - threshold;
                if class as usize == *pos {
                    m
                } else {
                    -m
                }
            }
            Decider::Multiclass { k } => {
                let row = &self.p[i * k..(i + 1) * k];
                let own = row[class as usize];
                let other = row
                    .iter()
                    .enumerate()
                    .filter(|(c, _)| *c != class as usize)
                    .map(|(_, &v)| v)
                    .fold(f64::NEG_INFINITY, f64::max);
                own - other
            }
            Decider::Regression => 0.0,
        }
    }
}

/// Runs the model on `inputs` and applies `decider`.
pub fn score(
    model: &Model,
    inputs: &InputData,
    decider: &Decider,
    infer: &InferOptions,
    stage: &Stage,
) -> Result<Scored> {
    let preds = predict(model, inputs, infer, stage)?;
    scored(preds, decider, model)
}

/// Applies `decider` to predictions.
pub fn scored(preds: Predictions, decider: &Decider, model: &Model) -> Result<Scored> {
    match (preds, decider) {
        (
            Predictions::Classification { classes, proba },
            Decider::Binary {
                pos,
                neg,
                threshold,
            },
        ) => {
            let k = classes.len();
            let p: Vec<f64> = proba.chunks(k).map(|r| f64::from(r[*pos])).collect();
            let decision = p
                .iter()
                .map(|&s| {
                    if s >= *threshold {
                        *pos as u32
                    } else {
                        *neg as u32
                    }
                })
                .collect();
            Ok(Scored { k: 1, p, decision })
        }
        (Predictions::Classification { classes, proba }, Decider::Multiclass { k }) => {
            if classes.len() != *k {
                return Err(EngineError::file(
                    model.path(),
                    "the model returned a different number of classes",
                ));
            }
            let p: Vec<f64> = proba.iter().map(|&v| f64::from(v)).collect();
            let decision = p.chunks(*k).map(argmax).collect();
            Ok(Scored { k: *k, p, decision })
        }
        (Predictions::Regression { values }, Decider::Regression) => Ok(Scored {
            k: 1,
            decision: vec![0; values.len()],
            p: values.into_iter().map(f64::from).collect(),
        }),
        _ => Err(EngineError::file(
            model.path(),
            "the model's outputs changed kind between runs",
        )),
    }
}

/// Index of the first largest value (NaN never wins).
pub fn argmax(row: &[f64]) -> u32 {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v > row[best] {
            best = j;
        }
    }
    best as u32
}

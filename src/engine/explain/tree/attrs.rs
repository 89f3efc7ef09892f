//! Typed access to a tree-ensemble node's attributes (lists, strings, double-precision
//! `*_as_tensor` variants, tensor attributes of opset 5).

use std::collections::HashMap;

use crate::engine::model::proto::full::{AttributeProto, NodeProto};
use crate::engine::model::proto::TensorProto;

pub(super) const FLOAT: i32 = 1;
pub(super) const DOUBLE: i32 = 11;

pub(super) struct Attrs<'a>(HashMap<&'a str, &'a AttributeProto>);

impl<'a> Attrs<'a> {
    pub(super) fn new(node: &'a NodeProto) -> Self {
        Attrs(
            node.attribute
                .iter()
                .map(|a| (a.name.as_str(), a))
                .collect(),
        )
    }

    pub(super) fn ints(&self, name: &str) -> &'a [i64] {
        self.0.get(name).map(|a| a.ints.as_slice()).unwrap_or(&[])
    }

    pub(super) fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).map(|a| a.i)
    }

    pub(super) fn string(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    pub(super) fn strings(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .map(|a| {
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `name_as_tensor` (double precision) when present, else the float list `name`.
    pub(super) fn reals(&self, name: &str) -> Vec<f64> {
        if let Some(t) = self
            .0
            .get(format!("{name}_as_tensor").as_str())
            .and_then(|a| a.t.as_ref())
        {
            return tensor_f64(t);
        }
        self.tensor_or_floats(name)
    }

    pub(super) fn tensor_or_floats(&self, name: &str) -> Vec<f64> {
        match self.0.get(name) {
            Some(a) => match &a.t {
                Some(t) => tensor_f64(t),
                None => a.floats.iter().map(|&f| f as f64).collect(),
            },
            None => Vec::new(),
        }
    }
}

/// A numeric tensor's values as f64 (float, double, integer storage or raw little-endian).
pub(super) fn tensor_f64(t: &TensorProto) -> Vec<f64> {
    if !t.double_data.is_empty() {
        return t.double_data.clone();
    }
    if !t.float_data.is_empty() {
        return t.float_data.iter().map(|&f| f as f64).collect();
    }
    if !t.int64_data.is_empty() {
        return t.int64_data.iter().map(|&f| f as f64).collect();
    }
    if !t.int32_data.is_empty() {
        return t.int32_data.iter().map(|&f| f as f64).collect();
    }
    let raw = &t.raw_data;
    match t.data_type {
        FLOAT => raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
        DOUBLE => raw
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect(),
        2 | 3 => raw.iter().map(|&b| b as f64).collect(),
        7 => raw
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64)
            .collect(),
        _ => Vec::new(),
    }
}

//! Model inputs for timing: rows gathered (cycled) from the prepared dataset into ready-made
//! batches, and the ONNX Runtime feed for one batch (views, no copies, except string
//! tensors, which ONNX Runtime must own).

use ort::session::Session;

use crate::engine::data::extract::InputData;
use crate::engine::error::{EngineError, Result};
use crate::engine::model::infer::session_inputs;

/// `count` rows starting at `start`, wrapping around the `n` rows available.
pub fn cycled(start: usize, count: usize, n: usize) -> Vec<usize> {
    (0..count).map(|i| (start + i) % n.max(1)).collect()
}

/// Runs `session` once on all of `inputs` and drops the outputs.
pub fn run(session: &mut Session, inputs: &InputData, path: &std::path::Path) -> Result<()> {
    let err = |e: ort::Error| {
        EngineError::file(path, format!("ONNX Runtime failed to run the model: {e}"))
    };
    let feed = session_inputs(inputs, 0, inputs.rows(), &err)?;
    let outputs = session.run(feed).map_err(err)?;
    drop(outputs);
    Ok(())
}

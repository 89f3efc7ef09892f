//! Reading a prediction log for monitoring: scores (from the file, or from `--model` run on
//! the logged features), predicted labels, labels (a column of the file, or a separate label
//! file joined by id), strictly: every problem names the file, column and 1-based row.

use std::collections::HashMap;

use crate::engine::data::extract::{label_of_number, InvalidRows};
use crate::engine::data::Dataset;
use crate::engine::drift::columns::{self, FewFirst, Raw, Text};
use crate::engine::error::{EngineError, Result};
use crate::engine::model::{plan_inputs, InferOptions, Model, Predictions};
use crate::engine::progress::Progress;

/// Text of each row of a column, dictionary-encoded (missing rows [`columns::MISSING`]);
/// numbers print as labels (`1`, `0.5`), each distinct number formatted once.
pub fn labels(ds: &Dataset, column: &str) -> Result<Text> {
    let mut numbers = NumbersAsText::default();
    let text = columns::read_blocks(ds, column, |block| {
        if numbers.text.codes.capacity() == 0 {
            numbers.text.codes.reserve_exact(ds.rows());
        }
        numbers.extend(block);
        Ok(())
    })?;
    Ok(text.unwrap_or(numbers.text))
}

/// Numbers as label text: one dictionary entry per distinct bit pattern (found through a
/// [`FewFirst`]: a log holds few label values).
#[derive(Default)]
struct NumbersAsText {
    codes_of: FewFirst<u64, u32>,
    text: Text,
}

impl NumbersAsText {
    fn extend(&mut self, values: &[f64]) {
        let t = &mut self.text;
        for &v in values {
            if v.is_nan() {
                t.codes.push(columns::MISSING);
                continue;
            }
            // -0.0 and 0.0 print alike ("0"), so they are one label.
            let b = if v == 0.0 { 0 } else { v.to_bits() };
            let code = self.codes_of.get(b).unwrap_or_else(|| {
                let c = t.dict.len() as u32;
                t.dict.push(label_of_number(v));
                self.codes_of.insert(b, c);
                c
            });
            t.codes.push(code);
        }
    }
}

#[cfg(test)]
fn numbers_as_text(values: &[f64]) -> Text {
    let mut n = NumbersAsText::default();
    n.extend(values);
    n.text
}

/// A score column: finite numbers in [0, 1], none missing.
pub fn scores(ds: &Dataset, column: &str) -> Result<Vec<f64>> {
    let Raw::Numeric { values, .. } = columns::read(ds, column)? else {
        return Err(EngineError::column(
            &ds.path,
            column,
            "holds text; a score column holds probabilities in [0, 1]",
        ));
    };
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() {
            return Err(EngineError::cell(&ds.path, column, i + 1, "missing score"));
        }
        if !(0.0..=1.0).contains(&v) {
            return Err(EngineError::cell(
                &ds.path,
                column,
                i + 1,
                format!("score {v} is outside [0, 1]; monitoring needs probabilities"),
            ));
        }
    }
    // The column's own values when it was read shared with the frame.
    Ok(values.to_vec())
}

/// Binary label text → positive?
pub fn binary_label(s: &str) -> Option<bool> {
    // The usual spellings without the lower-cased copy.
    match s {
        "1" | "true" => return Some(true),
        "0" | "false" => return Some(false),
        _ => {}
    }
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Binary labels or predictions: 0/1 or true/false; `allow_missing` for analysis labels.
/// Each distinct value is read once (a dictionary entry of a text column, a number of a
/// numeric one), so a long log costs one lookup per row.
pub fn binary_column(ds: &Dataset, column: &str, allow_missing: bool) -> Result<Vec<Option<bool>>> {
    let bad = |i: usize, s: &str| {
        EngineError::cell(
            &ds.path,
            column,
            i + 1,
            format!("'{s}' is not a binary label (use 0/1 or true/false)"),
        )
    };
    let missing = |i: usize| EngineError::cell(&ds.path, column, i + 1, "missing value");
    // The numbers met and their labels: a binary column has two or three (0, -0, 1) before
    // any other is an error.
    let mut seen: FewFirst<u64, Option<bool>> = FewFirst::default();
    let mut out: Vec<Option<bool>> = Vec::new();
    let text = columns::read_blocks(ds, column, |block| {
        if out.capacity() == 0 {
            out.reserve_exact(ds.rows());
        }
        for &v in block {
            let i = out.len();
            if v.is_nan() {
                if !allow_missing {
                    return Err(missing(i));
                }
                out.push(None);
                continue;
            }
            let bits = v.to_bits();
            let b = seen.get(bits).unwrap_or_else(|| {
                let b = binary_label(&label_of_number(v));
                seen.insert(bits, b);
                b
            });
            out.push(Some(b.ok_or_else(|| bad(i, &label_of_number(v)))?));
        }
        Ok(())
    })?;
    match text {
        None => Ok(out),
        Some(values) => {
            let parsed: Vec<Option<bool>> = values.dict.iter().map(|s| binary_label(s)).collect();
            values
                .codes
                .iter()
                .enumerate()
                .map(|(i, &c)| match parsed.get(c as usize) {
                    None if allow_missing => Ok(None),
                    None => Err(missing(i)),
                    Some(Some(b)) => Ok(Some(*b)),
                    Some(None) => Err(bad(i, values.get(i).unwrap_or_default())),
                })
                .collect()
        }
    }
}

/// Labels of the analysis rows from a separate file joined by id: the label text per row,
/// `None` where the id has no label (yet). Duplicate ids in the label file, or no id joining
/// at all, are errors.
pub fn join_labels(
    analysis: &Dataset,
    targets: &Dataset,
    id: &str,
    target: &str,
) -> Result<(Text, usize)> {
    for (ds, col) in [(analysis, id), (targets, id), (targets, target)] {
        if !ds.has_column(col) {
            return Err(EngineError::column(
                &ds.path,
                col,
                format!(
                    "no such column; the file has: {}",
                    ds.column_names().join(", ")
                ),
            ));
        }
    }
    let ids = labels(targets, id)?;
    let ys = labels(targets, target)?;
    let mut map: HashMap<&str, Option<&str>> = HashMap::with_capacity(ids.len());
    for (i, (k, y)) in ids.iter().zip(ys.iter()).enumerate() {
        let Some(k) = k else {
            return Err(EngineError::cell(&targets.path, id, i + 1, "missing id"));
        };
        if map.insert(k, y).is_some() {
            return Err(EngineError::cell(
                &targets.path,
                id,
                i + 1,
                format!("id '{k}' appears twice; each id needs one label"),
            ));
        }
    }
    let log_ids = labels(analysis, id)?;
    let mut joined = 0usize;
    let out = Text::from_values(log_ids.iter().map(|k| {
        let hit = k.and_then(|k| map.get(k));
        if hit.is_some() {
            joined += 1;
        }
        hit.copied().flatten()
    }));
    if joined == 0 {
        return Err(EngineError::column(
            &targets.path,
            id,
            format!(
                "no id joins the analysis log {} (column '{id}'): the label file is for other rows",
                analysis.path.display()
            ),
        ));
    }
    Ok((out, analysis.rows() - joined))
}

/// Scores of a model on the logged features: binary → the positive-class probability,
/// multiclass → one column per class. Missing float inputs reach the model as NaN; a row it
/// returns no finite score for is an error (rows must align with the log).
pub fn model_scores(
    model: &Model,
    ds: &Dataset,
    features: Option<&[String]>,
    progress: &Progress,
    stage: (f32, f32),
) -> Result<(Vec<String>, Vec<f64>)> {
    let plan = plan_inputs(&model.info, features)?;
    // Rows must align with the log: a row the model cannot score is an error.
    let p = crate::engine::scored::score(
        model,
        ds,
        &plan,
        None,
        InvalidRows::Error,
        &InferOptions::default(),
        &progress.stage(stage.0, stage.1),
    )?
    .predictions;
    match p {
        Predictions::Regression { .. } => Err(EngineError::usage(format!(
            "{}: the model is a regressor; monitoring estimates classifier performance",
            model.info.path.display()
        ))),
        Predictions::Classification { classes, proba } => {
            Ok((classes, proba.iter().map(|&v| f64::from(v)).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_become_label_text_once_each() {
        let v: Vec<f64> = (0..60)
            .map(|i| {
                if i % 7 == 0 {
                    f64::NAN
                } else {
                    (i % 25) as f64
                }
            })
            .collect();
        let t = numbers_as_text(&v);
        let got: Vec<Option<&str>> = t.iter().collect();
        let want: Vec<Option<String>> = v
            .iter()
            .map(|&x| (!x.is_nan()).then(|| label_of_number(x)))
            .collect();
        assert_eq!(got, want.iter().map(Option::as_deref).collect::<Vec<_>>());
        assert_eq!(t.dict.len(), 25);
    }

    #[test]
    fn zero_and_negative_zero_are_one_label() {
        let t = numbers_as_text(&[0.0, -0.0, 1.0, -0.0]);
        assert_eq!(t.codes, vec![0, 0, 1, 0]);
        assert_eq!(t.dict, vec!["0".to_string(), "1".to_string()]);
    }
}

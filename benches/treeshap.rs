//! Interventional TreeSHAP benchmark: sample_models/adult_gbdt_v2 (120 trees, depth 4), 10,000
//! rows (adult_eval + adult_current) × 100 background rows (first 100 of adult_reference), raw
//! log-odds space — the same work `benches/treeshap_baseline.py` times with shap's C++
//! TreeExplainer. Prints the median of 3 runs (`benches/treeshap_compare.sh` runs both).
//!
//!     cargo bench --no-default-features --bench treeshap

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use assay::engine::explain::tree::{interventional, path_dependent, Forest};
use assay::engine::Progress;

const FEATURES: [&str; 6] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "sex_male",
];

/// The feature columns of a simple numeric CSV (no quoted commas in these files), row-major.
fn read_features(path: &Path) -> anyhow::Result<Vec<f64>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().context("empty csv")?.split(',').collect();
    let cols: Vec<usize> = FEATURES
        .iter()
        .map(|f| header.iter().position(|h| h == f).context("missing column"))
        .collect::<anyhow::Result<_>>()?;
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        for &c in &cols {
            out.push(cells[c].parse::<f64>()?);
        }
    }
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("usage: cargo bench --no-default-features --bench treeshap");
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("sample_models/adult_gbdt_v2.onnx");
    let forest = Forest::from_bytes(&model, &std::fs::read(&model)?)?;
    let mut rows = read_features(&root.join("sample_data/adult_eval.csv"))?;
    rows.extend(read_features(&root.join("sample_data/adult_current.csv"))?);
    let reference = read_features(&root.join("sample_data/adult_reference.csv"))?;
    let background = &reference[..100 * FEATURES.len()];
    let n_rows = rows.len() / FEATURES.len();
    let mut times = Vec::new();
    let mut checksum = 0.0;
    for _ in 0..3 {
        let t = Instant::now();
        let r = interventional(&forest, &rows, background, &Progress::none())?;
        times.push(t.elapsed().as_secs_f64());
        checksum = r.values.iter().map(|v| v.abs()).sum::<f64>();
        assert!(r.additivity_max_abs_error < 1e-9);
    }
    let covered = forest.clone().with_covers(&reference)?;
    let t = Instant::now();
    path_dependent(&covered, &rows, &Progress::none())?;
    let path_s = t.elapsed().as_secs_f64();
    let runs: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
    times.sort_by(f64::total_cmp);
    println!(
        "assay interventional TreeSHAP: {n_rows} rows x 100 background, {} trees depth {}, {} threads; \
         runs {} s; sum|phi| = {checksum:.6}",
        forest.trees.len(),
        forest.max_depth(),
        rayon::current_num_threads(),
        runs.join(", ")
    );
    println!("assay path-dependent TreeSHAP (covers from 5000 reference rows): {path_s:.3} s");
    println!("median_seconds {}", times[1]);
    Ok(())
}

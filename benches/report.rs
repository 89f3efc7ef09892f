//! Report benchmark (run by `benches/report_compare.sh`, which also runs Evidently's HTML
//! report on the same files and prints both side by side).
//!
//! On `--rows` generated Adult-like rows (written once to `--dir/current.csv`; the reference
//! is `sample_data/adult_reference.csv`): the analyses the report shows (evaluation of
//! adult_gbdt_v1 with 200 bootstrap resamples, fairness by sex and race, drift with the
//! model's predictions) are timed once, then `engine::report::render` is timed as the median
//! of `--repeats` runs. Prints one JSON line: seconds and the HTML size in bytes.
//!
//! Usage: `cargo bench --bench report -- --rows 1000000 --dir /tmp/assay-report-bench`

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use assay::engine::data::{inspect, load};
use assay::engine::drift::{drift, DriftOptions};
use assay::engine::evaluate::{evaluate, EvalOptions};
use assay::engine::fairness::{fairness, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::report::{render, ModelSection, ReportInput};
use assay::engine::Progress;

const FEATURES: [&str; 6] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "sex_male",
];

struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The same generator as `tests/report_size.rs`, without the zip column.
fn write_csv(path: &Path, rows: usize) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "age,education_num,capital_gain,capital_loss,hours_per_week,sex_male,sex,race,income_over_50k")?;
    let races = [
        "White",
        "Black",
        "Asian-Pac-Islander",
        "Amer-Indian-Eskimo",
        "Other",
    ];
    let mut r = Rng(42);
    for _ in 0..rows {
        let age = 17 + (r.unit() * 60.0) as u32;
        let edu = 1 + (r.unit() * 16.0) as u32;
        let gain = if r.unit() < 0.08 {
            (r.unit() * 20000.0) as u32
        } else {
            0
        };
        let loss = if r.unit() < 0.05 {
            (r.unit() * 2500.0) as u32
        } else {
            0
        };
        let hours = 10 + (r.unit() * 60.0) as u32;
        let male = u32::from(r.unit() < 0.67);
        let race = races[((r.unit().powi(3)) * 5.0) as usize % 5];
        let logit = -6.0
            + 0.04 * f64::from(age)
            + 0.3 * f64::from(edu)
            + 0.0002 * f64::from(gain)
            + 0.6 * f64::from(male);
        let y = u32::from(r.unit() < 1.0 / (1.0 + (-logit).exp()));
        let sex = if male == 1 { "Male" } else { "Female" };
        writeln!(
            w,
            "{age},{edu},{gain},{loss},{hours},{male},{sex},{race},{y}"
        )?;
    }
    w.flush()?;
    Ok(())
}

fn secs<T>(f: impl FnOnce() -> T) -> (f64, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed().as_secs_f64(), out)
}

fn main() -> anyhow::Result<()> {
    if std::env::args().all(|a| a != "--bench") {
        // `cargo test --all-targets` runs benches once without `--bench`: nothing to measure.
        return Ok(());
    }
    let mut args = std::env::args().skip(1);
    let (mut dir, mut rows, mut repeats) = (
        PathBuf::from("/tmp/assay-report-bench"),
        1_000_000usize,
        5usize,
    );
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from).unwrap_or(dir),
            "--rows" => rows = args.next().and_then(|r| r.parse().ok()).unwrap_or(rows),
            "--repeats" => repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(repeats),
            _ => {}
        }
    }
    std::fs::create_dir_all(&dir)?;
    let current = dir.join(format!("current-{rows}.csv"));
    if !current.exists() {
        write_csv(&current, rows)?;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = Progress::none();
    let model = Model::load(&root.join("sample_models/adult_gbdt_v1.onnx"))?;
    let (read_s, ds) = secs(|| load(&current, &p));
    let ds = ds?;
    let features: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let mut opts = EvalOptions::new("income_over_50k");
    opts.features = Some(features.clone());
    opts.bootstrap.resamples = 200;
    let (eval_s, eval) = secs(|| evaluate(&model, &ds, &opts, &p));
    let eval = eval?;
    let mut fo = FairnessOptions::new(
        "income_over_50k",
        vec![vec!["sex".into()], vec!["race".into()]],
    );
    fo.run.features = Some(features.clone());
    fo.bootstrap.resamples = 200;
    let (fair_s, fair) = secs(|| fairness(&model, &ds, &fo, &p));
    let fair = fair?;
    let reference = load(&root.join("sample_data/adult_reference.csv"), &p)?;
    let dopts = DriftOptions {
        target: Some("income_over_50k".into()),
        features: Some(features),
        ..DriftOptions::default()
    };
    let (drift_s, dr) = secs(|| drift(&reference, &ds, Some(&model), &dopts, &p));
    let dr = dr?;
    let info = inspect(&ds)?;
    let input = ReportInput {
        title: "bench".into(),
        generated: "2026-11-25T15:00:00Z".into(),
        models: vec![ModelSection {
            label: "adult_gbdt v1.0",
            info: Some(&model.info),
            evaluation: Some(&eval),
            fairness: Some(&fair),
        }],
        data: Some(&info),
        drift: Some(&dr),
        ..ReportInput::default()
    };
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..repeats.max(1) {
        let (s, html) = secs(|| render(&input));
        size = html?.len();
        times.push(s);
    }
    times.sort_by(f64::total_cmp);
    let render_s = times[times.len() / 2];
    println!(
        "{}",
        serde_json::json!({
            "rows": rows, "read_s": read_s, "evaluate_s": eval_s, "fairness_s": fair_s, "drift_s": drift_s,
            "render_s": render_s, "html_bytes": size,
            "total_s": read_s + eval_s + fair_s + drift_s + render_s,
        })
    );
    Ok(())
}

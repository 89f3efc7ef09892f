//! Drift benchmark (run by `benches/drift_compare.sh`, which runs the scipy + Evidently
//! baseline on the same files and prints both side by side).
//!
//! Median over `--repeats` runs, on the reference and current Parquet files in `--dir`:
//! - `prepare_s`: every column read from the frames, numeric ones sorted once, category
//!   counts built (rayon across columns),
//! - `ks_s`, `wasserstein_s`, `js_psi_s`, `chi2_s`: one statistic family over all columns of
//!   its kind on the prepared data (rayon across columns),
//! - `total_s`: `engine::drift::drift` end to end on loaded frames (every statistic of every
//!   column, histograms, data quality); file reading is reported as `read_s`.
//!
//! Usage: `cargo bench --bench drift -- --dir /tmp/assay-drift-bench --repeats 5`

use std::path::PathBuf;
use std::time::Instant;

use assay::engine::drift::binning::{self, Counts};
use assay::engine::drift::columns::{self, Raw};
use assay::engine::drift::{drift, stattests, DriftOptions};
use assay::engine::{data, Progress};
use rayon::prelude::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(f: impl FnOnce() -> T) -> (f64, T) {
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
    let (mut dir, mut repeats) = (PathBuf::from("/tmp/assay-drift-bench"), 5usize);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from).unwrap_or(dir),
            "--repeats" => repeats = args.next().and_then(|r| r.parse().ok()).unwrap_or(5),
            _ => {}
        }
    }
    let mut t_read = Vec::new();
    let mut t = [(); 6].map(|_| Vec::new());
    let mut rows = 0;
    for _ in 0..repeats {
        let (s, (r, c)) = time(|| {
            (
                data::load(&dir.join("reference.parquet"), &Progress::none()),
                data::load(&dir.join("current.parquet"), &Progress::none()),
            )
        });
        let (r, c) = (r?, c?);
        t_read.push(s);
        rows = r.rows();
        let names = r.column_names();
        let (s, prepared) = time(|| {
            names
                .par_iter()
                .map(|n| {
                    let a = columns::read(&r, n)?;
                    let b = columns::read(&c, n)?;
                    Ok(match (a, b) {
                        (Raw::Numeric { values: a, .. }, Raw::Numeric { values: b, .. }) => (
                            Some((columns::sorted_finite(&a), columns::sorted_finite(&b))),
                            None,
                        ),
                        (Raw::Text { values: a }, Raw::Text { values: b }) => {
                            (None, Some(Counts::from_texts(&a, &b, None)))
                        }
                        _ => (None, None),
                    })
                })
                .collect::<assay::engine::Result<Vec<_>>>()
        });
        let prepared = prepared?;
        t[0].push(s);
        let num: Vec<&(Vec<f64>, Vec<f64>)> =
            prepared.iter().filter_map(|p| p.0.as_ref()).collect();
        let cat: Vec<&Counts> = prepared.iter().filter_map(|p| p.1.as_ref()).collect();
        t[1].push(
            time(|| {
                num.par_iter()
                    .map(|(a, b)| stattests::ks_2samp(a, b).p_value)
                    .sum::<f64>()
            })
            .0,
        );
        t[2].push(
            time(|| {
                num.par_iter()
                    .map(|(a, b)| stattests::wasserstein_normed(a, b))
                    .sum::<f64>()
            })
            .0,
        );
        t[3].push(
            time(|| {
                let js_psi = |bn: binning::Binned| {
                    let js = stattests::jensen_shannon(&bn.reference, &bn.current);
                    let (mut x, mut y) = (bn.reference, bn.current);
                    binning::fill_zeroes(&mut x);
                    binning::fill_zeroes(&mut y);
                    js + stattests::psi(&x, &y)
                };
                let n: f64 = num
                    .par_iter()
                    .map(|(a, b)| {
                        let counts = if binning::n_unique_sorted(a) <= 20 {
                            Counts::from_sorted(a, b)
                        } else {
                            Counts::default()
                        };
                        js_psi(binning::binned_percents(Some((a, b, false)), &counts))
                    })
                    .sum();
                n + cat
                    .par_iter()
                    .map(|c| js_psi(binning::binned_percents(None, c)))
                    .sum::<f64>()
            })
            .0,
        );
        t[4].push(
            time(|| {
                cat.par_iter()
                    .map(|c| stattests::chi_square(c).1)
                    .sum::<f64>()
            })
            .0,
        );
        let (s, rep) = time(|| drift(&r, &c, None, &DriftOptions::default(), &Progress::none()));
        rep?;
        t[5].push(s);
    }
    let [prep, ks, w, js, chi, total] = t.map(median);
    println!(
        "{{\"rows\": {rows}, \"read_s\": {:.4}, \"prepare_s\": {prep:.4}, \"ks_s\": {ks:.4}, \"wasserstein_s\": {w:.4}, \"js_psi_s\": {js:.4}, \"chi2_s\": {chi:.4}, \"total_s\": {total:.4}}}",
        median(t_read)
    );
    Ok(())
}

//! Issue 16, fuzzing (stable toolchain, seeded, fixed case counts): the ONNX reader
//! (`model::proto` + `Model::from_bytes`'s inspection, external-data references, the tree
//! ensemble parser) and the workspace loader, from valid seeds (every sample and fixture
//! model; a workspace written by Assay) mutated bit by bit, by truncation, insertion and
//! deletion, by protobuf length-field inflation and field repetition, and by JSON node
//! replacement. Every case must finish without a panic, within its time bound and under its
//! memory cap (see `fuzz_support`); a model that loads must inspect and serialise; a
//! workspace that loads must hold settings inside the documented limits and save and reload
//! unchanged.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod fuzz_support;

use std::path::{Path, PathBuf};

use assay::engine::explain::tree::Forest;
use assay::engine::model::{external, plan_inputs, Model};
use assay::engine::workspace::{DatasetRole, Workspace};
use assay::engine::ErrorKind;
use fuzz_support::{
    cases, mutate_json, mutate_proto, mutate_stacked, proto_len_fields, rng, serial, Alloc, Runner,
};
use rand::Rng;

mod support;
use support::root;

#[global_allocator]
static ALLOC: Alloc = cap::Cap::new(std::alloc::System, usize::MAX);

/// Every committed ONNX file small enough to be a seed: the samples, the converter fixtures,
/// the external-data fixtures.
fn onnx_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [
        "sample_models",
        "tests/fixtures/models",
        "tests/fixtures/bad/external",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("seed folder")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
            .collect();
        files.sort();
        for p in files {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, std::fs::read(&p).expect("seed")));
        }
    }
    assert!(out.len() >= 15, "{} seeds", out.len());
    out
}

/// What a mutated model may do: load (then inspect, plan and serialise like `assay inspect`)
/// or fail with a bad-input error; the tree parser may read a forest (then predict a row) or
/// refuse.
fn check_model(path: &Path, bytes: Vec<u8>) {
    let _ = external::external_refs(&bytes);
    if let Ok(forest) = Forest::from_bytes(path, &bytes) {
        let json = serde_json::to_string(&forest).expect("forest serialises");
        assert!(!json.is_empty());
        if forest.n_features <= 1 << 16 {
            let row = vec![0.5; forest.n_features];
            let _ = forest.predict_raw(&row);
            let _ = forest.predict_output(&row);
            for t in 0..forest.trees.len().min(4) {
                let _ = forest.decision_path(t, &row);
            }
        }
    }
    match Model::from_bytes(path, bytes) {
        Ok(m) => {
            serde_json::to_string(&m.info).expect("inspection serialises");
            let _ = plan_inputs(&m.info, None);
            let _ = m.info.metadata_features();
            assert_eq!(m.info.file_size as usize, m.bytes().len());
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
            assert!(!e.to_string().trim().is_empty());
        }
    }
}

#[test]
fn onnx_reader_survives_mutated_models() {
    let _one = serial();
    let seeds = onnx_seeds();
    let fields: Vec<_> = seeds
        .iter()
        .map(|(_, b)| proto_len_fields(b, 20_000))
        .collect();
    assert!(
        fields.iter().all(|f| !f.is_empty()),
        "every seed walks as protobuf"
    );
    // The mutated model sits next to real external data, so references can resolve.
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::copy(
        root().join("tests/fixtures/bad/external/w.bin"),
        tmp.path().join("w.bin"),
    )
    .expect("copy");
    let model_path = tmp.path().join("model.onnx");
    // Unmutated seeds load (the control); of the external-data fixtures only `model.onnx`
    // has its data here (the others are refused by design).
    let mut loaded = 0;
    for (name, b) in &seeds {
        if Model::from_bytes(&model_path, b.clone()).is_ok() {
            loaded += 1;
        } else {
            assert!(
                ["missing", "traversal", "memaddr", "past_end", "clash"]
                    .iter()
                    .any(|x| name.contains(x)),
                "{name} does not load"
            );
        }
    }
    assert!(loaded + 5 >= seeds.len());
    assert!(
        seeds
            .iter()
            .any(|(_, b)| Forest::from_bytes(&model_path, b).is_ok()),
        "a tree seed"
    );
    let mut rng = rng(1);
    let mut runner = Runner::new("onnx", &ALLOC);
    for i in 0..cases(1200) {
        let k = i % seeds.len();
        let (name, seed) = &seeds[k];
        let mut b = seed.clone();
        let what = if rng.random_bool(0.5) {
            mutate_proto(&mut rng, &mut b, &fields[k])
        } else {
            mutate_stacked(&mut rng, &mut b)
        };
        if b == *seed {
            continue;
        }
        let path = model_path.clone();
        runner.case(format!("{name} #{i}: {what}"), move || {
            check_model(&path, b)
        });
    }
    runner.finish();
}

/// A workspace with every section filled, as Assay saves it.
fn seed_workspace(dir: &Path) -> String {
    let model = root().join("sample_models/adult_logreg.onnx");
    let data = root().join("sample_data/adult_eval.csv");
    let mut ws = Workspace::from_files(
        &[
            (model.clone(), None),
            (model, Some(vec!["age".into(), "sex_male".into()])),
        ],
        Some(data.as_path()),
        Some(data.as_path()),
    );
    ws.roles.target = Some("income_over_50k".into());
    ws.roles.sensitive = vec!["sex".into(), "race".into(), "sex+race".into()];
    ws.fairness_policy = Some(assay::engine::fairness::policy::Policy::default_for(true));
    ws.gate = Some(assay::engine::compare::gate::Gate {
        rules: vec![assay::engine::compare::gate::GateRule::new(
            "auc.delta",
            assay::engine::compare::gate::GateOp::Ge,
            -0.01,
        )],
    });
    ws.add_note(
        assay::engine::report::notes::Finding::General,
        "looks fine",
        "reviewer",
        "2026-01-02T03:04:05Z",
    )
    .expect("note");
    let p = dir.join("seed.assay.json");
    ws.save(&p).expect("save");
    std::fs::read_to_string(&p).expect("read")
}

/// A workspace that loads is inside the documented limits and saves and reloads unchanged.
fn check_workspace(dir: &Path, text: Vec<u8>) {
    let p = dir.join("case.assay.json");
    std::fs::write(&p, &text).expect("write");
    match Workspace::load(&p) {
        Ok(ws) => {
            let s = &ws.settings;
            assert!(
                (0.0..=1.0).contains(&s.threshold),
                "threshold {}",
                s.threshold
            );
            assert!(s.bootstrap <= 100_000, "bootstrap {}", s.bootstrap);
            assert!(
                s.robustness_rows <= 1_000_000,
                "robustness rows {}",
                s.robustness_rows
            );
            assert!(
                s.explain.rows <= 1_000_000,
                "explain rows {}",
                s.explain.rows
            );
            assert!(
                s.explain.background <= 100_000,
                "background {}",
                s.explain.background
            );
            assert!(
                s.explain.nsamples <= 1_000_000,
                "nsamples {}",
                s.explain.nsamples
            );
            for n in &ws.notes {
                n.validate().expect("loaded notes are valid");
            }
            let _ = ws.slicings();
            let _ = ws.focus_index();
            let _ = ws.dataset(DatasetRole::Reference);
            let again = dir.join("again.assay.json");
            ws.save(&again).expect("a loaded workspace saves");
            let back = Workspace::load(&again).expect("and reloads");
            assert_eq!(back, ws, "save + load changed the workspace");
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
        }
    }
}

#[test]
fn workspace_loader_survives_mutated_workspaces() {
    let _one = serial();
    let tmp = tempfile::tempdir().expect("tmp");
    let seed = seed_workspace(tmp.path());
    let seed_value: serde_json::Value = serde_json::from_str(&seed).expect("json");
    check_workspace(tmp.path(), seed.clone().into_bytes());
    let mut rng = rng(2);
    let mut runner = Runner::new("workspace", &ALLOC);
    for i in 0..cases(1200) {
        let (what, bytes) = if rng.random_bool(0.6) {
            let mut v = seed_value.clone();
            let mut what = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                what.push(mutate_json(&mut rng, &mut v));
            }
            (what.join(", "), serde_json::to_vec(&v).expect("json"))
        } else {
            let mut b = seed.clone().into_bytes();
            (mutate_stacked(&mut rng, &mut b), b)
        };
        let case_dir = tmp.path().join(format!("c{}", i % 4));
        std::fs::create_dir_all(&case_dir).expect("mkdir");
        runner.case(format!("workspace #{i}: {what}"), move || {
            check_workspace(&case_dir, bytes)
        });
    }
    runner.finish();
}

//! The report's sections for explanations, version comparison, performance and robustness,
//! drawn from real engine results of the demo models: the numbers are the engine's (exact in
//! tooltips), the beeswarm is thinned, notes on comparison metrics and features are placed.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod report_support;

use assay::engine::compare::{compare, CompareSettings, ModelInput, Roles};
use assay::engine::data::load;
use assay::engine::explain::{explain, ExplainOptions};
use assay::engine::model::Model;
use assay::engine::perf::{measure, PerfOptions};
use assay::engine::report::html::{exact, fmt};
use assay::engine::report::{ext, render, Extensions, Finding, ReportInput, ReviewNote, Status};
use assay::engine::robustness::{self, RobustnessOptions};
use assay::engine::Progress;

mod support;
use support::root;

const FEATURES: [&str; 6] = [
    "age",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "sex_male",
];

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id}"));
    let end = html[start..].find("</section>").expect("end") + start;
    &html[start..end]
}

#[test]
fn explain_compare_perf_and_robustness_sections() {
    let p = Progress::none();
    let v1 = Model::load(&root().join("sample_models/adult_gbdt_v1.onnx")).expect("v1");
    let v2 = Model::load(&root().join("sample_models/adult_gbdt_v2.onnx")).expect("v2");
    let ds = load(&root().join("sample_data/adult_eval.csv"), &p).expect("data");
    let reference = load(&root().join("sample_data/adult_reference.csv"), &p).expect("ref");
    let features: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let inputs = vec![
        ModelInput {
            label: "v1".into(),
            model: &v1,
            features: Some(features.clone()),
        },
        ModelInput {
            label: "v2".into(),
            model: &v2,
            features: Some(features.clone()),
        },
    ];
    let roles = Roles {
        target: "income_over_50k".into(),
        positive_class: Some("1".into()),
        sensitive: vec![vec!["sex".into()]],
    };
    let mut settings = CompareSettings::default();
    settings.bootstrap.resamples = 30;
    let cmp = compare(&inputs, &ds, &roles, &settings, &p).expect("compare");
    let e = explain(
        &v2,
        Some(&features),
        &ds,
        &reference,
        &ExplainOptions {
            rows: 0..300,
            ..ExplainOptions::default()
        },
        &p,
    )
    .expect("explain");
    let perf = measure(&v2, Some(&features), &ds, &PerfOptions::quick(), &p).expect("perf");
    let rob = robustness::run(
        &v2,
        Some(&features),
        &ds,
        "income_over_50k",
        &RobustnessOptions {
            rows: 100,
            ..RobustnessOptions::default()
        },
        &p,
    )
    .expect("robustness");

    let explanation = ext::explanation_section("v2", &e);
    let comparison = ext::comparison_section(&cmp);
    let performance = ext::performance_section(&[("v2", &perf)]);
    let robustness = ext::robustness_section(&[("v2", &rob)]);
    let notes = vec![
        ReviewNote {
            id: "n1".into(),
            finding: Finding::Comparison {
                pair: ext::pair_name("v1", "v2"),
                metric: "roc_auc".into(),
            },
            text: "tiny gain".into(),
            author: "A".into(),
            created: "2026-11-25T15:00:00Z".into(),
        },
        ReviewNote {
            id: "n2".into(),
            finding: Finding::Feature {
                feature: "age".into(),
            },
            text: "age leads".into(),
            author: "B".into(),
            created: "2026-11-25T15:01:00Z".into(),
        },
    ];
    let gate = ext::comparison_gate(&cmp);
    assert_eq!(gate.status == Status::Pass, cmp.gate.result.passed);
    let html = render(&ReportInput {
        title: "Extensions".into(),
        notes: &notes,
        gates: vec![gate],
        extensions: Extensions {
            explanation: Some(&explanation),
            comparison: Some(&comparison),
            performance: Some(&performance),
            robustness: Some(&robustness),
        },
        ..ReportInput::default()
    })
    .expect("render");
    report_support::assert_well_formed(&html);
    report_support::assert_self_contained(&html);

    // Comparison: the engine's delta and paired interval of ROC AUC, the DeLong p-value, the gate.
    let c = section(&html, "comparison");
    let pair = &cmp.pairs[0];
    let d = pair.delta.get("roc_auc");
    let shown = if d.unwrap() > 0.0 {
        format!("+{}", fmt(d))
    } else {
        fmt(d)
    };
    assert!(
        c.contains(&format!("title=\"{}\">{shown}</td>", exact(d))),
        "delta of roc_auc"
    );
    let [lo, hi] = pair.delta_ci["roc_auc"];
    assert!(c.contains(&format!("title=\"[{lo}, {hi}]\"")));
    assert!(c.contains(&format!("title=\"{}\"", exact(pair.delong_p_value))));
    assert!(
        c.contains("Promotion gate: v1 → v2")
            && c.contains("id=\"note-n1\"")
            && c.contains("tiny gain")
    );
    assert!(section(&html, "summary").contains("Promotion gate — v1 → v2"));

    // Explanation: mean |SHAP| per feature exactly, notes on features, beeswarm thinned to 200 dots.
    let x = section(&html, "explanation");
    for (f, v) in &e.importance {
        assert!(
            x.contains(&format!(
                "<td>{f}</td><td class=\"n\" title=\"{}\">{}</td>",
                exact(Some(*v)),
                fmt(Some(*v))
            )),
            "{f}"
        );
    }
    assert!(x.contains("id=\"note-n2\"") && x.contains("age leads"));
    assert_eq!(e.values.len(), 300);
    assert_eq!(
        x.matches("<circle").count(),
        200 * FEATURES.len(),
        "beeswarm thinned to 200 rows per feature"
    );

    // Performance and robustness: the headline numbers as the engine measured them.
    let pf = section(&html, "performance");
    assert!(pf.contains(&format!("title=\"{}\"", exact(Some(perf.p95_latency_ms)))));
    let rb = section(&html, "robustness");
    if let Some(flip) = rob
        .perturbations
        .iter()
        .find(|r| r.applicable)
        .and_then(|r| r.flip_rate)
    {
        assert!(rb.contains(&format!("title=\"{}\"", exact(Some(flip)))));
    }
    assert!(html.len() < 400_000, "{}", html.len());
}

//! The review report (engine): a real evaluation, fairness and drift of the demo model are
//! rendered; the HTML is well-formed (strict XML reader), self-contained, carries the engine's
//! numbers (ROC AUC checked against scikit-learn's value in the committed fixture
//! `tests/fixtures/metrics/sample_eval.json`, group counts against a direct count of the CSV),
//! places reviewer notes next to their findings; workspaces without notes still load; the
//! report and notes are sealed into a package that verifies. The 1M-row size test is in
//! `report_size.rs`.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic

mod report_support;

use assay::engine::data::{inspect, load};
use assay::engine::drift::{drift, DriftOptions};
use assay::engine::evaluate::{evaluate, EvalOptions};
use assay::engine::fairness::{fairness, FairnessOptions};
use assay::engine::model::Model;
use assay::engine::package::keys::SigningKey;
use assay::engine::package::{build_package, verify_package, PackageRequest, ReportSource};
use assay::engine::report::html::{exact, fmt};
use assay::engine::report::notes::{is_rfc3339_utc, next_note_id};
use assay::engine::report::{render, Finding, ModelSection, ReportInput, ReviewNote};
use assay::engine::workspace::Workspace;
use assay::engine::{ErrorKind, Progress};
use report_support::{assert_self_contained, assert_well_formed};
use serde_json::Value;

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

fn note(id: &str, finding: Finding, text: &str) -> ReviewNote {
    ReviewNote {
        id: id.into(),
        finding,
        text: text.into(),
        author: "R. Viewer".into(),
        created: "2026-11-25T14:00:00Z".into(),
    }
}

/// scikit-learn's ROC AUC of adult_gbdt_v1 on adult_eval.csv, from the committed fixture.
fn sklearn_auc() -> f64 {
    let p = root().join("tests/fixtures/metrics/sample_eval.json");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(p).expect("fixture")).expect("json");
    v["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["model"] == "sample_models/adult_gbdt_v1.onnx")
        .expect("adult_gbdt_v1 in the fixture")["metrics"]["roc_auc"]
        .as_f64()
        .expect("roc_auc")
}

/// Rows of adult_eval.csv per value of `sex`, counted straight from the text.
fn sex_counts() -> (usize, usize) {
    let text = std::fs::read_to_string(root().join("sample_data/adult_eval.csv")).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header.iter().position(|c| *c == "sex").expect("sex column");
    let (mut f, mut m) = (0, 0);
    for l in lines {
        match l.split(',').nth(col) {
            Some("Female") => f += 1,
            Some("Male") => m += 1,
            _ => {}
        }
    }
    (f, m)
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id}"));
    let end = html[start..].find("</section>").expect("section end") + start;
    &html[start..end]
}

#[test]
fn demo_report_is_well_formed_self_contained_exact_and_places_notes() {
    let model = Model::load(&root().join("sample_models/adult_gbdt_v1.onnx")).expect("model");
    let ds = load(
        &root().join("sample_data/adult_eval.csv"),
        &Progress::none(),
    )
    .expect("data");
    let features: Vec<String> = FEATURES.iter().map(|s| s.to_string()).collect();
    let mut opts = EvalOptions::new("income_over_50k");
    opts.features = Some(features.clone());
    opts.bootstrap.resamples = 50;
    let eval = evaluate(&model, &ds, &opts, &Progress::none()).expect("evaluate");
    let mut fo = FairnessOptions::new(
        "income_over_50k",
        vec![vec!["sex".into()], vec!["race".into()]],
    );
    fo.run.features = Some(features.clone());
    fo.bootstrap.resamples = 50;
    let fair = fairness(&model, &ds, &fo, &Progress::none()).expect("fairness");
    let reference = load(
        &root().join("sample_data/adult_reference.csv"),
        &Progress::none(),
    )
    .expect("ref");
    let current = load(
        &root().join("sample_data/adult_current.csv"),
        &Progress::none(),
    )
    .expect("cur");
    let dopts = DriftOptions {
        target: Some("income_over_50k".into()),
        features: Some(features),
        ..DriftOptions::default()
    };
    let drift_report = drift(
        &reference,
        &current,
        Some(&model),
        &dopts,
        &Progress::none(),
    )
    .expect("drift");
    let info = inspect(&ds).expect("inspect");
    let label = "adult_gbdt v1.0";
    let notes = vec![
        note(
            "n1",
            Finding::Metric {
                model: label.into(),
                metric: "roc_auc".into(),
            },
            "AUC <good> & stable",
        ),
        note(
            "n2",
            Finding::Group {
                attribute: "sex".into(),
                group: "Female".into(),
            },
            "ask HR about the selection rate",
        ),
        note(
            "n3",
            Finding::DriftColumn {
                column: "age".into(),
            },
            "younger applicants expected",
        ),
        note("n4", Finding::General, "meeting of 25 November"),
        note(
            "n5",
            Finding::Feature {
                feature: "age".into(),
            },
            "explanations not run yet",
        ),
    ];
    let input = ReportInput {
        title: "Adult income — review".into(),
        generated: "2026-11-25T15:00:00Z".into(),
        workspace: Some("Demo".into()),
        models: vec![ModelSection {
            label,
            info: Some(&model.info),
            evaluation: Some(&eval),
            fairness: Some(&fair),
        }],
        data: Some(&info),
        drift: Some(&drift_report),
        notes: &notes,
        ..ReportInput::default()
    };
    let html = render(&input).expect("render");
    let elements = assert_well_formed(&html);
    assert!(elements > 500, "{elements} elements");
    assert_self_contained(&html);
    assert!(html.len() < 400_000, "{} bytes", html.len());

    // ROC AUC: the engine's value equals scikit-learn's (1e-9), is shown with the app's
    // rounding, and exactly in the tooltip of its table cell.
    let auc = eval.metrics.get("roc_auc").expect("auc");
    let want = sklearn_auc();
    assert!(
        (auc - want).abs() <= 1e-9 * want,
        "engine {auc}, sklearn {want}"
    );
    assert_eq!(fmt(Some(auc)), format!("{want:.3}"));
    let eval_html = section(&html, "evaluation-1");
    let cell = format!(
        "<td>roc_auc</td><td class=\"n\" title=\"{}\">{}</td>",
        exact(Some(auc)),
        fmt(Some(auc))
    );
    assert!(eval_html.contains(&cell), "missing {cell}");
    let shown: f64 = exact(Some(auc)).parse().expect("exact value parses");
    assert!((shown - want).abs() <= 1e-9 * want);
    assert!(eval_html.contains(&format!("ROC (AUC {})", fmt(Some(auc)))));
    // The interval too.
    let [lo, hi] = eval.ci["roc_auc"];
    assert!(eval_html.contains(&format!(
        "title=\"[{lo}, {hi}]\">{} – {}</td>",
        fmt(Some(lo)),
        fmt(Some(hi))
    )));

    // Group counts equal a direct count of the CSV, formatted with thin-space separators.
    let (female, male) = sex_counts();
    assert_eq!(female + male, 5000);
    let fair_html = section(&html, "fairness-1");
    for (name, n) in [("Female", female), ("Male", male)] {
        let n_txt = assay::engine::report::html::count(n);
        assert!(
            fair_html.contains(&format!(
                "<td class=\"grp\">{name}</td><td class=\"n\">{n_txt}</td>"
            )),
            "{name} {n}"
        );
    }
    // Policy verdicts are shown with their badge.
    assert!(fair_html.contains("demographic_parity_ratio ≥ 0.8"));

    // Notes sit next to their finding (in that section, after its table, the row marked)…
    assert!(eval_html.contains("<a class=\"badge inconclusive\" href=\"#note-n1\">n1</a>"));
    assert!(eval_html.contains("id=\"note-n1\""));
    assert!(
        eval_html.contains("AUC &lt;good&gt; &amp; stable"),
        "escaped note text"
    );
    assert!(fair_html.contains("id=\"note-n2\"") && fair_html.contains("ask HR"));
    let drift_html = section(&html, "drift");
    assert!(drift_html.contains("id=\"note-n3\"") && drift_html.contains("younger applicants"));
    assert!(section(&html, "summary").contains("meeting of 25 November"));
    // …and every note is in the index; one whose finding is not in the report says so.
    let index = section(&html, "notes");
    for n in &notes {
        assert!(index.contains(&format!(">{}</", n.id)), "{} in index", n.id);
    }
    assert!(index.contains("id=\"note-n5\"") && index.contains("(finding not in this report)"));

    // Drift: columns sorted by drift (drifted first), with their statistics.
    let first_drifted = drift_report.columns.iter().filter(|c| c.drifted).count();
    assert!(first_drifted > 0);
    let pos_ok = drift_html
        .find("badge pass\">ok")
        .expect("an undrifted column");
    let pos_drift = drift_html
        .rfind("badge fail\">drift")
        .expect("a drifted column");
    assert!(pos_drift < pos_ok, "drifted columns come first");
    // Model identity: the model's hash and the dataset's.
    assert!(html.contains(&model.info.sha256) && html.contains(&ds.sha256));
    // Prints cleanly: page breaks between sections, print colours kept.
    assert!(html.contains("@media print") && html.contains("break-before: page"));
}

#[test]
fn regression_and_empty_reports_are_well_formed() {
    let model = Model::load(&root().join("sample_models/abalone_rf.onnx")).expect("model");
    let ds = load(
        &root().join("sample_data/abalone_eval.csv"),
        &Progress::none(),
    )
    .expect("data");
    let mut opts = EvalOptions::new("rings");
    opts.bootstrap.resamples = 20;
    let eval = evaluate(&model, &ds, &opts, &Progress::none()).expect("evaluate");
    let info = inspect(&ds).expect("inspect");
    let mut card = assay::engine::package::ModelCard::draft(&model.info, &[], &[]);
    card.intended_use =
        "Estimate the age of abalone.\n\nNot for <shellfish> quotas & trade.".into();
    let input = ReportInput {
        title: "Abalone".into(),
        card: Some(&card),
        generated: "2026-11-25T15:00:00Z".into(),
        models: vec![ModelSection {
            label: "abalone_rf",
            info: Some(&model.info),
            evaluation: Some(&eval),
            fairness: None,
        }],
        data: Some(&info),
        ..ReportInput::default()
    };
    let html = render(&input).expect("render");
    assert_well_formed(&html);
    assert_self_contained(&html);
    assert!(html.contains("Predicted vs actual") && html.contains("Residuals"));
    let c = section(&html, "card");
    assert!(c.contains(
        "<p>Estimate the age of abalone.</p><p>Not for &lt;shellfish&gt; quotas &amp; trade.</p>"
    ));
    assert!(html.contains(&format!(
        "title=\"{}\">{}</td>",
        exact(eval.metrics.get("r2")),
        fmt(eval.metrics.get("r2"))
    )));
    // Nothing at all: still a valid document saying so.
    let empty = render(&ReportInput {
        title: "Empty <review>".into(),
        ..ReportInput::default()
    })
    .expect("render");
    assert_well_formed(&empty);
    assert_self_contained(&empty);
    assert!(empty.contains("Empty &lt;review&gt;") && empty.contains("No checks were run"));
}

#[test]
fn workspaces_without_notes_load_and_notes_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let p = tmp.path().join("old.assay.json");
    std::fs::write(
        &p,
        r#"{"name": "Old", "models": [], "datasets": [], "roles": {"target": "y"}}"#,
    )
    .expect("write");
    let mut ws = Workspace::load(&p).expect("an old workspace loads");
    assert!(ws.notes.is_empty());
    ws.save(&p).expect("save");
    assert!(
        !std::fs::read_to_string(&p).expect("read").contains("notes"),
        "no empty notes key"
    );

    let f = Finding::Group {
        attribute: "sex+race".into(),
        group: "Female, White".into(),
    };
    let id = ws
        .add_note(
            f.clone(),
            "  smallest group  ",
            "Ann",
            "2026-11-25T14:00:00Z",
        )
        .expect("add")
        .id
        .clone();
    assert_eq!(id, "n1");
    ws.add_note(
        Finding::General,
        "overall fine",
        "Bob",
        "2026-11-25T14:01:00.250Z",
    )
    .expect("add");
    assert_eq!(next_note_id(&ws.notes), "n3");
    ws.save(&p).expect("save");
    let text = std::fs::read_to_string(&p).expect("read");
    assert!(text.contains(r#""kind": "group""#) && text.contains(r#""attribute": "sex+race""#));
    let back = Workspace::load(&p).expect("load");
    assert_eq!(back.notes, ws.notes);
    assert_eq!(back.notes[0].text, "smallest group");
    assert_eq!(
        back.notes[0].finding.to_string(),
        "group sex+race = Female, White"
    );
    assert!(ws.remove_note("n1") && !ws.remove_note("n1"));

    // Bad notes are refused with a clear message.
    for (text, author, created, why) in [
        ("", "A", "2026-11-25T14:00:00Z", "text is empty"),
        ("t", " ", "2026-11-25T14:00:00Z", "author is empty"),
        ("t", "A", "2026-11-25 14:00", "not an RFC 3339"),
        ("t", "A", "2026-11-25T14:00:00+01:00", "not an RFC 3339"),
    ] {
        let e = ws
            .add_note(Finding::General, text, author, created)
            .expect_err(why);
        assert_eq!(e.kind(), ErrorKind::BadInput);
        assert!(e.to_string().contains(why), "{e}");
    }
    assert!(is_rfc3339_utc("2026-01-01T00:00:00Z") && !is_rfc3339_utc("2026-01-01T00:00:00.Z"));
    // A note with an unknown finding kind is a clear load error naming the file.
    std::fs::write(&p, r#"{"name": "X", "notes": [{"id": "n1", "finding": {"kind": "planet"}, "text": "t", "author": "a", "created": "2026-11-25T14:00:00Z"}]}"#).expect("write");
    let e = Workspace::load(&p).expect_err("unknown finding");
    assert!(
        e.to_string().contains("old.assay.json") && e.to_string().contains("planet"),
        "{e}"
    );
}

#[test]
fn report_and_notes_are_sealed_in_the_package() {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = SigningKey::generate();
    let notes = vec![
        note(
            "n1",
            Finding::Metric {
                model: "adult_logreg".into(),
                metric: "roc_auc".into(),
            },
            "fine",
        ),
        note(
            "n2",
            Finding::DriftColumn {
                column: "age".into(),
            },
            "expected",
        ),
    ];
    let html = render(&ReportInput {
        title: "Sealed".into(),
        notes: &notes,
        ..ReportInput::default()
    })
    .expect("render");
    let out = tmp.path().join("pkg");
    let mut req = PackageRequest::new(root().join("sample_models/adult_logreg.onnx"), &out);
    req.notes = notes.clone();
    req.report = Some(ReportSource::Html(html.clone()));
    build_package(&req, &key, &Progress::none()).expect("package");
    let v = verify_package(&out, &key.public_key(), &Progress::none()).expect("verify");
    assert!(v.ok, "{:?}", v.problems);
    let names: Vec<&str> = v.files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        names.contains(&"report.html") && names.contains(&"notes.json"),
        "{names:?}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).expect("read"),
        html
    );
    let sealed: Vec<ReviewNote> =
        serde_json::from_slice(&std::fs::read(out.join("notes.json")).expect("read"))
            .expect("json");
    assert_eq!(sealed, notes);
    let contents: Value =
        serde_json::from_slice(&std::fs::read(out.join("package.json")).expect("read"))
            .expect("json");
    assert_eq!(contents["notes"], 2);
    assert_eq!(contents["report"]["file"], "report.html");
    assert_eq!(
        contents["report"]["sha256"],
        assay::engine::hash::sha256_bytes(html.as_bytes())
    );
    let audit = std::fs::read_to_string(out.join("audit.jsonl")).expect("audit");
    let actions: Vec<String> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("entry")["action"]
                .as_str()
                .expect("action")
                .to_string()
        })
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "note.added").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "report.added").count(), 1);
    assert!(audit.contains("drift of column age"));
    // Changing one byte of the sealed report breaks verification, naming the file.
    let mut bytes = std::fs::read(out.join("report.html")).expect("read");
    bytes[20] ^= 1;
    std::fs::write(out.join("report.html"), bytes).expect("write");
    let v = verify_package(&out, &key.public_key(), &Progress::none()).expect("verify");
    assert!(
        !v.ok && v.changed.contains(&"report.html".to_string()),
        "{:?}",
        v.changed
    );
    // An invalid note refuses to seal.
    let mut bad = PackageRequest::new(
        root().join("sample_models/adult_logreg.onnx"),
        tmp.path().join("bad"),
    );
    bad.notes = vec![note("n1", Finding::General, " ")];
    let e = build_package(&bad, &key, &Progress::none()).expect_err("empty note");
    assert_eq!(e.kind(), ErrorKind::BadInput);
    let missing = PackageRequest {
        report: Some(ReportSource::File(tmp.path().join("nope.html"))),
        ..PackageRequest::new(
            root().join("sample_models/adult_logreg.onnx"),
            tmp.path().join("bad2"),
        )
    };
    let e = build_package(&missing, &key, &Progress::none()).expect_err("missing report");
    assert!(e.to_string().contains("nope.html"), "{e}");
}

#[test]
fn the_well_formedness_check_catches_broken_markup() {
    let ok = "<!DOCTYPE html>\n<html><body><p title=\"a &amp; b\">x<br/></p></body></html>\n";
    assert_well_formed(ok);
    for bad in [
        "<!DOCTYPE html>\n<html><body><p>x</div></body></html>",
        "<!DOCTYPE html>\n<html><body><p>x</body></html>",
        "<!DOCTYPE html>\n<html><body>a&nbsp;b</body></html>",
        "<!DOCTYPE html>\n<html><body><p class=x>y</p></body></html>",
        "<!DOCTYPE html>\n<html><body><br></body></html>",
        "<!DOCTYPE html>\n<html></html><html></html>",
    ] {
        let r = std::panic::catch_unwind(|| assert_well_formed(bad));
        assert!(r.is_err(), "accepted: {bad}");
    }
    for bad in [
        "<svg><image href=\"x.png\"/></svg>",
        "<a href=\"report2.html\">",
        "<img src=\"a\">",
        "a { background: url(x) }",
        "<script>",
    ] {
        let r = std::panic::catch_unwind(|| assert_self_contained(bad));
        assert!(r.is_err(), "accepted: {bad}");
    }
}

#[test]
fn extension_sections_are_escaped_drawn_and_carry_notes() {
    use assay::engine::report::{BarChart, Cell, CustomSection, Extensions, Row, Status, Table};
    let cmp = CustomSection {
        intro: "v1 → v2 on the same rows".into(),
        tables: vec![Table {
            caption: "Metric deltas".into(),
            headers: vec![
                "metric".into(),
                "v1".into(),
                "v2".into(),
                "delta".into(),
                "interval".into(),
                "test".into(),
            ],
            rows: vec![Row {
                cells: vec![
                    Cell::Text("roc_auc".into()),
                    Cell::Number(Some(0.85758)),
                    Cell::Number(Some(0.8596)),
                    Cell::Delta(Some(0.00202)),
                    Cell::Interval(Some([-0.001, 0.005])),
                    Cell::Status(Status::Inconclusive),
                ],
                finding: Some(Finding::Comparison {
                    pair: "v1 → v2".into(),
                    metric: "roc_auc".into(),
                }),
            }],
        }],
        charts: vec![],
        beeswarms: vec![],
        warnings: vec![],
    };
    let expl = CustomSection {
        intro: "mean |SHAP|".into(),
        tables: vec![],
        charts: vec![BarChart {
            title: "Importance <top>".into(),
            axis: "mean |SHAP|".into(),
            labels: (0..40).map(|i| format!("feature_{i}")).collect(),
            values: (0..40).map(|i| 1.0 / f64::from(i + 1)).collect(),
            ci: vec![],
        }],
        beeswarms: vec![],
        warnings: vec![],
    };
    let notes = vec![note(
        "n1",
        Finding::Comparison {
            pair: "v1 → v2".into(),
            metric: "roc_auc".into(),
        },
        "within noise",
    )];
    let html = render(&ReportInput {
        title: "Ext".into(),
        notes: &notes,
        extensions: Extensions {
            comparison: Some(&cmp),
            explanation: Some(&expl),
            ..Extensions::default()
        },
        ..ReportInput::default()
    })
    .expect("render");
    assert_well_formed(&html);
    assert_self_contained(&html);
    let c = section(&html, "comparison");
    assert!(
        c.contains("title=\"0.00202\">+0.002</td>")
            && c.contains("badge inconclusive\">inconclusive")
    );
    assert!(c.contains("id=\"note-n1\"") && c.contains("within noise"));
    let e = section(&html, "explanation");
    assert!(
        e.contains("Importance &lt;top&gt;") && e.contains("First 25 bars (15 more not drawn)")
    );
    assert_eq!(e.matches("<rect").count(), 25);
    assert!(html.contains("href=\"#comparison\"") && !html.contains("id=\"robustness\""));
}

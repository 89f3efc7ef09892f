//! Package: what the package will contain (evidence present or missing, with a button to run
//! what is missing), the model card editor with preview, the sign-off form, key selection
//! or creation, "Seal package" with progress, and "Verify a package" with the per-file
//! result. Packaging, signing and verification are `engine::package` calls in jobs.

use std::path::PathBuf;
use std::sync::Arc;

use eframe::egui::{self, RichText};

use crate::app::command::{Command, CommandSender, PageCtx};
use crate::app::jobs::{Done, JobKey};
use crate::app::state::{CompareView, Page, State};
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::Review;
use crate::engine::package::manifest::FileStatus;
use crate::engine::package::{
    self, audit::now_rfc3339, keys, verify_package, CardSource, Decision, PackageRequest,
    PublicKey, SignOff, SigningKey,
};
use crate::engine::EngineError;

/// The Package page's forms: signing key, output folder, sign-off draft, package to verify.
#[derive(Default)]
pub struct PackagePage {
    pub key_path: String,
    pub out_dir: String,
    pub archive_zip: bool,
    pub verify_dir: String,
    pub verify_key: String,
    pub signoff: SignOffDraft,
}

/// The sign-off form's fields.
#[derive(Default, Clone)]
pub struct SignOffDraft {
    pub reviewer: String,
    pub role: String,
    pub decision: Option<Decision>,
    pub conditions: String,
    pub notes: String,
}

impl PackagePage {
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &PageCtx, tx: &CommandSender) {
        package_ui(ui, ctx, self, tx);
    }
}

fn package_ui(ui: &mut egui::Ui, state: &State, page: &mut PackagePage, tx: &CommandSender) {
    ui.heading("Package");
    let Some(entry) = super::evaluate::model_picker(ui, state, tx) else {
        return;
    };
    if state.model(&entry.path).is_none() {
        ui.spinner();
        return;
    }
    if page.key_path.is_empty() {
        page.key_path = keys::default_key_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
    }
    if page.out_dir.is_empty() {
        let base = state
            .workspace_path
            .as_ref()
            .and_then(|p| p.parent().map(PathBuf::from))
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        page.out_dir = base
            .join(format!(
                "{}-package",
                crate::engine::workspace::stem(&entry.path)
            ))
            .display()
            .to_string();
    }
    // What Seal would seal: the engine's review of the cache, as `assay package` gathers it.
    let review = state.review();
    egui::ScrollArea::vertical()
        .id_salt("package_page")
        .auto_shrink(false)
        .show(ui, |ui| {
            ui.columns(2, |cols| {
                checklist_ui(&mut cols[0], state, tx, &review);
                cols[0].add_space(10.0);
                signoff_ui(&mut cols[0], state, page, tx);
                cols[0].add_space(10.0);
                seal_ui(&mut cols[0], state, page, tx, &entry, review.clone());
                cols[0].add_space(10.0);
                verify_ui(&mut cols[0], state, page, tx);
                card_ui(&mut cols[1], state, tx, &review);
            });
        });
}

fn checklist_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender, review: &Review) {
    let pal = Palette::of(ui);
    ui.strong("What the package will contain");
    ui.label(
        RichText::new("The ONNX model, its input schema (JSON Schema), Triton and KServe descriptors, the evidence below with the SHA-256 of the data it was computed on, the model card, sign-offs, the audit log, and model.sig (OpenSSF model_signing format).")
            .small()
            .color(pal.muted),
    );
    for item in review.checklist() {
        ui.horizontal(|ui| {
            if item.present {
                ui.colored_label(pal.good, "present");
            } else {
                ui.colored_label(pal.muted, "missing");
            }
            ui.label(&item.evidence);
            if !item.present {
                let page = match item.evidence.as_str() {
                    "evaluation" => Page::Evaluate,
                    "fairness" => Page::Fairness,
                    "drift" => Page::Drift,
                    "explain" => Page::Explain,
                    _ => Page::Compare,
                };
                if ui
                    .small_button("Run")
                    .on_hover_text("Open its page; it runs as a job")
                    .clicked()
                {
                    let i = state.selected_index();
                    let request = match item.evidence.as_str() {
                        "explain" => state.planner().explanation(i),
                        "performance" => state.planner().perf(i),
                        "robustness" => state.planner().robustness(i),
                        _ => None,
                    };
                    tx.request(request);
                    match item.evidence.as_str() {
                        "performance" => tx.send(Command::ShowCompare(CompareView::Speed)),
                        "robustness" => tx.send(Command::ShowCompare(CompareView::Robustness)),
                        _ => tx.send(Command::Goto(page)),
                    }
                }
            }
        });
    }
}

fn signoff_ui(ui: &mut egui::Ui, state: &State, page: &mut PackagePage, tx: &CommandSender) {
    ui.strong("Sign-off");
    for s in &state.workspace.signoffs {
        ui.label(format!(
            "{} ({}) — {} on {}",
            s.reviewer,
            s.role,
            s.decision.label(),
            s.date
        ));
    }
    let d = &mut page.signoff;
    egui::Grid::new("signoff")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let l = ui.label("Reviewer");
            ui.add(egui::TextEdit::singleline(&mut d.reviewer).desired_width(220.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Role");
            ui.add(egui::TextEdit::singleline(&mut d.role).desired_width(220.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Decision");
            egui::ComboBox::from_id_salt("decision")
                .selected_text(d.decision.map_or("choose…", Decision::label))
                .show_ui(ui, |ui| {
                    for x in [
                        Decision::Approved,
                        Decision::ApprovedWithConditions,
                        Decision::Rejected,
                    ] {
                        ui.selectable_value(&mut d.decision, Some(x), x.label());
                    }
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Conditions (one per line)");
            ui.add(
                egui::TextEdit::multiline(&mut d.conditions)
                    .desired_rows(2)
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Notes");
            ui.add(
                egui::TextEdit::multiline(&mut d.notes)
                    .desired_rows(2)
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
    if ui.button("Add sign-off").clicked() {
        let d = page.signoff.clone();
        let record = SignOff {
            reviewer: d.reviewer.trim().to_string(),
            role: d.role.trim().to_string(),
            decision: d.decision.unwrap_or(Decision::Rejected),
            conditions: d
                .conditions
                .lines()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            date: now_rfc3339().chars().take(10).collect(),
            notes: d.notes.trim().to_string(),
        };
        let checked = if d.decision.is_none() {
            Err("sign-off: choose a decision".to_string())
        } else {
            record.validate()
        };
        match checked {
            Ok(()) => {
                tx.send(Command::SignOff(Box::new(record)));
                page.signoff = Default::default();
            }
            Err(e) => tx.send(Command::Error(e)),
        }
    }
}

fn seal_ui(
    ui: &mut egui::Ui,
    state: &State,
    page: &mut PackagePage,
    tx: &CommandSender,
    entry: &crate::engine::workspace::ModelEntry,
    review: Review,
) {
    let pal = Palette::of(ui);
    ui.strong("Seal");
    egui::Grid::new("seal")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let l = ui.label("Signing key");
            ui.add(egui::TextEdit::singleline(&mut page.key_path).desired_width(360.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Package folder");
            ui.add(egui::TextEdit::singleline(&mut page.out_dir).desired_width(360.0))
                .labelled_by(l.id);
            ui.end_row();
        });
    ui.checkbox(&mut page.archive_zip, "also write a .zip");
    let keygen_busy = state.jobs.is_running(&JobKey::Keygen);
    let seal_busy = state.jobs.is_running(&JobKey::Seal);
    ui.horizontal(|ui| {
        let key = PathBuf::from(&page.key_path);
        if ui
            .add_enabled(!keygen_busy, egui::Button::new("Create key"))
            .on_hover_text(
                "A new P-256 key pair (PKCS#8 PEM, private key 0600, public key beside it)",
            )
            .clicked()
        {
            let key = key.clone();
            tx.send(Command::Spawn {
                key: JobKey::Keygen,
                title: "Creating a signing key".into(),
                work: Box::new(move |_| {
                    if key.exists() {
                        return Err(EngineError::usage(format!(
                            "{}: a key is already there; choose another path",
                            key.display()
                        )));
                    }
                    let files = keys::write_key_pair(&key, None)?;
                    Ok(Done::Message(format!(
                        "key pair written: {} and {}",
                        files.private_key.display(),
                        files.public_key.display()
                    )))
                }),
            });
        }
        if ui
            .add_enabled(!seal_busy, egui::Button::new("Seal package"))
            .clicked()
        {
            let req = seal_request(state, page, entry);
            tx.send(Command::Spawn {
                key: JobKey::Seal,
                title: "Sealing the package".into(),
                work: Box::new(move |progress| {
                    let key = SigningKey::load(&key, None)?;
                    let mut req = req;
                    // The evidence and the report of the engine's review, as `assay package
                    // --workspace` seals them.
                    req.evidence_values = review.evidence()?;
                    req.monitoring = review.monitoring_files()?;
                    progress.set(0.02, "rendering the review report");
                    req.report = Some(package::ReportSource::Html(
                        review.render(&now_rfc3339())?.html,
                    ));
                    let report = package::build_package(&req, &key, progress)?;
                    Ok(Done::Sealed(Arc::new(report)))
                }),
            });
        }
    });
    if let Some(m) = &state.package.message {
        ui.label(RichText::new(m).small());
    }
    match &state.package.sealed {
        Some(Ok(r)) => {
            ui.colored_label(pal.good, format!("Sealed: {}", r.path.display()));
            ui.label(
                RichText::new(format!(
                    "{} files · subject digest {}",
                    r.files.len(),
                    r.subject_digest
                ))
                .small()
                .color(pal.muted),
            );
            if let Some(a) = &r.archive {
                ui.label(
                    RichText::new(format!("archive {}", a.display()))
                        .small()
                        .color(pal.muted),
                );
            }
            for w in &r.warnings {
                ui.colored_label(pal.warn, w);
            }
        }
        Some(Err(e)) => {
            ui.colored_label(pal.bad, e.text.as_str());
        }
        None => {}
    }
}

fn verify_ui(ui: &mut egui::Ui, state: &State, page: &mut PackagePage, tx: &CommandSender) {
    let pal = Palette::of(ui);
    ui.strong("Verify a package");
    egui::Grid::new("verify")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let l = ui.label("Package (folder, .zip, .tar.gz)");
            ui.add(egui::TextEdit::singleline(&mut page.verify_dir).desired_width(360.0))
                .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Public key");
            ui.add(
                egui::TextEdit::singleline(&mut page.verify_key)
                    .desired_width(360.0)
                    .hint_text("KEY.pub.pem"),
            )
            .labelled_by(l.id);
            ui.end_row();
        });
    if ui.button("Verify").clicked() {
        let (dir, key) = (
            PathBuf::from(&page.verify_dir),
            PathBuf::from(&page.verify_key),
        );
        tx.send(Command::Spawn {
            key: JobKey::Verify,
            title: "Verifying a package".into(),
            work: Box::new(move |progress| {
                let key = PublicKey::load(&key)?;
                Ok(Done::Verified(Arc::new(verify_package(
                    &dir, &key, progress,
                )?)))
            }),
        });
    }
    match &state.package.verified {
        Some(Ok(v)) => {
            if v.ok {
                ui.colored_label(
                    pal.good,
                    RichText::new("Verified: the signature and every file hold").strong(),
                );
            } else {
                ui.colored_label(pal.bad, RichText::new("Verification failed").strong());
            }
            ui.label(&v.signature.message);
            for p in &v.problems {
                ui.colored_label(pal.bad, p);
            }
            egui::Grid::new("files").striped(true).show(ui, |ui| {
                for f in &v.files {
                    ui.label(&f.path);
                    let (text, color) = match &f.status {
                        FileStatus::Ok => ("ok", pal.good),
                        FileStatus::Changed { .. } => ("changed", pal.bad),
                        FileStatus::Added { .. } => ("added", pal.bad),
                        FileStatus::Missing { .. } => ("missing", pal.bad),
                        #[allow(unreachable_patterns)]
                        _ => ("?", pal.warn),
                    };
                    ui.colored_label(color, text);
                    ui.end_row();
                }
            });
        }
        Some(Err(e)) => {
            ui.colored_label(pal.bad, e.text.as_str());
        }
        None => {}
    }
}

fn card_ui(ui: &mut egui::Ui, state: &State, tx: &CommandSender, review: &Review) {
    let pal = Palette::of(ui);
    ui.horizontal(|ui| {
        ui.strong("Model card");
        if ui
            .button(if state.package.card.is_some() {
                "Redraft from the evidence"
            } else {
                "Draft from the evidence"
            })
            .clicked()
        {
            // The engine's draft from the review's evidence: every failed policy rule and
            // warning is stated, as in `assay package`.
            match review.draft_card() {
                Ok(Some(card)) => {
                    let sha = review
                        .focus_model()
                        .map(|m| m.model.info.sha256.clone())
                        .unwrap_or_default();
                    tx.send(Command::SetCard(Box::new(card)));
                    tx.send(Command::Audit {
                        action: "card_drafted".into(),
                        details: serde_json::json!({ "model": sha }),
                    });
                }
                Ok(None) => {}
                Err(e) => tx.send(Command::Error(e.to_string())),
            }
        }
    });
    let Some(mut card) = state.package.card.clone() else {
        ui.label(RichText::new("Sealing without a draft uses the card drafted from the evidence; draft it here to edit it first.").color(pal.muted));
        return;
    };
    let before = card.clone();
    for (label, text) in [
        ("Summary", &mut card.summary),
        ("Intended use", &mut card.intended_use),
        ("Out-of-scope use", &mut card.out_of_scope_use),
        ("Fairness findings", &mut card.fairness),
        ("Explanations", &mut card.explanations),
        ("Limitations", &mut card.limitations),
    ] {
        let l = ui.label(label);
        ui.add(
            egui::TextEdit::multiline(text)
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    }
    let edited = card != before;
    ui.add_space(6.0);
    ui.label(RichText::new("Preview (README.md)").color(pal.muted))
        .on_hover_text("The file also starts with Hugging Face front matter (model-index metadata with the metrics at full precision, for machines); the preview shows what a reader sees, with the metrics rounded in its table.");
    let preview = card.render();
    let body = readable_part(&preview);
    egui::ScrollArea::vertical()
        .id_salt("card_preview")
        .max_height(320.0)
        .show(ui, |ui| {
            ui.add(egui::Label::new(RichText::new(body).monospace().small()).wrap());
        });
    if edited {
        tx.send(Command::SetCard(Box::new(card)));
    }
}

/// The package request of the focus model from the workspace, as `assay package --workspace`
/// builds it (the evidence and the report are added from the review in the job).
fn seal_request(
    state: &State,
    page: &PackagePage,
    entry: &crate::engine::workspace::ModelEntry,
) -> PackageRequest {
    let mut req = PackageRequest::new(entry.path.clone(), PathBuf::from(&page.out_dir));
    req.features = entry.features.clone();
    req.target = state.workspace.roles.target.clone();
    req.sensitive = state.workspace.roles.sensitive.clone();
    req.reference = state
        .workspace
        .dataset(crate::engine::workspace::DatasetRole::Reference)
        .map(|d| d.path.clone());
    req.signoffs = state.workspace.signoffs.clone();
    req.card = state
        .package
        .card
        .clone()
        .map_or(CardSource::Draft, |c| CardSource::Edited(Box::new(c)));
    if page.archive_zip {
        req.archive = Some(package::ArchiveKind::Zip);
    }
    req.audit = state.audit.clone();
    req.notes = state.workspace.notes.clone();
    req
}

/// The card's Markdown after its YAML front matter: the metadata block holds metrics at full
/// precision for machines (0.7158076784273096); the body's table rounds them for readers.
fn readable_part(card: &str) -> &str {
    card.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(card, |(_, body)| body.trim_start())
}

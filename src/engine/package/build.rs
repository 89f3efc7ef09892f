//! Writing a package: the model, schema, evidence, descriptors, card, sign-offs, report and
//! audit log into a staging folder, signed, then moved into place (and archived on request).
//! The types it takes and returns live in the parent module.

use super::*;

/// A file inside the package's staging folder. The folder is new and private to this build,
/// so a plain create is right here; user-named outputs go through [`crate::engine::fsio::write`]
/// (links, devices, atomic replace).
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| EngineError::file(parent, format!("cannot create directory: {e}")))?;
    }
    std::fs::write(path, bytes).map_err(|e| EngineError::file(path, format!("cannot write: {e}")))
}

/// The draft model card for a package: [`ModelCard::draft`] plus the datasets and sensitive
/// columns the package records. The GUI shows this for editing, then passes it back as
/// [`CardSource::Edited`].
pub fn draft_card(
    info: &crate::engine::model::ModelInfo,
    evidence: &[(String, Value)],
    datasets: &[DatasetRef],
    sensitive: &[String],
    signoffs: &[SignOff],
) -> ModelCard {
    let mut card = ModelCard::draft(info, evidence, signoffs);
    for d in datasets {
        if !card
            .datasets
            .iter()
            .any(|c| c.sha256 == d.sha256 && c.role == d.role)
        {
            card.datasets.push(card::CardDataset {
                role: d.role.clone(),
                name: Path::new(&d.path)
                    .file_name()
                    .map_or_else(|| d.path.clone(), |n| n.to_string_lossy().to_string()),
                sha256: d.sha256.clone(),
                rows: None,
            });
        }
    }
    if !sensitive.is_empty() {
        card.fairness.push_str(&format!(
            "\n\nSensitive columns recorded for this review: {}.",
            sensitive.join(", ")
        ));
    }
    card
}

fn push_evidence(
    root: &Path,
    name: &str,
    bytes: &[u8],
    value: Value,
    evidence: &mut Vec<(String, Value)>,
    files: &mut Vec<EvidenceFile>,
) -> Result<()> {
    let file = format!("evidence/{name}.json");
    write(&root.join(&file), bytes)?;
    files.push(EvidenceFile {
        name: name.to_string(),
        file,
        sha256: sha256_bytes(bytes),
        inputs: input_refs(&value),
    });
    evidence.push((name.to_string(), value));
    Ok(())
}

fn to_json(v: &impl Serialize) -> Result<Vec<u8>> {
    let mut s = serde_json::to_vec_pretty(v)
        .map_err(|e| EngineError::internal(format!("JSON encoding failed: {e}")))?;
    s.push(b'\n');
    Ok(s)
}

fn archive_path(out: &Path, kind: ArchiveKind) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "package".into());
    out.with_file_name(format!("{name}.{}", kind.extension()))
}

/// Top-level names of a package's own files: external data may not take them.
const LAYOUT: [&str; 11] = [
    "model.onnx",
    "package.json",
    "README.md",
    "evidence",
    "schema",
    "deploy",
    "signoff.json",
    "notes.json",
    "report.html",
    "audit.jsonl",
    manifest::SIGNATURE_FILE,
];

/// An external-data file is sealed under its own location, which must not be one of the
/// package's files (nor a path `model_signing` ignores, which would leave it unsigned).
fn check_external_name(model: &Path, location: &str) -> Result<()> {
    let first = location.split('/').next().unwrap_or(location);
    let clash = LAYOUT.iter().any(|n| n.eq_ignore_ascii_case(first))
        || manifest::GIT_PATHS.contains(&first);
    if clash {
        return Err(EngineError::file(
            model,
            format!(
                "external data '{location}' has the name of a package file ('{first}'); rename it (and its location in the model) to package this model"
            ),
        ));
    }
    Ok(())
}

/// `--force` replaces only a package: a folder holding `package.json` and `model.sig` (and
/// nothing that is not a regular file or folder), and an archive path that is a regular
/// file. Any other existing folder or file is refused, untouched.
fn check_replaceable(out: &Path, archive: Option<&Path>) -> Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(out) {
        let is_package = meta.is_dir()
            && std::fs::symlink_metadata(out.join("package.json")).is_ok_and(|m| m.is_file())
            && std::fs::symlink_metadata(out.join(manifest::SIGNATURE_FILE))
                .is_ok_and(|m| m.is_file())
            && manifest::list_files(out, &[]).is_ok();
        if !is_package {
            return Err(EngineError::file(
                out,
                "exists and is not an Assay package (no package.json and model.sig); --force replaces only a package, so choose another --out or remove it yourself",
            ));
        }
    }
    if let Some(a) = archive {
        if let Ok(meta) = std::fs::symlink_metadata(a) {
            if !meta.is_file() {
                return Err(EngineError::file(
                    a,
                    "exists and is not a package archive file; --force replaces only a package archive",
                ));
            }
        }
    }
    Ok(())
}

/// Builds, seals and writes a package. Everything is written into a temporary folder next
/// to `out`, signed there, then renamed into place; an existing `out` is refused unless
/// `force`.
pub fn build_package(
    req: &PackageRequest,
    key: &SigningKey,
    progress: &Progress,
) -> Result<PackageReport> {
    let out = &req.out;
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
        .ok_or_else(|| {
            EngineError::usage(format!(
                "{}: not a usable package folder name",
                out.display()
            ))
        })?
        .to_string();
    if ArchiveKind::from_path(out).is_some() {
        return Err(EngineError::usage(format!(
            "{}: --out names the package folder, not the archive; the archive is written next to it as FOLDER.zip / FOLDER.tar.gz",
            out.display()
        )));
    }
    let archive_out = req.archive.map(|k| archive_path(out, k));
    for p in std::iter::once(out).chain(archive_out.as_ref()) {
        if std::fs::symlink_metadata(p).is_ok() && !req.force {
            return Err(EngineError::file(
                p,
                "already exists; refusing to overwrite a package (use --force)",
            ));
        }
    }
    if req.force {
        check_replaceable(out, archive_out.as_deref())?;
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .map_err(|e| EngineError::file(&parent, format!("cannot create directory: {e}")))?;
    archive::remove_stale(
        &parent,
        &[&format!("{name}.assay-tmp"), &format!("{name}.assay-old")],
    );
    let tmp = archive::TempDir::new_in(&parent, &format!("{name}.assay-tmp"))?;
    let root = tmp.path();
    let mut audit = req.audit.clone();
    let mut warnings = Vec::new();

    progress.set(0.0, "loading model");
    let model = Model::load(&req.model)?;
    let info = &model.info;
    audit.append(
        "file.loaded",
        json!({"role": "model", "path": req.model, "sha256": info.sha256}),
    )?;
    // The bytes loaded and hashed above, not a second read of the file.
    let model_bytes = model.bytes();
    write(&root.join("model.onnx"), model_bytes)?;
    let external = model.external_data();
    for x in external {
        check_external_name(&req.model, &x.file.location)?;
        write(&root.join(&x.file.location), &x.bytes)?;
        audit.append(
            "file.loaded",
            json!({"role": "external_data", "path": x.file.location, "sha256": x.file.sha256}),
        )?;
    }

    let mut evidence: Vec<(String, Value)> = Vec::new();
    let mut evidence_files = Vec::new();
    let mut datasets = Vec::new();
    if let Some(ev) = &req.evaluation {
        progress.check()?;
        let eval = evaluate_files(&req.model, &ev.data, &ev.options, progress)?;
        audit.append(
            "file.loaded",
            json!({"role": "evaluation", "path": eval.data.path, "sha256": eval.data.sha256, "rows": eval.data.rows}),
        )?;
        audit.append(
            "analysis.run",
            json!({"analysis": "evaluate", "settings": {
                "target": ev.options.target, "features": ev.options.features,
                "positive_class": ev.options.positive_class, "threshold": ev.options.threshold,
                "bootstrap_resamples": ev.options.bootstrap.resamples, "seed": ev.options.bootstrap.seed,
            }}),
        )?;
        datasets.push(DatasetRef {
            role: "evaluation".into(),
            path: eval.data.path.to_string_lossy().to_string(),
            sha256: eval.data.sha256.clone(),
        });
        let value = serde_json::to_value(&eval)
            .map_err(|e| EngineError::internal(format!("JSON encoding failed: {e}")))?;
        push_evidence(
            root,
            "evaluation",
            &to_json(&eval)?,
            value,
            &mut evidence,
            &mut evidence_files,
        )?;
    }
    progress.set(0.5, "collecting evidence");
    for (ename, value) in &req.evidence_values {
        check_evidence_name(ename)?;
        if evidence.iter().any(|(n, _)| n == ename) {
            return Err(EngineError::usage(format!(
                "evidence '{ename}' is given twice"
            )));
        }
        let bytes = to_json(value)?;
        audit.append(
            "evidence.added",
            json!({"name": ename, "computed": true, "sha256": sha256_bytes(&bytes)}),
        )?;
        if ename == "evaluation" {
            if let Some(d) = input_refs(value).into_iter().find(|d| d.role == "data") {
                datasets.push(DatasetRef {
                    role: "evaluation".into(),
                    ..d
                });
            }
        }
        push_evidence(
            root,
            ename,
            &bytes,
            value.clone(),
            &mut evidence,
            &mut evidence_files,
        )?;
    }
    for (ename, path) in &req.evidence {
        progress.check()?;
        check_evidence_name(ename)?;
        if evidence.iter().any(|(n, _)| n == ename) {
            return Err(EngineError::usage(format!(
                "evidence '{ename}' is given twice"
            )));
        }
        let bytes = fsio::read_capped(path, "evidence", fsio::caps::EVIDENCE)?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| EngineError::file(path, format!("evidence is not valid JSON: {e}")))?;
        audit.append(
            "evidence.added",
            json!({"name": ename, "path": path, "sha256": sha256_bytes(&bytes)}),
        )?;
        push_evidence(
            root,
            ename,
            &bytes,
            value,
            &mut evidence,
            &mut evidence_files,
        )?;
    }
    if let Some(r) = &req.reference {
        let h = sha256_file(r)?;
        audit.append(
            "file.loaded",
            json!({"role": "reference", "path": r, "sha256": h}),
        )?;
        datasets.push(DatasetRef {
            role: "reference".into(),
            path: r.to_string_lossy().to_string(),
            sha256: h,
        });
    }

    // Schema, column mapping, deployment descriptors.
    let features = req.features.clone().or_else(|| {
        req.evaluation
            .as_ref()
            .and_then(|e| e.options.features.clone())
    });
    let schema = descriptors::input_schema(info, features.as_deref());
    write(&root.join("schema/input.schema.json"), &to_json(&schema)?)?;
    let plan = plan_inputs(info, features.as_deref()).ok();
    if plan.is_none() {
        warnings.push(Warning::data("the model's inputs could not be mapped to columns (no 'features' metadata); the input schema lists tensors only"));
    }
    let columns = json!({
        "plan": plan,
        "target": req.target.clone().or_else(|| req.evaluation.as_ref().map(|e| e.options.target.clone())),
        "sensitive": req.sensitive,
    });
    write(&root.join("schema/columns.json"), &to_json(&columns)?)?;
    let triton_name = descriptors::triton_model_name(info.name.as_deref().unwrap_or(&name));
    let tdir = root.join("deploy/triton").join(&triton_name);
    write(
        &tdir.join("config.pbtxt"),
        descriptors::triton_config(info, &triton_name, req.triton_max_batch).as_bytes(),
    )?;
    write(&tdir.join("1/model.onnx"), model_bytes)?;
    for x in external {
        write(&tdir.join("1").join(&x.file.location), &x.bytes)?;
    }
    let uri = req
        .storage_uri
        .clone()
        .unwrap_or_else(|| format!("pvc://models/{triton_name}"));
    write(
        &root.join("deploy/kserve/inferenceservice.yaml"),
        descriptors::kserve_manifest(info, &triton_name, &uri).as_bytes(),
    )?;

    // Sign-offs and model card.
    for s in &req.signoffs {
        s.validate().map_err(EngineError::usage)?;
        audit.append(
            "signoff.added",
            serde_json::to_value(s).unwrap_or(Value::Null),
        )?;
    }
    write(&root.join("signoff.json"), &to_json(&req.signoffs)?)?;
    if !req.notes.is_empty() {
        for n in &req.notes {
            n.validate()?;
            audit.append(
                "note.added",
                json!({"id": n.id, "finding": n.finding, "label": n.finding.to_string(),
                       "author": n.author, "created": n.created, "text": n.text}),
            )?;
        }
        write(&root.join("notes.json"), &to_json(&req.notes)?)?;
    }
    let report_file = match &req.report {
        Some(src) => {
            let bytes = match src {
                ReportSource::File(p) => fsio::read_capped(p, "report", fsio::caps::REPORT)?,
                ReportSource::Html(h) => h.clone().into_bytes(),
            };
            let sha = sha256_bytes(&bytes);
            audit.append(
                "report.added",
                json!({"file": "report.html", "sha256": sha, "bytes": bytes.len()}),
            )?;
            write(&root.join("report.html"), &bytes)?;
            Some(json!({"file": "report.html", "sha256": sha}))
        }
        None => None,
    };
    let mut monitoring_files = Vec::new();
    for (file, text) in &req.monitoring {
        let rel = Path::new(file);
        let plain = rel.starts_with("monitoring")
            && rel.components().count() == 2
            && rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(EngineError::internal(format!(
                "monitoring file '{file}' is not a plain name under monitoring/"
            )));
        }
        let sha = sha256_bytes(text.as_bytes());
        audit.append("monitoring.added", json!({"file": file, "sha256": sha}))?;
        write(&root.join(rel), text.as_bytes())?;
        monitoring_files.push(json!({"file": file, "sha256": sha}));
    }
    let card_text = match &req.card {
        CardSource::Draft => {
            draft_card(info, &evidence, &datasets, &req.sensitive, &req.signoffs).render()
        }
        CardSource::Edited(card) => card.render(),
        CardSource::Markdown(md) => md.clone(),
    };
    audit.append(
        "card.written",
        json!({"source": match &req.card { CardSource::Draft => "draft", CardSource::Edited(_) => "edited", CardSource::Markdown(_) => "markdown" },
               "sha256": sha256_bytes(card_text.as_bytes())}),
    )?;
    write(&root.join("README.md"), card_text.as_bytes())?;

    let names: Vec<String> = evidence.iter().map(|(n, _)| n.clone()).collect();
    let mut list = checklist(&names);
    list.extend(req.monitoring.iter().map(|(file, _)| ChecklistItem {
        evidence: file.clone(),
        present: true,
    }));
    audit.append(
        "package.sealed",
        json!({"package": name, "evidence": names, "public_key_hint": key.public_key().hint()}),
    )?;
    write(&root.join("audit.jsonl"), audit.to_jsonl().as_bytes())?;
    let contents = json!({
        "format": FORMAT,
        "created": audit::now_rfc3339(),
        "assay_version": env!("CARGO_PKG_VERSION"),
        "model": {
            "file": "model.onnx", "sha256": info.sha256, "name": info.name, "version": info.version,
            "external_data": external.iter().map(|x| json!({"file": x.file.location, "sha256": x.file.sha256, "bytes": x.file.size})).collect::<Vec<_>>(),
            "producer": format!("{} {}", info.producer_name, info.producer_version),
            "inputs": info.inputs, "outputs": info.outputs,
        },
        "datasets": datasets,
        "evidence": evidence_files,
        "checklist": list,
        "signoffs": req.signoffs.len(),
        "notes": req.notes.len(),
        "report": report_file,
        "monitoring": monitoring_files,
        "deploy": {"triton": format!("deploy/triton/{triton_name}"), "kserve": "deploy/kserve/inferenceservice.yaml"},
        "audit": {"file": "audit.jsonl", "entries": audit.entries().len(), "head": audit.head()},
        "signature": {"file": manifest::SIGNATURE_FILE, "format": "OpenSSF model_signing v1.0 (Sigstore bundle v0.3, DSSE, in-toto)"},
    });
    write(&root.join("package.json"), &to_json(&contents)?)?;

    progress.check()?;
    let signed = sign::sign_directory(root, &name, key, progress)?;
    progress.set(0.9, "writing package");

    // Move into place: an existing package (only with --force) is moved aside first.
    let old = if std::fs::symlink_metadata(out).is_ok() {
        let aside = archive::TempDir::new_in(&parent, &format!("{name}.assay-old"))?;
        let target = aside.path().join("old");
        std::fs::rename(out, &target)
            .map_err(|e| EngineError::file(out, format!("cannot replace: {e}")))?;
        Some(aside)
    } else {
        None
    };
    let tmp_path = tmp.into_path();
    if let Err(e) = std::fs::rename(&tmp_path, out) {
        let _ = std::fs::remove_dir_all(&tmp_path);
        if let Some(aside) = &old {
            let _ = std::fs::rename(aside.path().join("old"), out);
        }
        return Err(EngineError::file(
            out,
            format!("cannot move the package into place: {e}"),
        ));
    }
    drop(old);
    if let (Some(kind), Some(path)) = (req.archive, &archive_out) {
        archive::write_archive(out, &name, kind, path)?;
    }
    progress.set(1.0, "sealed");
    Ok(PackageReport {
        path: out.clone(),
        archive: archive_out,
        model_sha256: info.sha256.clone(),
        subject_digest: signed.subject_digest,
        public_key_hint: signed.public_key_hint,
        files: signed.files,
        evidence: evidence_files,
        datasets,
        checklist: list,
        audit_entries: audit.entries().len(),
        warnings,
    })
}

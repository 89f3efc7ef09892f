//! The egui window. Computes nothing itself: it starts engine work on a background thread
//! and draws what comes back. (The full workbench shell arrives with the GUI issue.)

use std::sync::{Arc, Mutex};

use eframe::egui;

use crate::engine::evaluate::{evaluate_files, EvalOptions, Evaluation};
use crate::engine::workspace::{demo_entries, DemoEntry};
use crate::engine::Progress;

type Row = (DemoEntry, Result<Evaluation, String>);

#[derive(Default)]
struct Shared {
    rows: Vec<Row>,
    error: Option<String>,
    done: bool,
}

struct AssayApp {
    shared: Arc<Mutex<Shared>>,
    progress: Progress,
}

impl AssayApp {
    fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let ctx = cc.egui_ctx.clone();
        let progress = Progress::with_notify(move || ctx.request_repaint());
        let (s, p) = (shared.clone(), progress.clone());
        let repaint = cc.egui_ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("assay-job-demo".into())
            .spawn(move || {
                match demo_entries() {
                    Ok(entries) => {
                        for entry in entries {
                            let mut opts = EvalOptions::new(entry.target.clone());
                            opts.features = Some(entry.features.clone());
                            opts.positive_class = entry.positive_class.clone();
                            opts.bootstrap.resamples = 200;
                            let result = evaluate_files(&entry.file, &entry.data, &opts, &p)
                                .map_err(|e| e.to_string());
                            if let Ok(mut g) = s.lock() {
                                g.rows.push((entry, result));
                            }
                            repaint.request_repaint();
                        }
                    }
                    Err(e) => {
                        if let Ok(mut g) = s.lock() {
                            g.error = Some(e.to_string());
                        }
                    }
                }
                if let Ok(mut g) = s.lock() {
                    g.done = true;
                }
                repaint.request_repaint();
            });
        if let Err(e) = spawned {
            if let Ok(mut g) = shared.lock() {
                g.error = Some(format!("cannot start background job: {e}"));
            }
        }
        Self { shared, progress }
    }
}

impl eframe::App for AssayApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let Ok(state) = self.shared.lock() else {
            return;
        };
        egui::Frame::central_panel(ui.style()).show(ui, |ui| {
            ui.heading("Assay — demo workspace");
            ui.label("Sample models evaluated on their held-out data (same engine call as `assay evaluate`).");
            ui.add_space(8.0);
            if let Some(e) = &state.error {
                ui.colored_label(egui::Color32::RED, e);
            }
            egui::Grid::new("models").striped(true).spacing([24.0, 6.0]).show(ui, |ui| {
                for h in ["model", "version", "dataset", "rows", "task", "headline metric"] {
                    ui.strong(h);
                }
                ui.end_row();
                for (entry, result) in &state.rows {
                    ui.label(&entry.name);
                    ui.label(&entry.version);
                    ui.label(entry.data.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default());
                    match result {
                        Ok(ev) => {
                            ui.label(ev.n.to_string());
                            ui.label(&entry.task);
                            let (name, v) = match ev.metrics.get("roc_auc") {
                                Some(v) => ("ROC AUC", v),
                                None => ("R²", ev.metrics.get("r2").unwrap_or(f64::NAN)),
                            };
                            let key = if name == "ROC AUC" { "roc_auc" } else { "r2" };
                            let ci = ev.ci.get(key).map_or_else(String::new, |[lo, hi]| format!("  [{lo:.3}, {hi:.3}]"));
                            ui.label(format!("{name} {v:.3}{ci}"));
                        }
                        Err(e) => {
                            ui.label("—");
                            ui.label(&entry.task);
                            ui.add(egui::Label::new(egui::RichText::new(e).color(egui::Color32::RED)).wrap());
                        }
                    }
                    ui.end_row();
                }
            });
            if !state.done {
                let (f, msg) = self.progress.snapshot();
                ui.add_space(8.0);
                ui.add(egui::ProgressBar::new(f).text(msg).desired_width(320.0));
            }
        });
    }
}

/// Opens the window (wgpu; falls back to glow when wgpu cannot start).
pub fn run() -> Result<(), String> {
    let make = |renderer| eframe::NativeOptions {
        renderer,
        viewport: egui::ViewportBuilder::default()
            .with_title("Assay — demo workspace")
            .with_inner_size([1100.0, 640.0]),
        ..Default::default()
    };
    let start = |renderer| {
        eframe::run_native(
            "Assay",
            make(renderer),
            Box::new(|cc| Ok(Box::new(AssayApp::new(cc)) as Box<dyn eframe::App>)),
        )
    };
    match start(eframe::Renderer::Wgpu) {
        Ok(()) => Ok(()),
        Err(wgpu_err) => start(eframe::Renderer::Glow)
            .map_err(|e| format!("cannot open a window (wgpu: {wgpu_err}; glow: {e})")),
    }
}

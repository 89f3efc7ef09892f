//! The egui window (feature `gui`). Computes nothing itself: pages (structs in
//! [`panels::Pages`], owning their selections) draw engine results from a read-only
//! [`state::State`] and send [`command::Command`]s, which [`shell::apply`] carries out once
//! per frame; every long piece of work runs in the [`jobs::Jobs`] runner.
//!
//! Layout: a top bar (workspace, open/save, theme, presentation), the page navigation on the
//! left, a status bar with running jobs (progress + cancel) at the bottom, the page in the
//! middle with dismissible errors above it.

pub mod cache;
pub mod command;
pub mod commands;
pub mod jobs;
pub mod panels;
pub mod report_job;
pub mod settings;
pub mod shell;
pub mod state;
pub mod widgets;

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers, RichText};

use crate::engine::workspace::{demo_workspace, Workspace};
use command::CommandSender;
use commands::{save_workspace, sync};
use jobs::Jobs;
use panels::Pages;
use settings::UiSettings;
use state::{Page, State};
use widgets::theme::{self, Palette};

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Files to open (models, datasets, a workspace); empty → the demo workspace.
    pub paths: Vec<PathBuf>,
    /// Where UI settings live; `None` keeps them in memory only (tests).
    pub settings_path: Option<PathBuf>,
}

enum DialogResult {
    Open(Vec<PathBuf>),
    SaveAs(PathBuf),
    ExportReport(PathBuf),
}

pub struct AssayApp {
    pub state: State,
    /// Every page's own state (selections, forms).
    pub pages: Pages,
    settings: UiSettings,
    settings_path: Option<PathBuf>,
    dialog_tx: Sender<DialogResult>,
    dialog_rx: Receiver<DialogResult>,
    applied: Option<(bool, bool)>,
    title: String,
    /// The "Path…" field: a typed path for desktops without a file-dialog portal.
    typed_path: String,
}

impl AssayApp {
    pub fn new(ctx: &egui::Context, options: Options) -> Self {
        let repaint_ctx = ctx.clone();
        let jobs = Jobs::new(Arc::new(move || repaint_ctx.request_repaint()));
        let settings = UiSettings::load(options.settings_path.as_ref());
        let (dialog_tx, dialog_rx) = channel();
        let mut state = State::new(Workspace::default(), jobs);
        state.dark = settings.dark;
        state.presentation = settings.presentation;
        let mut pages = Pages::new(&state);
        if options.paths.is_empty() {
            match demo_workspace() {
                Ok(ws) => shell::set_workspace(&mut state, &mut pages, ws, None),
                Err(e) => state.error(e.to_string()),
            }
        } else {
            shell::open(&mut state, &mut pages, &options.paths);
        }
        Self {
            state,
            pages,
            settings,
            settings_path: options.settings_path,
            dialog_tx,
            dialog_rx,
            applied: None,
            title: String::new(),
            typed_path: String::new(),
        }
    }

    /// Draws one frame: the whole window.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.housekeeping(&ctx);
        let pal = Palette::of(ui);
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar_ui(ui));
        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_ui(ui));
        egui::Panel::left("nav")
            .resizable(false)
            .exact_size(140.0)
            .frame(egui::Frame::new().fill(pal.nav).inner_margin(8))
            .show(ui, |ui| self.nav_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            self.errors_ui(ui);
            shell::frame_page(ui, &mut self.state, &mut self.pages);
        });
        let tx = CommandSender::default();
        panels::notes::note_dialog(&ctx, &mut self.pages.notes, &tx);
        shell::apply(&mut self.state, &mut self.pages, tx.take());
        self.drop_overlay(&ctx);
    }

    /// Per frame, before drawing: theme, title, finished jobs, dialogs, shortcuts, dropped files.
    fn housekeeping(&mut self, ctx: &egui::Context) {
        let want = (self.state.dark, self.state.presentation);
        if self.applied != Some(want) {
            theme::apply(ctx, want.0, want.1);
            self.applied = Some(want);
            if self.settings.dark != want.0 || self.settings.presentation != want.1 {
                self.settings.dark = want.0;
                self.settings.presentation = want.1;
                self.settings.save(self.settings_path.as_ref());
            }
        }
        let title = format!(
            "Assay — {}{}",
            self.state.workspace.name,
            if self.state.dirty { " •" } else { "" }
        );
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        while let Ok(r) = self.dialog_rx.try_recv() {
            match r {
                DialogResult::Open(paths) => self.open(&paths),
                DialogResult::SaveAs(path) => self.save_to(path),
                DialogResult::ExportReport(path) => {
                    report_job::request_report(&mut self.state, path)
                }
            }
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.open(&dropped);
        }
        self.shortcuts(ctx);
        sync(&mut self.state);
    }

    fn open(&mut self, paths: &[PathBuf]) {
        shell::open(&mut self.state, &mut self.pages, paths);
        for p in paths {
            if p.to_string_lossy().ends_with(".assay.json") {
                self.settings.remember(p.clone());
                self.settings.save(self.settings_path.as_ref());
            }
        }
    }

    fn save_to(&mut self, path: PathBuf) {
        let path = if path.to_string_lossy().ends_with(".assay.json") {
            path
        } else {
            path.with_extension("assay.json")
        };
        if save_workspace(&mut self.state, &path) {
            self.settings.remember(path);
            self.settings.save(self.settings_path.as_ref());
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let digits = [
            Key::Num1,
            Key::Num2,
            Key::Num3,
            Key::Num4,
            Key::Num5,
            Key::Num6,
            Key::Num7,
            Key::Num8,
            Key::Num9,
        ];
        ctx.input_mut(|i| {
            for (k, page) in digits.iter().zip(Page::ALL) {
                if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, *k)) {
                    self.state.page = page;
                }
            }
        });
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O)))
        {
            self.open_dialog();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::S)))
        {
            self.save();
        }
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::NONE, Key::F11)))
        {
            self.state.presentation = !self.state.presentation;
        }
        if ctx.input_mut(|i| {
            i.consume_shortcut(&KeyboardShortcut::new(
                Modifiers::COMMAND | Modifiers::SHIFT,
                Key::T,
            ))
        }) {
            self.state.dark = !self.state.dark;
        }
    }

    /// Native file dialogs run on their own thread (never on the UI thread).
    fn open_dialog(&self) {
        let tx = self.dialog_tx.clone();
        let _ = std::thread::Builder::new()
            .name("assay-dialog".into())
            .spawn(move || {
                if let Some(files) = rfd::FileDialog::new()
                    .set_title("Open models, datasets or a workspace")
                    .add_filter(
                        "Assay files",
                        &[
                            "onnx", "csv", "tsv", "parquet", "arrow", "feather", "ipc", "json",
                        ],
                    )
                    .pick_files()
                {
                    let _ = tx.send(DialogResult::Open(files));
                }
            });
    }

    fn save(&mut self) {
        match self.state.workspace_path.clone() {
            Some(p) => self.save_to(p),
            None => self.save_as_dialog(),
        }
    }

    fn save_as_dialog(&self) {
        let tx = self.dialog_tx.clone();
        let _ = std::thread::Builder::new()
            .name("assay-dialog".into())
            .spawn(move || {
                if let Some(path) = rfd::FileDialog::new()
                    .set_title("Save workspace")
                    .set_file_name("review.assay.json")
                    .save_file()
                {
                    let _ = tx.send(DialogResult::SaveAs(path));
                }
            });
    }

    fn export_report_dialog(&self) {
        let tx = self.dialog_tx.clone();
        let _ = std::thread::Builder::new()
            .name("assay-dialog".into())
            .spawn(move || {
                if let Some(path) = rfd::FileDialog::new()
                    .set_title("Export review report")
                    .set_file_name("review-report.html")
                    .add_filter("HTML report", &["html"])
                    .save_file()
                {
                    let _ = tx.send(DialogResult::ExportReport(path));
                }
            });
    }

    fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        let pal = Palette::of(ui);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Assay").strong().color(pal.accent).size(17.0));
            ui.label(RichText::new(&self.state.workspace.name).strong());
            if self.state.dirty {
                ui.label(RichText::new("unsaved").small().color(pal.muted));
            }
            ui.separator();
            if ui
                .button("Open…")
                .on_hover_text(
                    "Open models, datasets or a workspace (Ctrl+O); or drop files onto the window",
                )
                .clicked()
            {
                self.open_dialog();
            }
            if ui
                .button("Save")
                .on_hover_text("Save the workspace (Ctrl+S)")
                .clicked()
            {
                self.save();
            }
            if ui.button("Save as…").clicked() {
                self.save_as_dialog();
            }
            if ui
                .button("Export report…")
                .on_hover_text("One self-contained HTML file with the results shown in the window, for stakeholders who do not run Assay")
                .clicked()
            {
                self.export_report_dialog();
            }
            self.typed_path_menu(ui);
            let recent = self.settings.recent.clone();
            ui.menu_button("Recent", |ui| {
                if recent.is_empty() {
                    ui.label("No recent workspaces");
                }
                for p in recent {
                    if ui.button(p.display().to_string()).clicked() {
                        self.open(&[p]);
                        ui.close();
                    }
                }
                ui.separator();
                if ui.button("Demo workspace").clicked() {
                    match demo_workspace() {
                        Ok(ws) => {
                            shell::set_workspace(&mut self.state, &mut self.pages, ws, None)
                        }
                        Err(e) => self.state.error(e.to_string()),
                    }
                    ui.close();
                }
            });
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let pres = if self.state.presentation {
                    "Exit presentation"
                } else {
                    "Presentation"
                };
                if ui
                    .button(pres)
                    .on_hover_text("Larger text and plots for meetings (F11)")
                    .clicked()
                {
                    self.state.presentation = !self.state.presentation;
                }
                let theme = if self.state.dark {
                    "Light theme"
                } else {
                    "Dark theme"
                };
                if ui.button(theme).on_hover_text("Ctrl+Shift+T").clicked() {
                    self.state.dark = !self.state.dark;
                }
            });
        });
    }

    /// Open, Save as and Export report by a typed path: the fallback when no file dialog
    /// appears (no xdg-desktop-portal).
    fn typed_path_menu(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("Path…", |ui| {
            ui.label("Type a path when no file dialog appears:");
            let l = ui.label("Path");
            ui.add(
                egui::TextEdit::singleline(&mut self.typed_path)
                    .desired_width(360.0)
                    .hint_text("/home/me/review.assay.json"),
            )
            .labelled_by(l.id);
            let path = PathBuf::from(self.typed_path.trim());
            let ok = !self.typed_path.trim().is_empty();
            ui.horizontal(|ui| {
                if ui.add_enabled(ok, egui::Button::new("Open")).clicked() {
                    self.open(std::slice::from_ref(&path));
                    ui.close();
                }
                if ui
                    .add_enabled(ok, egui::Button::new("Save workspace here"))
                    .clicked()
                {
                    self.save_to(path.clone());
                    ui.close();
                }
                if ui
                    .add_enabled(ok, egui::Button::new("Export report here"))
                    .clicked()
                {
                    report_job::request_report(&mut self.state, path.clone());
                    ui.close();
                }
            });
        });
    }

    fn nav_ui(&mut self, ui: &mut egui::Ui) {
        let pal = Palette::of(ui);
        ui.add_space(6.0);
        for (i, page) in Page::ALL.into_iter().enumerate() {
            let selected = self.state.page == page;
            let text = RichText::new(page.label());
            let text = if selected {
                text.strong().color(pal.accent)
            } else {
                text
            };
            let button = egui::Button::selectable(selected, text)
                .min_size(egui::vec2(ui.available_width(), 30.0));
            let resp = ui
                .add(button)
                .on_hover_text(format!("{} (Ctrl+{})", page.label(), i + 1));
            if resp.clicked() {
                self.state.page = page;
            }
        }
    }

    fn status_ui(&mut self, ui: &mut egui::Ui) {
        let pal = Palette::of(ui);
        ui.horizontal(|ui| {
            let running: Vec<(u64, String, f32, String)> = self
                .state
                .jobs
                .running()
                .iter()
                .map(|r| {
                    let (f, m) = r.progress.snapshot();
                    (r.id, r.title.clone(), f, m)
                })
                .collect();
            if running.is_empty() {
                ui.label(
                    RichText::new("Ready · offline · no telemetry")
                        .small()
                        .color(pal.muted),
                );
                if let Some(m) = &self.state.message {
                    ui.separator();
                    // One line, elided at the window's edge; the whole text on hover.
                    ui.add(egui::Label::new(RichText::new(m).small()).truncate())
                        .on_hover_text(m);
                }
                return;
            }
            ui.spinner();
            let mut cancel = None;
            // As many jobs as fit (title 220 + bar 160 + Cancel and gaps ≈ 470 points each),
            // leaving room for "+N more".
            let fit = (((ui.available_width() - 80.0) / 470.0).floor() as usize).clamp(1, 3);
            for (id, title, f, msg) in running.iter().take(fit) {
                // At most 220 points each, elided; the whole title and message on hover.
                ui.allocate_ui(egui::vec2(220.0, ui.available_height()), |ui| {
                    ui.add(egui::Label::new(title.as_str()).truncate())
                })
                .inner
                .on_hover_text(format!("{title}: {msg}"));
                ui.add(
                    egui::ProgressBar::new(*f)
                        .desired_width(160.0)
                        .text(widgets::format::elide(ui, msg, 144.0)),
                )
                .on_hover_text(format!("{title}: {msg}"));
                if ui
                    .small_button("Cancel")
                    .on_hover_text(format!("Cancel: {title}"))
                    .clicked()
                {
                    cancel = Some(*id);
                }
                ui.separator();
            }
            if running.len() > fit {
                ui.label(format!("+{} more", running.len() - fit));
            }
            if let Some(id) = cancel {
                self.state.jobs.cancel(id);
            }
        });
    }

    fn errors_ui(&mut self, ui: &mut egui::Ui) {
        let pal = Palette::of(ui);
        let tx = CommandSender::default();
        if self.state.errors.len() > 1 {
            ui.horizontal(|ui| {
                ui.colored_label(pal.bad, format!("{} errors", self.state.errors.len()));
                if ui.small_button("Dismiss all").clicked() {
                    tx.send(command::Command::DismissAllErrors);
                }
            });
        }
        for e in &self.state.errors {
            egui::Frame::new()
                .fill(pal.bad.gamma_multiply(0.15))
                .stroke(egui::Stroke::new(1.0, pal.bad))
                .corner_radius(4.0)
                .inner_margin(6)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.horizontal(|ui| {
                        ui.colored_label(pal.bad, RichText::new("Error").strong());
                        ui.add(egui::Label::new(&e.text).wrap());
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui.small_button("Dismiss").clicked() {
                                tx.send(command::Command::DismissError(e.id));
                            }
                        });
                    });
                });
        }
        shell::apply(&mut self.state, &mut self.pages, tx.take());
    }

    fn drop_overlay(&self, ctx: &egui::Context) {
        if ctx.input(|i| i.raw.hovered_files.is_empty()) {
            return;
        }
        let screen = ctx.content_rect();
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("assay-drop-overlay"),
        ));
        painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
        painter.text(
            screen.center(),
            egui::Align2::CENTER_CENTER,
            "Drop models (.onnx), datasets or a workspace to open them",
            egui::FontId::proportional(22.0),
            egui::Color32::WHITE,
        );
    }
}

impl eframe::App for AssayApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}

/// The window icon: assets/icons/assay-128.png (the desktop entry's art), embedded. An
/// undecodable PNG gives an empty icon, which eframe skips.
pub fn window_icon() -> egui::IconData {
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/assay-128.png"))
        .unwrap_or_default()
}

/// Opens the window (wgpu; falls back to glow when wgpu cannot start).
pub fn run(paths: Vec<PathBuf>) -> Result<(), String> {
    let make = |renderer| eframe::NativeOptions {
        renderer,
        viewport: egui::ViewportBuilder::default()
            .with_title("Assay")
            .with_app_id("assay")
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([900.0, 560.0])
            .with_drag_and_drop(true)
            .with_icon(window_icon()),
        ..Default::default()
    };
    let start = |renderer, paths: Vec<PathBuf>| {
        eframe::run_native(
            "Assay",
            make(renderer),
            Box::new(move |cc| {
                let options = Options {
                    paths,
                    settings_path: settings::default_path(),
                };
                Ok(Box::new(AssayApp::new(&cc.egui_ctx, options)) as Box<dyn eframe::App>)
            }),
        )
    };
    match start(eframe::Renderer::Wgpu, paths.clone()) {
        Ok(()) => Ok(()),
        Err(wgpu_err) => start(eframe::Renderer::Glow, paths)
            .map_err(|e| format!("cannot open a window (wgpu: {wgpu_err}; glow: {e})")),
    }
}

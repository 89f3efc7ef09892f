//! Shared harness for the window's kittest tests: the app on given files, waiting for jobs,
//! navigating by the page buttons' labels.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use assay::app::state::Slot;
use assay::app::{AssayApp, Options};
use eframe::egui::Role;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

#[path = "../support/mod.rs"]
mod support;
#[allow(unused_imports)] // not every window test needs it
pub use support::{first_difference, root};

pub fn app(paths: Vec<PathBuf>, dark: bool) -> Harness<'static, AssayApp> {
    let mut h = Harness::builder()
        .with_size([1360.0, 860.0])
        .wgpu()
        .build_eframe(move |cc| {
            let mut app = AssayApp::new(
                &cc.egui_ctx,
                Options {
                    paths,
                    settings_path: None,
                },
            );
            app.state.dark = dark;
            app
        });
    settle(&mut h);
    h
}

/// Steps frames until every job has finished (the UI thread never waits on them).
pub fn settle(h: &mut Harness<'static, AssayApp>) {
    let start = Instant::now();
    loop {
        h.step();
        let s = &h.state().state;
        let loading = s.loaded.models.values().any(|v| matches!(v, Slot::Loading))
            || s.loaded
                .datasets
                .values()
                .any(|v| matches!(v, Slot::Loading))
            || s.cache.slots().any(|(_, v)| matches!(v, Slot::Loading))
            || s.distributions.values().any(|v| matches!(v, Slot::Loading));
        if s.jobs.is_idle() && !loading {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(240),
            "jobs did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(4);
}

pub fn nav(h: &mut Harness<'static, AssayApp>, page: &str) {
    h.get_by_role_and_label(Role::Button, page).click();
    h.run_steps(2);
    settle(h);
}

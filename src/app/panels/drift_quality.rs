//! The Drift page's data-quality summary: missing values, duplicates, constant columns,
//! schema changes, each with a link to an offending row on the Data page (in a monitoring
//! chunk's drift, the chunk's own rows of the log).

use eframe::egui::{self, RichText};

use crate::app::command::{Command, CommandSender};
use crate::app::state::State;
use crate::app::widgets::cards::fmt;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::RowFilter;
use crate::engine::drift::DriftReport;
use crate::engine::workspace::DatasetRole;

pub fn quality_ui(
    ui: &mut egui::Ui,
    state: &State,
    tx: &CommandSender,
    chunk: Option<&RowFilter>,
    report: &DriftReport,
) {
    let pal = Palette::of(ui);
    let q = &report.quality;
    ui.strong("Data quality");
    let mut goto: Option<(DatasetRole, usize)> = None;
    let mut line =
        |ui: &mut egui::Ui, text: String, bad: bool, link: Option<(DatasetRole, usize)>| {
            ui.horizontal(|ui| {
                ui.label(RichText::new(text).color(if bad {
                    pal.warn
                } else {
                    ui.visuals().text_color()
                }));
                if let Some((role, row)) = link {
                    if ui
                        .small_button(format!("row {row}"))
                        .on_hover_text("Show this row on the Data page")
                        .clicked()
                    {
                        goto = Some((role, row));
                    }
                }
            });
        };
    for (role, d) in [
        (DatasetRole::Reference, &q.reference),
        (DatasetRole::Current, &q.current),
    ] {
        let name = if role == DatasetRole::Reference {
            "reference"
        } else {
            "current"
        };
        let missing: usize = d.missing.iter().map(|m| m.count).sum();
        let first_missing = d.missing.iter().find_map(|m| m.rows.first().copied());
        line(
            ui,
            format!(
                "{name}: {missing} missing values in {} columns",
                d.missing.iter().filter(|m| m.count > 0).count()
            ),
            missing > 0,
            first_missing.map(|r| (role, r)),
        );
        line(
            ui,
            format!("{name}: {} duplicated rows", d.duplicated_rows),
            d.duplicated_rows > 0,
            d.duplicated_row_numbers.first().map(|&r| (role, r)),
        );
        if !d.constant_columns.is_empty() {
            line(
                ui,
                format!("{name}: constant columns {}", d.constant_columns.join(", ")),
                true,
                None,
            );
        }
        for a in &d.almost_constant_columns {
            line(
                ui,
                format!(
                    "{name}: '{}' is almost constant ({:.1}% '{}')",
                    a.name,
                    a.share * 100.0,
                    a.value
                ),
                true,
                None,
            );
        }
    }
    for o in &q.out_of_range {
        line(
            ui,
            format!(
                "'{}': {} below and {} above the reference range [{}, {}]",
                o.name,
                o.below,
                o.above,
                fmt(Some(o.reference_min)),
                fmt(Some(o.reference_max))
            ),
            true,
            o.rows.first().map(|&r| (DatasetRole::Current, r)),
        );
    }
    for u in &q.unseen_categories {
        let cats: Vec<String> = u
            .categories
            .iter()
            .take(5)
            .map(|(c, n)| format!("'{c}' ({n})"))
            .collect();
        line(
            ui,
            format!(
                "'{}': {} rows with categories unseen in the reference: {}",
                u.name,
                u.count,
                cats.join(", ")
            ),
            true,
            u.rows.first().map(|&r| (DatasetRole::Current, r)),
        );
    }
    for t in &q.type_mismatches {
        line(
            ui,
            format!(
                "'{}' in {}: {} values are {} where {} was expected",
                t.name, t.dataset, t.count, t.found, t.expected
            ),
            true,
            t.examples.first().map(|(r, _)| {
                (
                    if t.dataset == "reference" {
                        DatasetRole::Reference
                    } else {
                        DatasetRole::Current
                    },
                    *r,
                )
            }),
        );
    }
    let s = &q.schema;
    if s.only_in_reference.is_empty()
        && s.only_in_current.is_empty()
        && s.type_changed.is_empty()
        && !s.order_changed
    {
        line(ui, "schema: same columns and types".into(), false, None);
    } else {
        if !s.only_in_reference.is_empty() {
            line(
                ui,
                format!(
                    "schema: only in reference: {}",
                    s.only_in_reference.join(", ")
                ),
                true,
                None,
            );
        }
        if !s.only_in_current.is_empty() {
            line(
                ui,
                format!("schema: only in current: {}", s.only_in_current.join(", ")),
                true,
                None,
            );
        }
        for t in &s.type_changed {
            line(
                ui,
                format!("schema: '{}' was {}, is {}", t.name, t.reference, t.current),
                true,
                None,
            );
        }
        if s.order_changed {
            line(ui, "schema: column order changed".into(), true, None);
        }
    }
    if let Some((role, row)) = goto {
        // In a chunk's drift the current rows are the chunk's: row k is the chunk's k-th.
        let target = match (chunk, role) {
            (Some(c), DatasetRole::Current) => c.rows.get(row.saturating_sub(1)).and_then(|&r| {
                let i = state.workspace.datasets.iter().position(|d| {
                    state
                        .data(&d.path)
                        .is_some_and(|l| l.sha256() == c.data_sha)
                })?;
                Some((i, r as usize + 1))
            }),
            (Some(_), DatasetRole::Reference) => state
                .workspace
                .datasets
                .iter()
                .position(|d| d.role == DatasetRole::Evaluation)
                .map(|i| (i, row)),
            _ => state
                .workspace
                .datasets
                .iter()
                .position(|d| d.role == role)
                .map(|i| (i, row)),
        };
        if let Some((dataset, row)) = target {
            tx.send(Command::OpenRow { dataset, row });
        }
    }
}

//! The Compare page's promotion gate: the verdict with one reason per rule, and the rule
//! editor (saved in the workspace). The rules are judged by `engine::compare::gate` on the
//! comparison's facts plus the speed and robustness facts measured so far.

use eframe::egui::{self, RichText};

use crate::app::command::CommandSender;
use crate::app::state::State;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::review::judge_gate;
use crate::engine::compare::gate::{GateOp, GateRule};
use crate::engine::compare::Comparison;

pub fn gate_view(ui: &mut egui::Ui, state: &State, tx: &CommandSender, c: &Comparison) {
    let pal = Palette::of(ui);
    let g = &c.gate;
    let judged = judge_gate(&state.planner(), c);
    let (mut gate, result, facts) = (judged.gate, judged.result, judged.facts);
    ui.horizontal(|ui| {
        let (t, col) = if result.passed {
            ("PASS", pal.good)
        } else {
            ("FAIL", pal.bad)
        };
        ui.label(RichText::new(t).size(22.0).strong().color(col));
        ui.label(format!(
            "promote {} over {}? {}",
            g.candidate,
            g.baseline,
            if state.workspace.gate.is_none() {
                "(default rules; edit them below)"
            } else {
                "(the workspace's rules)"
            }
        ));
    });
    for r in &result.rules {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(if r.passed { "pass" } else { "fail" })
                    .strong()
                    .color(if r.passed { pal.good } else { pal.bad }),
            );
            ui.label(&r.reason);
        });
    }
    ui.add_space(10.0);
    ui.strong("Rules");
    let mut changed = false;
    let mut remove = None;
    let fact_values = facts;
    let facts: Vec<String> = fact_values.keys().cloned().collect();
    for (i, rule) in gate.rules.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            let rule_label = ui.label(format!("Rule {}", i + 1));
            egui::ComboBox::from_id_salt(("gate_fact", i))
                .width(300.0)
                .selected_text(rule.fact.clone())
                .show_ui(ui, |ui| {
                    for f in &facts {
                        changed |= ui.selectable_value(&mut rule.fact, f.clone(), f).changed();
                    }
                })
                .response
                .labelled_by(rule_label.id);
            egui::ComboBox::from_id_salt(("gate_op", i))
                .width(50.0)
                .selected_text(rule.op.symbol())
                .show_ui(ui, |ui| {
                    for op in [GateOp::Ge, GateOp::Gt, GateOp::Le, GateOp::Lt] {
                        changed |= ui.selectable_value(&mut rule.op, op, op.symbol()).changed();
                    }
                })
                .response
                .labelled_by(rule_label.id);
            changed |= ui
                .add(
                    egui::DragValue::new(&mut rule.value)
                        .speed(0.001)
                        .max_decimals(4),
                )
                .changed();
            if let Some(v) = fact_values.get(&rule.fact) {
                ui.label(RichText::new(format!("now {v:.4}")).color(pal.muted));
            }
            if ui.small_button("Remove").clicked() {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        gate.rules.remove(i);
        changed = true;
    }
    ui.horizontal(|ui| {
        if ui.button("Add rule").clicked() {
            gate.rules.push(GateRule::new(
                facts.first().map_or("delta.accuracy", |s| s.as_str()),
                GateOp::Ge,
                0.0,
            ));
            changed = true;
        }
        if state.workspace.gate.is_some() && ui.button("Back to the default rules").clicked() {
            tx.edit(|ws| ws.gate = None);
        }
    });
    if changed {
        tx.edit(move |ws| ws.gate = Some(gate));
    }
    ui.label(
        RichText::new("Rules read the comparison's facts (baseline.*, candidate.*, delta.*, delta_ci_low.*, group worsening, test p-values) and, once measured on the Speed and Robustness tabs, candidate.p95_latency_ms, candidate.max_noise_flip_rate and the like; a fact that was not measured fails its rule. Saved in the workspace; `assay compare --gate` takes the same rules.")
            .small()
            .color(pal.muted),
    );
}

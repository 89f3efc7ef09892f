//! The Compare page's promotion gate: the verdict with one reason per rule, and the rule
//! editor (saved in the workspace). The rules are judged by `engine::compare::gate` on the
//! comparison's facts plus the speed and robustness facts measured so far.

use eframe::egui::{self, RichText};

use crate::app::command::CommandSender;
use crate::app::state::State;
use crate::app::widgets::theme::Palette;
use crate::engine::analysis::review::judge_gate;
use crate::engine::compare::gate::{fmt_num, GateOp, GateRule};
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
    pair_chooser(ui, tx, c);
    for r in &result.rules {
        ui.horizontal(|ui| {
            ui.label(
                RichText::new(if r.passed { "pass" } else { "fail" })
                    .strong()
                    .color(if r.passed { pal.good } else { pal.bad }),
            );
            ui.label(&r.reason);
        });
        // A failing group rule names the groups behind it (the engine's per-group values).
        if !r.passed {
            if let Some(metric) = group_rule_metric(&r.rule.fact) {
                // For a worsening rule, the groups that alone break it; for the count of
                // significantly worse groups, those groups.
                let worst: Vec<_> = worst_groups(c, metric)
                    .into_iter()
                    .filter(|(_, w, _)| metric.is_empty() || !r.rule.op.holds(*w, r.rule.value))
                    .collect();
                if !worst.is_empty() {
                    ui.horizontal_wrapped(|ui| {
                        ui.add_space(36.0);
                        ui.label(RichText::new("failing groups:").color(pal.muted));
                        for (name, w, count) in worst {
                            ui.label(
                                RichText::new(format!("{name} (worse by {})", fmt_num(w)))
                                    .color(pal.bad),
                            )
                            .on_hover_text(format!(
                                "{} vs {}: {metric} worse by {w} in {name} ({count} rows)",
                                g.candidate, g.baseline
                            ));
                        }
                    });
                }
            }
        }
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
                .labelled_by(rule_label.id)
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

/// The group metric a group rule judges: `max_group_worsening.M` → `M`;
/// `groups_significantly_worse` → every metric (`""`).
fn group_rule_metric(fact: &str) -> Option<&str> {
    fact.strip_prefix("max_group_worsening.")
        .or_else(|| (fact == "groups_significantly_worse").then_some(""))
}

/// The gated pair's groups (large enough to judge) where the candidate is worse on `metric`
/// (every significantly worse group when `metric` is empty), worst first, at most five:
/// group, how much worse, rows. Read from the engine's slice comparison, not computed.
fn worst_groups(c: &Comparison, metric: &str) -> Vec<(String, f64, usize)> {
    let mut out: Vec<(String, f64, usize)> = Vec::new();
    for s in &c.slices {
        let Some(p) = s
            .pairs
            .iter()
            .find(|p| p.a == c.gate.baseline && p.b == c.gate.candidate)
        else {
            continue;
        };
        for gd in p.groups.iter().filter(|gd| !gd.too_small) {
            let name = crate::engine::fairness::group_text(&gd.group);
            if metric.is_empty() {
                if gd.significantly_worse {
                    for m in &gd.worse_metrics {
                        if let Some(w) = gd.worsening.get(m) {
                            out.push((format!("{name} ({m})"), w, gd.count));
                        }
                    }
                }
            } else if let Some(w) = gd.worsening.get(metric).filter(|w| *w > 0.0) {
                out.push((name, w, gd.count));
            }
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.truncate(5);
    out
}

/// Which pair the gate judges (saved in the workspace; the comparison is recomputed for it).
fn pair_chooser(ui: &mut egui::Ui, tx: &CommandSender, c: &Comparison) {
    if c.pairs.len() < 2 {
        return;
    }
    let g = &c.gate;
    ui.horizontal(|ui| {
        let l = ui.label("Judge");
        let mut chosen: Option<(String, String)> = None;
        egui::ComboBox::from_id_salt("gate_pair")
            .width(420.0)
            .selected_text(format!("{} over {}", g.candidate, g.baseline))
            .show_ui(ui, |ui| {
                for p in &c.pairs {
                    let on = p.a == g.baseline && p.b == g.candidate;
                    if ui
                        .selectable_label(on, format!("{} over {}", p.b, p.a))
                        .clicked()
                        && !on
                    {
                        chosen = Some((p.a.clone(), p.b.clone()));
                    }
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("the candidate the gate would promote over its baseline");
        if let Some(pair) = chosen {
            tx.edit(move |ws| ws.gate_pair = Some(pair));
        }
    });
}

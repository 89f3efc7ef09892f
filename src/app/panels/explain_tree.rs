//! The Explain page's tree viewer: any tree of the ensemble with its splits, covers and leaf
//! values, and the path the selected row takes (`Forest::decision_path`).

use eframe::egui::{self, RichText};

use crate::app::state::State;
use crate::app::widgets::theme::Palette;
use crate::app::widgets::tree::{self, NodeView};
use crate::engine::explain::tree::{Forest, NodeMode};
use crate::engine::explain::Explanation;

pub fn trees_view(
    ui: &mut egui::Ui,
    state: &State,
    tree_i: &mut usize,
    row_sel: usize,
    e: &Explanation,
) {
    let pal = Palette::of(ui);
    let Some(forest) = state.forest(state.selected_index()) else {
        ui.label("This model is not a plain tree ensemble, so there are no trees to draw.");
        return;
    };
    draw_forest(ui, tree_i, row_sel, &forest, e, &pal);
}

fn draw_forest(
    ui: &mut egui::Ui,
    tree_i: &mut usize,
    row_sel: usize,
    forest: &Forest,
    e: &Explanation,
    pal: &Palette,
) {
    let n = forest.trees.len();
    if n == 0 {
        ui.label("the ensemble has no trees");
        return;
    }
    *tree_i = (*tree_i).min(n - 1);
    let row_i = row_sel.min(e.values.len().saturating_sub(1));
    ui.horizontal(|ui| {
        let label = ui.label(format!("Tree (of {n})"));
        ui.add(
            egui::Slider::new(tree_i, 0..=n - 1)
                .custom_formatter(|v, _| format!("{}", v as usize + 1))
                .custom_parser(|s| s.parse::<f64>().ok().map(|v| v - 1.0)),
        )
        .labelled_by(label.id);
        if let Some(r) = e.row_indices.get(row_i) {
            ui.label(
                RichText::new(format!(
                    "path of row {} highlighted (choose the row on the One row tab)",
                    r + 1
                ))
                .color(pal.muted),
            );
        }
    });
    let t = &forest.trees[*tree_i];
    let row: Vec<f64> = e
        .feature_values
        .get(row_i)
        .map(|r| r.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .unwrap_or_default();
    let path = if row.len() == forest.n_features {
        forest.decision_path(*tree_i, &row).unwrap_or_default()
    } else {
        Vec::new()
    };
    let name = |j: usize| {
        e.feature_names
            .get(j)
            .cloned()
            .unwrap_or_else(|| format!("x{j}"))
    };
    let nodes: Vec<NodeView> = t
        .nodes
        .iter()
        .map(|node| {
            let cover = node
                .cover
                .map_or(String::new(), |c| format!("cover {c:.0}"));
            if node.mode == NodeMode::Leaf {
                let v = node
                    .values
                    .iter()
                    .map(|v| format!("{v:+.4}"))
                    .collect::<Vec<_>>()
                    .join(" / ");
                NodeView {
                    label: format!("leaf {v}"),
                    detail: cover,
                    children: None,
                }
            } else {
                let sym = match node.mode.symbol() {
                    "<=" => "≤",
                    ">=" => "≥",
                    s => s,
                };
                let missing = if node.missing_goes_true {
                    "missing: yes"
                } else {
                    ""
                };
                let detail = [cover, missing.to_string()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ");
                NodeView {
                    label: format!("{} {sym} {}", name(node.feature), shap_fmt(node.threshold)),
                    detail,
                    children: Some([node.true_child, node.false_child]),
                }
            }
        })
        .collect();
    ui.label(
        RichText::new(format!(
            "depth {} · {} nodes · leaf values are raw scores added to the ensemble's margin{}",
            t.depth,
            t.nodes.len(),
            if forest.has_covers() {
                ""
            } else {
                " · ONNX stores no covers"
            }
        ))
        .small()
        .color(pal.muted),
    );
    tree::tree(ui, &nodes, 0, &path);
}

fn shap_fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

//! A decision tree drawn top-down: split conditions in the nodes, covers and leaf values,
//! and the path one row takes highlighted. Layout only; the nodes come from the engine.

use eframe::egui::{self, Align2, Pos2, Rect, Sense, Stroke};

use super::theme::Palette;

/// One node as the viewer shows it.
pub struct NodeView {
    /// Split condition ("age ≤ 37.5") or leaf value ("leaf +0.213").
    pub label: String,
    /// Second line: cover, rows, missing-value direction.
    pub detail: String,
    /// Children `[condition true, condition false]`; `None` for a leaf.
    pub children: Option<[usize; 2]>,
}

const NODE_W: f32 = 138.0;
const NODE_H: f32 = 40.0;
const GAP_X: f32 = 12.0;
const GAP_Y: f32 = 36.0;

/// Positions: leaves get consecutive columns in order, a split sits above its children's middle.
fn layout(nodes: &[NodeView], root: usize) -> Vec<Option<(f32, usize)>> {
    let mut pos = vec![None; nodes.len()];
    let mut next_leaf = 0.0f32;
    // Iterative post-order so deep or malformed trees cannot overflow the stack.
    let mut stack = vec![(root, 0usize, false)];
    let mut seen = vec![false; nodes.len()];
    while let Some((n, depth, expanded)) = stack.pop() {
        let Some(node) = nodes.get(n) else { continue };
        match (node.children, expanded) {
            (Some([a, b]), false) => {
                if seen[n] {
                    continue;
                }
                seen[n] = true;
                stack.push((n, depth, true));
                stack.push((b, depth + 1, false));
                stack.push((a, depth + 1, false));
            }
            (Some([a, b]), true) => {
                let xa = pos.get(a).copied().flatten().map(|(x, _)| x);
                let xb = pos.get(b).copied().flatten().map(|(x, _)| x);
                let x = match (xa, xb) {
                    (Some(xa), Some(xb)) => (xa + xb) / 2.0,
                    (Some(x), None) | (None, Some(x)) => x,
                    (None, None) => {
                        next_leaf += 1.0;
                        next_leaf - 1.0
                    }
                };
                pos[n] = Some((x, depth));
            }
            (None, _) => {
                if pos[n].is_none() {
                    pos[n] = Some((next_leaf, depth));
                    next_leaf += 1.0;
                }
            }
        }
    }
    pos
}

/// Draws the tree in a scrollable area that can be dragged (panned) like a map; nodes on
/// `path` are highlighted, and a new path is scrolled into the middle of the view.
pub fn tree(ui: &mut egui::Ui, nodes: &[NodeView], root: usize, path: &[usize]) {
    let pal = Palette::of(ui);
    let pos = layout(nodes, root);
    let cols = pos.iter().flatten().map(|(x, _)| *x).fold(0.0f32, f32::max) + 1.0;
    let depth = pos.iter().flatten().map(|(_, d)| *d).max().unwrap_or(0) + 1;
    let size = egui::vec2(
        cols * (NODE_W + GAP_X) + GAP_X,
        depth as f32 * (NODE_H + GAP_Y) + GAP_Y,
    );
    egui::ScrollArea::both()
        .id_salt("tree_view")
        .max_height(ui.available_height().max(320.0))
        .show(ui, |ui| {
            let (rect, resp) = ui.allocate_exact_size(size, Sense::drag());
            if resp.dragged() {
                ui.scroll_with_delta(resp.drag_delta());
            }
            if resp.hovered() {
                ui.ctx().set_cursor_icon(if resp.dragged() {
                    egui::CursorIcon::Grabbing
                } else {
                    egui::CursorIcon::Grab
                });
            }
            let painter = ui.painter_at(rect);
            let centre = |n: usize| {
                pos.get(n).copied().flatten().map(|(x, d)| {
                    Pos2::new(
                        rect.left() + GAP_X + x * (NODE_W + GAP_X) + NODE_W / 2.0,
                        rect.top() + GAP_Y / 2.0 + d as f32 * (NODE_H + GAP_Y) + NODE_H / 2.0,
                    )
                })
            };
            let on_path = |n: usize| path.contains(&n);
            // Bring the row's path on screen once per tree and path (not every frame, so the
            // user can pan away from it).
            let key = ui.scope_id().with("tree_path_shown");
            let sig = egui::Id::unique((root, path, nodes.len()));
            if ui.data(|d| d.get_temp::<egui::Id>(key)) != Some(sig) {
                let span = path
                    .iter()
                    .filter_map(|&n| centre(n))
                    .map(|c| Rect::from_center_size(c, egui::vec2(NODE_W, NODE_H)))
                    .reduce(|a, b| a.union(b));
                if let Some(span) = span {
                    ui.scroll_to_rect(span, Some(egui::Align::Center));
                }
                ui.data_mut(|d| d.insert_temp(key, sig));
            }
            let small = egui::TextStyle::Small.resolve(ui.style());
            let body = egui::TextStyle::Body.resolve(ui.style());
            let text = ui.visuals().text_color();
            // Edges first, so nodes draw over them.
            for (n, node) in nodes.iter().enumerate() {
                let (Some([a, b]), Some(p)) = (node.children, centre(n)) else {
                    continue;
                };
                for (child, tag) in [(a, "yes"), (b, "no")] {
                    let Some(c) = centre(child) else { continue };
                    let hot = on_path(n) && on_path(child);
                    let stroke = if hot {
                        Stroke::new(2.5, pal.accent)
                    } else {
                        Stroke::new(1.0, pal.muted.gamma_multiply(0.5))
                    };
                    let from = p + egui::vec2(0.0, NODE_H / 2.0);
                    let to = c - egui::vec2(0.0, NODE_H / 2.0);
                    painter.line_segment([from, to], stroke);
                    painter.text(
                        from + (to - from) * 0.35
                            + egui::vec2(if tag == "yes" { -10.0 } else { 10.0 }, 0.0),
                        Align2::CENTER_CENTER,
                        tag,
                        small.clone(),
                        if hot { pal.accent } else { pal.muted },
                    );
                }
            }
            for (n, node) in nodes.iter().enumerate() {
                let Some(c) = centre(n) else { continue };
                let r = Rect::from_center_size(c, egui::vec2(NODE_W, NODE_H));
                let hot = on_path(n);
                let leaf = node.children.is_none();
                let fill = if hot {
                    pal.accent.gamma_multiply(0.25)
                } else if leaf {
                    pal.card.gamma_multiply(0.7)
                } else {
                    pal.card
                };
                painter.rect_filled(r, 5.0, fill);
                painter.rect_stroke(
                    r,
                    5.0,
                    if hot {
                        Stroke::new(2.0, pal.accent)
                    } else {
                        Stroke::new(1.0, pal.muted.gamma_multiply(0.4))
                    },
                    egui::StrokeKind::Inside,
                );
                painter.text(
                    r.center() - egui::vec2(0.0, 8.0),
                    Align2::CENTER_CENTER,
                    &node.label,
                    body.clone(),
                    text,
                );
                painter.text(
                    r.center() + egui::vec2(0.0, 10.0),
                    Align2::CENTER_CENTER,
                    &node.detail,
                    small.clone(),
                    pal.muted,
                );
            }
        });
}

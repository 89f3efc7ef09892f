//! A small SVG writer for the report's charts: linear axes with "nice" ticks, polylines,
//! bars, whiskers, heat-map cells and labels. Styling comes from CSS classes of the page
//! (`.l0`… line colours, `.f0`… fills); every mark can carry a `<title>` tooltip with its
//! exact numbers. Coordinates are written with one decimal to keep the file small.

use std::fmt::Write;

use super::html::esc;

/// A linear mapping from data values to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub px0: f64,
    pub px1: f64,
}

impl Scale {
    pub fn map(&self, v: f64) -> f64 {
        let span = self.hi - self.lo;
        let t = if span.abs() < f64::EPSILON || !span.is_finite() {
            0.5
        } else {
            (v - self.lo) / span
        };
        self.px0 + t.clamp(-0.05, 1.05) * (self.px1 - self.px0)
    }
}

/// About `n` round tick values covering `[lo, hi]`.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil();
    let mut out = Vec::new();
    for k in 0..50 {
        let t = (first + f64::from(k)) * step;
        if t > hi + step * 1e-9 {
            break;
        }
        out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
    }
    out
}

/// A tick label: integers plainly, otherwise up to three significant decimals.
pub fn tick_label(v: f64) -> String {
    if v == v.round() && v.abs() < 1e7 {
        format!("{}", v as i64)
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// `[lo, hi]` of finite values, padded when empty or flat.
pub fn extent(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// One chart: a fixed-size SVG with a plot area and two scales.
#[derive(Debug)]
pub struct Chart {
    pub w: f64,
    pub h: f64,
    pub x: Scale,
    pub y: Scale,
    body: String,
    label: String,
}

/// Plot-area margins: left, right, top, bottom.
const M: (f64, f64, f64, f64) = (48.0, 12.0, 24.0, 38.0);

impl Chart {
    /// A chart of `w × h` pixels showing `x` and `y` ranges; `label` is its accessible name.
    pub fn new(w: f64, h: f64, x: (f64, f64), y: (f64, f64), label: &str) -> Chart {
        Chart {
            w,
            h,
            x: Scale {
                lo: x.0,
                hi: x.1,
                px0: M.0,
                px1: w - M.1,
            },
            y: Scale {
                lo: y.0,
                hi: y.1,
                px0: h - M.3,
                px1: M.2,
            },
            body: String::new(),
            label: label.to_string(),
        }
    }

    /// Title above the plot area.
    pub fn title(&mut self, t: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<text class=\"ttl\" x=\"{:.1}\" y=\"14\">{}</text>",
            M.0,
            esc(t)
        );
        self
    }

    /// Grid, axes, ticks and axis labels; `x_ticks`/`y_ticks` are approximate counts.
    pub fn axes(
        &mut self,
        xlabel: &str,
        ylabel: &str,
        x_ticks: usize,
        y_ticks: usize,
    ) -> &mut Self {
        let (x0, x1, y0, y1) = (self.x.px0, self.x.px1, self.y.px0, self.y.px1);
        let y_list = if y_ticks > 0 {
            nice_ticks(self.y.lo, self.y.hi, y_ticks)
        } else {
            Vec::new()
        };
        for t in y_list {
            let py = self.y.map(t);
            let _ = write!(
                self.body,
                "<line class=\"gr\" x1=\"{x0:.1}\" x2=\"{x1:.1}\" y1=\"{py:.1}\" y2=\"{py:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                x0 - 4.0,
                py + 3.5,
                tick_label(t)
            );
        }
        if x_ticks > 0 {
            for t in nice_ticks(self.x.lo, self.x.hi, x_ticks) {
                let px = self.x.map(t);
                let _ = write!(
                    self.body,
                    "<line class=\"ax\" x1=\"{px:.1}\" x2=\"{px:.1}\" y1=\"{y0:.1}\" y2=\"{:.1}\"/><text x=\"{px:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                    y0 + 4.0,
                    y0 + 15.0,
                    tick_label(t)
                );
            }
        }
        let _ = write!(
            self.body,
            "<line class=\"ax\" x1=\"{x0:.1}\" x2=\"{x1:.1}\" y1=\"{y0:.1}\" y2=\"{y0:.1}\"/><line class=\"ax\" x1=\"{x0:.1}\" x2=\"{x0:.1}\" y1=\"{y0:.1}\" y2=\"{y1:.1}\"/>"
        );
        let _ = write!(
            self.body,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            (x0 + x1) / 2.0,
            self.h - 4.0,
            esc(xlabel)
        );
        let _ = write!(
            self.body,
            "<text transform=\"translate(11 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
            (y0 + y1) / 2.0,
            esc(ylabel)
        );
        self
    }

    /// A polyline through `(x, y)` points (non-finite points skipped).
    pub fn line(&mut self, xs: &[f64], ys: &[f64], class: &str, tip: &str) -> &mut Self {
        let mut pts = String::new();
        for (x, y) in xs.iter().zip(ys) {
            if x.is_finite() && y.is_finite() {
                let _ = write!(pts, "{:.1},{:.1} ", self.x.map(*x), self.y.map(*y));
            }
        }
        let _ = write!(
            self.body,
            "<polyline class=\"{class}\" points=\"{}\">{}</polyline>",
            pts.trim_end(),
            title(tip)
        );
        self
    }

    /// A straight segment in data coordinates.
    pub fn seg(&mut self, a: (f64, f64), b: (f64, f64), class: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<line class=\"{class}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\"/>",
            self.x.map(a.0),
            self.y.map(a.1),
            self.x.map(b.0),
            self.y.map(b.1)
        );
        self
    }

    /// A rectangle between data coordinates `x0..x1`, `y0..y1`.
    pub fn rect(&mut self, x: (f64, f64), y: (f64, f64), class: &str, tip: &str) -> &mut Self {
        let (px0, px1) = (self.x.map(x.0), self.x.map(x.1));
        let (py0, py1) = (self.y.map(y.0), self.y.map(y.1));
        let _ = write!(
            self.body,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">{}</rect>",
            px0.min(px1),
            py0.min(py1),
            (px1 - px0).abs().max(0.5),
            (py1 - py0).abs(),
            title(tip)
        );
        self
    }

    /// A rectangle with an explicit inline fill colour (heat maps).
    pub fn cell(&mut self, x: (f64, f64), y: (f64, f64), fill: &str, tip: &str) -> &mut Self {
        let (px0, px1) = (self.x.map(x.0), self.x.map(x.1));
        let (py0, py1) = (self.y.map(y.0), self.y.map(y.1));
        let _ = write!(
            self.body,
            "<rect fill=\"{fill}\" stroke=\"#ffffff\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\">{}</rect>",
            px0.min(px1),
            py0.min(py1),
            (px1 - px0).abs(),
            (py1 - py0).abs(),
            title(tip)
        );
        self
    }

    /// A dot.
    pub fn dot(&mut self, x: f64, y: f64, r: f64, class: &str, tip: &str) -> &mut Self {
        if x.is_finite() && y.is_finite() {
            let _ = write!(
                self.body,
                "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\">{}</circle>",
                self.x.map(x),
                self.y.map(y),
                title(tip)
            );
        }
        self
    }

    /// Text at data coordinates.
    pub fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, t: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<text class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            self.x.map(x),
            self.y.map(y),
            esc(t)
        );
        self
    }

    /// Text at pixel coordinates.
    pub fn text_px(&mut self, x: f64, y: f64, anchor: &str, class: &str, t: &str) -> &mut Self {
        let _ = write!(
            self.body,
            "<text class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{}</text>",
            esc(t)
        );
        self
    }

    /// Pre-built SVG markup (callers escape what they put in).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.body.push_str(markup);
        self
    }

    /// The finished `<svg>` element.
    pub fn finish(&self) -> String {
        format!(
            "<svg width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.0} {:.0}\" role=\"img\" aria-label=\"{}\">{}</svg>",
            self.w,
            self.h,
            self.w,
            self.h,
            esc(&self.label),
            self.body
        )
    }
}

fn title(tip: &str) -> String {
    if tip.is_empty() {
        String::new()
    } else {
        format!("<title>{}</title>", esc(tip))
    }
}

/// A sequential blue for heat-map cells: `t` in `[0, 1]` → `#rrggbb`, and whether text on it
/// should be white.
pub fn heat(t: f64) -> (String, bool) {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    let (r, g, b) = (lerp(240.0, 31.0), lerp(245.0, 78.0), lerp(252.0, 160.0));
    (format!("#{r:02x}{g:02x}{b:02x}"), t > 0.55)
}

/// Merges adjacent bins so at most `max` remain (edges have one more element than counts).
pub fn rebin(edges: &[f64], counts: &[u64], max: usize) -> (Vec<f64>, Vec<u64>) {
    if counts.len() <= max || max == 0 || edges.len() != counts.len() + 1 {
        return (edges.to_vec(), counts.to_vec());
    }
    let k = counts.len().div_ceil(max);
    let mut e = vec![edges[0]];
    let mut c = Vec::new();
    for (i, chunk) in counts.chunks(k).enumerate() {
        c.push(chunk.iter().sum());
        e.push(edges[(i * k + chunk.len()).min(edges.len() - 1)]);
    }
    (e, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let labels: Vec<String> = nice_ticks(0.0, 1.0, 5)
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        assert_eq!(
            nice_ticks(0.0, 100.0, 4),
            vec![0.0, 25.0, 50.0, 75.0, 100.0]
        );
    }

    #[test]
    fn rebin_keeps_totals_and_edges() {
        let edges: Vec<f64> = (0..=10).map(f64::from).collect();
        let counts = vec![1u64; 10];
        let (e, c) = rebin(&edges, &counts, 4);
        assert_eq!(c.iter().sum::<u64>(), 10);
        assert_eq!(e.len(), c.len() + 1);
        assert_eq!((e[0], e[e.len() - 1]), (0.0, 10.0));
    }
}

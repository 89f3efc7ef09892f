//! The one number formatter of the window (docs/UI.md): metrics as the report rounds them,
//! other quantities to four significant digits, counts with thousands separators, durations
//! in µs/ms/s, p-values down to "< 1e-300"; text elided with "…" to a width.

/// A metric in [0, 1]-like ranges: three decimals, exactly as the report prints it, a dash
/// when undefined.
pub use crate::engine::report::html::fmt as metric;

/// An integer with thousands separators: `5,000`.
pub fn count(n: usize) -> String {
    group(&n.to_string())
}

fn group(digits: &str) -> String {
    let (sign, digits) = digits.strip_prefix('-').map_or(("", digits), |d| ("-", d));
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A quantity: four significant digits without trailing zeros (`17`, `1,152`, `0.7158`),
/// thousands separated from 1,000, scientific below 0.001; a dash when undefined.
pub fn num(v: Option<f64>) -> String {
    let Some(x) = v else {
        return "—".into();
    };
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if a < 1e-3 {
        return format!("{x:.2e}");
    }
    if a >= 1000.0 {
        return group(&format!("{:.0}", x.round()));
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A duration given in milliseconds: `3.2 µs`, `14.1 ms`, `2.35 s`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".into();
    }
    if ms < 1.0 {
        format!("{} µs", num(Some(ms * 1000.0)))
    } else if ms < 1000.0 {
        format!("{} ms", num(Some(ms)))
    } else {
        format!("{} s", num(Some(ms / 1000.0)))
    }
}

/// A p-value: four decimals, scientific below 1e-4, `< 1e-300` when it underflows to 0.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p <= 0.0 => "< 1e-300".into(),
        Some(p) if p < 1e-4 => format!("{p:.1e}"),
        Some(p) if p.is_finite() => format!("{p:.4}"),
        Some(p) => format!("{p}"),
        None => "—".into(),
    }
}

/// A share as a percentage with one decimal: `12.5%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// `text` shortened with "…" to fit `max_w` points in the button font (a progress bar's text
/// is clipped, not elided, by egui).
pub fn elide(ui: &eframe::egui::Ui, text: &str, max_w: f32) -> String {
    let font = eframe::egui::TextStyle::Button.resolve(ui.style());
    let fits = |s: &str| {
        ui.painter()
            .layout_no_wrap(s.to_string(), font.clone(), eframe::egui::Color32::WHITE)
            .size()
            .x
            <= max_w
    };
    if fits(text) {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while chars.pop().is_some() {
        let short = format!("{}…", chars.iter().collect::<String>().trim_end());
        if fits(&short) {
            return short;
        }
    }
    "…".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_same_everywhere() {
        assert_eq!(num(Some(17.0)), "17");
        assert_eq!(num(Some(99999.0)), "99,999");
        assert_eq!(num(Some(1152.4)), "1,152");
        assert_eq!(num(Some(0.715_807_678_427_309_6)), "0.7158");
        assert_eq!(num(Some(38.5816)), "38.58");
        assert_eq!(num(Some(-2.5)), "-2.5");
        assert_eq!(num(Some(0.000_12)), "1.20e-4");
        assert_eq!(num(None), "—");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(count(999), "999");
        assert_eq!(duration_ms(0.003), "3 µs");
        assert_eq!(duration_ms(14.12), "14.12 ms");
        assert_eq!(duration_ms(2350.0), "2.35 s");
        assert_eq!(p_value(Some(0.0)), "< 1e-300");
        assert_eq!(p_value(Some(3.2e-9)), "3.2e-9");
        assert_eq!(p_value(Some(0.04321)), "0.0432");
        assert_eq!(pct(0.125), "12.5%");
    }
}

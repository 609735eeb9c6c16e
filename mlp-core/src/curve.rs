//! A loss curve as a small, dependency-free SVG line chart.

use crate::History;
use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 400.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 55.0;

/// The training and validation loss per epoch of `h`.
pub(crate) fn loss_curve(h: &History) -> String {
    let train: Vec<(f64, f64)> = h
        .epochs
        .iter()
        .map(|e| (e.epoch as f64, e.train_loss))
        .collect();
    let val: Vec<(f64, f64)> = h
        .epochs
        .iter()
        .filter_map(|e| e.val_loss.map(|v| (e.epoch as f64, v)))
        .collect();
    let all = train
        .iter()
        .chain(&val)
        .map(|p| p.1)
        .filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">"#
    );
    let _ = write!(svg, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{}" y="24" font-size="18" text-anchor="middle">Loss per epoch</text>"#,
        W / 2.0
    );
    if !(lo.is_finite() && hi.is_finite()) {
        svg.push_str("</svg>");
        return svg;
    }
    let log = lo > 0.0 && hi / lo > 20.0;
    let f = |v: f64| if log { v.log10() } else { v };
    let (y0, y1) = if hi > lo {
        (f(lo), f(hi))
    } else {
        (f(lo) - 0.5, f(lo) + 0.5)
    };
    let (x0, x1) = (
        1.0,
        (h.epochs.last().map_or(1, |e| e.epoch) as f64).max(2.0),
    );
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
    let py = |v: f64| TOP + (y1 - f(v)) / (y1 - y0) * (H - TOP - BOTTOM);
    // Axes, ticks and titles.
    let (bx, by) = (LEFT, H - BOTTOM);
    let _ = write!(
        svg,
        r#"<path d="M{bx} {TOP}V{by}H{}" stroke="black" fill="none"/>"#,
        W - RIGHT
    );
    for k in 0..=4 {
        let t = y0 + (y1 - y0) * k as f64 / 4.0;
        let v = if log { 10f64.powf(t) } else { t };
        let y = py(v);
        let _ = write!(
            svg,
            r##"<path d="M{bx} {y:.1}h-5M{bx} {y:.1}H{}" stroke="#ddd"/>"##,
            W - RIGHT
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="13" text-anchor="end">{v:.3e}</text>"#,
            bx - 8.0,
            y + 4.0
        );
    }
    for k in 0..=4 {
        let e = x0 + (x1 - x0) * k as f64 / 4.0;
        let x = px(e);
        let _ = write!(
            svg,
            r#"<text x="{x:.1}" y="{}" font-size="13" text-anchor="middle">{:.0}</text>"#,
            by + 18.0,
            e
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" font-size="14" text-anchor="middle">epoch</text>"#,
        W / 2.0,
        H - 12.0
    );
    let scale = if log { "loss (log scale)" } else { "loss" };
    let _ = write!(
        svg,
        r#"<text x="16" y="{0}" font-size="14" text-anchor="middle" transform="rotate(-90 16 {0})">{scale}</text>"#,
        H / 2.0
    );
    for (points, color, name, row) in [
        (&train, "#0072b2", "training", 0.0),
        (&val, "#d55e00", "validation", 1.0),
    ] {
        if points.is_empty() {
            continue;
        }
        let d: Vec<String> = points
            .iter()
            .filter(|p| p.1.is_finite() && (!log || p.1 > 0.0))
            .map(|&(x, v)| format!("{:.1},{:.1}", px(x), py(v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            d.join(" ")
        );
        let ly = TOP + 12.0 + 20.0 * row;
        let lx = W - RIGHT - 130.0;
        let _ = write!(
            svg,
            r#"<path d="M{lx} {ly}h24" stroke="{color}" stroke-width="3"/>"#
        );
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="13">{name}</text>"#,
            lx + 30.0,
            ly + 4.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use crate::{EpochRecord, History};

    #[test]
    fn a_curve_has_both_losses_and_its_labels() {
        let mut h = History::default();
        for e in 1..=50 {
            h.epochs.push(EpochRecord {
                epoch: e,
                train_loss: 1.0 / e as f64,
                val_loss: Some(1.5 / e as f64),
                lr: 0.1,
                updates: 1,
                layers: vec![],
            });
        }
        let svg = h.loss_curve_svg();
        assert_eq!(svg.matches("<polyline").count(), 2);
        for words in [">training<", ">validation<", ">epoch<", "loss (log scale)"] {
            assert!(svg.contains(words), "{words}");
        }
        assert!(History::default().loss_curve_svg().ends_with("</svg>"));
    }
}

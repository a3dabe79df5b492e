//! Charts drawn on the server as SVG (no script, no CDN): bars of a few labelled values.

use crate::impact::narrative::thousands;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars, one per (label, value), with the value written at the bar's end.
pub fn bars(title: &str, items: &[(String, i64)]) -> String {
    let row = 34;
    let label_w = 120.0;
    let chart_w = 520.0;
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1) as f64;
    let height = items.len() as i32 * row + 10;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {height}\" role=\"img\" aria-labelledby=\"chart-title\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">{t}</title>",
        w = label_w + chart_w + 70.0,
        t = escape(title)
    );
    let palette = ["#7a1f4b", "#b5547d", "#e3a6bf", "#5b6475"];
    for (i, (label, value)) in items.iter().enumerate() {
        let y = i as i32 * row + 5;
        let w = (*value as f64 / max * chart_w).max(if *value > 0 { 2.0 } else { 0.0 });
        svg.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"14\" fill=\"#1d2330\">{l}</text>\
             <rect x=\"{bx}\" y=\"{y}\" width=\"{w:.1}\" height=\"24\" rx=\"3\" fill=\"{c}\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"14\" fill=\"#1d2330\">{v}</text>",
            lx = label_w - 8.0,
            ty = y + 17,
            l = escape(label),
            bx = label_w,
            c = palette[i % palette.len()],
            vx = label_w + w + 6.0,
            v = thousands(*value)
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = super::bars(
            "Audience <by> delivery",
            &[
                ("In school".into(), 1520),
                ("Venue".into(), 135),
                ("Live & stream".into(), 0),
            ],
        );
        assert!(svg.contains("width=\"520.0\""));
        assert!(svg.contains("1,520"));
        assert!(svg.contains("Live &amp; stream"));
        assert!(svg.contains("Audience &lt;by&gt; delivery"));
        assert!(!svg.contains("<script"));
    }
}

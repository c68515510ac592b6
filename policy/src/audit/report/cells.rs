//! How a figure that may be missing reads in the formats meant for people (Markdown, HTML, and CSV's text cells),
//! so all of them write it the same way.

/// A rate as a percentage with one decimal, `n/a` when there is nothing to divide.
pub fn pct(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A duration in seconds with one decimal, `n/a` when there was none.
pub fn secs(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.1} s"))
}

/// An optional text, `-` when absent.
pub fn opt(x: &Option<String>) -> String {
    x.clone().unwrap_or_else(|| "-".into())
}

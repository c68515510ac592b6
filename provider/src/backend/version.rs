//! Engine version helpers shared by backends and resources.

/// Orders two major versions numerically ("8.0" < "8.4", "9.6" < "16").
pub fn compare_major(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| {
        s.split('.')
            .map(|p| p.parse::<u64>().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    parse(a).cmp(&parse(b))
}

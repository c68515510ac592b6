//! The order results are listed in: paths compared the way a reader expects, numbers by value.

/// Paths in the order a reader expects: runs of digits compared as numbers, so a migration's `line:2` comes
/// before `line:16` and `replicas[2]` before `replicas[10]`; otherwise byte order.
pub(crate) fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let m = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (&x[..n], &y[..m]);
                // Without leading zeros, a longer run is a larger number; equal lengths compare bytewise.
                let tx = &dx[dx.iter().take_while(|c| **c == b'0').count().min(n - 1)..];
                let ty = &dy[dy.iter().take_while(|c| **c == b'0').count().min(m - 1)..];
                let o = tx
                    .len()
                    .cmp(&ty.len())
                    .then_with(|| tx.cmp(ty))
                    .then_with(|| n.cmp(&m));
                if o.is_ne() {
                    return o;
                }
                (x, y) = (&x[n..], &y[m..]);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_order_numbers_by_value() {
        let mut v = vec![
            "line:16",
            "line:2",
            "line:100",
            "tags.env",
            "line:02",
            "replicas[10]",
            "replicas[2]",
        ];
        v.sort_by(|a, b| natural(a, b));
        assert_eq!(
            v,
            [
                "line:2",
                "line:02",
                "line:16",
                "line:100",
                "replicas[2]",
                "replicas[10]",
                "tags.env"
            ]
        );
        assert!(natural("a", "ab").is_lt());
        assert!(natural("settings.x", "settings.y").is_lt());
    }
}

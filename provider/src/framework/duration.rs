//! Terraform-style duration strings ("90s", "40m", "1h30m", "7d", "2w"), as attributes such as
//! `timeouts.create` and `max_age` take them. One grammar for every attribute, so users learn it once.

use std::time::Duration;

/// Parses a sequence of `<digits><unit>` parts, units `s`, `m`, `h`, `d` (24 h) and `w` (7 d), e.g. "1h30m".
/// `None` for an empty string, a number without a unit, an unknown unit or an overflow. "0s" is a valid zero
/// duration: callers that need a positive one check [`Duration::is_zero`].
pub fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut total = 0u64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 7 * 86400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    if !num.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_combinations_parse() {
        assert_eq!(parse_duration("45s"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("40m"), Some(Duration::from_secs(2400)));
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86400)));
        assert_eq!(parse_duration("2w"), Some(Duration::from_secs(14 * 86400)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 1d12h "), Some(Duration::from_secs(129600)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn malformed_durations_are_refused() {
        for bad in ["", "  ", "40", "m", "4x", "1y", "1h30", "-5m", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_duration("99999999999999999999w"), None);
        assert_eq!(parse_duration(&format!("{}w", u64::MAX / 1000)), None);
    }
}

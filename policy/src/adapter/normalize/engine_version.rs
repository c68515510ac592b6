//! Engine names and major versions as rules compare them, from an engine and version or a parameter group family.

/// `postgres` for `postgres`/`postgresql`, other engines lower-cased as given.
pub fn normalize_engine(engine: &str) -> String {
    let e = engine.trim().to_ascii_lowercase();
    match e.as_str() {
        "postgresql" => "postgres".to_string(),
        _ => e,
    }
}

/// The major version of an engine version: `16.3` -> `16`, `9.6.24` -> `9.6`, `8.0.35` -> `8.0`,
/// `8.0.mysql_aurora.3.04.0` -> `8.0`.
pub fn engine_major(engine: &str, version: &str) -> Option<String> {
    let parts: Vec<&str> = version
        .trim()
        .split('.')
        .filter(|p| !p.is_empty())
        .collect();
    let first = *parts.first()?;
    let first_num: u32 = first.parse().ok()?;
    let two = |parts: &[&str]| match parts.get(1) {
        Some(p) if p.chars().all(|c| c.is_ascii_digit()) => format!("{first}.{p}"),
        _ => first.to_string(),
    };
    Some(match engine {
        "postgres" | "aurora-postgresql" if first_num < 10 => two(&parts),
        "postgres" | "aurora-postgresql" => first.to_string(),
        "mysql" | "mariadb" | "aurora-mysql" | "aurora" => two(&parts),
        _ => first.to_string(),
    })
}

/// Engine and major version from a parameter group family (`postgres16`, `mysql8.0`, `aurora-postgresql15`).
pub fn family_engine(family: &str) -> (Option<String>, Option<String>) {
    match family.find(|c: char| c.is_ascii_digit()) {
        Some(i) if i > 0 => {
            let engine = normalize_engine(&family[..i]);
            let major = engine_major(&engine, &family[i..]);
            (Some(engine), major)
        }
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors() {
        assert_eq!(engine_major("postgres", "16.3").as_deref(), Some("16"));
        assert_eq!(engine_major("postgres", "9.6.24").as_deref(), Some("9.6"));
        assert_eq!(engine_major("mysql", "8.0.35").as_deref(), Some("8.0"));
        assert_eq!(
            engine_major("aurora-mysql", "8.0.mysql_aurora.3.04.0").as_deref(),
            Some("8.0")
        );
        assert_eq!(
            engine_major("aurora-postgresql", "15.4").as_deref(),
            Some("15")
        );
        assert_eq!(engine_major("postgres", "x"), None);
        assert_eq!(
            family_engine("aurora-postgresql15"),
            (Some("aurora-postgresql".into()), Some("15".into()))
        );
        assert_eq!(
            family_engine("mysql8.0"),
            (Some("mysql".into()), Some("8.0".into()))
        );
    }
}

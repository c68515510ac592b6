//! Quoting identifiers and literals for the role SQL, and which role names a template may use.

/// `"name"` with embedded quotes doubled: safe for any identifier PostgreSQL accepts.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with embedded quotes doubled (standard_conforming_strings is on in every supported version).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Why `name` cannot be a managed role's name, or `None` when it can: lower-case letters, digits and `_`,
/// starting with a letter or `_`, at most 63 bytes, not PostgreSQL's reserved `pg_` prefix, not the provider's
/// own admin role, not `public`.
pub fn role_name_problem(name: &str) -> Option<String> {
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let first_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if name.is_empty() || name.len() > 63 || !valid_chars || !first_ok {
        return Some(format!(
            "{name:?} is not a role name this provider manages: use 1-63 lower-case letters, digits and _, starting with a letter (e.g. \"orders_readonly\")"
        ));
    }
    if name.starts_with("pg_") {
        return Some(format!(
            "{name:?} starts with pg_, which PostgreSQL reserves for its predefined roles; choose another name"
        ));
    }
    if name == "public" || name == crate::backend::local::identity::ADMIN_ROLE {
        return Some(format!(
            "{name:?} is reserved (PUBLIC, or the provider's own administrative role); choose another name"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn role_names_are_checked_with_the_reason() {
        assert!(role_name_problem("orders_ro").is_none());
        assert!(role_name_problem("Orders").is_some_and(|m| m.contains("lower-case")));
        assert!(role_name_problem("pg_x").is_some_and(|m| m.contains("pg_")));
        assert!(role_name_problem("dbplatform_admin").is_some_and(|m| m.contains("reserved")));
        assert!(role_name_problem(&"a".repeat(64)).is_some());
        assert!(role_name_problem("1x").is_some());
    }
}

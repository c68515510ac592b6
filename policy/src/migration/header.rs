//! The migration's own header: `-- dbplatform: database=orders tier=tier-1 single-transaction=true` in the
//! comment lines at the top of the file, so a migration names the database (and so the tier) it is for.

/// What the header says; each part may also come from the command line, which wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    pub database: Option<String>,
    pub tier: Option<String>,
    pub single_transaction: bool,
}

impl Header {
    /// Reads the `-- dbplatform:` lines among the leading comment and blank lines of `sql`.
    pub fn read(sql: &str) -> Header {
        let mut h = Header::default();
        for line in sql.lines() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            let Some(comment) = t.strip_prefix("--") else {
                break;
            };
            let Some(rest) = comment.trim().strip_prefix("dbplatform:") else {
                continue;
            };
            for pair in rest.split_whitespace() {
                match pair.split_once('=') {
                    Some(("database", v)) => h.database = Some(v.to_string()),
                    Some(("tier", v)) => h.tier = Some(v.to_string()),
                    Some(("single-transaction", v)) => h.single_transaction = v == "true",
                    _ => {}
                }
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_leading_comment_only() {
        let h = Header::read("\n-- add orders index\n-- dbplatform: database=orders tier=tier-1\nSELECT 1;\n-- dbplatform: tier=tier-3\n");
        assert_eq!(h.database.as_deref(), Some("orders"));
        assert_eq!(h.tier.as_deref(), Some("tier-1"));
        assert!(!h.single_transaction);
        assert_eq!(Header::read("SELECT 1;"), Header::default());
    }
}

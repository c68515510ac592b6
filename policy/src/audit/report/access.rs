//! The access section of the audit report (`dbpolicy audit report --section access`): every break-glass access
//! in the period, one row per grant with who, which role of which database, since and until when, approved by
//! whom on which ticket, how often it was renewed and when it was revoked; and every master password rotation.
//! Built from the `break_glass` and `password_rotation` records the provider appends, so auditors need no
//! database access to review it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::cells::opt;

/// One break-glass access, from its grant to its revocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakGlassRow {
    /// Who had access, their login, and which role of which database (with its template when it has one).
    pub person: String,
    pub database: String,
    pub username: String,
    pub role: String,
    pub role_template: Option<String>,
    pub reason: String,
    pub ticket: String,
    pub approved_by: String,
    /// When access was granted (RFC 3339).
    pub since: String,
    /// When the database stops (or stopped) accepting the login, after the last renewal.
    pub until: String,
    pub renewals: u64,
    /// When it was revoked; `None` while it was not (yet) in this period.
    pub revoked_at: Option<String>,
}

/// The access section's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccessReport {
    /// Counts of events in the period.
    pub grants: u64,
    pub renewals: u64,
    pub revocations: u64,
    /// Every access, oldest grant first.
    pub break_glass: Vec<BreakGlassRow>,
    /// Every master password rotation, oldest first.
    pub rotations: Vec<RotationRow>,
}

/// One master password rotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RotationRow {
    /// The database and its master user; when the password was set, when the one it replaced was, the period.
    pub database: String,
    pub username: String,
    pub rotated_at: String,
    pub previous_rotated_at: Option<String>,
    pub max_age_days: u64,
}

fn text(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn row(v: &Value) -> BreakGlassRow {
    BreakGlassRow {
        person: text(v, "person"),
        database: text(v, "database"),
        username: text(v, "username"),
        role: text(v, "role"),
        role_template: v
            .get("role_template")
            .and_then(Value::as_str)
            .map(str::to_string),
        reason: text(v, "reason"),
        ticket: text(v, "ticket"),
        approved_by: text(v, "approved_by"),
        since: text(v, "granted_at"),
        until: text(v, "expires_at"),
        renewals: 0,
        revoked_at: None,
    }
}

/// The access figures of the `break_glass` records among `records` (JSON values, in log order). A renewal or
/// revocation whose grant is before the period still gets a row, starting at that event.
pub fn collect<'a>(records: impl Iterator<Item = &'a Value>) -> AccessReport {
    let mut out = AccessReport::default();
    // The open row of each login (database, username), as an index into `out.break_glass`.
    let mut open: BTreeMap<(String, String), usize> = BTreeMap::new();
    for v in records {
        match v.get("kind").and_then(Value::as_str) {
            Some("break_glass") => break_glass_event(&mut out, &mut open, v),
            Some("password_rotation") => out.rotations.push(RotationRow {
                database: text(v, "database"),
                username: text(v, "username"),
                rotated_at: text(v, "rotated_at"),
                previous_rotated_at: v
                    .get("previous_rotated_at")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                max_age_days: v.get("max_age_days").and_then(Value::as_u64).unwrap_or(0),
            }),
            _ => {}
        }
    }
    out
}

/// Adds one break-glass event: a grant opens a row for its login, a renewal or revocation updates the open one.
fn break_glass_event(
    out: &mut AccessReport,
    open: &mut BTreeMap<(String, String), usize>,
    v: &Value,
) {
    {
        let key = (text(v, "database"), text(v, "username"));
        let event = text(v, "event");
        let idx = match (event.as_str(), open.get(&key)) {
            ("grant", _) | (_, None) => {
                out.break_glass.push(row(v));
                let i = out.break_glass.len() - 1;
                open.insert(key.clone(), i);
                i
            }
            (_, Some(&i)) => i,
        };
        let r = &mut out.break_glass[idx];
        match event.as_str() {
            "grant" => out.grants += 1,
            "renew" => {
                out.renewals += 1;
                r.renewals += 1;
                r.until = text(v, "expires_at");
                r.approved_by = text(v, "approved_by");
                r.ticket = text(v, "ticket");
                r.reason = text(v, "reason");
            }
            "revoke" => {
                out.revocations += 1;
                r.revoked_at = v
                    .get("revoked_at")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                open.remove(&key);
            }
            _ => {}
        }
    }
}

fn role_cell(r: &BreakGlassRow) -> String {
    match &r.role_template {
        Some(t) => format!("{} ({t})", r.role),
        None => format!("{} (no template)", r.role),
    }
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown section.
pub fn markdown(d: &AccessReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n## Access: break-glass\n\n{} grants, {} renewals, {} revocations.\n",
        d.grants, d.renewals, d.revocations
    );
    if d.break_glass.is_empty() {
        o.push_str("No break-glass access in this period.\n");
    } else {
        markdown_break_glass(d, &mut o);
    }
    let _ = writeln!(
        o,
        "\n## Access: master password rotations\n\n{} rotations.\n",
        d.rotations.len()
    );
    if d.rotations.is_empty() {
        o.push_str("No master password rotation in this period.\n");
        return o;
    }
    let _ = writeln!(
        o,
        "| database | user | rotated | previous | period (days) |\n|---|---|---|---|---|"
    );
    for r in &d.rotations {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} |",
            md(&r.database),
            md(&r.username),
            r.rotated_at,
            opt(&r.previous_rotated_at),
            r.max_age_days
        );
    }
    o
}

fn markdown_break_glass(d: &AccessReport, o: &mut String) {
    let _ = writeln!(
        o,
        "| person | database | role | since | until | approved by | ticket | reason | renewals | revoked |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in &d.break_glass {
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&r.person),
            md(&r.database),
            md(&role_cell(r)),
            r.since,
            r.until,
            md(&r.approved_by),
            md(&r.ticket),
            md(&r.reason),
            r.renewals,
            opt(&r.revoked_at)
        );
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML section.
pub fn html(d: &AccessReport) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<h2>Access: break-glass</h2><p>{} grants, {} renewals, {} revocations.</p>",
        d.grants, d.renewals, d.revocations
    );
    if d.break_glass.is_empty() {
        o.push_str("<p class=\"muted\">No break-glass access in this period.</p>");
    } else {
        html_break_glass(d, &mut o);
    }
    let _ = write!(
        o,
        "<h2>Access: master password rotations</h2><p>{} rotations.</p>",
        d.rotations.len()
    );
    if d.rotations.is_empty() {
        o.push_str("<p class=\"muted\">No master password rotation in this period.</p>");
        return o;
    }
    o.push_str("<table><thead><tr><th>database</th><th>user</th><th>rotated</th><th>previous</th><th>period (days)</th></tr></thead><tbody>");
    for r in &d.rotations {
        let _ = write!(
            o,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.database),
            esc(&r.username),
            esc(&r.rotated_at),
            esc(&opt(&r.previous_rotated_at)),
            r.max_age_days
        );
    }
    o.push_str("</tbody></table>");
    o
}

fn html_break_glass(d: &AccessReport, o: &mut String) {
    o.push_str("<table><thead><tr><th>person</th><th>database</th><th>role</th><th>since</th><th>until</th><th>approved by</th><th>ticket</th><th>reason</th><th>renewals</th><th>revoked</th></tr></thead><tbody>");
    for r in &d.break_glass {
        let revoked = match &r.revoked_at {
            Some(t) => esc(t),
            None => "<span class=\"warn\">not revoked</span>".into(),
        };
        let _ = write!(
            o,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.person),
            esc(&r.database),
            esc(&role_cell(r)),
            esc(&r.since),
            esc(&r.until),
            esc(&r.approved_by),
            esc(&r.ticket),
            esc(&r.reason),
            r.renewals,
            revoked
        );
    }
    o.push_str("</tbody></table>");
}

/// CSV rows `section,key,metric,value`: one group per access, keyed `database/username@since`.
pub fn csv_rows(d: &AccessReport) -> Vec<[String; 4]> {
    let mut rows = vec![
        [
            "break_glass".into(),
            String::new(),
            "grants".into(),
            d.grants.to_string(),
        ],
        [
            "break_glass".into(),
            String::new(),
            "revocations".into(),
            d.revocations.to_string(),
        ],
    ];
    for r in &d.break_glass {
        let key = format!("{}/{}@{}", r.database, r.username, r.since);
        for (m, v) in [
            ("person", r.person.clone()),
            ("role", r.role.clone()),
            ("role_template", r.role_template.clone().unwrap_or_default()),
            ("until", r.until.clone()),
            ("approved_by", r.approved_by.clone()),
            ("ticket", r.ticket.clone()),
            ("reason", r.reason.clone()),
            ("renewals", r.renewals.to_string()),
            ("revoked_at", r.revoked_at.clone().unwrap_or_default()),
        ] {
            rows.push(["break_glass_access".into(), key.clone(), m.into(), v]);
        }
    }
    for r in &d.rotations {
        let key = format!("{}@{}", r.database, r.rotated_at);
        for (m, v) in [
            ("username", r.username.clone()),
            (
                "previous_rotated_at",
                r.previous_rotated_at.clone().unwrap_or_default(),
            ),
            ("max_age_days", r.max_age_days.to_string()),
        ] {
            rows.push(["password_rotation".into(), key.clone(), m.into(), v]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(event: &str, user: &str, granted: &str, expires: &str, ticket: &str) -> Value {
        json!({"kind": "break_glass", "event": event, "database": "orders", "person": "alice@example.com",
               "username": user, "role": "orders_rw", "role_template": "readwrite", "reason": "INC",
               "ticket": ticket, "approved_by": "bob", "ttl_seconds": 3600, "granted_at": granted,
               "expires_at": expires})
    }

    #[test]
    fn one_row_per_access_from_grant_through_renewals_to_revocation() {
        let mut revoke = ev(
            "revoke",
            "bg_a",
            "2026-01-01T01:00:00Z",
            "2026-01-01T03:00:00Z",
            "T-2",
        );
        revoke["revoked_at"] = json!("2026-01-01T03:00:05Z");
        let recs = [
            ev(
                "grant",
                "bg_a",
                "2026-01-01T00:00:00Z",
                "2026-01-01T01:00:00Z",
                "T-1",
            ),
            json!({"kind": "restore_test", "database": "orders"}),
            ev(
                "renew",
                "bg_a",
                "2026-01-01T01:00:00Z",
                "2026-01-01T03:00:00Z",
                "T-2",
            ),
            revoke,
            ev(
                "grant",
                "bg_a",
                "2026-01-02T00:00:00Z",
                "2026-01-02T01:00:00Z",
                "T-3",
            ),
        ];
        let d = collect(recs.iter());
        assert_eq!((d.grants, d.renewals, d.revocations), (2, 1, 1));
        assert_eq!(d.break_glass.len(), 2);
        let first = &d.break_glass[0];
        assert_eq!(first.since, "2026-01-01T00:00:00Z");
        assert_eq!(first.until, "2026-01-01T03:00:00Z");
        assert_eq!(first.ticket, "T-2");
        assert_eq!(first.renewals, 1);
        assert_eq!(first.revoked_at.as_deref(), Some("2026-01-01T03:00:05Z"));
        assert_eq!(d.break_glass[1].revoked_at, None);
        let md = markdown(&d);
        assert!(md.contains("2 grants, 1 renewals, 1 revocations."), "{md}");
        assert!(
            md.contains("| alice@example.com | `orders` | orders_rw (readwrite) | 2026-01-01T00:00:00Z | 2026-01-01T03:00:00Z | bob | T-2 | INC | 1 | 2026-01-01T03:00:05Z |"),
            "{md}"
        );
        assert!(
            md.contains("| 2026-01-02T01:00:00Z | bob | T-3 | INC | 0 | - |"),
            "{md}"
        );
        assert!(html(&d).contains("<span class=\"warn\">not revoked</span>"));
        assert!(csv_rows(&d)
            .iter()
            .any(|r| r[1] == "orders/bg_a@2026-01-01T00:00:00Z"
                && r[2] == "renewals"
                && r[3] == "1"));
        assert!(markdown(&collect(std::iter::empty())).contains("No break-glass access"));
    }

    #[test]
    fn rotations_are_listed_with_the_age_of_the_password_they_replaced() {
        let recs = [
            json!({"kind": "password_rotation", "database": "orders", "username": "orders_admin",
                           "rotated_at": "2026-03-01T00:00:00Z", "previous_rotated_at": "2026-01-01T00:00:00Z",
                           "max_age_days": 30}),
        ];
        let d = collect(recs.iter());
        assert_eq!(d.rotations.len(), 1);
        let md = markdown(&d);
        assert!(
            md.contains(
                "| `orders` | orders_admin | 2026-03-01T00:00:00Z | 2026-01-01T00:00:00Z | 30 |"
            ),
            "{md}"
        );
        assert!(html(&d).contains("<td>orders_admin</td>"));
        assert!(csv_rows(&d)
            .iter()
            .any(|r| r[0] == "password_rotation" && r[2] == "max_age_days" && r[3] == "30"));
        assert!(markdown(&collect(std::iter::empty())).contains("No master password rotation"));
    }
}

//! The `dbplatform_break_glass` schema and reading its arguments into a [`GrantSpec`].

use std::time::Duration;

use crate::backend::roles::break_glass::login_name;
use crate::backend::roles::ident::role_name_problem;
use crate::framework::access::{get_string, Field};
use crate::framework::duration::parse_duration;
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value,
};

/// The longest `ttl` the resource itself accepts, whatever the tier: break-glass is for an incident, not a job.
/// Tiers allow less (`max_break_glass_hours`, guardrail DBP-ACC-001).
pub const MAX_TTL: Duration = Duration::from_secs(7 * 86400);

/// The arguments whose change is a renewal: a new window from apply time, with the new approval on record.
pub const RENEWAL_ARGUMENTS: &[&str] = &["ttl", "reason", "ticket", "approved_by"];

/// The resource schema.
pub fn schema() -> Schema {
    let s = Type::String;
    let block = Block::new(
        "Break-glass access: a named person's own login, member of a role for a bounded time (ttl), enforced by the database (VALID UNTIL). Once expired, the next plan shows the revocation and apply carries it out; every grant, renewal and revocation is in the audit log.",
    )
    .attribute(Attribute::computed("id", s.clone(), "database_id/username.").use_state_for_unknown())
    .attribute(Attribute::required("database_id", s.clone(), "id of the dbplatform_database.").requires_replace())
    .attribute(Attribute::required("person", s.clone(), "Who gets access, e.g. \"alice@example.com\" (their login is made from it).").requires_replace())
    .attribute(Attribute::optional("role_id", s.clone(), "id of the dbplatform_role to grant (DATABASE/ROLE); or set role.").requires_replace())
    .attribute(Attribute::optional("role", s.clone(), "Name of an existing role of the database to grant, when it is not a dbplatform_role; or set role_id.").requires_replace())
    .attribute(Attribute::optional("ttl", s.clone(), "How long the access lasts from apply, e.g. \"4h\"; at most the tier's max_break_glass_hours (DBP-ACC-001). Changing it (or reason, ticket, approved_by) renews the access from the next apply."))
    .attribute(Attribute::optional("reason", s.clone(), "Why access is needed (required by DBP-ACC-001)."))
    .attribute(Attribute::optional("ticket", s.clone(), "The incident or change ticket (required by DBP-ACC-001)."))
    .attribute(Attribute::optional("approved_by", s.clone(), "Who approved the access (required by DBP-ACC-001)."))
    .attribute(Attribute::computed("role_name", s.clone(), "The role granted.").use_state_for_unknown())
    .attribute(Attribute::computed("role_template", s.clone(), "The template of the role when a dbplatform_role made it; null for other roles (which DBP-ACC-002 treats as above readwrite)."))
    .attribute(Attribute::computed("tier", s.clone(), "The database's tier, which bounds the ttl."))
    .attribute(Attribute::computed("ttl_seconds", Type::Number, "ttl in seconds."))
    .attribute(Attribute::computed("username", s.clone(), "The person's login.").use_state_for_unknown())
    .attribute(Attribute::computed("password_file", s.clone(), "Local backend: the 0600 file holding the login's password (a new one at each grant or renewal; removed on revocation). Never in plan or state."))
    .attribute(Attribute::computed("granted_at", s.clone(), "Start of the current window, RFC 3339."))
    .attribute(Attribute::computed("expires_at", s.clone(), "When the database stops accepting the login (VALID UNTIL), RFC 3339, as read at the last refresh."))
    .attribute(Attribute::computed("expired", Type::Bool, "Whether expires_at has passed (read at refresh; the database already refuses the login)."))
    .attribute(Attribute::computed("active", Type::Bool, "Whether the access is in place; the plan after expiry sets it to false, and apply revokes the membership and drops the login."))
    .attribute(Attribute::computed("revoked_at", s, "When apply revoked the access, RFC 3339; null while active."));
    Schema::new(0, block)
}

/// What one break-glass grant asks for (the known parts of the configuration or plan).
#[derive(Debug, Clone, PartialEq)]
pub struct GrantSpec {
    /// The database (its id, which is its name).
    pub database: String,
    /// Who gets access, as configured.
    pub person: String,
    /// The role granted, by name.
    pub role: String,
    /// `None` when unset: the provider refuses to grant without a bound.
    pub ttl: Option<Duration>,
    /// Why, which ticket, who approved: put on record with every event (empty when unset; DBP-ACC-001 refuses).
    pub reason: String,
    pub ticket: String,
    pub approved_by: String,
}

impl GrantSpec {
    /// The person's login for this role.
    pub fn username(&self) -> String {
        login_name(&self.person, &self.role)
    }
}

/// A ttl string as a duration, or the message saying why not.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    match parse_duration(s) {
        None => Err(format!("{s:?} is not a duration; use e.g. \"30m\", \"4h\" or \"1h30m\".")),
        Some(d) if d.is_zero() => Err("ttl must be longer than zero.".into()),
        Some(d) if d > MAX_TTL => Err(format!(
            "{s:?} is longer than a week; break-glass access is for an incident: use a shorter ttl and renew it if needed."
        )),
        Some(d) => Ok(d),
    }
}

/// The role name a `role_id` (DATABASE/ROLE) names, checked against `database`.
fn role_of_id(id: &str, database: Option<&str>) -> Result<String, String> {
    let (db, role) = id
        .split_once('/')
        .filter(|(d, r)| !d.is_empty() && !r.is_empty() && !r.contains('/'))
        .ok_or_else(|| format!("{id:?} is not a role id; use a dbplatform_role's id (DATABASE/ROLE), e.g. dbplatform_role.app_rw.id."))?;
    if let Some(d) = database {
        if d != db {
            return Err(format!(
                "role {id:?} lives in database {db:?}, not in database_id {d:?}; grant a role of the same database."
            ));
        }
    }
    Ok(role.to_string())
}

fn err(path: &str, summary: &str, detail: impl Into<String>) -> Diagnostic {
    Diagnostic::error(summary, detail).at(AttributePath::attr(path))
}

/// Checks of the arguments that are known, each on its attribute.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    let db = get_string(config, "database_id")
        .ok()
        .and_then(Field::known);
    let role_id = get_string(config, "role_id");
    let role = get_string(config, "role");
    match (&role_id, &role) {
        (Ok(Field::Null), Ok(Field::Null)) => d.push(err(
            "role_id",
            "No role to grant",
            "Set role_id (a dbplatform_role's id) or role (the name of an existing role).",
        )),
        (Ok(a), Ok(b)) if !a.is_null() && !b.is_null() => d.push(err(
            "role",
            "Two roles to grant",
            "Set either role_id or role, not both: one break-glass resource grants one role.",
        )),
        _ => {}
    }
    if let Ok(Field::Known(id)) = &role_id {
        if let Err(m) = role_of_id(id, db.as_deref()) {
            d.push(err("role_id", "Invalid role_id", m));
        }
    }
    if let Ok(Field::Known(r)) = &role {
        if let Some(p) = role_name_problem(r) {
            d.push(err("role", "Invalid role name", p));
        }
    }
    if let Ok(Field::Known(p)) = get_string(config, "person") {
        if p.trim().is_empty() || p.len() > 200 || p.chars().any(char::is_control) {
            d.push(err(
                "person",
                "Invalid person",
                "person must name who gets access (1-200 printable characters), e.g. \"alice@example.com\".",
            ));
        }
    }
    if let Ok(Field::Known(t)) = get_string(config, "ttl") {
        if let Err(m) = parse_ttl(&t) {
            d.push(err("ttl", "Invalid ttl", m));
        }
    }
    d
}

/// The grant of a plan or configuration whose identifying arguments are known; `Ok(None)` while one is unknown.
pub fn spec_of(v: &Value) -> Result<Option<GrantSpec>, Diagnostic> {
    let text = |name: &str| get_string(v, name);
    let (Field::Known(database), Field::Known(person)) = (text("database_id")?, text("person")?)
    else {
        return Ok(None);
    };
    let role = match (text("role_id")?, text("role")?) {
        (Field::Known(id), _) => {
            role_of_id(&id, Some(&database)).map_err(|m| err("role_id", "Invalid role_id", m))?
        }
        (Field::Null, Field::Known(r)) => r,
        _ => return Ok(None),
    };
    let ttl = match text("ttl")? {
        Field::Known(t) => Some(parse_ttl(&t).map_err(|m| err("ttl", "Invalid ttl", m))?),
        Field::Null => None,
        Field::Unknown => return Ok(None),
    };
    let opt =
        |name: &str| -> Result<String, Diagnostic> { Ok(text(name)?.known().unwrap_or_default()) };
    Ok(Some(GrantSpec {
        database,
        person,
        role,
        ttl,
        reason: opt("reason")?,
        ticket: opt("ticket")?,
        approved_by: opt("approved_by")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::planning::schema_problems;

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut v = Value::object(
            schema()
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        for (k, x) in pairs {
            v.set(k, Value::string(*x));
        }
        v
    }

    #[test]
    fn the_schema_is_valid() {
        assert!(schema_problems(&schema().block).is_empty());
    }

    #[test]
    fn exactly_one_role_from_the_same_database() {
        let none = validate(&config(&[("database_id", "orders"), ("person", "a")]));
        assert!(format!("{none:?}").contains("No role to grant"), "{none:?}");
        let both = validate(&config(&[
            ("database_id", "orders"),
            ("person", "a"),
            ("role", "x"),
            ("role_id", "orders/x"),
        ]));
        assert!(format!("{both:?}").contains("Two roles"), "{both:?}");
        let other = validate(&config(&[
            ("database_id", "orders"),
            ("person", "a"),
            ("role_id", "billing/x"),
        ]));
        assert!(
            format!("{other:?}").contains("lives in database \\\"billing\\\""),
            "{other:?}"
        );
        let ok = config(&[
            ("database_id", "orders"),
            ("person", "alice@example.com"),
            ("role_id", "orders/orders_rw"),
            ("ttl", "2h"),
        ]);
        assert!(validate(&ok).is_empty());
        let spec = spec_of(&ok).unwrap().unwrap();
        assert_eq!(spec.role, "orders_rw");
        assert_eq!(spec.ttl, Some(Duration::from_secs(7200)));
        assert!(spec.username().starts_with("bg_alice_example_com_"));
    }

    #[test]
    fn ttl_must_be_a_bounded_duration() {
        assert!(parse_ttl("4h").is_ok());
        assert!(parse_ttl("0s").unwrap_err().contains("longer than zero"));
        assert!(parse_ttl("8d").unwrap_err().contains("longer than a week"));
        assert!(parse_ttl("soon").unwrap_err().contains("not a duration"));
    }
}

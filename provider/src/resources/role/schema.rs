//! The `dbplatform_role` schema and reading its arguments into a [`RoleSpec`].

use crate::backend::roles::ident::role_name_problem;
use crate::backend::roles::{template, RoleSpec, Template};
use crate::framework::access::{get_bool, get_i64, get_string, get_string_list, Field};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Schema, Type, Value,
};

/// The resource schema.
pub fn schema() -> Schema {
    let s = Type::String;
    let list = Type::List(Box::new(Type::String));
    let block = Block::new(
        "A least-privilege database role from a template (readonly, readwrite, migrator, monitoring) on a dbplatform_database.",
    )
    .attribute(Attribute::computed("id", s.clone(), "database_id/name: the import id.").use_state_for_unknown())
    .attribute(Attribute::required("database_id", s.clone(), "id of the dbplatform_database the role lives in.").requires_replace())
    .attribute(Attribute::required("name", s.clone(), "Role name: lower-case letters, digits and _ (not pg_…).").requires_replace())
    .attribute(Attribute::required(
        "template",
        s.clone(),
        "readonly (SELECT), readwrite (SELECT/INSERT/UPDATE/DELETE, sequences, no DDL), migrator (DDL in the schemas), monitoring (pg_monitor).",
    ))
    .attribute(
        Attribute::optional_computed("schemas", list.clone(), "Schemas the template covers, with default privileges for tables created later.")
            .default_value(Value::List(vec![Value::string("public")])),
    )
    .attribute(
        Attribute::optional_computed("connection_limit", Type::Number, "Most concurrent connections of this role; -1 for no limit.")
            .default_value(Value::int(-1)),
    )
    .attribute(
        Attribute::optional_computed("login", Type::Bool, "Whether the role can log in itself; false (the default) makes a group role to grant, e.g. to dbplatform_credentials logins.")
            .default_value(Value::Bool(false)),
    )
    .attribute(
        Attribute::optional(
            "password_wo",
            Type::String,
            "Password of a static login (login = true), write-only: never in plan or state (Terraform 1.11+). Prefer the dbplatform_credentials ephemeral resource.",
        )
        .sensitive()
        .write_only(),
    )
    .attribute(Attribute::optional(
        "password_wo_version",
        Type::Number,
        "Change it to set password_wo again (write-only values are not compared between runs).",
    ))
    .attribute(Attribute::optional("tags", Type::Map(Box::new(Type::String)), "Tags kept in state (ownership, cost centre)."))
    .attribute(
        Attribute::computed(
            "grants",
            list,
            "What the role holds, read from the database at every refresh; a grant made or revoked by hand shows as a change here, which apply undoes.",
        ),
    );
    Schema::new(0, block)
}

/// Checks of the arguments that are known, each on its attribute.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Ok(Field::Known(n)) = get_string(config, "name") {
        if let Some(p) = role_name_problem(&n) {
            d.error_at(AttributePath::attr("name"), "Invalid role name", p);
        }
    }
    if let Ok(Field::Known(t)) = get_string(config, "template") {
        if Template::parse(&t).is_none() {
            d.error_at(
                AttributePath::attr("template"),
                "Unknown role template",
                format!(
                    "{t:?} is not a template; use one of {}.",
                    template::NAMES.join(", ")
                ),
            );
        }
    }
    if let Ok(Field::Known(list)) = get_string_list(config, "schemas") {
        if let Err(e) = check_schemas(&list) {
            d.push(e);
        }
    }
    if !config.get("password_wo").is_null()
        && get_bool(config, "login").ok().and_then(Field::known) != Some(true)
    {
        d.error_at(
            AttributePath::attr("password_wo"),
            "Password for a role that cannot log in",
            "password_wo is set but login is not true; set login = true for a static login, or remove password_wo and use dbplatform_credentials for short-lived logins.",
        );
    }
    if let Ok(Field::Known(n)) = get_i64(config, "connection_limit") {
        if n < -1 {
            d.error_at(
                AttributePath::attr("connection_limit"),
                "Invalid connection_limit",
                format!("{n} is not a connection limit; use -1 (no limit) or a number of connections ≥ 0."),
            );
        }
    }
    d
}

fn check_schemas(list: &[String]) -> Result<(), Diagnostic> {
    if list.is_empty() {
        return Err(Diagnostic::error(
            "No schemas",
            "schemas is empty; name at least one schema (the default is [\"public\"]).",
        )
        .at(AttributePath::attr("schemas")));
    }
    for (i, s) in list.iter().enumerate() {
        if s.is_empty()
            || s.len() > 63
            || s.contains(|c: char| c.is_whitespace() || c == ',')
            || s.starts_with("pg_")
        {
            return Err(Diagnostic::error(
                "Invalid schema name",
                format!("{s:?} is not a schema a template can cover: 1-63 characters, no spaces or commas, not a pg_ system schema."),
            )
            .at(AttributePath::attr("schemas").join_index(i as i64)));
        }
    }
    Ok(())
}

/// The database id and the desired role from a planned (fully known) object.
pub fn spec_of(v: &Value) -> Result<(String, RoleSpec), Diagnostic> {
    let need = |name: &str, f: Result<Field<String>, Diagnostic>| -> Result<String, Diagnostic> {
        f?.known().ok_or_else(|| {
            Diagnostic::error(
                "Missing value",
                format!("{name} must be known to manage the role."),
            )
            .at(AttributePath::attr(name))
        })
    };
    let db = need("database_id", get_string(v, "database_id"))?;
    let name = need("name", get_string(v, "name"))?;
    let t = need("template", get_string(v, "template"))?;
    let template = Template::parse(&t).ok_or_else(|| {
        Diagnostic::error(
            "Unknown role template",
            format!("{t:?}; use one of {}.", template::NAMES.join(", ")),
        )
        .at(AttributePath::attr("template"))
    })?;
    let schemas = get_string_list(v, "schemas")?
        .known()
        .unwrap_or_else(|| vec!["public".into()]);
    check_schemas(&schemas)?;
    Ok((
        db,
        RoleSpec {
            name,
            template,
            schemas,
            login: get_bool(v, "login")?.known().unwrap_or(false),
            connection_limit: get_i64(v, "connection_limit")?.known().unwrap_or(-1),
            password: None,
        },
    ))
}

/// The grants list as state holds it.
pub fn grants_value<'a>(
    grants: impl IntoIterator<Item = &'a crate::backend::roles::Grant>,
) -> Value {
    Value::List(
        grants
            .into_iter()
            .map(|g| Value::string(g.to_string()))
            .collect(),
    )
}

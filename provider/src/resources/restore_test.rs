//! `dbplatform_restore_test`: proof that a database's backups restore. Apply restores the latest base backup
//! plus WAL (or a point in time) into a scratch copy, runs the engine's integrity check and the `verify` queries
//! on the copy (and on the source for `match_source`), records the result in state and the audit log, and
//! removes the copy. With `max_age`, a plan after the evidence has aged replaces the resource, so a scheduled
//! `terraform apply` keeps the evidence fresh.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::backend::{ConnectionInfo, RestoreTarget};
use crate::framework::access::{get_bool, get_string, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, Diagnostics, Nesting,
    PlanRequest, PlanResponse, ReadRequest, ReadResponse, Resource, Schema, Type, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;
use crate::resources::evidence;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_restore_test";

/// The resource.
pub struct RestoreTestResource {
    env: Arc<dyn DatabaseEnv>,
}

impl RestoreTestResource {
    /// A restore test resource using `env`'s backend and audit log.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }
}

const RESULT_ATTRS: &[&str] = &[
    "succeeded",
    "restore_seconds",
    "recovery_point",
    "checked_queries",
    "finished_at",
    "base_backup",
    "integrity_check",
    "restored_location",
    "restored_id",
    "results",
];

fn schema() -> Schema {
    let s = Type::String;
    let verify = Block::new("A check run on the restored copy.")
        .attribute(Attribute::required("name", s.clone(), "Name of the check, shown in results."))
        .attribute(Attribute::required("query", s.clone(), "SQL whose result is compared (rows joined by newlines, columns by |)."))
        .attribute(Attribute::optional("expected", s.clone(), "Exact expected result."))
        .attribute(Attribute::optional(
            "match_source",
            Type::Bool,
            "Compare with the same query on the source database; only for data unchanged since the recovery point.",
        ));
    let mut block = Block::new("Restores a database's backups into a scratch copy and verifies it.")
        .attribute(Attribute::computed("id", s.clone(), "Identifier of this test run.").use_state_for_unknown())
        .attribute(Attribute::required("database_id", s.clone(), "id of the dbplatform_database to test.").requires_replace())
        .attribute(
            Attribute::optional("point_in_time", s.clone(), "RFC 3339 time to recover to; latest when unset.").requires_replace(),
        )
        .attribute(Attribute::optional(
            "max_age",
            s.clone(),
            "Age after which the next plan replaces (re-runs) the test, e.g. \"24h\", \"7d\", \"1h30m\".",
        ))
        .attribute(
            Attribute::optional_computed("keep_restored", Type::Bool, "Keep the scratch copy running after the test.")
                .default_value(Value::Bool(false))
                .requires_replace(),
        )
        .attribute(Attribute::computed("succeeded", Type::Bool, "Whether the restore and every check passed.").use_state_for_unknown())
        .attribute(
            Attribute::computed("restore_seconds", Type::Number, "Seconds from start of restore to a usable copy (RTO achieved).")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::computed("recovery_point", s.clone(), "Moment whose data the copy holds (RPO achieved = age of this).")
                .use_state_for_unknown(),
        )
        .attribute(Attribute::computed("checked_queries", Type::Number, "Verify checks that passed.").use_state_for_unknown())
        .attribute(Attribute::computed("finished_at", s.clone(), "When the test finished, RFC 3339.").use_state_for_unknown())
        .attribute(Attribute::computed("base_backup", s.clone(), "The base backup restored.").use_state_for_unknown())
        .attribute(Attribute::computed("integrity_check", s.clone(), "Result of pg_amcheck on the copy.").use_state_for_unknown())
        .attribute(
            Attribute::computed("restored_location", s.clone(), "Where the kept copy lives (keep_restored only).")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::computed("restored_id", s.clone(), "Backend identifier of the kept copy (keep_restored only).")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::computed("results", Type::List(Box::new(Type::String)), "One line per verify check.").use_state_for_unknown(),
        );
    block = block.block("verify", Nesting::List, verify);
    Schema::new(0, block)
}

/// One `verify` block.
#[derive(Debug, Clone)]
struct Check {
    name: String,
    query: String,
    expected: Option<String>,
    match_source: bool,
}

fn checks(v: &Value) -> Result<Vec<Check>, Diagnostic> {
    let mut out = Vec::new();
    for (i, b) in v
        .get("verify")
        .as_elements()
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let path = AttributePath::attr("verify").join_index(i as i64);
        let name = get_string(b, "name")?.known().unwrap_or_default();
        let query = get_string(b, "query")?.known().unwrap_or_default();
        let expected = get_string(b, "expected")?.known();
        let match_source = get_bool(b, "match_source")?.known().unwrap_or(false);
        if expected.is_none() && !match_source {
            return Err(Diagnostic::error(
                "Verify check has nothing to compare",
                format!("verify {name:?} needs expected = \"...\" or match_source = true."),
            )
            .at(path));
        }
        if expected.is_some() && match_source {
            return Err(Diagnostic::error(
                "Verify check compares twice",
                format!("verify {name:?} sets both expected and match_source; keep one."),
            )
            .at(path));
        }
        out.push(Check {
            name,
            query,
            expected,
            match_source,
        });
    }
    Ok(out)
}

/// Runs a query and renders its rows as psql -At would: columns joined by '|', rows by newlines, NULL empty.
async fn run_query(conn: &ConnectionInfo, sql: &str) -> Result<String, String> {
    let client = conn.connect().await.map_err(|e| e.to_string())?;
    let msgs = client
        .simple_query(sql)
        .await
        .map_err(|e| match e.as_db_error() {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => e.to_string(),
        })?;
    let mut rows = Vec::new();
    for m in msgs {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            let cols: Vec<String> = (0..r.len())
                .map(|i| r.get(i).unwrap_or("").to_string())
                .collect();
            rows.push(cols.join("|"));
        }
    }
    Ok(rows.join("\n"))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[async_trait]
impl Resource for RestoreTestResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Ok(Field::Known(p)) = get_string(config, "point_in_time") {
            if DateTime::parse_from_rfc3339(&p).is_err() {
                d.error_at(
                    AttributePath::attr("point_in_time"),
                    "Invalid point_in_time",
                    format!("{p:?} is not an RFC 3339 time; use e.g. \"2024-05-01T12:00:00Z\"."),
                );
            }
        }
        evidence::check_max_age(config, "24h", &mut d);
        if config.get("verify").is_wholly_known() {
            if let Err(e) = checks(config) {
                d.push(e);
            }
        }
        d
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: req.planned.clone(),
            ..Default::default()
        };
        if req.planned.is_null() || req.prior_state.is_null() {
            return resp;
        }
        // Different checks are different evidence: a new test.
        if req.planned.get("verify") != req.prior_state.get("verify") {
            resp.requires_replace.push(AttributePath::attr("verify"));
        }
        evidence::plan_rerun(
            &req,
            &mut resp,
            RESULT_ATTRS,
            "Restore test",
            "apply runs the restore test again.",
        );
        resp
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(e) => {
                resp.new_state = req.prior.clone();
                resp.diagnostics.push(e);
                return resp;
            }
        };
        if req.planned.is_null() {
            if let Some(loc) = req.prior.get("restored_location").as_str() {
                let restored = crate::backend::RestoredInstance {
                    id: req
                        .prior
                        .get("restored_id")
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    connection: ConnectionInfo {
                        host: String::new(),
                        port: 0,
                        user: String::new(),
                        password: String::new(),
                        dbname: String::new(),
                    },
                    recovery_point: Utc::now(),
                    base_backup: crate::backend::BackupInfo {
                        id: String::new(),
                        location: String::new(),
                        started_at: Utc::now(),
                        finished_at: Utc::now(),
                        start_wal: None,
                    },
                    location: loc.to_string(),
                };
                if let Err(e) = backend.discard_restored(&restored).await {
                    resp.diagnostics
                        .warning("Kept restore copy not removed", format!("{loc}: {e}"));
                }
            }
            resp.new_state = Value::Null;
            return resp;
        }
        if !req.prior.is_null() {
            // In-place change (max_age only): the evidence stays as it was.
            let mut s = req.planned.clone();
            for a in RESULT_ATTRS.iter().chain(["id"].iter()) {
                s.set(a, req.prior.get(a).clone());
            }
            resp.new_state = s;
            return resp;
        }

        let mut state = req.planned.clone();
        let db = req
            .planned
            .get("database_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let keep = req.planned.get("keep_restored").as_bool() == Some(true);
        let target = match req.planned.get("point_in_time").as_str() {
            Some(p) => match DateTime::parse_from_rfc3339(p) {
                Ok(t) => RestoreTarget::PointInTime(t.with_timezone(&Utc)),
                Err(e) => {
                    resp.diagnostics.error_at(
                        AttributePath::attr("point_in_time"),
                        "Invalid point_in_time",
                        e.to_string(),
                    );
                    return resp;
                }
            },
            None => RestoreTarget::Latest,
        };
        let checks = match checks(&req.planned) {
            Ok(c) => c,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let started = Instant::now();
        state.set(
            "id",
            Value::string(format!("{db}@{}", Utc::now().format("%Y%m%dT%H%M%SZ"))),
        );
        let mut results = Vec::new();
        let mut passed = 0i64;
        let mut errors: Vec<String> = Vec::new();
        let mut recovery_point = None;
        match backend.restore(&db, target).await {
            Err(e) => {
                errors.push(format!("restore failed: {e}"));
                state.set(
                    "restore_seconds",
                    evidence::seconds(started.elapsed().as_secs_f64()),
                );
                state.set("base_backup", Value::Null);
                state.set("integrity_check", Value::string("not run (restore failed)"));
            }
            Ok(restored) => {
                state.set(
                    "restore_seconds",
                    evidence::seconds(started.elapsed().as_secs_f64()),
                );
                recovery_point = Some(restored.recovery_point);
                state.set("base_backup", Value::string(&restored.base_backup.id));
                let mut source_error = None;
                let source = if checks.iter().any(|c| c.match_source) {
                    match backend.connection(&db).await {
                        Ok(c) => Some(c),
                        Err(e) => {
                            source_error = Some(format!(
                                "cannot reach the source database for match_source checks: {e}"
                            ));
                            None
                        }
                    }
                } else {
                    None
                };
                // The integrity check and the verify queries run at the same time, and each query runs on the copy
                // and the source at once: on a large database these are full scans, and in sequence they were
                // most of a restore test's time after the restore itself.
                let verifies = async {
                    let mut out = Vec::with_capacity(checks.len());
                    for c in &checks {
                        let want = async {
                            if c.match_source {
                                match &source {
                                    Some(s) => run_query(s, &c.query)
                                        .await
                                        .map_err(|e| format!("on the source: {e}")),
                                    None => Err("source not reachable".to_string()),
                                }
                            } else {
                                Ok(c.expected.clone().unwrap_or_default())
                            }
                        };
                        out.push(tokio::join!(
                            run_query(&restored.connection, &c.query),
                            want
                        ));
                    }
                    out
                };
                let (integrity, verified) =
                    tokio::join!(backend.check_integrity(&restored), verifies);
                match integrity {
                    Ok(r) if !r.ran => state.set(
                        "integrity_check",
                        Value::string(format!("skipped: {}", r.tool)),
                    ),
                    Ok(r) if r.ok => {
                        state.set("integrity_check", Value::string(format!("{}: ok", r.tool)))
                    }
                    Ok(r) => {
                        state.set(
                            "integrity_check",
                            Value::string(format!("{}: FAILED", r.tool)),
                        );
                        errors.push(format!(
                            "{} found corruption in the restored copy:\n{}",
                            r.tool, r.output
                        ));
                    }
                    Err(e) => {
                        state.set("integrity_check", Value::string("error"));
                        errors.push(format!("integrity check could not run: {e}"));
                    }
                }
                errors.extend(source_error);
                for (c, (got, want)) in checks.iter().zip(verified) {
                    match (got, want) {
                        (Ok(g), Ok(w)) if g.trim() == w.trim() => {
                            passed += 1;
                            results.push(format!("{}: ok", c.name));
                        }
                        (Ok(g), Ok(w)) => {
                            let against = if c.match_source { "source" } else { "expected" };
                            results.push(format!("{}: MISMATCH", c.name));
                            errors.push(format!(
                                "verify {:?}: the restored copy returned {g:?}, {against} {w:?}{}",
                                c.name,
                                if c.match_source {
                                    " (match_source compares with the live database: use it only for data that has not changed since the recovery point)"
                                } else {
                                    ""
                                }
                            ));
                        }
                        (Err(e), _) => {
                            results.push(format!("{}: ERROR", c.name));
                            errors.push(format!(
                                "verify {:?} failed on the restored copy: {e}",
                                c.name
                            ));
                        }
                        (_, Err(e)) => {
                            results.push(format!("{}: ERROR", c.name));
                            errors.push(format!("verify {:?}: {e}", c.name));
                        }
                    }
                }
                if keep {
                    state.set("restored_location", Value::string(&restored.location));
                    state.set("restored_id", Value::string(&restored.id));
                } else {
                    state.set("restored_location", Value::Null);
                    if let Err(e) = backend.discard_restored(&restored).await {
                        resp.diagnostics.warning(
                            "Scratch copy not removed",
                            format!("{}: {e}", restored.location),
                        );
                    }
                }
            }
        }
        let finished_at = Utc::now();
        let succeeded = errors.is_empty();
        state.set("succeeded", Value::Bool(succeeded));
        state.set(
            "recovery_point",
            recovery_point
                .map(|t| Value::string(ts(t)))
                .unwrap_or(Value::Null),
        );
        state.set("checked_queries", Value::int(passed));
        state.set("finished_at", Value::string(ts(finished_at)));
        state.set(
            "results",
            Value::List(results.iter().map(Value::string).collect()),
        );
        if state.get("restored_location").is_unknown() {
            state.set("restored_location", Value::Null);
        }
        for a in RESULT_ATTRS {
            if state.get(a).is_unknown() {
                state.set(a, Value::Null);
            }
        }

        let record = policy::audit::RestoreTestRecord {
            database: db.clone(),
            succeeded,
            restore_seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            recovery_point: recovery_point.map(ts),
            checked_queries: u64::try_from(passed).unwrap_or(0),
            finished_at: ts(finished_at),
            error: (!succeeded).then(|| errors.join("\n")),
            source: None,
        };
        if let Err(d) = self.env.record_restore_test(record).await {
            resp.diagnostics.push(d);
        }
        if !succeeded {
            resp.diagnostics.error(
                format!("Restore test of {db:?} failed"),
                format!("{}\n\nThe failed result is recorded in state and the audit log; the next apply runs the test again.", errors.join("\n")),
            );
        }
        resp.new_state = state;
        resp
    }

    async fn read(&self, req: ReadRequest) -> ReadResponse {
        evidence::read_unchanged(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    async fn plan_with(
        finished_at: chrono::DateTime<Utc>,
        succeeded: bool,
        max_age: Value,
    ) -> PlanResponse {
        let env = Arc::new(crate::resources::database::env::StaticEnv::local(
            "/nonexistent",
        ));
        let r = RestoreTestResource::new(env);
        let prior = obj(&[
            ("database_id", Value::string("orders")),
            ("max_age", max_age.clone()),
            ("verify", Value::List(vec![])),
            ("finished_at", Value::string(ts(finished_at))),
            ("succeeded", Value::Bool(succeeded)),
        ]);
        let config = obj(&[
            ("database_id", Value::string("orders")),
            ("max_age", max_age),
        ]);
        r.plan(PlanRequest {
            prior_state: prior.clone(),
            proposed: prior.clone(),
            config,
            prior_private: vec![],
            planned: prior,
        })
        .await
    }

    #[tokio::test]
    async fn evidence_older_than_max_age_is_replaced() {
        let old = plan_with(
            Utc::now() - chrono::Duration::hours(25),
            true,
            Value::string("24h"),
        )
        .await;
        assert!(old
            .requires_replace
            .contains(&AttributePath::attr("finished_at")));
        assert!(old.planned.get("succeeded").is_unknown());
        assert!(old
            .diagnostics
            .iter()
            .any(|d| d.summary.contains("older than max_age")));
        let fresh = plan_with(
            Utc::now() - chrono::Duration::hours(1),
            true,
            Value::string("24h"),
        )
        .await;
        assert!(
            fresh.requires_replace.is_empty(),
            "{:?}",
            fresh.requires_replace
        );
        let no_max = plan_with(Utc::now() - chrono::Duration::days(30), true, Value::Null).await;
        assert!(no_max.requires_replace.is_empty());
        let failed = plan_with(Utc::now(), false, Value::Null).await;
        assert!(
            failed
                .requires_replace
                .contains(&AttributePath::attr("finished_at")),
            "a failed test runs again"
        );
    }

    #[test]
    fn a_check_needs_exactly_one_comparison() {
        let block = |expected: Value, ms: Value| {
            let mut m = BTreeMap::new();
            m.insert("name".to_string(), Value::string("rows"));
            m.insert("query".to_string(), Value::string("select 1"));
            m.insert("expected".to_string(), expected);
            m.insert("match_source".to_string(), ms);
            let mut top = BTreeMap::new();
            top.insert("verify".to_string(), Value::List(vec![Value::Object(m)]));
            Value::Object(top)
        };
        let e = checks(&block(Value::Null, Value::Null)).unwrap_err();
        assert!(e.detail.contains("needs expected"), "{}", e.detail);
        assert_eq!(
            e.attribute,
            Some(AttributePath::attr("verify").join_index(0))
        );
        assert!(checks(&block(Value::string("1"), Value::Bool(true))).is_err());
        assert_eq!(
            checks(&block(Value::string("1"), Value::Null))
                .unwrap()
                .len(),
            1
        );
    }
}

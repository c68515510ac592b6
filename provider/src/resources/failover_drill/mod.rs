//! `dbplatform_failover_drill`: proof that a database fails over within its objectives. Apply runs a controlled
//! failover through the backend (locally: stop or kill the primary, fence it, promote the replica, measure with a
//! write probe, switch back), records RTO, RPO, rows lost and every step in state and in the audit log (beside
//! restore tests), and fails when an objective (default: the tier's `rto_minutes`/`rpo_minutes`) is exceeded. With
//! `max_age`, a plan after the evidence has aged replaces the resource, like `dbplatform_restore_test`.
//!
//! Files: [`schema`], this file (plan: defaults and staleness; apply: the drill and its evidence).

pub mod schema;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};

use crate::backend::replica::{DrillMode, DrillOutcome, DrillSpec, FailureKind};
use crate::framework::access::{get_bool, get_number, get_string, Field};
use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Diagnostic, Diagnostics, PlanRequest, PlanResponse,
    ReadRequest, ReadResponse, Resource, Schema, Value,
};
use crate::resources::database::env_trait::DatabaseEnv;
use crate::resources::evidence;
use schema::RESULT_ATTRS;

/// Terraform type name.
pub const TYPE_NAME: &str = "dbplatform_failover_drill";

/// The resource.
pub struct FailoverDrillResource {
    env: Arc<dyn DatabaseEnv>,
}

impl FailoverDrillResource {
    /// A drill resource using `env`'s backend, tier catalogue and audit log.
    pub fn new(env: Arc<dyn DatabaseEnv>) -> Self {
        Self { env }
    }

    /// The tier's objectives of `database` in seconds (RTO, RPO); `None` when the database or tier is unknown.
    async fn tier_objectives(&self, database: &str) -> Option<(f64, f64)> {
        let backend = self.env.backend().await.ok()?;
        let info = backend.read(database).await.ok()??;
        let tiers = self.env.tiers().await.ok()?;
        let t = tiers.tiers.get(&info.spec.tier)?;
        Some((
            f64::from(t.rto_minutes) * 60.0,
            f64::from(t.rpo_minutes) * 60.0,
        ))
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_number(f: Option<f64>) -> Value {
    f.map(evidence::seconds).unwrap_or(Value::Null)
}

/// The `mode` a configuration asks for ("replica" when unset), or an error diagnostic.
fn mode_of(v: &Value) -> Result<Field<String>, Diagnostic> {
    Ok(match get_string(v, "mode")? {
        Field::Null => Field::Known("replica".into()),
        other => other,
    })
}

/// Checks of the configuration that need no backend.
fn check_config(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    evidence::check_max_age(config, "168h", &mut d);
    if let Ok(Field::Known(f)) = get_string(config, "failure") {
        if f != "stop" && f != "crash" {
            d.error_at(
                AttributePath::attr("failure"),
                "Invalid failure",
                format!("failure = {f:?}: use \"stop\" (clean shutdown) or \"crash\" (SIGKILL)."),
            );
        }
    }
    let replica = config.get("replica_id");
    match mode_of(config) {
        Ok(Field::Known(m)) if m == "replica" && replica.is_null() => d.error_at(
            AttributePath::attr("replica_id"),
            "Missing replica_id",
            "a replica drill promotes a dbplatform_replica: set replica_id = dbplatform_replica.NAME.id, or mode = \"multi_az\" on aws.",
        ),
        Ok(Field::Known(m)) if m == "multi_az" && !replica.is_null() => d.error_at(
            AttributePath::attr("replica_id"),
            "replica_id with mode = \"multi_az\"",
            "a Multi-AZ drill reboots the instance with failover and promotes no replica: remove replica_id, or remove mode to promote the replica.",
        ),
        // Valid modes with a matching replica_id.
        Ok(Field::Known(m)) if m == "replica" || m == "multi_az" => {}
        Ok(Field::Known(m)) => d.error_at(
            AttributePath::attr("mode"),
            "Invalid mode",
            format!("mode = {m:?}: use \"replica\" or \"multi_az\"."),
        ),
        _ => {}
    }
    for a in ["max_rto_seconds", "max_rpo_seconds"] {
        if let Ok(Field::Known(n)) = get_number(config, a) {
            if n.as_f64().is_none_or(|x| x <= 0.0) {
                d.error_at(
                    AttributePath::attr(a),
                    "Invalid objective",
                    format!("{a} must be a number of seconds above 0."),
                );
            }
        }
    }
    d
}

/// Whether the figures meet the objectives; the words for the error when not.
fn objective_failures(
    out: &DrillOutcome,
    max_rto: Option<f64>,
    max_rpo: Option<f64>,
) -> Vec<String> {
    let mut why = Vec::new();
    if let (Some(rto), Some(max)) = (out.rto_seconds, max_rto) {
        if rto > max {
            why.push(format!("RTO {rto:.3} s exceeds max_rto_seconds {max:.0} s"));
        }
    }
    if let (Some(rpo), Some(max)) = (out.rpo_seconds, max_rpo) {
        if rpo > max {
            why.push(format!(
                "RPO {rpo:.3} s ({} rows lost) exceeds max_rpo_seconds {max:.0} s",
                out.rows_lost.unwrap_or(0)
            ));
        }
    }
    why
}

#[async_trait]
impl Resource for FailoverDrillResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    async fn validate(&self, config: &Value) -> Diagnostics {
        check_config(config)
    }

    async fn plan(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = PlanResponse {
            planned: req.planned.clone(),
            ..Default::default()
        };
        if req.planned.is_null() {
            return resp;
        }
        if req.planned.get("mode").is_unknown() || req.planned.get("mode").is_null() {
            if let Ok(Field::Known(m)) = mode_of(&req.config) {
                resp.planned.set("mode", Value::string(m));
            }
        }
        // Objectives default to the tier's, known at plan time when the database exists.
        let unset = ["max_rto_seconds", "max_rpo_seconds"]
            .iter()
            .any(|a| req.config.get(a).is_null());
        if unset && req.prior_state.is_null() {
            let objectives = match req.planned.get("database_id").as_str() {
                Some(db) => self.tier_objectives(db).await,
                None => None,
            };
            for (a, v) in ["max_rto_seconds", "max_rpo_seconds"]
                .iter()
                .zip([objectives.map(|o| o.0), objectives.map(|o| o.1)])
            {
                if req.config.get(a).is_null() {
                    resp.planned
                        .set(a, v.map(evidence::seconds).unwrap_or(Value::Unknown));
                }
            }
        } else if unset {
            for a in ["max_rto_seconds", "max_rpo_seconds"] {
                if req.config.get(a).is_null() {
                    resp.planned.set(a, req.prior_state.get(a).clone());
                }
            }
        }
        if req.prior_state.is_null() {
            return resp;
        }
        if evidence::plan_rerun(
            &req,
            &mut resp,
            RESULT_ATTRS,
            "Failover drill",
            "apply runs the drill again (the database fails over and back).",
        ) {
            resp.planned.set("id", Value::Unknown);
        }
        resp
    }

    async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let mut resp = ApplyResponse::default();
        if req.planned.is_null() {
            // Evidence of a moment: nothing to destroy.
            return resp;
        }
        if !req.prior.is_null() {
            // In-place change (max_age only): the evidence stays as it was.
            let mut s = req.planned.clone();
            for a in RESULT_ATTRS
                .iter()
                .chain(["id", "max_rto_seconds", "max_rpo_seconds"].iter())
            {
                s.set(a, req.prior.get(a).clone());
            }
            resp.new_state = s;
            return resp;
        }
        let backend = match self.env.backend().await {
            Ok(b) => b,
            Err(d) => {
                resp.diagnostics.push(d);
                return resp;
            }
        };
        let Some(replicas) = backend.replicas() else {
            resp.diagnostics.error(
                "Failover drills are not available on this backend",
                format!("backend {:?} cannot run failover drills.", backend.kind()),
            );
            return resp;
        };
        let db = req
            .planned
            .get("database_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mode = req
            .planned
            .get("mode")
            .as_str()
            .unwrap_or("replica")
            .to_string();
        let failure = match req.planned.get("failure").as_str().unwrap_or("stop") {
            "crash" => FailureKind::Crash,
            _ => FailureKind::Stop,
        };
        let spec = DrillSpec {
            database: db.clone(),
            mode: if mode == "multi_az" {
                DrillMode::MultiAz
            } else {
                DrillMode::Promote {
                    replica: req
                        .planned
                        .get("replica_id")
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                }
            },
            failure,
            write_probe: get_bool(&req.planned, "write_probe")
                .ok()
                .and_then(Field::known)
                .unwrap_or(true),
            keep_promoted: get_bool(&req.planned, "keep_promoted")
                .ok()
                .and_then(Field::known)
                .unwrap_or(false),
        };
        let mut state = req.planned.clone();
        let tier = self.tier_objectives(&db).await;
        let objective = |a: &str, i: usize| -> Option<f64> {
            get_number(&req.planned, a)
                .ok()
                .and_then(Field::known)
                .and_then(|n| n.as_f64())
                .or_else(|| tier.map(|t| if i == 0 { t.0 } else { t.1 }))
        };
        let (max_rto, max_rpo) = (
            objective("max_rto_seconds", 0),
            objective("max_rpo_seconds", 1),
        );
        state.set("max_rto_seconds", opt_number(max_rto));
        state.set("max_rpo_seconds", opt_number(max_rpo));
        let started = Utc::now();
        let out = match replicas.failover_drill(&spec).await {
            Ok(o) => o,
            Err(e) => {
                // Nothing was failed over: no evidence to keep, the next apply tries again.
                resp.diagnostics
                    .push(crate::resources::replica::backend_error(
                        &format!("Failover drill of {db:?} could not start"),
                        e,
                    ));
                return resp;
            }
        };
        let finished = Utc::now();
        let mut errors: Vec<String> = out.error.iter().cloned().collect();
        errors.extend(objective_failures(&out, max_rto, max_rpo));
        if !spec.keep_promoted && !out.topology_restored && out.error.is_none() && !out.simulated {
            errors.push("the original topology was not restored".into());
        }
        let succeeded = errors.is_empty();
        state.set(
            "id",
            Value::string(format!("{db}@{}", started.format("%Y%m%dT%H%M%SZ"))),
        );
        state.set("succeeded", Value::Bool(succeeded));
        state.set(
            "started_at",
            Value::string(ts(out.started_at.unwrap_or(started))),
        );
        state.set("finished_at", Value::string(ts(finished)));
        state.set("rto_seconds", opt_number(out.rto_seconds));
        state.set("rpo_seconds", opt_number(out.rpo_seconds));
        state.set(
            "rows_lost",
            out.rows_lost
                .map(|n| Value::int(i64::try_from(n).unwrap_or(i64::MAX)))
                .unwrap_or(Value::Null),
        );
        state.set(
            "new_primary_endpoint",
            Value::string(&out.new_primary_endpoint),
        );
        state.set(
            "steps",
            Value::List(
                out.steps
                    .iter()
                    .map(|s| Value::string(format!("{} {}", ts(s.at), s.what)))
                    .collect(),
            ),
        );
        state.set("topology_restored", Value::Bool(out.topology_restored));
        state.set("simulated", Value::Bool(out.simulated));
        let record = policy::audit::FailoverDrillRecord {
            database: db.clone(),
            replica: match &spec.mode {
                DrillMode::Promote { replica } => Some(replica.clone()),
                DrillMode::MultiAz => None,
            },
            mode: mode.clone(),
            failure: if mode == "multi_az" {
                "reboot_failover".into()
            } else {
                spec.failure.as_str().into()
            },
            succeeded,
            rto_seconds: out.rto_seconds,
            rpo_seconds: out.rpo_seconds,
            rows_lost: out.rows_lost,
            max_rto_seconds: max_rto,
            max_rpo_seconds: max_rpo,
            topology_restored: out.topology_restored,
            simulated: out.simulated,
            started_at: ts(out.started_at.unwrap_or(started)),
            finished_at: ts(finished),
            error: (!succeeded).then(|| errors.join("; ")),
            source: None,
        };
        if let Err(d) = self.env.record_failover_drill(record).await {
            resp.diagnostics.push(d);
        }
        if !succeeded {
            resp.diagnostics.error(
                format!("Failover drill of {db:?} failed"),
                format!(
                    "{}\n\nFigures: RTO {} s (objective {} s), RPO {} s (objective {} s), rows lost {}.\nSteps:\n{}\n\nThe failed result is recorded in state and the audit log; the next apply runs the drill again.",
                    errors.join("\n"),
                    out.rto_seconds.map_or("n/a".into(), |x| format!("{x:.3}")),
                    max_rto.map_or("n/a".into(), |x| format!("{x:.0}")),
                    out.rpo_seconds.map_or("n/a".into(), |x| format!("{x:.3}")),
                    max_rpo.map_or("n/a".into(), |x| format!("{x:.0}")),
                    out.rows_lost.map_or("n/a".into(), |x| x.to_string()),
                    out.steps.iter().map(|s| format!("  {} {}", ts(s.at), s.what)).collect::<Vec<_>>().join("\n"),
                ),
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

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn a_replica_drill_needs_a_replica_and_multi_az_none() {
        let d = check_config(&cfg(&[("database_id", Value::string("orders"))]));
        assert!(d.iter().any(|x| x.summary == "Missing replica_id"), "{d:?}");
        let d = check_config(&cfg(&[
            ("mode", Value::string("multi_az")),
            ("replica_id", Value::string("ro")),
        ]));
        assert!(
            d.iter()
                .any(|x| x.attribute == Some(AttributePath::attr("replica_id"))),
            "{d:?}"
        );
        let d = check_config(&cfg(&[
            ("replica_id", Value::string("ro")),
            ("failure", Value::string("pull-the-plug")),
        ]));
        assert!(d.iter().any(|x| x.summary == "Invalid failure"), "{d:?}");
        assert!(check_config(&cfg(&[("replica_id", Value::string("ro"))])).is_empty());
    }

    #[test]
    fn exceeded_objectives_are_named_with_the_figures() {
        let out = DrillOutcome {
            rto_seconds: Some(12.5),
            rpo_seconds: Some(0.25),
            rows_lost: Some(4),
            ..Default::default()
        };
        let why = objective_failures(&out, Some(10.0), Some(1.0));
        assert_eq!(
            why,
            vec!["RTO 12.500 s exceeds max_rto_seconds 10 s".to_string()]
        );
        let why = objective_failures(&out, Some(60.0), Some(0.1));
        assert_eq!(
            why,
            vec!["RPO 0.250 s (4 rows lost) exceeds max_rpo_seconds 0 s".to_string()]
        );
        assert!(objective_failures(&out, None, None).is_empty());
    }
}

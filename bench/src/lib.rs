//! Benchmark inputs for `dbpolicy check`, kept out of the policy library so nothing it ships exists only for
//! benchmarks: a deterministic, realistic `terraform show -json` plan (format 0.2, the shape Terraform 1.0.3
//! writes), used by `scripts/bench.sh` (through the `gen_plan` binary) and by the large-plan tests of `policy`.
//!
//! The plan holds N `aws_db_instance` (root `count` and module `for_each` instances) plus parameter groups,
//! Aurora clusters with members, subnet groups, read replicas, `dbplatform_database` resources and unrelated
//! resources; a mix of create, update (with `before`), delete, replace and no-op; values unknown until apply;
//! sensitive passwords; `configuration`, `planned_values` and `prior_state`. N = 5000 is about 44 MiB.

use serde_json::{json, Map, Value};

/// SplitMix64: tiny, deterministic, good enough to pick plan shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const TIERS: &[&str] = &["tier-0", "tier-1", "tier-2", "tier-3"];
const TEAMS: usize = 10;
const KMS: &str = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

struct Plan {
    changes: Vec<Value>,
    planned_root: Vec<Value>,
    planned_modules: Vec<Vec<Value>>,
    prior_root: Vec<Value>,
    prior_modules: Vec<Vec<Value>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Act {
    Create,
    Update,
    Delete,
    Replace,
    NoOp,
}

impl Act {
    fn actions(self) -> Value {
        match self {
            Act::Create => json!(["create"]),
            Act::Update => json!(["update"]),
            Act::Delete => json!(["delete"]),
            Act::Replace => json!(["delete", "create"]),
            Act::NoOp => json!(["no-op"]),
        }
    }
}

fn pick_action(rng: &mut Rng) -> Act {
    match rng.next() % 100 {
        0..=59 => Act::Create,
        60..=79 => Act::Update,
        80..=84 => Act::Delete,
        85..=89 => Act::Replace,
        _ => Act::NoOp,
    }
}

/// `after_unknown` for known values: `false` per list element, `{}` per object, nothing for scalars.
fn known_shape(v: &Value) -> Option<Value> {
    match v {
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .map(|x| known_shape(x).unwrap_or(Value::Bool(false)))
                .collect(),
        )),
        Value::Object(m) => Some(Value::Object(
            m.iter()
                .filter_map(|(k, x)| known_shape(x).map(|s| (k.clone(), s)))
                .collect(),
        )),
        _ => None,
    }
}

struct Res<'a> {
    module: Option<String>,
    rtype: &'a str,
    name: &'a str,
    index: Option<Value>,
    provider: &'a str,
    act: Act,
    /// Attributes after the change (known ones), and the names unknown until apply.
    after: Map<String, Value>,
    unknown: Vec<&'a str>,
    sensitive: Vec<&'a str>,
    /// Computed attribute values once applied, for `before` of existing resources.
    computed: Map<String, Value>,
}

impl Plan {
    fn add(&mut self, r: Res, team: Option<usize>) {
        let idx = match &r.index {
            None => String::new(),
            Some(Value::String(s)) => format!("[{}]", Value::String(s.clone())),
            Some(v) => format!("[{v}]"),
        };
        let local = format!("{}.{}{idx}", r.rtype, r.name);
        let address = match &r.module {
            Some(m) => format!("{m}.{local}"),
            None => local,
        };
        let mut before_v = r.after.clone();
        before_v.extend(r.computed.clone());
        if r.act == Act::Update {
            // The update changes retention and tags.
            before_v.insert("backup_retention_period".into(), json!(1));
        }
        let sens: Map<String, Value> = r
            .sensitive
            .iter()
            .map(|s| (s.to_string(), Value::Bool(true)))
            .collect();
        let exists = r.act != Act::Create;
        let gone = r.act == Act::Delete;
        let mut after = r.after.clone();
        let mut after_unknown: Map<String, Value> = Map::new();
        if matches!(r.act, Act::Create | Act::Replace) {
            for u in &r.unknown {
                after.remove(*u);
                after_unknown.insert(u.to_string(), Value::Bool(true));
            }
        } else {
            after.extend(r.computed.clone());
        }
        for (k, v) in &after {
            if let Some(s) = known_shape(v) {
                after_unknown.insert(k.clone(), s);
            }
        }
        let mut change = Map::new();
        change.insert("actions".into(), r.act.actions());
        change.insert(
            "before".into(),
            if exists {
                Value::Object(before_v.clone())
            } else {
                Value::Null
            },
        );
        change.insert(
            "after".into(),
            if gone {
                Value::Null
            } else {
                Value::Object(after.clone())
            },
        );
        change.insert(
            "after_unknown".into(),
            if gone {
                Value::Bool(false)
            } else {
                Value::Object(after_unknown)
            },
        );
        change.insert(
            "before_sensitive".into(),
            if exists {
                Value::Object(sens.clone())
            } else {
                Value::Bool(false)
            },
        );
        change.insert(
            "after_sensitive".into(),
            if gone {
                Value::Bool(false)
            } else {
                Value::Object(sens.clone())
            },
        );
        let mut rc = Map::new();
        rc.insert("address".into(), json!(address));
        if let Some(m) = &r.module {
            rc.insert("module_address".into(), json!(m));
        }
        rc.insert("mode".into(), json!("managed"));
        rc.insert("type".into(), json!(r.rtype));
        rc.insert("name".into(), json!(r.name));
        if let Some(i) = &r.index {
            rc.insert("index".into(), i.clone());
        }
        rc.insert("provider_name".into(), json!(r.provider));
        rc.insert("change".into(), Value::Object(change));
        self.changes.push(Value::Object(rc));
        let state_entry = |values: &Map<String, Value>| {
            let mut e = Map::new();
            e.insert("address".into(), json!(address));
            e.insert("mode".into(), json!("managed"));
            e.insert("type".into(), json!(r.rtype));
            e.insert("name".into(), json!(r.name));
            if let Some(i) = &r.index {
                e.insert("index".into(), i.clone());
            }
            e.insert("provider_name".into(), json!(r.provider));
            e.insert("schema_version".into(), json!(1));
            e.insert("values".into(), Value::Object(values.clone()));
            e.insert("sensitive_values".into(), Value::Object(sens.clone()));
            Value::Object(e)
        };
        if !gone {
            let e = state_entry(&after);
            match team {
                Some(t) => self.planned_modules[t].push(e),
                None => self.planned_root.push(e),
            }
        }
        if exists {
            let e = state_entry(&before_v);
            match team {
                Some(t) => self.prior_modules[t].push(e),
                None => self.prior_root.push(e),
            }
        }
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn tags(rng: &mut Rng, tier: &str, team: usize) -> Value {
    let mut t = json!({"tier": tier, "owner": format!("team-{team}"), "cost_center": format!("cc-{}", 100 + team)});
    if !rng.pct(10) {
        t["data_classification"] =
            json!(rng.pick(&["internal", "confidential", "restricted", "public"]));
    }
    t
}

fn db_instance(
    rng: &mut Rng,
    id: &str,
    tier: &str,
    team: usize,
    pg: Option<&str>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mysql = rng.pct(30);
    let (engine, version, logs) = if mysql {
        (
            "mysql",
            rng.pick(&["8.0.35", "8.0.36", "5.7.44"]),
            json!(["error", "slowquery"]),
        )
    } else {
        (
            "postgres",
            rng.pick(&["16.3", "15.7", "14.12", "12.19"]),
            json!(["postgresql", "upgrade"]),
        )
    };
    let strict = matches!(tier, "tier-0" | "tier-1");
    let t = tags(rng, tier, team);
    let mut after = Map::new();
    after.extend(obj(json!({
        "allocated_storage": 100, "allow_major_version_upgrade": null, "apply_immediately": null,
        "auto_minor_version_upgrade": !rng.pct(5), "availability_zone": null,
        "backup_retention_period": if strict { 35 } else if rng.pct(10) { 0 } else { 7 },
        "backup_window": "03:00-04:00", "ca_cert_identifier": null, "character_set_name": null,
        "copy_tags_to_snapshot": !rng.pct(20), "customer_owned_ip_enabled": null,
        "db_subnet_group_name": format!("team-{team}"), "delete_automated_backups": true,
        "deletion_protection": strict || rng.pct(50), "domain": null, "domain_iam_role_name": null
    })));
    after.extend(obj(json!({
        "enabled_cloudwatch_logs_exports": if rng.pct(15) { json!([]) } else { logs },
        "engine": engine, "engine_version": version, "final_snapshot_identifier": format!("{id}-final"),
        "iam_database_authentication_enabled": !rng.pct(25), "identifier": id,
        "instance_class": if strict { rng.pick(&["db.r6g.large", "db.r6g.xlarge", "db.m6g.large"]) } else { rng.pick(&["db.t4g.medium", "db.t3.micro", "db.m6g.large"]) },
        "iops": null, "kms_key_id": if strict && !rng.pct(10) { json!(KMS) } else { Value::Null },
        "license_model": null, "maintenance_window": "sun:05:00-sun:06:00",
        "manage_master_user_password": if rng.pct(15) { Value::Null } else { json!(true) }
    })));
    after.extend(obj(json!({
        "max_allocated_storage": 500, "monitoring_interval": if strict { 15 } else { 60 },
        "monitoring_role_arn": "arn:aws:iam::111122223333:role/rds-monitoring", "multi_az": strict || rng.pct(20),
        "name": "app", "option_group_name": null, "parameter_group_name": pg,
        "password": null, "performance_insights_enabled": strict || rng.pct(50),
        "performance_insights_kms_key_id": if strict { json!(KMS) } else { Value::Null },
        "performance_insights_retention_period": 7, "publicly_accessible": rng.pct(3),
        "replicate_source_db": null, "restore_to_point_in_time": [], "s3_import": []
    })));
    after.extend(obj(json!({
        "security_group_names": null, "skip_final_snapshot": rng.pct(10), "snapshot_identifier": null,
        "storage_encrypted": !rng.pct(5), "storage_type": "gp3", "tags": t.clone(), "tags_all": t,
        "timeouts": {"create": "60m", "update": "80m", "delete": "60m"}, "timezone": null,
        "username": if rng.pct(10) { "admin".to_string() } else { format!("{}_admin", id.replace('-', "_")) },
        "vpc_security_group_ids": [format!("sg-{:017x}", team)],
        "blue_green_update": [], "custom_iam_instance_profile": null, "db_name": "app", "dedicated_log_volume": false,
        "domain_auth_secret_arn": null, "domain_dns_ips": null, "domain_fqdn": null, "domain_ou": null
    })));
    after.extend(obj(json!({
        "engine_lifecycle_support": "open-source-rds-extended-support-disabled", "master_user_secret_kms_key_id": KMS,
        "network_type": "IPV4", "replica_mode": null, "storage_throughput": 125, "upgrade_storage_config": null,
        "customer_owned_ip_enabled": false, "backup_target": "region", "ca_cert_identifier": "rds-ca-rsa2048-g1"
    })));
    let computed = json!({
        "address": format!("{id}.cabcdefghijk.eu-west-1.rds.amazonaws.com"),
        "arn": format!("arn:aws:rds:eu-west-1:111122223333:db:{id}"),
        "endpoint": format!("{id}.cabcdefghijk.eu-west-1.rds.amazonaws.com:5432"),
        "engine_version_actual": version, "hosted_zone_id": "Z29XKXDKYMONMX", "id": format!("db-{}", id.to_uppercase()),
        "latest_restorable_time": "2026-11-25T10:00:00Z", "nchar_character_set_name": "", "port": 5432,
        "replicas": [], "resource_id": format!("db-{}", id.to_uppercase()), "status": "available",
        "listener_endpoint": [], "option_group_name": "default:postgres-16", "parameter_group_name": pg.unwrap_or("default.postgres16"),
        "master_user_secret": [{"kms_key_id": KMS, "secret_arn": format!("arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!{id}"), "secret_status": "active"}]
    });
    (after, obj(computed))
}

const DB_UNKNOWN: &[&str] = &[
    "listener_endpoint",
    "option_group_name",
    "address",
    "arn",
    "endpoint",
    "engine_version_actual",
    "hosted_zone_id",
    "id",
    "latest_restorable_time",
    "nchar_character_set_name",
    "port",
    "replicas",
    "resource_id",
    "status",
    "master_user_secret",
];

/// The plan for `n` instances from `seed`: the same arguments always give the same JSON.
pub fn generate(n: usize, seed: u64) -> Value {
    let mut rng = Rng(seed);
    let mut plan = Plan {
        changes: Vec::new(),
        planned_root: Vec::new(),
        planned_modules: vec![Vec::new(); TEAMS],
        prior_root: Vec::new(),
        prior_modules: vec![Vec::new(); TEAMS],
    };
    const AWS: &str = "registry.terraform.io/hashicorp/aws";
    const DBP: &str = "registry.terraform.io/dbplatform/dbplatform";
    for team in 0..TEAMS {
        let m = Some(format!("module.team[\"team-{team}\"]"));
        let sg = obj(
            json!({"description": "Managed by Terraform", "name": format!("team-{team}"), "name_prefix": null,
            "subnet_ids": ["subnet-0a", "subnet-0b", "subnet-0c"], "tags": null, "tags_all": {}}),
        );
        let computed = obj(
            json!({"arn": format!("arn:aws:rds:eu-west-1:111122223333:subgrp:team-{team}"), "id": format!("team-{team}")}),
        );
        plan.add(
            Res {
                module: m.clone(),
                rtype: "aws_db_subnet_group",
                name: "this",
                index: None,
                provider: AWS,
                act: Act::NoOp,
                after: sg,
                unknown: vec!["arn", "id"],
                sensitive: vec![],
                computed,
            },
            Some(team),
        );
        let key = obj(
            json!({"description": format!("team-{team} databases"), "enable_key_rotation": true, "deletion_window_in_days": 30, "tags": null, "tags_all": {}}),
        );
        plan.add(
            Res {
                module: m.clone(),
                rtype: "aws_kms_key",
                name: "db",
                index: None,
                provider: AWS,
                act: Act::NoOp,
                after: key,
                unknown: vec!["arn", "key_id", "id"],
                sensitive: vec![],
                computed: obj(json!({"arn": KMS, "key_id": "1234abcd", "id": "1234abcd"})),
            },
            Some(team),
        );
    }
    for i in 0..n {
        let team = i % TEAMS;
        let in_module = i % 2 == 1;
        let tier = rng.pick(TIERS);
        let id = format!("db-{i:05}");
        let pg_name = if i % 10 == 0 {
            Some(format!("pg-{i:05}"))
        } else {
            None
        };
        if let Some(pg) = &pg_name {
            let force = if rng.pct(80) { "1" } else { "0" };
            let after = obj(
                json!({"description": "Managed by Terraform", "family": "postgres16", "name": pg, "name_prefix": null,
                "parameter": [{"apply_method": "immediate", "name": "rds.force_ssl", "value": force},
                              {"apply_method": "pending-reboot", "name": "shared_preload_libraries", "value": "pg_stat_statements"}],
                "tags": null, "tags_all": {}}),
            );
            let computed = obj(
                json!({"arn": format!("arn:aws:rds:eu-west-1:111122223333:pg:{pg}"), "id": pg}),
            );
            plan.add(
                Res {
                    module: None,
                    rtype: "aws_db_parameter_group",
                    name: "pg",
                    index: Some(json!(i / 10)),
                    provider: AWS,
                    act: Act::Create,
                    after,
                    unknown: vec!["arn", "id"],
                    sensitive: vec![],
                    computed,
                },
                None,
            );
        }
        let act = pick_action(&mut rng);
        let (mut after, computed) = db_instance(&mut rng, &id, tier, team, pg_name.as_deref());
        let mut unknown: Vec<&str> = DB_UNKNOWN.to_vec();
        let mut sensitive = vec![];
        if rng.pct(10) {
            after.insert("password".into(), json!(format!("plaintext-{i}")));
            after.insert("manage_master_user_password".into(), Value::Null);
            sensitive.push("password");
        }
        if act == Act::Create && rng.pct(20) {
            unknown.push("kms_key_id");
            unknown.push("multi_az");
        }
        let (module, index, team_slot) = if in_module {
            (
                Some(format!("module.team[\"team-{team}\"]")),
                Some(json!(format!("db-{i:05}"))),
                Some(team),
            )
        } else {
            (None, Some(json!(i)), None)
        };
        plan.add(
            Res {
                module,
                rtype: "aws_db_instance",
                name: "db",
                index,
                provider: AWS,
                act,
                after: after.clone(),
                unknown,
                sensitive,
                computed: computed.clone(),
            },
            team_slot,
        );
        if i % 50 == 7 {
            let mut rep = after.clone();
            rep.insert("identifier".into(), json!(format!("{id}-replica")));
            rep.insert("replicate_source_db".into(), json!(id));
            rep.insert("username".into(), Value::Null);
            rep.insert("backup_retention_period".into(), json!(0));
            rep.remove("storage_encrypted");
            plan.add(
                Res {
                    module: None,
                    rtype: "aws_db_instance",
                    name: "replica",
                    index: Some(json!(i / 50)),
                    provider: AWS,
                    act: Act::Create,
                    after: rep,
                    unknown: [DB_UNKNOWN, &["storage_encrypted"]].concat(),
                    sensitive: vec![],
                    computed: computed.clone(),
                },
                None,
            );
        }
        if i % 25 == 3 {
            let c = format!("cl-{i:05}");
            let t = tags(&mut rng, tier, team);
            let cpg = obj(
                json!({"description": "Managed by Terraform", "family": "aurora-postgresql15", "name": format!("{c}-pg"), "name_prefix": null,
                "parameter": [{"apply_method": "immediate", "name": "rds.force_ssl", "value": "1"}], "tags": null, "tags_all": {}}),
            );
            plan.add(
                Res {
                    module: None,
                    rtype: "aws_rds_cluster_parameter_group",
                    name: "cluster",
                    index: Some(json!(i / 25)),
                    provider: AWS,
                    act: Act::Create,
                    after: cpg,
                    unknown: vec!["arn", "id"],
                    sensitive: vec![],
                    computed: Map::new(),
                },
                None,
            );
            let cluster = obj(
                json!({"availability_zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"], "backup_retention_period": 14,
                "cluster_identifier": c, "copy_tags_to_snapshot": true, "database_name": "app", "db_cluster_instance_class": null,
                "db_cluster_parameter_group_name": format!("{c}-pg"), "db_subnet_group_name": format!("team-{team}"), "deletion_protection": true,
                "enabled_cloudwatch_logs_exports": ["postgresql"], "engine": "aurora-postgresql", "engine_mode": "provisioned", "engine_version": "15.4",
                "final_snapshot_identifier": format!("{c}-final"), "iam_database_authentication_enabled": true, "kms_key_id": KMS,
                "manage_master_user_password": true, "master_password": null, "master_username": "app_admin", "preferred_backup_window": "02:00-03:00",
                "preferred_maintenance_window": "sun:04:00-sun:05:00", "skip_final_snapshot": false, "storage_encrypted": rng.pct(95),
                "tags": t.clone(), "tags_all": t.clone(), "timeouts": null, "vpc_security_group_ids": ["sg-1"]}),
            );
            let cc = obj(
                json!({"arn": format!("arn:aws:rds:eu-west-1:111122223333:cluster:{c}"), "cluster_members": [], "cluster_resource_id": "cluster-ABC",
                "endpoint": format!("{c}.cluster-abc.eu-west-1.rds.amazonaws.com"), "hosted_zone_id": "Z29XKXDKYMONMX", "id": c, "port": 5432,
                "reader_endpoint": format!("{c}.cluster-ro-abc.eu-west-1.rds.amazonaws.com")}),
            );
            plan.add(
                Res {
                    module: None,
                    rtype: "aws_rds_cluster",
                    name: "cluster",
                    index: Some(json!(i / 25)),
                    provider: AWS,
                    act: Act::Create,
                    after: cluster,
                    unknown: vec![
                        "arn",
                        "cluster_members",
                        "cluster_resource_id",
                        "endpoint",
                        "hosted_zone_id",
                        "id",
                        "port",
                        "reader_endpoint",
                    ],
                    sensitive: vec![],
                    computed: cc,
                },
                None,
            );
            for k in 0..2 {
                let member = obj(
                    json!({"apply_immediately": null, "auto_minor_version_upgrade": true, "ca_cert_identifier": null, "cluster_identifier": c,
                    "copy_tags_to_snapshot": true, "db_parameter_group_name": null, "engine": "aurora-postgresql", "engine_version": "15.4",
                    "identifier": format!("{c}-{k}"), "instance_class": "db.r6g.xlarge", "monitoring_interval": 15,
                    "monitoring_role_arn": "arn:aws:iam::111122223333:role/rds-monitoring", "performance_insights_enabled": true,
                    "performance_insights_kms_key_id": KMS, "promotion_tier": 0, "publicly_accessible": false, "tags": t.clone(), "tags_all": t.clone(), "timeouts": null}),
                );
                plan.add(
                    Res {
                        module: None,
                        rtype: "aws_rds_cluster_instance",
                        name: "member",
                        index: Some(json!(format!("{c}-{k}"))),
                        provider: AWS,
                        act: Act::Create,
                        after: member,
                        unknown: vec![
                            "arn",
                            "availability_zone",
                            "dbi_resource_id",
                            "endpoint",
                            "id",
                            "port",
                            "storage_encrypted",
                            "writer",
                        ],
                        sensitive: vec![],
                        computed: Map::new(),
                    },
                    None,
                );
            }
        }
        if i % 20 == 11 {
            let t = tags(&mut rng, tier, team);
            let local = tier == "tier-3" && rng.pct(50);
            let dbp = obj(
                json!({"name": format!("app-{i:05}"), "engine": "postgres", "engine_version": "16.3", "tier": tier,
                "instance_class": if local { "local" } else { "db.m6g.large" }, "allocated_storage_gb": 50, "max_allocated_storage_gb": 200,
                "storage_type": "gp3", "db_name": "app", "master_username": "app_admin", "multi_az": matches!(tier, "tier-0" | "tier-1"),
                "backup_retention_days": 14, "backup_window": "03:00-04:00", "maintenance_window": "sun:05:00-sun:06:00", "deletion_protection": true,
                "kms_key_id": KMS, "db_subnet_group_name": format!("team-{team}"), "vpc_security_group_ids": ["sg-1"], "parameter_group_name": null,
                "iam_database_authentication": true, "performance_insights": true, "monitoring_interval_seconds": 15,
                "monitoring_role_arn": "arn:aws:iam::111122223333:role/rds-monitoring", "log_exports": ["postgresql"], "tags": t,
                "apply_immediately": false, "skip_final_snapshot": false, "final_snapshot_identifier": format!("app-{i:05}-final")}),
            );
            let comp = obj(
                json!({"id": format!("app-{i:05}"), "arn": format!("arn:aws:rds:eu-west-1:111122223333:db:app-{i:05}"),
                "endpoint": format!("app-{i:05}.abc.eu-west-1.rds.amazonaws.com"), "port": 5432, "status": "available", "master_user_secret_arn": null}),
            );
            plan.add(
                Res {
                    module: None,
                    rtype: "dbplatform_database",
                    name: "app",
                    index: Some(json!(format!("app-{i:05}"))),
                    provider: DBP,
                    act: pick_action(&mut rng),
                    after: dbp,
                    unknown: vec![
                        "id",
                        "arn",
                        "endpoint",
                        "port",
                        "status",
                        "master_user_secret_arn",
                    ],
                    sensitive: vec![],
                    computed: comp,
                },
                None,
            );
        }
    }
    let module_state = |mods: Vec<Vec<Value>>| -> Vec<Value> {
        mods.into_iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .map(|(t, r)| json!({"resources": r, "address": format!("module.team[\"team-{t}\"]")}))
            .collect()
    };
    let config = json!({
        "provider_config": {
            "aws": {"name": "aws", "version_constraint": "~> 5.0", "expressions": {"region": {"constant_value": "eu-west-1"},
                "default_tags": [{"tags": {"constant_value": {"managed_by": "terraform"}}}]}},
            "dbplatform": {"name": "dbplatform", "expressions": {"backend": {"constant_value": "aws"}}}
        },
        "root_module": {
            "resources": [
                {"address": "aws_db_parameter_group.pg", "mode": "managed", "type": "aws_db_parameter_group", "name": "pg", "provider_config_key": "aws",
                 "expressions": {"family": {"constant_value": "postgres16"}, "name": {"references": ["count.index"]}}, "schema_version": 0,
                 "count_expression": {"references": ["var.instances"]}},
                {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db", "provider_config_key": "aws",
                 "expressions": {"parameter_group_name": {"references": ["aws_db_parameter_group.pg", "count.index"]}, "storage_encrypted": {"constant_value": true}},
                 "schema_version": 1, "count_expression": {"references": ["var.instances"]}},
                {"address": "aws_db_instance.replica", "mode": "managed", "type": "aws_db_instance", "name": "replica", "provider_config_key": "aws",
                 "expressions": {"replicate_source_db": {"references": ["aws_db_instance.db"]}}, "schema_version": 1},
                {"address": "aws_rds_cluster.cluster", "mode": "managed", "type": "aws_rds_cluster", "name": "cluster", "provider_config_key": "aws",
                 "expressions": {"db_cluster_parameter_group_name": {"references": ["aws_rds_cluster_parameter_group.cluster"]}}, "schema_version": 0},
                {"address": "aws_rds_cluster_instance.member", "mode": "managed", "type": "aws_rds_cluster_instance", "name": "member", "provider_config_key": "aws",
                 "expressions": {"cluster_identifier": {"references": ["aws_rds_cluster.cluster.id", "aws_rds_cluster.cluster"]}}, "schema_version": 0},
                {"address": "dbplatform_database.app", "mode": "managed", "type": "dbplatform_database", "name": "app", "provider_config_key": "dbplatform",
                 "expressions": {"tier": {"references": ["each.value.tier"]}}, "schema_version": 0, "for_each_expression": {"references": ["var.apps"]}}
            ],
            "module_calls": {"team": {"source": "./modules/team", "for_each_expression": {"references": ["var.teams"]}, "module": {"resources": [
                {"address": "aws_db_subnet_group.this", "mode": "managed", "type": "aws_db_subnet_group", "name": "this", "provider_config_key": "team:aws", "expressions": {}, "schema_version": 0},
                {"address": "aws_kms_key.db", "mode": "managed", "type": "aws_kms_key", "name": "db", "provider_config_key": "team:aws", "expressions": {}, "schema_version": 0},
                {"address": "aws_db_instance.db", "mode": "managed", "type": "aws_db_instance", "name": "db", "provider_config_key": "team:aws",
                 "expressions": {"kms_key_id": {"references": ["aws_kms_key.db.arn", "aws_kms_key.db"]}}, "schema_version": 1, "for_each_expression": {"references": ["var.databases"]}}
            ]}}},
            "variables": {"instances": {"default": n}}
        }
    });
    json!({
        "format_version": "0.2",
        "terraform_version": "1.0.3",
        "variables": {"instances": {"value": n}},
        "planned_values": {"root_module": {"resources": plan.planned_root, "child_modules": module_state(plan.planned_modules)}},
        "resource_changes": plan.changes,
        "prior_state": {"format_version": "0.2", "terraform_version": "1.0.3", "values": {"root_module": {"resources": plan.prior_root, "child_modules": module_state(plan.prior_modules)}}},
        "configuration": config
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_plan_other_seed_other_plan() {
        assert_eq!(generate(20, 7), generate(20, 7));
        assert_ne!(generate(20, 7), generate(20, 8));
    }

    #[test]
    fn plan_has_the_requested_instances_and_the_terraform_shape() {
        let p = generate(100, 1);
        assert_eq!(p["format_version"], "0.2");
        let rcs = p["resource_changes"].as_array().unwrap();
        let dbs = rcs
            .iter()
            .filter(|r| r["type"] == "aws_db_instance" && r["name"] == "db")
            .count();
        assert_eq!(dbs, 100);
        for t in [
            "aws_rds_cluster",
            "aws_rds_cluster_instance",
            "aws_db_parameter_group",
            "aws_db_subnet_group",
            "dbplatform_database",
            "aws_kms_key",
        ] {
            assert!(rcs.iter().any(|r| r["type"] == t), "no {t}");
        }
        for a in [
            json!(["create"]),
            json!(["update"]),
            json!(["delete"]),
            json!(["delete", "create"]),
            json!(["no-op"]),
        ] {
            assert!(rcs.iter().any(|r| r["change"]["actions"] == a), "no {a}");
        }
        assert!(p["configuration"]["root_module"]["module_calls"]["team"].is_object());
        assert!(p["prior_state"]["values"]["root_module"]["resources"].is_array());
    }
}

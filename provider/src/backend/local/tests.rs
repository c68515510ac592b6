//! Unit tests of the local backend that need no PostgreSQL: names, spec errors, restarts, TLS, socket paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::conf::{hba_conf, server_conf};
use super::server::socket_dir_for;
use super::validate::valid_identifier;
use super::*;
use crate::backend::{DatabaseBackend, DatabaseSpec};

fn spec() -> DatabaseSpec {
    DatabaseSpec {
        name: "orders".into(),
        engine: "postgres".into(),
        engine_version: None,
        tier: "tier-3".into(),
        instance_class: "db.t4g.micro".into(),
        db_name: "app".into(),
        master_username: "app_admin".into(),
        multi_az: false,
        backup_retention_days: 1,
        point_in_time_recovery: false,
        deletion_protection: false,
        tls_required: true,
        min_tls_version: "1.2".into(),
        parameters: BTreeMap::new(),
        tags: BTreeMap::new(),
        instance: None,
        timeouts: Default::default(),
    }
}

#[test]
fn names_follow_rds_rules() {
    assert!(valid_identifier("orders-eu-1"));
    for bad in ["", "Orders", "1db", "a--b", "a-", "a_b"] {
        assert!(!valid_identifier(bad), "{bad}");
    }
}

#[test]
fn spec_errors_name_the_attribute_and_fix() {
    let mut s = spec();
    s.engine = "mysql".into();
    let e = validate_spec(&s).unwrap_err().to_string();
    assert!(
        e.starts_with("engine:") && e.contains("engine = \"postgres\""),
        "{e}"
    );
    let mut s = spec();
    s.multi_az = true;
    assert!(validate_spec(&s)
        .unwrap_err()
        .to_string()
        .starts_with("multi_az:"));
    let mut s = spec();
    s.parameters = parameters(&[("archive_command", "true")]);
    let e = validate_spec(&s).unwrap_err().to_string();
    assert!(
        e.contains("parameters.archive_command") && e.contains("managed by dbplatform"),
        "{e}"
    );
    assert!(validate_spec(&spec()).is_ok());
}

#[test]
fn restart_needed_for_postmaster_settings_only() {
    let b = LocalBackend::new("/nonexistent");
    let a = spec();
    let mut c = spec();
    c.parameters = parameters(&[("work_mem", "8MB")]);
    assert!(b.restart_required(&a, &c).is_empty());
    c.parameters = parameters(&[("max_connections", "80")]);
    assert_eq!(
        b.restart_required(&a, &c),
        vec!["parameters.max_connections".to_string()]
    );
    let mut d = spec();
    d.instance_class = "db.t4g.medium".into();
    assert!(b.restart_required(&a, &d)[0].contains("shared_buffers 32MB -> 128MB"));
}

#[test]
fn tls_required_rejects_plain_tcp() {
    assert!(hba_conf(true, false).contains("hostnossl all        all   0.0.0.0/0       reject"));
    assert!(!hba_conf(false, false).contains("reject"));
    let conf = server_conf(&spec(), 5555, Path::new("/r"), Path::new("/a"));
    assert!(
        conf.contains("port = 5555")
            && conf.contains("archive_mode = on")
            && conf.contains("ssl = on")
    );
    assert_eq!(
        connection_string(&spec(), 5555),
        "postgresql://app_admin@127.0.0.1:5555/app?sslmode=require"
    );
}

#[test]
fn admin_role_logs_in_by_os_user_over_the_socket_only() {
    let hba = hba_conf(true, true);
    let admin = identity::ADMIN_ROLE;
    let lines: Vec<&str> = hba.lines().filter(|l| l.contains(admin)).collect();
    assert_eq!(lines.len(), 4, "{hba}");
    assert!(lines[0].starts_with("local") && lines[0].contains("peer map="));
    assert!(lines
        .iter()
        .filter(|l| l.starts_with("host"))
        .all(|l| l.ends_with("reject")));
    // The admin rules come before the catch-all password rules, which would otherwise match first.
    let first_all = hba.find("local   all          all").unwrap();
    assert!(hba.find(admin).unwrap() < first_all);
}

#[test]
fn long_socket_paths_move_to_tmp() {
    let long = PathBuf::from(format!("/{}", "x".repeat(120)));
    assert!(socket_dir_for(&long.join("run"), &long)
        .to_string_lossy()
        .starts_with("/tmp/dbplatform-"));
    assert_eq!(
        socket_dir_for(Path::new("/d/run"), Path::new("/d")),
        PathBuf::from("/d/run")
    );
}

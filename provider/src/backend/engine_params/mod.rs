//! The engine parameters a database may set in `parameters`, with the form of their values, so a misspelt name or
//! `work_mem = "abc"` is refused at plan with the expected form instead of failing at apply (or, on RDS, being
//! accepted and ignored). PostgreSQL's table is `pg_settings` of a real server (`postgres.tsv`, with the settings
//! PostgreSQL 16 and 17 added); MySQL's is the common server variables RDS lets a parameter group set.
//! Names with a dot (`pg_stat_statements.track`, `rds.force_ssl`) are extension or service settings and are not
//! checked here.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The form of one parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// on/off (PostgreSQL also true/false/yes/no/1/0; MySQL ON/OFF/1/0).
    Bool,
    /// A whole number, with an optional unit when the parameter has one (`8MB`, `30s`), within `min..=max` in the
    /// parameter's own unit.
    Integer {
        unit: &'static str,
        min: f64,
        max: f64,
    },
    /// A number, with an optional unit, within `min..=max`.
    Real {
        unit: &'static str,
        min: f64,
        max: f64,
    },
    /// One of the listed values (case-insensitive).
    Enum(Vec<&'static str>),
    /// Free text.
    Text,
}

const POSTGRES_TSV: &str = include_str!("postgres.tsv");

/// Settings PostgreSQL 16 and 17 added after the table's server version (values not checked beyond the name).
const POSTGRES_NEWER: &[&str] = &[
    "allow_alter_system",
    "commit_timestamp_buffers",
    "createrole_self_grant",
    "debug_io_direct",
    "debug_logical_replication_streaming",
    "enable_group_by_reordering",
    "enable_presorted_aggregate",
    "event_triggers",
    "icu_validation_level",
    "io_combine_limit",
    "max_notify_queue_pages",
    "max_parallel_apply_workers_per_subscription",
    "multixact_member_buffers",
    "multixact_offset_buffers",
    "notify_buffers",
    "reserved_connections",
    "scram_iterations",
    "send_abort_for_crash",
    "send_abort_for_kill",
    "serializable_buffers",
    "subtransaction_buffers",
    "summarize_wal",
    "sync_replication_slots",
    "synchronized_standby_slots",
    "trace_connection_negotiation",
    "transaction_buffers",
    "transaction_timeout",
    "vacuum_buffer_usage_limit",
    "wal_summary_keep_time",
];

fn leak(s: &str) -> &'static str {
    // The table is parsed once per process; its strings live as long as the program.
    Box::leak(s.to_string().into_boxed_str())
}

fn postgres() -> &'static BTreeMap<String, Kind> {
    static TABLE: OnceLock<BTreeMap<String, Kind>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = BTreeMap::new();
        for line in POSTGRES_TSV.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(name), Some(ty)) = (f.first(), f.get(1)) else {
                continue;
            };
            let unit = leak(f.get(2).copied().unwrap_or(""));
            let num = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
            let kind = match *ty {
                "bool" => Kind::Bool,
                "integer" => Kind::Integer {
                    unit,
                    min: num(3).unwrap_or(f64::MIN),
                    max: num(4).unwrap_or(f64::MAX),
                },
                "real" => Kind::Real {
                    unit,
                    min: num(3).unwrap_or(f64::MIN),
                    max: num(4).unwrap_or(f64::MAX),
                },
                "enum" => Kind::Enum(
                    f.get(5)
                        .copied()
                        .unwrap_or("")
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(leak)
                        .collect(),
                ),
                _ => Kind::Text,
            };
            m.insert(name.to_ascii_lowercase(), kind);
        }
        for n in POSTGRES_NEWER {
            m.entry(n.to_string()).or_insert(Kind::Text);
        }
        m
    })
}

const fn int(min: f64, max: f64) -> Kind {
    Kind::Integer { unit: "", min, max }
}

fn mysql() -> &'static BTreeMap<String, Kind> {
    static TABLE: OnceLock<BTreeMap<String, Kind>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let big = u64::MAX as f64;
        let b = || Kind::Bool;
        let t = || Kind::Text;
        let e = |v: &[&'static str]| Kind::Enum(v.to_vec());
        let entries: Vec<(&str, Kind)> = vec![
            ("autocommit", b()),
            ("binlog_cache_size", int(4096.0, big)),
            ("binlog_format", e(&["ROW", "STATEMENT", "MIXED"])),
            ("binlog_row_image", e(&["FULL", "MINIMAL", "NOBLOB"])),
            ("bulk_insert_buffer_size", int(0.0, big)),
            ("character_set_client", t()),
            ("character_set_connection", t()),
            ("character_set_database", t()),
            ("character_set_results", t()),
            ("character_set_server", t()),
            ("collation_connection", t()),
            ("collation_server", t()),
            ("connect_timeout", int(2.0, 31_536_000.0)),
            ("default_time_zone", t()),
            ("default_authentication_plugin", t()),
            ("event_scheduler", e(&["ON", "OFF", "DISABLED"])),
            ("explicit_defaults_for_timestamp", b()),
            ("ft_min_word_len", int(1.0, 84.0)),
            ("general_log", b()),
            ("group_concat_max_len", int(4.0, big)),
            ("init_connect", t()),
            ("innodb_adaptive_hash_index", b()),
            ("innodb_autoinc_lock_mode", int(0.0, 2.0)),
            ("innodb_buffer_pool_instances", int(1.0, 64.0)),
            ("innodb_buffer_pool_size", int(5_242_880.0, big)),
            ("innodb_deadlock_detect", b()),
            ("innodb_file_per_table", b()),
            ("innodb_flush_log_at_trx_commit", int(0.0, 2.0)),
            ("innodb_ft_min_token_size", int(0.0, 16.0)),
            ("innodb_io_capacity", int(100.0, big)),
            ("innodb_io_capacity_max", int(100.0, big)),
            ("innodb_lock_wait_timeout", int(1.0, 1_073_741_824.0)),
            ("innodb_log_buffer_size", int(262_144.0, big)),
            ("innodb_log_file_size", int(4_194_304.0, big)),
            ("innodb_online_alter_log_max_size", int(65_536.0, big)),
            ("innodb_print_all_deadlocks", b()),
            ("innodb_read_io_threads", int(1.0, 64.0)),
            ("innodb_sort_buffer_size", int(65_536.0, 67_108_864.0)),
            ("innodb_stats_persistent", b()),
            ("innodb_strict_mode", b()),
            ("innodb_write_io_threads", int(1.0, 64.0)),
            ("interactive_timeout", int(1.0, 31_536_000.0)),
            ("join_buffer_size", int(128.0, big)),
            ("local_infile", b()),
            ("lock_wait_timeout", int(1.0, 31_536_000.0)),
            ("log_bin_trust_function_creators", b()),
            ("log_error_verbosity", int(1.0, 3.0)),
            ("log_output", e(&["TABLE", "FILE", "NONE"])),
            ("log_queries_not_using_indexes", b()),
            ("log_slow_admin_statements", b()),
            (
                "long_query_time",
                Kind::Real {
                    unit: "",
                    min: 0.0,
                    max: 31_536_000.0,
                },
            ),
            ("lower_case_table_names", int(0.0, 2.0)),
            ("max_allowed_packet", int(1024.0, 1_073_741_824.0)),
            ("max_connect_errors", int(1.0, big)),
            ("max_connections", int(1.0, 100_000.0)),
            ("max_execution_time", int(0.0, 4_294_967_295.0)),
            ("max_heap_table_size", int(16_384.0, big)),
            ("max_user_connections", int(0.0, 4_294_967_295.0)),
            ("min_examined_row_limit", int(0.0, big)),
            ("net_read_timeout", int(1.0, 31_536_000.0)),
            ("net_write_timeout", int(1.0, 31_536_000.0)),
            ("optimizer_switch", t()),
            ("performance_schema", b()),
            ("read_buffer_size", int(8192.0, 2_147_479_552.0)),
            ("read_only", b()),
            ("read_rnd_buffer_size", int(1.0, 2_147_483_647.0)),
            ("require_secure_transport", b()),
            ("skip_name_resolve", b()),
            ("slow_query_log", b()),
            ("sort_buffer_size", int(32_768.0, big)),
            ("sql_mode", t()),
            ("sync_binlog", int(0.0, 4_294_967_295.0)),
            ("table_definition_cache", int(400.0, 524_288.0)),
            ("table_open_cache", int(1.0, 524_288.0)),
            ("thread_cache_size", int(0.0, 16_384.0)),
            ("thread_stack", int(131_072.0, big)),
            ("time_zone", t()),
            ("tls_version", t()),
            ("tmp_table_size", int(1024.0, big)),
            (
                "transaction_isolation",
                e(&[
                    "READ-UNCOMMITTED",
                    "READ-COMMITTED",
                    "REPEATABLE-READ",
                    "SERIALIZABLE",
                ]),
            ),
            ("wait_timeout", int(1.0, 31_536_000.0)),
        ];
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    })
}

/// The table of `engine` (`postgres` or `mysql`); `None` for an engine with no table.
pub fn table(engine: &str) -> Option<&'static BTreeMap<String, Kind>> {
    match engine {
        "postgres" => Some(postgres()),
        "mysql" => Some(mysql()),
        _ => None,
    }
}

/// Bytes in a PostgreSQL memory unit.
fn memory_unit(u: &str) -> Option<f64> {
    Some(match u {
        "B" => 1.0,
        "kB" => 1024.0,
        "8kB" => 8192.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

/// Milliseconds in a PostgreSQL time unit.
fn time_unit(u: &str) -> Option<f64> {
    Some(match u {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    })
}

/// `value` in the parameter's own `unit`, accepting a number with an optional unit of the same dimension.
fn in_unit(value: &str, unit: &str) -> Option<f64> {
    let v = value.trim();
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (num, suffix) = (v[..split].trim(), v[split..].trim());
    let n: f64 = num.parse().ok().filter(|n: &f64| n.is_finite())?;
    if suffix.is_empty() {
        return Some(n);
    }
    if let (Some(have), Some(want)) = (memory_unit(suffix), memory_unit(unit)) {
        return Some(n * have / want);
    }
    if let (Some(have), Some(want)) = (time_unit(suffix), time_unit(unit)) {
        return Some(n * have / want);
    }
    None
}

fn unit_help(unit: &str) -> &'static str {
    if memory_unit(unit).is_some() {
        " (units B, kB, MB, GB, TB)"
    } else if time_unit(unit).is_some() {
        " (units us, ms, s, min, h, d)"
    } else {
        ""
    }
}

fn shown(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e18 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Checks one parameter: a known name for the engine and a value of its form. The error says what is expected.
pub fn check(engine: &str, name: &str, value: &str) -> Result<(), String> {
    let Some(table) = table(engine) else {
        return Ok(());
    };
    if name.contains('.') {
        return Ok(());
    }
    let key = if engine == "postgres" {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    let Some(kind) = table.get(&key) else {
        return Err(format!(
            "{name:?} is not a known {engine} parameter; check the spelling against the {engine} documentation{}",
            if engine == "mysql" {
                " (dbplatform checks the server variables a parameter group commonly sets)"
            } else {
                ""
            }
        ));
    };
    let v = value.trim();
    match kind {
        Kind::Bool => {
            let ok = ["on", "off", "true", "false", "yes", "no", "1", "0"]
                .contains(&v.to_ascii_lowercase().as_str());
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "{value:?} is not a boolean; use \"on\" or \"off\" (or 1/0)"
                ))
            }
        }
        Kind::Integer { unit, min, max } => match in_unit(v, unit) {
            Some(n) if (*min..=*max).contains(&n) => Ok(()),
            Some(_) => Err(format!(
                "{value:?} is outside {}..{}{}{}",
                shown(*min),
                shown(*max),
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                },
                unit_help(unit)
            )),
            None => Err(format!(
                "{value:?} is not a whole number{}; e.g. {}",
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(" with an optional unit{}", unit_help(unit))
                },
                example(unit)
            )),
        },
        Kind::Real { unit, min, max } => match in_unit(v, unit) {
            Some(n) if (*min..=*max).contains(&n) => Ok(()),
            Some(_) => Err(format!(
                "{value:?} is outside {}..{}{}",
                shown(*min),
                shown(*max),
                if unit.is_empty() {
                    String::new()
                } else {
                    format!(" {unit}")
                }
            )),
            None => Err(format!("{value:?} is not a number; e.g. \"0.5\"")),
        },
        Kind::Enum(values) => {
            if values.iter().any(|x| x.eq_ignore_ascii_case(v)) {
                Ok(())
            } else {
                Err(format!("{value:?} is not one of {}", values.join(", ")))
            }
        }
        Kind::Text => Ok(()),
    }
}

fn example(unit: &str) -> &'static str {
    if memory_unit(unit).is_some() {
        "\"64MB\""
    } else if time_unit(unit).is_some() {
        "\"30s\""
    } else {
        "\"100\""
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn postgres_values_are_checked_against_their_form() {
        assert!(check("postgres", "work_mem", "8MB").is_ok());
        assert!(check("postgres", "work_mem", "4096").is_ok());
        let e = check("postgres", "work_mem", "abc").unwrap_err();
        assert!(
            e.contains("not a whole number") && e.contains("\"64MB\""),
            "{e}"
        );
        let e = check("postgres", "work_mem", "1kB").unwrap_err();
        assert!(e.contains("outside 64..2147483647 kB"), "{e}");
        assert!(check("postgres", "log_min_duration_statement", "2s").is_ok());
        assert!(check("postgres", "log_connections", "on").is_ok());
        assert!(check("postgres", "log_connections", "maybe").is_err());
        assert!(check("postgres", "wal_compression", "pglz").is_ok());
        assert!(check("postgres", "random_page_cost", "1.1").is_ok());
        assert!(check("postgres", "transaction_timeout", "5s").is_ok());
        assert!(check("postgres", "pg_stat_statements.track", "all").is_ok());
        let e = check("postgres", "wrok_mem", "8MB").unwrap_err();
        assert!(e.contains("not a known postgres parameter"), "{e}");
    }

    #[test]
    fn mysql_values_are_checked_against_their_form() {
        assert!(check("mysql", "max_connections", "200").is_ok());
        assert!(check("mysql", "max_connections", "lots").is_err());
        assert!(check("mysql", "slow_query_log", "1").is_ok());
        assert!(check("mysql", "long_query_time", "0.5").is_ok());
        assert!(check("mysql", "binlog_format", "row").is_ok());
        assert!(check("mysql", "no_such_variable", "1").is_err());
    }
}

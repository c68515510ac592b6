//! PostgreSQL's table lock levels as it names them in `pg_locks.mode`, and the lock each schema change takes
//! (from the "Explicit Locking" and `ALTER TABLE` chapters of the PostgreSQL documentation).

use super::model::AlterAction;

pub const ACCESS_SHARE: &str = "AccessShareLock";
pub const ROW_SHARE: &str = "RowShareLock";
pub const ROW_EXCLUSIVE: &str = "RowExclusiveLock";
pub const SHARE_UPDATE_EXCLUSIVE: &str = "ShareUpdateExclusiveLock";
pub const SHARE: &str = "ShareLock";
pub const SHARE_ROW_EXCLUSIVE: &str = "ShareRowExclusiveLock";
pub const EXCLUSIVE: &str = "ExclusiveLock";
pub const ACCESS_EXCLUSIVE: &str = "AccessExclusiveLock";

/// The modes from weakest to strongest.
pub const ORDER: [&str; 8] = [
    ACCESS_SHARE,
    ROW_SHARE,
    ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    EXCLUSIVE,
    ACCESS_EXCLUSIVE,
];

/// Rank of a mode in [`ORDER`]; unknown modes (advisory, page locks) rank lowest.
pub fn rank(mode: &str) -> usize {
    ORDER.iter().position(|m| *m == mode).map_or(0, |i| i + 1)
}

/// The stronger of two modes.
pub fn stronger(a: Option<String>, b: Option<&str>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) if rank(b) > rank(&a) => Some(b.to_string()),
        (Some(a), _) => Some(a),
        (None, b) => b.map(str::to_string),
    }
}

/// The lock an `ALTER TABLE` sub-command takes on the table.
pub fn for_action(a: &AlterAction) -> Option<&'static str> {
    Some(match a.action.as_str() {
        "validate_constraint" | "setstatistics" | "clusteron" | "dropcluster" | "setreloptions" => {
            SHARE_UPDATE_EXCLUSIVE
        }
        "add_constraint" if a.constraint.as_deref() == Some("foreign_key") => SHARE_ROW_EXCLUSIVE,
        "enabletrig" | "disabletrig" | "enabletrigall" | "disabletrigall" | "enabletriguser"
        | "disabletriguser" => SHARE_ROW_EXCLUSIVE,
        _ => ACCESS_EXCLUSIVE,
    })
}

/// The mode of `LOCK TABLE ... IN MODE` (libpg_query's `LockStmt.mode`, 1 = AccessShareLock ... 8).
pub fn lock_stmt_mode(mode: i32) -> Option<&'static str> {
    usize::try_from(mode)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| ORDER.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_lock_statement_modes() {
        assert_eq!(
            stronger(Some(SHARE.into()), Some(ACCESS_EXCLUSIVE)).as_deref(),
            Some(ACCESS_EXCLUSIVE)
        );
        assert_eq!(
            stronger(Some(ACCESS_EXCLUSIVE.into()), Some(SHARE)).as_deref(),
            Some(ACCESS_EXCLUSIVE)
        );
        assert_eq!(lock_stmt_mode(8), Some(ACCESS_EXCLUSIVE));
        assert_eq!(lock_stmt_mode(1), Some(ACCESS_SHARE));
        assert_eq!(lock_stmt_mode(0), None);
    }
}

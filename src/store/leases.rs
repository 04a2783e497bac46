//! The SQL of the lease methods that differs between databases: the
//! database's clock (leases expire by it, so that the instances' clocks
//! need not agree) and the insert that yields to an existing row. The
//! statements are written once here and in `statements.rs`.

pub(super) struct LeaseSql {
    /// The database's time now, UTC.
    pub now: &'static str,
    /// The database's time in `?` milliseconds (an integer), UTC, in the
    /// same form as `now` so that the two compare.
    pub later: &'static str,
    /// An `INSERT` that does nothing when the key exists: the statement's
    /// head, and its tail.
    pub insert_or_skip: &'static str,
    pub skip_on_conflict: &'static str,
    /// What locks the rows a `SELECT` read until the transaction ends (SQLite:
    /// nothing, its write transaction excludes every other writer).
    pub for_update: &'static str,
}

impl LeaseSql {
    /// Takes a lease nobody has: name, holder, ttl in milliseconds. No row
    /// inserted means somebody has it.
    pub fn insert(&self) -> String {
        format!(
            "{} INTO inspector_leases (name, holder, expires_at) VALUES (?, ?, {}){}",
            self.insert_or_skip, self.later, self.skip_on_conflict
        )
    }

    /// Takes a lease again for its holder, or over from an expired one:
    /// holder, ttl in milliseconds, name, holder.
    pub fn take_over(&self) -> String {
        format!(
            "UPDATE inspector_leases SET holder = ?, expires_at = {} \
             WHERE name = ? AND (holder = ? OR expires_at <= {})",
            self.later, self.now
        )
    }
}

/// Text timestamps, millisecond precision.
pub(super) const SQLITE: LeaseSql = LeaseSql {
    now: "strftime('%Y-%m-%d %H:%M:%f', 'now')",
    later: "strftime('%Y-%m-%d %H:%M:%f', 'now', '+' || (? / 1000.0) || ' seconds')",
    insert_or_skip: "INSERT",
    skip_on_conflict: " ON CONFLICT DO NOTHING",
    for_update: "",
};

/// The transaction's start time, the same in all of its statements.
pub(super) const POSTGRES: LeaseSql = LeaseSql {
    now: "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
    later: "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC') + CAST(? AS DOUBLE PRECISION) * INTERVAL '1 millisecond')",
    insert_or_skip: "INSERT",
    skip_on_conflict: " ON CONFLICT DO NOTHING",
    for_update: " FOR UPDATE",
};

/// `expires_at` is DATETIME(6) (migration 3 in server/mysql.rs).
pub(super) const MYSQL: LeaseSql = LeaseSql {
    now: "UTC_TIMESTAMP(6)",
    later: "TIMESTAMPADD(MICROSECOND, ? * 1000, UTC_TIMESTAMP(6))",
    insert_or_skip: "INSERT IGNORE",
    skip_on_conflict: "",
    for_update: " FOR UPDATE",
};

/// `ttl` in whole milliseconds, as `later` takes it.
pub(super) fn millis(ttl: std::time::Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

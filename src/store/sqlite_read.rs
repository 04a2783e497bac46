//! Reads of the SQLite backend, run on the caller's thread.
//!
//! sqlx drives every SQLite connection from a thread of its own, so each
//! query is a round trip between threads; for a 10 µs index lookup that
//! hand-off cost more than the query (docs/benchmarks-analysis.md). WAL lets
//! readers proceed while a writer holds the lock, so a read never waits on
//! another transaction and can run inline on the async task without
//! stalling the runtime. Writes may wait for the write lock (busy timeout),
//! which must not block a runtime thread: they stay on sqlx, but for the
//! few that run here when the lock is free (`sqlite_write`).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use inspector_core::ids::uuid_hex;
use inspector_core::state::State;
use inspector_core::timestamp;
use rusqlite::{Connection, OpenFlags, Row, params_from_iter};
use time::PrimitiveDateTime;

use super::rows::{RULE_ORDER, RULES_VERSION, attach_to_rules, params_from_text};
use super::{
    ActionRecord, ConditionRecord, ListQuery, NodeRecord, Result, RuleRecord, RuleSummary,
    RulesVersion, StoreError,
};

/// The stored UUID of the rule a client names, `?1` being the name and
/// `?2` its 32 hex digits (NULL when it is not UUID-like). A rule keeps the
/// UUID string its client gave (hex, hyphenated, upper case...), and any
/// form of that UUID finds it; an exact match wins, in a database where
/// upstream stored two forms of one UUID. The expression reduces a stored
/// UUID as `inspector_core::ids::uuid_hex` does; the table is small (rules
/// are written by hand), so its scan costs nothing.
pub(super) const FIND_RULE: &str = "SELECT uuid FROM rules \
     WHERE uuid = ?1 OR replace(replace(replace(replace(replace(lower(uuid), \
     'urn:', ''), 'uuid:', ''), '{', ''), '}', ''), '-', '') = ?2 \
     ORDER BY uuid = ?1 DESC, created_at, uuid LIMIT 1";

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &err
            && let Some(reason) = super::sqlx_errors::storage_fault_reason(e.extended_code & 0xff)
        {
            return StoreError::StorageFault {
                reason,
                source: err.into(),
            };
        }
        let unavailable = matches!(
            &err,
            rusqlite::Error::SqliteFailure(e, _) if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
            )
        );
        if unavailable {
            StoreError::Unavailable(err.into())
        } else {
            StoreError::Other(err.into())
        }
    }
}

/// SQLite allows at most 32766 bound variables; lookups are chunked well below.
const LOOKUP_CHUNK: usize = 200;

/// Prepared statements kept per connection. rusqlite's default, 16, is
/// fewer than the inline writer's 17 distinct statements, and an
/// introspection's finish runs most of them: they were evicted and parsed
/// again.
pub(super) const STATEMENT_CACHE: usize = 64;

/// Connections kept open between reads; more are opened under load and
/// closed when they come back to a full pool.
const MAX_IDLE: usize = 8;

const NODE_COLUMNS: &str = "uuid, state, started_at, finished_at, error, manage_boot";

pub(super) enum ActiveFilter {
    StartedBefore(PrimitiveDateTime),
    InStates(Vec<State>),
}

pub(super) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        Self {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(self.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // A reader must never write, even by mistake.
        conn.pragma_update(None, "query_only", true)?;
        Ok(conn)
    }

    /// Runs `f` on an idle connection, opening one if none is free.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    /// Closes the idle connections (the database is being closed).
    pub(super) fn close(&self) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub(super) fn get_node(&self, uuid: &str) -> Result<Option<NodeRecord>> {
        self.read(|conn| node_by_uuid(conn, uuid))
    }

    pub(super) fn list_nodes(&self, query: &ListQuery) -> Result<Vec<NodeRecord>> {
        self.read(|conn| {
            let marker = match &query.marker {
                Some(m) => Some(node_by_uuid(conn, m)?.ok_or_else(|| StoreError::NotFound {
                    what: "marker",
                    id: m.clone(),
                })?),
                None => None,
            };
            let (tail, values) = list_tail(query, marker.as_ref());
            nodes_where(conn, &tail, params_from_iter(values))
        })
    }

    pub(super) fn node_attributes(&self, uuid: &str) -> Result<Vec<(String, String)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT name, value FROM attributes WHERE node_uuid = ? AND value IS NOT NULL ORDER BY name, value",
            )?;
            let pairs = stmt
                .query_map([uuid], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(pairs)
        })
    }

    pub(super) fn find_by_attributes(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<(String, u32)>> {
        let mut unique: Vec<&(String, String)> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        unique.sort();
        unique.dedup();
        let mut scores: std::collections::BTreeMap<String, u32> = Default::default();
        self.read(|conn| {
            for chunk in unique.chunks(LOOKUP_CHUNK) {
                let clauses = vec!["(name = ? AND value = ?)"; chunk.len()].join(" OR ");
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT node_uuid, COUNT(*) FROM attributes WHERE {clauses} GROUP BY node_uuid"
                ))?;
                let values = chunk
                    .iter()
                    .flat_map(|(name, value)| [name.as_str(), value.as_str()]);
                let mut rows = stmt.query(params_from_iter(values))?;
                while let Some(row) = rows.next()? {
                    let uuid: Option<String> = row.get(0)?;
                    let score: i64 = row.get(1)?;
                    if let Some(uuid) = uuid {
                        *scores.entry(uuid).or_default() +=
                            u32::try_from(score).unwrap_or(u32::MAX);
                    }
                }
            }
            Ok(())
        })?;
        Ok(scores.into_iter().collect())
    }

    pub(super) fn active_macs(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT value FROM attributes WHERE name = 'mac' AND value IS NOT NULL",
            )?;
            let macs = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(macs)
        })
    }

    /// Unfinished nodes started before `before`, or in one of `states`.
    pub(super) fn active_nodes(&self, filter: &ActiveFilter) -> Result<Vec<NodeRecord>> {
        self.read(|conn| {
            let (clause, bound): (String, Vec<String>) = match filter {
                ActiveFilter::StartedBefore(t) => {
                    ("started_at < ?".into(), vec![timestamp::to_db(*t)])
                }
                ActiveFilter::InStates(states) => (
                    format!("state IN ({})", vec!["?"; states.len()].join(", ")),
                    states.iter().map(|s| s.as_str().to_string()).collect(),
                ),
            };
            nodes_where(
                conn,
                &format!("WHERE finished_at IS NULL AND {clause}"),
                params_from_iter(bound),
            )
        })
    }

    pub(super) fn count_by_state(&self) -> Result<Vec<(String, u64)>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT state, COUNT(*) FROM nodes GROUP BY state ORDER BY state",
            )?;
            let counts = stmt
                .query_map([], |r| {
                    Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(counts)
        })
    }

    pub(super) fn ping(&self) -> Result<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    pub(super) fn all_node_uuids(&self) -> Result<Vec<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT uuid FROM nodes")?;
            let uuids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(uuids)
        })
    }

    pub(super) fn any_active(&self) -> Result<bool> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM nodes WHERE finished_at IS NULL)",
                [],
                |r| r.get(0),
            )?)
        })
    }

    pub(super) fn get_data(&self, uuid: &str, processed: bool) -> Result<Option<String>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM introspection_data WHERE uuid = ? AND processed = ?",
            )?;
            let mut rows = stmt.query(rusqlite::params![uuid, processed])?;
            match rows.next()? {
                Some(row) => Ok(row.get(0)?),
                None => Ok(None),
            }
        })
    }

    pub(super) fn rules_version(&self) -> Result<RulesVersion> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(RULES_VERSION)?;
            let mut rows = stmt.query([])?;
            let row = rows
                .next()?
                .ok_or_else(|| StoreError::Corrupt("no row for the rules' version".into()))?;
            let newest: Option<String> = row.get(2)?;
            Ok(RulesVersion {
                generation: row.get(0)?,
                count: row.get(1)?,
                newest: parse_ts(newest.as_deref())?,
            })
        })
    }

    pub(super) fn list_rules(&self) -> Result<Vec<RuleSummary>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT uuid, description, scope FROM rules ORDER BY {RULE_ORDER}"
            ))?;
            let rules = stmt
                .query_map([], |r| {
                    Ok(RuleSummary {
                        uuid: r.get(0)?,
                        description: r.get(1)?,
                        scope: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rules)
        })
    }

    /// Rules with their conditions and actions: all, or the one named (in
    /// any form of its UUID, see [`FIND_RULE`]).
    pub(super) fn rules_where(&self, uuid: Option<&str>) -> Result<Vec<RuleRecord>> {
        self.read(|conn| {
            let stored = match uuid {
                Some(lookup) => {
                    let mut stmt = conn.prepare_cached(FIND_RULE)?;
                    let mut rows = stmt.query(rusqlite::params![lookup, uuid_hex(lookup)])?;
                    match rows.next()? {
                        Some(row) => Some(row.get::<_, String>(0)?),
                        None => return Ok(Vec::new()),
                    }
                }
                None => None,
            };
            let (filter, rule_filter) = match stored {
                Some(_) => ("WHERE uuid = ?", "WHERE rule = ?"),
                None => ("", ""),
            };
            let bound: Vec<&str> = stored.as_deref().into_iter().collect();
            let mut rules = Vec::new();
            {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT uuid, created_at, description, scope FROM rules {filter} ORDER BY {RULE_ORDER}"
                ))?;
                let mut rows = stmt.query(params_from_iter(&bound))?;
                while let Some(row) = rows.next()? {
                    let created: String = row.get(1)?;
                    rules.push(RuleRecord {
                        uuid: row.get(0)?,
                        created_at: parse_ts(Some(&created))?.unwrap_or(PrimitiveDateTime::MIN),
                        description: row.get(2)?,
                        scope: row.get(3)?,
                        conditions: Vec::new(),
                        actions: Vec::new(),
                    });
                }
            }
            if rules.is_empty() {
                return Ok(rules);
            }
            let mut conditions = Vec::new();
            {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT rule, op, multiple, invert, field, params FROM rule_conditions {rule_filter} ORDER BY id"
                ))?;
                let mut rows = stmt.query(params_from_iter(&bound))?;
                while let Some(row) = rows.next()? {
                    let invert: Option<bool> = row.get(3)?;
                    let field: Option<String> = row.get(4)?;
                    let condition = ConditionRecord {
                        op: row.get(1)?,
                        field: field.unwrap_or_default(),
                        multiple: row.get(2)?,
                        invert: invert.unwrap_or(false),
                        params: params_from_text(row.get(5)?)?,
                    };
                    conditions.push((row.get(0)?, condition));
                }
            }
            let mut actions = Vec::new();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT rule, action, params FROM rule_actions {rule_filter} ORDER BY id"
            ))?;
            let mut rows = stmt.query(params_from_iter(&bound))?;
            while let Some(row) = rows.next()? {
                let action = ActionRecord {
                    action: row.get(1)?,
                    params: params_from_text(row.get(2)?)?,
                };
                actions.push((row.get(0)?, action));
            }
            attach_to_rules(&mut rules, conditions, actions);
            Ok(rules)
        })
    }
}

pub(super) fn node_by_uuid(conn: &Connection, uuid: &str) -> Result<Option<NodeRecord>> {
    Ok(nodes_where(conn, "WHERE uuid = ?", [uuid])?.pop())
}

/// `nodes` rows selected by `tail` (a WHERE clause, ordering, limit).
/// The `WHERE ... ORDER BY ... LIMIT` of a list page, and its values.
pub(super) fn list_tail(
    query: &ListQuery,
    marker: Option<&NodeRecord>,
) -> (String, Vec<rusqlite::types::Value>) {
    let mut conditions = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if !query.states.is_empty() {
        conditions.push(format!(
            "state IN ({})",
            vec!["?"; query.states.len()].join(", ")
        ));
        values.extend(query.states.iter().map(|s| s.as_str().to_string().into()));
    }
    if let Some(marker) = marker {
        // A row value, not `a < ? OR (a = ? AND b < ?)`: SQLite seeks the
        // (started_at, uuid) index to it instead of scanning every newer
        // status, so a deep page costs what the first one does. NULLs
        // compare as in the OR form: neither keeps the row.
        conditions.push("(started_at, uuid) < (?, ?)".into());
        values.push(marker.started_at.map(timestamp::to_db).into());
        values.push(marker.uuid.clone().into());
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    values.push(i64::from(query.limit).into());
    (
        format!("{where_clause} ORDER BY started_at DESC, uuid DESC LIMIT ?"),
        values,
    )
}

fn nodes_where(
    conn: &Connection,
    tail: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<NodeRecord>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {NODE_COLUMNS} FROM nodes {tail}"))?;
    let mut rows = stmt.query(params)?;
    let mut nodes = Vec::new();
    while let Some(row) = rows.next()? {
        nodes.push(node_from_row(row)?);
    }
    Ok(nodes)
}

/// A `nodes` row selected with [`NODE_COLUMNS`], in that order.
fn node_from_row(row: &Row<'_>) -> Result<NodeRecord> {
    // Borrowed, not copied into Strings: a list page reads a thousand rows.
    let state_text = nodes_text(row, 1)?.unwrap_or_default();
    let state = State::from_str(state_text)
        .map_err(|_| StoreError::Corrupt(format!("unknown state {state_text:?} in nodes")))?;
    let manage_boot: Option<bool> = row.get(5)?;
    Ok(NodeRecord {
        uuid: row.get(0)?,
        state,
        started_at: parse_ts(nodes_text(row, 2)?)?,
        finished_at: parse_ts(nodes_text(row, 3)?)?,
        error: row.get(4)?,
        // Rows written before manage_boot existed mean "managed".
        manage_boot: manage_boot.unwrap_or(true),
    })
}

/// Column `index` of a nodes row as borrowed text, NULL as `None`.
fn nodes_text<'r>(row: &'r Row<'_>, index: usize) -> Result<Option<&'r str>> {
    row.get_ref(index)?
        .as_str_or_null()
        .map_err(|e| StoreError::Corrupt(format!("column {index} of nodes: {e}")))
}

pub(super) fn parse_ts(text: Option<&str>) -> Result<Option<PrimitiveDateTime>> {
    match text {
        None => Ok(None),
        Some(t) => timestamp::from_db(t)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("unreadable timestamp {t:?}"))),
    }
}

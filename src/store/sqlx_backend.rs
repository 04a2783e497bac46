//! The store over sqlx, compiled once per database: the including module
//! provides `Db` (sqlx's database type), `DIALECT`, and `db_time`, the
//! value a timestamp is bound as. The servers use all of it; SQLite its
//! writes and schema upgrades (its reads run on rusqlite, see
//! `sqlite_read.rs`). Every operation is one short transaction (or one
//! statement), run again by [`retrying`] on a deadlock, serialization
//! failure or lost connection.
//!
//! A transaction that ends early is rolled back before the error is
//! returned: a dropped one only queues its ROLLBACK on the connection,
//! which keeps its locks until that connection is next used.
//!
//! Compare-and-set writes (`update_state`, `finish`) update the node row
//! first, `WHERE state = from`: the row lock makes a concurrent writer
//! wait and then see the new state, so exactly one of two racing writers
//! wins, under READ COMMITTED (both servers here) as under SQLite.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use inspector_core::ids::uuid_hex;
use inspector_core::state::State;
use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Connection, Pool, Row, Transaction};
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::{DIALECT, Db, LEASE_SQL, db_time};
use crate::store::leases::millis;
use crate::store::rows::{RULE_ORDER, RULES_VERSION, attach_to_rules, params_from_text};
use crate::store::schema::MigrationReport;
use crate::store::server::batch::ReadQueue;
use crate::store::server::column_fit::{
    Capacity, TEXT, VARCHAR_255, check_storable, escape_astral_json, fit_text,
};
use crate::store::server::hot::{HotConnections, Reader};
use crate::store::server::retrying;
use crate::store::sqlx_errors::is_duplicate_index;
use crate::store::statements::{
    CLEAR_FINISHED, FINISH_NODE, FORGET_NODE, INSERT_ATTRIBUTE, INSERT_DATA, INSERT_NODE,
    INSERT_RUN, INSERT_RUN_WITH_DATA, LAST_RUN, PRUNE_RUNS, RELEASE_LEASE, UPDATE_STATE,
};
use crate::store::upgrade::{self, SchemaDef, SchemaSession};
use crate::store::{
    ActionRecord, ConditionRecord, KeepRun, LeaseRecord, ListQuery, NodeRecord, Result, RuleRecord,
    RuleSummary, RulesVersion, RunRecord, StoreBackend, StoreError, StoreFuture,
    TimestampPrecision,
};

#[path = "sqlx_bulk.rs"]
mod bulk;

type Tx<'c> = Transaction<'c, Db>;

/// Whether a lease's name starts with the prefix (bound twice). Prefixes
/// are ASCII, so that MySQL's LENGTH in bytes counts characters.
const PREFIX_MATCHES: &str = "substr(name, 1, length(?)) = ?";
type DbRow = <Db as sqlx::Database>::Row;

const NODE_COLUMNS: &str = "uuid, state, started_at, finished_at, error, manage_boot";

/// Lookup pairs per statement, well below every server's parameter limit.
const LOOKUP_CHUNK: usize = 200;

/// The stored UUID of the rule a client names (parameters: the name, its
/// 32 hex digits, the name again). A rule keeps the UUID string its client
/// gave, and any form of that UUID finds it, an exact match first (see
/// `inspector_core::ids::uuid_hex`, which the expression mirrors).
const FIND_RULE: &str = "SELECT uuid FROM rules \
     WHERE uuid = ? OR replace(replace(replace(replace(replace(lower(uuid), \
     'urn:', ''), 'uuid:', ''), '{', ''), '}', ''), '-', '') = ? \
     ORDER BY CASE WHEN uuid = ? THEN 0 ELSE 1 END, created_at, uuid LIMIT 1";

/// Text the service writes itself, as the column can hold it (see
/// `column_fit`).
fn ours(text: &str, capacity: Capacity) -> Cow<'_, str> {
    if DIALECT.nul_free && text.contains('\0') {
        let clean = text.replace('\0', "\u{FFFD}");
        return Cow::Owned(if limited(capacity) {
            fit_text(&clean, capacity, DIALECT.narrow_text).into_owned()
        } else {
            clean
        });
    }
    if limited(capacity) {
        fit_text(text, capacity, DIALECT.narrow_text)
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether this database limits what a column of `capacity` holds.
fn limited(capacity: Capacity) -> bool {
    DIALECT.narrow_text || (DIALECT.sized_varchar && matches!(capacity, Capacity::Chars(_)))
}

/// A JSON document as the column can hold it, meaning the same.
fn json_text(json: &str) -> Cow<'_, str> {
    if DIALECT.narrow_text {
        escape_astral_json(json)
    } else {
        Cow::Borrowed(json)
    }
}

/// A client's text: stored as it is, or refused naming `field`.
fn theirs(field: impl FnOnce() -> String, text: &str, capacity: Capacity) -> Result<()> {
    if DIALECT.nul_free && text.contains('\0') {
        return Err(StoreError::Unstorable {
            field: field(),
            reason: "it contains a NUL character, which this database's text columns cannot hold"
                .into(),
        });
    }
    if limited(capacity) {
        check_storable(&field(), text, capacity, DIALECT.narrow_text)
    } else {
        Ok(())
    }
}

/// A rule's parameters as stored: JSON, refused when too long.
fn rule_params(field: impl FnOnce() -> String, params: &Map<String, Value>) -> Result<String> {
    let text = Value::Object(params.clone()).to_string();
    let text = json_text(&text).into_owned();
    theirs(field, &text, TEXT)?;
    Ok(text)
}

fn sql(template: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(DIALECT.sql(template))
}

fn placeholders(template: &str, n: usize) -> String {
    vec![template; n].join(", ")
}

pub(super) struct SqlxStore {
    pub(super) pool: Pool<Db>,
    /// The servers' connections for the hot reads (`server/hot.rs`).
    hot: Option<HotConnections<Db>>,
    /// Status reads waiting for one of them (`server/batch.rs`).
    status_reads: ReadQueue<NodeRecord>,
}

impl SqlxStore {
    pub(super) fn new(pool: Pool<Db>) -> Self {
        Self {
            pool,
            hot: None,
            status_reads: ReadQueue::default(),
        }
    }

    #[allow(dead_code, reason = "the SQLite copy of this module has no hot set")]
    pub(super) fn with_hot(self, hot: Option<HotConnections<Db>>) -> Self {
        Self { hot, ..self }
    }

    /// A connection for a one-statement read that many requests make.
    async fn reader(&self) -> Result<Reader<'_, Db>> {
        Reader::get(self.hot.as_ref(), &self.pool).await
    }

    /// `get_node` through the queue of status reads (`server/batch.rs`):
    /// answered by whichever read runs the queue's statement when this one
    /// is waiting, itself or another, with the other waiting reads.
    async fn get_node_batched(
        &self,
        hot: &HotConnections<Db>,
        uuid: &str,
    ) -> Result<Option<NodeRecord>> {
        let mut answer = self.status_reads.join(uuid);
        loop {
            let lane = tokio::select! {
                biased;
                answered = &mut answer => match answered {
                    Ok(outcome) => return outcome,
                    // The read that took it was dropped midway.
                    Err(_) => {
                        answer = self.status_reads.join(uuid);
                        continue;
                    }
                },
                lane = self.status_reads.lane() => lane,
            };
            // Not raced with the answer: with the lane held, no other read
            // takes this one; and abandoning a checkout could drop a
            // connection being checked or opened (a new server session).
            let turn = hot.turn().await;
            let batch = self.status_reads.take();
            if batch.is_empty() {
                // Taken by a read that was dropped midway, which closed
                // this one's answer channel: then it joins again.
                drop((turn, lane));
                match (&mut answer).await {
                    Ok(outcome) => return outcome,
                    Err(_) => {
                        answer = self.status_reads.join(uuid);
                        continue;
                    }
                }
            }
            // A failure, no connection within `pool_timeout` included, is
            // every waiter's, rather than each waiting as long in turn.
            let rows = async {
                let mut conn = hot.connection(turn?).await?;
                let rows = Self::nodes_by_uuid(&mut conn, &batch.keys).await;
                conn.keep_if(rows)
            }
            .await;
            // Answered before the lane is let go (at the end of the loop's
            // turn): the next holder finds only reads this one left.
            batch.answer(&rows);
        }
    }

    /// The rows of the nodes `uuids` names, read in one statement, by the
    /// UUID asked for; each decoded or not.
    async fn nodes_by_uuid(
        conn: &mut <Db as sqlx::Database>::Connection,
        uuids: &[String],
    ) -> Result<HashMap<String, Result<NodeRecord>>> {
        // A few statement shapes (the count padded to a power of two, by
        // repeating a UUID), each prepared once per connection.
        let slots = uuids.len().next_power_of_two();
        let condition = if slots == 1 {
            "WHERE uuid = ?".to_string()
        } else {
            format!("WHERE uuid IN ({})", placeholders("?", slots))
        };
        let text = sql(&format!("SELECT {NODE_COLUMNS} FROM nodes {condition}"));
        let mut query = sqlx::query(text);
        for n in 0..slots {
            query = query.bind(&uuids[n.min(uuids.len() - 1)]);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let mut found = HashMap::with_capacity(uuids.len());
        for row in &rows {
            let stored: String = row.try_get("uuid")?;
            for asked in uuids {
                let same = if DIALECT.case_blind_keys {
                    asked.eq_ignore_ascii_case(&stored)
                } else {
                    *asked == stored
                };
                if same {
                    found.insert(asked.clone(), node_from_row(row));
                }
            }
        }
        Ok(found)
    }

    /// `list_nodes` on one connection.
    async fn list_on(
        conn: &mut <Db as sqlx::Database>::Connection,
        query: &ListQuery,
    ) -> Result<Vec<NodeRecord>> {
        let marker = match &query.marker {
            Some(m) => Some(
                Self::nodes_where(&mut *conn, "WHERE uuid = ?", |q| q.bind(m))
                    .await?
                    .pop()
                    .ok_or_else(|| StoreError::NotFound {
                        what: "marker",
                        id: m.clone(),
                    })?,
            ),
            None => None,
        };
        let mut conditions = Vec::new();
        if !query.states.is_empty() {
            conditions.push(format!(
                "state IN ({})",
                placeholders("?{state}", query.states.len())
            ));
        }
        if marker.is_some() {
            conditions.push("(started_at < ? OR (started_at = ? AND uuid < ?))".to_string());
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let tail =
            format!("{where_clause} ORDER BY started_at DESC{{nulls_last}}, uuid DESC LIMIT ?");
        Self::nodes_where(conn, &tail, |mut q| {
            for state in &query.states {
                q = q.bind(state.as_str());
            }
            if let Some(marker) = &marker {
                q = q
                    .bind(marker.started_at.map(db_time))
                    .bind(marker.started_at.map(db_time))
                    .bind(marker.uuid.clone());
            }
            q.bind(i64::from(query.limit))
        })
        .await
    }

    /// The nodes a `WHERE`/`ORDER BY` tail selects, on `executor` (the
    /// pool, or a connection).
    async fn nodes_where<'e>(
        executor: impl sqlx::Executor<'e, Database = Db>,
        tail: &str,
        bind: impl FnOnce(
            sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments>,
        ) -> sqlx::query::Query<'_, Db, <Db as sqlx::Database>::Arguments>,
    ) -> Result<Vec<NodeRecord>> {
        let text = sql(&format!("SELECT {NODE_COLUMNS} FROM nodes {tail}"));
        let rows = bind(sqlx::query(text)).fetch_all(executor).await?;
        rows.iter().map(node_from_row).collect()
    }

    /// A transaction that will write: SQLite takes its write lock at the
    /// start, so that it never fails to upgrade a read lock later.
    async fn write_tx(&self) -> Result<Tx<'static>> {
        Ok(match DIALECT.begin_write {
            Some(begin) => self.pool.begin_with(begin).await?,
            None => self.pool.begin().await?,
        })
    }

    async fn delete_node_rows(tx: &mut Tx<'_>, uuid: &str) -> Result<()> {
        for statement in CLEAR_FINISHED.into_iter().chain(FORGET_NODE) {
            sqlx::query(sql(statement))
                .bind(uuid)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn insert_attributes<'p>(
        tx: &mut Tx<'_>,
        uuid: &str,
        attributes: impl Iterator<Item = (&'p str, &'p str)>,
    ) -> Result<()> {
        for (name, value) in attributes {
            sqlx::query(sql(INSERT_ATTRIBUTE))
                .bind(Uuid::new_v4().to_string())
                .bind(uuid)
                .bind(ours(name, VARCHAR_255))
                .bind(ours(value, VARCHAR_255))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Copies the node's row as it is now into its history (see
    /// `finish_keeping`).
    async fn keep_run(tx: &mut Tx<'_>, uuid: &str, keep: KeepRun<'_>) -> Result<()> {
        let text = sql(&format!("SELECT {NODE_COLUMNS} FROM nodes WHERE uuid = ?"));
        let row = sqlx::query(text).bind(uuid).fetch_one(&mut **tx).await?;
        let node = node_from_row(&row)?;
        let last: Option<i64> = sqlx::query_scalar(sql(LAST_RUN))
            .bind(uuid)
            .fetch_one(&mut **tx)
            .await?;
        let run = last.unwrap_or(0) + 1;
        let insert = if keep.with_data {
            INSERT_RUN_WITH_DATA
        } else {
            INSERT_RUN
        };
        let mut insert = sqlx::query(sql(insert))
            .bind(keep.id)
            .bind(uuid)
            .bind(run)
            .bind(node.state.as_str())
            .bind(node.error.as_deref().map(|e| ours(e, TEXT)))
            .bind(node.started_at.map(db_time))
            .bind(node.finished_at.map(db_time));
        if keep.with_data {
            insert = insert.bind(uuid).bind(true);
        }
        insert.execute(&mut **tx).await?;
        sqlx::query(sql(PRUNE_RUNS))
            .bind(uuid)
            .bind(run - i64::from(keep.depth.max(1)))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Marks a rule write for [`StoreBackend::rules_version`], last in the
    /// write's transaction (the same order everywhere, against deadlocks).
    async fn bump_rules_version(tx: &mut Tx<'_>) -> Result<()> {
        sqlx::query("UPDATE inspector_rules_version SET generation = generation + 1")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn find_rule(
        executor: impl sqlx::Executor<'_, Database = Db>,
        uuid: &str,
    ) -> Result<Option<String>> {
        // PostgreSQL refuses a NUL in text (an error, not "no row"), and no
        // stored rule UUID holds one.
        if uuid.contains('\0') {
            return Ok(None);
        }
        Ok(sqlx::query_scalar(sql(FIND_RULE))
            .bind(uuid)
            .bind(uuid_hex(uuid))
            .bind(uuid)
            .fetch_optional(executor)
            .await?)
    }

    /// Rules with their conditions and actions: all, or the one stored
    /// under `stored`.
    async fn rules_where(&self, stored: Option<&str>) -> Result<Vec<RuleRecord>> {
        let (filter, rule_filter) = match stored {
            Some(_) => ("WHERE uuid = ?", "WHERE rule = ?"),
            None => ("", ""),
        };
        let select = |template: String| {
            let query = sqlx::query(sql(&template));
            match stored {
                Some(uuid) => query.bind(uuid),
                None => query,
            }
        };
        let mut tx = self.pool.begin().await?;
        let rows = select(format!(
            "SELECT uuid, created_at, description, scope FROM rules {filter} ORDER BY {RULE_ORDER}"
        ))
        .fetch_all(&mut *tx)
        .await?;
        let mut rules = rows
            .iter()
            .map(|row| {
                Ok(RuleRecord {
                    uuid: row.try_get("uuid")?,
                    created_at: row.try_get("created_at")?,
                    description: row.try_get("description")?,
                    scope: row.try_get("scope")?,
                    conditions: Vec::new(),
                    actions: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if rules.is_empty() {
            // Ended here, not left to the drop: a dropped transaction is only
            // rolled back when its connection is next used, and until then
            // MySQL keeps its metadata locks (a DROP or ALTER would wait).
            tx.commit().await?;
            return Ok(rules);
        }
        let conditions = select(format!(
            "SELECT rule, op, multiple, invert, field, params FROM rule_conditions {rule_filter} ORDER BY id"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            let invert: Option<bool> = row.try_get("invert")?;
            let field: Option<String> = row.try_get("field")?;
            let condition = ConditionRecord {
                op: row.try_get("op")?,
                field: field.unwrap_or_default(),
                multiple: row.try_get("multiple")?,
                invert: invert.unwrap_or(false),
                params: params_from_text(row.try_get("params")?)?,
            };
            Ok((row.try_get("rule")?, condition))
        })
        .collect::<Result<Vec<_>>>()?;
        let actions = select(format!(
            "SELECT rule, action, params FROM rule_actions {rule_filter} ORDER BY id"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            let action = ActionRecord {
                action: row.try_get("action")?,
                params: params_from_text(row.try_get("params")?)?,
            };
            Ok((row.try_get("rule")?, action))
        })
        .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        attach_to_rules(&mut rules, conditions, actions);
        Ok(rules)
    }

    async fn upgrade_once(&self) -> Result<MigrationReport> {
        let mut conn = self.pool.acquire().await?;
        let outcome = async {
            let mut tx = match DIALECT.begin_write {
                Some(begin) => conn.begin_with(begin).await?,
                None => conn.begin().await?,
            };
            if let Some(lock) = DIALECT.upgrade_lock {
                sqlx::raw_sql(lock).execute(&mut *tx).await?;
            }
            let base = (DIALECT.base_ddl)();
            let report = upgrade::upgrade(&mut tx, &schema_def(&base)).await?;
            tx.commit().await?;
            Ok(report)
        }
        .await;
        if let Some(unlock) = DIALECT.upgrade_unlock {
            sqlx::raw_sql(unlock).execute(&mut *conn).await?;
        }
        outcome
    }
}

/// A rule's columns checked against what the database can hold, with its
/// parameters serialised.
struct StoredRule {
    condition_params: Vec<String>,
    action_params: Vec<String>,
}

impl StoredRule {
    fn new(rule: &RuleRecord) -> Result<Self> {
        if let Some(description) = &rule.description {
            theirs(|| "Rule description".into(), description, TEXT)?;
        }
        if let Some(scope) = &rule.scope {
            theirs(|| "Rule scope".into(), scope, VARCHAR_255)?;
        }
        let mut condition_params = Vec::with_capacity(rule.conditions.len());
        for (i, cond) in rule.conditions.iter().enumerate() {
            theirs(|| format!("Condition {i} op"), &cond.op, VARCHAR_255)?;
            theirs(
                || format!("Condition {i} multiple"),
                &cond.multiple,
                VARCHAR_255,
            )?;
            theirs(|| format!("Condition {i} field"), &cond.field, TEXT)?;
            condition_params.push(rule_params(
                || format!("Condition {i} parameters"),
                &cond.params,
            )?);
        }
        let mut action_params = Vec::with_capacity(rule.actions.len());
        for (i, action) in rule.actions.iter().enumerate() {
            theirs(|| format!("Action {i} action"), &action.action, VARCHAR_255)?;
            action_params.push(rule_params(
                || format!("Action {i} parameters"),
                &action.params,
            )?);
        }
        Ok(Self {
            condition_params,
            action_params,
        })
    }
}

fn schema_def<'s>(base: &'s [&'s str]) -> SchemaDef<'s> {
    SchemaDef {
        base,
        migrations_table: DIALECT.migrations_table,
        migrations: (DIALECT.migrations)(),
    }
}

/// A `nodes` row selected with [`NODE_COLUMNS`].
fn node_from_row(row: &DbRow) -> Result<NodeRecord> {
    // PostgreSQL's column is an enum type, which sqlx does not decode as a
    // string unchecked; its text is the label either way.
    let state_text: String = row.try_get_unchecked("state")?;
    let state = State::from_str(&state_text)
        .map_err(|_| StoreError::Corrupt(format!("unknown state {state_text:?} in nodes")))?;
    let manage_boot: Option<bool> = row.try_get("manage_boot")?;
    Ok(NodeRecord {
        uuid: row.try_get("uuid")?,
        state,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        error: row.try_get("error")?,
        // Rows written before manage_boot existed mean "managed".
        manage_boot: manage_boot.unwrap_or(true),
    })
}

impl SchemaSession for Tx<'_> {
    fn table_exists<'a>(&'a mut self, name: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let n: i64 = sqlx::query_scalar(sql(DIALECT.count_tables))
                .bind(name)
                .fetch_one(&mut **self)
                .await?;
            Ok(n > 0)
        })
    }

    fn execute<'a>(&'a mut self, statement: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match sqlx::raw_sql(AssertSqlSafe(statement))
                .execute(&mut **self)
                .await
            {
                // MySQL commits each DDL statement and has no CREATE INDEX
                // IF NOT EXISTS: an upgrade stopped midway left the indexes
                // it made, without the record of its migration.
                Err(e) if is_duplicate_index(&e) => Ok(()),
                done => done.map(|_| ()).map_err(Into::into),
            }
        })
    }

    fn alembic_row(&mut self) -> StoreFuture<'_, Option<String>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT version_num FROM alembic_version")
                    .fetch_optional(&mut **self)
                    .await?,
            )
        })
    }

    fn applied_versions(&mut self) -> StoreFuture<'_, Vec<i64>> {
        Box::pin(async move {
            let versions: Vec<i32> = sqlx::query_scalar("SELECT version FROM inspector_migrations")
                .fetch_all(&mut **self)
                .await?;
            Ok(versions.into_iter().map(i64::from).collect())
        })
    }

    fn record_migration<'a>(
        &'a mut self,
        version: i64,
        description: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let now = time::OffsetDateTime::now_utc();
            sqlx::query(sql(
                "INSERT INTO inspector_migrations (version, description, applied_at) VALUES (?, ?, ?)",
            ))
            .bind(i32::try_from(version).unwrap_or(i32::MAX))
            .bind(description)
            .bind(db_time(PrimitiveDateTime::new(now.date(), now.time())))
            .execute(&mut **self)
            .await?;
            Ok(())
        })
    }
}

impl StoreBackend for SqlxStore {
    fn upgrade(&self) -> StoreFuture<'_, MigrationReport> {
        Box::pin(retrying(move || self.upgrade_once()))
    }

    fn check_schema(&self) -> StoreFuture<'_, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.pool.begin().await?;
            let base = (DIALECT.base_ddl)();
            upgrade::check(&mut tx, &schema_def(&base)).await
        }))
    }

    fn get_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<NodeRecord>> {
        Box::pin(retrying(move || async move {
            if let Some(hot) = &self.hot
                && ReadQueue::<NodeRecord>::batchable(uuid)
            {
                return self.get_node_batched(hot, uuid).await;
            }
            let mut conn = self.reader().await?;
            let nodes = Self::nodes_where(&mut *conn, "WHERE uuid = ?", |q| q.bind(uuid)).await;
            Ok(conn.keep_if(nodes)?.pop())
        }))
    }

    fn list_nodes<'a>(&'a self, query: &'a ListQuery) -> StoreFuture<'a, Vec<NodeRecord>> {
        Box::pin(retrying(move || async move {
            let mut conn = self.reader().await?;
            let listed = Self::list_on(&mut conn, query).await;
            conn.keep_if(listed)
        }))
    }

    fn add_node<'a>(
        &'a self,
        node: &'a NodeRecord,
        attributes: &'a [(&'a str, &'a str)],
    ) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            Self::delete_node_rows(&mut tx, &node.uuid).await?;
            sqlx::query(sql(INSERT_NODE))
                .bind(&node.uuid)
                .bind(node.state.as_str())
                .bind(node.started_at.map(db_time))
                .bind(node.finished_at.map(db_time))
                .bind(node.error.as_deref().map(|e| ours(e, TEXT)))
                .bind(node.manage_boot)
                .execute(&mut *tx)
                .await?;
            Self::insert_attributes(
                &mut tx,
                &node.uuid,
                attributes.iter().copied().filter(|(_, v)| !v.is_empty()),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    fn update_state<'a>(&'a self, uuid: &'a str, from: State, to: State) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let done = sqlx::query(sql(UPDATE_STATE))
                .bind(to.as_str())
                .bind(uuid)
                .bind(from.as_str())
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::node_conflict(uuid));
            }
            Ok(())
        }))
    }

    fn finish_keeping<'a>(
        &'a self,
        uuid: &'a str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&'a str>,
        keep: Option<KeepRun<'a>>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            let done = sqlx::query(sql(FINISH_NODE))
                .bind(to.as_str())
                .bind(db_time(finished_at))
                .bind(error.map(|e| ours(e, TEXT)))
                .bind(uuid)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::node_conflict(uuid));
            }
            for statement in CLEAR_FINISHED {
                sqlx::query(sql(statement))
                    .bind(uuid)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(keep) = keep {
                Self::keep_run(&mut tx, uuid, keep).await?;
            }
            tx.commit().await?;
            Ok(())
        }))
    }

    fn set_started_at<'a>(
        &'a self,
        uuid: &'a str,
        started_at: PrimitiveDateTime,
    ) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            // MySQL counts only changed rows: a node that exists but
            // already has this start is found by the SELECT.
            let done = sqlx::query(sql("UPDATE nodes SET started_at = ? WHERE uuid = ?"))
                .bind(db_time(started_at))
                .bind(uuid)
                .execute(&self.pool)
                .await?;
            if done.rows_affected() == 0 && self.get_node(uuid).await?.is_none() {
                return Err(StoreError::NotFound {
                    what: "node",
                    id: uuid.to_string(),
                });
            }
            Ok(())
        }))
    }

    fn delete_node<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            Self::delete_node_rows(&mut tx, uuid).await?;
            // Not in delete_node_rows: a new introspection keeps the history.
            sqlx::query(sql("DELETE FROM inspector_history WHERE node_uuid = ?"))
                .bind(uuid)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    fn add_attributes<'a>(
        &'a self,
        uuid: &'a str,
        name: &'a str,
        values: &'a [String],
    ) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            Self::insert_attributes(
                &mut tx,
                uuid,
                values
                    .iter()
                    .filter(|v| !v.is_empty())
                    .map(|v| (name, v.as_str())),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    fn node_attributes<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<(String, String)>> {
        Box::pin(retrying(move || async move {
            let rows = sqlx::query(sql(
                "SELECT name, value FROM attributes WHERE node_uuid = ? AND value IS NOT NULL \
                 ORDER BY name, value",
            ))
            .bind(uuid)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
                .collect()
        }))
    }

    fn find_by_attributes<'a>(
        &'a self,
        pairs: &'a [(String, String)],
    ) -> StoreFuture<'a, Vec<(String, u32)>> {
        Box::pin(retrying(move || async move {
            let mut unique: Vec<&(String, String)> =
                pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
            unique.sort();
            unique.dedup();
            let mut scores: std::collections::BTreeMap<String, u32> = Default::default();
            let mut conn = self.reader().await?;
            for chunk in unique.chunks(LOOKUP_CHUNK) {
                let clauses = vec!["(name = ? AND value = ?)"; chunk.len()].join(" OR ");
                let text = sql(&format!(
                    "SELECT node_uuid, COUNT(*) AS n FROM attributes WHERE {clauses} GROUP BY node_uuid"
                ));
                let mut query = sqlx::query(text);
                // Fitted as they were when stored, so that they still match.
                for (name, value) in chunk {
                    query = query
                        .bind(ours(name, VARCHAR_255))
                        .bind(ours(value, VARCHAR_255));
                }
                let rows = query.fetch_all(&mut *conn).await.map_err(StoreError::from);
                let rows = match rows {
                    Ok(rows) => rows,
                    Err(err) => return conn.keep_if(Err(err)),
                };
                for row in rows {
                    let uuid: Option<String> = row.try_get("node_uuid")?;
                    let score: i64 = row.try_get("n")?;
                    if let Some(uuid) = uuid {
                        *scores.entry(uuid).or_default() +=
                            u32::try_from(score).unwrap_or(u32::MAX);
                    }
                }
            }
            conn.keep_if(Ok(scores.into_iter().collect()))
        }))
    }

    fn active_macs(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(retrying(move || async move {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT value FROM attributes WHERE name = 'mac' AND value IS NOT NULL",
            )
            .fetch_all(&self.pool)
            .await?)
        }))
    }

    fn active_started_before(&self, before: PrimitiveDateTime) -> StoreFuture<'_, Vec<NodeRecord>> {
        Box::pin(retrying(move || async move {
            Self::nodes_where(
                &self.pool,
                "WHERE finished_at IS NULL AND started_at < ?",
                |q| q.bind(db_time(before)),
            )
            .await
        }))
    }

    fn active_nodes_in<'a>(&'a self, states: &'a [State]) -> StoreFuture<'a, Vec<NodeRecord>> {
        Box::pin(retrying(move || async move {
            if states.is_empty() {
                return Ok(Vec::new());
            }
            let tail = format!(
                "WHERE finished_at IS NULL AND state IN ({})",
                placeholders("?{state}", states.len())
            );
            Self::nodes_where(&self.pool, &tail, |mut q| {
                for state in states {
                    q = q.bind(state.as_str());
                }
                q
            })
            .await
        }))
    }

    fn count_by_state(&self) -> StoreFuture<'_, Vec<(String, u64)>> {
        Box::pin(retrying(move || async move {
            let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM nodes GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
            let mut counts = rows
                .iter()
                .map(|r| {
                    let n: i64 = r.try_get("n")?;
                    Ok((r.try_get_unchecked("state")?, u64::try_from(n).unwrap_or(0)))
                })
                .collect::<Result<Vec<(String, u64)>>>()?;
            // By name: an enum column sorts in declaration order.
            counts.sort();
            Ok(counts)
        }))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::raw_sql("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
    }

    fn timestamp_precision(&self) -> TimestampPrecision {
        DIALECT.precision
    }

    fn all_node_uuids(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(retrying(move || async move {
            Ok(sqlx::query_scalar("SELECT uuid FROM nodes")
                .fetch_all(&self.pool)
                .await?)
        }))
    }

    fn any_active(&self) -> StoreFuture<'_, bool> {
        Box::pin(retrying(move || async move {
            let row = sqlx::query("SELECT 1 AS x FROM nodes WHERE finished_at IS NULL LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.is_some())
        }))
    }

    fn store_data<'a>(
        &'a self,
        uuid: &'a str,
        processed: bool,
        data: &'a str,
    ) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let text = sql(&format!("{INSERT_DATA}{}", DIALECT.upsert_data));
            sqlx::query(text)
                .bind(uuid)
                .bind(processed)
                .bind(json_text(data))
                .execute(&self.pool)
                .await?;
            Ok(())
        }))
    }

    fn get_data<'a>(&'a self, uuid: &'a str, processed: bool) -> StoreFuture<'a, Option<String>> {
        Box::pin(retrying(move || async move {
            let mut conn = self.reader().await?;
            let data: Result<Option<Option<String>>> = sqlx::query_scalar(sql(
                "SELECT data FROM introspection_data WHERE uuid = ? AND processed = ?",
            ))
            .bind(uuid)
            .bind(processed)
            .fetch_optional(&mut *conn)
            .await
            .map_err(Into::into);
            Ok(conn.keep_if(data)?.flatten())
        }))
    }

    fn runs<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Vec<RunRecord>> {
        Box::pin(retrying(move || async move {
            let rows = sqlx::query(sql(
                "SELECT id, node_uuid, state, error, started_at, finished_at, \
                 CASE WHEN data IS NULL THEN 'n' ELSE 'y' END AS has_data \
                 FROM inspector_history WHERE node_uuid = ? ORDER BY run DESC",
            ))
            .bind(uuid)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let state_text: String = row.try_get("state")?;
                    let state = State::from_str(&state_text).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "unknown state {state_text:?} in inspector_history"
                        ))
                    })?;
                    Ok(RunRecord {
                        id: row.try_get("id")?,
                        node_uuid: row.try_get("node_uuid")?,
                        state,
                        error: row.try_get("error")?,
                        started_at: row.try_get("started_at")?,
                        finished_at: row.try_get("finished_at")?,
                        has_data: row.try_get::<String, _>("has_data")? == "y",
                    })
                })
                .collect()
        }))
    }

    fn run_data<'a>(
        &'a self,
        uuid: &'a str,
        id: &'a str,
    ) -> StoreFuture<'a, Option<Option<String>>> {
        Box::pin(retrying(move || async move {
            Ok(sqlx::query_scalar(sql(
                "SELECT data FROM inspector_history WHERE node_uuid = ? AND id = ?",
            ))
            .bind(uuid)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
        }))
    }

    fn create_rule<'a>(&'a self, rule: &'a RuleRecord) -> StoreFuture<'a, ()> {
        Box::pin(retrying(move || async move {
            let stored = StoredRule::new(rule)?;
            let duplicate = || StoreError::Duplicate {
                what: "rule",
                id: rule.uuid.clone(),
            };
            let mut tx = self.write_tx().await?;
            if let Some(serialize) = DIALECT.serialize_rules {
                sqlx::raw_sql(serialize).execute(&mut *tx).await?;
            }
            // The same UUID in another form is the same rule.
            if Self::find_rule(&mut *tx, &rule.uuid).await?.is_some() {
                tx.rollback().await?;
                return Err(duplicate());
            }
            let inserted = sqlx::query(sql(
                "INSERT INTO rules (uuid, created_at, description, disabled, scope) \
                 VALUES (?, ?, ?, ?, ?)",
            ))
            .bind(&rule.uuid)
            .bind(db_time(rule.created_at))
            .bind(&rule.description)
            .bind(false)
            .bind(&rule.scope)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(err)
                    if err
                        .as_database_error()
                        .is_some_and(|e| e.is_unique_violation()) =>
                {
                    tx.rollback().await?;
                    return Err(duplicate());
                }
                other => other?,
            };
            for (cond, params) in rule.conditions.iter().zip(stored.condition_params) {
                sqlx::query(sql(
                    "INSERT INTO rule_conditions (rule, op, multiple, invert, field, params) \
                     VALUES (?, ?, ?, ?, ?, ?)",
                ))
                .bind(&rule.uuid)
                .bind(&cond.op)
                .bind(&cond.multiple)
                .bind(cond.invert)
                .bind(&cond.field)
                .bind(params)
                .execute(&mut *tx)
                .await?;
            }
            for (action, params) in rule.actions.iter().zip(stored.action_params) {
                sqlx::query(sql(
                    "INSERT INTO rule_actions (rule, action, params) VALUES (?, ?, ?)",
                ))
                .bind(&rule.uuid)
                .bind(&action.action)
                .bind(params)
                .execute(&mut *tx)
                .await?;
            }
            Self::bump_rules_version(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    fn list_rules(&self) -> StoreFuture<'_, Vec<RuleSummary>> {
        Box::pin(retrying(move || async move {
            let rows = sqlx::query(sql(&format!(
                "SELECT uuid, description, scope FROM rules ORDER BY {RULE_ORDER}"
            )))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(RuleSummary {
                        uuid: r.try_get("uuid")?,
                        description: r.try_get("description")?,
                        scope: r.try_get("scope")?,
                    })
                })
                .collect()
        }))
    }

    fn all_rules(&self) -> StoreFuture<'_, Vec<RuleRecord>> {
        Box::pin(retrying(move || self.rules_where(None)))
    }

    fn rules_version(&self) -> StoreFuture<'_, RulesVersion> {
        Box::pin(retrying(move || async move {
            let row = sqlx::query(RULES_VERSION).fetch_one(&self.pool).await?;
            Ok(RulesVersion {
                generation: row.try_get(0)?,
                count: row.try_get(1)?,
                newest: row.try_get(2)?,
            })
        }))
    }

    fn get_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, Option<RuleRecord>> {
        Box::pin(retrying(move || async move {
            let Some(stored) = Self::find_rule(&self.pool, uuid).await? else {
                return Ok(None);
            };
            Ok(self.rules_where(Some(&stored)).await?.into_iter().next())
        }))
    }

    fn delete_rule<'a>(&'a self, uuid: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            let Some(stored) = Self::find_rule(&mut *tx, uuid).await? else {
                tx.rollback().await?;
                return Ok(false);
            };
            for statement in [
                "DELETE FROM rule_conditions WHERE rule = ?",
                "DELETE FROM rule_actions WHERE rule = ?",
            ] {
                sqlx::query(sql(statement))
                    .bind(&stored)
                    .execute(&mut *tx)
                    .await?;
            }
            let done = sqlx::query(sql("DELETE FROM rules WHERE uuid = ?"))
                .bind(&stored)
                .execute(&mut *tx)
                .await?;
            Self::bump_rules_version(&mut tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected() > 0)
        }))
    }

    fn delete_all_rules(&self) -> StoreFuture<'_, ()> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            for statement in [
                "DELETE FROM rule_conditions",
                "DELETE FROM rule_actions",
                "DELETE FROM rules",
            ] {
                sqlx::query(statement).execute(&mut *tx).await?;
            }
            Self::bump_rules_version(&mut tx).await?;
            tx.commit().await?;
            Ok(())
        }))
    }

    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(retrying(move || async move {
            // Two statements, each atomic, and no transaction around them.
            // Released leases are deleted, so the usual acquisition is the
            // insert alone: one statement where a transaction took four
            // (a hop to SQLite's worker thread, or a round trip to a server,
            // each). A lease released between the two statements was held
            // when the insert ran, and reads as held: the caller waits and
            // tries again, as for any busy node.
            let mut conn = self.pool.acquire().await?;
            let inserted = sqlx::query(sql(&LEASE_SQL.insert()))
                .bind(name)
                .bind(holder)
                .bind(millis(ttl))
                .execute(&mut *conn)
                .await?
                .rows_affected()
                > 0;
            if inserted {
                return Ok(true);
            }
            // Taken again by its holder, or over from an expired one.
            let taken = sqlx::query(sql(&LEASE_SQL.take_over()))
                .bind(holder)
                .bind(millis(ttl))
                .bind(name)
                .bind(holder)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                > 0;
            Ok(taken)
        }))
    }

    fn renew_leases<'a>(&'a self, holder: &'a str, ttl: Duration) -> StoreFuture<'a, Vec<String>> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            // An expired lease nobody took yet is still this holder's: the
            // takeover and this update are serialized by the database.
            sqlx::query(sql(&format!(
                "UPDATE inspector_leases SET expires_at = {later} WHERE holder = ?",
                later = LEASE_SQL.later
            )))
            .bind(millis(ttl))
            .bind(holder)
            .execute(&mut *tx)
            .await?;
            let names = sqlx::query_scalar(sql(
                "SELECT name FROM inspector_leases WHERE holder = ? ORDER BY name",
            ))
            .bind(holder)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(names)
        }))
    }

    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(retrying(move || async move {
            let done = sqlx::query(sql(RELEASE_LEASE))
                .bind(name)
                .bind(holder)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        }))
    }

    fn release_all_leases<'a>(&'a self, holder: &'a str) -> StoreFuture<'a, u64> {
        Box::pin(retrying(move || async move {
            let done = sqlx::query(sql("DELETE FROM inspector_leases WHERE holder = ?"))
                .bind(holder)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected())
        }))
    }

    fn take_expired_leases<'a>(
        &'a self,
        prefix: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Vec<LeaseRecord>> {
        Box::pin(retrying(move || async move {
            let mut tx = self.write_tx().await?;
            let rows = sqlx::query(sql(&format!(
                "SELECT name, holder FROM inspector_leases \
                 WHERE {prefix_matches} AND expires_at <= {now} ORDER BY name{for_update}",
                prefix_matches = PREFIX_MATCHES,
                now = LEASE_SQL.now,
                for_update = LEASE_SQL.for_update,
            )))
            .bind(prefix)
            .bind(prefix)
            .fetch_all(&mut *tx)
            .await?;
            let mut taken = Vec::with_capacity(rows.len());
            for row in &rows {
                let lease = LeaseRecord {
                    name: row.try_get("name")?,
                    holder: row.try_get("holder")?,
                    expired: true,
                };
                sqlx::query(sql(&format!(
                    "UPDATE inspector_leases SET holder = ?, expires_at = {later} WHERE name = ?",
                    later = LEASE_SQL.later
                )))
                .bind(holder)
                .bind(millis(ttl))
                .bind(&lease.name)
                .execute(&mut *tx)
                .await?;
                taken.push(lease);
            }
            tx.commit().await?;
            Ok(taken)
        }))
    }

    fn leases<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<LeaseRecord>> {
        Box::pin(retrying(move || async move {
            // The comparison as text: the servers type a boolean expression
            // differently.
            let rows = sqlx::query(sql(&format!(
                "SELECT name, holder, CASE WHEN expires_at <= {now} THEN 'y' ELSE 'n' END AS expired \
                 FROM inspector_leases WHERE {prefix_matches} ORDER BY name",
                prefix_matches = PREFIX_MATCHES,
                now = LEASE_SQL.now,
            )))
            .bind(prefix)
            .bind(prefix)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(LeaseRecord {
                        name: row.try_get("name")?,
                        holder: row.try_get("holder")?,
                        expired: row.try_get::<String, _>("expired")? == "y",
                    })
                })
                .collect()
        }))
    }

    fn close(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Some(hot) = &self.hot {
                hot.close().await;
            }
            self.pool.close().await
        })
    }

    fn read_page<'a>(
        &'a self,
        table: &'static crate::store::bulk::Table,
        after: Option<&'a [crate::store::bulk::Cell]>,
        limit: u32,
    ) -> StoreFuture<'a, Vec<crate::store::bulk::Row>> {
        Box::pin(self.read_bulk_page(table, after, limit))
    }

    fn count_rows(&self, table: &'static crate::store::bulk::Table) -> StoreFuture<'_, u64> {
        Box::pin(self.count_bulk_rows(table))
    }

    fn has_table(&self, table: &'static crate::store::bulk::Table) -> StoreFuture<'_, bool> {
        Box::pin(self.has_bulk_table(table))
    }

    fn begin_load(&self) -> StoreFuture<'_, Box<dyn crate::store::bulk::BulkLoad>> {
        Box::pin(self.begin_bulk_load())
    }
}

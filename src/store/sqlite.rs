//! SQLite backend: WAL, a busy timeout, `BEGIN IMMEDIATE` for every
//! read-then-write transaction (a deferred one can fail with SQLITE_BUSY on
//! upgrade even with a busy timeout), and short transactions.

use std::str::FromStr;
use std::time::Duration;

use inspector_core::state::State;
use inspector_core::timestamp;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use time::PrimitiveDateTime;
use uuid::Uuid;

use super::schema::{
    self, ALEMBIC_HEAD, BASE_DESCRIPTION, BASE_VERSION, MIGRATIONS, MIGRATIONS_TABLE,
    MigrationReport,
};
use super::{
    ActionRecord, ConditionRecord, ListQuery, NodeRecord, Result, RuleRecord, RuleSummary,
    StoreError, StoreOptions,
};

/// SQLite allows at most 32766 bound variables; lookups are chunked well below.
const LOOKUP_CHUNK: usize = 200;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// Where an oslo.db SQLite URL points: `sqlite:///rel`, `sqlite:////abs`,
/// `sqlite://` (memory). A dialect suffix (`sqlite+pysqlite`) and query
/// parameters are accepted and ignored.
fn sqlite_path(url: &str) -> Result<Option<String>> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| StoreError::Url(url.into(), "expected sqlite:///PATH".into()))?;
    let rest = rest.split('?').next().unwrap_or("");
    if rest.is_empty() {
        return Ok(None);
    }
    // The host part of an SQLite URL is empty: "sqlite:///x" leaves "/x".
    let path = rest.strip_prefix('/').ok_or_else(|| {
        StoreError::Url(url.into(), "expected sqlite:///PATH (three slashes)".into())
    })?;
    if path.is_empty() {
        return Ok(None);
    }
    Ok(Some(path.to_string()))
}

fn node_from_row(row: &SqliteRow) -> Result<NodeRecord> {
    let state_text: String = row.try_get("state")?;
    let state = State::from_str(&state_text)
        .map_err(|_| StoreError::Corrupt(format!("unknown state {state_text:?} in nodes")))?;
    let started_at: Option<String> = row.try_get("started_at")?;
    let finished_at: Option<String> = row.try_get("finished_at")?;
    let manage_boot: Option<bool> = row.try_get("manage_boot")?;
    Ok(NodeRecord {
        uuid: row.try_get("uuid")?,
        state,
        started_at: parse_ts(started_at.as_deref())?,
        finished_at: parse_ts(finished_at.as_deref())?,
        error: row.try_get("error")?,
        // Rows written before manage_boot existed mean "managed".
        manage_boot: manage_boot.unwrap_or(true),
    })
}

fn parse_ts(text: Option<&str>) -> Result<Option<PrimitiveDateTime>> {
    match text {
        None => Ok(None),
        Some(t) => timestamp::from_db(t)
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt(format!("unreadable timestamp {t:?}"))),
    }
}

fn params_from_text(text: Option<String>) -> Result<Map<String, Value>> {
    match text {
        None => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(&t) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(Map::new()),
            _ => Err(StoreError::Corrupt(format!(
                "rule parameters are not a JSON object: {t:?}"
            ))),
        },
    }
}

fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const NODE_COLUMNS: &str = "uuid, state, started_at, finished_at, error, manage_boot";

impl SqliteStore {
    pub async fn open(url: &str, options: &StoreOptions) -> Result<Self> {
        let base = match sqlite_path(url)? {
            Some(path) => SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true),
            None => SqliteConnectOptions::from_str("sqlite::memory:")?,
        };
        let in_memory = sqlite_path(url)?.is_none();
        let connect = base
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Every connection to ":memory:" is a separate database: keep exactly one, forever.
        // No ping before handing a connection out: an SQLite connection is a
        // file handle that cannot drop like a network one, and the ping is a
        // round trip to the connection's worker thread that doubled the cost
        // of a one-query request (docs/benchmarks.md).
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.max_connections.max(1))
        };
        let pool = pool_options.connect_with(connect).await?;
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn write_tx(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn table_exists(tx: &mut Transaction<'static, Sqlite>, name: &str) -> Result<bool> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = $1",
        )
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    async fn alembic_revision(tx: &mut Transaction<'static, Sqlite>) -> Result<Option<String>> {
        if !Self::table_exists(tx, "alembic_version").await? {
            return Ok(None);
        }
        let row = sqlx::query("SELECT version_num FROM alembic_version")
            .fetch_optional(&mut **tx)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("version_num")?),
            None => None,
        })
    }

    pub async fn upgrade(&self) -> Result<MigrationReport> {
        let mut report = MigrationReport::default();
        let mut tx = self.write_tx().await?;
        let now = timestamp::to_db(now_utc());
        match Self::alembic_revision(&mut tx).await? {
            Some(rev) if rev == ALEMBIC_HEAD => {}
            Some(rev) => {
                return Err(StoreError::Schema(format!(
                    "the database is at ironic-inspector alembic revision {rev}, not at the last one \
                     ({ALEMBIC_HEAD}); run ironic-inspector-dbsync upgrade with ironic-inspector 12.x first"
                )));
            }
            None => {
                if Self::table_exists(&mut tx, "nodes").await? {
                    return Err(StoreError::Schema(
                        "the database has a nodes table but no alembic_version: it was not made by \
                         ironic-inspector or inspector"
                            .into(),
                    ));
                }
                for statement in schema::SQLITE_BASE {
                    sqlx::query(AssertSqlSafe(*statement))
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query("INSERT INTO alembic_version (version_num) VALUES ($1)")
                    .bind(ALEMBIC_HEAD)
                    .execute(&mut *tx)
                    .await?;
                report.created_schema = true;
            }
        }
        sqlx::query(MIGRATIONS_TABLE).execute(&mut *tx).await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM inspector_migrations")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("version"))
            .collect::<std::result::Result<_, _>>()?;
        if !applied.contains(&BASE_VERSION) {
            report.adopted_upstream = !report.created_schema;
            sqlx::query("INSERT INTO inspector_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                .bind(BASE_VERSION)
                .bind(BASE_DESCRIPTION)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            for statement in migration.statements {
                sqlx::query(AssertSqlSafe(*statement))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("INSERT INTO inspector_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                .bind(migration.version)
                .bind(migration.description)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            report
                .applied
                .push(format!("{}: {}", migration.version, migration.description));
        }
        tx.commit().await?;
        Ok(report)
    }

    pub async fn check_schema(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if Self::alembic_revision(&mut tx).await?.as_deref() != Some(ALEMBIC_HEAD) {
            return Err(StoreError::Schema(
                "the database schema is missing or outdated; run `inspector db upgrade`".into(),
            ));
        }
        if !Self::table_exists(&mut tx, "inspector_migrations").await? {
            return Err(StoreError::Schema(
                "the database has not been upgraded by inspector; run `inspector db upgrade`"
                    .into(),
            ));
        }
        let row = sqlx::query("SELECT MAX(version) AS v FROM inspector_migrations")
            .fetch_one(&mut *tx)
            .await?;
        let current: Option<i64> = row.try_get("v")?;
        if current.unwrap_or(0) < schema::latest_version() {
            return Err(StoreError::Schema(
                "the database schema is outdated; run `inspector db upgrade`".into(),
            ));
        }
        Ok(())
    }

    pub async fn get_node(&self, uuid: &str) -> Result<Option<NodeRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE uuid = $1"
        )))
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(node_from_row).transpose()
    }

    pub async fn list_nodes(&self, query: &ListQuery) -> Result<Vec<NodeRecord>> {
        let mut conditions = Vec::new();
        let mut next = 1;
        if !query.states.is_empty() {
            conditions.push(format!(
                "state IN ({})",
                placeholders(next, query.states.len())
            ));
            next += query.states.len();
        }
        let marker = match &query.marker {
            None => None,
            Some(m) => {
                let node = self
                    .get_node(m)
                    .await?
                    .ok_or_else(|| StoreError::MarkerNotFound(m.clone()))?;
                conditions.push(format!(
                    "(started_at < ${a} OR (started_at = ${a} AND uuid < ${b}))",
                    a = next,
                    b = next + 1
                ));
                next += 2;
                Some(node)
            }
        };
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {NODE_COLUMNS} FROM nodes {where_clause} ORDER BY started_at DESC, uuid DESC LIMIT ${next}"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for state in &query.states {
            q = q.bind(state.as_str());
        }
        if let Some(m) = &marker {
            q = q
                .bind(m.started_at.map(timestamp::to_db))
                .bind(m.uuid.clone());
        }
        q = q.bind(i64::from(query.limit));
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(node_from_row).collect()
    }

    async fn delete_node_rows(tx: &mut Transaction<'static, Sqlite>, uuid: &str) -> Result<()> {
        for sql in [
            "DELETE FROM attributes WHERE node_uuid = $1",
            "DELETE FROM options WHERE uuid = $1",
            "DELETE FROM introspection_data WHERE uuid = $1",
            "DELETE FROM nodes WHERE uuid = $1",
        ] {
            sqlx::query(sql).bind(uuid).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert_attributes(
        tx: &mut Transaction<'static, Sqlite>,
        uuid: &str,
        attributes: impl Iterator<Item = (&str, &str)>,
    ) -> Result<()> {
        for (name, value) in attributes {
            sqlx::query(
                "INSERT INTO attributes (uuid, node_uuid, name, value) VALUES ($1, $2, $3, $4)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(uuid)
            .bind(name)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    pub async fn add_node(&self, node: &NodeRecord, attributes: &[(&str, &str)]) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::delete_node_rows(&mut tx, &node.uuid).await?;
        sqlx::query(
            "INSERT INTO nodes (uuid, state, started_at, finished_at, error, manage_boot) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&node.uuid)
        .bind(node.state.as_str())
        .bind(node.started_at.map(timestamp::to_db))
        .bind(node.finished_at.map(timestamp::to_db))
        .bind(&node.error)
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
    }

    pub async fn update_state(&self, uuid: &str, from: State, to: State) -> Result<()> {
        let done = sqlx::query("UPDATE nodes SET state = $1 WHERE uuid = $2 AND state = $3")
            .bind(to.as_str())
            .bind(uuid)
            .bind(from.as_str())
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(uuid.into()));
        }
        Ok(())
    }

    pub async fn finish(
        &self,
        uuid: &str,
        from: State,
        to: State,
        finished_at: PrimitiveDateTime,
        error: Option<&str>,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM attributes WHERE node_uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM options WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(
            "UPDATE nodes SET state = $1, finished_at = $2, error = $3 WHERE uuid = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(timestamp::to_db(finished_at))
        .bind(error)
        .bind(uuid)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(uuid.into()));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_started_at(&self, uuid: &str, started_at: PrimitiveDateTime) -> Result<()> {
        let done = sqlx::query("UPDATE nodes SET started_at = $1 WHERE uuid = $2")
            .bind(timestamp::to_db(started_at))
            .bind(uuid)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(uuid.into()));
        }
        Ok(())
    }

    pub async fn delete_node(&self, uuid: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        Self::delete_node_rows(&mut tx, uuid).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_attributes(&self, uuid: &str, name: &str, values: &[String]) -> Result<()> {
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
    }

    pub async fn node_attributes(&self, uuid: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT name, value FROM attributes WHERE node_uuid = $1 AND value IS NOT NULL ORDER BY name, value")
            .bind(uuid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
            .collect()
    }

    pub async fn find_by_attributes(
        &self,
        pairs: &[(String, String)],
    ) -> Result<Vec<(String, u32)>> {
        let mut unique: Vec<&(String, String)> =
            pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        unique.sort();
        unique.dedup();
        let mut scores: std::collections::BTreeMap<String, u32> = Default::default();
        for chunk in unique.chunks(LOOKUP_CHUNK) {
            let clauses: Vec<String> = (0..chunk.len())
                .map(|i| format!("(name = ${} AND value = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "SELECT node_uuid, COUNT(*) AS score FROM attributes WHERE {} GROUP BY node_uuid",
                clauses.join(" OR ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (name, value) in chunk {
                q = q.bind(name.as_str()).bind(value.as_str());
            }
            for row in q.fetch_all(&self.pool).await? {
                let uuid: Option<String> = row.try_get("node_uuid")?;
                let score: i64 = row.try_get("score")?;
                if let Some(uuid) = uuid {
                    *scores.entry(uuid).or_default() += u32::try_from(score).unwrap_or(u32::MAX);
                }
            }
        }
        Ok(scores.into_iter().collect())
    }

    pub async fn active_macs(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT value FROM attributes WHERE name = 'mac' AND value IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("value")?)).collect()
    }

    pub async fn active_started_before(
        &self,
        before: PrimitiveDateTime,
    ) -> Result<Vec<NodeRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE finished_at IS NULL AND started_at < $1"
        )))
        .bind(timestamp::to_db(before))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(node_from_row).collect()
    }

    pub async fn active_nodes(&self) -> Result<Vec<NodeRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE finished_at IS NULL"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(node_from_row).collect()
    }

    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM nodes GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("state")?,
                    u64::try_from(r.try_get::<i64, _>("n")?).unwrap_or(0),
                ))
            })
            .collect()
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }

    pub async fn all_node_uuids(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT uuid FROM nodes")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(r.try_get("uuid")?)).collect()
    }

    pub async fn any_active(&self) -> Result<bool> {
        let row =
            sqlx::query("SELECT EXISTS (SELECT 1 FROM nodes WHERE finished_at IS NULL) AS active")
                .fetch_one(&self.pool)
                .await?;
        Ok(row.try_get::<bool, _>("active")?)
    }

    pub async fn store_data(&self, uuid: &str, processed: bool, data: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO introspection_data (uuid, processed, data) VALUES ($1, $2, $3) \
             ON CONFLICT (uuid, processed) DO UPDATE SET data = excluded.data",
        )
        .bind(uuid)
        .bind(processed)
        .bind(data)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_data(&self, uuid: &str, processed: bool) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT data FROM introspection_data WHERE uuid = $1 AND processed = $2")
                .bind(uuid)
                .bind(processed)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => Ok(r.try_get("data")?),
            None => Ok(None),
        }
    }

    pub async fn create_rule(&self, rule: &RuleRecord) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO rules (uuid, created_at, description, disabled, scope) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&rule.uuid)
        .bind(timestamp::to_db(rule.created_at))
        .bind(&rule.description)
        .bind(false)
        .bind(&rule.scope)
        .execute(&mut *tx)
        .await;
        if let Err(err) = inserted {
            if err
                .as_database_error()
                .is_some_and(|e| e.is_unique_violation())
            {
                return Err(StoreError::DuplicateRule(rule.uuid.clone()));
            }
            return Err(err.into());
        }
        for cond in &rule.conditions {
            sqlx::query(
                "INSERT INTO rule_conditions (rule, op, multiple, invert, field, params) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&rule.uuid)
            .bind(&cond.op)
            .bind(&cond.multiple)
            .bind(cond.invert)
            .bind(&cond.field)
            .bind(Value::Object(cond.params.clone()).to_string())
            .execute(&mut *tx)
            .await?;
        }
        for action in &rule.actions {
            sqlx::query("INSERT INTO rule_actions (rule, action, params) VALUES ($1, $2, $3)")
                .bind(&rule.uuid)
                .bind(&action.action)
                .bind(Value::Object(action.params.clone()).to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_rules(&self) -> Result<Vec<RuleSummary>> {
        let rows =
            sqlx::query("SELECT uuid, description, scope FROM rules ORDER BY created_at, uuid")
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
    }

    async fn rules_where(&self, uuid: Option<&str>) -> Result<Vec<RuleRecord>> {
        let mut conn = self.pool.acquire().await?;
        let filter = if uuid.is_some() {
            "WHERE uuid = $1"
        } else {
            ""
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT uuid, created_at, description, scope FROM rules {filter} ORDER BY created_at, uuid"
        )));
        if let Some(u) = uuid {
            q = q.bind(u);
        }
        let rule_rows = q.fetch_all(&mut *conn).await?;
        let mut rules = Vec::with_capacity(rule_rows.len());
        for row in &rule_rows {
            let created: String = row.try_get("created_at")?;
            rules.push(RuleRecord {
                uuid: row.try_get("uuid")?,
                created_at: parse_ts(Some(&created))?.unwrap_or(PrimitiveDateTime::MIN),
                description: row.try_get("description")?,
                scope: row.try_get("scope")?,
                conditions: Vec::new(),
                actions: Vec::new(),
            });
        }
        if rules.is_empty() {
            return Ok(rules);
        }
        let index: std::collections::HashMap<String, usize> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.uuid.clone(), i))
            .collect();
        let rule_filter = if uuid.is_some() {
            "WHERE rule = $1"
        } else {
            ""
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT rule, op, multiple, invert, field, params FROM rule_conditions {rule_filter} ORDER BY id"
        )));
        if let Some(u) = uuid {
            q = q.bind(u);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let rule: Option<String> = row.try_get("rule")?;
            let Some(&i) = rule.as_ref().and_then(|r| index.get(r)) else {
                continue;
            };
            let invert: Option<bool> = row.try_get("invert")?;
            let field: Option<String> = row.try_get("field")?;
            rules[i].conditions.push(ConditionRecord {
                op: row.try_get("op")?,
                field: field.unwrap_or_default(),
                multiple: row.try_get("multiple")?,
                invert: invert.unwrap_or(false),
                params: params_from_text(row.try_get("params")?)?,
            });
        }
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT rule, action, params FROM rule_actions {rule_filter} ORDER BY id"
        )));
        if let Some(u) = uuid {
            q = q.bind(u);
        }
        for row in q.fetch_all(&mut *conn).await? {
            let rule: Option<String> = row.try_get("rule")?;
            let Some(&i) = rule.as_ref().and_then(|r| index.get(r)) else {
                continue;
            };
            rules[i].actions.push(ActionRecord {
                action: row.try_get("action")?,
                params: params_from_text(row.try_get("params")?)?,
            });
        }
        Ok(rules)
    }

    pub async fn all_rules(&self) -> Result<Vec<RuleRecord>> {
        self.rules_where(None).await
    }

    pub async fn get_rule(&self, uuid: &str) -> Result<Option<RuleRecord>> {
        Ok(self.rules_where(Some(uuid)).await?.into_iter().next())
    }

    pub async fn delete_rule(&self, uuid: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM rule_conditions WHERE rule = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rule_actions WHERE rule = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM rules WHERE uuid = $1")
            .bind(uuid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete_all_rules(&self) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for sql in [
            "DELETE FROM rule_conditions",
            "DELETE FROM rule_actions",
            "DELETE FROM rules",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn now_utc() -> PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    timestamp::truncate_to_micros(PrimitiveDateTime::new(now.date(), now.time()))
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn oslo_db_urls_map_to_paths() {
        assert_eq!(
            sqlite_path("sqlite:///ironic_inspector.sqlite")
                .unwrap()
                .as_deref(),
            Some("ironic_inspector.sqlite")
        );
        assert_eq!(
            sqlite_path("sqlite:////var/lib/x.db").unwrap().as_deref(),
            Some("/var/lib/x.db")
        );
        assert_eq!(
            sqlite_path("sqlite+pysqlite:////tmp/a.db?timeout=5")
                .unwrap()
                .as_deref(),
            Some("/tmp/a.db")
        );
        assert_eq!(sqlite_path("sqlite://").unwrap(), None);
        assert!(sqlite_path("sqlite://host/x.db").is_err());
    }
}

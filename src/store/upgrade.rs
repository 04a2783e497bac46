//! `upgrade` and `check_schema`, written once for every backend: what to
//! do with an empty database, one made by upstream and one of ours. A
//! backend supplies the few statements whose SQL or types differ
//! ([`SchemaSession`]) and its dialect's DDL ([`SchemaDef`]).

use super::schema::{ALEMBIC_HEAD, BASE_DESCRIPTION, BASE_VERSION, Migration, MigrationReport};
use super::{Result, StoreError, StoreFuture};

/// One backend's DDL.
pub(super) struct SchemaDef<'s> {
    /// Upstream's tables at [`ALEMBIC_HEAD`], in creation order.
    pub base: &'s [&'s str],
    /// `CREATE TABLE IF NOT EXISTS inspector_migrations ...`
    pub migrations_table: &'s str,
    pub migrations: &'s [Migration],
}

impl SchemaDef<'_> {
    fn latest_version(&self) -> i64 {
        self.migrations
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(BASE_VERSION)
    }
}

/// A connection (in a transaction where the backend has transactional DDL)
/// that the upgrade runs on.
pub(super) trait SchemaSession: Send {
    fn table_exists<'a>(&'a mut self, name: &'a str) -> StoreFuture<'a, bool>;
    fn execute<'a>(&'a mut self, sql: &'a str) -> StoreFuture<'a, ()>;
    /// The single `version_num` of `alembic_version`, if any row.
    fn alembic_row(&mut self) -> StoreFuture<'_, Option<String>>;
    /// Versions recorded in `inspector_migrations`.
    fn applied_versions(&mut self) -> StoreFuture<'_, Vec<i64>>;
    /// Records a migration as applied now.
    fn record_migration<'a>(
        &'a mut self,
        version: i64,
        description: &'a str,
    ) -> StoreFuture<'a, ()>;
}

async fn alembic_revision(session: &mut dyn SchemaSession) -> Result<Option<String>> {
    if !session.table_exists("alembic_version").await? {
        return Ok(None);
    }
    session.alembic_row().await
}

/// Creates the schema in an empty database, adopts one upstream made at
/// its last revision, and applies our migrations not yet applied.
pub(super) async fn upgrade(
    session: &mut dyn SchemaSession,
    def: &SchemaDef<'_>,
) -> Result<MigrationReport> {
    let mut report = MigrationReport::default();
    match alembic_revision(session).await? {
        Some(rev) if rev == ALEMBIC_HEAD => {}
        Some(rev) => {
            return Err(StoreError::Schema(format!(
                "the database is at ironic-inspector alembic revision {rev}, not at the last one \
                 ({ALEMBIC_HEAD}); run ironic-inspector-dbsync upgrade with ironic-inspector 12.x first"
            )));
        }
        None => {
            if session.table_exists("nodes").await? {
                return Err(StoreError::Schema(
                    "the database has a nodes table but no alembic_version: it was not made by \
                     ironic-inspector or inspector"
                        .into(),
                ));
            }
            for statement in def.base {
                session.execute(statement).await?;
            }
            // A constant: no value is spliced into the statement.
            let head =
                format!("INSERT INTO alembic_version (version_num) VALUES ('{ALEMBIC_HEAD}')");
            session.execute(&head).await?;
            report.created_schema = true;
        }
    }
    session.execute(def.migrations_table).await?;
    let applied = session.applied_versions().await?;
    if !applied.contains(&BASE_VERSION) {
        report.adopted_upstream = !report.created_schema;
        session
            .record_migration(BASE_VERSION, BASE_DESCRIPTION)
            .await?;
    }
    for migration in def
        .migrations
        .iter()
        .filter(|m| !applied.contains(&m.version))
    {
        for statement in migration.statements {
            session.execute(statement).await?;
        }
        session
            .record_migration(migration.version, migration.description)
            .await?;
        report
            .applied
            .push(format!("{}: {}", migration.version, migration.description));
    }
    Ok(report)
}

/// Fails unless upstream's schema is at its head and our migrations are
/// all applied.
pub(super) async fn check(session: &mut dyn SchemaSession, def: &SchemaDef<'_>) -> Result<()> {
    if alembic_revision(session).await?.as_deref() != Some(ALEMBIC_HEAD) {
        return Err(StoreError::Schema(
            "the database schema is missing or outdated; run `inspector db upgrade`".into(),
        ));
    }
    if !session.table_exists("inspector_migrations").await? {
        return Err(StoreError::Schema(
            "the database has not been upgraded by inspector; run `inspector db upgrade`".into(),
        ));
    }
    let current = session
        .applied_versions()
        .await?
        .into_iter()
        .max()
        .unwrap_or(0);
    if current < def.latest_version() {
        return Err(StoreError::Schema(
            "the database schema is outdated; run `inspector db upgrade`".into(),
        ));
    }
    Ok(())
}

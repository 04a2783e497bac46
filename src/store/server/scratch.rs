//! Throw-away databases on a PostgreSQL or MySQL server, for tests: each
//! test gets an empty database of its own, created through an account that
//! may create databases and dropped when the guard goes (see its `Drop`).

use inspector_core::db_url::{ServerKind, ServerUrl, parse_server_url};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use super::{mysql, postgres};
use crate::store::{Result, StoreError};

/// A database made for one test; dropped with the guard.
pub struct ScratchDatabase {
    admin: ServerUrl,
    name: String,
}

/// `url` (an oslo.db URL) with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (location, query) = match url.split_once('?') {
        Some((l, q)) => (l, Some(q)),
        None => (url, None),
    };
    let base = location.rsplit_once('/').map_or(location, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// Runs one statement (or several, `;`-separated) on the server `url`
/// names, as that URL's user.
async fn execute(url: &ServerUrl, statement: &str) -> Result<()> {
    let statement = AssertSqlSafe(statement.to_string());
    match url.kind {
        ServerKind::Postgres => {
            let mut conn = postgres::connect_options(url).connect().await?;
            sqlx::raw_sql(statement).execute(&mut conn).await?;
            conn.close().await?;
        }
        ServerKind::Mysql => {
            let mut conn = mysql::connect_options(url).connect().await?;
            sqlx::raw_sql(statement).execute(&mut conn).await?;
            conn.close().await?;
        }
    }
    Ok(())
}

/// Drops the database `name`; on MySQL, which has no `DROP ... FORCE`,
/// after ending the connections still in it (one a test leaked in a
/// transaction would hold a lock the drop waits for).
async fn drop_database(admin: &ServerUrl, name: &str) -> Result<()> {
    match admin.kind {
        ServerKind::Postgres => {
            execute(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await
        }
        ServerKind::Mysql => {
            let mut conn = mysql::connect_options(admin).connect().await?;
            // BIGINT on MariaDB, BIGINT UNSIGNED on MySQL: read it as text.
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(id AS CHAR) FROM information_schema.processlist WHERE db = ?",
            )
            .bind(name)
            .fetch_all(&mut conn)
            .await?;
            for id in ids {
                let _ = sqlx::raw_sql(AssertSqlSafe(format!("KILL CONNECTION {id}")))
                    .execute(&mut conn)
                    .await;
            }
            sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            Ok(())
        }
    }
}

impl ScratchDatabase {
    /// A new empty database next to the one `admin_url` names, whose user
    /// may create databases; returns it with its oslo.db URL.
    pub async fn create(admin_url: &str) -> Result<(Self, String)> {
        let admin =
            parse_server_url(admin_url).map_err(|e| StoreError::Url(admin_url.into(), e.0))?;
        let name = format!("inspector_t_{}", uuid::Uuid::new_v4().simple());
        let create = match admin.kind {
            ServerKind::Postgres => format!("CREATE DATABASE {name}"),
            // Upstream's tables are utf8 (3-byte) whatever the server's default.
            ServerKind::Mysql => format!("CREATE DATABASE {name} CHARACTER SET utf8"),
        };
        execute(&admin, &create).await?;
        let url = with_database(admin_url, &name);
        Ok((Self { admin, name }, url))
    }

    /// Takes charge of dropping the existing database `name` on the server
    /// `admin_url` names, for a test that created it some other way.
    pub fn adopt(admin_url: &str, name: &str) -> Result<Self> {
        let admin =
            parse_server_url(admin_url).map_err(|e| StoreError::Url(admin_url.into(), e.0))?;
        Ok(Self {
            admin,
            name: name.to_string(),
        })
    }

    /// Runs `statement` in this database as the administrating user.
    pub async fn execute_as_admin(&self, statement: &str) -> Result<()> {
        let mut url = self.admin.clone();
        url.database = self.name.clone();
        execute(&url, statement).await
    }
}

impl Drop for ScratchDatabase {
    /// Not on the dropping thread, which is usually a test's runtime:
    /// blocking it could leave a service on that runtime midway through a
    /// login to this database, and PostgreSQL's `DROP DATABASE` waits for
    /// every backend, one still logging in included, until the login times
    /// out. The drop runs on a thread and runtime of its own instead, and
    /// the process waits for it when it exits.
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        let dropping = std::thread::spawn(move || {
            let dropped = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|runtime| {
                    runtime
                        .block_on(drop_database(&admin, &name))
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = dropped {
                eprintln!("could not drop the scratch database {name}: {e}");
            }
        });
        finish_before_exit(dropping);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn finish_before_exit(dropping: std::thread::JoinHandle<()>) {
    use std::sync::{Mutex, Once};
    /// Drops still under way, joined when the process exits.
    static DROPPING: Mutex<Vec<std::thread::JoinHandle<()>>> = Mutex::new(Vec::new());
    extern "C" fn join_drops() {
        let drops = std::mem::take(&mut *DROPPING.lock().unwrap_or_else(|e| e.into_inner()));
        for dropping in drops {
            let _ = dropping.join();
        }
    }
    static REGISTERED: Once = Once::new();
    REGISTERED.call_once(|| {
        // SAFETY: join_drops takes no arguments and cannot unwind: a poisoned
        // lock is taken as it is, and a drop thread's panic comes back from
        // join as a value.
        unsafe { libc::atexit(join_drops) };
    });
    DROPPING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dropping);
}

/// Without atexit: wait for the drop here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn finish_before_exit(dropping: std::thread::JoinHandle<()>) {
    let _ = dropping.join();
}

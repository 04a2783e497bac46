//! Our schema is upstream's, on every database: a database made by
//! `inspector db upgrade` and one made by upstream's own
//! `ironic-inspector-dbsync upgrade` (ironic-inspector 12.5.0, from the test
//! bed's venv) have the same tables, columns, types, defaults, keys,
//! constraints and indexes, compared through scripts/testbed/schema_dump.py
//! (information_schema and the server catalogs) with our own additions left
//! out. Both ways across: upstream's tool finds nothing to do on a database
//! we made, and we adopt a database upstream made, adding only our indexes.
//!
//! Also the database helpers the server variants of tests/api/upstream_db.rs
//! use: private databases on the bed's PostgreSQL and MariaDB servers,
//! created and dropped with the servers' own clients.

use std::path::PathBuf;
use std::process::{Command, Output};

use reqwest::Url;
use serde_json::Value;

use inspector::store::ScratchDatabase;

use crate::bed::env;
use crate::binary::run;

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/testbed");

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Server {
    Postgres,
    Mysql,
}

impl Server {
    fn admin_url(self) -> Url {
        let var = match self {
            Server::Postgres => "INSPECTOR_TEST_POSTGRES_URL",
            Server::Mysql => "INSPECTOR_TEST_MYSQL_URL",
        };
        Url::parse(&env(var)).unwrap_or_else(|e| panic!("{var} is not a URL: {e}"))
    }

    /// A new empty database on this server, dropped again when the value is.
    pub fn create_database(self, purpose: &str) -> ServerDatabase {
        let name = format!("t_{purpose}_{}", uuid::Uuid::new_v4().simple());
        let admin = self.admin_url();
        let mut url = admin.clone();
        url.set_path(&format!("/{name}"));
        client(self, &admin, &format!("CREATE DATABASE {name}"));
        // Dropped the way every scratch database of the tests is, even when
        // the service under test still has connections in it.
        let dropper = ScratchDatabase::adopt(admin.as_str(), &name)
            .unwrap_or_else(|e| panic!("cannot take charge of {name}: {e}"));
        ServerDatabase {
            server: self,
            name,
            url,
            _dropper: dropper,
        }
    }
}

/// A database of its own on one of the bed's servers, for one test.
pub struct ServerDatabase {
    pub server: Server,
    pub name: String,
    /// `[database] connection` for it, in the form the bed's URL has
    /// (`postgresql://` or `mysql+pymysql://...?charset=utf8`).
    pub url: Url,
    _dropper: ScratchDatabase,
}

impl ServerDatabase {
    /// The URL upstream's SQLAlchemy 2.1 (venv-ironic) opens: it reads a
    /// bare `postgresql://` as psycopg 3, which the venv does not have, so
    /// name psycopg2 as upstream's deployments did with older SQLAlchemy.
    pub fn upstream_url(&self) -> String {
        match self.server {
            Server::Postgres if matches!(self.url.scheme(), "postgresql" | "postgres") => {
                let mut url = self.url.to_string();
                url.replace_range(..self.url.scheme().len(), "postgresql+psycopg2");
                url
            }
            _ => self.url.to_string(),
        }
    }

    /// Runs SQL in this database with the server's client, returning its
    /// unaligned output.
    pub fn sql(&self, sql: &str) -> String {
        client(self.server, &self.url, sql)
    }
}

/// psql or mariadb, stopping at the first error, output without headers.
fn client(server: Server, url: &Url, sql: &str) -> String {
    let password = percent_decode(url.password().unwrap_or(""));
    let user = percent_decode(url.username());
    let host = url.host_str().expect("a host in the database URL");
    let port = url.port().expect("a port in the database URL").to_string();
    let database = url.path().trim_start_matches('/');
    let mut command = match server {
        Server::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
                .args(["-h", host, "-p", &port, "-U", &user, "-d", database])
                .env("PGPASSWORD", &password);
            c
        }
        Server::Mysql => {
            let mut c = Command::new("mariadb");
            c.args(["--no-defaults", "-N", "-B", "--protocol=TCP"])
                .args(["-h", host, "-P", &port, "-u", &user])
                .env("MYSQL_PWD", &password);
            if !database.is_empty() {
                c.args(["-D", database]);
            }
            c
        }
    };
    match server {
        Server::Postgres => command.args(["-c", sql]),
        Server::Mysql => command.args(["-e", sql]),
    };
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run the {server:?} client (scripts/testbed/install.sh installs it): {e}")
    });
    succeeded(&format!("{server:?} client on {database}"), &output);
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("a UTF-8 URL part")
}

fn succeeded(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn venv() -> PathBuf {
    PathBuf::from(env("INSPECTOR_TEST_VENV"))
}

/// Upstream's `ironic-inspector-dbsync upgrade` on the database at `url`.
pub fn upstream_dbsync_upgrade(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("inspector.conf");
    std::fs::write(&config, format!("[database]\nconnection = {url}\n")).unwrap();
    let output = Command::new(venv().join("bin/ironic-inspector-dbsync"))
        .arg("--config-file")
        .arg(&config)
        .arg("upgrade")
        .output()
        .expect("ironic-inspector-dbsync in the venv");
    succeeded("ironic-inspector-dbsync upgrade", &output);
}

/// Our `inspector db upgrade` on the database at `url`; its output.
pub fn our_db_upgrade(url: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("inspector.conf");
    std::fs::write(&config, format!("[database]\nconnection = {url}\n")).unwrap();
    let (code, out, err) = run(&["db", "upgrade", "--config-file", config.to_str().unwrap()]);
    assert_eq!(code, 0, "inspector db upgrade: {out}{err}");
    out
}

/// scripts/testbed/schema_dump.py of the database at `url`.
fn schema(url: &str, upstream_only: bool) -> Value {
    let mut command = Command::new(venv().join("bin/python"));
    command.arg(format!("{SCRIPTS}/schema_dump.py"));
    if upstream_only {
        command.arg("--upstream-only");
    }
    let output = command.arg(url).output().expect("the venv's python");
    succeeded("schema_dump.py", &output);
    serde_json::from_slice(&output.stdout).expect("schema_dump.py prints JSON")
}

/// The paths where two JSON documents differ, with both values.
fn differences(ours: &Value, theirs: &Value, path: &str, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let (x, y) = (&a.get(key), &b.get(key));
                match (x, y) {
                    (Some(x), Some(y)) => differences(x, y, &format!("{path}.{key}"), out),
                    _ => out.push(format!("{path}.{key}: ours {x:?}, upstream's {y:?}")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ if ours != theirs => out.push(format!("{path}: ours {ours}, upstream's {theirs}")),
        _ => {}
    }
}

fn assert_same_schema(ours: &Value, upstream: &Value, what: &str) {
    let mut found = Vec::new();
    differences(ours, upstream, "", &mut found);
    assert!(
        found.is_empty(),
        "{what}: the schemas differ in {} places:\n{}",
        found.len(),
        found.join("\n")
    );
    // Something was compared at all: upstream's eight tables.
    let tables = upstream["tables"].as_object().expect("tables in the dump");
    assert!(tables.len() >= 8, "{what}: only {:?}", tables.keys());
}

/// A database the tests make and read, on any backend.
pub trait Database {
    /// `[database] connection` for our service.
    fn url(&self) -> String;
    /// The same database as upstream's SQLAlchemy names it.
    fn upstream_url(&self) -> String;
    /// Runs SQL with the database's own client; its output, unaligned.
    fn sql(&self, sql: &str) -> String;

    fn alembic_version(&self) -> String {
        self.sql("SELECT version_num FROM alembic_version")
    }
}

impl Database for ServerDatabase {
    fn url(&self) -> String {
        self.url.to_string()
    }
    fn upstream_url(&self) -> String {
        ServerDatabase::upstream_url(self)
    }
    fn sql(&self, sql: &str) -> String {
        ServerDatabase::sql(self, sql)
    }
}

pub struct SqliteFile(pub PathBuf);

impl Database for SqliteFile {
    fn url(&self) -> String {
        format!("sqlite:///{}", self.0.display())
    }
    fn upstream_url(&self) -> String {
        self.url()
    }
    fn sql(&self, sql: &str) -> String {
        let output = Command::new("sqlite3")
            .arg(&self.0)
            .arg(sql)
            .output()
            .expect("sqlite3 is installed");
        succeeded("sqlite3", &output);
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }
}

/// One made by upstream, one by us: same base schema; upstream accepts
/// ours as it is; ours adopts upstream's and then equals a database we made.
fn check_parity(upstream_made: &dyn Database, ours: &dyn Database) {
    let out = our_db_upgrade(&ours.url());
    assert!(out.contains("created"), "{out}");
    let created = check_base_and_way_back(upstream_made, ours);

    // Adoption: alembic_version stays, our additions arrive.
    let out = our_db_upgrade(&upstream_made.url());
    assert!(
        out.contains("adopted a database created by ironic-inspector"),
        "{out}"
    );
    assert_eq!(
        upstream_made.alembic_version(),
        inspector::store::ALEMBIC_HEAD
    );
    assert_same_schema(
        &schema(&upstream_made.upstream_url(), false),
        &created,
        "adopted upstream database against one we created",
    );
}

/// Upstream makes `upstream_made`, whose base schema must be the one we
/// made in `ours`; then upstream's upgrade of ours must be a no-op. Returns
/// the whole schema of ours.
fn check_base_and_way_back(upstream_made: &dyn Database, ours: &dyn Database) -> Value {
    upstream_dbsync_upgrade(&upstream_made.upstream_url());
    assert_same_schema(
        &schema(&ours.upstream_url(), true),
        &schema(&upstream_made.upstream_url(), true),
        "base schema",
    );
    let created = schema(&ours.upstream_url(), false);
    upstream_dbsync_upgrade(&ours.upstream_url());
    assert_eq!(ours.alembic_version(), inspector::store::ALEMBIC_HEAD);
    assert_same_schema(
        &schema(&ours.upstream_url(), false),
        &created,
        "after upstream's upgrade",
    );
    created
}

fn check_server_parity(server: Server) {
    let upstream_made = server.create_database("upstream");
    let ours = server.create_database("ours");
    check_parity(&upstream_made, &ours);
}

#[test]
#[cfg_attr(
    not(all(bed_postgres, bed_venv)),
    ignore = "needs the test bed (PostgreSQL, venv): run scripts/test.sh"
)]
fn postgres_schema_is_upstreams_both_ways() {
    check_server_parity(Server::Postgres);
}

#[test]
#[cfg_attr(
    not(all(bed_mysql, bed_venv)),
    ignore = "needs the test bed (MariaDB, venv): run scripts/test.sh"
)]
fn mysql_schema_is_upstreams_both_ways() {
    check_server_parity(Server::Mysql);
}

#[test]
#[cfg_attr(
    not(bed_venv),
    ignore = "needs the test bed (venv): run scripts/test.sh"
)]
fn sqlite_schema_is_upstreams_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    check_parity(
        &SqliteFile(dir.path().join("upstream.sqlite")),
        &SqliteFile(dir.path().join("ours.sqlite")),
    );
}

/// An upgrade stopped after making some of migration 2's indexes (MySQL
/// commits each DDL statement) is finished by the next one, which ends with
/// the schema a single run makes.
fn check_upgrade_resumes(server: Server) {
    let db = server.create_database("resume");
    our_db_upgrade(&db.url());
    let whole = schema(&db.upstream_url(), false);
    db.sql("DELETE FROM inspector_migrations WHERE version = 2");
    db.sql(match server {
        Server::Postgres => "DROP INDEX ix_nodes_active",
        Server::Mysql => "DROP INDEX ix_nodes_active ON nodes",
    });
    let out = our_db_upgrade(&db.url());
    assert!(out.contains("applied migration 2"), "{out}");
    assert_same_schema(
        &schema(&db.upstream_url(), false),
        &whole,
        "resumed upgrade",
    );
}

#[test]
#[cfg_attr(
    not(all(bed_postgres, bed_venv)),
    ignore = "needs the test bed (PostgreSQL, venv): run scripts/test.sh"
)]
fn postgres_upgrade_resumes_after_a_stop_midway() {
    check_upgrade_resumes(Server::Postgres);
}

#[test]
#[cfg_attr(
    not(all(bed_mysql, bed_venv)),
    ignore = "needs the test bed (MariaDB, venv): run scripts/test.sh"
)]
fn mysql_upgrade_resumes_after_a_stop_midway() {
    check_upgrade_resumes(Server::Mysql);
}

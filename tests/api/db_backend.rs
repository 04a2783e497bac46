//! Which database the service of a test runs on, and fresh databases on the
//! test bed's PostgreSQL and MariaDB servers.
//!
//! `INSPECTOR_TEST_DB_BACKEND` chooses: unset or `sqlite` (a file in the
//! test's temporary directory), `postgresql` or `mysql` (a database
//! `inspector_t_<random>` created for the test on the server named by
//! `INSPECTOR_TEST_POSTGRES_URL` or `INSPECTOR_TEST_MYSQL_URL`, dropped
//! when the test's service is dropped). Anything else, or a server backend
//! without its URL, fails the test: a typo must not quietly test SQLite.
//! Databases are made with the servers' own command-line clients (`psql`,
//! `mariadb`), synchronously, so any test, async or not, can ask for one.

use std::process::Command;

use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgresql,
    Mysql,
}

impl Backend {
    /// The backend `INSPECTOR_TEST_DB_BACKEND` names; panics on anything else.
    pub fn from_env() -> Backend {
        match std::env::var("INSPECTOR_TEST_DB_BACKEND").as_deref() {
            Err(std::env::VarError::NotPresent) | Ok("") | Ok("sqlite") => Backend::Sqlite,
            Ok("postgresql") => Backend::Postgresql,
            Ok("mysql") => Backend::Mysql,
            Ok(other) => panic!(
                "INSPECTOR_TEST_DB_BACKEND={other:?} is not a backend: use sqlite, postgresql or mysql"
            ),
            Err(e) => panic!("INSPECTOR_TEST_DB_BACKEND: {e}"),
        }
    }

    /// The administrator URL of the bed's server (a user that may create
    /// databases); panics when it is not set.
    pub fn admin_url(self) -> String {
        let var = match self {
            Backend::Sqlite => panic!("SQLite has no server"),
            Backend::Postgresql => "INSPECTOR_TEST_POSTGRES_URL",
            Backend::Mysql => "INSPECTOR_TEST_MYSQL_URL",
        };
        std::env::var(var).unwrap_or_else(|_| {
            panic!("{var} is not set: the {self:?} tests need the test bed's server (source the bed's env or run scripts/test.sh)")
        })
    }
}

/// The `[database] connection` of a test's service: per
/// `INSPECTOR_TEST_DB_BACKEND`, a file in `dir` or a fresh server database.
pub fn test_connection(dir: &TempDir) -> String {
    match Backend::from_env() {
        Backend::Sqlite => format!(
            "sqlite:///{}",
            dir.path().join("inspector.sqlite").display()
        ),
        server => create_database(&server.admin_url()),
    }
}

/// The parts of `scheme://user:password@host:port/database?query`.
struct Url<'a> {
    scheme: &'a str,
    user: &'a str,
    password: &'a str,
    host: &'a str,
    port: &'a str,
    database: &'a str,
    query: &'a str,
}

fn parse(url: &str) -> Url<'_> {
    let bad = || panic!("cannot parse the database URL {url:?}");
    let (scheme, rest) = url.split_once("://").unwrap_or_else(bad);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = rest.split_once('/').unwrap_or_else(bad);
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or_else(bad);
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
    Url {
        scheme,
        user,
        password,
        host,
        port,
        database,
        query,
    }
}

fn with_database(url: &str, name: &str) -> String {
    let parts = parse(url);
    let (scheme, query) = (parts.scheme, parts.query);
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(authority, _)| authority)
        .unwrap();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{scheme}://{authority}/{name}{query}")
}

/// Runs one SQL statement as the URL's user, through the server's own client.
pub fn admin_sql(url: &str, sql: &str) -> String {
    let parts = parse(url);
    let driver = parts.scheme.split('+').next().unwrap_or("");
    let mut command = match driver {
        "postgresql" | "postgres" => {
            let mut c = Command::new("psql");
            c.arg(format!(
                "postgresql://{}@{}:{}/{}",
                parts.user, parts.host, parts.port, parts.database
            ))
            .env("PGPASSWORD", parts.password)
            .args(["-v", "ON_ERROR_STOP=1", "-Atc", sql]);
            c
        }
        "mysql" => {
            let mut c = Command::new("mariadb");
            c.args([
                "--no-defaults",
                "--protocol=TCP",
                "-h",
                parts.host,
                "-P",
                parts.port,
                "-u",
                parts.user,
                "-N",
                "-B",
                "-e",
                sql,
            ])
            .env("MYSQL_PWD", parts.password);
            c
        }
        other => panic!("no client for {other} databases"),
    };
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run the {driver} client (psql/mariadb): {e}"));
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Creates an empty database next to the admin URL's and returns its URL.
pub fn create_database(admin_url: &str) -> String {
    let name = format!(
        "inspector_t_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    admin_sql(admin_url, &format!("CREATE DATABASE {name}"));
    with_database(admin_url, &name)
}

/// Drops a database made by [`create_database`] (and nothing else), even
/// with connections still open.
pub fn drop_database(url: &str) {
    let name = parse(url).database;
    if !name.starts_with("inspector_t_") {
        return;
    }
    let sql = if url.starts_with("postgres") {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    } else {
        format!("DROP DATABASE IF EXISTS {name}")
    };
    // The admin database of the same server and user.
    let admin = with_database(
        url,
        if url.starts_with("postgres") {
            "postgres"
        } else {
            "mysql"
        },
    );
    admin_sql(&admin, &sql);
}

/// A database made by [`create_database`] for the length of a test.
pub struct TestDatabase {
    pub url: String,
}

impl TestDatabase {
    pub fn create(backend: Backend) -> TestDatabase {
        TestDatabase {
            url: create_database(&backend.admin_url()),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        drop_database(&self.url);
    }
}

/// Whether a `[database] connection` is a test database [`drop_database`]
/// removes.
pub fn is_test_database(url: &str) -> bool {
    !url.starts_with("sqlite") && parse(url).database.starts_with("inspector_t_")
}

#[test]
fn database_names_are_replaced_keeping_the_query() {
    assert_eq!(
        with_database(
            "mysql+pymysql://u:p@127.0.0.1:3306/inspector?charset=utf8",
            "x"
        ),
        "mysql+pymysql://u:p@127.0.0.1:3306/x?charset=utf8"
    );
    assert_eq!(
        with_database("postgresql://u:p@127.0.0.1:5432/inspector", "y"),
        "postgresql://u:p@127.0.0.1:5432/y"
    );
}

//! Which database the service of a test runs on, and fresh databases on the
//! test bed's PostgreSQL and MariaDB servers.
//!
//! `INSPECTOR_TEST_DB_BACKEND` chooses: unset or `sqlite` (a file in the
//! test's temporary directory), `postgresql` or `mysql` (a database
//! `inspector_t_<random>` created for the test on the server named by
//! `INSPECTOR_TEST_POSTGRES_URL` or `INSPECTOR_TEST_MYSQL_URL`, dropped
//! when the test's service is dropped). Anything else, or a server backend
//! without its URL, fails the test: a typo must not quietly test SQLite.

use std::collections::BTreeMap;
use std::sync::Mutex;

use inspector::store::ScratchDatabase;
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

/// Server databases made by [`test_connection`], by URL, until the test's
/// service is dropped ([`drop_database`]).
static DATABASES: Mutex<BTreeMap<String, ScratchDatabase>> = Mutex::new(BTreeMap::new());

/// The `[database] connection` of a test's service: per
/// `INSPECTOR_TEST_DB_BACKEND`, a file in `dir` or a fresh server database.
pub fn test_connection(dir: &TempDir) -> String {
    match Backend::from_env() {
        Backend::Sqlite => format!(
            "sqlite:///{}",
            dir.path().join("inspector.sqlite").display()
        ),
        server => {
            let (database, url) = create_database(&server.admin_url());
            DATABASES.lock().unwrap().insert(url.clone(), database);
            url
        }
    }
}

/// Creates an empty database next to the one `admin_url` names, on a
/// thread and runtime of its own, so that synchronous code inside or
/// outside a runtime can ask for one.
pub fn create_database(admin_url: &str) -> (ScratchDatabase, String) {
    let admin = admin_url.to_string();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(ScratchDatabase::create(&admin))
    })
    .join()
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot create a test database on the server: {e}"))
}

/// Drops a database [`test_connection`] made.
pub fn drop_database(url: &str) {
    let database = DATABASES.lock().unwrap().remove(url);
    drop(database);
}

/// Whether `url` is a database [`test_connection`] made.
pub fn is_test_database(url: &str) -> bool {
    DATABASES.lock().unwrap().contains_key(url)
}

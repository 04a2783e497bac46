//! The store contract on the test bed's PostgreSQL and MariaDB, each test
//! in a database of its own, created through the bed's account (which may
//! create databases) and dropped when the test ends.

use inspector_core::db_url::{ServerKind, parse_server_url};

use super::scratch::ScratchDatabase;
use crate::store::{self, Store, StoreOptions};

/// The bed's URL for `kind`; its absence fails loudly (the tests using it
/// are ignored unless the bed is there).
fn bed_url(kind: ServerKind) -> String {
    let var = match kind {
        ServerKind::Postgres => "INSPECTOR_TEST_POSTGRES_URL",
        ServerKind::Mysql => "INSPECTOR_TEST_MYSQL_URL",
    };
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run the test bed"))
}

async fn scratch(kind: ServerKind) -> (ScratchDatabase, String) {
    ScratchDatabase::create(&bed_url(kind)).await.unwrap()
}

fn test_options() -> StoreOptions {
    StoreOptions {
        max_connections: 2,
        max_overflow: 8,
        pool_timeout: std::time::Duration::from_secs(10),
        connect_attempts: Some(1),
        ..StoreOptions::default()
    }
}

/// Runs the async test function `$check(kind)` on each server, as tests
/// `$check::postgres` and `$check::mysql`, ignored without that server.
macro_rules! on_both_servers {
    ($check:ident) => {
        mod $check {
            use inspector_core::db_url::ServerKind;

            #[tokio::test]
            #[cfg_attr(
                not(bed_postgres),
                ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)"
            )]
            async fn postgres() {
                super::$check(ServerKind::Postgres).await;
            }

            #[tokio::test]
            #[cfg_attr(
                not(bed_mysql),
                ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
            )]
            async fn mysql() {
                super::$check(ServerKind::Mysql).await;
            }
        }
    };
}

async fn upgraded(kind: ServerKind) -> (Store, ScratchDatabase) {
    let (database, url) = scratch(kind).await;
    let store = store::open(&url, &test_options()).await.unwrap();
    let report = store.upgrade().await.unwrap();
    assert!(report.created_schema, "{report:?}");
    (store, database)
}

async fn postgres_store() -> (Store, ScratchDatabase) {
    upgraded(ServerKind::Postgres).await
}

async fn mysql_store() -> (Store, ScratchDatabase) {
    upgraded(ServerKind::Mysql).await
}

mod postgres_contract {
    crate::store::contract::store_contract!(super::postgres_store;
        #[cfg_attr(not(bed_postgres), ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)")]);
}

mod mysql_contract {
    crate::store::contract::store_contract!(super::mysql_store;
        #[cfg_attr(not(bed_mysql), ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)")]);
}

/// Two instances upgrading one empty database at once: one creates the
/// schema, the other waits for it and finds it done.
async fn concurrent_upgrades_create_the_schema_once(kind: ServerKind) {
    let (_database, url) = scratch(kind).await;
    let first = store::open(&url, &test_options()).await.unwrap();
    let second = store::open(&url, &test_options()).await.unwrap();
    let (a, b) = tokio::join!(first.upgrade(), second.upgrade());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.created_schema != b.created_schema, "{a:?} {b:?}");
    first.check_schema().await.unwrap();
    first.close().await;
    second.close().await;
}

on_both_servers!(concurrent_upgrades_create_the_schema_once);

/// A database upstream made (its tables at its alembic head, a node in
/// them, none of our tables) is adopted: our migrations are applied, and
/// the node is served as upstream wrote it.
async fn an_upstream_database_is_adopted(kind: ServerKind) {
    let (database, url) = scratch(kind).await;
    let dialect = match kind {
        ServerKind::Postgres => &super::postgres::DIALECT,
        ServerKind::Mysql => &super::mysql::DIALECT,
    };
    for statement in (dialect.base_ddl)() {
        database.execute_as_admin(statement).await.unwrap();
    }
    for statement in [
        format!(
            "INSERT INTO alembic_version (version_num) VALUES ('{}')",
            store::ALEMBIC_HEAD
        ),
        "INSERT INTO nodes (uuid, state, started_at, manage_boot) \
         VALUES ('0a000000-0000-4000-8000-000000000001', 'waiting', '2026-01-01 00:00:01', NULL)"
            .to_string(),
    ] {
        database.execute_as_admin(&statement).await.unwrap();
    }
    let store = store::open(&url, &test_options()).await.unwrap();
    assert!(store.check_schema().await.is_err());
    let report = store.upgrade().await.unwrap();
    assert!(
        report.adopted_upstream && !report.created_schema,
        "{report:?}"
    );
    assert_eq!(
        report.applied.len(),
        (dialect.migrations)().len(),
        "{report:?}"
    );
    store.check_schema().await.unwrap();
    let node = store
        .get_node("0a000000-0000-4000-8000-000000000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(node.state, inspector_core::state::State::Waiting);
    assert_eq!(
        node.started_at,
        Some(time::macros::datetime!(2026-01-01 00:00:01))
    );
    assert!(node.manage_boot, "NULL manage_boot means managed");
    store.close().await;
}

on_both_servers!(an_upstream_database_is_adopted);

/// The URL forms upstream sites use reach the same database: a Unix
/// socket, and a password that needs percent-encoding.
async fn socket_and_encoded_password_urls_connect(kind: ServerKind) {
    let (database, url) = scratch(kind).await;
    let parsed = parse_server_url(&url).unwrap();
    let user = parsed.user.clone().unwrap();
    let password = parsed.password.clone().unwrap();
    let name = &parsed.database;
    let port = match &parsed.endpoint {
        inspector_core::db_url::Endpoint::Tcp { port, .. } => *port,
        other => panic!("the bed's URL is TCP, not {other}"),
    };
    let socket_url = match kind {
        // The port picks the socket file in the directory.
        ServerKind::Postgres => format!(
            "postgresql+psycopg2://{user}:{password}@:{port}/{name}?host={}",
            std::env::var("INSPECTOR_TEST_POSTGRES_SOCKET_DIR").unwrap()
        ),
        ServerKind::Mysql => format!(
            "mysql+pymysql://{user}:{password}@localhost/{name}?unix_socket={}&charset=utf8",
            std::env::var("INSPECTOR_TEST_MYSQL_SOCKET").unwrap()
        ),
    };
    let store = store::open(&socket_url, &test_options()).await.unwrap();
    store.upgrade().await.unwrap();
    store.close().await;

    // A user whose password holds every character that URLs reserve.
    let odd_user = format!("u{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let odd_password = "p@ss:w/rd%?#&";
    let grant = match kind {
        ServerKind::Postgres => vec![
            format!("CREATE ROLE {odd_user} LOGIN PASSWORD '{odd_password}'"),
            format!("GRANT ALL ON ALL TABLES IN SCHEMA public TO {odd_user}"),
        ],
        ServerKind::Mysql => vec![
            format!("CREATE USER '{odd_user}'@'%' IDENTIFIED BY '{odd_password}'"),
            format!("GRANT ALL ON {name}.* TO '{odd_user}'@'%'"),
        ],
    };
    for statement in &grant {
        database.execute_as_admin(statement).await.unwrap();
    }
    let encoded = "p%40ss%3Aw%2Frd%25%3F%23%26";
    let host_part = url.split_once('@').unwrap().1;
    let scheme = url.split_once("://").unwrap().0;
    let odd_url = format!("{scheme}://{odd_user}:{encoded}@{host_part}");
    let store = store::open(&odd_url, &test_options()).await.unwrap();
    store.check_schema().await.unwrap();
    store.close().await;
    let wrong = odd_url.replace(encoded, "wrong");
    let err = store::open(&wrong, &test_options()).await.err().unwrap();
    let message = format!("{err:#}");
    assert!(message.contains("[database] connection"), "{message}");
    assert!(!message.contains(odd_password), "{message}");
    let cleanup = match kind {
        ServerKind::Postgres => vec![
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {odd_user}"),
            format!("DROP ROLE {odd_user}"),
        ],
        ServerKind::Mysql => vec![format!("DROP USER '{odd_user}'@'%'")],
    };
    for statement in &cleanup {
        database.execute_as_admin(statement).await.unwrap();
    }
}

on_both_servers!(socket_and_encoded_password_urls_connect);

/// Nothing listens: the error names the option and the address, after
/// exactly the attempts `max_retries` allows, and hides the password.
#[tokio::test]
async fn an_unreachable_server_is_reported_with_its_address() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    for scheme in ["postgresql", "mysql+pymysql"] {
        let url = format!("{scheme}://inspector:hunter2@127.0.0.1:{port}/inspector");
        let options = StoreOptions {
            connect_attempts: Some(2),
            retry_interval: std::time::Duration::from_millis(10),
            ..test_options()
        };
        let err = store::open(&url, &options).await.err().unwrap();
        let message = format!("{err}");
        assert!(
            message.contains("[database] connection")
                && message.contains(&format!("127.0.0.1:{port}"))
                && message.contains("2 attempt"),
            "{message}"
        );
        let cause = std::error::Error::source(&err).map(|s| s.to_string());
        assert!(
            cause.as_deref().is_some_and(|c| c.contains("refused")),
            "{cause:?}"
        );
        assert!(!format!("{err:?}").contains("hunter2"));
    }
}

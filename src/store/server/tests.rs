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

/// On MySQL's utf8 columns, what cannot be kept is fitted or refused
/// exactly as `column_fit` says: the error is cut to TEXT's 65,535 bytes
/// with the marker, emoji become U+FFFD, the stored document holds
/// surrogate escapes (and no 4-byte character), and a rule is refused
/// naming its field.
#[tokio::test]
#[cfg_attr(
    not(bed_mysql),
    ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
)]
async fn mysql_fits_or_refuses_what_utf8_columns_cannot_hold() {
    use inspector_core::state::State;

    let (store, _database) = mysql_store().await;
    let uuid = "0a000000-0000-4000-8000-000000000001";
    let node = store::NodeRecord {
        uuid: uuid.into(),
        state: State::Processing,
        started_at: Some(time::macros::datetime!(2026-01-01 00:00:00)),
        finished_at: None,
        error: None,
        manage_boot: true,
    };
    store.add_node(&node, &[]).await.unwrap();
    let error = format!("💥 {}", "中".repeat(40_000));
    store
        .finish(
            uuid,
            State::Processing,
            State::Error,
            time::macros::datetime!(2026-01-01 00:01:00),
            Some(&error),
        )
        .await
        .unwrap();
    let stored = store.get_node(uuid).await.unwrap().unwrap().error.unwrap();
    assert!(stored.starts_with("\u{FFFD} 中中"), "{}", &stored[..20]);
    assert!(stored.ends_with("… (truncated)"));
    assert!(
        stored.len() <= 65_535 && stored.len() > 65_500,
        "{}",
        stored.len()
    );

    store
        .store_data(uuid, true, r#"{"name":"box 📦"}"#)
        .await
        .unwrap();
    assert_eq!(
        store.get_data(uuid, true).await.unwrap().as_deref(),
        Some(r#"{"name":"box \ud83d\udce6"}"#)
    );

    let rule = store::RuleRecord {
        uuid: "0b000000-0000-4000-8000-000000000002".into(),
        created_at: time::macros::datetime!(2026-01-01 00:00:00),
        description: Some("ok".into()),
        scope: Some("rack 🗄".into()),
        conditions: vec![],
        actions: vec![],
    };
    let err = store.create_rule(&rule).await.unwrap_err();
    assert!(
        matches!(&err, store::StoreError::Unstorable { field, .. } if field == "Rule scope"),
        "{err:?}"
    );
    assert!(store.list_rules().await.unwrap().is_empty());
    store.close().await;
}

/// A connection of its own to a scratch database: the other side of a
/// lock conflict with the store.
enum Peer {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
}

impl Peer {
    async fn connect(url: &str) -> Self {
        use sqlx::ConnectOptions;
        let parsed = parse_server_url(url).unwrap();
        match parsed.kind {
            ServerKind::Postgres => Peer::Postgres(
                super::postgres::connect_options(&parsed)
                    .connect()
                    .await
                    .unwrap(),
            ),
            ServerKind::Mysql => Peer::Mysql(
                super::mysql::connect_options(&parsed)
                    .connect()
                    .await
                    .unwrap(),
            ),
        }
    }

    async fn run(&mut self, statement: &str) -> Result<(), sqlx::Error> {
        let statement = sqlx::AssertSqlSafe(statement.to_string());
        match self {
            Peer::Postgres(conn) => sqlx::raw_sql(statement).execute(conn).await.map(drop),
            Peer::Mysql(conn) => sqlx::raw_sql(statement).execute(conn).await.map(drop),
        }
    }

    async fn number(&mut self, query: &str) -> i64 {
        let query = sqlx::AssertSqlSafe(query.to_string());
        match self {
            Peer::Postgres(conn) => sqlx::query_scalar(query).fetch_one(conn).await.unwrap(),
            Peer::Mysql(conn) => sqlx::query_scalar(query).fetch_one(conn).await.unwrap(),
        }
    }
}

const LOCKED: &str = "0a000000-0000-4000-8000-00000000000a";

/// A store with node [`LOCKED`] in `processing` and two lookup attributes.
async fn store_with_locked_node(kind: ServerKind) -> (Store, ScratchDatabase, String) {
    let (database, url) = scratch(kind).await;
    let store = store::open(&url, &test_options()).await.unwrap();
    store.upgrade().await.unwrap();
    let node = store::NodeRecord {
        uuid: LOCKED.into(),
        state: inspector_core::state::State::Processing,
        started_at: Some(time::macros::datetime!(2026-01-01 00:00:00)),
        finished_at: None,
        error: None,
        manage_boot: true,
    };
    store
        .add_node(&node, &[("mac", "11:22"), ("mac", "33:44")])
        .await
        .unwrap();
    (store, database, url)
}

/// Waits until `store_call` runs its statement on the attributes, having
/// updated the node row: it then holds that row's lock and waits for (or
/// is about to request) the peer's locks on the attributes.
async fn until_the_store_reaches_the_attributes<T: std::fmt::Debug>(
    poller: &mut Peer,
    store_call: &mut tokio::task::JoinHandle<T>,
) {
    // MariaDB's innodb_trx can omit a waiting transaction; its process
    // list shows the statement.
    let query = match poller {
        Peer::Postgres(_) => {
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND query LIKE 'DELETE FROM attributes%' \
             AND state = 'active'"
        }
        Peer::Mysql(_) => {
            "SELECT COUNT(*) FROM information_schema.processlist \
             WHERE db = DATABASE() AND id <> CONNECTION_ID() \
             AND info LIKE 'DELETE FROM attributes%'"
        }
    };
    for _ in 0..400 {
        if poller.number(query).await > 0 {
            return;
        }
        if store_call.is_finished() {
            panic!(
                "the store's call ended without waiting: {:?}",
                store_call.await
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the store never reached the attributes");
}

/// A real deadlock between the store's `finish` (node row, then its
/// attributes) and a peer locking the same rows in the opposite order:
/// the server aborts the store's transaction (the lighter one: the peer
/// has written ballast rows first), and the store runs it again, which
/// succeeds once the peer is done.
async fn a_deadlock_victim_is_retried(kind: ServerKind) {
    use inspector_core::state::State;

    let (store, database, url) = store_with_locked_node(kind).await;
    database
        .execute_as_admin("CREATE TABLE ballast (n INTEGER)")
        .await
        .unwrap();
    let deadlocks = match kind {
        ServerKind::Postgres => {
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        }
        ServerKind::Mysql => {
            "SELECT CAST(variable_value AS SIGNED) FROM information_schema.global_status \
             WHERE variable_name = 'INNODB_DEADLOCKS'"
        }
    };
    let mut poller = Peer::connect(&url).await;
    let before = poller.number(deadlocks).await;
    let mut peer = Peer::connect(&url).await;
    if kind == ServerKind::Postgres {
        // PostgreSQL's victim is whichever waiter checks for a deadlock
        // first, after deadlock_timeout: the peer checks last, so that a
        // busy machine delaying the store's check cannot swap the roles.
        // (The test bed's user is a superuser, which this setting needs.)
        peer.run("SET deadlock_timeout = '30s'").await.unwrap();
    }
    peer.run("BEGIN").await.unwrap();
    let ballast: Vec<String> = (0..200).map(|n| format!("({n})")).collect();
    peer.run(&format!(
        "INSERT INTO ballast (n) VALUES {}",
        ballast.join(",")
    ))
    .await
    .unwrap();
    peer.run(&format!(
        "SELECT uuid FROM attributes WHERE node_uuid = '{LOCKED}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let mut finishing = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .finish(
                    LOCKED,
                    State::Processing,
                    State::Finished,
                    time::macros::datetime!(2026-01-01 00:01:00),
                    None,
                )
                .await
        })
    };
    until_the_store_reaches_the_attributes(&mut poller, &mut finishing).await;
    // Closes the cycle: the store holds the node row and waits for the
    // attributes.
    peer.run(&format!(
        "SELECT uuid FROM nodes WHERE uuid = '{LOCKED}' FOR UPDATE"
    ))
    .await
    .expect("the server chose the peer as the deadlock victim, not the store");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    peer.run("ROLLBACK").await.unwrap();
    finishing
        .await
        .unwrap()
        .expect("the store's finish, retried after the deadlock");
    let node = store.get_node(LOCKED).await.unwrap().unwrap();
    assert_eq!(node.state, State::Finished);
    assert!(store.node_attributes(LOCKED).await.unwrap().is_empty());
    // PostgreSQL publishes its counters within a second or so.
    let mut after = poller.number(deadlocks).await;
    for _ in 0..40 {
        if after > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = poller.number(deadlocks).await;
    }
    assert!(after > before, "no deadlock happened ({before} -> {after})");
    store.close().await;
}

on_both_servers!(a_deadlock_victim_is_retried);

/// A row lock held by another session for longer than the server lets the
/// store wait (PostgreSQL's `lock_timeout`, set to 1 s for this test's
/// database): the store's timed-out `update_state` is run again and
/// succeeds once the lock is released, 1.5 s after it was taken.
#[tokio::test]
#[cfg_attr(
    not(bed_postgres),
    ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)"
)]
async fn a_lock_wait_timeout_is_retried_postgres() {
    use inspector_core::state::State;

    let (database, url) = scratch(ServerKind::Postgres).await;
    let name = parse_server_url(&url).unwrap().database;
    // Sessions opened from now on wait for a lock for a second at most.
    database
        .execute_as_admin(&format!("ALTER DATABASE {name} SET lock_timeout = '1s'"))
        .await
        .unwrap();
    let store = store::open(&url, &test_options()).await.unwrap();
    store.upgrade().await.unwrap();
    let node = store::NodeRecord {
        uuid: LOCKED.into(),
        state: State::Waiting,
        started_at: Some(time::macros::datetime!(2026-01-01 00:00:00)),
        finished_at: None,
        error: None,
        manage_boot: true,
    };
    store.add_node(&node, &[]).await.unwrap();
    let mut peer = Peer::connect(&url).await;
    peer.run("BEGIN").await.unwrap();
    peer.run(&format!(
        "SELECT uuid FROM nodes WHERE uuid = '{LOCKED}' FOR UPDATE"
    ))
    .await
    .unwrap();
    let release = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        peer.run("ROLLBACK").await.unwrap();
        peer
    });
    store
        .update_state(LOCKED, State::Waiting, State::Processing)
        .await
        .expect("update_state, retried after the lock wait timed out");
    release.await.unwrap();
    assert_eq!(
        store.get_node(LOCKED).await.unwrap().unwrap().state,
        State::Processing
    );
    store.close().await;
}

/// `get_node` of each of `uuids`, all started at once; the answers in
/// their order.
async fn read_all_at_once(
    store: &Store,
    uuids: Vec<String>,
) -> Vec<store::Result<Option<store::NodeRecord>>> {
    let mut reads = tokio::task::JoinSet::new();
    for (n, uuid) in uuids.into_iter().enumerate() {
        let store = store.clone();
        reads.spawn(async move { (n, store.get_node(&uuid).await) });
    }
    let mut answers: Vec<_> = reads.join_all().await;
    answers.sort_by_key(|(n, _)| *n);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

fn node_numbered(n: usize, error: Option<String>) -> store::NodeRecord {
    store::NodeRecord {
        uuid: format!("0b000000-0000-4000-8000-{n:012x}"),
        state: inspector_core::state::State::Finished,
        started_at: Some(time::macros::datetime!(2026-01-01 00:00:00)),
        finished_at: Some(time::macros::datetime!(2026-01-01 00:01:00)),
        error,
        manage_boot: n.is_multiple_of(2),
    }
}

/// Many status reads at once, of different nodes (each several times,
/// in upper case too: MySQL's collation ignores case), of nodes that do
/// not exist and of a key that is read alone (with a NUL, which
/// PostgreSQL refuses in text): they share statements on the one hot
/// connection of the test options, and each gets its own row, or none;
/// the odd key's failure is its own.
async fn concurrent_status_reads_get_their_own_rows(kind: ServerKind) {
    let (store, _database) = upgraded(kind).await;
    let nodes: Vec<_> = (0..24)
        .map(|n| node_numbered(n, Some(format!("node {n}"))))
        .collect();
    for node in &nodes {
        store.add_node(node, &[]).await.unwrap();
    }
    let mut asked: Vec<(String, Option<store::NodeRecord>)> = Vec::new();
    for round in 0..8 {
        for node in &nodes {
            asked.push((node.uuid.clone(), Some(node.clone())));
        }
        asked.push((format!("0c000000-0000-4000-8000-{round:012x}"), None));
        asked.push((format!("bad\0key{round}"), None));
    }
    let upper = nodes[3].uuid.to_uppercase();
    let upper_answer = match kind {
        ServerKind::Mysql => Some(nodes[3].clone()),
        ServerKind::Postgres => None,
    };
    asked.push((upper, upper_answer));
    let uuids: Vec<String> = asked.iter().map(|(uuid, _)| uuid.clone()).collect();
    let answers = read_all_at_once(&store, uuids).await;
    for ((uuid, expected), answer) in asked.iter().zip(answers) {
        if uuid.contains('\0') && kind == ServerKind::Postgres {
            // Refused by the server, as when read alone before batching;
            // the reads beside it are not.
            assert!(answer.is_err(), "{answer:?}");
            continue;
        }
        assert_eq!(&answer.unwrap(), expected, "{uuid:?}");
    }
    store.close().await;
}

on_both_servers!(concurrent_status_reads_get_their_own_rows);

/// Status reads that arrive while others are being read are not answered
/// by a statement that started before them: after each write, every read
/// begun then sees it, however many reads of the node are under way.
async fn status_reads_see_every_completed_write(kind: ServerKind) {
    let (store, _database) = upgraded(kind).await;
    store.add_node(&node_numbered(1, None), &[]).await.unwrap();
    let uuid = node_numbered(1, None).uuid;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (store, uuid, stop) = (store.clone(), uuid.clone(), stop.clone());
        tokio::spawn(async move {
            let mut reads = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for read in read_all_at_once(&store, vec![uuid.clone(); 6]).await {
                    read.unwrap().expect("the node");
                    reads += 1;
                }
            }
            reads
        })
    };
    for round in 0..30 {
        let error = format!("round {round}");
        store
            .add_node(&node_numbered(1, Some(error.clone())), &[])
            .await
            .unwrap();
        for read in read_all_at_once(&store, vec![uuid.clone(); 6]).await {
            let node = read.unwrap().expect("the node");
            assert_eq!(node.error.as_deref(), Some(error.as_str()), "round {round}");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(
        background.await.unwrap() > 0,
        "no read ran beside the rounds"
    );
    store.close().await;
}

on_both_servers!(status_reads_see_every_completed_write);

/// One status statement at a time, with hot connections to spare: while
/// the server holds the first back (a peer has locked the table), the
/// other reads wait for it rather than send statements of their own, then
/// each gets its row.
async fn status_reads_run_one_statement_at_a_time(kind: ServerKind) {
    let (database, url) = scratch(kind).await;
    let options = StoreOptions {
        max_connections: 6,
        ..test_options()
    };
    let store = store::open(&url, &options).await.unwrap();
    store.upgrade().await.unwrap();
    let nodes: Vec<_> = (0..8).map(|n| node_numbered(n, None)).collect();
    for node in &nodes {
        store.add_node(node, &[]).await.unwrap();
    }
    let mut peer = Peer::connect(&url).await;
    let (lock, unlock, waiting) = match kind {
        ServerKind::Postgres => (
            "BEGIN; LOCK TABLE nodes IN ACCESS EXCLUSIVE MODE",
            "COMMIT",
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        ),
        ServerKind::Mysql => (
            "LOCK TABLES nodes WRITE",
            "UNLOCK TABLES",
            "SELECT count(*) FROM information_schema.processlist \
             WHERE db = database() AND state = 'Waiting for table metadata lock'",
        ),
    };
    peer.run(lock).await.unwrap();
    let reads = {
        let store = store.clone();
        let uuids = nodes.iter().map(|n| n.uuid.clone()).collect();
        tokio::spawn(async move { read_all_at_once(&store, uuids).await })
    };
    let mut poller = Peer::connect(&url).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while poller.number(waiting).await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no read reached the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Time for the other reads to send statements, were they to.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        poller.number(waiting).await,
        1,
        "statements held back by the lock"
    );
    peer.run(unlock).await.unwrap();
    for (node, answer) in nodes.iter().zip(reads.await.unwrap()) {
        assert_eq!(answer.unwrap().as_ref(), Some(node));
    }
    store.close().await;
    drop(database);
}

on_both_servers!(status_reads_run_one_statement_at_a_time);

/// The hot set's checkouts on `$db` (see `hot.rs`): `$id` selects the
/// session's id as text, `$sleep` takes two seconds, `$kill` ends the
/// session whose id it is given.
macro_rules! hot_set_checks {
    ($name:ident, $kind:expr, $db:ty, $connect:path, $setup:expr,
     $id:literal, $sleep:literal, $kill:literal, $cfg:meta) => {
        mod $name {
            use std::time::Duration;

            use inspector_core::db_url::parse_server_url;

            use crate::store::server::IDLE_BEFORE_PING;
            use crate::store::server::hot::HotConnections;

            async fn session_id(
                set: &HotConnections<$db>,
            ) -> (crate::store::server::hot::HotConnection<'_, $db>, String) {
                let mut conn = set.get().await.unwrap();
                let id: String = sqlx::query_scalar($id).fetch_one(&mut *conn).await.unwrap();
                (conn, id)
            }

            async fn one_connection_set() -> (HotConnections<$db>, super::ScratchDatabase) {
                let (database, url) = super::scratch($kind).await;
                let options = super::test_options();
                let set = HotConnections::<$db>::new(
                    1,
                    $connect(&parse_server_url(&url).unwrap()),
                    $setup,
                    &options,
                );
                (set, database)
            }

            /// A connection goes back only when its statement completed:
            /// one whose future was dropped midway, or that failed, is
            /// closed and the next checkout opens another.
            #[tokio::test]
            #[$cfg]
            async fn only_completed_connections_are_reused() {
                let (set, _database) = one_connection_set().await;
                let (conn, first) = session_id(&set).await;
                conn.keep_if(Ok(())).unwrap();
                assert_eq!(set.idle_count(), 1);
                let (conn, again) = session_id(&set).await;
                assert_eq!(again, first, "a completed connection is reused");

                // Dropped while the server is still sleeping.
                let mut conn = conn;
                let slow = tokio::time::timeout(
                    Duration::from_millis(300),
                    sqlx::raw_sql($sleep).execute(&mut *conn),
                )
                .await;
                assert!(slow.is_err(), "the sleep ended early: {slow:?}");
                drop(conn);
                assert_eq!(set.idle_count(), 0);
                let (conn, after_drop) = session_id(&set).await;
                assert_ne!(after_drop, first, "the interrupted connection came back");

                // A statement the server refuses.
                let mut conn = conn;
                let refused = sqlx::raw_sql("SELECT no_such_column FROM no_such_table")
                    .execute(&mut *conn)
                    .await
                    .map_err(crate::store::StoreError::from);
                assert!(conn.keep_if(refused).is_err());
                assert_eq!(set.idle_count(), 0);
                let (conn, after_error) = session_id(&set).await;
                assert_ne!(after_error, after_drop, "the failed connection came back");
                conn.keep_if(Ok(())).unwrap();
                set.close().await;
                assert_eq!(set.idle_count(), 0);
                assert!(set.get().await.is_err(), "a closed set hands out nothing");
            }

            /// A connection the server ended while it sat idle: checked
            /// before use once idle long enough, and replaced, without
            /// failing the checkout; used sooner, its statement fails and
            /// it is not handed out again.
            #[tokio::test]
            #[$cfg]
            async fn connections_the_server_ended_are_replaced() {
                let (set, database) = one_connection_set().await;
                let (conn, first) = session_id(&set).await;
                conn.keep_if(Ok(())).unwrap();
                database
                    .execute_as_admin(&format!($kill, first))
                    .await
                    .unwrap();
                tokio::time::sleep(IDLE_BEFORE_PING + Duration::from_millis(200)).await;
                let (conn, second) = session_id(&set).await;
                assert_ne!(second, first);
                conn.keep_if(Ok(())).unwrap();

                database
                    .execute_as_admin(&format!($kill, second))
                    .await
                    .unwrap();
                // The kill takes a moment to reach the socket.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut conn = set.get().await.unwrap();
                let failed = sqlx::query_scalar::<_, String>($id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(crate::store::StoreError::from);
                assert!(conn.keep_if(failed).is_err(), "a killed session answered");
                let (conn, third) = session_id(&set).await;
                assert_ne!(third, second);
                conn.keep_if(Ok(())).unwrap();
                set.close().await;
            }
        }
    };
}

hot_set_checks!(
    hot_set_postgres,
    inspector_core::db_url::ServerKind::Postgres,
    sqlx::Postgres,
    crate::store::server::postgres::connect_options,
    None,
    "SELECT CAST(pg_backend_pid() AS TEXT)",
    "SELECT pg_sleep(2)",
    "SELECT pg_terminate_backend({})",
    cfg_attr(
        not(bed_postgres),
        ignore = "needs the test bed's PostgreSQL (scripts/test.sh starts it)"
    )
);

hot_set_checks!(
    hot_set_mysql,
    inspector_core::db_url::ServerKind::Mysql,
    sqlx::MySql,
    crate::store::server::mysql::connect_options,
    Some(crate::store::server::mysql::session_setup),
    "SELECT CAST(CONNECTION_ID() AS CHAR)",
    "SELECT SLEEP(2)",
    "KILL CONNECTION {}",
    cfg_attr(
        not(bed_mysql),
        ignore = "needs the test bed's MariaDB (scripts/test.sh starts it)"
    )
);

//! `inspector db copy --from URL --to URL [--force]`, run as an operator
//! runs it: the reference database made by the real ironic-inspector is
//! copied and the copy is the same database (every table, every column,
//! compared through the raw bulk reads) and gets the same API answers; a
//! non-empty target is refused unless forced; errors name the side and
//! never show a password; and a round trip through PostgreSQL and MariaDB
//! brings back the same database.

use std::path::Path;

use inspector::store::{Store, bulk};
use inspector_core::conf::Config;

use crate::binary::run;
use crate::helpers::{TestApp, test_config};
use inspector::store::ScratchDatabase;

use crate::db_backend::Backend;
use crate::upstream_db::{assert_recorded_answers, reference};

fn sqlite_url(path: &Path) -> String {
    format!("sqlite:///{}", path.display())
}

async fn open(url: &str) -> Store {
    let mut config = Config::default();
    config.database.connection = Some(url.into());
    inspector::service::open_store(&config)
        .await
        .unwrap_or_else(|e| panic!("open {url}: {e:#}"))
}

/// A table's rows in a canonical order (by primary key as Rust orders it,
/// whatever the collation of the backend's own order).
type Dump = Vec<(&'static str, Vec<bulk::Row>)>;

/// Every row of `table`, page by page in key order.
pub async fn read_all(store: &Store, table: &'static bulk::Table) -> Vec<bulk::Row> {
    const PAGE: u32 = 100;
    let mut rows: Vec<bulk::Row> = Vec::new();
    loop {
        let after = rows.last().map(|row| row[..table.key].to_vec());
        let page = store
            .read_page(table, after.as_deref(), PAGE)
            .await
            .unwrap();
        let done = page.len() < PAGE as usize;
        rows.extend(page);
        if done {
            return rows;
        }
    }
}

/// Every row of every table, `alembic_version` included.
async fn dump(url: &str) -> Dump {
    let store = open(url).await;
    let mut out = Vec::new();
    for table in std::iter::once(&bulk::ALEMBIC_VERSION).chain(bulk::TABLES.iter().copied()) {
        // Upstream's own database has none of our tables.
        if !store.has_table(table).await.unwrap() {
            assert!(table.ours, "{url} has no table {}", table.name);
            out.push((table.name, Vec::new()));
            continue;
        }
        let mut rows = read_all(&store, table).await;
        rows.sort_by_key(|row| format!("{:?}", &row[..table.key]));
        out.push((table.name, rows));
    }
    store.close().await;
    out
}

/// Asserts two dumps are equal table by table, naming the first table
/// that differs.
fn assert_same(expected: &Dump, actual: &Dump, what: &str) {
    for ((table, want), (_, got)) in expected.iter().zip(actual) {
        assert_eq!(got.len(), want.len(), "{what}: {table} row count");
        for (w, g) in want.iter().zip(got) {
            assert_eq!(g, w, "{what}: a row of {table}");
        }
    }
}

/// `inspector db copy`; returns (exit code, stdout, stderr).
fn db_copy(from: &str, to: &str, force: bool) -> (i32, String, String) {
    db_copy_with(from, to, force, &[])
}

fn db_copy_with(from: &str, to: &str, force: bool, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["db", "copy", "--from", from, "--to", to];
    if force {
        args.push("--force");
    }
    args.extend(extra);
    run(&args)
}

/// The per-table summary lists every table with equal counts on both sides.
fn assert_summary(out: &str, source: &Dump) {
    for (table, rows) in source.iter().skip(1) {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("no summary line for {table}: {out}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let n = rows.len().to_string();
        assert_eq!(words, [*table, n.as_str(), "→", n.as_str()], "{out}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(bed_upstream_db),
    ignore = "needs the test bed (upstream DB): run scripts/test.sh"
)]
async fn the_upstream_database_copied_to_a_new_file_is_the_same_and_answers_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (source, recorded) = reference(dir.path());
    let (from, to) = (
        sqlite_url(&source),
        sqlite_url(&dir.path().join("copy.sqlite")),
    );
    let before = dump(&from).await;
    assert!(
        before.iter().all(|(table, rows)| match *table {
            "options" => true,
            // Ours: upstream does not have it.
            "inspector_history" => rows.is_empty(),
            _ => !rows.is_empty(),
        }),
        "the reference database should fill every table of upstream's but options: {before:?}"
    );

    let (code, out, err) = db_copy(&from, &to, false);
    assert_eq!(code, 0, "{out}{err}");
    assert_summary(&out, &before);
    assert_same(&before, &dump(&to).await, "the copy");
    assert_same(&before, &dump(&from).await, "the source after the copy");

    let app_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&app_dir);
    config.database.connection = Some(to);
    let app = TestApp::spawn_config(config, app_dir).await;
    assert_recorded_answers(&app, &recorded).await;
    app.finish().await;
}

#[tokio::test]
#[cfg_attr(
    not(bed_upstream_db),
    ignore = "needs the test bed (upstream DB): run scripts/test.sh"
)]
async fn a_target_with_rows_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = reference(dir.path());
    let (from, to) = (
        sqlite_url(&source),
        sqlite_url(&dir.path().join("copy.sqlite")),
    );
    let expected = dump(&from).await;
    let nodes = expected[1].1.len();
    let (code, out, err) = db_copy(&from, &to, false);
    assert_eq!(code, 0, "{out}{err}");

    let (code, out, err) = db_copy(&from, &to, false);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("--to is not empty") && err.contains(&format!("nodes has {nodes} row(s)")),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_same(&expected, &dump(&to).await, "the refused target");

    // Something only the target has, which --force must not keep.
    let target = open(&to).await;
    let extra = inspector::store::NodeRecord {
        uuid: "ffffffff-0000-4000-8000-000000000001".into(),
        state: inspector_core::state::State::Waiting,
        started_at: None,
        finished_at: None,
        error: None,
        manage_boot: true,
    };
    target
        .add_node(&extra, &[("mac", "11:22:33:44:55:66")])
        .await
        .unwrap();
    target.close().await;
    let (code, out, err) = db_copy(&from, &to, true);
    assert_eq!(code, 0, "{out}{err}");
    assert_summary(&out, &expected);
    assert_same(&expected, &dump(&to).await, "the forced copy");
}

#[tokio::test]
async fn copy_errors_name_the_side_and_never_show_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let empty = sqlite_url(&dir.path().join("empty.sqlite"));
    let store = open(&empty).await;
    store.upgrade().await.unwrap();
    store.close().await;
    let target = sqlite_url(&dir.path().join("target.sqlite"));
    // One attempt at an unreachable server, not oslo.db's ten.
    let conf = dir.path().join("inspector.conf");
    std::fs::write(&conf, "[database]\nmax_retries = 0\n").unwrap();
    let one_attempt = ["--config-file", conf.to_str().unwrap()];

    let from = "postgresql://inspector:Secr3t-pw@127.0.0.1:1/nothing";
    let (code, out, err) = db_copy_with(from, &target, false, &one_attempt);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--from"), "{err}");
    assert!(!err.contains("Secr3t-pw"), "{err}");

    let to = "mysql+pymysql://inspector:An0ther%2Fpw@127.0.0.1:1/nothing?charset=utf8";
    let (code, out, err) = db_copy_with(&empty, to, false, &one_attempt);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("--to"), "{err}");
    assert!(
        !err.contains("An0ther") && !err.contains("An0ther/pw"),
        "{err}"
    );

    // A database that is not ironic-inspector's.
    let stranger = dir.path().join("stranger.sqlite");
    std::fs::write(&stranger, b"").unwrap();
    let (code, _, err) = db_copy(&sqlite_url(&stranger), &target, false);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--from") && err.contains("alembic_version"),
        "{err}"
    );

    let (code, _, err) = db_copy(&empty, &empty, true);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("--from and --to name the same database"),
        "{err}"
    );
}

/// Upgrades the database to our schema and gives its first node two runs
/// of history, one with data.
async fn add_history(url: &str) {
    let store = open(url).await;
    store.upgrade().await.unwrap();
    let nodes = read_all(&store, &bulk::NODES).await;
    let node = nodes.first().expect("a node")[0].clone();
    let text = |s: &str| bulk::Cell::Text(s.into());
    let at = time::macros::datetime!(2026-03-04 05:06:07.654321);
    let runs = vec![
        vec![
            text("4a000000-0000-4000-8000-000000000001"),
            node.clone(),
            bulk::Cell::Int(1),
            text("finished"),
            bulk::Cell::Null,
            bulk::Cell::Time(at),
            bulk::Cell::Time(at),
            text(r#"{"inventory": {"memory": {"physical_mb": 4096}}}"#),
        ],
        vec![
            text("4b000000-0000-4000-8000-000000000002"),
            node,
            bulk::Cell::Int(2),
            text("error"),
            text("Introspection timeout"),
            bulk::Cell::Time(at),
            bulk::Cell::Null,
            bulk::Cell::Null,
        ],
    ];
    let mut load = store.begin_load().await.unwrap();
    load.write(&bulk::INSPECTOR_HISTORY, &runs).await.unwrap();
    load.commit().await.unwrap();
    store.close().await;
}

/// Copies and returns the rate line of the summary (for the report).
fn copy_step(from: &str, to: &str, expected: &Dump) -> String {
    let (code, out, err) = db_copy(from, to, false);
    assert_eq!(code, 0, "{from} → {to}: {out}{err}");
    assert_summary(&out, expected);
    out.lines().last().unwrap_or_default().to_string()
}

/// The dump as MySQL keeps it: upstream's DATETIME columns there hold
/// whole seconds.
fn to_whole_seconds(dump: &Dump) -> Dump {
    let truncate = |cell: &bulk::Cell| match cell {
        bulk::Cell::Time(t) => bulk::Cell::Time(t.replace_nanosecond(0).unwrap()),
        other => other.clone(),
    };
    dump.iter()
        .map(|(table, rows)| {
            let rows = rows
                .iter()
                .map(|row| row.iter().map(truncate).collect())
                .collect();
            (*table, rows)
        })
        .collect()
}

#[tokio::test]
#[cfg_attr(
    not(all(bed_upstream_db, bed_postgres, bed_mysql)),
    ignore = "needs the test bed (upstream DB, PostgreSQL, MariaDB): run scripts/test.sh"
)]
async fn a_round_trip_through_postgresql_and_mysql_brings_back_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let (source, recorded) = reference(dir.path());
    let from = sqlite_url(&source);
    add_history(&from).await;
    let expected = dump(&from).await;
    let seconds = to_whole_seconds(&expected);
    assert_ne!(
        expected, seconds,
        "the reference should have fractional timestamps"
    );
    let (_postgres_db, postgres) = ScratchDatabase::create(&Backend::Postgresql.admin_url())
        .await
        .unwrap();
    let (_mysql_db, mysql) = ScratchDatabase::create(&Backend::Mysql.admin_url())
        .await
        .unwrap();
    let back = sqlite_url(&dir.path().join("back.sqlite"));

    let rate = copy_step(&from, &postgres, &expected);
    eprintln!("sqlite → postgresql: {rate}");
    assert_same(&expected, &dump(&postgres).await, "the PostgreSQL copy");
    let rate = copy_step(&postgres, &mysql, &expected);
    eprintln!("postgresql → mysql: {rate}");
    assert_same(&seconds, &dump(&mysql).await, "the MySQL copy");
    let rate = copy_step(&mysql, &back, &expected);
    eprintln!("mysql → sqlite: {rate}");
    assert_same(
        &seconds,
        &dump(&back).await,
        "the SQLite copy of the MySQL copy",
    );

    // The PostgreSQL copy serves what upstream served.
    let app_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&app_dir);
    config.database.connection = Some(postgres.clone());
    let app = TestApp::spawn_config(config, app_dir).await;
    assert_recorded_answers(&app, &recorded).await;
    app.finish().await;
}

//! The contract of the raw bulk methods (`read_page`, `count_rows`,
//! `begin_load`) that `inspector db copy` is built on: every column of
//! every table reads back as written, odd values included, page after
//! page; a load is one transaction; and the service's own methods work on
//! what a load wrote.

use inspector_core::state::State;
use time::macros::datetime;

use crate::store::StoreBackend;
use crate::store::bulk::{self, Cell, Row, Table};

const NODE_A: &str = "1a000000-0000-4000-8000-000000000001";
const NODE_B: &str = "1b000000-0000-4000-8000-000000000002";
const RULE_A: &str = "2a000000-0000-4000-8000-000000000001";
const RULE_B: &str = "2b000000-0000-4000-8000-000000000002";
const RUN_A: &str = "4a000000-0000-4000-8000-000000000001";
const RUN_B: &str = "4b000000-0000-4000-8000-000000000002";
/// More attribute rows than one INSERT batch and one read page hold.
const MANY: usize = 1203;

fn text(s: &str) -> Cell {
    Cell::Text(s.into())
}

/// Rows for every table, in key order, with NULL in every nullable column
/// somewhere, non-ASCII text, a large document and non-contiguous ids.
fn sample() -> Vec<(&'static Table, Vec<Row>)> {
    // Characters of the Basic Multilingual Plane only: upstream's MySQL
    // tables are `utf8` (three bytes a character at most).
    let unicode = "ünïcødé ✓ €→ 中文 \"quoted\" 'single' \\ back\nslash\ttab";
    let large = format!(r#"{{"blob":"{}"}}"#, "x€".repeat(1_500_000));
    let attributes = (0..MANY)
        .map(|i| {
            vec![
                text(&format!("3a000000-0000-4000-8000-{i:012}")),
                text(if i % 2 == 0 { "bmc_address" } else { "mac" }),
                if i == 7 {
                    Cell::Null
                } else {
                    text(&format!("value {i} {unicode}"))
                },
                text(if i % 3 == 0 { NODE_A } else { NODE_B }),
            ]
        })
        .collect();
    vec![
        (
            &bulk::NODES,
            vec![
                vec![
                    text(NODE_A),
                    Cell::Null,
                    Cell::Null,
                    text("waiting"),
                    Cell::Time(datetime!(2026-01-02 03:04:05.123456)),
                    Cell::Null,
                    Cell::Null,
                ],
                vec![
                    text(NODE_B),
                    text(unicode),
                    text("d3b07384-d113-4ec6-a4d4-f3a6a3e5f0c1"),
                    text("error"),
                    Cell::Null,
                    Cell::Time(datetime!(2026-01-02 03:14:05)),
                    Cell::Bool(false),
                ],
            ],
        ),
        (&bulk::ATTRIBUTES, attributes),
        (
            &bulk::OPTIONS,
            vec![
                vec![text(NODE_A), text("new_ipmi_credentials"), Cell::Null],
                vec![text(NODE_A), text("z"), text(unicode)],
                vec![text(NODE_B), text("a"), text("[\"x\", 1]")],
            ],
        ),
        (
            &bulk::INTROSPECTION_DATA,
            vec![
                vec![text(NODE_A), Cell::Bool(false), text(&large)],
                vec![text(NODE_A), Cell::Bool(true), Cell::Null],
                vec![text(NODE_B), Cell::Bool(true), text(unicode)],
            ],
        ),
        (
            &bulk::RULES,
            vec![
                vec![
                    text(RULE_A),
                    Cell::Time(datetime!(2025-12-31 23:59:59.999999)),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                ],
                vec![
                    text(RULE_B),
                    Cell::Time(datetime!(2026-01-01 00:00:00)),
                    text(unicode),
                    Cell::Bool(true),
                    text("scope ✓"),
                ],
            ],
        ),
        (
            &bulk::RULE_CONDITIONS,
            vec![
                // Id 1: what a fresh sequence would hand out next.
                vec![
                    Cell::Int(1),
                    text(RULE_B),
                    text("eq"),
                    text("any"),
                    text("data://memory_mb"),
                    text(r#"{"value": 1024}"#),
                    Cell::Bool(true),
                ],
                vec![
                    Cell::Int(1000),
                    text(RULE_B),
                    text("is-empty"),
                    text("all"),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                ],
            ],
        ),
        (
            &bulk::RULE_ACTIONS,
            vec![
                vec![
                    Cell::Int(1),
                    text(RULE_B),
                    text("fail"),
                    text(r#"{"message": "ünïcødé"}"#),
                ],
                vec![Cell::Int(77), Cell::Null, text("orphan"), Cell::Null],
            ],
        ),
        (
            &bulk::INSPECTOR_HISTORY,
            vec![
                // A run number beyond 32 bits: the column is BIGINT.
                vec![
                    text(RUN_A),
                    text(NODE_B),
                    Cell::Int(5_000_000_000),
                    text("error"),
                    text(unicode),
                    Cell::Time(datetime!(2026-01-02 03:04:05.5)),
                    Cell::Time(datetime!(2026-01-02 03:14:05)),
                    Cell::Null,
                ],
                vec![
                    text(RUN_B),
                    text(NODE_B),
                    Cell::Int(1),
                    text("finished"),
                    Cell::Null,
                    Cell::Null,
                    Cell::Null,
                    text(r#"{"inventory": {"memory": {"physical_mb": 2048}}}"#),
                ],
            ],
        ),
    ]
}

async fn load_sample(store: &dyn StoreBackend) -> Vec<(&'static Table, Vec<Row>)> {
    let sample = sample();
    let mut load = store.begin_load().await.unwrap();
    for (table, rows) in &sample {
        load.write(table, rows).await.unwrap();
    }
    load.commit().await.unwrap();
    sample
}

/// Every row of the table, read `page` rows at a time after the last key.
async fn read_all(store: &dyn StoreBackend, table: &'static Table, page: u32) -> Vec<Row> {
    let mut all: Vec<Row> = Vec::new();
    loop {
        let after = all.last().map(|row| row[..table.key].to_vec());
        let rows = store
            .read_page(table, after.as_deref(), page)
            .await
            .unwrap();
        assert!(rows.len() <= page as usize, "{}: page too long", table.name);
        let done = rows.len() < page as usize;
        all.extend(rows);
        if done {
            return all;
        }
    }
}

/// The rows as the store keeps them: timestamps to its precision.
fn as_kept(store: &dyn StoreBackend, rows: &[Row]) -> Vec<Row> {
    let precision = store.timestamp_precision();
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Cell::Time(t) => Cell::Time(precision.apply(*t)),
                    other => other.clone(),
                })
                .collect()
        })
        .collect()
}

/// Every table round-trips through a load and paged reads, cell for cell
/// (timestamps to the store's precision), with pages smaller and larger
/// than a table.
pub async fn bulk_rows_read_back_as_written_page_by_page(store: &dyn StoreBackend) {
    let sample = load_sample(store).await;
    for (table, rows) in &sample {
        let rows = &as_kept(store, rows);
        assert_eq!(
            store.count_rows(table).await.unwrap(),
            rows.len() as u64,
            "{}",
            table.name
        );
        for page in [2, 500] {
            let read = read_all(store, table, page).await;
            assert!(
                read == *rows,
                "{}: read back differs (page {page})",
                table.name
            );
        }
    }
    let alembic = store
        .read_page(&bulk::ALEMBIC_VERSION, None, 10)
        .await
        .unwrap();
    assert_eq!(alembic, vec![vec![text(crate::store::ALEMBIC_HEAD)]]);
    for table in bulk::TABLES {
        assert!(store.has_table(table).await.unwrap(), "{}", table.name);
    }
}

/// What a load wrote is the service's data: nodes, lookup attributes,
/// stored data and rules read through the ordinary methods, and new rules
/// get ids that do not collide with the copied ones.
pub async fn bulk_loaded_rows_serve_the_service(store: &dyn StoreBackend) {
    load_sample(store).await;
    let a = store.get_node(NODE_A).await.unwrap().expect("node A");
    assert_eq!(a.state, State::Waiting);
    let started = store
        .timestamp_precision()
        .apply(datetime!(2026-01-02 03:04:05.123456));
    assert_eq!(a.started_at, Some(started));
    let b = store.get_node(NODE_B).await.unwrap().expect("node B");
    assert!(!b.manage_boot);
    assert!(b.error.unwrap().starts_with("ünïcødé ✓ €→ 中文"));
    let attributes = store.node_attributes(NODE_A).await.unwrap();
    assert_eq!(attributes.len(), MANY.div_ceil(3));
    let data = store.get_data(NODE_A, false).await.unwrap().unwrap();
    assert_eq!(data.len(), r#"{"blob":""}"#.len() + 4 * 1_500_000);
    let rule = store.get_rule(RULE_B).await.unwrap().expect("rule B");
    assert_eq!(rule.conditions.len(), 2);
    assert!(rule.conditions[0].invert);
    assert_eq!(rule.actions.len(), 1);
    let mut new = rule.clone();
    new.uuid = "2c000000-0000-4000-8000-000000000003".into();
    store.create_rule(&new).await.unwrap();
    assert_eq!(
        store.get_rule(&new.uuid).await.unwrap().unwrap().conditions,
        rule.conditions
    );
    assert_eq!(store.count_rows(&bulk::RULE_CONDITIONS).await.unwrap(), 4);
    let runs = store.runs(NODE_B).await.unwrap();
    let ids: Vec<&str> = runs.iter().map(|run| run.id.as_str()).collect();
    assert_eq!(ids, [RUN_A, RUN_B], "newest run first");
    assert_eq!(runs[0].state, State::Error);
    assert!(!runs[0].has_data && runs[1].has_data);
    let data = store
        .run_data(NODE_B, RUN_B)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(data.contains("2048"), "{data}");
}

/// A load is one transaction: dropped uncommitted it leaves nothing, and
/// `clear` empties every table only when committed.
pub async fn a_bulk_load_is_one_transaction(store: &dyn StoreBackend) {
    let mut load = store.begin_load().await.unwrap();
    for (table, rows) in &sample() {
        load.write(table, rows).await.unwrap();
        assert_eq!(load.count_rows(table).await.unwrap(), rows.len() as u64);
    }
    drop(load);
    for table in bulk::TABLES {
        assert_eq!(store.count_rows(table).await.unwrap(), 0, "{}", table.name);
    }
    load_sample(store).await;
    let mut load = store.begin_load().await.unwrap();
    load.clear().await.unwrap();
    for table in bulk::TABLES {
        assert_eq!(load.count_rows(table).await.unwrap(), 0, "{}", table.name);
    }
    drop(load);
    assert_eq!(
        store.count_rows(&bulk::ATTRIBUTES).await.unwrap(),
        MANY as u64
    );
    let mut load = store.begin_load().await.unwrap();
    load.clear().await.unwrap();
    load.commit().await.unwrap();
    for table in bulk::TABLES {
        assert_eq!(store.count_rows(table).await.unwrap(), 0, "{}", table.name);
    }
}

/// A row that does not fit its table is refused, not half-written.
pub async fn a_bulk_row_of_the_wrong_shape_is_refused(store: &dyn StoreBackend) {
    let mut load = store.begin_load().await.unwrap();
    let short = vec![vec![text(NODE_A)]];
    assert!(load.write(&bulk::NODES, &short).await.is_err());
    let wrong = vec![vec![text(NODE_A), Cell::Int(1), text("x")]];
    assert!(load.write(&bulk::OPTIONS, &wrong).await.is_err());
}

//! The store contract: what the rest of the service relies on from any
//! [`StoreBackend`], written against the trait alone. Each function checks
//! one behaviour on a fresh, upgraded, empty store; a backend runs them all
//! with [`store_contract!`] (see the tests of `sqlite.rs`). The suite lives
//! with the library's unit tests so that `cargo test` runs it with no
//! external service; a backend that needs a server instantiates it where
//! that server is provided.

use inspector_core::state::State;
use serde_json::{Map, json};
use time::PrimitiveDateTime;
use time::macros::datetime;

mod bulk;
pub use bulk::*;

use super::{
    ActionRecord, ConditionRecord, KeepRun, LeaseRecord, ListQuery, NodeRecord, RuleRecord,
    RuleSummary, RulesVersion, RunRecord, StoreBackend, StoreError,
};

const A: &str = "0a000000-0000-4000-8000-000000000001";
const B: &str = "0b000000-0000-4000-8000-000000000002";
const C: &str = "0c000000-0000-4000-8000-000000000003";
const D: &str = "0d000000-0000-4000-8000-000000000004";

fn node(uuid: &str, state: State, started_at: PrimitiveDateTime) -> NodeRecord {
    NodeRecord {
        uuid: uuid.into(),
        state,
        started_at: Some(started_at),
        finished_at: None,
        error: None,
        manage_boot: true,
    }
}

fn object(value: serde_json::Value) -> Map<String, serde_json::Value> {
    value.as_object().cloned().expect("an object")
}

async fn get(store: &dyn StoreBackend, uuid: &str) -> NodeRecord {
    store.get_node(uuid).await.unwrap().expect("the node row")
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// The schema is current after `upgrade`, a second upgrade changes
/// nothing, and the database answers.
pub async fn schema_is_current_and_upgrade_is_repeatable(store: &dyn StoreBackend) {
    store.check_schema().await.unwrap();
    let again = store.upgrade().await.unwrap();
    assert!(!again.created_schema && !again.adopted_upstream);
    assert!(again.applied.is_empty(), "{again:?}");
    store.check_schema().await.unwrap();
    store.ping().await.unwrap();
}

/// A node row reads back as written, every field included; an unknown
/// node is `None`.
pub async fn node_rows_read_back_as_written(store: &dyn StoreBackend) {
    assert_eq!(store.get_node(A).await.unwrap(), None);
    let kept = |t| store.timestamp_precision().apply(t);
    let mut row = node(A, State::Waiting, datetime!(2026-01-02 03:04:05.123456));
    row.manage_boot = false;
    store.add_node(&row, &[]).await.unwrap();
    row.started_at = row.started_at.map(kept);
    assert_eq!(get(store, A).await, row);
    let mut finished = NodeRecord {
        uuid: B.into(),
        state: State::Error,
        started_at: Some(datetime!(2026-01-01 00:00:00)),
        finished_at: Some(datetime!(2026-01-01 00:10:00.5)),
        error: Some("it broke".into()),
        manage_boot: true,
    };
    store.add_node(&finished, &[]).await.unwrap();
    finished.finished_at = finished.finished_at.map(kept);
    assert_eq!(get(store, B).await, finished);
    assert_eq!(store.get_node(C).await.unwrap(), None);
}

/// Adding a node again replaces its row and forgets its attributes and
/// stored data: a new introspection starts from nothing.
pub async fn adding_a_node_again_replaces_everything_cached(store: &dyn StoreBackend) {
    let first = node(A, State::Error, datetime!(2026-01-01 00:00:00));
    store
        .add_node(&first, &[("bmc_address", "10.0.0.1"), ("mac", "aa")])
        .await
        .unwrap();
    store.store_data(A, false, "{}").await.unwrap();
    store.store_data(A, true, "{}").await.unwrap();
    let second = node(A, State::Starting, datetime!(2026-01-02 00:00:00));
    store
        .add_node(&second, &[("bmc_address", "10.0.0.2")])
        .await
        .unwrap();
    assert_eq!(get(store, A).await, second);
    assert_eq!(
        store.node_attributes(A).await.unwrap(),
        pairs(&[("bmc_address", "10.0.0.2")])
    );
    assert_eq!(store.get_data(A, false).await.unwrap(), None);
    assert_eq!(store.get_data(A, true).await.unwrap(), None);
    assert_eq!(store.all_node_uuids().await.unwrap(), vec![A.to_string()]);
}

/// `update_state` is a compare-and-set on the state: it moves the node
/// only from the state given, and touches nothing else.
pub async fn update_state_is_a_compare_and_set(store: &dyn StoreBackend) {
    let row = node(A, State::Waiting, datetime!(2026-01-01 00:00:00));
    store.add_node(&row, &[("mac", "aa")]).await.unwrap();
    store
        .update_state(A, State::Waiting, State::Processing)
        .await
        .unwrap();
    let moved = get(store, A).await;
    assert_eq!(moved.state, State::Processing);
    assert_eq!(moved.finished_at, None);
    assert_eq!(moved.started_at, row.started_at);
    assert_eq!(
        store.node_attributes(A).await.unwrap(),
        pairs(&[("mac", "aa")])
    );
    let stale = store
        .update_state(A, State::Waiting, State::Error)
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");
    assert_eq!(get(store, A).await.state, State::Processing);
    let gone = store
        .update_state(B, State::Waiting, State::Processing)
        .await
        .unwrap_err();
    assert!(matches!(gone, StoreError::Conflict { .. }), "{gone:?}");
}

/// Exactly one of racing writes succeeded; every other one failed as
/// `lost` says a loser fails.
fn exactly_one_won(outcomes: &[Result<(), StoreError>], lost: fn(&StoreError) -> bool) {
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|o| o.as_ref().err().is_none_or(lost)),
        "{outcomes:?}"
    );
}

fn conflict(err: &StoreError) -> bool {
    matches!(err, StoreError::Conflict { .. })
}

/// Racing state changes of one node, each on its own connection: exactly
/// one moves it, every other one is a `Conflict`, for `update_state` as
/// for `finish`.
pub async fn concurrent_state_changes_have_one_winner(store: &dyn StoreBackend) {
    let row = node(A, State::Waiting, datetime!(2026-01-01 00:00:00));
    store.add_node(&row, &[("mac", "aa")]).await.unwrap();
    let to = |to| store.update_state(A, State::Waiting, to);
    let outcomes = tokio::join!(
        to(State::Processing),
        to(State::Error),
        to(State::Processing),
        to(State::Aborting),
        to(State::Processing),
        to(State::Error),
    );
    exactly_one_won(
        &[
            outcomes.0, outcomes.1, outcomes.2, outcomes.3, outcomes.4, outcomes.5,
        ],
        conflict,
    );
    let moved = get(store, A).await.state;
    // Away from the state the race left: finishing into the same state
    // would match every writer's `from` and let them all win.
    let last = if moved == State::Error {
        State::Finished
    } else {
        State::Error
    };
    let at = datetime!(2026-01-01 00:01:00);
    let end = |error| store.finish(A, moved, last, at, Some(error));
    let outcomes = tokio::join!(end("one"), end("two"), end("three"), end("four"));
    exactly_one_won(&[outcomes.0, outcomes.1, outcomes.2, outcomes.3], conflict);
    let done = get(store, A).await;
    assert_eq!(done.state, last);
    assert!(store.node_attributes(A).await.unwrap().is_empty());
}

/// `finish` writes state, `finished_at` and `error` together and drops the
/// lookup attributes, keeping stored data; from a stale state it is a
/// `Conflict` and writes nothing.
pub async fn finish_ends_the_introspection_in_one_write(store: &dyn StoreBackend) {
    let row = node(A, State::Processing, datetime!(2026-01-01 00:00:00));
    store
        .add_node(&row, &[("mac", "aa"), ("bmc_address", "10.0.0.1")])
        .await
        .unwrap();
    store.store_data(A, true, r#"{"x":1}"#).await.unwrap();
    let stale = store
        .finish(
            A,
            State::Waiting,
            State::Error,
            datetime!(2026-01-01 00:05:00),
            Some("late"),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");
    assert_eq!(get(store, A).await, row);
    assert_eq!(store.node_attributes(A).await.unwrap().len(), 2);

    let at = datetime!(2026-01-01 00:06:00.25);
    store
        .finish(A, State::Processing, State::Error, at, Some("it broke"))
        .await
        .unwrap();
    let done = get(store, A).await;
    assert_eq!(done.state, State::Error);
    assert_eq!(
        done.finished_at,
        Some(store.timestamp_precision().apply(at))
    );
    assert_eq!(done.error.as_deref(), Some("it broke"));
    assert_eq!(done.started_at, row.started_at);
    assert!(store.node_attributes(A).await.unwrap().is_empty());
    assert!(
        store
            .find_by_attributes(&pairs(&[("mac", "aa")]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_data(A, true).await.unwrap().as_deref(),
        Some(r#"{"x":1}"#)
    );

    // A successful finish has no error.
    let ok = node(B, State::Processing, datetime!(2026-01-01 00:00:00));
    store.add_node(&ok, &[]).await.unwrap();
    store
        .finish(B, State::Processing, State::Finished, at, None)
        .await
        .unwrap();
    let done = get(store, B).await;
    assert_eq!((done.state, done.error), (State::Finished, None));
    let gone = store
        .finish(C, State::Processing, State::Finished, at, None)
        .await
        .unwrap_err();
    assert!(matches!(gone, StoreError::Conflict { .. }), "{gone:?}");
}

/// Reapply rewrites `started_at` only; an unknown node is `NotFound`.
pub async fn set_started_at_rewrites_only_the_start(store: &dyn StoreBackend) {
    let mut row = node(A, State::Finished, datetime!(2026-01-01 00:00:00));
    row.finished_at = Some(datetime!(2026-01-01 00:01:00));
    store.add_node(&row, &[]).await.unwrap();
    let later = datetime!(2026-02-01 00:00:00);
    store.set_started_at(A, later).await.unwrap();
    row.started_at = Some(later);
    assert_eq!(get(store, A).await, row);
    let gone = store.set_started_at(B, later).await.unwrap_err();
    assert!(matches!(gone, StoreError::NotFound { .. }), "{gone:?}");
}

/// Deleting a node removes its row, attributes and stored data; deleting
/// an unknown node is not an error.
pub async fn delete_node_forgets_everything(store: &dyn StoreBackend) {
    let row = node(A, State::Waiting, datetime!(2026-01-01 00:00:00));
    store.add_node(&row, &[("mac", "aa")]).await.unwrap();
    store.store_data(A, false, "{}").await.unwrap();
    let other = node(B, State::Waiting, datetime!(2026-01-01 00:00:00));
    store.add_node(&other, &[("mac", "bb")]).await.unwrap();
    store.delete_node(A).await.unwrap();
    assert_eq!(store.get_node(A).await.unwrap(), None);
    assert!(store.node_attributes(A).await.unwrap().is_empty());
    assert_eq!(store.get_data(A, false).await.unwrap(), None);
    assert_eq!(store.active_macs().await.unwrap(), vec!["bb".to_string()]);
    assert_eq!(store.all_node_uuids().await.unwrap(), vec![B.to_string()]);
    store.delete_node(C).await.unwrap();
}

const RUN_1: &str = "1f000000-0000-4000-8000-000000000001";
const RUN_2: &str = "2f000000-0000-4000-8000-000000000002";
const RUN_3: &str = "3f000000-0000-4000-8000-000000000003";

/// One introspection of `uuid` from start to end, its run recorded.
async fn introspect(
    store: &dyn StoreBackend,
    uuid: &str,
    run: &str,
    outcome: (State, Option<&str>),
    data: Option<&str>,
    depth: u32,
) -> NodeRecord {
    let started = datetime!(2026-01-01 00:00:00);
    store
        .add_node(&node(uuid, State::Processing, started), &[])
        .await
        .unwrap();
    if let Some(data) = data {
        store.store_data(uuid, true, data).await.unwrap();
    }
    let (state, error) = outcome;
    let keep = KeepRun {
        id: run,
        with_data: data.is_some(),
        depth,
    };
    store
        .finish_keeping(
            uuid,
            State::Processing,
            state,
            datetime!(2026-01-01 00:05:00.5),
            error,
            Some(keep),
        )
        .await
        .unwrap();
    get(store, uuid).await
}

/// A recorded run keeps the node's outcome (state, error, start and end)
/// and its processed data; runs list newest first, per node, and a new
/// introspection of the node keeps them.
pub async fn runs_keep_each_outcome_newest_first(store: &dyn StoreBackend) {
    assert!(store.runs(A).await.unwrap().is_empty());
    let first = introspect(
        store,
        A,
        RUN_1,
        (State::Finished, None),
        Some(r#"{"n":1}"#),
        10,
    )
    .await;
    let second = introspect(store, A, RUN_2, (State::Error, Some("it broke")), None, 10).await;
    introspect(store, B, RUN_3, (State::Finished, None), Some("{}"), 10).await;
    let runs = store.runs(A).await.unwrap();
    let expected = |id: &str, node: &NodeRecord, has_data| RunRecord {
        id: id.into(),
        node_uuid: A.into(),
        state: node.state,
        error: node.error.clone(),
        started_at: node.started_at,
        finished_at: node.finished_at,
        has_data,
    };
    assert_eq!(
        runs,
        [
            expected(RUN_2, &second, false),
            expected(RUN_1, &first, true)
        ]
    );
    assert_eq!(
        store.run_data(A, RUN_1).await.unwrap(),
        Some(Some(r#"{"n":1}"#.into()))
    );
    assert_eq!(store.run_data(A, RUN_2).await.unwrap(), Some(None));
    // A run of another node, an unknown run.
    assert_eq!(store.run_data(A, RUN_3).await.unwrap(), None);
    assert_eq!(store.run_data(C, RUN_1).await.unwrap(), None);
    assert_eq!(store.runs(B).await.unwrap().len(), 1);
    // A finish that loses its race keeps nothing.
    let keep = KeepRun {
        id: RUN_3,
        with_data: true,
        depth: 10,
    };
    let at = datetime!(2026-01-01 00:09:00);
    let stale = store
        .finish_keeping(A, State::Waiting, State::Error, at, None, Some(keep))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale:?}");
    assert_eq!(store.runs(A).await.unwrap().len(), 2);
}

async fn run_ids(store: &dyn StoreBackend, uuid: &str) -> Vec<String> {
    let runs = store.runs(uuid).await.unwrap();
    runs.into_iter().map(|r| r.id).collect()
}

/// Only the newest `depth` runs of a node are kept; deleting the node
/// deletes its history.
pub async fn runs_beyond_the_depth_are_dropped(store: &dyn StoreBackend) {
    for run in [RUN_1, RUN_2, RUN_3] {
        introspect(store, A, run, (State::Finished, None), Some("{}"), 2).await;
    }
    introspect(
        store,
        B,
        RUN_1.replace('1', "4").as_str(),
        (State::Finished, None),
        None,
        2,
    )
    .await;
    let ids = run_ids(store, A).await;
    assert_eq!(ids, [RUN_3, RUN_2]);
    assert_eq!(store.run_data(A, RUN_1).await.unwrap(), None);
    // A smaller depth drops more at the next run.
    let last = "5f000000-0000-4000-8000-000000000005";
    introspect(store, A, last, (State::Finished, None), None, 1).await;
    let ids = run_ids(store, A).await;
    assert_eq!(ids, [last]);
    store.delete_node(A).await.unwrap();
    assert!(store.runs(A).await.unwrap().is_empty());
    assert_eq!(store.runs(B).await.unwrap().len(), 1);
}

/// Listing: newest `started_at` first, equal starts by UUID descending;
/// `limit` cuts the page, the marker starts after its node, the states
/// filter keeps only those states; an unknown marker is `NotFound`.
pub async fn list_nodes_pages_newest_first(store: &dyn StoreBackend) {
    let t1 = datetime!(2026-01-01 00:00:01);
    let t2 = datetime!(2026-01-01 00:00:02);
    store
        .add_node(&node(A, State::Waiting, t1), &[])
        .await
        .unwrap();
    store
        .add_node(&node(B, State::Finished, t2), &[])
        .await
        .unwrap();
    store
        .add_node(&node(C, State::Error, t2), &[])
        .await
        .unwrap();
    store
        .add_node(&node(D, State::Waiting, t1), &[])
        .await
        .unwrap();
    let uuids = |rows: Vec<NodeRecord>| rows.into_iter().map(|r| r.uuid).collect::<Vec<_>>();
    let page = |states: Vec<State>, marker: Option<&str>, limit| ListQuery {
        states,
        marker: marker.map(String::from),
        limit,
    };
    let all = store.list_nodes(&page(vec![], None, 10)).await.unwrap();
    assert_eq!(all[0], get(store, C).await, "whole rows are returned");
    assert_eq!(uuids(all), [C, B, D, A]);
    assert_eq!(
        uuids(store.list_nodes(&page(vec![], None, 2)).await.unwrap()),
        [C, B]
    );
    assert_eq!(
        uuids(store.list_nodes(&page(vec![], Some(B), 10)).await.unwrap()),
        [D, A]
    );
    assert_eq!(
        uuids(store.list_nodes(&page(vec![], Some(C), 2)).await.unwrap()),
        [B, D]
    );
    assert!(
        store
            .list_nodes(&page(vec![], Some(A), 10))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        uuids(
            store
                .list_nodes(&page(vec![State::Waiting], None, 10))
                .await
                .unwrap()
        ),
        [D, A]
    );
    assert_eq!(
        uuids(
            store
                .list_nodes(&page(vec![State::Error, State::Finished], Some(C), 10))
                .await
                .unwrap()
        ),
        [B]
    );
    let missing = store
        .list_nodes(&page(
            vec![],
            Some("0f000000-0000-4000-8000-00000000000f"),
            10,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(missing, StoreError::NotFound { .. }),
        "{missing:?}"
    );
}

/// Lookup attributes: empty values are never stored, and a node's
/// attributes come back sorted by name then value.
pub async fn lookup_attributes_are_added_and_listed(store: &dyn StoreBackend) {
    let row = node(A, State::Starting, datetime!(2026-01-01 00:00:00));
    store
        .add_node(&row, &[("bmc_address", "10.0.0.1"), ("bmc_address", "")])
        .await
        .unwrap();
    store
        .add_attributes(A, "mac", &["bb".into(), String::new(), "aa".into()])
        .await
        .unwrap();
    assert_eq!(
        store.node_attributes(A).await.unwrap(),
        pairs(&[("bmc_address", "10.0.0.1"), ("mac", "aa"), ("mac", "bb")])
    );
    assert!(store.node_attributes(B).await.unwrap().is_empty());
}

/// Lookup scores: each node with how many distinct non-empty (name,
/// value) pairs of the query it owns, by UUID. The domain takes the best
/// score and refuses a tie, so equal scores must come back equal.
pub async fn lookup_scores_count_distinct_matching_pairs(store: &dyn StoreBackend) {
    let t = datetime!(2026-01-01 00:00:00);
    store
        .add_node(
            &node(A, State::Waiting, t),
            &[("bmc_address", "10.0.0.1"), ("mac", "aa"), ("mac", "ab")],
        )
        .await
        .unwrap();
    store
        .add_node(&node(B, State::Waiting, t), &[("mac", "bb"), ("mac", "ab")])
        .await
        .unwrap();
    store
        .add_node(&node(C, State::Waiting, t), &[("bmc_address", "10.0.0.3")])
        .await
        .unwrap();
    let scores = |items: &[(&str, &str)]| {
        let query = pairs(items);
        async move { store.find_by_attributes(&query).await.unwrap() }
    };
    let score = |uuid: &str, n: u32| (uuid.to_string(), n);
    assert_eq!(
        scores(&[("bmc_address", "10.0.0.1"), ("mac", "aa"), ("mac", "ab")]).await,
        [score(A, 3), score(B, 1)]
    );
    // A tie: the domain must see both nodes with the same score.
    assert_eq!(scores(&[("mac", "ab")]).await, [score(A, 1), score(B, 1)]);
    // A repeated pair counts once; an empty value never matches.
    assert_eq!(
        scores(&[
            ("mac", "bb"),
            ("mac", "bb"),
            ("mac", ""),
            ("bmc_address", "")
        ])
        .await,
        [score(B, 1)]
    );
    // The name matters, not only the value.
    assert!(scores(&[("mac", "10.0.0.3")]).await.is_empty());
    assert_eq!(scores(&[("bmc_address", "10.0.0.3")]).await, [score(C, 1)]);
    assert!(scores(&[]).await.is_empty());
    // Many pairs at once (a machine with many NICs, or a hostile body).
    let mut many: Vec<(String, String)> = (0..1000)
        .map(|i| ("mac".to_string(), format!("ff:{i:04}")))
        .collect();
    many.push(("mac".into(), "bb".into()));
    many.push(("mac".into(), "ab".into()));
    assert_eq!(
        store.find_by_attributes(&many).await.unwrap(),
        [score(A, 1), score(B, 2)]
    );
}

/// What periodic work and the PXE filter read: running nodes started
/// before a time, running nodes in given states, whether any runs, the
/// MACs of running nodes, every cached UUID, and counts by state.
pub async fn periodic_queries_see_only_what_they_ask_for(store: &dyn StoreBackend) {
    let early = datetime!(2026-01-01 00:00:00);
    let late = datetime!(2026-01-01 01:00:00);
    assert!(!store.any_active().await.unwrap());
    store
        .add_node(
            &node(A, State::Waiting, early),
            &[("mac", "aa"), ("bmc_address", "10.0.0.1")],
        )
        .await
        .unwrap();
    store
        .add_node(&node(B, State::Processing, late), &[("mac", "bb")])
        .await
        .unwrap();
    store
        .add_node(&node(C, State::Processing, early), &[("mac", "cc")])
        .await
        .unwrap();
    store
        .finish(C, State::Processing, State::Finished, late, None)
        .await
        .unwrap();
    let mut finished_early = node(D, State::Error, early);
    finished_early.finished_at = Some(early);
    store.add_node(&finished_early, &[]).await.unwrap();

    let uuids = |rows: Vec<NodeRecord>| {
        let mut uuids: Vec<String> = rows.into_iter().map(|r| r.uuid).collect();
        uuids.sort();
        uuids
    };
    assert!(store.any_active().await.unwrap());
    let timed_out = store
        .active_started_before(datetime!(2026-01-01 00:30:00))
        .await
        .unwrap();
    assert_eq!(timed_out, vec![get(store, A).await]);
    assert_eq!(uuids(store.active_started_before(late).await.unwrap()), [A]);
    assert_eq!(
        uuids(
            store
                .active_started_before(datetime!(2026-01-01 02:00:00))
                .await
                .unwrap()
        ),
        [A, B]
    );
    assert_eq!(
        uuids(
            store
                .active_nodes_in(&[State::Processing, State::Finished])
                .await
                .unwrap()
        ),
        [B]
    );
    assert_eq!(
        uuids(
            store
                .active_nodes_in(&[State::Waiting, State::Processing])
                .await
                .unwrap()
        ),
        [A, B]
    );
    let mut macs = store.active_macs().await.unwrap();
    macs.sort();
    assert_eq!(macs, ["aa", "bb"]);
    let mut all = store.all_node_uuids().await.unwrap();
    all.sort();
    assert_eq!(all, [A, B, C, D]);
    assert_eq!(
        store.count_by_state().await.unwrap(),
        [
            ("error".to_string(), 1),
            ("finished".to_string(), 1),
            ("processing".to_string(), 1),
            ("waiting".to_string(), 1),
        ]
    );
    store
        .finish(A, State::Waiting, State::Error, late, Some("timeout"))
        .await
        .unwrap();
    store
        .finish(B, State::Processing, State::Finished, late, None)
        .await
        .unwrap();
    assert!(!store.any_active().await.unwrap());
    assert!(store.active_macs().await.unwrap().is_empty());
}

/// Stored data: processed and unprocessed documents are kept apart, and
/// storing again replaces.
pub async fn stored_data_is_kept_per_node_and_kind(store: &dyn StoreBackend) {
    let row = node(A, State::Processing, datetime!(2026-01-01 00:00:00));
    store.add_node(&row, &[]).await.unwrap();
    assert_eq!(store.get_data(A, false).await.unwrap(), None);
    store.store_data(A, false, r#"{"raw":1}"#).await.unwrap();
    assert_eq!(store.get_data(A, true).await.unwrap(), None);
    store.store_data(A, true, r#"{"done":1}"#).await.unwrap();
    store.store_data(A, false, r#"{"raw":2}"#).await.unwrap();
    assert_eq!(
        store.get_data(A, false).await.unwrap().as_deref(),
        Some(r#"{"raw":2}"#)
    );
    assert_eq!(
        store.get_data(A, true).await.unwrap().as_deref(),
        Some(r#"{"done":1}"#)
    );
    assert_eq!(store.get_data(B, true).await.unwrap(), None);
}

/// What a text column returned for `written`: the text itself, or, where
/// the column is narrower than Unicode, the text with the characters it
/// cannot hold replaced by U+FFFD, possibly cut to a prefix ending with
/// the truncation marker.
fn assert_kept_or_fitted(read: &str, written: &str) {
    if read == written {
        return;
    }
    // A NUL is kept, or becomes U+FFFD where text cannot hold it (PostgreSQL).
    let read = read.replace('\0', "\u{FFFD}");
    let written = written.replace('\0', "\u{FFFD}");
    if read == written {
        return;
    }
    let read = read.as_str();
    let replaced: String = written
        .chars()
        .map(|c| if u32::from(c) > 0xFFFF { '\u{FFFD}' } else { c })
        .collect();
    if read == replaced {
        return;
    }
    let head: String = read.chars().take(80).collect();
    let prefix = read
        .strip_suffix("… (truncated)")
        .unwrap_or_else(|| panic!("neither kept nor cut with the marker: {head:?}"));
    assert!(
        replaced.starts_with(prefix) && !prefix.is_empty(),
        "not a prefix of what was written: {head:?}"
    );
}

/// Text the service writes itself, whatever its characters and length,
/// never fails the write: a node's error (100 KiB with emoji) and lookup
/// attributes with emoji read back whole or fitted, and the attributes
/// still find their node; a stored document with emoji reads back as the
/// same JSON value.
pub async fn any_text_of_ours_is_stored(store: &dyn StoreBackend) {
    let error = format!("ramdisk said 💥\0: {} 𠀀 end", "x".repeat(100 * 1024));
    let mut row = node(A, State::Processing, datetime!(2026-01-01 00:00:00));
    row.error = Some(error.clone());
    store
        .add_node(&row, &[("bmc_address", "bmc-🦀"), ("mac", "11:22")])
        .await
        .unwrap();
    assert_kept_or_fitted(get(store, A).await.error.as_deref().unwrap(), &error);
    store
        .add_attributes(
            A,
            "emoji 😀",
            &["v 😀".into(), "é".repeat(300), "nul\0".into()],
        )
        .await
        .unwrap();
    for (name, value) in [
        ("bmc_address", "bmc-🦀".to_string()),
        ("emoji 😀", "v 😀".to_string()),
        ("emoji 😀", "nul\0".to_string()),
        ("emoji 😀", "é".repeat(300)),
    ] {
        let found = store
            .find_by_attributes(&pairs(&[(name, &value)]))
            .await
            .unwrap();
        assert_eq!(found, vec![(A.to_string(), 1)], "{name} = {value}");
    }
    let document =
        json!({"inventory": {"system_vendor": {"product_name": "box 📦 𠀀"}}, "😀": [1]});
    store
        .store_data(A, false, &document.to_string())
        .await
        .unwrap();
    let read = store.get_data(A, false).await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&read).unwrap(),
        document
    );
    store
        .finish(
            A,
            State::Processing,
            State::Error,
            datetime!(2026-01-01 00:05:00),
            Some(&error),
        )
        .await
        .unwrap();
    let finished = get(store, A).await;
    assert_eq!(finished.state, State::Error);
    assert_kept_or_fitted(finished.error.as_deref().unwrap(), &error);
}

/// A rule whose text the database cannot hold as given is refused as a
/// whole, naming the field, with nothing stored; else it reads back as
/// written. Parameters (JSON) with emoji are always kept.
pub async fn a_rule_is_stored_exactly_or_refused(store: &dyn StoreBackend) {
    let mut with_emoji = rule(A, datetime!(2026-01-01 00:00:01));
    with_emoji.conditions[0].params = object(json!({"value": "🎉 party"}));
    store.create_rule(&with_emoji).await.unwrap();
    let mut kept = with_emoji.clone();
    kept.created_at = store.timestamp_precision().apply(kept.created_at);
    assert_eq!(store.get_rule(A).await.unwrap(), Some(kept));

    let mut odd = rule(B, datetime!(2026-01-01 00:00:02));
    odd.description = Some("🎉 party".into());
    match store.create_rule(&odd).await {
        Ok(()) => assert_eq!(
            store.get_rule(B).await.unwrap().unwrap().description,
            odd.description
        ),
        Err(StoreError::Unstorable { field, .. }) => {
            assert!(field.contains("description"), "{field}");
            assert_eq!(store.get_rule(B).await.unwrap(), None);
        }
        Err(other) => panic!("{other}"),
    }
    let mut huge = rule(C, datetime!(2026-01-01 00:00:03));
    huge.actions[1].params = object(json!({"message": "m".repeat(70_000)}));
    match store.create_rule(&huge).await {
        Ok(()) => assert_eq!(
            store.get_rule(C).await.unwrap().unwrap().actions[1],
            huge.actions[1]
        ),
        Err(StoreError::Unstorable { field, .. }) => {
            assert!(field.contains("Action 1"), "{field}");
            assert_eq!(store.get_rule(C).await.unwrap(), None);
        }
        Err(other) => panic!("{other}"),
    }
}

fn rule(uuid: &str, created_at: PrimitiveDateTime) -> RuleRecord {
    RuleRecord {
        uuid: uuid.into(),
        created_at,
        description: Some(format!("rule {uuid}")),
        scope: None,
        conditions: vec![
            ConditionRecord {
                op: "eq".into(),
                field: "data://memory_mb".into(),
                multiple: "any".into(),
                invert: false,
                params: object(json!({"value": 1024})),
            },
            ConditionRecord {
                op: "is-empty".into(),
                field: "node://extra.x".into(),
                multiple: "all".into(),
                invert: true,
                params: Map::new(),
            },
        ],
        actions: vec![
            ActionRecord {
                action: "set-attribute".into(),
                params: object(json!({"path": "/extra/a", "value": {"nested": [1, "two"]}})),
            },
            ActionRecord {
                action: "fail".into(),
                params: object(json!({"message": "no"})),
            },
        ],
    }
}

/// A rule reads back whole (conditions and actions in order), under the
/// UUID string its client chose, and any form of that UUID finds it.
pub async fn rules_read_back_under_any_form_of_their_uuid(store: &dyn StoreBackend) {
    let given = "0A1B2C3D-0000-4000-8000-00000000000A";
    let mut first = rule(given, datetime!(2026-01-01 00:00:01.000001));
    first.scope = Some("rack-1".into());
    store.create_rule(&first).await.unwrap();
    first.created_at = store.timestamp_precision().apply(first.created_at);
    for form in [
        given,
        "0a1b2c3d-0000-4000-8000-00000000000a",
        "0a1b2c3d00004000800000000000000a",
        "{0a1b2c3d-0000-4000-8000-00000000000a}",
        "urn:uuid:0a1b2c3d-0000-4000-8000-00000000000a",
    ] {
        assert_eq!(
            store.get_rule(form).await.unwrap().as_ref(),
            Some(&first),
            "{form}"
        );
    }
    assert_eq!(
        store
            .get_rule("0a1b2c3d-0000-4000-8000-00000000000b")
            .await
            .unwrap(),
        None
    );
    let second = rule(B, datetime!(2026-01-01 00:00:00));
    store.create_rule(&second).await.unwrap();
    let summary = |r: &RuleRecord| RuleSummary {
        uuid: r.uuid.clone(),
        description: r.description.clone(),
        scope: r.scope.clone(),
    };
    // Oldest first.
    assert_eq!(
        store.list_rules().await.unwrap(),
        [summary(&second), summary(&first)]
    );
    assert_eq!(store.all_rules().await.unwrap(), [second, first]);
}

/// A rule whose UUID, in any form, names an existing rule is a
/// `Duplicate`, and the existing rule is left as it was.
pub async fn creating_an_existing_rule_is_a_duplicate(store: &dyn StoreBackend) {
    let original = rule(A, datetime!(2026-01-01 00:00:00));
    store.create_rule(&original).await.unwrap();
    for form in [A.to_string(), A.to_uppercase(), A.replace('-', "")] {
        let mut again = rule(&form, datetime!(2026-01-02 00:00:00));
        again.conditions.clear();
        let err = store.create_rule(&again).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Duplicate { .. }),
            "{form}: {err:?}"
        );
    }
    assert_eq!(store.all_rules().await.unwrap(), [original]);
}

/// Racing creations of one rule under different forms of its UUID:
/// exactly one is stored, every other one is a `Duplicate`.
pub async fn racing_creations_of_one_rule_store_it_once(store: &dyn StoreBackend) {
    // Forms that fit the 36 characters of the column.
    let forms = [
        A.to_string(),
        A.to_uppercase(),
        A.replace('-', ""),
        A.replace('-', "").to_uppercase(),
    ];
    let rules: Vec<RuleRecord> = forms
        .iter()
        .map(|form| rule(form, datetime!(2026-01-01 00:00:00)))
        .collect();
    let outcomes = tokio::join!(
        store.create_rule(&rules[0]),
        store.create_rule(&rules[1]),
        store.create_rule(&rules[2]),
        store.create_rule(&rules[3]),
    );
    exactly_one_won(&[outcomes.0, outcomes.1, outcomes.2, outcomes.3], |e| {
        matches!(e, StoreError::Duplicate { .. })
    });
    assert_eq!(store.list_rules().await.unwrap().len(), 1);
}

/// The rules' version is the same while no rule is written, and differs
/// after every creation and deletion, even one that leaves the same number
/// of rules with the same newest creation time (a rule deleted and created
/// again under its UUID), so that a compiled copy of the rules is never
/// taken for current. Refused writes leave it as it was.
pub async fn every_rule_write_changes_the_rules_version(store: &dyn StoreBackend) {
    let empty = store.rules_version().await.unwrap();
    assert_eq!(empty.count, 0, "{empty:?}");
    assert_eq!(empty.newest, None, "{empty:?}");
    assert!(empty.generation.is_some(), "the counter's row: {empty:?}");
    assert_eq!(store.rules_version().await.unwrap(), empty);
    let at = datetime!(2026-01-01 00:00:00);
    store.create_rule(&rule(A, at)).await.unwrap();
    let one = store.rules_version().await.unwrap();
    assert_eq!((one.count, one.newest), (1, Some(at)), "{one:?}");
    assert_eq!(store.rules_version().await.unwrap(), one);
    // Refused: a duplicate, a deletion of a missing rule.
    store.create_rule(&rule(A, at)).await.unwrap_err();
    assert!(!store.delete_rule(B).await.unwrap());
    assert_eq!(store.rules_version().await.unwrap(), one);
    // Replaced under the same UUID and creation time.
    assert!(store.delete_rule(A).await.unwrap());
    let mut replaced = rule(A, at);
    replaced.actions.truncate(1);
    store.create_rule(&replaced).await.unwrap();
    let after_replacing = store.rules_version().await.unwrap();
    assert_eq!(
        (after_replacing.count, after_replacing.newest),
        (1, Some(at))
    );
    assert_ne!(after_replacing, one);
    store.delete_all_rules().await.unwrap();
    let seen: Vec<RulesVersion> = vec![empty.clone(), one, after_replacing];
    let cleared = store.rules_version().await.unwrap();
    assert_eq!(cleared.count, 0);
    assert!(!seen.contains(&cleared), "{cleared:?} was seen before");
}

/// Deleting by any form of the UUID removes the rule with its conditions
/// and actions; deleting a missing rule says so; deleting all empties.
pub async fn rules_are_deleted_one_by_one_or_all(store: &dyn StoreBackend) {
    store
        .create_rule(&rule(A, datetime!(2026-01-01 00:00:00)))
        .await
        .unwrap();
    let kept = rule(B, datetime!(2026-01-01 00:00:01));
    store.create_rule(&kept).await.unwrap();
    assert!(store.delete_rule(&A.to_uppercase()).await.unwrap());
    assert!(!store.delete_rule(A).await.unwrap());
    assert_eq!(store.get_rule(A).await.unwrap(), None);
    assert_eq!(store.all_rules().await.unwrap(), [kept]);
    // The UUID is free again, with nothing left of the old rule.
    let mut fresh = rule(A, datetime!(2026-01-01 00:00:02));
    fresh.actions.truncate(1);
    store.create_rule(&fresh).await.unwrap();
    assert_eq!(store.get_rule(A).await.unwrap(), Some(fresh));
    store.delete_all_rules().await.unwrap();
    assert!(store.list_rules().await.unwrap().is_empty());
    assert!(store.all_rules().await.unwrap().is_empty());
    store
        .create_rule(&rule(B, datetime!(2026-01-01 00:00:03)))
        .await
        .unwrap();
    assert_eq!(store.list_rules().await.unwrap().len(), 1);
}

const LONG: std::time::Duration = std::time::Duration::from_secs(60);
const SHORT: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits out a lease of [`SHORT`] (with a margin for the database's clock
/// resolution).
async fn outlive_short_lease() {
    tokio::time::sleep(SHORT + std::time::Duration::from_millis(300)).await;
}

fn lease(name: &str, holder: &str, expired: bool) -> LeaseRecord {
    LeaseRecord {
        name: name.into(),
        holder: holder.into(),
        expired,
    }
}

/// A lease has one holder at a time: a second holder is refused while it
/// runs, the holder itself may take it again (extending it), and after a
/// release the other holder gets it.
pub async fn a_lease_has_one_holder_at_a_time(store: &dyn StoreBackend) {
    assert!(store.acquire_lease("node:a", "h1", LONG).await.unwrap());
    assert!(!store.acquire_lease("node:a", "h2", LONG).await.unwrap());
    assert!(store.acquire_lease("node:a", "h1", LONG).await.unwrap());
    assert!(store.acquire_lease("node:b", "h2", LONG).await.unwrap());
    assert_eq!(
        store.leases("node:").await.unwrap(),
        vec![lease("node:a", "h1", false), lease("node:b", "h2", false)]
    );
    // Only the holder can release it.
    assert!(!store.release_lease("node:a", "h2").await.unwrap());
    assert!(!store.acquire_lease("node:a", "h2", LONG).await.unwrap());
    assert!(store.release_lease("node:a", "h1").await.unwrap());
    assert!(!store.release_lease("node:a", "h1").await.unwrap());
    assert!(store.acquire_lease("node:a", "h2", LONG).await.unwrap());
    assert_eq!(
        store.leases("").await.unwrap(),
        vec![lease("node:a", "h2", false), lease("node:b", "h2", false)]
    );
}

/// An expired lease is free for anyone; until it expires it is not.
pub async fn an_expired_lease_is_free(store: &dyn StoreBackend) {
    assert!(store.acquire_lease("leader", "h1", SHORT).await.unwrap());
    assert!(!store.acquire_lease("leader", "h2", SHORT).await.unwrap());
    outlive_short_lease().await;
    assert_eq!(
        store.leases("leader").await.unwrap(),
        vec![lease("leader", "h1", true)]
    );
    assert!(store.acquire_lease("leader", "h2", LONG).await.unwrap());
    assert_eq!(
        store.leases("leader").await.unwrap(),
        vec![lease("leader", "h2", false)]
    );
}

/// Renewing extends every lease of the holder and names them; a lease
/// another holder took over after it expired is missing from the answer.
pub async fn renewing_keeps_the_leases_still_held(store: &dyn StoreBackend) {
    for name in ["node:a", "node:b", "leader"] {
        assert!(store.acquire_lease(name, "h1", SHORT).await.unwrap());
    }
    assert!(store.acquire_lease("node:c", "h2", LONG).await.unwrap());
    // Renewed before they expire, they outlive their first term.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(
        store.renew_leases("h1", SHORT).await.unwrap(),
        vec!["leader".to_string(), "node:a".into(), "node:b".into()]
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(!store.acquire_lease("node:a", "h2", LONG).await.unwrap());
    outlive_short_lease().await;
    assert!(store.acquire_lease("node:a", "h2", LONG).await.unwrap());
    assert_eq!(
        store.renew_leases("h1", LONG).await.unwrap(),
        vec!["leader".to_string(), "node:b".into()]
    );
    assert!(!store.acquire_lease("node:b", "h2", LONG).await.unwrap());
    assert_eq!(
        store.renew_leases("nobody", LONG).await.unwrap(),
        Vec::<String>::new()
    );
}

/// Expired leases under a prefix are taken over at once and only once,
/// naming their former holder; live ones and other prefixes stay.
pub async fn expired_leases_are_taken_over_once(store: &dyn StoreBackend) {
    assert!(store.acquire_lease("node:a", "dead", SHORT).await.unwrap());
    assert!(store.acquire_lease("node:b", "dead", SHORT).await.unwrap());
    assert!(store.acquire_lease("node:c", "alive", LONG).await.unwrap());
    assert!(store.acquire_lease("leader", "dead", SHORT).await.unwrap());
    assert_eq!(
        store
            .take_expired_leases("node:", "h1", LONG)
            .await
            .unwrap(),
        Vec::<LeaseRecord>::new()
    );
    outlive_short_lease().await;
    let (first, second) = tokio::join!(
        store.take_expired_leases("node:", "h1", LONG),
        store.take_expired_leases("node:", "h2", LONG),
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let expected = vec![lease("node:a", "dead", true), lease("node:b", "dead", true)];
    assert!(
        (first == expected && second.is_empty()) || (second == expected && first.is_empty()),
        "{first:?} {second:?}"
    );
    let taker = if first.is_empty() { "h2" } else { "h1" };
    assert_eq!(
        store.leases("").await.unwrap(),
        vec![
            lease("leader", "dead", true),
            lease("node:a", taker, false),
            lease("node:b", taker, false),
            lease("node:c", "alive", false),
        ]
    );
    // The dead holder learns it lost them.
    assert_eq!(
        store.renew_leases("dead", LONG).await.unwrap(),
        vec!["leader".to_string()]
    );
}

/// Releasing all of a holder's leases frees them for others and leaves
/// other holders' leases alone.
pub async fn releasing_all_frees_only_the_holders_leases(store: &dyn StoreBackend) {
    for name in ["node:a", "node:b", "leader"] {
        assert!(store.acquire_lease(name, "h1", LONG).await.unwrap());
    }
    assert!(store.acquire_lease("node:c", "h2", LONG).await.unwrap());
    assert_eq!(store.release_all_leases("h1").await.unwrap(), 3);
    assert_eq!(store.release_all_leases("h1").await.unwrap(), 0);
    assert_eq!(
        store.leases("").await.unwrap(),
        vec![lease("node:c", "h2", false)]
    );
    for name in ["node:a", "node:b", "leader"] {
        assert!(store.acquire_lease(name, "h3", LONG).await.unwrap());
    }
    assert!(!store.acquire_lease("node:c", "h3", LONG).await.unwrap());
}

/// One `#[tokio::test]` per contract behaviour. `$open` is an async
/// function returning a fresh upgraded store and a guard that keeps its
/// database alive until the test ends; attributes after a `;` go on every
/// test (a backend that needs a server marks them ignored without one).
macro_rules! store_contract {
    ($open:path $(; $(#[$attr:meta])*)?) => {
        $crate::store::contract::store_contract!(@tests $open; { $($(#[$attr])*)? };
            schema_is_current_and_upgrade_is_repeatable,
            node_rows_read_back_as_written,
            adding_a_node_again_replaces_everything_cached,
            update_state_is_a_compare_and_set,
            concurrent_state_changes_have_one_winner,
            finish_ends_the_introspection_in_one_write,
            set_started_at_rewrites_only_the_start,
            delete_node_forgets_everything,
            list_nodes_pages_newest_first,
            lookup_attributes_are_added_and_listed,
            lookup_scores_count_distinct_matching_pairs,
            periodic_queries_see_only_what_they_ask_for,
            stored_data_is_kept_per_node_and_kind,
            rules_read_back_under_any_form_of_their_uuid,
            creating_an_existing_rule_is_a_duplicate,
            racing_creations_of_one_rule_store_it_once,
            rules_are_deleted_one_by_one_or_all,
            every_rule_write_changes_the_rules_version,
            runs_keep_each_outcome_newest_first,
            runs_beyond_the_depth_are_dropped,
            // Raw bulk access (contract/bulk.rs).
            bulk_rows_read_back_as_written_page_by_page,
            bulk_loaded_rows_serve_the_service,
            a_bulk_load_is_one_transaction,
            a_bulk_row_of_the_wrong_shape_is_refused,
            a_lease_has_one_holder_at_a_time,
            an_expired_lease_is_free,
            renewing_keeps_the_leases_still_held,
            expired_leases_are_taken_over_once,
            releasing_all_frees_only_the_holders_leases,
            any_text_of_ours_is_stored,
            a_rule_is_stored_exactly_or_refused,
        );
    };
    (@tests $open:path; $attrs:tt; $($name:ident),* $(,)?) => {
        $( $crate::store::contract::store_contract!(@test $open; $attrs; $name); )*
    };
    (@test $open:path; { $($attr:tt)* }; $name:ident) => {
        #[tokio::test]
        $($attr)*
        async fn $name() {
            let (store, _guard) = $open().await;
            $crate::store::contract::$name(&*store).await;
            store.close().await;
        }
    };
}
pub(crate) use store_contract;

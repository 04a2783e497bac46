//! Introspection statuses, the list API and stored data (upstream-behaviour
//! §api-statuses), over rows put in the store directly.

use inspector::store::NodeRecord;
use inspector_core::state::State;
use serde_json::json;
use time::macros::datetime;

use crate::helpers::{TestApp, assert_error, assert_error_prefix, json_with_status};

fn node(
    uuid: &str,
    state: State,
    started: time::PrimitiveDateTime,
    finished: Option<time::PrimitiveDateTime>,
) -> NodeRecord {
    NodeRecord {
        uuid: uuid.into(),
        state,
        started_at: Some(started),
        finished_at: finished,
        error: None,
        manage_boot: true,
    }
}

const A: &str = "0a2e4a4a-59b0-4c3c-9e4d-000000000001";
const B: &str = "0a2e4a4a-59b0-4c3c-9e4d-000000000002";
const C: &str = "0a2e4a4a-59b0-4c3c-9e4d-000000000003";
const D: &str = "0a2e4a4a-59b0-4c3c-9e4d-000000000004";

async fn four_nodes(app: &TestApp) {
    let store = app.store();
    store
        .add_node(
            &node(A, State::Waiting, datetime!(2026-01-01 10:00:00), None),
            &[("mac", "11:22:33:44:55:66")],
        )
        .await
        .unwrap();
    let mut b = node(
        B,
        State::Error,
        datetime!(2026-01-01 11:00:00.5),
        Some(datetime!(2026-01-01 11:30:00)),
    );
    b.error = Some("Canceled by operator".into());
    store.add_node(&b, &[]).await.unwrap();
    // C and D start at the same instant: the uuid breaks the tie.
    store
        .add_node(
            &node(
                C,
                State::Finished,
                datetime!(2026-01-01 12:00:00.123456),
                Some(datetime!(2026-01-01 12:05:00.000001)),
            ),
            &[],
        )
        .await
        .unwrap();
    store
        .add_node(
            &node(
                D,
                State::Processing,
                datetime!(2026-01-01 12:00:00.123456),
                None,
            ),
            &[],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn status_of_a_node() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    let body = json_with_status(app.get(&format!("/v1/introspection/{C}")).await, 200).await;
    assert_eq!(
        body,
        json!({
            "uuid": C,
            "state": "finished",
            "finished": true,
            "error": null,
            "started_at": "2026-01-01T12:00:00.123456",
            "finished_at": "2026-01-01T12:05:00.000001",
            "links": [{"href": format!("http://{}/v1/introspection/{C}", app.addr), "rel": "self"}]
        })
    );
    let body = json_with_status(app.get(&format!("/v1/introspection/{A}")).await, 200).await;
    assert_eq!(body["started_at"], "2026-01-01T10:00:00");
    assert_eq!(body["finished"], false);
    assert_eq!(body["finished_at"], json!(null));
    let body = json_with_status(app.get(&format!("/v1/introspection/{B}")).await, 200).await;
    assert_eq!(body["error"], "Canceled by operator");
    assert_eq!(body["started_at"], "2026-01-01T11:00:00.500000");
}

#[tokio::test]
async fn uuids_are_accepted_in_any_spelling() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    for spelling in [C.to_uppercase(), C.replace('-', ""), format!("{{{C}}}")] {
        let body =
            json_with_status(app.get(&format!("/v1/introspection/{spelling}")).await, 200).await;
        assert_eq!(body["uuid"], C);
    }
}

#[tokio::test]
async fn unknown_nodes_are_404() {
    let app = TestApp::spawn().await;
    assert_error(
        app.get("/v1/introspection/3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11")
            .await,
        404,
        "Could not find node 3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11 in cache",
    )
    .await;
}

#[tokio::test]
async fn names_need_ironic_and_an_unreachable_ironic_is_a_503() {
    let app = TestApp::spawn().await;
    assert_error_prefix(
        app.get("/v1/introspection/my-node").await,
        503,
        "Ironic is unreachable",
    )
    .await;
}

#[tokio::test]
async fn list_is_newest_first_with_ties_broken_by_uuid() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    let body = json_with_status(app.get("/v1/introspection").await, 200).await;
    let uuids: Vec<&str> = body["introspection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, [D, C, B, A]);
    // Each item is the same document as the single status.
    let single = json_with_status(app.get(&format!("/v1/introspection/{B}")).await, 200).await;
    assert_eq!(body["introspection"][2], single);
}

async fn listed(app: &TestApp, query: &str) -> Vec<String> {
    let body = json_with_status(app.get(&format!("/v1/introspection?{query}")).await, 200).await;
    body["introspection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uuid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn list_pagination_and_state_filter() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    assert_eq!(listed(&app, "limit=1").await, [D]);
    assert_eq!(listed(&app, "limit=0").await.len(), 4);
    assert_eq!(listed(&app, &format!("marker={D}&limit=2")).await, [C, B]);
    assert_eq!(listed(&app, &format!("marker={C}")).await, [B, A]);
    assert_eq!(
        listed(&app, &format!("marker={A}")).await,
        Vec::<String>::new()
    );
    assert_eq!(listed(&app, "state=finished,error").await, [C, B]);
    assert_eq!(listed(&app, "state=waiting").await, [A]);
    assert_eq!(
        listed(
            &app,
            &format!("state=finished,error,waiting&marker={C}&limit=1")
        )
        .await,
        [B]
    );
    assert_eq!(listed(&app, "state=enrolling").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_full_walk_with_small_pages_sees_every_node_once() {
    let app = TestApp::spawn_with(|c| c.default.api_max_limit = 7).await;
    let mut expected = Vec::new();
    for i in 0..30u32 {
        let uuid = format!("00000000-0000-4000-8000-{i:012}");
        let started = datetime!(2026-01-01 00:00:00) + time::Duration::seconds(i64::from(i % 10));
        app.store()
            .add_node(&node(&uuid, State::Waiting, started, None), &[])
            .await
            .unwrap();
        expected.push((started, uuid));
    }
    expected.sort();
    expected.reverse();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let query = marker
            .as_ref()
            .map(|m| format!("marker={m}"))
            .unwrap_or_default();
        let page = listed(&app, &query).await;
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        marker = page.last().cloned();
        seen.extend(page);
    }
    assert_eq!(
        seen,
        expected.into_iter().map(|(_, u)| u).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn invalid_list_parameters() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    let cases = [
        (
            "limit=abc",
            400,
            "Bad request: invalid literal for int() with base 10: 'abc'",
        ),
        ("limit=-1", 400, "Bad request: Limit cannot be negative"),
        ("limit=1001", 400, "Bad request: Limit over 1000"),
        ("marker=abc", 400, "Bad request: Marker not UUID-like"),
        (
            "marker=' OR 1=1 --",
            400,
            "Bad request: Marker not UUID-like",
        ),
        (
            "marker=3c9d5a3e-8b2b-4a44-9e33-9d0c6c2a9a11",
            404,
            "The requested node was not found.",
        ),
        (
            "state=foo,bar",
            400,
            "Bad request: State(s) \"foo, bar\" are not valid",
        ),
        ("state=", 400, "Bad request: State(s) \"\" are not valid"),
        (
            "state=finished,Waiting",
            400,
            "Bad request: State(s) \"Waiting\" are not valid",
        ),
        (
            "state=finished'); DELETE FROM nodes; --",
            400,
            "Bad request: State(s) \"finished'); DELETE FROM nodes; --\" are not valid",
        ),
    ];
    for (query, status, message) in cases {
        assert_error(
            app.get(&format!("/v1/introspection?{query}")).await,
            status,
            message,
        )
        .await;
    }
    assert_eq!(listed(&app, "").await.len(), 4);
}

#[tokio::test]
async fn stored_data_is_returned_as_upstream_writes_it_and_missing_data_is_404() {
    let app = TestApp::spawn().await;
    four_nodes(&app).await;
    app.store()
        .store_data(
            C,
            true,
            r#"{"z": 1, "inventory": {"b": [1, 2], "a": null}}"#,
        )
        .await
        .unwrap();
    app.store()
        .store_data(C, false, r#"{"raw": true}"#)
        .await
        .unwrap();
    let response = app.get(&format!("/v1/introspection/{C}/data")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    // Python's json.dumps of the stored document: its order, its spacing.
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"z": 1, "inventory": {"b": [1, 2], "a": null}}"#
    );
    let body = json_with_status(
        app.get(&format!("/v1/introspection/{C}/data/unprocessed"))
            .await,
        200,
    )
    .await;
    assert_eq!(body, json!({"raw": true}));
    assert_error(
        app.get(&format!("/v1/introspection/{A}/data")).await,
        404,
        &format!("Introspection data not found for node {A}, processed=True"),
    )
    .await;
    assert_error(
        app.get(&format!("/v1/introspection/{A}/data/unprocessed"))
            .await,
        404,
        &format!("Introspection data not found for node {A}, processed=False"),
    )
    .await;
}

#[tokio::test]
async fn data_endpoints_say_when_storage_is_off() {
    let app =
        TestApp::spawn_with(|c| c.processing.store_data = inspector_core::conf::StoreData::None)
            .await;
    for suffix in ["data", "data/unprocessed"] {
        assert_error(
            app.get(&format!("/v1/introspection/{A}/{suffix}")).await,
            404,
            "Inspector is not configured to store data. Set the [processing]store_data configuration option to change this.",
        )
        .await;
    }
}

/// A restart fails the introspections a crashed task held (starting,
/// processing, ...) and leaves waiting and finished ones as they were.
#[tokio::test]
async fn restart_fails_only_interrupted_introspections() {
    let app = TestApp::spawn().await;
    let started = datetime!(2026-01-01 10:00:00);
    let rows = [
        (A, State::Starting, None),
        (B, State::Processing, None),
        (C, State::Waiting, None),
        (D, State::Finished, Some(datetime!(2026-01-01 10:05:00))),
    ];
    for (uuid, state, finished) in rows {
        app.store()
            .add_node(&node(uuid, state, started, finished), &[])
            .await
            .unwrap();
    }
    let app = app.restart().await;
    for (uuid, state, error) in [
        (
            A,
            "error",
            json!("Introspection was interrupted by a restart of inspector while starting"),
        ),
        (
            B,
            "error",
            json!("Introspection was interrupted by a restart of inspector while processing"),
        ),
        (C, "waiting", json!(null)),
        (D, "finished", json!(null)),
    ] {
        let status =
            json_with_status(app.get(&format!("/v1/introspection/{uuid}")).await, 200).await;
        assert_eq!(status["state"], state, "{uuid}: {status}");
        assert_eq!(status["error"], error, "{uuid}: {status}");
        assert_eq!(status["finished"], state != "waiting", "{uuid}: {status}");
    }
}

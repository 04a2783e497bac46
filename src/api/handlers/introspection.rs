//! Introspection statuses and stored data.

use axum::extract::{Query, State};

use crate::api::path::ApiPath;
use axum::http::StatusCode;
use axum::response::Response;
use inspector_core::timestamp::py_isoformat;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::api::links::BaseUrl;
use crate::api::render;
use crate::api::state::AppState;
use crate::domain::{ListRequest, StatusView};

fn status_json(node: &StatusView, base: &BaseUrl) -> Value {
    json!({
        "uuid": node.uuid,
        "state": node.state.as_str(),
        "finished": node.finished_at.is_some(),
        "error": node.error,
        "started_at": node.started_at.map(py_isoformat),
        "finished_at": node.finished_at.map(py_isoformat),
        "links": [{"href": base.link(&format!("/v1/introspection/{}", node.uuid)), "rel": "self"}],
    })
}

pub async fn get_status(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    let node = state.inspector().statuses().status(&node_id).await?;
    Ok(render::json(StatusCode::OK, &status_json(&node, &base)))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    marker: Option<String>,
    limit: Option<String>,
    state: Option<String>,
}

pub async fn list_statuses(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request(format!("Bad request: {}", e.body_text())))?;
    let request = ListRequest {
        marker: params.marker,
        limit: params.limit,
        state: params.state,
    };
    let nodes = state.inspector().statuses().list(&request).await?;
    // A page holds up to a thousand statuses: written straight to bytes, the
    // same bytes `render::json` gives for `status_json`, without building and
    // sorting a JSON tree for each.
    let mut body = render::ChunkedJson::new();
    body.out().extend_from_slice(b"{\"introspection\":[");
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            body.out().push(b',');
        }
        write_status(body.out(), node, &base);
        body.item_written();
    }
    body.out().extend_from_slice(b"]}\n");
    Ok(body.into_response(StatusCode::OK))
}

/// [`status_json`] as `render::to_json_bytes` writes it (keys sorted).
fn write_status(out: &mut Vec<u8>, node: &StatusView, base: &BaseUrl) {
    /// The JSON string of the parts joined. UUIDs, states, links and
    /// timestamps need no escape and are copied as they are: a page writes
    /// six strings per status.
    fn string(out: &mut Vec<u8>, parts: &[&str]) {
        let plain = |part: &&str| part.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
        if parts.iter().all(plain) {
            out.push(b'"');
            for part in parts {
                out.extend_from_slice(part.as_bytes());
            }
            out.push(b'"');
        } else {
            // Writing a str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &parts.concat());
        }
    }
    fn timestamp(out: &mut Vec<u8>, ts: Option<time::PrimitiveDateTime>) {
        match ts {
            Some(ts) => string(out, &[&py_isoformat(ts)]),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"{\"error\":");
    match &node.error {
        Some(error) => string(out, &[error]),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(if node.finished_at.is_some() {
        b",\"finished\":true,\"finished_at\":"
    } else {
        b",\"finished\":false,\"finished_at\":"
    });
    timestamp(out, node.finished_at);
    out.extend_from_slice(b",\"links\":[{\"href\":");
    // `BaseUrl::link`, written in its parts.
    string(out, &[&base.absolute, "/v1/introspection/", &node.uuid]);
    out.extend_from_slice(b",\"rel\":\"self\"}],\"started_at\":");
    timestamp(out, node.started_at);
    out.extend_from_slice(b",\"state\":");
    string(out, &[node.state.as_str()]);
    out.extend_from_slice(b",\"uuid\":");
    string(out, &[&node.uuid]);
    out.push(b'}');
}

/// Stored data as upstream returns it (the domain renders it: Python's
/// `json.dumps` of a database row, a Swift object as it is), not Flask's
/// sorted rendering, so the text matches upstream's byte for byte.
fn data_response(text: String) -> Result<Response, ApiError> {
    Ok(render::json_text(StatusCode::OK, text))
}

pub async fn get_data(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    data_response(
        state
            .inspector()
            .statuses()
            .introspection_data(&node_id, true)
            .await?,
    )
}

pub async fn get_unprocessed_data(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    data_response(
        state
            .inspector()
            .statuses()
            .introspection_data(&node_id, false)
            .await?,
    )
}

#[derive(Debug, Deserialize)]
pub struct StartParams {
    manage_boot: Option<String>,
}

/// oslo's strict boolean spelling, as upstream parses `manage_boot`.
fn strict_bool(value: &str) -> Option<bool> {
    match value.to_lowercase().as_str() {
        "1" | "t" | "true" | "on" | "y" | "yes" => Some(true),
        "0" | "f" | "false" | "off" | "n" | "no" => Some(false),
        _ => None,
    }
}

pub async fn start(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
    params: Result<Query<StartParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request(format!("Bad request: {}", e.body_text())))?;
    let manage_boot = match params.manage_boot.as_deref() {
        None => true,
        Some(value) => strict_bool(value).ok_or_else(|| {
            ApiError::bad_request(format!("Invalid boolean value for manage_boot: {value}"))
        })?,
    };
    state
        .inspector()
        .introspection()
        .start(&node_id, manage_boot)
        .await?;
    Ok(render::accepted())
}

pub async fn abort(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
) -> Result<Response, ApiError> {
    state.inspector().introspection().abort(&node_id).await?;
    Ok(render::accepted())
}

/// Reapply: an optional JSON object body replaces the stored data.
pub async fn reapply(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
    request_body: axum::body::Body,
) -> Result<Response, ApiError> {
    let limits = super::continue_::processing_limits(&state);
    let documents = state.documents();
    let (bytes, mut admission) =
        crate::api::body::read_admitted(documents, request_body, limits).await?;
    let data = if bytes.is_empty() {
        None
    } else {
        // Upstream's wording: invalid JSON reads as None.
        match crate::api::body::parse_admitted(&bytes, limits, &mut admission).await {
            Ok(Value::Object(map)) => Some(map),
            Ok(other) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid data: expected a JSON object, got {}",
                    inspector_core::py::value::type_name(&other)
                )));
            }
            Err(crate::api::body::ParseFailure::Invalid(_)) => {
                return Err(ApiError::bad_request(
                    "Invalid data: expected a JSON object, got None",
                ));
            }
            Err(too_deep) => return Err(too_deep.into()),
        }
    };
    state
        .inspector()
        .processing()
        .reapply(&node_id, data)
        .await?;
    Ok(render::accepted())
}

#[cfg(test)]
mod tests {
    use inspector_core::state::State;
    use time::macros::datetime;

    use super::{BaseUrl, StatusView, status_json, strict_bool, write_status};
    use crate::api::render;

    #[test]
    fn a_listed_status_has_the_bytes_of_a_single_one() {
        let base = BaseUrl {
            absolute: "http://[::1]:5050/in\"spector".into(),
            prefix: "/in\"spector".into(),
        };
        let views = [
            StatusView {
                uuid: "a1b2c3d4-0000-4000-8000-000000000001".into(),
                state: State::Waiting,
                started_at: Some(datetime!(2026-12-06 17:00:01)),
                finished_at: None,
                error: None,
            },
            StatusView {
                uuid: "a1b2c3d4-0000-4000-8000-000000000002".into(),
                state: State::Error,
                started_at: Some(datetime!(2026-12-06 17:00:01.000123)),
                finished_at: Some(datetime!(2026-12-06 17:00:02.5)),
                error: Some("Failed: \"quoted\", tab\t, newline\n, \u{1} and é ∑ 🚀".into()),
            },
            StatusView {
                uuid: "a1b2c3d4-0000-4000-8000-000000000003".into(),
                state: State::Finished,
                started_at: None,
                finished_at: Some(datetime!(2026-12-06 17:00:02)),
                error: None,
            },
        ];
        for view in &views {
            let mut written = Vec::new();
            write_status(&mut written, view, &base);
            written.push(b'\n');
            let rendered = render::to_json_bytes(&status_json(view, &base));
            assert_eq!(
                String::from_utf8(written).unwrap(),
                String::from_utf8(rendered).unwrap()
            );
        }
    }

    #[test]
    fn manage_boot_spellings() {
        for yes in ["1", "t", "True", "ON", "y", "yes"] {
            assert_eq!(strict_bool(yes), Some(true), "{yes}");
        }
        for no in ["0", "f", "FALSE", "off", "n", "No"] {
            assert_eq!(strict_bool(no), Some(false), "{no}");
        }
        for bad in ["", "2", "maybe", "truee"] {
            assert_eq!(strict_bool(bad), None, "{bad}");
        }
    }
}

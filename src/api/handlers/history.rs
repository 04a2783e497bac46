//! A node's past introspections and the hardware diff between two of them
//! (API 1.19).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use inspector_core::timestamp::py_isoformat;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::api::links::BaseUrl;
use crate::api::path::ApiPath;
use crate::api::render;
use crate::api::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
    base: BaseUrl,
) -> Result<Response, ApiError> {
    let (uuid, runs) = state.inspector().history().runs(&node_id).await?;
    let history: Vec<Value> = runs
        .iter()
        .map(|run| {
            let data = format!("/v1/introspection/{uuid}/history/{}/data", run.id);
            json!({
                "id": run.id,
                "state": run.state.as_str(),
                "error": run.error,
                "started_at": run.started_at.map(py_isoformat),
                "finished_at": run.finished_at.map(py_isoformat),
                "links": [{"href": base.link(&data), "rel": "data"}],
            })
        })
        .collect();
    Ok(render::json(StatusCode::OK, &json!({"history": history})))
}

pub async fn data(
    State(state): State<AppState>,
    ApiPath((node_id, run_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let text = state
        .inspector()
        .history()
        .run_data(&node_id, &run_id)
        .await?;
    Ok(render::json_text(StatusCode::OK, text))
}

#[derive(Debug, Deserialize)]
pub struct DiffParams {
    from: Option<String>,
    to: Option<String>,
}

pub async fn diff(
    State(state): State<AppState>,
    ApiPath(node_id): ApiPath<String>,
    params: Result<Query<DiffParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::bad_request(format!("Bad request: {}", e.body_text())))?;
    let diff = state
        .inspector()
        .history()
        .diff(&node_id, params.from.as_deref(), params.to.as_deref())
        .await?;
    Ok(render::json(
        StatusCode::OK,
        &json!({"from": diff.from, "to": diff.to, "changes": diff.changes}),
    ))
}

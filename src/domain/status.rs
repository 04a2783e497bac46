//! Introspection statuses and stored data.

use std::sync::Arc;

use inspector_core::conf::Config;
use inspector_core::ids::canonical_uuid;
use inspector_core::state::State;

use super::lifecycle::Lifecycle;
use super::{Error, Result, StatusView};
use crate::store::{ListQuery, StoreError};

/// The list API's raw query parameters, validated here.
#[derive(Debug, Default, Clone)]
pub struct ListRequest {
    pub marker: Option<String>,
    pub limit: Option<String>,
    pub state: Option<String>,
}

/// Reading introspection statuses and stored data; also what the health
/// and metrics endpoints read.
#[derive(Clone)]
pub struct Statuses {
    lifecycle: Arc<Lifecycle>,
    /// `[DEFAULT] api_max_limit`.
    max_limit: u32,
}

impl Statuses {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>, config: &Config) -> Self {
        Self {
            lifecycle,
            max_limit: config.default.api_max_limit,
        }
    }

    pub async fn status(&self, node_id: &str) -> Result<StatusView> {
        let uuid = self.lifecycle.resolve_node(node_id).await?;
        Ok(self.lifecycle.cached_node(&uuid).await?.into())
    }

    pub async fn list(&self, request: &ListRequest) -> Result<Vec<StatusView>> {
        let max = self.max_limit;
        let limit = match request.limit.as_deref() {
            None => max,
            Some(text) => {
                let value: i64 = text.trim().parse().map_err(|_| {
                    Error::bad_request(format!(
                        "Bad request: invalid literal for int() with base 10: '{text}'"
                    ))
                })?;
                if value < 0 {
                    return Err(Error::bad_request("Bad request: Limit cannot be negative"));
                }
                if value > i64::from(max) {
                    return Err(Error::bad_request(format!("Bad request: Limit over {max}")));
                }
                if value == 0 { max } else { value as u32 }
            }
        };
        let marker = match request.marker.as_deref() {
            None => None,
            Some(m) => Some(
                canonical_uuid(m)
                    .ok_or_else(|| Error::bad_request("Bad request: Marker not UUID-like"))?,
            ),
        };
        let states = match request.state.as_deref() {
            None => Vec::new(),
            Some(text) => {
                let names: Vec<&str> = text.split(',').collect();
                let bad: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| n.parse::<State>().is_err())
                    .collect();
                if !bad.is_empty() {
                    return Err(Error::bad_request(format!(
                        "Bad request: State(s) \"{}\" are not valid",
                        bad.join(", ")
                    )));
                }
                names.iter().filter_map(|n| n.parse().ok()).collect()
            }
        };
        let query = ListQuery {
            states,
            marker,
            limit,
        };
        match self.lifecycle.store().list_nodes(&query).await {
            Err(StoreError::NotFound { .. }) => {
                Err(Error::not_found("The requested node was not found."))
            }
            other => Ok(other?.into_iter().map(StatusView::from).collect()),
        }
    }

    /// How many nodes are in each state, for the metrics.
    pub async fn count_by_state(&self) -> Result<Vec<(String, u64)>> {
        Ok(self.lifecycle.store().count_by_state().await?)
    }

    /// Whether the database answers, for the health check.
    pub async fn database_answers(&self) -> Result<()> {
        Ok(self.lifecycle.store().ping().await?)
    }

    /// The stored processed or unprocessed data of a node, as JSON text,
    /// as upstream serves it (see [`super::stored_data::DataStore::load`]).
    pub async fn introspection_data(&self, node_id: &str, processed: bool) -> Result<String> {
        let not_stored = || {
            Error::not_found(
                "Inspector is not configured to store data. Set the [processing]store_data \
                 configuration option to change this.",
            )
        };
        if !self.lifecycle.data().is_enabled() {
            return Err(not_stored());
        }
        let uuid = self.lifecycle.resolve_node(node_id).await?;
        self.lifecycle
            .data()
            .load(&uuid, processed)
            .await?
            .ok_or_else(not_stored)
    }
}

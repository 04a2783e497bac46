//! Each node's past introspections (`[processing] history_depth` of them,
//! recorded by the lifecycle when one ends) and what changed in the
//! hardware between two of them.

use std::sync::Arc;

use inspector_core::hardware_diff::{self, Change};
use inspector_core::ids::canonical_uuid;
use serde_json::Value;

use super::lifecycle::Lifecycle;
use super::{Error, Result};
use crate::store::RunRecord;

/// Two runs compared.
#[derive(Debug)]
pub struct Diff {
    pub from: String,
    pub to: String,
    pub changes: Vec<Change>,
}

#[derive(Clone)]
pub struct History {
    lifecycle: Arc<Lifecycle>,
}

impl History {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>) -> Self {
        Self { lifecycle }
    }

    /// The node's UUID, if inspector knows the node.
    async fn known_node(&self, node_id: &str) -> Result<String> {
        let uuid = self.lifecycle.resolve_node(node_id).await?;
        self.lifecycle.cached_node(&uuid).await?;
        Ok(uuid)
    }

    /// The node's runs, newest first (with their node's UUID).
    pub async fn runs(&self, node_id: &str) -> Result<(String, Vec<RunRecord>)> {
        let uuid = self.known_node(node_id).await?;
        let runs = self.lifecycle.store().runs(&uuid).await?;
        Ok((uuid, runs))
    }

    /// The processed data of one run, rendered as the data API renders it.
    pub async fn run_data(&self, node_id: &str, run_id: &str) -> Result<String> {
        let uuid = self.known_node(node_id).await?;
        let text = self.stored_run_data(&uuid, run_id).await?;
        super::stored_data::as_upstream_renders(&text)
    }

    async fn stored_run_data(&self, uuid: &str, run_id: &str) -> Result<String> {
        let unknown = || Error::not_found(format!("Run {run_id} not found for node {uuid}"));
        let id = canonical_uuid(run_id).ok_or_else(unknown)?;
        match self.lifecycle.store().run_data(uuid, &id).await? {
            None => Err(unknown()),
            Some(None) => Err(Error::not_found(format!(
                "Introspection data not found for run {id} of node {uuid}: only runs that ended \
                 while [processing] store_data = database keep their data"
            ))),
            Some(Some(text)) => Ok(text),
        }
    }

    /// The hardware changes from run `from` to run `to`; by default the two
    /// newest runs that kept their data.
    pub async fn diff(&self, node_id: &str, from: Option<&str>, to: Option<&str>) -> Result<Diff> {
        let (uuid, runs) = self.runs(node_id).await?;
        let with_data: Vec<&RunRecord> = runs.iter().filter(|r| r.has_data).collect();
        let pick = |given: Option<&str>, default: Option<&&RunRecord>| -> Result<String> {
            match given {
                Some(id) => {
                    let canonical = canonical_uuid(id).unwrap_or_else(|| id.to_string());
                    let run = runs.iter().find(|r| r.id == canonical).ok_or_else(|| {
                        Error::not_found(format!("Run {id} not found for node {uuid}"))
                    })?;
                    if !run.has_data {
                        return Err(Error::conflict(format!(
                            "Run {id} of node {uuid} kept no introspection data to compare"
                        )));
                    }
                    Ok(run.id.clone())
                }
                None => default.map(|r| r.id.clone()).ok_or_else(|| {
                    Error::conflict(format!(
                        "Node {uuid} has fewer than two introspections with stored data to \
                         compare ({} kept)",
                        with_data.len()
                    ))
                }),
            }
        };
        let to = pick(to, with_data.first())?;
        // By default, the run with data just before `to`.
        let before_to = with_data.iter().skip_while(|r| r.id != to).nth(1);
        let from = pick(from, before_to)?;
        let old = self.document(&uuid, &from).await?;
        let new = self.document(&uuid, &to).await?;
        Ok(Diff {
            changes: hardware_diff::diff(&old, &new),
            from,
            to,
        })
    }

    async fn document(&self, uuid: &str, run_id: &str) -> Result<Value> {
        let text = self.stored_run_data(uuid, run_id).await?;
        serde_json::from_str(&text)
            .map_err(|e| Error::internal(format!("stored introspection data is not JSON: {e}")))
    }
}

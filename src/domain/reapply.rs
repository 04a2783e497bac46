//! Reapplying hooks and rules to stored or supplied data (upstream-behaviour §reapply).

use inspector_core::hooks::Data;
use inspector_core::state::Event;
use serde_json::Value;

use super::locks::NodeLock;
use super::node_info::NodeInfo;
use super::processing::Processing;
use super::{Error, Result};

impl Processing {
    /// The synchronous part of `POST .../data/unprocessed`; `data` is the
    /// request body when one was sent (an empty object counts as none).
    pub async fn reapply(&self, node_id: &str, data: Option<Data>) -> Result<()> {
        let uuid = self.lifecycle.resolve_node(node_id).await?;
        let data = data.filter(|d| !d.is_empty());
        // Upstream saved supplied data before checking the cache
        // (upstream-behaviour §api-reapply); checking first keeps unknown
        // nodes from leaving orphan rows.
        self.lifecycle.cached_node(&uuid).await?;
        let data = match data {
            Some(data) => {
                self.save_data(&uuid, false, &data).await?;
                data
            }
            None => {
                if !self.lifecycle.data().is_enabled() {
                    return Err(Error::bad_request(
                        "Inspector is not configured to store introspection data. Set the [processing]store_data \
                         configuration option to change this.",
                    ));
                }
                let text = self
                    .lifecycle
                    .data()
                    .load(&uuid, false)
                    .await?
                    .unwrap_or_default();
                match serde_json::from_str::<Value>(&text) {
                    Ok(Value::Object(map)) => map,
                    _ => {
                        return Err(Error::internal(format!(
                            "stored data of node {uuid} is not a JSON object"
                        )));
                    }
                }
            }
        };
        let lock = self
            .lifecycle
            .lock_or_conflict(&uuid, "Node locked, please, try again later")
            .await?;
        let this = self.clone();
        self.background
            .spawn(async move { this.reapply_locked(lock, data).await });
        Ok(())
    }

    async fn reapply_locked(&self, lock: NodeLock, mut data: Data) {
        let uuid = lock.uuid().to_string();
        // The state first, as upstream: a status read between the two
        // writes never shows the new start beside the previous outcome.
        if let Err(e) = self.lifecycle.transition(&uuid, Event::Reapply).await {
            tracing::warn!(node = %uuid, error = %Error::from(e), "cannot reapply in this state");
            return;
        }
        if let Err(e) = self
            .lifecycle
            .store()
            .set_started_at(&uuid, self.lifecycle.now())
            .await
        {
            tracing::warn!(node = %uuid, error = %e, "cannot reapply: the node left the cache");
            return;
        }
        match self.reapply_steps(&uuid, &mut data).await {
            Ok(()) => {
                if let Err(e) = self.lifecycle.finish(&uuid, Event::Finish, None).await {
                    tracing::warn!(node = %uuid, error = %Error::from(e), "cannot mark the node finished");
                } else {
                    tracing::info!(node = %uuid, "reapplied introspection data");
                }
            }
            Err(err) => self.lifecycle.fail(&uuid, &err.message).await,
        }
        drop(lock);
    }

    async fn reapply_steps(&self, uuid: &str, data: &mut Data) -> Result<()> {
        let failures: Vec<String> = (self.pipeline.before_processing(data).into_iter())
            .map(|failure| failure.message)
            .collect();
        if !failures.is_empty() {
            return Err(Error::bad_request(format!(
                "Pre-processing failures detected reapplying introspection on stored data:\n{}",
                failures.join("\n")
            )));
        }
        let node = self
            .lifecycle
            .ironic()
            .get_node(uuid)
            .await
            .map_err(|e| Error::node_fetch(uuid, e))?;
        let mut node_info = NodeInfo::new(self.lifecycle.ironic(), node);
        self.run_post_hooks(&mut node_info, data).await?;
        self.save_data(uuid, true, data).await?;
        self.run_rules(&mut node_info, data).await
    }
}

//! Nodes the cache does not know: introspection of active nodes (upstream-behaviour §active-nodes)
//! and discovery, which enrolls unknown machines in Ironic (upstream-behaviour §discovery).

use std::collections::BTreeSet;
use std::sync::Arc;

use inspector_core::conf::Config;
use inspector_core::hooks::{Data, LookupAttributes};
use inspector_core::state::State;
use serde_json::{Map, Value, json};

use super::lifecycle::Lifecycle;
use super::locks::NodeLock;
use super::lookup::{LookupFailure, find_node};
use super::{Error, Result, bmc};
use crate::ironic::Node;
use crate::store::NodeRecord;

fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Nodes a callback's data matches in Ironic but not in the cache.
#[derive(Clone)]
pub(crate) struct Discovery {
    lifecycle: Arc<Lifecycle>,
    config: Arc<Config>,
    /// Discovery enrolls one machine at a time (see [`Discovery::enroll`]).
    enroll_turn: Arc<tokio::sync::Mutex<()>>,
}

impl Discovery {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>, config: Arc<Config>) -> Self {
        Self {
            lifecycle,
            config,
            enroll_turn: Arc::default(),
        }
    }

    /// Ironic nodes whose resolved BMC address is one of `addresses`.
    async fn nodes_with_bmc(&self, addresses: &[String]) -> Result<BTreeSet<String>> {
        let nodes = self
            .lifecycle
            .ironic()
            .list_nodes("uuid,driver_info")
            .await
            .map_err(Error::from)?;
        let mut found = BTreeSet::new();
        for node in nodes {
            let host = bmc::bmc_host(node.driver_info(), &self.config.default.ipmi_address_fields);
            let resolved = bmc::resolve(host, node.uuid()).await;
            if resolved
                .lookup_values()
                .iter()
                .any(|a| addresses.contains(a))
            {
                found.insert(node.uuid().to_string());
            }
        }
        Ok(found)
    }

    /// Nodes owning ports with these MACs, and the first (MAC, port) seen.
    async fn nodes_with_macs(
        &self,
        macs: &[String],
    ) -> Result<(BTreeSet<String>, Option<(String, String)>)> {
        let mut found = BTreeSet::new();
        let mut first = None;
        for mac in macs {
            for port in self
                .lifecycle
                .ironic()
                .ports_by_address(mac)
                .await
                .map_err(Error::from)?
            {
                if let Some(node) = port.node_uuid() {
                    found.insert(node.to_string());
                }
                first.get_or_insert_with(|| (mac.clone(), port.uuid().to_string()));
            }
        }
        Ok((found, first))
    }

    /// Puts an active (deployed) node under introspection when the data
    /// matches it in Ironic. `Ok(None)`: Ironic has no such node either.
    pub(crate) async fn record_active_node(
        &self,
        attrs: &LookupAttributes,
    ) -> Result<Option<(NodeRecord, NodeLock)>> {
        if attrs.macs.is_empty() && attrs.bmc_addresses.is_empty() {
            return Ok(None);
        }
        let (by_mac, _) = self.nodes_with_macs(&attrs.macs).await?;
        if by_mac.len() > 1 {
            return Err(Error::bad_request(format!(
                "MAC addresses {} correspond to more than one node: {}",
                python_list(&attrs.macs),
                by_mac.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let by_bmc = if attrs.bmc_addresses.is_empty() {
            BTreeSet::new()
        } else {
            self.nodes_with_bmc(&attrs.bmc_addresses).await?
        };
        if by_bmc.len() > 1 {
            return Err(Error::bad_request(format!(
                "BMC addresses {} correspond to more than one node: {}",
                python_list(&attrs.bmc_addresses),
                by_bmc.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let uuid = match (by_mac.first(), by_bmc.first()) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::bad_request(format!(
                    "MAC addresses {} and BMC addresses {} correspond to different nodes: {a} and {b}",
                    python_list(&attrs.macs),
                    python_list(&attrs.bmc_addresses)
                )));
            }
            (Some(a), _) => a.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => return Ok(None),
        };
        let node = self
            .lifecycle
            .ironic()
            .get_node(&uuid)
            .await
            .map_err(|e| Error::node_fetch(&uuid, e))?;
        let state = node.provision_state().to_lowercase();
        if !super::introspection::VALID_ACTIVE_STATES.contains(&state.as_str()) {
            return Err(Error::bad_request(format!(
                "Node {uuid} is not active, its provision state is {state}"
            )));
        }
        let lock = self.lifecycle.locks().lock(&uuid).await?;
        let record = NodeRecord {
            uuid: uuid.clone(),
            state: State::Waiting,
            started_at: Some(self.lifecycle.now()),
            finished_at: None,
            error: None,
            manage_boot: false,
        };
        let attributes: Vec<(&str, &str)> = attrs
            .macs
            .iter()
            .map(|m| ("mac", m.as_str()))
            .chain(
                attrs
                    .bmc_addresses
                    .iter()
                    .map(|b| ("bmc_address", b.as_str())),
            )
            .collect();
        self.lifecycle
            .store()
            .add_node(&record, &attributes)
            .await?;
        tracing::info!(node = %uuid, "introspecting an active node");
        Ok(Some((record, lock)))
    }

    /// Runs `[processing] node_not_found_hook`; the error's message is the
    /// failure line.
    pub(crate) async fn node_not_found_hook(
        &self,
        hook: &str,
        data: &mut Data,
        attrs: &LookupAttributes,
    ) -> Result<(NodeRecord, NodeLock)> {
        const RETURNED_NOTHING: &str = "Node not found hook returned nothing";
        match hook {
            "enroll" => match self.enroll(data, attrs).await {
                Ok(Some(found)) => Ok(found),
                Ok(None) => Err(Error::bad_request(RETURNED_NOTHING)),
                Err(e) => Err(Error::new(
                    e.kind,
                    format!("Node not found hook failed: {}", e.message),
                )),
            },
            "example" => {
                tracing::info!("example node_not_found_hook called");
                Err(Error::bad_request(RETURNED_NOTHING))
            }
            other => Err(Error::bad_request(format!(
                "Node not found hook failed: unknown hook {other}"
            ))),
        }
    }

    /// Discovery: creates the node in Ironic and caches it as `enrolling`.
    /// One enrollment at a time, and the cache is looked up again once it is
    /// our turn, so two callbacks of one machine never create two nodes.
    async fn enroll(
        &self,
        data: &mut Data,
        attrs: &LookupAttributes,
    ) -> Result<Option<(NodeRecord, NodeLock)>> {
        let _turn = self.enroll_turn.lock().await;
        match find_node(&self.lifecycle, &attrs.bmc_addresses, &attrs.macs).await {
            Ok(found) => return Ok(Some(found)),
            Err(LookupFailure::NotFound) => {}
            Err(other) => return Err(other.into_error("")),
        }
        let discovery = &self.config.discovery;
        let mut driver_info = Map::new();
        // Lookup attributes hold at most one address per IP version.
        let chosen = discovery
            .enabled_bmc_address_version
            .iter()
            .find_map(|version| {
                attrs
                    .bmc_addresses
                    .iter()
                    .find(|a| a.contains(':') == (version == "6"))
                    .cloned()
            });
        match &chosen {
            Some(address) => {
                driver_info.insert("ipmi_address".into(), json!(address));
            }
            None => tracing::warn!(
                "no BMC address in the data: the discovered node is created without one"
            ),
        }
        let (by_mac, first) = self.nodes_with_macs(&attrs.macs).await?;
        if !by_mac.is_empty() || first.is_some() {
            let (mac, port) = first.unwrap_or_default();
            return Err(Error::bad_request(format!(
                "Port {mac} already exists, uuid: {port}"
            )));
        }
        if let Some(address) = &chosen
            && let Some(existing) = self
                .nodes_with_bmc(std::slice::from_ref(address))
                .await?
                .first()
        {
            return Err(Error::bad_request(format!(
                "Node {existing} already has BMC address {address}"
            )));
        }
        data.insert("auto_discovered".into(), Value::Bool(true));
        let mut body = Map::new();
        for (key, value) in &discovery.enroll_node_fields {
            body.insert(key.clone(), json!(value));
        }
        body.insert("driver".into(), json!(discovery.enroll_node_driver));
        body.insert("driver_info".into(), Value::Object(driver_info));
        let node: Node = match self
            .lifecycle
            .ironic()
            .create_node(&Value::Object(body))
            .await
        {
            Ok(node) => node,
            Err(e) => {
                tracing::error!(error = %e, "failed to create a new node in Ironic");
                return Ok(None);
            }
        };
        let uuid = node.uuid().to_string();
        let lock = self.lifecycle.locks().lock(&uuid).await?;
        let record = NodeRecord {
            uuid: uuid.clone(),
            state: State::Enrolling,
            started_at: Some(self.lifecycle.now()),
            finished_at: None,
            error: None,
            manage_boot: true,
        };
        // Unlike upstream, the new node is findable by its MACs at once, so a
        // racing callback of the same machine finds it instead of enrolling it again.
        let attributes: Vec<(&str, &str)> =
            attrs.macs.iter().map(|m| ("mac", m.as_str())).collect();
        self.lifecycle
            .store()
            .add_node(&record, &attributes)
            .await?;
        tracing::info!(node = %uuid, "enrolled a discovered node");
        Ok(Some((record, lock)))
    }
}

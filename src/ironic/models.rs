//! Ironic resources as inspector reads them. Nodes stay JSON documents (rules
//! address any field of them); accessors cover what the flows use.

use serde_json::{Map, Value};

/// The `uuid` of an Ironic document (a node or a port), empty when it has
/// none; for documents held as plain JSON rather than as [`Node`] or [`Port`].
pub fn document_uuid(document: &Value) -> &str {
    document
        .get("uuid")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node(pub Value);

impl Node {
    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn uuid(&self) -> &str {
        document_uuid(&self.0)
    }

    pub fn name(&self) -> Option<&str> {
        self.text("name")
    }

    pub fn provision_state(&self) -> &str {
        self.text("provision_state").unwrap_or_default()
    }

    pub fn power_state(&self) -> Option<&str> {
        self.text("power_state")
    }

    pub fn maintenance(&self) -> bool {
        self.0
            .get("maintenance")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn driver(&self) -> Option<&str> {
        self.text("driver")
    }

    fn object(&self, key: &str) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.0
            .get(key)
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    pub fn driver_info(&self) -> &Map<String, Value> {
        self.object("driver_info")
    }

    pub fn properties(&self) -> &Map<String, Value> {
        self.object("properties")
    }

    pub fn extra(&self) -> &Map<String, Value> {
        self.object("extra")
    }

    pub fn traits(&self) -> Vec<String> {
        self.0
            .get("traits")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Port(pub Value);

impl Port {
    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn uuid(&self) -> &str {
        document_uuid(&self.0)
    }

    pub fn address(&self) -> &str {
        self.text("address").unwrap_or_default()
    }

    pub fn node_uuid(&self) -> Option<&str> {
        self.text("node_uuid")
    }

    pub fn pxe_enabled(&self) -> Option<bool> {
        self.0.get("pxe_enabled").and_then(Value::as_bool)
    }

    pub fn extra(&self) -> Option<&Map<String, Value>> {
        self.0.get("extra").and_then(Value::as_object)
    }

    pub fn local_link_connection(&self) -> Option<&Map<String, Value>> {
        self.0
            .get("local_link_connection")
            .and_then(Value::as_object)
    }

    pub fn physical_network(&self) -> Option<&str> {
        self.text("physical_network")
    }
}

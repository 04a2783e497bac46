//! Where introspection data is kept (`[processing] store_data`): nowhere,
//! the database, or Swift objects named as upstream names them, so that
//! either service reads what the other wrote.

use std::sync::Arc;

use inspector_core::conf::{Config, StoreData};
use inspector_core::hooks::Data;
use inspector_core::py::value::{json_dumps, json_dumps_object_without};
use serde_json::Value;

use super::{Error, Result};
use crate::store::Store;
use crate::swift::{SwiftClient, SwiftError, SwiftSettings};

/// Upstream's object names: `inspector_data-<uuid>` for processed data,
/// with `-UNPROCESSED` for the ramdisk's document as it came.
/// The ramdisk's logs in a posted document: kept apart, never stored.
const LOGS: &str = "logs";

/// A document serialised without its `logs`.
struct WithoutLogs<'a>(&'a Data);

impl serde::Serialize for WithoutLogs<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().filter(|(key, _)| *key != LOGS))
    }
}

pub fn swift_object_name(uuid: &str, processed: bool) -> String {
    if processed {
        format!("inspector_data-{uuid}")
    } else {
        format!("inspector_data-{uuid}-UNPROCESSED")
    }
}

pub(crate) enum DataStore {
    None,
    Database(Store),
    /// The client, or why the `[swift]` options make none (reported on
    /// each use, as upstream reports it; start-up refuses such options
    /// first, see [`crate::service`]).
    Swift(std::result::Result<Arc<SwiftClient>, SwiftError>),
}

impl DataStore {
    pub(crate) fn from_config(config: &Config, store: Store) -> Self {
        match config.processing.store_data {
            StoreData::None => DataStore::None,
            StoreData::Database => DataStore::Database(store),
            StoreData::Swift => DataStore::Swift(
                SwiftSettings::from_config(&config.swift)
                    .and_then(SwiftClient::new)
                    .map(Arc::new),
            ),
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        !matches!(self, DataStore::None)
    }

    /// The text a document is stored as, without its `logs` (never
    /// stored): written from the document itself, not from a copy of it.
    /// `None` when storage is off.
    pub(crate) fn stored_text(&self, data: &Data) -> Option<String> {
        match self {
            DataStore::None => None,
            DataStore::Database(_) => Some(
                serde_json::to_string(&WithoutLogs(data)).expect("a JSON map serialises to text"),
            ),
            // What upstream's json.dumps writes.
            DataStore::Swift(_) => Some(json_dumps_object_without(data, LOGS)),
        }
    }

    /// Stores a document without its `logs`; a no-op when storage is off.
    pub(crate) async fn save(&self, uuid: &str, processed: bool, data: &Data) -> Result<()> {
        self.save_text(uuid, processed, self.stored_text(data))
            .await
    }

    /// Stores what [`Self::stored_text`] made.
    pub(crate) async fn save_text(
        &self,
        uuid: &str,
        processed: bool,
        text: Option<String>,
    ) -> Result<()> {
        let Some(text) = text else { return Ok(()) };
        match self {
            DataStore::None => Ok(()),
            DataStore::Database(store) => Ok(store.store_data(uuid, processed, &text).await?),
            DataStore::Swift(client) => {
                let client = connected(client)?;
                let name = swift_object_name(uuid, processed);
                let container = client.container();
                client.create_container().await.map_err(|e| {
                    swift_failure(
                        format!("Swift failed to create container {container}. Error was: {e}"),
                        &e,
                    )
                })?;
                client.put_object(&name, text).await.map_err(|e| {
                    swift_failure(
                        format!(
                            "Swift failed to create object {name} in container {container}. \
                                 Error was: {e}"
                        ),
                        &e,
                    )
                })?;
                tracing::info!(node = uuid, object = %name, "introspection data stored in Swift");
                Ok(())
            }
        }
    }

    /// The stored document as the data API serves it: the database's row
    /// as upstream's `json.dumps` renders it, a Swift object's bytes as they
    /// are. `Ok(None)`: storage is off.
    pub(crate) async fn load(&self, uuid: &str, processed: bool) -> Result<Option<String>> {
        match self {
            DataStore::None => Ok(None),
            DataStore::Database(store) => {
                let python_bool = if processed { "True" } else { "False" };
                let text = store.get_data(uuid, processed).await?.ok_or_else(|| {
                    Error::not_found(format!(
                        "Introspection data not found for node {uuid}, processed={python_bool}"
                    ))
                })?;
                Ok(Some(as_upstream_renders(&text)?))
            }
            DataStore::Swift(client) => {
                let client = connected(client)?;
                let name = swift_object_name(uuid, processed);
                let bytes = client.get_object(&name).await.map_err(|e| {
                    swift_failure(
                        format!(
                            "Swift failed to get object {name} in container {}. Error was: {e}",
                            client.container()
                        ),
                        &e,
                    )
                })?;
                String::from_utf8(bytes).map(Some).map_err(|_| {
                    Error::bad_request(format!(
                        "Swift object {name} in container {} is not UTF-8 text",
                        client.container()
                    ))
                })
            }
        }
    }
}

/// A document the database stores, as upstream's `json.dumps` renders it.
pub(crate) fn as_upstream_renders(text: &str) -> Result<String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::internal(format!("stored introspection data is not JSON: {e}")))?;
    Ok(json_dumps(&value))
}

fn connected(
    client: &std::result::Result<Arc<SwiftClient>, SwiftError>,
) -> Result<&Arc<SwiftClient>> {
    client.as_ref().map_err(|e| {
        Error::bad_request(format!(
            "Could not connect to the object storage service: {e}"
        ))
    })
}

/// Swift or Keystone not answering is a dependency down (503); anything
/// else Swift or Keystone refused is upstream's 400.
fn swift_failure(message: String, err: &SwiftError) -> Error {
    match err {
        SwiftError::Unreachable(_) => Error::unavailable(message),
        _ => Error::bad_request(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_upstreams() {
        let uuid = "1a7a2a5e-8e0b-4e8e-9a3e-0d1e2f3a4b5c";
        assert_eq!(
            swift_object_name(uuid, true),
            "inspector_data-1a7a2a5e-8e0b-4e8e-9a3e-0d1e2f3a4b5c"
        );
        assert_eq!(
            swift_object_name(uuid, false),
            "inspector_data-1a7a2a5e-8e0b-4e8e-9a3e-0d1e2f3a4b5c-UNPROCESSED"
        );
    }
}

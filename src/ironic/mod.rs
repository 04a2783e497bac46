//! The Ironic client: only the calls inspector's flows need, each with a
//! typed error, with retries of transient failures and Keystone, HTTP basic
//! or no authentication (`[ironic]` options). [`IronicApi`] is what the
//! domain uses; [`fake::FakeIronic`] stands in for Ironic in domain tests.

mod api;
mod client;
mod error;
pub mod fake;
mod models;
mod plain_http;

pub use api::{IronicApi, IronicFuture};
pub use client::{IronicClient, IronicSettings};
pub use error::{IronicError, error_message};
pub use models::{Node, Port, document_uuid};

//! The Ironic client: only the calls inspector's flows need, each with a
//! typed error, with retries of transient failures and Keystone, HTTP basic
//! or no authentication (`[ironic]` options).

mod client;
mod error;
mod models;

pub use client::{IronicClient, IronicSettings};
pub use error::{IronicError, error_message};
pub use models::{Node, Port};

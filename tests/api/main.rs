//! The one integration-test binary (linking once keeps builds fast).

mod auth;
mod bad_input;
mod bed;
mod binary;
mod clients;
mod concurrency;
mod db_backend;
mod db_copy;
mod discovery;
mod faults;
mod helpers;
mod introspection;
mod ironic_calls;
mod ironic_down;
mod keystone;
mod legacy;
mod payloads;
mod processing;
mod pxe;
mod recording_proxy;
mod rules;
mod statuses;
mod tls;
mod upstream_db;
mod versioning;

//! The one integration-test binary (linking once keeps builds fast).

mod auth;
mod bed;
mod binary;
mod clients;
mod faults;
mod helpers;
mod introspection;
mod processing;
mod pxe;
mod rules;
mod statuses;
mod upstream_db;
mod versioning;

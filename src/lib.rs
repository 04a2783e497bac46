//! inspector: ironic-inspector's API and behaviour as one small service.
//!
//! Layers: `api` (HTTP) calls `domain` (state machine, processing, rules),
//! which uses `store` (database), `ironic` (client) and `pxe_filter`. Pure
//! logic lives in the `inspector-core` crate.

pub mod api;
pub mod clock;
pub mod config;
pub mod domain;
pub mod ironic;
pub mod keystone;
pub mod metrics;
pub mod policy;
pub mod pxe_filter;
pub mod service;
pub mod store;
pub mod swift;
pub mod systemd;
pub mod telemetry;
pub mod tls;

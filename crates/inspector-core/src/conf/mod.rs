//! inspector.conf: the typed configuration and how it is built from oslo-style files.

mod model;
pub use model::*;

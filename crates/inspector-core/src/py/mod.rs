//! Python semantics: the one implementation the rules engine, the hooks, root device
//! hints and the configuration loader share.
//!
//! Upstream evaluates rule conditions and formats action values with plain Python
//! (`str()`, `str.format`, `int()`/`float()`, comparison operators, `re`, `netaddr`).
//! Values here are `serde_json::Value`s standing for what Python's `json` module decodes
//! (`int`, `float`, `str`, `bool`, `None`, `list`, `dict`), and every function reproduces
//! the Python result, including the exception class and message on failure.

pub mod cmp;
pub mod format;
pub mod net;
pub mod re;
pub mod text;
pub mod value;

mod fmtspec;
mod num;
mod tables;
mod uni;

pub use num::{PyInt, float_floor_div, float_from_str, float_repr, int_from_str};

/// A Python exception: its class name and `str(exception)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}: {message}")]
pub struct PyError {
    /// Exception class name, e.g. `ValueError`, `TypeError`, `AddrFormatError`.
    pub class: String,
    /// What `str(exception)` gives.
    pub message: String,
}

impl PyError {
    pub(crate) fn new(class: &str, message: impl Into<String>) -> Self {
        PyError {
            class: class.to_string(),
            message: message.into(),
        }
    }
}

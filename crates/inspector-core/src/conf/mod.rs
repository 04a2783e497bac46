//! inspector.conf: the typed configuration and how it is built from oslo-style files.
//!
//! The service reads the files (`--config-file`s in order, then the sorted
//! `*.conf` of `--config-dir`) and hands their text to [`load`], which
//! behaves like oslo.config with inspector's and its libraries' options
//! registered, except that every option is validated up front and every
//! problem is reported at once.

mod load;
mod model;
mod registry;
mod sample;
mod suggest;

use std::fmt;

pub use load::load;
pub use model::*;
pub use sample::sample;
pub use suggest::{closest, edit_distance};

use crate::oslo::types::Value;

/// The text of one configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Used in messages only.
    pub path: String,
    pub text: String,
}

/// A successfully loaded configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub config: Config,
    /// Problems that do not prevent starting: unknown sections and options,
    /// deprecated names, unsupported options set to non-default values.
    pub warnings: Vec<String>,
    /// Upstream's options for running several instances (message bus,
    /// coordination backend, `standalone = false`) that the files set; the
    /// database coordinates instances here, so they are not needed.
    pub coordination_options: Vec<String>,
    /// The warnings about unknown sections and options (also in
    /// `warnings`), which `config check --strict` treats as errors.
    pub unknown_names: Vec<String>,
    /// The value of every known option, in registry order (what upstream
    /// logs at start-up in debug mode).
    pub values: Vec<OptionValue>,
}

/// The effective value of one option.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionValue {
    pub group: &'static str,
    pub name: &'static str,
    /// As oslo.config would hand it to the program.
    pub value: Value,
    /// Passwords and the like, to be masked when shown.
    pub secret: bool,
}

impl OptionValue {
    /// The value as upstream logs it (Python `repr`), secrets masked.
    pub fn display_value(&self) -> String {
        if self.secret && self.value != Value::None {
            "****".into()
        } else {
            self.value.python_repr()
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// The file, or `(default)` when the problem is in a default value.
    pub file: String,
    /// The section as written; empty for syntax errors.
    pub section: String,
    /// The option as written; empty for syntax errors.
    pub option: String,
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.section.is_empty() && self.option.is_empty() {
            match self.line {
                Some(line) => write!(f, "{}: line {}: {}", self.file, line, self.message),
                None => write!(f, "{}: {}", self.file, self.message),
            }
        } else {
            write!(
                f,
                "{}: [{}] {}: {}",
                self.file, self.section, self.option, self.message
            )
        }
    }
}

impl std::error::Error for ConfError {}

//! oslo.config INI syntax and value types: a faithful, pure model of how
//! oslo.config reads `inspector.conf`, independent of which options exist.

pub mod ini;
pub mod resolve;
pub mod template;
pub mod types;

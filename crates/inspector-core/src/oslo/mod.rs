//! oslo.config INI syntax and value types.

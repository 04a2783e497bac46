//! python jsonpath-rw 1.4 semantics for rule fields.

//! Root device hints (ironic-lib semantics).

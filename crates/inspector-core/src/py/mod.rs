//! Python semantics the rules engine depends on.

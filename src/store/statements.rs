//! The SQL of the writes a callback makes, named once. Two writers run
//! them: sqlx's, on every database (`sqlx_backend.rs`), and the inline one
//! on SQLite (`sqlite_write.rs`). They are templates for [`Dialect::sql`]
//! (`?` placeholders, `{state}` after a `nodes.state` value).
//!
//! [`Dialect::sql`]: super::server::Dialect::sql

/// With [`CLEAR_FINISHED`], every row of a node but its history (one
/// parameter: the node).
pub(super) const FORGET_NODE: [&str; 2] = [
    "DELETE FROM introspection_data WHERE uuid = ?",
    "DELETE FROM nodes WHERE uuid = ?",
];

/// A node's row: uuid, state, started_at, finished_at, error, manage_boot.
pub(super) const INSERT_NODE: &str = "INSERT INTO nodes \
     (uuid, state, started_at, finished_at, error, manage_boot) VALUES (?, ?{state}, ?, ?, ?, ?)";

/// A lookup attribute: its own id, node, name, value.
pub(super) const INSERT_ATTRIBUTE: &str =
    "INSERT INTO attributes (uuid, node_uuid, name, value) VALUES (?, ?, ?, ?)";

/// Stores a document; the dialect's `upsert_data` follows, to replace the
/// node's earlier one.
pub(super) const INSERT_DATA: &str =
    "INSERT INTO introspection_data (uuid, processed, data) VALUES (?, ?, ?) ";

/// Moves a node from one state to another: to, uuid, from. No row changed
/// means the node was not in `from`.
pub(super) const UPDATE_STATE: &str =
    "UPDATE nodes SET state = ?{state} WHERE uuid = ? AND state = ?{state}";

/// Ends an introspection: to, finished_at, error, uuid, from.
pub(super) const FINISH_NODE: &str = "UPDATE nodes SET state = ?{state}, finished_at = ?, \
     error = ? WHERE uuid = ? AND state = ?{state}";

/// What a finished introspection no longer needs (one parameter: the node).
pub(super) const CLEAR_FINISHED: [&str; 2] = [
    "DELETE FROM attributes WHERE node_uuid = ?",
    "DELETE FROM options WHERE uuid = ?",
];

/// The node's newest kept run.
pub(super) const LAST_RUN: &str = "SELECT MAX(run) FROM inspector_history WHERE node_uuid = ?";

/// Keeps a run: id, node, run, state, error, started_at, finished_at.
pub(super) const INSERT_RUN: &str = "INSERT INTO inspector_history \
     (id, node_uuid, run, state, error, started_at, finished_at, data) \
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL)";

/// As [`INSERT_RUN`], with the processed data copied inside the database,
/// however large (two more parameters: the node, and `true`).
pub(super) const INSERT_RUN_WITH_DATA: &str = "INSERT INTO inspector_history \
     (id, node_uuid, run, state, error, started_at, finished_at, data) \
     VALUES (?, ?, ?, ?, ?, ?, ?, \
     (SELECT data FROM introspection_data WHERE uuid = ? AND processed = ?))";

/// Forgets the runs beyond the depth kept: node, the newest run to forget.
pub(super) const PRUNE_RUNS: &str =
    "DELETE FROM inspector_history WHERE node_uuid = ? AND run <= ?";

/// Releases a lease its holder has: name, holder.
pub(super) const RELEASE_LEASE: &str = "DELETE FROM inspector_leases WHERE name = ? AND holder = ?";

//! Pure logic of inspector: everything here is deterministic and does no I/O,
//! so it can be tested (and fuzzed) without a runtime, a database or a network.

pub mod api_version;
pub mod conf;
pub mod db_url;
pub mod hardware_diff;
pub mod hooks;
pub mod ids;
pub mod json_depth;
pub mod json_patch;
pub mod jsonpath;
pub mod lldp;
pub mod oslo;
pub mod policy;
pub mod pxe;
pub mod py;
pub mod root_device;
pub mod rules;
pub mod state;
pub mod timestamp;

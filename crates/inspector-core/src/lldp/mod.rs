//! LLDP TLV parsing as ironic-inspector lldp_basic does it.

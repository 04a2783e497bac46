//! The typed configuration: one struct per `inspector.conf` group, holding the
//! options the service reads. Defaults are upstream's (upstream-behaviour §config) unless marked
//! as an inspector extension.

use std::time::Duration;

/// Everything the service reads from `inspector.conf`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    pub default: DefaultGroup,
    pub processing: Processing,
    pub discovery: Discovery,
    pub pxe_filter: PxeFilter,
    pub dnsmasq_pxe_filter: DnsmasqPxeFilter,
    pub iptables: Iptables,
    pub capabilities: Capabilities,
    pub pci_devices: PciDevices,
    pub accelerators: Accelerators,
    pub port_physnet: PortPhysnet,
    pub extra_hardware: ExtraHardware,
    pub swift: Swift,
    pub ironic: Ironic,
    pub database: Database,
    pub keystone_authtoken: KeystoneAuthtoken,
    pub oslo_policy: OsloPolicy,
    pub healthcheck: Healthcheck,
    pub ssl: Ssl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStrategy {
    Keystone,
    Noauth,
    HttpBasic,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefaultGroup {
    pub listen_address: String,
    pub listen_port: u16,
    pub listen_unix_socket: Option<String>,
    pub listen_unix_socket_mode: Option<u32>,
    /// Empty means "the machine's host name", filled in by the service.
    pub host: String,
    pub auth_strategy: AuthStrategy,
    pub http_basic_auth_user_file: String,
    /// Seconds; 0 disables the introspection timeout.
    pub timeout: u64,
    /// Seconds; 0 disables both the timeout clean-up and the Ironic sync.
    pub clean_up_period: u64,
    pub leader_election_interval: u64,
    pub use_ssl: bool,
    pub max_concurrency: u32,
    /// Seconds between two managed power-ons.
    pub introspection_delay: u64,
    pub ipmi_address_fields: Vec<String>,
    pub rootwrap_config: String,
    pub api_max_limit: u32,
    pub can_manage_boot: bool,
    pub enable_mdns: bool,
    pub standalone: bool,
    /// oslo.log
    pub debug: bool,
    pub log_file: Option<String>,
    pub log_dir: Option<String>,
    /// Accepted from older oslo.log; the log file is reopened on SIGHUP.
    pub watch_log_file: bool,
    pub use_json: bool,
    /// Inspector extension: body limit for every endpoint but the ramdisk
    /// callback and reapply (bytes).
    pub max_request_body_size: u64,
}

impl Default for DefaultGroup {
    fn default() -> Self {
        Self {
            listen_address: "::".into(),
            listen_port: 5050,
            listen_unix_socket: None,
            listen_unix_socket_mode: None,
            host: String::new(),
            auth_strategy: AuthStrategy::Keystone,
            http_basic_auth_user_file: "/etc/ironic-inspector/htpasswd".into(),
            timeout: 3600,
            clean_up_period: 60,
            leader_election_interval: 10,
            use_ssl: false,
            max_concurrency: 1000,
            introspection_delay: 5,
            ipmi_address_fields: [
                "redfish_address",
                "ilo_address",
                "drac_host",
                "drac_address",
                "ibmc_address",
            ]
            .map(String::from)
            .to_vec(),
            rootwrap_config: "/etc/ironic-inspector/rootwrap.conf".into(),
            api_max_limit: 1000,
            can_manage_boot: true,
            enable_mdns: false,
            standalone: true,
            debug: false,
            log_file: None,
            log_dir: None,
            watch_log_file: false,
            use_json: false,
            max_request_body_size: 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPorts {
    All,
    Active,
    Pxe,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepPorts {
    All,
    Present,
    Added,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreData {
    None,
    Database,
    Swift,
}

pub const DEFAULT_PROCESSING_HOOKS: &str =
    "ramdisk_error,root_disk_selection,scheduler,validate_interfaces,capabilities,pci_devices";

#[derive(Debug, Clone, PartialEq)]
pub struct Processing {
    pub add_ports: AddPorts,
    pub keep_ports: KeepPorts,
    pub overwrite_existing: bool,
    pub default_processing_hooks: Vec<String>,
    /// After `$var` interpolation, in configured order, empty items dropped.
    pub processing_hooks: Vec<String>,
    pub ramdisk_logs_dir: Option<String>,
    pub always_store_ramdisk_logs: bool,
    pub node_not_found_hook: Option<String>,
    pub store_data: StoreData,
    pub disk_partitioning_spacing: bool,
    pub ramdisk_logs_filename_format: String,
    pub power_off: bool,
    pub permit_active_introspection: bool,
    pub update_pxe_enabled: bool,
    /// Inspector extension: body limit of `/v1/continue` and reapply (bytes).
    pub max_body_size: u64,
    /// Inspector extension: maximum JSON nesting depth of posted documents.
    pub max_json_depth: u32,
}

impl Default for Processing {
    fn default() -> Self {
        let hooks: Vec<String> = DEFAULT_PROCESSING_HOOKS
            .split(',')
            .map(String::from)
            .collect();
        Self {
            add_ports: AddPorts::Pxe,
            keep_ports: KeepPorts::All,
            overwrite_existing: true,
            default_processing_hooks: hooks.clone(),
            processing_hooks: hooks,
            ramdisk_logs_dir: None,
            always_store_ramdisk_logs: false,
            node_not_found_hook: None,
            store_data: StoreData::None,
            disk_partitioning_spacing: true,
            ramdisk_logs_filename_format: "{uuid}_{dt:%Y%m%d-%H%M%S.%f}.tar.gz".into(),
            power_off: true,
            permit_active_introspection: false,
            update_pxe_enabled: true,
            max_body_size: 16 * 1024 * 1024,
            max_json_depth: 25,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub enroll_node_driver: String,
    /// A DictOpt: kept in file order.
    pub enroll_node_fields: Vec<(String, String)>,
    pub enabled_bmc_address_version: Vec<String>,
}

impl Default for Discovery {
    fn default() -> Self {
        Self {
            enroll_node_driver: "fake-hardware".into(),
            enroll_node_fields: Vec::new(),
            enabled_bmc_address_version: vec!["4".into(), "6".into()],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PxeDriver {
    Iptables,
    Dnsmasq,
    Noop,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PxeFilter {
    pub driver: PxeDriver,
    pub sync_period: u64,
    pub deny_unknown_macs: bool,
    /// Inspector extension: words put before every command the filter runs
    /// (upstream always used `sudo ironic-inspector-rootwrap <config>`).
    pub command_prefix: String,
}

impl Default for PxeFilter {
    fn default() -> Self {
        Self {
            driver: PxeDriver::Iptables,
            sync_period: 15,
            deny_unknown_macs: false,
            command_prefix: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DnsmasqPxeFilter {
    pub dhcp_hostsdir: String,
    pub purge_dhcp_hostsdir: bool,
    pub dnsmasq_start_command: String,
    pub dnsmasq_stop_command: String,
}

impl Default for DnsmasqPxeFilter {
    fn default() -> Self {
        Self {
            dhcp_hostsdir: "/var/lib/ironic-inspector/dhcp-hostsdir".into(),
            purge_dhcp_hostsdir: true,
            dnsmasq_start_command: String::new(),
            dnsmasq_stop_command: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVersion {
    V4,
    V6,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Iptables {
    pub dnsmasq_interface: String,
    pub firewall_chain: String,
    pub ethoib_interfaces: Vec<String>,
    pub ip_version: IpVersion,
}

impl Default for Iptables {
    fn default() -> Self {
        Self {
            dnsmasq_interface: "br-ctlplane".into(),
            firewall_chain: "ironic-inspector".into(),
            ethoib_interfaces: Vec::new(),
            ip_version: IpVersion::V4,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    pub boot_mode: bool,
    /// A DictOpt `flag:capability`, kept in file order.
    pub cpu_flags: Vec<(String, String)>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Self {
            boot_mode: false,
            cpu_flags: [
                ("vmx", "cpu_vt"),
                ("svm", "cpu_vt"),
                ("aes", "cpu_aes"),
                ("pse", "cpu_hugepages"),
                ("pdpe1gb", "cpu_hugepages_1g"),
                ("smx", "cpu_txt"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .to_vec(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PciDevices {
    /// A MultiStrOpt: every value, from every file, in order.
    pub alias: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Accelerators {
    /// None means the bundled catalogue.
    pub known_devices: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortPhysnet {
    pub cidr_map: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtraHardware {
    pub strict: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Swift {
    pub container: String,
    pub delete_after: u64,
    /// keystoneauth options of the `[swift]` group.
    pub client: KeystoneClient,
}

impl Default for Swift {
    fn default() -> Self {
        Self {
            container: "ironic-inspector".into(),
            delete_after: 0,
            client: KeystoneClient {
                service_type: "object-store".into(),
                ..KeystoneClient::default()
            },
        }
    }
}

/// keystoneauth session, auth plugin and adapter options of a client group
/// (the same options as the client part of [`Ironic`]).
#[derive(Debug, Clone, PartialEq)]
pub struct KeystoneClient {
    pub auth_type: String,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub user_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub system_scope: Option<String>,
    /// Endpoint of the `none` and `http_basic` plugins.
    pub endpoint: Option<String>,
    pub region_name: Option<String>,
    pub endpoint_override: Option<String>,
    pub service_type: String,
    pub valid_interfaces: Vec<String>,
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub insecure: bool,
    pub timeout: Option<Duration>,
    pub connect_retries: Option<u32>,
    pub status_code_retries: Option<u32>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
}

impl Default for KeystoneClient {
    fn default() -> Self {
        Self {
            auth_type: "password".into(),
            auth_url: None,
            username: None,
            password: None,
            user_id: None,
            project_name: None,
            project_id: None,
            user_domain_name: None,
            user_domain_id: None,
            project_domain_name: None,
            project_domain_id: None,
            system_scope: None,
            endpoint: None,
            region_name: None,
            endpoint_override: None,
            service_type: String::new(),
            valid_interfaces: vec!["internal".into(), "public".into()],
            cafile: None,
            certfile: None,
            keyfile: None,
            insecure: false,
            timeout: None,
            connect_retries: None,
            status_code_retries: None,
            min_version: None,
            max_version: None,
        }
    }
}

/// keystoneauth options of the `[ironic]` group plus inspector's own.
#[derive(Debug, Clone, PartialEq)]
pub struct Ironic {
    /// `none`, `http_basic`, `password`, `v3password`, `token`... as keystoneauth names them.
    pub auth_type: String,
    pub auth_url: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub user_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub user_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_name: Option<String>,
    pub project_domain_id: Option<String>,
    pub system_scope: Option<String>,
    /// Endpoint of the `none` and `http_basic` plugins; `endpoint_override`
    /// takes precedence.
    pub endpoint: Option<String>,
    pub region_name: Option<String>,
    pub endpoint_override: Option<String>,
    pub service_type: String,
    pub valid_interfaces: Vec<String>,
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub insecure: bool,
    /// Per-request timeout; None = no timeout (keystoneauth's default).
    pub timeout: Option<Duration>,
    pub connect_retries: Option<u32>,
    pub status_code_retries: Option<u32>,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    /// Seconds between retries of a transient Ironic failure.
    pub retry_interval: u64,
    pub max_retries: u32,
}

impl Default for Ironic {
    fn default() -> Self {
        Self {
            auth_type: "password".into(),
            auth_url: None,
            username: None,
            password: None,
            user_id: None,
            project_name: None,
            project_id: None,
            user_domain_name: None,
            user_domain_id: None,
            project_domain_name: None,
            project_domain_id: None,
            system_scope: None,
            endpoint: None,
            region_name: None,
            endpoint_override: None,
            service_type: "baremetal".into(),
            valid_interfaces: vec!["internal".into(), "public".into()],
            cafile: None,
            certfile: None,
            keyfile: None,
            insecure: false,
            timeout: None,
            connect_retries: None,
            status_code_retries: None,
            min_version: None,
            max_version: None,
            retry_interval: 2,
            max_retries: 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    /// oslo.db URL; None means `sqlite:///ironic_inspector.sqlite` in the
    /// working directory, as upstream.
    pub connection: Option<String>,
    pub max_pool_size: u32,
    pub max_retries: i32,
    pub retry_interval: u64,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            connection: None,
            max_pool_size: 5,
            max_retries: 10,
            retry_interval: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeystoneAuthtoken {
    pub www_authenticate_uri: Option<String>,
    pub auth_url: Option<String>,
    pub auth_type: Option<String>,
    pub username: Option<String>,
    pub user_id: Option<String>,
    pub password: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub system_scope: Option<String>,
    pub user_domain_name: Option<String>,
    pub project_domain_name: Option<String>,
    pub user_domain_id: Option<String>,
    pub project_domain_id: Option<String>,
    pub region_name: Option<String>,
    pub interface: Option<String>,
    pub cafile: Option<String>,
    pub certfile: Option<String>,
    pub keyfile: Option<String>,
    pub insecure: bool,
    pub http_connect_timeout: Option<Duration>,
    /// Retries of a Keystone request that could not connect.
    pub http_request_max_retries: u32,
    /// Seconds a validated token is cached; upstream's default is 300.
    pub token_cache_time: i64,
    /// An `X-Service-Token` must carry one of these roles to count.
    pub service_token_roles: Vec<String>,
    pub service_token_roles_required: bool,
}

impl Default for KeystoneAuthtoken {
    fn default() -> Self {
        Self {
            www_authenticate_uri: None,
            auth_url: None,
            auth_type: None,
            username: None,
            user_id: None,
            password: None,
            project_name: None,
            project_id: None,
            system_scope: None,
            user_domain_name: None,
            project_domain_name: None,
            user_domain_id: None,
            project_domain_id: None,
            region_name: None,
            interface: Some("internal".into()),
            cafile: None,
            certfile: None,
            keyfile: None,
            insecure: false,
            http_connect_timeout: None,
            http_request_max_retries: 3,
            token_cache_time: 300,
            service_token_roles: vec!["service".into()],
            service_token_roles_required: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OsloPolicy {
    pub policy_file: String,
    pub enforce_scope: bool,
    pub enforce_new_defaults: bool,
    pub policy_default_rule: String,
    pub policy_dirs: Vec<String>,
}

impl Default for OsloPolicy {
    fn default() -> Self {
        Self {
            policy_file: "policy.yaml".into(),
            enforce_scope: true,
            enforce_new_defaults: true,
            policy_default_rule: "default".into(),
            policy_dirs: vec!["policy.d".into()],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Healthcheck {
    pub enabled: bool,
    pub path: String,
}

impl Default for Healthcheck {
    fn default() -> Self {
        Self {
            enabled: false,
            path: "/healthcheck".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ssl {
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub ca_file: Option<String>,
}

//! The typed configuration, and every option `inspector.conf` may contain,
//! each declared once: its group, name, type, default, help, deprecated
//! names, status and secrecy. From these declarations come the registry
//! (what loading and the sample know), the structs the service reads, their
//! `Default`s (the values when no file sets anything) and their loading.
//! Types, defaults and deprecated names are upstream's (upstream-behaviour
//! §config) unless marked as an inspector extension; the help texts are
//! ours.

use std::sync::LazyLock;
use std::time::Duration;

use super::load::{read_hook_list, read_if_set, read_valid_interfaces};
use super::registry::{
    Status, boolean, choices, dict, float, float_min, group, groups, int, int_list, int_min,
    int_range, list, multi_string, octal, one_of, one_of_any_case, one_of_or_unset, opt, options,
    port, quoted_dict, set, string,
};

groups! {
    /// Everything the service reads from `inspector.conf`.
    pub struct Config {
        default: DefaultGroup = group("DEFAULT", "General options."),
        processing: Processing = group("processing", "Processing of introspection data."),
        discovery: Discovery = group(
            "discovery",
            "Enrolling nodes that inspector does not know (the enroll hook).",
        ),
        pxe_filter: PxeFilter = group("pxe_filter", "Which machines the PXE/DHCP service answers."),
        dnsmasq_pxe_filter: DnsmasqPxeFilter =
            group("dnsmasq_pxe_filter", "The dnsmasq PXE filter driver."),
        iptables: Iptables = group("iptables", "The iptables PXE filter driver."),
        capabilities: Capabilities = group("capabilities", "The capabilities processing hook."),
        pci_devices: PciDevices = group("pci_devices", "The pci_devices processing hook."),
        accelerators: Accelerators = group("accelerators", "The accelerators processing hook."),
        port_physnet: PortPhysnet = group("port_physnet", "The physnet_cidr_map processing hook."),
        extra_hardware: ExtraHardware =
            group("extra_hardware", "The extra_hardware processing hook."),
        ironic: Ironic = group(
            "ironic",
            "Access to the Bare Metal (Ironic) API, with keystoneauth options.",
        ),
        swift: Swift = group(
            "swift",
            "Object storage (Swift) for introspection data, with keystoneauth options.",
        ),
        _: KeystoneClient = group(
            "service_catalog",
            "How inspector finds its own endpoint for multicast DNS, with keystoneauth options.",
        )
        .with_default("service_type", "baremetal-introspection")
        .all(Status::Ignored),
        _: Coordination = group("coordination", "Distributed coordination (non-standalone mode)."),
        healthcheck: Healthcheck =
            group("healthcheck", "The /healthcheck endpoint (oslo.middleware)."),
        _: Mdns = group("mdns", "Multicast DNS announcement of the API."),
        _: ExceptionFormatting = group("exception", "Error message formatting."),
        database: Database = group("database", "Database access (oslo.db)."),
        keystone_authtoken: KeystoneAuthtoken = group(
            "keystone_authtoken",
            "Keystone token validation (keystonemiddleware).",
        ),
        oslo_policy: OsloPolicy = group("oslo_policy", "API access policy (oslo.policy)."),
        _: Cors = group("cors", "Cross-origin resource sharing (oslo.middleware)."),
        ssl: Ssl = group("ssl", "TLS of the API (oslo.service), used with [DEFAULT]use_ssl."),
        _: OsloConcurrency =
            group("oslo_concurrency", "Inter-process locks (oslo.concurrency)."),
    }
}

/// Library sections whose options are all accepted and ignored (listed
/// after the groups above in the sample).
pub(crate) const ACCEPTED_SECTIONS: &[(&str, &str)] = &[
    (
        "oslo_messaging_rabbit",
        "RabbitMQ transport (oslo.messaging); not used by inspector.",
    ),
    (
        "oslo_messaging_notifications",
        "Notifications (oslo.messaging); not used by inspector.",
    ),
    (
        "oslo_messaging_kafka",
        "Kafka transport (oslo.messaging); not used by inspector.",
    ),
    (
        "oslo_messaging_amqp",
        "AMQP 1.0 transport (oslo.messaging); not used by inspector.",
    ),
    (
        "oslo_middleware",
        "Request middleware (oslo.middleware); not used by inspector.",
    ),
];

/// The configuration when no file sets anything: loading nothing, so that
/// the defaults are those of the declarations and nothing else.
static DEFAULTS: LazyLock<Config> = LazyLock::new(|| {
    super::load(&[])
        .expect("the declared defaults are valid (every test loads them)")
        .config
});

impl Default for Config {
    fn default() -> Self {
        DEFAULTS.clone()
    }
}

choices! {
    pub enum AuthStrategy {
        Noauth = "noauth": "no authentication",
        Keystone = "keystone": "Keystone tokens, validated as configured in [keystone_authtoken]",
        HttpBasic = "http_basic": "HTTP basic authentication against http_basic_auth_user_file",
    }
}

choices! {
    pub enum AddPorts {
        All = "all": "every interface",
        Active = "active": "interfaces with an IP address",
        Pxe = "pxe": "the interface the node booted from, or active when the ramdisk does not tell",
        Disabled = "disabled": "create no port",
    }
}

choices! {
    pub enum KeepPorts {
        All = "all": "delete nothing",
        Present = "present": "delete ports whose MAC address the ramdisk did not report",
        Added = "added": "delete ports of interfaces that add_ports did not select",
    }
}

choices! {
    /// Upstream's names of storage plugins: a plain string option, checked
    /// when read.
    pub enum StoreData {
        None = "none",
        Database = "database",
        Swift = "swift",
    }
}

choices! {
    /// Upstream's names of filter plugins: a plain string option, checked
    /// when read.
    pub enum PxeDriver {
        Iptables = "iptables",
        Dnsmasq = "dnsmasq",
        Noop = "noop",
    }
}

choices! {
    pub enum IpVersion {
        V4 = "4": "iptables, DHCPv4 (udp/67)",
        V6 = "6": "ip6tables, DHCPv6 (udp/547)",
    }
}

pub const DEFAULT_PROCESSING_HOOKS: &str =
    "ramdisk_error,root_disk_selection,scheduler,validate_interfaces,capabilities,pci_devices";

options! {
    /// General options: the API, the introspection timeout, logging.
    pub struct DefaultGroup {
        listen_address: String = opt(string(), "::", "IP address the API listens on."),
        listen_port: u16 = opt(port(), "5050", "TCP port the API listens on."),
        listen_unix_socket: Option<String> = opt(
            string(),
            None,
            "Listen on this UNIX socket instead of listen_address and listen_port.",
        ),
        listen_unix_socket_mode: Option<u32> = opt(
            octal(),
            None,
            "File mode, in octal, of the UNIX socket; only used with listen_unix_socket.",
        ),
        // Empty: the machine's host name, filled in by the service.
        host: String = opt(
            string(),
            "",
            "Name of this inspector instance; empty means the host name of the machine.",
        )
        .sample("localhost"),
        auth_strategy: AuthStrategy = opt(
            AuthStrategy::checked(),
            "keystone",
            "How API requests are authenticated.",
        ),
        http_basic_auth_user_file: String = opt(
            string(),
            "/etc/ironic-inspector/htpasswd",
            "Apache-style user file (bcrypt passwords) used when auth_strategy is http_basic.",
        ),
        timeout: u64 = opt(
            int_range(None, Some(315_576_000)),
            "3600",
            "Seconds after which an unfinished introspection fails; 0 disables the timeout.",
        ),
        clean_up_period: u64 = opt(
            int_min(0),
            "60",
            "Seconds between two runs of the timeout clean-up and of the removal of nodes that Ironic no \
             longer knows; 0 disables both, which leaves a PXE filter out of date.",
        ),
        leader_election_interval: u64 = opt(
            int(),
            "10",
            "Seconds between two attempts of an instance to become (or stay) the leader that runs the timeout \
             clean-up and the removal of deleted nodes, when several instances share the database; at most a \
             third of lock_lease_time is used.",
        ),
        lock_lease_time: u64 = opt(
            int_min(1),
            "30",
            "Inspector extension: seconds a node lock or the leadership, held in the database, lasts unless \
             its instance renews it (every third of this time). Instances sharing the database take over the \
             locks of an instance that stopped renewing them after this time.",
        ),
        use_ssl: bool = opt(
            boolean(),
            "false",
            "Serve the API over HTTPS, with the certificate of the [ssl] group.",
        ),
        max_concurrency: u32 = opt(int_min(2), "1000", "Size of the pool of background workers."),
        introspection_delay: u64 = opt(
            int(),
            "5",
            "Minimum seconds between two power-ons of nodes whose boot inspector manages.",
        ),
        ipmi_address_fields: Vec<String> = opt(
            list(),
            "redfish_address,ilo_address,drac_host,drac_address,ibmc_address",
            "Fields of a node's driver_info that hold a BMC address, besides ipmi_address.",
        ),
        rootwrap_config: String = opt(
            string(),
            "/etc/ironic-inspector/rootwrap.conf",
            "Rootwrap configuration used to run privileged commands.",
        ),
        api_max_limit: u32 = opt(
            int_min(1),
            "1000",
            "Largest (and default) number of items a list call returns.",
        ),
        can_manage_boot: bool = opt(
            boolean(),
            "true",
            "Whether inspector may power on and boot nodes; when false, introspection must be started with \
             manage_boot=false.",
        ),
        enable_mdns: bool = opt(boolean(), "false", "Announce the API endpoint with multicast DNS."),
        standalone: bool = opt(
            boolean(),
            "true",
            "Run the API and the conductor in one process (false is experimental upstream).",
        ),
        max_request_body_size: u64 = opt(
            int_min(1),
            "1048576",
            "Inspector extension: largest request body accepted by the API, in bytes, except for the ramdisk \
             callback and reapply (see [processing]max_body_size).",
        ),
        // oslo.log
        debug: bool = opt(
            boolean(),
            "false",
            "Log at debug level; also adds error details to internal errors.",
        ),
        log_config_append = opt(string(), None, "A Python logging configuration file.")
            .old_name("log-config")
            .old_name("log_config")
            .unsupported(),
        log_date_format = opt(string(), "%Y-%m-%d %H:%M:%S", "strftime format of log timestamps.")
            .unsupported(),
        log_file: Option<String> = opt(
            string(),
            None,
            "Log to this file instead of the standard error.",
        )
        .old_name("logfile"),
        log_dir: Option<String> = opt(
            string(),
            None,
            "Directory of log_file when it is a relative path.",
        )
        .old_name("logdir"),
        watch_log_file: bool = opt(
            boolean(),
            "false",
            "Older oslo.log: watch log_file and reopen it when it is moved. inspector always reopens \
             log_file on SIGHUP instead (logrotate's postrotate, systemd's reload); accepted, changes nothing.",
        ),
        use_syslog = opt(boolean(), "false", "Log to syslog.").unsupported(),
        use_journal = opt(boolean(), "false", "Log to the systemd journal.").unsupported(),
        syslog_log_facility = opt(string(), "LOG_USER", "Syslog facility.").unsupported(),
        use_json: bool = opt(boolean(), "false", "Write logs as JSON objects."),
        use_stderr = opt(boolean(), "false", "Also log to the standard error when log_file is set.")
            .unsupported(),
        log_color = opt(boolean(), "false", "Colour log levels.").unsupported(),
        log_rotate_interval = opt(int(), "1", "Log rotation interval.").unsupported(),
        log_rotate_interval_type = opt(
            one_of_any_case(&["Seconds", "Minutes", "Hours", "Days", "Weekday", "Midnight"]),
            "days",
            "Unit of log_rotate_interval.",
        )
        .unsupported(),
        max_logfile_count = opt(int(), "30", "Number of rotated log files kept.").unsupported(),
        max_logfile_size_mb = opt(int(), "200", "Size of a log file before rotation, in MiB.")
            .unsupported(),
        log_rotation_type = opt(
            one_of_any_case(&["interval", "size", "none"]),
            "none",
            "Log rotation kind.",
        )
        .unsupported(),
        logging_context_format_string = opt(
            string(),
            "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s \
             %(user_identity)s] %(instance)s%(message)s",
            "Python format of log lines with a request context.",
        )
        .unsupported(),
        logging_default_format_string = opt(
            string(),
            "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s",
            "Python format of log lines without a request context.",
        )
        .unsupported(),
        logging_debug_format_suffix = opt(
            string(),
            "%(funcName)s %(pathname)s:%(lineno)d",
            "Suffix of debug log lines.",
        )
        .unsupported(),
        logging_exception_prefix = opt(
            string(),
            "%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s",
            "Prefix of the lines of a logged exception.",
        )
        .unsupported(),
        logging_user_identity_format = opt(
            string(),
            "%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s",
            "Format of the user identity in log lines.",
        )
        .unsupported(),
        default_log_levels = opt(
            list(),
            "sqlalchemy=WARNING,iso8601=WARNING,requests=WARNING,urllib3.connectionpool=WARNING,\
             keystonemiddleware=WARNING,keystoneauth=WARNING,ironicclient=WARNING,amqp=WARNING,amqplib=WARNING,\
             stevedore=WARNING,oslo.messaging=WARNING,oslo_messaging=WARNING",
            "Levels of Python loggers, logger=LEVEL; Python logger names mean nothing to inspector.",
        )
        .ignored(),
        publish_errors = opt(boolean(), "false", "Publish error events.").ignored(),
        instance_format = opt(
            string(),
            "[instance: %(uuid)s] ",
            "Format of an instance in log lines.",
        )
        .ignored(),
        instance_uuid_format = opt(
            string(),
            "[instance: %(uuid)s] ",
            "Format of an instance UUID in log lines.",
        )
        .ignored(),
        rate_limit_interval = opt(int(), "0", "Log rate limiting interval, in seconds.")
            .unsupported(),
        rate_limit_burst = opt(int(), "0", "Log lines allowed per rate_limit_interval.")
            .unsupported(),
        rate_limit_except_level = opt(
            one_of(&["CRITICAL", "ERROR", "INFO", "WARNING", "DEBUG", ""]),
            "CRITICAL",
            "Level from which log lines are never rate limited.",
        )
        .unsupported(),
        fatal_deprecations = opt(boolean(), "false", "Fail on use of deprecated features.")
            .ignored(),
        // oslo.service
        backdoor_port = opt(string(), None, "Eventlet backdoor port.").unsupported(),
        backdoor_socket = opt(string(), None, "Eventlet backdoor socket.").unsupported(),
        log_options = opt(boolean(), "true", "Log all option values at start-up.").ignored(),
        graceful_shutdown_timeout = opt(
            int(),
            "60",
            "Seconds to wait for running work to finish at shutdown.",
        )
        .unsupported(),
        api_paste_config = opt(string(), "api-paste.ini", "Paste configuration of WSGI servers.")
            .ignored(),
        wsgi_log_format = opt(
            string(),
            "%(client_ip)s \"%(request_line)s\" status: %(status_code)s  len: %(body_length)s time: \
             %(wall_seconds).7f",
            "Format of WSGI access log lines.",
        )
        .ignored(),
        tcp_keepidle = opt(int(), "600", "TCP keep-alive idle time of API sockets.").ignored(),
        wsgi_default_pool_size = opt(int(), "100", "Green threads of the WSGI server.").ignored(),
        max_header_line = opt(int(), "16384", "Longest accepted HTTP header line.").ignored(),
        wsgi_keep_alive = opt(boolean(), "true", "HTTP keep-alive of the WSGI server.").ignored(),
        client_socket_timeout = opt(int(), "900", "Idle timeout of client connections.").ignored(),
        wsgi_server_debug = opt(boolean(), "false", "Show tracebacks of WSGI servers.").ignored(),
        // oslo.messaging: the API reaches the conductor in-process.
        executor_thread_pool_size = opt(int(), "64", "RPC executor threads.")
            .old_name("rpc_thread_pool_size")
            .ignored(),
        rpc_response_timeout = opt(int(), "60", "Seconds to wait for an RPC reply.").ignored(),
        transport_url = opt(string(), "rabbit://", "Message bus URL.").ignored().secret(),
        control_exchange = opt(string(), "openstack", "Default message exchange.").ignored(),
        rpc_ping_enabled = opt(boolean(), "false", "Answer RPC pings.").ignored(),
    }
}

options! {
    /// Processing of introspection data.
    pub struct Processing {
        add_ports: AddPorts = opt(
            AddPorts::checked(),
            "pxe",
            "Which interfaces become Ironic ports.",
        ),
        keep_ports: KeepPorts = opt(
            KeepPorts::checked(),
            "all",
            "Which existing ports of a node survive introspection.",
        ),
        overwrite_existing: bool = opt(
            boolean(),
            "true",
            "Let processing overwrite node properties and port fields that are already set.",
        ),
        default_processing_hooks: Vec<String> => read_hook_list = opt(
            string(),
            DEFAULT_PROCESSING_HOOKS,
            "Comma-separated hooks that processing_hooks includes by default. scheduler and validate_interfaces \
             are needed for nodes to be usable.",
        ),
        // After `$var` interpolation, in configured order, empty items dropped.
        processing_hooks: Vec<String> => read_hook_list = opt(
            string(),
            "$default_processing_hooks",
            "Comma-separated hooks run on introspection data, in order; add hooks around the defaults like \
             this: prehook,$default_processing_hooks,posthook.",
        ),
        ramdisk_logs_dir: Option<String> = opt(
            string(),
            None,
            "Directory where ramdisk logs are stored; unset: logs are not kept.",
        ),
        always_store_ramdisk_logs: bool = opt(
            boolean(),
            "false",
            "Store ramdisk logs of successful introspections too (needs ramdisk_logs_dir).",
        ),
        node_not_found_hook: Option<String> = opt(
            string(),
            None,
            "Hook run when data comes from a node inspector does not know, e.g. enroll; unset: such data is \
             rejected.",
        ),
        store_data: StoreData = opt(
            string(),
            "none",
            "Where introspection data is stored: none, database or swift.",
        ),
        disk_partitioning_spacing: bool = opt(
            boolean(),
            "true",
            "Leave 1 GiB of the root disk out of local_gb, for partitioning.",
        ),
        ramdisk_logs_filename_format: String = opt(
            string(),
            "{uuid}_{dt:%Y%m%d-%H%M%S.%f}.tar.gz",
            "File name of stored ramdisk logs; {uuid}, {bmc}, {mac} and {dt} (UTC time, strftime format after \
             the colon) are replaced.",
        ),
        power_off: bool = opt(
            boolean(),
            "true",
            "Power nodes off after introspection (never active or rescue nodes).",
        ),
        permit_active_introspection: bool = opt(
            boolean(),
            "false",
            "Accept data from nodes in the active or rescue state.",
        ),
        update_pxe_enabled: bool = opt(
            boolean(),
            "true",
            "Set the pxe_enabled flag of ports from the data (needs overwrite_existing).",
        ),
        max_body_size: u64 = opt(
            int_min(1),
            "16777216",
            "Inspector extension: largest body of the ramdisk callback and of reapply, in bytes.",
        ),
        max_json_depth: u32 = opt(
            int_min(1),
            "25",
            "Inspector extension: deepest nesting of arrays and objects accepted in posted JSON documents.",
        ),
        max_documents_memory: u64 = opt(
            int_min(1),
            "24",
            "Inspector extension: memory, in MiB, that the posted documents being read and processed \
             may take together (estimated from their size and number of JSON values). Documents wait \
             their turn; one that would take more than this alone is refused with 413.",
        ),
        max_concurrent_callbacks: u32 = opt(
            int_min(1),
            "8",
            "Inspector extension: ramdisk callbacks processed at once; more wait their turn, unread, \
             and none is refused for it, so that a boot storm keeps memory and Ironic's load bounded.",
        ),
        history_depth: u32 = opt(
            int_min(0),
            "10",
            "Inspector extension: finished or failed introspections kept per node for the history and \
             diff API (1.19), oldest dropped first; their processed data is kept with store_data = \
             database only. 0 keeps none.",
        ),
    }
}

options! {
    /// Enrolling nodes that inspector does not know.
    pub struct Discovery {
        enroll_node_driver: String = opt(
            string(),
            "fake-hardware",
            "Driver of nodes the enroll hook creates.",
        ),
        // Dicts are kept in file order.
        enroll_node_fields: Vec<(String, String)> = opt(
            dict(),
            "",
            "Extra fields of nodes the enroll hook creates, e.g. management_interface:noop,resource_class:baremetal.",
        ),
        enabled_bmc_address_version: Vec<String> = opt(
            list(),
            "4,6",
            "IP versions of the BMC address used for new nodes, in order of preference: 4, 6, 4,6 or 6,4.",
        ),
    }
}

options! {
    /// Which machines the PXE/DHCP service answers.
    pub struct PxeFilter {
        driver: PxeDriver = opt(
            string(),
            "iptables",
            "PXE filter driver: iptables, dnsmasq or noop (no filtering).",
        ),
        sync_period: u64 = opt(
            int_min(0),
            "15",
            "Seconds between two synchronisations of the filter; 0 disables the periodic synchronisation.",
        ),
        deny_unknown_macs: bool = opt(
            boolean(),
            "false",
            "Only let the MAC addresses of nodes under introspection through, instead of opening DHCP to any \
             machine while an introspection runs. Nodes then need at least one enrolled port, and no \
             node_not_found_hook may be set.",
        ),
        command_prefix: String = opt(
            string(),
            "",
            "Inspector extension: words put before every command the PXE filter runs (iptables, \
             iptables-restore, dnsmasq_start_command, dnsmasq_stop_command), split like a shell would but \
             never run by one. Upstream always used 'sudo ironic-inspector-rootwrap <rootwrap_config>'; set \
             it to that to keep rootwrap (its filters must then allow iptables-restore too), or leave it \
             empty when inspector itself has the privileges (root or CAP_NET_ADMIN).",
        ),
    }
}

options! {
    /// The dnsmasq PXE filter driver.
    pub struct DnsmasqPxeFilter {
        dhcp_hostsdir: String = opt(
            string(),
            "/var/lib/ironic-inspector/dhcp-hostsdir",
            "dnsmasq dhcp-hostsdir that inspector manages; nothing else may write to it.",
        ),
        purge_dhcp_hostsdir: bool = opt(
            boolean(),
            "true",
            "Empty the hosts directory when the driver starts. Only disable this when several inspector \
             processes share the directory and something else cleans it.",
        ),
        dnsmasq_start_command: String = opt(
            string(),
            "",
            "Command starting dnsmasq after the first synchronisation; empty: none. It runs without a \
             shell (write sh -c '...' for shell syntax), through [pxe_filter] command_prefix, and must \
             return: a failure stops inspector.",
        ),
        dnsmasq_stop_command: String = opt(
            string(),
            "",
            "Command stopping dnsmasq when the driver stops; empty: none. Run like \
             dnsmasq_start_command; a failure is only logged.",
        ),
    }
}

options! {
    /// The iptables PXE filter driver.
    pub struct Iptables {
        dnsmasq_interface: String = opt(
            string(),
            "br-ctlplane",
            "Interface on which the DHCP server listens.",
        ),
        firewall_chain: String = opt(
            string(),
            "ironic-inspector",
            "Name of the iptables chain inspector manages.",
        ),
        ethoib_interfaces: Vec<String> = opt(
            list(),
            "",
            "Ethernet-over-InfiniBand interfaces on this host whose neighbour tables map InfiniBand GUIDs to \
             MAC addresses (used by both filter drivers).",
        ),
        ip_version: IpVersion = opt(
            IpVersion::checked(),
            "4",
            "IP version of the filtered DHCP traffic.",
        ),
    }
}

options! {
    /// The capabilities processing hook.
    pub struct Capabilities {
        boot_mode: bool = opt(
            boolean(),
            "false",
            "Store the boot mode (bios or uefi) as a capability.",
        ),
        cpu_flags: Vec<(String, String)> = opt(
            dict(),
            "vmx:cpu_vt,svm:cpu_vt,aes:cpu_aes,pse:cpu_hugepages,pdpe1gb:cpu_hugepages_1g,smx:cpu_txt",
            "CPU flag to capability mapping: a capability is set to true when its flag is reported.",
        ),
    }
}

options! {
    /// The pci_devices processing hook.
    pub struct PciDevices {
        // Every value, from every file, in order.
        alias: Vec<String> = opt(
            multi_string(),
            None,
            "A PCI device alias, as JSON: {\"vendor_id\": \"1234\", \"product_id\": \"5678\", \"name\": \
             \"pci_dev1\"}. Repeat the option for several aliases.",
        )
        .defaults(&[]),
    }
}

options! {
    /// The accelerators processing hook.
    pub struct Accelerators {
        known_devices: Option<String> = opt(
            string(),
            None,
            "YAML catalogue of known accelerator devices; unset: the bundled one.",
        )
        .sample("<bundled known_accelerators.yaml>"),
    }
}

options! {
    /// The physnet_cidr_map processing hook.
    pub struct PortPhysnet {
        cidr_map: Vec<String> = opt(
            list(),
            "",
            "Physical network of ports, by the subnet of their IP address: CIDR:physnet pairs.",
        )
        .sample("10.10.10.0/24:physnet_a,2001:db8::/64:physnet_b"),
    }
}

options! {
    /// The extra_hardware processing hook.
    pub struct ExtraHardware {
        strict: bool = opt(
            boolean(),
            "false",
            "Refuse the extra data when a record has fewer than four items, and drop the raw data even when \
             it cannot be parsed.",
        ),
    }
}

options! {
    /// Access to Ironic: keystoneauth options plus inspector's own.
    pub struct Ironic {
        retry_interval: u64 = opt(
            int(),
            "2",
            "Seconds between retries of a conflicting Ironic request (unused).",
        ),
        max_retries: u32 = opt(int(), "30", "Retries of a conflicting Ironic request (unused)."),
        client: KeystoneClient = set().with_default("service_type", "baremetal"),
    }
}

options! {
    /// Object storage (Swift): keystoneauth options plus the container.
    pub struct Swift {
        container: String = opt(string(), "ironic-inspector", "Swift container holding the data."),
        delete_after: u64 = opt(
            int(),
            "0",
            "Seconds after which Swift deletes a stored object; 0 keeps objects forever.",
        ),
        client: KeystoneClient = set().with_default("service_type", "object-store"),
    }
}

options! {
    /// Upstream's tooz coordination; instances sharing a database need none.
    pub(crate) struct Coordination {
        backend_url = opt(string(), "memcached://localhost:11211", "tooz backend URL.")
            .ignored()
            .secret(),
    }
}

options! {
    /// The /healthcheck endpoint (oslo.middleware).
    pub struct Healthcheck {
        enabled: bool = opt(
            boolean(),
            "false",
            "Serve an unauthenticated health check at /healthcheck.",
        ),
        path: String = opt(
            string(),
            "/healthcheck",
            "URL path of the health check (from older oslo.middleware).",
        ),
        detailed = opt(boolean(), "false", "Show details in health check answers.").unsupported(),
        backends = opt(list(), "", "Health check plugins.").unsupported(),
        allowed_source_ranges = opt(list(), "", "Networks allowed to see detailed answers.")
            .unsupported(),
        ignore_proxied_requests = opt(boolean(), "false", "Hide details from proxied requests.")
            .unsupported(),
        disable_by_file_path = opt(string(), None, "Report failure while this file exists.")
            .unsupported(),
        disable_by_file_paths = opt(
            list(),
            "",
            "port:path pairs reporting failure while the file exists.",
        )
        .unsupported(),
        enable_by_file_paths = opt(list(), "", "Report failure unless these files exist.")
            .unsupported(),
    }
}

options! {
    /// Multicast DNS, which inspector does not do.
    pub(crate) struct Mdns {
        registration_attempts = opt(int_min(1), "5", "Attempts to register the service.")
            .unsupported(),
        lookup_attempts = opt(int_min(1), "3", "Attempts to look a service up.").unsupported(),
        params = opt(
            quoted_dict(),
            "",
            "Extra properties of the announced service; quote values that contain commas.",
        )
        .unsupported(),
        interfaces = opt(list(), None, "IP addresses of the interfaces to announce on; unset: all.")
            .unsupported(),
    }
}

options! {
    /// Error message formatting.
    pub(crate) struct ExceptionFormatting {
        fatal_exception_format_errors = opt(
            boolean(),
            "false",
            "Fail instead of logging when an error message cannot be formatted (a programming error).",
        )
        .old_group("ironic_lib")
        .ignored(),
    }
}

options! {
    /// Database access (oslo.db).
    pub struct Database {
        sqlite_synchronous = opt(boolean(), "true", "Synchronous SQLite writes.").ignored(),
        backend = opt(string(), "sqlalchemy", "Database backend.").ignored(),
        // Unset in the model unless written: the service then uses upstream's SQLite file in the
        // working directory.
        connection: Option<String> => read_if_set = opt(
            string(),
            "sqlite:///ironic_inspector.sqlite",
            "Database URL.",
        )
        .secret(),
        slave_connection = opt(string(), None, "URL of a read-only replica.")
            .unsupported()
            .secret(),
        asyncio_connection = opt(string(), None, "asyncio database URL.").ignored().secret(),
        asyncio_slave_connection = opt(string(), None, "asyncio replica URL.").ignored().secret(),
        synchronous_reader = opt(boolean(), "true", "Read from the primary after writes.")
            .ignored(),
        mysql_sql_mode = opt(string(), "TRADITIONAL", "MySQL SQL mode.").ignored(),
        mysql_wsrep_sync_wait = opt(int(), None, "Galera wsrep_sync_wait.").ignored(),
        connection_recycle_time: i64 = opt(
            int(),
            "3600",
            "Seconds before a pooled server connection is replaced; -1 never.",
        ),
        max_pool_size: u32 = opt(int(), "5", "Largest number of open database connections."),
        max_retries: i32 = opt(int(), "10", "Attempts to connect at start-up; -1 retries forever."),
        retry_interval: u64 = opt(int(), "10", "Seconds between connection attempts."),
        max_overflow: u32 = opt(int(), "50", "Server connections allowed beyond the pool."),
        connection_debug = opt(int_range(Some(0), Some(100)), "0", "SQL debugging verbosity.")
            .ignored(),
        connection_trace = opt(boolean(), "false", "Trace SQL statements.").ignored(),
        pool_timeout: Option<u32> = opt(
            int(),
            None,
            "Seconds to wait for a free server connection (unset: 30).",
        ),
        use_db_reconnect = opt(boolean(), "false", "Reconnect on lost connections.").ignored(),
        db_retry_interval = opt(int(), "1", "Seconds between transaction retries.").ignored(),
        db_inc_retry_interval = opt(boolean(), "true", "Grow db_retry_interval.").ignored(),
        db_max_retry_interval = opt(int(), "10", "Largest db_retry_interval.").ignored(),
        db_max_retries = opt(int(), "20", "Transaction retries.").ignored(),
        connection_parameters = opt(string(), "", "Extra parameters of the connection URL.")
            .ignored(),
    }
}

options! {
    /// Token validation (keystonemiddleware) and its service user.
    pub struct KeystoneAuthtoken {
        www_authenticate_uri: Option<String> = opt(
            string(),
            None,
            "Public Keystone endpoint announced to unauthenticated clients.",
        ),
        auth_version = opt(string(), None, "Identity API version.").unsupported(),
        interface: Option<String> = opt(
            string(),
            "internal",
            "Keystone endpoint interface used to validate tokens.",
        ),
        delay_auth_decision = opt(
            boolean(),
            "false",
            "Let the application decide (inspector always does).",
        )
        .ignored(),
        http_connect_timeout: Option<Duration> = opt(int(), None, "Seconds to wait for Keystone."),
        http_request_max_retries: u32 = opt(int(), "3", "Retries of a failed Keystone request."),
        cache = opt(string(), None, "Environment key of an external token cache.").ignored(),
        certfile: Option<String> = opt(string(), None, "Client certificate for Keystone."),
        keyfile: Option<String> = opt(string(), None, "Key of the client certificate."),
        cafile: Option<String> = opt(string(), None, "CA bundle verifying Keystone."),
        insecure: bool = opt(boolean(), "false", "Do not verify Keystone's certificate."),
        region_name: Option<String> = opt(string(), None, "Region of the Keystone endpoint."),
        memcached_servers = opt(list(), None, "Memcached servers caching validated tokens.")
            .old_name("memcache_servers")
            .ignored(),
        token_cache_time: i64 = opt(
            int(),
            "300",
            "Seconds a validated token is cached; -1 disables the cache.",
        ),
        memcache_security_strategy = opt(
            one_of_any_case(&["None", "MAC", "ENCRYPT"]),
            "None",
            "Protection of cached tokens.",
        )
        .ignored(),
        memcache_secret_key = opt(string(), None, "Key protecting cached tokens.")
            .ignored()
            .secret(),
        memcache_tls_enabled = opt(boolean(), "false", "TLS to memcached.").ignored(),
        memcache_tls_cafile = opt(string(), None, "CA of memcached.").ignored(),
        memcache_tls_certfile = opt(string(), None, "Client certificate for memcached.").ignored(),
        memcache_tls_keyfile = opt(string(), None, "Client key for memcached.").ignored(),
        memcache_tls_allowed_ciphers = opt(string(), None, "Ciphers for memcached.").ignored(),
        memcache_pool_dead_retry = opt(int(), "300", "Seconds before retrying a dead memcached.")
            .ignored(),
        memcache_pool_maxsize = opt(int(), "10", "Memcached connections.").ignored(),
        memcache_pool_socket_timeout = opt(int(), "3", "Memcached socket timeout.").ignored(),
        memcache_pool_unused_timeout = opt(int(), "60", "Idle memcached connection lifetime.")
            .ignored(),
        memcache_pool_conn_get_timeout = opt(int(), "10", "Wait for a memcached connection.")
            .ignored(),
        memcache_use_advanced_pool = opt(boolean(), "true", "Advanced memcached pool.").ignored(),
        include_service_catalog = opt(boolean(), "true", "Ask for the service catalogue.")
            .ignored(),
        enforce_token_bind = opt(string(), "permissive", "Token binding enforcement.")
            .unsupported(),
        service_token_roles: Vec<String> = opt(
            list(),
            "service",
            "Roles a service token must have.",
        ),
        service_token_roles_required: bool = opt(boolean(), "true", "Enforce service_token_roles."),
        service_type = opt(string(), None, "Service type for access rules.").ignored(),
        memcache_sasl_enabled = opt(boolean(), "false", "SASL to memcached.").ignored(),
        memcache_username = opt(string(), None, "Memcached SASL user.").ignored(),
        memcache_password = opt(string(), None, "Memcached SASL password.").ignored().secret(),
        auth_type: Option<String> = opt(string(), None, "keystoneauth plugin of the service user.")
            .old_name("auth_plugin"),
        // keystoneauth's password plugin, as for the clients, in the words of a service user.
        auth: KeystoneAuth = set()
            .with_help("auth_url", "Keystone URL of the service user.")
            .with_help("system_scope", "System scope of the service user.")
            .with_help("domain_id", "Domain scope of the service user.")
            .with_help("domain_name", "Domain scope of the service user.")
            .with_help("project_id", "Project of the service user.")
            .with_help("project_name", "Project of the service user.")
            .with_help("trust_id", "Trust of the service user.")
            .with_help("default_domain_id", "Default domain of the service user.")
            .with_help("default_domain_name", "Default domain of the service user.")
            .with_help("user_id", "Service user ID.")
            .with_help("username", "Service user name.")
            .with_help("user_domain_id", "Domain of the service user.")
            .with_help("user_domain_name", "Domain of the service user.")
            .with_help("password", "Password of the service user."),
    }
}

options! {
    /// API access policy (oslo.policy).
    pub struct OsloPolicy {
        enforce_scope: bool = opt(
            boolean(),
            "true",
            "Check the scope of tokens; no inspector rule declares scope types.",
        )
        .ignored(),
        enforce_new_defaults: bool = opt(
            boolean(),
            "true",
            "Use the new default rules, not the deprecated ones.",
        ),
        policy_file: String = opt(
            string(),
            "policy.yaml",
            "Policy file (relative paths are searched like oslo does).",
        ),
        policy_default_rule: String = opt(string(), "default", "Rule used when a policy has none."),
        policy_dirs: Vec<String> = opt(multi_string(), None, "Directories of extra policy files.")
            .defaults(&["policy.d"]),
        remote_content_type = opt(
            one_of(&["application/x-www-form-urlencoded", "application/json"]),
            "application/x-www-form-urlencoded",
            "Content type of remote policy checks.",
        )
        .unsupported(),
        remote_ssl_verify_server_crt = opt(boolean(), "false", "Verify remote policy servers.")
            .unsupported(),
        remote_ssl_ca_crt_file = opt(string(), None, "CA of remote policy servers.").unsupported(),
        remote_ssl_client_crt_file = opt(string(), None, "Client certificate for remote checks.")
            .unsupported(),
        remote_ssl_client_key_file = opt(string(), None, "Client key for remote checks.")
            .unsupported(),
        remote_timeout = opt(float_min(0), "60", "Remote check timeout.").unsupported(),
    }
}

options! {
    /// Cross-origin resource sharing, which inspector does not do.
    pub(crate) struct Cors {
        allowed_origin = opt(list(), None, "Origins allowed to share responses.").unsupported(),
        allow_credentials = opt(boolean(), "true", "Whether credentials may be sent.")
            .unsupported(),
        expose_headers = opt(list(), "", "Headers exposed to the client.").unsupported(),
        max_age = opt(int(), "3600", "Seconds a CORS preflight answer may be cached.")
            .unsupported(),
        allow_methods = opt(list(), "GET,POST,PUT,HEAD,PATCH,DELETE,OPTIONS", "Methods allowed.")
            .unsupported(),
        allow_headers = opt(
            list(),
            "X-Auth-Token,X-OpenStack-Ironic-Inspector-API-Minimum-Version,\
             X-OpenStack-Ironic-Inspector-API-Maximum-Version,X-OpenStack-Ironic-Inspector-API-Version",
            "Headers a request may carry.",
        )
        .unsupported(),
    }
}

options! {
    /// TLS of the API (oslo.service), used with `[DEFAULT] use_ssl`.
    pub struct Ssl {
        ca_file: Option<String> = opt(string(), None, "CA certificate file used to verify clients."),
        cert_file: Option<String> = opt(string(), None, "Certificate file of the server."),
        key_file: Option<String> = opt(string(), None, "Private key file of the server."),
        version: Option<String> = opt(
            string(),
            None,
            "TLS protocol version: TLSv1_2 or TLSv1_3 serves only that version; SSLv23 both.",
        ),
        ciphers: Option<String> = opt(
            string(),
            None,
            "Allowed TLS 1.2 ciphers, in the OpenSSL cipher list format (TLS 1.3 names restrict TLS 1.3).",
        ),
    }
}

options! {
    /// Inter-process locks (oslo.concurrency), which inspector does not need.
    pub(crate) struct OsloConcurrency {
        disable_process_locking = opt(boolean(), "false", "Disable inter-process locks.").ignored(),
        lock_path = opt(string(), None, "Directory for lock files.").ignored(),
    }
}

options! {
    /// keystoneauth's session, adapter and auth plugin options of a client group; the
    /// group gives `service_type` its default.
    pub struct KeystoneClient {
        auth_type: String = opt(
            string(),
            "password",
            "keystoneauth plugin: password, v3password, none, http_basic...",
        )
        .old_name("auth_plugin"),
        auth: KeystoneAuth = set(),
        endpoint: Option<String> = opt(
            string(),
            None,
            "Endpoint of the none and http_basic plugins.",
        ),
        token = opt(string(), None, "Token of the token plugins.").unsupported().secret(),
        application_credential_id = opt(string(), None, "Application credential ID.").unsupported(),
        application_credential_name = opt(string(), None, "Application credential name.")
            .unsupported(),
        application_credential_secret = opt(string(), None, "Application credential secret.")
            .unsupported()
            .secret(),
        cafile: Option<String> = opt(string(), None, "CA bundle verifying HTTPS servers."),
        certfile: Option<String> = opt(string(), None, "Client certificate."),
        keyfile: Option<String> = opt(string(), None, "Key of the client certificate."),
        insecure: bool = opt(boolean(), "false", "Do not verify HTTPS servers."),
        timeout: Option<Duration> = opt(float(), None, "Timeout of one HTTP request, in seconds."),
        collect_timing = opt(boolean(), "false", "Collect request timing data.").ignored(),
        split_loggers = opt(boolean(), "false", "Log requests in several loggers.").ignored(),
        tls_ciphers = opt(string(), None, "Allowed TLS ciphers.").unsupported(),
        tls_min_version = opt(
            one_of_or_unset(&["1.2", "1.3"]),
            None,
            "Oldest TLS version accepted.",
        )
        .unsupported(),
        service_type: String = opt(string(), None, "Service type in the catalogue."),
        service_name = opt(string(), None, "Service name in the catalogue.").unsupported(),
        valid_interfaces: Vec<String> => read_valid_interfaces = opt(
            list(),
            "internal,public",
            "Endpoint interfaces to use, in order of preference.",
        ),
        interface = opt(string(), None, "Endpoint interface; replaced by valid_interfaces."),
        region_name: Option<String> = opt(string(), None, "Region of the endpoint."),
        endpoint_override: Option<String> = opt(
            string(),
            None,
            "Endpoint to use instead of looking it up in the catalogue.",
        ),
        version = opt(string(), None, "API version.").unsupported(),
        min_version: Option<String> = opt(string(), None, "Minimum API version."),
        max_version: Option<String> = opt(string(), None, "Maximum API version."),
        connect_retries: Option<u32> = opt(int(), None, "Retries of failed connections."),
        connect_retry_delay = opt(float(), None, "Seconds between connection retries.")
            .unsupported(),
        status_code_retries: Option<u32> = opt(
            int(),
            None,
            "Retries of retriable HTTP status codes.",
        ),
        status_code_retry_delay = opt(float(), None, "Seconds between status code retries.")
            .unsupported(),
        retriable_status_codes = opt(int_list(), None, "HTTP status codes that are retried.")
            .unsupported(),
    }
}

options! {
    /// keystoneauth's password plugin: who a client is and what its token is scoped to.
    pub struct KeystoneAuth {
        auth_section = opt(string(), None, "Section to read the authentication options from.")
            .unsupported(),
        auth_url: Option<String> = opt(string(), None, "Keystone URL."),
        system_scope: Option<String> = opt(string(), None, "System scope of the token."),
        domain_id = opt(string(), None, "Domain to scope the token to.").unsupported(),
        domain_name = opt(string(), None, "Domain to scope the token to.").unsupported(),
        project_id: Option<String> = opt(string(), None, "Project to scope the token to.")
            .old_name("tenant-id")
            .old_name("tenant_id"),
        project_name: Option<String> = opt(string(), None, "Project to scope the token to.")
            .old_name("tenant-name")
            .old_name("tenant_name"),
        project_domain_id: Option<String> = opt(string(), None, "Domain of the project."),
        project_domain_name: Option<String> = opt(string(), None, "Domain of the project."),
        trust_id = opt(string(), None, "Trust to use.").unsupported(),
        default_domain_id = opt(string(), None, "Domain of user and project when not given.")
            .unsupported(),
        default_domain_name = opt(string(), None, "Domain of user and project when not given.")
            .unsupported(),
        user_id: Option<String> = opt(string(), None, "User ID."),
        username: Option<String> = opt(string(), None, "User name.")
            .old_name("user-name")
            .old_name("user_name"),
        user_domain_id: Option<String> = opt(string(), None, "Domain of the user."),
        user_domain_name: Option<String> = opt(string(), None, "Domain of the user."),
        password: Option<String> = opt(string(), None, "Password of the user.").secret(),
    }
}

//! Every option an upstream `inspector.conf` may contain: inspector's own,
//! and those of the libraries upstream loads (oslo.log, oslo.messaging,
//! oslo.service, oslo.db, oslo.policy, oslo.middleware, keystonemiddleware,
//! keystoneauth). Types, defaults and deprecated names are upstream's; the
//! help texts are ours.

use std::sync::LazyLock;

use crate::oslo::resolve::{Alias, Default, OptDef};
use crate::oslo::types::{Bounds, Choice, ItemType, OptType, StrType};

/// What inspector does with an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Read by inspector.
    Implemented,
    /// Meaningless in a single-binary service; accepted silently.
    Ignored,
    /// Would change behaviour, but inspector does not support it: a value
    /// other than the default is reported as a warning.
    Unsupported,
}

/// A registered option and what the sample file says about it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub opt: OptDef,
    pub status: Status,
    pub help: &'static str,
    /// Shown in the sample instead of the real default.
    pub sample_default: Option<&'static str>,
    /// Masked when values are shown.
    pub secret: bool,
}

/// A section of the file.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: &'static str,
    pub help: &'static str,
    /// Options of this section are accepted without being known one by one.
    pub accept_any: bool,
}

/// All groups (in sample order) and options.
pub(crate) struct Registry {
    pub groups: Vec<Group>,
    pub entries: Vec<Entry>,
    /// `entries[i].opt`, for the resolver.
    pub opts: Vec<OptDef>,
}

impl Registry {
    /// The entry of option `name` of `group`.
    pub fn index_of(&self, group: &str, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.opt.group == group && e.opt.name == name)
    }

    /// Whether `key` written in (normalised) section `section` names a
    /// registered option, directly or through a deprecated alias.
    pub fn knows(&self, section: &str, key: &str) -> bool {
        self.entries.iter().any(|e| {
            (e.opt.group == section && e.opt.name == key)
                || e.opt.aliases.iter().any(|a| {
                    a.group.unwrap_or(e.opt.group) == section && a.name.unwrap_or(e.opt.name) == key
                })
        })
    }

    /// Whether a (normalised) section name is a group, an old name of one,
    /// or a library section accepted as a whole.
    pub fn knows_section(&self, section: &str) -> bool {
        self.groups.iter().any(|g| g.name == section)
            || self
                .entries
                .iter()
                .any(|e| e.opt.aliases.iter().any(|a| a.group == Some(section)))
    }

    /// Whether any key is accepted in this (normalised) section.
    pub fn accepts_any(&self, section: &str) -> bool {
        self.groups
            .iter()
            .any(|g| g.name == section && g.accept_any)
    }
}

pub(crate) static REGISTRY: LazyLock<Registry> = LazyLock::new(build);

impl Entry {
    fn ignored(&mut self) -> &mut Self {
        self.status = Status::Ignored;
        self
    }

    fn unsupported(&mut self) -> &mut Self {
        self.status = Status::Unsupported;
        self
    }

    fn secret(&mut self) -> &mut Self {
        self.secret = true;
        self
    }

    fn sample(&mut self, shown: &'static str) -> &mut Self {
        self.sample_default = Some(shown);
        self
    }

    /// A deprecated name (in the same group).
    fn old_name(&mut self, name: &'static str) -> &mut Self {
        self.opt.aliases.push(Alias {
            group: None,
            name: Some(name),
        });
        self
    }

    /// A deprecated group (same name).
    fn old_group(&mut self, group: &'static str) -> &mut Self {
        self.opt.aliases.push(Alias {
            group: Some(group),
            name: None,
        });
        self
    }

    fn defaults(&mut self, values: &'static [&'static str]) -> &mut Self {
        self.opt.default = Some(Default::Many(values));
        self
    }
}

/// Adds options to one group.
struct GroupBuilder<'r> {
    entries: &'r mut Vec<Entry>,
    group: &'static str,
}

impl GroupBuilder<'_> {
    fn add(
        &mut self,
        name: &'static str,
        ty: OptType,
        default: Option<&'static str>,
        help: &'static str,
    ) -> &mut Entry {
        self.entries.push(Entry {
            opt: OptDef {
                group: self.group,
                name,
                ty,
                default: default.map(Default::Text),
                aliases: Vec::new(),
            },
            status: Status::Implemented,
            help,
            sample_default: None,
            secret: false,
        });
        let last = self.entries.len() - 1;
        &mut self.entries[last]
    }
}

fn string() -> OptType {
    OptType::Str(StrType::default())
}

fn one_of(values: &[&'static str]) -> OptType {
    described(&values.iter().map(|v| (*v, "")).collect::<Vec<_>>())
}

fn one_of_any_case(values: &[&'static str]) -> OptType {
    match one_of(values) {
        OptType::Str(t) => OptType::Str(StrType {
            ignore_case: true,
            ..t
        }),
        other => other,
    }
}

fn described(values: &[(&'static str, &'static str)]) -> OptType {
    OptType::Str(StrType {
        choices: Some(
            values
                .iter()
                .map(|(v, h)| Choice {
                    value: Some(*v),
                    help: (!h.is_empty()).then_some(*h),
                })
                .collect(),
        ),
        ..StrType::default()
    })
}

fn int() -> OptType {
    OptType::Int(Bounds::default())
}

fn int_min(min: i64) -> OptType {
    OptType::Int(Bounds {
        min: Some(min),
        max: None,
    })
}

fn int_range(min: Option<i64>, max: Option<i64>) -> OptType {
    OptType::Int(Bounds { min, max })
}

fn port() -> OptType {
    OptType::Port(Bounds {
        min: Some(0),
        max: Some(65535),
    })
}

fn float() -> OptType {
    OptType::Float(Bounds::default())
}

fn boolean() -> OptType {
    OptType::Bool
}

fn list() -> OptType {
    OptType::List(ItemType::Str(StrType::default()))
}

fn dict() -> OptType {
    OptType::Dict(StrType::default())
}

fn build() -> Registry {
    let mut entries = Vec::new();
    let mut groups = Vec::new();
    let mut group = |name: &'static str,
                     help: &'static str,
                     entries: &mut Vec<Entry>,
                     fill: &dyn Fn(&mut GroupBuilder<'_>)| {
        groups.push(Group {
            name,
            help,
            accept_any: false,
        });
        fill(&mut GroupBuilder {
            entries,
            group: name,
        });
    };

    group("DEFAULT", "General options.", &mut entries, &default_group);
    group(
        "processing",
        "Processing of introspection data.",
        &mut entries,
        &processing,
    );
    group(
        "discovery",
        "Enrolling nodes that inspector does not know (the enroll hook).",
        &mut entries,
        &discovery,
    );
    group(
        "pxe_filter",
        "Which machines the PXE/DHCP service answers.",
        &mut entries,
        &|g| {
            g.add(
                "driver",
                string(),
                Some("iptables"),
                "PXE filter driver: iptables, dnsmasq or noop (no filtering).",
            );
            g.add(
            "sync_period",
            int_min(0),
            Some("15"),
            "Seconds between two synchronisations of the filter; 0 disables the periodic synchronisation.",
        );
            g.add(
            "deny_unknown_macs",
            boolean(),
            Some("false"),
            "Only let the MAC addresses of nodes under introspection through, instead of opening DHCP to any \
             machine while an introspection runs. Nodes then need at least one enrolled port, and no \
             node_not_found_hook may be set.",
        );
            g.add(
            "command_prefix",
            string(),
            Some(""),
            "Inspector extension: words put before every command the PXE filter runs (iptables, \
             iptables-restore, dnsmasq_start_command, dnsmasq_stop_command), split like a shell would but \
             never run by one. Upstream always used 'sudo ironic-inspector-rootwrap <rootwrap_config>'; set \
             it to that to keep rootwrap (its filters must then allow iptables-restore too), or leave it \
             empty when inspector itself has the privileges (root or CAP_NET_ADMIN).",
        );
        },
    );
    group(
        "dnsmasq_pxe_filter",
        "The dnsmasq PXE filter driver.",
        &mut entries,
        &|g| {
            g.add(
                "dhcp_hostsdir",
                string(),
                Some("/var/lib/ironic-inspector/dhcp-hostsdir"),
                "dnsmasq dhcp-hostsdir that inspector manages; nothing else may write to it.",
            );
            g.add(
            "purge_dhcp_hostsdir",
            boolean(),
            Some("true"),
            "Empty the hosts directory when the driver starts. Only disable this when several inspector \
             processes share the directory and something else cleans it.",
        );
            g.add(
                "dnsmasq_start_command",
                string(),
                Some(""),
                "Command starting dnsmasq after the first synchronisation; empty: none. It runs without a \
                 shell (write sh -c '...' for shell syntax), through [pxe_filter] command_prefix, and must \
                 return: a failure stops inspector.",
            );
            g.add(
                "dnsmasq_stop_command",
                string(),
                Some(""),
                "Command stopping dnsmasq when the driver stops; empty: none. Run like \
                 dnsmasq_start_command; a failure is only logged.",
            );
        },
    );
    group(
        "iptables",
        "The iptables PXE filter driver.",
        &mut entries,
        &|g| {
            g.add(
                "dnsmasq_interface",
                string(),
                Some("br-ctlplane"),
                "Interface on which the DHCP server listens.",
            );
            g.add(
                "firewall_chain",
                string(),
                Some("ironic-inspector"),
                "Name of the iptables chain inspector manages.",
            );
            g.add(
            "ethoib_interfaces",
            list(),
            Some(""),
            "Ethernet-over-InfiniBand interfaces on this host whose neighbour tables map InfiniBand GUIDs to \
             MAC addresses (used by both filter drivers).",
        );
            g.add(
                "ip_version",
                described(&[
                    ("4", "iptables, DHCPv4 (udp/67)"),
                    ("6", "ip6tables, DHCPv6 (udp/547)"),
                ]),
                Some("4"),
                "IP version of the filtered DHCP traffic.",
            );
        },
    );
    group(
        "capabilities",
        "The capabilities processing hook.",
        &mut entries,
        &|g| {
            g.add(
                "boot_mode",
                boolean(),
                Some("false"),
                "Store the boot mode (bios or uefi) as a capability.",
            );
            g.add(
            "cpu_flags",
            dict(),
            Some("vmx:cpu_vt,svm:cpu_vt,aes:cpu_aes,pse:cpu_hugepages,pdpe1gb:cpu_hugepages_1g,smx:cpu_txt"),
            "CPU flag to capability mapping: a capability is set to true when its flag is reported.",
        );
        },
    );
    group(
        "pci_devices",
        "The pci_devices processing hook.",
        &mut entries,
        &|g| {
            g.add(
            "alias",
            OptType::MultiStr,
            None,
            "A PCI device alias, as JSON: {\"vendor_id\": \"1234\", \"product_id\": \"5678\", \"name\": \
             \"pci_dev1\"}. Repeat the option for several aliases.",
        )
        .defaults(&[]);
        },
    );
    group(
        "accelerators",
        "The accelerators processing hook.",
        &mut entries,
        &|g| {
            g.add(
                "known_devices",
                string(),
                None,
                "YAML catalogue of known accelerator devices; unset: the bundled one.",
            )
            .sample("<bundled known_accelerators.yaml>");
        },
    );
    group(
        "port_physnet",
        "The physnet_cidr_map processing hook.",
        &mut entries,
        &|g| {
            g.add(
                "cidr_map",
                list(),
                Some(""),
                "Physical network of ports, by the subnet of their IP address: CIDR:physnet pairs.",
            )
            .sample("10.10.10.0/24:physnet_a,2001:db8::/64:physnet_b");
        },
    );
    group(
        "extra_hardware",
        "The extra_hardware processing hook.",
        &mut entries,
        &|g| {
            g.add(
            "strict",
            boolean(),
            Some("false"),
            "Refuse the extra data when a record has fewer than four items, and drop the raw data even when \
             it cannot be parsed.",
        );
        },
    );
    group(
        "ironic",
        "Access to the Bare Metal (Ironic) API, with keystoneauth options.",
        &mut entries,
        &|g| {
            g.add(
                "retry_interval",
                int(),
                Some("2"),
                "Seconds between retries of a conflicting Ironic request (unused).",
            );
            g.add(
                "max_retries",
                int(),
                Some("30"),
                "Retries of a conflicting Ironic request (unused).",
            );
            keystoneauth(g, "baremetal", Status::Implemented);
        },
    );
    group(
        "swift",
        "Object storage (Swift) for introspection data, with keystoneauth options.",
        &mut entries,
        &|g| {
            g.add(
                "container",
                string(),
                Some("ironic-inspector"),
                "Swift container holding the data.",
            );
            g.add(
                "delete_after",
                int(),
                Some("0"),
                "Seconds after which Swift deletes a stored object; 0 keeps objects forever.",
            );
            keystoneauth(g, "object-store", Status::Implemented);
        },
    );
    group(
        "service_catalog",
        "How inspector finds its own endpoint for multicast DNS, with keystoneauth options.",
        &mut entries,
        &|g| keystoneauth(g, "baremetal-introspection", Status::Ignored),
    );
    group(
        "coordination",
        "Distributed coordination (non-standalone mode).",
        &mut entries,
        &|g| {
            g.add(
                "backend_url",
                string(),
                Some("memcached://localhost:11211"),
                "tooz backend URL.",
            )
            .unsupported()
            .secret();
        },
    );
    group(
        "healthcheck",
        "The /healthcheck endpoint (oslo.middleware).",
        &mut entries,
        &|g| {
            g.add(
                "enabled",
                boolean(),
                Some("false"),
                "Serve an unauthenticated health check at /healthcheck.",
            );
            g.add(
                "path",
                string(),
                Some("/healthcheck"),
                "URL path of the health check (from older oslo.middleware).",
            );
            g.add(
                "detailed",
                boolean(),
                Some("false"),
                "Show details in health check answers.",
            )
            .unsupported();
            g.add("backends", list(), Some(""), "Health check plugins.")
                .unsupported();
            g.add(
                "allowed_source_ranges",
                list(),
                Some(""),
                "Networks allowed to see detailed answers.",
            )
            .unsupported();
            g.add(
                "ignore_proxied_requests",
                boolean(),
                Some("false"),
                "Hide details from proxied requests.",
            )
            .unsupported();
            g.add(
                "disable_by_file_path",
                string(),
                None,
                "Report failure while this file exists.",
            )
            .unsupported();
            g.add(
                "disable_by_file_paths",
                list(),
                Some(""),
                "port:path pairs reporting failure while the file exists.",
            )
            .unsupported();
            g.add(
                "enable_by_file_paths",
                list(),
                Some(""),
                "Report failure unless these files exist.",
            )
            .unsupported();
        },
    );
    group(
        "mdns",
        "Multicast DNS announcement of the API.",
        &mut entries,
        &|g| {
            g.add(
                "registration_attempts",
                int_min(1),
                Some("5"),
                "Attempts to register the service.",
            )
            .unsupported();
            g.add(
                "lookup_attempts",
                int_min(1),
                Some("3"),
                "Attempts to look a service up.",
            )
            .unsupported();
            g.add(
                "params",
                OptType::Dict(StrType {
                    quotes: true,
                    ..StrType::default()
                }),
                Some(""),
                "Extra properties of the announced service; quote values that contain commas.",
            )
            .unsupported();
            g.add(
                "interfaces",
                list(),
                None,
                "IP addresses of the interfaces to announce on; unset: all.",
            )
            .unsupported();
        },
    );
    group(
        "exception",
        "Error message formatting.",
        &mut entries,
        &|g| {
            g.add(
            "fatal_exception_format_errors",
            boolean(),
            Some("false"),
            "Fail instead of logging when an error message cannot be formatted (a programming error).",
        )
        .old_group("ironic_lib")
        .ignored();
        },
    );
    group(
        "database",
        "Database access (oslo.db).",
        &mut entries,
        &database,
    );
    group(
        "keystone_authtoken",
        "Keystone token validation (keystonemiddleware).",
        &mut entries,
        &keystone_authtoken,
    );
    group(
        "oslo_policy",
        "API access policy (oslo.policy).",
        &mut entries,
        &oslo_policy,
    );
    group(
        "cors",
        "Cross-origin resource sharing (oslo.middleware).",
        &mut entries,
        &|g| {
            g.add(
                "allowed_origin",
                list(),
                None,
                "Origins allowed to share responses.",
            )
            .unsupported();
            g.add(
                "allow_credentials",
                boolean(),
                Some("true"),
                "Whether credentials may be sent.",
            )
            .unsupported();
            g.add(
                "expose_headers",
                list(),
                Some(""),
                "Headers exposed to the client.",
            )
            .unsupported();
            g.add(
                "max_age",
                int(),
                Some("3600"),
                "Seconds a CORS preflight answer may be cached.",
            )
            .unsupported();
            g.add(
                "allow_methods",
                list(),
                Some("GET,POST,PUT,HEAD,PATCH,DELETE,OPTIONS"),
                "Methods allowed.",
            )
            .unsupported();
            g.add(
            "allow_headers",
            list(),
            Some(
                "X-Auth-Token,X-OpenStack-Ironic-Inspector-API-Minimum-Version,\
                 X-OpenStack-Ironic-Inspector-API-Maximum-Version,X-OpenStack-Ironic-Inspector-API-Version",
            ),
            "Headers a request may carry.",
        )
        .unsupported();
        },
    );
    group(
        "ssl",
        "TLS of the API (oslo.service), used with [DEFAULT]use_ssl.",
        &mut entries,
        &|g| {
            g.add(
                "ca_file",
                string(),
                None,
                "CA certificate file used to verify clients.",
            );
            g.add(
                "cert_file",
                string(),
                None,
                "Certificate file of the server.",
            );
            g.add(
                "key_file",
                string(),
                None,
                "Private key file of the server.",
            );
            g.add("version", string(), None, "SSL/TLS protocol version.")
                .unsupported();
            g.add("ciphers", string(), None, "Allowed ciphers.")
                .unsupported();
        },
    );
    group(
        "oslo_concurrency",
        "Inter-process locks (oslo.concurrency).",
        &mut entries,
        &|g| {
            g.add(
                "disable_process_locking",
                boolean(),
                Some("false"),
                "Disable inter-process locks.",
            )
            .ignored();
            g.add("lock_path", string(), None, "Directory for lock files.")
                .ignored();
        },
    );
    for (name, help) in [
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
    ] {
        groups.push(Group {
            name,
            help,
            accept_any: true,
        });
    }

    let opts = entries.iter().map(|e: &Entry| e.opt.clone()).collect();
    Registry {
        groups,
        entries,
        opts,
    }
}

fn default_group(g: &mut GroupBuilder<'_>) {
    g.add(
        "listen_address",
        string(),
        Some("::"),
        "IP address the API listens on.",
    );
    g.add(
        "listen_port",
        port(),
        Some("5050"),
        "TCP port the API listens on.",
    );
    g.add(
        "listen_unix_socket",
        string(),
        None,
        "Listen on this UNIX socket instead of listen_address and listen_port.",
    );
    g.add(
        "listen_unix_socket_mode",
        OptType::Octal,
        None,
        "File mode, in octal, of the UNIX socket; only used with listen_unix_socket.",
    );
    g.add(
        "host",
        string(),
        Some(""),
        "Name of this inspector instance; empty means the host name of the machine.",
    )
    .sample("localhost");
    g.add(
        "auth_strategy",
        described(&[
            ("noauth", "no authentication"),
            (
                "keystone",
                "Keystone tokens, validated as configured in [keystone_authtoken]",
            ),
            (
                "http_basic",
                "HTTP basic authentication against http_basic_auth_user_file",
            ),
        ]),
        Some("keystone"),
        "How API requests are authenticated.",
    );
    g.add(
        "http_basic_auth_user_file",
        string(),
        Some("/etc/ironic-inspector/htpasswd"),
        "Apache-style user file (bcrypt passwords) used when auth_strategy is http_basic.",
    );
    g.add(
        "timeout",
        int_range(None, Some(315_576_000)),
        Some("3600"),
        "Seconds after which an unfinished introspection fails; 0 disables the timeout.",
    );
    g.add(
        "clean_up_period",
        int_min(0),
        Some("60"),
        "Seconds between two runs of the timeout clean-up and of the removal of nodes that Ironic no \
         longer knows; 0 disables both, which leaves a PXE filter out of date.",
    );
    g.add(
        "leader_election_interval",
        int(),
        Some("10"),
        "Seconds between leader elections (distributed coordination only).",
    );
    g.add(
        "use_ssl",
        boolean(),
        Some("false"),
        "Serve the API over HTTPS, with the certificate of the [ssl] group.",
    );
    g.add(
        "max_concurrency",
        int_min(2),
        Some("1000"),
        "Size of the pool of background workers.",
    );
    g.add(
        "introspection_delay",
        int(),
        Some("5"),
        "Minimum seconds between two power-ons of nodes whose boot inspector manages.",
    );
    g.add(
        "ipmi_address_fields",
        list(),
        Some("redfish_address,ilo_address,drac_host,drac_address,ibmc_address"),
        "Fields of a node's driver_info that hold a BMC address, besides ipmi_address.",
    );
    g.add(
        "rootwrap_config",
        string(),
        Some("/etc/ironic-inspector/rootwrap.conf"),
        "Rootwrap configuration used to run privileged commands.",
    );
    g.add(
        "api_max_limit",
        int_min(1),
        Some("1000"),
        "Largest (and default) number of items a list call returns.",
    );
    g.add(
        "can_manage_boot",
        boolean(),
        Some("true"),
        "Whether inspector may power on and boot nodes; when false, introspection must be started with \
         manage_boot=false.",
    );
    g.add(
        "enable_mdns",
        boolean(),
        Some("false"),
        "Announce the API endpoint with multicast DNS.",
    );
    g.add(
        "standalone",
        boolean(),
        Some("true"),
        "Run the API and the conductor in one process (false is experimental upstream).",
    );
    g.add(
        "max_request_body_size",
        int_min(1),
        Some("1048576"),
        "Inspector extension: largest request body accepted by the API, in bytes, except for the ramdisk \
         callback and reapply (see [processing]max_body_size).",
    );

    // oslo.log
    g.add(
        "debug",
        boolean(),
        Some("false"),
        "Log at debug level; also adds error details to internal errors.",
    );
    g.add(
        "log_config_append",
        string(),
        None,
        "A Python logging configuration file.",
    )
    .old_name("log-config")
    .old_name("log_config")
    .unsupported();
    g.add(
        "log_date_format",
        string(),
        Some("%Y-%m-%d %H:%M:%S"),
        "strftime format of log timestamps.",
    )
    .unsupported();
    g.add(
        "log_file",
        string(),
        None,
        "Log to this file instead of the standard error.",
    )
    .old_name("logfile");
    g.add(
        "log_dir",
        string(),
        None,
        "Directory of log_file when it is a relative path.",
    )
    .old_name("logdir");
    g.add(
        "watch_log_file",
        boolean(),
        Some("false"),
        "Older oslo.log: watch log_file and reopen it when it is moved. inspector always reopens \
         log_file on SIGHUP instead (logrotate's postrotate, systemd's reload); accepted, changes nothing.",
    );
    g.add("use_syslog", boolean(), Some("false"), "Log to syslog.")
        .unsupported();
    g.add(
        "use_journal",
        boolean(),
        Some("false"),
        "Log to the systemd journal.",
    )
    .unsupported();
    g.add(
        "syslog_log_facility",
        string(),
        Some("LOG_USER"),
        "Syslog facility.",
    )
    .unsupported();
    g.add(
        "use_json",
        boolean(),
        Some("false"),
        "Write logs as JSON objects.",
    );
    g.add(
        "use_stderr",
        boolean(),
        Some("false"),
        "Also log to the standard error when log_file is set.",
    )
    .unsupported();
    g.add("log_color", boolean(), Some("false"), "Colour log levels.")
        .unsupported();
    g.add(
        "log_rotate_interval",
        int(),
        Some("1"),
        "Log rotation interval.",
    )
    .unsupported();
    g.add(
        "log_rotate_interval_type",
        one_of_any_case(&["Seconds", "Minutes", "Hours", "Days", "Weekday", "Midnight"]),
        Some("days"),
        "Unit of log_rotate_interval.",
    )
    .unsupported();
    g.add(
        "max_logfile_count",
        int(),
        Some("30"),
        "Number of rotated log files kept.",
    )
    .unsupported();
    g.add(
        "max_logfile_size_mb",
        int(),
        Some("200"),
        "Size of a log file before rotation, in MiB.",
    )
    .unsupported();
    g.add(
        "log_rotation_type",
        one_of_any_case(&["interval", "size", "none"]),
        Some("none"),
        "Log rotation kind.",
    )
    .unsupported();
    g.add(
        "logging_context_format_string",
        string(),
        Some(
            "%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [%(global_request_id)s %(request_id)s \
             %(user_identity)s] %(instance)s%(message)s",
        ),
        "Python format of log lines with a request context.",
    )
    .unsupported();
    g.add(
        "logging_default_format_string",
        string(),
        Some("%(asctime)s.%(msecs)03d %(process)d %(levelname)s %(name)s [-] %(instance)s%(message)s"),
        "Python format of log lines without a request context.",
    )
    .unsupported();
    g.add(
        "logging_debug_format_suffix",
        string(),
        Some("%(funcName)s %(pathname)s:%(lineno)d"),
        "Suffix of debug log lines.",
    )
    .unsupported();
    g.add(
        "logging_exception_prefix",
        string(),
        Some("%(asctime)s.%(msecs)03d %(process)d ERROR %(name)s %(instance)s"),
        "Prefix of the lines of a logged exception.",
    )
    .unsupported();
    g.add(
        "logging_user_identity_format",
        string(),
        Some("%(user)s %(project)s %(domain)s %(system_scope)s %(user_domain)s %(project_domain)s"),
        "Format of the user identity in log lines.",
    )
    .unsupported();
    g.add(
        "default_log_levels",
        list(),
        Some(
            "sqlalchemy=WARNING,iso8601=WARNING,requests=WARNING,urllib3.connectionpool=WARNING,\
             keystonemiddleware=WARNING,keystoneauth=WARNING,ironicclient=WARNING,amqp=WARNING,amqplib=WARNING,\
             stevedore=WARNING,oslo.messaging=WARNING,oslo_messaging=WARNING",
        ),
        "Levels of Python loggers, logger=LEVEL; Python logger names mean nothing to inspector.",
    )
    .ignored();
    g.add(
        "publish_errors",
        boolean(),
        Some("false"),
        "Publish error events.",
    )
    .ignored();
    g.add(
        "instance_format",
        string(),
        Some("[instance: %(uuid)s] "),
        "Format of an instance in log lines.",
    )
    .ignored();
    g.add(
        "instance_uuid_format",
        string(),
        Some("[instance: %(uuid)s] "),
        "Format of an instance UUID in log lines.",
    )
    .ignored();
    g.add(
        "rate_limit_interval",
        int(),
        Some("0"),
        "Log rate limiting interval, in seconds.",
    )
    .unsupported();
    g.add(
        "rate_limit_burst",
        int(),
        Some("0"),
        "Log lines allowed per rate_limit_interval.",
    )
    .unsupported();
    g.add(
        "rate_limit_except_level",
        one_of(&["CRITICAL", "ERROR", "INFO", "WARNING", "DEBUG", ""]),
        Some("CRITICAL"),
        "Level from which log lines are never rate limited.",
    )
    .unsupported();
    g.add(
        "fatal_deprecations",
        boolean(),
        Some("false"),
        "Fail on use of deprecated features.",
    )
    .ignored();

    // oslo.service
    g.add("backdoor_port", string(), None, "Eventlet backdoor port.")
        .unsupported();
    g.add(
        "backdoor_socket",
        string(),
        None,
        "Eventlet backdoor socket.",
    )
    .unsupported();
    g.add(
        "log_options",
        boolean(),
        Some("true"),
        "Log all option values at start-up.",
    )
    .ignored();
    g.add(
        "graceful_shutdown_timeout",
        int(),
        Some("60"),
        "Seconds to wait for running work to finish at shutdown.",
    )
    .unsupported();
    g.add(
        "api_paste_config",
        string(),
        Some("api-paste.ini"),
        "Paste configuration of WSGI servers.",
    )
    .ignored();
    g.add(
        "wsgi_log_format",
        string(),
        Some(
            "%(client_ip)s \"%(request_line)s\" status: %(status_code)s  len: %(body_length)s time: \
             %(wall_seconds).7f",
        ),
        "Format of WSGI access log lines.",
    )
    .ignored();
    g.add(
        "tcp_keepidle",
        int(),
        Some("600"),
        "TCP keep-alive idle time of API sockets.",
    )
    .ignored();
    g.add(
        "wsgi_default_pool_size",
        int(),
        Some("100"),
        "Green threads of the WSGI server.",
    )
    .ignored();
    g.add(
        "max_header_line",
        int(),
        Some("16384"),
        "Longest accepted HTTP header line.",
    )
    .ignored();
    g.add(
        "wsgi_keep_alive",
        boolean(),
        Some("true"),
        "HTTP keep-alive of the WSGI server.",
    )
    .ignored();
    g.add(
        "client_socket_timeout",
        int(),
        Some("900"),
        "Idle timeout of client connections.",
    )
    .ignored();
    g.add(
        "wsgi_server_debug",
        boolean(),
        Some("false"),
        "Show tracebacks of WSGI servers.",
    )
    .ignored();

    // oslo.messaging: the API reaches the conductor in-process.
    g.add(
        "executor_thread_pool_size",
        int(),
        Some("64"),
        "RPC executor threads.",
    )
    .old_name("rpc_thread_pool_size")
    .ignored();
    g.add(
        "rpc_response_timeout",
        int(),
        Some("60"),
        "Seconds to wait for an RPC reply.",
    )
    .ignored();
    g.add(
        "transport_url",
        string(),
        Some("rabbit://"),
        "Message bus URL.",
    )
    .ignored()
    .secret();
    g.add(
        "control_exchange",
        string(),
        Some("openstack"),
        "Default message exchange.",
    )
    .ignored();
    g.add(
        "rpc_ping_enabled",
        boolean(),
        Some("false"),
        "Answer RPC pings.",
    )
    .ignored();
}

fn processing(g: &mut GroupBuilder<'_>) {
    g.add(
        "add_ports",
        described(&[
            ("all", "every interface"),
            ("active", "interfaces with an IP address"),
            (
                "pxe",
                "the interface the node booted from, or active when the ramdisk does not tell",
            ),
            ("disabled", "create no port"),
        ]),
        Some("pxe"),
        "Which interfaces become Ironic ports.",
    );
    g.add(
        "keep_ports",
        described(&[
            ("all", "delete nothing"),
            (
                "present",
                "delete ports whose MAC address the ramdisk did not report",
            ),
            (
                "added",
                "delete ports of interfaces that add_ports did not select",
            ),
        ]),
        Some("all"),
        "Which existing ports of a node survive introspection.",
    );
    g.add(
        "overwrite_existing",
        boolean(),
        Some("true"),
        "Let processing overwrite node properties and port fields that are already set.",
    );
    g.add(
        "default_processing_hooks",
        string(),
        Some(crate::conf::DEFAULT_PROCESSING_HOOKS),
        "Comma-separated hooks that processing_hooks includes by default. scheduler and validate_interfaces \
         are needed for nodes to be usable.",
    );
    g.add(
        "processing_hooks",
        string(),
        Some("$default_processing_hooks"),
        "Comma-separated hooks run on introspection data, in order; add hooks around the defaults like \
         this: prehook,$default_processing_hooks,posthook.",
    );
    g.add(
        "ramdisk_logs_dir",
        string(),
        None,
        "Directory where ramdisk logs are stored; unset: logs are not kept.",
    );
    g.add(
        "always_store_ramdisk_logs",
        boolean(),
        Some("false"),
        "Store ramdisk logs of successful introspections too (needs ramdisk_logs_dir).",
    );
    g.add(
        "node_not_found_hook",
        string(),
        None,
        "Hook run when data comes from a node inspector does not know, e.g. enroll; unset: such data is \
         rejected.",
    );
    g.add(
        "store_data",
        string(),
        Some("none"),
        "Where introspection data is stored: none, database or swift.",
    );
    g.add(
        "disk_partitioning_spacing",
        boolean(),
        Some("true"),
        "Leave 1 GiB of the root disk out of local_gb, for partitioning.",
    );
    g.add(
        "ramdisk_logs_filename_format",
        string(),
        Some("{uuid}_{dt:%Y%m%d-%H%M%S.%f}.tar.gz"),
        "File name of stored ramdisk logs; {uuid}, {bmc}, {mac} and {dt} (UTC time, strftime format after \
         the colon) are replaced.",
    );
    g.add(
        "power_off",
        boolean(),
        Some("true"),
        "Power nodes off after introspection (never active or rescue nodes).",
    );
    g.add(
        "permit_active_introspection",
        boolean(),
        Some("false"),
        "Accept data from nodes in the active or rescue state.",
    );
    g.add(
        "update_pxe_enabled",
        boolean(),
        Some("true"),
        "Set the pxe_enabled flag of ports from the data (needs overwrite_existing).",
    );
    g.add(
        "max_body_size",
        int_min(1),
        Some("16777216"),
        "Inspector extension: largest body of the ramdisk callback and of reapply, in bytes.",
    );
    g.add(
        "max_json_depth",
        int_min(1),
        Some("25"),
        "Inspector extension: deepest nesting of arrays and objects accepted in posted JSON documents.",
    );
}

fn discovery(g: &mut GroupBuilder<'_>) {
    g.add(
        "enroll_node_driver",
        string(),
        Some("fake-hardware"),
        "Driver of nodes the enroll hook creates.",
    );
    g.add(
        "enroll_node_fields",
        dict(),
        Some(""),
        "Extra fields of nodes the enroll hook creates, e.g. management_interface:noop,resource_class:baremetal.",
    );
    g.add(
        "enabled_bmc_address_version",
        list(),
        Some("4,6"),
        "IP versions of the BMC address used for new nodes, in order of preference: 4, 6, 4,6 or 6,4.",
    );
}

/// Session, auth plugin and adapter options of a keystoneauth client group.
fn keystoneauth(g: &mut GroupBuilder<'_>, service_type: &'static str, status: Status) {
    let first = g.entries.len();
    g.add(
        "auth_type",
        string(),
        Some("password"),
        "keystoneauth plugin: password, v3password, none, http_basic...",
    )
    .old_name("auth_plugin");
    g.add(
        "auth_section",
        string(),
        None,
        "Section to read the authentication options from.",
    )
    .unsupported();
    g.add("auth_url", string(), None, "Keystone URL.");
    g.add("system_scope", string(), None, "System scope of the token.");
    g.add("domain_id", string(), None, "Domain to scope the token to.")
        .unsupported();
    g.add(
        "domain_name",
        string(),
        None,
        "Domain to scope the token to.",
    )
    .unsupported();
    g.add(
        "project_id",
        string(),
        None,
        "Project to scope the token to.",
    )
    .old_name("tenant-id")
    .old_name("tenant_id");
    g.add(
        "project_name",
        string(),
        None,
        "Project to scope the token to.",
    )
    .old_name("tenant-name")
    .old_name("tenant_name");
    g.add(
        "project_domain_id",
        string(),
        None,
        "Domain of the project.",
    );
    g.add(
        "project_domain_name",
        string(),
        None,
        "Domain of the project.",
    );
    g.add("trust_id", string(), None, "Trust to use.")
        .unsupported();
    g.add(
        "default_domain_id",
        string(),
        None,
        "Domain of user and project when not given.",
    )
    .unsupported();
    g.add(
        "default_domain_name",
        string(),
        None,
        "Domain of user and project when not given.",
    )
    .unsupported();
    g.add("user_id", string(), None, "User ID.");
    g.add("username", string(), None, "User name.")
        .old_name("user-name")
        .old_name("user_name");
    g.add("user_domain_id", string(), None, "Domain of the user.");
    g.add("user_domain_name", string(), None, "Domain of the user.");
    g.add("password", string(), None, "Password of the user.")
        .secret();
    g.add(
        "endpoint",
        string(),
        None,
        "Endpoint of the none and http_basic plugins.",
    );
    g.add("token", string(), None, "Token of the token plugins.")
        .unsupported()
        .secret();
    g.add(
        "application_credential_id",
        string(),
        None,
        "Application credential ID.",
    )
    .unsupported();
    g.add(
        "application_credential_name",
        string(),
        None,
        "Application credential name.",
    )
    .unsupported();
    g.add(
        "application_credential_secret",
        string(),
        None,
        "Application credential secret.",
    )
    .unsupported()
    .secret();
    g.add(
        "cafile",
        string(),
        None,
        "CA bundle verifying HTTPS servers.",
    );
    g.add("certfile", string(), None, "Client certificate.");
    g.add("keyfile", string(), None, "Key of the client certificate.");
    g.add(
        "insecure",
        boolean(),
        Some("false"),
        "Do not verify HTTPS servers.",
    );
    g.add(
        "timeout",
        float(),
        None,
        "Timeout of one HTTP request, in seconds.",
    );
    g.add(
        "collect_timing",
        boolean(),
        Some("false"),
        "Collect request timing data.",
    )
    .ignored();
    g.add(
        "split_loggers",
        boolean(),
        Some("false"),
        "Log requests in several loggers.",
    )
    .ignored();
    g.add("tls_ciphers", string(), None, "Allowed TLS ciphers.")
        .unsupported();
    g.add(
        "tls_min_version",
        OptType::Str(StrType {
            choices: Some(vec![
                Choice {
                    value: None,
                    help: None,
                },
                Choice {
                    value: Some("1.2"),
                    help: None,
                },
                Choice {
                    value: Some("1.3"),
                    help: None,
                },
            ]),
            ..StrType::default()
        }),
        None,
        "Oldest TLS version accepted.",
    )
    .unsupported();
    g.add(
        "service_type",
        string(),
        Some(service_type),
        "Service type in the catalogue.",
    );
    g.add(
        "service_name",
        string(),
        None,
        "Service name in the catalogue.",
    )
    .unsupported();
    g.add(
        "valid_interfaces",
        list(),
        Some("internal,public"),
        "Endpoint interfaces to use, in order of preference.",
    );
    g.add(
        "interface",
        string(),
        None,
        "Endpoint interface; replaced by valid_interfaces.",
    );
    g.add("region_name", string(), None, "Region of the endpoint.");
    g.add(
        "endpoint_override",
        string(),
        None,
        "Endpoint to use instead of looking it up in the catalogue.",
    );
    g.add("version", string(), None, "API version.")
        .unsupported();
    g.add("min_version", string(), None, "Minimum API version.");
    g.add("max_version", string(), None, "Maximum API version.");
    g.add(
        "connect_retries",
        int(),
        None,
        "Retries of failed connections.",
    );
    g.add(
        "connect_retry_delay",
        float(),
        None,
        "Seconds between connection retries.",
    )
    .unsupported();
    g.add(
        "status_code_retries",
        int(),
        None,
        "Retries of retriable HTTP status codes.",
    );
    g.add(
        "status_code_retry_delay",
        float(),
        None,
        "Seconds between status code retries.",
    )
    .unsupported();
    g.add(
        "retriable_status_codes",
        OptType::List(ItemType::Int(Bounds::default())),
        None,
        "HTTP status codes that are retried.",
    )
    .unsupported();
    if status != Status::Implemented {
        for entry in &mut g.entries[first..] {
            entry.status = status;
        }
    }
}

fn database(g: &mut GroupBuilder<'_>) {
    g.add(
        "sqlite_synchronous",
        boolean(),
        Some("true"),
        "Synchronous SQLite writes.",
    )
    .ignored();
    g.add("backend", string(), Some("sqlalchemy"), "Database backend.")
        .ignored();
    g.add(
        "connection",
        string(),
        Some("sqlite:///ironic_inspector.sqlite"),
        "Database URL.",
    )
    .secret();
    g.add(
        "slave_connection",
        string(),
        None,
        "URL of a read-only replica.",
    )
    .unsupported()
    .secret();
    g.add(
        "asyncio_connection",
        string(),
        None,
        "asyncio database URL.",
    )
    .ignored()
    .secret();
    g.add(
        "asyncio_slave_connection",
        string(),
        None,
        "asyncio replica URL.",
    )
    .ignored()
    .secret();
    g.add(
        "synchronous_reader",
        boolean(),
        Some("true"),
        "Read from the primary after writes.",
    )
    .ignored();
    g.add(
        "mysql_sql_mode",
        string(),
        Some("TRADITIONAL"),
        "MySQL SQL mode.",
    )
    .ignored();
    g.add(
        "mysql_wsrep_sync_wait",
        int(),
        None,
        "Galera wsrep_sync_wait.",
    )
    .ignored();
    g.add(
        "connection_recycle_time",
        int(),
        Some("3600"),
        "Seconds before a pooled connection is replaced.",
    )
    .ignored();
    g.add(
        "max_pool_size",
        int(),
        Some("5"),
        "Largest number of open database connections.",
    );
    g.add(
        "max_retries",
        int(),
        Some("10"),
        "Attempts to connect at start-up; -1 retries forever.",
    );
    g.add(
        "retry_interval",
        int(),
        Some("10"),
        "Seconds between connection attempts.",
    );
    g.add(
        "max_overflow",
        int(),
        Some("50"),
        "Connections allowed beyond the pool.",
    )
    .ignored();
    g.add(
        "connection_debug",
        int_range(Some(0), Some(100)),
        Some("0"),
        "SQL debugging verbosity.",
    )
    .ignored();
    g.add(
        "connection_trace",
        boolean(),
        Some("false"),
        "Trace SQL statements.",
    )
    .ignored();
    g.add(
        "pool_timeout",
        int(),
        None,
        "Seconds to wait for a pooled connection.",
    )
    .ignored();
    g.add(
        "use_db_reconnect",
        boolean(),
        Some("false"),
        "Reconnect on lost connections.",
    )
    .ignored();
    g.add(
        "db_retry_interval",
        int(),
        Some("1"),
        "Seconds between transaction retries.",
    )
    .ignored();
    g.add(
        "db_inc_retry_interval",
        boolean(),
        Some("true"),
        "Grow db_retry_interval.",
    )
    .ignored();
    g.add(
        "db_max_retry_interval",
        int(),
        Some("10"),
        "Largest db_retry_interval.",
    )
    .ignored();
    g.add("db_max_retries", int(), Some("20"), "Transaction retries.")
        .ignored();
    g.add(
        "connection_parameters",
        string(),
        Some(""),
        "Extra parameters of the connection URL.",
    )
    .ignored();
}

fn keystone_authtoken(g: &mut GroupBuilder<'_>) {
    g.add(
        "www_authenticate_uri",
        string(),
        None,
        "Public Keystone endpoint announced to unauthenticated clients.",
    );
    g.add("auth_version", string(), None, "Identity API version.")
        .unsupported();
    g.add(
        "interface",
        string(),
        Some("internal"),
        "Keystone endpoint interface used to validate tokens.",
    );
    g.add(
        "delay_auth_decision",
        boolean(),
        Some("false"),
        "Let the application decide (inspector always does).",
    )
    .ignored();
    g.add(
        "http_connect_timeout",
        int(),
        None,
        "Seconds to wait for Keystone.",
    );
    g.add(
        "http_request_max_retries",
        int(),
        Some("3"),
        "Retries of a failed Keystone request.",
    );
    g.add(
        "cache",
        string(),
        None,
        "Environment key of an external token cache.",
    )
    .ignored();
    g.add(
        "certfile",
        string(),
        None,
        "Client certificate for Keystone.",
    );
    g.add("keyfile", string(), None, "Key of the client certificate.");
    g.add("cafile", string(), None, "CA bundle verifying Keystone.");
    g.add(
        "insecure",
        boolean(),
        Some("false"),
        "Do not verify Keystone's certificate.",
    );
    g.add(
        "region_name",
        string(),
        None,
        "Region of the Keystone endpoint.",
    );
    g.add(
        "memcached_servers",
        list(),
        None,
        "Memcached servers caching validated tokens.",
    )
    .old_name("memcache_servers")
    .ignored();
    g.add(
        "token_cache_time",
        int(),
        Some("300"),
        "Seconds a validated token is cached; -1 disables the cache.",
    );
    g.add(
        "memcache_security_strategy",
        one_of_any_case(&["None", "MAC", "ENCRYPT"]),
        Some("None"),
        "Protection of cached tokens.",
    )
    .ignored();
    g.add(
        "memcache_secret_key",
        string(),
        None,
        "Key protecting cached tokens.",
    )
    .ignored()
    .secret();
    g.add(
        "memcache_tls_enabled",
        boolean(),
        Some("false"),
        "TLS to memcached.",
    )
    .ignored();
    g.add("memcache_tls_cafile", string(), None, "CA of memcached.")
        .ignored();
    g.add(
        "memcache_tls_certfile",
        string(),
        None,
        "Client certificate for memcached.",
    )
    .ignored();
    g.add(
        "memcache_tls_keyfile",
        string(),
        None,
        "Client key for memcached.",
    )
    .ignored();
    g.add(
        "memcache_tls_allowed_ciphers",
        string(),
        None,
        "Ciphers for memcached.",
    )
    .ignored();
    g.add(
        "memcache_pool_dead_retry",
        int(),
        Some("300"),
        "Seconds before retrying a dead memcached.",
    )
    .ignored();
    g.add(
        "memcache_pool_maxsize",
        int(),
        Some("10"),
        "Memcached connections.",
    )
    .ignored();
    g.add(
        "memcache_pool_socket_timeout",
        int(),
        Some("3"),
        "Memcached socket timeout.",
    )
    .ignored();
    g.add(
        "memcache_pool_unused_timeout",
        int(),
        Some("60"),
        "Idle memcached connection lifetime.",
    )
    .ignored();
    g.add(
        "memcache_pool_conn_get_timeout",
        int(),
        Some("10"),
        "Wait for a memcached connection.",
    )
    .ignored();
    g.add(
        "memcache_use_advanced_pool",
        boolean(),
        Some("true"),
        "Advanced memcached pool.",
    )
    .ignored();
    g.add(
        "include_service_catalog",
        boolean(),
        Some("true"),
        "Ask for the service catalogue.",
    )
    .ignored();
    g.add(
        "enforce_token_bind",
        string(),
        Some("permissive"),
        "Token binding enforcement.",
    )
    .unsupported();
    g.add(
        "service_token_roles",
        list(),
        Some("service"),
        "Roles a service token must have.",
    );
    g.add(
        "service_token_roles_required",
        boolean(),
        Some("true"),
        "Enforce service_token_roles.",
    );
    g.add(
        "service_type",
        string(),
        None,
        "Service type for access rules.",
    )
    .ignored();
    g.add(
        "memcache_sasl_enabled",
        boolean(),
        Some("false"),
        "SASL to memcached.",
    )
    .ignored();
    g.add("memcache_username", string(), None, "Memcached SASL user.")
        .ignored();
    g.add(
        "memcache_password",
        string(),
        None,
        "Memcached SASL password.",
    )
    .ignored()
    .secret();
    g.add(
        "auth_type",
        string(),
        None,
        "keystoneauth plugin of the service user.",
    )
    .old_name("auth_plugin");
    g.add(
        "auth_section",
        string(),
        None,
        "Section to read the authentication options from.",
    )
    .unsupported();
    g.add(
        "auth_url",
        string(),
        None,
        "Keystone URL of the service user.",
    );
    g.add(
        "system_scope",
        string(),
        None,
        "System scope of the service user.",
    );
    g.add(
        "domain_id",
        string(),
        None,
        "Domain scope of the service user.",
    )
    .unsupported();
    g.add(
        "domain_name",
        string(),
        None,
        "Domain scope of the service user.",
    )
    .unsupported();
    g.add("project_id", string(), None, "Project of the service user.")
        .old_name("tenant-id")
        .old_name("tenant_id");
    g.add(
        "project_name",
        string(),
        None,
        "Project of the service user.",
    )
    .old_name("tenant-name")
    .old_name("tenant_name");
    g.add(
        "project_domain_id",
        string(),
        None,
        "Domain of the project.",
    );
    g.add(
        "project_domain_name",
        string(),
        None,
        "Domain of the project.",
    );
    g.add("trust_id", string(), None, "Trust of the service user.")
        .unsupported();
    g.add(
        "default_domain_id",
        string(),
        None,
        "Default domain of the service user.",
    )
    .unsupported();
    g.add(
        "default_domain_name",
        string(),
        None,
        "Default domain of the service user.",
    )
    .unsupported();
    g.add("user_id", string(), None, "Service user ID.");
    g.add("username", string(), None, "Service user name.")
        .old_name("user-name")
        .old_name("user_name");
    g.add(
        "user_domain_id",
        string(),
        None,
        "Domain of the service user.",
    );
    g.add(
        "user_domain_name",
        string(),
        None,
        "Domain of the service user.",
    );
    g.add("password", string(), None, "Password of the service user.")
        .secret();
}

fn oslo_policy(g: &mut GroupBuilder<'_>) {
    g.add(
        "enforce_scope",
        boolean(),
        Some("true"),
        "Check the scope of tokens; no inspector rule declares scope types.",
    )
    .ignored();
    g.add(
        "enforce_new_defaults",
        boolean(),
        Some("true"),
        "Use the new default rules, not the deprecated ones.",
    );
    g.add(
        "policy_file",
        string(),
        Some("policy.yaml"),
        "Policy file (relative paths are searched like oslo does).",
    );
    g.add(
        "policy_default_rule",
        string(),
        Some("default"),
        "Rule used when a policy has none.",
    );
    g.add(
        "policy_dirs",
        OptType::MultiStr,
        None,
        "Directories of extra policy files.",
    )
    .defaults(&["policy.d"]);
    g.add(
        "remote_content_type",
        one_of(&["application/x-www-form-urlencoded", "application/json"]),
        Some("application/x-www-form-urlencoded"),
        "Content type of remote policy checks.",
    )
    .unsupported();
    g.add(
        "remote_ssl_verify_server_crt",
        boolean(),
        Some("false"),
        "Verify remote policy servers.",
    )
    .unsupported();
    g.add(
        "remote_ssl_ca_crt_file",
        string(),
        None,
        "CA of remote policy servers.",
    )
    .unsupported();
    g.add(
        "remote_ssl_client_crt_file",
        string(),
        None,
        "Client certificate for remote checks.",
    )
    .unsupported();
    g.add(
        "remote_ssl_client_key_file",
        string(),
        None,
        "Client key for remote checks.",
    )
    .unsupported();
    g.add(
        "remote_timeout",
        OptType::Float(Bounds {
            min: Some(0),
            max: None,
        }),
        Some("60"),
        "Remote check timeout.",
    )
    .unsupported();
}

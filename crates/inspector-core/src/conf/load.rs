//! From file texts to a checked [`Config`].

use std::collections::HashSet;
use std::time::Duration;

use super::registry::{REGISTRY, Registry, Status};
use super::suggest;
use super::{
    AddPorts, AuthStrategy, ConfError, Config, IpVersion, Ironic, KeepPorts, KeystoneClient,
    Loaded, OptionValue, PxeDriver, Source, StoreData,
};
use crate::oslo::ini;
use crate::oslo::resolve::{ConfigFile, Occurrence, Resolved, Resolver, normalize_group};
use crate::oslo::types::Value;
use crate::py;

/// Builds the configuration from files given in precedence order (later
/// files win, multi-valued options accumulate). Every problem is reported:
/// all syntax errors if any file cannot be parsed, otherwise every invalid
/// value and every inconsistency.
pub fn load(sources: &[Source]) -> Result<Loaded, Vec<ConfError>> {
    let registry = &*REGISTRY;
    let files = parse(sources)?;
    let unknown_names = unknown_names(registry, sources, &files);
    let mut warnings = unknown_names.clone();

    let resolver = Resolver::new(&registry.opts, &files);
    let defaults = Resolver::new(&registry.opts, &[]);
    let mut reader = Reader {
        registry,
        sources,
        resolved: Vec::new(),
        errors: Vec::new(),
    };
    let mut deprecated_seen = HashSet::new();
    for (index, entry) in registry.entries.iter().enumerate() {
        match resolver.resolve(index) {
            Ok(resolved) => {
                for occurrence in resolved.occurrences.iter().filter(|o| o.via_alias) {
                    let key = (
                        occurrence.file,
                        normalize_group(&occurrence.section),
                        occurrence.key.clone(),
                    );
                    if deprecated_seen.insert(key) {
                        warnings.push(format!(
                            "{}: [{}] {}: deprecated, use [{}] {} instead",
                            sources[occurrence.file].path,
                            occurrence.section,
                            occurrence.key,
                            entry.opt.group,
                            entry.opt.name
                        ));
                    }
                }
                if entry.status == Status::Unsupported
                    && let Some(occurrence) = resolved.occurrences.last()
                    && defaults.resolve(index).map(|d| d.value).as_ref() != Ok(&resolved.value)
                {
                    warnings.push(format!(
                        "{}: [{}] {}: this option is not supported by inspector and is ignored",
                        sources[occurrence.file].path, occurrence.section, occurrence.key
                    ));
                }
                reader.resolved.push(Some(resolved));
            }
            Err(e) => {
                let error = reader.error_at(index, e.occurrence.as_ref(), e.message);
                reader.errors.push(error);
                reader.resolved.push(None);
            }
        }
    }

    let config = build(&mut reader);
    check(&config, &mut reader);
    if config.processing.store_data == StoreData::Swift {
        // Accepted so that upstream files load, but nothing would be
        // stored: say so rather than drop the data silently.
        let place = reader
            .index("processing", "store_data")
            .and_then(|i| reader.resolved[i].as_ref())
            .and_then(|r| r.occurrences.last())
            .map(|o| format!("{}: [{}] {}", sources[o.file].path, o.section, o.key))
            .unwrap_or_else(|| "[processing] store_data".into());
        warnings.push(format!(
            "{place}: swift is not supported by inspector, introspection data will not be stored; use database"
        ));
    }

    if !reader.errors.is_empty() {
        let mut errors = reader.errors;
        errors.sort_by_key(|(position, _)| *position);
        return Err(errors.into_iter().map(|(_, e)| e).collect());
    }
    let values = registry
        .entries
        .iter()
        .zip(&reader.resolved)
        .map(|(entry, resolved)| OptionValue {
            group: entry.opt.group,
            name: entry.opt.name,
            value: resolved.as_ref().map_or(Value::None, |r| r.value.clone()),
            secret: entry.secret,
        })
        .collect();
    Ok(Loaded {
        config,
        warnings,
        unknown_names,
        values,
    })
}

fn parse(sources: &[Source]) -> Result<Vec<ConfigFile>, Vec<ConfError>> {
    let mut files = Vec::with_capacity(sources.len());
    let mut errors = Vec::new();
    for source in sources {
        match ini::parse(&source.text) {
            Ok(doc) => files.push(ConfigFile {
                path: source.path.clone(),
                doc,
            }),
            Err(syntax) => errors.extend(syntax.into_iter().map(|e| ConfError {
                file: source.path.clone(),
                section: String::new(),
                option: String::new(),
                message: format!("{}: {}", e.message, py::value::str_repr(&e.text)),
                line: Some(e.line),
            })),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

/// Warnings for sections and options nobody registered.
fn unknown_names(registry: &Registry, sources: &[Source], files: &[ConfigFile]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (source, file) in sources.iter().zip(files) {
        let mut reported = HashSet::new();
        for section in &file.doc.sections {
            let group = normalize_group(&section.name);
            if !registry.knows_section(&group) {
                if reported.insert((group, String::new())) {
                    warnings.push(format!(
                        "{}: [{}]: {}",
                        source.path,
                        section.name,
                        suggest::unknown_section(registry, &section.name)
                    ));
                }
                continue;
            }
            if registry.accepts_any(&group) {
                continue;
            }
            for assignment in &section.assignments {
                if !registry.knows(&group, &assignment.key)
                    && reported.insert((group.clone(), assignment.key.clone()))
                {
                    warnings.push(format!(
                        "{}: [{}] {}: {}",
                        source.path,
                        section.name,
                        assignment.key,
                        suggest::unknown_option(registry, &group, &assignment.key)
                    ));
                }
            }
        }
    }
    warnings
}

/// Sort key of an error: file order, then line; defaults last.
type Position = (usize, usize);

/// Typed access to the resolved values, collecting errors.
struct Reader<'a> {
    registry: &'a Registry,
    sources: &'a [Source],
    /// By registry index; `None` when the option could not be resolved
    /// (its error is already recorded).
    resolved: Vec<Option<Resolved>>,
    errors: Vec<(Position, ConfError)>,
}

impl Reader<'_> {
    fn error_at(
        &self,
        index: usize,
        occurrence: Option<&Occurrence>,
        message: String,
    ) -> (Position, ConfError) {
        match occurrence {
            Some(o) => (
                (o.file, o.line),
                ConfError {
                    file: self.sources[o.file].path.clone(),
                    section: o.section.clone(),
                    option: o.key.clone(),
                    message,
                    line: Some(o.line),
                },
            ),
            None => {
                let opt = &self.registry.entries[index].opt;
                (
                    (usize::MAX, 0),
                    ConfError {
                        file: "(default)".into(),
                        section: opt.group.into(),
                        option: opt.name.into(),
                        message,
                        line: None,
                    },
                )
            }
        }
    }

    /// Records an error about the value of option `index`.
    fn fail(&mut self, index: usize, message: impl Into<String>) {
        let occurrence = self.resolved[index]
            .as_ref()
            .and_then(|r| r.occurrences.last())
            .cloned();
        let error = self.error_at(index, occurrence.as_ref(), message.into());
        self.errors.push(error);
    }

    /// The value of an option, unless it failed to resolve.
    fn get(&self, group: &str, name: &str) -> Option<(usize, Value)> {
        let index = self.registry.index_of(group, name);
        debug_assert!(index.is_some(), "[{group}] {name} is not registered");
        let index = index?;
        self.resolved[index]
            .as_ref()
            .map(|r| (index, r.value.clone()))
    }

    /// Whether the option was written in a file.
    fn is_set(&self, group: &str, name: &str) -> bool {
        self.registry
            .index_of(group, name)
            .and_then(|i| self.resolved[i].as_ref())
            .is_some_and(|r| !r.occurrences.is_empty())
    }

    fn index(&self, group: &str, name: &str) -> Option<usize> {
        self.registry.index_of(group, name)
    }

    fn boolean(&self, group: &str, name: &str, fallback: bool) -> bool {
        match self.get(group, name) {
            Some((_, Value::Bool(b))) => b,
            _ => fallback,
        }
    }

    fn string(&self, group: &str, name: &str, fallback: String) -> String {
        match self.get(group, name) {
            Some((_, Value::Str(s))) => s,
            _ => fallback,
        }
    }

    /// Unset and empty both mean "not configured", as upstream's
    /// truthiness tests treat them.
    fn opt_string(&self, group: &str, name: &str) -> Option<String> {
        match self.get(group, name) {
            Some((_, Value::Str(s))) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn number<T: TryFrom<i64>>(&mut self, group: &str, name: &str, fallback: T) -> T {
        match self.get(group, name) {
            Some((index, Value::Int(v))) => T::try_from(v).unwrap_or_else(|_| {
                self.fail(index, out_of_range(v));
                fallback
            }),
            Some((index, Value::None)) => {
                self.fail(index, "Value must not be empty");
                fallback
            }
            _ => fallback,
        }
    }

    fn opt_number<T: TryFrom<i64>>(&mut self, group: &str, name: &str) -> Option<T> {
        match self.get(group, name) {
            Some((index, Value::Int(v))) => T::try_from(v)
                .map_err(|_| self.fail(index, out_of_range(v)))
                .ok(),
            _ => None,
        }
    }

    fn seconds(&mut self, group: &str, name: &str) -> Option<Duration> {
        let (index, secs) = match self.get(group, name)? {
            (index, Value::Int(v)) => (index, v as f64),
            (index, Value::Float(f)) => (index, f),
            _ => return None,
        };
        Duration::try_from_secs_f64(secs)
            .map_err(|_| {
                let message = if secs < 0.0 {
                    "Should be greater than or equal to 0".to_string()
                } else {
                    format!(
                        "Value {} is not a valid number of seconds",
                        py::float_repr(secs)
                    )
                };
                self.fail(index, message)
            })
            .ok()
    }

    fn list(&self, group: &str, name: &str, fallback: Vec<String>) -> Vec<String> {
        match self.get(group, name) {
            Some((_, Value::List(items))) => items
                .into_iter()
                .map(|v| match v {
                    Value::Str(s) => s,
                    other => other.interpolated(),
                })
                .collect(),
            Some((_, Value::None)) => Vec::new(),
            _ => fallback,
        }
    }

    fn dict(
        &self,
        group: &str,
        name: &str,
        fallback: Vec<(String, String)>,
    ) -> Vec<(String, String)> {
        match self.get(group, name) {
            Some((_, Value::Dict(pairs))) => pairs
                .into_iter()
                .map(|(k, v)| (k, v.interpolated()))
                .collect(),
            _ => fallback,
        }
    }

    /// A string option whose values inspector maps to an enum (some of
    /// them are plugin names upstream, validated only when loaded).
    fn choice<T: Copy>(
        &mut self,
        group: &str,
        name: &str,
        choices: &[(&str, T)],
        fallback: T,
    ) -> T {
        let Some((index, Value::Str(s))) = self.get(group, name) else {
            return fallback;
        };
        if let Some((_, v)) = choices.iter().find(|(c, _)| *c == s) {
            return *v;
        }
        let names: Vec<&str> = choices.iter().map(|(c, _)| *c).collect();
        self.fail(
            index,
            format!(
                "Valid values are [{}], but found {}",
                names.join(", "),
                py::value::str_repr(&s)
            ),
        );
        fallback
    }
}

fn out_of_range(v: i64) -> String {
    if v < 0 {
        "Should be greater than or equal to 0".into()
    } else {
        format!("Value {v} is too large")
    }
}

/// Hook lists are comma-separated strings; blanks are dropped.
fn hook_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(py::text::strip)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn build(r: &mut Reader<'_>) -> Config {
    let mut c = Config::default();

    let d = &mut c.default;
    d.listen_address = r.string(
        "DEFAULT",
        "listen_address",
        std::mem::take(&mut d.listen_address),
    );
    d.listen_port = r.number("DEFAULT", "listen_port", d.listen_port);
    d.listen_unix_socket = r.opt_string("DEFAULT", "listen_unix_socket");
    d.listen_unix_socket_mode = r.opt_number("DEFAULT", "listen_unix_socket_mode");
    d.host = r.string("DEFAULT", "host", std::mem::take(&mut d.host));
    d.auth_strategy = r.choice(
        "DEFAULT",
        "auth_strategy",
        &[
            ("noauth", AuthStrategy::Noauth),
            ("keystone", AuthStrategy::Keystone),
            ("http_basic", AuthStrategy::HttpBasic),
        ],
        d.auth_strategy,
    );
    d.http_basic_auth_user_file = r.string(
        "DEFAULT",
        "http_basic_auth_user_file",
        std::mem::take(&mut d.http_basic_auth_user_file),
    );
    d.timeout = r.number("DEFAULT", "timeout", d.timeout);
    d.clean_up_period = r.number("DEFAULT", "clean_up_period", d.clean_up_period);
    d.leader_election_interval = r.number(
        "DEFAULT",
        "leader_election_interval",
        d.leader_election_interval,
    );
    d.use_ssl = r.boolean("DEFAULT", "use_ssl", d.use_ssl);
    d.max_concurrency = r.number("DEFAULT", "max_concurrency", d.max_concurrency);
    d.introspection_delay = r.number("DEFAULT", "introspection_delay", d.introspection_delay);
    d.ipmi_address_fields = r.list(
        "DEFAULT",
        "ipmi_address_fields",
        std::mem::take(&mut d.ipmi_address_fields),
    );
    d.rootwrap_config = r.string(
        "DEFAULT",
        "rootwrap_config",
        std::mem::take(&mut d.rootwrap_config),
    );
    d.api_max_limit = r.number("DEFAULT", "api_max_limit", d.api_max_limit);
    d.can_manage_boot = r.boolean("DEFAULT", "can_manage_boot", d.can_manage_boot);
    d.enable_mdns = r.boolean("DEFAULT", "enable_mdns", d.enable_mdns);
    d.standalone = r.boolean("DEFAULT", "standalone", d.standalone);
    d.debug = r.boolean("DEFAULT", "debug", d.debug);
    d.log_file = r.opt_string("DEFAULT", "log_file");
    d.log_dir = r.opt_string("DEFAULT", "log_dir");
    d.watch_log_file = r.boolean("DEFAULT", "watch_log_file", d.watch_log_file);
    d.use_json = r.boolean("DEFAULT", "use_json", d.use_json);
    d.max_request_body_size = r.number("DEFAULT", "max_request_body_size", d.max_request_body_size);

    let p = &mut c.processing;
    p.add_ports = r.choice(
        "processing",
        "add_ports",
        &[
            ("all", AddPorts::All),
            ("active", AddPorts::Active),
            ("pxe", AddPorts::Pxe),
            ("disabled", AddPorts::Disabled),
        ],
        p.add_ports,
    );
    p.keep_ports = r.choice(
        "processing",
        "keep_ports",
        &[
            ("all", KeepPorts::All),
            ("present", KeepPorts::Present),
            ("added", KeepPorts::Added),
        ],
        p.keep_ports,
    );
    p.overwrite_existing = r.boolean("processing", "overwrite_existing", p.overwrite_existing);
    if let Some((_, Value::Str(s))) = r.get("processing", "default_processing_hooks") {
        p.default_processing_hooks = hook_list(&s);
    }
    if let Some((_, Value::Str(s))) = r.get("processing", "processing_hooks") {
        p.processing_hooks = hook_list(&s);
    }
    p.ramdisk_logs_dir = r.opt_string("processing", "ramdisk_logs_dir");
    p.always_store_ramdisk_logs = r.boolean(
        "processing",
        "always_store_ramdisk_logs",
        p.always_store_ramdisk_logs,
    );
    p.node_not_found_hook = r.opt_string("processing", "node_not_found_hook");
    p.store_data = r.choice(
        "processing",
        "store_data",
        &[
            ("none", StoreData::None),
            ("database", StoreData::Database),
            ("swift", StoreData::Swift),
        ],
        p.store_data,
    );
    p.disk_partitioning_spacing = r.boolean(
        "processing",
        "disk_partitioning_spacing",
        p.disk_partitioning_spacing,
    );
    p.ramdisk_logs_filename_format = r.string(
        "processing",
        "ramdisk_logs_filename_format",
        std::mem::take(&mut p.ramdisk_logs_filename_format),
    );
    p.power_off = r.boolean("processing", "power_off", p.power_off);
    p.permit_active_introspection = r.boolean(
        "processing",
        "permit_active_introspection",
        p.permit_active_introspection,
    );
    p.update_pxe_enabled = r.boolean("processing", "update_pxe_enabled", p.update_pxe_enabled);
    p.max_body_size = r.number("processing", "max_body_size", p.max_body_size);
    p.max_json_depth = r.number("processing", "max_json_depth", p.max_json_depth);

    let di = &mut c.discovery;
    di.enroll_node_driver = r.string(
        "discovery",
        "enroll_node_driver",
        std::mem::take(&mut di.enroll_node_driver),
    );
    di.enroll_node_fields = r.dict(
        "discovery",
        "enroll_node_fields",
        std::mem::take(&mut di.enroll_node_fields),
    );
    di.enabled_bmc_address_version = r.list(
        "discovery",
        "enabled_bmc_address_version",
        std::mem::take(&mut di.enabled_bmc_address_version),
    );

    let f = &mut c.pxe_filter;
    f.driver = r.choice(
        "pxe_filter",
        "driver",
        &[
            ("iptables", PxeDriver::Iptables),
            ("dnsmasq", PxeDriver::Dnsmasq),
            ("noop", PxeDriver::Noop),
        ],
        f.driver,
    );
    f.sync_period = r.number("pxe_filter", "sync_period", f.sync_period);
    f.deny_unknown_macs = r.boolean("pxe_filter", "deny_unknown_macs", f.deny_unknown_macs);
    f.command_prefix = r.string(
        "pxe_filter",
        "command_prefix",
        std::mem::take(&mut f.command_prefix),
    );

    let dn = &mut c.dnsmasq_pxe_filter;
    dn.dhcp_hostsdir = r.string(
        "dnsmasq_pxe_filter",
        "dhcp_hostsdir",
        std::mem::take(&mut dn.dhcp_hostsdir),
    );
    dn.purge_dhcp_hostsdir = r.boolean(
        "dnsmasq_pxe_filter",
        "purge_dhcp_hostsdir",
        dn.purge_dhcp_hostsdir,
    );
    dn.dnsmasq_start_command = r.string(
        "dnsmasq_pxe_filter",
        "dnsmasq_start_command",
        std::mem::take(&mut dn.dnsmasq_start_command),
    );
    dn.dnsmasq_stop_command = r.string(
        "dnsmasq_pxe_filter",
        "dnsmasq_stop_command",
        std::mem::take(&mut dn.dnsmasq_stop_command),
    );

    let ip = &mut c.iptables;
    ip.dnsmasq_interface = r.string(
        "iptables",
        "dnsmasq_interface",
        std::mem::take(&mut ip.dnsmasq_interface),
    );
    ip.firewall_chain = r.string(
        "iptables",
        "firewall_chain",
        std::mem::take(&mut ip.firewall_chain),
    );
    ip.ethoib_interfaces = r.list(
        "iptables",
        "ethoib_interfaces",
        std::mem::take(&mut ip.ethoib_interfaces),
    );
    ip.ip_version = r.choice(
        "iptables",
        "ip_version",
        &[("4", IpVersion::V4), ("6", IpVersion::V6)],
        ip.ip_version,
    );

    c.capabilities.boot_mode = r.boolean("capabilities", "boot_mode", c.capabilities.boot_mode);
    c.capabilities.cpu_flags = r.dict(
        "capabilities",
        "cpu_flags",
        std::mem::take(&mut c.capabilities.cpu_flags),
    );
    c.pci_devices.alias = r.list("pci_devices", "alias", Vec::new());
    c.accelerators.known_devices = r.opt_string("accelerators", "known_devices");
    c.port_physnet.cidr_map = r.list("port_physnet", "cidr_map", Vec::new());
    c.extra_hardware.strict = r.boolean("extra_hardware", "strict", c.extra_hardware.strict);

    c.swift.container = r.string("swift", "container", std::mem::take(&mut c.swift.container));
    c.swift.delete_after = r.number("swift", "delete_after", c.swift.delete_after);
    c.swift.client = keystone_client(r, "swift", std::mem::take(&mut c.swift.client));

    let fallback = &c.ironic;
    let retry_interval = r.number("ironic", "retry_interval", fallback.retry_interval);
    let max_retries = r.number("ironic", "max_retries", fallback.max_retries);
    let k = keystone_client(
        r,
        "ironic",
        KeystoneClient {
            service_type: "baremetal".into(),
            ..KeystoneClient::default()
        },
    );
    c.ironic = Ironic {
        auth_type: k.auth_type,
        auth_url: k.auth_url,
        username: k.username,
        password: k.password,
        user_id: k.user_id,
        project_name: k.project_name,
        project_id: k.project_id,
        user_domain_name: k.user_domain_name,
        user_domain_id: k.user_domain_id,
        project_domain_name: k.project_domain_name,
        project_domain_id: k.project_domain_id,
        system_scope: k.system_scope,
        endpoint: k.endpoint,
        region_name: k.region_name,
        endpoint_override: k.endpoint_override,
        service_type: k.service_type,
        valid_interfaces: k.valid_interfaces,
        cafile: k.cafile,
        certfile: k.certfile,
        keyfile: k.keyfile,
        insecure: k.insecure,
        timeout: k.timeout,
        connect_retries: k.connect_retries,
        status_code_retries: k.status_code_retries,
        min_version: k.min_version,
        max_version: k.max_version,
        retry_interval,
        max_retries,
    };

    let db = &mut c.database;
    // The model leaves upstream's default (a SQLite file in the working
    // directory) implicit.
    db.connection = if r.is_set("database", "connection") {
        r.opt_string("database", "connection")
    } else {
        None
    };
    db.max_pool_size = r.number("database", "max_pool_size", db.max_pool_size);
    db.max_retries = r.number("database", "max_retries", db.max_retries);
    db.retry_interval = r.number("database", "retry_interval", db.retry_interval);

    let ka = &mut c.keystone_authtoken;
    let g = "keystone_authtoken";
    ka.www_authenticate_uri = r.opt_string(g, "www_authenticate_uri");
    ka.auth_url = r.opt_string(g, "auth_url");
    ka.auth_type = r.opt_string(g, "auth_type");
    ka.username = r.opt_string(g, "username");
    ka.user_id = r.opt_string(g, "user_id");
    ka.password = r.opt_string(g, "password");
    ka.project_name = r.opt_string(g, "project_name");
    ka.project_id = r.opt_string(g, "project_id");
    ka.system_scope = r.opt_string(g, "system_scope");
    ka.user_domain_name = r.opt_string(g, "user_domain_name");
    ka.project_domain_name = r.opt_string(g, "project_domain_name");
    ka.user_domain_id = r.opt_string(g, "user_domain_id");
    ka.project_domain_id = r.opt_string(g, "project_domain_id");
    ka.region_name = r.opt_string(g, "region_name");
    ka.interface = r.opt_string(g, "interface");
    ka.cafile = r.opt_string(g, "cafile");
    ka.certfile = r.opt_string(g, "certfile");
    ka.keyfile = r.opt_string(g, "keyfile");
    ka.insecure = r.boolean(g, "insecure", ka.insecure);
    ka.http_connect_timeout = r.seconds(g, "http_connect_timeout");
    ka.http_request_max_retries =
        r.number(g, "http_request_max_retries", ka.http_request_max_retries);
    ka.token_cache_time = r.number(g, "token_cache_time", ka.token_cache_time);
    ka.service_token_roles = r.list(
        g,
        "service_token_roles",
        std::mem::take(&mut ka.service_token_roles),
    );
    ka.service_token_roles_required = r.boolean(
        g,
        "service_token_roles_required",
        ka.service_token_roles_required,
    );

    let po = &mut c.oslo_policy;
    po.policy_file = r.string(
        "oslo_policy",
        "policy_file",
        std::mem::take(&mut po.policy_file),
    );
    po.enforce_scope = r.boolean("oslo_policy", "enforce_scope", po.enforce_scope);
    po.enforce_new_defaults = r.boolean(
        "oslo_policy",
        "enforce_new_defaults",
        po.enforce_new_defaults,
    );
    po.policy_default_rule = r.string(
        "oslo_policy",
        "policy_default_rule",
        std::mem::take(&mut po.policy_default_rule),
    );
    po.policy_dirs = r.list(
        "oslo_policy",
        "policy_dirs",
        std::mem::take(&mut po.policy_dirs),
    );

    c.healthcheck.enabled = r.boolean("healthcheck", "enabled", c.healthcheck.enabled);
    c.healthcheck.path = r.string(
        "healthcheck",
        "path",
        std::mem::take(&mut c.healthcheck.path),
    );

    c.ssl.cert_file = r.opt_string("ssl", "cert_file");
    c.ssl.key_file = r.opt_string("ssl", "key_file");
    c.ssl.ca_file = r.opt_string("ssl", "ca_file");
    c
}

/// The keystoneauth options of a client group.
fn keystone_client(r: &mut Reader<'_>, g: &str, fallback: KeystoneClient) -> KeystoneClient {
    let mut valid_interfaces = r.list(g, "valid_interfaces", fallback.valid_interfaces);
    // The deprecated single interface only counts when valid_interfaces is
    // explicitly emptied; otherwise keystoneauth refuses the pair (checked
    // in `check_keystone_client`).
    if valid_interfaces.is_empty()
        && let Some(interface) = r.opt_string(g, "interface")
    {
        valid_interfaces = vec![interface];
    }
    KeystoneClient {
        auth_type: r.string(g, "auth_type", fallback.auth_type),
        auth_url: r.opt_string(g, "auth_url"),
        username: r.opt_string(g, "username"),
        password: r.opt_string(g, "password"),
        user_id: r.opt_string(g, "user_id"),
        project_name: r.opt_string(g, "project_name"),
        project_id: r.opt_string(g, "project_id"),
        user_domain_name: r.opt_string(g, "user_domain_name"),
        user_domain_id: r.opt_string(g, "user_domain_id"),
        project_domain_name: r.opt_string(g, "project_domain_name"),
        project_domain_id: r.opt_string(g, "project_domain_id"),
        system_scope: r.opt_string(g, "system_scope"),
        endpoint: r.opt_string(g, "endpoint"),
        region_name: r.opt_string(g, "region_name"),
        endpoint_override: r.opt_string(g, "endpoint_override"),
        service_type: r.string(g, "service_type", fallback.service_type),
        valid_interfaces,
        cafile: r.opt_string(g, "cafile"),
        certfile: r.opt_string(g, "certfile"),
        keyfile: r.opt_string(g, "keyfile"),
        insecure: r.boolean(g, "insecure", fallback.insecure),
        timeout: r.seconds(g, "timeout"),
        connect_retries: r.opt_number(g, "connect_retries"),
        status_code_retries: r.opt_number(g, "status_code_retries"),
        min_version: r.opt_string(g, "min_version"),
        max_version: r.opt_string(g, "max_version"),
    }
}

/// Command lines the PXE filter will run must split into words.
fn check_commands(c: &Config, r: &mut Reader<'_>) {
    let mut commands = vec![("pxe_filter", "command_prefix", &c.pxe_filter.command_prefix)];
    if c.pxe_filter.driver == PxeDriver::Dnsmasq {
        let d = &c.dnsmasq_pxe_filter;
        commands.push((
            "dnsmasq_pxe_filter",
            "dnsmasq_start_command",
            &d.dnsmasq_start_command,
        ));
        commands.push((
            "dnsmasq_pxe_filter",
            "dnsmasq_stop_command",
            &d.dnsmasq_stop_command,
        ));
    }
    for (group, name, text) in commands {
        if let Err(e) = crate::pxe::command::split(text)
            && let Some(index) = r.index(group, name)
        {
            r.fail(
                index,
                format!("Configuration error: [{group}]{name} cannot be split into words: {e}"),
            );
        }
    }
}

/// The consistency checks upstream makes at start-up that need no I/O.
fn check(c: &Config, r: &mut Reader<'_>) {
    if c.processing.add_ports == AddPorts::Disabled
        && c.processing.keep_ports == KeepPorts::Added
        && let Some(index) = r.index("processing", "keep_ports")
    {
        r.fail(
            index,
            "Configuration error: add_ports set to disabled and keep_ports set to added. Please change \
             keep_ports to all.",
        );
    }
    if c.pxe_filter.deny_unknown_macs
        && c.processing.node_not_found_hook.is_some()
        && let Some(index) = r.index("pxe_filter", "deny_unknown_macs")
    {
        r.fail(
            index,
            "Configuration error: [pxe_filter]deny_unknown_macs is enabled and [processing]node_not_found_hook \
             is enabled. These options cannot both be enabled simultaneously.",
        );
    }
    check_commands(c, r);
    if c.default.use_ssl
        && (c.ssl.cert_file.is_none() || c.ssl.key_file.is_none())
        && let Some(index) = r.index("DEFAULT", "use_ssl")
    {
        r.fail(
            index,
            "When running server in SSL mode, you must specify both a cert_file and key_file option value in \
             [ssl]",
        );
    }
    check_keystone_client(r, "ironic");
    if c.processing.store_data == StoreData::Swift {
        check_keystone_client(r, "swift");
    }
}

/// What keystoneauth refuses when it builds a client from a group.
fn check_keystone_client(r: &mut Reader<'_>, g: &str) {
    // Never empty unless emptied on purpose: the default has two entries.
    let valid_interfaces = r.list(g, "valid_interfaces", Vec::new());
    if let Some(index) = r.index(g, "valid_interfaces") {
        for interface in &valid_interfaces {
            if !matches!(interface.as_str(), "public" | "internal" | "admin") {
                r.fail(
                    index,
                    format!(
                        "'{interface}' is not a valid value for valid_interfaces. Valid values are public, \
                         internal or admin"
                    ),
                );
            }
        }
    }
    if !valid_interfaces.is_empty()
        && r.opt_string(g, "interface").is_some()
        && let Some(index) = r.index(g, "interface")
    {
        r.fail(
            index,
            "interface and valid_interfaces are mutually exclusive. Please use valid_interfaces.",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_model() {
        let loaded = load(&[]).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn every_implemented_option_has_a_default_that_resolves() {
        let defaults = Resolver::new(&REGISTRY.opts, &[]);
        for (i, e) in REGISTRY.entries.iter().enumerate() {
            assert!(
                defaults.resolve(i).is_ok(),
                "[{}] {}",
                e.opt.group,
                e.opt.name
            );
        }
    }

    #[test]
    fn registry_has_no_duplicates() {
        let mut seen = HashSet::new();
        for e in &REGISTRY.entries {
            assert!(
                seen.insert((e.opt.group, e.opt.name)),
                "[{}] {} twice",
                e.opt.group,
                e.opt.name
            );
        }
        let mut groups = HashSet::new();
        for g in &REGISTRY.groups {
            assert!(groups.insert(g.name), "[{}] twice", g.name);
            assert_eq!(normalize_group(g.name), g.name);
        }
        for e in &REGISTRY.entries {
            assert!(
                groups.contains(e.opt.group),
                "[{}] not declared",
                e.opt.group
            );
        }
    }
}

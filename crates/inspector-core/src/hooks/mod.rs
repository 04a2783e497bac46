//! Processing hooks (upstream-behaviour §hooks), as pure functions: `before_processing`
//! mutates the introspection data; `before_update` mutates it and returns
//! the Ironic operations to perform. The service runs the operations, in
//! order, refreshes its view of the node and ports, then calls the next hook.
//!
//! Behaviour follows ironic-inspector 12.5.0 hook by hook. Where upstream
//! crashes with an unexpected exception on malformed input (an HTTP 500), we
//! either skip the bad item with a warning, as upstream does for the closest
//! well-formed case, or fail with a clear [`HookError`]; each such place says
//! which in a comment.

pub mod addresses;
pub mod capabilities;
mod extra;
mod ip;
mod lldp_hooks;
mod logs_filename;
mod pci;
mod ports;
mod standard;
pub(crate) mod yaml;

use serde_json::{Map, Value};

use crate::conf::{AddPorts, Config, KeepPorts};

pub use logs_filename::ramdisk_logs_filename;

/// Introspection data, as posted by the ramdisk and mutated by hooks.
pub type Data = Map<String, Value>;

/// The Ironic node and its ports as they are before the hook runs.
#[derive(Debug, Clone, Copy)]
pub struct NodeView<'a> {
    /// The node document of Ironic's API (`uuid`, `properties`, ...).
    pub node: &'a Value,
    /// The node's ports as Ironic's `/v1/ports/detail` returns them.
    pub ports: &'a [Value],
}

/// An Ironic operation a hook (or a rule action) asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeOp {
    /// `PATCH /v1/nodes/{uuid}` with a JSON patch.
    PatchNode {
        patch: Vec<Value>,
        reset_interfaces: bool,
    },
    /// `POST /v1/ports`; a 409 (the MAC exists) is tolerated with a warning.
    CreatePort {
        address: String,
        extra: Value,
        pxe_enabled: bool,
    },
    /// `PATCH /v1/ports/{uuid}`; with `tolerate_rejection` a 4xx from Ironic
    /// is logged and ignored, as upstream does for LLDP and physnet patches.
    PatchPort {
        uuid: String,
        patch: Vec<Value>,
        tolerate_rejection: bool,
    },
    /// `DELETE /v1/ports/{uuid}`.
    DeletePort {
        uuid: String,
        address: String,
    },
    AddTrait(String),
    /// A missing trait is not an error.
    RemoveTrait(String),
}

/// A hook failure: the text becomes the node's error and the HTTP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HookError(pub String);

/// A hook's outcome: operations, plus warnings worth logging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub ops: Vec<NodeOp>,
    pub warnings: Vec<String>,
}

/// The processing hooks, by upstream entry-point name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    RamdiskError,
    RootDiskSelection,
    Scheduler,
    ValidateInterfaces,
    Capabilities,
    PciDevices,
    Accelerators,
    ExtraHardware,
    LldpBasic,
    LocalLinkConnection,
    PhysnetCidrMap,
    RaidDevice,
    Example,
}

impl Hook {
    const ALL: [Hook; 13] = [
        Hook::RamdiskError,
        Hook::RootDiskSelection,
        Hook::Scheduler,
        Hook::ValidateInterfaces,
        Hook::Capabilities,
        Hook::PciDevices,
        Hook::Accelerators,
        Hook::ExtraHardware,
        Hook::LldpBasic,
        Hook::LocalLinkConnection,
        Hook::PhysnetCidrMap,
        Hook::RaidDevice,
        Hook::Example,
    ];

    fn name(self) -> &'static str {
        match self {
            Hook::RamdiskError => "ramdisk_error",
            Hook::RootDiskSelection => "root_disk_selection",
            Hook::Scheduler => "scheduler",
            Hook::ValidateInterfaces => "validate_interfaces",
            Hook::Capabilities => "capabilities",
            Hook::PciDevices => "pci_devices",
            Hook::Accelerators => "accelerators",
            Hook::ExtraHardware => "extra_hardware",
            Hook::LldpBasic => "lldp_basic",
            Hook::LocalLinkConnection => "local_link_connection",
            Hook::PhysnetCidrMap => "physnet_cidr_map",
            Hook::RaidDevice => "raid_device",
            Hook::Example => "example",
        }
    }

    fn from_name(name: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|hook| hook.name() == name)
    }
}

/// The names `[processing] processing_hooks` accepts.
pub fn known_hook_names() -> Vec<&'static str> {
    Hook::ALL.into_iter().map(Hook::name).collect()
}

/// The hooks' view of the configuration, validated once at load.
#[derive(Debug, Clone)]
struct Settings {
    add_ports: AddPorts,
    keep_ports: KeepPorts,
    overwrite_existing: bool,
    update_pxe_enabled: bool,
    disk_partitioning_spacing: bool,
    boot_mode: bool,
    /// `[capabilities]cpu_flags` as the Python dict sees it (last value of a
    /// repeated flag, at its first position).
    cpu_flags: Vec<(String, String)>,
    pci: pci::PciAliases,
    accelerators: Vec<Map<String, Value>>,
    cidr_map: Vec<(ip::Network, String)>,
    extra_hardware_strict: bool,
    /// Whether `validate_interfaces` builds `interfaces` from the very
    /// objects it puts in `all_interfaces`: upstream then shares them, so
    /// what `lldp_basic` adds to one shows in the other.
    interfaces_shared: bool,
}

/// A failure of a `before_processing` callback.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PreError {
    /// An inspector error: `Preprocessing hook <hook>: <text>`.
    Hook(String),
    /// An exception upstream reports as unexpected, with its class name:
    /// `Unexpected exception <class> during preprocessing in hook <hook>: <text>`.
    Unexpected(&'static str, String),
    /// An error whose text shows posted addresses, and the same text
    /// without them for the ramdisk's answer.
    Revealing(Box<PreError>, String),
}

impl PreError {
    fn line(&self, hook: &str) -> String {
        match self {
            PreError::Hook(text) => format!("Preprocessing hook {hook}: {text}"),
            PreError::Unexpected(class, text) => {
                format!("Unexpected exception {class} during preprocessing in hook {hook}: {text}")
            }
            PreError::Revealing(error, _) => error.line(hook),
        }
    }

    fn public_line(&self, hook: &str) -> String {
        match self {
            PreError::Revealing(error, public) => match error.as_ref() {
                PreError::Unexpected(class, _) => PreError::Unexpected(class, public.clone()),
                _ => PreError::Hook(public.clone()),
            }
            .line(hook),
            other => other.line(hook),
        }
    }
}

/// A failed `before_processing`: upstream's line, for the log and the
/// node's error, and the line shown to whoever posted the data, which
/// never repeats the addresses they posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreFailure {
    pub message: String,
    pub public: String,
}

/// The configured processing hooks, ready to run.
#[derive(Debug, Clone)]
pub struct Pipeline {
    hooks: Vec<Hook>,
    settings: Settings,
}

/// The bundled accelerator catalogue (upstream's `known_accelerators.yaml`).
const BUNDLED_ACCELERATORS: &str = include_str!("known_accelerators.yaml");

impl Pipeline {
    /// Validates `[processing] processing_hooks` (names as upstream's entry points: ramdisk_error, root_disk_selection, scheduler, validate_interfaces, capabilities, pci_devices, accelerators, extra_hardware, lldp_basic, local_link_connection, physnet_cidr_map, raid_device, example; duplicates kept, order kept), the hooks' settings from Config (pci aliases JSON, physnet cidr_map, accelerator catalogue, the add_ports/keep_ports conflict) and returns warnings to log. Error texts as upstream (e.g. "The following hook(s) are missing or failed to load: foo, bar").
    /// `accelerators_yaml`: the text of the [accelerators] known_devices file, None = the bundled catalogue (embed upstream's known_accelerators.yaml content as data).
    ///
    /// Upstream logs why a known hook failed to load and reports only its
    /// name; the reasons follow the summary line here, one per line. An
    /// invalid `[port_physnet]cidr_map` fails the load (upstream only fails
    /// each processing that reaches the mapping, with a 500).
    pub fn load(
        config: &Config,
        accelerators_yaml: Option<&str>,
    ) -> Result<(Pipeline, Vec<String>), String> {
        let processing = &config.processing;
        let mut warnings = Vec::new();
        let mut settings = Settings {
            add_ports: processing.add_ports,
            keep_ports: processing.keep_ports,
            overwrite_existing: processing.overwrite_existing,
            update_pxe_enabled: processing.update_pxe_enabled,
            disk_partitioning_spacing: processing.disk_partitioning_spacing,
            boot_mode: config.capabilities.boot_mode,
            cpu_flags: dedup_last_wins(&config.capabilities.cpu_flags),
            pci: pci::PciAliases::default(),
            accelerators: Vec::new(),
            cidr_map: Vec::new(),
            extra_hardware_strict: config.extra_hardware.strict,
            interfaces_shared: false,
        };
        let mut hooks = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        let mut reasons = Vec::new();
        let mut fail = |name: &str, reason: Option<String>| {
            if !failed.iter().any(|f| f == name) {
                failed.push(name.to_string());
                reasons.extend(reason.map(|r| format!("Could not load '{name}': {r}")));
            }
        };
        for name in processing
            .processing_hooks
            .iter()
            .map(|n| n.trim())
            .filter(|n| !n.is_empty())
        {
            let Some(hook) = Hook::from_name(name) else {
                fail(name, None);
                continue;
            };
            let loaded = match hook {
                Hook::ValidateInterfaces => {
                    settings.interfaces_shared = true;
                    standard::check_port_settings(processing.add_ports, processing.keep_ports)
                }
                Hook::PciDevices => {
                    let (aliases, alias_warnings) =
                        pci::PciAliases::parse(&config.pci_devices.alias);
                    settings.pci = aliases;
                    warnings.extend(alias_warnings);
                    Ok(())
                }
                Hook::Accelerators => {
                    pci::load_catalogue(accelerators_yaml.unwrap_or(BUNDLED_ACCELERATORS))
                        .map(|devices| settings.accelerators = devices)
                }
                Hook::PhysnetCidrMap => lldp_hooks::parse_cidr_map(&config.port_physnet.cidr_map)
                    .map(|map| settings.cidr_map = map),
                _ => Ok(()),
            };
            match loaded {
                Ok(()) => hooks.push(hook),
                Err(reason) => fail(name, Some(reason)),
            }
        }
        if !failed.is_empty() {
            let mut message = format!(
                "The following hook(s) are missing or failed to load: {}",
                failed.join(", ")
            );
            for reason in reasons {
                message.push('\n');
                message.push_str(&reason);
            }
            return Err(message);
        }
        Ok((Pipeline { hooks, settings }, warnings))
    }

    /// Number of hooks, duplicates included.
    pub fn len(&self) -> usize {
        self.hooks.len()
    }

    /// Whether no hook is enabled.
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// The entry-point name of the hook at `index` (`""` past the end).
    pub fn name(&self, index: usize) -> &'static str {
        self.hooks.get(index).map_or("", |hook| hook.name())
    }

    /// Every hook's before_processing in order; returns upstream's failure lines, e.g. "Preprocessing hook ramdisk_error: Ramdisk reported error: boom". Never stops early.
    pub fn before_processing(&self, data: &mut Data) -> Vec<PreFailure> {
        let mut failures = Vec::new();
        for hook in &self.hooks {
            let result = match hook {
                Hook::RamdiskError => standard::ramdisk_error(data),
                Hook::ValidateInterfaces => {
                    standard::validate_interfaces_before_processing(data, &self.settings)
                }
                Hook::RaidDevice => {
                    extra::raid_device_before_processing(data);
                    Ok(())
                }
                _ => Ok(()),
            };
            if let Err(error) = result {
                failures.push(PreFailure {
                    message: error.line(hook.name()),
                    public: error.public_line(hook.name()),
                });
            }
        }
        failures
    }

    /// Runs the `before_update` of the hook at `index` against the node as it
    /// is now; the returned operations are to be executed in order.
    pub fn before_update(
        &self,
        index: usize,
        data: &mut Data,
        view: NodeView<'_>,
    ) -> Result<Update, HookError> {
        let hook = self
            .hooks
            .get(index)
            .ok_or_else(|| HookError(format!("There is no processing hook number {index}")))?;
        let s = &self.settings;
        match hook {
            Hook::RamdiskError | Hook::Example => Ok(Update::default()),
            Hook::RootDiskSelection => standard::root_disk_selection(data, view, s),
            Hook::Scheduler => standard::scheduler(data, view, s),
            Hook::ValidateInterfaces => standard::validate_interfaces_before_update(data, view, s),
            Hook::Capabilities => extra::capabilities(data, view, s),
            Hook::PciDevices => pci::pci_devices(data, view, &s.pci),
            Hook::Accelerators => pci::accelerators(data, &s.accelerators),
            Hook::ExtraHardware => extra::extra_hardware(data, s.extra_hardware_strict),
            Hook::LldpBasic => lldp_hooks::lldp_basic(data, s.interfaces_shared),
            Hook::LocalLinkConnection => {
                lldp_hooks::local_link_connection(data, view, s.overwrite_existing)
            }
            Hook::PhysnetCidrMap => lldp_hooks::physnet_cidr_map(data, view, s),
            Hook::RaidDevice => extra::raid_device(data, view),
        }
    }
}

/// A Python dict built from ordered pairs: last value, first position.
fn dedup_last_wins(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in pairs {
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.clone(),
            None => out.push((key.clone(), value.clone())),
        }
    }
    out
}

/// BMC addresses (normalised v4 then v6, "" / "0.0.0.0" / "::/0" meaning none; inventory keys first, legacy top-level ipmi_address/ipmi_v6address next) and valid MACs (from all_interfaces) used for node lookup, after before_processing ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LookupAttributes {
    pub bmc_addresses: Vec<String>,
    pub macs: Vec<String>,
}

/// The lookup attributes of posted data (see [`LookupAttributes`]); values
/// that are not strings cannot match a stored attribute and are left out.
pub fn lookup_attributes(data: &Data) -> LookupAttributes {
    let bmc_addresses = [bmc_address(data), bmc_v6address(data)]
        .into_iter()
        .flatten()
        .collect();
    let macs = match data.get("all_interfaces") {
        Some(Value::Object(interfaces)) => interfaces
            .values()
            .filter_map(|iface| iface.get("mac").and_then(Value::as_str))
            .filter(|mac| !mac.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    LookupAttributes {
        bmc_addresses,
        macs,
    }
}

/// The BMC IPv4 address of the data (`get_ipmi_address_from_data`), if it is
/// a non-empty string.
pub fn bmc_address(data: &Data) -> Option<String> {
    standard::bmc_value(data, "bmc_address", "ipmi_address", "0.0.0.0")
        .as_str()
        .map(str::to_string)
}

/// The BMC IPv6 address of the data (`get_ipmi_v6address_from_data`), if it
/// is a non-empty string.
pub fn bmc_v6address(data: &Data) -> Option<String> {
    standard::bmc_value(data, "bmc_v6address", "ipmi_v6address", "::/0")
        .as_str()
        .map(str::to_string)
}

/// The PXE MAC the ramdisk booted from (`boot_interface`, PXELinux
/// `01-aa-bb-..` form normalised); a non-string value counts as absent.
pub fn pxe_mac(data: &Data) -> Option<String> {
    standard::pxe_mac(data)
}

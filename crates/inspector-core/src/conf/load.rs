//! From file texts to a checked [`Config`].

use std::collections::HashSet;
use std::time::Duration;

use super::registry::{REGISTRY, Registry, Status};
use super::suggest;
use super::{
    AddPorts, ConfError, Config, KeepPorts, Loaded, OptionValue, PxeDriver, Source, StoreData,
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
        defaults: &defaults,
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

    let config = Config::read(&mut reader);
    check(&config, &mut reader);

    // Upstream needs these to run several instances; here the shared
    // database coordinates them, so they are only noted.
    let mut coordination_options = Vec::new();
    if reader.is_set("DEFAULT", "standalone") && !config.default.standalone {
        coordination_options.push("[DEFAULT] standalone = false".to_string());
    }
    for (group, name) in [
        ("DEFAULT", "transport_url"),
        ("coordination", "backend_url"),
    ] {
        if reader.is_set(group, name) {
            coordination_options.push(format!("[{group}] {name}"));
        }
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
        coordination_options,
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
pub(crate) struct Reader<'a> {
    registry: &'a Registry,
    sources: &'a [Source],
    /// By registry index; `None` when the option could not be resolved
    /// (its error is already recorded).
    resolved: Vec<Option<Resolved>>,
    /// The options as if no file were given.
    defaults: &'a Resolver<'a>,
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

    /// The value of an option as a `T`: as the files give it or, when they
    /// give nothing usable (the error is then recorded), as its default.
    pub(crate) fn read<T: FromOpt>(&mut self, group: &str, name: &str) -> T {
        let index = self
            .registry
            .index_of(group, name)
            .unwrap_or_else(|| panic!("[{group}] {name} is not registered"));
        if let Some(resolved) = &self.resolved[index]
            && let Some(value) = T::from_value(self, index, resolved.value.clone())
        {
            return value;
        }
        // Defaults always fit their type (every test loads them); whatever a
        // default would say about itself is not the user's problem.
        let recorded = self.errors.len();
        let default = self
            .defaults
            .resolve(index)
            .ok()
            .and_then(|d| T::from_value(self, index, d.value));
        self.errors.truncate(recorded);
        default.unwrap_or_else(|| panic!("the default of [{group}] {name} does not fit its type"))
    }

    /// Unset and empty both mean "not configured", as upstream's
    /// truthiness tests treat them; so does an option that failed.
    fn opt_string(&self, group: &str, name: &str) -> Option<String> {
        match self.get(group, name) {
            Some((_, Value::Str(s))) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// A string option whose values inspector maps to an enum (some of
    /// them are plugin names upstream, validated only when loaded).
    pub(crate) fn choice<T: Copy>(
        &mut self,
        index: usize,
        value: Value,
        choices: &[(&str, T)],
    ) -> Option<T> {
        let Value::Str(s) = value else {
            return None;
        };
        if let Some((_, v)) = choices.iter().find(|(c, _)| *c == s) {
            return Some(*v);
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
        None
    }
}

/// How a resolved value becomes the type of a field.
pub(crate) trait FromOpt: Sized {
    /// `None` when the value does not fit, after recording why when the
    /// user should know.
    fn from_value(r: &mut Reader<'_>, index: usize, value: Value) -> Option<Self>;
}

impl FromOpt for bool {
    fn from_value(_: &mut Reader<'_>, _: usize, value: Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl FromOpt for String {
    fn from_value(_: &mut Reader<'_>, _: usize, value: Value) -> Option<Self> {
        match value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Unset and empty both mean "not configured", as upstream's truthiness
/// tests treat them.
impl FromOpt for Option<String> {
    fn from_value(_: &mut Reader<'_>, _: usize, value: Value) -> Option<Self> {
        match value {
            Value::Str(s) if !s.is_empty() => Some(Some(s)),
            _ => Some(None),
        }
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl FromOpt for $t {
            fn from_value(r: &mut Reader<'_>, index: usize, value: Value) -> Option<Self> {
                match value {
                    Value::Int(v) => <$t>::try_from(v)
                        .map_err(|_| r.fail(index, out_of_range(v)))
                        .ok(),
                    Value::None => {
                        r.fail(index, "Value must not be empty");
                        None
                    }
                    _ => None,
                }
            }
        }
    )*};
}

integers!(u16, u32, u64, i32, i64);

/// Unset means "not configured".
impl FromOpt for Option<u32> {
    fn from_value(r: &mut Reader<'_>, index: usize, value: Value) -> Option<Self> {
        match value {
            Value::Int(v) => u32::try_from(v)
                .map(Some)
                .map_err(|_| r.fail(index, out_of_range(v)))
                .ok(),
            _ => Some(None),
        }
    }
}

/// Seconds, whole or not; unset means "no limit".
impl FromOpt for Option<Duration> {
    fn from_value(r: &mut Reader<'_>, index: usize, value: Value) -> Option<Self> {
        let secs = match value {
            Value::Int(v) => v as f64,
            Value::Float(f) => f,
            _ => return Some(None),
        };
        Duration::try_from_secs_f64(secs)
            .map(Some)
            .map_err(|_| {
                let message = if secs < 0.0 {
                    "Should be greater than or equal to 0".to_string()
                } else {
                    format!(
                        "Value {} is not a valid number of seconds",
                        py::float_repr(secs)
                    )
                };
                r.fail(index, message)
            })
            .ok()
    }
}

impl FromOpt for Vec<String> {
    fn from_value(_: &mut Reader<'_>, _: usize, value: Value) -> Option<Self> {
        match value {
            Value::List(items) => Some(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::Str(s) => s,
                        other => other.interpolated(),
                    })
                    .collect(),
            ),
            Value::None => Some(Vec::new()),
            _ => None,
        }
    }
}

/// A dict, in file order.
impl FromOpt for Vec<(String, String)> {
    fn from_value(_: &mut Reader<'_>, _: usize, value: Value) -> Option<Self> {
        match value {
            Value::Dict(pairs) => Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, v.interpolated()))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// A comma-separated list of hooks; blanks are dropped.
pub(super) fn read_hook_list(r: &mut Reader<'_>, group: &str, name: &str) -> Vec<String> {
    r.read::<String>(group, name)
        .split(',')
        .map(py::text::strip)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// The value only when a file sets it: the model leaves the default
/// implicit (upstream's database default is a SQLite file in the working
/// directory).
pub(super) fn read_if_set(r: &mut Reader<'_>, group: &str, name: &str) -> Option<String> {
    if r.is_set(group, name) {
        r.read(group, name)
    } else {
        None
    }
}

/// keystoneauth's `valid_interfaces`: the deprecated single `interface`
/// only counts when valid_interfaces is explicitly emptied; otherwise
/// keystoneauth refuses the pair (checked in `check_keystone_client`).
pub(super) fn read_valid_interfaces(r: &mut Reader<'_>, group: &str, name: &str) -> Vec<String> {
    let valid_interfaces: Vec<String> = r.read(group, name);
    if valid_interfaces.is_empty()
        && let Some(interface) = r.opt_string(group, "interface")
    {
        return vec![interface];
    }
    valid_interfaces
}

fn out_of_range(v: i64) -> String {
    if v < 0 {
        "Should be greater than or equal to 0".into()
    } else {
        format!("Value {v} is too large")
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
    let valid_interfaces = match r.get(g, "valid_interfaces") {
        Some((_, Value::List(items))) => items.iter().map(Value::interpolated).collect(),
        _ => Vec::new(),
    };
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
    fn defaults_load_without_warnings() {
        let loaded = load(&[]).unwrap();
        assert!(loaded.warnings.is_empty());
        assert_eq!(loaded.values.len(), REGISTRY.entries.len());
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

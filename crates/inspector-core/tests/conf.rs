//! inspector.conf loading, checked against what the real oslo.config does
//! (tests/oracle/conf.json, written by tests/oracle/gen_conf.py) and against
//! inspector's own rules.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use inspector_core::conf::{
    AddPorts, AuthStrategy, ConfError, Config, IpVersion, KeepPorts, Loaded, PxeDriver, Source,
    StoreData, load, sample,
};
use inspector_core::oslo::types::Value;
use proptest::prelude::*;
use serde_json::Value as Json;

const ORACLE: &str = include_str!("oracle/conf.json");

fn oracle() -> Json {
    serde_json::from_str(ORACLE).expect("oracle fixture is JSON")
}

fn src(path: &str, text: &str) -> Source {
    Source {
        path: path.into(),
        text: text.into(),
    }
}

fn load_one(text: &str) -> Result<Loaded, Vec<ConfError>> {
    load(&[src("inspector.conf", text)])
}

fn ok(text: &str) -> Loaded {
    match load_one(text) {
        Ok(loaded) => loaded,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

fn errors(text: &str) -> Vec<ConfError> {
    match load_one(text) {
        Ok(loaded) => panic!("expected errors, got {:?}", loaded.config),
        Err(errors) => errors,
    }
}

fn group_key(section: &str) -> String {
    if section == "DEFAULT" {
        section.into()
    } else {
        section.to_lowercase()
    }
}

/// Whether a typed value is what oslo.config gave (as JSON).
fn same(value: &Value, json: &Json) -> bool {
    match (value, json) {
        (Value::None, Json::Null) => true,
        (Value::Str(s), Json::String(j)) => s == j,
        (Value::Bool(b), Json::Bool(j)) => b == j,
        (Value::Int(i), Json::Number(n)) => n.is_i64() && n.as_i64() == Some(*i),
        (Value::Float(f), Json::Number(n)) => n.is_f64() && n.as_f64() == Some(*f),
        (Value::List(items), Json::Array(js)) => {
            items.len() == js.len() && items.iter().zip(js).all(|(v, j)| same(v, j))
        }
        (Value::Dict(pairs), Json::Object(o)) => match o.get("dict") {
            Some(Json::Array(js)) => {
                pairs.len() == js.len()
                    && pairs
                        .iter()
                        .zip(js)
                        .all(|((k, v), j)| j[0].as_str() == Some(k.as_str()) && same(v, &j[1]))
            }
            _ => false,
        },
        _ => false,
    }
}

/// The oracle's registry: (group, name) -> option facts.
fn oracle_registry(o: &Json) -> HashMap<(String, String), Json> {
    o["registry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|opt| {
            (
                (
                    opt["group"].as_str().unwrap().to_string(),
                    opt["name"].as_str().unwrap().to_string(),
                ),
                opt.clone(),
            )
        })
        .collect()
}

/// Options that exist in both registries, by (group, name), with our value.
fn ours(loaded: &Loaded) -> HashMap<(String, String), Value> {
    loaded
        .values
        .iter()
        .map(|v| ((v.group.to_string(), v.name.to_string()), v.value.clone()))
        .collect()
}

/// The upstream default of `host` is the machine's FQDN; ours is empty
/// and the service fills it in.
fn machine_dependent(key: &(String, String)) -> bool {
    key.0 == "DEFAULT" && key.1 == "host"
}

#[test]
fn defaults_are_upstream_defaults() {
    let o = oracle();
    let reg = oracle_registry(&o);
    let loaded = load(&[]).unwrap();
    let ours = ours(&loaded);
    let mut compared = 0;
    for (key, facts) in &reg {
        let Some(value) = ours.get(key) else { continue };
        if machine_dependent(key) {
            continue;
        }
        compared += 1;
        assert!(
            same(value, &facts["resolved"]["value"]),
            "{key:?}: ours {value:?}, upstream {}",
            facts["resolved"]
        );
    }
    // Everything upstream registers is known, except oslo.config's v2
    // leftovers that are also deprecated names of project_id/project_name.
    let missing: Vec<_> = reg
        .keys()
        .filter(|k| !ours.contains_key(*k) && !matches!(k.1.as_str(), "tenant_id" | "tenant_name"))
        .collect();
    assert!(
        missing.is_empty(),
        "options upstream registers that we do not: {missing:?}"
    );
    assert!(compared > 300, "{compared}");
}

/// A value every option of that type accepts, different from its default.
fn valid_text(facts: &Json) -> Option<String> {
    let t = &facts["type"];
    Some(match t["kind"].as_str()? {
        "bool" => (!facts["resolved"]["value"].as_bool().unwrap_or(false)).to_string(),
        "int" | "port" => (t["min"].as_i64().unwrap_or(0).max(0) + 3).to_string(),
        "float" => "2.5".into(),
        "octal" => "640".into(),
        "str" if !t["choices"].is_null() => {
            let default = &facts["resolved"]["value"];
            t["choices"]
                .as_array()?
                .iter()
                .find(|c| c.is_string() && *c != default)?
                .as_str()?
                .to_string()
        }
        "str" => "aliased".into(),
        "list" if t["item"]["kind"] == "int" => "500".into(),
        "list" => "public".into(),
        "dict" => "a:b".into(),
        "multi" => "m".into(),
        _ => return None,
    })
}

/// What oslo.config says about a value that does not fit the type.
fn invalid_text(facts: &Json) -> Option<(String, String)> {
    let t = &facts["type"];
    let bad = "zz9";
    Some(match t["kind"].as_str()? {
        "bool" => (bad.into(), format!("Unexpected boolean value '{bad}'")),
        "int" | "port" if !t["max"].is_null() => {
            let max = t["max"].as_i64()?;
            (
                (max + 1).to_string(),
                format!("Should be less than or equal to {max}"),
            )
        }
        "int" | "port" if !t["min"].is_null() => {
            let min = t["min"].as_i64()?;
            (
                (min - 1).to_string(),
                format!("Should be greater than or equal to {min}"),
            )
        }
        "int" | "port" => (
            bad.into(),
            format!("invalid literal for int() with base 10: '{bad}'"),
        ),
        "float" => (
            bad.into(),
            format!("could not convert string to float: '{bad}'"),
        ),
        "octal" => (
            "9".into(),
            "invalid literal for int() with base 8: '9'".into(),
        ),
        "str" if !t["choices"].is_null() => {
            let names: Vec<String> = t["choices"]
                .as_array()?
                .iter()
                .map(|c| c.as_str().unwrap_or("None").to_string())
                .collect();
            (
                bad.into(),
                format!("Valid values are [{}], but found '{bad}'", names.join(", ")),
            )
        }
        "list" if t["item"]["kind"] == "int" => (
            bad.into(),
            format!("invalid literal for int() with base 10: '{bad}'"),
        ),
        "dict" => (
            bad.into(),
            "Value should be NAME:VALUE pairs separated by \",\"".into(),
        ),
        _ => return None,
    })
}

#[test]
fn every_option_has_upstream_type_and_bounds() {
    let o = oracle();
    let defaults = ours(&load(&[]).unwrap());
    let mut checked = 0;
    for ((group, name), facts) in oracle_registry(&o) {
        if !defaults.contains_key(&(group.clone(), name.clone())) {
            continue;
        }
        let Some((text, message)) = invalid_text(&facts) else {
            continue;
        };
        let errs = errors(&format!("[{group}]\n{name} = {text}\n"));
        let mine: Vec<_> = errs.iter().filter(|e| e.option == name).collect();
        assert_eq!(mine.len(), 1, "[{group}] {name} = {text}: {errs:?}");
        // Bounds are printed with Python's %g, which only differs for
        // large numbers (checked in the cases).
        let printed = mine[0].message.replace("3.15576e+08", "315576000");
        assert_eq!(printed, message, "[{group}] {name} = {text}");
        checked += 1;
    }
    assert!(checked > 120, "{checked}");
}

#[test]
fn every_deprecated_alias_works() {
    let o = oracle();
    let defaults = ours(&load(&[]).unwrap());
    let mut checked = 0;
    for ((group, name), facts) in oracle_registry(&o) {
        if !defaults.contains_key(&(group.clone(), name.clone())) {
            continue;
        }
        for alias in facts["aliases"].as_array().unwrap() {
            let alias_group = alias[0].as_str().unwrap_or(&group);
            let alias_name = alias[1].as_str().unwrap_or(&name);
            let text = valid_text(&facts).unwrap();
            let by_alias = ok(&format!("[{alias_group}]\n{alias_name} = {text}\n"));
            let direct = ok(&format!("[{group}]\n{name} = {text}\n"));
            let key = (group.clone(), name.clone());
            assert_eq!(
                ours(&by_alias)[&key],
                ours(&direct)[&key],
                "[{alias_group}] {alias_name}"
            );
            assert_ne!(
                ours(&by_alias)[&key],
                defaults[&key],
                "[{alias_group}] {alias_name} had no effect"
            );
            assert!(
                by_alias.warnings.iter().any(|w| w.contains(&format!("{alias_name}: deprecated, use [{group}] {name}"))),
                "{:?}",
                by_alias.warnings
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// The expected error, from the oracle's point of view: its kind and text.
fn error_matches(ours: &ConfError, oracle: &Json) -> bool {
    let reason = oracle["reason"].as_str().unwrap();
    match oracle["error"].as_str().unwrap() {
        "ValueError" => ours.message.ends_with(reason),
        _ => ours.message.contains(reason),
    }
}

#[test]
fn oracle_cases() {
    let o = oracle();
    let reg = oracle_registry(&o);
    let defaults = ours(&load(&[]).unwrap());
    let cases = o["cases"].as_array().unwrap();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let sources: Vec<Source> = case["files"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, t)| src(&format!("/etc/inspector/{i}.conf"), t.as_str().unwrap()))
            .collect();
        let result = load(&sources);

        if let Some(parse) = case.get("parse_error") {
            let errs = result.expect_err(name);
            let file = format!("/etc/inspector/{}.conf", parse["file"]);
            let line = case
                .get("rust_parse_line")
                .unwrap_or(&parse["line"])
                .as_u64()
                .unwrap() as usize;
            let message = parse["message"].as_str().unwrap();
            assert!(
                errs.iter().any(|e| e.file == file
                    && e.line == Some(line)
                    && e.message.starts_with(message)),
                "{name}: {errs:#?}"
            );
            assert!(
                errs.iter().all(|e| e.section.is_empty()),
                "{name}: only syntax errors expected"
            );
            continue;
        }
        if let Some(cli) = case.get("cli_error") {
            let errs = result.expect_err(name);
            let option = cli["option"].as_str().unwrap();
            assert!(
                errs.iter()
                    .any(|e| e.section == "DEFAULT" && e.option == option),
                "{name}: {errs:#?}"
            );
            continue;
        }

        let mut expected: HashMap<(String, String), Json> = HashMap::new();
        for (group, opts) in case["changed"].as_object().unwrap() {
            for (opt, outcome) in opts.as_object().unwrap() {
                expected.insert((group.clone(), opt.clone()), outcome.clone());
            }
        }
        if let Some(overrides) = case.get("rust_override") {
            for (group, opts) in overrides.as_object().unwrap() {
                for (opt, outcome) in opts.as_object().unwrap() {
                    expected.insert((group.clone(), opt.clone()), outcome.clone());
                }
            }
        }
        let mut expected_errors: BTreeSet<(String, String)> = expected
            .iter()
            .filter(|(k, v)| v.get("error").is_some() && defaults.contains_key(*k))
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(extra) = case.get("rust_extra_errors") {
            for e in extra.as_array().unwrap() {
                expected_errors
                    .insert((e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()));
            }
        }

        match result {
            Err(errs) => {
                let got: BTreeSet<(String, String)> = errs
                    .iter()
                    .map(|e| (group_key(&e.section), e.option.clone()))
                    .collect();
                assert_eq!(got, expected_errors, "{name}: {errs:#?}");
                for e in &errs {
                    if let Some(outcome) = expected.get(&(group_key(&e.section), e.option.clone()))
                        && outcome.get("error").is_some()
                    {
                        assert!(error_matches(e, outcome), "{name}: {e} vs {outcome}");
                    }
                }
            }
            Ok(loaded) => {
                assert!(
                    expected_errors.is_empty(),
                    "{name}: expected errors {expected_errors:?}"
                );
                for (key, value) in ours(&loaded) {
                    let Some(facts) = reg.get(&key) else { continue };
                    let want = match expected.get(&key) {
                        Some(outcome) => &outcome["value"],
                        None if machine_dependent(&key) => continue,
                        None => &facts["resolved"]["value"],
                    };
                    assert!(
                        same(&value, want),
                        "{name}: {key:?} = {value:?}, upstream {want}"
                    );
                }
            }
        }
    }
    assert!(cases.len() >= 100);
}

fn reference_text() -> String {
    oracle()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "reference start-inspector.sh configuration")
        .unwrap()["files"][0]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn reference_configuration_loads_cleanly() {
    let loaded = ok(&reference_text());
    assert_eq!(loaded.warnings, Vec::<String>::new());
    let c = &loaded.config;
    assert_eq!(c.default.auth_strategy, AuthStrategy::Noauth);
    assert_eq!(c.default.host, "harness-inspector");
    assert_eq!(c.default.listen_address, "127.0.0.1");
    assert_eq!(c.default.listen_port, 5050);
    assert!(c.default.debug);
    assert_eq!(
        c.default.log_file.as_deref(),
        Some("/tmp/harness-state/inspector/inspector.log")
    );
    assert_eq!(
        (
            c.default.timeout,
            c.default.clean_up_period,
            c.default.introspection_delay
        ),
        (600, 5, 0)
    );
    assert_eq!(c.default.rootwrap_config, "/dev/null");
    assert_eq!(
        c.database.connection.as_deref(),
        Some("sqlite:////tmp/harness-state/inspector/inspector.sqlite")
    );
    assert_eq!(c.ironic.client.auth_type, "none");
    assert_eq!(
        c.ironic.client.endpoint_override.as_deref(),
        Some("http://127.0.0.1:6385")
    );
    assert_eq!((c.ironic.max_retries, c.ironic.retry_interval), (5, 1));
    assert_eq!(c.pxe_filter.driver, PxeDriver::Noop);
    assert_eq!(c.pxe_filter.sync_period, 0);
    assert_eq!(c.processing.store_data, StoreData::Database);
    assert_eq!(
        (c.processing.add_ports, c.processing.keep_ports),
        (AddPorts::All, KeepPorts::All)
    );
    assert_eq!(
        c.processing.ramdisk_logs_dir.as_deref(),
        Some("/tmp/harness-state/inspector/ramdisk-logs")
    );
    assert!(c.processing.always_store_ramdisk_logs && c.processing.power_off);
    assert_eq!(
        c.processing.processing_hooks,
        [
            "ramdisk_error",
            "root_disk_selection",
            "scheduler",
            "validate_interfaces",
            "capabilities",
            "pci_devices",
            "extra_hardware",
            "lldp_basic",
            "local_link_connection"
        ]
    );
    assert_eq!(c.discovery.enroll_node_driver, "fake-hardware");
}

#[test]
fn keystone_deployment_maps_to_the_model() {
    let text = oracle()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "realistic keystone deployment")
        .unwrap()["files"][0]
        .as_str()
        .unwrap()
        .to_string();
    let loaded = ok(&text);
    let c = &loaded.config;
    assert_eq!(c.default.auth_strategy, AuthStrategy::Keystone);
    assert_eq!(
        c.default.log_dir.as_deref(),
        Some("/var/log/ironic-inspector")
    );
    assert_eq!(c.database.max_retries, -1);
    assert_eq!(c.database.max_pool_size, 20);
    let ka = &c.keystone_authtoken;
    assert_eq!(
        ka.www_authenticate_uri.as_deref(),
        Some("http://keystone:5000")
    );
    assert_eq!(ka.auth_type.as_deref(), Some("password"));
    assert_eq!(ka.auth.username.as_deref(), Some("ironic-inspector"));
    assert_eq!(ka.auth.user_domain_name.as_deref(), Some("Default"));
    assert_eq!(ka.token_cache_time, 600);
    assert_eq!(ka.http_connect_timeout, Some(Duration::from_secs(10)));
    assert_eq!(ka.cafile.as_deref(), Some("/etc/ssl/ca.pem"));
    assert_eq!(ka.interface.as_deref(), Some("internal"));
    let ir = &c.ironic.client;
    assert_eq!(ir.valid_interfaces, ["internal"]);
    assert_eq!(ir.timeout, Some(Duration::from_secs(30)));
    assert_eq!(
        (ir.connect_retries, ir.status_code_retries),
        (Some(5), Some(3))
    );
    assert_eq!(ir.max_version.as_deref(), Some("1.89"));
    assert_eq!(ir.region_name.as_deref(), Some("RegionOne"));
    assert_eq!(ir.service_type, "baremetal");
    assert_eq!(c.swift.container, "inspection");
    assert_eq!(c.swift.delete_after, 86400);
    assert_eq!(c.swift.client.auth.password.as_deref(), Some("s3cr3t"));
    assert_eq!(c.swift.client.service_type, "object-store");
    assert_eq!(c.processing.store_data, StoreData::Swift);
    assert_eq!(c.processing.node_not_found_hook.as_deref(), Some("enroll"));
    assert_eq!(
        c.discovery.enroll_node_fields,
        [
            ("management_interface".to_string(), "noop".to_string()),
            ("resource_class".into(), "baremetal".into())
        ]
    );
    assert_eq!(c.pxe_filter.driver, PxeDriver::Dnsmasq);
    assert_eq!(
        c.dnsmasq_pxe_filter.dnsmasq_start_command,
        "systemctl start dnsmasq-inspector"
    );
    assert!(!c.oslo_policy.enforce_new_defaults);
    assert!(c.healthcheck.enabled);
    assert_eq!(c.ssl.key_file.as_deref(), Some("/etc/ssl/inspector.key"));
    // CORS is not supported; transport_url, memcached and RabbitMQ are
    // meaningless here and accepted silently.
    assert_eq!(
        loaded.warnings,
        [
            "inspector.conf: [cors] allowed_origin: this option is not supported by inspector and is ignored",
        ]
    );
    let transport = loaded
        .values
        .iter()
        .find(|v| v.name == "transport_url")
        .unwrap();
    assert_eq!(transport.display_value(), "****");
    let debug = loaded.values.iter().find(|v| v.name == "debug").unwrap();
    assert_eq!(debug.display_value(), "False");
}

#[test]
fn warnings_name_file_section_and_option() {
    let loaded = load(&[
        src("a.conf", "[DEFAULT]\nno_such = 1\nno_such = 2\nuse_syslog = true\nlogfile = x\n[nowhere]\nx = 1\n[nowhere]\n"),
        src("b.conf", "[PROCESSING]\nbogus = 1\n[oslo_messaging_rabbit]\nanything = goes\n[default]\ndebug = true\n"),
    ])
    .unwrap();
    assert_eq!(
        loaded.warnings,
        [
            "a.conf: [DEFAULT] no_such: unknown option, ignored",
            "a.conf: [nowhere]: unknown section, ignored",
            "b.conf: [PROCESSING] bogus: unknown option, ignored",
            "b.conf: [default]: unknown section; did you mean [DEFAULT]?",
            "a.conf: [DEFAULT] logfile: deprecated, use [DEFAULT] log_file instead",
            "a.conf: [DEFAULT] use_syslog: this option is not supported by inspector and is ignored",
        ]
    );
    // What `config check --strict` refuses: the unknown names only.
    assert_eq!(loaded.unknown_names, loaded.warnings[..4]);
    assert_eq!(loaded.config.default.log_file.as_deref(), Some("x"));
    assert!(!loaded.config.default.debug, "[default] is not [DEFAULT]");
}

#[test]
fn unknown_names_suggest_the_closest_known_name() {
    let loaded = ok(
        "[DEFAULT]\nlisten_prot = 5050\n[ironic]\nendpont_override = http://i\n[Ironc]\nx = 1\n[pxe_filter]\ndrvier = noop\n",
    );
    assert_eq!(
        loaded.warnings,
        [
            "inspector.conf: [DEFAULT] listen_prot: unknown option; did you mean listen_port?",
            "inspector.conf: [ironic] endpont_override: unknown option; did you mean endpoint_override?",
            "inspector.conf: [Ironc]: unknown section; did you mean [ironic]?",
            "inspector.conf: [pxe_filter] drvier: unknown option; did you mean driver?",
        ]
    );
}

#[test]
fn unsupported_options_at_their_default_are_silent() {
    let loaded = ok("[DEFAULT]\nuse_syslog = false\nuse_stderr = false\n[cors]\nmax_age = 3600\n");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn every_error_is_reported_in_file_order() {
    let errs = load(&[
        src(
            "a.conf",
            "[DEFAULT]\ntimeout = x\n[processing]\nadd_ports = some\n",
        ),
        src(
            "b.conf",
            "[DEFAULT]\ndebug = maybe\nlisten_port = 70000\nhost = $nope\n",
        ),
    ])
    .unwrap_err();
    let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "a.conf: [DEFAULT] timeout: invalid literal for int() with base 10: 'x'",
            "a.conf: [processing] add_ports: Valid values are [all, active, pxe, disabled], but found 'some'",
            "b.conf: [DEFAULT] debug: Unexpected boolean value 'maybe'",
            "b.conf: [DEFAULT] listen_port: Should be less than or equal to 65535",
            "b.conf: [DEFAULT] host: cannot substitute $nope: no such option nope in group [DEFAULT]",
        ]
    );
    assert_eq!(errs[1].line, Some(4));
}

#[test]
fn syntax_errors_of_every_file_are_reported() {
    let errs = load(&[
        src("a.conf", "oops = 1\n[DEFAULT]\nbad line\n"),
        src("b.conf", "[DEFAULT\n"),
    ])
    .unwrap_err();
    let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "a.conf: line 1: Section must be started before assignment: 'oops = 1'",
            "a.conf: line 3: No ':' or '=' found in assignment: 'bad line'",
            "b.conf: line 1: Invalid section (must end with ]): '[DEFAULT'",
        ]
    );
}

#[test]
fn values_only_inspector_validates() {
    let errs = errors(
        "[processing]\nstore_data = s3\n[pxe_filter]\ndriver = nftables\n[DEFAULT]\nintrospection_delay = -1\n",
    );
    let shown: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "inspector.conf: [processing] store_data: Valid values are [none, database, swift], but found 's3'",
            "inspector.conf: [pxe_filter] driver: Valid values are [iptables, dnsmasq, noop], but found 'nftables'",
            "inspector.conf: [DEFAULT] introspection_delay: Should be greater than or equal to 0",
        ]
    );
    let errs = errors("[DEFAULT]\napi_max_limit =\n[ironic]\ntimeout = -1\nconnect_retries = -2\n");
    let shown: Vec<String> = errs
        .iter()
        .map(|e| format!("{} {}", e.option, e.message))
        .collect();
    assert_eq!(
        shown,
        [
            "api_max_limit Value must not be empty",
            "timeout Should be greater than or equal to 0",
            "connect_retries Should be greater than or equal to 0",
        ]
    );
}

#[test]
fn inconsistent_options_are_errors() {
    let errs = errors("[processing]\nadd_ports = disabled\nkeep_ports = added\n");
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (
            errs[0].section.as_str(),
            errs[0].option.as_str(),
            errs[0].line
        ),
        ("processing", "keep_ports", Some(3))
    );
    assert_eq!(
        errs[0].message,
        "Configuration error: add_ports set to disabled and keep_ports set to added. Please change keep_ports to all."
    );

    let errs = errors(
        "[pxe_filter]\ndeny_unknown_macs = true\n[processing]\nnode_not_found_hook = enroll\n",
    );
    assert_eq!(
        (errs[0].section.as_str(), errs[0].option.as_str()),
        ("pxe_filter", "deny_unknown_macs")
    );
    assert!(
        errs[0].message.contains("cannot both be enabled"),
        "{}",
        errs[0].message
    );
    // An empty hook is no hook.
    ok("[pxe_filter]\ndeny_unknown_macs = true\n[processing]\nnode_not_found_hook =\n");

    let errs = errors("[DEFAULT]\nuse_ssl = true\n[ssl]\ncert_file = /c.pem\n");
    assert_eq!(
        (errs[0].section.as_str(), errs[0].option.as_str()),
        ("DEFAULT", "use_ssl")
    );
    ok("[DEFAULT]\nuse_ssl = true\n[ssl]\ncert_file = /c.pem\nkey_file = /k.pem\n");

    let errs = errors("[ironic]\nvalid_interfaces = internal, private\n");
    assert_eq!(
        errs[0].message,
        "'private' is not a valid value for valid_interfaces. Valid values are public, internal or admin"
    );
    let errs = errors("[ironic]\ninterface = admin\n");
    assert_eq!(errs[0].option, "interface");
    let c = ok("[ironic]\ninterface = admin\nvalid_interfaces =\n").config;
    assert_eq!(c.ironic.client.valid_interfaces, ["admin"]);
    // Swift's client is only checked when Swift is used.
    ok("[swift]\nvalid_interfaces = bogus\n");
    errors("[swift]\nvalid_interfaces = bogus\n[processing]\nstore_data = swift\n");
}

#[test]
fn files_override_and_accumulate() {
    let loaded = load(&[
        src("1.conf", "[DEFAULT]\ntimeout = 10\n[pci_devices]\nalias = a\n"),
        src("2.conf", "[DEFAULT]\ntimeout = 20\n[pci_devices]\nalias = b\nalias = c\n"),
        src("3.conf", "[processing]\nprocessing_hooks = $default_processing_hooks,lldp_basic\ndefault_processing_hooks = scheduler\n"),
    ])
    .unwrap();
    let c = &loaded.config;
    assert_eq!(c.default.timeout, 20);
    assert_eq!(c.pci_devices.alias, ["a", "b", "c"]);
    assert_eq!(c.processing.processing_hooks, ["scheduler", "lldp_basic"]);
    assert_eq!(c.processing.default_processing_hooks, ["scheduler"]);
}

#[test]
fn model_conversions() {
    let c = ok(
        "[DEFAULT]\nlisten_unix_socket = /run/i.sock\nlisten_unix_socket_mode = 0660\nhost =\n\
                [processing]\nprocessing_hooks = , a ,,b,\nramdisk_logs_dir =\n\
                [iptables]\nip_version = 6\n[ironic]\ntimeout = 0.25\nendpoint = http://ironic\n\
                [database]\nconnection =\n",
    )
    .config;
    assert_eq!(c.default.listen_unix_socket_mode, Some(0o660));
    assert_eq!(c.default.host, "");
    assert_eq!(c.processing.processing_hooks, ["a", "b"]);
    assert_eq!(c.processing.ramdisk_logs_dir, None);
    assert_eq!(c.iptables.ip_version, IpVersion::V6);
    assert_eq!(c.ironic.client.timeout, Some(Duration::from_millis(250)));
    assert_eq!(c.ironic.client.endpoint.as_deref(), Some("http://ironic"));
    assert_eq!(c.database.connection, None);
    let errs = errors("[DEFAULT]\nlisten_unix_socket_mode = -1\n");
    assert_eq!(errs[0].message, "Should be greater than or equal to 0");
}

#[test]
fn default_config_is_the_model_default() {
    assert_eq!(load(&[]).unwrap().config, Config::default());
    assert_eq!(ok("").config, Config::default());
}

#[test]
fn sample_is_complete_and_commented_out() {
    let text = sample();
    assert!(text.contains("\n[DEFAULT]\n"));
    assert!(text.contains("\n#processing_hooks = $default_processing_hooks\n"));
    assert!(text.contains("\n#timeout = 3600\n"));
    assert!(text.contains("# Maximum value: 315576000\n"));
    assert!(text.contains("# Deprecated group/name - [DEFAULT]/logfile\n"));
    assert!(text.contains("# noauth - no authentication\n"));
    assert!(text.contains("Inspector extension"));
    assert!(text.contains("\n#max_json_depth = 25\n"));
    assert!(text.contains("\n[oslo_messaging_rabbit]\n"));
    let loaded = ok(&text);
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn long_reference_chains_resolve() {
    // Every plain string option refers to the next one: one deep chain.
    let o = oracle();
    let known = ours(&load(&[]).unwrap());
    let strings: Vec<(String, String)> = o["registry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["type"]["kind"] == "str" && f["type"]["choices"].is_null())
        .map(|f| {
            (
                f["group"].as_str().unwrap().to_string(),
                f["name"].as_str().unwrap().to_string(),
            )
        })
        .filter(|k| {
            known.contains_key(k) && !matches!(k.1.as_str(), "store_data" | "driver" | "interface")
        })
        .collect();
    assert!(strings.len() > 150, "{}", strings.len());
    let mut text = String::new();
    for (i, (group, name)) in strings.iter().enumerate() {
        let value = match strings.get(i + 1) {
            Some((g, n)) if g != "DEFAULT" => format!("${{{g}.{n}}}"),
            Some((_, n)) => format!("${n}"),
            None => "end".to_string(),
        };
        text.push_str(&format!("[{group}]\n{name} = {value}\n"));
    }
    let loaded = ok(&text);
    for (group, name) in &strings {
        let value = loaded
            .values
            .iter()
            .find(|v| v.group == group && v.name == name)
            .unwrap();
        assert_eq!(value.value, Value::Str("end".into()), "[{group}] {name}");
    }
    // Closing the chain into a loop makes every link an error.
    let (first_group, first_name) = &strings[0];
    let looped = text.replace(
        "= end",
        &format!("= ${{{first_group}.{first_name}}}").replace("${DEFAULT.", "${"),
    );
    let errs = errors(&looped);
    assert_eq!(errs.len(), strings.len());
    assert!(
        errs.iter()
            .all(|e| e.message.contains("recursive reference")),
        "{errs:#?}"
    );
}

fn ini_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[DEFAULT]".to_string()),
        Just("[processing]".to_string()),
        Just("[ironic]".to_string()),
        "[a-z_]{1,20}".prop_map(|s| format!("[{s}]")),
        (
            "(debug|timeout|host|processing_hooks|add_ports|alias|valid_interfaces|cpu_flags|x)",
            "[ -~]{0,30}"
        )
            .prop_map(|(k, v)| format!("{k} = {v}")),
        "[ \t][ -~]{0,20}",
        "[#;][ -~]{0,20}",
        Just(String::new()),
        "\\PC{0,30}",
    ]
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = load_one(&text);
    }

    #[test]
    fn never_panics_on_ini_like_text(lines in proptest::collection::vec(ini_line(), 0..20)) {
        let text = lines.join("\n");
        if let Err(errs) = load(&[src("a", &text), src("b", &text)]) {
            prop_assert!(!errs.is_empty());
            for e in errs {
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}

/// Upstream's options for running several instances load without a
/// warning and are listed, so that the service can say once that they are
/// not needed; their defaults, or `standalone = true`, are not listed.
#[test]
fn upstream_ha_options_are_noted_not_warned_about() {
    let loaded = ok(
        "[DEFAULT]\nstandalone = false\ntransport_url = rabbit://u:p@mq//\n\
         [coordination]\nbackend_url = redis://127.0.0.1:6379\n",
    );
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(
        loaded.coordination_options,
        [
            "[DEFAULT] standalone = false",
            "[DEFAULT] transport_url",
            "[coordination] backend_url"
        ]
    );
    assert!(!loaded.config.default.standalone);
    let standalone = ok("[DEFAULT]\nstandalone = true\n");
    assert!(standalone.coordination_options.is_empty());
    assert!(ok("").coordination_options.is_empty());
}

/// The lease of node locks and of the leadership: 30 s unless set, at
/// least 1 s.
#[test]
fn lock_lease_time_defaults_to_thirty_seconds() {
    assert_eq!(ok("").config.default.lock_lease_time, 30);
    assert_eq!(
        ok("[DEFAULT]\nlock_lease_time = 5\n")
            .config
            .default
            .lock_lease_time,
        5
    );
    assert!(load_one("[DEFAULT]\nlock_lease_time = 0\n").is_err());
}

#!/usr/bin/env python
"""Oracle for tests/conf.rs: feeds inspector.conf texts to the real
oslo.config, with the options the real ironic-inspector service registers,
and records what oslo.config makes of them.

Run with the venv that has the upstream packages:

    target/testbed/venv-ironic/bin/python crates/inspector-core/tests/oracle/gen_conf.py
    (scripts/regen-oracles.sh runs every generator)

It writes tests/oracle/conf.json next to this script:

* "registry": every option oslo.config knows (group, name, type facts,
  deprecated aliases, and the value it resolves to with no file at all);
* "cases": for each case, either the parse error, or for every option whose
  value differs from its default (or that cannot be resolved) the value or
  the error.
"""

import io
import json
import logging
import os
import re
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from keystoneauth1 import loading as ks_loading  # noqa: E402
from keystonemiddleware.auth_token import _opts as ksm_opts  # noqa: E402
from oslo_concurrency import opts as concurrency_opts  # noqa: E402
from oslo_config import cfg, types  # noqa: E402
from oslo_db import options as db_options  # noqa: E402
from oslo_log import log  # noqa: E402
from oslo_messaging import opts as messaging_opts  # noqa: E402
from oslo_middleware import opts as middleware_opts  # noqa: E402
from oslo_policy import opts as policy_opts  # noqa: E402
from oslo_service import service as service_opts  # noqa: E402
from oslo_service import sslutils  # noqa: E402
from oslo_service import wsgi  # noqa: E402

from ironic_inspector.conf import default as inspector_default  # noqa: E402
from ironic_inspector.conf import opts as inspector_opts  # noqa: E402

KEYSTONEAUTH_GROUPS = ("ironic", "swift", "service_catalog")
OSLO_CONFIG_OWN = {"config_file", "config_dir", "config_source", "shell_completion"}


def make_conf():
    """A ConfigOpts with what the running service registers."""
    conf = cfg.ConfigOpts()
    inspector_opts.set_config_defaults()
    for group, opts in inspector_opts.list_opts():
        conf.register_opts(opts, group=None if group == "DEFAULT" else group)
    for group in KEYSTONEAUTH_GROUPS:
        # What ironic_inspector.common.keystone.register_auth_opts does.
        conf.set_default("auth_type", "password", group=group)
    log.register_options(conf)
    for group, opts in ksm_opts.list_opts():
        conf.register_opts(opts, group=group)
    conf.register_opts(
        [o._to_oslo_opt() for o in ks_loading.get_plugin_loader("password").get_options()],
        group="keystone_authtoken",
    )
    db_options.set_defaults(conf, connection="sqlite:///ironic_inspector.sqlite")
    for group, opts in policy_opts.list_opts():
        conf.register_opts(opts, group=group)
    for lister in (middleware_opts.list_opts_cors, middleware_opts.list_opts_healthcheck):
        for group, opts in lister():
            conf.register_opts(opts, group=group)
    for lister in (service_opts.list_opts, wsgi.list_opts, sslutils.list_opts, concurrency_opts.list_opts):
        for group, opts in lister():
            conf.register_opts(opts, group=group)
    for group, opts in messaging_opts.list_opts():
        if group is None or group == "DEFAULT":
            conf.register_opts(opts)
    # keystoneauth marks some plugin options required; the service only
    # registers them when it loads the plugin, after parsing.
    for _group, opt, _info in all_opts(conf):
        opt.required = False
    return conf


def all_opts(conf):
    for info, group in conf._all_opt_infos():
        # --config-file and friends belong to oslo.config's command line.
        if group is None and info["opt"].dest in OSLO_CONFIG_OWN:
            continue
        yield (group.name if group is not None else "DEFAULT"), info["opt"], info


def type_facts(t):
    if isinstance(t, inspector_default.Octal):
        return {"kind": "octal"}
    if isinstance(t, types.Boolean):
        return {"kind": "bool"}
    if isinstance(t, types.Port):
        return {"kind": "port", "min": t.min, "max": t.max}
    if isinstance(t, types.Integer):
        return {"kind": "int", "min": t.min, "max": t.max}
    if isinstance(t, types.Float):
        return {"kind": "float", "min": t.min, "max": t.max}
    if isinstance(t, types.MultiString):
        return {"kind": "multi"}
    if isinstance(t, types.List):
        return {"kind": "list", "item": type_facts(t.item_type)}
    if isinstance(t, types.Dict):
        return {"kind": "dict", "value": type_facts(t.value_type)}
    if isinstance(t, types.String):
        return {
            "kind": "str",
            "choices": None if t.choices is None else list(t.choices.keys()),
            "ignore_case": t.ignore_case,
            "quotes": t.quotes,
        }
    if t is str:
        return {"kind": "str", "choices": None, "ignore_case": False, "quotes": False}
    raise ValueError(f"unknown type {t!r}")


def aliases(opt):
    return [[d.group, d.name] for d in opt.deprecated_opts]


def jsonable(value):
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        # Keep the order: a JSON object would too, but be explicit.
        return {"dict": [[k, jsonable(v)] for k, v in value.items()]}
    return value


def resolve(conf, group, name):
    try:
        return {"value": jsonable(conf._get(name, None if group == "DEFAULT" else group))}
    except RecursionError:
        return {"error": "RecursionError", "reason": "recursive reference"}
    except cfg.ConfigFileValueError as e:
        return {"error": "ValueError", "reason": str(e).rsplit("is not valid: ", 1)[-1]}
    except cfg.TemplateSubstitutionError as e:
        return {"error": "TemplateSubstitutionError", "reason": e.msg}
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError) as e:
        return {"error": type(e).__name__, "reason": str(e)}


def registry():
    conf = make_conf()
    conf([], project="ironic-inspector", default_config_files=[], default_config_dirs=[])
    out = []
    for group, opt, info in all_opts(conf):
        out.append(
            {
                "group": group,
                "name": opt.dest,
                "type": type_facts(opt.type),
                "aliases": aliases(opt),
                "secret": opt.secret,
                "resolved": resolve(conf, group, opt.dest),
            }
        )
    return out


PARSE_ERROR = re.compile(r"^at (?P<file>.*):(?P<line>\d+), (?P<message>.*): (?P<text>'.*'|\".*\")$", re.S)


def run_case(case, defaults):
    conf = make_conf()
    tmpdir = tempfile.mkdtemp()
    paths = []
    for i, text in enumerate(case["files"]):
        path = os.path.join(tmpdir, f"{i}.conf")
        with open(path, "w", newline="") as f:
            f.write(text)
        paths.append(path)
    args = []
    for path in paths:
        args += ["--config-file", path]
    result = {"name": case["name"], "files": case["files"]}
    for key in ("note", "rust_extra_errors", "rust_parse_line", "rust_override"):
        if key in case:
            result[key] = case[key]
    stderr = sys.stderr
    sys.stderr = io.StringIO()
    try:
        conf(args, project="ironic-inspector", default_config_files=[], default_config_dirs=[])
    except SystemExit:
        # oslo.log's options are also command-line options, which oslo.config
        # validates while parsing, exiting on the first invalid one.
        m = re.match(r"argument --(\w+): (.*)", sys.stderr.getvalue(), re.S)
        assert m, sys.stderr.getvalue()
        result["cli_error"] = {"option": m.group(1), "message": m.group(2).strip()}
        return result
    except cfg.ConfigFileParseError as e:
        m = PARSE_ERROR.match(e.msg)
        assert m, e.msg
        result["parse_error"] = {
            "file": paths.index(m.group("file")),
            "line": int(m.group("line")),
            "message": m.group("message"),
        }
        return result
    finally:
        sys.stderr = stderr
    changed = {}
    for group, opt, _info in all_opts(conf):
        got = resolve(conf, group, opt.dest)
        if got != defaults[(group, opt.dest)]:
            changed.setdefault(group, {})[opt.dest] = got
    result["changed"] = changed
    return result


def c(name, *files, **extra):
    return dict(name=name, files=list(files), **extra)


HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = """\
[DEFAULT]
auth_strategy = noauth
standalone = true
transport_url = fake://
host = harness-inspector
listen_address = 127.0.0.1
listen_port = 5050
debug = true
# keystoneauth.session=DEBUG logs every outgoing HTTP request/response
# (method, URL, JSON body) -> a full trace of inspector<->ironic traffic
default_log_levels = amqp=WARNING,amqplib=WARNING,sqlalchemy=WARNING,oslo.messaging=INFO,oslo_messaging=INFO,iso8601=WARNING,requests=WARNING,urllib3.connectionpool=WARNING,keystonemiddleware=WARNING,keystoneauth=INFO,keystoneauth.session=DEBUG,stevedore=INFO,openstack=INFO,futurist=INFO,oslo_policy=WARNING,oslo_concurrency.lockutils=WARNING,ironicclient=WARNING,cotyledon=INFO
log_file = /tmp/harness-state/inspector/inspector.log
use_stderr = false
# seconds before an unfinished introspection is timed out
timeout = 600
clean_up_period = 5
introspection_delay = 0
can_manage_boot = true
rootwrap_config = /dev/null

[database]
connection = sqlite:////tmp/harness-state/inspector/inspector.sqlite

[ironic]
auth_type = none
endpoint_override = http://127.0.0.1:6385
max_retries = 5
retry_interval = 1

[pxe_filter]
driver = noop
sync_period = 0

[processing]
store_data = database
add_ports = all
keep_ports = all
ramdisk_logs_dir = /tmp/harness-state/inspector/ramdisk-logs
always_store_ramdisk_logs = true
processing_hooks = $default_processing_hooks,extra_hardware,lldp_basic,local_link_connection
power_off = true

[discovery]
enroll_node_driver = fake-hardware

[oslo_concurrency]
lock_path = /tmp/harness-state/inspector/locks
"""

KEYSTONE = """\
[DEFAULT]
auth_strategy = keystone
listen_address = 0.0.0.0
transport_url = rabbit://guest:secret@rabbit:5672/
rpc_response_timeout = 120
log_dir = /var/log/ironic-inspector
use_stderr = false

[database]
connection = mysql+pymysql://inspector:pw@db/ironic_inspector?charset=utf8
max_retries = -1
max_pool_size = 20

[keystone_authtoken]
www_authenticate_uri = http://keystone:5000
auth_url = http://keystone:5000
auth_type = password
username = ironic-inspector
password = s3cr3t
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
memcached_servers = memcache1:11211,memcache2:11211
token_cache_time = 600
http_connect_timeout = 10
cafile = /etc/ssl/ca.pem

[ironic]
auth_url = http://keystone:5000
auth_type = password
username = ironic-inspector
password = s3cr3t
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
valid_interfaces = internal
timeout = 30
connect_retries = 5
status_code_retries = 3
max_version = 1.89

[swift]
auth_url = http://keystone:5000
auth_type = password
username = ironic-inspector
password = s3cr3t
project_name = service
user_domain_name = Default
project_domain_name = Default
container = inspection
delete_after = 86400

[processing]
store_data = swift
node_not_found_hook = enroll
processing_hooks = $default_processing_hooks,lldp_basic

[discovery]
enroll_node_driver = ipmi
enroll_node_fields = management_interface:noop,resource_class:baremetal

[pxe_filter]
driver = dnsmasq

[dnsmasq_pxe_filter]
dhcp_hostsdir = /var/lib/ironic-inspector/dhcp-hostsdir
dnsmasq_start_command = systemctl start dnsmasq-inspector
dnsmasq_stop_command = systemctl stop dnsmasq-inspector

[oslo_policy]
policy_file = /etc/ironic-inspector/policy.yaml
enforce_new_defaults = false

[cors]
allowed_origin = https://horizon.example.com

[healthcheck]
enabled = true

[ssl]
cert_file = /etc/ssl/inspector.crt
key_file = /etc/ssl/inspector.key

[oslo_messaging_rabbit]
rabbit_ha_queues = true
"""

CASES = [
    c("reference start-inspector.sh configuration", REFERENCE),
    c("realistic keystone deployment", KEYSTONE),
    c("empty file", ""),
    c("only comments and blanks", "# a comment\n; another\n\n[DEFAULT]\n# debug = true\n\n"),
    c("separators", "[DEFAULT]\nlisten_address: 10.0.0.1\nhost = a:b\nrootwrap_config: x=y\n"
      "http_basic_auth_user_file=/a:/b\n"),
    c("inline hash is part of the value", "[DEFAULT]\nhost = myhost # comment\n"),
    c("quotes", "[DEFAULT]\nhost = \"quoted\"\nlisten_address = 'single'\nrootwrap_config = \"mismatch'\n"
      "http_basic_auth_user_file = \"a\" \"b\"\n[processing]\nramdisk_logs_dir = \"\n"
      "ramdisk_logs_filename_format = ''\n"),
    c("quoted list items keep their quotes", "[DEFAULT]\nipmi_address_fields = \"a\", \"b\"\n"
      "[iptables]\nethoib_interfaces = 'eth0','eth1'\n[discovery]\nenabled_bmc_address_version = \"6,4\"\n"),
    c("continuation lines", "[dnsmasq_pxe_filter]\ndnsmasq_start_command = systemctl\n  start\n\tdnsmasq\n"
      "dnsmasq_stop_command = stop\n\n[pci_devices]\nalias = {\"vendor_id\": \"8086\",\n"
      "   \"product_id\": \"1234\", \"name\": \"nic\"}\n"),
    c("continued boolean is invalid", "[DEFAULT]\ndebug = true\n  false\n"),
    c("duplicate keys: last wins", "[DEFAULT]\ntimeout = 10\ntimeout = 20\nhost = a\nhost = b\n"),
    c("duplicate sections merge", "[processing]\nadd_ports = all\n[DEFAULT]\ndebug = true\n[processing]\n"
      "keep_ports = present\nadd_ports = active\n"),
    c("section names are case-insensitive except DEFAULT",
      "[PROCESSING]\nadd_ports = all\n[Default]\ndebug = true\n[Iptables]\nip_version = 6\n"),
    c("padded section name is another section", "[ processing ]\nadd_ports = all\n[DEFAULT]\n"),
    c("option names are case-sensitive", "[DEFAULT]\nDebug = true\nTIMEOUT = 5\n"),
    c("unknown sections and options are ignored",
      "[DEFAULT]\nno_such_option = 1\n[no_such_group]\nx = y\n[processing]\nbogus = 1\n"),
    c("CRLF and CR line endings", "[DEFAULT]\r\ndebug = true\r\ntimeout = 7\rhost = crlf\r\n"),
    c("trailing whitespace", "[DEFAULT]   \nhost = spaced   \t\n"),
    # Parse errors.
    c("error: assignment before any section", "debug = true\n[DEFAULT]\n", rust_parse_line=1),
    c("error: assignment before any section, flushed by blank", "debug = true\n\n\n[DEFAULT]\n", rust_parse_line=1),
    c("error: no separator", "[DEFAULT]\ndebug true\n"),
    c("error: empty key", "[DEFAULT]\n= true\n"),
    c("error: empty key with colon", "[DEFAULT]\n:x\n"),
    c("error: unexpected continuation", "[DEFAULT]\n  debug = true\n"),
    c("error: indented comment after a blank line", "[DEFAULT]\ndebug = true\n\n  # comment\n"),
    c("error: section without closing bracket", "[DEFAULT\ndebug = true\n"),
    c("error: section with trailing comment", "[DEFAULT] # main\n"),
    c("error: empty section name", "[]\n"),
    c("error: second file", "[DEFAULT]\ndebug = true\n", "[DEFAULT]\nbroken\n"),
    # Several files.
    c("later file wins", "[DEFAULT]\ntimeout = 10\nhost = first\n[processing]\nadd_ports = all\n",
      "[DEFAULT]\ntimeout = 20\n", "[processing]\nadd_ports = active\n"),
    c("later file may set it back", "[DEFAULT]\ndebug = true\n", "[DEFAULT]\ndebug = false\n"),
    c("multi-valued options accumulate",
      "[pci_devices]\nalias = {\"vendor_id\":\"1\",\"product_id\":\"2\",\"name\":\"a\"}\nalias = b\n"
      "[oslo_policy]\npolicy_dirs = one\n",
      "[pci_devices]\nalias = c\n[oslo_policy]\npolicy_dirs = two\npolicy_dirs = three\n"),
    c("empty multi value", "[pci_devices]\nalias =\n"),
    # Deprecated names and groups.
    c("deprecated names", "[DEFAULT]\nlogfile = /var/log/old.log\nlogdir = /var/log\nlog_config = /etc/log.conf\n"
      "rpc_thread_pool_size = 8\n[ironic]\ntenant_name = svc\nuser_name = bob\nauth_plugin = v3password\n"
      "[keystone_authtoken]\nmemcache_servers = m:11211\n"),
    c("deprecated group", "[ironic_lib]\nfatal_exception_format_errors = true\n"),
    c("current name wins over deprecated in one file",
      "[DEFAULT]\nlog_file = new.log\nlogfile = old.log\n[ironic]\nproject_name = new\ntenant_name = old\n"),
    c("deprecated name in a later file wins", "[DEFAULT]\nlog_file = new.log\n", "[DEFAULT]\nlogfile = old.log\n"),
    c("hyphenated deprecated name", "[ironic]\ntenant-id = abc\nuser-name = carol\n"),
    # Interpolation.
    c("processing hooks default", "[processing]\ndefault_processing_hooks = a,b\n"),
    c("processing hooks extended", "[processing]\nprocessing_hooks = pre,$default_processing_hooks,post\n"),
    c("processing hooks braced", "[processing]\nprocessing_hooks = ${default_processing_hooks},x\n"
      "default_processing_hooks = ramdisk_error\n"),
    c("interpolation of typed values",
      "[DEFAULT]\nlisten_port = 6000\nhost = $listen_address-$listen_port-$debug-$listen_unix_socket.\n"
      "rootwrap_config = $ipmi_address_fields\nhttp_basic_auth_user_file = $processing.add_ports\n"
      "[processing]\nadd_ports = all\nramdisk_logs_dir = ${capabilities.cpu_flags}\n"),
    c("interpolation of a float", "[ironic]\ntimeout = 60\nregion_name = r$timeout\n"),
    c("interpolation falls back to DEFAULT", "[DEFAULT]\nhost = h1\n[ironic]\nendpoint_override = http://$host:6385\n"
      "region_name = $listen_address\n"),
    c("interpolation prefers the own group", "[DEFAULT]\ntimeout = 5\n[ironic]\ntimeout = 9\nregion_name = $timeout\n"),
    c("interpolation of another group's option", "[ironic]\nregion_name = ${swift.container}\n"),
    c("escapes and stray dollars", "[DEFAULT]\nhost = a$$b\nlisten_address = \\$notvar\n"
      "rootwrap_config = cost $ 5 or $5 or ${ x} or ${unclosed\n"),
    c("escaped reference is not resolved", "[DEFAULT]\nhost = $$nope\n"),
    c("error: unknown reference", "[DEFAULT]\nhost = $nope\n"),
    c("error: unknown braced reference", "[DEFAULT]\nhost = ${nope}\n"),
    c("error: unknown group reference", "[DEFAULT]\nhost = ${nogroup.x}\n"),
    c("error: unknown option of a known group", "[DEFAULT]\nhost = ${ironic.nope}\n"),
    c("error: DEFAULT is not a group for references", "[DEFAULT]\nhost = ${DEFAULT.debug}\n"),
    c("error: trailing dot makes a group reference", "[DEFAULT]\nrootwrap_config = $listen_address.\n"),
    c("error: group reference", "[DEFAULT]\nhost = $processing\n"),
    c("error: upper-case reference", "[DEFAULT]\nhost = $DEBUG\n"),
    c("error: self reference", "[DEFAULT]\nhost = $host\n"),
    c("error: reference cycle", "[DEFAULT]\nhost = $rootwrap_config\nrootwrap_config = $host\n"),
    c("error: reference to an invalid value", "[DEFAULT]\ntimeout = abc\nhost = $timeout\n"),
    c("deprecated name used as a reference", "[DEFAULT]\nhost = $logfile\nlog_file = x.log\n",
      rust_override={"DEFAULT": {"host": {"value": "x.log"}}},
      note="oslo.config leaves the reference as it is when the option's name has dashes (a bug)"),
    c("deprecated name of an underscored option used as a reference",
      "[DEFAULT]\nhost = $rpc_thread_pool_size\nexecutor_thread_pool_size = 3\n"),
    c("interpolation in a multi value", "[DEFAULT]\nlisten_port = 1\n[pci_devices]\nalias = a$listen_port\n"
      "alias = b\n"),
    c("interpolation in list and dict values", "[DEFAULT]\nhost = h\n[discovery]\nenroll_node_fields = name:$host,x:y\n"
      "[iptables]\nethoib_interfaces = $host,b\n"),
    # Booleans.
    c("booleans true spellings", "[DEFAULT]\ndebug = True\nuse_stderr = 1\ncan_manage_boot = on\nenable_mdns = YES\n"
      "standalone = tRuE\n[processing]\npower_off = Yes\noverwrite_existing = ON\n"),
    c("booleans false spellings", "[DEFAULT]\ndebug = False\nuse_ssl = 0\ncan_manage_boot = off\nenable_mdns = NO\n"
      "standalone = fAlSe\n"),
    c("error: boolean t", "[DEFAULT]\ndebug = t\n"),
    c("error: boolean y", "[DEFAULT]\ndebug = y\n"),
    c("error: boolean 2", "[processing]\npower_off = 2\n"),
    c("error: boolean empty", "[processing]\npower_off =\n"),
    c("error: boolean with spaces inside quotes", "[processing]\npower_off = \" true \"\n"),
    # Integers.
    c("integers", "[DEFAULT]\ntimeout = +5\nclean_up_period = 0\nmax_concurrency = 1_000\nlisten_port = 0\n"
      "introspection_delay = 00\n"),
    c("integer limits", "[DEFAULT]\ntimeout = 315576000\napi_max_limit = 1\nmax_concurrency = 2\nlisten_port = 65535\n"),
    c("error: integer above max", "[DEFAULT]\ntimeout = 315576001\n"),
    c("error: integer below min", "[DEFAULT]\nmax_concurrency = 1\napi_max_limit = 0\nclean_up_period = -1\n"),
    c("error: port out of range", "[DEFAULT]\nlisten_port = 65536\n"),
    c("error: negative port", "[DEFAULT]\nlisten_port = -1\n"),
    c("error: not an integer", "[DEFAULT]\ntimeout = 1.5\nintrospection_delay = 0x10\nleader_election_interval = ten\n"),
    c("error: huge integer above max", "[DEFAULT]\ntimeout = 99999999999999999999999\n"),
    c("empty integer is None", "[DEFAULT]\ntimeout =\n[swift]\ndelete_after = \"\"\n",
      rust_extra_errors=[["DEFAULT", "timeout"], ["swift", "delete_after"]],
      note="oslo.config gives None; inspector's typed fields need a number"),
    c("negative integers oslo accepts", "[DEFAULT]\ntimeout = -1\nintrospection_delay = -3\n"
      "[database]\nmax_retries = -1\n",
      rust_extra_errors=[["DEFAULT", "timeout"], ["DEFAULT", "introspection_delay"]],
      note="a negative timeout has no meaning; inspector rejects it"),
    # Floats.
    c("floats", "[ironic]\ntimeout = 1.5\nconnect_retry_delay = 2\nstatus_code_retry_delay = 1e1\n"),
    c("error: not a float", "[ironic]\ntimeout = fast\n"),
    c("empty float is None", "[ironic]\ntimeout =\n"),
    # Octal.
    c("octal modes", "[DEFAULT]\nlisten_unix_socket = /run/i.sock\nlisten_unix_socket_mode = 0660\n"),
    c("octal with prefix", "[DEFAULT]\nlisten_unix_socket_mode = 0o600\n"),
    c("error: not octal", "[DEFAULT]\nlisten_unix_socket_mode = 0999\n"),
    c("error: empty octal", "[DEFAULT]\nlisten_unix_socket_mode =\n"),
    # Choices.
    c("choices", "[DEFAULT]\nauth_strategy = http_basic\n[processing]\nadd_ports = disabled\nkeep_ports = present\n"
      "[iptables]\nip_version = 6\n"),
    c("error: invalid choices", "[DEFAULT]\nauth_strategy = Keystone\n[processing]\nadd_ports = none\n"
      "keep_ports = \n[iptables]\nip_version = 5\n"),
    c("choices ignoring case", "[keystone_authtoken]\nmemcache_security_strategy = mac\n"
      "[DEFAULT]\nlog_rotation_type = SIZE\nlog_rotate_interval_type = hours\n"),
    c("error: choice None is not the string None", "[ironic]\ntls_min_version = None\n"),
    # Lists.
    c("lists", "[DEFAULT]\nipmi_address_fields = a , b,c,\n[discovery]\nenabled_bmc_address_version = 6\n"
      "[port_physnet]\ncidr_map = 10.10.10.0/24:physnet_a, 2001:db8::/64:physnet_b\n"),
    c("empty lists", "[DEFAULT]\nipmi_address_fields =\n[iptables]\nethoib_interfaces = ,\n"),
    c("list with empty items", "[DEFAULT]\nipmi_address_fields = a,,b, ,\n"),
    c("integer lists", "[ironic]\nretriable_status_codes = 500, 503,,502\n"),
    c("error: integer list item", "[ironic]\nretriable_status_codes = 500,x\n"),
    # Dicts.
    c("dicts", "[discovery]\nenroll_node_fields = management_interface:noop, resource_class : baremetal\n"
      "[capabilities]\ncpu_flags = vmx:cpu_vt,x:y:z\n"),
    c("empty dict", "[capabilities]\ncpu_flags =\n"),
    c("dict pair without colon is glued to the next", "[discovery]\nenroll_node_fields = a:1,b,c:2\n"),
    c("error: dict without colon", "[discovery]\nenroll_node_fields = a\n"),
    c("error: dict duplicate key", "[discovery]\nenroll_node_fields = a:1,a:2\n"),
    c("error: dict empty key", "[discovery]\nenroll_node_fields = :1\n"),
    c("dict with quoted values", "[mdns]\nparams = a:'x,y',b:\"z\"\n"),
    c("error: dict with unclosed quote", "[mdns]\nparams = a:'x\n"),
    # Empty strings.
    c("empty strings", "[processing]\nramdisk_logs_dir =\nnode_not_found_hook =\n[ironic]\nendpoint_override =\n"),
]


def main():
    reg = registry()
    defaults = {(o["group"], o["name"]): o["resolved"] for o in reg}
    cases = [run_case(case, defaults) for case in CASES]
    with open(os.path.join(HERE, "conf.json"), "w") as f:
        json.dump({"registry": reg, "cases": cases}, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(reg)} options, {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Oracle fixtures for crates/inspector-core/src/rules (evaluation and validation).

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_rules.py)
Writes rules.json next to this script.

Rules are validated with upstream's own `_validate_conditions` /
`_validate_actions` and run as `IntrospectionRule` objects (the plugins come
through stevedore, as upstream loads them) against a REAL `NodeInfo` whose
`node()` is an openstacksdk `Node` built from an Ironic API node JSON, so
`node://` sees `Node.to_dict()` and `get_by_path` sees SDK attributes. The
Ironic client is a fake that records `patch_node` / `add_node_trait` /
`remove_node_trait` calls and applies patches to the node JSON (the next
action sees the result, as with a real Ironic). Everything between the rule
and those calls (formatting, update_capabilities, replace_field, get_by_path,
NodeInfo.patch's path fix-up) is upstream code.

Recorded per case: the boolean result, or the exception (class + str) and,
for actions, the calls made before it. The Rust test (tests/rules_eval.rs)
reproduces every case and pins the documented deliberate deviations.
"""

import copy
import functools
import json
import logging
import os
import types
import warnings

warnings.simplefilter("ignore")

from oslo_config import cfg  # noqa: E402

from ironic_inspector import conf  # noqa: E402,F401  (registers options)
from ironic_inspector import node_cache  # noqa: E402
from ironic_inspector import rules  # noqa: E402
from ironic_inspector import utils  # noqa: E402
from openstack import exceptions as os_exc  # noqa: E402
from openstack.baremetal.v1 import node as sdk_node  # noqa: E402

CONF = cfg.CONF
CONF([], project="ironic-inspector")
logging.getLogger().setLevel(logging.CRITICAL + 1)
logging.raiseExceptions = False

# Parsing a path rebuilds jsonpath-rw's yacc tables every time (~20 ms);
# parsed paths are immutable, so caching them changes nothing but speed.
rules.jsonpath = types.SimpleNamespace(
    parse=functools.lru_cache(maxsize=None)(rules.jsonpath.parse))

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_UUID = "1a1b2c3d-0000-4000-8000-00000000abcd"

EDGE = {
    "int": 42, "neg": -3, "zero": 0, "one": 1, "float": 4.7, "float_int": 4.0,
    "big": 18446744073709551615, "bigneg": -9223372036854775808,
    "true": True, "false": False, "none": None,
    "empty_str": "", "str": "x86_64", "numstr": "42", "floatstr": "4.2",
    "spacestr": " 7 ", "under": "1_000", "sci": "1e3", "nan": "nan",
    "inf": "-inf", "bool_str": "True", "unicode": "h\u00e9llo",
    "list": [1, 2, 3], "strlist": ["a", "b"], "empty_list": [],
    "dict": {"k": "v"}, "empty_dict": {},
    "ip": "192.168.1.5", "ip6": "fe80::1", "badip": "not-an-ip",
    "cidr": "10.1.2.3/8", "intip": 3232235777,
}

DATA = {
    "std": {
        "cpus": 16,
        "cpu_arch": "x86_64",
        "memory_mb": 12288,
        "local_gb": 999,
        "auto_discovered": False,
        "inventory": {
            "cpu": {"count": 16, "architecture": "x86_64",
                    "frequency": "2100.0000", "flags": ["vmx", "aes"]},
            "memory": {"physical_mb": 12288, "total": 12884901888},
            "bmc_address": "1.2.3.4",
            "disks": [
                {"name": "/dev/sda", "size": 1073741824000, "rotational": True,
                 "serial": "S1", "wwn": None},
                {"name": "/dev/sdb", "size": 21474836480, "rotational": False,
                 "serial": "S2", "wwn": "0x5000"},
            ],
            "interfaces": [
                {"name": "eth0", "mac_address": "11:22:33:44:55:66",
                 "ipv4_address": "192.168.1.5", "has_carrier": True},
                {"name": "eth1", "mac_address": "66:55:44:33:22:11",
                 "ipv4_address": None, "has_carrier": False},
                {"name": "ib0", "mac_address": "7c:fe:90:29:26:52",
                 "ipv4_address": "10.0.0.7", "has_carrier": True},
            ],
        },
        "root_disk": {"name": "/dev/sda", "size": 1073741824000,
                      "serial": "S1", "wwn": None},
        "edge": EDGE,
        "key with space": "spaced",
        "odd": {"0": "zero-key", "a.b": "dotted", "{x}": "braced"},
    },
    "empty": {},
}

BASE_NODE = {
    "uuid": NODE_UUID,
    "name": "node-0",
    "driver": "ipmi",
    "driver_info": {"ipmi_address": "1.2.3.4", "ipmi_username": "admin"},
    "driver_internal_info": {},
    "properties": {"cpu_arch": "x86_64", "local_gb": 40, "memory_mb": 1024,
                   "capabilities": "boot_mode:uefi,cpu_vt:true",
                   "inspection_scope": "rack1"},
    "extra": {"tags": ["a"], "text": "s", "mapping": {"k": 1}, "nothing": None,
              "nums": [1, 2.5, True]},
    "instance_info": {},
    "instance_uuid": None,
    "chassis_uuid": None,
    "maintenance": False,
    "maintenance_reason": None,
    "console_enabled": False,
    "protected": False,
    "retired": False,
    "automated_clean": None,
    "power_state": "power off",
    "provision_state": "inspecting",
    "target_provision_state": "manageable",
    "target_power_state": None,
    "resource_class": "baremetal",
    "traits": ["CUSTOM_A"],
    "boot_interface": "ipxe",
    "deploy_interface": "direct",
    "last_error": None,
    "owner": None,
    "conductor_group": "",
    "created_at": "2024-01-01T00:00:00+00:00",
    "updated_at": None,
    "portgroups": [{"href": "http://ironic/v1/nodes/x/portgroups", "rel": "self"}],
    "foo_unknown": "not an SDK attribute",
}


def node_with(**changes):
    node = copy.deepcopy(BASE_NODE)
    for key, value in changes.items():
        if key.startswith("props_"):
            node["properties"][key[len("props_"):]] = value
        elif value is DELETE:
            del node[key]
        else:
            node[key] = value
    return node


DELETE = object()

NODES = {
    "std": BASE_NODE,
    "no_caps": node_with(properties={"cpu_arch": "x86_64"}),
    "empty_caps": node_with(props_capabilities=""),
    "null_caps": node_with(props_capabilities=None),
    "one_cap": node_with(props_capabilities="a:1"),
    "dup_caps": node_with(props_capabilities="a:1,b:2,a:3"),
    "colon_caps": node_with(props_capabilities="a:b:c"),
    "bad_caps": node_with(props_capabilities="novalue"),
    "trailing_caps": node_with(props_capabilities="a:1,"),
    "dict_caps": node_with(props_capabilities={"a": "1"}),
    "zero_caps": node_with(props_capabilities=0),
    "scope_other": node_with(props_inspection_scope="rack2"),
    "scope_none": node_with(properties={"cpu_arch": "x86_64"}),
    "scope_int": node_with(props_inspection_scope=1),
    "scope_empty": node_with(props_inspection_scope=""),
    "minimal": {"uuid": NODE_UUID, "properties": {}, "driver_info": {},
                "extra": {}, "driver": "ipmi"},
    "null_extra": node_with(extra=None),
    "instance_null": node_with(instance_info=None),
}

ERRORS = []


def error_index(exc):
    entry = {"class": exc.__class__.__name__, "message": str(exc)}
    if isinstance(exc, utils.Error) and isinstance(exc.http_code, dict):
        # The formatting KeyError: upstream passed the interpolation dict as
        # the HTTP code, so the message was never interpolated.
        entry["intended"] = str(exc) % exc.http_code
    if entry not in ERRORS:
        ERRORS.append(entry)
    return ERRORS.index(entry)


def sdk(node_json):
    return sdk_node.Node(**copy.deepcopy(node_json))


class FakeIronic:
    """Records the Ironic calls; applies patches to the node JSON."""

    def __init__(self, node_json, reject_reset):
        self.node_json = copy.deepcopy(node_json)
        self.reject_reset = reject_reset
        self.calls = []

    def patch_node(self, uuid, patches, **kwargs):
        call = ["patch", copy.deepcopy(patches), dict(kwargs)]
        if self.reject_reset and kwargs.get("reset_interfaces"):
            call.append("rejected")
            self.calls.append(call)
            raise os_exc.BadRequestException("reset_interfaces refused")
        self.calls.append(call)
        for p in patches:
            apply_patch(self.node_json, p)
        return sdk(self.node_json)

    def add_node_trait(self, uuid, trait):
        # The SDK puts the trait in the URL, so it is sent as str(trait).
        self.calls.append(["add_trait", str(trait)])

    def remove_node_trait(self, uuid, trait):
        self.calls.append(["remove_trait", str(trait)])


def apply_patch(doc, p):
    """add/replace on object members, which is all the actions produce."""
    parts = [x for x in p["path"].split("/")[1:]]
    target = doc
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            return
        target = target[part]
    if parts and isinstance(target, dict):
        target[parts[-1]] = copy.deepcopy(p["value"])


def node_info_for(node_json, reject_reset=False):
    ironic = FakeIronic(node_json, reject_reset)
    info = node_cache.NodeInfo(uuid=NODE_UUID, node=sdk(node_json),
                               ironic=ironic)
    return info, ironic


@functools.lru_cache(maxsize=None)
def validated_conditions(conditions_text):
    return rules._validate_conditions(json.loads(conditions_text))


def make_rule(conditions_json, actions_json, scope=None):
    conditions = [
        types.SimpleNamespace(field=f, op=op, multiple=m, invert=inv,
                              params=copy.deepcopy(params))
        for f, op, m, inv, params in validated_conditions(
            json.dumps(conditions_json))
    ]
    actions = [
        types.SimpleNamespace(action=a, params=params)
        for a, params in rules._validate_actions(copy.deepcopy(actions_json))
    ]
    return rules.IntrospectionRule(uuid="u", conditions=conditions,
                                   actions=actions, description="d",
                                   scope=scope)


def check(conditions, data="std", node="std"):
    rule = make_rule(conditions, [{"action": "example"}])
    info, _ = node_info_for(NODES[node])
    try:
        return bool(rule.check_conditions(info, copy.deepcopy(DATA[data])))
    except Exception as exc:
        return error_index(exc)


# ---------------------------------------------------------------- matrix

MATRIX_FIELDS = (
    ["edge." + k for k in EDGE]
    + ["node://properties.memory_mb", "node://driver", "node://is_maintenance",
       "node://extra.nums", "node://raid_config"]
)

CMP_VALUES = [42, 0, 1, -1, 4, 4.0, 4.7, 1000.0, 18446744073709551615, True,
              False, "42", "x86_64", "", [1, 2, 3], {"k": "v"}, []]
MATRIX_VALUES = {
    "eq": CMP_VALUES, "ne": CMP_VALUES, "lt": CMP_VALUES, "gt": CMP_VALUES,
    "le": CMP_VALUES, "ge": CMP_VALUES,
    "in-net": ["192.168.1.0/24", "10.0.0.0/8", "fe80::/64", "192.168.1.5",
               "0.0.0.0/0", "::/0", "10.1.2.3/8"],
    "matches": ["x86", "x86_64", "^x", "4", "4\\.7", "True", "None", "\\[1, 2",
                ".*", "$", "(?i)X86", "h\u00e9", "42$", "\\d+", "[", "a|"],
    "contains": ["x86", "_6", "^x", "4", "True", "None", "2, 3", ".*", "$",
                 "(?i)X86", "\u00e9l", "\\d+$", "'k'", "\\s"],
    "is-empty": [None],
}


def matrix():
    out = {"fields": MATRIX_FIELDS, "ops": {}}
    for op, values in MATRIX_VALUES.items():
        usable = []
        for v in values:
            cond = {"op": op, "field": "edge.int"}
            if v is not None:
                cond["value"] = v
            try:
                rules._validate_conditions([cond])
            except utils.Error:
                continue  # invalid patterns are the validation section's job
            usable.append(v)
        results = []
        for field in MATRIX_FIELDS:
            row = []
            for v in usable:
                cond = {"op": op, "field": field}
                if v is not None:
                    cond["value"] = v
                row.append(check([cond]))
            results.append(row)
        out["ops"][op] = {"values": usable, "results": results}
    return out


# ---------------------------------------------------------------- conditions

def cond(op, field, value=None, **kw):
    c = {"op": op, "field": field}
    if value is not None:
        c["value"] = value
    c.update(kw)
    return c


CONDITION_CASES = []


def add_conditions(name, conditions, data="std", node="std"):
    CONDITION_CASES.append({"id": name, "conditions": conditions,
                            "data": data, "node": node,
                            "result": check(conditions, data, node)})


def condition_cases():
    ifaces = "inventory.interfaces[*]"
    for multiple in (None, "any", "all", "first"):
        for invert in (None, False, True):
            extra = {}
            if multiple:
                extra["multiple"] = multiple
            if invert is not None:
                extra["invert"] = invert
            tag = "%s-%s" % (multiple, invert)
            add_conditions("carrier-" + tag,
                           [cond("eq", ifaces + ".has_carrier", True, **extra)])
            add_conditions("name-eth-" + tag,
                           [cond("matches", ifaces + ".name", "eth", **extra)])
            add_conditions("name-ib-" + tag,
                           [cond("contains", ifaces + ".name", "ib", **extra)])
            add_conditions("ip-net-" + tag,
                           [cond("in-net", ifaces + ".ipv4_address",
                                 "192.168.0.0/16", **extra)])
            add_conditions("disk-size-" + tag,
                           [cond("ge", "inventory.disks[*].size", 100 * 2**30,
                                 **extra)])
            add_conditions("mixed-int-" + tag,
                           [cond("eq", "edge[*]", 42, **extra)])
            add_conditions("list-mixed-" + tag,
                           [cond("eq", "edge.list[*]", 2, **extra)])
            add_conditions("nums-first-error-" + tag,
                           [cond("lt", "inventory.interfaces[*].ipv4_address",
                                 "192", **extra)])
            add_conditions("missing-" + tag,
                           [cond("eq", "inventory.nope", 1, **extra)])
            add_conditions("missing-empty-" + tag,
                           [cond("is-empty", "inventory.nope", **extra)])
            add_conditions("wwn-empty-" + tag,
                           [cond("is-empty", "inventory.disks[*].wwn",
                                 **extra)])
            add_conditions("node-caps-" + tag,
                           [cond("contains", "node://properties.capabilities",
                                 "cpu_vt:true", **extra)])
    for field in ["cpus", "data://cpus", "inventory.cpu.count",
                  "$.inventory.cpu.count", "inventory.cpu", "inventory.cpu.*",
                  "inventory..count", "inventory.disks[0].size",
                  "inventory.disks[-1].name", "inventory.disks[0:1].name",
                  "inventory.disks[5].name", "edge.str[0]", "edge.int.foo",
                  "edge.list[1]", "edge.dict.*", "'key with space'",
                  "odd.'a.b'", "odd.'0'", "odd.'{x}'", "edge.none",
                  "inventory.interfaces[*].ipv4_address"]:
        for op, value in [("eq", 16), ("eq", "16"), ("is-empty", None),
                          ("contains", "1"), ("ne", None)]:
            if op == "ne" and value is None:
                value = "zzz"
            add_conditions("field-%s-%s-%s" % (field, op, value),
                           [cond(op, field, value)])
    for field in ["node://id", "node://uuid", "node://name",
                  "node://is_maintenance", "node://maintenance",
                  "node://instance_id", "node://instance_uuid",
                  "node://properties.cpu_arch", "node://driver_info.ipmi_address",
                  "node://extra.tags[*]", "node://traits[*]",
                  "node://port_groups[*].rel", "node://portgroups[*].rel",
                  "node://raid_config", "node://health", "node://foo_unknown",
                  "node://location", "node://properties.nope",
                  "node://provision_state", "node://is_automated_clean_enabled",
                  "node://chassis_id", "node://*"]:
        for op, value in [("is-empty", None), ("eq", NODE_UUID),
                          ("contains", "a"), ("ne", "zzz")]:
            add_conditions("node-%s-%s-%s" % (field, op, value),
                           [cond(op, field, value)])
    add_conditions("node-minimal-raid", [cond("is-empty", "node://raid_config")],
                   node="minimal")
    add_conditions("node-minimal-name", [cond("eq", "node://name", 1)],
                   node="minimal")
    add_conditions("node-minimal-maint", [cond("eq", "node://is_maintenance", 0)],
                   node="minimal")
    # Several conditions: the first false one stops evaluation, so a later
    # condition that would raise is never reached.
    add_conditions("multi-all-true", [cond("eq", "cpus", 16),
                                      cond("eq", "cpu_arch", "x86_64"),
                                      cond("is-empty", "nope")])
    add_conditions("multi-false-then-error", [cond("eq", "cpus", 1),
                                              cond("eq", "cpu_arch", 1)])
    add_conditions("multi-true-then-error", [cond("eq", "cpus", 16),
                                             cond("eq", "cpu_arch", 1)])
    add_conditions("multi-missing-then-error", [cond("eq", "nope", 16),
                                                cond("eq", "cpu_arch", 1)])
    add_conditions("no-conditions", [])
    add_conditions("empty-data", [cond("eq", "cpus", 16)], data="empty")
    add_conditions("empty-data-is-empty", [cond("is-empty", "cpus")],
                   data="empty")
    add_conditions("empty-data-root", [cond("is-empty", "$")], data="empty")
    add_conditions("root-is-empty", [cond("is-empty", "$")])
    add_conditions("matches-empty-regex-dollar", [cond("matches", "cpu_arch",
                                                       "x86_64$")])
    add_conditions("matches-escaped-dollar", [cond("matches", "cpu_arch",
                                                   "x86_64\\$")])
    add_conditions("in-net-none", [cond("in-net", "edge.none", "10.0.0.0/8")])
    add_conditions("in-net-bool", [cond("in-net", "edge.true", "0.0.0.0/0")])
    add_conditions("in-net-list", [cond("in-net", "edge.list", "10.0.0.0/8")])
    add_conditions("in-net-host-bits", [cond("in-net", "inventory.bmc_address",
                                             "1.2.3.0/24")])
    add_conditions("in-net-v6-v4", [cond("in-net", "edge.ip6", "0.0.0.0/0")])
    add_conditions("in-net-mapped", [cond("in-net", "edge.ip6", "fe80::/10")])


# ---------------------------------------------------------------- scopes

SCOPE_CASES = []


def scope_cases():
    for scope in [None, "", "rack1", "rack2", "1", "RACK1", " rack1"]:
        for node in ["std", "scope_other", "scope_none", "scope_int",
                     "scope_empty"]:
            rule = make_rule([], [{"action": "example"}], scope=scope)
            info, _ = node_info_for(NODES[node])
            try:
                result = bool(rule.check_scope(info))
            except Exception as exc:
                result = error_index(exc)
            SCOPE_CASES.append({"scope": scope, "node": node,
                                "result": result})


# ---------------------------------------------------------------- actions

ACTION_CASES = []


def add_actions(name, actions, node="std", data="std"):
    try:
        make_rule([], actions)
    except utils.Error:
        return  # refused at creation: the validation section covers that
    for reject in (False, True):
        rule = make_rule([], actions)
        info, ironic = node_info_for(NODES[node], reject_reset=reject)
        error = None
        try:
            rule.apply_actions(info, data=copy.deepcopy(DATA[data]))
        except Exception as exc:
            error = error_index(exc)
        case = {"id": name, "actions": actions, "node": node, "data": data,
                "calls": ironic.calls, "error": error}
        if reject:
            if not any(len(c) == 4 for c in ironic.calls):
                continue  # nothing was refused: same as the plain run
            case["reject_reset"] = True
        ACTION_CASES.append(case)


FORMAT_VALUES = [
    "plain", "", "{data[cpus]}", "{data[inventory][cpu][count]}",
    "{data[inventory][cpu]}", "{data[inventory][disks][0][name]}",
    "{data[inventory][cpu][count]:>5}", "{data[cpus]:05d}",
    "{data[cpus]!r}", "{data[cpu_arch]!r}", "{data[inventory][cpu][flags]}",
    "{data[root_disk][wwn]}", "{data[auto_discovered]}",
    "{data[edge][float]:.3f}", "{data[edge][unicode]!a}",
    "{{literal}} {data[cpus]}", "cpu={data[cpu_arch]}-{data[cpus]}",
    "{data[nope]}", "{data[inventory][nope]}", "{node}", "{0}", "{}",
    "{data.cpus}", "{data[inventory][disks][5]}", "{data[cpu_arch]:d}",
    "{", "}", "{data[cpus]", "{data[cpus]!x}", "{data[odd][0]}",
    "{data[inventory][disks][-1]}", "{data[edge][list][1]}",
    "{data[key with space]}", "{data[cpus]:{data[cpus]}}",
    42, 4.5, True, False, None, [], {},
    ["{data[cpus]}", 1, None, ["{data[cpu_arch]}"]],
    {"{data[cpu_arch]}": "{data[cpus]}", "n": 5, "l": ["{data[memory_mb]}"]},
    {"{data[cpu_arch]}": 1, "x86_64": 2},
    ["ok", "{data[nope]}"],
    {"k": ["{data[inventory][nope]}"]},
    [{"{data[nope2]}": 1}],
    ["{0}"],
]


def action_cases():
    add_actions("fail", [{"action": "fail", "message": "boom"}])
    add_actions("fail-format-not-applied",
                [{"action": "fail", "message": "{data[cpus]}"}])
    add_actions("fail-list", [{"action": "fail", "message": ["a", 1]}])
    add_actions("fail-int", [{"action": "fail", "message": 5}])
    add_actions("example", [{"action": "example"}])
    for name in ["CUSTOM_X", "{data[cpus]}", 5, ""]:
        add_actions("add-trait-%s" % name,
                    [{"action": "add-trait", "name": name}])
        add_actions("remove-trait-%s" % name,
                    [{"action": "remove-trait", "name": name}])
    for i, value in enumerate(FORMAT_VALUES):
        add_actions("set-attr-value-%d" % i,
                    [{"action": "set-attribute", "path": "/extra/v",
                      "value": value}])
        add_actions("set-cap-value-%d" % i,
                    [{"action": "set-capability", "name": "c",
                      "value": value}])
        add_actions("extend-value-%d" % i,
                    [{"action": "extend-attribute", "path": "/extra/tags",
                      "value": value}])
    for path in ["/driver", "driver", "/driver/", "//driver//", "/extra/foo",
                 "extra/foo", "", "/", "/properties/capabilities",
                 "/driver_info/ipmi_address", "/instance_uuid", 5]:
        for reset in ["absent", True, False, None, "yes", 0, "", [], 1]:
            action = {"action": "set-attribute", "path": path,
                      "value": "{data[cpu_arch]}"}
            if reset != "absent":
                action["reset_interfaces"] = reset
            add_actions("set-attr-%s-%s" % (path, reset), [action])
    for node in ["std", "no_caps", "empty_caps", "null_caps", "one_cap",
                 "dup_caps", "colon_caps", "bad_caps", "trailing_caps",
                 "dict_caps", "zero_caps"]:
        for name, value in [("c", "v"), ("a", "9"), ("a", None), ("z", None),
                            ("boot_mode", "uefi"), ("cpu_vt", None),
                            ("b", "x:y"), ("d", "1,2"), ("a", 7),
                            ("a", "absent")]:
            action = {"action": "set-capability", "name": name}
            if value != "absent":
                action["value"] = value
            add_actions("set-cap-%s-%s-%s" % (node, name, value), [action],
                        node=node)
    for name in [5, "ironic", "", "a:b", "x,y"]:
        add_actions("set-cap-name-%s" % name,
                    [{"action": "set-capability", "name": name, "value": "1"}])
        add_actions("set-cap-name-%s-null" % name,
                    [{"action": "set-capability", "name": name,
                      "value": None}])
    for path in ["/extra/tags", "extra/tags", "/extra/new", "/extra/text",
                 "/extra/mapping", "/extra/nothing", "/extra/nums", "/extra",
                 "/traits", "/name/x", "/properties/nope", "/nonexistent",
                 "/nonexistent/x", "/uuid/x", "/id/x", "/raid_config/x",
                 "/instance_info/x", "/instance_uuid", "/instance_id",
                 "/is_maintenance", "/extra/tags/", "", "/", 5,
                 "/properties/capabilities/x", "/portgroups/x",
                 "/port_groups/0"]:
        for unique in ["absent", True, False, None, 1, "", "no"]:
            action = {"action": "extend-attribute", "path": path,
                      "value": "a"}
            if unique != "absent":
                action["unique"] = unique
            add_actions("extend-%s-%s" % (path, unique), [action])
    for node in ["null_extra", "instance_null", "minimal"]:
        for path in ["/extra/tags", "/instance_info/x", "/raid_config/x",
                     "/properties/x"]:
            add_actions("extend-%s-%s" % (node, path),
                        [{"action": "extend-attribute", "path": path,
                          "value": 1}], node=node)
    for value, unique in [(1, True), (1.0, True), (True, True), (2.5, True),
                          ("1", True), (1, False), ([1], True),
                          ({"k": 1}, True)]:
        add_actions("extend-nums-%r-%r" % (value, unique),
                    [{"action": "extend-attribute", "path": "/extra/nums",
                      "value": value, "unique": unique}])
    add_actions("extend-mapping-unique",
                [{"action": "extend-attribute", "path": "/extra/m",
                  "value": {"k": 1}, "unique": True},
                 {"action": "extend-attribute", "path": "/extra/m",
                  "value": {"k": 1.0}, "unique": True}])
    # Sequences: each action sees the node as the previous ones left it; an
    # error stops the rest after what was already done.
    add_actions("seq-caps", [
        {"action": "set-capability", "name": "x", "value": "1"},
        {"action": "set-capability", "name": "y", "value": "{data[cpus]}"},
        {"action": "set-capability", "name": "x", "value": None},
        {"action": "set-capability", "name": "y", "value": "16"},
    ])
    add_actions("seq-extend", [
        {"action": "extend-attribute", "path": "/extra/l", "value": "a"},
        {"action": "extend-attribute", "path": "/extra/l", "value": "a",
         "unique": True},
        {"action": "extend-attribute", "path": "/extra/l", "value": "a"},
        {"action": "set-attribute", "path": "/extra/l", "value": "s"},
        {"action": "extend-attribute", "path": "/extra/l", "value": "b"},
    ])
    add_actions("seq-error-stops", [
        {"action": "add-trait", "name": "T1"},
        {"action": "set-attribute", "path": "/driver", "value": "redfish"},
        {"action": "set-attribute", "path": "/extra/x", "value": "{data[no]}"},
        {"action": "add-trait", "name": "T2"},
    ])
    add_actions("seq-fail-stops", [
        {"action": "remove-trait", "name": "T1"},
        {"action": "fail", "message": "stop"},
        {"action": "add-trait", "name": "T2"},
    ])
    add_actions("seq-format-error-stops", [
        {"action": "set-capability", "name": "a", "value": "{data.x}"},
        {"action": "add-trait", "name": "T2"},
    ])


# ---------------------------------------------------------------- validation

VALIDATION_CASES = []


def add_validation(conditions, actions):
    try:
        rules._validate_conditions(copy.deepcopy(conditions))
        rules._validate_actions(copy.deepcopy(actions))
        result = None
    except utils.Error as exc:
        # jsonschema texts are multi-line; clients rely on the first line.
        result = str(exc).split("\n")[0]
    except Exception as exc:
        result = {"class": exc.__class__.__name__, "message": str(exc)}
    VALIDATION_CASES.append({"conditions": conditions, "actions": actions,
                             "error": result})


def validation_cases():
    ok = [{"action": "example"}]
    for c in [
        cond("eq", "cpus", 1), {"op": "eq", "field": "cpus", "value": None},
        cond("eq", "cpus", 1, extra=2), cond("eq", "cpus", 1, extra=None),
        cond("is-empty", "cpus"), cond("is-empty", "cpus", 1),
        {"op": "is-empty", "field": "cpus", "value": None},
        cond("eq", "cpus", 1, multiple="all", invert=True),
        cond("eq", "cpus", 1, multiple=None),
        cond("eq", "cpus", 1, invert=None), cond("eq", "cpus", 1, invert=0),
        cond("eq", "", 1), cond("eq", "data://", 1), cond("eq", "node://", 1),
        cond("eq", "foo://x", 1), cond("eq", "://x", 1),
        cond("eq", "node://a[", 1), cond("eq", "a b", 1),
        cond("eq", "a.b|c", 1), cond("eq", "a..b", 1),
        cond("eq", "data://node://x", 1),
        cond("matches", "x", "("), cond("matches", "x", "a{2,1}"),
        cond("matches", "x", "(?P<n>a)(?P<n>b)"), cond("matches", "x", ""),
        cond("contains", "x", "[z-a]"), cond("contains", "x", "\\"),
        cond("contains", "x", "*"),
        cond("in-net", "x", "10.0.0.0/33"), cond("in-net", "x", "foo"),
        cond("in-net", "x", "10.0.0.1"), cond("in-net", "x", "::1/129"),
        cond("in-net", "x", "10/8"), cond("in-net", "x", ""),
        cond("in-net", "x", 167772160), cond("in-net", "x", "10.0.0.0/255.0.0.0"),
        cond("in-net", "x", "10.0.0.0/0.0.0.255"),
        cond("eq", "x", [1]), cond("eq", "x", {}), cond("eq", "x", False),
    ]:
        add_validation([c], ok)
    for a in [
        {"action": "fail"}, {"action": "fail", "message": None},
        {"action": "fail", "message": "m", "x": 1},
        {"action": "set-attribute", "path": "/a"},
        {"action": "set-attribute", "path": "/a", "value": None},
        {"action": "set-attribute", "value": 1},
        {"action": "set-attribute", "path": None, "value": 1},
        {"action": "set-attribute", "path": "/a", "value": 1,
         "reset_interfaces": None},
        {"action": "set-attribute", "path": "/a", "value": 1, "x": 2},
        {"action": "set-capability", "name": "a"},
        {"action": "set-capability", "value": "a"},
        {"action": "set-capability", "name": "a", "value": None},
        {"action": "extend-attribute", "path": "/a", "value": None},
        {"action": "extend-attribute", "path": "/a", "value": 1, "unique": 1},
        {"action": "add-trait"}, {"action": "remove-trait", "name": "T"},
        {"action": "remove-trait", "name": "T", "x": None},
        {"action": "example", "x": None},
    ]:
        add_validation([], [a])
    # Conditions are validated completely before the actions' schema.
    add_validation([cond("eq", "cpus", 1, extra=2)], [])
    add_validation([cond("eq", "foo://x", 1)], "nope")
    add_validation([cond("matches", "x", "(")], [{"action": "bad"}])
    add_validation([{"op": "bad", "field": "x"}], [])
    add_validation([cond("eq", "cpus", 1), cond("eq", "x[", 1)], ok)


def main():
    out = {"data": DATA, "nodes": NODES}
    out["matrix"] = matrix()
    condition_cases()
    out["conditions"] = CONDITION_CASES
    scope_cases()
    out["scopes"] = SCOPE_CASES
    action_cases()
    out["actions"] = ACTION_CASES
    validation_cases()
    out["validation"] = VALIDATION_CASES
    out["errors"] = ERRORS
    path = os.path.join(HERE, "rules.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    print("matrix results: %d" % sum(
        len(r) for op in out["matrix"]["ops"].values() for r in op["results"]))
    for key in ("conditions", "scopes", "actions", "validation", "errors"):
        print("%s: %d" % (key, len(out[key])))
    print("bytes: %d" % os.path.getsize(path))


if __name__ == "__main__":
    main()

"""Oracle fixtures for crates/inspector-core/src/hooks.

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_hooks.py)
Writes hooks.json next to this script.

Every case runs the REAL upstream hooks (loaded through stevedore, as the
service loads them) the way our service will: all before_processing calls,
then for each hook a fresh NodeInfo over the current node and ports, with a
fake Ironic client that records every call and applies it to the node/port
JSON, so that the next hook sees the result. Recorded per step: the node view
the hook got (only when it changed), the Ironic calls in our NodeOp form, or
the exception the hook raised.

Inputs are stored once ("bases") and each case lists JSON-pointer edits on a
base, so the Rust test rebuilds exactly the same input. Final data is stored
as a top-level diff against the input.

Where upstream raises an unexpected exception the fixture records it as is;
the Rust test asserts our documented behaviour for those cases instead.
"""

import copy
import datetime
import json
import logging
import os
import tempfile
import types
import warnings

warnings.simplefilter("ignore")

from oslo_config import cfg  # noqa: E402

from ironic_inspector import conf  # noqa: E402,F401  (registers options)
from ironic_inspector import node_cache  # noqa: E402
from ironic_inspector import process  # noqa: E402
from ironic_inspector import utils  # noqa: E402
from ironic_inspector.common import ironic as ir_utils  # noqa: E402
from ironic_inspector.plugins import base as plugins_base  # noqa: E402
from ironic_inspector.plugins import pci_devices  # noqa: E402

CONF = cfg.CONF
CONF([], project="ironic-inspector")
logging.getLogger().setLevel(logging.CRITICAL + 1)
logging.raiseExceptions = False

HERE = os.path.dirname(os.path.abspath(__file__))
# The ramdisk payloads the test bed also uses (inside this repository).
DATA = os.path.join(HERE, "..", "..", "..", "..", "scripts", "testbed", "data")
GIB = 1 << 30
NODE_UUID = "1a1b2c3d-0000-4000-8000-00000000abcd"

DEFAULT_HOOKS = ("ramdisk_error,root_disk_selection,scheduler,"
                 "validate_interfaces,capabilities,pci_devices")
ALL_HOOKS = ("ramdisk_error,root_disk_selection,scheduler,validate_interfaces,"
             "capabilities,pci_devices,accelerators,extra_hardware,lldp_basic,"
             "local_link_connection,physnet_cidr_map,raid_device,example")
HANDMADE_HOOKS = ("ramdisk_error,root_disk_selection,scheduler,"
                  "validate_interfaces,capabilities,pci_devices,extra_hardware,"
                  "lldp_basic,local_link_connection")
TOLERATING_HOOKS = {"local_link_connection", "physnet_cidr_map"}


def load(name):
    with open(os.path.join(DATA, name)) as f:
        return json.load(f)


# The functional-test fixture (upstream-behaviour §functional; upstream's
# test/base.py InventoryTest).
FUNCTIONAL = {
    "boot_interface": "01-11-22-33-44-55-66",
    "inventory": {
        "interfaces": [
            {"name": "eth1", "mac_address": "11:22:33:44:55:66",
             "ipv4_address": "1.2.1.2",
             "lldp": [[1, "04112233aabbcc"], [2, "07373334"], [3, "003c"]]},
            {"name": "eth2", "mac_address": "12:12:21:12:21:12"},
            {"name": "eth3", "mac_address": "66:55:44:33:22:11",
             "ipv4_address": "1.2.1.1"},
            {"name": "ib0", "mac_address": "7c:fe:90:29:26:52",
             "ipv4_address": "1.2.1.3",
             "client_id": "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:"
                          "00:29:26:52"},
        ],
        "disks": [
            {"name": "/dev/sda", "model": "Big Data Disk", "size": 1000 * GIB},
            {"name": "/dev/sdb", "model": "Small OS Disk", "size": 20 * GIB},
        ],
        "cpu": {"count": 4, "architecture": "x86_64"},
        "memory": {"physical_mb": 12288},
        "bmc_address": "1.2.3.4",
        "bmc_v6address": "2001:1234:1234:1234:1234:1234:1234:1234/64",
    },
    "root_disk": {"name": "/dev/sda", "model": "Big Data Disk",
                  "size": 1000 * GIB, "wwn": None},
    "interfaces": {
        "eth1": {"ip": "1.2.1.2", "mac": "11:22:33:44:55:66",
                 "client_id": None, "pxe": True},
        "ib0": {"ip": "1.2.1.3", "mac": "7c:fe:90:29:26:52",
                "client_id": "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:"
                             "03:00:29:26:52", "pxe": False},
    },
}

BASES = {
    "functional": FUNCTIONAL,
    "handmade": load("ipa-inventory-handmade-2nic.json"),
    "machine": load("ipa-inventory-this-machine.json"),
    "empty": {},
}

BASE_NODE = {
    "uuid": NODE_UUID,
    "driver": "ipmi",
    "driver_info": {"ipmi_address": "1.2.3.4"},
    "properties": {"cpu_arch": "i386", "local_gb": 40},
    "provision_state": "inspecting",
    "power_state": "power off",
    "extra": {},
    "maintenance": False,
}


def port(uuid, address, pxe=True, llc=None, physnet=None):
    return {"uuid": uuid, "address": address, "node_uuid": NODE_UUID,
            "pxe_enabled": pxe, "local_link_connection": llc or {},
            "physical_network": physnet, "extra": {}}


# ----------------------------------------------------------------- harness

OPTIONS = {
    # name: (group, default)
    "add_ports": ("processing", "pxe"),
    "keep_ports": ("processing", "all"),
    "overwrite_existing": ("processing", True),
    "update_pxe_enabled": ("processing", True),
    "disk_partitioning_spacing": ("processing", True),
    "boot_mode": ("capabilities", False),
    "cpu_flags": ("capabilities", None),
    "alias": ("pci_devices", []),
    "cidr_map": ("port_physnet", []),
    "strict": ("extra_hardware", False),
}

_ACCEL_FILES = {}


def configure(conf_values, hooks):
    for name, (group, default) in OPTIONS.items():
        value = conf_values.get(name, default)
        if name == "cpu_flags":
            if value is None:
                CONF.clear_override(name, group)
                continue
            value = dict(value)
        CONF.set_override(name, value, group)
    yaml_text = conf_values.get("accelerators_yaml")
    if yaml_text is None:
        CONF.clear_override("known_devices", "accelerators")
    else:
        path = _ACCEL_FILES.get(yaml_text)
        if path is None:
            fd, path = tempfile.mkstemp(suffix=".yaml")
            with os.fdopen(fd, "w") as f:
                f.write(yaml_text)
            _ACCEL_FILES[yaml_text] = path
        CONF.set_override("known_devices", path, "accelerators")
    CONF.set_override("processing_hooks", hooks, "processing")
    # A class attribute computed at import time upstream.
    pci_devices.PciDevicesHook.aliases = pci_devices._parse_pci_alias_entry()
    plugins_base.reset()


def node_obj(node):
    fields = copy.deepcopy(node)
    fields["id"] = fields["uuid"]
    return types.SimpleNamespace(**fields)


def port_obj(p):
    return types.SimpleNamespace(
        id=p["uuid"], address=p["address"], is_pxe_enabled=p["pxe_enabled"],
        local_link_connection=copy.deepcopy(p["local_link_connection"]),
        physical_network=p["physical_network"], extra=copy.deepcopy(p["extra"]),
        node_id=p["node_uuid"])


def apply_patch(doc, patches):
    for op in patches:
        parts = op["path"].lstrip("/").split("/")
        target = doc
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if op["op"] == "remove":
            del target[parts[-1]]
        else:
            target[parts[-1]] = copy.deepcopy(op["value"])


class FakeIronic:
    """Records calls as NodeOps and applies them like Ironic would."""

    def __init__(self, node, ports, hook_name):
        self.node = node
        self.port_list = ports
        self.hook_name = hook_name
        self.ops = []
        self.created = 0

    def get_node(self, uuid, **kwargs):
        return node_obj(self.node)

    def patch_node(self, uuid, patches, **kwargs):
        patches = json.loads(json.dumps(patches))
        self.ops.append({"op": "patch_node", "patch": patches,
                         "reset_interfaces": bool(kwargs.get("reset_interfaces", False))})
        apply_patch(self.node, patches)
        return node_obj(self.node)

    def create_port(self, node_uuid, address, extra, is_pxe_enabled):
        self.ops.append({"op": "create_port", "address": address,
                         "extra": json.loads(json.dumps(extra)),
                         "pxe_enabled": is_pxe_enabled})
        self.created += 1
        new = port("created-%s-%d" % (self.hook_name, self.created), address,
                   pxe=is_pxe_enabled)
        new["extra"] = json.loads(json.dumps(extra))
        self.port_list.append(new)
        return port_obj(new)

    def patch_port(self, port_id, patches):
        patches = json.loads(json.dumps(patches))
        self.ops.append({"op": "patch_port", "uuid": port_id, "patch": patches,
                         "tolerate_rejection": self.hook_name in TOLERATING_HOOKS})
        for p in self.port_list:
            if p["uuid"] == port_id:
                apply_patch(p, patches)
                return port_obj(p)
        raise AssertionError("no port %s" % port_id)

    def delete_port(self, port_id):
        for p in self.port_list:
            if p["uuid"] == port_id:
                self.ops.append({"op": "delete_port", "uuid": port_id,
                                 "address": p["address"]})
                self.port_list.remove(p)
                return
        raise AssertionError("no port %s" % port_id)

    def add_node_trait(self, uuid, trait):
        self.ops.append({"op": "add_trait", "trait": trait})

    def remove_node_trait(self, uuid, trait):
        self.ops.append({"op": "remove_trait", "trait": trait})


def normalised(value):
    return json.loads(json.dumps(value))


def error_record(exc):
    if isinstance(exc, utils.Error):
        return {"kind": "error", "message": str(exc)}
    return {"kind": "unexpected", "class": type(exc).__name__,
            "message": str(exc)}


def set_pointer(doc, pointer, *value):
    parts = [p.replace("~1", "/").replace("~0", "~")
             for p in pointer.lstrip("/").split("/")]
    target = doc
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        if not value:
            del target[int(last)]
        elif last == "-":
            target.append(value[0])
        else:
            target[int(last)] = value[0]
    elif not value:
        target.pop(last, None)
    else:
        target[last] = value[0]


def build_data(case):
    data = copy.deepcopy(BASES[case.get("base", "functional")])
    for edit in case.get("edits", []):
        set_pointer(data, *edit)
    return data


def diff(before, after):
    changed = {k: v for k, v in after.items()
               if k not in before or before[k] != v}
    removed = sorted(k for k in before if k not in after)
    return {"changed": changed, "removed": removed}


def lookup_attributes(data):
    """What process._find_node_info looks the node up with."""
    try:
        v4 = utils.get_ipmi_address_from_data(data)
        v6 = utils.get_ipmi_v6address_from_data(data)
    except Exception as exc:  # noqa: BLE001
        return error_record(exc)
    return {"bmc_addresses": list(filter(None, [v4, v6])),
            "macs": utils.get_valid_macs(data)}


def run_case(case):
    hooks = case.get("hooks", DEFAULT_HOOKS)
    configure(case.get("conf", {}), hooks)
    result = {}
    try:
        manager = plugins_base.processing_hooks_manager()
        extensions = [(ext.name, ext.obj) for ext in manager]
    except Exception as exc:  # noqa: BLE001
        result["load_error"] = error_record(exc)
        return result

    data = build_data(case)
    original = normalised(data)
    failures = []
    process._run_pre_hooks(data, failures)
    result["pre_failures"] = failures
    result["lookup"] = lookup_attributes(data)
    if failures:
        result["data"] = diff(original, normalised(data))
        return result

    node = copy.deepcopy(case.get("node", BASE_NODE))
    for edit in case.get("node_edits", []):
        set_pointer(node, *edit)
    ports = copy.deepcopy(case.get("ports", []))
    steps = []
    # The first view is the case's own node and ports.
    last_view = normalised({"node": node, "ports": ports})
    for name, hook in extensions:
        view = normalised({"node": node, "ports": ports})
        step = {"hook": name}
        if view != last_view:
            step["view"] = view
            last_view = view
        fake = FakeIronic(node, ports, name)
        info = node_cache.NodeInfo(
            uuid=node["uuid"], started_at=datetime.datetime(2024, 1, 1),
            node=node_obj(node), ports=[port_obj(p) for p in ports],
            ironic=fake)
        try:
            hook.before_update(data, info)
        except Exception as exc:  # noqa: BLE001
            step["ops"] = fake.ops
            step["error"] = error_record(exc)
            steps.append(step)
            break
        finally:
            info.release_lock()
        step["ops"] = fake.ops
        steps.append(step)
    result["steps"] = steps
    result["data"] = diff(original, normalised(data))
    return result


# ------------------------------------------------------------------- cases

CASES = []


def case(name, **kwargs):
    kwargs["name"] = name
    CASES.append(kwargs)


FUNC_HOOKS = DEFAULT_HOOKS + ",lldp_basic"

case("functional_default", hooks=FUNC_HOOKS)
case("functional_plain")
case("functional_all_hooks", hooks=ALL_HOOKS)
case("handmade_reference", base="handmade", hooks=HANDMADE_HOOKS,
     conf={"add_ports": "all"})
case("handmade_default", base="handmade")
case("handmade_all_hooks", base="handmade", hooks=ALL_HOOKS,
     conf={"add_ports": "all", "boot_mode": True,
           "alias": ['{"vendor_id": "10de", "product_id": "1eb8", "name": "gpu"}',
                     '{"vendor_id": "8086", "product_id": "1572", "name": "nic"}'],
           "cidr_map": ["127.0.0.0/8:loop", "10.0.0.0/8:ten"]},
     ports=[port("p-eno1", "52:54:00:aa:00:01"),
            port("p-eno2", "52:54:00:aa:00:02", pxe=False)])
case("machine_default", base="machine", hooks=ALL_HOOKS)
case("machine_reapply_style", base="machine", hooks=ALL_HOOKS,
     node_edits=[["/properties/capabilities", "boot_mode:bios,cpu_aes:true"]],
     conf={"boot_mode": True})

# ramdisk_error
case("ramdisk_error_string", edits=[["/error", "boom"]])
case("ramdisk_error_object", edits=[["/error", {"a": [1, 2.5, None, True]}]])
case("ramdisk_error_falsy", edits=[["/error", ""]])
case("ramdisk_error_and_no_inventory", edits=[["/error", "boom"], ["/inventory"]])

# validate_interfaces: pre-processing
case("vi_no_inventory", edits=[["/inventory"]])
case("vi_empty_inventory", edits=[["/inventory", {}]])
case("vi_no_interfaces", edits=[["/inventory/interfaces", []]])
case("vi_list_inventory", edits=[["/inventory", [1]]])
case("vi_string_interfaces", edits=[["/inventory/interfaces", "eth0"]])
case("vi_all_invalid_macs", edits=[["/inventory/interfaces", [
    {"name": "eth0", "mac_address": "zz"}, {"name": "eth1"},
    {"mac_address": "11:22:33:44:55:66"}]]])
case("vi_non_dict_interface", edits=[["/inventory/interfaces/-", "eth9"]])
case("vi_no_suitable", edits=[["/boot_interface", "01-66-55-44-33-22-11"],
                              ["/inventory/interfaces/2/ipv4_address", None]])
case("vi_loopback_only", edits=[["/inventory/interfaces", [
    {"name": "lo", "mac_address": "00:00:00:00:00:00", "ipv4_address": "127.0.0.1"},
    {"name": "eth0", "mac_address": "11:22:33:44:55:66", "ipv6_address": "::1"}]]])
case("vi_bad_ip", edits=[["/inventory/interfaces/2/ipv4_address", "garbage"]])
case("vi_ip_with_prefix", edits=[["/inventory/interfaces/2/ipv4_address", "1.2.3.4/24"]])
case("vi_float_ip", edits=[["/inventory/interfaces/2/ipv4_address", 1.5]])
case("vi_int_ip", conf={"add_ports": "active"},
     edits=[["/inventory/interfaces/1/ipv4_address", 5]])
case("vi_ipv6_scope", conf={"add_ports": "all"},
     edits=[["/inventory/interfaces/1/ipv6_address", "fe80::1%eth2"]])
case("vi_uppercase_mac", conf={"add_ports": "all"},
     edits=[["/inventory/interfaces/1/mac_address", "12:12:21:AB:CD:EF"]])
case("vi_duplicate_names", conf={"add_ports": "all"},
     edits=[["/inventory/interfaces/-", {"name": "eth2", "mac_address": "aa:bb:cc:dd:ee:ff",
                                         "ipv4_address": "10.0.0.9"}]])
case("vi_duplicate_macs", conf={"add_ports": "all"},
     edits=[["/inventory/interfaces/-", {"name": "eth9", "mac_address": "66:55:44:33:22:11",
                                         "client_id": "cid"}]])
case("vi_colon_boot_interface", edits=[["/boot_interface", "66:55:44:33:22:11"]])
case("vi_upper_colon_boot_interface", edits=[["/boot_interface", "66:55:44:33:22:1A"]])
case("vi_pxelinux_upper", edits=[["/boot_interface", "01-66-55-44-33-22-11"]])
case("vi_no_boot_interface", edits=[["/boot_interface"]])
case("vi_bmc_legacy", edits=[["/inventory/bmc_address"], ["/ipmi_address", "5.6.7.8"],
                             ["/inventory/bmc_v6address"], ["/ipmi_v6address", "::/0"]])
case("vi_bmc_none_values", edits=[["/inventory/bmc_address", "0.0.0.0"],
                                  ["/inventory/bmc_v6address", ""]])
case("vi_disks_missing", edits=[["/inventory/disks"]])
for add_ports in ("all", "active", "pxe", "disabled"):
    for keep_ports in ("all", "present", "added"):
        for overwrite, update_pxe in ((True, True), (False, True), (True, False)):
            case("vi_%s_%s_%s_%s" % (add_ports, keep_ports, int(overwrite), int(update_pxe)),
                 hooks="validate_interfaces",
                 conf={"add_ports": add_ports, "keep_ports": keep_ports,
                       "overwrite_existing": overwrite,
                       "update_pxe_enabled": update_pxe},
                 ports=[port("p-eth1", "11:22:33:44:55:66", pxe=False),
                        port("p-eth3", "66:55:44:33:22:11", pxe=True),
                        port("p-eth2", "12:12:21:12:21:12", pxe=True),
                        port("p-stale", "de:ad:be:ef:00:01", pxe=True)])
case("vi_unsorted_names", hooks="validate_interfaces", conf={"add_ports": "all"},
     edits=[["/inventory/interfaces/0/name", "zeta"]])
case("vi_active_node", hooks="validate_interfaces",
     conf={"add_ports": "all", "keep_ports": "present"},
     node_edits=[["/provision_state", "active"]],
     ports=[port("p-eth1", "11:22:33:44:55:66", pxe=False),
            port("p-stale", "de:ad:be:ef:00:01")])
case("vi_rescue_node", hooks="validate_interfaces",
     conf={"keep_ports": "added"},
     node_edits=[["/provision_state", "rescue"]],
     ports=[port("p-stale", "de:ad:be:ef:00:01")])

# root_disk_selection
case("rds_no_root_disk", hooks="root_disk_selection", edits=[["/root_disk"]])
case("rds_small_root_disk", hooks="root_disk_selection",
     edits=[["/root_disk", {"name": "/dev/sdz", "size": 1000}]])
case("rds_no_spacing", hooks="root_disk_selection",
     conf={"disk_partitioning_spacing": False})
case("rds_keep_existing", hooks="root_disk_selection",
     conf={"overwrite_existing": False})
case("rds_keep_existing_zero", hooks="root_disk_selection",
     conf={"overwrite_existing": False}, node_edits=[["/properties/local_gb", 0]])
case("rds_float_size", hooks="root_disk_selection",
     edits=[["/root_disk/size", 480103981056.5]])
case("rds_negative_size", hooks="root_disk_selection",
     edits=[["/root_disk/size", -5]])
case("rds_string_size", hooks="root_disk_selection",
     edits=[["/root_disk/size", "1000"]])
case("rds_missing_size", hooks="root_disk_selection",
     edits=[["/root_disk", {"name": "/dev/sda"}]])
case("rds_hints_size", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": 20}]])
case("rds_hints_model", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"model": "big data disk"}]])
case("rds_hints_no_match", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": 21}]])
case("rds_hints_invalid", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"foo": "bar"}]])
case("rds_hints_bad_size", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": "big"}]])
case("rds_hints_empty", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {}]])
case("rds_hints_diskless", hooks="root_disk_selection",
     edits=[["/inventory/disks"]],
     node_edits=[["/properties/root_device", {"size": 20}]])
case("rds_skip_block_devices", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": ">= 10"}],
                 ["/properties/skip_block_devices", [{"name": "/dev/sda"}]]])
case("rds_skip_all", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": ">= 10"}],
                 ["/properties/skip_block_devices", [{"size": ">= 1"}]]])
case("rds_skip_without_hints", hooks="root_disk_selection",
     node_edits=[["/properties/skip_block_devices", [{"name": "/dev/sda"}]]])
case("rds_skip_invalid", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"size": 20}],
                 ["/properties/skip_block_devices", [{"foo": 1}]]])
case("rds_nameless_disk_hints", hooks="root_disk_selection",
     edits=[["/inventory/disks/-", {"size": 5 * GIB}]],
     node_edits=[["/properties/root_device", {"size": 20}]])
case("rds_handmade_hints", base="handmade", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"rotational": True}]])
case("rds_handmade_wwn", base="handmade", hooks="root_disk_selection",
     node_edits=[["/properties/root_device", {"wwn": "0x5002538e000abcd1"}]])

# scheduler
case("sched_keep_existing", hooks="scheduler", conf={"overwrite_existing": False})
case("sched_string_values", hooks="scheduler",
     edits=[["/inventory/cpu", {"count": " 8 ", "architecture": 5}],
            ["/inventory/memory", {"physical_mb": "4_096"}]])
case("sched_bad_count", hooks="scheduler",
     edits=[["/inventory/cpu", {"count": "many", "architecture": "x86_64"}]])
case("sched_missing_arch", hooks="scheduler",
     edits=[["/inventory/cpu", {"count": 2}]])
case("sched_no_cpu_memory", hooks="scheduler",
     edits=[["/inventory/cpu"], ["/inventory/memory"]])
case("sched_cpu_list", hooks="scheduler", edits=[["/inventory/cpu", [1, 2]]])
case("sched_float_count", hooks="scheduler",
     edits=[["/inventory/cpu/count", 3.9], ["/inventory/memory/physical_mb", True]])
case("sched_zero_count", hooks="scheduler",
     edits=[["/inventory/cpu/count", 0], ["/inventory/cpu/architecture", ""]])
case("sched_preexisting_keys", hooks="scheduler",
     edits=[["/inventory/cpu"], ["/cpus", 7], ["/cpu_arch", None]])
case("sched_arch_object", hooks="scheduler",
     edits=[["/inventory/cpu/architecture", {"k": ["v", 1.0]}]])

# capabilities
FLAGS = ["vmx", "aes", "pse", "smx", "sse"]
case("caps_flags", hooks="capabilities", edits=[["/inventory/cpu/flags", FLAGS]])
case("caps_flags_existing", hooks="capabilities",
     edits=[["/inventory/cpu/flags", FLAGS]],
     node_edits=[["/properties/capabilities", "cpu_aes:false,boot_mode:bios,x:y"]])
case("caps_unchanged", hooks="capabilities",
     edits=[["/inventory/cpu/flags", ["aes"]]],
     node_edits=[["/properties/capabilities", "cpu_aes:true"]])
case("caps_boot_mode", hooks="capabilities", conf={"boot_mode": True},
     edits=[["/inventory/cpu/flags", ["svm"]],
            ["/inventory/boot", {"current_boot_mode": "uefi"}]])
case("caps_boot_mode_missing", hooks="capabilities", conf={"boot_mode": True})
case("caps_boot_mode_null_boot", hooks="capabilities", conf={"boot_mode": True},
     edits=[["/inventory/boot", None], ["/inventory/cpu/flags", ["aes"]]])
case("caps_boot_mode_number", hooks="capabilities", conf={"boot_mode": True},
     edits=[["/inventory/boot", {"current_boot_mode": 7}]])
case("caps_custom_flags", hooks="capabilities",
     conf={"cpu_flags": [["aes", "has_aes"], ["sse", "has_sse"], ["vmx", "has_aes"]]},
     edits=[["/inventory/cpu/flags", FLAGS]])
case("caps_flags_string", hooks="capabilities",
     conf={"cpu_flags": [["a", "letter_a"], ["aes", "cpu_aes"]]},
     edits=[["/inventory/cpu/flags", "aes"]])
case("caps_flags_number", hooks="capabilities",
     edits=[["/inventory/cpu/flags", 5]])
case("caps_no_cpu", hooks="capabilities", edits=[["/inventory/cpu"]])
case("caps_no_flags", hooks="capabilities")
case("caps_boot_mode_absent_aes", hooks="capabilities", conf={"boot_mode": True},
     edits=[["/inventory/cpu/flags", ["aes"]]])
case("caps_malformed_existing", hooks="capabilities",
     edits=[["/inventory/cpu/flags", ["aes"]]],
     node_edits=[["/properties/capabilities", "a:b,"]])
case("caps_duplicate_existing", hooks="capabilities",
     edits=[["/inventory/cpu/flags", ["aes"]]],
     node_edits=[["/properties/capabilities", "a:1,b:2,a:3"]])

# pci_devices
ALIASES = ['{"vendor_id": "8086", "product_id": "1572", "name": "nic"}',
           '{"vendor_id": "10de", "product_id": "1eb8", "name": "gpu"}',
           'not json', '{"vendor_id": "1"}',
           '{"vendor_id": "1af4", "product_id": "1045", "name": "gpu"}']
PCI = [{"vendor_id": "8086", "product_id": "1572", "bus": "0000:01:00.0"},
       {"vendor_id": "10de", "product_id": "1eb8", "bus": "0000:02:00.0"},
       {"vendor_id": "8086", "product_id": "1572", "bus": "0000:01:00.1"},
       {"vendor_id": "1af4", "product_id": "1045", "bus": "0000:03:00.0"},
       {"vendor_id": "ffff", "product_id": "0000", "bus": "0000:04:00.0"}]
case("pci_counts", hooks="pci_devices", conf={"alias": ALIASES},
     edits=[["/pci_devices", PCI]])
case("pci_no_devices", hooks="pci_devices", conf={"alias": ALIASES})
case("pci_no_aliases", hooks="pci_devices", edits=[["/pci_devices", PCI]])
case("pci_existing_caps", hooks="pci_devices", conf={"alias": ALIASES[:2]},
     edits=[["/pci_devices", PCI[:2]]],
     node_edits=[["/properties/capabilities", "gpu:5,boot_mode:uefi"]])
case("pci_two_devices", hooks="pci_devices", conf={"alias": ALIASES[:2]},
     edits=[["/pci_devices", PCI[:2]]])
case("pci_bad_device", hooks="pci_devices", conf={"alias": ALIASES[:2]},
     edits=[["/pci_devices", PCI[:2] + [{"bus": "x"}]]])
case("pci_not_list", hooks="pci_devices", conf={"alias": ALIASES[:2]},
     edits=[["/pci_devices", None]])
case("pci_numeric_ids", hooks="pci_devices",
     conf={"alias": ['{"vendor_id": 1, "product_id": 2, "name": "num"}']},
     edits=[["/pci_devices", [{"vendor_id": 1.0, "product_id": 2.0},
                              {"vendor_id": True, "product_id": 2},
                              {"vendor_id": "1", "product_id": "2"}]]])

# accelerators
ACCEL_PCI = [{"vendor_id": "10de", "product_id": "1eb8", "bus": "0000:af:00.0"},
             {"vendor_id": "10de", "product_id": "1df6", "bus": "0000:b0:00.0"},
             {"vendor_id": "8086", "product_id": "1572", "bus": "0000:3b:00.0"}]
case("accel_bundled", hooks="accelerators", edits=[["/pci_devices", ACCEL_PCI]])
case("accel_none_found", hooks="accelerators", edits=[["/pci_devices", ACCEL_PCI[2:]]])
case("accel_no_pci", hooks="accelerators")
case("accel_custom", hooks="accelerators",
     conf={"accelerators_yaml": "pci_devices:\n  - vendor_id: '8086'\n    device_id: '1572'\n"
                                "    type: NIC\n    count: 0x10\n    enabled: yes\n"
                                "    ratio: 1.5\n    extra: ~\n"},
     edits=[["/pci_devices", ACCEL_PCI]])
case("accel_missing_bus", hooks="accelerators",
     edits=[["/pci_devices", [{"vendor_id": "10de", "product_id": "1eb8"}]]])
for label, text in [("empty", ""), ("no_key", "devices: []\n"),
                    ("not_list", "pci_devices: {}\n"),
                    ("missing_id", "pci_devices:\n  - vendor_id: '1'\n"),
                    ("list_top", "- pci_devices\n"),
                    ("bad_yaml", "pci_devices: [\n")]:
    case("accel_invalid_%s" % label, hooks="ramdisk_error,accelerators",
         conf={"accelerators_yaml": text})

# extra_hardware
EDEPLOY = [["cpu", "logical", "number", "32"], ["disk", "sda", "size", "480"],
           ["disk", "sda", "model", "x"], ["system", "product", "vendor", " 12 "],
           ["net", "eth0", "speed", 1.5], [], ["a", "b", "c", True]]
case("eh_edeploy", hooks="extra_hardware", edits=[["/data", EDEPLOY]])
case("eh_missing", hooks="extra_hardware")
case("eh_not_edeploy", hooks="extra_hardware", edits=[["/data", {"a": 1}]])
case("eh_not_edeploy_strict", hooks="extra_hardware", conf={"strict": True},
     edits=[["/data", {"a": 1}]])
case("eh_strict_short_item", hooks="extra_hardware", conf={"strict": True},
     edits=[["/data", EDEPLOY[:2] + [["x", "y", "z"]]]])
case("eh_malformed_items", hooks="extra_hardware",
     edits=[["/data", [["a"], ["b", "c"], ["d", "e", "f"], [["u"], "x", "y", "z"],
                       ["g", ["u"], "y", "z"], ["h", "i", {"u": 1}, "z"],
                       [1, 2, 3, "4"], [1.0, 2, 3, "5"], [True, None, 2.5, "x"],
                       ["k", "k", "k", "1_0"]]]])

# lldp_basic
case("lldp_functional", hooks="validate_interfaces,lldp_basic")
case("lldp_raw_override", hooks="validate_interfaces,lldp_basic",
     edits=[["/lldp_raw", {"eth1": [[1, "04aabbccddeeff"], [2, "0565746830"]],
                           "eth3": [[5, "73776974636831"]]}]])
case("lldp_no_all_interfaces_entry", hooks="validate_interfaces,lldp_basic",
     edits=[["/inventory/interfaces/-", {"name": "eth7", "mac_address": "bad",
                                         "lldp": [[5, "73776974636831"]]}]])
case("lldp_raw_not_dict", hooks="validate_interfaces,lldp_basic",
     edits=[["/lldp_raw", [1]]])
case("lldp_nameless_interface", hooks="validate_interfaces,lldp_basic",
     edits=[["/inventory/interfaces/-", {"mac_address": "aa:aa:aa:aa:aa:aa"}]])
case("lldp_handmade", base="handmade", hooks="validate_interfaces,lldp_basic",
     conf={"add_ports": "all"})

# local_link_connection
LLC_PORTS = [port("p-eth1", "11:22:33:44:55:66"),
             port("p-eth3", "66:55:44:33:22:11", llc={"port_id": "old"})]
case("llc_processed", hooks="validate_interfaces,lldp_basic,local_link_connection",
     conf={"add_ports": "disabled"}, ports=LLC_PORTS)
case("llc_raw", hooks="validate_interfaces,local_link_connection",
     conf={"add_ports": "disabled"}, ports=LLC_PORTS)
case("llc_keep_existing", hooks="validate_interfaces,local_link_connection",
     conf={"add_ports": "disabled", "overwrite_existing": False},
     edits=[["/inventory/interfaces/2/lldp", [[1, "04010203040506"], [2, "0765746833"]]]],
     ports=LLC_PORTS)
case("llc_no_lldp", hooks="validate_interfaces,local_link_connection",
     conf={"add_ports": "disabled"}, edits=[["/inventory/interfaces/0/lldp"]],
     ports=LLC_PORTS)
case("llc_empty_tlvs", hooks="validate_interfaces,local_link_connection",
     conf={"add_ports": "disabled"}, edits=[["/inventory/interfaces/0/lldp", [[3, "003c"]]]],
     ports=LLC_PORTS)
case("llc_non_mac_chassis", hooks="validate_interfaces,lldp_basic,local_link_connection",
     conf={"add_ports": "disabled"},
     edits=[["/inventory/interfaces/0/lldp", [[1, "0773776974636831"], [2, "0565746830"]]]],
     ports=LLC_PORTS)
case("llc_uppercase_inventory_mac", hooks="validate_interfaces,local_link_connection",
     conf={"add_ports": "disabled"},
     edits=[["/inventory/interfaces/0/mac_address", "11:22:33:44:55:AA"]],
     ports=[port("p-eth1", "11:22:33:44:55:aa")])
case("llc_handmade", base="handmade", hooks=HANDMADE_HOOKS + ",physnet_cidr_map",
     conf={"add_ports": "all", "cidr_map": ["127.0.0.0/8:loop"]},
     ports=[port("p-eno1", "52:54:00:aa:00:01")])

# physnet_cidr_map
PHYS_PORTS = [port("p-eth1", "11:22:33:44:55:66"),
              port("p-eth3", "66:55:44:33:22:11", physnet="net-b"),
              port("p-ib0", "7c:fe:90:29:26:52", physnet="other")]
CIDRS = ["1.2.1.0/30:net-a", "1.2.1.0/24:net-b", "2001:db8::/64:net-6"]
case("phys_map", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": CIDRS}, ports=PHYS_PORTS)
case("phys_keep_existing", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": CIDRS, "overwrite_existing": False}, ports=PHYS_PORTS)
case("phys_ipv6", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": CIDRS, "add_ports": "disabled"},
     edits=[["/inventory/interfaces/0/ipv4_address", None],
            ["/inventory/interfaces/0/ipv6_address", "2001:db8::5%eth1"]],
     ports=PHYS_PORTS)
case("phys_unmapped", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": ["10.0.0.0/8:ten"]}, ports=PHYS_PORTS)
case("phys_no_map", hooks="validate_interfaces,physnet_cidr_map", ports=PHYS_PORTS)
case("phys_uppercase_inventory_mac", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": CIDRS, "add_ports": "disabled"},
     edits=[["/inventory/interfaces/0/mac_address", "11:22:33:44:55:6A"]],
     ports=[port("p-eth1", "11:22:33:44:55:6a")])
case("phys_duplicate_network", hooks="validate_interfaces,physnet_cidr_map",
     conf={"cidr_map": ["1.2.1.0/24:first", "1.2.1.0/255.255.255.0:second"]},
     ports=PHYS_PORTS)

# raid_device
case("raid_first_run", hooks="raid_device", base="handmade")
case("raid_second_run", hooks="raid_device", base="handmade",
     node_edits=[["/extra/block_devices", {"serials": ["S45PNA0M500001"]}]])
case("raid_no_new", hooks="raid_device", base="handmade",
     node_edits=[["/extra/block_devices", {"serials": ["S45PNA0M500001", "ZC20ABCD"]}]])
case("raid_several_new", hooks="raid_device", base="handmade",
     node_edits=[["/extra/block_devices", {"serials": []}]])
case("raid_root_known", hooks="raid_device", base="handmade",
     node_edits=[["/properties/root_device", None]])
case("raid_no_serials", hooks="raid_device")
case("raid_legacy", hooks="raid_device", base="empty",
     edits=[["/block_devices", {"serials": ["a", "b"]}]])
case("raid_local_gb_kept", hooks="raid_device", base="empty",
     edits=[["/local_gb", 10], ["/block_devices", {"serials": ["a"]}]])
case("raid_bad_extra", hooks="raid_device", base="handmade",
     node_edits=[["/extra/block_devices", "oops"]])

# pipeline loading
case("load_unknown", hooks="ramdisk_error,foo,scheduler,bar")
case("load_conflict", hooks="validate_interfaces",
     conf={"add_ports": "disabled", "keep_ports": "added"})
case("load_duplicates", hooks="scheduler,scheduler,example,example")
case("load_empty", hooks=" , ,")

# whole-pipeline robustness: upstream crashes on these
case("crash_lldp_iface_not_in_all", hooks="validate_interfaces,lldp_basic",
     edits=[["/inventory/interfaces/-", {"name": "eth8",
                                         "lldp": [[1, "04112233aabbcc"]]}]])
case("crash_pci_device_without_ids", hooks="pci_devices",
     edits=[["/pci_devices", [{"bus": "0000:00:01.0"}]]])
case("crash_root_disk_not_dict", hooks="root_disk_selection",
     edits=[["/root_disk", "/dev/sda"]])


FILENAME_DT = [2024, 1, 2, 13, 4, 5, 60]
FILENAME_CASES = [
    ["{uuid}_{dt:%Y%m%d-%H%M%S.%f}.tar.gz", NODE_UUID, "52:54:00:aa:00:01", "1.2.3.4"],
    ["{uuid}_{dt:%Y%m%d-%H%M%S.%f}.tar.gz", None, None, None],
    ["{mac}-{bmc}-{dt}.tgz", None, "aa:bb:cc:dd:ee:ff", "10.0.0.1"],
    ["{dt!r}|{uuid!r:>12}|{mac!s:^20}|{bmc:.3}", NODE_UUID, "aa:bb", "x"],
    ["{{literal}}{dt.year:04d}-{dt.month:02}{dt.day:+}{dt.microsecond:_>8,}", NODE_UUID, None, None],
    ["{uuid[0]}{uuid[35]}{uuid:*<40}{mac:05}", NODE_UUID, "ab", None],
    ["{dt:%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %p %P %r %R %s %S %T %u %U %V %w %W %x %X %y %Y %% %z %Z %q}",
     None, None, None],
    ["{dt:%-d %_d %05d %-5d %^a %#b %#p %10A %5q %Ey %Od %-f %5f %-z %5Z}", None, None, None],
    ["{dt:%}{dt:abc%}", None, None, None],
    ["{bmc:{mac}}", None, "<10", "b"],
    ["{uuid!a}{dt.hour:x}{dt.hour:#o}{dt.hour:b}", "\u00e9t\u00e9", None, None],
    ["{0}", None, None, None],
    ["{}", None, None, None],
    ["{nope}", None, None, None],
    ["{uuid", None, None, None],
    ["uuid}", None, None, None],
    ["{uuid:x}", None, None, None],
    ["{uuid:=10}", None, None, None],
    ["{uuid:+}", None, None, None],
    ["{uuid:,}", None, None, None],
    ["{uuid!z}", None, None, None],
    ["{uuid[a]}", None, None, None],
    ["{dt.hour:.2}", None, None, None],
    ["{mac}", None, "..", None],
    ["{bmc}", None, None, "../../etc/cron.d/x"],
    ["logs/{uuid}", NODE_UUID, None, None],
]


def filename_case(fmt, uuid, mac, bmc):
    dt = datetime.datetime(*FILENAME_DT)
    try:
        return {"ok": fmt.format(uuid=uuid or "unknown",
                                 mac=(mac or "unknown").replace(":", ""),
                                 dt=dt, bmc=bmc or "unknown")}
    except Exception as exc:  # noqa: BLE001
        return {"error": "%s: %s" % (type(exc).__name__, exc)}


CAPABILITY_CASES = [
    ["", [["a", "1"]]],
    [None, [["a", "1"]]],
    ["a:1,b:2", [["c", "3"], ["a", "9"], ["b", None], ["z", None]]],
    ["a:1,a:2,b:x:y", [["b", "z"]]],
    [" a : 1 ,b:", [["new", True], ["n", 5], ["f", 2.5], ["o", {"k": [1]}]]],
    ["a:1", [["a", "1"]]],
]


def capability_case(existing, updates):
    node = types.SimpleNamespace(properties={} if existing is None
                                 else {"capabilities": existing})
    info = node_cache.NodeInfo(uuid=NODE_UUID, node=node, ports=[])
    calls = []
    info.update_properties = lambda **props: calls.append(props)
    try:
        info.update_capabilities(**dict(updates))
    except Exception as exc:  # noqa: BLE001
        return {"error": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        info.release_lock()
    return {"ok": calls[0]["capabilities"]}


def main():
    out_cases = []
    for c in CASES:
        record = {k: v for k, v in c.items()}
        record["expected"] = run_case(c)
        out_cases.append(record)
    filenames = [{"args": c, "expected": filename_case(*c)} for c in FILENAME_CASES]
    capabilities = [{"existing": e, "updates": u, "expected": capability_case(e, u)}
                    for e, u in CAPABILITY_CASES]
    fixture = {"bases": BASES, "base_node": BASE_NODE, "cases": out_cases,
               "filename_dt": FILENAME_DT, "filenames": filenames,
               "capabilities": capabilities,
               # What upstream stored for handmade_reference (logs excluded).
               "handmade_stored": load("inspector-stored-data-handmade.json")}
    with open(os.path.join(HERE, "hooks.json"), "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print("%d cases" % len(out_cases))


if __name__ == "__main__":
    main()

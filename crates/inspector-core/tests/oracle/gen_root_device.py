"""Oracle fixtures for crates/inspector-core/src/root_device.rs.

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_root_device.py)
Writes root_device.json next to this script.

Calls ironic-inspector 12.5.0's own ironic_inspector.common.device_hints
(parse_root_device_hints, match_root_device_hints, find_devices_by_hints)
over a grid of hints x disk lists. Dicts are built with sorted keys so that
Python's insertion order equals serde_json's (sorted) map order.

Errors are recorded as {"error": n}, n indexing the "errors" table of
[exception, message, exact]. "exact" is false
where upstream's text cannot be reproduced: ast.literal_eval messages contain
object addresses, and SyntaxError vs ValueError depends on full Python syntax
(the Rust side reports ValueError). Lists of several invalid hint names are
sorted (upstream prints them in random set order).
"""

import copy
import json
import logging
import os
import random
import re
import sys
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from ironic_inspector.common import device_hints  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ERRORS = []  # [exception, message, exact], referenced by index (fixture size)
GIB = 1 << 30


def canon(value):
    if isinstance(value, dict):
        return {k: canon(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value


def error(e):
    message = str(e)
    exact = True
    if isinstance(e, SyntaxError) or "malformed node or string on line" in message:
        exact = False
        message = re.sub(r" at 0x[0-9a-f]+>", ">", message)
    m = re.match(r'The hints "(.*)" are invalid\. (.*)$', message, re.S)
    if m:
        names = sorted(m.group(1).split(", "))
        message = 'The hints "%s" are invalid. %s' % (", ".join(names), m.group(2))
    record = [type(e).__name__, message, exact]
    if record not in ERRORS:
        ERRORS.append(record)
    return {"error": ERRORS.index(record)}


def parse(hints):
    try:
        parsed = device_hints.parse_root_device_hints(copy.deepcopy(hints))
    except Exception as e:  # noqa: BLE001 - recording upstream's failure
        return error(e)
    return {"parsed": parsed}


def first(disks, hints):
    disks = copy.deepcopy(disks)
    try:
        dev = device_hints.match_root_device_hints(disks, copy.deepcopy(hints))
    except Exception as e:  # noqa: BLE001
        return error(e)
    if dev is None:
        return None
    return next(i for i, d in enumerate(disks) if d is dev)


def find_all(disks, hints):
    disks = copy.deepcopy(disks)
    try:
        found = list(device_hints.find_devices_by_hints(disks,
                                                        copy.deepcopy(hints)))
    except Exception as e:  # noqa: BLE001
        return error(e)
    return [next(i for i, d in enumerate(disks) if d is dev) for dev in found]


def disk(name, size_gib, model, **extra):
    d = {"name": name, "size": int(size_gib * GIB) if size_gib is not None else None,
         "model": model, "serial": None, "wwn": None, "vendor": None,
         "wwn_with_extension": None, "wwn_vendor_extension": None,
         "rotational": True, "hctl": None, "by_path": None}
    d.update(extra)
    return d


FUNCTIONAL = [
    disk("/dev/sda", 1000, "Big Data Disk", serial="SER-A1", wwn="0x5000c500a1b2c3d4",
         vendor="ATA", hctl="1:0:0:0", by_path="/dev/disk/by-path/pci-0000:00:1f.2-ata-1",
         wwn_with_extension="0x5000c500a1b2c3d4", rotational=True),
    disk("/dev/sdb", 20, "Small OS Disk", serial="ser-b2", wwn=None, vendor="Samsung",
         hctl="2:0:0:0", by_path="/dev/disk/by-path/pci-0000:00:1f.2-ata-2",
         rotational=False),
]
DISK_LISTS = [
    FUNCTIONAL,
    FUNCTIONAL + [disk("/dev/sdc", 20.5, "Small OS Disk", rotational="0")],
    [],
    [{"name": "/dev/sdx", "model": "no size"}] + FUNCTIONAL,
    FUNCTIONAL + [{"name": "/dev/sdy", "model": "no size"}],
    [disk("/dev/sda", None, "Big Data Disk") | {"size": str(20 * GIB)}] + FUNCTIONAL,
    [disk("/dev/sda", 1, ""), disk("/dev/sdb", 1, None), disk("/dev/sdc", 1, "   "),
     disk("/dev/sdd", 20, "Small OS Disk")],
    [disk("/dev/sda", 1, "=")] + FUNCTIONAL,
    FUNCTIONAL + [disk("/dev/sdz", 1, "<")],
    ["not a disk"] + FUNCTIONAL,
    [{"size": 20 * GIB, "model": "x"}],
    [disk(None, 20, "x")],
    [disk("/dev/sda", 20, "x"), disk(5, 20, "x")],
    [disk("/dev/sd%s" % c, 20, "m", rotational=r) for c, r in
     zip("abcdefghij", ["1", 0, "yes", None, "maybe", 1.0, "TRUE ", "off", 2, [1]])],
    [disk("/dev/sda", None, "m", size=s) for s in
     [20.0 * GIB, True, -GIB, 1 << 63, 0, 21474836480.5, 1.5]],
    [disk("/dev/sda", 20, 12345, serial=12345, vendor={"b": 1, "a": "x'y"},
          wwn=["a", 1.5], hctl=True, by_path=1e16)],
    [disk("/dev/sda", 20, "日本 ディスク", serial="A b\tC", vendor="ÀÉÎ"),
     disk("/dev/sdb", 20, "<or> x", serial="s== a", vendor="5"),
     disk("/dev/sdc", 20, "1e3", serial="-1", vendor="0x1f"),
     disk("/dev/sdd", 20, "nan", serial="inf", vendor="1_000")],
    [disk("/dev/sda", 100, "SSD 100", serial="100"), disk("/dev/sdb", 50, "ssd 50", serial="50"),
     disk("/dev/sdc", 200, "HDD 200", serial="200")],
]

HINTS = [
    # size
    {"size": 20}, {"size": "20"}, {"size": 1000}, {"size": ">= 20"}, {"size": "= 20"},
    {"size": "== 20"}, {"size": "!= 20"}, {"size": "<= 20"}, {"size": "< 21"},
    {"size": "> 19"}, {"size": "<or> 20 <or> 1000"}, {"size": "<in> 20"},
    {"size": "<all-in> 20"}, {"size": "s== 20"}, {"size": "s!= 20"}, {"size": "s< 20"},
    {"size": "S== 20"}, {"size": " 20 "}, {"size": "2_0"}, {"size": "٢٠"},
    {"size": 20.0}, {"size": 20.5}, {"size": 0}, {"size": -5}, {"size": "-5"},
    {"size": "0"}, {"size": True}, {"size": None}, {"size": ""}, {"size": "   "},
    {"size": "abc"}, {"size": "<range-in> [ 10 20 ]"}, {"size": "<range-in> 10"},
    {"size": "<="}, {"size": "\x0b<= 20"}, {"size": [20]}, {"size": {"a": 1}},
    {"size": "20 30"}, {"size": "=20"}, {"size": "== 1e1"}, {"size": ">=\t20"},
    {"size": "<or> 20"}, {"size": "<in>"}, {"size": "== ="}, {"size": "<= 20\n<"},
    # strings
    {"model": "Big Data Disk"}, {"model": "big data disk"}, {"model": "s== Big Data Disk"},
    {"model": "<in> data"}, {"model": "<in> Data"}, {"model": "<or> foo <or> small os disk"},
    {"model": "s!= small os disk"}, {"model": "s< c"}, {"model": "s>= big"},
    {"model": "s<= small"}, {"model": "s> a"},
    {"model": "<all-in> big"}, {"model": "= 5"}, {"model": "== 5"}, {"model": "> 1"},
    {"model": "s=="}, {"model": "<"}, {"model": "<or>"}, {"model": "= a=b"},
    {"model": "none"}, {"model": "s== none"}, {"model": ""}, {"model": " "},
    {"model": 5}, {"model": None}, {"model": True}, {"model": ["a"]},
    {"model": "<range-in> a b c d"}, {"model": "日本 ディスク"}, {"model": "a/b~c"},
    {"model": "  Big  "}, {"model": "s== a\tb"}, {"model": "<or>a<or>b"},
    {"model": "<or> x <or>"}, {"model": "<all-in> a b"}, {"model": "12345"},
    {"model": "<in> 1e"}, {"model": "== 1e3"}, {"model": "> 2"}, {"model": "!= nan"},
    {"model": "s== <or>"}, {"model": "<= \u3000"},
    {"serial": "SER-A1"}, {"serial": "<in> b"}, {"serial": "s== a b\tc"},
    {"serial": "<or> 100 <or> 50"}, {"serial": ">= 60"}, {"serial": "= -1"},
    {"serial": "<all-in> x"}, {"vendor": "ata"}, {"vendor": "<in> {"},
    {"vendor": "àéî"}, {"vendor": "== 31"}, {"vendor": "<all-in> 1"},
    {"wwn": "0x5000C500A1B2C3D4"}, {"wwn": "none"}, {"wwn": "<in> 5000"},
    {"wwn_with_extension": "<in> 0x"}, {"wwn_vendor_extension": "none"},
    {"name": "/dev/sda"}, {"name": "sda"}, {"name": "<in> sdb"}, {"name": "s== /dev/sdb"},
    {"name": "/DEV/SDB"}, {"hctl": "1:0:0:0"}, {"hctl": "<in> :0:"},
    {"by_path": "<in> ata-2"}, {"by_path": "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"},
    # rotational
    {"rotational": True}, {"rotational": False}, {"rotational": "true"},
    {"rotational": "yes"}, {"rotational": "0"}, {"rotational": 1}, {"rotational": 0},
    {"rotational": 2}, {"rotational": "maybe"}, {"rotational": None}, {"rotational": 1.0},
    {"rotational": ""}, {"rotational": [1]}, {"rotational": " On "},
    # combinations
    {"size": 20, "model": "small os disk"}, {"model": "<in> disk", "size": ">= 100"},
    {"rotational": False, "size": "<= 100"}, {"model": "x", "size": "<in> 20"},
    {"name": "/dev/sdb", "rotational": True}, {"serial": "s== ser-b2", "vendor": "samsung"},
    {"model": "s==", "size": "abc"}, {"foo": 1, "size": "abc"},
    # invalid names and non-dict hints
    {"foo": 1}, {"foo": 1, "bar": 2, "size": 20}, {"Size": 20}, {"": 1},
    "size", "ab", ["size"], ["foo"], [1], [1, 1.0, True], [["a"]], [{"a": 1}],
    [None], 5, 1.5, True, [], {}, "", None, 0, False, 0.0,
]

cases = []
for hints in HINTS:
    hints = canon(hints)
    entry = {"hints": hints}
    entry.update(parse(hints))
    # Per disk list: [first match (index, null or error), all matches (list or error)]
    entry["results"] = [[first(canon(d), hints), find_all(canon(d), hints)]
                        for d in DISK_LISTS]
    cases.append(entry)

# Random "operator soup": hint and attribute strings built from the grammar's
# pieces, to exercise the pyparsing emulation's corners.
PIECES = ["<or>", "<in>", "<all-in>", "<range-in>", "s==", "s!=", "s<", "s<=", "s>",
          "s>=", "==", "=", "!=", ">=", "<=", ">", "<", " ", " ", "\t", "\n", "\r",
          "\x0b", "\u3000", "a", "B", "20", "1e3", "-", ".", "_", "j", "é", "[", "]",
          "x y", "0x1f", "none"]
rng = random.Random(7)


def soup():
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


random_cases = []
for _ in range(400):
    name = rng.choice(["size", "model", "serial", "vendor", "name", "rotational"])
    hint = soup() if rng.random() < 0.8 else rng.choice([20, "20", True, None, 1.5])
    hints = canon({name: hint})
    disks = []
    for i in range(rng.randint(0, 3)):
        attribute = soup() if rng.random() < 0.8 else rng.choice([5, None, True, 20.5])
        d = {"name": "/dev/sd%d" % i, "size": rng.choice([20 * GIB, 21 * GIB, GIB // 2, 0])}
        if name != "name":
            d[name] = attribute
        disks.append(canon(d))
    entry = {"hints": hints, "disks": disks}
    entry.update(parse(hints))
    entry["result"] = [first(disks, hints), find_all(disks, hints)]
    random_cases.append(entry)

out = {"disk_lists": [canon(d) for d in DISK_LISTS], "cases": cases,
       "random": random_cases, "errors": ERRORS}
path = os.path.join(HERE, "root_device.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print("%d hints x %d disk lists, %d random -> %s (%d bytes)" % (
    len(cases), len(DISK_LISTS), len(random_cases), path, os.path.getsize(path)),
    file=sys.stderr)

"""Oracle fixtures for crates/inspector-core/src/lldp.

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_lldp.py)
Writes lldp.json next to this script.

For every TLV list it records what upstream's lldp_basic parser
(LLDPBasicProcessingHook._parse_lldp_tlvs -> lldp_parsers.LLDPBasicMgmtParser)
and local_link_connection's raw-TLV path (_get_local_link_patch) produce.

Where upstream raises (and so fails the whole introspection), the Rust code
skips just the offending TLV with a warning. The expected output is then what
upstream produces for the list without the items that raise on their own, and
`upstream_error` records the exception for information.
"""

import copy
import json
import logging
import os
import random
import sys
import warnings

warnings.simplefilter("ignore")

from oslo_config import cfg  # noqa: E402

from ironic_inspector import conf  # noqa: E402,F401  (registers options)
from ironic_inspector.plugins import lldp_basic  # noqa: E402
from ironic_inspector.plugins import local_link_connection  # noqa: E402
from oslo_utils import netutils  # noqa: E402

cfg.CONF([], project="ironic-inspector")

HERE = os.path.dirname(os.path.abspath(__file__))
# The ramdisk payloads the test bed also uses (inside this repository).
DATA = os.path.join(HERE, "..", "..", "..", "..", "scripts", "testbed", "data")


class Counter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1

    def handleError(self, record):
        pass


COUNTER = Counter()
_logger = logging.getLogger("ironic_inspector")
_logger.addHandler(COUNTER)
_logger.setLevel(logging.WARNING)
_logger.propagate = False
logging.raiseExceptions = False

BASIC = lldp_basic.LLDPBasicProcessingHook()
LLC = local_link_connection.GenericLocalLinkConnectionHook()


class Port:
    local_link_connection = {}


def basic(tlvs):
    """(nv dict or None, warnings, exception text or None)"""
    COUNTER.count = 0
    try:
        nv = BASIC._parse_lldp_tlvs(tlvs, None)
        return nv, COUNTER.count, None
    except Exception as e:  # noqa: BLE001 - recording upstream's failure
        return None, COUNTER.count, "%s: %s" % (type(e).__name__, str(e)[:60])


def llc(tlvs):
    """(patches or None, warnings, exception text or None)"""
    COUNTER.count = 0
    try:
        patches = []
        for tlv_type, tlv_value in tlvs:
            p = LLC._get_local_link_patch(tlv_type, tlv_value, Port(), None)
            if p is not None:
                patches.append(p)
        return patches, COUNTER.count, None
    except Exception as e:  # noqa: BLE001
        return None, COUNTER.count, "%s: %s" % (type(e).__name__, str(e)[:60])


def expected_basic(tlvs):
    nv, warns, error = basic(copy.deepcopy(tlvs))
    if error is None:
        return {"expected": nv, "warnings": warns, "upstream_error": None}
    if not isinstance(tlvs, list):
        return {"expected": {}, "warnings": 1, "upstream_error": error}
    kept = [item for item in tlvs if basic([copy.deepcopy(item)])[2] is None]
    nv, warns, error2 = basic(copy.deepcopy(kept))
    assert error2 is None, (tlvs, error2)
    return {"expected": nv, "warnings": warns + len(tlvs) - len(kept),
            "upstream_error": error}


def link_values(patches):
    out = {"port_id": None, "switch_id": None}
    for p in patches:
        out[p["path"].rsplit("/", 1)[1]] = p["value"]
    return out


def expected_llc(tlvs):
    patches, warns, error = llc(copy.deepcopy(tlvs))
    if error is None:
        return dict(link_values(patches), warnings=warns, upstream_error=None)
    if not isinstance(tlvs, list):
        return dict(port_id=None, switch_id=None, warnings=1,
                    upstream_error=error)
    kept = [item for item in tlvs if llc([copy.deepcopy(item)])[2] is None]
    patches, warns, error2 = llc(copy.deepcopy(kept))
    assert error2 is None, (tlvs, error2)
    return dict(link_values(patches), warnings=warns + len(tlvs) - len(kept),
                upstream_error=error)


CASES = []


def case(name, tlvs):
    CASES.append({"name": name, "tlvs": tlvs,
                  "processed": expected_basic(tlvs),
                  "local_link": expected_llc(tlvs)})


def h(*parts):
    return "".join(parts)


def u16(v):
    return "%04x" % v


def utf(s):
    return s.encode("utf-8").hex()


# --- Reference data ------------------------------------------------------

inventory = json.load(open(os.path.join(DATA, "ipa-inventory-handmade-2nic.json")))
stored = json.load(open(os.path.join(DATA, "inspector-stored-data-handmade.json")))
for iface in inventory["inventory"]["interfaces"]:
    tlvs = iface.get("lldp")
    if tlvs is None:
        continue
    nv = basic(copy.deepcopy(tlvs))[0]
    want = stored["all_interfaces"][iface["name"]].get("lldp_processed")
    assert nv == want, (iface["name"], nv, want)
    case("handmade:" + iface["name"], tlvs)

# upstream-behaviour §functional: the functional tests' TLVs
case("functional", [[1, "04112233aabbcc"], [2, "07373334"], [3, "003c"]])

# --- Every TLV type and subtype upstream handles ----------------------------

P = [5, utf("sw")]  # something recorded first, so org-specific TLVs are kept

for sub in list(range(0, 9)) + [255]:
    for payload in ["", utf("abc"), "112233aabbccdd", "1122", "01c0000201",
                    "0602aabbccddeeff", "09ff"]:
        case("chassis:%d:%s" % (sub, payload), [[1, "%02x%s" % (sub, payload)]])
        case("port:%d:%s" % (sub, payload), [[2, "%02x%s" % (sub, payload)]])

for t in (4, 5, 6):
    for payload in ["", "00", utf("leaf-01 é"), "ff", "c0af", "eda080",
                    "f4908080", "6100", utf("日本")]:
        case("text:%d:%s" % (t, payload), [[t, payload]])

for word in ["0000", "0001", "0002", "0004", "0008", "0010", "0020", "0040",
             "0080", "0100", "0200", "0400", "0800", "f800", "ffff", "0014"]:
    case("caps:" + word, [[7, word + "ffff"], [7, "0000" + word]])
for payload in ["", "00", "000000", "0000000000"]:
    case("caps-len:" + payload, [[7, payload]])

for payload in ["05010a000001", "0702aabbccddeeff0000", "0706aabbccddeeff",
                "0509aa", "0500", "0100", "", "05", "05010a0000", "11020000",
                "1102" + "00" * 15 + "0a", "1102" + "20010db8" + "00" * 11 + "01",
                "0101c0a80001020000000300"]:
    case("mgmt:" + payload, [P, [8, payload], [8, payload]])

rng = random.Random(1)
ipv6 = []
for _ in range(40):
    words = [rng.choice([0, 0, 0, 1, 0xffff, rng.randrange(65536)]) for _ in range(8)]
    ipv6.append("".join("%04x" % w for w in words))
ipv6 += ["00000000000000000000ffff01020304", "00000000000000000000ffff00000000",
         "00000000000000000001000000000000", "00000000000000000000000100000000",
         "20010db8000000010000000000000001", "20010db8000000000001000000000001",
         "fe800000000000000000000000000000", "0000000000000000000000000000ffff",
         "ffffffffffffffffffffffffffffffff", "00000000000000000000fffe01020304"]
for i, addr in enumerate(ipv6):
    case("ipv6:%d" % i, [[1, "0502" + addr], [8, "1102" + addr]])

DOT1 = "0080c2"
DOT3 = "00120f"
dot1_payloads = {
    1: ["0064", "00", "", "006400"],
    2: ["060001", "000002", "040003", "020004", "0600", "06000100"],
    3: ["006403616263", "0065056162630000", "00660561620063", "006700",
        "0068016162", "0069026162", "006a02ff00", "0064", "00"],
    4: ["0302aabb", "00", "", "020102ff", "030288"],
    5: ["00"],
    6: ["00aa", "00", "00abcd"],
    7: ["0300000001", "02ffffffff", "01ffffffffff", "00000000", "0100000002"],
    8: ["0000"],
}
for sub, payloads in dot1_payloads.items():
    for payload in payloads:
        tlv = [127, "%s%02x%s" % (DOT1, sub, payload)]
        case("dot1:%d:%s" % (sub, payload), [P, tlv, tlv])
dot3_payloads = {
    1: ["03c0360010", "010000001e", "0240000010", "0000000000", "03ffff0035",
        "03ffff0036", "03ffff0037", "0102", "03c036001000"],
    2: ["00"],
    3: ["01000000ff", "0300000001", "01000000"],
    4: ["05dc", "05", "05dc00"],
    5: ["0000"],
}
for sub, payloads in dot3_payloads.items():
    for payload in payloads:
        tlv = [127, "%s%02x%s" % (DOT3, sub, payload)]
        case("dot3:%d:%s" % (sub, payload), [P, tlv, tlv])
for mau in range(0, 56):
    pmd = (1 << (mau % 16)) | (0x4000 if mau % 3 == 0 else 0)
    case("mau:%d" % mau, [P, [127, "%s01%02x%04x%04x" % (DOT3, mau % 4, pmd, mau)]])
for payload in ["", "00", "0080", "0080c2", "aabbcc01", "aabbcc"]:
    case("org:" + payload, [P, [127, payload]])
case("org-first-dropped", [[127, DOT1 + "010064"], [127, DOT3 + "0405dc"],
                           [5, utf("x")], [127, DOT1 + "010065"]])
case("org-first-after-null", [[1, "0509"], [127, DOT1 + "010064"]])
case("first-wins", [[1, "0761"], [1, "0762"], [2, "0531"], [2, "0532"],
                    [4, "61"], [4, "62"], [5, "61"], [5, "62"], [6, "61"], [6, "62"]])
case("end-and-ttl", [[0, ""], [0, "ffff"], [3, "003c"], [3, ""], [9, "00"],
                     [126, "00"], [128, "00"], [-1, "00"]])

# --- Type and value oddities -------------------------------------------------

odd = [
    [[1.0, "0761"]], [[True, "0761"]], [[False, "0761"]], [["1", "0761"]],
    [[None, "0761"]], [[1.5, "0761"]], [[127.0, DOT1 + "010064"]],
    [[[1], "0761"]], [[{"a": 1}, "0761"]], [[[1], None]], [[1, None]],
    [[1, 5]], [[1, []]], [[1, {}]], [[1, "0"]], [[1, "zz"]], [[1, "é0"]],
    [[1, "0761", 3]], [[1]], [], [[]], ["ab"], [1], [None], [{}],
    [[1, "04AABBCCDDEEFF"]], [[2, "07373334"], "x", [5, "61"]],
    [[1e300, "00"]], [[18446744073709551616, "00"]], [[-0.0, "00"]],
]
for i, tlvs in enumerate(odd):
    case("odd:%d" % i, tlvs)
for i, tlvs in enumerate([None, "", "abc", {}, {"ab": 1}, 5, True, 1.5]):
    case("not-a-list:%d" % i, tlvs)

# --- Random mutations ----------------------------------------------------------

RICH = [
    [1, "04885a92ec5459"], [2, "0545746865726e6574312f3138"], [3, "0078"],
    [4, utf("up")], [5, utf("leaf")], [6, utf("NX")],
    [7, "00140004"], [8, "05010a0000010200000003" + "00"],
    [127, DOT1 + "010064"], [127, DOT1 + "02060064"], [127, DOT1 + "03006503616263"],
    [127, DOT1 + "040288cc"], [127, DOT1 + "06000a"], [127, DOT1 + "070300000007"],
    [127, DOT3 + "0103c0360010"], [127, DOT3 + "030100000009"],
    [127, DOT3 + "042328"], [0, ""],
]
BASES = [RICH, inventory["inventory"]["interfaces"][0]["lldp"],
         [[1, "04112233aabbcc"], [2, "07373334"], [3, "003c"]]]
TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 127, 9, 200, -1, "1", 1.0, True, None, [1]]


def mutate(tlvs):
    tlvs = copy.deepcopy(tlvs)
    for _ in range(rng.randint(1, 4)):
        if not tlvs:
            tlvs.append([rng.choice(TYPES), ""])
        i = rng.randrange(len(tlvs))
        item = tlvs[i]
        kind = rng.randrange(12)
        if not (isinstance(item, list) and len(item) == 2
                and isinstance(item[1], str)):
            kind = 11
        if kind == 0:  # truncate by whole bytes
            item[1] = item[1][:rng.randrange(0, len(item[1]) + 1) // 2 * 2]
        elif kind == 1:  # flip one hex digit
            if item[1]:
                j = rng.randrange(len(item[1]))
                item[1] = item[1][:j] + rng.choice("0123456789abcdef") + item[1][j + 1:]
        elif kind == 2:  # random byte at a random place
            j = rng.randrange(len(item[1]) // 2 + 1) * 2
            item[1] = item[1][:j] + "%02x" % rng.randrange(256) + item[1][j:]
        elif kind == 3:  # retype
            item[0] = rng.choice(TYPES)
        elif kind == 4:  # odd-length hex
            item[1] = item[1] + "f"
        elif kind == 5:  # non-string value
            item[1] = rng.choice([None, 5, [], {}, 1.5, True])
        elif kind == 6:  # duplicate
            tlvs.insert(rng.randrange(len(tlvs) + 1), copy.deepcopy(item))
        elif kind == 7:  # drop
            del tlvs[i]
        elif kind == 8:  # shuffle
            rng.shuffle(tlvs)
        elif kind == 9:  # random payload for a random known type
            tlvs[i] = [rng.choice(TYPES[:10]),
                       "".join("%02x" % rng.randrange(256)
                               for _ in range(rng.randrange(0, 12)))]
        elif kind == 10:  # non-hex digit
            item[1] = item[1] + rng.choice(["zz", "g0", "é0"])
        else:  # garbage item
            tlvs[i] = rng.choice(["ab", 1, [], [1], [1, "00", 3], {}, None,
                                  [1, "0761"]])
    return tlvs


for n in range(210):
    case("mutated:%d" % n, mutate(rng.choice(BASES)))

# --- is_valid_mac --------------------------------------------------------------

macs = ["aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "aA:bB:cC:dD:eE:fF",
        "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff", "aabbccddeeff", "a:b:c:d:e:f",
        "aa:bb:cc:dd:ee:ff:00", "", "0.0.0.10", "aa:bb:cc:dd:ee:f",
        " aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff ", "aa:bb:cc:dd:ee:ff\n",
        "aa:bb:cc:dd:ee:ff\n\n", "aa:bb:cc:dd:ee:ff\r", "aabbcc-ddeeff",
        "aa bb cc dd ee ff", "aa.bb.cc.dd.ee.ff", "aabb:ccdd:eeff",
        "aa:bb:cc:dd:ee:gg", "aa:bb:cc:dd:ee:ｆｆ", "aa:bb:cc:dd:ee::f",
        "aa:bb:cc:dd:eef:f", "aaa:b:cc:dd:ee:ff", "11:22:33:aa:bb:cc",
        "Ethernet1/18", "00:00:00:00:00:00", "aa:bb:cc:dd:ee:ff\nx"]
mac_cases = [[m, netutils.is_valid_mac(m)] for m in macs]

out = {"cases": CASES, "is_valid_mac": mac_cases}
path = os.path.join(HERE, "lldp.json")
with open(path, "w") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    f.write("\n")
print("%d cases, %d macs -> %s (%d bytes)" % (len(CASES), len(mac_cases), path,
                                              os.path.getsize(path)),
      file=sys.stderr)

"""Oracle fixtures for crates/inspector-core/src/pxe.

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_pxe.py)
Writes pxe.json next to this script.

Every case runs the REAL upstream ironic-inspector 12.5.0 code:

* dnsmasq: DnsmasqFilter._sync over a temporary hosts directory prepared
  with the case's files, a fake Ironic listing the case's ports, and the
  node cache answering the case's active MACs / introspection state.
  Recorded: every file written (in order) and the final directory content.
* iptables: a sequence of IptablesFilter.sync calls (with init_filter
  first), processutils.execute recording every command; recorded per step:
  the commands (without the rootwrap prefix) and the chain's rules after
  the step, computed by replaying the commands on a model of iptables.
* eoib: pxe_filter.base._ib_mac_to_rmac_mapping over fake neighbour files.
* shlex: shlex.split and shlex.join, which our command lines follow.
"""

import itertools
import json
import logging
import os
import shlex
import tempfile
import types
import warnings
from unittest import mock

warnings.simplefilter("ignore")

from oslo_concurrency import processutils  # noqa: E402
from oslo_config import cfg  # noqa: E402

from ironic_inspector import conf  # noqa: E402,F401  (registers options)
from ironic_inspector import node_cache  # noqa: E402
from ironic_inspector.pxe_filter import base as pxe_base  # noqa: E402
from ironic_inspector.pxe_filter import dnsmasq  # noqa: E402
from ironic_inspector.pxe_filter import iptables  # noqa: E402

CONF = cfg.CONF
CONF([], project="ironic-inspector")
logging.getLogger().setLevel(logging.CRITICAL + 1)
logging.raiseExceptions = False

HERE = os.path.dirname(os.path.abspath(__file__))

def mac(i):
    return "52:54:00:00:%02x:%02x" % (i >> 8, i & 255)


class FakeIronic:
    def __init__(self, ports):
        self._ports = ports

    def ports(self, limit=None, fields=None):
        return [types.SimpleNamespace(address=p["address"], extra=dict(p.get("extra", {})))
                for p in self._ports]


def configure(deny_unknown_macs=False, hook=None, ethoib=(), ip_version="4"):
    CONF.set_override("deny_unknown_macs", deny_unknown_macs, "pxe_filter")
    CONF.set_override("node_not_found_hook", hook, "processing")
    CONF.set_override("ethoib_interfaces", list(ethoib), "iptables")
    CONF.set_override("ip_version", ip_version, "iptables")


def fake_open(neighs):
    real_open = open

    def opener(path, *args, **kwargs):
        if path.startswith("/sys/class/net/"):
            iface = path.split("/")[4]
            content = neighs.get(iface)
            if content is None:
                raise IOError("no such file")
            return mock.mock_open(read_data=content)()
        return real_open(path, *args, **kwargs)

    return opener


def state_patches(state):
    return [
        mock.patch.object(node_cache, "active_macs", lambda: set(state["active_macs"])),
        mock.patch.object(node_cache, "introspection_active",
                          lambda: state["introspection_active"]),
        mock.patch.object(pxe_base.ir_utils, "call_with_retries",
                          lambda f, *a, **kw: f(*a, **kw)),
        mock.patch("builtins.open", fake_open(state.get("neighs", {}))),
    ]


# ------------------------------------------------------------------ dnsmasq

def dnsmasq_case(name, files, state, settings):
    configure(**settings)
    with tempfile.TemporaryDirectory() as d:
        CONF.set_override("dhcp_hostsdir", d, "dnsmasq_pxe_filter")
        for fname, content in files.items():
            with open(os.path.join(d, fname), "w") as f:
                f.write(content)
        written = []
        real_write = dnsmasq._exclusive_write_or_pass

        def recording_write(path, buf):
            written.append(os.path.basename(path))
            return real_write(path, buf)

        patches = state_patches(state) + [
            mock.patch.object(dnsmasq, "_exclusive_write_or_pass", recording_write)]
        with contextlib_nested(patches):
            dnsmasq.DnsmasqFilter()._sync(FakeIronic(state["ports"]))
        final = {}
        for fname in sorted(os.listdir(d)):
            with open(os.path.join(d, fname)) as f:
                final[fname] = f.read()
    return {"name": name, "settings": settings, "files": files, "state": state,
            "written": written, "final": final}


class contextlib_nested:
    def __init__(self, managers):
        self.managers = managers

    def __enter__(self):
        for m in self.managers:
            m.__enter__()

    def __exit__(self, *exc):
        for m in reversed(self.managers):
            m.__exit__(*exc)


def ports_of(macs, extra=None):
    return [{"address": m, "extra": extra or {}} for m in macs]


def dnsmasq_cases():
    cases = []
    allow = lambda m: m + "\n"  # noqa: E731
    deny = lambda m: m + ",ignore\n"  # noqa: E731
    base_ports = ports_of([mac(i) for i in range(1, 6)])
    settings_list = [
        {},
        {"hook": "enroll"},
        {"deny_unknown_macs": True},
    ]
    states = [
        ("idle", {"ports": base_ports, "active_macs": [], "introspection_active": False}),
        ("one active", {"ports": base_ports, "active_macs": [mac(2)],
                        "introspection_active": True}),
        ("active MAC not in Ironic", {"ports": base_ports, "active_macs": [mac(99)],
                                      "introspection_active": True}),
        ("no ports", {"ports": [], "active_macs": [], "introspection_active": True}),
        ("invalid addresses", {"ports": ports_of([mac(1), "52:54:00:00:00:0G", "not a mac"]),
                               "active_macs": ["not a mac"], "introspection_active": True}),
    ]
    dirs = [
        ("empty", {}),
        ("synchronised idle", dict([(m, deny(m)) for m in (mac(i) for i in range(1, 6))]
                                   + [("unknown_hosts_filter", "*:*:*:*:*:*,ignore\n")])),
        ("mixed with removed ports", {mac(1): allow(mac(1)), mac(2): deny(mac(2)),
                                      mac(7): deny(mac(7)), mac(8): allow(mac(8)),
                                      "unknown_hosts_filter": "*:*:*:*:*:*\n"}),
        ("odd sizes and junk", {mac(1): "", mac(2): "garbage", mac(7): "x" * 30,
                                "unknown_hosts_filter": "bad",
                                "junk-name": "x" * 17 + "\n"}),
    ]
    for (sname, settings), (stname, state), (dname, files) in itertools.product(
            enumerate(settings_list), states, dirs):
        if settings.get("deny_unknown_macs") and settings.get("hook"):
            continue
        cases.append(dnsmasq_case("settings %d, %s, dir %s" % (sname, stname, dname),
                                  files, state, settings))
    # EoIB mapping in a sync: the active check uses Ironic's address.
    neighs = {"ib0": "EMAC=02:00:02:97:00:01 IMAC=97:fe:80:00:00:00:00:00:00:"
                     "7c:fe:90:03:00:29:26:52\n"}
    ib_ports = [{"address": "7c:fe:90:29:26:52",
                 "extra": {"client-id": "ff:00:00:00:00:00:02:00:00:02:c9:00:"
                                        "7c:fe:90:03:00:29:26:52"}},
                {"address": mac(1)}]
    cases.append(dnsmasq_case(
        "eoib active", {}, {"ports": ib_ports, "active_macs": ["7c:fe:90:29:26:52"],
                            "introspection_active": True, "neighs": neighs},
        {"ethoib": ["ib0"]}))
    cases.append(dnsmasq_case(
        "eoib missing interface", {}, {"ports": ib_ports, "active_macs": [],
                                       "introspection_active": False, "neighs": neighs},
        {"ethoib": ["ib1", "ib0"]}))
    return cases


# ----------------------------------------------------------------- iptables

def replay(chains, inputs, command):
    """Applies one iptables command to a model: chains name -> rule list."""
    op, rest = command[0], command[1:]
    if op == "-N":
        if rest[0] in chains:
            raise processutils.ProcessExecutionError("exists")
        chains[rest[0]] = []
    elif op == "-A":
        chains[rest[0]].append(" ".join(rest[1:]))
    elif op == "-I":
        chains.setdefault(rest[0], []).insert(0, " ".join(rest[1:]))
    elif op == "-D":
        rule = " ".join(rest[1:])
        if rest[0] not in chains or rule not in chains[rest[0]]:
            raise processutils.ProcessExecutionError("no rule")
        chains[rest[0]].remove(rule)
    elif op == "-F":
        if rest[0] not in chains:
            raise processutils.ProcessExecutionError("no chain")
        chains[rest[0]] = []
    elif op == "-X":
        if rest[0] not in chains or chains[rest[0]]:
            raise processutils.ProcessExecutionError("busy")
        if any(r.endswith("-j " + rest[0]) for r in chains["INPUT"]):
            raise processutils.ProcessExecutionError("referenced")
        del chains[rest[0]]
    elif op == "-E":
        chains[rest[1]] = chains.pop(rest[0])
        chains["INPUT"] = [r[: -len(rest[0])] + rest[1] if r.endswith("-j " + rest[0]) else r
                           for r in chains["INPUT"]]
    elif op == "-h":
        pass
    else:
        raise AssertionError(command)


def iptables_case(name, settings, steps):
    configure(**settings)
    chains = {"INPUT": []}
    recorded = []

    def execute(*cmd, **kwargs):
        assert cmd[:3] == ("sudo", "ironic-inspector-rootwrap", CONF.rootwrap_config)
        args = list(cmd[4:])
        if args[:1] == ["-w"]:
            args = args[1:]
        recorded.append(args)
        replay(chains, None, args)
        return "", ""

    out_steps = []
    with mock.patch.object(processutils, "execute", execute):
        driver = iptables.IptablesFilter()
        driver.init_filter()
        init = recorded[:]
        for state in steps:
            recorded.clear()
            with contextlib_nested(state_patches(state)):
                driver.sync(FakeIronic(state["ports"]))
            out_steps.append({"state": state, "commands": recorded[:],
                              "chain": list(chains.get(CONF.iptables.firewall_chain, [])),
                              "input": list(chains["INPUT"]),
                              "chains": sorted(chains)})
        recorded.clear()
        driver.tear_down_filter()
        tear_down = recorded[:]
    return {"name": name, "settings": settings, "init": init, "steps": out_steps,
            "tear_down": tear_down, "left_after_tear_down": sorted(chains)}


def iptables_cases():
    ports = ports_of([mac(i) for i in range(1, 5)])
    idle = {"ports": ports, "active_macs": [], "introspection_active": False}
    one = {"ports": ports, "active_macs": [mac(2)], "introspection_active": True}
    two = {"ports": ports, "active_macs": [mac(2), mac(3)], "introspection_active": True}
    grown = {"ports": ports + ports_of([mac(9)]), "active_macs": [mac(3)],
             "introspection_active": True}
    # A node under introspection whose ports are not in Ironic (any MAC may boot).
    portless = {"ports": ports, "active_macs": [], "introspection_active": True}
    return [
        iptables_case("plain lifecycle", {}, [idle, idle, one, one, two, grown, idle, one]),
        iptables_case("discovery", {"hook": "enroll"}, [idle, one, idle, portless]),
        iptables_case("deny unknown", {"deny_unknown_macs": True}, [idle, one, two, grown]),
        iptables_case("ipv6", {"ip_version": "6"}, [one, idle]),
        # Upstream keeps the allow list cache when DHCP is disabled, so the
        # same allow list after an idle period is never applied again.
        iptables_case("deny unknown after idle (upstream bug)", {"deny_unknown_macs": True},
                      [one, idle, one]),
    ]


# --------------------------------------------------------------------- eoib

def eoib_cases():
    tables = {
        "ib0": ("EMAC=02:00:02:97:00:01 IMAC=97:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:26:52 "
                "EMAC=02:00:00:61:00:02 IMAC=61:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:24:4f\n"
                "EMAC=02:00:00:61:00:03 IMAC=61:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:24:50\n"
                "EMAC=02:00:00:61:00:0G IMAC=61:fe:80:00:00:00:00:00:00:7c:fe:90:03:00:29:24:51\n"
                "junk EMAC=02:00:00:61:00:04 IMAC=61:7c:fe:90:03:00:29:24:52\n"),
        "ib1": ("EMAC=02:00:00:00:00:11 IMAC=00:7c:fe:90:03:00:29:24:50\n"
                "EMAC=02:00:00:00:00:12 IMAC=00:aa:bb\n"),
    }
    client_ids = [
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:26:52",
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:24:4f",
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:24:50",
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:24:51",
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:24:52",
        "aa:bb",
        "",
        "ff:00:00:00:00:00:02:00:00:02:c9:00:7c:fe:90:03:00:29:99:99",
    ]
    cases = []
    for ifaces in (["ib0"], ["ib1"], ["ib0", "ib1"], ["ib1", "ib0"], ["missing", "ib0"]):
        configure(ethoib=ifaces)
        ports = [types.SimpleNamespace(address="7c:fe:90:29:26:%02x" % i,
                                       extra={"client-id": c} if c is not None else {})
                 for i, c in enumerate(client_ids + [None])]
        with mock.patch("builtins.open", fake_open(tables)):
            pxe_base._ib_mac_to_rmac_mapping(ports)
        cases.append({"interfaces": ifaces,
                      "client_ids": client_ids + [None],
                      "addresses": [p.address for p in ports]})
    return {"tables": tables, "cases": cases}


# -------------------------------------------------------------------- shlex

def shlex_cases():
    texts = [
        "", "   ", "a b  c", "sh -c 'kill $(cat /run/dnsmasq.pid)'",
        "systemctl start openstack-ironic-inspector-dnsmasq.service",
        '"a b" c', r'"a\"b\\c\d"', r"a\ b \'c", "a '' \"\" b", "a'b'\"c\"d",
        "#comment-like word", "tab\tsep\nnewline", "ip netns exec ns1 dnsmasq --conf-file=/x",
        "sudo ironic-inspector-rootwrap /etc/ironic-inspector/rootwrap.conf",
        "'unterminated", '"unterminated', "trailing\\", '"esc at end\\',
        "x\\\ny", "é 'ü' \"ö\"",
    ]
    split = []
    for t in texts:
        try:
            split.append({"text": t, "words": shlex.split(t)})
        except ValueError as e:
            split.append({"text": t, "error": str(e)})
    words = [["iptables", "-w", "-S"], ["sh", "-c", "kill $(cat x)"], ["", "a b", "it's"],
             ["é", "52:54:00:00:00:01", "a=b,c@d%e+f"]]
    return {"split": split, "join": [{"words": w, "text": shlex.join(w)} for w in words]}


def main():
    fixture = {
        "dnsmasq": dnsmasq_cases(),
        "iptables": iptables_cases(),
        "eoib": eoib_cases(),
        "shlex": shlex_cases(),
    }
    path = os.path.join(HERE, "pxe.json")
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path, "dnsmasq", len(fixture["dnsmasq"]), "iptables",
          len(fixture["iptables"]), "eoib", len(fixture["eoib"]["cases"]),
          "shlex", len(fixture["shlex"]["split"]) + len(fixture["shlex"]["join"]))


if __name__ == "__main__":
    main()

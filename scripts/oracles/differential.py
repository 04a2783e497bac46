#!/usr/bin/env python
"""Differential oracle: generates random inputs for one of inspector's
reimplementations of Python behaviour and runs each through the original
(CPython 3.11 `re` and `str.format`, jsonpath-rw, oslo.config's INI parser,
oslo.policy's check parser), printing one JSON line per input with the
original's outcome. crates/inspector-core/tests/differential.rs runs the same
inputs through inspector-core and compares.

    <venv-ironic>/bin/python scripts/oracles/differential.py DOMAIN COUNT SEED

DOMAIN is one of re, format, jsonpath, ini, policy. The same seed gives the
same inputs, so a divergence is reproduced by its seed and index.
"""

import json
import logging
import os
import random
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def raised(exc):
    return {"raises": [type(exc).__name__, str(exc)]}


def has_surrogate(text):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# ---------------------------------------------------------------- re

RE_ATOMS = ["a", "b", "c", "A", "é", "ß", "İ", "K", "_", "1", " ", "-", ".", "\\.", "\\d",
            "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "\\A", "\\Z", "^", "$", "[ab]",
            "[^a]", "[a-c]", "[\\d_]", "[]a]", "[a-]", "[\\w-]", "[[:a:]]", "\\n", "\\t",
            "\\x41", "\\u00e9", "\\0", "\\101", "\\U0001F600", "\\\\", "\\-", "\\q", "\\",
            "\\N{LATIN SMALL LETTER A}", "[", "]", "{", "}", "(", ")", "*", "+", "?", "|",
            "\\1", "\\2", "(?P=g)", "#"]
RE_OPEN = ["(", "(?:", "(?P<g>", "(?P<h>", "(?=", "(?!", "(?<=", "(?<!", "(?>", "(?i:",
           "(?-i:", "(?s:", "(?x:", "(?a:", "(?(1)", "(?(g)", "(?#"]
RE_QUANT = ["*", "+", "?", "*?", "+?", "??", "{2}", "{1,2}", "{,2}", "{2,}", "{0}", "*+",
            "++", "?+", "{1,2}?", "{3,1}", "{x}", "{1,2}+"]
RE_FLAGS = ["", "", "", "(?i)", "(?a)", "(?s)", "(?m)", "(?x)", "(?u)", "(?L)", "(?ai)",
            "(?au)", "(?im)"]
RE_SUBJECTS = ["", "a", "ab", "ba", "aab", "A", "abc", "a\n", "\nb", "é", "É", "ß", "SS",
               "İ", "i", "K", "k", "1", "a1_", " a", "a-b", "ab ba", "aaaa", "bbb", "cab",
               "x.y", "😀", "é1", "_A_", "\u212a"]


def re_expr(rng, depth=0):
    parts = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        if roll < 0.2 and depth < 3:
            inner = re_expr(rng, depth + 1)
            if rng.random() < 0.3:
                inner += "|" + re_expr(rng, depth + 1)
            atom = rng.choice(RE_OPEN) + inner + (")" if rng.random() < 0.95 else "")
        else:
            atom = rng.choice(RE_ATOMS)
        if rng.random() < 0.3:
            atom += rng.choice(RE_QUANT)
        parts.append(atom)
    return "".join(parts)


def gen_re(rng):
    return {"pattern": rng.choice(RE_FLAGS) + re_expr(rng)}


def run_re(case):
    import re
    try:
        compiled = re.compile(case["pattern"])
    except Exception as exc:
        return raised(exc)
    return {"match": [compiled.match(s) is not None for s in RE_SUBJECTS],
            "search": [compiled.search(s) is not None for s in RE_SUBJECTS]}


# ---------------------------------------------------------------- str.format

FORMAT_DATA = {
    "cpus": 4, "neg": -17, "big": 12345678901234567890, "zero": 0, "float": 2.5,
    "tiny": 1e-7, "huge": 1.5e300, "whole": 3.0, "name": "node-1", "uni": "héllo wörld",
    "empty": "", "yes": True, "no": False, "none": None, "list": [1, "two", 3.0, None],
    "nested": {"a": {"b": [10, 20]}, "0": "zero-key", "-1": "neg-key"},
    "inventory": {"interfaces": [{"name": "eth0", "mac_address": "52:54:00:aa:00:01"}],
                  "memory": {"physical_mb": 8192}},
}
FMT_FIELDS = ["data", "data[cpus]", "data[neg]", "data[big]", "data[zero]", "data[float]",
              "data[tiny]", "data[huge]", "data[whole]", "data[name]", "data[uni]",
              "data[empty]", "data[yes]", "data[no]", "data[none]", "data[list]",
              "data[list][1]", "data[list][9]", "data[nested]", "data[nested][a][b][0]",
              "data[nested][0]", "data[nested][-1]", "data[missing]", "data[inventory]"
              "[interfaces][0][name]", "data.cpus", "data[cpus].real", "data[float].imag",
              "data[name].__class__", "data[list].x", "0", "", "x", "data[", "data]",
              "data[cpus]]", "data..x", "data[]", "data[cpus][0]", "data[name][0]",
              "data[yes].real", "data[big].numerator"]
FMT_GOOD_FIELDS = FMT_FIELDS[:22] + ["data[inventory][interfaces][0][name]", "data[cpus].real"]
FMT_GOOD_SPEC = ["", ":>8", ":<6", ":^7", ":*^9", ":+", ":08", ":.2f", ":.3", ":g", ":%", ":,",
                 ":_", ":10s", ":.2s", ":x", ":e", ":#x", ":d", ":n", ":=+8", ":z.1f"]
FMT_CONV = ["", "", "", "!r", "!s", "!a", "!x", "!", "!rr"]
FMT_SPEC = ["", "", "", ":", ":>8", ":<6", ":^7", ":*^9", ":=+8", ":+", ": ", ":-", ":#x",
            ":#o", ":#b", ":08", ":08.3f", ":.2f", ":.3", ":.0e", ":g", ":.10g", ":%",
            ":.1%", ":,", ":_", ":_x", ":,d", ":d", ":x", ":X", ":o", ":b", ":c", ":e",
            ":E", ":G", ":n", ":s", ":10s", ":.2s", ":z", ":z.1f", ":#", ":=", ":0>5",
            ":{data[cpus]}", ":>{data[cpus]}", ":.{data[zero]}f", ":{", ":1,000",
            ":99999999999999999999", ":,_", ":.f", ":==", ":\u00e9^5"]
FMT_TEXT = ["", "x", " ", "{{", "}}", "{", "}", "é", "a{b", "}}{{", "\n"]


def gen_format(rng):
    clean = rng.random() < 0.6  # half the templates should format
    parts = []
    for _ in range(rng.randint(1, 3)):
        parts.append(rng.choice(FMT_TEXT[:5] if clean else FMT_TEXT))
        if clean:
            parts.append("{" + rng.choice(FMT_GOOD_FIELDS) + rng.choice(FMT_CONV[:5])
                         + rng.choice(FMT_GOOD_SPEC) + "}")
        elif rng.random() < 0.85:
            field = rng.choice(FMT_FIELDS) + rng.choice(FMT_CONV) + rng.choice(FMT_SPEC)
            parts.append("{" + field + ("}" if rng.random() < 0.95 else ""))
    return {"template": "".join(parts)}


def run_format(case):
    try:
        out = case["template"].format(data=FORMAT_DATA)
    except Exception as exc:
        return raised(exc)
    if has_surrogate(out):
        return {"surrogate": True}
    return {"ok": out}


# ---------------------------------------------------------------- jsonpath

JSONPATH_DOC = {
    "cpus": 4, "name": "n1", "none": None, "flag": True, "list": [1, [2, 3], {"a": 5}],
    "inventory": {"interfaces": [{"name": "eth0", "ipv4_address": "10.0.0.1", "has_carrier": True},
                                 {"name": "eth1", "ipv4_address": None, "has_carrier": False}],
                  "cpu": {"count": 8, "flags": ["vmx", "aes"]},
                  "disks": [{"name": "/dev/sda", "size": 100}, {"name": "/dev/sdb", "size": 5}]},
    "a b": {"c-d": 1}, "1": "one", "id": "top", "x": {"id": "inner", "x": {"id": "deep"}},
}
JP_TOKENS = ["cpus", "name", "none", "flag", "list", "inventory", "interfaces", "cpu", "count",
             "flags", "disks", "size", "id", "x", "a", "missing", "'a b'", "\"c-d\"", "`this`",
             "`parent`", "`foo`", "$", "*", ".", "..", "[*]", "[0]", "[1]", "[-1]", "[5]",
             "[0:1]", "[1:]", "[:2]", "[:]", "[0,1]", "[*]", "|", "&", "where", "(", ")", ",",
             "1", "-", "'", "\"", "[", "]", "@", "?", " "]


def jp_path(rng, depth=0):
    roll = rng.random()
    if roll < 0.35:
        return "".join(rng.choice(JP_TOKENS) for _ in range(rng.randint(1, 6)))
    steps = [rng.choice(["cpus", "inventory", "list", "x", "$", "`this`", "*", "'a b'", "id"])]
    for _ in range(rng.randint(0, 4)):
        op = rng.choice([".", ".", "..", "", "."])
        if op == "":
            steps.append(rng.choice(["[*]", "[0]", "[1]", "[-1]", "[1:]", "[:1]", "[0:5]"]))
        else:
            steps.append(op + rng.choice(["interfaces", "cpu", "count", "flags", "name", "id",
                                          "x", "*", "disks", "size", "`parent`", "'c-d'",
                                          "ipv4_address", "has_carrier"]))
    path = "".join(steps)
    if depth < 2 and rng.random() < 0.2:
        path = "(" + path + ")" + rng.choice([" | ", " & ", " where "]) + jp_path(rng, depth + 1)
    return path


def gen_jsonpath(rng):
    return {"path": jp_path(rng)}


def run_jsonpath(case):
    import jsonpath_rw
    try:
        parsed = jsonpath_rw.parse(case["path"])
    except Exception as exc:
        return {"parse_error": str(exc)}
    try:
        return {"values": [m.value for m in parsed.find(JSONPATH_DOC)]}
    except Exception as exc:
        return raised(exc)


# ---------------------------------------------------------------- INI

INI_LINES = ["[DEFAULT]", "[processing]", "[s]", "[ s ]", "[]", "[ ]", "[a", "[a]b", "[[x]]",
             "k = v", "k=v", "k =", "k:v", "k : v = w", "k = v: w", "= v", ": v", "k",
             "  k = v", " cont", "\tcont", "  ", "", "", "# comment", "; comment",
             "k = \"quoted\"", "k = 'single'", "k = \"half", "k = \"a\" \"b\"", "k = ''",
             "k = \"'\"", "ké = vé", "K = V", "k = v # not a comment", "k.x = 1", "k\t=\tv",
             "#", "=", ":", "k = [x]"]


def gen_ini(rng):
    newline = rng.choice(["\n", "\n", "\r\n", "\r"])
    lines = [rng.choice(INI_LINES) for _ in range(rng.randint(1, 7))]
    if rng.random() < 0.7:
        lines.insert(0, rng.choice(["[DEFAULT]", "[s]", "[processing]"]))
    text = newline.join(lines)
    if rng.random() < 0.5:
        text += newline
    return {"text": text}


def run_ini(case):
    from oslo_config import cfg
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", newline="", suffix=".conf",
                                     delete=False) as f:
        f.write(case["text"])
    sections = {}
    try:
        cfg.ConfigParser(f.name, sections).parse()
    except cfg.ParseError as exc:
        return {"error": [exc.lineno, exc.msg, exc.line]}
    except Exception as exc:
        return raised(exc)
    finally:
        os.unlink(f.name)
    return {"sections": {name: {k: v for k, v in keys.items()}
                         for name, keys in sections.items()}}


# ---------------------------------------------------------------- policy

def policy_oracle():
    """The rules, targets and credentials of the policy fixture's generator
    (crates/inspector-core/tests/oracle/gen_policy.py), and an enforcer
    holding those rules."""
    sys.path.insert(0, os.path.join(REPO, "crates/inspector-core/tests/oracle"))
    import gen_policy
    from oslo_policy import policy
    enforcer = policy.Enforcer(gen_policy.make_conf("does-not-exist.yaml", True),
                               use_conf=False)
    enforcer.set_rules(policy.Rules.from_dict(dict(gen_policy.RULES), "default"),
                       use_conf=False)
    return gen_policy, enforcer


POLICY_ATOMS = ["role:admin", "role:Member", "rule:admin", "rule:missing", "rule:loop_a",
                "rule:admin_or_owner", "@", "!", "is_admin:True", "is_admin:False",
                "project_id:%(project_id)s", "user_id:%(user.id)s", "'member':%(name)s",
                "True:%(enabled)s", "1:%(number)s", "None:%(nothing)s", "1.5:%(ratio)s",
                "http://example.com/check", "https://h/%(x)s", "a:b:c", "role:", ":x",
                "nocolon", "system_scope:all", "system:all", "domain_id:None",
                "role:%(role)s", "role:%(missing)s", "'x'", "\"y\":z", "role:a b",
                "nested.list.key:v2", "nested.deep.key:yes", "roles:admin", "role:%%admin",
                "project_id:%(project_id)s%%", "is_public_api:True", "-1:%(negative)s"]
POLICY_JOIN = [" and ", " or ", " AND ", " Or ", " ", "and", " not ", "  or  "]


def policy_expr(rng, depth=0):
    parts = []
    for i in range(rng.randint(1, 4)):
        if i:
            parts.append(rng.choice(POLICY_JOIN))
        if rng.random() < 0.25:
            parts.append("not ")
        if depth < 2 and rng.random() < 0.2:
            parts.append(rng.choice(["(", "( ", "(("]) + policy_expr(rng, depth + 1)
                         + rng.choice([")", " )", "", "))"]))
        else:
            parts.append(rng.choice(POLICY_ATOMS))
    return "".join(parts)


def gen_policy(rng):
    return {"rule": policy_expr(rng)}


def without_remote_checks(check):
    """The tree with every http(s) check replaced by a deny (`!`): inspector
    refuses to call out from policy checks and parses them so."""
    from oslo_policy import _checks
    if type(check).__name__ in ("HttpCheck", "HttpsCheck"):  # oslo_policy._external
        return _checks.FalseCheck()
    if isinstance(check, (_checks.AndCheck, _checks.OrCheck)):
        check.rules = [without_remote_checks(rule) for rule in check.rules]
    elif isinstance(check, _checks.NotCheck):
        check.rule = without_remote_checks(check.rule)
    return check


POLICY = []


def run_policy(case):
    """str() of the parsed check, and its decision for every target and
    credentials of the fixture (remote checks denied: never called out)."""
    from oslo_policy import _parser
    if not POLICY:
        POLICY.extend(policy_oracle())
    fixture, enforcer = POLICY
    tree = _parser.parse_rule(case["rule"])
    result = {"str": str(tree)}
    tree = without_remote_checks(tree)
    if str(tree) != result["str"]:
        result["without_remote"] = str(tree)
    decisions = []
    for target in fixture.TARGETS:
        for creds in fixture.CREDS.values():
            try:
                decisions.append(bool(enforcer.enforce(tree, dict(target), dict(creds))))
            except Exception as exc:  # upstream answers 500; inspector denies
                decisions.append("error: " + type(exc).__name__)
    result["decisions"] = decisions
    return result


DOMAINS = {
    "re": (gen_re, run_re),
    "format": (gen_format, run_format),
    "jsonpath": (gen_jsonpath, run_jsonpath),
    "ini": (gen_ini, run_ini),
    "policy": (gen_policy, run_policy),
}


def main():
    domain, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    generate, run = DOMAINS[domain]
    rng = random.Random("%s-%d" % (domain, seed))
    out = sys.stdout
    if domain == "re":
        out.write(json.dumps({"subjects": RE_SUBJECTS}) + "\n")
    elif domain == "format":
        out.write(json.dumps({"data": FORMAT_DATA}) + "\n")
    elif domain == "jsonpath":
        out.write(json.dumps({"doc": JSONPATH_DOC}) + "\n")
    elif domain == "policy":
        fixture, _ = policy_oracle()
        out.write(json.dumps({"rules": fixture.RULES, "targets": fixture.TARGETS,
                              "creds": list(fixture.CREDS.values())}) + "\n")
    else:
        out.write("{}\n")
    for index in range(count):
        case = generate(rng)
        case["index"] = index
        case["python"] = run(case)
        out.write(json.dumps(case) + "\n")


if __name__ == "__main__":
    main()

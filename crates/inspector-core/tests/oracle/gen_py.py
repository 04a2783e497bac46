"""Oracle fixtures for inspector_core::py (tests/py.rs).

Run with target/testbed/venv-ironic/bin/python (CPython 3.11 with netaddr 1.3 and ironic-inspector):
    target/testbed/venv-ironic/bin/python crates/inspector-core/tests/oracle/gen_py.py
Writes py.json next to this script. Every expected value is what Python computes; the
inputs are JSON values, as the rules engine receives them.
"""

import json
import operator
import os
import random
import re

import netaddr
from ironic_inspector.plugins.rules import coerce
from ironic_inspector.rules import _format_value

rng = random.Random(20261126)


ERRORS = []
ERROR_INDEX = {}


def exc(e):
    """Index into the shared error table (class, message) that keeps the fixture small."""
    key = (type(e).__name__, str(e))
    if key not in ERROR_INDEX:
        ERROR_INDEX[key] = len(ERRORS)
        ERRORS.append({"class": key[0], "message": key[1]})
    return ERROR_INDEX[key]


def outcome(fn):
    try:
        return {"ok": fn()}
    except Exception as e:  # noqa: BLE001 - every exception is part of the oracle
        return {"error": exc(e)}


def op_results(fn):
    """One result per comparison operator: true/false, or an error index as a string."""
    out = []
    for _, op in OPS:
        r = outcome(lambda: fn(op))
        out.append(r["ok"] if "ok" in r else str(r["error"]))
    return out


def jsonable(v):
    json.dumps(v, allow_nan=False)
    return v


# --- str / repr / ascii -------------------------------------------------------------

SCALARS = [
    None, True, False, 0, 1, -1, 42, 2**63 - 1, -2**63, 2**64 - 1,
    0.0, -0.0, 1.0, -1.5, 0.1, 1e16, 1e15, 123456789.125, 1.5e-7, 1e-4, 1e-5, 1e22, 1e100,
    1.7976931348623157e308, 5e-324, 2.5, 100.0, 1234567890123456.0, 12345678901234567.0,
    "", "a", "it's", 'say "hi"', "both ' and \"", "back\\slash", "tab\there", "nl\nx",
    "cr\r", "\x00\x01\x1f\x7f", "caf\u00e9", "\u00a0nbsp", "\u200bzwsp", "\u2028ls",
    "emoji \U0001F600", "\ud7ff\ue000", "\U000e0001tag", "\u0378unassigned", "\xad soft",
    "ß ẞ İ ı K ſ", "\u3000ideo", "\ufeffbom",
]
CONTAINERS = [
    [], {}, ["a", 1, None], {"k": "v", "n": [1, 2.5, {"x": False}]},
    {"b": 1, "a": 2}, [["nested", ["deep"]], {}], {"quote'": "\"", "é": "\u200b"},
]


def gen_repr():
    out = []
    for v in SCALARS + CONTAINERS:
        out.append({"value": jsonable(v), "str": str(v), "repr": repr(v), "ascii": ascii(v)})
    for _ in range(120):
        x = rng.choice([
            rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-30, 30),
            float(rng.randint(-10**18, 10**18)), rng.randint(1, 9) * 10.0 ** rng.randint(-20, 25),
        ])
        out.append({"value": x, "str": str(x), "repr": repr(x), "ascii": ascii(x)})
    return out


# --- str.format ----------------------------------------------------------------------

DATA = [
    {
        "cpus": 4, "memory_mb": 12288, "local_gb": 999, "cpu_arch": "x86_64",
        "inventory": {
            "bmc_address": "192.168.1.10", "interfaces": [
                {"name": "eth0", "mac_address": "11:22:33:44:55:66", "ipv4_address": "10.0.0.5"},
                {"name": "eth1", "mac_address": "aa:bb:cc:dd:ee:ff", "ipv4_address": None},
            ],
            "disks": [{"name": "/dev/sda", "size": 1000000000000, "rotational": True}],
            "cpu": {"count": 4, "frequency": "2400.0", "flags": ["vmx", "sse"]},
        },
        "root_disk": {"name": "/dev/sda", "serial": "S3R1AL", "wwn": None},
        "float": 2.5, "neg": -7, "zero": 0, "big": 2**64 - 1, "t": True, "f": False, "none": None,
        "empty": "", "list": ["a", "b"], "dict": {"k": "v"}, "nested": {"a": {"b": {"c": "deep"}}},
        "0": "zero-key", "-1": "minus", "a b": "space", "unicode": "h\u00e9llo", "quote": "it's",
        "x.y": "dotted", "": "empty-key", "negf": -0.0, "tiny": 1.5e-7, "e16": 1e16,
    },
    ["list", "as", "data"],
    "just a string",
    42,
    -3.75,
    None,
    True,
]

FIELDS = [
    "{data}", "{data[cpus]}", "{data[inventory][bmc_address]}", "{data[root_disk][serial]}",
    "{data[inventory][interfaces][0][mac_address]}", "{data[inventory][interfaces][1][ipv4_address]}",
    "{data[inventory][disks][0]}", "{data[inventory][cpu][flags]}", "{data[float]}", "{data[t]}",
    "{data[none]}", "{data[list]}", "{data[dict]}", "{data[nested][a][b][c]}", "{data[0]}",
    "{data[-1]}", "{data[a b]}", "{data[unicode]}", "{data[quote]}", "{data[x.y]}", "{data[]}",
    "{data[missing]}", "{data[inventory][missing]}", "{data[list][0]}", "{data[list][5]}",
    "{data[list][x]}", "{data[cpu_arch][0]}", "{data[cpu_arch][99]}", "{data[cpu_arch][x]}",
    "{data[cpus][0]}", "{data[cpus][x]}", "{data[none][0]}", "{data[t][0]}", "{data[float][x]}",
    "{data[inventory][interfaces][-1]}", "{data[\u0664]}", "{data[list][\u0661]}",
    "{data.cpus}", "{data.keys}", "{data.__class__}", "{data[cpus].real}", "{data[cpus].imag}",
    "{data[cpus].numerator}", "{data[cpus].denominator}", "{data[t].real}", "{data[t].imag}",
    "{data[float].real}", "{data[float].imag}", "{data[float].numerator}", "{data[cpu_arch].upper}",
    "{data[cpu_arch].nope}", "{data[none].x}", "{data[list].x}", "{data[t].x}", "{data[cpus].x}",
    "{data[float].x}", "{data[cpus].real.real}", "{data[neg]}", "{data[big]}", "{data[negf]}",
    "{data[tiny]}", "{data[e16]}", "{data[zero]}", "{data[empty]}",
    "{node}", "{data2}", "{Data}", "{}", "{0}", "{1}", "{0[x]}", "{\u0661}", "{99999999999999999999}",
    "{data[99999999999999999999]}", "{data[cpus]x}", "{data[cpus]]}", "{data[}", "{data[cpus}",
    "{data.}", "{data..x}", "{data[]}", "{data[cpus][]}", "{ data}", "{data }", "{data[ cpus]}",
    "{data!r}", "{data[cpu_arch]!r}", "{data[cpu_arch]!s}", "{data[unicode]!a}", "{data[quote]!r}",
    "{data[list]!a}", "{data[cpus]!x}", "{data!}", "{data!", "{!r}", "{data!rr}", "{data!r:}",
    "{data!\x01}", "{data!r:>10}", "{data[cpus]!s:>5}", "{data[t]!r:^9}",
]
LITERALS = [
    "", "plain", "{{", "}}", "{{}}", "{{data}}", "a{{b}}c", "{", "}", "a{", "a}", "}a", "{{{", "}}}",
    "{{{data[cpus]}}}", "x {data[cpus]} y {data[memory_mb]} z", "{data[cpus]}{data[cpus]}",
    "{data[missing]} }", "} {data[missing]}", "{data[cpus]} {", "{d{ata}", "{data{}",
    "{data:{", "{data[cpus]:{data[cpus]}}", "{data[cpus]:>{data[cpus]}}", "{data[cpu_arch]:{data[empty]}}",
    "{data:{data:{data}}}", "{data[cpus]:{}}", "{data[cpus]:{0}}", "{data[cpus]:{{}}}",
    "{data[cpus]:{data[missing]}}", "{data[float]:.{data[cpus]}f}", "{data[cpus]:{data[t]}}",
    "{data[cpus]:{data[list]}}", "{data[cpus]:}}", "{data[cpus]:{{", "{data[cpus]:{data[cpus]",
    "\u00e9{data[unicode]}\u00e9", "{data[inventory][interfaces][0][name]}-{data[inventory][interfaces][1][name]}",
]

SPEC_VALUES = ["cpus", "neg", "zero", "big", "float", "negf", "tiny", "e16", "t", "f", "none", "list",
               "cpu_arch", "empty", "unicode", "dict"]
SPECS = [
    "", "s", "d", "x", "X", "o", "b", "c", "e", "E", "f", "F", "g", "G", "n", "%", "r", "q", "\x05", "\u00e9",
    ">10", "<10", "^10", "=10", "*^11", "0>8", "08", "010", "+", "-", " ", "+08", " 8", "z", "z.2f",
    "#", "#x", "#o", "#b", "#X", "#010x", "#.0f", "#.0e", "#g", ",", "_", ",d", "_x", ",x", "_b",
    ",_", "_,", "010,", "012_", ".2", ".0", ".3f", ".0f", ".10g", ".1%", ".2e", ".", ".x", "5.5", "10.3s",
    ".1s", ".0s", "=", "0=5", "0<5", "x<5", "<<5", "^^5", "}<5", "{<5", "\u00e9^7", "99999999999999999999",
    ".99999999999999999999", ".3000000000f", "5xx", "++5", "z#", ",n", ",c", "+c", "#c", ".2c", "<",
    "<0", "\u0665", ".\u0662f", "1000001", ".1000001f", ".1000001", "1000000",
]


def gen_format():
    cases = []

    def add(template, data_index):
        data = DATA[data_index]
        r = outcome(lambda: template.format(data=data))
        if "ok" in r:
            # Object addresses differ between runs; the Rust side refuses these anyway.
            r["ok"] = re.sub(r" at 0x[0-9a-f]+", " at 0x0", r["ok"])
        if len(r.get("ok", "")) > 100000:
            # Only the size is recorded: the Rust side refuses widths and precisions
            # beyond its MAX_RENDERED limit.
            r = {"big": len(r["ok"])}
        cases.append({"t": template, "d": data_index, **r})

    for t in FIELDS + LITERALS:
        add(t, 0)
    for t in ["{data}", "{data[0]}", "{data[1]}", "{data[x]}", "{data.x}", "{data:>5}", "{data:d}",
              "{data:.1f}", "{data:s}", "{data!r:>20}", "{data[0][0]}", "{data.real}"]:
        for i in range(1, len(DATA)):
            add(t, i)
    for key in SPEC_VALUES:
        for spec in SPECS:
            add("{data[%s]:%s}" % (key, spec), 0)
    # Random specs from the grammar pieces.
    pieces = [["", "x<", ">", "^", "0=", "<", "="], ["", "+", "-", " "], ["", "z"], ["", "#"],
              ["", "0"], ["", "1", "7", "12"], ["", ",", "_"], ["", ".0", ".1", ".4", ".12"],
              ["", "d", "e", "f", "g", "%", "x", "b", "n", "s", "E", "G", "X", "o", "c"]]
    for _ in range(60):
        spec = "".join(rng.choice(p) for p in pieces)
        add("{data[%s]:%s}" % (rng.choice(SPEC_VALUES), spec), 0)
    return cases


def gen_format_value():
    data = DATA[0]
    values = [
        "{data[cpus]}", 42, None, True, 1.5, ["{data[cpu_arch]}", 7, ["{data[t]}"]],
        {"{data[cpu_arch]}": "{data[memory_mb]}", "k": [None, "{{x}}"]},
        {"a": "{data[missing]}"}, {"{node}": 1}, ["ok", "{0}"],
        {"{data[empty]}": 1, "": 2, "z": 3}, {"x": "{data.x}"}, [],
        {"{data[cpu_arch]}": 1, "x86_64": 2},
    ]
    out = []
    for v in values:
        def run(v=v):
            try:
                return _format_value(v, data)
            except Exception as e:  # utils.Error wraps KeyError; unwrap to the KeyError
                ctx = e.__context__
                if type(e).__name__ == "Error" and isinstance(ctx, KeyError):
                    raise ctx
                raise
        out.append({"value": v, **outcome(run)})
    return out


# --- coerce and comparisons -----------------------------------------------------------

OPS = [("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("gt", operator.gt),
       ("le", operator.le), ("ge", operator.ge)]

FIELD_VALUES = [
    "42", " 42 ", "+42", "-42", "4_2", "_42", "42_", "4__2", "4.2", "4.7", "1e3", " 1E-3 ", "1_000.5",
    "inf", "-Infinity", "nan", "NaN", "-0", "007", "0x10", "", "   ", "x86_64", "\u0664\u0662",
    "\uff14\uff12", "\u00a042\u2003", "\x1c42", "42\n", "4\u00e9", "1" * 30, "-" + "9" * 25,
    "1" * 4301, "1_" * 10 + "1", "1.5e400", "True", "None",
    0, 1, -1, 42, 2**63 - 1, -2**63, 2**64 - 1, 4.7, -4.7, 0.0, -0.0, 1e300, 2.5, 1e-300, 42.0,
    True, False, None, [], [1], ["42"], {}, {"a": 1},
]
EXPECTED = [42, 4.2, 42.0, True, False, 0, -1, 1e300, 2**63, "42", None, [1], {}, "x86_64"]


def gen_coerce():
    out = []
    for field in FIELD_VALUES:
        results = [op_results(lambda op: op(coerce(field, expected), expected)) for expected in EXPECTED]
        out.append({"field": field, "results": results})
    return out


COMPARE_VALUES = [
    None, True, False, 0, 1, 2, -1, 1.0, 1.5, -0.0, 2**63 - 1, 2**64 - 1, 9007199254740993,
    9007199254740992.0, "", "a", "b", "ab", "\u00e9", [], [1], [1, 2], [1, "a"], ["a"],
    [1, None], {}, {"a": 1}, {"a": 1.0}, {"a": 1, "b": 2}, {"b": 2, "a": 1},
]


def gen_compare():
    return [[op_results(lambda op: op(a, b)) for b in COMPARE_VALUES] for a in COMPARE_VALUES]


# --- re ---------------------------------------------------------------------------------

SUBJECTS = [
    "", "a", "ab", "abc", "aBc", "ABC", "a\n", "\n", "a\nb", "b\n\n", "aa", "abab", "aaa",
    "h\u00e9llo w\u00f6rld", "\u00e9", "\u00c9", "\u00df", "SS", "\u1e9e", "K", "k", "\u212a",
    "\u017f", "s", "S", "\u0130", "i", "I", "\u0131", "\u03c3", "\u03a3", "\u03c2", "\u1fbe", "\u03b9",
    "123", "\u0663", "\u00b2", "a_b", "x86_64", "True", "None", "['a', 'b']", "10.0.0.1",
    " \t", "\x1c", "a.b", "\U00010400", "\U00010428", "\u2160", "\u0301", "a\u0301", "ab\u203fc",
    "{}", "$", "a$", "c", "b", "ba", "foo bar", "foo\nbar\n", "Dell Inc.", "PowerEdge R640",
]

RE_PATTERNS = [
    "", "a", "ab", "abc$", "^abc$", "a|b", "ab|ac", "a|ab", "(a)(b)", "(?:a|b)+", "a*", "a+", "a?",
    "a{2}", "a{,2}", "a{2,}", "a{1,2}", "a{}", "a{x}", "a{1,2", "a{,}", "{", "{1}", "a{2,1}",
    "a*?", "a+?", "a??", "a*+", "a++", "a?+", "a{1,2}+", "a**", "a*{2}", "*a", "+", "?", "a|*",
    ".", "..", ".*", "(?s).", "(?s)a.b", "a.b", "^", "$", "^$", "\\A", "\\Z", "a\\Z", "a$", "a$$",
    "(?m)^b", "(?m)a$", "(?m)^$", "(?m)$\\n", "$a", "a$\\n", "(?:a$)", "(a$)", "(a$)?", "(?=a$)a",
    "\\b", "\\B", "\\ba", "a\\b", "\\bb\\b", "\\B.", "(?a)\\b\u00e9", "\u00e9\\b", "\\w+", "\\W",
    "\\d", "\\D+", "\\s", "\\S", "(?a)\\w", "(?a)\\d", "(?a)\\s", "[\\w]", "[^\\w]", "[\\W\\d]",
    "[a-c]", "[^a]", "[^ab]", "[]a]", "[^]a]", "[a-]", "[-a]", "[a\\-z]", "[\\d-z]", "[z-a]",
    "[a", "[", "[]", "[^]", "[\\]]", "[\\b]", "[\\A]", "[\\8]", "[\\0]", "[\\101]", "[\\400]",
    "[\\x41-\\x43]", "[\\x43-\\x41]", "[\u00e0-\u00ff]", "[\\u00e9]", "[\\U0001F600-\\U0001F64F]",
    "\\x41", "\\x4", "\\x", "\\u00e9", "\\u00e", "\\U00010400", "\\U00110000", "\\U0001", "\\N",
    "\\N{", "\\N{}", "\\N{DIGIT ONE}", "\\0", "\\01", "\\012", "\\0123", "\\1", "(a)\\1", "(a)\\2",
    "(a)\\10", "\\101", "\\400", "\\777", "\\8", "\\q", "\\e", "\\-", "\\.", "\\ ", "\\\u00e9", "\\",
    "a\\", "(", ")", "a)", "(a", "((a)", "(?", "(?P", "(?P<", "(?P<a", "(?P<a>", "(?P<a>x)",
    "(?P<1a>x)", "(?P<a-b>x)", "(?P<\u00e9>x)(?P=\u00e9)", "(?P<a>x)(?P<a>y)", "(?P<a>x)(?P=a)",
    "(?P=a)", "(?P<a>(?P=a))", "(?P=", "(?P=1)", "(?Px)", "(?<a>x)", "(?#comment)a", "(?#unterminated",
    "(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", "(?<=a|bc)x", "(?<=a*)x", "(?<=(a))x", "(?<=a{2})x",
    "(?<x)", "(?<", "(?<=", "(a)(?<=\\1)", "(?<=(a)\\1)", "(?=a)*", "(?:)", "()", "(|)", "a||b",
    "(?>a|ab)c", "(?>a+)a", "(?i)abc", "(?i)\u00df", "(?i)ss", "(?i)k", "(?i)\u212a", "(?i)s",
    "(?i)\u017f", "(?i)\u0130", "(?i)i", "(?i)\u0131", "(?i)\u03c3", "(?i)\u03a3", "(?i)\u1fbe",
    "(?i)[k]", "(?i)[a-z]+", "(?i)[^k]", "(?i)[\u00e0-\u00ff]", "(?i)[\\w]", "(?i)[K\u00e9]",
    "(?i)\U00010400", "(?i)[\U00010400]", "(?i)[\U00010400x]", "(?i)[\U00010400-\U00010401]",
    "(?i)\U00010400|x", "(?ai)k", "(?ai)[a-z]", "(?ai)\u00e9", "(?ai)[\u00e9x]", "(?a)(?u)x",
    "(?au)x", "(?L)x", "(?u)\\w", "(?x) a b # c", "(?x)a\\ b", "(?x)[ a]", "(?x)a{1, 2}",
    "a(?x) b", "(?i", "(?i-", "(?i-i:a)", "(?-i:a)", "(?i:a)A", "(?-:a)", "(?-a:b)", "(?a:\\w)",
    "(?t)a", "(?t)a*", "(?t:a)", "(?-t:a)", "(?z)", "(?\u00e9)", "(?i)(?m)a", "a(?i)", "(?i)|(?m)",
    "(a)?(?(1)b|c)", "(?(1)a|b)", "(a)(?(1)b|c|d)", "(?P<n>a)?(?(n)b)", "(?(n)a)", "(a)(?(0)b)",
    "(a)(?(-1)b)", "(a)(?(1a)b)", "(a)(?(\u0661)b)", "(a)(?( 1 )b)", "(?(99999999999999999999)a)",
    "(?(2)a)(b)(c)", "a{4294967295}", "a{4294967294}", "a{99999999999999999999}", "(?<=a{4294967294}a{2})b",
    "x*y*z*$", "(ab)+$", "(a|b)*c", "^(\\d{1,3}\\.){3}\\d{1,3}$", "Dell.*", "(?i)dell\\s+inc",
    "PowerEdge R[0-9]+", "^x86_64$", "[0-9]+", "^$|^None$", "\\['a'", "\\d+\\.\\d+", "a\nb",
    "(?x)a\n#c\nb", "[\n]", "a(\n", "\n(", "é(", "(?i)[^\\W\\d_]+", "\\$", "a\\$", "[$]",
]

ATOMS = ["a", "b", "\u00e9", "K", "\u017f", "\\w", "\\d", "\\s", "\\W", "\\b", "\\B", ".", "^", "$",
         "[a-c]", "[^b]", "[\\w.]", "\\x41", "\\n", "\\.", "(a)", "(?:ab)", "(?P<g>b)", "\\1",
         "(?=a)", "(?!b)", "(?<=a)", "(?<!b)", "(?>a|ab)", "(?i:k)", "\\A", "\\Z", "|", "(", ")", "[",
         "\\", "{2}", "{1,3}", "*", "+", "?", "*?", "++", "(?i)", "(?(1)a|b)", "\u00df", "\u0130",
         "[\u00e0-\u00ff]", "x", "\\u00e9", "(?#x)", "{,}", "{"]


CHARS = ["a", "b", "c", "s", "k", "i", "\u00df", "\u00e9", "\u00c9", "\u017f", "\u212a", "\u0130",
         "\u0131", "\u03c3", "\u03a3", "\u03c2", "\U00010400", "\U00010428", "1", "_", " ", "\n", "."]
CLASSES = ["[a-c]", "[^a]", "[sk]", "[\u00e0-\u00ff]", "[\\w\u00e9]", "[^\\W\\d]", "[\\s\\d]", "[A-Z]",
           "[\U00010400-\U00010430]", "[\U00010400x]", "[\u0100-\u017f]", "[^\\n]", "[.]", "[\u03a3]",
           "[\u0130i]", "[\u212a]", "[ -~]", "[\\x00-\\x7f]"]
ESCAPES = ["\\w", "\\W", "\\d", "\\D", "\\s", "\\S", "\\b", "\\B", "\\A", "\\Z", "\\n", "\\x41",
           "\\u00e9", "\\."]


def structured_pattern(depth=0, groups=None):
    """A random pattern that is usually valid, for matching coverage."""
    groups = groups if groups is not None else [0]
    parts = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.3 or depth > 2:
            atom = rng.choice(CHARS + CLASSES + ESCAPES + ["."])
        elif r < 0.45:
            groups[0] += 1
            atom = "(" + structured_pattern(depth + 1, groups) + ")"
        elif r < 0.55:
            atom = "(?" + rng.choice([":", "i:", "-i:", "a:", "s:", "m:", "x:", ">"]) + structured_pattern(depth + 1, groups) + ")"
        elif r < 0.62:
            atom = "(?" + rng.choice(["=", "!"]) + structured_pattern(depth + 1, groups) + ")"
        elif r < 0.68:
            atom = "(?" + rng.choice(["<=", "<!"]) + rng.choice(CHARS + CLASSES) + ")"
        elif r < 0.74 and groups[0]:
            atom = "\\%d" % rng.randint(1, groups[0])
        elif r < 0.78 and groups[0]:
            atom = "(?(%d)%s|%s)" % (rng.randint(1, groups[0]), rng.choice(CHARS), rng.choice(CHARS))
        elif r < 0.86:
            atom = rng.choice(["^", "$"])
        else:
            atom = structured_pattern(depth + 1, groups) + "|" + structured_pattern(depth + 1, groups)
            atom = "(?:" + atom + ")"
        if atom not in ("^", "$", "\\b", "\\B", "\\A", "\\Z") and rng.random() < 0.35:
            atom += rng.choice(["*", "+", "?", "{2}", "{1,3}", "{,2}", "*?", "+?", "??", "*+", "?+"])
        parts.append(atom)
    flags = rng.choice(["", "", "", "(?i)", "(?m)", "(?s)", "(?a)", "(?ai)", "(?im)"]) if depth == 0 else ""
    return flags + "".join(parts)


def random_pattern():
    return "".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 6)))


def gen_re():
    patterns = list(RE_PATTERNS)
    seen = set(patterns)
    for count, make in ((165, random_pattern), (260, structured_pattern)):
        target = len(patterns) + count
        while len(patterns) < target:
            p = make()
            if p not in seen:
                seen.add(p)
                patterns.append(p)
    out = []
    for p in patterns:
        try:
            rx = re.compile(p)
        except Exception as e:  # noqa: BLE001
            out.append({"pattern": p, "error": exc(e)})
            continue
        bits = "".join(("1" if rx.match(s) else "0") + ("1" if rx.search(s) else "0") for s in SUBJECTS)
        bits += "0" * (-len(bits) % 4)
        # Per subject two bits (match, search), packed four to a hex digit.
        packed = "".join("%x" % int(bits[i:i + 4], 2) for i in range(0, len(bits), 4))
        out.append({"pattern": p, "results": packed})
    return out


# --- netaddr ----------------------------------------------------------------------------

NETWORKS = [
    "10.0.0.0/8", "10.0.0.1/8", "10.0.0.5", "0.0.0.0/0", "192.168.1.0/24", "192.168.1.0/33",
    "192.168.1.0/-1", "192.168.1.0/ 24", "192.168.1.0/24 ", "192.168.1.0/+24", "192.168.1.0/2_4",
    "192.168.1.0/\u0662\u0664", "192.168.1.0/", "192.168.1.0/x", "192.168.1.0/255.255.255.0",
    "192.168.1.0/0.0.0.255", "192.168.1.0/255.0.255.0", "192.168.1.0/0.0.0.0", "192.168.1.0/255.255.255.255",
    "192.168.1.0/24/24", "10/8", "10", "10.1", "10.1.2", "010.0.0.0/8", "10.0.0.256/8", "1.2.3.4.5",
    " 10.0.0.0/8", "10.0.0.0 /8", "", "/", "/8", "::/0", "::1", "fe80::/10", "fe80::1/64",
    "2001:db8::/32", "2001:db8::/129", "2001:db8::/ffff:ffff::", "2001:db8::/::ffff", "::ffff:10.0.0.1/104",
    "::10.0.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8",
    "1::2::3", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", "FE80::AbCd", ":1::",
    "1::", "1:", "12345::", "::01.2.3.4", "10.0.0.0/8\x00", "10.0.0.0\x00/8", "10.0.0.0/8/\x00",
    "1.2.3.4/99999999999999999999", "1.2.3.4/" + "1" * 4400, "::/" + "0" * 3, "\u0661.2.3.4",
    "1.2.3.4/255.255.255.0/8", "abc/x/y", "10.0.0.0/08",
]
NETWORK_VALUES = [5, 167772160, 1.5, True, None, [], ["10.0.0.0/8"], {}, 2**64 - 1]

ADDRESSES = [
    "10.0.0.1", "10.255.255.255", "11.0.0.0", "192.168.1.77", "0.0.0.0", "255.255.255.255",
    "010.0.0.1", "10.0.0", "10.0.0.1.", " 10.0.0.1", "10.0.0.1/32", "::1", "fe80::1", "fe80::1%eth0",
    "::ffff:10.0.0.1", "2001:db8::5", "", "x", "None", "10.0.0.1\x00", "1e3", 167772161, 0,
    2**32 - 1, 2**32, 2**64 - 1, -1, True, False, 1.5, None, [], [":"], ["10.0.0.1"], {}, {":": 1},
    {"a": 1},
]


def net_repr(n):
    return [n.version, str(n.value), n.prefixlen]


def gen_net():
    networks = []
    for v in NETWORKS + NETWORK_VALUES:
        r = outcome(lambda: net_repr(netaddr.IPNetwork(v)))
        networks.append({"value": v, **r})
    addresses = []
    for v in ADDRESSES:
        r = outcome(lambda: [netaddr.IPAddress(v).version, str(netaddr.IPAddress(v).value)])
        addresses.append({"value": v, **r})
    contains = []
    nets = ["10.0.0.1/8", "192.168.1.0/24", "0.0.0.0/0", "::/0", "fe80::/10", "10.0.0.5",
            "::ffff:10.0.0.0/104", "192.168.1.0/0.0.0.255"]
    for n in nets:
        net = netaddr.IPNetwork(n)
        row = []
        for a in ADDRESSES:
            try:
                row.append(netaddr.IPAddress(a) in net)
            except Exception:  # noqa: BLE001 - parse failures are covered above
                row.append(None)
        contains.append({"network": n, "results": row})
    return {"networks": networks, "addresses": addresses, "contains": contains}


def main():
    fixture = {
        "repr": gen_repr(),
        "format_data": DATA,
        "format": gen_format(),
        "format_value": gen_format_value(),
        "coerce_expected": EXPECTED,
        "coerce": gen_coerce(),
        "compare_values": COMPARE_VALUES,
        "compare": gen_compare(),
        "re_subjects": SUBJECTS,
        "re": gen_re(),
        "net": gen_net(),
    }
    fixture["errors"] = ERRORS
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "py.json")
    with open(path, "w") as f:
        json.dump(fixture, f, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), {k: len(v) for k, v in fixture.items()})


if __name__ == "__main__":
    main()

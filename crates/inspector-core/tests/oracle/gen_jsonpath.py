"""Generate jsonpath.json: what jsonpath-rw 1.4.0 does with (path, document) pairs.

Run with the test bed venv: scripts/regen-oracles.sh (or target/testbed/venv-ironic/bin/python gen_jsonpath.py)
Each case records either the parse exception text, or the parsed tree (rendered as the
Rust `Debug` of `JsonPath`) and, per document, the found values or the exception
raised by find().  `sorted` holds the result for the same document with every dict's
keys sorted (serde_json without `preserve_order`), when that differs.
"""
import json
import os
import random
import re

import jsonpath_rw
from jsonpath_rw import jsonpath as jp

HERE = os.path.dirname(os.path.abspath(__file__))
# The ramdisk payloads the test bed also uses (inside this repository).
DATA = os.path.join(HERE, '..', '..', '..', '..', 'scripts', 'testbed', 'data')
MAX_RESULT_CHARS = 600  # keep the fixture small: huge results are skipped

SYNTHETIC = [
    {
        "b": {"y": 1, "x": [1, 2, {"x": "deep"}]},
        "a": [{"k": None}, "str", 3, 2.5, True, False, None, [], {}, [7, [8]]],
        "\u00fcn\u00ef": {"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"},
        "a-b": 1, "a b": 2, "where": 3, "*": "star", "": "empty", "it's": "q",
        "n": None, "s": "h\u00e9llo", "i": 42, "f": 1.5, "t": True, "z": 0,
        "big": 12345678901234567890, "neg": -7, "e": [], "o": {},
        "@id": "at", "x1": {"@": {"_": [{"id": 1}, {"id": 2, "x1": "n"}]}},
    },
    {"interfaces": [{"name": "eth0", "ipv4_address": "10.0.0.1"},
                    {"name": "eth1", "ipv4_address": None},
                    {"name": "lo", "ipv4_address": "127.0.0.1"}],
     "memory_mb": 1024, "local_gb": 99.5},
    [1, [2, [3, {"a": [4]}]], "x"],
    "just a string",
    7,
    None,
    True,
    {},
]


def load_docs():
    docs = []
    for name in ('ipa-inventory-handmade-2nic.json', 'ipa-inventory-this-machine.json',
                 'inspector-stored-data-handmade.json'):
        with open(os.path.join(DATA, name)) as f:
            docs.append(json.load(f))
    return docs + SYNTHETIC


HANDWRITTEN = [
    # rule fields from upstream-behaviour §rules and §functional, and upstream's tests
    'memory_mb', 'local_gb', 'cpus', 'cpu_arch', 'root_disk.wwn', 'root_disk',
    'inventory.interfaces[*].ipv4_address', 'i.do.not.exist', 'inventory.cpu.count',
    'properties.local_gb', 'driver_info.ipmi_address', 'interfaces[*].ip',
    'inventory.interfaces', 'inventory.interfaces[0]', 'inventory.interfaces[1].mac_address',
    'inventory.cpu[*]', 'inventory.cpu[0]', 'inventory.system_vendor.product_name[0]',
    'inventory.disks[*].name', 'inventory.disks[0:1].size', 'all_interfaces.*.ip',
    'all_interfaces.eno1.lldp_processed.switch_port_id', 'extra', 'error', 'ipmi_v6address',
    'inventory.memory.physical_mb', 'inventory.bmc_address', 'root_disk.size',
    # roots and named operators
    '$', '$.memory_mb', '$.$', 'memory_mb.$', '`this`', '`this`.s', 's.`this`',
    '`parent`', 'b.`parent`', 'b.x.`parent`', 'b.x[2].`parent`.`parent`',
    '`parent`.x', '`parent`.`this`', '`parent`.$', '`parent`.`parent`', '`parent`[*]',
    '`parent`[0]', '`parent`..a', 'b..`parent`', 'b where `parent`',
    'o[*].`parent`', 's[*].`parent`', 's[0].`parent`', '[*].$', 'i[*].$', 's[1][*]',
    # fields
    'a-b', '"a b"', "'a b'", "'a-b'", '"where"', "'it\\'s'", '"it\'s"', "'\\a\\b'",
    '"\u00fcn\u00ef".*', "'\u00fcn\u00ef'.'\u043a\u043b\u044e\u0447'", "''", '""', "'*'",
    "a,'*'", '@id', 'x1.@._', 'x1.@._[*].id', 'a,b', 'b , a', 'b,b', 'n', 'z', 'nope',
    's.x', 'i.x', 'a.k', 'a[*].k', '*', '*.x', '*.*', 'b.*', 'a.*', 'o.*', 's.*',
    # descendants
    'b..x', '..x', 'x1..id', 'x1..x1', 'a..k', '$..id', 'b..*', 'o..*', 'b..[0]', 'b..[*]',
    'b.x..x', 'a..`this`', '`this`..y', 'b..(x|y)', 'b..x[*]',
    # index and slices, the wrapping quirk
    'a[0]', 'a[1]', 'a[9]', 'a[10]', 'a[-1]', 'a[-10]', 'a[-11]', 'e[0]', 'e[-1]',
    'o[0]', 'b[0]', 'b[-1]', 'b[5]', 's[0]', 's[1]', 's[-1]', 's[5]', 's[-5]', 's[-6]',
    'i[0]', 'f[0]', 'n[0]', 't[0]', 'a[1][0]', 'a[1][0][0]', 'a[1][-1]', 'a[1][-2]',
    'a[9][1][0]', '[0]', '[-1]', '[2][0]', 'a[99999999999999999999999]',
    'a[-99999999999999999999999]', 'a[\u0663]', 'a[-\u0663]', 'a[007]',
    'a[*]', 'a[:]', 'a[2:]', 'a[:2]', 'a[1:3]', 'a[-2:]', 'a[:-8]', 'a[-100:100]',
    'a[5:2]', 'e[*]', 'b[*]', 'b[*].y', 'b[0:1]', 'b[1:]', 's[*]', 'i[*]', 't[*]',
    'z[*]', 'f[*]', 'n[*]', 'o[*]', 'big[*]', 'neg[*]', '[*]', '[*][*]', '[*].b',
    'a[*][*]', 'a[0][*]', 'a[*][0]', 'a[0:2][0]', '[a]', '[a,b]', 'b[x,y]', 'b[x][0]',
    # where, union, intersection, parentheses
    'a where k', 'a[*] where k', 'b where x', 'b where nope', '* where x', 'b.x[*] where x',
    'a|b', 'b|a', 'a[0]|b.y', '(a|b)[0]', 'a|b[0]', 'b.(x|y)', '(b.x|b.y)', 'nope|s',
    'a&b', 'nope&nope', '(a)', '((b)).y', '(b).y', 'b.(y)', '(b.y)', '($)', '(`this`)',
    'a.b[0]', 'b.x[0]', 'b.x[2].x', 'b.x[*].x', 'b | a.k', 'b where x.y', 'b where y.x',
    # whitespace and layout
    ' memory_mb ', 'b . y', 'b\t.\ty', 'b\n.y', 'b.\ny', "'a\nb'", 'b .. x', 'b[ 0 ]',
    # parse errors
    '', ' ', '.', '..', 'a.', 'a..', '.a', 'a b', '$a', 'a[', 'a[0', 'a[]', '[]', 'a[,]',
    'a[b,*]', 'a[*,b]', 'a[1:2:3]', 'a[::]', 'a[:', 'a[-]', '-', 'a-', '-a', '5', 'a.5',
    'a.-05', '99999999999999999999999', 'where', 'a.where', 'a where', 'where a', '*,a',
    'a,*', 'a,', ',a', '(', ')', '()', 'a(', 'a)', '(a', '((a)', '(a))', '$$', '**',
    'a[0]b', 'a[0](b)', '[0]]', 'a]', 'a|', '|a', 'a&', '&a', '`foo`', 'a.`foo`',
    '`foo` $%', '`foo`)', '`foo`]', '`foo`,', '`foo`:', '`foo`[', '`foo` where a',
    '`foo`a', '`foo`1', '`foo`*', '`foo`(', '`foo``this`', '`foo`..', '`foo`|', '`foo`&',
    '(`foo`)', '`foo`.b', 'a\n`foo`', '`this', "'abc", '"abc', "a.'b", "'a\\", '"a\\',
    '`a\\', "'a\\\nb'", 'a%', 'a\\nb', 'a\rb', 'a\u00a0b', '\u00fcn\u00ef', 'a.\u00fc',
    '\n%', 'a.\nb c', 'a.\n\nb c', 'x\n\ny z', "'a'\n'b'", '"a\nb" c', '`th\\is`',
    'a[\u00b2]', 'a[1\u0663]', 'a[0x10]', 'a[1.5]', 'a[*]]', '$..', 'a...b', 'a....b',
    'a.:', 'a[:]:', 'a..[', 'a[-0]', 'a[--1]', '@', '@@a', '_', 'a@b-c_d',
]


def all_keys(doc, out):
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.add(k)
            all_keys(v, out)
    elif isinstance(doc, list):
        for v in doc:
            all_keys(v, out)
    return out


ID_RE = re.compile(r'[a-zA-Z_@][a-zA-Z0-9_@\-]*\Z')


def render_field(rng, key):
    if ID_RE.match(key) and key != 'where' and rng.random() < 0.85:
        return key
    quote = rng.choice(["'", '"'])
    return quote + key.replace('\\', '\\\\').replace(quote, '\\' + quote) + quote


def walk_path(rng, doc):
    """A path following the document's structure, with random jsonpath-rw decorations."""
    parts = []
    node = doc
    for _ in range(rng.randint(1, 6)):
        if isinstance(node, dict) and node:
            key = rng.choice(list(node))
            r = rng.random()
            if r < 0.12:
                parts.append('*')
                node = node[key]
            elif r < 0.2:
                parts.append('.' + render_field(rng, key))
                node = node[key]
                continue
            elif r < 0.26:
                parts.append('[*]')
            else:
                parts.append(render_field(rng, key))
                node = node[key]
        elif isinstance(node, list) and node:
            i = rng.randrange(len(node))
            r = rng.random()
            if r < 0.45:
                parts.append('[*]')
            elif r < 0.75:
                parts.append('[%d]' % rng.choice([i, i, -1, len(node)]))
            else:
                a, b = rng.choice([None, i, -1, -3]), rng.choice([None, i + 1, len(node) + 2])
                parts.append('[%s:%s]' % ('' if a is None else a, '' if b is None else b))
            node = node[i]
        else:
            parts.append(rng.choice(['[0]', '[*]', '[-1]', 'x', '[1:]', '`this`', '`parent`']))
            break
    text = ''
    for p in parts:
        if p.startswith('['):
            text += p
        elif p.startswith('.'):
            text += ('..' if text else '') + p[1:]
        else:
            text += ('.' if text else '') + p
    r = rng.random()
    if r < 0.08:
        text = '$.' + text
    elif r < 0.14:
        text = text + ' where ' + rng.choice(['name', 'ipv4_address', 'size', '`this`', 'x'])
    elif r < 0.2:
        text = '(%s)|(%s)' % (text, walk_path(rng, doc))
    elif r < 0.24:
        text = text + '.`parent`'
    return text


PRIMARIES = ['a', 'b', 'x', 'y', 'k', 's', 'o', 'x1', '*', '$', '`this`', '`parent`',
             '[0]', '[*]', '[-1]', '[1:]', '[:2]', '[x,y]', 'a,b', "'a b'", '@id']
BRACKETS = ['[0]', '[1]', '[-1]', '[*]', '[1:]', '[:-1]', '[x]', '[x,y]']
OPERATORS = ['.', '..', ' where ', '|', '&']


def random_expr(rng, depth=0):
    """A random sentence of the grammar; parentheses are rare so precedence decides."""
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice(PRIMARIES)
    if r < 0.45:
        return random_expr(rng, depth + 1) + rng.choice(BRACKETS)
    if r < 0.5:
        return '(%s)' % random_expr(rng, depth + 1)
    op = rng.choices(OPERATORS, weights=[6, 3, 2, 2, 1])[0]
    return random_expr(rng, depth + 1) + op + random_expr(rng, depth + 1)


TOKENS = ['a', 'b', 'x', 'where', '0', '1', '-1', '12', '.', '..', '[', ']', '(', ')',
          '*', '$', ',', ':', '|', '&', '`this`', '`parent`', '`foo`', "'q r'", '"s"',
          ' ', '\n', '%', '-', '\\', "'", '`', '\u0663']


def token_soup(rng):
    return ''.join(rng.choice(TOKENS) for _ in range(rng.randint(1, 7)))


def mutate(rng, path):
    if not path:
        return rng.choice(TOKENS)
    i = rng.randrange(len(path))
    op = rng.random()
    if op < 0.4:
        return path[:i] + path[i + 1:]
    if op < 0.8:
        return path[:i] + rng.choice(TOKENS) + path[i:]
    return path[:i] + rng.choice(TOKENS) + path[i + 1:]


def rust_str(s):
    out = []
    for c in s:
        if c in '\\"':
            out.append('\\' + c)
        elif c in '\t\r\n\0':
            out.append({'\t': '\\t', '\r': '\\r', '\n': '\\n', '\0': '\\0'}[c])
        elif ' ' <= c <= '~':
            out.append(c)
        else:
            return None  # Rust's Unicode escaping rules are not worth reproducing here
    return '"%s"' % ''.join(out)


def clamp(n):
    return max(-2 ** 127, min(2 ** 127 - 1, n))


def rust_debug(node):
    """The Rust `Debug` rendering of the tree jsonpath-rw built, or None."""
    binary = {jp.Child: 'Child', jp.Descendants: 'Descendants', jp.Where: 'Where',
              jp.Union: 'Union', jp.Intersect: 'Intersect'}
    if type(node) in binary:
        left, right = rust_debug(node.left), rust_debug(node.right)
        if left is None or right is None:
            return None
        return '%s(%s, %s)' % (binary[type(node)], left, right)
    if isinstance(node, jp.Fields):
        names = [rust_str(f) for f in node.fields]
        return None if None in names else 'Fields([%s])' % ', '.join(names)
    if isinstance(node, jp.Index):
        return 'Index(%d)' % clamp(node.index)
    if isinstance(node, jp.Slice):
        bound = lambda b: 'None' if b is None else 'Some(%d)' % clamp(b)
        return 'Slice { start: %s, end: %s }' % (bound(node.start), bound(node.end))
    return {jp.Root: 'Root', jp.This: 'This', jp.Parent: 'Parent'}[type(node)]


def sort_keys(doc):
    if isinstance(doc, dict):
        return {k: sort_keys(doc[k]) for k in sorted(doc)}
    if isinstance(doc, list):
        return [sort_keys(v) for v in doc]
    return doc


def run_find(parsed, doc):
    try:
        return {'values': [m.value for m in parsed.find(doc)]}
    except Exception as exc:  # the oracle's exception is the expected result
        return {'raises': [type(exc).__name__, str(exc)]}


def main():
    # JSONPATH_SEED/JSONPATH_SCALE allow larger throw-away differential runs.
    rng = random.Random(int(os.environ.get('JSONPATH_SEED', '20240611')))
    scale = int(os.environ.get('JSONPATH_SCALE', '1'))
    docs = load_docs()
    sorted_docs = [sort_keys(d) for d in docs]
    synthetic = list(range(3, len(docs)))

    jobs = []  # (path, [doc indices])
    for path in HANDWRITTEN:
        jobs.append((path, list(range(len(docs)))))
    for _ in range(400 * scale):
        d = rng.choice([0, 1, 2, 3, 3, 4])
        jobs.append((walk_path(rng, docs[d]), [d, rng.choice(synthetic)]))
    for _ in range(250 * scale):
        jobs.append((random_expr(rng), [3, rng.choice([0, 4, 5])]))
    for _ in range(250 * scale):
        jobs.append((token_soup(rng), [3, rng.choice(synthetic)]))
    for _ in range(250 * scale):
        base = rng.choice(HANDWRITTEN[:150] + [j[0] for j in jobs[-1000:-250]])
        jobs.append((mutate(rng, base), [rng.choice([0, 2, 3, 4]), rng.choice(synthetic)]))

    cases, seen, skipped = [], set(), 0
    for path, doc_ids in jobs:
        if path in seen:
            continue
        seen.add(path)
        try:
            parsed = jsonpath_rw.parse(path)
        except Exception as exc:
            cases.append({'path': path, 'error': str(exc)})
            continue
        results = []
        for d in doc_ids:
            result = run_find(parsed, docs[d])
            if len(json.dumps(result)) > MAX_RESULT_CHARS:
                skipped += 1
                continue
            result['doc'] = d
            in_sorted = run_find(parsed, sorted_docs[d])
            if in_sorted != {k: v for k, v in result.items() if k != 'doc'}:
                result['sorted'] = in_sorted
            results.append(result)
        cases.append({'path': path, 'ast': rust_debug(parsed), 'results': results})

    out = {'docs': docs, 'cases': cases}
    with open(os.path.join(HERE, 'jsonpath.json'), 'w') as f:
        json.dump(out, f, ensure_ascii=False, separators=(',', ':'))
        f.write('\n')
    n_results = sum(len(c.get('results', ())) for c in cases)
    n_errors = sum(1 for c in cases if 'error' in c)
    print('%d paths (%d parse errors), %d (path, document) results, %d large skipped'
          % (len(cases), n_errors, n_results, skipped))


if __name__ == '__main__':
    main()

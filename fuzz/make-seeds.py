#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/<target>/ from the repository's own
payloads and oracle fixtures (the IPA inventories of scripts/testbed/data/,
the cases of crates/inspector-core/tests/oracle/). Each seed is named by the
SHA-1 of its bytes, as libFuzzer names the inputs it adds. Run from anywhere:

    python3 fuzz/make-seeds.py
"""

import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ORACLE = os.path.join(REPO, "crates/inspector-core/tests/oracle")
DATA = os.path.join(REPO, "scripts/testbed/data")
rng = random.Random(17)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def write(target, seeds):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    for seed in seeds:
        raw = seed if isinstance(seed, bytes) else seed.encode("utf-8")
        name = hashlib.sha1(raw).hexdigest()
        with open(os.path.join(directory, name), "wb") as f:
            f.write(raw)


def sample(items, count):
    items = list(items)
    return items if len(items) <= count else rng.sample(items, count)


def main():
    payloads = [load(os.path.join(DATA, n)) for n in sorted(os.listdir(DATA))]
    hooks = load(os.path.join(ORACLE, "hooks.json"))
    node = {"node": hooks["base_node"], "ports": [{"uuid": "p1", "address": "52:54:00:aa:00:01",
                                                   "pxe_enabled": True, "extra": {},
                                                   "local_link_connection": {}}]}
    bodies = [compact(p) for p in payloads] + [compact(b) for b in hooks["bases"].values()]
    write("continue_body", bodies + [bodies[0] + "\0" + compact(node)])

    rules = load(os.path.join(ORACLE, "rules.json"))
    rule_bodies = [compact(v) for v in rules["validation"]]
    for case in rules["conditions"] + rules["actions"]:
        body = {"conditions": case.get("conditions", []), "actions": case.get("actions", [])}
        rule_bodies.append(compact(body))
    write("rules", sample(rule_bodies, 60))

    conf = load(os.path.join(ORACLE, "conf.json"))
    texts = [open(os.path.join(REPO, p), encoding="utf-8").read()
             for p in ("examples/inspector.conf", "packaging/deb/inspector.conf")]
    texts += ["\0".join(case["files"]) for case in conf["cases"]]
    write("oslo_config", sample(texts, 60))

    policy = load(os.path.join(ORACLE, "policy.json"))
    strings = [case["rule"] for case in policy["parse"]]
    files = [case["file"] for case in policy["inspector"] if case.get("file")]
    write("policy", sample(strings, 50) + files)

    py = load(os.path.join(ORACLE, "py.json"))
    subjects = py["re_subjects"]
    write("py_re", [case["pattern"] + "\0" + rng.choice(subjects)
                    for case in sample(py["re"], 80)])
    write("py_format", [case["t"] for case in sample(py["format"], 80)])

    jsonpath = load(os.path.join(ORACLE, "jsonpath.json"))
    write("jsonpath", [case["path"] for case in sample(jsonpath["cases"], 80)])


main()

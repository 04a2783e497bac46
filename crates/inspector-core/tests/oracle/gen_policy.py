#!/usr/bin/env python
"""Oracle for tests/policy.rs: runs check strings, policy files and
credentials through the real oslo.policy (with ironic-inspector's registered
defaults where relevant) and records the outcomes.

Run with the venv that has the upstream packages:

    target/testbed/venv-ironic/bin/python crates/inspector-core/tests/oracle/gen_policy.py
    (scripts/regen-oracles.sh runs every generator)

It writes tests/oracle/policy.json next to this script:

* "parse": check string -> str() of oslo's parsed check tree;
* "checks": rules, default rule, check strings x targets x credentials ->
  allowed or not;
* "inspector": policy file text x enforce_new_defaults x credentials ->
  the decision for every registered inspector rule;
* "sample_rules" and "sample": upstream's rule definitions (as data) and
  what oslopolicy-sample-generator prints for them, to test the formatter.
"""

import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")
logging.disable(logging.CRITICAL)

from oslo_config import cfg  # noqa: E402
from oslo_policy import _parser  # noqa: E402
from oslo_policy import generator  # noqa: E402
from oslo_policy import opts  # noqa: E402
from oslo_policy import policy  # noqa: E402

from ironic_inspector import policy as inspector_policy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

PARSE = [
    "",
    "@",
    "!",
    "role:admin",
    "role:admin or role:member",
    "role:admin and role:member",
    "role:a or role:b and role:c",
    "role:a and role:b or role:c",
    "role:a or role:b and role:c and role:d",
    "role:a and role:b or role:c and role:d",
    "role:a or role:b or role:c and role:d or role:e",
    "not role:a",
    "not role:a and role:b",
    "role:a and not role:b",
    "not not role:a",
    "not (role:a or role:b)",
    "(role:a or role:b) and role:c",
    "role:a and (role:b or role:c)",
    "((role:a))",
    "(role:admin and system_scope:all) or (role:admin) or (role:service)",
    "(role:reader and system_scope:all) or (role:admin) or (role:service)",
    "role:a AND role:b OR NOT role:c",
    "project_id:%(project_id)s",
    "(project_id:%(project_id)s)",
    "(project_id:%(project_id)s or role:admin)",
    "role:a or",
    "and role:a",
    "role:a role:b",
    "(role:a",
    "role:a)",
    "noColon",
    "'quoted'",
    "role:a or 'quoted'",
    "\"dq\"",
    "not",
    "()",
    "rule:admin_or_owner",
    "is_admin:True",
    "True:%(enabled)s",
    "'member':%(role)s",
    "a.b.c:x",
    "role:a:b",
    "  role:a   or\trole:b  ",
    "@ or !",
    "! and @",
    "not @",
]

RULES = {
    "default": "!",
    "allow": "@",
    "deny": "!",
    "admin": "role:admin",
    "admin_or_owner": "role:admin or project_id:%(project_id)s",
    "loop_a": "rule:loop_b",
    "loop_b": "role:x and rule:loop_a",
}

CHECKS = [
    "",
    "@",
    "!",
    "role:admin",
    "role:ADMIN",
    "role:Member",
    "role:%(role)s",
    "role:%(missing)s",
    "rule:admin",
    "rule:allow",
    "rule:deny",
    "rule:admin_or_owner",
    "rule:undefined",
    "rule:loop_a",
    "is_admin:True",
    "is_admin_project:True",
    "is_public_api:True",
    "is_public_api:False",
    "system_scope:all",
    "system:all",
    "system_scope:None",
    "project_id:%(project_id)s",
    "project_id:%(missing)s",
    "project_id:p1",
    "user_id:%(user.id)s",
    "project_id:None",
    "roles:admin",
    "roles:Admin",
    "True:%(enabled)s",
    "'member':%(name)s",
    "\"member\":%(name)s",
    "1:%(number)s",
    "-1:%(negative)s",
    "None:%(nothing)s",
    "False:%(disabled)s",
    "1.5:%(ratio)s",
    "nested.list.key:v2",
    "nested.list.key:v9",
    "nested.deep.key:yes",
    "nested.missing:x",
    "user_id.sub:x",
    "not role:admin",
    "not rule:undefined",
    "role:admin or role:member",
    "role:reader and system_scope:all",
    "(role:admin and system_scope:all) or (role:admin) or (role:service)",
    "(role:reader and system_scope:all) or (role:admin) or (role:service)",
    "role:a or role:b and role:c",
    "role:member and not role:admin",
    "role:admin or",
    "noColon",
    "'quoted'",
    "role:%%admin",
    "project_id:%(project_id)s%%",
]

TARGETS = [
    {},
    {
        "project_id": "p1",
        "role": "member",
        "enabled": True,
        "name": "member",
        "number": 1,
        "negative": -1,
        "nothing": None,
        "disabled": False,
        "ratio": 1.5,
        "user.id": "u1",
    },
]


def token_creds(roles, project_id=None, system=False, user_id="u1",
                domain_id=None, is_admin_project=True, public=False):
    return {
        "user_id": user_id,
        "user_domain_id": "default",
        "system_scope": "all" if system else None,
        "domain_id": domain_id,
        "project_id": project_id,
        "project_domain_id": "default" if project_id else None,
        "roles": roles,
        "is_admin_project": is_admin_project,
        "service_user_id": None,
        "service_user_domain_id": None,
        "service_project_id": None,
        "service_project_domain_id": None,
        "service_roles": [],
        "is_public_api": public,
    }


CREDS = {
    "anonymous": token_creds([], user_id=None),
    "anonymous_public": token_creds([], user_id=None, public=True),
    "admin_project": token_creds(["admin", "manager", "member", "reader"],
                                 project_id="p1"),
    "admin_system": token_creds(["admin", "manager", "member", "reader"],
                                system=True),
    "admin_mixed_case": token_creds(["Admin"], project_id="p2"),
    "manager_project": token_creds(["manager", "member", "reader"],
                                   project_id="p1"),
    "member_project": token_creds(["member", "reader"], project_id="p1"),
    "member_system": token_creds(["member", "reader"], system=True),
    "reader_project": token_creds(["reader"], project_id="p2"),
    "reader_system": token_creds(["reader"], system=True),
    "service_project": token_creds(["service"], project_id="svc"),
    "baremetal_admin": token_creds(["baremetal_admin", "member", "reader"],
                                   project_id="p1"),
    "baremetal_observer": token_creds(["baremetal_observer", "reader"],
                                      project_id="p1"),
    "administrator": token_creds(["administrator"], project_id="p1"),
    "domain_admin": token_creds(["admin"], domain_id="d1"),
    "not_admin_project": token_creds(["admin"], project_id="p3",
                                     is_admin_project=False),
    "nested": dict(token_creds(["member"], project_id="p1"), nested={
        "list": [{"key": "v1"}, {"key": "v2"}],
        "deep": {"key": "yes"},
    }),
}

POLICY_FILES = [
    ("none", None),
    ("empty", ""),
    ("member_status_yaml",
     '"introspection:status": "role:member"\n'),
    ("member_status_json",
     '{"introspection:status": "role:member or rule:is_admin"}\n'),
    ("allow_everything", '"introspection:start": ""\n'
                         '"introspection:abort": "@"\n'
                         '"introspection:data": null\n'),
    ("deny_public", '"introspection": "!"\n'
                    '"introspection:version": "role:admin"\n'
                    '"introspection:continue": "not is_public_api:True"\n'),
    ("override_building_blocks",
     '"is_admin": "role:superuser"\n'
     '"is_observer": "role:auditor"\n'),
    ("list_syntax",
     '"introspection:rule:get": [["role:admin", "system_scope:all"], '
     '["role:service"]]\n'
     '"introspection:rule:create": ["role:creator"]\n'
     '"introspection:rule:delete": []\n'),
    ("default_rule_fallback",
     '"default": "role:member"\n'
     '"introspection:status": "rule:nonexistent"\n'),
    ("custom_rule_reference",
     '"my_readers": "role:reader or role:auditor"\n'
     '"introspection:status": "rule:my_readers and not role:banned"\n'),
]


def make_conf(policy_file, enforce_new_defaults):
    conf = cfg.ConfigOpts()
    opts._register(conf)
    conf([], project="ironic-inspector-oracle", default_config_files=[])
    conf.set_override("policy_file", policy_file, group="oslo_policy")
    conf.set_override("policy_dirs", [], group="oslo_policy")
    conf.set_override("enforce_new_defaults", enforce_new_defaults,
                      group="oslo_policy")
    return conf


def parse_cases():
    return [{"rule": r, "str": str(_parser.parse_rule(r))} for r in PARSE]


def check_cases():
    conf = make_conf("does-not-exist.yaml", True)
    enforcer = policy.Enforcer(conf, use_conf=False)
    enforcer.set_rules(policy.Rules.from_dict(dict(RULES), "default"),
                       use_conf=False)
    cases = []
    for rule in CHECKS:
        for t_index, target in enumerate(TARGETS):
            allowed = {}
            for name, creds in CREDS.items():
                check = _parser.parse_rule(rule)
                try:
                    result = enforcer.enforce(check, dict(target),
                                              dict(creds))
                    allowed[name] = bool(result)
                except RecursionError:
                    allowed[name] = "recursion"
                except Exception as e:
                    # upstream answers 500 here; we deny
                    allowed[name] = "error: %s" % type(e).__name__
            cases.append({"rule": rule, "target": t_index,
                          "allowed": allowed})
    return cases


def inspector_cases():
    names = [r.name for r in inspector_policy.list_policies()]
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, text in POLICY_FILES:
            path = os.path.join(tmp, label + ".yaml")
            if text is not None:
                with open(path, "w") as f:
                    f.write(text)
            for new_defaults in (True, False):
                conf = make_conf(path, new_defaults)
                enforcer = policy.Enforcer(conf)
                enforcer.suppress_default_change_warnings = True
                enforcer.register_defaults(inspector_policy.list_policies())
                decisions = {}
                for cname, creds in CREDS.items():
                    decisions[cname] = {
                        name: bool(enforcer.authorize(name, {}, dict(creds)))
                        for name in names}
                cases.append({"file": text, "label": label,
                              "enforce_new_defaults": new_defaults,
                              "effective": {
                                  name: str(enforcer.rules[name])
                                  for name in names},
                              "decisions": decisions})
    return names, cases


def sample():
    rules = []
    for r in inspector_policy.list_policies():
        dep = r.deprecated_rule
        rules.append({
            "name": r.name,
            "check_str": r.check_str,
            "description": r.description,
            "operations": [[o["method"], o["path"]]
                           for o in getattr(r, "operations", [])],
            "deprecated_for_removal": bool(r.deprecated_for_removal),
            "deprecated_reason": r.deprecated_reason,
            "deprecated_since": r.deprecated_since,
            "deprecated_rule": None if dep is None else {
                "name": dep.name,
                "check_str": dep.check_str,
                "deprecated_reason": dep.deprecated_reason,
                "deprecated_since": dep.deprecated_since,
            },
        })
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        generator._generate_sample(["ironic_inspector.api"],
                                   output_path=None)
    return rules, out.getvalue()


def main():
    names, inspector = inspector_cases()
    sample_rules, sample_text = sample()
    data = {
        "creds": CREDS,
        "targets": TARGETS,
        "rules": RULES,
        "default_rule": "default",
        "parse": parse_cases(),
        "checks": check_cases(),
        "inspector_rules": names,
        "inspector": inspector,
        "sample_rules": sample_rules,
        "sample": sample_text,
    }
    with open(os.path.join(HERE, "policy.json"), "w") as f:
        json.dump(data, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print("parse %d, checks %d, inspector %d" % (
        len(data["parse"]), len(data["checks"]), len(data["inspector"])),
        file=sys.stderr)


if __name__ == "__main__":
    main()

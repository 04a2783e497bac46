#!/usr/bin/env python3
"""Fills a freshly bootstrapped test-bed Keystone with what inspector's
tests need, through Keystone's own API (stdlib only), and writes a JSON
description of it for the tests.

    keystone_setup.py URL ADMIN_PASSWORD OUT.json [BAREMETAL_URL]

Creates (idempotently): roles service, baremetal_admin, baremetal_observer;
projects `service` and `demo`; users, each with password `<name>-password`:

    inspector           service on project service (the service user)
    member, reader,     that role on project demo (the bootstrap's implied
    manager             roles add member/reader to manager tokens, reader
                        to member tokens)
    system-reader,      that role on the system (scope "all")
    system-member
    baremetal-admin,    the legacy roles on project demo
    baremetal-observer
    norole              no role at all (only an unscoped token)

and, with BAREMETAL_URL, a `baremetal` service with public and internal
endpoints in RegionOne. OUT.json lists every user with its scope.
"""

import json
import sys
import urllib.error
import urllib.request

REGION = "RegionOne"
DOMAIN = "default"


class Keystone:
    def __init__(self, url, admin_password):
        self.url = url.rstrip("/")
        self.token = None
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": DOMAIN},
                "password": admin_password}}},
            "scope": {"system": {"all": True}}}}
        _, headers, _ = self.call("POST", "/v3/auth/tokens", body,
                                  auth=False)
        self.token = headers["X-Subject-Token"]

    def call(self, method, path, body=None, auth=True, ok=(200, 201, 204)):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("X-Auth-Token", self.token)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=30) as response:
                text = response.read().decode()
                status, headers = response.status, response.headers
        except urllib.error.HTTPError as e:
            status, headers, text = e.code, e.headers, e.read().decode()
        if status not in ok:
            sys.exit(f"keystone_setup: {method} {path} -> {status}: {text}")
        return status, headers, (json.loads(text) if text else None)

    def find(self, collection, name):
        _, _, body = self.call("GET", f"/v3/{collection}?name={name}")
        items = body[collection]
        return items[0]["id"] if items else None

    def ensure(self, collection, singular, fields):
        found = self.find(collection, fields["name"])
        if found:
            return found
        _, _, body = self.call("POST", f"/v3/{collection}",
                               {singular: fields})
        return body[singular]["id"]

    def grant_project(self, project, user, role):
        self.call("PUT", f"/v3/projects/{project}/users/{user}/roles/{role}")

    def grant_system(self, user, role):
        self.call("PUT", f"/v3/system/users/{user}/roles/{role}")

    def ensure_service(self, service_type, name):
        _, _, body = self.call("GET", f"/v3/services?type={service_type}")
        if body["services"]:
            return body["services"][0]["id"]
        _, _, body = self.call("POST", "/v3/services", {"service": {
            "type": service_type, "name": name, "enabled": True}})
        return body["service"]["id"]


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    url, admin_password, out = sys.argv[1:4]
    baremetal_url = sys.argv[4] if len(sys.argv) == 5 else None
    ks = Keystone(url, admin_password)

    roles = {name: ks.ensure("roles", "role", {"name": name}) for name in (
        "admin", "manager", "member", "reader", "service",
        "baremetal_admin", "baremetal_observer")}
    projects = {name: ks.ensure("projects", "project", {
        "name": name, "domain_id": DOMAIN}) for name in ("service", "demo")}

    users = {"admin": {"password": admin_password, "project": "admin",
                       "system": False}}
    layout = [
        ("inspector", "project", "service", "service"),
        ("member", "project", "demo", "member"),
        ("reader", "project", "demo", "reader"),
        ("manager", "project", "demo", "manager"),
        ("baremetal-admin", "project", "demo", "baremetal_admin"),
        ("baremetal-observer", "project", "demo", "baremetal_observer"),
        ("system-reader", "system", None, "reader"),
        ("system-member", "system", None, "member"),
        ("norole", None, None, None),
    ]
    for name, scope, project, role in layout:
        password = f"{name}-password"
        user = ks.ensure("users", "user", {
            "name": name, "domain_id": DOMAIN, "password": password})
        if scope == "project":
            ks.grant_project(projects[project], user, roles[role])
        elif scope == "system":
            ks.grant_system(user, roles[role])
        users[name] = {"password": password, "project": project,
                       "system": scope == "system"}

    if baremetal_url:
        service = ks.ensure_service("baremetal", "ironic")
        _, _, body = ks.call("GET", f"/v3/endpoints?service_id={service}")
        have = {e["interface"] for e in body["endpoints"]}
        for interface in ("public", "internal"):
            if interface not in have:
                ks.call("POST", "/v3/endpoints", {"endpoint": {
                    "service_id": service, "interface": interface,
                    "region_id": REGION, "url": baremetal_url}})

    with open(out, "w") as f:
        json.dump({"auth_url": url.rstrip("/") + "/v3", "region": REGION,
                   "domain": DOMAIN, "users": users,
                   "baremetal_url": baremetal_url}, f, indent=2,
                  sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

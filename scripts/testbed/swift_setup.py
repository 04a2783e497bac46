#!/usr/bin/env python3
"""Registers the test bed's Swift in the test bed's Keystone (stdlib only):

    swift_setup.py KEYSTONE_URL ADMIN_PASSWORD SWIFT_URL

Creates (idempotently) the user `swift` (password `swift-password`, role
`service` on project `service`, which lets the proxy's authtoken validate
tokens) and an `object-store` service whose public and internal endpoints in
RegionOne are SWIFT_URL/v1/AUTH_$(project_id)s; endpoints left by an earlier
Swift on another port are replaced.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keystone_setup import DOMAIN, REGION, Keystone  # noqa: E402


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    url, admin_password, swift_url = sys.argv[1:4]
    ks = Keystone(url, admin_password)
    role = ks.ensure("roles", "role", {"name": "service"})
    project = ks.ensure("projects", "project",
                        {"name": "service", "domain_id": DOMAIN})
    user = ks.ensure("users", "user", {
        "name": "swift", "domain_id": DOMAIN, "password": "swift-password"})
    ks.grant_project(project, user, role)

    service = ks.ensure_service("object-store", "swift")
    endpoint = swift_url.rstrip("/") + "/v1/AUTH_$(project_id)s"
    _, _, body = ks.call("GET", f"/v3/endpoints?service_id={service}")
    have = set()
    for e in body["endpoints"]:
        if e["url"] == endpoint:
            have.add(e["interface"])
        else:
            ks.call("DELETE", f"/v3/endpoints/{e['id']}")
    for interface in ("public", "internal"):
        if interface not in have:
            ks.call("POST", "/v3/endpoints", {"endpoint": {
                "service_id": service, "interface": interface,
                "region_id": REGION, "url": endpoint}})


if __name__ == "__main__":
    main()

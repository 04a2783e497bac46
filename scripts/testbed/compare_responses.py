#!/usr/bin/env python3
"""Replay the GET requests recorded by make-upstream-db.sh against a server.

Usage: compare_responses.py --expected OUT.sqlite.json --url http://127.0.0.1:PORT

The server must serve (a copy of) the database the JSON was recorded with.
Absolute links in the recorded bodies start with the recording server's URL;
they are rewritten to --url before comparing. Status codes, bodies (as JSON
values, and as text where a raw_body was recorded) and the Content-Type and
API version headers must match. Exits 1 on
any difference and prints each one. Standard library only.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request


def rebase(value, old, new):
    if isinstance(value, dict):
        return {k: rebase(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [rebase(v, old, new) for v in value]
    if isinstance(value, str) and value.startswith(old):
        return new + value[len(old):]
    return value


def fetch(url):
    req = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expected", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--no-headers", action="store_true", help="compare status and body only")
    args = ap.parse_args()

    with open(args.expected) as f:
        recorded = json.load(f)
    base = args.url.rstrip("/")
    passed = failed = 0
    for item in recorded["responses"]:
        status, headers, raw = fetch(base + item["path"])
        problems = []
        if status != item["status"]:
            problems.append(f"status {status}, expected {item['status']}")
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        expected_body = rebase(item["body"], recorded["inspector_url"], base)
        if body != expected_body:
            problems.append(
                "body differs:\n  got:      %s\n  expected: %s"
                % (json.dumps(body, sort_keys=True)[:2000],
                   json.dumps(expected_body, sort_keys=True)[:2000]))
        if "raw_body" in item and raw.decode(errors="replace") != item["raw_body"]:
            problems.append("body text differs from the recorded one (key order or spacing)")
        if not args.no_headers:
            for name, value in item["headers"].items():
                if headers.get(name) != value:
                    problems.append(f"header {name}: {headers.get(name)!r}, expected {value!r}")
        if problems:
            failed += 1
            print(f"FAIL {item['method']} {item['path']}: " + "; ".join(problems))
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Upstream ironic-inspector 12.5.0's own code on Swift, for the interop
test of tests/api/swift.rs (run with venv-ironic's python):

    upstream_swift.py CONFIG < STEPS > RESULTS

STEPS is a JSON list, run in order (one process: upstream's imports take
seconds), each step one of

    {"put": UUID, "processed": BOOL, "data": DOCUMENT}
        stores DOCUMENT as upstream's processing does
        (process.store_introspection_data: its `swift` storage plugin)
    {"get": UUID, "processed": BOOL}
        upstream's GET /v1/introspection/UUID/data[/unprocessed] (its Flask
        API, in process)

RESULTS is a JSON list with one {"status": CODE, "body": TEXT} per get, the
body exactly as upstream's API answered it.

CONFIG is an inspector.conf with `[processing] store_data = swift`, the
`[swift]` options and `[DEFAULT] auth_strategy = noauth`.
"""

import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    steps = json.load(sys.stdin)

    from ironic_inspector import conf
    from ironic_inspector import main as api
    from ironic_inspector import process

    conf.CONF(["--config-file", sys.argv[1]], project="ironic-inspector")
    client = api._app.test_client()
    results = []
    for step in steps:
        if "put" in step:
            process.store_introspection_data(step["put"], step["data"],
                                             processed=step["processed"])
            continue
        path = "/v1/introspection/%s/data" % step["get"]
        if not step["processed"]:
            path += "/unprocessed"
        response = client.get(path)
        results.append({"status": response.status_code,
                        "body": response.get_data(as_text=True)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()

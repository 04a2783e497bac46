"""Posts an introspection document with ironic-python-agent's own callback
code (ironic_python_agent.inspector.call_inspector), exactly as the ramdisk
does: its encoding, headers and retries. Prints IPA's result as JSON.

usage: ipa_callback.py CALLBACK_URL DOCUMENT.json
"""
import json
import sys


def main():
    url, path = sys.argv[1], sys.argv[2]
    from oslo_config import cfg
    from ironic_python_agent import config  # noqa: F401  (registers IPA's options)
    from ironic_python_agent import inspector
    from ironic_python_agent import utils

    conf = cfg.CONF
    conf(args=[], project='inspector-tests')
    conf.set_override('inspection_callback_url', url)
    with open(path) as f:
        data = json.load(f)
    failures = utils.AccumulatedFailures()
    result = inspector.call_inspector(data, failures)
    json.dump({"result": result}, sys.stdout)


if __name__ == '__main__':
    main()

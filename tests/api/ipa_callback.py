"""Posts an introspection document with ironic-python-agent's own callback
code (ironic_python_agent.inspector.call_inspector), exactly as the ramdisk
does: its encoding, headers, TLS settings and retries. Prints IPA's result as
JSON.

usage: ipa_callback.py CALLBACK_URL DOCUMENT.json [--cafile PATH] [--insecure]
                       [--attempts N]

--cafile and --insecure are IPA's own options of the same names (the
`ipa-insecure` kernel parameter sets the latter); --attempts lowers IPA's
retries of connection errors (5, with waits of 5 s and more).
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('url')
    parser.add_argument('document')
    parser.add_argument('--cafile')
    parser.add_argument('--insecure', action='store_true')
    parser.add_argument('--attempts', type=int)
    args = parser.parse_args()
    from oslo_config import cfg
    from ironic_python_agent import config  # noqa: F401  (registers IPA's options)
    from ironic_python_agent import inspector
    from ironic_python_agent import utils

    conf = cfg.CONF
    conf(args=[], project='inspector-tests')
    conf.set_override('inspection_callback_url', args.url)
    if args.cafile:
        conf.set_override('cafile', args.cafile)
    if args.insecure:
        conf.set_override('insecure', True)
    if args.attempts:
        inspector._RETRY_ATTEMPTS = args.attempts
    with open(args.document) as f:
        data = json.load(f)
    failures = utils.AccumulatedFailures()
    result = inspector.call_inspector(data, failures)
    json.dump({"result": result}, sys.stdout)


if __name__ == '__main__':
    main()

"""Run cfn-lint several times in one Python process.

The tests start this before the first template exists: importing cfn-lint
and loading its rules (about a second) then happens while the app
synthesizes, once, not once per environment.

It first prints one line of JSON: {"version": cfn-lint's version, "package":
its directory}, or {"missing": why it cannot import cfn-lint}. Then, for each
line of standard input, a JSON list of cfn-lint's command-line arguments, it
prints one line of JSON: {"output": what `cfn-lint ARGS` prints} or
{"error": why that run failed}. It runs what the command does
(cfnlint.runner.cli: the configuration, the Runner, matches sorted by file,
line and rule, the configured formatter) without exiting.
"""

import gc
import json
import os
import sys


def answer(obj):
    print(json.dumps(obj), flush=True)


def main():
    # cfn-lint allocates millions of short-lived objects and frees nearly
    # all of them by reference counting; Python's cycle collector (a young
    # collection every 700 allocations, and now and then a full one over
    # every live object, cfn-lint's imported modules included) cost a sixth
    # of its CPU here. What the imports created is frozen out of the
    # collector, and it runs every 100,000 allocations instead: 4.6 s of CPU for dev and
    # prod became 3.9 s, for 9 MB more memory, and nothing it finds changes.
    gc.disable()
    try:
        import cfnlint
        from cfnlint.config import ConfigMixIn
        from cfnlint.runner.cli import Runner, get_formatter
        from cfnlint.version import __version__
    except ImportError as e:
        answer({"missing": f"python3 cannot import cfnlint ({e})"})
        return
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)
    gc.enable()
    answer({"version": __version__, "package": os.path.dirname(cfnlint.__file__)})
    for line in sys.stdin:
        try:
            config = ConfigMixIn(json.loads(line))
            runner = Runner(config)
            matches = list(runner.run())
            matches.sort(key=lambda m: (m.filename, m.linenumber, m.rule.id))
            output = get_formatter(config).print_matches(matches, runner.rules, config=config)
            answer({"output": output or ""})
        except (Exception, SystemExit) as e:  # cfn-lint exits on a bad configuration
            answer({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()

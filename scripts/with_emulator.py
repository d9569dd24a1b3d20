"""Run a command against the bundled Waldur emulator.

Usage: python scripts/with_emulator.py [--as staff|user] [emulator options] -- COMMAND...

Starts `python -m tests.emulator --port 0`, reads the URL and tokens it prints, runs COMMAND
with WALDUR_API_URL and WALDUR_API_TOKEN set, stops the emulator and exits with COMMAND's status.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv):
    if "--" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    user = "staff"
    if "--as" in options:
        index = options.index("--as")
        user = options[index + 1]
        del options[index:index + 2]
    emulator = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--port", "0"] + options,
                                cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = emulator.stdout.readline()
        if not line:
            sys.exit("the emulator did not start (exit status %s)" % emulator.wait())
        started = json.loads(line)
        environment = dict(os.environ, WALDUR_API_URL=started["url"], WALDUR_API_TOKEN=started["tokens"][user])
        sys.stderr.write("Waldur emulator at %s, as %s\n" % (started["url"], user))
        return subprocess.call(command, env=environment)
    finally:
        emulator.terminate()
        emulator.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Run a command against the bundled Waldur emulator.

Usage: python scripts/with_emulator.py [--as staff|user] [emulator options] -- COMMAND...

Starts `python -m tests.emulator --port 0`, reads the URL and tokens it prints, runs COMMAND
with WALDUR_API_URL and WALDUR_API_TOKEN set, stops the emulator (SIGTERM, then SIGKILL after a
grace period) and exits with COMMAND's status. The emulator's own log (its start, its stop, any
internal error) is shown only when COMMAND or the emulator fails: it is noise after a good run.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tests.emulator.process import EmulatorProcess  # noqa: E402  pylint: disable=wrong-import-position


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
    with tempfile.TemporaryFile() as emulator_log:
        try:
            with EmulatorProcess(*options, stderr=emulator_log) as emulator:
                environment = dict(os.environ, WALDUR_API_URL=emulator.url,
                                   WALDUR_API_TOKEN=emulator.tokens[user])
                sys.stderr.write("Waldur emulator at %s, as %s\n" % (emulator.url, user))
                status = subprocess.call(command, env=environment)
            failed = status != 0 or emulator.process.returncode != 0
        except RuntimeError as exc:
            sys.stderr.write("%s: %s\n" % (sys.argv[0], exc))
            failed, status = True, 1
        if failed:
            emulator_log.seek(0)
            sys.stderr.write("--- the emulator's log:\n%s" % emulator_log.read().decode(errors="replace"))
        return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

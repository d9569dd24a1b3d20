"""The emulator's command line as a child process, for scripts, the benchmark and tests.

``with EmulatorProcess("--images", "300") as emulator: ... emulator.url, emulator.tokens["staff"]``

Stopping sends SIGTERM (or the signal given) and, if the emulator has not exited after a grace
period, SIGKILL: whatever happens to it, no process is left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRACE_SECONDS = 10


class EmulatorProcess:
    def __init__(self, *options, stderr=None):
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "tests.emulator", "--port", "0"] + list(options),
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        self.line = self.process.stdout.readline()
        if not self.line:
            status = self.stop()
            detail = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
            raise RuntimeError("the emulator did not start (exit status %s) %s" % (status, detail))
        self.info = json.loads(self.line)
        self.url = self.info["url"]
        self.tokens = self.info["tokens"]

    def stop(self, sig=signal.SIGTERM, grace=GRACE_SECONDS):
        """Stop the emulator; return its exit status (negative: killed by that signal)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

"""Stops what a killed run of server.py left running: ``python watchdog.py`` (started by server.py).

server.py stops its servers itself on any exception or signal it can catch; this covers the one it
cannot, SIGKILL (a CI timeout, the OOM killer). The watchdog runs in a session of its own, so a
kill of the run's process group does not reach it, and reads its parent's instructions on stdin,
one JSON list a line:

  ["group", PGID]                       a process group to kill (gunicorn runs in a session of its own)
  ["cluster", DATA_DIR, PG_CTL, AS...]  a PostgreSQL cluster to stop (AS: ``runuser -u postgres --`` as root)
  ["remove", DIRECTORY]                 a directory to delete
  ["forget", ...]                       one of the above, which server.py has stopped or deleted itself

End of file means that the parent has exited: whatever it did not forget is stopped, then deleted.
"""

import json
import os
import shutil
import signal
import subprocess
import sys


def main():
    pending = []
    for line in sys.stdin:
        entry = json.loads(line)
        if entry[0] == "forget":
            if entry[1:] in pending:
                pending.remove(entry[1:])
        else:
            pending.append(entry)
    for entry in reversed(pending):  # the servers before the directories they use
        kind, target = entry[0], entry[1]
        if kind == "remove":
            shutil.rmtree(target, ignore_errors=True)
            continue
        if kind == "group":
            try:
                os.killpg(target, signal.SIGKILL)
            except ProcessLookupError:
                continue
        elif os.path.exists(os.path.join(target, "postmaster.pid")):
            subprocess.call(entry[3:] + [entry[2], "stop", "--pgdata", target, "--mode", "immediate", "--wait"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            continue
        sys.stderr.write("waldur-server watchdog: the run that started it was killed; stopped %s %s\n" % (kind, target))


if __name__ == "__main__":
    main()

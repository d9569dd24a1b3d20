"""Command line: ``python -m tests.waldur_server check|prepare|run`` (from the repository root).

  check     list what this machine lacks to run a real Waldur (exit status 1 if anything)
  prepare   build Waldur's venv and the seeded database dumps, unless cached
  run [--dataset small|large] [--as staff|owner|member] -- COMMAND...
            serve both data sets, run COMMAND with WALDUR_API_URL and WALDUR_API_TOKEN (of that
            data set and user) and WALDUR_SERVER_INFO (a JSON file: every URL, token and
            database, for the tests), stop everything, and exit with COMMAND's status; if
            COMMAND fails, the servers' logs (PostgreSQL, gunicorn) are shown first

The cache (Waldur's venv, the database dumps) is shared by every clone of the user:
WALDUR_SERVER_CACHE, else $XDG_CACHE_HOME/waldur.cloud/waldur-server, else
~/.cache/waldur.cloud/waldur-server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from . import server
from .users import TOKENS


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.waldur_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list what is missing to run a real Waldur here")
    commands.add_parser("prepare", help="build the venv and the database dumps (cached)")
    run = commands.add_parser("run", help="serve Waldur while COMMAND runs")
    run.add_argument("--dataset", choices=server.DATASETS, default="small", help="WALDUR_API_URL's data set")
    run.add_argument("--as", dest="user", choices=sorted(TOKENS), default="staff", help="WALDUR_API_TOKEN's user")
    run.add_argument("program", nargs=argparse.REMAINDER, help="-- COMMAND...")
    args = parser.parse_args(argv)
    if args.command == "run":
        if args.program[:1] == ["--"]:
            args.program = args.program[1:]
        if not args.program:
            parser.error("run needs -- COMMAND")
    return args


def _exit_on_signal(signum, _frame):
    # SystemExit unwinds the with-blocks: COMMAND, gunicorn and PostgreSQL are stopped, nothing is left.
    sys.exit(128 + signum)


def main(argv=None):
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    missing = server.missing_prerequisites()
    if args.command == "check" or missing:
        for line in missing:
            print("missing: %s" % line)
        return 1 if missing else 0
    try:
        if args.command == "prepare":
            server.prepare()
            return 0
        with server.WaldurServer() as waldur:
            environment = dict(os.environ, WALDUR_SERVER_INFO=waldur.info_path,
                               WALDUR_API_URL=waldur.info["datasets"][args.dataset]["url"],
                               WALDUR_API_TOKEN=TOKENS[args.user])
            status = subprocess.call(args.program, env=environment)
            if status != 0:
                server.log("%s exited with status %d; the servers' logs follow" % (args.program[0], status))
                waldur.print_logs()
            return status
    except server.Unavailable as exc:
        print("missing: %s" % exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())

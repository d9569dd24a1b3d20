"""Command line: ``python -m tests.emulator --port 0 --images 700`` (run from the repository root).

``--fault 'kind=429,path=/api/openstack-images/,page=2,retry_after=1'`` (repeatable) injects
faults; ``--tls-cert``/``--tls-key`` serve HTTPS. See README.md.

Prints one JSON line ``{"url": ..., "tokens": {...}}`` on stdout once it serves, then serves
until SIGTERM or SIGINT, when it writes the requested dumps and exits 0.

Stopping: the first thing ``main`` does is block SIGTERM and SIGINT, and once it serves, the main
thread waits for them with ``signal.sigwaitinfo``. No signal handler ever runs, so none can interrupt
code that holds a lock (a handler calling ``Event.set`` while the main thread waited on that
Event's lock deadlocked the process). A signal that arrives during start-up stays pending and ends
the process as soon as it serves. Threads inherit the blocked mask, so only ``sigwaitinfo`` sees them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from .dataset import dump_dataset, generate_dataset, load_dataset
from .faults import KINDS, parse_fault_spec
from .server import WaldurEmulator


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description="Waldur API emulator (loopback only).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--images", type=int, default=700, help="images to generate (default 700)")
    parser.add_argument("--tenants", type=int, default=12, help="tenants to generate (default 12)")
    parser.add_argument("--settings", type=int, default=3, help="OpenStack service settings to generate (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--names", type=int, help="draw the generated images' names from this many (long runs of equal names)")
    parser.add_argument("--stable-ties", action="store_true",
                        help="serve equal sort keys in one stable order; by default their page order is as unstable as "
                             "the real server's (see ordering.py)")
    parser.add_argument("--shifting-usage-order", action="store_true",
                        help="serve usage_stats rows in an order that shifts with the page size, so that a plain walk "
                             "repeats and misses rows; by default the order is the same at every page size, as on the "
                             "real server (see ordering.py)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every API response, in ms")
    parser.add_argument("--dataset", help="serve this data set file (dump format) instead of generating one")
    parser.add_argument("--dump-dataset", help="write the served data set with its truth to this file, before serving")
    parser.add_argument("--dump-requests", help="write the request counts to this file at exit")
    parser.add_argument("--legacy-fields", action="store_true",
                        help="behave like an older server (image objects without backend_id and the 8.x fields, no dedup)")
    parser.add_argument("--server-version", help="emulate this Waldur version (e.g. 7.9.0, 8.0.0, 8.0.8)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    parser.add_argument("--fault", action="append", default=[], type=_fault_spec, metavar="SPEC",
                        help="inject a fault, repeatable: key=value pairs joined by commas (or a JSON object), e.g. "
                             "'kind=429,path=/api/openstack-images/,page=2,count=1,retry_after=1'. kinds: %s or a "
                             "status 429/500/502/503/504; selectors: path (a pattern), method, page, query, every, "
                             "probability, seed, count (default 1; 'inf' for no limit)" % ", ".join(KINDS))
    parser.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", help="the PEM private key of --tls-cert (if not in the same file)")
    args = parser.parse_args(argv)
    if args.tls_key and not args.tls_cert:
        parser.error("--tls-key needs --tls-cert")
    return args


def _fault_spec(text):
    try:
        return parse_fault_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def main(argv=None):
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    args = parse_args(argv)
    if args.dataset:
        dataset = load_dataset(args.dataset)
    else:
        dataset = generate_dataset(images=args.images, tenants=args.tenants, settings=args.settings, seed=args.seed,
                                   names=args.names)
    emulator = WaldurEmulator(dataset, port=args.port, host=args.host, latency_ms=args.latency_ms,
                              legacy_fields=args.legacy_fields, server_version=args.server_version, verbose=args.verbose,
                              tls_cert=args.tls_cert, tls_key=args.tls_key, unstable_ties=not args.stable_ties,
                              shifting_usage_order=args.shifting_usage_order)
    for spec in args.fault:
        try:
            emulator.add_fault(**spec)
        except (TypeError, ValueError) as exc:
            sys.stderr.write("python -m tests.emulator: error: --fault: %s\n" % exc)
            return 2
    if args.dump_dataset:
        dump_dataset(emulator.dataset, args.dump_dataset, server_version=emulator.server_version)
    emulator.start()
    try:
        sys.stdout.write(json.dumps({"url": emulator.url, "tokens": emulator.tokens}) + "\n")
        sys.stdout.flush()
        sys.stderr.write("waldur emulator: serving %s (pid %d)\n" % (emulator.url, os.getpid()))
        sys.stderr.flush()
        received = signal.sigwaitinfo(STOP_SIGNALS)
        # Who stopped it: what a log needs to tell a clean stop from a neighbour's stray one.
        sys.stderr.write("waldur emulator: %s from pid %d (%s), stopping\n"
                         % (signal.Signals(received.si_signo).name, received.si_pid, _command_line(received.si_pid)))
        sys.stderr.flush()
    finally:
        emulator.stop()
        if args.dump_requests:
            with open(args.dump_requests, "w", encoding="utf-8") as handle:
                json.dump(emulator.request_counts(), handle, indent=1, sort_keys=True)
                handle.write("\n")
    return 0


def _command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip() or "?"
    except OSError:
        return "gone"


if __name__ == "__main__":
    sys.exit(main())

"""The command line: ``python -m tests.emulator`` prints one JSON line, serves, exits on SIGTERM."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.emulator import load_dataset
from tests.emulator.client import fetch
from tests.emulator.process import REPO_ROOT, EmulatorProcess


def start_cli(*args):
    return EmulatorProcess(*args, stderr=subprocess.PIPE)


def stop(cli, sig=signal.SIGTERM):
    """Stop it as a user would; what it printed after its JSON line and its exit status."""
    code = cli.stop(sig)
    return code, cli.process.stdout.read(), cli.process.stderr.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_one_json_line_serves_and_exits_cleanly(tmp_path, sig):
    dump = tmp_path / "dataset.json"
    counts = tmp_path / "requests.json"
    cli = start_cli("--images", "40", "--tenants", "4", "--settings", "2", "--seed", "9",
                    "--dump-dataset", str(dump), "--dump-requests", str(counts))
    try:
        assert list(cli.info) == ["url", "tokens"]
        assert cli.info["url"].startswith("http://127.0.0.1:")
        assert set(cli.info["tokens"]) == {"staff", "user", "expired"}
        assert cli.line.endswith(b"\n") and cli.line.count(b"\n") == 1
        # the dump is complete before the line is printed
        dataset = load_dataset(str(dump))
        assert len(dataset["images"]) == 40
        reply = fetch(cli.info["url"], "/api/openstack-images/?page_size=300", cli.info["tokens"]["user"])
        assert reply.status == 200
        # One page holds the whole list; the order among equal names is the server's to choose.
        assert sorted(item["uuid"] for item in reply.json()) == sorted(dataset["visibility"]["user"]["default_list"])
        fetch(cli.info["url"], "/api/openstack-tenants/", cli.info["tokens"]["staff"])
    finally:
        code, out, _err = stop(cli, sig)
    assert code == 0
    assert out == b""
    assert json.loads(counts.read_text(encoding="utf-8")) == {"GET /api/openstack-images/": 1, "GET /api/openstack-tenants/": 1}


def test_cli_serves_a_dataset_file_with_legacy_fields_and_latency(tmp_path):
    first = start_cli("--images", "25", "--seed", "3", "--dump-dataset", str(tmp_path / "ds.json"))
    stop(first)
    cli = start_cli("--dataset", str(tmp_path / "ds.json"), "--legacy-fields", "--latency-ms", "50", "--images", "999")
    try:
        reply = fetch(cli.info["url"], "/api/openstack-images/", cli.info["tokens"]["staff"])
        assert reply.status == 200 and reply.count == 25
        assert list(reply.json()[0]) == ["url", "uuid", "name", "min_disk", "min_ram", "settings"]
        assert cli.info["tokens"] == first.info["tokens"]
    finally:
        code, _out, _err = stop(cli)
    assert code == 0


# Bounds that only a hung CLI exceeds (the deadlock this guards against never ends), however busy the machine.
TAKE_OVER_SECONDS = 120
EXIT_SECONDS = 60


def _stop_signals_blocked(pid):
    """Whether the CLI has blocked SIGTERM and SIGINT: from then on it owns its stopping. Any of its threads tells:
    the serving threads inherit the mask, while the main thread's shows them unblocked once it waits for them in
    sigwaitinfo (the kernel lifts the waited signals from its mask for the wait)."""
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return True  # already gone: the run's outcome tells
    wanted = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))
    for task in tasks:
        try:
            with open("/proc/%d/task/%s/status" % (pid, task), encoding="ascii") as handle:
                status = dict(line.split(":", 1) for line in handle if ":" in line)
        except FileNotFoundError:
            continue  # a thread that ended meanwhile
        if int(status["SigBlk"].strip(), 16) & wanted == wanted:
            return True
    return False


def _stop_at_random(seed, index):
    """Start the CLI, signal it 0 to 1 s after it took over its signals; return what a user sees."""
    rng = random.Random("%s-%d" % (seed, index))
    sig = (signal.SIGTERM, signal.SIGINT)[index % 2]
    keep_alive = index % 3 == 0
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--images", "200", "--seed", str(index)],
        cwd=str(REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    connection = None
    try:
        # Before the CLI blocks them, the signals' default actions apply, as to any Python program.
        deadline = time.monotonic() + TAKE_OVER_SECONDS
        while not _stop_signals_blocked(proc.pid):
            if proc.poll() is not None:
                # An exited child stays a zombie, whose /proc status shows no blocked signal.
                return "pid %d exited %s before it took over its signals: %s" % (
                    proc.pid, proc.returncode, proc.stderr.read().decode(errors="replace")[-2000:])
            assert time.monotonic() < deadline, "the CLI did not take over its signals"
            time.sleep(0.001)
        started = time.monotonic()
        if keep_alive:
            info = json.loads(proc.stdout.readline())
            connection = http.client.HTTPConnection(info["url"].split("//", 1)[1], timeout=10)
            connection.request("GET", "/api/openstack-images/?page_size=1",
                               headers={"Authorization": "Token " + info["tokens"]["staff"]})
            response = connection.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
        time.sleep(max(0.0, started + rng.uniform(0, 1) - time.monotonic()))
        proc.send_signal(sig)
        signalled = time.monotonic()
        try:
            proc.communicate(timeout=EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            return "pid %d (%s, keep-alive %s) still running %d s after the signal" % (
                proc.pid, sig.name, keep_alive, EXIT_SECONDS)
        if proc.returncode != 0:
            return "pid %d (%s) exited %s" % (proc.pid, sig.name, proc.returncode)
        return time.monotonic() - signalled
    finally:
        if connection is not None:
            connection.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_exits_0_whenever_it_is_signalled():
    """50 runs, SIGTERM or SIGINT at a random moment: during start-up, while serving, with a keep-alive client."""
    seed = os.environ.get("EMULATOR_SIGNAL_SEED", str(random.randrange(1 << 30)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda index: _stop_at_random(seed, index), range(50)))
    failures = [outcome for outcome in outcomes if isinstance(outcome, str)]
    assert not failures, "EMULATOR_SIGNAL_SEED=%s: %s" % (seed, failures)

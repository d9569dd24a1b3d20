"""The command line: ``python -m tests.emulator`` prints one JSON line, serves, exits on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator import load_dataset
from tests.emulator.client import fetch

REPO_ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, *args):
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "tests.emulator", "--port", "0"] + list(args),
            cwd=str(REPO_ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.kill()
            raise AssertionError("no JSON line; stderr: %s" % self.proc.communicate()[1].decode(errors="replace"))
        self.line = line
        self.info = json.loads(line)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return self.proc.returncode, out, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_one_json_line_serves_and_exits_cleanly(tmp_path, sig):
    dump = tmp_path / "dataset.json"
    counts = tmp_path / "requests.json"
    cli = Cli("--images", "40", "--tenants", "4", "--settings", "2", "--seed", "9",
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
        assert [item["uuid"] for item in reply.json()] == dataset["visibility"]["user"]["default_list"]
        fetch(cli.info["url"], "/api/openstack-tenants/", cli.info["tokens"]["staff"])
    finally:
        code, out, _err = cli.stop(sig)
    assert code == 0
    assert out == b""
    assert json.loads(counts.read_text(encoding="utf-8")) == {"GET /api/openstack-images/": 1, "GET /api/openstack-tenants/": 1}


def test_cli_serves_a_dataset_file_with_legacy_fields_and_latency(tmp_path):
    first = Cli("--images", "25", "--seed", "3", "--dump-dataset", str(tmp_path / "ds.json"))
    first.stop()
    cli = Cli("--dataset", str(tmp_path / "ds.json"), "--legacy-fields", "--latency-ms", "50", "--images", "999")
    try:
        reply = fetch(cli.info["url"], "/api/openstack-images/", cli.info["tokens"]["staff"])
        assert reply.status == 200 and reply.count == 25
        assert list(reply.json()[0]) == ["url", "uuid", "name", "min_disk", "min_ram", "settings"]
        assert cli.info["tokens"] == first.info["tokens"]
    finally:
        code, _out, _err = cli.stop()
    assert code == 0

# Integration fixtures: the emulator in-process on loopback, and ansible-playbook runs against it.
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import BIN, CASES_PLAYBOOK, Truth


@pytest.fixture(scope="session")
def emulator():
    dataset = generate_dataset(images=700, tenants=12, settings=3, seed=7)
    with WaldurEmulator(dataset, port=0) as server:
        yield server


@pytest.fixture(scope="session")
def truth(emulator):
    from tests.emulator.dataset import with_truth

    return Truth(with_truth(emulator.dataset))


@pytest.fixture
def run_cases(tmp_path):
    """Run ``module`` once per argument dict in ``cases`` through ansible-playbook; one result each."""

    def run(module, cases, environment, extra_args=()):
        playbook = tmp_path / "cases.yml"
        playbook.write_text(CASES_PLAYBOOK.format(module=module))
        results_file = tmp_path / "results.json"
        variables = tmp_path / "vars.json"
        variables.write_text(json.dumps({"cases": cases, "results_file": str(results_file)}))
        completed = subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), str(playbook), "-e", "@%s" % variables] + list(extra_args),
            env=environment, capture_output=True, text=True, check=False)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        results = json.loads(results_file.read_text())
        assert len(results) == len(cases)
        return results, completed

    return run


@pytest.fixture
def run_playbook(tmp_path):
    """Run a playbook given as text; returns the finished process (stdout and stderr as text)."""

    def run(text, environment, extra_args=(), expect_success=True):
        playbook = tmp_path / "playbook.yml"
        playbook.write_text(text)
        completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(playbook)] + list(extra_args),
                                   env=environment, capture_output=True, text=True, check=False)
        if expect_success:
            assert completed.returncode == 0, completed.stdout + completed.stderr
        return completed

    return run

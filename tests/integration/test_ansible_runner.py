"""AWX and Automation Controller run jobs with ansible-runner: so do these tests.

The private data dir is laid out as the controller lays it out: the credential's variables in
``env/envvars``, the inventory source in ``inventory/``, the project's playbooks in ``project/``.
What the modules returned is read from the job events in ``artifacts/``, as the controller reads
it, not from stdout; and the token, which only ``env/`` holds by design, must be in no artifact.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.harness import BIN

REPO_ROOT = Path(__file__).resolve().parents[2]

INVENTORY_PLAYBOOK = """\
- name: Use the Waldur images inventory in a job
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Cache the image hosts as facts, as a job template with fact caching would
      ansible.builtin.set_fact:
        waldur_image_hosts: "{{ groups['all'] }}"
        cacheable: true
"""


def private_data_dir(tmp_path, emulator, playbook_name, playbook_text):
    root = tmp_path / "private_data_dir"
    for folder in ("env", "inventory", "project"):
        (root / folder).mkdir(parents=True)
    (root / "env" / "envvars").write_text(yaml.safe_dump({
        "WALDUR_API_URL": emulator.url,
        "WALDUR_API_TOKEN": emulator.tokens["staff"],
        # The controller points Ansible at the collections the project sync installed.
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        "ANSIBLE_PYTHON_INTERPRETER": os.path.join(BIN, "python"),
        "ANSIBLE_LOCALHOST_WARNING": "0",
        # A job template with fact caching enabled.
        "ANSIBLE_CACHE_PLUGIN": "jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(root / "artifacts" / "job" / "fact_cache"),
    }), encoding="utf-8")
    (root / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 300}),
                                           encoding="utf-8")
    (root / "inventory" / "cloud.waldur_images.yml").write_text(
        "plugin: waldur.cloud.openstack_images\ngroup_by: [settings, tenant]\n", encoding="utf-8")
    (root / "project" / playbook_name).write_text(playbook_text, encoding="utf-8")
    return root


def run_job(root, playbook_name):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("WALDUR_")}
    # In an execution environment ansible-playbook is on PATH; here it is beside this Python.
    environment["PATH"] = BIN + os.pathsep + environment.get("PATH", "")
    # --omit-env-files, as the controller runs jobs (AWX_RUNNER_OMIT_ENV_FILES).
    completed = subprocess.run([os.path.join(BIN, "ansible-runner"), "run", str(root), "-p", playbook_name,
                                "--ident", "job", "--rotate-artifacts", "1", "--omit-env-files"],
                               env=environment, capture_output=True, text=True, timeout=300, check=False)
    artifacts = root / "artifacts" / "job"
    assert completed.returncode == 0 and (artifacts / "rc").read_text() == "0", \
        completed.stdout[-3000:] + completed.stderr[-3000:]
    return artifacts


def job_events(artifacts):
    events = [json.loads(path.read_text(encoding="utf-8")) for path in (artifacts / "job_events").glob("*.json")]
    return sorted(events, key=lambda event: event["counter"])


def task_results(events, task_name):
    return [event["event_data"]["res"] for event in events
            if event["event"] == "runner_on_ok" and event["event_data"].get("task") == task_name]


def cached_fact(cache_file, name):
    facts = json.loads(cache_file.read_text(encoding="utf-8"))
    if "__payload__" in facts:  # ansible-core 2.19 and newer: the facts with their data tags
        facts = json.loads(facts["__payload__"])
    value = facts[name]
    return value["value"] if isinstance(value, dict) else value


def assert_token_in_no_artifact(artifacts, token):
    # ansible-runner itself records the environment it was given in `command`, readable by its owner
    # only: an input, like env/. Every other artifact comes from what the job did.
    assert (artifacts / "command").stat().st_mode & 0o777 == 0o600
    leaks = [str(path.relative_to(artifacts)) for path in artifacts.rglob("*")
             if path.is_file() and path.name != "command" and token.encode() in path.read_bytes()]
    assert not leaks
    assert list((artifacts / "job_events").iterdir()) and (artifacts / "stdout").stat().st_size > 0


@pytest.fixture(scope="module")
def demo_job(tmp_path_factory, emulator):
    root = private_data_dir(tmp_path_factory.mktemp("demo"), emulator, "demo.yml",
                            (REPO_ROOT / "playbooks" / "demo.yml").read_text(encoding="utf-8"))
    return run_job(root, "demo.yml")


def test_demo_job_returns_every_visible_image_in_its_events(demo_job, truth):
    events = job_events(demo_job)
    (gathered,) = task_results(events, "Gather every image visible to the token")
    assert [image["uuid"] for image in gathered["images"]] == truth.default_list("staff")
    (one,) = task_results(events, "Get one image by uuid")
    assert [image["uuid"] for image in one["images"]] == truth.default_list("staff")[:1]
    assert events[-1]["event"] == "playbook_on_stats" and not events[-1]["event_data"]["failures"]


def test_demo_job_leaves_the_token_in_no_artifact(demo_job, emulator):
    assert_token_in_no_artifact(demo_job, emulator.tokens["staff"])


def test_inventory_source_gives_the_images_as_hosts_and_leaves_no_token(tmp_path, emulator, truth):
    root = private_data_dir(tmp_path, emulator, "images.yml", INVENTORY_PLAYBOOK)
    artifacts = run_job(root, "images.yml")
    inventory = json.loads(subprocess.run(
        [os.path.join(BIN, "ansible-inventory"), "-i", str(root / "inventory"), "--list"],
        env=dict(os.environ, WALDUR_API_URL=emulator.url, WALDUR_API_TOKEN=emulator.tokens["staff"]),
        capture_output=True, text=True, timeout=300, check=True).stdout)
    hosts = sorted(inventory["_meta"]["hostvars"])
    assert len(hosts) == len(truth.default_list("staff"))
    (facts,) = task_results(job_events(artifacts), "Cache the image hosts as facts, as a job template with fact caching would")
    assert sorted(facts["ansible_facts"]["waldur_image_hosts"]) == hosts
    (cache_file,) = (artifacts / "fact_cache").glob("*localhost")  # s1_localhost on ansible-core 2.19
    assert sorted(cached_fact(cache_file, "waldur_image_hosts")) == hosts
    assert_token_in_no_artifact(artifacts, emulator.tokens["staff"])
    shutil.rmtree(root)

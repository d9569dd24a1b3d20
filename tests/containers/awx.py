"""A job and an inventory sync in the execution environment, the way AWX runs them; AWX's reader of the result.

AWX (``awx/main/tasks/jobs.py`` in ../shared/awx) lays out a private data dir, streams it with ``ansible-runner
transmit`` to ``ansible-runner worker --private-data-dir=/runner`` inside the EE's container (receptor, or a
container group's pod), and reads the stream that comes back with ``ansible-runner process``, taking the job
events through its event handler. Here podman stands in for receptor; everything else is AWX's: the runner's
parameters (``suppress_env_files``, ``envvars`` with the credential's variables), ``env/settings``, the job's
``env/cmdline``, the inventory sync's ``args`` and environment. AWX's ``mem_inventory.py`` is loaded from the
pinned archive, as the real-server stage runs Waldur from its own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field

import ansible_runner

from tests.containers.engine import environment
from tests.containers.images import REPO_ROOT

AWX_ARCHIVE = os.path.join(os.path.dirname(REPO_ROOT), "shared", "awx", "awx-e21dd0a0-inventory.tar.gz")
CONTAINER_ROOT = "/runner"
# awx/main/constants.py (not in the archive; jobs.py applies it in RunInventoryUpdate.build_env).
STANDARD_INVENTORY_UPDATE_ENV = {
    "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
    "ANSIBLE_INVENTORY_EXPORT": "True",
    "ANSIBLE_VERBOSE_TO_STDERR": "True",
}
# AWX's inventory source file for a project source: project/<source_path>.
SOURCE_PATH = "inventories/waldur.waldur_images.yml"
TIMEOUT = 600


@dataclass
class Run:
    """What AWX keeps of a run: status and rc, the events its handler got, the artifacts the stream returned."""

    status: str
    rc: int
    events: list = field(default_factory=list)
    artifacts: str = ""
    worker_stderr: str = ""

    @property
    def stdout(self):
        """The job's output as AWX shows it: the events' stdout (AWX sets suppress_output_file)."""
        return "\n".join(event.get("stdout", "") for event in self.events)

    def results(self, task_name):
        """The ``res`` of each runner_on_ok event of the task named ``task_name``."""
        return [event["event_data"]["res"] for event in self.events
                if event["event"] == "runner_on_ok" and event["event_data"].get("task") == task_name]


def write(root, relative, text, mode=0o600):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


def run_in_ee(image, private_data_dir, ident, envvars, **params):
    """Run ``params`` (playbook, inventory) through transmit | podman worker | process; a Run."""
    write(private_data_dir, "env/settings", json.dumps({
        "job_timeout": TIMEOUT, "suppress_ansible_output": True, "suppress_output_file": True}))
    runner_params = dict(params, ident=ident, private_data_dir=private_data_dir, envvars=envvars,
                         suppress_env_files=True)
    with tempfile.TemporaryFile() as transmitted, tempfile.TemporaryFile() as returned:
        ansible_runner.interface.run(streamer="transmit", _output=transmitted, **runner_params)
        transmitted.seek(0)
        # --network host: the emulator and the real Waldur listen on this machine's loopback.
        worker = subprocess.run(
            ["podman", "run", "-i", "--rm", "--network", "host", image,
             "ansible-runner", "worker", "--private-data-dir=%s" % CONTAINER_ROOT],
            stdin=transmitted, stdout=returned, stderr=subprocess.PIPE, env=environment(), timeout=TIMEOUT + 60,
            check=False)
        returned.seek(0)
        events = []

        def keep(event):
            events.append(event)
            return True

        processed = ansible_runner.interface.run(streamer="process", quiet=True, _input=returned,
                                                 event_handler=keep, **runner_params)
    artifacts = os.path.join(private_data_dir, "artifacts", str(ident))
    # The processor leaves rc unset; the worker's artifacts hold it.
    rc_file = os.path.join(artifacts, "rc")
    rc = None
    if os.path.exists(rc_file):
        with open(rc_file, encoding="utf-8") as handle:
            rc = int(handle.read())
    return Run(status=processed.status, rc=rc, events=sorted(events, key=lambda event: event["counter"]),
               artifacts=artifacts, worker_stderr=worker.stderr.decode("utf-8", "replace"))


def credential_env(url, token):
    """The AWX guide's credential type injects these (docs/guides/awx.md, "A credential type")."""
    return {"WALDUR_API_URL": url, "WALDUR_API_TOKEN": token}


def run_job(image, private_data_dir, playbook_name, playbook_text, envvars, inventory_script=None, verbosity=3):
    """A job template's run: the project's playbook, AWX's ``-u root`` and verbosity, an inventory script."""
    write(private_data_dir, os.path.join("project", playbook_name), playbook_text)
    write(private_data_dir, "env/cmdline", ansible_runner.utils.args2cmdline("-u", "root", "-" + "v" * verbosity))
    inventory = None
    if inventory_script is not None:
        inventory = write(private_data_dir, "inventory/hosts", inventory_script, mode=0o700)
    return run_in_ee(image, private_data_dir, 1, envvars, playbook=playbook_name, inventory=inventory)


def sync_inventory(image, private_data_dir, source_text, envvars, update_id=2):
    """An inventory update of a project source: AWX's command line in the private data dir's args; the run and output.json's data."""
    write(private_data_dir, os.path.join("project", SOURCE_PATH), source_text)
    source = os.path.join(CONTAINER_ROOT, "project", SOURCE_PATH)
    args = ["ansible-inventory", "--list", "--export", "-i", source,
            "--output", os.path.join(CONTAINER_ROOT, "artifacts", str(update_id), "output.json"),
            "--playbook-dir", os.path.dirname(source), "-vvv"]
    write(private_data_dir, "args", " ".join(args))
    env = dict(envvars, INVENTORY_SOURCE_ID="1", INVENTORY_UPDATE_ID=str(update_id), **STANDARD_INVENTORY_UPDATE_ENV)
    run = run_in_ee(image, private_data_dir, update_id, env)
    output = os.path.join(run.artifacts, "output.json")
    data = None
    if os.path.exists(output):
        with open(output, encoding="utf-8") as handle:
            data = json.load(handle)
    return run, data


def mem_inventory():
    """AWX's awx/main/utils/mem_inventory.py, loaded from the pinned archive (standard library only)."""
    member = "awx-e21dd0a0/awx/main/utils/mem_inventory.py"
    with tarfile.open(AWX_ARCHIVE) as archive:
        source = archive.extractfile(member).read()
    spec = importlib.util.spec_from_loader("awx_mem_inventory", loader=None, origin="%s!%s" % (AWX_ARCHIVE, member))
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, spec.origin, "exec"), module.__dict__)  # pylint: disable=exec-used
    return module


def inventory_script(stored):
    """What a job gets from AWX's stored inventory: a script printing its JSON (BaseTask.write_inventory_file).

    ``stored`` is ``mem_data_to_dict``'s shape of what ``dict_to_mem_data`` read: the groups with hosts,
    children and variables, and ``_meta.hostvars``, as ``Inventory.get_script_data`` gives it.
    """
    return "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(stored)

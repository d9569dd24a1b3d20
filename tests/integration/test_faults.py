"""The fault matrix: every fault kind x openstack_image_info, openstack_image_stats and the inventory plugin.

Each case ends in the exact truth (the emulator's own, after any change the fault made) or in a
clear error, never in a partial list. Faults are tied to one case by the case's page size (the
``query`` selector), so all the cases of an entry point run in one ansible-playbook, as parallel hosts.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.dataset import with_truth
from tests.integration.harness import BIN, Truth, ansible_environment

# Faults are answered by the client (module_utils): the same on every ansible-core, so the runs on other cores
# leave this file to the main run (tests/core_versions.py); test_connection_messages.py runs failures on every core.
pytestmark = pytest.mark.core_independent

IMAGES = "/api/openstack-images/"
USAGE = "/api/openstack-images/usage_stats/"
ADDED = "fa" * 16
ADDED_NAME = "!added-during-the-listing"

PARALLEL_PLAYBOOK = """
- name: Each case is a host, run in parallel
  hosts: parallel
  gather_facts: false
  tasks:
    - name: Call the module with the case's arguments
      {module}:
      args: "{{{{ cases[inventory_hostname].args }}}}"
      environment: "{{{{ cases[inventory_hostname].env }}}}"
      register: outcome
      ignore_errors: true

- name: Cases that change the data run one after the other, in order
  hosts: sequential
  gather_facts: false
  serial: 1
  order: inventory
  tasks:
    - name: Call the module with the case's arguments
      {module}:
      args: "{{{{ cases[inventory_hostname].args }}}}"
      environment: "{{{{ cases[inventory_hostname].env }}}}"
      register: outcome
      ignore_errors: true

- name: Collect the results
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write every case's result for the test to read
      ansible.builtin.copy:
        content: "{{{{ dict(groups['cases'] | zip(groups['cases'] | map('extract', hostvars, 'outcome'))) | to_json }}}}"
        dest: "{{{{ results_file }}}}"
        mode: "0600"
"""


def run_parallel_cases(tmp_path, module, cases, environment, extra_args=(), forks=8):
    """Run ``module`` once per case, each case a host; ``cases`` is a list of dicts with ``args``, and
    optionally ``env`` (environment variables of that task) and ``sequential`` (run after the
    others, one by one, in list order). Returns ``(results in case order, completed process)``."""
    hosts = {}
    groups = {"parallel": {}, "sequential": {}}
    variables = {}
    for index, case in enumerate(cases):
        name = "case%03d" % index
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        variables[name] = {"args": case["args"], "env": case.get("env", {})}
        groups["sequential" if case.get("sequential") else "parallel"][name] = None
    inventory = {"all": {"children": {
        "cases": {"hosts": hosts, "children": {"parallel": {"hosts": groups["parallel"]},
                                               "sequential": {"hosts": groups["sequential"]}}},
        "controller": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable}}}}}}
    (tmp_path / "cases.json").write_text(json.dumps(inventory))
    # Extra variables, not inventory variables: Ansible trusts them as task arguments.
    (tmp_path / "case_vars.json").write_text(json.dumps({"cases": variables}))
    (tmp_path / "cases.yml").write_text(PARALLEL_PLAYBOOK.format(module=module))
    results_file = tmp_path / "results.json"
    completed = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "cases.json"), str(tmp_path / "cases.yml"),
         "-f", str(forks), "-e", "@%s" % (tmp_path / "case_vars.json"), "-e", "results_file=%s" % results_file]
        + list(extra_args),
        env=environment, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]
    results = json.loads(results_file.read_text())
    return [results["case%03d" % index] for index in range(len(cases))], completed


# ----------------------------------------------------------------------------------- the matrix
class Outcome:
    """What a case must end in: the truth ("base", "added", "removed"), or an error with ``fragment``."""

    def __init__(self, state="base", error=None, logged=None):
        self.state = state
        self.error = error
        # A text that the retry log (api_retries in module results, display.vvv in plugins) must hold.
        self.logged = logged


RETRIED = "retry 1 of "
RELISTED = " again: "

# (id, fault, options of the entry point, outcome). Faults hit page 2 of the case's listing unless they say otherwise.
ONCE = [
    ("429", dict(kind="429", retry_after=0), {}, Outcome(logged="answered 429")),
    ("429-retry-after-1s", dict(kind="429", retry_after=1), {}, Outcome(logged="in 1s: ")),
    ("500", dict(kind="500"), {}, Outcome(error="answered 500 Internal Server Error: text/html body: <html> <head><title>500")),
    ("502", dict(kind="502", retry_after=0), {}, Outcome(logged="answered 502")),
    ("503", dict(kind="503", retry_after=0), {}, Outcome(logged="answered 503")),
    ("504", dict(kind="504", retry_after=0), {}, Outcome(logged="answered 504")),
    ("html200", dict(kind="html200"), {},
     Outcome(error="returned status 200 with content type 'text/html' instead of JSON (a proxy or login page?)")),
    ("html502", dict(kind="html502", retry_after=0), {}, Outcome(logged="502 Bad Gateway")),
    ("reset", dict(kind="reset"), {}, Outcome(logged="the connection broke while the answer was read")),
    ("eof", dict(kind="eof"), {}, Outcome(logged="IncompleteRead")),
    ("drop", dict(kind="drop"), {}, Outcome(logged="Connection aborted")),
    ("truncated", dict(kind="truncated"), {}, Outcome(logged="not valid JSON (cut short or corrupted)")),
    ("delay", dict(kind="delay", delay=1.2), {"timeout": 0.5}, Outcome(logged="no answer within the timeout of 0.5 s")),
    ("wrong_count", dict(kind="wrong_count"), {}, Outcome(logged="the total changed from")),
    ("wrong_count-page-1", dict(kind="wrong_count", page=1, delta=5), {}, Outcome(logged="the total changed from")),
    ("every-2nd-503", dict(kind="503", retry_after=0, every=2, count=None, page=None), {"retries": 6},
     Outcome(logged="answered 503")),
    ("probability-502", dict(kind="502", retry_after=0, probability=0.3, seed=4, count=None, page=None), {"retries": 8},
     Outcome(logged="answered 502")),
]
PERSISTENT = [
    ("503-always", dict(kind="503", retry_after=0, count=None), {"retries": 2},
     Outcome(error="answered 503 Service Unavailable: text/html body: <html> <head><title>503 Service Temporarily "
                   "Unavailable</title></head>")),
    ("503-always-gives-up", dict(kind="503", retry_after=0, count=None), {"retries": 2},
     Outcome(error="(gave up after 3 attempts: retries is 2)")),
    ("429-beyond-the-budget", dict(kind="429", retry_after=30), {"retry_budget": 5},
     # What is left of the budget is 5 s less the time the first attempt took.
     Outcome(error=re.compile(r"\(gave up after 1 attempt: the server asked to wait 30 s \(Retry-After\), more than the "
                              r"(5|4\.[0-9]+) s left of retry_budget\)"))),
    ("reset-always", dict(kind="reset", count=None), {"retries": 1},
     Outcome(error="the connection broke while the answer was read (Connection broken: ")),
    ("truncated-always", dict(kind="truncated", count=None), {"retries": 1},
     Outcome(error="returned a body that is not valid JSON (cut short or corrupted)")),
    ("delay-always", dict(kind="delay", delay=1.2, count=None), {"timeout": 0.5, "retries": 1},
     Outcome(error="no answer within the timeout of 0.5 s")),
    ("wrong_count-always", dict(kind="wrong_count", count=None), {},
     Outcome(error="could not be read consistently in 3 attempts (it kept changing, or a proxy alters the answers): "
                   "the total changed from")),
    ("html200-always", dict(kind="html200", count=None), {"retries": 3}, Outcome(error="instead of JSON")),
]
# In this order, each after the one before: the data changes, and the truth with it.
CHANGING = [
    ("add_image", dict(kind="add_image", uuid=ADDED, name=ADDED_NAME), {}, Outcome("added", logged=RELISTED)),
    ("remove_image-again", dict(kind="remove_image", uuid=ADDED), {}, Outcome("base", logged=RELISTED)),
    ("remove_image", dict(kind="remove_image"), {}, Outcome("removed", logged=RELISTED)),
    ("add_image-always", dict(kind="add_image", count=None), {},
     Outcome(error="could not be read consistently in 3 attempts (it kept changing, or a proxy alters the answers)")),
]
MATRIX = ONCE + PERSISTENT + CHANGING
# The fault kinds of the issue, each once, and two that never stop: for the entry points that cost a process per case.
CORE = ("429", "500", "502", "503", "504", "html200", "html502", "reset", "truncated", "delay", "wrong_count",
        "503-always", "wrong_count-always", "add_image", "remove_image-again", "remove_image", "add_image-always")
FIRST_PAGE_SIZE = 31


def fault_cases(path, base_options, only=None):
    """(case id, fault arguments, entry point options, outcome, sequential) with a page size of its own."""
    cases = []
    changing = {case_id for case_id, _fault, _options, _outcome in CHANGING}
    for index, (case_id, fault, options, outcome) in enumerate(MATRIX):
        if only is not None and case_id not in only:
            continue
        page_size = FIRST_PAGE_SIZE + index
        fault = dict(fault)
        fault.setdefault("page", 2)
        fault.setdefault("path", path)
        fault["query"] = "page_size=%d" % page_size
        if fault["page"] is None:
            del fault["page"]
        arguments = dict(base_options, page_size=page_size, retries=4, retry_budget=20, timeout=10)
        arguments.update(options)
        cases.append((case_id, fault, arguments, outcome, case_id in changing))
    return cases


@pytest.fixture
def faulty():
    """A private emulator (the data changes), with the truth before, after adding and after removing an image."""
    dataset = generate_dataset(images=300, tenants=6, settings=3, seed=5)
    with WaldurEmulator(dataset, port=0) as server:
        base = Truth(with_truth(server.dataset))
        settings_uuid = [row["uuid"] for row in base.dataset["service_settings"] if row["type"] == "OpenStack"][0]
        tenants = [row["uuid"] for row in base.dataset["tenants"] if row["service_settings_uuid"] == settings_uuid]
        server.add_image(ADDED_NAME, settings_uuid, tenants, uuid=ADDED, backend_created_at="2030-01-01T00:00:00.000000Z")
        added = Truth(with_truth(server.dataset))
        server.remove_image(ADDED)
        names = [image["name"] for image in base.dataset["images"]]
        victim = [uuid for uuid in base.default_list("staff") if names.count(base.images[uuid]["name"]) == 1][0]
        saved = [image for image in base.dataset["images"] if image["uuid"] == victim][0]
        server.remove_image(victim)
        removed = Truth(with_truth(server.dataset))
        fields = {key: value for key, value in saved.items() if key not in ("uuid", "name", "settings_uuid", "tenant_uuids")}
        server.add_image(saved["name"], saved["settings_uuid"], saved["tenant_uuids"], uuid=victim, **fields)
        assert Truth(with_truth(server.dataset)).default_list("staff") == base.default_list("staff")
        server.truths = {"base": base, "added": added, "removed": removed}
        server.victim = victim
        yield server


def arm(emulator, cases):
    for case_id, fault, _arguments, _outcome, _sequential in cases:
        assert case_id
        emulator.add_fault(**fault)


def check(case_id, outcome, result, actual, expected, retry_log, payload_key):
    """One case: the truth and the expected retry log, or a clear failure carrying no data."""
    if outcome.error is not None:
        assert result.get("failed") is True, (case_id, "succeeded where it must fail")
        if isinstance(outcome.error, str):
            assert outcome.error in result["msg"], (case_id, result["msg"])
        else:
            assert outcome.error.search(result["msg"]), (case_id, result["msg"])
        assert payload_key not in result, (case_id, "a failure must not carry data")
        return
    assert not result.get("failed"), (case_id, result.get("msg"))
    assert actual == expected, (case_id, "not the exact truth")
    if outcome.logged is not None:
        assert any(outcome.logged in line for line in retry_log), (case_id, retry_log)


def fired(emulator):
    """Every fault fired at least once (else the case proved nothing)."""
    idle = [fault.describe() for fault in emulator.faults if fault.fired == 0]
    assert not idle, idle


# ------------------------------------------------------------------------------- the modules
def openstack_settings(truth):
    return {row["uuid"] for row in truth.dataset["service_settings"] if row["type"] == "OpenStack"}


def usage_rows(truth):
    providers = openstack_settings(truth)
    rows = {}
    for name, usage in truth.dataset["usage_stats"].items():
        counted = [usage["by_settings"].get(u, {"running": 0, "created": 0}) for u in providers]
        rows[name] = (sum(c["running"] for c in counted), sum(c["created"] for c in counted))
    return rows


def image_uuids(result):
    return [image["uuid"] for image in result["images"]]


def stats_rows(result):
    return {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in result["stats"]}


# module: (the path its faults hit, the cases it runs (None: all), its result key, its answer, the truth's answer)
ENTRY_POINTS = {
    "openstack_image_info": (IMAGES, None, "images", image_uuids, lambda truth: truth.default_list("staff")),
    "openstack_image_stats": (USAGE, CORE, "stats", stats_rows, usage_rows),
}


@pytest.mark.parametrize("module", sorted(ENTRY_POINTS))
def test_every_fault_kind_ends_in_the_truth_or_a_clear_error(faulty, tmp_path, module):
    path, only, payload_key, actual_of, expected_of = ENTRY_POINTS[module]
    cases = fault_cases(path, {}, only)
    arm(faulty, cases)
    results, _completed = run_parallel_cases(
        tmp_path, "waldur.cloud." + module,
        [{"args": arguments, "sequential": sequential} for _id, _fault, arguments, _outcome, sequential in cases],
        ansible_environment(faulty, "staff"), extra_args=["-vvv"])
    fired(faulty)
    for (case_id, _fault, _arguments, outcome, _sequential), result in zip(cases, results):
        actual = None if result.get("failed") else actual_of(result)
        check(case_id, outcome, result, actual, expected_of(faulty.truths[outcome.state]), result.get("api_retries", []),
              payload_key)
    # The data really changed under the listings, and the listings followed.
    assert ADDED in faulty.truths["added"].default_list("staff")
    assert faulty.victim not in faulty.truths["removed"].default_list("staff")


# ------------------------------------------------------------------------- the inventory plugin
def parse_inventory(tmp_path, emulator, options, index):
    """Parse an inventory source in-process, as ansible-inventory does; the host uuids, or the error."""
    # pylint: disable=import-outside-toplevel
    from ansible.errors import AnsibleError
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    path = tmp_path / ("case%03d.waldur_images.yml" % index)
    path.write_text(json.dumps(dict({"plugin": "waldur.cloud.openstack_images", "api_url": emulator.url,
                                     "api_token": emulator.tokens["staff"]}, **options)))
    plugin = inventory_loader.get("waldur.cloud.openstack_images")
    inventory = InventoryData()
    try:
        plugin.parse(inventory, DataLoader(), str(path), cache=False)
    except AnsibleError as exc:
        return None, str(exc)
    inventory.reconcile_inventory()
    return sorted(str(host.vars["waldur_uuid"]) for host in inventory.hosts.values()), None


@pytest.fixture
def plugin_log(monkeypatch):
    """What the plugins show at -vvv (display.vvv), captured."""
    from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client  # pylint: disable=import-outside-toplevel

    lines = []
    monkeypatch.setattr(plugin_client.display, "vvv", lambda message, host=None: lines.append(message))
    return lines


def test_every_fault_kind_in_the_inventory_plugin(faulty, tmp_path, plugin_log, monkeypatch):
    for variable in ("WALDUR_API_URL", "WALDUR_API_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    cases = fault_cases(IMAGES, {"group_by": ["settings"]})
    arm(faulty, cases)
    for index, (case_id, _fault, arguments, outcome, _sequential) in enumerate(cases):
        del plugin_log[:]
        hosts, error = parse_inventory(tmp_path, faulty, arguments, index)
        result = {"failed": True, "msg": error} if error is not None else {}
        expected = sorted(faulty.truths[outcome.state].default_list("staff"))
        check(case_id, outcome, result, hosts, expected, list(plugin_log), "hosts")
        if error is not None:
            assert error.startswith(str(tmp_path / ("case%03d.waldur_images.yml" % index))), error
            assert faulty.tokens["staff"] not in error
    fired(faulty)

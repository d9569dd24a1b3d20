# Helpers of the integration tests (fixtures live in conftest.py).
from __future__ import annotations

import os
import signal
import subprocess
import sys

BIN = os.path.dirname(sys.executable)

CASES_PLAYBOOK = """
- name: Run one module over a list of argument sets
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Call the module once per case
      {module}:
      args: "{{{{ item }}}}"
      loop: "{{{{ cases }}}}"
      loop_control:
        label: "case {{{{ index }}}}"
        index_var: index
      register: outcome
      ignore_errors: true
    - name: Write the results for the test to read
      ansible.builtin.copy:
        content: "{{{{ outcome.results | to_json }}}}"
        dest: "{{{{ results_file }}}}"
        mode: "0600"
      check_mode: false
"""


class Truth:
    """Questions about the emulator's data set, answered from its dumped truth."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.images = {image["uuid"]: image for image in dataset["images"]}
        self.settings = {row["uuid"]: row for row in dataset["service_settings"]}
        self.tenants = {row["uuid"]: row for row in dataset["tenants"]}

    def default_list(self, user):
        return list(self.dataset["visibility"][user]["default_list"])

    def all_visible(self, user):
        return list(self.dataset["visibility"][user]["images"])

    def visible_tenants(self, user):
        return list(self.dataset["visibility"][user]["tenants"])


def ansible_environment(emulator=None, user="staff", **extra):
    environment = dict(os.environ)
    environment.pop("WALDUR_API_URL", None)
    environment.pop("WALDUR_API_TOKEN", None)
    environment.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_NOCOLOR="1",
                       ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    if emulator is not None:
        environment.update(WALDUR_API_URL=emulator.url, WALDUR_API_TOKEN=emulator.tokens[user])
    environment.update(extra)
    return environment


def listed_uuids(result, key):
    """The uuids of the objects a successful module result lists under ``key`` (images, flavors)."""
    assert not result.get("failed"), result.get("msg")
    return [item["uuid"] for item in result[key]]


def assert_cases_list(run_cases, module, key, cases, environment):
    """Run each ``(arguments, expected uuids)`` of ``cases`` through ``module``: each lists exactly those, unchanged."""
    results, _output = run_cases(module, [arguments for arguments, _expected in cases], environment)
    for (arguments, expected), result in zip(cases, results):
        assert listed_uuids(result, key) == expected, arguments
        assert result["changed"] is False


def stop_process_group(process):
    """End the process group of ``process`` (started with start_new_session), what it spawned included."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def literal(text):
    """``text`` as a play argument that templates to itself: extra vars are templated, and names such
    as "{{ lookup('pipe', 'id') }}" are data the tests must pass through unchanged."""
    return "{%% raw %%}%s{%% endraw %%}" % text if "{" in text else text

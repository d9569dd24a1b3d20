"""An inventory sync in the EE image, as AWX runs it, read with AWX's own ``dict_to_mem_data``.

The source is the AWX guide's (docs/guides/awx.md, "The inventory source"). What AWX stores must be what a
playbook sees: plain text, numbers, booleans and lists or mappings of them, with only the text that could be a
template (a brace in it) kept marked unsafe, so that it stays text when AWX hands it back to a job as an
inventory script's JSON.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from tests.containers import awx
from tests.integration.harness import ansible_environment
from tests.integration.test_inventory import (INJECTION, Listing, ansible_inventory, assert_hosts_and_groups_match_truth,
                                              unwrap, wrapped_strings)

GUIDE = os.path.join(awx.REPO_ROOT, "docs", "guides", "awx.md")


def guide_source():
    """The inventory source file the AWX guide tells users to put in their project."""
    with open(GUIDE, encoding="utf-8") as handle:
        blocks = re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)
    (source,) = [block for block in blocks if "plugin: waldur.cloud.openstack_images" in block]
    return source


@pytest.fixture(scope="module")
def synced(ee_image, emulator, tmp_path_factory):
    """The sync's run, output.json as written, and what AWX stores of it (mem_data_to_dict of dict_to_mem_data)."""
    root = str(tmp_path_factory.mktemp("sync"))
    run, data = awx.sync_inventory(ee_image, root, guide_source(), awx.credential_env(emulator.url, emulator.tokens["staff"]))
    assert run.status == "successful" and run.rc == 0 and data, run.stdout[-4000:] + run.worker_stderr[-4000:]
    mem = awx.mem_inventory()
    stored = mem.mem_data_to_dict(mem.dict_to_mem_data(json.loads(json.dumps(data))))
    return run, data, json.loads(json.dumps(stored))


def test_hosts_groups_and_variables_as_awx_reads_them_equal_the_truth(synced, truth):
    _run, _data, stored = synced
    assert_hosts_and_groups_match_truth(Listing(json.dumps(stored)), truth, "staff")


def test_awx_stores_what_a_playbook_sees(synced, emulator, tmp_path):
    _run, _data, stored = synced
    source = tmp_path / "waldur.waldur_images.yml"
    source.write_text(guide_source(), encoding="utf-8")
    completed = ansible_inventory(source, ansible_environment(emulator), "--list", "--export")
    assert completed.returncode == 0, completed.stderr
    seen = Listing(completed.stdout)
    assert unwrap(stored["_meta"]["hostvars"]) == seen.hostvars
    groups = {name: group for name, group in stored.items() if name not in ("_meta", "all", "ungrouped")}
    assert set(groups) == set(seen.groups) - {"all", "ungrouped"}
    for name, group in groups.items():
        assert set(group.get("hosts", [])) == seen.hosts_of(name), name
        assert set(group.get("children", [])) == seen.children_of(name), name
        assert unwrap(group.get("vars", {})) == unwrap(seen.groups[name].get("vars", {})), name


def plain_or_marked_template(value):
    """The values in ``value`` that are neither plain data nor a marked text with a brace."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            text = value["__ansible_unsafe"]
            return [] if "{" in text or "}" in text else [value]
        return [bad for item in value.values() for bad in plain_or_marked_template(item)]
    if isinstance(value, list):
        return [bad for item in value for bad in plain_or_marked_template(item)]
    if isinstance(value, str):
        return [value] if "{" in value or "}" in value else []
    return [] if value is None or isinstance(value, (bool, int, float)) else [value]


def test_every_stored_variable_is_plain_but_text_that_could_be_a_template(synced, truth):
    _run, _data, stored = synced
    variables = [stored["_meta"]["hostvars"]] + [group.get("vars", {}) for group in stored.values() if "hosts" in group
                                                 or "children" in group or "vars" in group]
    assert [bad for value in variables for bad in plain_or_marked_template(value)] == []
    assert INJECTION in wrapped_strings(stored["_meta"]["hostvars"])
    # instance_id_var: waldur_uuid (the AWX guide) reads a plain string on every host.
    hostvars = stored["_meta"]["hostvars"]
    assert sorted(variables["waldur_uuid"] for variables in hostvars.values()) == sorted(truth.default_list("staff"))
    assert all(isinstance(variables["waldur_uuid"], str) for variables in hostvars.values())


def test_a_name_like_a_template_stays_text_in_a_job_fed_by_the_stored_inventory(synced, ee_image, emulator, tmp_path):
    _run, _data, stored = synced
    (host,) = [name for name, variables in stored["_meta"]["hostvars"].items()
               if unwrap(variables["waldur_name"]) == INJECTION]
    playbook = """
- name: Use a stored image host in a job
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Show the name
      ansible.builtin.debug:
        msg: "name={{ hostvars['%s'].waldur_name }}"
""" % host
    run = awx.run_job(ee_image, str(tmp_path / "job"), "show.yml", playbook,
                      awx.credential_env(emulator.url, emulator.tokens["staff"]), inventory_script=awx.inventory_script(stored))
    assert run.status == "successful", run.stdout[-4000:] + run.worker_stderr[-4000:]
    (shown,) = run.results("Show the name")
    assert shown["msg"] == "name=" + INJECTION
    assert "uid=" not in run.stdout


def test_the_token_is_in_no_event_of_the_sync(synced, emulator):
    run, _data, _stored = synced
    assert run.events and not [event["counter"] for event in run.events if emulator.tokens["staff"] in repr(event)]

"""A job and an inventory sync in the EE image, the way AWX runs them (tests/containers/awx.py), against the real
Waldur, compared with its database: a project member's token, as a team's AWX credential would hold."""
from __future__ import annotations

import json

import pytest

from tests.containers import awx
from tests.containers.conftest import ee_image  # noqa: F401  pylint: disable=unused-import
from tests.containers.test_inventory_sync import guide_source, plain_or_marked_template
from tests.live.seeded.test_modules import by_uuid, in_name_order, openstack_settings_of, tie_groups
from tests.integration.test_inventory import INJECTION, unwrap

USER = "member"
PLAYBOOK = """
- name: List the images and their usage
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Every image the token sees
      waldur.cloud.openstack_image_info:
    - name: Usage counts of every image
      waldur.cloud.openstack_image_stats:
"""


@pytest.fixture(scope="module")
def credential(small):
    return awx.credential_env(small.url, small.tokens[USER])


def test_a_job_in_the_ee_lists_and_counts_what_waldur_has(ee_image, credential, small, seeded, truth, tmp_path):  # noqa: F811
    run = awx.run_job(ee_image, str(tmp_path), "images.yml", PLAYBOOK, credential)
    assert run.status == "successful" and run.rc == 0, run.stdout[-4000:] + run.worker_stderr[-4000:]
    (listed,) = run.results("Every image the token sees")
    expected = in_name_order(seeded, "images", truth["visible"][USER]["images"])
    assert tie_groups(seeded, "images", [image["uuid"] for image in listed["images"]]) == tie_groups(seeded, "images", expected)
    (stats,) = run.results("Usage counts of every image")
    providers = openstack_settings_of(small, seeded, truth, USER)
    rows = {row["name"]: [row["running_instances_count"], row["created_instances_count"]] for row in stats["stats"]}
    assert rows == {name: [sum(by_settings[s][index] for s in providers if s in by_settings) for index in (0, 1)]
                    for name, by_settings in truth["image_usage"].items()}
    assert small.tokens[USER] not in run.stdout and not [e for e in run.events if small.tokens[USER] in repr(e)]


def test_an_inventory_sync_in_the_ee_stores_waldurs_images_as_plain_data(ee_image, credential, seeded, truth, tmp_path):  # noqa: F811
    run, data = awx.sync_inventory(ee_image, str(tmp_path), guide_source(), credential)
    assert run.status == "successful" and data, run.stdout[-4000:] + run.worker_stderr[-4000:]
    mem = awx.mem_inventory()
    stored = json.loads(json.dumps(mem.mem_data_to_dict(mem.dict_to_mem_data(data))))
    hostvars = stored["_meta"]["hostvars"]
    images = by_uuid(seeded, "images")
    assert sorted(hostvars) == sorted(truth["visible"][USER]["images"])  # hostname: uuid
    for host, variables in hostvars.items():
        assert variables["waldur_uuid"] == host and unwrap(variables["waldur_name"]) == images[host]["name"]
    groups = [group.get("vars", {}) for name, group in stored.items() if name != "_meta"]
    assert [bad for value in [hostvars] + groups for bad in plain_or_marked_template(value)] == []
    assert any(variables["waldur_name"] == {"__ansible_unsafe": INJECTION} for variables in hostvars.values())

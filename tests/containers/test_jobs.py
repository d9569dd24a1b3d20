"""A job template's playbook in the EE image, run as AWX runs it (awx.py), checked against the emulator's truth.

The credential reaches the job as the AWX guide's credential type injects it, in the runner's environment with
``suppress_env_files``; the results are read from the job events that AWX's event handler receives.
"""
from __future__ import annotations

import pytest

from tests.containers import awx
from tests.containers.engine import podman
from tests.integration.test_boot_rule import waldur_accepts
from tests.integration.test_flavor_fit import choose
from tests.integration.test_openstack_image_stats import as_rows, expected_rows, openstack_settings

DISK = 20480
PLAYBOOK = """
- name: Choose an image and a flavor for an instance order, then count the images in use
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    fits: {flavor: "%(flavor)s", disk: %(disk)d}
  tasks:
    - name: Images for the flavor and a system volume, in the tenant
      waldur.cloud.openstack_image_info:
        tenant: "%(tenant)s"
        fits: "{{ fits }}"
      register: fitting
    - name: The lookup's choice
      ansible.builtin.set_fact:
        chosen: "{{ lookup('waldur.cloud.openstack_image', tenant='%(tenant)s', fits=fits, sort_by='name', order='asc') }}"
    - name: The smallest flavors that boot the first image
      waldur.cloud.openstack_flavor_info:
        boots:
          image: "{{ fitting.images[0].uuid }}"
          tenant: "%(tenant)s"
          disk: %(disk)d
    - name: Usage counts of every image
      waldur.cloud.openstack_image_stats:
"""


@pytest.fixture(scope="module")
def job(ee_image, emulator, truth, tmp_path_factory):
    tenant, flavor = choose(truth)
    run = awx.run_job(ee_image, str(tmp_path_factory.mktemp("job")), "choose.yml",
                      PLAYBOOK % {"tenant": tenant["name"], "flavor": flavor["name"], "disk": DISK},
                      awx.credential_env(emulator.url, emulator.tokens["staff"]))
    assert run.status == "successful" and run.rc == 0, run.stdout[-4000:] + run.worker_stderr[-4000:]
    return run, tenant, flavor


def test_each_result_in_the_job_events_equals_the_truth(job, truth):
    run, tenant, flavor = job
    accepted = [u for u in truth.default_list("staff") if waldur_accepts(truth.images[u], flavor, tenant["uuid"], DISK)]
    assert accepted
    (fitting,) = run.results("Images for the flavor and a system volume, in the tenant")
    assert [image["uuid"] for image in fitting["images"]] == accepted
    assert fitting["fit"]["flavor"]["uuid"] == flavor["uuid"] and fitting["fit"]["not_checked"] == []

    (chosen,) = run.results("The lookup's choice")
    assert chosen["ansible_facts"]["chosen"]["uuid"] == sorted(accepted, key=lambda u: (truth.images[u]["name"], u))[0]

    (boots,) = run.results("The smallest flavors that boot the first image")
    expected = [f for f in truth.dataset["flavors"] if waldur_accepts(truth.images[accepted[0]], f, tenant["uuid"], DISK)]
    assert sorted(f["uuid"] for f in boots["flavors"]) == sorted(f["uuid"] for f in expected)
    assert [f["ram"] for f in boots["flavors"]] == sorted(f["ram"] for f in expected)

    (stats,) = run.results("Usage counts of every image")
    assert as_rows(stats) == expected_rows(truth, openstack_settings(truth, "staff"))
    assert run.events[-1]["event"] == "playbook_on_stats" and not run.events[-1]["event_data"]["failures"]


def test_the_token_is_in_no_job_event_and_not_in_the_output_at_vvv(job, emulator):
    run, _tenant, _flavor = job
    token = emulator.tokens["staff"]
    assert "<127.0.0.1> EXEC" in run.stdout or "ESTABLISH LOCAL CONNECTION" in run.stdout  # -vvv took effect
    assert token not in run.stdout
    assert not [event["counter"] for event in run.events if token in repr(event)]


def test_the_ee_lists_the_collection_without_a_warning(ee_image):
    completed = podman("run", "--rm", ee_image, "ansible-doc", "-l", "waldur.cloud")
    assert completed.returncode == 0, completed.stderr
    assert "waldur.cloud.openstack_image_info" in completed.stdout
    assert completed.stderr == "" and "WARNING" not in completed.stdout.upper()

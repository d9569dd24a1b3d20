"""The inventory, the lookup and the filter against the real Waldur, compared with its database and code."""
from __future__ import annotations

import json

import pytest

from tests.integration.harness import ansible_environment, literal
from tests.integration.test_inventory import Listing, ansible_inventory, write_config
from tests.waldur_server.hostile import HOSTILE_NAMES

INJECTION = "{{ lookup('pipe', 'id') }}"


@pytest.mark.parametrize("user", ["staff", "owner", "member"])
def test_inventory_hosts_and_tenants_are_waldurs(tmp_path, small, seeded, truth, user):
    completed = ansible_inventory(write_config(tmp_path, hostname="uuid", usage_stats=True),
                                  ansible_environment(small, user), "--list")
    assert completed.returncode == 0, completed.stderr
    listing = Listing(completed.stdout)
    visible = truth["visible"][user]
    assert set(listing.by_uuid) == set(visible["images"])
    images = {image["uuid"]: image for image in seeded["images"]}
    for uuid, host in listing.by_uuid.items():
        variables = listing.hostvars[host]
        assert host == uuid
        assert variables["waldur_name"] == images[uuid]["name"]
        linked = {tenant for tenant in images[uuid]["tenant_uuids"] if tenant in visible["tenants"]}
        assert set(variables["waldur_tenant_uuids"]) == linked
        assert listing.hostvars[host]["waldur_name"] in truth["image_usage"]
    # Hostile names stay data: never templated, whatever the user.
    assert INJECTION not in completed.stderr
    hostile = [host for uuid, host in listing.by_uuid.items() if images[uuid]["name"] == INJECTION]
    assert hostile and all(listing.hostvars[host]["waldur_name"] == INJECTION for host in hostile)


LOOKUP_PLAYBOOK = """
- name: The lookup on the real Waldur
  hosts: localhost
  gather_facts: false
  tasks:
    - name: One image by each exact name
      ansible.builtin.set_fact:
        by_name: "{{ by_name | default([]) + [lookup('waldur.cloud.openstack_image', name_exact=item).uuid] }}"
      loop: "{{ names }}"
    - name: The largest image that Waldur accepts for each tenant, flavor and a 20 GiB system volume
      ansible.builtin.set_fact:
        largest: "{{ largest | default([]) + [lookup('waldur.cloud.openstack_image', tenant_uuid=item.tenant,
                     fits={'flavor': item.flavor, 'disk': 20480}, sort_by='min_disk', order='desc', default=None)] }}"
      loop: "{{ orders }}"
    - name: Write what the lookup chose
      ansible.builtin.copy:
        content: "{{ {'by_name': by_name, 'largest': largest} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""


def test_lookup_finds_hostile_names_and_the_largest_image_waldur_accepts(tmp_path, run_playbook, small, seeded, accepted):
    """The lookup by exact name (names held by one image), and with fits.flavor, sort_by and order."""
    unique = [name for name in HOSTILE_NAMES if sum(image["name"] == name for image in seeded["images"]) == 1]
    assert len(unique) >= 8
    images = {image["uuid"]: image for image in seeded["images"]}
    orders = [{"tenant": tenant["uuid"], "flavor": flavor["uuid"]}
              for tenant in seeded["tenants"] for flavor in seeded["flavors"] if tenant["uuid"] in flavor["tenant_uuids"]]
    results = tmp_path / "results.json"
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"names": [literal(name) for name in unique], "orders": orders, "results_file": str(results)}))
    run_playbook(LOOKUP_PLAYBOOK, ansible_environment(small, "staff"), extra_args=["-e", "@%s" % variables])
    answer = json.loads(results.read_text())
    assert [images[uuid]["name"] for uuid in answer["by_name"]] == unique
    assert any(answer["largest"])
    for order, chosen in zip(orders, answer["largest"]):
        fitting = accepted[(order["tenant"], order["flavor"], 20480)]
        if not fitting:
            assert chosen is None, order
            continue
        assert chosen["uuid"] in fitting, order
        assert chosen["min_disk"] == max(images[uuid]["min_disk"] for uuid in fitting)


FILTER_PLAYBOOK = """
- name: The filter on the real Waldur
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The images and flavors of the tenant
      waldur.cloud.openstack_image_info:
        tenant_uuid: "{{ tenant }}"
      register: tenant_images
    - name: The flavors of the tenant
      waldur.cloud.openstack_flavor_info:
        tenant_uuid: "{{ tenant }}"
      register: tenant_flavors
    - name: Keep, for each flavor and system volume, the images that fit
      ansible.builtin.set_fact:
        kept: "{{ kept | default([]) + [{'flavor': item.0.uuid, 'size': item.1,
                  'images': tenant_images.images | waldur.cloud.fitting_images(flavor=item.0, disk=item.1)
                                                 | map(attribute='uuid') | list}] }}"
      loop: "{{ tenant_flavors.flavors | product(sizes) | list }}"
    - name: Write what the filter kept
      ansible.builtin.copy:
        content: "{{ kept | default([]) | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""
SIZES = (1024, 10240, 20480, 40960)


def test_the_filter_keeps_what_waldur_accepts(tmp_path, run_playbook, small, seeded, accepted):
    checked = 0
    for tenant in seeded["tenants"]:
        results = tmp_path / ("kept-%s.json" % tenant["uuid"])
        run_playbook(FILTER_PLAYBOOK, ansible_environment(small, "staff"), extra_args=[
            "-e", json.dumps({"tenant": tenant["uuid"], "sizes": list(SIZES), "results_file": str(results)})])
        for row in json.loads(results.read_text()):
            assert set(row["images"]) == accepted[(tenant["uuid"], row["flavor"], row["size"])], (tenant["name"], row)
            checked += 1
    linked = sum(tenant["uuid"] in flavor["tenant_uuids"] for tenant in seeded["tenants"] for flavor in seeded["flavors"])
    assert checked == linked * len(SIZES) > 0

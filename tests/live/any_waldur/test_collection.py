"""Read-only checks of every module and plugin against any Waldur, whatever its data (`make test-live`).

Each test compares the collection with the server's own raw answers (totals, single objects, filters)
or with first principles (the fit rule), so that it holds for any data set and any token.
"""
from __future__ import annotations

import asyncio
import runpy
from collections import Counter

import pytest

from tests.integration.harness import ansible_environment, listed_uuids
from tests.integration.test_event_source import SOURCE_PATH, next_event
from tests.integration.test_inventory import Listing, ansible_inventory, write_config

# Listings longer than this are not read again by a second front (the inventory, the event source):
# on a very large catalogue that would cost minutes for little more certainty.
SECOND_READ_LIMIT = 20000


def one_result(run_cases, target, module, arguments):
    results, _output = run_cases(module, [arguments], ansible_environment(target, "operator"))
    assert not results[0].get("failed"), results[0].get("msg")
    return results[0]


def test_the_token_is_accepted(target):
    """The API answers a listing with this token (401 would be a wrong URL path, token or auth scheme)."""
    assert target.count("openstack-images/") >= 0


def test_image_info_lists_every_image_once(run_cases, target):
    images = one_result(run_cases, target, "waldur.cloud.openstack_image_info", {})["images"]
    uuids = listed_uuids({"images": images}, "images")
    assert len(uuids) == len(set(uuids)) == target.count("openstack-images/")


def test_image_info_gets_one_image_as_the_server_sends_it(run_cases, target, first_image):
    got = one_result(run_cases, target, "waldur.cloud.openstack_image_info", {"uuid": first_image["uuid"]})["images"]
    assert got == [target.get("openstack-images/%s/" % first_image["uuid"]).json()]


def test_image_info_by_exact_name_and_settings(run_cases, target, first_image):
    settings_uuid = first_image["settings"].rstrip("/").rsplit("/", 1)[-1]
    found = one_result(run_cases, target, "waldur.cloud.openstack_image_info",
                       {"name_exact": first_image["name"], "settings_uuid": settings_uuid})["images"]
    assert first_image["uuid"] in listed_uuids({"images": found}, "images")
    assert {image["name"] for image in found} == {first_image["name"]}


def test_image_info_by_tenant_lists_the_tenants_images(run_cases, target, tenant_with_flavors):
    tenant, _flavor = tenant_with_flavors
    images = one_result(run_cases, target, "waldur.cloud.openstack_image_info", {"tenant_uuid": tenant["uuid"]})["images"]
    assert len(set(listed_uuids({"images": images}, "images"))) == target.count("openstack-images/", tenant_uuid=tenant["uuid"])


def test_flavor_info_lists_every_flavor_once(run_cases, target):
    flavors = one_result(run_cases, target, "waldur.cloud.openstack_flavor_info", {})["flavors"]
    uuids = [flavor["uuid"] for flavor in flavors]
    assert len(uuids) == len(set(uuids)) == target.count("openstack-flavors/")


def test_image_stats_has_one_row_per_name(run_cases, target):
    result = one_result(run_cases, target, "waldur.cloud.openstack_image_stats", {})
    names = [row["name"] for row in result["stats"]]
    assert len(names) == len(set(names)) == result["totals"]["images"]
    assert all(0 <= row["running_instances_count"] <= row["created_instances_count"] for row in result["stats"])


def test_fits_flavor_keeps_what_the_fit_rule_allows(run_cases, target, tenant_with_flavors):
    """Waldur's rule of an instance order: image and flavor in the tenant, min_ram <= RAM, min_disk <= volume."""
    tenant, flavor = tenant_with_flavors
    volume = 20480
    in_tenant = one_result(run_cases, target, "waldur.cloud.openstack_image_info", {"tenant_uuid": tenant["uuid"]})["images"]
    kept = one_result(run_cases, target, "waldur.cloud.openstack_image_info",
                      {"tenant_uuid": tenant["uuid"], "fits": {"flavor": flavor["uuid"], "disk": volume}})["images"]
    expected = {image["uuid"] for image in in_tenant if image["min_ram"] <= flavor["ram"] and image["min_disk"] <= volume}
    assert set(listed_uuids({"images": kept}, "images")) == expected


def test_inventory_has_one_host_per_image(tmp_path, target):
    total = target.count("openstack-images/")
    if total > SECOND_READ_LIMIT:
        pytest.skip("not checked: %d images are more than this check reads (%d)" % (total, SECOND_READ_LIMIT))
    completed = ansible_inventory(write_config(tmp_path, hostname="uuid"), ansible_environment(target, "operator"), "--list")
    assert completed.returncode == 0, completed.stderr
    assert len(Listing(completed.stdout).by_uuid) == total


LOOKUP_AND_FILTER = """
- name: The lookup and the filter
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The lookup finds the image by uuid; the filter keeps it for a flavor of its size, not for one MiB of RAM less
      ansible.builtin.assert:
        that:
          - found.uuid == uuid
          - ([found] | waldur.cloud.fitting_images(disk=[found.min_disk, 1] | max, ram=[found.min_ram, 1] | max) | length) == 1
          - found.min_ram < 2 or ([found] | waldur.cloud.fitting_images(ram=found.min_ram - 1) | length) == 0
      vars:
        found: "{{ lookup('waldur.cloud.openstack_image', uuid=uuid) }}"
"""


def test_lookup_and_filter(run_playbook, target, first_image):
    run_playbook(LOOKUP_AND_FILTER, ansible_environment(target, "operator"), extra_args=["-e", "uuid=" + first_image["uuid"]])


def test_event_source_reports_every_image_of_its_first_listing(target):
    total = target.count("openstack-images/")
    if total > SECOND_READ_LIMIT:
        pytest.skip("not checked: %d images are more than this check reads (%d)" % (total, SECOND_READ_LIMIT))

    async def first_listing():
        queue = asyncio.Queue()
        args = {"api_url": target.url, "api_token": target.tokens["operator"], "emit_existing": True, "interval": 3600}
        task = asyncio.create_task(runpy.run_path(SOURCE_PATH)["main"](queue, args))
        try:
            return [await next_event(queue) for _number in range(total)]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    events = asyncio.run(first_listing())
    assert Counter(event["type"] for event in events) == Counter({"added": total} if total else {})
    assert len({event["image"]["uuid"] for event in events}) == total

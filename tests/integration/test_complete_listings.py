"""Every front lists exactly the server's set although the server's page order among equal sort keys
is unstable (tests/live/seeded/test_paging.py shows it on a real Waldur): pages repeat and miss objects of a tie group, the same way
every time. The emulator serves lists that way by default; the data sets here have long runs of
equal names (many versions and copies of each image), as real clouds do. The emulators here also
shift the order of usage_stats rows with the page size (shifting_usage_order), which the real
server was not seen to do, so that the client's defence for it stays tested."""
from __future__ import annotations

import asyncio
import json
import random
import runpy

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import SettingsAndTenants
from ansible_collections.waldur.cloud.plugins.module_utils.usage import UsageReport
from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch_all
from tests.integration.harness import ansible_environment
from tests.integration.test_event_source import SOURCE_PATH
from tests.integration.test_inventory import list_inventory

# Complete listings are the client's paging (module_utils): the same on every ansible-core, so the runs on other
# cores leave this file to the main run (tests/core_versions.py); they run each front in the other files.
pytestmark = pytest.mark.core_independent

PAGE_SIZES = (1, 2, 7, 10, 50, 300)


@pytest.fixture(scope="module")
def tied():
    """400 images over 6 clouds drawn from 40 names: tie groups of up to 6, longer than the smaller pages."""
    with WaldurEmulator(generate_dataset(images=400, tenants=8, settings=6, seed=21, names=40),
                        shifting_usage_order=True) as server:
        yield server


def client_for(emulator, page_size, user="staff", max_workers=4):
    settings = ConnectionSettings.from_options({"api_url": emulator.url, "api_token": emulator.tokens[user]}, environ={})
    return WaldurClient(settings, page_size=page_size, max_workers=max_workers)


def visible_flavors(emulator, user="staff"):
    return sorted(emulator.dataset["visibility"][user]["flavors"])


def test_a_plain_page_walk_of_these_data_sets_repeats_and_misses_images(tied):
    expected = set(tied.dataset["visibility"]["staff"]["default_list"])
    for page_size in PAGE_SIZES[:-1]:
        items, _replies = fetch_all(tied.url, "/api/openstack-images/?page_size=%d" % page_size, tied.tokens["staff"])
        assert len(items) == len(expected)
        assert {item["uuid"] for item in items} != expected, page_size


def test_the_module_lists_every_image_flavor_and_usage_row_at_every_page_size(tied, run_cases):
    environment = ansible_environment(tied)
    cases = [{"page_size": page_size} for page_size in PAGE_SIZES]
    images, _output = run_cases("waldur.cloud.openstack_image_info", cases, environment)
    flavors, _output = run_cases("waldur.cloud.openstack_flavor_info", cases, environment)
    stats, _output = run_cases("waldur.cloud.openstack_image_stats", cases, environment)
    for page_size, image_result, flavor_result, stats_result in zip(PAGE_SIZES, images, flavors, stats):
        listed = [image["uuid"] for image in image_result["images"]]
        assert sorted(listed) == sorted(tied.dataset["visibility"]["staff"]["default_list"]), page_size
        names = [image["name"] for image in image_result["images"]]
        assert names == sorted(names), "images come in the server's order, by name"
        assert sorted(flavor["uuid"] for flavor in flavor_result["flavors"]) == visible_flavors(tied), page_size
        assert sorted(row["name"] for row in stats_result["stats"]) == sorted(tied.dataset["usage_stats"]), page_size


def test_the_lookup_chooses_from_every_image_at_every_page_size(tied, run_playbook, tmp_path):
    # Among images of one name the lookup returns the smallest uuid: a listing that missed it would not.
    images = {image["uuid"]: image for image in tied.dataset["images"]}
    visible = [images[uuid] for uuid in tied.dataset["visibility"]["staff"]["default_list"]]
    names = [image["name"] for image in visible]
    name = max(sorted(set(names)), key=names.count)
    results = tmp_path / "results.json"
    tasks = "".join("""
    - name: Choose with page_size {size}
      ansible.builtin.set_fact:
        chosen_{size}: "{{{{ lookup('waldur.cloud.openstack_image', name_exact='{name}', sort_by='name', page_size={size},
                          cache_lifetime=0).uuid }}}}"
""".format(size=size, name=name) for size in PAGE_SIZES)
    tasks += """
    - name: Write the choices
      ansible.builtin.copy:
        content: "{{ [%s] | to_json }}"
        dest: "%s"
        mode: "0600"
""" % (", ".join("chosen_%d" % size for size in PAGE_SIZES), results)
    run_playbook("- name: The lookup at every page size\n  hosts: localhost\n  gather_facts: false\n  tasks:" + tasks,
                 ansible_environment(tied))
    smallest = min(image["uuid"] for image in visible if image["name"] == name)
    assert names.count(name) > 2
    assert json.loads(results.read_text()) == [smallest] * len(PAGE_SIZES)


@pytest.mark.parametrize("page_size", [1, 7, 300])
def test_the_inventory_has_every_image_its_tenants_and_flavors(tied, tmp_path, page_size):
    listing, _counts = list_inventory(tied, tmp_path, page_size=page_size, fetch_flavors=True)
    truth = tied.dataset
    assert sorted(variables["waldur_uuid"] for variables in listing.hostvars.values()) == \
        sorted(truth["visibility"]["staff"]["default_list"])
    images = {image["uuid"]: image for image in truth["images"]}
    for variables in listing.hostvars.values():
        linked = sorted(images[variables["waldur_uuid"]]["tenant_uuids"])
        assert sorted(variables["waldur_tenant_uuids"]) == linked
        fitting = {flavor["name"] for flavor in truth["flavors"]
                   if set(flavor["tenant_uuids"]) & set(linked) and flavor["ram"] >= variables["waldur_min_ram"]}
        assert set(variables["waldur_flavors_that_fit"]) == fitting


def test_the_event_source_reports_every_image_once_and_then_nothing():
    with WaldurEmulator(generate_dataset(images=1500, tenants=8, settings=8, seed=22, names=100)) as emulator:
        expected = sorted(emulator.dataset["visibility"]["staff"]["default_list"])
        # Pages of 300 (the source's) with boundaries among equal names, which a plain walk garbles.
        items, _replies = fetch_all(emulator.url, "/api/openstack-images/?page_size=300", emulator.tokens["staff"])
        assert sorted(item["uuid"] for item in items) != expected
        events = event_source_polls(emulator, polls=3)
    assert sorted(event["image"]["uuid"] for event in events[0]) == expected
    assert {event["type"] for event in events[0]} == {"added"}
    assert events[1:] == [[], []]


def event_source_polls(emulator, polls):
    """The events of each of ``polls`` polls of the event source, with emit_existing; every poll must succeed."""
    watch = runpy.run_path(SOURCE_PATH)["ImageWatch"]({
        "api_url": emulator.url, "api_token": emulator.tokens["staff"], "emit_existing": True})

    async def each_poll():
        queue = asyncio.Queue()
        events = []
        for _poll in range(polls):
            await watch.poll(queue)
            assert watch.outage is None, "a poll failed"
            events.append([queue.get_nowait() for _event in range(queue.qsize())])
        return events

    return asyncio.run(each_poll())


def truth_of(dataset, user):
    visibility = dataset["visibility"][user]
    return {
        "images": sorted(visibility["default_list"]),
        "flavors": sorted(visibility["flavors"]),
        "tenants": sorted(visibility["tenants"]),
        "usage": sorted(dataset["usage_stats"]),
    }


def listed_by_the_client(emulator, page_size, user):
    with client_for(emulator, page_size, user) as client:
        catalog = SettingsAndTenants(client)
        listed = {
            "images": sorted(image["uuid"] for image in ImageQuery().run(client, catalog)),
            "flavors": sorted(flavor["uuid"] for flavor in FlavorQuery().run(client, catalog)),
            "tenants": sorted(tenant["uuid"] for tenant in catalog.tenants),
        }
        if user == "staff":
            listed["usage"] = sorted(row["name"] for row in UsageReport().run(client, catalog)["stats"])
        return listed


@pytest.mark.parametrize("seed", range(12))
def test_any_data_set_page_size_and_tie_layout_lists_completely(seed):
    rng = random.Random(seed)
    images = rng.choice((20, 150, 600))
    dataset = generate_dataset(images=images, tenants=rng.randint(2, 12), settings=rng.randint(1, 9), seed=seed,
                               names=rng.choice((None, 3, images // 10 + 1, images // 3 + 1)))
    with WaldurEmulator(dataset, shifting_usage_order=True) as emulator:
        for user in ("staff", "user"):
            page_size = rng.choice((1, 2, 3, 7, 10, 50, 299, 300))
            expected = truth_of(emulator.dataset, user)
            listed = listed_by_the_client(emulator, page_size, user)
            assert listed == {key: expected[key] for key in listed}, (user, page_size)


@pytest.mark.parametrize("images,page_size", [(20000, 300), (5003, 50)])
def test_large_clouds_with_many_repeated_names_list_completely(images, page_size):
    dataset = generate_dataset(images=images, tenants=40, settings=max(17, images // 300), seed=5, names=300)
    with WaldurEmulator(dataset) as emulator:
        with client_for(emulator, page_size) as client:
            listed = ImageQuery().run(client)
    assert sorted(image["uuid"] for image in listed) == sorted(dataset["visibility"]["staff"]["default_list"])

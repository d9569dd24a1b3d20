"""Request budgets, asserted from the emulator's own accounting: counts are deterministic, times are not."""
from __future__ import annotations

import math

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import ansible_environment

# Request counts are the client's (module_utils): the same on every ansible-core, so the runs on other cores leave
# this file to the main run (tests/core_versions.py).
pytestmark = pytest.mark.core_independent

IMAGES = "GET /api/openstack-images/"
SETTINGS = "GET /api/service-settings/"
TENANTS = "GET /api/openstack-tenants/"
USAGE = "GET /api/openstack-images/usage_stats/"


def cut_tie_groups(names, page_size):
    """The names at both sides of a page boundary: the tie groups the server's unstable order can garble."""
    return {names[boundary] for boundary in range(page_size, len(names), page_size) if names[boundary - 1] == names[boundary]}


def test_listing_costs_one_request_per_page_and_at_most_one_per_cut_tie_group(emulator, truth, run_cases):
    names = [truth.images[uuid]["name"] for uuid in truth.default_list("staff")]
    for page_size, workers in ((7, 4), (10, 1), (300, 1)):
        emulator.reset_requests()
        cases = [{"page_size": page_size, "max_workers": workers}]
        results, _output = run_cases("waldur.cloud.openstack_image_info", cases, ansible_environment(emulator))
        assert sorted(image["uuid"] for image in results[0]["images"]) == sorted(truth.default_list("staff"))
        pages = math.ceil(len(names) / page_size)
        counts = emulator.request_counts()
        assert set(counts) == {IMAGES}
        assert pages <= counts[IMAGES] <= pages + len(cut_tie_groups(names, page_size)), page_size
        if not cut_tie_groups(names, page_size):
            assert counts[IMAGES] == pages


def test_a_name_costs_one_look_up_of_settings_and_tenants(emulator, truth, run_cases):
    name = truth.settings[truth.tenants[truth.visible_tenants("user")[0]]["service_settings_uuid"]]["name"]
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{"settings": name}], ansible_environment(emulator, "user"))
    assert results[0]["images"]
    assert emulator.request_counts() == {SETTINGS: 1, TENANTS: 1, IMAGES: 1}


def test_usage_rows_in_the_real_servers_order_cost_one_walk(emulator, truth, run_cases):
    # The emulator's default, as measured on the real server: one row order at every page size.
    rows = len(truth.dataset["usage_stats"])
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_stats", [{"page_size": 100}], ansible_environment(emulator))
    assert sorted(row["name"] for row in results[0]["stats"]) == sorted(truth.dataset["usage_stats"])
    assert emulator.request_counts() == {SETTINGS: 1, TENANTS: 1, USAGE: math.ceil(rows / 100)}


def test_usage_rows_in_an_order_that_shifts_with_the_page_are_read_again_until_complete(run_cases):
    with WaldurEmulator(generate_dataset(images=700, tenants=12, settings=3, seed=7), shifting_usage_order=True) as emulator:
        usage = emulator.dataset["usage_stats"]
        results, _output = run_cases("waldur.cloud.openstack_image_stats", [{"page_size": 100}], ansible_environment(emulator))
        assert sorted(row["name"] for row in results[0]["stats"]) == sorted(usage)
        counts = emulator.request_counts()
    # The first reading of 100 per page missed rows; each later reading is of 300 or fewer per page.
    assert math.ceil(len(usage) / 100) < counts[USAGE] <= math.ceil(len(usage) / 100) + 12 * math.ceil(len(usage) / 288)
    assert (counts[SETTINGS], counts[TENANTS]) == (1, 1)


FLAVORS = "GET /api/openstack-flavors/"


def test_a_fits_flavor_that_does_not_exist_fails_before_any_image_is_listed(emulator, truth, run_cases):
    tenant = truth.visible_tenants("staff")[0]
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{"tenant_uuid": tenant, "fits": {"flavor": "m1.mistyped"}}],
                                 ansible_environment(emulator))
    assert results[0]["failed"] and "no flavor named 'm1.mistyped'" in results[0]["msg"]
    assert IMAGES not in emulator.request_counts()


def test_a_fits_flavor_in_a_tenant_costs_one_round_trip_before_the_images(emulator, truth, run_cases):
    flavor = next(flavor for flavor in truth.dataset["flavors"] if flavor["tenant_uuids"])
    same_name = [other for other in truth.dataset["flavors"]
                 if other["name"] == flavor["name"] and set(other["tenant_uuids"]) & set(flavor["tenant_uuids"])]
    assert same_name == [flavor]
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_info", [
        {"tenant_uuid": flavor["tenant_uuids"][0], "fits": {"flavor": flavor["name"], "disk": "20G"}}], ansible_environment(emulator))
    assert not results[0].get("failed"), results[0].get("msg")
    # The flavor (one listing of the tenant's flavors of that name), then one page of the tenant's images.
    assert emulator.request_counts() == {FLAVORS: 1, IMAGES: 1}

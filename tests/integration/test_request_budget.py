"""Request budgets, asserted from the emulator's own accounting: counts are deterministic, times are not."""
from __future__ import annotations

import math

from tests.integration.harness import ansible_environment

IMAGES = "GET /api/openstack-images/"
SETTINGS = "GET /api/service-settings/"
TENANTS = "GET /api/openstack-tenants/"
USAGE = "GET /api/openstack-images/usage_stats/"


def test_listing_n_images_costs_exactly_one_request_per_page(emulator, truth, run_cases):
    total = len(truth.default_list("staff"))
    for page_size, workers in ((7, 4), (300, 1)):
        emulator.reset_requests()
        cases = [{"page_size": page_size, "max_workers": workers}]
        results, _output = run_cases("waldur.cloud.openstack_image_info", cases, ansible_environment(emulator))
        assert len(results[0]["images"]) == total
        assert emulator.request_counts() == {IMAGES: math.ceil(total / page_size)}


def test_a_name_costs_one_look_up_of_settings_and_tenants(emulator, truth, run_cases):
    name = truth.settings[truth.tenants[truth.visible_tenants("user")[0]]["service_settings_uuid"]]["name"]
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{"settings": name}], ansible_environment(emulator, "user"))
    assert results[0]["images"]
    assert emulator.request_counts() == {SETTINGS: 1, TENANTS: 1, IMAGES: 1}


def test_usage_costs_the_look_ups_and_one_request_per_page_of_rows(emulator, truth, run_cases):
    rows = len(truth.dataset["usage_stats"])
    emulator.reset_requests()
    results, _output = run_cases("waldur.cloud.openstack_image_stats", [{"page_size": 100}], ansible_environment(emulator))
    assert len(results[0]["stats"]) == rows
    assert emulator.request_counts() == {SETTINGS: 1, TENANTS: 1, USAGE: math.ceil(rows / 100)}

"""openstack_image_stats through ansible-playbook against the emulator, compared with its truth."""
from __future__ import annotations

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.dataset import with_truth
from tests.integration.harness import Truth, ansible_environment

MODULE = "waldur.cloud.openstack_image_stats"


def openstack_settings(truth, user):
    """The OpenStack settings a user can name: listed to them, or named by their tenants."""
    listed = {u for u in truth.dataset["visibility"][user]["service_settings"] if truth.settings[u]["type"] == "OpenStack"}
    from_tenants = {truth.tenants[t]["service_settings_uuid"] for t in truth.visible_tenants(user)}
    return listed | from_tenants


def expected_rows(truth, providers, shared=None):
    """{name: (running, created)} over ``providers`` as the server counts them."""
    if shared is not None:
        providers = {u for u in providers if bool(truth.settings[u]["shared"]) == shared}
    rows = {}
    for name, usage in truth.dataset["usage_stats"].items():
        counted = [usage["by_settings"].get(u, {"running": 0, "created": 0}) for u in providers]
        rows[name] = (sum(c["running"] for c in counted), sum(c["created"] for c in counted))
    return rows


def as_rows(result):
    assert not result.get("failed"), result.get("msg")
    return {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in result["stats"]}


# Paging and counting are module_utils' logic; the runs on other ansible-core versions run the module in the tests below.
@pytest.mark.core_independent
@pytest.mark.parametrize("user", ["staff", "user"])
def test_every_row_over_every_page_equals_the_truth(emulator, truth, run_cases, user):
    providers = openstack_settings(truth, user)
    one = sorted(providers)[0]
    one_name = truth.settings[one]["name"]
    cases = [
        ({}, expected_rows(truth, providers)),
        ({"page_size": 7, "max_workers": 3}, expected_rows(truth, providers)),
        ({"service_provider": [one_name]}, expected_rows(truth, {one})),
        ({"service_provider": [one.upper()]}, expected_rows(truth, {one})),
        ({"service_provider": ["https://proxy/api/service-settings/%s/" % one, one_name]}, expected_rows(truth, {one})),
    ]
    results, _output = run_cases(MODULE, [case for case, _expected in cases], ansible_environment(emulator, user))
    for (case, expected), result in zip(cases, results):
        assert as_rows(result) == expected, case
        assert len(result["stats"]) == len(truth.dataset["usage_stats"]) > 300
        assert result["totals"] == {"images": len(expected), "running_instances": sum(r for r, _created in expected.values()),
                                    "created_instances": sum(c for _running, c in expected.values())}
    assert {row["uuid"] for row in results[0]["service_providers"]} == providers


def test_sorting_filters_and_images(emulator, truth, run_cases):
    providers = openstack_settings(truth, "user")
    everything = expected_rows(truth, providers)
    cases = [
        {"sort_by": "running", "order": "desc"},
        {"sort_by": "created"},
        {"name": "UBUNTU"},
        {"name_exact": "debian-12", "include_images": True},
        {"order": "desc"},
    ]
    results, _output = run_cases(MODULE, cases, ansible_environment(emulator, "user"))
    by_running = [row["name"] for row in results[0]["stats"]]
    assert by_running == sorted(everything, key=lambda n: (everything[n][0], n), reverse=True)
    assert [row["name"] for row in results[1]["stats"]] == sorted(everything, key=lambda n: (everything[n][1], n))
    assert as_rows(results[2]) == {n: v for n, v in everything.items() if "ubuntu" in n.lower()}
    debian = results[3]["stats"]
    assert [row["name"] for row in debian] == ["debian-12"]
    visible = set(truth.all_visible("user"))
    expected_images = {u for u, image in truth.images.items()
                       if image["name"] == "debian-12" and u in visible and image["settings_uuid"] in providers}
    assert {image["uuid"] for image in debian[0]["images"]} == expected_images and expected_images
    for image in debian[0]["images"]:
        assert image["min_disk"] == truth.images[image["uuid"]]["min_disk"]
        assert image["settings_name"] == truth.settings[image["settings_uuid"]]["name"]
    assert [row["name"] for row in results[4]["stats"]] == sorted(everything, reverse=True)


def test_shared_counts_only_shared_settings(run_cases):
    dataset = generate_dataset(images=150, tenants=6, settings=4, seed=3)
    with WaldurEmulator(dataset, port=0) as server:
        truth = Truth(with_truth(server.dataset))
        providers = openstack_settings(truth, "staff")
        assert any(truth.settings[u]["shared"] for u in providers), "the data set needs a shared OpenStack settings"
        results, _output = run_cases(MODULE, [{"shared": True}, {"shared": False}], ansible_environment(server, "staff"))
    assert as_rows(results[0]) == expected_rows(truth, providers, shared=True)
    assert as_rows(results[1]) == expected_rows(truth, providers, shared=False)
    assert sum(r for r, _created in as_rows(results[0]).values()) > 0


BAD_INPUTS = [
    ({"service_provider": ["no-such-cloud"]}, "service_provider: no service settings named 'no-such-cloud' is visible"),
    ({"service_provider": ["0" * 32]}, "service_provider: '%s' matches no OpenStack service settings visible to this user "
                                       "(the server would silently answer zeros); valid: cloud-" % ("0" * 32)),
    ({"service_provider": ["https://w/api/projects/%s/" % ("0" * 32)]}, "service_provider: 'https://w/api/projects/"),
    ({"service_provider": [" "]}, "service_provider: is empty"),
    ({"sort_by": "popularity"}, "value of sort_by must be one of: name, running, created"),
    ({"order": "up"}, "value of order must be one of: asc, desc"),
    ({"page_size": 500}, "page_size: 500 is out of range"),
]


def test_bad_input_fails_with_a_message_naming_the_option(emulator, run_cases):
    results, _output = run_cases(MODULE, [case for case, _expected in BAD_INPUTS], ansible_environment(emulator, "staff"))
    for (case, message), result in zip(BAD_INPUTS, results):
        assert result.get("failed") is True, case
        assert message in result["msg"], (case, result["msg"])
        assert "stats" not in result


def test_check_mode_reports_the_same(emulator, truth, run_cases):
    results, _output = run_cases(MODULE, [{"name": "debian"}], ansible_environment(emulator, "staff"), extra_args=["--check"])
    providers = openstack_settings(truth, "staff")
    assert as_rows(results[0]) == {n: v for n, v in expected_rows(truth, providers).items() if "debian" in n.lower()}

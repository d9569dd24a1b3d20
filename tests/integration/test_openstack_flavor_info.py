"""openstack_flavor_info through ansible-playbook against the emulator, compared with its truth."""
from __future__ import annotations

import collections

import pytest

from tests.integration.harness import ansible_environment, assert_cases_list, listed_uuids

MODULE = "waldur.cloud.openstack_flavor_info"
FLAVORS = "/api/openstack-flavors/"


def uuids(result):
    return listed_uuids(result, "flavors")


def list_cases(truth, user):
    """(case, expected uuids in order) for every filter, as ``user`` sees them."""
    visible = list(truth.dataset["visibility"][user]["flavors"])
    flavor = {row["uuid"]: row for row in truth.dataset["flavors"]}
    names = collections.Counter(truth.tenants[u]["name"] for u in truth.visible_tenants(user))
    tenant = next(truth.tenants[u] for u in truth.visible_tenants(user) if names[truth.tenants[u]["name"]] == 1)
    settings_uuid = tenant["service_settings_uuid"]
    in_settings = [u for u in visible if flavor[u]["settings_uuid"] == settings_uuid]
    in_tenant = [u for u in visible if tenant["uuid"] in flavor[u]["tenant_uuids"]]

    def tie_break(uuid):
        row = flavor[uuid]
        return (row["ram"], row["cores"], row["disk"], row["name"], row["settings_uuid"], uuid)

    return [
        ({}, visible),
        ({"name": " M1.SMA "}, [u for u in visible if "m1.sma" in flavor[u]["name"].lower()]),
        ({"name_exact": "m1.small"}, [u for u in visible if flavor[u]["name"] == "m1.small"]),
        ({"name_iregex": r"^M1\.(tiny|small)$"}, [u for u in visible if flavor[u]["name"] in ("m1.tiny", "m1.small")]),
        ({"settings": truth.settings[settings_uuid]["name"]}, in_settings),
        ({"settings_uuid": settings_uuid}, in_settings),
        ({"settings": "https://proxy.internal/api/service-settings/%s/" % settings_uuid}, in_settings),
        ({"tenant": tenant["name"]}, in_tenant),
        ({"tenant_uuid": tenant["uuid"]}, in_tenant),
        ({"tenant": "https://waldur.example.com/api/openstack-tenants/%s/" % tenant["uuid"]}, in_tenant),
        ({"ram_min": "4G"}, [u for u in visible if flavor[u]["ram"] >= 4096]),
        ({"ram_max": "2 GiB", "cores": 1}, [u for u in visible if flavor[u]["ram"] <= 2048 and flavor[u]["cores"] == 1]),
        ({"ram": 2048}, [u for u in visible if flavor[u]["ram"] == 2048]),
        ({"disk": 0}, [u for u in visible if flavor[u]["disk"] == 0]),
        ({"disk_min": "20G", "disk_max": "40G"}, [u for u in visible if 20480 <= flavor[u]["disk"] <= 40960]),
        ({"cores_min": 2, "cores_max": 4}, [u for u in visible if 2 <= flavor[u]["cores"] <= 4]),
        ({"uuid": visible[3]}, [visible[3]]),
        ({"uuid": "0" * 32}, []),
        ({"name": "m1", "page_size": 2, "max_workers": 3}, [u for u in visible if "m1" in flavor[u]["name"].lower()]),
        ({"sort_by": "ram", "order": "desc"}, sorted(visible, key=lambda u: (-flavor[u]["ram"],) + tie_break(u))),
        ({"sort_by": "name", "limit": 2}, sorted(visible, key=lambda u: (flavor[u]["name"],) + tie_break(u))[:2]),
    ]


# Every filter is module_utils' logic; the runs on other ansible-core versions run the module in the tests below.
@pytest.mark.core_independent
@pytest.mark.parametrize("user", ["staff", "user"])
def test_every_filter_matches_the_truth(emulator, truth, run_cases, user):
    assert_cases_list(run_cases, MODULE, "flavors", list_cases(truth, user), ansible_environment(emulator, user))


def test_check_mode_lists_the_same(emulator, truth, run_cases):
    results, _output = run_cases(MODULE, [{"disk": 0}], ansible_environment(emulator), extra_args=["--check"])
    assert uuids(results[0]) == [u for u in truth.dataset["visibility"]["staff"]["flavors"]
                                 if next(f for f in truth.dataset["flavors"] if f["uuid"] == u)["disk"] == 0]


def test_a_name_exact_with_spaces_is_matched_exactly_with_a_warning(emulator, run_cases):
    # The server strips the value and would return every "m1.small"; none is named " m1.small".
    results, completed = run_cases(MODULE, [{"name_exact": " m1.small"}, {"name_exact": "m1.small"}],
                                   ansible_environment(emulator))
    assert uuids(results[0]) == []
    assert uuids(results[1])
    assert "white space, which the Waldur server strips" in completed.stdout + completed.stderr


BAD_INPUTS = [
    ({"name_iregex": "("}, "name_iregex", "not a valid regular expression"),
    ({"name_iregex": "a{2"}, "name_iregex", "not closed"),
    ({"ram_min": "4GB"}, "ram_min", "ambiguous"),
    ({"disk": -1}, "disk", "negative"),
    ({"cores": -2}, "cores", "number of cores"),
    ({"ram_min": "8G", "ram_max": "4G"}, "ram_min", "swap them"),
    ({"uuid": "0" * 32, "name": "m1"}, "uuid", "cannot be combined"),
    ({"tenant": "t", "tenant_uuid": "0" * 32}, "tenant", "cannot be combined with tenant_uuid"),
    ({"settings_uuid": "cloud-a"}, "settings_uuid", "not a uuid"),
    ({"sort_by": "ram", "limit": 0}, "limit", "at least 1"),
]


def test_bad_inputs_fail_before_any_flavor_request(emulator, run_cases):
    emulator.reset_requests()
    results, _output = run_cases(MODULE, [case for case, _option, _words in BAD_INPUTS], ansible_environment(emulator))
    for (case, option, words), result in zip(BAD_INPUTS, results):
        assert result["failed"] is True, case
        assert result["option"] == option, case
        assert words in result["msg"], case
    assert emulator.request_count(path=FLAVORS) == 0


def test_a_server_failing_on_a_regex_is_an_error_naming_the_option(emulator, run_cases):
    # PostgreSQL and Python disagree on some patterns: this one passes the local check, the server fails.
    emulator.add_fault(kind="html", status=500, path=FLAVORS, count=None)
    try:
        results, _output = run_cases(MODULE, [{"name_iregex": "m1", "retries": 0}], ansible_environment(emulator))
    finally:
        emulator.clear_faults()
    assert results[0]["failed"] is True
    assert results[0]["option"] == "name_iregex"
    assert "500" in results[0]["msg"]
    assert "flavors" not in results[0]

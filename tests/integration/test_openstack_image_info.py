"""openstack_image_info through ansible-playbook against the emulator, compared with its truth."""
from __future__ import annotations

import collections
import json

import pytest

from tests.integration.harness import ansible_environment, assert_cases_list, listed_uuids

MODULE = "waldur.cloud.openstack_image_info"


def uuids(result):
    return listed_uuids(result, "images")


def unique_name(rows):
    """A name that only one of ``rows`` has."""
    counts = collections.Counter(row["name"] for row in rows)
    return next(row for row in rows if counts[row["name"]] == 1)


def list_cases(truth, user):
    """(case, expected uuids in order) for every filter, as ``user`` sees them."""
    default = truth.default_list(user)
    image = truth.images
    tenant = unique_name([truth.tenants[u] for u in truth.visible_tenants(user)])
    settings_uuid = tenant["service_settings_uuid"]
    settings_name = truth.settings[settings_uuid]["name"]
    offering = next(row for row in truth.dataset["offerings"] if row.get("tenant_uuid") == tenant["uuid"]) \
        if any(row.get("tenant_uuid") == tenant["uuid"] for row in truth.dataset["offerings"]) else None
    in_tenant = [u for u in default if tenant["uuid"] in image[u]["tenant_uuids"]]
    cases = [
        ({}, default),
        ({"name": "UBUNTU"}, [u for u in default if "ubuntu" in image[u]["name"].lower()]),
        ({"name_exact": "debian-12"}, [u for u in default if image[u]["name"] == "debian-12"]),
        ({"settings": settings_name}, [u for u in default if image[u]["settings_uuid"] == settings_uuid]),
        ({"settings_uuid": settings_uuid}, [u for u in default if image[u]["settings_uuid"] == settings_uuid]),
        ({"settings": "https://proxy.internal/api/service-settings/%s/" % settings_uuid},
         [u for u in default if image[u]["settings_uuid"] == settings_uuid]),
        ({"tenant": tenant["name"]}, in_tenant),
        ({"tenant_uuid": tenant["uuid"]}, in_tenant),
        ({"tenant": "https://waldur.example.com/api/openstack-tenants/%s/" % tenant["uuid"]}, in_tenant),
        ({"show_duplicate_names": True}, truth.all_visible(user)),
        ({"show_duplicate_names": True, "name": "ubuntu", "settings_uuid": settings_uuid},
         [u for u in truth.all_visible(user) if "ubuntu" in image[u]["name"].lower() and image[u]["settings_uuid"] == settings_uuid]),
        ({"is_rescue_image": True}, [u for u in default if image[u]["is_rescue_image"]]),
        ({"uuid": default[3]}, [default[3]]),
        ({"name": "ubuntu", "page_size": 7, "max_workers": 3}, [u for u in default if "ubuntu" in image[u]["name"].lower()]),
        ({"name": "no image has this name"}, []),
    ]
    if offering is not None:
        cases.append(({"offering_uuid": offering["uuid"]}, in_tenant))
    return cases


# Every filter is module_utils' logic; the runs on other ansible-core versions run the module in the tests below.
@pytest.mark.core_independent
@pytest.mark.parametrize("user", ["staff", "user"])
def test_every_filter_matches_the_truth(emulator, truth, run_cases, user):
    assert_cases_list(run_cases, MODULE, "images", list_cases(truth, user), ansible_environment(emulator, user))


def test_images_are_returned_as_the_server_sends_them(emulator, truth, run_cases):
    uuid = truth.default_list("staff")[0]
    results, _output = run_cases(MODULE, [{"uuid": uuid.upper()}], ansible_environment(emulator))
    image = results[0]["images"][0]
    assert set(image) == {"url", "uuid", "name", "min_disk", "min_ram", "settings", "backend_id", "backend_created_at",
                          "hw_rescue_device", "hw_rescue_bus", "is_rescue_image"}
    assert image["url"] == "%s/api/openstack-images/%s/" % (emulator.url, uuid)
    assert image["min_disk"] == truth.images[uuid]["min_disk"]


def test_missing_and_invisible_images_are_empty_not_failures(emulator, truth, run_cases):
    invisible = next(u for u in truth.default_list("staff") if u not in truth.all_visible("user"))
    results, _output = run_cases(MODULE, [{"uuid": "0" * 32}, {"uuid": invisible}], ansible_environment(emulator, "user"))
    assert [uuids(r) for r in results] == [[], []]


def test_name_exact_with_surrounding_space_warns_and_finds_it(emulator, truth, run_cases):
    named = [u for u in truth.default_list("staff") if truth.images[u]["name"] == " leading space"]
    results, completed = run_cases(MODULE, [{"name_exact": " leading space"}], ansible_environment(emulator))
    assert uuids(results[0]) == named and named
    assert "white space, which the Waldur server strips" in completed.stdout + completed.stderr


def test_settings_by_name_works_for_a_user_who_sees_no_settings(emulator, truth, run_cases):
    user_tenants = [truth.tenants[u] for u in truth.visible_tenants("user")]
    hidden = [t for t in user_tenants if t["service_settings_uuid"] not in truth.dataset["visibility"]["user"]["service_settings"]]
    assert hidden, "the data set should have a tenant on settings the user cannot list"
    settings_uuid = hidden[0]["service_settings_uuid"]
    expected = [u for u in truth.default_list("user") if truth.images[u]["settings_uuid"] == settings_uuid]
    results, _output = run_cases(MODULE, [{"settings": truth.settings[settings_uuid]["name"]}], ansible_environment(emulator, "user"))
    assert uuids(results[0]) == expected


BAD_INPUTS = [
    ({"uuid": "not-a-uuid"}, "uuid: 'not-a-uuid' is not a uuid"),
    ({"page_size": 0}, "page_size: 0 is out of range; use a whole number from 1 to 300"),
    ({"page_size": 301}, "page_size: 301 is out of range"),
    ({"max_workers": 0}, "max_workers: 0 must be a whole number of at least 1"),
    ({"uuid": "0" * 32, "name": "ubuntu"}, "uuid: cannot be combined with the list filters name"),
    ({"settings_uuid": "cloud-a"}, "settings_uuid: 'cloud-a' is not a uuid"),
    ({"tenant": "no-such-tenant"}, "tenant: no tenant named 'no-such-tenant' is visible to this user; visible: "),
    ({"settings": "no-such-cloud"}, "settings: no service settings named 'no-such-cloud' is visible"),
    ({"show_duplicate_names": True, "tenant_uuid": "0" * 32}, "show_duplicate_names: cannot be combined with tenant_uuid"),
    ({"api_url": "ftp://waldur.example.com"}, "api_url: 'ftp://waldur.example.com' is not an http:// or https:// URL"),
    ({"api_token": "  "}, "api_token: is empty (from the api_token option)"),
    ({"timeout": -1}, "timeout: -1.0 must be a number of seconds above 0"),
    ({"auth_scheme": "Basic"}, "value of auth_scheme must be one of: Token, Bearer"),
]


def test_bad_input_fails_with_a_message_naming_the_option(emulator, run_cases):
    results, _output = run_cases(MODULE, [case for case, _expected in BAD_INPUTS], ansible_environment(emulator))
    for (case, message), result in zip(BAD_INPUTS, results):
        assert result.get("failed") is True, case
        assert message in result["msg"], (case, result["msg"])
        assert "images" not in result


def test_a_wrong_token_fails_naming_its_source_and_hiding_it(emulator, run_cases, run_playbook, tmp_path):
    wrong = "f" * 40
    results, _output = run_cases(MODULE, [{}], ansible_environment(emulator, WALDUR_API_TOKEN=wrong))
    assert "WALDUR_API_TOKEN environment variable" in results[0]["msg"] and "Invalid token." in results[0]["msg"]
    completed = run_playbook("""
- hosts: localhost
  gather_facts: false
  tasks:
    - waldur.cloud.openstack_image_info:
        api_token: "%s"
      ignore_errors: true
      register: outcome
    - ansible.builtin.copy:
        content: "{{ outcome.msg }}"
        dest: "%s"
""" % (wrong, tmp_path / "msg.txt"), ansible_environment(emulator), extra_args=["-vvvv"])
    assert "rejected the API token from the api_token option" in (tmp_path / "msg.txt").read_text()
    assert wrong not in completed.stdout + completed.stderr


def test_an_unreachable_server_is_a_clear_failure(run_cases):
    environment = ansible_environment(WALDUR_API_URL="http://127.0.0.1:9", WALDUR_API_TOKEN="a" * 40)
    results, _output = run_cases(MODULE, [{"retries": 0}], environment)
    assert results[0]["failed"] is True
    assert "could not get http://127.0.0.1:9/api/openstack-images/" in results[0]["msg"]


def test_check_mode_gives_the_same_images(emulator, truth, run_cases):
    results, _output = run_cases(MODULE, [{"name": "debian"}], ansible_environment(emulator), extra_args=["--check"])
    assert uuids(results[0]) == [u for u in truth.default_list("staff") if "debian" in truth.images[u]["name"].lower()]


def test_module_defaults_group_sets_the_connection(emulator, truth, tmp_path, run_playbook):
    run_playbook("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/waldur.cloud.waldur:
      api_url: "%s"
      api_token: "%s"
  tasks:
    - waldur.cloud.openstack_image_info:
        name_exact: debian-12
      register: found
    - ansible.builtin.copy:
        content: "{{ found.images | map(attribute='uuid') | list | to_json }}"
        dest: "%s"
""" % (emulator.url, emulator.tokens["user"], tmp_path / "out.json"), ansible_environment())
    assert json.loads((tmp_path / "out.json").read_text()) == [
        u for u in truth.default_list("user") if truth.images[u]["name"] == "debian-12"]

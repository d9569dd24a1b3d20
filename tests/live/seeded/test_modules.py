"""The three modules through ansible-playbook against the real Waldur, compared with its database."""
from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.integration.harness import ansible_environment, listed_uuids, literal
from tests.waldur_server.hostile import HOSTILE_NAMES

USERS = ("staff", "owner", "member")


def by_uuid(seeded, kind):
    return {item["uuid"]: item for item in seeded[kind]}


def in_name_order(seeded, kind, uuids):
    """``uuids`` in the server's order: by name in byte order (PostgreSQL's C collation); ties by uuid."""
    items = by_uuid(seeded, kind)
    return sorted(uuids, key=lambda uuid: (items[uuid]["name"].encode("utf-8"), uuid))


def tie_groups(seeded, kind, uuids):
    """The listing as (name, set of uuids) per run of equal names: the order within a run is undefined."""
    items = by_uuid(seeded, kind)
    groups = []
    for uuid in uuids:
        name = items[uuid]["name"]
        if groups and groups[-1][0] == name:
            groups[-1][1].add(uuid)
        else:
            groups.append((name, {uuid}))
    return groups


@pytest.mark.parametrize("user", USERS)
def test_image_info_lists_what_waldur_lets_each_user_see(run_cases, small, seeded, truth, user):
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{}], ansible_environment(small, user))
    images = results[0]["images"]
    expected = in_name_order(seeded, "images", truth["visible"][user]["images"])
    assert tie_groups(seeded, "images", listed_uuids(results[0], "images")) == tie_groups(seeded, "images", expected)
    stored = by_uuid(seeded, "images")
    for image in images:
        row = stored[image["uuid"]]
        assert (image["name"], image["min_disk"], image["min_ram"]) == (row["name"], row["min_disk"], row["min_ram"])


def test_image_filters_by_tenant_settings_and_exact_hostile_names(run_cases, small, seeded, truth):
    visible = truth["visible"]["member"]["images"]
    images = seeded["images"]
    cases = []
    for tenant in seeded["tenants"]:
        if tenant["uuid"] in truth["visible"]["member"]["tenants"]:
            linked = [i["uuid"] for i in images if tenant["uuid"] in i["tenant_uuids"] and i["uuid"] in visible]
            cases.append(({"tenant_uuid": tenant["uuid"]}, in_name_order(seeded, "images", linked)))
    for settings in seeded["service_settings"]:
        of_settings = [i["uuid"] for i in images if i["settings_uuid"] == settings["uuid"] and i["uuid"] in visible]
        cases.append(({"settings_uuid": settings["uuid"]}, in_name_order(seeded, "images", of_settings)))
    for name in HOSTILE_NAMES:
        exact = [i["uuid"] for i in images if i["name"] == name and i["uuid"] in visible]
        cases.append(({"name_exact": literal(name)}, in_name_order(seeded, "images", exact)))
    assert all(expected for _arguments, expected in cases[:2])
    results, _output = run_cases("waldur.cloud.openstack_image_info", [arguments for arguments, _expected in cases],
                                 ansible_environment(small, "member"))
    for (arguments, expected), result in zip(cases, results):
        listed = listed_uuids(result, "images")
        assert tie_groups(seeded, "images", listed) == tie_groups(seeded, "images", expected), arguments


@pytest.mark.parametrize("user", USERS)
def test_flavor_info_lists_what_waldur_lets_each_user_see(run_cases, small, seeded, truth, user):
    results, _output = run_cases("waldur.cloud.openstack_flavor_info", [{}], ansible_environment(small, user))
    assert Counter(listed_uuids(results[0], "flavors")) == Counter(truth["visible"][user]["flavors"])
    stored = by_uuid(seeded, "flavors")
    for flavor in results[0]["flavors"]:
        row = stored[flavor["uuid"]]
        assert [flavor[key] for key in ("name", "cores", "ram", "disk")] == [row[key] for key in ("name", "cores", "ram", "disk")]


def test_flavor_info_by_tenant(run_cases, small, seeded, truth):
    cases = []
    for tenant in seeded["tenants"]:
        linked = {f["uuid"] for f in seeded["flavors"] if tenant["uuid"] in f["tenant_uuids"]}
        cases.append(({"tenant_uuid": tenant["uuid"]}, linked))
    results, _output = run_cases("waldur.cloud.openstack_flavor_info", [arguments for arguments, _linked in cases],
                                 ansible_environment(small, "staff"))
    for (arguments, linked), result in zip(cases, results):
        assert set(listed_uuids(result, "flavors")) == linked, arguments
    assert any(linked for _arguments, linked in cases) and any(not linked for _arguments, linked in cases)


def openstack_settings_of(small, seeded, truth, user):
    """The OpenStack settings whose counts a user gets: listed to them by the server, or named by their tenants."""
    listed = requests.get(small.url + "/api/service-settings/", params={"type": "OpenStack", "field": "uuid"},
                          headers={"Authorization": "Token " + small.tokens[user]}, timeout=30).json()
    tenants = {t["uuid"]: t for t in seeded["tenants"]}
    return {row["uuid"] for row in listed} | {tenants[t]["service_settings_uuid"] for t in truth["visible"][user]["tenants"]}


@pytest.mark.parametrize("user", USERS)
def test_image_stats_count_as_waldur_counts(run_cases, small, seeded, truth, user):
    providers = openstack_settings_of(small, seeded, truth, user)
    results, _output = run_cases("waldur.cloud.openstack_image_stats", [{}], ansible_environment(small, user))
    assert not results[0].get("failed"), results[0].get("msg")
    rows = {row["name"]: [row["running_instances_count"], row["created_instances_count"]] for row in results[0]["stats"]}
    expected = {name: [sum(by_settings[s][index] for s in providers if s in by_settings) for index in (0, 1)]
                for name, by_settings in truth["image_usage"].items()}
    assert rows == expected
    assert len(results[0]["stats"]) == len(expected)
    assert any(created for _running, created in expected.values())

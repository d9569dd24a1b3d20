"""Tenants and service settings: objects, field selection, filters."""

from __future__ import annotations

import pytest

from tests.emulator.client import fetch, fetch_all
from tests.emulator.store import SETTINGS_FIELDS, TENANT_FIELDS


def test_tenant_objects(emu, dataset700):
    items, _replies = fetch_all(emu.url, "/api/openstack-tenants/", emu.tokens["staff"])
    settings = {s["uuid"]: s for s in dataset700["service_settings"]}
    projects = {p["uuid"]: p for p in dataset700["projects"]}
    for item in items:
        assert tuple(item) == TENANT_FIELDS
        assert item["service_name"] == settings[item["service_settings_uuid"]]["name"]
        assert item["project_name"] == projects[item["project_uuid"]]["name"]
        assert item["url"] == "%s/api/openstack-tenants/%s/" % (emu.url, item["uuid"])
    names = [item["name"] for item in items]
    assert len(names) != len(set(names)), "tenant names are not unique in the data set"
    prods = [item for item in items if item["name"] == "prod"]
    assert len({item["service_settings_uuid"] for item in prods}) == len(prods) >= 2


def test_tenant_field_selection(emu, dataset700):
    reply = fetch(emu.url, "/api/openstack-tenants/?field=name&field=uuid&field=service_settings_uuid&field=bogus",
                  emu.tokens["user"])
    assert reply.status == 200
    for item in reply.json():
        assert list(item) == ["uuid", "name", "service_settings_uuid"]
    uuid = dataset700["visibility"]["user"]["tenants"][0]
    reply = fetch(emu.url, "/api/openstack-tenants/%s/?field=uuid&field=service_name" % uuid, emu.tokens["user"])
    assert list(reply.json()) == ["uuid", "service_name"] and reply.json()["uuid"] == uuid


@pytest.mark.parametrize("key", ["service_settings_uuid", "project_uuid", "customer_uuid"])
def test_tenant_filters(emu, dataset700, key):
    projects = {p["uuid"]: p for p in dataset700["projects"]}
    tenants = dataset700["tenants"]
    value = {"service_settings_uuid": tenants[0]["service_settings_uuid"], "project_uuid": tenants[0]["project_uuid"],
             "customer_uuid": projects[tenants[0]["project_uuid"]]["customer_uuid"]}[key]

    def keep(tenant):
        if key == "customer_uuid":
            return projects[tenant["project_uuid"]]["customer_uuid"] == value
        return tenant[key] == value

    items, _replies = fetch_all(emu.url, "/api/openstack-tenants/?%s=%s&field=uuid" % (key, value), emu.tokens["staff"])
    assert sorted(item["uuid"] for item in items) == sorted(t["uuid"] for t in tenants if keep(t))
    bad = fetch(emu.url, "/api/openstack-tenants/?%s=nope" % key, emu.tokens["staff"])
    assert bad.status == 400 and bad.json() == {key: ["Enter a valid UUID."]}


def test_settings_objects_and_type_filter(emu, dataset700):
    reply = fetch(emu.url, "/api/service-settings/?type=OpenStack&field=uuid&field=name", emu.tokens["staff"])
    assert reply.status == 200
    expected = sorted((s["name"], s["uuid"]) for s in dataset700["service_settings"] if s["type"] == "OpenStack")
    assert [(item["name"], item["uuid"]) for item in reply.json()] == expected
    assert all(list(item) == ["uuid", "name"] for item in reply.json())
    everything = fetch(emu.url, "/api/service-settings/", emu.tokens["staff"]).json()
    assert {item["type"] for item in everything} == {"OpenStack", "SLURM"}
    for item in everything:
        assert tuple(item) == SETTINGS_FIELDS
    bad = fetch(emu.url, "/api/service-settings/?type=openstack", emu.tokens["staff"])
    assert bad.status == 400
    assert bad.json() == {"type": ["Select a valid choice. openstack is not one of the available choices."]}


def test_staff_settings_retrieve_carries_credentials_like_the_real_one(emu, dataset700):
    sett = dataset700["service_settings"][0]
    reply = fetch(emu.url, "/api/service-settings/%s/" % sett["uuid"], emu.tokens["staff"])
    assert reply.status == 200
    assert reply.json()["options"]["password"] == sett["options"]["password"]
    reply = fetch(emu.url, "/api/service-settings/%s/?field=uuid&field=name" % sett["uuid"], emu.tokens["staff"])
    assert reply.json() == {"uuid": sett["uuid"], "name": sett["name"]}


def test_settings_filters(emu, dataset700):
    shared = fetch(emu.url, "/api/service-settings/?shared=true", emu.tokens["staff"]).json()
    assert {item["uuid"] for item in shared} == {s["uuid"] for s in dataset700["service_settings"] if s["shared"]}
    named = fetch(emu.url, "/api/service-settings/?name=CLOUD-B", emu.tokens["staff"]).json()
    assert [item["name"] for item in named] == ["cloud-b"]
    owner = next(s for s in dataset700["service_settings"] if s["customer_uuid"])
    owned = fetch(emu.url, "/api/service-settings/?customer_uuid=%s" % owner["customer_uuid"], emu.tokens["staff"]).json()
    assert owner["uuid"] in {item["uuid"] for item in owned}


def test_detail_allow_header_and_methods(emu, dataset700):
    tenant = dataset700["tenants"][0]["uuid"]
    reply = fetch(emu.url, "/api/openstack-tenants/%s/" % tenant, emu.tokens["staff"])
    assert reply.header("Allow") == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
    # Lists allow POST (Waldur creates tenants and settings there), unlike the image list.
    for path in ("/api/openstack-tenants/", "/api/service-settings/"):
        assert fetch(emu.url, path, emu.tokens["staff"]).header("Allow") == "GET, POST, HEAD, OPTIONS"
    settings = dataset700["service_settings"][0]["uuid"]
    reply = fetch(emu.url, "/api/service-settings/%s/" % settings, emu.tokens["staff"])
    assert reply.header("Allow") == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"

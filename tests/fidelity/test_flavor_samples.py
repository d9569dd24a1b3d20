"""Fidelity: the flavors endpoint answers like the recorded real server (samples 70-89).

The emulator serves the recorded data itself: the 18 flavors of sample 71 on the three settings
of the recording, linked to tenants as the recorded lists of ``user`` (tenants a1, b1), ``owner``
(a2, b2, c1) and of tenant b2 show them.  Each recorded request is replayed and the answer must
be the recorded one byte for byte, except where the server's order is undefined (``o=`` ties,
usage_stats rows).
"""

from __future__ import annotations

import json

import pytest

from tests.emulator import WaldurEmulator
from tests.emulator.client import fetch
from tests.fidelity.test_samples import SAMPLE_BASE, Sample, assert_same_headers, assert_same_links

# settings of the recording by uuid prefix
SETTINGS = {"e7a0a7": "cloud-a", "1d79f5": "cloud-b", "baabef": "cloud-c"}
TENANT_B2 = "c07f29e91e9e4151ab7b42d7762e90a6"
# tenant: (settings name, flavors by name prefix of uuid), deduced from samples 72, 77, 86 and 87.
TENANT_LINKS = {
    "698b368adf624509ba3268e389742938": ("a1", ("4f1ba59e", "dbc23a10", "eb6305c5", "fe386bcb", "7f639b12", "07e50452",
                                                "af226af8", "61ce4f55")),
    "1b7e0b1c55a94d3c8a0f6a5e4d3c2b1a": ("a2", ("4f1ba59e", "dbc23a10", "eb6305c5", "fe386bcb", "7f639b12", "07e50452",
                                                "af226af8", "85318ec8")),
    "2c8f1c2d66b04e4d9b1a7b6f5e4d3c2b": ("b1", ("008a2f1a", "8424e249", "595eb807", "3d4832a0")),
    TENANT_B2: ("b2", ("008a2f1a", "8424e249", "595eb807", "9666dbae", "3d4832a0")),
    "3d9a2d3e77c14f5eac2b8c7a6f5e4d3c": ("c1", ("bb67882e", "ffa51dfa", "3bbe5d37")),
}
USER_TENANTS = ("a1", "b1")
OWNER_TENANTS = ("a2", "b2", "c1")


def recorded_dataset(samples_dir):
    flavors = []
    settings_uuids = {}
    for item in Sample(samples_dir, "71-flavors-list-ps300").json():
        settings_uuid = item["settings"].rstrip("/").rsplit("/", 1)[1]
        settings_uuids.setdefault(settings_uuid[:6], settings_uuid)
        flavors.append({
            "uuid": item["uuid"], "name": item["name"], "settings_uuid": settings_uuid, "cores": item["cores"],
            "ram": item["ram"], "disk": item["disk"], "backend_id": item["backend_id"],
            "tenant_uuids": [tenant for tenant, (_name, linked) in TENANT_LINKS.items() if item["uuid"][:8] in linked],
        })
    settings = [{"uuid": uuid, "name": SETTINGS[prefix]} for prefix, uuid in settings_uuids.items()]
    by_letter = {sett["name"][-1]: sett["uuid"] for sett in settings}
    tenants, projects = [], []
    for tenant, (name, _linked) in TENANT_LINKS.items():
        project = "%032x" % (len(projects) + 1)
        projects.append({"uuid": project, "name": "project-" + name, "customer_uuid": "%032x" % 0xC0})
        tenants.append({"uuid": tenant, "name": "tenant-" + name, "service_settings_uuid": by_letter[name[0]],
                        "project_uuid": project})
    project_of = {tenant["name"][len("tenant-"):]: tenant["project_uuid"] for tenant in tenants}
    users = [{"username": "staff", "token": "1" * 40, "is_staff": True}]
    for username, names in (("user", USER_TENANTS), ("owner", OWNER_TENANTS)):
        users.append({"username": username, "token": username[0] * 40, "project_uuids": [project_of[n] for n in names]})
    return {"format": "waldur-emulator-dataset/1", "seed": 1, "users": users,
            "customers": [{"uuid": "%032x" % 0xC0, "name": "Org"}], "projects": projects,
            "service_settings": settings, "tenants": tenants, "flavors": flavors}


@pytest.fixture(scope="module")
def recorded(samples_dir):
    with WaldurEmulator(recorded_dataset(samples_dir)) as server:
        yield server


def replay(server, name, path, samples_dir, username="staff"):
    sample = Sample(samples_dir, name)
    reply = fetch(server.url, path, server.tokens[username])
    assert reply.status == sample.status
    assert_same_headers(reply, sample)
    return reply, sample


def recorded_body(sample, server):
    return sample.body.replace(SAMPLE_BASE.encode("ascii"), server.url.encode("ascii"))


@pytest.mark.parametrize("name, path, username", [
    ("70-flavors-list-default", "/api/openstack-flavors/", "staff"),
    ("71-flavors-list-ps300", "/api/openstack-flavors/?page_size=300", "staff"),
    ("72-flavors-user", "/api/openstack-flavors/?page_size=300", "user"),
    ("73-flavors-filter-name", "/api/openstack-flavors/?name=SMALL&page_size=300", "staff"),
    ("74-flavors-filter-ram-gte", "/api/openstack-flavors/?ram__gte=8192&page_size=300", "staff"),
    ("75-flavors-filter-disk-lte", "/api/openstack-flavors/?disk__lte=20480&page_size=300", "staff"),
    ("77-flavors-filter-tenant_uuid", "/api/openstack-flavors/?tenant_uuid=%s&page_size=300" % TENANT_B2, "staff"),
    ("81-flavors-filter-settings_uuid",
     "/api/openstack-flavors/?settings_uuid=1d79f5d87e9d4a9aa03c58075e3da274&page_size=300", "staff"),
    ("83-flavors-filter-ram-decimal", "/api/openstack-flavors/?ram__gte=2048.5&page_size=300", "staff"),
    ("85-flavors-filter-tenant-url", "/api/openstack-flavors/?page_size=300&tenant=http%3A%2F%2F127.0.0.1%3A18000"
                                     "%2Fapi%2Fopenstack-tenants%2F" + TENANT_B2 + "%2F", "staff"),
    ("86-flavors-user-filter-foreign-tenant", "/api/openstack-flavors/?tenant_uuid=%s&page_size=300" % TENANT_B2, "user"),
    ("87-flavors-owner", "/api/openstack-flavors/?page_size=300", "owner"),
])
def test_lists_equal_the_recording(recorded, samples_dir, name, path, username):
    reply, sample = replay(recorded, name, path, samples_dir, username)
    assert reply.header("X-Result-Count") == sample.header("X-Result-Count")
    assert_same_links(reply, sample, recorded.url, 300 if "page_size=300" in path else 10)
    assert reply.body == recorded_body(sample, recorded)


@pytest.mark.parametrize("name, path, username", [
    ("78-flavors-retrieve", "/api/openstack-flavors/7f639b129bd246109967705c385c61bf/", "staff"),
    ("79-flavors-retrieve-nonexistent", "/api/openstack-flavors/00000000000000000000000000000000/", "staff"),
    ("80-flavors-filter-ram-not-int", "/api/openstack-flavors/?ram__gte=abc", "staff"),
    ("82-flavors-filter-name_iregex-invalid", "/api/openstack-flavors/?name_iregex=(", "staff"),
    ("84-flavors-order-invalid", "/api/openstack-flavors/?o=name", "staff"),
    # the uuid of "hpc large \u2014 64 GiB", linked only to the owner's tenant a2
    ("88-flavors-user-retrieve-invisible", "/api/openstack-flavors/85318ec8{hpc}/", "user"),
])
def test_single_answers_equal_the_recording(recorded, samples_dir, name, path, username):
    hpc = [f["uuid"] for f in Sample(samples_dir, "71-flavors-list-ps300").json() if f["uuid"].startswith("85318ec8")][0]
    path = path.replace("85318ec8{hpc}", hpc)
    reply, sample = replay(recorded, name, path, samples_dir, username)
    assert reply.body == recorded_body(sample, recorded)


def test_76_order_replaces_the_default_with_ties_undefined(recorded, samples_dir):
    reply, sample = replay(recorded, "76-flavors-order-ram", "/api/openstack-flavors/?o=ram&page_size=300", samples_dir)
    ours, theirs = reply.json(), json.loads(recorded_body(sample, recorded))
    assert [f["ram"] for f in ours] == [f["ram"] for f in theirs]
    assert sorted(ours, key=lambda f: f["uuid"]) == sorted(theirs, key=lambda f: f["uuid"])
    # Not grouped by settings any more: the default order differs.
    assert ours != fetch(recorded.url, "/api/openstack-flavors/?page_size=300", recorded.tokens["staff"]).json()


def test_89_usage_stats_lists_every_name_whatever_the_user_sees(recorded, samples_dir):
    reply, sample = replay(recorded, "89-flavors-usage_stats", "/api/openstack-flavors/usage_stats/", samples_dir, "user")
    assert reply.header("X-Result-Count") == sample.header("X-Result-Count") == "12"
    assert_same_links(reply, sample, recorded.url, 10)
    rows = reply.json()
    assert [list(row) for row in rows] == [list(row) for row in sample.json()]
    every_name = {f["name"] for f in Sample(samples_dir, "71-flavors-list-ps300").json()}
    assert {row["name"] for row in rows} <= every_name
    second = fetch(recorded.url, "/api/openstack-flavors/usage_stats/?page=2", recorded.tokens["user"])
    assert second.status == 400 and second.json() == {"service_provider": ["This field is required."]}

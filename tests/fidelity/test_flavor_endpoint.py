"""The emulator's flavors: the generated data set, its truth, and the quirks of CONTRACT.md "Flavors"."""

from __future__ import annotations

import uuid as uuidlib

import pytest

from tests.emulator import WaldurEmulator, dump_dataset, load_dataset
from tests.emulator.client import fetch

LIST = "/api/openstack-flavors/"


def listed(emu, query="", username="staff"):
    reply = fetch(emu.url, LIST + "?page_size=300" + query, emu.tokens[username])
    assert reply.status == 200, reply.body
    return reply.json()


def test_generated_flavors_have_the_recorded_variety(dataset700):
    flavors = dataset700["flavors"]
    assert any(f["disk"] == 0 for f in flavors)
    assert any(not f["tenant_uuids"] for f in flavors)
    assert any("{{" in f["name"] for f in flavors)
    specs = {}
    for flavor in flavors:
        specs.setdefault(flavor["name"], set()).add((flavor["settings_uuid"], flavor["cores"], flavor["ram"]))
    assert any(len({s for s, _c, _r in group}) > 1 and len({(c, r) for _s, c, r in group}) > 1 for group in specs.values())


@pytest.mark.parametrize("username", ["staff", "user"])
def test_lists_follow_the_truth(emu, dataset700, username):
    assert [f["uuid"] for f in listed(emu, username=username)] == dataset700["visibility"][username]["flavors"]


def test_a_flavor_linked_to_no_tenant_is_for_staff_only(emu, dataset700):
    orphan = next(f for f in dataset700["flavors"] if not f["tenant_uuids"])
    assert fetch(emu.url, LIST + orphan["uuid"] + "/", emu.tokens["staff"]).status == 200
    hidden = fetch(emu.url, LIST + orphan["uuid"] + "/", emu.tokens["user"])
    assert hidden.status == 404 and hidden.json() == {"detail": "No Flavor matches the given query."}


def test_retrieve_takes_a_dashed_upper_case_uuid(emu, dataset700):
    flavor = dataset700["flavors"][0]
    reply = fetch(emu.url, LIST + str(uuidlib.UUID(flavor["uuid"])).upper() + "/", emu.tokens["staff"])
    assert reply.status == 200 and reply.json()["uuid"] == flavor["uuid"]
    assert reply.json()["display_name"] == "%s (%d CPU, %d MB RAM, %d MB HDD)" % (
        flavor["name"], flavor["cores"], flavor["ram"], flavor["disk"])


def test_name_filters(emu, dataset700):
    names = [f["name"] for f in dataset700["flavors"]]
    assert sorted(f["name"] for f in listed(emu, "&name=%20M1.SMA%20")) == sorted(n for n in names if "m1.sma" in n.lower())
    assert {f["name"] for f in listed(emu, "&name_exact=m1.small")} == {"m1.small"}
    assert listed(emu, "&name_exact=M1.small") == []
    assert {f["name"] for f in listed(emu, "&name_iregex=%5EM1%5C.(TINY%7CSMALL)%24")} == {"m1.tiny", "m1.small"}


@pytest.mark.parametrize("pattern", ["(", "[", "a%7B2"])
def test_an_invalid_regex_is_an_html_500(emu, pattern):
    reply = fetch(emu.url, LIST + "?name_iregex=" + pattern, emu.tokens["staff"])
    assert reply.status == 500
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert b"<title>Server Error (500)</title>" in reply.body


def test_numbers_are_truncated_and_checked(emu, dataset700):
    rams = sorted(f["ram"] for f in dataset700["flavors"])
    assert sorted(f["ram"] for f in listed(emu, "&ram__lte=2048.9")) == [r for r in rams if r <= 2048]
    assert sorted(f["ram"] for f in listed(emu, "&ram=2048.5")) == [r for r in rams if r == 2048]
    assert len(listed(emu, "&cores__gte=%201e0%20")) == len(listed(emu, "&cores__gte=-5"))
    assert listed(emu, "&ram__gt=999999") == listed(emu)  # no __gt lookup: unknown, ignored
    too_big = fetch(emu.url, LIST + "?ram__gte=1e51", emu.tokens["staff"])
    assert too_big.status == 400
    assert too_big.json() == {"ram__gte": ["Ensure this value is less than or equal to 1e+50."]}
    bad = fetch(emu.url, LIST + "?cores=NaN&ram=1,024", emu.tokens["staff"])
    assert bad.status == 400 and bad.json() == {"cores": ["Enter a number."], "ram": ["Enter a number."]}


def test_scope_filters(emu, dataset700):
    sett = dataset700["service_settings"][1]["uuid"]
    tenant = dataset700["tenants"][0]["uuid"]
    in_settings = [f["uuid"] for f in listed(emu, "&settings_uuid=" + sett)]
    assert in_settings and in_settings == [u for u in dataset700["visibility"]["staff"]["flavors"]
                                           if next(f for f in dataset700["flavors"] if f["uuid"] == u)["settings_uuid"] == sett]
    assert [f["uuid"] for f in listed(emu, "&settings=" + emu.url + "/api/service-settings/%s/" % sett)] == in_settings
    assert listed(emu, "&settings_uuid=%032x&settings_uuid=%s" % (0, sett)) == listed(emu, "&settings_uuid=" + sett)
    linked = {f["uuid"] for f in dataset700["flavors"] if tenant in f["tenant_uuids"]}
    assert {f["uuid"] for f in listed(emu, "&tenant_uuid=" + tenant)} == linked
    assert {f["uuid"] for f in listed(emu, "&tenant=" + str(uuidlib.UUID(tenant)))} == linked
    assert listed(emu, "&tenant=" + emu.url + "/api/openstack-tenants/%s/" % tenant) == []
    malformed = fetch(emu.url, LIST + "?tenant_uuid=nope", emu.tokens["staff"])
    assert malformed.status == 400 and malformed.json() == {"tenant_uuid": ["Enter a valid UUID."]}


def test_ordering_replaces_the_default(emu):
    ordered = listed(emu, "&o=-cores,ram")
    assert [(-f["cores"], f["ram"]) for f in ordered] == sorted((-f["cores"], f["ram"]) for f in ordered)
    assert listed(emu, "&o=") == listed(emu)
    for value in ("name", "%20ram", "RAM"):
        reply = fetch(emu.url, LIST + "?o=" + value, emu.tokens["staff"])
        assert reply.status == 400 and list(reply.json()) == ["o"]


def test_read_only_and_paged_like_images(emu):
    post = fetch(emu.url, LIST, emu.tokens["staff"], method="POST")
    assert post.status == 405 and post.json() == {"detail": 'Method "POST" not allowed.'}
    head = fetch(emu.url, LIST, emu.tokens["staff"], method="HEAD")
    assert head.status == 200 and head.body == b"" and head.count == len(listed(emu))
    page2 = fetch(emu.url, LIST + "?page=2", emu.tokens["staff"])
    assert [f["uuid"] for f in page2.json()] == [f["uuid"] for f in listed(emu)][10:20]
    assert fetch(emu.url, LIST + "?page=9", emu.tokens["staff"]).json() == {"detail": "Invalid page."}


def test_usage_stats_count_instances_by_flavor_name(emu, dataset700):
    settings = [s["uuid"] for s in dataset700["service_settings"] if s["type"] == "OpenStack"]
    query = "".join("&service_provider=" + s for s in settings)
    reply = fetch(emu.url, "/api/openstack-flavors/usage_stats/?page_size=300" + query, emu.tokens["user"])
    rows = {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in reply.json()}
    truth = dataset700["flavor_usage_stats"]
    assert rows == {name: (row["running"], row["created"]) for name, row in truth.items()}
    assert set(rows) == {f["name"] for f in dataset700["flavors"]}


def test_dump_and_load_carry_the_flavors(dataset700, tmp_path):
    path = tmp_path / "data.json"
    dump_dataset(dataset700, path)
    loaded = load_dataset(path)
    assert loaded["flavors"] == dataset700["flavors"]
    assert loaded["visibility"] == dataset700["visibility"]
    with WaldurEmulator(loaded, unstable_ties=False) as server:
        assert [f["uuid"] for f in listed(server)] == dataset700["visibility"]["staff"]["flavors"]

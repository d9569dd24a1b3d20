"""usage_stats: a paginated list with the service_provider quirk (CONTRACT.md "usage_stats")."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch, fetch_all

BASE = "/api/openstack-images/usage_stats/"
REQUIRED = {"service_provider": ["This field is required."]}


def openstack_uuids(dataset):
    return [s["uuid"] for s in dataset["service_settings"] if s["type"] == "OpenStack"]


def rows(emu, params, user="staff"):
    items, _replies = fetch_all(emu.url, BASE + "?" + urlencode(params, doseq=True), emu.tokens[user])
    return items


def expected_counts(dataset, allowed):
    out = {}
    for name, entry in dataset["usage_stats"].items():
        running = sum(v["running"] for s, v in entry["by_settings"].items() if s in allowed)
        created = sum(v["created"] for s, v in entry["by_settings"].items() if s in allowed)
        out[name] = (running, created)
    return out


def test_truth_is_one_row_per_distinct_image_name(dataset700):
    names = {img["name"] for img in dataset700["images"]}
    assert set(dataset700["usage_stats"]) == names
    # Counts come from instances: running = ACTIVE, created = all.
    for name, entry in dataset700["usage_stats"].items():
        insts = [i for i in dataset700["instances"] if i["image_name"] == name]
        assert entry["created"] == len(insts)
        assert entry["running"] == sum(1 for i in insts if i["state"] == "ACTIVE")
    assert any(entry["running"] for entry in dataset700["usage_stats"].values())
    # An instance of a deleted image creates no row.
    assert any(i["image_name"] not in names for i in dataset700["instances"])


def test_bare_first_page(emu, dataset700):
    reply = fetch(emu.url, BASE, emu.tokens["staff"])
    assert reply.status == 200
    assert reply.count == len(dataset700["usage_stats"])
    body = reply.json()
    assert len(body) == 10
    for row in body:
        assert list(row) == ["name", "running_instances_count", "created_instances_count"]
        truth = dataset700["usage_stats"][row["name"]]
        assert (row["running_instances_count"], row["created_instances_count"]) == (truth["running"], truth["created"])
    # The advertised next page fails: any parameter makes service_provider required.
    nxt = reply.links()["next"]
    assert urlsplit(nxt).query == "page=2"
    follow = fetch(emu.url, urlsplit(nxt).path + "?" + urlsplit(nxt).query, emu.tokens["staff"])
    assert follow.status == 400
    assert follow.json() == REQUIRED


@pytest.mark.parametrize("query", ["page=1", "page=2", "page_size=300", "shared=true", "foo=bar", "page=", "service_providers=x"])
def test_any_parameter_without_service_provider_is_400(emu, query):
    reply = fetch(emu.url, BASE + "?" + query, emu.tokens["staff"])
    assert reply.status == 400
    assert reply.body == b'{"service_provider":["This field is required."]}'


def test_all_service_providers_give_the_truth(emu, dataset700):
    providers = openstack_uuids(dataset700)
    got = rows(emu, [("service_provider", p) for p in providers] + [("page_size", "300")])
    assert sorted(row["name"] for row in got) == sorted(dataset700["usage_stats"])
    expected = expected_counts(dataset700, set(providers))
    for row in got:
        assert (row["running_instances_count"], row["created_instances_count"]) == expected[row["name"]]
    assert any(row["running_instances_count"] for row in got)


def test_one_service_provider_narrows_the_counts(emu, dataset700):
    provider = openstack_uuids(dataset700)[1]
    got = rows(emu, [("service_provider", provider), ("page_size", "300")])
    expected = expected_counts(dataset700, {provider})
    assert len(got) == len(dataset700["usage_stats"])
    assert {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in got} == expected
    assert any(v != (0, 0) for v in expected.values())


def test_dashed_service_provider_is_accepted(emu, dataset700):
    provider = openstack_uuids(dataset700)[0]
    dashed = "%s-%s-%s-%s-%s" % (provider[:8], provider[8:12], provider[12:16], provider[16:20], provider[20:])
    assert rows(emu, [("service_provider", dashed), ("page_size", "300")]) == \
        rows(emu, [("service_provider", provider), ("page_size", "300")])


@pytest.mark.parametrize("provider", ["0" * 32, "not-a-uuid", ""])
def test_unknown_service_provider_zeroes_every_count(emu, dataset700, provider):
    got = rows(emu, [("service_provider", provider), ("page_size", "300")])
    assert len(got) == len(dataset700["usage_stats"])
    assert all(row["running_instances_count"] == row["created_instances_count"] == 0 for row in got)


def test_rows_are_not_sorted_by_name_but_stable(emu):
    first = rows(emu, [("service_provider", "0" * 32), ("page_size", "300")])
    second = rows(emu, [("service_provider", "0" * 32), ("page_size", "50")])
    names = [row["name"] for row in first]
    assert names == [row["name"] for row in second]
    assert names != sorted(names)


def test_not_filtered_by_visibility_nor_by_list_filters(emu, dataset700):
    provider = openstack_uuids(dataset700)[0]
    params = [("service_provider", provider), ("page_size", "300")]
    assert rows(emu, params, user="user") == rows(emu, params, user="staff")
    assert rows(emu, params + [("name", "ubuntu"), ("settings_uuid", "bad")]) == rows(emu, params)


def test_shared_narrows_to_shared_settings():
    dataset = generate_dataset(images=150, tenants=8, settings=4, seed=3)
    shared = {s["uuid"] for s in dataset["service_settings"] if s["shared"] and s["type"] == "OpenStack"}
    assert shared
    providers = openstack_uuids(dataset)
    with WaldurEmulator(dataset) as emu:
        got = rows(emu, [("service_provider", p) for p in providers] + [("shared", "true"), ("page_size", "300")])
        expected = expected_counts(dataset, shared)
        assert {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in got} == expected
        unshared = rows(emu, [("service_provider", p) for p in providers] + [("shared", "false"), ("page_size", "300")])
        assert {row["name"]: (row["running_instances_count"], row["created_instances_count"]) for row in unshared} == \
            expected_counts(dataset, set(providers))
        bad = fetch(emu.url, BASE + "?service_provider=%s&shared=maybe" % providers[0], emu.tokens["staff"])
        assert bad.status == 400 and bad.json() == {"shared": ["Must be a valid boolean."]}


def test_head_and_auth(emu):
    assert fetch(emu.url, BASE).status == 401
    head = fetch(emu.url, BASE, emu.tokens["user"], method="HEAD")
    assert head.status == 200 and head.body == b"" and head.count > 10

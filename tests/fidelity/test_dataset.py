"""The generated data set: determinism, required contents, dump/load round trip."""

from __future__ import annotations

import json
import re

import pytest

from tests.emulator import WaldurEmulator, dump_dataset, generate_dataset, load_dataset
from tests.emulator.client import fetch

HEX32 = re.compile(r"^[0-9a-f]{32}$")
TOP_KEYS = ["format", "seed", "users", "customers", "projects", "service_settings", "tenants", "offerings", "images", "flavors",
            "instances", "visibility", "usage_stats", "flavor_usage_stats"]


def test_deterministic_from_the_seed():
    assert generate_dataset(images=120, seed=5) == generate_dataset(images=120, seed=5)
    other = generate_dataset(images=120, seed=6)
    assert other["images"][0]["uuid"] != generate_dataset(images=120, seed=5)["images"][0]["uuid"]
    # tokens and settings do not depend on the image count
    assert generate_dataset(images=5, seed=5)["users"] == generate_dataset(images=120, seed=5)["users"]


def test_top_level_format(dataset700):
    assert list(dataset700) == TOP_KEYS
    assert dataset700["format"] == "waldur-emulator-dataset/1"
    assert dataset700["seed"] == 1


def test_identifiers(dataset700):
    uuids = []
    for kind in ("customers", "projects", "service_settings", "tenants", "offerings", "images", "instances"):
        for item in dataset700[kind]:
            assert HEX32.match(item["uuid"]), (kind, item["uuid"])
            uuids.append(item["uuid"])
    assert len(uuids) == len(set(uuids))
    for user in dataset700["users"]:
        assert re.match(r"^[0-9a-f]{40}$", user["token"])
    assert {u["username"]: (u["is_staff"], u["expired"]) for u in dataset700["users"]} == {
        "staff": (True, False), "user": (False, False), "expired": (False, True)}


def test_structure(dataset700):
    settings = dataset700["service_settings"]
    openstack = [s for s in settings if s["type"] == "OpenStack"]
    assert [s["name"] for s in openstack] == ["cloud-a", "cloud-b", "cloud-c"]
    assert any(s["type"] != "OpenStack" for s in settings)
    assert any(not s["shared"] and s["customer_uuid"] for s in settings)
    assert all(set(s["options"]) >= {"username", "password"} for s in openstack)
    tenants = dataset700["tenants"]
    assert len(tenants) == 12
    by_name = {}
    for tenant in tenants:
        by_name.setdefault(tenant["name"], set()).add(tenant["service_settings_uuid"])
    assert any(len(uuids) >= 2 for uuids in by_name.values())
    offerings = dataset700["offerings"]
    assert any(o["tenant_uuid"] for o in offerings) and any(o["settings_uuid"] for o in offerings)


def test_images_contents(dataset700):
    images = dataset700["images"]
    assert len(images) == 700
    names = [img["name"] for img in images]
    for wanted in ("{{ lookup('pipe', 'id') }}", " leading space", "trailing space ", "'single' \"double\" quotes", "100% pure",
                   "tab\tinside", "Ubuntu \u65e5\u672c\u8a9e", "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac", "ubuntu-22.04",
                   "debian-12", "CentOS-Stream-9", "windows-server-2022"):
        assert wanted in names, wanted
    assert names.count("{{ lookup('pipe', 'id') }}") == 1
    assert any(len(name) == 150 for name in names)
    assert any(ord(ch) > 0xFFFF for name in names for ch in name), "an emoji outside the BMP"
    assert all(0 <= img["min_disk"] <= 40960 and 0 <= img["min_ram"] <= 16384 for img in images)
    for value in (0, 10240, 40960):
        assert any(img["min_disk"] == value for img in images)
    for value in (0, 2048, 16384):
        assert any(img["min_ram"] == value for img in images)
    links = [len(img["tenant_uuids"]) for img in images]
    assert 0 in links and 1 in links and max(links) >= 2
    assert any(img["is_rescue_image"] for img in images)
    assert all(img["is_rescue_image"] == bool(img["hw_rescue_device"] or img["hw_rescue_bus"]) for img in images)
    pairs = {}
    for img in images:
        pairs.setdefault((img["name"], img["settings_uuid"]), []).append(img)
    assert any(len(group) >= 3 for group in pairs.values()), "older duplicates in the same settings"
    settings_per_name = {}
    for name, sett in pairs:
        settings_per_name.setdefault(name, set()).add(sett)
    assert len(settings_per_name["ubuntu-22.04"]) == 3, "same name in every settings"
    assert 300 < len(set(names)) < 600, "like the recording: more than one usage_stats page of 300"
    tenant_settings = {t["uuid"]: t["service_settings_uuid"] for t in dataset700["tenants"]}
    assert all(tenant_settings[t] == img["settings_uuid"] for img in images for t in img["tenant_uuids"])
    assert {i["state"] for i in dataset700["instances"]} == {"ACTIVE", "SHUTOFF", "ERROR"}


@pytest.mark.parametrize("images,tenants,settings", [(0, 0, 1), (1, 1, 1), (5, 1, 1), (5, 2, 2), (30, 0, 3)])
def test_small_data_sets_work(images, tenants, settings):
    dataset = generate_dataset(images=images, tenants=tenants, settings=settings, seed=2)
    assert len(dataset["images"]) == images and len(dataset["tenants"]) == tenants
    with WaldurEmulator(dataset) as emu:
        reply = fetch(emu.url, "/api/openstack-images/?show_duplicate_names=true&page_size=300", emu.tokens["staff"])
        assert reply.status == 200 and reply.count == images
        user = fetch(emu.url, "/api/openstack-images/", emu.tokens["user"])
        assert user.status == 200 and user.count == len(dataset["visibility"]["user"]["default_list"])
        stats = fetch(emu.url, "/api/openstack-images/usage_stats/", emu.tokens["user"])
        assert stats.status == 200 and stats.count == len({img["name"] for img in dataset["images"]})


def test_small_data_set_keeps_the_injection_name_first():
    assert generate_dataset(images=1)["images"][0]["name"] == "{{ lookup('pipe', 'id') }}"


def test_dump_load_round_trip_serves_identical_answers(tmp_path):
    dataset = generate_dataset(images=90, tenants=5, settings=2, seed=11)
    path = tmp_path / "ds.json"
    written = dump_dataset(dataset, str(path))
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    assert list(on_disk) == TOP_KEYS
    assert on_disk == json.loads(json.dumps(written))
    assert on_disk["visibility"] == dataset["visibility"]
    assert on_disk["usage_stats"] == dataset["usage_stats"]
    loaded = load_dataset(str(path))
    assert loaded == dataset
    requests_to_compare = [
        "/api/openstack-images/", "/api/openstack-images/?page=2&page_size=7", "/api/openstack-images/?show_duplicate_names=1",
        "/api/openstack-images/usage_stats/", "/api/openstack-tenants/", "/api/service-settings/",
        "/api/openstack-images/usage_stats/?page_size=300&service_provider=%s" % dataset["service_settings"][0]["uuid"],
    ]
    host = {"Host": "waldur.example.test"}
    with WaldurEmulator(dataset) as first, WaldurEmulator(loaded) as second:
        assert first.tokens == second.tokens
        for user in ("staff", "user"):
            for path_ in requests_to_compare:
                one = fetch(first.url, path_, first.tokens[user], headers=host)
                two = fetch(second.url, path_, second.tokens[user], headers=host)
                assert (one.status, one.headers[2:], one.body) == (two.status, two.headers[2:], two.body), path_


def test_load_recomputes_the_truth(tmp_path):
    dataset = generate_dataset(images=40, tenants=3, settings=2, seed=4)
    tampered = dict(dataset, visibility={"user": {"images": [], "default_list": [], "tenants": [], "service_settings": []}},
                    usage_stats={})
    path = tmp_path / "ds.json"
    path.write_text(json.dumps(tampered), encoding="utf-8")
    loaded = load_dataset(str(path))
    assert loaded["visibility"] == dataset["visibility"]
    assert loaded["usage_stats"] == dataset["usage_stats"]


def test_load_normalises_a_hand_written_data_set(tmp_path):
    """Minimal objects, dashed uuids: defaults are filled and uuids normalised."""
    minimal = {
        "format": "waldur-emulator-dataset/1",
        "users": [{"username": "staff", "token": "a" * 40, "is_staff": True}],
        "service_settings": [{"uuid": "11111111-1111-4111-8111-111111111111", "name": "cloud-x"}],
        "images": [{"uuid": "22222222-2222-4222-8222-222222222222", "name": "img",
                    "settings_uuid": "11111111-1111-4111-8111-111111111111"}],
    }
    path = tmp_path / "min.json"
    path.write_text(json.dumps(minimal), encoding="utf-8")
    loaded = load_dataset(str(path))
    image_uuid, settings_uuid = "222222222222422282222222" + "2" * 8, "111111111111411181111111" + "1" * 8
    assert loaded["images"][0]["uuid"] == image_uuid
    assert loaded["images"][0]["settings_uuid"] == settings_uuid
    assert loaded["service_settings"][0]["uuid"] == settings_uuid
    assert loaded["visibility"]["staff"]["images"] == [image_uuid]
    with WaldurEmulator(loaded) as emu:
        item = fetch(emu.url, "/api/openstack-images/", emu.tokens["staff"]).json()[0]
        assert item["min_disk"] == 0 and item["backend_created_at"] is None and item["is_rescue_image"] is False


def test_load_rejects_other_formats(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "something-else"}), encoding="utf-8")
    with pytest.raises(ValueError):
        load_dataset(str(path))

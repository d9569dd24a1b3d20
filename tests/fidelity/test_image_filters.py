"""Image list filters, with the server's quirks (CONTRACT.md "List filters")."""

from __future__ import annotations

import datetime
from urllib.parse import quote, urlencode

import pytest

from tests.emulator.client import fetch, fetch_all

BASE = "/api/openstack-images/"
INJECTION = "{{ lookup('pipe', 'id') }}"


def listed(emu, params, user="staff"):
    """uuids of the whole (all pages) list for ``params`` (a list of pairs or a query string)."""
    query = params if isinstance(params, str) else urlencode(params)
    sep = "&" if query else ""
    items, _replies = fetch_all(emu.url, BASE + "?" + query + sep + "page_size=300", emu.tokens[user])
    return [item["uuid"] for item in items]


def images_by_uuid(dataset):
    return {img["uuid"]: img for img in dataset["images"]}


def default_list(dataset, user="staff"):
    return dataset["visibility"][user]["default_list"]


def expect(dataset, predicate, user="staff"):
    by_uuid = images_by_uuid(dataset)
    return [uuid for uuid in default_list(dataset, user) if predicate(by_uuid[uuid])]


def _created(img):
    value = img["backend_created_at"]
    return None if value is None else datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_dedup_keeps_only_the_newest_per_name_and_settings(emu, dataset700):
    """Recomputed here independently: newest by backend_created_at, NULL first (PostgreSQL DESC)."""
    groups = {}
    for img in dataset700["images"]:
        groups.setdefault((img["name"], img["settings_uuid"]), []).append(img)

    def newest(group):
        nulls = sorted(img["uuid"] for img in group if img["backend_created_at"] is None)
        if nulls:
            return nulls[0]
        return max(group, key=lambda img: (_created(img), [-ord(ch) for ch in img["uuid"]]))["uuid"]

    keep = {newest(group) for group in groups.values()}
    assert len(keep) < len(dataset700["images"])
    expected = sorted((img for img in dataset700["images"] if img["uuid"] in keep), key=lambda i: (i["name"], i["uuid"]))
    assert listed(emu, []) == [img["uuid"] for img in expected]
    # Older duplicates only with show_duplicate_names=true.
    everything = listed(emu, [("show_duplicate_names", "true")])
    assert len(everything) == len(dataset700["images"])
    assert set(everything) - set(keep)


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1"])
def test_show_duplicate_names_discards_the_other_filters(emu, dataset700, value):
    everything = dataset700["visibility"]["staff"]["images"]
    settings_uuid = dataset700["service_settings"][0]["uuid"]
    params = [("name", "zzz-no-such-image"), ("settings_uuid", settings_uuid), ("is_rescue_image", "true"),
              ("tenant", "nope"), ("show_duplicate_names", value)]
    assert listed(emu, params) == everything


@pytest.mark.parametrize("value", ["false", "0", "maybe", ""])
def test_show_duplicate_names_false_or_junk_is_the_default_list(emu, dataset700, value):
    assert listed(emu, [("show_duplicate_names", value)]) == default_list(dataset700)


def test_show_duplicate_names_still_validates_the_other_filters(emu):
    reply = fetch(emu.url, BASE + "?show_duplicate_names=true&settings_uuid=bad", emu.tokens["staff"])
    assert reply.status == 400
    assert reply.json() == {"settings_uuid": ["Enter a valid UUID."]}


@pytest.mark.parametrize("needle", ["ubuntu", "UBUNTU", "UbUnTu", "  ubuntu  ", "\tcentos-stream\n", "%", "_", "'", "\u65e5\u672c"])
def test_name_is_a_stripped_case_insensitive_substring(emu, dataset700, needle):
    wanted = needle.strip().upper()
    expected = expect(dataset700, lambda img: wanted in img["name"].upper())
    assert expected
    assert listed(emu, [("name", needle)]) == expected


@pytest.mark.parametrize("needle", ["", "   "])
def test_empty_name_means_no_filter(emu, dataset700, needle):
    assert listed(emu, [("name", needle)]) == default_list(dataset700)


def test_name_filter_for_a_user_stays_within_visibility(emu, dataset700):
    expected = expect(dataset700, lambda img: "DEBIAN" in img["name"].upper(), user="user")
    assert listed(emu, [("name", "debian")], user="user") == expected


@pytest.mark.parametrize("name", ["ubuntu", "UBUNTU", INJECTION, "'single' \"double\" quotes", "100% pure", "tab\tinside",
                                  "Ubuntu \u65e5\u672c\u8a9e", "rocket \U0001F680 image", "hash#tag?query", "plus+sign"])
def test_name_exact_is_case_sensitive(emu, dataset700, name):
    expected = expect(dataset700, lambda img: img["name"] == name)
    assert expected
    assert listed(emu, [("name_exact", name)]) == expected


@pytest.mark.parametrize("name", [" leading space", "trailing space "])
def test_name_exact_strips_so_edge_spaces_never_match(emu, dataset700, name):
    assert any(img["name"] == name for img in dataset700["images"])
    assert listed(emu, [("name_exact", name)]) == expect(dataset700, lambda img: img["name"] == name.strip())
    assert listed(emu, [("name_exact", name)]) == []


def test_injection_name_is_served_verbatim(emu, dataset700):
    reply = fetch(emu.url, BASE + "?name_exact=" + quote(INJECTION, safe=""), emu.tokens["user"])
    assert reply.status == 200
    body = reply.json()
    assert body and all(item["name"] == INJECTION for item in body)


@pytest.mark.parametrize("form", ["hex", "dashed", "upper", "padded"])
def test_settings_uuid(emu, dataset700, form):
    sett = dataset700["service_settings"][1]["uuid"]
    value = {"hex": sett, "dashed": "%s-%s-%s-%s-%s" % (sett[:8], sett[8:12], sett[12:16], sett[16:20], sett[20:]),
             "upper": sett.upper(), "padded": " %s " % sett}[form]
    expected = expect(dataset700, lambda img: img["settings_uuid"] == sett)
    assert expected
    assert listed(emu, [("settings_uuid", value)]) == expected


@pytest.mark.parametrize("key", ["settings_uuid", "tenant_uuid", "offering_uuid"])
@pytest.mark.parametrize("value", ["not-a-uuid", "1234", "zz" * 16])
def test_malformed_uuid_filters_are_400(emu, key, value):
    reply = fetch(emu.url, BASE + "?" + urlencode({key: value}), emu.tokens["staff"])
    assert reply.status == 400
    assert reply.json() == {key: ["Enter a valid UUID."]}


def test_several_malformed_filters_are_reported_together(emu):
    reply = fetch(emu.url, BASE + "?settings_uuid=x&tenant_uuid=y", emu.tokens["staff"])
    assert reply.status == 400
    assert reply.json() == {"tenant_uuid": ["Enter a valid UUID."], "settings_uuid": ["Enter a valid UUID."]}


@pytest.mark.parametrize("key", ["settings_uuid", "tenant_uuid", "offering_uuid"])
def test_unknown_uuid_filters_give_an_empty_list(emu, key):
    reply = fetch(emu.url, BASE + "?%s=%s" % (key, "0" * 32), emu.tokens["staff"])
    assert reply.status == 200 and reply.json() == [] and reply.count == 0


def test_repeated_filter_keeps_the_last_value(emu, dataset700):
    first, second = dataset700["service_settings"][0]["uuid"], dataset700["service_settings"][1]["uuid"]
    expected = expect(dataset700, lambda img: img["settings_uuid"] == second)
    assert listed(emu, [("settings_uuid", first), ("settings_uuid", second)]) == expected
    assert listed(emu, [("settings_uuid", "garbage"), ("settings_uuid", second)]) == expected


def test_unknown_parameters_are_ignored(emu, dataset700):
    assert listed(emu, [("ordering", "-name"), ("o", "name"), ("foo", "bar"), ("field", "uuid")]) == default_list(dataset700)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:18000/api/service-settings/{uuid}/",
    "https://waldur.example.invalid/api/service-settings/{uuid}/",
    "/api/service-settings/{uuid}/",
    "http://elsewhere/api/service-settings/{dashed}/?x=1",
])
def test_settings_url_uses_only_the_path(emu, dataset700, url):
    sett = dataset700["service_settings"][2]["uuid"]
    dashed = "%s-%s-%s-%s-%s" % (sett[:8], sett[8:12], sett[12:16], sett[16:20], sett[20:])
    expected = expect(dataset700, lambda img: img["settings_uuid"] == sett)
    assert expected
    assert listed(emu, [("settings", url.format(uuid=sett, dashed=dashed))]) == expected


@pytest.mark.parametrize("value", [
    "{uuid}",                                     # bare uuid: not a path
    "cloud-a",
    "http://h/api/openstack-tenants/{tenant}/",   # a URL of another kind
    "/api/service-settings/",                     # the list, not a settings object
    "/api/service-settings/not-a-uuid/",
    "http://h",
])
def test_settings_filter_values_matching_nothing(emu, dataset700, value):
    value = value.format(uuid=dataset700["service_settings"][0]["uuid"], tenant=dataset700["tenants"][0]["uuid"])
    reply = fetch(emu.url, BASE + "?" + urlencode({"settings": value}), emu.tokens["staff"])
    assert reply.status == 200 and reply.json() == [] and reply.count == 0


@pytest.mark.parametrize("value", ["/api/nothing-here/", "http://h/api/service-settings/abc", "/", "/api/service-settings"])
def test_settings_filter_path_resolving_to_no_route_is_a_404_listing_url_patterns(emu, value):
    reply = fetch(emu.url, BASE + "?" + urlencode({"settings": value}), emu.tokens["staff"])
    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json"
    body = reply.json()
    assert set(body) == {"tried", "path"}
    assert body["tried"] and all(isinstance(entry, list) for entry in body["tried"])
    assert any("openstack-images" in " ".join(entry) for entry in body["tried"])


def test_tenant_uuid(emu, dataset700):
    for tenant in dataset700["tenants"][:4]:
        expected = expect(dataset700, lambda img, t=tenant: t["uuid"] in img["tenant_uuids"])
        assert listed(emu, [("tenant_uuid", tenant["uuid"])]) == expected


def test_tenant_accepts_a_bare_uuid_but_a_url_matches_nothing(emu, dataset700):
    tenant = dataset700["tenants"][3]
    expected = expect(dataset700, lambda img: tenant["uuid"] in img["tenant_uuids"])
    assert expected
    assert listed(emu, [("tenant", tenant["uuid"])]) == expected
    url = "%s/api/openstack-tenants/%s/" % (emu.url, tenant["uuid"])
    assert listed(emu, [("tenant", url)]) == []
    assert listed(emu, [("tenant", "/api/openstack-tenants/%s/" % tenant["uuid"])]) == []
    assert listed(emu, [("tenant", "junk")]) == []


def test_offering_uuid(emu, dataset700):
    kinds = set()
    for offering in dataset700["offerings"]:
        if offering["tenant_uuid"]:
            kinds.add("tenant")
            expected = expect(dataset700, lambda img, o=offering: o["tenant_uuid"] in img["tenant_uuids"])
        else:
            kinds.add("settings")
            expected = expect(dataset700, lambda img, o=offering: img["settings_uuid"] == o["settings_uuid"])
        assert listed(emu, [("offering_uuid", offering["uuid"])]) == expected
    assert kinds == {"tenant", "settings"}


@pytest.mark.parametrize("value,wanted", [("true", True), ("1", True), ("False", False), ("0", False)])
def test_is_rescue_image(emu, dataset700, value, wanted):
    expected = expect(dataset700, lambda img: img["is_rescue_image"] is wanted)
    assert expected
    assert listed(emu, [("is_rescue_image", value)]) == expected


def test_is_rescue_image_junk_is_ignored(emu, dataset700):
    assert listed(emu, [("is_rescue_image", "perhaps")]) == default_list(dataset700)


def test_filters_combine(emu, dataset700):
    sett = dataset700["service_settings"][0]["uuid"]
    expected = expect(dataset700, lambda img: img["settings_uuid"] == sett and "UBUNTU" in img["name"].upper())
    assert expected
    assert listed(emu, [("settings_uuid", sett), ("name", "Ubuntu")]) == expected


def test_order_is_code_point_order_ties_by_uuid(emu):
    items, _replies = fetch_all(emu.url, BASE + "?show_duplicate_names=true&page_size=300", emu.tokens["staff"])
    keys = [(item["name"], item["uuid"]) for item in items]
    assert keys == sorted(keys)
    names = [item["name"] for item in items]
    # Code-point (C collation) order: space < quote < digits < upper case < lower case < '{' < non-ASCII.
    assert names[0] == " leading space"
    assert names.index("UBUNTU") < names.index("ubuntu") < names.index(INJECTION) < names.index("\u03a9mega image \u00b5")


def test_field_selection_is_ignored_on_images(emu):
    plain = fetch(emu.url, BASE, emu.tokens["staff"])
    selected = fetch(emu.url, BASE + "?field=uuid&field=name", emu.tokens["staff"])
    assert selected.status == 200
    assert selected.body == plain.body


def test_legacy_server_has_no_dedup_and_ignores_the_8x_filters(legacy_emu, dataset700):
    everything = dataset700["visibility"]["staff"]["images"]
    assert listed(legacy_emu, []) == everything
    assert listed(legacy_emu, [("show_duplicate_names", "true"), ("name", "debian")]) == \
        [u for u in everything if "DEBIAN" in images_by_uuid(dataset700)[u]["name"].upper()]
    assert listed(legacy_emu, [("is_rescue_image", "true")]) == everything
    item = fetch(legacy_emu.url, BASE, legacy_emu.tokens["staff"]).json()[0]
    assert list(item) == ["url", "uuid", "name", "min_disk", "min_ram", "settings"]


def test_retrieve_accepts_hex_and_dashed_uuids(emu, dataset700):
    uuid = dataset700["visibility"]["user"]["images"][0]
    dashed = "%s-%s-%s-%s-%s" % (uuid[:8], uuid[8:12], uuid[12:16], uuid[16:20], uuid[20:])
    for form in (uuid, dashed, uuid.upper()):
        reply = fetch(emu.url, "/api/openstack-images/%s/" % form, emu.tokens["user"])
        assert reply.status == 200 and reply.json()["uuid"] == uuid
    for bad in ("not-a-uuid", "0" * 32, uuid[:-1]):
        reply = fetch(emu.url, "/api/openstack-images/%s/" % bad, emu.tokens["user"])
        assert reply.status == 404 and reply.json() == {"detail": "No Image matches the given query."}

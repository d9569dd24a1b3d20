"""Fidelity: the emulator answers like the recorded real server (shared/waldur-api/samples).

The samples come from a server that predates the 8.x image fields and the dedup quirk, with a
700-image data set; they are compared with the emulator in legacy mode on its own 700-image
data set.  Data differ (uuids, names), so bodies are compared by shape (keys, key order,
types) except error bodies, which must match byte for byte.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.emulator.client import fetch

SAMPLE_BASE = "http://127.0.0.1:18000"
IGNORED_HEADERS = {"date", "server"}
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class Sample:
    def __init__(self, samples_dir, name):
        raw = (samples_dir / (name + ".headers")).read_bytes().decode("latin-1")
        lines = [line for line in raw.split("\r\n") if line]
        self.status = int(lines[0].split()[1])
        self.headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
        self.body = (samples_dir / (name + ".body")).read_bytes()

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_names(self):
        return [key for key, _value in self.headers if key.lower() not in IGNORED_HEADERS]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def links(self):
        out = {}
        for part in (self.header("Link") or "").split(", <"):
            part = part if part.startswith("<") else "<" + part
            url, _sep, rel = part.partition(">; rel=")
            out[rel.strip('"')] = url[1:]
        return out


def shape(value):
    """Keys (in order) and JSON types, recursively; lists are described by their first item."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return ["list", shape(value[0]) if value else None]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def our_header_names(reply):
    return [key for key, _value in reply.headers if key.lower() not in IGNORED_HEADERS]


def assert_same_headers(reply, sample):
    """Same header names in the same order, same values for the constant ones."""
    assert our_header_names(reply) == sample.header_names()
    for name in ("Content-Type", "Vary", "Allow", "X-Frame-Options", "Content-Language", "WWW-Authenticate", "Connection"):
        assert reply.header(name) == sample.header(name), name
    if sample.header("Content-Length") is not None:
        assert int(reply.header("Content-Length")) == len(reply.body)


def link_shape(url):
    parts = urlsplit(url)
    return parts.scheme, parts.path, [key for key, _value in parse_qsl(parts.query, keep_blank_values=True)]


def assert_same_links(reply, sample, base_url, per_page):
    """Same rels in the same order; same path and parameter order per rel; page omitted on
    page 1 and numbered consistently with X-Result-Count."""
    ours, theirs = reply.links(), sample.links()
    assert list(ours) == list(theirs)
    for rel, url in ours.items():
        assert url.startswith(base_url + "/")
        assert link_shape(url)[:2] == link_shape(theirs[rel].replace(SAMPLE_BASE, base_url))[:2]
        assert link_shape(url)[2] == link_shape(theirs[rel])[2], rel
    pages = max(1, math.ceil(reply.count / per_page))
    query = dict(parse_qsl(urlsplit(ours["last"]).query))
    assert query.get("page", "1") == str(pages)
    assert "page" not in dict(parse_qsl(urlsplit(ours["first"]).query))


def assert_image_shape(item, sample_item, base_url):
    assert shape(item) == shape(sample_item)
    assert HEX32.match(item["uuid"])
    assert item["url"] == "%s/api/openstack-images/%s/" % (base_url, item["uuid"])
    assert re.match(r"^%s/api/service-settings/[0-9a-f]{32}/$" % re.escape(base_url), item["settings"])


def staff(emu):
    return emu.tokens["staff"]


def test_04_list_default(legacy_emu, samples_dir):
    sample = Sample(samples_dir, "04-list-default")
    reply = fetch(legacy_emu.url, "/api/openstack-images/", staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    # Same data set size as the recording (700, no dedup on that server): identical Link header.
    assert reply.header("X-Result-Count") == sample.header("X-Result-Count") == "700"
    assert reply.header("Link") == sample.header("Link").replace(SAMPLE_BASE, legacy_emu.url)
    assert_same_links(reply, sample, legacy_emu.url, 10)
    body, expected = reply.json(), sample.json()
    assert len(body) == len(expected) == 10
    for item in body:
        assert_image_shape(item, expected[0], legacy_emu.url)
    names = [item["name"] for item in body]
    assert names == sorted(names)
    # Serialisation as the server's: compact separators, raw UTF-8.
    assert reply.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def test_28_retrieve_hex(legacy_emu, samples_dir, dataset700):
    sample = Sample(samples_dir, "28-retrieve-hex")
    image = dataset700["images"][0]
    reply = fetch(legacy_emu.url, "/api/openstack-images/%s/" % image["uuid"], staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    assert_image_shape(reply.json(), sample.json(), legacy_emu.url)
    assert reply.json()["uuid"] == image["uuid"]


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_30_retrieve_nonexistent(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "30-retrieve-nonexistent")
    reply = fetch(server.url, "/api/openstack-images/00000000000000000000000000000000/", staff(server))
    assert reply.status == sample.status == 404
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_15_settings_uuid_malformed(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "15-filter-settings_uuid-malformed")
    reply = fetch(server.url, "/api/openstack-images/?settings_uuid=not-a-uuid", staff(server))
    assert reply.status == sample.status == 400
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_33_page_beyond_range(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "33-page-beyond-range")
    reply = fetch(server.url, "/api/openstack-images/?page_size=300&page=4", staff(server))
    assert reply.status == sample.status == 404
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


def test_39_usage_stats(legacy_emu, samples_dir):
    sample = Sample(samples_dir, "39-usage_stats")
    reply = fetch(legacy_emu.url, "/api/openstack-images/usage_stats/", staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    assert_same_links(reply, sample, legacy_emu.url, 10)
    body = reply.json()
    assert len(body) == 10
    for row in body:
        assert shape(row) == shape(sample.json()[0])


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_40_usage_stats_page2(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "40-usage_stats-page2")
    reply = fetch(server.url, "/api/openstack-images/usage_stats/?page=2", staff(server))
    assert reply.status == sample.status == 400
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


def test_43_usage_stats_service_provider(legacy_emu, samples_dir, dataset700):
    sample = Sample(samples_dir, "43-usage_stats-sp-ps300")
    cloud_a = dataset700["service_settings"][0]
    assert cloud_a["name"] == "cloud-a"
    path = "/api/openstack-images/usage_stats/?service_provider=%s&page_size=300" % cloud_a["uuid"]
    reply = fetch(legacy_emu.url, path, staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    assert_same_links(reply, sample, legacy_emu.url, 300)
    # Like the recording, more than 300 rows: two pages, so the whole Link header matches.
    recorded_uuid = "e7a0a77afc5244e9a7aee7396d8584fe"
    expected = sample.header("Link").replace(SAMPLE_BASE, legacy_emu.url).replace(recorded_uuid, cloud_a["uuid"])
    assert reply.header("Link") == expected
    body = reply.json()
    assert len(body) == 300
    assert all(shape(row) == shape(sample.json()[0]) for row in body)
    names = [row["name"] for row in body]
    assert names != sorted(names)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_48_no_token(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "48-no-token")
    reply = fetch(server.url, "/api/openstack-images/")
    assert reply.status == sample.status == 401
    assert reply.body == sample.body
    assert reply.header("WWW-Authenticate") == "Token"
    assert_same_headers(reply, sample)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_49_wrong_token(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "49-wrong-token")
    reply = fetch(server.url, "/api/openstack-images/", "0" * 40)
    assert reply.status == sample.status == 401
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_60_post_not_allowed(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "60-post-not-allowed")
    reply = fetch(server.url, "/api/openstack-images/", staff(server), method="POST", body=b"{}",
                  headers={"Content-Type": "application/json"})
    assert reply.status == sample.status == 405
    assert reply.body == sample.body
    assert_same_headers(reply, sample)


@pytest.mark.parametrize("which", ["legacy", "current"])
def test_62_no_trailing_slash(which, emu, legacy_emu, samples_dir):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, "62-list-no-trailing-slash")
    reply = fetch(server.url, "/api/openstack-images?page_size=5", staff(server))
    assert reply.status == sample.status == 301
    assert reply.header("Location") == sample.header("Location") == "/api/openstack-images/?page_size=5"
    assert reply.header("Connection") == "close"
    assert reply.body == sample.body == b""
    assert_same_headers(reply, sample)


def test_63_settings_retrieve(legacy_emu, samples_dir, dataset700):
    sample = Sample(samples_dir, "63-settings-retrieve")
    cloud_a = dataset700["service_settings"][0]
    reply = fetch(legacy_emu.url, "/api/service-settings/%s/" % cloud_a["uuid"], staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    body, expected = reply.json(), sample.json()
    assert shape(body) == shape(expected)
    assert body["name"] == expected["name"] == "cloud-a"
    assert body["shared"] is expected["shared"] is False
    assert body["customer"] is expected["customer"] is None
    assert set(body["options"]) >= {"username", "password"}


def test_64_tenant_retrieve(legacy_emu, samples_dir, dataset700):
    sample = Sample(samples_dir, "64-tenant-retrieve")
    tenant = dataset700["tenants"][2]
    reply = fetch(legacy_emu.url, "/api/openstack-tenants/%s/" % tenant["uuid"], staff(legacy_emu))
    assert reply.status == sample.status == 200
    assert_same_headers(reply, sample)
    body, expected = reply.json(), sample.json()
    assert shape(body) == shape(expected)
    assert len(body) == len(expected)
    assert body["service_settings_uuid"] == tenant["service_settings_uuid"]
    assert body["service_settings"] == "%s/api/service-settings/%s/" % (legacy_emu.url, tenant["service_settings_uuid"])


def test_current_image_shape_extends_the_recorded_one(emu, samples_dir):
    """8.x adds backend_id, backend_created_at and the 8.0.8 rescue fields after the old ones."""
    sample = Sample(samples_dir, "04-list-default")
    reply = fetch(emu.url, "/api/openstack-images/", staff(emu))
    assert reply.status == 200
    assert_same_headers(reply, sample)
    old_keys = [key for key, _kind in shape(sample.json()[0])]
    for item in reply.json():
        assert list(item) == old_keys + ["backend_id", "backend_created_at", "hw_rescue_device", "hw_rescue_bus", "is_rescue_image"]
        assert isinstance(item["backend_id"], str)
        assert item["backend_created_at"] is None or isinstance(item["backend_created_at"], str)
        assert isinstance(item["hw_rescue_device"], str) and isinstance(item["hw_rescue_bus"], str)
        assert isinstance(item["is_rescue_image"], bool)

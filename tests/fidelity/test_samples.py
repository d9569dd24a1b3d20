"""Fidelity: the emulator answers like the recorded real server (tests/fidelity/samples/).

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
        # Recorded with CRLF; stored with LF, as ansible-test's line-endings check wants every text file.
        lines = [line for line in raw.splitlines() if line]
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
    for name in ("Content-Type", "Vary", "Allow", "X-Frame-Options", "Content-Language", "WWW-Authenticate", "Connection",
                 "Location"):
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


# ------------------------------------------------------------------ what each sample must show
def same_body(reply, sample, server, dataset):
    """Error answers and redirects: the very bytes the real server sent."""
    assert reply.body == sample.body


def list_default(reply, sample, server, dataset):
    # Same data set size as the recording (700, no dedup on that server): identical Link header.
    assert reply.header("X-Result-Count") == sample.header("X-Result-Count") == "700"
    assert reply.header("Link") == sample.header("Link").replace(SAMPLE_BASE, server.url)
    assert_same_links(reply, sample, server.url, 10)
    body, expected = reply.json(), sample.json()
    assert len(body) == len(expected) == 10
    for item in body:
        assert_image_shape(item, expected[0], server.url)
    names = [item["name"] for item in body]
    assert names == sorted(names)
    # Serialisation as the server's: compact separators, raw UTF-8.
    assert reply.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def current_list(reply, sample, server, dataset):
    """8.x adds backend_id, backend_created_at and the 8.0.8 rescue fields after the old ones."""
    old_keys = [key for key, _kind in shape(sample.json()[0])]
    for item in reply.json():
        assert list(item) == old_keys + ["backend_id", "backend_created_at", "hw_rescue_device", "hw_rescue_bus", "is_rescue_image"]
        assert isinstance(item["backend_id"], str)
        assert item["backend_created_at"] is None or isinstance(item["backend_created_at"], str)
        assert isinstance(item["hw_rescue_device"], str) and isinstance(item["hw_rescue_bus"], str)
        assert isinstance(item["is_rescue_image"], bool)


def retrieve_hex(reply, sample, server, dataset):
    assert_image_shape(reply.json(), sample.json(), server.url)
    assert reply.json()["uuid"] == dataset["images"][0]["uuid"]


def usage_stats(reply, sample, server, dataset):
    assert_same_links(reply, sample, server.url, 10)
    body = reply.json()
    assert len(body) == 10
    assert all(shape(row) == shape(sample.json()[0]) for row in body)


def usage_stats_of_cloud_a(reply, sample, server, dataset):
    cloud_a = dataset["service_settings"][0]
    assert cloud_a["name"] == "cloud-a"
    assert_same_links(reply, sample, server.url, 300)
    # Like the recording, more than 300 rows: two pages, so the whole Link header matches.
    recorded_uuid = "e7a0a77afc5244e9a7aee7396d8584fe"
    expected = sample.header("Link").replace(SAMPLE_BASE, server.url).replace(recorded_uuid, cloud_a["uuid"])
    assert reply.header("Link") == expected
    body = reply.json()
    assert len(body) == 300
    assert all(shape(row) == shape(sample.json()[0]) for row in body)
    names = [row["name"] for row in body]
    assert names != sorted(names)


def settings_retrieve(reply, sample, server, dataset):
    body, expected = reply.json(), sample.json()
    assert shape(body) == shape(expected)
    assert body["name"] == expected["name"] == "cloud-a"
    assert body["shared"] is expected["shared"] is False
    assert body["customer"] is expected["customer"] is None
    assert set(body["options"]) >= {"username", "password"}


def tenant_retrieve(reply, sample, server, dataset):
    tenant = dataset["tenants"][2]
    body, expected = reply.json(), sample.json()
    assert shape(body) == shape(expected)
    assert len(body) == len(expected)
    assert body["service_settings_uuid"] == tenant["service_settings_uuid"]
    assert body["service_settings"] == "%s/api/service-settings/%s/" % (server.url, tenant["service_settings_uuid"])


class Exchange:
    """One recorded exchange: the sample, the request that made it, the servers to replay it on, what must hold."""

    def __init__(self, sample, path, check, servers=("legacy", "current"), token="staff", method="GET"):
        self.sample = sample
        self.path = path  # text, or a function of the data set
        self.check = check
        self.servers = servers
        self.token = token  # "staff", "wrong" or None
        self.method = method


EXCHANGES = [
    Exchange("04-list-default", "/api/openstack-images/", list_default, servers=("legacy",)),
    Exchange("04-list-default", "/api/openstack-images/", current_list, servers=("current",)),
    Exchange("28-retrieve-hex", lambda dataset: "/api/openstack-images/%s/" % dataset["images"][0]["uuid"], retrieve_hex,
             servers=("legacy",)),
    Exchange("30-retrieve-nonexistent", "/api/openstack-images/%s/" % ("0" * 32), same_body),
    Exchange("15-filter-settings_uuid-malformed", "/api/openstack-images/?settings_uuid=not-a-uuid", same_body),
    Exchange("33-page-beyond-range", "/api/openstack-images/?page_size=300&page=4", same_body),
    Exchange("39-usage_stats", "/api/openstack-images/usage_stats/", usage_stats, servers=("legacy",)),
    Exchange("40-usage_stats-page2", "/api/openstack-images/usage_stats/?page=2", same_body),
    Exchange("43-usage_stats-sp-ps300", lambda dataset: "/api/openstack-images/usage_stats/?service_provider=%s&page_size=300"
             % dataset["service_settings"][0]["uuid"], usage_stats_of_cloud_a, servers=("legacy",)),
    Exchange("48-no-token", "/api/openstack-images/", same_body, token=None),
    Exchange("49-wrong-token", "/api/openstack-images/", same_body, token="wrong"),
    Exchange("60-post-not-allowed", "/api/openstack-images/", same_body, method="POST"),
    Exchange("62-list-no-trailing-slash", "/api/openstack-images?page_size=5", same_body),
    Exchange("63-settings-retrieve", lambda dataset: "/api/service-settings/%s/" % dataset["service_settings"][0]["uuid"],
             settings_retrieve, servers=("legacy",)),
    Exchange("64-tenant-retrieve", lambda dataset: "/api/openstack-tenants/%s/" % dataset["tenants"][2]["uuid"],
             tenant_retrieve, servers=("legacy",)),
]


@pytest.mark.parametrize("exchange, which", [(exchange, which) for exchange in EXCHANGES for which in exchange.servers],
                         ids=["%s-%s-%s" % (exchange.sample, exchange.check.__name__, which)
                              for exchange in EXCHANGES for which in exchange.servers])
def test_the_emulator_answers_as_the_recorded_server(exchange, which, emu, legacy_emu, samples_dir, dataset700):
    server = legacy_emu if which == "legacy" else emu
    sample = Sample(samples_dir, exchange.sample)
    path = exchange.path(dataset700) if callable(exchange.path) else exchange.path
    token = {"staff": server.tokens["staff"], "wrong": "0" * 40, None: None}[exchange.token]
    extra = {"body": b"{}", "headers": {"Content-Type": "application/json"}} if exchange.method == "POST" else {}
    reply = fetch(server.url, path, token, method=exchange.method, **extra)
    assert reply.status == sample.status
    assert_same_headers(reply, sample)
    exchange.check(reply, sample, server, dataset700)

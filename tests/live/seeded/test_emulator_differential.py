"""The emulator proven against the real Waldur: the same requests to both, loaded with the same data.

The emulator is given the seeded database as oracle.py exports it and plays the version the real
server is (the older image shape: no backend_id, no 8.x fields, no deduplication of names). Every
request of REQUESTS goes to both as each user; status, body and the headers a client reads must be
equal. When they differ, the real server is right.

Order the server leaves undefined is compared as sets, and said so here:
  - images: the order among equal names (ORDER BY name only);
  - flavors: the order among flavors equal on the sort keys (settings name, cores, ram, disk by
    default; the keys of ``o=`` when it is given);
  - usage_stats: rows come in no defined order (SELECT DISTINCT without ORDER BY): a complete list is
    compared as a multiset; a page of a longer list (the bare first page) holds any of the rows, so
    only its length is compared. A walk of several pages (the large data set: more than 300 distinct
    names) must be complete and without a repeat on both, and hold the same rows: the order is
    undefined but the same at every page.
On a page that is not the whole listing, the first and last group of equal keys may continue on the
neighbouring page, so only their key and size are compared, not which objects they hold.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest
import requests

from tests.emulator import LEGACY_SERVER_VERSION, WaldurEmulator

HEADERS = ("X-Result-Count", "Link", "Location", "Allow", "WWW-Authenticate")
USERS = ("staff", "owner", "member")


@pytest.fixture(scope="module")
def emulator(seeded):
    with WaldurEmulator(seeded, server_version=LEGACY_SERVER_VERSION) as server:
        yield server


@pytest.fixture(scope="module")
def large_emulator(waldur, large):
    """The large data set (the small one has fewer than 300 names: one page of usage rows)."""
    with WaldurEmulator(waldur.waldur_python(large.database, "oracle.py", "dataset"),
                        server_version=LEGACY_SERVER_VERSION) as server:
        yield server


def requests_for(seeded):
    """(method, path with query, user or None for no token) of every request compared."""
    images = {image["name"]: image for image in seeded["images"]}
    settings = seeded["service_settings"][0]["uuid"]
    tenant = seeded["tenants"][0]["uuid"]
    image = images["ubuntu-24.04"]["uuid"]
    flavor = seeded["flavors"][0]["uuid"]
    dashed = "%s-%s-%s-%s-%s" % (image[:8], image[8:12], image[12:16], image[16:20], image[20:])
    listing = "/api/openstack-images/"
    paths = [
        listing, listing + "?page_size=300", listing + "?page=2", listing + "?page=last&page_size=7",
        listing + "?page=99", listing + "?page=0", listing + "?page_size=0", listing + "?page_size=abc",
        listing + "?name=UBUNTU", listing + "?name=%20ubuntu%20", listing + "?name=", listing + "?name_exact=ubuntu-22.04",
        listing + "?name_exact=%20leading%20space", listing + "?name_exact=trailing%20space%20",
        listing + "?name_exact=%7B%7B%20lookup('pipe',%20'id')%20%7D%7D",
        listing + "?settings_uuid=" + settings, listing + "?settings_uuid=" + settings.upper(),
        listing + "?settings_uuid=not-a-uuid", listing + "?settings_uuid=" + "0" * 32,
        listing + "?settings=/api/service-settings/%s/" % settings, listing + "?settings=" + settings,
        listing + "?tenant_uuid=" + tenant, listing + "?tenant_uuid=bad", listing + "?tenant=" + tenant,
        listing + "?tenant=http://example.invalid/api/openstack-tenants/%s/" % tenant,
        listing + "?settings_uuid=%s&settings_uuid=%s" % ("0" * 32, settings), listing + "?unknown=1",
        "%s%s/" % (listing, image), "%s%s/" % (listing, dashed), "%s%s/" % (listing, "0" * 32), "/api/openstack-images",
        listing + "usage_stats/", listing + "usage_stats/?page_size=300",
        listing + "usage_stats/?page_size=300&service_provider=" + settings,
        "/api/openstack-flavors/?page_size=300", "/api/openstack-flavors/?o=ram&page_size=300",
        "/api/openstack-flavors/?o=-cores,ram&page_size=300", "/api/openstack-flavors/?o=name",
        "/api/openstack-flavors/?ram__gte=2048&page_size=300", "/api/openstack-flavors/?ram__gte=abc",
        "/api/openstack-flavors/?disk=0&page_size=300", "/api/openstack-flavors/?name_iregex=%5Em1&page_size=300",
        "/api/openstack-flavors/?tenant_uuid=%s&page_size=300" % tenant, "/api/openstack-flavors/%s/" % flavor,
        "/api/openstack-flavors/usage_stats/",
        "/api/openstack-tenants/?field=uuid&field=name&field=service_settings_uuid&page_size=300",
        "/api/service-settings/?type=OpenStack&field=uuid&field=name&page_size=300",
    ]
    cases = [("GET", path, user) for path in paths for user in USERS]
    cases += [("GET", listing, None), ("POST", listing, "staff"), ("HEAD", listing + "?page_size=5", "staff")]
    return cases


def ask(base, tokens, method, path, user):
    headers = {"Authorization": "Token " + tokens[user]} if user else {}
    reply = requests.request(method, base + path, headers=headers, allow_redirects=False, timeout=60)
    body = reply.text.replace(base, "http://waldur")
    try:
        body = json.loads(body) if body else None
    except ValueError:
        body = "<not JSON>"
    return reply.status_code, body, {name: reply.headers[name].replace(base, "http://waldur")
                                     for name in HEADERS if name in reply.headers}


def sort_key_of(path, item):
    """The key the server sorts a list of ``path`` by; objects equal on it come in undefined order."""
    if "/openstack-images/" in path:
        return item.get("name")
    if "/openstack-flavors/" in path:
        if "o=" in path:
            fields = path.split("o=")[1].split("&")[0].lstrip("-").replace(",-", ",").split(",")
            return tuple(item.get(field) for field in fields)
        return (item.get("settings"), item.get("cores"), item.get("ram"), item.get("disk"))
    return None


def comparable(path, body, complete):
    """A list body as its runs of equal sort keys: interior runs as sets, edge runs of a partial page as sizes."""
    if not isinstance(body, list) or not body or not isinstance(body[0], dict):
        return body
    if "usage_stats" in path:
        return sorted(Counter(json.dumps(row, sort_keys=True) for row in body).items()) if complete else len(body)
    runs = []
    for item in body:
        key = sort_key_of(path, item)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(item)
        else:
            runs.append((key, [item]))
    shaped = [(json.dumps(key), sorted(json.dumps(item, sort_keys=True) for item in items)) for key, items in runs]
    if not complete:
        for index in (0, len(shaped) - 1) if len(shaped) > 1 else (0,):
            shaped[index] = (shaped[index][0], len(shaped[index][1]))
    return shaped


def test_the_emulator_answers_every_request_as_the_real_waldur(small, seeded, emulator):
    differences = []
    for method, path, user in requests_for(seeded):
        real = ask(small.url, small.tokens, method, path, user)
        emulated = ask(emulator.url, emulator.tokens, method, path, user)
        complete = isinstance(real[1], list) and str(len(real[1])) == real[2].get("X-Result-Count")
        if (real[0], comparable(path, real[1], complete), real[2]) != \
                (emulated[0], comparable(path, emulated[1], complete), emulated[2]):
            differences.append("%s %s as %s:\n  real:     %s\n  emulator: %s" % (
                method, path, user, json.dumps(real)[:600], json.dumps(emulated)[:600]))
    assert not differences, "%d of %d requests differ:\n%s" % (
        len(differences), len(requests_for(seeded)), "\n".join(differences))


def usage_walk(base, tokens, path):
    """Each page of a walk from ``path`` along the Link header's next, as staff: (status, rows, headers)."""
    pages = []
    while path:
        status, rows, headers = ask(base, tokens, "GET", path, "staff")
        pages.append((status, rows, headers))
        following = re.search(r'<http://waldur([^>]*)>; rel="next"', headers.get("Link", ""))
        path = following.group(1) if status == 200 and following else None
    return pages


def test_a_usage_walk_of_several_pages_of_300_holds_the_same_rows_on_both(large, large_emulator):
    providers = [row["uuid"] for row in large_emulator.dataset["service_settings"] if row["type"] == "OpenStack"]
    path = "/api/openstack-images/usage_stats/?page_size=300&" + "&".join("service_provider=" + uuid for uuid in providers)
    real = usage_walk(large.url, large.tokens, path)
    emulated = usage_walk(large_emulator.url, large_emulator.tokens, path)
    assert len(real) >= 2, "the large data set should have more than 300 usage rows"
    assert [(status, headers) for status, _rows, headers in emulated] == [(status, headers) for status, _rows, headers in real]
    real_rows = [json.dumps(row, sort_keys=True) for _status, rows, _headers in real for row in rows]
    emulated_rows = [json.dumps(row, sort_keys=True) for _status, rows, _headers in emulated for row in rows]
    # Complete and without a repeat on the real server, as measured; and the same rows on the emulator.
    assert len(set(real_rows)) == len(real_rows) == int(real[0][2]["X-Result-Count"])
    assert Counter(emulated_rows) == Counter(real_rows)

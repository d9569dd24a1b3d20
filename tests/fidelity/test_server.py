"""HTTP behaviour of the emulator itself: connections, redirects, methods, latency, request
accounting, live data changes, injected proxy failures."""

from __future__ import annotations

import http.client
import json
import threading
import time

import pytest
import requests

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch, fetch_all

BASE = "/api/openstack-images/"


def test_keep_alive_two_requests_on_one_connection(emu):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        headers = {"Authorization": "Token " + emu.tokens["user"]}
        conn.request("GET", BASE, headers=headers)
        first = conn.getresponse()
        first_body = first.read()
        sock = conn.sock
        assert first.status == 200 and sock is not None and not first.will_close
        conn.request("GET", BASE + "?page=2", headers=headers)
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock
        assert int(first.getheader("Content-Length")) == len(first_body)
        # an error response keeps the connection too
        conn.request("GET", BASE + "?page=0", headers=headers)
        third = conn.getresponse()
        third.read()
        assert third.status == 404 and conn.sock is sock
    finally:
        conn.close()


def test_redirect_without_trailing_slash_keeps_query_and_closes(emu, dataset700):
    uuid = dataset700["images"][0]["uuid"]
    for path, location in ((BASE[:-1] + "?page_size=5&name=a%20b", BASE + "?page_size=5&name=a%20b"),
                           ("/api/openstack-images/%s" % uuid, "/api/openstack-images/%s/" % uuid),
                           ("/api/openstack-images/usage_stats", "/api/openstack-images/usage_stats/"),
                           ("/api/service-settings", "/api/service-settings/")):
        reply = fetch(emu.url, path)  # no token: the redirect comes before authentication
        assert reply.status == 301
        assert reply.header("Location") == location
        assert reply.header("Connection") == "close"
        assert reply.header("Content-Length") is None
    # requests follows it and lands on the list
    resp = requests.get(emu.url + "/api/openstack-images?page_size=5", headers={"Authorization": "Token " + emu.tokens["staff"]},
                        timeout=10)
    assert resp.status_code == 200 and len(resp.json()) == 5
    assert [r.status_code for r in resp.history] == [301]


@pytest.mark.parametrize("path", ["/", "/api/", "/api/nothing/", "/api/openstack-images/a/b/", "/api/nothing", "/api/customers/"])
def test_unknown_paths_are_json_404(emu, path):
    reply = fetch(emu.url, path, emu.tokens["staff"])
    assert reply.status == 404
    assert reply.header("Content-Type") == "application/json"
    assert reply.json() == {"detail": "Not found."}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", [BASE, "/api/openstack-images/usage_stats/", "/api/openstack-tenants/", "/api/service-settings/"])
def test_other_methods_are_405(emu, method, path):
    reply = fetch(emu.url, path, emu.tokens["staff"], method=method, body=b"{}", headers={"Content-Type": "application/json"})
    assert reply.status == 405
    assert reply.body == ('{"detail":"Method \\"%s\\" not allowed."}' % method).encode("ascii")
    # The real tenant and settings lists take POST; the emulator is read-only but says the same.
    images = path.startswith("/api/openstack-images/")
    assert reply.header("Allow") == ("GET, HEAD, OPTIONS" if images else "GET, POST, HEAD, OPTIONS")


def test_405_comes_after_authentication(emu):
    reply = fetch(emu.url, BASE, method="DELETE")
    assert reply.status == 401


def test_options(emu):
    reply = fetch(emu.url, BASE, emu.tokens["user"], method="OPTIONS")
    assert reply.status == 200
    assert reply.header("Allow") == "GET, HEAD, OPTIONS"
    assert "renders" in reply.json()


def test_common_headers(emu):
    reply = fetch(emu.url, BASE, emu.tokens["user"])
    assert reply.header("Content-Type") == "application/json"
    assert reply.header("Vary") == "Accept, Accept-Language, Cookie"
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Content-Language") == "en"
    assert reply.header("Date")


def test_latency_is_added_per_request_and_concurrently():
    with WaldurEmulator(generate_dataset(images=20, tenants=2, settings=1), latency_ms=300) as emu:
        start = time.monotonic()
        assert fetch(emu.url, BASE, emu.tokens["staff"]).status == 200
        single = time.monotonic() - start
        assert single >= 0.3
        results = []

        def worker():
            results.append(fetch(emu.url, BASE, emu.tokens["staff"]).status)

        threads = [threading.Thread(target=worker) for _index in range(4)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        assert results == [200] * 4
        assert 0.3 <= elapsed < 1.1, "the delay must not serialise concurrent requests (%.2fs)" % elapsed
        emu.latency_ms = 0
        start = time.monotonic()
        fetch(emu.url, BASE, emu.tokens["staff"])
        assert time.monotonic() - start < 0.3


def test_request_accounting(fresh_emu):
    emu = fresh_emu
    emu.reset_requests()
    token = emu.tokens["staff"]
    fetch(emu.url, BASE, token)
    fetch(emu.url, BASE + "?page=2", token)
    fetch(emu.url, BASE, token, method="HEAD")
    fetch(emu.url, "/api/openstack-images/usage_stats/", token, scheme="Bearer")
    fetch(emu.url, BASE)  # 401 counts too
    expected = {"GET /api/openstack-images/": 3, "HEAD /api/openstack-images/": 1, "GET /api/openstack-images/usage_stats/": 1}
    assert emu.request_counts() == expected
    assert emu.request_count(method="GET") == 4
    assert emu.request_count(path=BASE) == 4
    # Over HTTP, without authentication, and not counted itself.
    over_http = fetch(emu.url, "/__emulator__/requests")
    assert over_http.status == 200 and over_http.json() == expected
    assert emu.request_counts() == expected
    recorded = emu.requests
    assert [(method, path) for method, path, _headers in recorded] == [
        ("GET", BASE), ("GET", BASE + "?page=2"), ("HEAD", BASE), ("GET", "/api/openstack-images/usage_stats/"), ("GET", BASE)]
    auth_values = [value for _m, _p, headers in recorded for name, value in headers if name.lower() == "authorization"]
    assert auth_values == ["Token <redacted>"] * 3 + ["Bearer <redacted>"]
    assert token not in json.dumps(recorded)
    detail = fetch(emu.url, "/__emulator__/requests?detail=1").json()
    assert detail["counts"] == expected and len(detail["requests"]) == 5
    assert fetch(emu.url, "/__emulator__/requests", method="DELETE").status == 200
    assert emu.request_counts() == {} and emu.requests == []


def test_request_counting_is_thread_safe(fresh_emu):
    emu = fresh_emu
    emu.reset_requests()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=30)
        try:
            for _index in range(25):
                assert fetch(emu.url, BASE, emu.tokens["user"], conn=conn).status == 200
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert emu.request_counts() == {"GET /api/openstack-images/": 200}


def test_mutations_invalidate_caches(fresh_emu):
    emu = fresh_emu
    token = emu.tokens["staff"]
    sett = emu.dataset["service_settings"][0]["uuid"]
    tenant = next(t for t in emu.dataset["tenants"] if t["service_settings_uuid"] == sett)["uuid"]
    before = fetch(emu.url, BASE + "?name=fresh-image", token)
    assert before.count == 0
    added = emu.add_image("fresh-image", sett, [tenant], min_disk=10240, backend_created_at="2025-01-01T00:00:00.000000Z")
    after = fetch(emu.url, BASE + "?name=fresh-image", token)
    assert after.count == 1 and after.json()[0]["uuid"] == added["uuid"] and after.json()[0]["min_disk"] == 10240
    assert added["uuid"] in emu.dataset["visibility"]["staff"]["images"]
    # A newer duplicate hides the older one from the default list (dedup).
    newer = emu.add_image("fresh-image", sett, [tenant], backend_created_at="2025-06-01T00:00:00.000000Z")
    assert [i["uuid"] for i in fetch(emu.url, BASE + "?name=fresh-image", token).json()] == [newer["uuid"]]
    everything = fetch_all(emu.url, BASE + "?show_duplicate_names=true&page_size=300", token)[0]
    assert sorted(i["uuid"] for i in everything if i["name"] == "fresh-image") == sorted([added["uuid"], newer["uuid"]])
    emu.update_image(newer["uuid"], name="renamed-image")
    assert fetch(emu.url, BASE + "?name_exact=renamed-image", token).count == 1
    assert fetch(emu.url, BASE + "?name=fresh-image", token).count == 1
    emu.remove_image(added["uuid"])
    assert fetch(emu.url, BASE + "?name=fresh-image", token).count == 0
    assert fetch(emu.url, "/api/openstack-images/%s/" % added["uuid"], token).status == 404
    # usage_stats follows the data too
    emu.add_instance("renamed-image", sett, "ACTIVE")
    stats = fetch_all(emu.url, "/api/openstack-images/usage_stats/?service_provider=%s&page_size=300" % sett, token)[0]
    assert {"name": "renamed-image", "running_instances_count": 1, "created_instances_count": 1} in stats


def test_hook_can_change_the_data_between_pages(fresh_emu):
    emu = fresh_emu
    token = emu.tokens["staff"]
    sett = emu.dataset["service_settings"][0]["uuid"]
    first = fetch(emu.url, BASE + "?page_size=5", token)
    total = first.count
    seen = []

    def hook(method, path, params):
        seen.append((method, path, params.get("page")))
        if params.get("page") == "2" and not any(i["name"] == "\tinserted" for i in emu.dataset["images"]):
            emu.add_image("\tinserted", sett)

    emu.add_hook(hook)
    second = fetch(emu.url, BASE + "?page_size=5&page=2", token)
    emu.clear_hooks()
    assert seen == [("GET", BASE, "2")]
    assert second.count == total + 1
    # a tab sorts first: everything shifted by one, page 2 now starts with page 1's last item.
    assert second.json()[0]["uuid"] == first.json()[-1]["uuid"]


def test_injected_proxy_failures(fresh_emu):
    emu = fresh_emu
    token = emu.tokens["staff"]
    emu.add_fault(502)
    emu.add_fault(429, retry_after="7", path="/api/openstack-images/usage_stats/")
    reply = fetch(emu.url, BASE, token)
    assert reply.status == 502 and reply.header("Content-Type") == "text/html" and b"Bad Gateway" in reply.body
    assert fetch(emu.url, BASE, token).status == 200
    reply = fetch(emu.url, "/api/openstack-images/usage_stats/", token)
    assert reply.status == 429 and reply.header("Retry-After") == "7"
    assert fetch(emu.url, "/api/openstack-images/usage_stats/", token).status == 200
    emu.add_fault(kind="reset", status=0)
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        fetch(emu.url, BASE, token)
    assert fetch(emu.url, BASE, token).status == 200
    # the same over HTTP
    added = fetch(emu.url, "/__emulator__/faults", method="POST", body=json.dumps({"status": 503, "count": 2}).encode())
    assert added.status == 200
    assert [fetch(emu.url, BASE, token).status for _index in range(3)] == [503, 503, 200]


def test_stop_closes_idle_keep_alive_connections():
    emu = WaldurEmulator(generate_dataset(images=5, tenants=1, settings=1)).start()
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    assert fetch(emu.url, BASE, emu.tokens["staff"], conn=conn).status == 200
    start = time.monotonic()
    emu.stop()
    assert time.monotonic() - start < 5
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        fetch(emu.url, BASE, emu.tokens["staff"], conn=conn)
    conn.close()

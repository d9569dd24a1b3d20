"""Fault injection: every kind, every selector, the control path, the command line, and HTTPS."""

from __future__ import annotations

import http.client
import json
import ssl
import time

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch
from tests.emulator.faults import KINDS, parse_fault_spec
from tests.emulator.tls import make_test_pki
from tests.fidelity.test_cli import start_cli, stop

BASE = "/api/openstack-images/"
PAGE = BASE + "?page_size=5"
USAGE = BASE + "usage_stats/"


@pytest.fixture
def emu():
    with WaldurEmulator(generate_dataset(images=60, tenants=6, settings=3, seed=7)) as server:
        server.token = server.tokens["staff"]
        yield server


def get(emu, path=PAGE, method="GET"):
    return fetch(emu.url, path, emu.token, method=method)


def broken(emu, path=PAGE):
    """The error a raw client gets, or the reply if there was none."""
    try:
        return get(emu, path)
    except (ConnectionError, http.client.HTTPException) as exc:
        return exc


# ------------------------------------------------------------------------------------- kinds
@pytest.mark.parametrize("status, title", [(429, "Too Many Requests"), (500, "Internal Server Error"), (502, "Bad Gateway"),
                                           (503, "Service Temporarily Unavailable"), (504, "Gateway Time-out")])
def test_status_kinds_answer_an_nginx_page(emu, status, title):
    emu.add_fault(kind=str(status))
    reply = get(emu)
    assert reply.status == status
    assert reply.header("Content-Type") == "text/html"
    assert ("<title>%d %s</title>" % (status, title)).encode() in reply.body
    assert reply.header("Retry-After") == ("1" if status == 429 else None)
    assert reply.header("X-Result-Count") is None
    assert get(emu).status == 200


def test_retry_after_can_be_given_in_seconds_or_as_a_date(emu):
    emu.add_fault(kind="429", retry_after=0)
    emu.add_fault(kind="503", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert get(emu).header("Retry-After") == "0"
    assert get(emu).header("Retry-After") == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_html200_is_a_login_page_with_status_200(emu):
    emu.add_fault(kind="html200")
    reply = get(emu)
    assert reply.status == 200 and reply.header("Content-Type") == "text/html" and b"Please sign in" in reply.body


def test_html502_and_a_custom_body(emu):
    emu.add_fault(kind="html502")
    emu.add_fault(status=503, body='{"detail": "maintenance"}', content_type="application/json")
    assert get(emu).status == 502
    reply = get(emu)
    assert (reply.status, reply.json()) == (503, {"detail": "maintenance"})


@pytest.mark.parametrize("kind", ["reset", "eof", "drop"])
def test_broken_connections(emu, kind):
    emu.add_fault(kind=kind)
    failure = broken(emu)
    if kind == "eof":
        assert isinstance(failure, http.client.IncompleteRead)
        assert 0 < len(failure.partial) and failure.expected > 0
    else:
        assert isinstance(failure, (ConnectionResetError, http.client.HTTPException))
    assert get(emu).status == 200


def test_status_zero_still_means_drop(emu):
    fault = emu.add_fault(status=0)
    assert fault.kind == "drop"


def test_truncated_is_a_complete_answer_with_a_cut_json_body(emu):
    whole = get(emu)
    emu.add_fault(kind="truncated")
    emu.add_fault(kind="truncated", at=3)
    cut = get(emu)
    assert cut.status == 200 and cut.header("X-Result-Count") == whole.header("X-Result-Count")
    assert cut.body == whole.body[:len(whole.body) // 2]
    assert int(cut.header("Content-Length")) == len(cut.body)
    with pytest.raises(ValueError):
        cut.json()
    assert get(emu).body == whole.body[:3]


def test_delay_answers_late_but_whole(emu):
    whole = get(emu)
    emu.add_fault(kind="delay", delay=0.3)
    started = time.monotonic()
    late = get(emu)
    assert time.monotonic() - started >= 0.3
    assert late.body == whole.body


def test_wrong_count_changes_only_the_header(emu):
    whole = get(emu)
    emu.add_fault(kind="wrong_count")
    emu.add_fault(kind="wrong_count", delta=7)
    emu.add_fault(kind="wrong_count", result_count=2)
    counts = [get(emu) for _index in range(3)]
    assert [reply.count for reply in counts] == [whole.count - 1, whole.count + 7, 2]
    assert all(reply.body == whole.body and reply.header("Link") == whole.header("Link") for reply in counts)


def test_add_and_remove_image_change_the_data_before_the_answer(emu):
    before = get(emu)
    emu.add_fault(kind="add_image", uuid="a" * 32, name="!fault-first")
    added = get(emu)
    assert added.count == before.count + 1
    # "!" sorts before letters and digits: the image is on page 1 and every later page shifts by one.
    assert "a" * 32 in [image["uuid"] for image in added.json()]
    assert [image["uuid"] for image in added.json() if image["uuid"] != "a" * 32] == [
        image["uuid"] for image in before.json()[:-1]]
    assert "a" * 32 in emu.dataset["visibility"]["staff"]["images"]
    emu.add_fault(kind="remove_image", uuid="a" * 32)
    assert get(emu).body == before.body
    # Without a uuid: the first listed image whose name no other image has.
    names = [image["name"] for image in emu.dataset["images"]]
    first_unique = next(uuid for uuid in emu.dataset["visibility"]["staff"]["default_list"]
                        if names.count(next(i["name"] for i in emu.dataset["images"] if i["uuid"] == uuid)) == 1)
    emu.add_fault(kind="remove_image")
    assert get(emu).count == before.count - 1
    assert first_unique not in emu.dataset["visibility"]["staff"]["images"]


def test_add_image_changes_usage_stats_too(emu):
    settings = emu.dataset["service_settings"][0]["uuid"]
    query = USAGE + "?service_provider=%s&page_size=300" % settings
    rows = get(emu, query).count
    emu.add_fault(kind="add_image", path=USAGE)
    assert get(emu, query).count == rows + 1


def test_redirect_and_link_host(emu):
    emu.add_fault(kind="redirect", location="http://127.0.0.1:9/api/openstack-images/", status=301)
    emu.add_fault(kind="link_host", host="https://other.example:8443")
    moved = get(emu)
    assert moved.status == 301 and moved.header("Location") == "http://127.0.0.1:9/api/openstack-images/"
    assert moved.body == b""
    relinked = get(emu, PAGE + "&page=2")
    links = relinked.links()
    assert set(links) == {"first", "prev", "next", "last"}
    assert all(url.startswith("https://other.example:8443/api/openstack-images/?") for url in links.values())
    assert relinked.status == 200 and relinked.json()


def test_head_requests_get_the_headers_of_a_fault(emu):
    emu.add_fault(kind="truncated")
    emu.add_fault(kind="429")
    assert get(emu, method="HEAD").status == 200
    reply = get(emu, method="HEAD")
    assert reply.status == 429 and reply.body == b""


# --------------------------------------------------------------------------------- selectors
def test_path_is_a_pattern_exact_by_default(emu):
    emu.add_fault(kind="503", path=BASE, count=None)
    assert get(emu, USAGE).status == 200
    assert get(emu).status == 503
    emu.clear_faults()
    emu.add_fault(kind="503", path=BASE + "*", count=None)
    assert get(emu, USAGE).status == 503
    assert get(emu, "/api/openstack-tenants/").status == 200


def test_page_method_and_query_selectors(emu):
    emu.add_fault(kind="503", page=2, count=None)
    assert [get(emu, p).status for p in (PAGE, PAGE + "&page=1", PAGE + "&page=2")] == [200, 200, 503]
    emu.clear_faults()
    emu.add_fault(kind="503", page=1, method="HEAD", count=None)
    assert get(emu).status == 200 and get(emu, method="HEAD").status == 503
    emu.clear_faults()
    emu.add_fault(kind="503", query="page_size=7&name=ubuntu", count=None)
    assert get(emu, BASE + "?page_size=7").status == 200
    assert get(emu, BASE + "?name=ubuntu&page_size=7").status == 503


def test_every_nth_and_count(emu):
    fault = emu.add_fault(kind="503", every=3, count=2)
    assert [get(emu).status for _index in range(10)] == [200, 200, 503, 200, 200, 503, 200, 200, 200, 200]
    assert fault.fired == 2
    assert emu.pending_faults() == []


def test_probability_is_seeded_and_so_repeatable(emu):
    def run(seed):
        emu.clear_faults()
        emu.add_fault(kind="503", probability=0.5, seed=seed, count=None)
        return [get(emu).status for _index in range(12)]

    first = run(4)
    assert first == run(4)
    assert 0 < first.count(503) < 12
    assert first != run(5)


def test_the_first_matching_fault_wins_and_pending_faults_describes_them(emu):
    emu.add_fault(kind="429", path=BASE, retry_after=0)
    emu.add_fault(kind="502", count=None)
    assert get(emu).status == 429
    assert get(emu).status == 502
    pending = emu.pending_faults()
    assert pending == [{"kind": "html", "status": 502, "count": None, "fired": 1}]


@pytest.mark.parametrize("spec, message", [
    ({"kind": "teapot"}, "unknown fault kind 'teapot'"),
    ({"kind": "redirect"}, "needs a location"),
    ({"kind": "link_host"}, "needs a host"),
    ({"status": 200}, "an html fault needs an error status"),
    ({"every": 0}, "every must be 1 or more"),
    ({"probability": 2}, "probability must be from 0 to 1"),
])
def test_bad_faults_are_refused(emu, spec, message):
    with pytest.raises(ValueError, match=message):
        emu.add_fault(**spec)


# ------------------------------------------------------------------------- control path and CLI
def test_control_path_takes_every_key(emu):
    body = json.dumps({"kind": "wrong_count", "path": BASE, "page": 2, "count": "inf", "delta": 3}).encode()
    added = fetch(emu.url, "/__emulator__/faults", method="POST", body=body)
    assert added.status == 200
    assert added.json()["faults"][0]["kind"] == "wrong_count"
    assert get(emu, PAGE + "&page=2").count == get(emu).count + 3
    refused = fetch(emu.url, "/__emulator__/faults", method="POST", body=b'{"kind": "teapot"}')
    assert refused.status == 400 and "unknown fault kind" in refused.json()["detail"]
    refused = fetch(emu.url, "/__emulator__/faults", method="POST", body=b'{"colour": "red"}')
    assert refused.status == 400 and "unknown fault key colour" in refused.json()["detail"]


def test_spec_parsing():
    assert parse_fault_spec("kind=429,path=/api/openstack-images/,page=2,count=1,retry_after=1") == {
        "kind": "429", "path": "/api/openstack-images/", "page": 2, "count": "1", "retry_after": "1"}
    assert parse_fault_spec("kind=delay,delay=2.5,probability=0.25,seed=3") == {
        "kind": "delay", "delay": 2.5, "probability": 0.25, "seed": 3}
    assert parse_fault_spec('{"kind": "503", "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"}')["retry_after"].startswith("Wed,")
    with pytest.raises(ValueError, match="unknown fault key"):
        parse_fault_spec("kind=429,size=3")
    with pytest.raises(ValueError, match="is not key=value"):
        parse_fault_spec("kind=429,oops")
    assert set(KINDS) >= {"html200", "html502", "reset", "truncated", "delay", "wrong_count", "add_image", "remove_image"}


def test_cli_faults():
    cli = start_cli("--images", "30", "--tenants", "3", "--settings", "2",
                    "--fault", "kind=429,path=/api/openstack-images/,page=2,count=1,retry_after=0",
                    "--fault", "kind=wrong_count,path=/api/openstack-images/,page=3,result_count=1000")
    try:
        token = cli.info["tokens"]["staff"]
        second = fetch(cli.info["url"], BASE + "?page_size=5&page=2", token)
        assert (second.status, second.header("Retry-After")) == (429, "0")
        assert fetch(cli.info["url"], BASE + "?page_size=5&page=2", token).status == 200
        assert fetch(cli.info["url"], BASE + "?page_size=5&page=3", token).count == 1000
    finally:
        code, _out, _err = stop(cli)
    assert code == 0


def test_cli_refuses_a_bad_fault():
    with pytest.raises(RuntimeError, match="unknown fault kind"):
        start_cli("--images", "5", "--fault", "kind=teapot")
    with pytest.raises(RuntimeError, match="unknown fault key"):
        start_cli("--images", "5", "--fault", "kind=429,colour=red")


# ------------------------------------------------------------------------------------ HTTPS
def test_https_with_a_private_ca(tmp_path):
    pki = make_test_pki(str(tmp_path))
    with WaldurEmulator(generate_dataset(images=10, tenants=2, settings=1), tls_cert=pki["cert"], tls_key=pki["key"]) as emu:
        assert emu.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=pki["ca"])
        conn = http.client.HTTPSConnection("127.0.0.1", emu.port, context=context, timeout=10)
        conn.request("GET", BASE + "?page_size=3", headers={"Authorization": "Token " + emu.tokens["staff"]})
        reply = conn.getresponse()
        body = json.loads(reply.read())
        conn.close()
        assert reply.status == 200
        assert body[0]["url"].startswith(emu.url + "/api/openstack-images/")
        assert 'https://127.0.0.1:%d/api/openstack-images/?page=2&page_size=3>; rel="next"' % emu.port in reply.getheader("Link")
        untrusting = http.client.HTTPSConnection("127.0.0.1", emu.port, context=ssl.create_default_context(), timeout=10)
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.request("GET", BASE)
        untrusting.close()


def test_cli_serves_https(tmp_path):
    pki = make_test_pki(str(tmp_path))
    cli = start_cli("--images", "5", "--tenants", "1", "--settings", "1", "--tls-cert", pki["cert"], "--tls-key", pki["key"])
    try:
        assert cli.info["url"].startswith("https://127.0.0.1:")
        port = int(cli.info["url"].rsplit(":", 1)[1])
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=pki["ca"]), timeout=10)
        conn.request("GET", BASE, headers={"Authorization": "Token " + cli.info["tokens"]["staff"]})
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        code, _out, _err = stop(cli)
    assert code == 0

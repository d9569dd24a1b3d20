"""Pagination: bare arrays, X-Result-Count, Link, page and page_size edges, HEAD."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.emulator.client import fetch, fetch_all

BASE = "/api/openstack-images/"


def staff_get(emu, path, **kwargs):
    return fetch(emu.url, path, emu.tokens["staff"], **kwargs)


def query_of(url):
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def test_default_page(emu, dataset700):
    reply = staff_get(emu, BASE)
    total = len(dataset700["visibility"]["staff"]["default_list"])
    assert reply.status == 200
    assert reply.count == total
    assert len(reply.json()) == 10
    last = math.ceil(total / 10)
    assert reply.header("Link") == (
        '<{u}{b}>; rel="first", <{u}{b}?page=2>; rel="next", <{u}{b}?page={last}>; rel="last"'.format(u=emu.url, b=BASE, last=last))


@pytest.mark.parametrize("size,expected", [("1", 1), ("299", 299), ("300", 300), ("301", 300), ("100000", 300),
                                           ("0", 10), ("-5", 10), ("abc", 10), ("", 10), ("2.5", 10), (" 7 ", 7)])
def test_page_size(emu, size, expected):
    reply = staff_get(emu, BASE + "?page_size=" + size.replace(" ", "%20"))
    assert reply.status == 200
    assert len(reply.json()) == expected
    assert math.ceil(reply.count / expected) == int(dict(query_of(reply.links()["last"]))["page"])


def test_capped_page_size_is_kept_verbatim_in_links(emu):
    reply = staff_get(emu, BASE + "?page_size=1000")
    assert len(reply.json()) == 300
    assert dict(query_of(reply.links()["next"])) == {"page": "2", "page_size": "1000"}


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.0", "999", "LAST"])
def test_invalid_page(emu, page):
    reply = staff_get(emu, BASE + "?page=" + page)
    assert reply.status == 404
    assert reply.body == b'{"detail":"Invalid page."}'
    assert reply.header("X-Result-Count") is None


def test_page_last_and_prev_links(emu, dataset700):
    total = len(dataset700["visibility"]["staff"]["default_list"])
    pages = math.ceil(total / 300)
    reply = staff_get(emu, BASE + "?page=last&page_size=300")
    assert reply.status == 200
    assert [item["uuid"] for item in reply.json()] == dataset700["visibility"]["staff"]["default_list"][(pages - 1) * 300:]
    links = reply.links()
    assert list(links) == ["first", "prev", "last"]
    assert query_of(links["first"]) == [("page_size", "300")]
    assert query_of(links["last"]) == [("page", str(pages)), ("page_size", "300")]
    # page 2's prev omits page entirely
    reply = staff_get(emu, BASE + "?page=2&page_size=300")
    assert query_of(reply.links()["prev"]) == [("page_size", "300")]


def test_empty_page_number_is_page_one(emu):
    assert staff_get(emu, BASE + "?page=").body == staff_get(emu, BASE).body


def test_empty_result(emu):
    reply = staff_get(emu, BASE + "?name=no-such-image-anywhere")
    assert reply.status == 200
    assert reply.body == b"[]"
    assert reply.count == 0
    assert list(reply.links()) == ["first", "last"]
    assert query_of(reply.links()["last"]) == [("name", "no-such-image-anywhere")]
    assert staff_get(emu, BASE + "?name=no-such-image-anywhere&page=last").status == 200
    assert staff_get(emu, BASE + "?name=no-such-image-anywhere&page=2").status == 404


def test_links_carry_every_filter_sorted_and_encoded(emu):
    reply = staff_get(emu, BASE + "?page_size=2&name=%20ubuntu-2&zeta=1&alpha=x&alpha=y&page=2")
    assert reply.status == 200
    links = reply.links()
    assert list(links) == ["first", "prev", "next", "last"]
    nxt = links["next"]
    assert nxt.startswith(emu.url + BASE + "?")
    assert urlsplit(nxt).query == "alpha=x&alpha=y&name=+ubuntu-2&page=3&page_size=2&zeta=1"
    assert urlsplit(links["first"]).query == "alpha=x&alpha=y&name=+ubuntu-2&page_size=2&zeta=1"
    assert urlsplit(links["prev"]).query == urlsplit(links["first"]).query


def test_links_and_urls_follow_the_host_header(emu):
    reply = staff_get(emu, BASE, headers={"Host": "waldur.example.test:8443"})
    assert reply.links()["next"] == "http://waldur.example.test:8443/api/openstack-images/?page=2"
    item = reply.json()[0]
    assert item["url"].startswith("http://waldur.example.test:8443/api/openstack-images/")
    assert item["settings"].startswith("http://waldur.example.test:8443/api/service-settings/")


def test_walking_next_links_visits_every_item_once(emu, dataset700):
    items, replies = fetch_all(emu.url, BASE + "?page_size=37&show_duplicate_names=true", emu.tokens["user"])
    expected = dataset700["visibility"]["user"]["images"]
    assert [item["uuid"] for item in items] == expected
    assert len(replies) == math.ceil(len(expected) / 37)
    assert all(reply.count == len(expected) for reply in replies)


@pytest.mark.parametrize("path", [BASE, BASE + "?name=debian&page=2", "/api/openstack-images/usage_stats/",
                                  "/api/openstack-tenants/", "/api/service-settings/?type=OpenStack"])
def test_head_returns_the_get_headers_without_body(emu, path):
    get = staff_get(emu, path)
    head = staff_get(emu, path, method="HEAD")
    assert head.status == get.status == 200
    assert head.body == b""
    for name in ("Content-Type", "X-Result-Count", "Link", "Allow", "Vary", "Content-Length"):
        assert head.header(name) == get.header(name), name


def test_head_of_an_invalid_page_is_404(emu):
    reply = staff_get(emu, BASE + "?page=9999", method="HEAD")
    assert reply.status == 404 and reply.body == b""

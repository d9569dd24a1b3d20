"""Pagination: bare arrays, X-Result-Count, Link, page and page_size edges, HEAD."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, quote, urlsplit

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


def walk(emu, path, page_size):
    """The items of a plain page walk (what Waldur's generated module returns) and the pages' totals."""
    items, replies = fetch_all(emu.url, path + ("&" if "?" in path else "?") + "page_size=%d" % page_size, emu.tokens["staff"])
    return items, {reply.count for reply in replies}


@pytest.mark.parametrize("page_size", [7, 10])
def test_a_plain_page_walk_repeats_and_misses_images_among_equal_names(unstable_emu, dataset700, page_size):
    truth = dataset700["visibility"]["staff"]["default_list"]
    items, totals = walk(unstable_emu, BASE, page_size)
    uuids = [item["uuid"] for item in items]
    repeated = len(uuids) - len(set(uuids))
    missed = len(set(truth) - set(uuids))
    assert totals == {len(truth)} and len(uuids) == len(truth)
    # As on the real server: as many repeated as missed, and the same wrong answer every time.
    assert repeated == missed > 0
    assert [item["uuid"] for item in walk(unstable_emu, BASE, page_size)[0]] == uuids


def test_only_the_order_among_equal_names_is_unstable(unstable_emu, emu):
    stable, _totals = walk(emu, BASE, 10)
    unstable, _totals = walk(unstable_emu, BASE, 10)
    assert [item["name"] for item in unstable] == [item["name"] for item in stable]
    assert len({item["name"] for item in stable}) < len(stable)


def test_a_tie_group_on_one_page_is_complete(unstable_emu, emu, dataset700):
    names = [item["name"] for item in walk(emu, BASE, 300)[0]]
    # The most frequent name that name_exact can match (the server strips the value it is given).
    name = max(sorted({name for name in names if name == name.strip()}), key=names.count)
    path = BASE + "?name_exact=" + quote(name)
    alone = [item["uuid"] for item in walk(unstable_emu, path, 300)[0]]
    assert len(alone) == names.count(name) > 1
    assert sorted(alone) == sorted(item["uuid"] for item in walk(emu, path, 300)[0])


def test_order_depends_on_offset_plus_limit_only(unstable_emu):
    # page 2 of 5 and page 1 of 10 end at the same row: the same top-N sort, so the same tie order.
    second_of_five = staff_get(unstable_emu, BASE + "?page=2&page_size=5").json()
    first_of_ten = staff_get(unstable_emu, BASE + "?page_size=10").json()
    assert second_of_five == first_of_ten[5:]


@pytest.mark.parametrize("path", ["/api/openstack-flavors/", "/api/openstack-tenants/"])
def test_flavors_and_tenants_are_unstable_among_equal_sort_keys(unstable_emu, emu, path):
    truth = {item["uuid"] for item in walk(emu, path, 300)[0]}
    seen = [item["uuid"] for item in walk(unstable_emu, path, 1)[0]]
    assert len(seen) == len(truth)
    assert set(seen) != truth


def usage_path(emu):
    """usage_stats of every OpenStack service settings (without service_provider only page 1 answers)."""
    providers = "&".join("service_provider=" + row["uuid"] for row in walk(emu, "/api/service-settings/?type=OpenStack", 300)[0])
    return "/api/openstack-images/usage_stats/?" + providers


def test_usage_stats_rows_keep_one_order_at_every_page_size(unstable_emu, emu):
    # As measured on a real Waldur (386 and 5,386 distinct names, 50 to 300 per page, two walks
    # each): every walk complete, without a repeat. The emulator's defaults, as the real server.
    path = usage_path(emu)
    truth = sorted(row["name"] for row in walk(emu, path, 300)[0])
    assert len(truth) > 300
    orders = {}
    for page_size in (7, 50, 100, 200, 300):
        orders[page_size] = [row["name"] for row in walk(unstable_emu, path, page_size)[0]]
        assert sorted(orders[page_size]) == truth, page_size
    assert len({tuple(order) for order in orders.values()}) == 1
    # No defined order: not the names' order either, so a client cannot come to rely on one.
    assert orders[300] != truth


def test_usage_stats_rows_shift_with_the_page_with_shifting_usage_order(shifting_usage_emu, emu):
    path = usage_path(emu)
    truth = {row["name"] for row in walk(emu, path, 300)[0]}
    seen = [row["name"] for row in walk(shifting_usage_emu, path, 7)[0]]
    assert len(seen) == len(truth)
    assert set(seen) != truth

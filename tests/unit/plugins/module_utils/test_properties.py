"""Property-based tests (hypothesis): the URL builder, the page planner, the size parser, and a fuzz
run of the client against truncated and corrupted answers that must never pass for a whole list."""
from __future__ import annotations

import json
import math
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient, _origin
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings, normalize_api_url
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import parse_size
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, TOKEN, ScriptedTransport, install, make_client
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------------------------------ URLs
labels = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.tuples(*[st.integers(0, 255)] * 4).map(lambda octets: ".".join(map(str, octets))),
    st.sampled_from(["[::1]", "[2001:db8::7]", "localhost"]),
)
segments = st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True).filter(lambda s: s not in (".", ".."))


@st.composite
def api_urls(draw):
    """(text as a user might write it, its scheme://netloc, the path prefix before /api)."""
    scheme = draw(st.sampled_from(["http", "https"]))
    netloc = draw(hosts)
    port = draw(st.none() | st.integers(1, 65535))
    if port is not None:
        netloc += ":%d" % port
    prefix = "".join("/" + s for s in draw(st.lists(segments, max_size=3)))
    api = draw(st.sampled_from(["", "/api"]))
    text = "%s://%s%s%s%s" % (scheme, netloc, prefix, api, "/" * draw(st.integers(0, 3)))
    text = " " * draw(st.integers(0, 2)) + text + draw(st.sampled_from(["", " ", "\t", "\n"]))
    return text, "%s://%s" % (scheme, netloc), prefix


@FAST
@given(api_urls())
def test_normalize_api_url_keeps_the_origin_and_the_prefix_and_ends_in_api(case):
    text, origin, prefix = case
    root = normalize_api_url(text)
    assert root.startswith(origin + "/")
    assert root.endswith("/api/")
    path = urlsplit(root).path
    if prefix.endswith("/api"):
        assert path == prefix + "/"
    else:
        assert path == prefix + "/api/"
    # Idempotent, and every spelling of the same root is the same root.
    assert normalize_api_url(root) == root
    assert normalize_api_url(origin + prefix + "/api") == normalize_api_url(origin + prefix + "/api/")


@FAST
@given(st.text(max_size=60))
@example("http://[::1")
@example("https://ho st/api/")
@example("https://user:secret@h/")
@example("https://h:0/")
def test_normalize_api_url_accepts_or_names_the_option_never_crashes(text):
    try:
        root = normalize_api_url(text)
    except WaldurConfigError as error:
        assert error.option == "api_url"
        assert str(error).startswith("api_url: ")
        if "@" in text:
            assert "secret" not in str(error) or "secret" in text.split("@")[-1]
        return
    assert normalize_api_url(root) == root
    assert urlsplit(root).scheme in ("http", "https")


@FAST
@given(api_urls(), st.text(max_size=40), st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=5))
def test_url_for_stays_on_the_origin_and_encodes_every_parameter(case, path, params):
    text, origin, _prefix = case
    client = WaldurClient(ConnectionSettings(text, TOKEN), max_workers=1)
    url = client.url_for(path, params)
    assert url.startswith(client.settings.api_root)
    assert _origin(url) == _origin(origin + "/")
    parts = urlsplit(url)
    assert parts.path.endswith("/")
    assert parse_qsl(parts.query, keep_blank_values=True) == list(params)


# ---------------------------------------------------------------------------- scripted server
class Server:
    """A fake Waldur list endpoint, the responder of a ScriptedTransport; ``mutate(page, call, answer)`` changes
    the answer to the ``call``-th request of ``page``."""

    def __init__(self, root, items, page_size, mutate=None):
        self.root = root
        self.items = items
        self.page_size = page_size
        self.mutate = mutate or (lambda page, call, response: response)
        self.calls = {}
        self.requested = []

    def pages(self):
        return max(1, math.ceil(len(self.items) / self.page_size))

    def page_answer(self, page):
        """(status, headers, body) as Waldur would send page ``page``."""
        items = self.items[(page - 1) * self.page_size:page * self.page_size]
        rels = ["first"] + (["prev"] if page > 1 else []) + (["next"] if page < self.pages() else []) + ["last"]
        link = ", ".join('<%s?page=%d>; rel="%s"' % (self.root, page, rel) for rel in rels)
        headers = {"Content-Type": "application/json", "X-Result-Count": str(len(self.items)), "Link": link}
        return 200, headers, json.dumps(items, separators=(",", ":")).encode()

    def __call__(self, request):
        """The answer to ``request``; the transport calls it under its lock."""
        query = dict(parse_qsl(urlsplit(request.url).query))
        page = int(query.get("page", "1"))
        self.requested.append((page, int(query["page_size"])))
        call = self.calls.get(page, 0)
        self.calls[page] = call + 1
        if page > self.pages():
            return 404, {"Content-Type": "application/json"}, b'{"detail":"Invalid page."}'
        return self.mutate(page, call, self.page_answer(page))


def client_for(server, page_size, max_workers=1, retries=2):
    client = make_client(page_size, max_workers, retries, budget=1e9)
    install(client, ScriptedTransport(respond=server))
    return client


def objects(count):
    return [{"uuid": "%032x" % number, "name": "image-%05d" % number, "min_disk": number % 7, "min_ram": 0}
            for number in range(count)]


# ------------------------------------------------------------------------------- page planner
@st.composite
def listings(draw):
    """(total, page_size): any page size up to the server's 300, and up to 25 pages of it."""
    page_size = draw(st.integers(1, 300))
    return draw(st.integers(0, 25 * page_size)), page_size


@FAST
@given(listings(), st.integers(1, 4))
@example((0, 1), 1)
@example((300, 300), 1)
@example((301, 300), 4)
@example((7500, 300), 4)
def test_the_page_planner_asks_for_each_page_once_and_returns_every_object_in_order(listing, workers):
    total, page_size = listing
    items = objects(total)
    server = Server(IMAGES, items, page_size)
    result = client_for(server, page_size, workers).list_all("openstack-images/")
    assert result == items
    pages = max(1, math.ceil(total / page_size))
    assert sorted(page for page, _size in server.requested) == list(range(1, pages + 1))
    assert {size for _page, size in server.requested} == {page_size}


# ----------------------------------------------------------------------------------------- fuzz
def _cut(body, fraction):
    return body[:min(len(body) - 1, int(len(body) * fraction))]


def _without_next(link):
    return ", ".join(part for part in link.split(", ") if 'rel="next"' not in part)


CORRUPTIONS = {
    # the body
    "truncate": lambda r, x: (r[0], r[1], _cut(r[2], x)),
    "garbage_after": lambda r, x: (r[0], r[1], r[2] + b"<html><body>Bad Gateway</body></html>"),
    "garbage_inside": lambda r, x: (r[0], r[1], r[2][:int(len(r[2]) * x)] + b"\xff\xfe" + r[2][int(len(r[2]) * x):]),
    "empty_body": lambda r, x: (r[0], r[1], b""),
    "object_body": lambda r, x: (r[0], r[1], b'{"detail": "Service unavailable"}'),
    "html_200": lambda r, x: (200, {"Content-Type": "text/html"}, b"<html><h1>Please sign in</h1></html>"),
    "html_502": lambda r, x: (502, {"Content-Type": "text/html"}, b"<html><h1>502 Bad Gateway</h1></html>"),
    "json_503": lambda r, x: (503, {"Content-Type": "application/json"}, b'{"detail": "down"}'),
    "throttled": lambda r, x: (429, {"Content-Type": "application/json", "Retry-After": "0"}, b'{"detail": "slow"}'),
    "server_error": lambda r, x: (500, {"Content-Type": "text/html"}, b"<h1>Server Error (500)</h1>"),
    "drop_object": lambda r, x: (r[0], r[1], _edit(r[2], lambda items: items[:int(len(items) * x)] + items[int(len(items) * x) + 1:])),
    "repeat_object": lambda r, x: (r[0], r[1], _edit(r[2], lambda items: items[:1] + items[:-1] if items else items)),
    "total_plus": lambda r, x: (r[0], dict(r[1], **{"X-Result-Count": str(int(r[1]["X-Result-Count"]) + 1 + int(x * 50))}), r[2]),
    "total_minus": lambda r, x: (r[0], dict(r[1], **{"X-Result-Count": str(max(0, int(r[1]["X-Result-Count"]) - 1 - int(x * 50)))}), r[2]),
    "total_missing": lambda r, x: (r[0], {k: v for k, v in r[1].items() if k != "X-Result-Count"}, r[2]),
    "total_garbage": lambda r, x: (r[0], dict(r[1], **{"X-Result-Count": "NaN"}), r[2]),
    "next_missing": lambda r, x: (r[0], dict(r[1], Link=_without_next(r[1]["Link"])), r[2]),
    "next_added": lambda r, x: (r[0], dict(r[1], Link=r[1]["Link"] + ', <%s?page=99>; rel="next"' % IMAGES), r[2]),
    "reset": lambda r, x: requests.exceptions.ChunkedEncodingError("Connection broken: ConnectionResetError(104)"),
    "refused": lambda r, x: requests.exceptions.ConnectionError("Connection refused"),
    "timeout": lambda r, x: requests.exceptions.ReadTimeout("Read timed out."),
}


def _edit(body, change):
    return json.dumps(change(json.loads(body))).encode()


def _is_noop(name, response):
    """A corruption that happens to change nothing (e.g. removing a next link from the last page)."""
    if isinstance(response, tuple) and "Link" in response[1]:
        has_next = 'rel="next"' in response[1]["Link"]
        return (name == "next_missing" and not has_next) or (name == "next_added" and has_next)
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    total=st.integers(0, 40),
    page_size=st.integers(1, 12),
    workers=st.sampled_from([1, 3]),
    retries=st.integers(0, 3),
    plan=st.dictionaries(st.tuples(st.integers(1, 6), st.integers(0, 5)),
                         st.tuples(st.sampled_from(sorted(CORRUPTIONS)), st.floats(0, 0.999)), max_size=6),
)
def test_fuzz_a_listing_is_the_whole_truth_or_an_error_never_a_part(total, page_size, workers, retries, plan):
    items = objects(total)
    corrupted = []

    def mutate(page, call, response):
        if (page, call) not in plan:
            return response
        name, fraction = plan[(page, call)]
        if not _is_noop(name, response):
            corrupted.append(name)
        return CORRUPTIONS[name](response, fraction)

    server = Server(IMAGES, items, page_size, mutate)
    client = client_for(server, page_size, workers, retries)
    try:
        result = client.list_all("openstack-images/")
    except WaldurError:
        return
    except Exception as exc:  # pylint: disable=broad-except
        pytest.fail("the client leaked %s: %s (corruptions %s)" % (type(exc).__name__, exc, corrupted))
    assert result == items, "a corrupted listing was returned as a success: %s" % corrupted


def test_the_fuzz_corruptions_are_each_caught_alone():
    """Each corruption, on every answer for page 2 of 3 (the last page for next_added), is an error."""
    items = objects(25)
    for name, corruption in sorted(CORRUPTIONS.items()):
        spoiled = 3 if name == "next_added" else 2
        server = Server(IMAGES, items, 10, lambda page, call, response, corruption=corruption, spoiled=spoiled:
                        corruption(response, 0.5) if page == spoiled else response)
        with pytest.raises(WaldurError, match=".") as error:
            client_for(server, 10, 1, retries=0).list_all("openstack-images/")
        assert error.value, name


# ---------------------------------------------------------------------------------- size parser
UNITS = {"K": 1, "KiB": 1, "M": 1024, "MiB": 1024, "G": 1024 ** 2, "GiB": 1024 ** 2, "T": 1024 ** 3, "TiB": 1024 ** 3}


@FAST
@given(st.integers(1, 10 ** 9))
def test_a_whole_number_is_mib_as_int_or_text(mib):
    assert parse_size(mib) == mib
    assert parse_size(str(mib)) == mib
    assert parse_size(" %d " % mib) == mib


@FAST
@given(st.integers(1, 10 ** 6), st.sampled_from(sorted(UNITS)), st.sampled_from(["", " "]), st.booleans())
def test_binary_units_scale_by_1024_in_any_case_with_or_without_a_space(number, unit, space, lower):
    text = "%d%s%s" % (number, space, unit.lower() if lower else unit)
    kib = number * UNITS[unit]
    if kib % 1024:
        with pytest.raises(WaldurConfigError) as error:
            parse_size(text, option="fits.disk")
        assert error.value.option == "fits.disk"
        assert "whole number of MiB" in str(error.value)
    else:
        assert parse_size(text) == kib // 1024


@FAST
@given(st.integers(1, 10 ** 6), st.sampled_from(["KB", "MB", "GB", "TB", "kb", "Gb"]))
def test_decimal_units_are_refused_as_ambiguous(number, unit):
    with pytest.raises(WaldurConfigError) as error:
        parse_size("%d%s" % (number, unit), option="fits.ram")
    assert error.value.option == "fits.ram"
    assert "ambiguous" in str(error.value)


@FAST
@given(st.one_of(st.text(max_size=20), st.integers(-10 ** 6, 0), st.floats(allow_nan=True), st.booleans(), st.none(),
                 st.lists(st.integers(), max_size=2)))
def test_any_other_value_is_a_size_or_an_error_naming_the_option(value):
    try:
        mib = parse_size(value, option="fits.disk")
    except WaldurConfigError as error:
        assert error.option == "fits.disk"
        assert "give" in str(error).lower() or "write" in str(error).lower()
        return
    assert isinstance(mib, int) and not isinstance(mib, bool) and mib >= 1


@FAST
@given(st.integers(1, 10 ** 6), st.sampled_from([("G", 1024), ("T", 1024 ** 2), ("M", 1)]))
def test_a_fraction_that_makes_whole_mib_is_accepted(number, unit):
    """1.5G is 1536 MiB; a decimal that lands on a whole MiB parses to it, one that does not is refused."""
    name, mib_per_unit = unit
    text = "%d.5%s" % (number, name)
    half = mib_per_unit // 2 if mib_per_unit > 1 else None
    if half is None:
        with pytest.raises(WaldurConfigError):
            parse_size(text)
    else:
        assert parse_size(text) == number * mib_per_unit + half

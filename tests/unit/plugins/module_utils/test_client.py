from __future__ import annotations

import email.utils
import threading
import time

import pytest
import requests

from ansible_collections.waldur.cloud.plugins.module_utils import client as client_module, errors
from ansible_collections.waldur.cloud.plugins.module_utils.client import USER_AGENT, WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings, normalize_api_url
from ansible_collections.waldur.cloud.plugins.module_utils.retries import RetryPolicy, parse_retry_after
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, ROOT, TOKEN, make_client


def image(number):
    return {"uuid": "%032x" % number, "name": "image-%03d" % number, "min_disk": 0, "min_ram": 0}


@pytest.mark.parametrize("given", [
    "https://waldur.example.com",
    "https://waldur.example.com/",
    "https://waldur.example.com/api",
    "https://waldur.example.com/api/",
    "  https://waldur.example.com/api//  ",
])
def test_every_form_of_api_url_means_the_same_root(given):
    assert normalize_api_url(given) == ROOT


def test_a_path_prefix_is_kept():
    assert normalize_api_url("https://example.com/waldur/api/") == "https://example.com/waldur/api/"
    assert normalize_api_url("https://example.com/waldur") == "https://example.com/waldur/api/"
    assert normalize_api_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/api/"


@pytest.mark.parametrize("given, fragment", [
    ("ftp://waldur.example.com", "not an http:// or https:// URL"),
    ("waldur.example.com/api/", "not an http:// or https:// URL"),
    ("https://", "no host name"),
    ("https://user:secret@waldur.example.com/api/", "must not contain credentials"),
    ("https://waldur.example.com/api/?x=1", "query string"),
    ("https://waldur.example.com:99999/api/", "invalid port"),
    ("", "is not set"),
])
def test_bad_api_url_is_a_config_error_naming_the_option(given, fragment):
    with pytest.raises(errors.WaldurConfigError) as error:
        normalize_api_url(given)
    assert error.value.option == "api_url"
    assert fragment in str(error.value)
    assert "secret" not in str(error.value)


def test_environment_fills_unset_options_and_is_named_as_the_source():
    settings = ConnectionSettings.from_options(
        {"api_url": None, "api_token": None},
        environ={"WALDUR_API_URL": "https://w.example.com", "WALDUR_API_TOKEN": TOKEN, "WALDUR_TIMEOUT": "7",
                 "WALDUR_VALIDATE_CERTS": "no", "WALDUR_AUTH_SCHEME": "Bearer"})
    assert settings.api_root == "https://w.example.com/api/"
    assert settings.source("api_token") == "the WALDUR_API_TOKEN environment variable"
    assert (settings.timeout, settings.validate_certs, settings.auth_scheme) == (7.0, False, "Bearer")


def test_options_win_over_the_environment():
    settings = ConnectionSettings.from_options(
        {"api_url": "https://option.example.com", "api_token": TOKEN},
        environ={"WALDUR_API_URL": "https://env.example.com", "WALDUR_API_TOKEN": "other"})
    assert settings.api_root == "https://option.example.com/api/"
    assert settings.api_token == TOKEN
    assert settings.source("api_token") == "the api_token option"


@pytest.mark.parametrize("options, environ, option, fragment", [
    ({"api_url": "https://w.example.com"}, {}, "api_token", "WALDUR_API_TOKEN"),
    ({"api_token": TOKEN}, {}, "api_url", "WALDUR_API_URL"),
    ({"api_url": "https://w.example.com", "api_token": "   "}, {}, "api_token", "is empty"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN + "\n"}, {}, "api_token", "white space"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN, "auth_scheme": "Basic"}, {}, "auth_scheme", "Token, Bearer"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN, "timeout": 0}, {}, "timeout", "above 0"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN, "retries": -1}, {}, "retries", "positive"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN, "ca_path": "/nonexistent/ca.pem"}, {}, "ca_path", "does not exist"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN}, {"WALDUR_VALIDATE_CERTS": "maybe"}, "WALDUR_VALIDATE_CERTS", "boolean"),
    ({"api_url": "https://w.example.com", "api_token": TOKEN}, {"WALDUR_TIMEOUT": "soon"}, "WALDUR_TIMEOUT", "seconds"),
])
def test_bad_connection_settings_name_the_option(options, environ, option, fragment):
    with pytest.raises(errors.WaldurConfigError) as error:
        ConnectionSettings.from_options(options, environ=environ)
    assert error.value.option == option
    assert fragment in str(error.value)


@pytest.mark.parametrize("page_size", [0, 301, -5, True])
def test_page_size_out_of_range(page_size):
    with pytest.raises(errors.WaldurConfigError) as error:
        make_client(page_size=page_size)
    assert error.value.option == "page_size"
    assert "1 to 300" in str(error.value)


def test_plain_http_is_flagged_only_off_loopback():
    local = ConnectionSettings.from_options({"api_url": "http://127.0.0.1:8000", "api_token": TOKEN}, environ={})
    remote = ConnectionSettings.from_options({"api_url": "http://waldur.example.com", "api_token": TOKEN}, environ={})
    assert not local.insecure_transport
    assert remote.insecure_transport


def test_list_all_reads_every_page_once_with_headers(scripted):
    client = make_client(page_size=2)
    transport = scripted.install(client, [
        (IMAGES + "?name=ubuntu&page_size=2", scripted.json([image(1), image(2)], total=5)),
        (IMAGES + "?name=ubuntu&page_size=2&page=2", scripted.json([image(3), image(4)], total=5)),
        (IMAGES + "?name=ubuntu&page_size=2&page=3", scripted.json([image(5)], total=5)),
    ])
    assert client.list_all("openstack-images/", [("name", "ubuntu")]) == [image(n) for n in range(1, 6)]
    first = transport.requests[0]
    assert first.headers["Authorization"] == "Token " + TOKEN
    assert first.headers["User-Agent"] == USER_AGENT
    assert first.headers["Accept"] == "application/json"


def test_parallel_pages_come_back_in_server_order(scripted):
    client = make_client(page_size=1, max_workers=4)
    steps = [(IMAGES + "?page_size=1", scripted.json([image(1)], total=6))]
    steps += [(IMAGES + "?page_size=1&page=%d" % n, scripted.json([image(n)], total=6)) for n in range(2, 7)]
    scripted.install(client, steps, ordered=False)
    assert [i["uuid"] for i in client.list_all("openstack-images/")] == [image(n)["uuid"] for n in range(1, 7)]


def test_empty_list_is_one_request(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json([], total=0))])
    assert client.list_all("openstack-images/") == []


def test_bearer_scheme_and_field_selection(scripted):
    client = make_client(auth_scheme="Bearer")
    url = ROOT + "openstack-tenants/?field=uuid&field=name&page_size=300"
    transport = scripted.install(client, [(url, scripted.json([{"uuid": "a" * 32, "name": "t"}], total=1))])
    client.list_all("openstack-tenants/", fields=("uuid", "name"))
    assert transport.requests[0].headers["Authorization"] == "Bearer " + TOKEN


def test_a_changing_total_restarts_the_listing(scripted):
    client = make_client(page_size=2)
    scripted.install(client, [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=3)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=4)),
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=4)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=4)),
    ])
    assert len(client.list_all("openstack-images/")) == 4


def test_a_listing_that_never_settles_fails_instead_of_returning_part(scripted):
    client = make_client(page_size=2)
    steps = []
    for total in (3, 4, 3):
        steps.append((IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=total)))
        steps.append((IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=total + 1)))
    scripted.install(client, steps)
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "could not be read consistently" in str(error.value)
    assert "total changed" in str(error.value)


def test_a_short_page_is_not_a_result(scripted):
    client = make_client(page_size=2, retries=0)
    steps = [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=4)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3)], total=4)),
    ] * 3
    scripted.install(client, steps)
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "page 2 has 1 objects where 2 were announced" in str(error.value)


def test_missing_result_count_is_an_error(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "application/json"}, b"[]"))])
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "X-Result-Count" in str(error.value)


def test_a_repeated_object_means_one_was_missed_so_the_listing_restarts(scripted):
    client = make_client(page_size=2)
    scripted.install(client, [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=3)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(2)], total=3)),
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=3)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3)], total=3)),
    ])
    assert client.list_all("openstack-images/") == [image(1), image(2), image(3)]


def test_rows_without_uuid_are_deduplicated_by_the_given_key(scripted):
    client = make_client(page_size=1)
    rows = [{"name": "a", "running_instances_count": 1}, {"name": "b", "running_instances_count": 0}]
    scripted.install(client, [
        (IMAGES + "usage_stats/?page_size=1", scripted.json(rows[:1], total=2)),
        (IMAGES + "usage_stats/?page_size=1&page=2", scripted.json(rows[:1], total=2)),
        (IMAGES + "usage_stats/?page_size=1", scripted.json(rows[:1], total=2)),
        (IMAGES + "usage_stats/?page_size=1&page=2", scripted.json(rows[1:], total=2)),
    ])
    assert client.list_all("openstack-images/usage_stats/", key="name") == rows


def test_401_names_the_credential_source_never_the_token(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"detail": "Invalid token."}, status=401))])
    with pytest.raises(errors.WaldurAuthError) as error:
        client.list_all("openstack-images/")
    message = str(error.value)
    assert "the api_token option" in message
    assert "Invalid token." in message
    assert TOKEN not in message


def test_401_from_the_environment_says_so(scripted):
    settings = ConnectionSettings.from_options({}, environ={"WALDUR_API_URL": ROOT, "WALDUR_API_TOKEN": TOKEN})
    client = WaldurClient(settings, max_workers=1)
    scripted.install(client, [(IMAGES + "abc/", scripted.json({"detail": "Token has expired."}, status=401))])
    with pytest.raises(errors.WaldurAuthError) as error:
        client.get("openstack-images/abc/")
    assert "WALDUR_API_TOKEN environment variable" in str(error.value)
    assert "Token has expired." in str(error.value)


def test_400_names_the_parameter_and_the_server_message(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?settings_uuid=x&page_size=300",
                               scripted.json({"settings_uuid": ["Enter a valid UUID."]}, status=400))])
    with pytest.raises(errors.WaldurRequestError) as error:
        client.list_all("openstack-images/", [("settings_uuid", "x")])
    assert "settings_uuid: Enter a valid UUID." in str(error.value)


def test_404_keeps_the_server_detail(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "f" * 32 + "/", scripted.json({"detail": "No Image matches the given query."}, status=404))])
    with pytest.raises(errors.WaldurNotFoundError) as error:
        client.get("openstack-images/" + "f" * 32)
    assert error.value.payload == {"detail": "No Image matches the given query."}


def test_html_page_with_status_200_is_never_data(scripted):
    client = make_client()
    html = b"<html><body><h1>Please log in</h1></body></html>"
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "text/html"}, html))])
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "text/html" in str(error.value)
    assert "Please log in" in str(error.value)


def test_truncated_json_is_retried_then_an_error(scripted):
    client = make_client(retries=1)
    cut = (200, {"Content-Type": "application/json", "X-Result-Count": "2"}, b'[{"uuid": "a", "name": "x"}, {"uu')
    scripted.install(client, [(IMAGES + "?page_size=300", cut)] * 2)
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "not valid JSON" in str(error.value)
    assert "gave up after 2 attempts: retries is 1" in str(error.value)


def test_object_where_a_list_was_expected(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"results": []}, total=0))])
    with pytest.raises(errors.WaldurResponseError):
        client.list_all("openstack-images/")


def test_redirects_are_reported_not_followed(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (301, {"Location": "https://elsewhere.example.com/api/"}, b""))])
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "elsewhere.example.com" in str(error.value)
    assert "not followed" in str(error.value)


def test_5xx_is_retried_then_reported_with_the_body(scripted):
    sleeps = []
    client = make_client(retries=2, sleeps=sleeps)
    page = b"<html><title>502 Bad Gateway</title></html>"
    scripted.install(client, [(IMAGES + "?page_size=300", (502, {"Content-Type": "text/html"}, page))] * 3)
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "502" in str(error.value)
    assert "Bad Gateway" in str(error.value)
    assert "gave up after 3 attempts" in str(error.value)
    assert len(sleeps) == 2


def test_429_honours_retry_after_then_succeeds(scripted):
    sleeps = []
    client = make_client(sleeps=sleeps)
    scripted.install(client, [
        (IMAGES + "?page_size=300", scripted.json({"detail": "Request was throttled."}, status=429, **{"Retry-After": "7"})),
        (IMAGES + "?page_size=300", scripted.json([image(1)], total=1)),
    ])
    assert client.list_all("openstack-images/") == [image(1)]
    assert sleeps == [7.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(scripted, status):
    client = make_client(retries=3)
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"detail": "no"}, status=status))])
    with pytest.raises((errors.WaldurRequestError, errors.WaldurAuthError, errors.WaldurNotFoundError, errors.WaldurServerError)):
        client.list_all("openstack-images/")


def test_connection_failure_names_the_url_and_reason(scripted):
    client = make_client(retries=1)
    refused = requests.exceptions.ConnectionError("Connection refused")
    scripted.install(client, [(IMAGES + "?page_size=300", refused), (IMAGES + "?page_size=300", refused)])
    with pytest.raises(errors.WaldurConnectionError) as error:
        client.list_all("openstack-images/")
    assert IMAGES in str(error.value)
    assert "Connection refused" in str(error.value)


def test_retry_budget_bounds_the_waiting(scripted):
    sleeps = []
    policy = RetryPolicy(retries=10, budget=5, sleep=sleeps.append)
    client = WaldurClient(ConnectionSettings.from_options({"api_url": ROOT, "api_token": TOKEN}, environ={}),
                          max_workers=1, retry_policy=policy)
    throttled = scripted.json({"detail": "slow down"}, status=429, **{"Retry-After": "3"})
    scripted.install(client, [(IMAGES + "?page_size=300", throttled)] * 2)
    with pytest.raises(errors.WaldurServerError):
        client.list_all("openstack-images/")
    assert sum(sleeps) <= 5


def test_retry_after_forms():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("100000") == 120.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# ----------------------------------------------------------------- faults in the body and the paging
def link(*rels):
    """A Link header naming only the given relations (the client reads rel="next", never follows it)."""
    return ", ".join('<https://elsewhere.example.com/api/x/?page=9>; rel="%s"' % rel for rel in rels)


@pytest.mark.parametrize("failure", [
    requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(6 bytes read, 94 more expected)"),
    requests.exceptions.ChunkedEncodingError("Connection broken: ConnectionResetError(104, 'Connection reset by peer')"),
    requests.exceptions.ContentDecodingError("Received response with content-encoding: gzip, but failed to decode it."),
    requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)"),
    requests.exceptions.ConnectTimeout("Connection to waldur.example.com timed out."),
    requests.exceptions.ConnectionError("Read timed out."),
])
def test_a_broken_or_slow_answer_is_retried(scripted, failure):
    """The body is read inside session.get(): a reset, an early close or a timeout mid-body is retried."""
    sleeps = []
    client = make_client(sleeps=sleeps)
    scripted.install(client, [(IMAGES + "?page_size=300", failure), (IMAGES + "?page_size=300", scripted.json([image(1)], total=1))])
    assert client.list_all("openstack-images/") == [image(1)]
    assert len(sleeps) == 1


def test_a_broken_answer_that_persists_is_a_connection_error_not_a_requests_exception(scripted):
    client = make_client(retries=2)
    broken = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(6 bytes read, 94 more expected)")
    scripted.install(client, [(IMAGES + "?page_size=300", broken)] * 3)
    with pytest.raises(errors.WaldurConnectionError) as error:
        client.list_all("openstack-images/")
    assert "the connection broke while the answer was read (Connection broken: IncompleteRead" in str(error.value)
    assert "gave up after 3 attempts: retries is 2" in str(error.value)


def test_a_timeout_names_the_timeout_option(scripted):
    client = make_client(retries=0, timeout=2.5)
    scripted.install(client, [(IMAGES + "?page_size=300", requests.exceptions.ReadTimeout("Read timed out."))])
    with pytest.raises(errors.WaldurConnectionError) as error:
        client.list_all("openstack-images/")
    assert "no answer within the timeout of 2.5 s" in str(error.value)
    assert "gave up" not in str(error.value)


@pytest.mark.parametrize("scheme, timeout, handshake", [
    ("https", 30, 10), ("https", 8, 6), ("https", 1, 0.75), ("http", 30, 10), ("http", 4, 4)])
def test_connecting_gets_at_most_10_s_and_https_keeps_a_quarter_for_the_probe(scheme, timeout, handshake):
    """A plain-HTTP server behind https:// is named within 15 s with the defaults: 10 s of handshake, then the probe."""
    assert client_module._connect_timeout(timeout, scheme) == handshake  # pylint: disable=protected-access


def test_a_tls_alert_is_no_plain_http_server_and_is_not_probed(scripted, monkeypatch):
    """The server answered in TLS (refusing the protocol version): nothing to probe, no plain-http hint."""
    def no_probe(*_args, **_kwargs):
        raise AssertionError("a plain-HTTP probe was sent")

    monkeypatch.setattr(client_module.socket, "create_connection", no_probe)
    client = make_client(retries=3)
    alert = requests.exceptions.SSLError("[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1000)")
    scripted.install(client, [(IMAGES + "?page_size=300", alert)])
    with pytest.raises(errors.WaldurConnectionError) as error:
        client.list_all("openstack-images/")
    assert str(error.value).endswith("the TLS handshake failed ([SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol "
                                     "version (_ssl.c:1000))"), str(error.value)


def test_any_other_requests_failure_is_a_waldur_error(scripted):
    client = make_client(retries=3)
    scripted.install(client, [(IMAGES + "?page_size=300", requests.exceptions.InvalidHeader("bad header"))])
    with pytest.raises(errors.WaldurConnectionError) as error:
        client.list_all("openstack-images/")
    assert "bad header" in str(error.value)


def test_a_body_that_is_not_utf8_is_corrupt_not_guessed(scripted):
    client = make_client(retries=0)
    body = b'[{"uuid": "' + b"a" * 31 + b'\xff", "name": "x"}]'
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "application/json", "X-Result-Count": "1"}, body))])
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "not valid JSON" in str(error.value)


def test_a_list_of_non_objects_is_not_data(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json([1, 2], total=2))])
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "2 int item(s) where only objects were expected" in str(error.value)


@pytest.mark.parametrize("count", ["-1", "", "12abc"])
def test_an_invalid_result_count_is_an_error(scripted, count):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "application/json", "X-Result-Count": count}, b"[]"))])
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "no valid X-Result-Count" in str(error.value)


def test_a_total_too_small_is_caught_by_the_next_link_of_the_last_page(scripted):
    """Every page full and agreeing on a wrong total: only the Link header shows more pages exist."""
    client = make_client(page_size=2)
    wrong = [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=4, Link=link("first", "next", "last"))),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=4, Link=link("first", "prev", "next", "last"))),
    ]
    scripted.install(client, wrong * 3)
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "page 2, the last for a total of 4, links a next page (the total is wrong)" in str(error.value)


def test_a_page_that_links_no_next_page_too_early_is_a_problem(scripted):
    client = make_client(page_size=2)
    early = [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=3, Link=link("first", "last"))),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3)], total=3, Link=link("first", "prev", "last"))),
    ]
    right = [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=3, Link=link("first", "next", "last"))),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3)], total=3, Link=link("first", "prev", "last"))),
    ]
    scripted.install(client, early + right)
    assert client.list_all("openstack-images/") == [image(1), image(2), image(3)]


def test_a_page_that_vanished_restarts_the_listing(scripted):
    """The total said 3 pages; page 3 is gone (404 Invalid page.) because the list shrank meanwhile."""
    logs = []
    client = make_client(page_size=2)
    client.log = logs.append
    scripted.install(client, [
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=5)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=4)),
        (IMAGES + "?page_size=2&page=3", scripted.json({"detail": "Invalid page."}, status=404)),
        (IMAGES + "?page_size=2", scripted.json([image(1), image(2)], total=4)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3), image(4)], total=4)),
    ])
    assert client.list_all("openstack-images/") == [image(n) for n in range(1, 5)]
    assert logs and "again" in logs[0]


def test_a_404_on_the_first_page_is_still_an_error(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"detail": "Not found."}, status=404))])
    with pytest.raises(errors.WaldurNotFoundError):
        client.list_all("openstack-images/")


# ---------------------------------------------------------------------- Retry-After and the budget
def test_retry_after_is_waited_as_given_and_backoff_grows_with_jitter(scripted):
    sleeps = []
    client = make_client(retries=4, sleeps=sleeps)
    client.retry_policy.rng.seed(1)
    steps = [(IMAGES + "?page_size=300", (503, {"Content-Type": "text/html"}, b"<html>busy</html>"))] * 3
    steps.insert(1, (IMAGES + "?page_size=300", scripted.json({"detail": "slow"}, status=429, **{"Retry-After": "0"})))
    steps.append((IMAGES + "?page_size=300", scripted.json([], total=0)))
    scripted.install(client, steps)
    assert client.list_all("openstack-images/") == []
    assert sleeps[1] == 0.0
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[2] <= 2.0 and 0 <= sleeps[3] <= 4.0


def test_a_retry_after_beyond_the_budget_gives_up_at_once_and_says_why(scripted):
    sleeps = []
    policy = RetryPolicy(retries=5, budget=10, sleep=sleeps.append)
    client = WaldurClient(ConnectionSettings.from_options({"api_url": ROOT, "api_token": TOKEN}, environ={}),
                          max_workers=1, retry_policy=policy)
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"detail": "later"}, status=503, **{"Retry-After": "30"}))])
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "gave up after 1 attempt: the server asked to wait 30 s (Retry-After), more than the 10 s left of retry_budget" \
        in str(error.value)
    assert sleeps == []


def test_an_http_date_retry_after_is_honoured(scripted):
    sleeps = []
    client = make_client(sleeps=sleeps)
    when = email.utils.formatdate(time.time() + 5, usegmt=True)
    scripted.install(client, [
        (IMAGES + "?page_size=300", scripted.json({"detail": "slow"}, status=429, **{"Retry-After": when})),
        (IMAGES + "?page_size=300", scripted.json([], total=0)),
    ])
    client.list_all("openstack-images/")
    assert 3 <= sleeps[0] <= 5


def test_the_budget_is_shared_by_parallel_requests():
    policy = RetryPolicy(retries=100, budget=1.0, base=0.4, cap=0.4, sleep=lambda s: None)
    granted = []

    def take():
        for attempt in range(1, 50):
            wait, _reason = policy.plan(attempt)
            if wait is None:
                return
            granted.append(wait)

    threads = [threading.Thread(target=take) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) <= 1.0 + 1e-9
    assert policy.spent == pytest.approx(sum(granted))


def test_no_retries_means_one_attempt_and_no_suffix(scripted):
    client = make_client(retries=0)
    scripted.install(client, [(IMAGES + "?page_size=300", (502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>"))])
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "gave up" not in str(error.value)


def test_each_retry_is_logged_without_the_token(scripted):
    logs = []
    client = make_client(retries=2)
    client.log = logs.append
    scripted.install(client, [
        (IMAGES + "?page_size=300", requests.exceptions.ConnectionError("Connection reset by peer")),
        (IMAGES + "?page_size=300", scripted.json({"detail": "throttled"}, status=429, **{"Retry-After": "0"})),
        (IMAGES + "?page_size=300", scripted.json([], total=0)),
    ])
    client.list_all("openstack-images/")
    assert len(logs) == 2
    assert logs[0].startswith("retry 1 of 2 in ") and "Connection reset by peer" in logs[0]
    assert logs[1] == "retry 2 of 2 in 0s: %s?page_size=300 answered 429 : throttled" % IMAGES
    assert not any(TOKEN in line for line in logs)


# ---------------------------------------------------------------------- the token and its origin
def test_a_server_page_that_echoes_the_token_is_redacted(scripted):
    client = make_client(retries=0)
    page = ("<html><pre>HTTP_AUTHORIZATION = 'Token %s'</pre></html>" % TOKEN).encode()
    scripted.install(client, [(IMAGES + "?page_size=300", (500, {"Content-Type": "text/html"}, page))])
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert TOKEN not in str(error.value)
    assert "Token <redacted>" in str(error.value)


def test_the_token_is_only_put_on_requests_to_the_origin():
    client = make_client()
    auth = client.session.auth
    for url, sent in [(IMAGES, True), ("https://WALDUR.example.com:443/api/x/", True), ("http://waldur.example.com/api/", False),
                      ("https://waldur.example.com:8443/api/", False), ("https://evil.example.com/api/", False),
                      ("https://waldur.example.com.evil.example.com/api/", False)]:
        prepared = requests.Request("GET", url, headers={"Authorization": "Token stale"}).prepare()
        auth(prepared)
        assert (prepared.headers.get("Authorization") == "Token " + TOKEN) is sent, url
        if not sent:
            assert "Authorization" not in prepared.headers


def test_a_request_off_the_origin_is_refused_before_it_is_sent():
    client = make_client()
    with pytest.raises(errors.WaldurError) as error:
        client._get_json("https://evil.example.com/api/openstack-images/")  # pylint: disable=protected-access
    assert "refusing to send the API token to https://evil.example.com" in str(error.value)


def test_netrc_never_replaces_the_token(scripted, tmp_path, monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine waldur.example.com login someone password elsewhere\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = make_client()
    transport = scripted.install(client, [(IMAGES + "?page_size=300", scripted.json([], total=0))])
    client.list_all("openstack-images/")
    assert transport.requests[0].headers["Authorization"] == "Token " + TOKEN


@pytest.mark.parametrize("validate_certs, ca_path, expected", [
    (True, None, "ENV"), (False, None, False), (True, "CA", "CA"), (False, "CA", False)])
def test_the_environment_can_neither_turn_verification_off_nor_replace_ca_path(
        scripted, tmp_path, monkeypatch, validate_certs, ca_path, expected):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not used: the transport is scripted\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "other.pem"))
    seen = []
    client = make_client(validate_certs=validate_certs, ca_path=str(bundle) if ca_path else None)
    transport = scripted.install(client, [(IMAGES + "?page_size=300", scripted.json([], total=0))])
    original = transport.send

    def send(request, **kwargs):
        seen.append(kwargs.get("verify"))
        return original(request, **kwargs)

    transport.send = send
    client.list_all("openstack-images/")
    # Without ca_path, REQUESTS_CA_BUNDLE stays a way to name the trust store: it still verifies.
    assert seen == [{"CA": str(bundle), "ENV": str(tmp_path / "other.pem")}.get(expected, expected)]


def test_failed_attempts_and_waits_spend_the_budget_and_attempts_are_cut_to_what_is_left():
    policy = RetryPolicy(retries=10, budget=1.0, base=4, cap=4, sleep=lambda seconds: None)
    assert policy.attempt_timeout(30) == 30  # nothing failed yet: the whole timeout
    policy.charge(0.3)
    wait, _reason = policy.plan(1)
    # No wait takes more than half of what is left, so that the retry after it has time to run.
    assert 0 <= wait <= 0.35
    assert policy.attempt_timeout(30) == pytest.approx(0.7 - wait)
    policy.charge(policy.attempt_timeout(30))  # the retry timed out: it used all that was left
    assert policy.attempt_timeout(30) is None
    assert policy.plan(2) == (None, "the 1 s of retry_budget are spent")


def test_a_retry_that_cannot_start_within_the_budget_is_not_made(scripted):
    client = make_client(retries=5, budget=0)
    failing = (IMAGES + "?page_size=300", (503, {"Content-Type": "text/html"}, b"<html>down</html>"))
    scripted.install(client, [failing])
    with pytest.raises(errors.WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "(gave up after 1 attempt: the 0 s of retry_budget are spent)" in str(error.value)
    assert client.request_count == 1

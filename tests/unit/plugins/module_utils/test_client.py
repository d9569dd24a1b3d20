from __future__ import annotations

import pytest
import requests

from ansible_collections.waldur.cloud.plugins.module_utils.client import (
    USER_AGENT,
    ConnectionSettings,
    RetryPolicy,
    WaldurAuthError,
    WaldurClient,
    WaldurConfigError,
    WaldurConnectionError,
    WaldurNotFoundError,
    WaldurRequestError,
    WaldurResponseError,
    WaldurServerError,
    normalize_api_url,
    parse_retry_after,
)

TOKEN = "0123456789abcdef0123456789abcdef01234567"
ROOT = "https://waldur.example.com/api/"
IMAGES = ROOT + "openstack-images/"


def make_client(page_size=300, max_workers=1, retries=3, sleeps=None, **settings):
    options = dict(api_url="https://waldur.example.com", api_token=TOKEN)
    options.update(settings)
    policy = RetryPolicy(retries=retries, budget=60, sleep=(sleeps.append if sleeps is not None else lambda s: None))
    return WaldurClient(ConnectionSettings.from_options(options, environ={}), page_size=page_size,
                        max_workers=max_workers, retry_policy=policy)


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
    with pytest.raises(WaldurConfigError) as error:
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
    assert settings.token_source == "the WALDUR_API_TOKEN environment variable"
    assert (settings.timeout, settings.validate_certs, settings.auth_scheme) == (7.0, False, "Bearer")


def test_options_win_over_the_environment():
    settings = ConnectionSettings.from_options(
        {"api_url": "https://option.example.com", "api_token": TOKEN},
        environ={"WALDUR_API_URL": "https://env.example.com", "WALDUR_API_TOKEN": "other"})
    assert settings.api_root == "https://option.example.com/api/"
    assert settings.api_token == TOKEN
    assert settings.token_source == "the api_token option"


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
    with pytest.raises(WaldurConfigError) as error:
        ConnectionSettings.from_options(options, environ=environ)
    assert error.value.option == option
    assert fragment in str(error.value)


@pytest.mark.parametrize("page_size", [0, 301, -5, True])
def test_page_size_out_of_range(page_size):
    with pytest.raises(WaldurConfigError) as error:
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
    with pytest.raises(WaldurResponseError) as error:
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
    with pytest.raises(WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "page 2 has 1 objects where 2 were announced" in str(error.value)


def test_missing_result_count_is_an_error(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "application/json"}, b"[]"))])
    with pytest.raises(WaldurResponseError) as error:
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
    with pytest.raises(WaldurAuthError) as error:
        client.list_all("openstack-images/")
    message = str(error.value)
    assert "the api_token option" in message
    assert "Invalid token." in message
    assert TOKEN not in message


def test_401_from_the_environment_says_so(scripted):
    settings = ConnectionSettings.from_options({}, environ={"WALDUR_API_URL": ROOT, "WALDUR_API_TOKEN": TOKEN})
    client = WaldurClient(settings, max_workers=1)
    scripted.install(client, [(IMAGES + "abc/", scripted.json({"detail": "Token has expired."}, status=401))])
    with pytest.raises(WaldurAuthError) as error:
        client.get("openstack-images/abc/")
    assert "WALDUR_API_TOKEN environment variable" in str(error.value)
    assert "Token has expired." in str(error.value)


def test_400_names_the_parameter_and_the_server_message(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?settings_uuid=x&page_size=300",
                               scripted.json({"settings_uuid": ["Enter a valid UUID."]}, status=400))])
    with pytest.raises(WaldurRequestError) as error:
        client.list_all("openstack-images/", [("settings_uuid", "x")])
    assert "settings_uuid: Enter a valid UUID." in str(error.value)


def test_404_keeps_the_server_detail(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "f" * 32 + "/", scripted.json({"detail": "No Image matches the given query."}, status=404))])
    with pytest.raises(WaldurNotFoundError) as error:
        client.get("openstack-images/" + "f" * 32)
    assert error.value.payload == {"detail": "No Image matches the given query."}


def test_html_page_with_status_200_is_never_data(scripted):
    client = make_client()
    html = b"<html><body><h1>Please log in</h1></body></html>"
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "text/html"}, html))])
    with pytest.raises(WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "text/html" in str(error.value)
    assert "Please log in" in str(error.value)


def test_truncated_json_is_an_error(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (200, {"Content-Type": "application/json", "X-Result-Count": "2"},
                                                           b'[{"uuid": "a", "name": "x"}, {"uu'))])
    with pytest.raises(WaldurResponseError) as error:
        client.list_all("openstack-images/")
    assert "not valid JSON" in str(error.value)


def test_object_where_a_list_was_expected(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", scripted.json({"results": []}, total=0))])
    with pytest.raises(WaldurResponseError):
        client.list_all("openstack-images/")


def test_redirects_are_reported_not_followed(scripted):
    client = make_client()
    scripted.install(client, [(IMAGES + "?page_size=300", (301, {"Location": "https://elsewhere.example.com/api/"}, b""))])
    with pytest.raises(WaldurServerError) as error:
        client.list_all("openstack-images/")
    assert "elsewhere.example.com" in str(error.value)
    assert "not followed" in str(error.value)


def test_5xx_is_retried_then_reported_with_the_body(scripted):
    sleeps = []
    client = make_client(retries=2, sleeps=sleeps)
    page = b"<html><title>502 Bad Gateway</title></html>"
    scripted.install(client, [(IMAGES + "?page_size=300", (502, {"Content-Type": "text/html"}, page))] * 3)
    with pytest.raises(WaldurServerError) as error:
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
    with pytest.raises((WaldurRequestError, WaldurAuthError, WaldurNotFoundError, WaldurServerError)):
        client.list_all("openstack-images/")


def test_connection_failure_names_the_url_and_reason(scripted):
    client = make_client(retries=1)
    refused = requests.exceptions.ConnectionError("Connection refused")
    scripted.install(client, [(IMAGES + "?page_size=300", refused), (IMAGES + "?page_size=300", refused)])
    with pytest.raises(WaldurConnectionError) as error:
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
    with pytest.raises(WaldurServerError):
        client.list_all("openstack-images/")
    assert sum(sleeps) <= 5


def test_retry_after_forms():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("100000") == 120.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None

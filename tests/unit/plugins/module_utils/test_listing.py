"""Listings completed under the server's unstable order among equal names: the exact requests, scripted."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils import errors
from ansible_collections.waldur.cloud.plugins.module_utils.images import IMAGE_ORDER
from ansible_collections.waldur.cloud.plugins.module_utils.usage import USAGE_ORDER
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, ScriptedTransport, install, json_response, make_client

SETTINGS_A = "https://waldur.example.com/api/service-settings/%s/" % ("a" * 32)
SETTINGS_B = "https://waldur.example.com/api/service-settings/%s/" % ("b" * 32)


def image(number, name, settings=SETTINGS_A):
    return {"uuid": "%032x" % number, "name": name, "settings": settings}


def test_a_tie_group_cut_by_a_page_boundary_costs_one_request_with_its_exact_name(scripted):
    client = make_client(page_size=2)
    transport = scripted.install(client, [
        (IMAGES + "?page_size=2", scripted.json([image(1, "alpine"), image(2, "debian")], total=4)),
        # The server's order among the three "debian" images changed between the pages: 2 again, 3 missed.
        (IMAGES + "?page_size=2&page=2", scripted.json([image(2, "debian"), image(4, "debian")], total=4)),
        (IMAGES + "?name_exact=debian&page_size=2", scripted.json([image(3, "debian"), image(4, "debian")], total=3)),
        (IMAGES + "?name_exact=debian&page_size=2&page=2", scripted.json([image(2, "debian")], total=3)),
    ], ordered=False)
    listed = client.list_all("openstack-images/", order=IMAGE_ORDER)
    assert [item["uuid"] for item in listed] == ["%032x" % number for number in (1, 2, 3, 4)]
    assert len(transport.requests) == 4


def test_no_request_more_when_every_object_arrived(scripted):
    client = make_client(page_size=2)
    transport = scripted.install(client, [
        (IMAGES + "?page_size=2", scripted.json([image(1, "debian"), image(2, "debian")], total=3)),
        (IMAGES + "?page_size=2&page=2", scripted.json([image(3, "debian")], total=3)),
    ])
    assert len(client.list_all("openstack-images/", order=IMAGE_ORDER)) == 3
    assert len(transport.requests) == 2


def test_a_name_the_server_strips_is_fetched_by_substring_and_kept_whole(scripted):
    client = make_client(page_size=1)
    scripted.install(client, [
        (IMAGES + "?page_size=1", scripted.json([image(1, " lead")], total=2)),
        (IMAGES + "?page_size=1&page=2", scripted.json([image(1, " lead")], total=2)),
        # name_exact would never match a name with a leading space: `name` finds it with other names.
        (IMAGES + "?name=lead&page_size=1", scripted.json([image(2, " lead")], total=1)),
    ])
    listed = client.list_all("openstack-images/", order=IMAGE_ORDER)
    assert sorted(item["uuid"] for item in listed) == ["%032x" % 1, "%032x" % 2]


def test_a_group_the_query_already_pins_is_split_by_settings(scripted):
    client = make_client(page_size=1)
    order = IMAGE_ORDER.with_partition_values(lambda: ["a" * 32, "b" * 32])
    scripted.install(client, [
        (IMAGES + "?name_exact=debian&page_size=1", scripted.json([image(1, "debian")], total=2)),
        (IMAGES + "?name_exact=debian&page_size=1&page=2", scripted.json([image(1, "debian")], total=2)),
        (IMAGES + "?name_exact=debian&settings_uuid=" + "a" * 32 + "&page_size=1", scripted.json([image(1, "debian")], total=1)),
        (IMAGES + "?name_exact=debian&settings_uuid=" + "b" * 32 + "&page_size=1",
         scripted.json([image(2, "debian", SETTINGS_B)], total=1)),
    ], ordered=False)
    listed = client.list_all("openstack-images/", [("name_exact", "debian")], order=order)
    assert sorted(item["uuid"] for item in listed) == ["%032x" % 1, "%032x" % 2]


def test_rows_in_no_order_are_read_again_with_another_page_size(scripted):
    client = make_client(page_size=1)
    rows = [{"name": "a"}, {"name": "b"}]
    transport = scripted.install(client, [
        (IMAGES + "usage_stats/?page_size=1", scripted.json(rows[:1], total=2)),
        (IMAGES + "usage_stats/?page_size=1&page=2", scripted.json(rows[:1], total=2)),
        (IMAGES + "usage_stats/?page_size=300", scripted.json(rows[::-1], total=2)),
    ])
    assert sorted(row["name"] for row in client.list_all("openstack-images/usage_stats/", key="name", order=USAGE_ORDER)) == \
        ["a", "b"]
    assert len(transport.requests) == 3


def test_objects_that_cannot_be_found_are_an_error_that_says_why_never_a_partial_list():
    client = make_client(page_size=1, retries=0)

    def same_image_everywhere(request):
        # A server that ignores every filter and sends one image twice, whatever the page size.
        query = dict(parse_qsl(urlsplit(request.url).query))
        size, page = int(query["page_size"]), int(query.get("page", 1))
        return json_response([image(1, "debian")] * min(size, 2 - (page - 1) * size), total=2)

    transport = install(client, ScriptedTransport(respond=same_image_everywhere))
    with pytest.raises(errors.WaldurResponseError) as error:
        client.list_all("openstack-images/", order=IMAGE_ORDER)
    message = str(error.value)
    assert "order among images with equal sort keys is not stable between pages" in message
    assert "1 of the 2 images could not be fetched on their own" in message
    assert "Narrow the listing" in message
    # The name and the settings were tried, then other page sizes, each a bounded number of times.
    assert any("name_exact=debian" in request.url for request in transport.requests)
    assert any("settings_uuid=" + "a" * 32 in request.url for request in transport.requests)
    assert len(transport.requests) < 40

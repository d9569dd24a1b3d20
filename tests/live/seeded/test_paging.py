"""The large seed: 5,000 more images, 4,300 of them under 300 names (CONTRACT.md, Pagination).

A plain walk of the pages (what Waldur's own generated clients do) repeats some images and misses
as many on the real server, because PostgreSQL orders equal names differently for each LIMIT and
OFFSET. The collection must list every image all the same.
"""
from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.integration.harness import ansible_environment, listed_uuids

PAGE_SIZE = 300


@pytest.fixture(scope="module")
def large_truth(waldur, large):
    return waldur.waldur_python(large.database, "oracle.py", "truth")


def walk_pages(url, token, page_size):
    """Every page of the image listing, following the Link header's next: the uuids in order, and the announced count."""
    session = requests.Session()
    session.headers["Authorization"] = "Token " + token
    reply = session.get(url + "/api/openstack-images/", params={"page_size": page_size}, timeout=60)
    uuids, announced = [], int(reply.headers["X-Result-Count"])
    while True:
        reply.raise_for_status()
        uuids.extend(image["uuid"] for image in reply.json())
        if "next" not in reply.links:
            return uuids, announced
        reply = session.get(reply.links["next"]["url"], timeout=60)


def test_a_plain_page_walk_repeats_and_misses_images(large, large_truth):
    expected = set(large_truth["visible"]["staff"]["images"])
    walked, announced = walk_pages(large.url, large.tokens["staff"], PAGE_SIZE)
    repeated = {uuid for uuid, count in Counter(walked).items() if count > 1}
    missing = expected - set(walked)
    assert announced == len(walked) == len(expected) > 5000
    assert repeated and missing, "the real server's pages no longer overlap: CONTRACT.md's Pagination needs another look"
    assert set(walked) <= expected


@pytest.mark.parametrize("user", ["staff", "member"])
def test_the_module_lists_every_image_exactly_once(run_cases, large, large_truth, user):
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{}], ansible_environment(large, user))
    listed = listed_uuids(results[0], "images")
    assert Counter(listed) == Counter(large_truth["visible"][user]["images"])

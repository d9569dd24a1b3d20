"""The lookup's fetch cache: one fetch per key and lifetime, shared by processes, private, tokenless."""
from __future__ import annotations

import concurrent.futures
import os
import stat
import threading

import pytest

from ansible_collections.waldur.cloud.plugins.plugin_utils.fetch_cache import FetchCache, cache_key

TOKEN = "0123456789abcdef0123456789abcdef01234567"
API = "https://waldur.example.com/api/"
QUERY = {"name": "ubuntu", "settings": None}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Fetches:
    def __init__(self, value):
        self.value = value
        self.count = 0

    def __call__(self):
        self.count += 1
        return self.value


def test_the_second_get_reads_what_the_first_fetched(tmp_path):
    cache = FetchCache(str(tmp_path), lifetime=60)
    fetch = Fetches([{"uuid": "a" * 32, "name": "ubuntu"}])
    key = cache_key(API, TOKEN, QUERY)
    assert cache.get(key, fetch) == fetch.value
    assert cache.get(key, fetch) == fetch.value
    assert fetch.count == 1


def test_a_stored_result_expires_after_its_lifetime(tmp_path):
    clock = Clock()
    cache = FetchCache(str(tmp_path), lifetime=60, clock=clock)
    fetch = Fetches(["listing"])
    key = cache_key(API, TOKEN, QUERY)
    cache.get(key, fetch)
    clock.now += 59.9
    cache.get(key, fetch)
    assert fetch.count == 1
    clock.now += 0.1
    cache.get(key, fetch)
    assert fetch.count == 2


def test_lifetime_0_turns_it_off_and_writes_nothing(tmp_path):
    cache = FetchCache(str(tmp_path), lifetime=0)
    fetch = Fetches(["listing"])
    cache.get(cache_key(API, TOKEN, QUERY), fetch)
    cache.get(cache_key(API, TOKEN, QUERY), fetch)
    assert fetch.count == 2
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("other", [
    (API.replace("example.com", "example.org"), TOKEN, QUERY),
    (API, TOKEN[:-1] + "8", QUERY),
    (API, TOKEN, dict(QUERY, settings="cloud-a")),
])
def test_another_api_token_or_query_is_another_entry(tmp_path, other):
    cache = FetchCache(str(tmp_path), lifetime=60)
    cache.get(cache_key(API, TOKEN, QUERY), Fetches(["first"]))
    assert cache.get(cache_key(*other), Fetches(["second"])) == ["second"]


def test_files_are_private_and_hold_no_token(tmp_path):
    cache = FetchCache(str(tmp_path), lifetime=60)
    cache.get(cache_key(API, TOKEN, QUERY), Fetches([{"name": "ubuntu"}]))
    files = sorted(tmp_path.iterdir())
    assert files
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert TOKEN not in path.read_text(encoding="utf-8") and TOKEN not in path.name


def test_a_failed_fetch_stores_nothing(tmp_path):
    cache = FetchCache(str(tmp_path), lifetime=60)
    key = cache_key(API, TOKEN, QUERY)

    def failing():
        raise RuntimeError("server down")

    with pytest.raises(RuntimeError):
        cache.get(key, failing)
    assert cache.get(key, Fetches(["later"])) == ["later"]


def test_a_damaged_file_is_fetched_again(tmp_path):
    cache = FetchCache(str(tmp_path), lifetime=60)
    key = cache_key(API, TOKEN, QUERY)
    cache.get(key, Fetches(["first"]))
    (tmp_path / ("waldur-cloud-%s.json" % key)).write_text('{"stored_at": 1', encoding="utf-8")
    assert cache.get(key, Fetches(["again"])) == ["again"]


def test_evaluations_that_ask_at_once_fetch_once(tmp_path):
    """Like Ansible's forks evaluating the same lookup for their hosts at the same moment. Threads stand in for the
    forks: each get() locks its own open file, as a separate process would."""
    start = threading.Barrier(8)
    fetches = []

    def fetch():
        fetches.append(threading.get_ident())
        return ["listing"]

    def ask(_number):
        cache = FetchCache(str(tmp_path), lifetime=60)
        start.wait(timeout=60)
        return cache.get(cache_key(API, TOKEN, QUERY), fetch)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, range(8)))
    assert answers == [["listing"]] * 8
    assert len(fetches) == 1

# The ansible-rulebook event source waldur.cloud.openstack_images, driven through its main() with an
# asyncio.Queue against the in-process emulator, loaded the way ansible-rulebook loads it (runpy).
# Tests wait for events and for the emulator to be asked for listings, never for time to pass.
from __future__ import annotations

import asyncio
import logging
import os
import runpy

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils import client
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurAuthError, WaldurConfigError
from tests.emulator import WaldurEmulator, generate_dataset
from tests.conftest import REPO_ROOT

SOURCE_PATH = os.path.join(REPO_ROOT, "extensions", "eda", "plugins", "event_source", "openstack_images.py")
IMAGES = "/api/openstack-images/"
# Every wait is bounded: a source that stops polling fails the test instead of hanging it.
WAIT = 20.0
INTERVAL = 0.05


@pytest.fixture
def emulator():
    with WaldurEmulator(generate_dataset(images=40, tenants=4, settings=2, seed=3), port=0) as server:
        yield server


@pytest.fixture
def big_emulator():
    # More images than one page of 300, so that a listing has pages for the data to change between.
    with WaldurEmulator(generate_dataset(images=700, tenants=4, settings=2, seed=3), port=0) as server:
        yield server


def source_args(emulator, **extra):
    # retry_budget: every failed attempt is charged to it and the retry's timeout is cut to what is
    # left, so on a busy machine a budget of 0.05 s made the retry after a 503 time out (and the tests
    # saw a timeout, not the 503). With 2 s, a retry waits at most 0.5 s (the backoff's first step).
    args = {"api_url": emulator.url, "api_token": emulator.tokens["staff"], "interval": INTERVAL,
            "retries": 1, "retry_budget": 2}
    args.update(extra)
    return args


class Listings:
    """Counts the image listing requests the emulator receives; a test awaits the next ones.

    Polls run one after another, so once the request of poll N+1 arrives, poll N has queued its events.
    """

    def __init__(self, emulator, loop):
        self.count = 0
        self.loop = loop
        self.arrived = asyncio.Event()
        emulator.add_hook(self._hook)

    def _hook(self, method, path, params):
        if method == "GET" and path == IMAGES:
            self.loop.call_soon_threadsafe(self._bump)

    def _bump(self):
        self.count += 1
        self.arrived.set()

    async def reach(self, count):
        while self.count < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), WAIT)

    async def more(self, count):
        """Wait until ``count`` more listing requests than now have arrived."""
        await self.reach(self.count + count)


def run_source(emulator, args, scenario):
    """Run main() as ansible-rulebook would while ``scenario(queue, listings, task)`` runs; then cancel it."""
    main = runpy.run_path(SOURCE_PATH)["main"]

    async def drive():
        queue = asyncio.Queue()
        listings = Listings(emulator, asyncio.get_running_loop())
        task = asyncio.create_task(main(queue, args))
        try:
            return await scenario(queue, listings, task)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            emulator.clear_hooks()

    return asyncio.run(drive())


async def next_event(queue):
    return await asyncio.wait_for(queue.get(), WAIT)


async def quiet_polls(queue, listings, polls=2, pages=1):
    """Let ``polls`` complete polls of ``pages`` pages each go by and return the events they queued."""
    await listings.more((polls + 1) * pages)
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def staff_image(emulator, index=0):
    uuid = emulator.dataset["visibility"]["staff"]["default_list"][index]
    return next(image for image in emulator.dataset["images"] if image["uuid"] == uuid)


def settings_uuid(emulator):
    return next(row["uuid"] for row in emulator.dataset["service_settings"] if row["type"] == "OpenStack")


def only_event_after(emulator, change, within_polls=None, **extra):
    """Run the source, call ``change()`` once its baseline is read, and return the one event that
    follows (no other comes in the next polls) with what ``change`` returned.

    With ``within_polls`` (for one-page listings), the event must be queued when that many listings
    have been asked for after the change: the listing of the first reflects it (the emulator reads its
    data after the hook counts the request), and the next one starts only when that poll is done.
    """
    async def scenario(queue, listings, task):
        await listings.reach(2)
        changed = change()
        if within_polls is None:
            event = await next_event(queue)
        else:
            await listings.more(within_polls)
            assert not queue.empty(), "no event within %d polls of the change" % within_polls
            event = queue.get_nowait()
        assert await quiet_polls(queue, listings) == []
        assert not task.done()
        return event, changed

    return run_source(emulator, source_args(emulator, **extra), scenario)


def test_an_added_image_is_one_added_event_with_the_image_as_the_server_sends_it(emulator):
    event, added = only_event_after(
        emulator, lambda: emulator.add_image("ubuntu-26.04", settings_uuid(emulator), min_disk=10240, min_ram=2048), within_polls=2)
    assert event["type"] == "added"
    assert "changes" not in event
    image = event["image"]
    assert (image["uuid"], image["name"], image["min_disk"], image["min_ram"]) == (added["uuid"], "ubuntu-26.04", 10240, 2048)
    assert image["url"] == "%s/api/openstack-images/%s/" % (emulator.url, added["uuid"])


def test_a_removed_image_is_one_removed_event(emulator):
    gone = staff_image(emulator, 3)
    event, _removed = only_event_after(emulator, lambda: emulator.remove_image(gone["uuid"]), within_polls=2)
    assert (event["type"], event["image"]["uuid"], event["image"]["name"]) == ("removed", gone["uuid"], gone["name"])


def test_a_changed_min_disk_is_one_changed_event_naming_old_and_new(emulator):
    image = staff_image(emulator, 5)
    event, _changed = only_event_after(emulator, lambda: emulator.update_image(image["uuid"], min_disk=image["min_disk"] + 1024), within_polls=2)
    assert event["type"] == "changed"
    assert event["image"]["uuid"] == image["uuid"]
    assert event["image"]["min_disk"] == image["min_disk"] + 1024
    assert event["changes"] == {"min_disk": [image["min_disk"], image["min_disk"] + 1024]}


def test_an_unchanged_listing_emits_nothing(emulator):
    async def scenario(queue, listings, task):
        assert await quiet_polls(queue, listings, polls=4) == []
        assert not task.done()

    run_source(emulator, source_args(emulator), scenario)


def test_emit_existing_reports_every_image_of_the_first_listing_once(emulator):
    expected = emulator.dataset["visibility"]["user"]["default_list"]

    async def scenario(queue, listings, task):
        await listings.reach(2)
        events = await quiet_polls(queue, listings)
        assert [event["type"] for event in events] == ["added"] * len(expected)
        assert [event["image"]["uuid"] for event in events] == expected

    run_source(emulator, source_args(emulator, api_token=emulator.tokens["user"], emit_existing=True), scenario)


def test_filters_select_what_is_watched(emulator):
    def add_two():
        emulator.add_image("debian-13", settings_uuid(emulator))
        return emulator.add_image("ubuntu-26.10", settings_uuid(emulator))

    event, added = only_event_after(emulator, add_two, name="UBUNTU-26")
    assert (event["type"], event["image"]["uuid"]) == ("added", added["uuid"])


def test_an_outage_emits_nothing_is_logged_once_and_what_changed_during_it_comes_once(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="waldur.cloud.openstack_images")
    gone = staff_image(emulator, 2)

    async def scenario(queue, listings, task):
        await listings.reach(2)
        outage = emulator.add_fault(kind="503", path=IMAGES, count=None)
        added = emulator.add_image("rocky-10", settings_uuid(emulator))
        emulator.remove_image(gone["uuid"])
        # Each poll asks twice (retries: 1) and gets 503 both times: five failed polls.
        await listings.more(10)
        assert queue.empty()
        emulator.clear_faults()
        events = [await next_event(queue), await next_event(queue)]
        assert sorted((event["type"], event["image"]["uuid"]) for event in events) == sorted(
            [("added", added["uuid"]), ("removed", gone["uuid"])])
        assert await quiet_polls(queue, listings) == []
        assert outage.fired >= 9
        assert not task.done()

    run_source(emulator, source_args(emulator), scenario)
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert "no events until the image listing can be read in full again" in warnings[0]
    assert "503" in warnings[0]
    assert "complete again after" in warnings[1]


def test_each_poll_is_one_line_at_info_what_ansible_rulebook_shows_with_v(emulator, caplog):
    """ansible-rulebook -v logs at INFO: the user sees each poll, its images and its changes, not only the start."""
    caplog.set_level(logging.INFO, logger="waldur.cloud.openstack_images")
    total = len(emulator.dataset["visibility"]["staff"]["default_list"])

    async def scenario(queue, listings, task):
        # The third listing asked for: the first two polls are done.
        await listings.reach(3)
        emulator.add_image("ubuntu-26.04", settings_uuid(emulator))
        await next_event(queue)
        outage = emulator.add_fault(kind="503", path=IMAGES, count=None)
        # Each poll asks twice (retries: 1): at least three polls fail in full.
        await listings.more(8)
        emulator.clear_faults()
        await listings.more(2)
        assert outage.fired >= 7

    run_source(emulator, source_args(emulator), scenario)
    lines = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert lines[0] == "poll: %d images, the baseline (no events for them)" % total
    assert lines[1] == "poll: %d images, 0 added, 0 removed, 0 changed" % total
    assert "poll: %d images, 1 added, 0 removed, 0 changed" % (total + 1) in lines
    assert "poll: no complete image listing, 2 failed poll(s) in a row" in lines
    assert lines[-1] == "poll: %d images, 0 added, 0 removed, 0 changed" % (total + 1)


def test_a_503_that_a_retry_overcomes_is_no_outage(emulator, caplog):
    caplog.set_level(logging.WARNING, logger="waldur.cloud.openstack_images")

    def fail_once_and_add():
        return emulator.add_fault(kind="503", path=IMAGES, count=1), emulator.add_image("alma-10", settings_uuid(emulator))

    event, (fault, added) = only_event_after(emulator, fail_once_and_add)
    assert (event["type"], event["image"]["uuid"]) == ("added", added["uuid"])
    assert fault.fired == 1
    assert caplog.records == []


@pytest.mark.parametrize("fault", [
    {"kind": "truncated"},
    {"kind": "wrong_count", "delta": -20},
    {"kind": "html200"},
], ids=["body-cut-short", "total-too-small", "proxy-login-page"])
def test_a_listing_cut_short_emits_no_removed_events(emulator, fault):
    async def scenario(queue, listings, task):
        await listings.reach(2)
        injected = emulator.add_fault(path=IMAGES, count=None, **fault)
        await listings.more(6)
        assert queue.empty()
        emulator.clear_faults()
        assert injected.fired >= 5
        # The next complete listing equals the baseline: still nothing.
        assert await quiet_polls(queue, listings) == []
        added = emulator.add_image("fedora-43", settings_uuid(emulator))
        event = await next_event(queue)
        assert (event["type"], event["image"]["uuid"]) == ("added", added["uuid"])

    run_source(emulator, source_args(emulator), scenario)


def test_a_total_that_changes_mid_listing_is_read_again_and_reported_once(big_emulator):
    emulator = big_emulator
    gone = staff_image(emulator, 400)

    async def scenario(queue, listings, task):
        await listings.reach(4)
        added = emulator.add_fault(kind="add_image", path=IMAGES, page=2, name="!new-mid-listing")
        removed = emulator.add_fault(kind="remove_image", path=IMAGES, page=2, uuid=gone["uuid"])
        events = [await next_event(queue), await next_event(queue)]
        assert (added.fired, removed.fired) == (1, 1)
        assert sorted((event["type"], event["image"]["name"]) for event in events) == sorted(
            [("added", "!new-mid-listing"), ("removed", gone["name"])])
        assert await quiet_polls(queue, listings, pages=2) == []

    run_source(emulator, source_args(emulator), scenario)


def test_a_revoked_token_ends_the_source_after_max_auth_failures(emulator, caplog):
    caplog.set_level(logging.DEBUG, logger="waldur.cloud.openstack_images")
    token = emulator.tokens["staff"]

    async def scenario(queue, listings, task):
        await listings.reach(2)
        emulator.revoke_token("staff")
        with pytest.raises(WaldurAuthError) as failure:
            await asyncio.wait_for(task, WAIT)
        assert queue.empty()
        return failure.value

    error = run_source(emulator, source_args(emulator, max_auth_failures=2), scenario)
    message = str(error)
    assert "2 polls in a row were refused (max_auth_failures is 2)" in message
    assert "Invalid token." in message
    assert token not in message and token not in caplog.text
    # One or two good listings, then max_auth_failures refused ones, and no more polls.
    assert emulator.request_count("GET", IMAGES) <= 4


def test_a_401_fewer_times_than_max_auth_failures_does_not_end_the_source(emulator):
    def refuse_twice_and_add():
        return emulator.add_fault(kind="html", status=401, path=IMAGES, count=2), emulator.add_image(
            "opensuse-16", settings_uuid(emulator))

    event, (fault, added) = only_event_after(emulator, refuse_twice_and_add, max_auth_failures=3)
    assert (event["type"], event["image"]["uuid"]) == ("added", added["uuid"])
    assert fault.fired == 2


@pytest.mark.parametrize("args, option, text", [
    ({"intervall": 5}, "intervall", "is not an argument of waldur.cloud.openstack_images"),
    ({"interval": "fast"}, "interval", "'fast' is not a number"),
    ({"interval": 0}, "interval", "must be a number of seconds above 0"),
    ({"emit_existing": "yes"}, "emit_existing", "is not true or false"),
    ({"max_auth_failures": 0}, "max_auth_failures", "must be 1 or more"),
    ({"settings_uuid": "cloud-a"}, "settings_uuid", "is not a uuid"),
    ({"api_token": None}, "api_token", "WALDUR_API_TOKEN"),
], ids=["unknown", "interval-text", "interval-zero", "emit_existing-text", "max_auth_failures-zero", "bad-uuid",
        "no-token"])
def test_bad_arguments_end_the_source_at_once_naming_the_option(emulator, monkeypatch, args, option, text):
    monkeypatch.delenv("WALDUR_API_TOKEN", raising=False)
    main = runpy.run_path(SOURCE_PATH)["main"]
    with pytest.raises(WaldurConfigError) as failure:
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), source_args(emulator, **args)), WAIT))
    assert failure.value.option == option
    assert text in str(failure.value)
    assert emulator.request_count() == 0


def test_without_requests_the_source_ends_at_once_saying_what_to_install(emulator, monkeypatch):
    monkeypatch.setattr(client, "HAS_REQUESTS", False)
    main = runpy.run_path(SOURCE_PATH)["main"]
    with pytest.raises(client.WaldurError, match="needs the Python library requests .*pip install requests"):
        asyncio.run(asyncio.wait_for(main(asyncio.Queue(), source_args(emulator)), WAIT))
    assert emulator.request_count() == 0

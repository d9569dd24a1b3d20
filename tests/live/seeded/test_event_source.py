"""The event source against the real Waldur: images added, changed and removed through Waldur's ORM.

The test owns a database restored from the small seed and a gunicorn serving it, so that its changes
and the restart touch no other test. It waits for events and for the source's own log records (the
start and the end of an outage), never for time to pass.
"""
from __future__ import annotations

import asyncio
import logging
import runpy

import pytest

from tests.integration.test_event_source import SOURCE_PATH, WAIT, next_event

WATCHED = "live-event-"  # the name filter of the source: only the images this test makes
CLOUD = "cloud-a"


class OutageLog(logging.Handler):
    """Sets an asyncio event when the source logs that an outage began, and another when it ended."""

    def __init__(self, loop):
        super().__init__(logging.WARNING)
        self.loop = loop
        self.began = asyncio.Event()
        self.ended = asyncio.Event()

    def emit(self, record):
        message = record.getMessage()
        if message.startswith("no events until"):
            self.loop.call_soon_threadsafe(self.began.set)
        elif message.startswith("the image listing is complete again"):
            self.loop.call_soon_threadsafe(self.ended.set)


@pytest.fixture
def private_waldur(waldur):
    """A gunicorn of its own on a database of its own (restored from the small seed)."""
    waldur.private_database("events")
    server = waldur.gunicorn("events").start()
    try:
        yield server
    finally:
        server.stop()
        waldur.cluster.drop_database("events")


@pytest.fixture
def orm(waldur, private_waldur):  # pylint: disable=unused-argument  # private_waldur: its database exists
    session = waldur.orm_session("events")
    try:
        yield session
    finally:
        session.close()


def test_exact_events_for_orm_changes_also_across_a_server_restart(waldur, private_waldur, orm):
    def change(*arguments):
        return asyncio.to_thread(orm.ask, *arguments)

    async def scenario():
        queue = asyncio.Queue()
        outage = OutageLog(asyncio.get_running_loop())
        logging.getLogger("waldur.cloud.openstack_images").addHandler(outage)
        base = await change("add", WATCHED + "base", CLOUD)
        args = {"api_url": private_waldur.url, "api_token": waldur.tokens["staff"], "name": WATCHED,
                "interval": 0.05, "retries": 0, "emit_existing": True}
        task = asyncio.create_task(runpy.run_path(SOURCE_PATH)["main"](queue, args))
        try:
            return await steps(queue, outage, base)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            logging.getLogger("waldur.cloud.openstack_images").removeHandler(outage)

    async def expect(queue, kind, uuid):
        event = await next_event(queue)
        assert (event["type"], event["image"]["uuid"]) == (kind, uuid), event
        return event

    async def steps(queue, outage, base):
        # emit_existing: the baseline is read once its one image is reported.
        await expect(queue, "added", base["uuid"])
        added = await change("add", WATCHED + "new", CLOUD)
        await expect(queue, "added", added["uuid"])
        await change("set", added["uuid"], "min_ram", 4096)
        changed = await expect(queue, "changed", added["uuid"])
        assert changed["changes"] == {"min_ram": [0, 4096]}
        await change("remove", base["uuid"])
        await expect(queue, "removed", base["uuid"])

        port = private_waldur.port
        await asyncio.to_thread(private_waldur.stop)
        await asyncio.wait_for(outage.began.wait(), WAIT)
        await asyncio.to_thread(private_waldur.start, port)
        await asyncio.wait_for(outage.ended.wait(), WAIT)
        # The first event after the restart is the next change: nothing was lost or reported again.
        marker = await change("add", WATCHED + "after-restart", CLOUD)
        await expect(queue, "added", marker["uuid"])
        assert queue.empty()

    asyncio.run(scenario())

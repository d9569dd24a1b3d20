"""Fixtures of the live suite against the real Waldur (tests/waldur_server/), seeded by seed.py.

The server is the one ``python -m tests.waldur_server run -- pytest ...`` started (it passes
WALDUR_SERVER_INFO), else one started here for the session. Expected results come from Waldur's
database and code through oracle.py, never from the collection or the emulator.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.waldur_server.server import LiveWaldur, Unavailable, WaldurServer, missing_prerequisites


def _unavailable(reason):
    message = "no real Waldur: %s; `make test-real-server` says what is needed" % reason
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true never skips it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def waldur():
    info_path = os.environ.get("WALDUR_SERVER_INFO")
    if info_path:
        with open(info_path, encoding="utf-8") as handle:
            yield LiveWaldur(json.load(handle))
        return
    missing = missing_prerequisites()
    if missing:
        _unavailable("; ".join(missing))
    try:
        started = WaldurServer().start()
    except Unavailable as exc:
        _unavailable(str(exc))
    try:
        yield LiveWaldur(started.info)
    finally:
        started.stop()


@pytest.fixture(scope="session")
def small(waldur):
    """The small data set as served: ``url``, ``tokens``, ``database``."""
    return waldur.dataset("small")


@pytest.fixture(scope="session")
def large(waldur):
    return waldur.dataset("large")


@pytest.fixture(scope="session")
def provider(waldur):
    """The provider's shape (seed.py): 200 tenants, each seeing 50 of the 150 images of cloud-provider."""
    return waldur.dataset("provider")


@pytest.fixture(scope="session")
def provider_data(waldur, provider):
    """The provider data set read from Waldur's database by oracle.py."""
    return waldur.waldur_python(provider.database, "oracle.py", "dataset")


@pytest.fixture(scope="session")
def seeded(waldur, small):
    """The small data set read from Waldur's database, in the emulator's data set format."""
    return waldur.waldur_python(small.database, "oracle.py", "dataset")


@pytest.fixture(scope="session")
def truth(waldur, small):
    """What Waldur's own code lets each user see, and its usage counts (oracle.py truth)."""
    return waldur.waldur_python(small.database, "oracle.py", "truth")


# System volume sizes (MiB) the order rule is asked about: Waldur's smallest, the seeded images'
# requirements, and one MiB below one of them.
VOLUME_SIZES = (1024, 2048, 10239, 10240, 20480, 40960)


@pytest.fixture(scope="session")
def accepted(waldur, small):
    """{(tenant uuid, flavor uuid, system volume size): image uuids} that InstanceSerializer.validate accepts."""
    return {(row["tenant"], row["flavor"], row["system_volume_size"]): set(row["images"])
            for row in waldur.waldur_python(small.database, "oracle.py", "accepts", *VOLUME_SIZES)}

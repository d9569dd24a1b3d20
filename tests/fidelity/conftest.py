"""Fixtures for the emulator's fidelity and behaviour tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.emulator import WaldurEmulator, generate_dataset  # noqa: E402  pylint: disable=wrong-import-position

# Copied from shared/waldur-api/samples, so that a clone alone runs the fidelity tests (README.md there).
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


@pytest.fixture(scope="session")
def dataset700():
    """The default data set: 700 images, 12 tenants, 3 OpenStack settings, seed 1."""
    return generate_dataset(images=700, tenants=12, settings=3, seed=1)


# The fixtures below check what a list holds with plain page walks, so they serve ties in a
# stable order; the real server's unstable order among equal names (on by default) is checked
# in test_pagination.py, and every integration test lists under it.
@pytest.fixture(scope="session")
def emu(dataset700):
    """A shared 8.x emulator.  Tests using it must not mutate its data."""
    with WaldurEmulator(dataset700, unstable_ties=False) as server:
        yield server


@pytest.fixture(scope="session")
def legacy_emu(dataset700):
    """A shared emulator serving the older shape of the recorded samples."""
    with WaldurEmulator(dataset700, legacy_fields=True, unstable_ties=False) as server:
        yield server


@pytest.fixture
def fresh_emu():
    """A private emulator (small data set) that a test may mutate."""
    with WaldurEmulator(generate_dataset(images=60, tenants=6, settings=3, seed=7), unstable_ties=False) as server:
        yield server


@pytest.fixture(scope="session")
def samples_dir():
    """The responses recorded from a real Waldur (tests/fidelity/samples/)."""
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def unstable_emu(dataset700):
    """The default data set served as the real server serves it: ties in an unstable page order."""
    with WaldurEmulator(dataset700) as server:
        yield server


@pytest.fixture(scope="session")
def shifting_usage_emu(dataset700):
    """The default data set with usage_stats rows in an order that shifts with the page size."""
    with WaldurEmulator(dataset700, shifting_usage_order=True) as server:
        yield server

"""Fixtures of the container tests: the images (built, or found up to date, by images.py) and the emulator.

The emulator and its truth are the integration suite's own fixtures, so the jobs here are checked against the
same data as the ones that run on this machine.
"""
from __future__ import annotations

import os

import pytest

from tests.containers import engine, images
from tests.integration.conftest import emulator, truth  # noqa: F401  pylint: disable=unused-import


def _image(kind):
    lacks = engine.missing()
    if lacks:
        message = "the %s image cannot be built here; this machine lacks: %s (python -m tests.containers check)" % (
            kind.upper(), "; ".join(lacks))
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true never skips it)")
        pytest.skip(message)
    return images.ensure_image(kind)


@pytest.fixture(scope="session")
def ee_image():
    return _image("ee")


@pytest.fixture(scope="session")
def de_image():
    return _image("de")

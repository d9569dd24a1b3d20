# Shared test set-up: make `ansible_collections.waldur.cloud` importable from this checkout
# (ansible-test units already does it) and the emulator importable as `tests.emulator`.
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from tests.core_versions import MARKER, MARKER_HELP, is_core_independent  # noqa: E402  pylint: disable=wrong-import-position


def _collection_importable():
    try:
        import ansible_collections.waldur.cloud.plugins.module_utils.client  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        return False
    return True


def _install_collection_finder():
    """Point Ansible's collection loader at a temp tree whose waldur/cloud links to this checkout."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    root = tempfile.mkdtemp(prefix="waldur-collections-")
    atexit.register(shutil.rmtree, root, True)
    os.makedirs(os.path.join(root, "ansible_collections", "waldur"))
    os.symlink(REPO_ROOT, os.path.join(root, "ansible_collections", "waldur", "cloud"))
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = root
    _AnsibleCollectionFinder(paths=[root])._install()  # pylint: disable=protected-access
    return root


COLLECTIONS_ROOT = None if _collection_importable() else _install_collection_finder()


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER_HELP)


def pytest_collection_modifyitems(items):
    """Mark the tests that cannot depend on the ansible-core version (tests/core_versions.py says which)."""
    for item in items:
        if is_core_independent(item.path):
            item.add_marker(MARKER)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the log of each emulator it used, as a fixture or in its body
    (requests, statuses, errors, start and stop): what the server saw, next to what the client said."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, emulator in _emulators_of(item, call):
            lines = emulator.log_lines()
            report.sections.append(("waldur emulator log (%s, last %d lines)" % (name, len(lines)), "\n".join(lines)))


def _emulators_of(item, call):
    """(name, WaldurEmulator) of the test's fixtures and of the local variables along its traceback."""
    from tests.emulator import WaldurEmulator  # pylint: disable=import-outside-toplevel

    candidates = list(getattr(item, "funcargs", {}).items())
    if call.excinfo is not None:
        for entry in call.excinfo.traceback:
            candidates.extend(entry.frame.f_locals.items())
    seen = set()
    for name, value in candidates:
        if isinstance(value, WaldurEmulator) and id(value) not in seen:
            seen.add(id(value))
            yield name, value

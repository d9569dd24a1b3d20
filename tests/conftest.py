# Shared test set-up: make `ansible_collections.waldur.cloud` importable from this checkout
# (ansible-test units already does it) and the emulator importable as `tests.emulator`.
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

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

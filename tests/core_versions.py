"""Which tests the runs on the other ansible-core versions (2.16, 2.21) repeat, and which they leave to the main run.

A test's result can depend on the ansible-core version only if it reaches ansible-core: it imports
ansible (or ansible_runner), directly or through the collection's code it imports, or it runs an
Ansible command. Those tests run on every supported core. The others test the collection's own
pure-Python code (module_utils: the client, paging, retries, filters, sizes) or the emulator
(tests/fidelity): they give the same result on any core, so the main run (ansible-core 2.19)
alone runs them. The integration tests are decided by hand, since a test's Ansible commands are
not seen in its imports: those that call the client alone, or repeat one entry point over many
cases to prove the collection's own logic (every filter against the truth, every page size, every
fault kind, request counts, time bounds), carry the marker ``core_independent`` and run in the main
run only; the other integration tests run the same entry points on every core.

``python -m tests.core_versions`` prints the unit test files that reach ansible-core, the targets
of ``ansible-test units`` on the other cores (scripts/test.sh); tests/conftest.py marks the rest
``core_independent``, so ``pytest -m "not core_independent"`` runs what the other cores repeat.
"""
from __future__ import annotations

import ast
import functools
import os
import sys

MARKER = "core_independent"
MARKER_HELP = (MARKER + ": gives the same result on every ansible-core version; the runs on other cores "
               "leave it to the main run (tests/core_versions.py)")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_ROOT = os.path.join(REPO_ROOT, "tests", "unit")
# Tests of the emulator alone: they never load the collection's plugins.
EMULATOR_ONLY_ROOT = os.path.join(REPO_ROOT, "tests", "fidelity")
ANSIBLE_CORE_PACKAGES = ("ansible", "ansible_runner")
COLLECTION_PREFIX = "ansible_collections.waldur.cloud."


def _source_file(module_name):
    """The file of this checkout that defines ``module_name``, or None if it is not the collection's or the tests'."""
    if module_name.startswith(COLLECTION_PREFIX):
        parts = module_name[len(COLLECTION_PREFIX):].split(".")
    elif module_name == "tests" or module_name.startswith("tests."):
        parts = module_name.split(".")
    else:
        return None
    base = os.path.join(REPO_ROOT, *parts)
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _imported_names(path):
    """Every module name that ``path`` imports, at the top or inside functions (``from a import b`` gives a and a.b)."""
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            for alias in node.names:
                yield "%s.%s" % (node.module, alias.name)


@functools.lru_cache(maxsize=None)
def reaches_ansible_core(path):
    """True if ``path`` imports ansible-core or ansible-runner, directly or through the checkout's modules."""
    seen = set()
    pending = [os.path.abspath(path)]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        for name in _imported_names(current):
            if name.split(".")[0] in ANSIBLE_CORE_PACKAGES:
                return True
            source = _source_file(name)
            if source is not None:
                pending.append(source)
    return False


def is_core_independent(path):
    """True for a test file whose every test gives the same result on any ansible-core (see the module's docstring)."""
    path = os.path.abspath(str(path))
    if path.startswith(EMULATOR_ONLY_ROOT + os.sep):
        return True
    return path.startswith(UNIT_ROOT + os.sep) and not reaches_ansible_core(path)


def unit_files_reaching_core():
    """The unit test files (paths from the repository root) that reach ansible-core."""
    found = []
    for directory, _subdirectories, files in os.walk(UNIT_ROOT):
        for name in files:
            path = os.path.join(directory, name)
            if name.startswith("test_") and name.endswith(".py") and not is_core_independent(path):
                found.append(os.path.relpath(path, REPO_ROOT))
    return sorted(found)


if __name__ == "__main__":
    sys.stdout.write("".join(path + "\n" for path in unit_files_reaching_core()))

"""The definitions make test builds differ from those the guides give users only in the lines they declare.

Each tested definition's header names the keys that differ from the guide's "without Galaxy" definition and
why (the base made from Debian's packages, and what it lacks). A key that differs without being named, or one
named that no longer differs, fails here. ansible-builder's own schema check runs when the images are built.
"""
from __future__ import annotations

import os
import re

import pytest
import yaml

from tests.containers.images import HERE, REPO_ROOT

DEFINITIONS = [
    ("execution-environment.yml", "awx.md"),
    ("decision-environment.yml", "event-driven.md"),
]


def guide_definition(guide, file_name):
    """The guide's "without Galaxy" definition: the yaml block that starts with ``# <file_name>`` and installs a tarball."""
    with open(os.path.join(REPO_ROOT, "docs", "guides", guide), encoding="utf-8") as handle:
        blocks = re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)
    (block,) = [block for block in blocks if block.startswith("# %s\n" % file_name) and "type: file" in block]
    return yaml.safe_load(block)


def declared_differences(text):
    """The keys a tested definition's header names: ``#   dotted.key   why``."""
    return {match.group(1) for match in re.finditer(r"^#   ([a-z_]+(?:\.[a-z_]+)+)\s", text, re.M)}


def leaves(value, prefix=""):
    """{dotted key: value} of a definition, down to the keys under dependencies, options and the steps."""
    if isinstance(value, dict) and prefix.count(".") < 2 and not prefix.startswith(("dependencies.", "options.")):
        return {key: item for name, child in value.items()
                for key, item in leaves(child, "%s.%s" % (prefix, name) if prefix else name).items()}
    return {prefix: value}


@pytest.mark.parametrize("file_name, guide", DEFINITIONS)
def test_a_tested_definition_differs_from_the_guides_only_where_it_says(file_name, guide):
    with open(os.path.join(HERE, file_name), encoding="utf-8") as handle:
        text = handle.read()
    tested, given = leaves(yaml.safe_load(text)), leaves(guide_definition(guide, file_name))
    differing = {key for key in set(tested) | set(given) if tested.get(key) != given.get(key)}
    declared = declared_differences(text)
    assert declared, "the header of %s names no key" % file_name
    assert differing - declared == set(), "%s differs from %s without saying so" % (file_name, guide)
    assert declared - differing == set(), "%s names keys that no longer differ from %s" % (file_name, guide)
    assert tested["images.base_image.name"].startswith("localhost/")

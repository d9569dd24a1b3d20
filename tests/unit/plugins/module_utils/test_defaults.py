"""The documented defaults are the ones the code applies, and the User-Agent names the released version."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.waldur.cloud.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.waldur.cloud.plugins.module_utils.client import COLLECTION_VERSION, USER_AGENT
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def documented_defaults(fragment):
    options = yaml.safe_load(fragment)["options"]
    return {name: spec["default"] for name, spec in options.items() if "default" in spec}


@pytest.mark.parametrize("fragment", ["PLUGINS", "RETRIES", "PAGING"])
def test_documented_defaults_are_the_applied_ones(fragment):
    documented = documented_defaults(getattr(ModuleDocFragment, fragment))
    assert documented, "the %s fragment documents no default" % fragment
    assert documented == {name: DEFAULTS[name] for name in documented}


def test_every_default_is_documented_for_plugins():
    documented = {}
    for fragment in (ModuleDocFragment.PLUGINS, ModuleDocFragment.RETRIES, ModuleDocFragment.PAGING):
        documented.update(documented_defaults(fragment))
    assert set(documented) == set(DEFAULTS)


def test_user_agent_names_the_version_in_galaxy_yml():
    with open(os.path.join(REPO_ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = yaml.safe_load(handle)["version"]
    assert COLLECTION_VERSION == version
    assert USER_AGENT.endswith("/" + version)

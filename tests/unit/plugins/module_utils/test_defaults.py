"""The shared options are defined once (module_utils/defaults.py): the argument spec, the event source's checks, the
doc fragments and the event source's documentation all say the same (what ansible-doc assembles from them is checked
in tests/unit/plugins/doc_fragments, where controller code may be imported); and the User-Agent names the released
version."""
from __future__ import annotations

import ast
import importlib.util
import os

import pytest
import yaml

from ansible_collections.waldur.cloud.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.client import COLLECTION_VERSION, USER_AGENT
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, CONNECTION, DEFAULTS, PAGING, RETRIES
from ansible_collections.waldur.cloud.plugins.module_utils.module import shared_argument_spec

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EVENT_SOURCE = os.path.join(REPO_ROOT, "extensions", "eda", "plugins", "event_source", "openstack_images.py")


def fragment_options(name):
    return yaml.safe_load(getattr(ModuleDocFragment, name))["options"]


def described(option):
    """What documentation must say of ``option``: its type, default and choices (env is checked apart)."""
    facts = {"type": option.type}
    if option.default is not None:
        facts["default"] = option.default
    if option.choices:
        facts["choices"] = list(option.choices)
    return facts


def facts_of(documentation):
    return {key: documentation[key] for key in ("type", "default", "choices") if documentation.get(key) is not None}


def env_names(documentation):
    return [entry["name"] for entry in documentation.get("env") or []]


@pytest.mark.parametrize("fragment, table", [("DOCUMENTATION", CONNECTION), ("RETRIES", RETRIES), ("PAGING", PAGING)])
def test_each_fragment_documents_exactly_the_table(fragment, table):
    documented = fragment_options(fragment)
    assert list(documented) == [option.name for option in table]
    for option in table:
        assert facts_of(documented[option.name]) == described(option), option.name
        text = " ".join(documented[option.name]["description"])
        # Modules read the variables through their argument spec; their docs can only say so in words.
        assert ("E(%s)" % option.env in text) == bool(option.env), option.name


def test_the_plugins_fragment_adds_exactly_the_environment_variables():
    expected = {option.name: {"env": [{"name": option.env}]} for option in CONNECTION if option.env}
    assert fragment_options("PLUGINS") == expected


def test_every_default_is_in_the_table_and_documented():
    assert DEFAULTS == {option.name: option.default for option in CONNECTION + RETRIES + PAGING if option.default is not None}
    documented = {}
    for fragment in ("DOCUMENTATION", "RETRIES", "PAGING"):
        documented.update({name: spec["default"] for name, spec in fragment_options(fragment).items() if "default" in spec})
    assert documented == DEFAULTS


def test_the_module_argument_spec_is_the_table():
    spec = shared_argument_spec(CLIENT_OPTIONS + PAGING, fallback=object())
    for option in CLIENT_OPTIONS + PAGING:
        entry = spec[option.name]
        assert {key: entry[key] for key in ("type", "default", "choices") if key in entry} == described(option)
        assert entry.get("no_log", False) == option.secret
        assert ("fallback" in entry) == bool(option.env)


def load_event_source():
    """The event source's file as a module, by its path: ansible-test's collection loader answers runpy's path
    lookup for a plain file as if it were a package, so the file's own loader is asked directly."""
    spec = importlib.util.spec_from_file_location("waldur_event_source", EVENT_SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_event_source_documents_and_checks_the_table():
    with open(EVENT_SOURCE, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    text = next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION")
    documented = yaml.safe_load(text)["options"]
    for option in CLIENT_OPTIONS:
        assert facts_of(documented[option.name]) == described(option), option.name
        assert env_names(documented[option.name]) == ([option.env] if option.env else []), option.name
    # Its own options, defaults included, come from its table too.
    for option in load_event_source().WATCH_OPTIONS:
        assert facts_of(documented[option.name]) == described(option), option.name


def test_environment_values_are_typed_and_named_when_wrong():
    options = {option.name: option for option in CLIENT_OPTIONS}
    assert options["timeout"].from_environment("0.001") == 0.001
    assert options["validate_certs"].from_environment(" No ") is False
    assert options["auth_scheme"].from_environment("") is None
    with pytest.raises(WaldurConfigError, match="WALDUR_TIMEOUT: 'soon' is not a number of seconds"):
        options["timeout"].from_environment("soon")


def test_user_agent_names_the_version_in_galaxy_yml():
    with open(os.path.join(REPO_ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        version = yaml.safe_load(handle)["version"]
    assert COLLECTION_VERSION == version
    assert USER_AGENT.endswith("/" + version)

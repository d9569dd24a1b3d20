"""What ansible-doc shows of every module and plugin that connects: each shared option's default and environment
variable, as defined once in module_utils/defaults.py."""
from __future__ import annotations

import os

import pytest

from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, PAGING
from ansible_collections.waldur.cloud.tests.unit.plugins.module_utils.test_defaults import REPO_ROOT, described, env_names, facts_of

# Every front that connects, and how ansible-doc finds it.
DOCUMENTED = [
    ("module", "plugins/modules/openstack_image_info.py"),
    ("module", "plugins/modules/openstack_image_stats.py"),
    ("module", "plugins/modules/openstack_flavor_info.py"),
    ("inventory", "plugins/inventory/openstack_images.py"),
    ("lookup", "plugins/lookup/openstack_image.py"),
]


@pytest.mark.parametrize("plugin_type, path", DOCUMENTED)
def test_ansible_doc_shows_every_default_and_environment_variable(plugin_type, path):
    """The documentation as ansible-doc assembles it from the fragments."""
    doc = get_docstring(os.path.join(REPO_ROOT, path), fragment_loader, collection_name="waldur.cloud",
                        is_module=plugin_type == "module", plugin_type=plugin_type)[0]
    for option in CLIENT_OPTIONS + PAGING:
        documentation = doc["options"][option.name]
        assert facts_of(documentation) == described(option), (path, option.name)
        if option.env:
            text = " ".join(documentation["description"])
            # Plugins list it under env (ansible-doc's "set_via"), modules in the description.
            assert env_names(documentation) == [option.env] or "E(%s)" % option.env in text, (path, option.name)
            if plugin_type != "module":
                assert env_names(documentation) == [option.env], (path, option.name)

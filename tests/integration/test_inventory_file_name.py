# An inventory source whose file name the plugin refuses: Ansible itself only says "could not be
# verified"; the plugin's warning says which name is needed, and only for a file that names it.
from __future__ import annotations

import os
import subprocess

import pytest

from tests.integration.harness import BIN, ansible_environment

NEEDED = "whose name ends in waldur_images.yml or waldur_images.yaml"


def _inventory(path, **environment):
    completed = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path), "--graph"],
                               env=ansible_environment(**environment), capture_output=True, text=True, check=False)
    return completed.stdout + completed.stderr


@pytest.mark.parametrize("name, text", [
    ("waldur.yml", "plugin: waldur.cloud.openstack_images\n"),
    ("images.yaml", "---\n# the images of cloud-a\nplugin: 'waldur.cloud.openstack_images'  # ours\nsettings: cloud-a\n"),
    ("cloud.waldur_images.yml.bak.yml", 'plugin: "waldur.cloud.openstack_images"\n'),
])
def test_a_source_of_this_plugin_with_another_name_says_which_name(tmp_path, name, text):
    source = tmp_path / name
    source.write_text(text)
    output = " ".join(_inventory(source).split())
    assert "%s: a waldur.cloud.openstack_images inventory source is read only from a file %s" % (source, NEEDED) in output


def test_another_source_gets_no_such_warning_when_the_plugin_is_enabled(tmp_path):
    source = tmp_path / "hosts.yml"
    source.write_text("all:\n  hosts:\n    web1:\n")
    output = _inventory(source, ANSIBLE_INVENTORY_ENABLED="waldur.cloud.openstack_images,yaml")
    assert "web1" in output
    assert NEEDED not in " ".join(output.split())

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The set-up the lookup and the inventory share, as a base class beside Ansible's own plugin base."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client
from ansible_collections.waldur.cloud.plugins.plugin_utils.options import reject_loose_booleans, reject_unknown_options

display = Display()


class WaldurPlugin:
    """Option checks, the client's failures as the plugin's own, its warnings, and its client.

    A plugin class lists it before Ansible's base (``class LookupModule(WaldurPlugin, LookupBase)``) and sets
    ``PLUGIN_TYPE`` and ``NAME`` (what ``ansible-doc -t`` is given) and ``ERROR_CLASS`` (AnsibleLookupError,
    AnsibleParserError). Each method takes ``where``: what messages start with (the lookup's name, the inventory's
    file).
    """

    PLUGIN_TYPE = ""
    NAME = ""
    ERROR_CLASS = AnsibleError

    def check_options(self, given, where):
        """Refuse options of ``given`` the plugin does not have, and booleans that are not: Ansible would ignore the
        first and read the second as false, silently."""
        reject_unknown_options(given, self.option_definitions, self.ERROR_CLASS, where, self.PLUGIN_TYPE, self.NAME)
        reject_loose_booleans(given, self.option_definitions, self.ERROR_CLASS, where)

    def failures(self, where):
        """A context in which the client's errors (WaldurError) fail the plugin, the message starting with ``where``."""
        return plugin_client.failures_as(self.ERROR_CLASS, where)

    @staticmethod
    def show_warnings(warnings, where):
        """Show each of ``warnings`` (a query's, for example), starting with ``where``."""
        for warning in warnings:
            display.warning("%s: %s" % (where, warning))

    def open_client(self, where, overrides=None):
        """A WaldurClient from the plugin's connection, paging and worker options (``overrides``: values the plugin
        templated itself); a plain http api_url is warned of there."""
        return plugin_client.open_client(self, where, overrides, page_size=self.get_option("page_size"),
                                         max_workers=self.get_option("max_workers"), error_class=self.ERROR_CLASS)

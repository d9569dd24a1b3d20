# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one definition of the options every front shares: name, type, default and environment variable.

The module argument spec (module.py), the event source's checks and ConnectionSettings are derived
from it. Ansible reads documentation as text, so the doc fragments (doc_fragments/connection.py) and
the event source's DOCUMENTATION state the same facts; a unit test holds them equal to this table.
Pure Python: the event source imports it where ansible-core may not be installed.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError

# The server's largest page; also the default, as it needs the fewest requests.
MAX_PAGE_SIZE = 300

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class Option(namedtuple("Option", "name type default env choices secret", defaults=(None, None, None, False))):
    """One shared option. ``type`` is Ansible's name for it (str, bool, int, float, path); ``secret`` means no_log."""

    __slots__ = ()

    def from_environment(self, text):
        """The value of this option's environment variable, typed; None when it counts as unset."""
        if self.choices:
            if text == "":
                # ``export WALDUR_AUTH_SCHEME=`` clears a choice, as an unset variable would.
                return None
            if text not in self.choices:
                raise WaldurConfigError(self.name, "%r is not one of %s" % (text, ", ".join(self.choices)))
        if self.type == "bool":
            lowered = text.strip().lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE
            raise WaldurConfigError(self.env, "%r is not a boolean; use true or false" % text)
        if self.type == "float":
            try:
                return float(text)
            except ValueError:
                raise WaldurConfigError(self.env, "%r is not a number of seconds" % text) from None
        return text


CONNECTION = (
    Option("api_url", "str", env="WALDUR_API_URL"),
    Option("api_token", "str", env="WALDUR_API_TOKEN", secret=True),
    Option("auth_scheme", "str", "Token", env="WALDUR_AUTH_SCHEME", choices=("Token", "Bearer")),
    Option("validate_certs", "bool", True, env="WALDUR_VALIDATE_CERTS"),
    Option("ca_path", "path", env="WALDUR_CA_PATH"),
    Option("timeout", "float", 30.0, env="WALDUR_TIMEOUT"),
)
RETRIES = (
    Option("retries", "int", 4),
    Option("retry_budget", "float", 60.0),
)
PAGING = (
    Option("page_size", "int", MAX_PAGE_SIZE),
    Option("max_workers", "int", 4),
)
# What a client needs to connect: every front takes these.
CLIENT_OPTIONS = CONNECTION + RETRIES

OPTIONS = {option.name: option for option in CONNECTION + RETRIES + PAGING}
DEFAULTS = {name: option.default for name, option in OPTIONS.items() if option.default is not None}

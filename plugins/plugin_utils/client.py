# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plugin front of the client: options from Ansible's configuration, errors as AnsibleError."""

from __future__ import annotations

import contextlib

from ansible.errors import AnsibleError
from ansible.utils.display import Display

from ansible_collections.waldur.cloud.plugins.module_utils.client import HAS_REQUESTS, WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, DEFAULTS
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurError

display = Display()

CONNECTION_OPTIONS = tuple(option.name for option in CLIENT_OPTIONS)


def _describe_origin(option, origin, where):
    """Say where an option's value came from, for error messages ("the WALDUR_API_TOKEN environment variable")."""
    origin = str(origin or "")
    if origin.startswith("env: "):
        return "the %s environment variable" % origin[len("env: "):]
    if origin.startswith("var: "):
        return "the %s variable" % origin[len("var: "):]
    return "the %s option%s" % (option, " of %s" % where if where else "")


def option_origin(plugin, option, where=None):
    """Where a plugin option's value came from, in words ("the WALDUR_API_URL environment variable")."""
    value = plugin.get_option(option)
    configured, origin = plugin.get_option_and_origin(option)
    if configured != value:
        # ansible-core < 2.19 looks the origin up again without the options the plugin was given
        # directly (an inventory file, a lookup's keywords): a different value means it was given directly.
        origin = "Direct"
    return _describe_origin(option, origin, where)


def connection_settings(plugin, where=None, overrides=None):
    """ConnectionSettings from a plugin's options; ``overrides`` are values the plugin already templated."""
    overrides = overrides or {}
    options = {}
    sources = {}
    for option in CONNECTION_OPTIONS:
        options[option] = overrides.get(option, plugin.get_option(option))
        sources[option] = option_origin(plugin, option, where)
    # Ansible's configuration has already read the environment variables named in the docs.
    return ConnectionSettings.from_options(options, environ={}, sources=sources)


def open_client(plugin, where=None, overrides=None, page_size=None, max_workers=None, error_class=AnsibleError):
    """A WaldurClient for a lookup or inventory plugin, failing with ``error_class``; retries are shown at -vvv."""
    if not HAS_REQUESTS:
        raise error_class("waldur.cloud plugins need the Python library requests on the controller: pip install requests")
    with failures_as(error_class, where):
        settings = connection_settings(plugin, where, overrides)
        if settings.transport_warning:
            display.warning(settings.transport_warning)
        return WaldurClient(settings, page_size=DEFAULTS["page_size"] if page_size is None else page_size,
                            max_workers=DEFAULTS["max_workers"] if max_workers is None else max_workers, log=display.vvv)


@contextlib.contextmanager
def failures_as(error_class, where=None):
    """Turn the client's errors into ``error_class`` (AnsibleError, AnsibleParserError...) with context."""
    try:
        yield
    except WaldurError as exc:
        prefix = "%s: " % where if where else ""
        raise error_class(prefix + str(exc)) from None

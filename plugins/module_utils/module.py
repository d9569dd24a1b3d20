# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module front of the client: shared argument spec, client creation, errors to fail_json."""

from __future__ import annotations

import os

from ansible.module_utils.basic import AnsibleFallbackNotFound, AnsibleModule, missing_required_lib

from ansible_collections.waldur.cloud.plugins.module_utils.client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    WaldurClient,
)
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, OPTIONS, PAGING
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurError


class EnvironmentFallback:
    """Ansible's ``env_fallback`` for the shared options, which also remembers what it took from where.

    A value Ansible would convert with its own, generic message ("unable to convert to float") is
    kept back instead, so that the module fails naming the variable (``WALDUR_TIMEOUT: 'soon' is not
    a number of seconds``).
    """

    def __init__(self):
        self.sources = {}
        self.errors = []

    def __call__(self, name):
        option = OPTIONS[name]
        text = os.environ.get(option.env)
        if text is None:
            raise AnsibleFallbackNotFound
        try:
            value = option.from_environment(text)
        except WaldurConfigError as exc:
            self.errors.append(exc)
            raise AnsibleFallbackNotFound from None
        if value is None:
            raise AnsibleFallbackNotFound
        self.sources[option.name] = "the %s environment variable" % option.env
        return value


def shared_argument_spec(options, fallback=None):
    """The argument spec of shared options (defaults.py), their environment variables read by ``fallback``."""
    spec = {}
    for option in options:
        entry = {"type": option.type}
        if option.default is not None:
            entry["default"] = option.default
        if option.choices:
            entry["choices"] = list(option.choices)
        if option.secret:
            entry["no_log"] = True
        if option.env and fallback is not None:
            # Ansible's schema wants the fallback's arguments as strings: the option's name.
            entry["fallback"] = (fallback, [option.name])
        spec[option.name] = entry
    return spec


# The filters images and flavors share: by name, and by the cloud (service settings) or tenant they belong to.
NAME_AND_SCOPE_ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    name_exact=dict(type="str"),
    settings=dict(type="str"),
    settings_uuid=dict(type="str"),
    tenant=dict(type="str"),
    tenant_uuid=dict(type="str"),
)


class WaldurModule:
    """An AnsibleModule with the connection options, and one place that turns WaldurError into fail_json."""

    def __init__(self, argument_spec, **kwargs):
        self.environment = EnvironmentFallback()
        spec = shared_argument_spec(CLIENT_OPTIONS + PAGING, self.environment)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.retry_log = []
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
        for error in self.environment.errors:
            self.module.fail_json(msg=str(error), option=error.option)

    def run(self, task):
        """Call ``task(client)`` and exit with the result dict it returns, or fail with the error's message.

        Either way the result says which API root was used and how many requests it took (never the token).
        """
        facts = {}
        try:
            # The argument spec's fallback has read the environment for options not given; from_options reads it
            # again only for an option given as null, which Ansible does not fall back for.
            settings = ConnectionSettings.from_options(self.params, sources=self.environment.sources)
            facts["api_root"] = settings.api_root
            if settings.transport_warning:
                self.module.warn(settings.transport_warning)
            with WaldurClient(settings, page_size=self.params["page_size"], max_workers=self.params["max_workers"],
                              log=self.retry_log.append) as client:
                try:
                    result = task(client)
                finally:
                    facts["api_requests"] = client.request_count
        except WaldurError as exc:
            self.module.fail_json(msg=str(exc), **dict(facts, **self._failure_details(exc)))
        result.update(facts)
        result.update(self._retry_result())
        self.module.exit_json(changed=False, **result)

    def _failure_details(self, exc):
        details = self._retry_result()
        # The option to change, when one is to blame (api_url for an unreachable server, api_token when refused...).
        if getattr(exc, "option", None):
            details["option"] = exc.option
        return details

    def _retry_result(self):
        return {"api_retries": self.retry_log} if self.retry_log else {}

    def warn(self, message):
        self.module.warn(message)

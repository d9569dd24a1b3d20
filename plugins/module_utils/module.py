# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module front of the client: shared argument spec, client creation, errors to fail_json."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.waldur.cloud.plugins.module_utils.client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    WaldurClient,
)
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurError

CONNECTION_ARGUMENT_SPEC = dict(
    api_url=dict(type="str"),
    api_token=dict(type="str", no_log=True),
    auth_scheme=dict(type="str", choices=["Token", "Bearer"]),
    validate_certs=dict(type="bool"),
    ca_path=dict(type="path"),
    timeout=dict(type="float"),
    retries=dict(type="int", default=DEFAULTS["retries"]),
    retry_budget=dict(type="float", default=DEFAULTS["retry_budget"]),
)

# The filters images and flavors share: by name, and by the cloud (service settings) or tenant they belong to.
NAME_AND_SCOPE_ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    name_exact=dict(type="str"),
    settings=dict(type="str"),
    settings_uuid=dict(type="str"),
    tenant=dict(type="str"),
    tenant_uuid=dict(type="str"),
)

PAGING_ARGUMENT_SPEC = dict(
    page_size=dict(type="int", default=DEFAULTS["page_size"]),
    max_workers=dict(type="int", default=DEFAULTS["max_workers"]),
)


class WaldurModule:
    """An AnsibleModule with the connection options, and one place that turns WaldurError into fail_json."""

    def __init__(self, argument_spec, **kwargs):
        spec = dict(CONNECTION_ARGUMENT_SPEC)
        spec.update(PAGING_ARGUMENT_SPEC)
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.retry_log = []
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)

    def run(self, task):
        """Call ``task(client)`` and exit with the result dict it returns, or fail with the error's message."""
        try:
            settings = ConnectionSettings.from_options(self.params)
            # A token from the environment is not a module argument, so Ansible would not mask it.
            self.module.no_log_values.add(settings.api_token)
            if settings.insecure_transport:
                self.module.warn("api_url %s is plain http to a host that is not loopback: the API token is sent "
                                 "unencrypted. Use https." % settings.api_root)
            with WaldurClient(settings, page_size=self.params["page_size"], max_workers=self.params["max_workers"],
                              log=self.retry_log.append) as client:
                result = task(client)
        except WaldurConfigError as exc:
            self.module.fail_json(msg=str(exc), option=exc.option, **self._retry_result())
        except WaldurError as exc:
            self.module.fail_json(msg=str(exc), **self._retry_result())
        result.update(self._retry_result())
        self.module.exit_json(changed=False, **result)

    def _retry_result(self):
        return {"api_retries": self.retry_log} if self.retry_log else {}

    def warn(self, message):
        self.module.warn(message)

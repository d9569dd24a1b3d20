# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where and how to connect: the API root from any accepted form of api_url, the token, TLS, timeouts.

Modules read the WALDUR_* environment variables here; plugins get them through Ansible's configuration.
"""

from __future__ import annotations

import ipaddress
import os
import re

from urllib.parse import urlsplit, urlunsplit

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError

ENV_VARS = {
    "api_url": "WALDUR_API_URL",
    "api_token": "WALDUR_API_TOKEN",
    "auth_scheme": "WALDUR_AUTH_SCHEME",
    "validate_certs": "WALDUR_VALIDATE_CERTS",
    "ca_path": "WALDUR_CA_PATH",
    "timeout": "WALDUR_TIMEOUT",
}


def _env_bool(name, value):
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise WaldurConfigError(name, "%r is not a boolean; use true or false" % value)


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_HOST_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.?$")


def _valid_host(host):
    """A DNS name (IDN letters allowed), an IPv4 address, or an IPv6 address (without brackets)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0]) is not None
        except ValueError:
            return False
    return bool(_HOST_NAME.match(host))


def normalize_api_url(value, option="api_url"):
    """Return the API root, always ending in ``/api/``, for any accepted form of the URL."""
    example = "e.g. https://waldur.example.com/api/"
    if value is None or not str(value).strip():
        raise WaldurConfigError(option, "is not set; give the URL of the Waldur API, %s" % example)
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError as exc:
        if "@" in text.split("//", 1)[-1].split("/", 1)[0]:
            raise WaldurConfigError(option, "must not contain credentials; pass the token in api_token") from None
        raise WaldurConfigError(option, "%r is not a valid URL (%s); give an http:// or https:// URL, %s" % (
            text, exc, example)) from None
    if parts.scheme not in ("http", "https"):
        raise WaldurConfigError(option, "%r is not an http:// or https:// URL, %s" % (text, example))
    if parts.username is not None or parts.password is not None:
        raise WaldurConfigError(option, "must not contain credentials; pass the token in api_token")
    if not host:
        raise WaldurConfigError(option, "%r has no host name, %s" % (text, example))
    if not _valid_host(host) or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise WaldurConfigError(option, "%r has an invalid host name or white space in it; give a URL such as "
                                        "https://waldur.example.com/api/" % text)
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise WaldurConfigError(option, "%r must not have a query string or fragment; give only the API root, %s" % (
            text, example))
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise WaldurConfigError(option, "%r has an invalid port; give a port from 1 to 65535" % text)
    path = parts.path.rstrip("/")
    if not path.endswith("/api"):
        path += "/api"
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


class ConnectionSettings:
    """Where and how to connect, with the origin of each credential for error messages."""

    def __init__(self, api_url, api_token, auth_scheme=DEFAULTS["auth_scheme"], validate_certs=DEFAULTS["validate_certs"],
                 ca_path=None, timeout=DEFAULTS["timeout"], retries=DEFAULTS["retries"],
                 retry_budget=DEFAULTS["retry_budget"], token_source="the api_token option"):
        self.api_root = normalize_api_url(api_url)
        self.api_token = api_token
        self.auth_scheme = auth_scheme
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.retry_budget = retry_budget
        self.token_source = token_source
        self._validate()

    @classmethod
    def from_options(cls, options, environ=None, sources=None):
        """Build from option values, taking unset ones from the WALDUR_* environment variables.

        ``sources`` may name where an option's value came from (plugins know it from Ansible's
        configuration); otherwise a value is either the option or the environment variable.
        """
        environ = os.environ if environ is None else environ
        sources = sources or {}
        values = {}
        origin = {}
        for option, variable in ENV_VARS.items():
            value = options.get(option)
            if value is None and environ.get(variable) is not None:
                value = environ[variable]
                origin[option] = "the %s environment variable" % variable
                if option == "validate_certs":
                    value = _env_bool(variable, value)
                elif option == "timeout":
                    try:
                        value = float(value)
                    except ValueError:
                        raise WaldurConfigError(variable, "%r is not a number of seconds" % value) from None
            else:
                origin[option] = sources.get(option, "the %s option" % option)
            values[option] = value
        if values["api_token"] is None:
            raise WaldurConfigError("api_token", "is not set; pass api_token or set the WALDUR_API_TOKEN environment variable")
        if values["api_url"] is None:
            raise WaldurConfigError("api_url", "is not set; pass api_url or set the WALDUR_API_URL environment variable")
        # An empty WALDUR_AUTH_SCHEME means unset, as it did before the variable was read.
        values["auth_scheme"] = values["auth_scheme"] or DEFAULTS["auth_scheme"]
        for option in ("validate_certs", "timeout"):
            if values[option] is None:
                values[option] = DEFAULTS[option]
        for option in ("retries", "retry_budget"):
            values[option] = DEFAULTS[option] if options.get(option) is None else options[option]
        return cls(token_source=origin["api_token"], **values)

    def _validate(self):
        token = self.api_token
        if not isinstance(token, str) or not token.strip():
            raise WaldurConfigError("api_token", "is empty (from %s); give a Waldur API token" % self.token_source)
        if token != token.strip() or any(ch.isspace() or ord(ch) < 32 for ch in token):
            raise WaldurConfigError("api_token", "contains white space or control characters (from %s); give the bare token" % self.token_source)
        if self.auth_scheme not in ("Token", "Bearer"):
            raise WaldurConfigError("auth_scheme", "%r is not one of Token, Bearer" % (self.auth_scheme,))
        if not isinstance(self.timeout, (int, float)) or isinstance(self.timeout, bool) or self.timeout <= 0:
            raise WaldurConfigError("timeout", "%r must be a number of seconds above 0" % (self.timeout,))
        if not isinstance(self.retries, int) or self.retries < 0:
            raise WaldurConfigError("retries", "%r must be 0 or a positive whole number" % (self.retries,))
        if not isinstance(self.retry_budget, (int, float)) or self.retry_budget < 0:
            raise WaldurConfigError("retry_budget", "%r must be 0 or a positive number of seconds" % (self.retry_budget,))
        if self.ca_path is not None and not os.path.exists(self.ca_path):
            raise WaldurConfigError("ca_path", "%s does not exist; give a PEM file or a directory of CA certificates" % self.ca_path)

    @property
    def insecure_transport(self):
        """True when the token would cross a network unencrypted."""
        parts = urlsplit(self.api_root)
        return parts.scheme == "http" and not _is_loopback(parts.hostname)

    @property
    def origin(self):
        parts = urlsplit(self.api_root)
        return "%s://%s" % (parts.scheme, parts.netloc)

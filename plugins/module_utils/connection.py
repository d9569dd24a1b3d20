# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where and how to connect: the API root from any accepted form of api_url, the token, TLS, timeouts.

Modules get the WALDUR_* environment variables through their argument spec, plugins through Ansible's
configuration, and the event source here; each says where a value came from, for error messages.
"""

from __future__ import annotations

import ipaddress
import os
import re

from urllib.parse import urlsplit, urlunsplit

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import CLIENT_OPTIONS, DEFAULTS
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError


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
    if not _names_api_root(text):
        path += "/api"
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def _names_api_root(url):
    """Whether ``url`` already ends in ``/api`` (else normalize_api_url appends it)."""
    return urlsplit(url.strip()).path.rstrip("/").endswith("/api")


class ConnectionSettings:
    """Where and how to connect, with where each value came from (``sources``) for error messages."""

    def __init__(self, api_url, api_token, auth_scheme=DEFAULTS["auth_scheme"], validate_certs=DEFAULTS["validate_certs"],
                 ca_path=None, timeout=DEFAULTS["timeout"], retries=DEFAULTS["retries"],
                 retry_budget=DEFAULTS["retry_budget"], sources=None):
        self.api_url = api_url
        self.api_root = normalize_api_url(api_url)
        self.api_token = api_token
        self.auth_scheme = auth_scheme
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.retry_budget = retry_budget
        self.sources = dict(sources or {})
        self._validate()

    @classmethod
    def from_options(cls, options, environ=None, sources=None):
        """Build from option values, taking unset ones from the WALDUR_* environment variables, then the defaults.

        ``sources`` may name where an option's value came from (plugins know it from Ansible's
        configuration, modules from their argument spec); otherwise it is the option itself.
        """
        environ = os.environ if environ is None else environ
        sources = sources or {}
        values = {}
        origin = {}
        for option in CLIENT_OPTIONS:
            value = options.get(option.name)
            origin[option.name] = sources.get(option.name, "the %s option" % option.name)
            if value is None and option.env and environ.get(option.env) is not None:
                value = option.from_environment(environ[option.env])
                origin[option.name] = "the %s environment variable" % option.env
            values[option.name] = option.default if value is None else value
        if values["api_token"] is None:
            raise WaldurConfigError("api_token", "is not set; pass api_token or set the WALDUR_API_TOKEN environment variable")
        if values["api_url"] is None:
            raise WaldurConfigError("api_url", "is not set; pass api_url or set the WALDUR_API_URL environment variable")
        return cls(sources=origin, **values)

    def source(self, option):
        """Where an option's value came from, in words ("the WALDUR_API_URL environment variable")."""
        return self.sources.get(option, "the %s option" % option)

    def _validate(self):
        token = self.api_token
        if not isinstance(token, str) or not token.strip():
            raise WaldurConfigError("api_token", "is empty (from %s); give a Waldur API token" % self.source("api_token"))
        if token != token.strip() or any(ch.isspace() or ord(ch) < 32 for ch in token):
            raise WaldurConfigError("api_token", "contains white space or control characters (from %s); give the bare token" % self.source("api_token"))
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
    def api_root_appended(self):
        """Whether ``/api/`` was appended to the api_url given, for messages about a wrong API root."""
        return not _names_api_root(str(self.api_url))

    @property
    def insecure_transport(self):
        """True when the token would cross a network unencrypted."""
        parts = urlsplit(self.api_root)
        return parts.scheme == "http" and not _is_loopback(parts.hostname)

    @property
    def transport_warning(self):
        """The warning every front shows when the token would cross a network unencrypted; None otherwise."""
        if not self.insecure_transport:
            return None
        return "api_url %s is plain http to a host that is not loopback: the API token is sent unencrypted. Use https." % (
            self.api_root)

    @property
    def origin(self):
        parts = urlsplit(self.api_root)
        return "%s://%s" % (parts.scheme, parts.netloc)

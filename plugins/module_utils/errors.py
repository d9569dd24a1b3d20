# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The failures the collection's code raises; each front (module, inventory, lookup, filter) reports them its own way."""

from __future__ import annotations

import difflib


class WaldurError(Exception):
    """Base of every failure the client reports; the message is meant for the user."""


class WaldurConfigError(WaldurError):
    """An option has a value the client cannot use; raised before any request."""

    def __init__(self, option, message):
        super().__init__("%s: %s" % (option, message))
        self.option = option
        self.message = message


class WaldurHTTPError(WaldurError):
    """The server answered, but not with the data asked for."""

    def __init__(self, message, url=None, status=None, payload=None, option=None):
        super().__init__(message)
        self.url = url
        self.status = status
        # The decoded JSON error body, when there was one.
        self.payload = payload
        # The option to change when the failure points at one (api_url, api_token), as in WaldurConfigError.
        self.option = option


class WaldurAuthError(WaldurHTTPError):
    """401: the credential was missing, wrong or expired."""


class WaldurRequestError(WaldurHTTPError):
    """400: the server rejected a query parameter."""


class WaldurNotFoundError(WaldurHTTPError):
    """404: no such object or page."""


class WaldurServerError(WaldurHTTPError):
    """5xx, 429 after every retry, a redirect, or any status the API does not use."""


class WaldurResponseError(WaldurHTTPError):
    """A response that is not the JSON the API sends: a proxy page, a truncated body, bad paging."""


class WaldurConnectionError(WaldurHTTPError):
    """No response at all: DNS, refused connection, TLS failure, timeout, reset."""


def close_names(name, names, count=3):
    """The names of ``names`` closest to a mistyped ``name``, the closest first: what a message suggests instead."""
    return difflib.get_close_matches(str(name), sorted({str(each) for each in names if each is not None}), n=count)

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an answer of the server means: the JSON data asked for, or the error it is, named for the user.

An answer is data only when it is a 200 with a JSON body; a proxy page, a body cut short and every
other status become a WaldurError whose message says what came back and what to check.
"""

from __future__ import annotations

import json

from ansible_collections.waldur.cloud.plugins.module_utils.errors import (
    WaldurAuthError,
    WaldurNotFoundError,
    WaldurRequestError,
    WaldurResponseError,
    WaldurServerError,
)

SNIPPET_LENGTH = 200


def snippet(body):
    """The start of a body, on one line, for an error message."""
    return " ".join(body[:SNIPPET_LENGTH].decode("utf-8", "replace").split())


def drf_detail(payload):
    """The human text of a DRF error body: ``{"detail": ...}`` or ``{"param": ["msg", ...]}``."""
    if isinstance(payload, dict):
        if "detail" in payload:
            return str(payload["detail"])
        parts = []
        for key, value in payload.items():
            messages = value if isinstance(value, list) else [value]
            parts.append("%s: %s" % (key, " ".join(str(m) for m in messages)))
        return "; ".join(parts)
    if isinstance(payload, list):
        return " ".join(str(m) for m in payload)
    return str(payload)


class RetryableFailure(Exception):
    """An attempt failed in a way worth retrying (the request is a GET, so always safe)."""

    def __init__(self, failure, retry_after=None):
        super().__init__(str(failure))
        self.failure = failure
        self.retry_after = retry_after


def decode(settings, url, response, body):
    """The JSON data of an answer: ``(payload, headers)``, or RetryableFailure, or the error the answer is."""
    if response.status_code == 200:
        content_type = response.headers.get("Content-Type", "")
        if "json" not in content_type.lower():
            raise WaldurResponseError(
                "%s returned status 200 with content type %r instead of JSON (a proxy or login page?): %s" % (
                    url, content_type, snippet(body)), url=url, status=200)
        try:
            # JSON is UTF-8: a body that is not is corrupted, never guessed at.
            return json.loads(body.decode("utf-8")), response.headers
        except (ValueError, RecursionError):
            # A body cut short or mangled on the way; the next attempt may get it whole.
            raise RetryableFailure(WaldurResponseError(
                "%s returned a body that is not valid JSON (cut short or corrupted), %d bytes: %s" % (
                    url, len(body), snippet(body)), url=url, status=200)) from None
    raise status_error(settings, url, response, body)


def status_error(settings, url, response, body):
    """The one error formatter for an answer that is not the data asked for."""
    status = response.status_code
    payload = None
    content_type = response.headers.get("Content-Type", "no content type")
    try:
        payload = json.loads(body.decode("utf-8"))
        detail = drf_detail(payload)
    except (ValueError, RecursionError):
        detail = "%s body: %s" % (content_type, snippet(body))
    if status == 401:
        return WaldurAuthError(
            "api_token: Waldur at %s rejected the API token from %s (Authorization scheme %s): %s Check the token, "
            "and auth_scheme (Token for API tokens, Bearer for OIDC and personal access tokens)." % (
                settings.api_root, settings.source("api_token"), settings.auth_scheme, detail),
            url=url, status=status, option="api_token")
    if status == 400:
        return WaldurRequestError("Waldur rejected a parameter of %s: %s" % (url, detail), url=url, status=status)
    if status == 404 and payload is None:
        # Waldur answers every 404 of its API in JSON: a page of another kind comes from something else.
        return WaldurNotFoundError("api_url: %s is not the root of a Waldur API: %s answered 404 with %s, where Waldur "
                                   "answers JSON. api_url is %r (from %s)%s; set it to the address of the Waldur API, "
                                   "e.g. https://waldur.example.com/api/" % (
                                       settings.api_root, url, content_type.split(";")[0], settings.api_url,
                                       settings.source("api_url"),
                                       ", to which /api/ was appended" if settings.api_root_appended else ""),
                                   url=url, status=status, option="api_url")
    if status == 404:
        return WaldurNotFoundError("%s was not found: %s" % (url, detail), url=url, status=status, payload=payload)
    if 300 <= status < 400:
        return WaldurServerError(
            "%s answered %d redirecting to %s; redirects are not followed so the token stays with api_url's origin. "
            "Set api_url to the address the API is served at." % (url, status, response.headers.get("Location")),
            url=url, status=status)
    return WaldurServerError("%s answered %d %s: %s" % (url, status, response.reason or "", detail), url=url, status=status)

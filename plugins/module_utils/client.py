# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection: transport, retries, paging.

Nothing here knows about AnsibleModule or plugins: failures are raised as WaldurError
subclasses and each front (module, inventory, lookup) turns them into its own failure.
"""

from __future__ import annotations

import json
import traceback
from concurrent.futures import ThreadPoolExecutor

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.auth import AuthBase
    from requests.utils import parse_header_links
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    AuthBase = object

from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS, MAX_PAGE_SIZE
from ansible_collections.waldur.cloud.plugins.module_utils.errors import (
    WaldurAuthError,
    WaldurConfigError,
    WaldurConnectionError,
    WaldurError,
    WaldurNotFoundError,
    WaldurRequestError,
    WaldurResponseError,
    WaldurServerError,
)
from ansible_collections.waldur.cloud.plugins.module_utils.listing import Listing, Page
from ansible_collections.waldur.cloud.plugins.module_utils.retries import RetryPolicy, format_seconds, parse_retry_after

# The collection's version, as in galaxy.yml (a unit test holds them equal).
COLLECTION_VERSION = "0.1.0"
USER_AGENT = "waldur.cloud-ansible/%s" % COLLECTION_VERSION

RETRY_STATUSES = frozenset((429, 502, 503, 504))
SNIPPET_LENGTH = 200


def _has_next(headers):
    """Whether a ``Link`` header names a ``rel="next"`` page; None without a Link header. Never followed."""
    value = headers.get("Link")
    if value is None:
        return None
    return any(link.get("rel") == "next" for link in parse_header_links(value))


def _snippet(response):
    body = response.content[:SNIPPET_LENGTH]
    return " ".join(body.decode("utf-8", "replace").split())


def _detail(payload):
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


def _origin(url):
    """(scheme, host, port) of a URL, the default port filled in: what "the same origin" compares."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


class _TokenAuth(AuthBase):
    """Puts the Authorization header on requests to the origin of api_url, and on no other.

    Set as the session's auth, it also keeps requests from taking credentials from ~/.netrc.
    """

    def __init__(self, settings):
        self.header = "%s %s" % (settings.auth_scheme, settings.api_token)
        self.origin = _origin(settings.api_root)

    def __call__(self, request):
        if _origin(request.url) == self.origin:
            request.headers["Authorization"] = self.header
        else:
            request.headers.pop("Authorization", None)
        return request


class _Retry(Exception):
    """Internal: an attempt failed in a way worth retrying (the request is a GET, so always safe)."""

    def __init__(self, failure, retry_after=None):
        super().__init__(str(failure))
        self.failure = failure
        self.retry_after = retry_after


class WaldurClient:
    """A session against one Waldur API root. Paths are relative to it, e.g. ``openstack-images/``.

    Every request is a GET to the origin of ``api_url``; redirects and ``Link`` headers are never
    followed, so the token is never sent anywhere else.
    """

    def __init__(self, settings, page_size=DEFAULTS["page_size"], max_workers=DEFAULTS["max_workers"], retry_policy=None,
                 log=None, session=None):
        if not HAS_REQUESTS:
            raise WaldurError("the Python library requests is required on the host that runs this task")
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise WaldurConfigError("page_size", "%r is out of range; use a whole number from 1 to %d" % (page_size, MAX_PAGE_SIZE))
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
            raise WaldurConfigError("max_workers", "%r must be a whole number of at least 1" % (max_workers,))
        self.settings = settings
        self.page_size = page_size
        self.max_workers = max_workers
        self.retry_policy = retry_policy or RetryPolicy(settings.retries, settings.retry_budget)
        self.log = log or (lambda message: None)
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(10, max_workers))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        self.session.auth = _TokenAuth(settings)
        # Passed with every request: requests lets REQUESTS_CA_BUNDLE override a session's verify,
        # which would turn validate_certs=false back on, or replace ca_path.
        self.verify = (settings.ca_path or True) if settings.validate_certs else False
        self.session.verify = self.verify
        self._origin = _origin(settings.api_root)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url_for(self, path, params=()):
        """The absolute URL of ``path`` (relative to the API root) with ``params`` (pairs) encoded."""
        # Quoted, so that no path can carry a query, a fragment or another host.
        path = quote(path.lstrip("/"), safe="/")
        if not path.endswith("/"):
            path += "/"
        url = self.settings.api_root + path
        query = urlencode(list(params))
        return url + "?" + query if query else url

    def get(self, path, params=()):
        """GET one JSON object."""
        url = self.url_for(path, params)
        payload, _headers = self._get_json(url)
        if not isinstance(payload, dict):
            raise WaldurResponseError("%s returned a JSON %s where an object was expected" % (url, type(payload).__name__),
                                      url=url)
        return payload

    def get_page(self, path, params=(), page=1, page_size=None):
        """GET one page of a list (``page_size`` objects, the client's by default) with its X-Result-Count total."""
        query = list(params) + [("page_size", page_size or self.page_size)]
        if page > 1:
            query.append(("page", page))
        url = self.url_for(path, query)
        payload, headers = self._get_json(url)
        if not isinstance(payload, list):
            raise WaldurResponseError("%s returned a JSON %s where a list was expected" % (url, type(payload).__name__), url=url)
        strays = [type(item).__name__ for item in payload if not isinstance(item, dict)]
        if strays:
            raise WaldurResponseError("%s returned a list with %d %s item(s) where only objects were expected" % (
                url, len(strays), strays[0]), url=url)
        count = headers.get("X-Result-Count")
        try:
            total = int(count)
        except (TypeError, ValueError):
            total = -1
        if total < 0:
            raise WaldurResponseError(
                "%s returned no valid X-Result-Count header (%r); a proxy may be stripping it, so the list cannot be "
                "checked for completeness" % (url, count), url=url)
        return Page(payload, total, _has_next(headers))

    def list_all(self, path, params=(), fields=(), key="uuid", order=None):
        """Every object of a list, in server order, exactly the announced total of distinct ``key`` values.

        Pages after the first are fetched in parallel (``max_workers``); ``order`` (a ListOrder) says
        how the server sorts the list, so that objects its unstable order among ties repeated and
        missed can be fetched on their own (listing.py). Without it the order is total, and a
        repeated object means the list changed while it was read.
        """
        return Listing(self, path, order, key).read(list(params) + [("field", name) for name in fields])

    def fetch_concurrently(self, requests_by_name):
        """``{name: result}`` of ``{name: request}`` (calls without arguments that make requests on this client),
        at most ``max_workers`` at once. The first failure is raised here, and requests not yet started are dropped."""
        if self.max_workers == 1 or len(requests_by_name) <= 1:
            return {name: request() for name, request in requests_by_name.items()}
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(requests_by_name))) as executor:
            futures = {name: executor.submit(request) for name, request in requests_by_name.items()}
            try:
                return {name: future.result() for name, future in futures.items()}
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise

    # -------------------------------------------------------------- the retry loop
    def _get_json(self, url):
        """The decoded JSON body and headers of a GET of ``url``, retried as the policy allows."""
        if _origin(url) != self._origin:
            raise WaldurError("refusing to send the API token to %s: only the origin of api_url (%s) gets it" % (
                urlunsplit(urlsplit(url)[:2] + ("", "", "")), self.settings.origin))
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(url)
            except _Retry as retry:
                failure, retry_after = self._redacted(retry.failure), retry.retry_after
            except WaldurError as exc:
                raise self._redacted(exc)
            wait, reason = self.retry_policy.plan(attempt, retry_after)
            if wait is None:
                if attempt > 1 or self.retry_policy.retries > 0:
                    failure.args = ("%s (gave up after %d attempt%s: %s)" % (
                        failure.args[0], attempt, "s" if attempt > 1 else "", reason),)
                raise failure
            self.log("retry %d of %d in %ss: %s" % (attempt, self.retry_policy.retries, format_seconds(wait), failure))
            self.retry_policy.wait(wait)

    def _attempt(self, url):
        """One GET: ``(payload, headers)``, or _Retry for a failure worth retrying, or a WaldurError."""
        try:
            # Redirects are reported, not followed: the Authorization header stays on api_url's origin.
            response = self.session.get(url, timeout=self.settings.timeout, allow_redirects=False, verify=self.verify)
        except requests.exceptions.SSLError as exc:
            raise WaldurConnectionError(
                "TLS verification of %s failed: %s. Give the server's CA in ca_path, or set validate_certs: false on a "
                "test system" % (self.settings.origin, self._reason(exc)), url=url) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # The body is read inside get(): a reset or an early close mid-body is a ChunkedEncodingError.
            raise _Retry(WaldurConnectionError("could not get %s: %s" % (url, self._transport_reason(exc)), url=url)) from None
        except requests.exceptions.RequestException as exc:
            raise WaldurConnectionError("could not get %s: %s" % (url, self._reason(exc)), url=url) from None
        if response.status_code in RETRY_STATUSES:
            raise _Retry(self._status_error(url, response), parse_retry_after(response.headers.get("Retry-After")))
        return self._decode(url, response)

    def _transport_reason(self, exc):
        reason = self._reason(exc)
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in reason.lower():
            return "no answer within the timeout of %s s (%s)" % (format_seconds(self.settings.timeout), reason)
        if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
            return "the connection broke while the answer was read (%s)" % reason
        return reason

    @staticmethod
    def _reason(exc):
        """The innermost useful message of a requests exception (which nests urllib3's)."""
        reason = exc
        for _depth in range(10):
            args = getattr(reason, "args", ())
            if args and isinstance(args[0], BaseException):
                reason = args[0]
            elif isinstance(getattr(reason, "reason", None), BaseException):
                reason = reason.reason
            else:
                break
        args = getattr(reason, "args", ())
        if len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], BaseException):
            # urllib3's ProtocolError("Connection aborted.", ConnectionResetError(...))
            return args[0] if repr(args[1]) in args[0] else "%s (%s)" % (args[0], args[1])
        return str(reason)

    def _redacted(self, error):
        """``error`` with the token cut out of its message (a proxy page may echo request headers)."""
        token = self.settings.api_token
        if error.args and token and token in str(error.args[0]):
            error.args = (str(error.args[0]).replace(token, "<redacted>"),) + error.args[1:]
        return error

    def _decode(self, url, response):
        if response.status_code == 200:
            content_type = response.headers.get("Content-Type", "")
            if "json" not in content_type.lower():
                raise WaldurResponseError(
                    "%s returned status 200 with content type %r instead of JSON (a proxy or login page?): %s" % (
                        url, content_type, _snippet(response)), url=url, status=200)
            try:
                # JSON is UTF-8: a body that is not is corrupted, never guessed at.
                return json.loads(response.content.decode("utf-8")), response.headers
            except (ValueError, RecursionError):
                # A body cut short or mangled on the way; the next attempt may get it whole.
                raise _Retry(WaldurResponseError("%s returned a body that is not valid JSON (cut short or corrupted), "
                                                 "%d bytes: %s" % (url, len(response.content), _snippet(response)),
                                                 url=url, status=200)) from None
        raise self._status_error(url, response)

    def _status_error(self, url, response):
        """The one error formatter for an answer that is not the data asked for."""
        status = response.status_code
        payload = None
        try:
            payload = json.loads(response.content.decode("utf-8"))
            detail = _detail(payload)
        except (ValueError, RecursionError):
            detail = "%s body: %s" % (response.headers.get("Content-Type", "no content type"), _snippet(response))
        if status == 401:
            return WaldurAuthError(
                "Waldur at %s rejected the API token from %s (Authorization scheme %s): %s Check the token, and "
                "auth_scheme (Token for API tokens, Bearer for OIDC and personal access tokens)." % (
                    self.settings.api_root, self.settings.token_source, self.settings.auth_scheme, detail),
                url=url, status=status)
        if status == 400:
            return WaldurRequestError("Waldur rejected a parameter of %s: %s" % (url, detail), url=url, status=status)
        if status == 404:
            return WaldurNotFoundError("%s was not found: %s" % (url, detail), url=url, status=status, payload=payload)
        if 300 <= status < 400:
            return WaldurServerError(
                "%s answered %d redirecting to %s; redirects are not followed so the token stays with api_url's origin. "
                "Set api_url to the address the API is served at." % (url, status, response.headers.get("Location")),
                url=url, status=status)
        return WaldurServerError("%s answered %d %s: %s" % (url, status, response.reason or "", detail), url=url, status=status)

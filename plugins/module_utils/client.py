# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection: connection settings, URLs, retries, errors, paging.

Nothing here knows about AnsibleModule or plugins: failures are raised as WaldurError
subclasses and each front (module, inventory, lookup) turns them into its own failure.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import math
import os
import random
import re
import threading
import time
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

COLLECTION_VERSION = "0.1.0"
USER_AGENT = "waldur.cloud-ansible/%s" % COLLECTION_VERSION

MAX_PAGE_SIZE = 300
RETRY_STATUSES = frozenset((429, 502, 503, 504))
# A Retry-After beyond this is not waited for in full: the task would look hung.
MAX_RETRY_AFTER = 120.0
# How often a listing is restarted when the server's total changes while it is read.
LISTING_ATTEMPTS = 3
SNIPPET_LENGTH = 200

ENV_VARS = {
    "api_url": "WALDUR_API_URL",
    "api_token": "WALDUR_API_TOKEN",
    "auth_scheme": "WALDUR_AUTH_SCHEME",
    "validate_certs": "WALDUR_VALIDATE_CERTS",
    "ca_path": "WALDUR_CA_PATH",
    "timeout": "WALDUR_TIMEOUT",
}


class WaldurError(Exception):
    """Base of every failure the client reports; the message is meant for the user."""


class WaldurConfigError(WaldurError):
    """An option has a value the client cannot use; raised before any request."""

    def __init__(self, option, message):
        super().__init__("%s: %s" % (option, message))
        self.option = option


class WaldurHTTPError(WaldurError):
    """The server answered, but not with the data asked for."""

    def __init__(self, message, url=None, status=None, payload=None):
        super().__init__(message)
        self.url = url
        self.status = status
        # The decoded JSON error body, when there was one.
        self.payload = payload


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

    def __init__(self, api_url, api_token, auth_scheme="Token", validate_certs=True, ca_path=None, timeout=30.0,
                 retries=4, retry_budget=60.0, token_source="the api_token option"):
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
        return cls(
            api_url=values["api_url"],
            api_token=values["api_token"],
            auth_scheme=values["auth_scheme"] or "Token",
            validate_certs=True if values["validate_certs"] is None else values["validate_certs"],
            ca_path=values["ca_path"],
            timeout=30.0 if values["timeout"] is None else values["timeout"],
            retries=4 if options.get("retries") is None else options["retries"],
            retry_budget=60.0 if options.get("retry_budget") is None else options["retry_budget"],
            token_source=origin["api_token"],
        )

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


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (seconds or HTTP date), or None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class RetryPolicy:
    """Exponential backoff with full jitter, bounded by a count and a total waiting budget.

    One policy is shared by every request of a client (pages fetched in parallel included), so
    ``budget`` bounds the waiting of the whole task. A ``Retry-After`` the server sent is waited
    for as given (capped at MAX_RETRY_AFTER) instead of the backoff.
    """

    def __init__(self, retries=4, budget=60.0, base=0.5, cap=30.0, sleep=time.sleep, rng=None):
        self.retries = retries
        self.budget = budget
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.waited = 0.0
        self._lock = threading.Lock()

    def plan(self, attempt, retry_after=None):
        """``(seconds, None)`` to wait before retry number ``attempt`` (1-based), taken from the budget,
        or ``(None, reason)`` when no retry is left."""
        with self._lock:
            if attempt > self.retries:
                return None, "retries is %d" % self.retries
            if retry_after is not None:
                wait = retry_after
            else:
                wait = self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1))))
            left = self.budget - self.waited
            if retry_after is not None and wait > left:
                return None, "the server asked to wait %s s (Retry-After), more than the %s s left of retry_budget" % (
                    _seconds(wait), _seconds(max(left, 0)))
            if retry_after is None and left <= 0:
                return None, "the %s s of retry_budget are spent" % _seconds(self.budget)
            wait = min(wait, left)
            self.waited += wait
            return wait, None

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before retry ``attempt`` (taken from the budget), or None if no retry is left."""
        return self.plan(attempt, retry_after)[0]

    def wait(self, seconds):
        self.sleep(seconds)


def _seconds(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


class Page:
    """One page of a list: its items, the total the server announced, and whether it links a next page.

    ``has_next`` is None when the response had no ``Link`` header (a proxy may strip it).
    """

    def __init__(self, items, total, has_next=None):
        self.items = items
        self.total = total
        self.has_next = has_next


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

    def __init__(self, settings, page_size=MAX_PAGE_SIZE, max_workers=4, retry_policy=None, log=None, session=None):
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
        """GET one page of a list: a JSON array of objects with its X-Result-Count total."""
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

    def list_all(self, path, params=(), fields=(), key="uuid"):
        """Every object of a list, in server order, checked against the announced total.

        Pages after the first are fetched in parallel (``max_workers``). The list is complete only
        if every page announces the same total, holds the objects that total implies, and links a
        next page exactly when it is not the last (the ``Link`` header is read, never followed). An
        object that a shifting page boundary repeats is dropped (by ``key``). If any check fails,
        because the list changed while it was read or a proxy mangled a page, the listing starts
        again, a bounded number of times; one that never settles fails rather than returning part.
        """
        params = list(params) + [("field", name) for name in fields]
        problem = None
        for _attempt in range(LISTING_ATTEMPTS):
            first = self.get_page(path, params, 1)
            page_count = max(1, math.ceil(first.total / self.page_size))
            pages = [first] + self.map(lambda number: self._later_page(path, params, number), range(2, page_count + 1))
            problem = self._paging_problem(pages)
            if problem is None:
                merged = self._merge(pages, key)
                if len(merged) == first.total:
                    return merged
                problem = "%d objects were repeated across pages, so as many were missed" % (first.total - len(merged))
            self.log("listing %s again: %s" % (self.url_for(path, params), problem))
        raise WaldurResponseError("the list at %s could not be read consistently in %d attempts (it kept changing, or "
                                  "a proxy alters the answers): %s" % (self.url_for(path, params), LISTING_ATTEMPTS, problem),
                                  url=self.url_for(path, params))

    def _later_page(self, path, params, number):
        """Page ``number`` (> 1), or None when the server says it does not exist (the list shrank)."""
        try:
            return self.get_page(path, params, number)
        except WaldurNotFoundError:
            return None

    def _paging_problem(self, pages):
        total = pages[0].total
        for number, page in enumerate(pages, start=1):
            if page is None:
                return "page %d, one of the %d pages a total of %d makes, no longer exists" % (number, len(pages), total)
            if page.total != total:
                return "the total changed from %d to %d while reading page %d" % (total, page.total, number)
            expected = max(min(self.page_size, total - (number - 1) * self.page_size), 0)
            if len(page.items) != expected:
                return "page %d has %d objects where %d were announced" % (number, len(page.items), expected)
            last = number == len(pages)
            if page.has_next is not None and page.has_next == last:
                if last:
                    return "page %d, the last for a total of %d, links a next page (the total is wrong)" % (number, total)
                return "page %d links no next page although a total of %d makes %d pages" % (number, total, len(pages))
        return None

    @staticmethod
    def _merge(pages, key):
        """Concatenate pages, dropping an object that a shifting page boundary repeated."""
        seen = set()
        merged = []
        for page in pages:
            for item in page.items:
                identity = item.get(key)
                if identity is not None:
                    if identity in seen:
                        continue
                    seen.add(identity)
                merged.append(item)
        return merged

    def map(self, function, arguments):
        """``function`` over ``arguments`` with at most ``max_workers`` at once, results in order."""
        arguments = list(arguments)
        if self.max_workers == 1 or len(arguments) <= 1:
            return [function(argument) for argument in arguments]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(arguments))) as executor:
            futures = [executor.submit(function, argument) for argument in arguments]
            try:
                return [future.result() for future in futures]
            except BaseException:
                for future in futures:
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
            self.log("retry %d of %d in %ss: %s" % (attempt, self.retry_policy.retries, _seconds(wait), failure))
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
            return "no answer within the timeout of %s s (%s)" % (_seconds(self.settings.timeout), reason)
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

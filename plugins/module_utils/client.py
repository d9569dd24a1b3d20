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
import math
import os
import random
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from urllib.parse import urlencode, urlsplit, urlunsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

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


def normalize_api_url(value, option="api_url"):
    """Return the API root, always ending in ``/api/``, for any accepted form of the URL."""
    if value is None or not str(value).strip():
        raise WaldurConfigError(option, "is not set; give the URL of the Waldur API, e.g. https://waldur.example.com/api/")
    text = str(value).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise WaldurConfigError(option, "%r is not an http:// or https:// URL, e.g. https://waldur.example.com/api/" % text)
    if not parts.hostname:
        raise WaldurConfigError(option, "%r has no host name, e.g. https://waldur.example.com/api/" % text)
    if parts.username or parts.password:
        raise WaldurConfigError(option, "must not contain credentials; pass the token in api_token")
    if parts.query or parts.fragment:
        raise WaldurConfigError(option, "%r must not have a query string or fragment" % text)
    try:
        parts.port
    except ValueError:
        raise WaldurConfigError(option, "%r has an invalid port" % text) from None
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
    """Exponential backoff with full jitter, bounded by a count and a total waiting budget."""

    def __init__(self, retries=4, budget=60.0, base=0.5, cap=30.0, sleep=time.sleep, rng=None):
        self.retries = retries
        self.budget = budget
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.waited = 0.0

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before retry number ``attempt`` (1-based), or None if out of budget."""
        if attempt > self.retries:
            return None
        wait = self.rng.uniform(0, min(self.cap, self.base * (2 ** (attempt - 1))))
        if retry_after is not None:
            wait = max(wait, retry_after)
        if self.waited + wait > self.budget:
            return None
        return wait

    def wait(self, seconds):
        self.waited += seconds
        self.sleep(seconds)


class Page:
    """One page of a list: its items and the total the server announced."""

    def __init__(self, items, total):
        self.items = items
        self.total = total


def _snippet(response):
    body = response.content[:SNIPPET_LENGTH]
    return body.decode("utf-8", "replace").replace("\n", " ").strip()


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


class WaldurClient:
    """A session against one Waldur API root. Paths are relative to it, e.g. ``openstack-images/``."""

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
        self.session.headers.update({
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Authorization": "%s %s" % (settings.auth_scheme, settings.api_token),
        })
        if settings.validate_certs:
            self.session.verify = settings.ca_path or True
        else:
            self.session.verify = False

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def url_for(self, path, params=()):
        """The absolute URL of ``path`` (relative to the API root) with ``params`` (pairs) encoded."""
        path = path.lstrip("/")
        if not path.endswith("/"):
            path += "/"
        url = self.settings.api_root + path
        query = urlencode(list(params))
        return url + "?" + query if query else url

    def get(self, path, params=()):
        """GET one JSON object."""
        payload, _headers = self._get_json(self.url_for(path, params))
        if not isinstance(payload, dict):
            raise WaldurResponseError("%s returned %s where a JSON object was expected" % (
                self.url_for(path, params), type(payload).__name__), url=self.url_for(path, params))
        return payload

    def get_page(self, path, params=(), page=1, page_size=None):
        """GET one page of a list: a JSON array with its X-Result-Count total."""
        query = list(params) + [("page_size", page_size or self.page_size)]
        if page > 1:
            query.append(("page", page))
        url = self.url_for(path, query)
        payload, headers = self._get_json(url)
        if not isinstance(payload, list):
            raise WaldurResponseError("%s returned a JSON %s where a list was expected" % (url, type(payload).__name__), url=url)
        count = headers.get("X-Result-Count")
        try:
            total = int(count)
        except (TypeError, ValueError):
            raise WaldurResponseError(
                "%s returned no valid X-Result-Count header (%r); a proxy may be stripping it, so the list cannot be "
                "checked for completeness" % (url, count), url=url) from None
        return Page(payload, total)

    def list_all(self, path, params=(), fields=(), key="uuid"):
        """Every object of a list, in server order, checked against the announced total.

        Pages after the first are fetched in parallel (``max_workers``). An object that a shifting
        page boundary repeats is dropped (by ``key``); if the total changes while the list is read,
        or objects were repeated and so others missed, the listing starts again, a bounded number
        of times. A listing that never settles fails rather than returning a partial list.
        """
        params = list(params) + [("field", name) for name in fields]
        problem = None
        for _attempt in range(LISTING_ATTEMPTS):
            first = self.get_page(path, params, 1)
            page_count = max(1, math.ceil(first.total / self.page_size))
            pages = [first] + self.map(lambda number: self.get_page(path, params, number), range(2, page_count + 1))
            problem = self._paging_problem(pages)
            if problem is None:
                merged = self._merge(pages, key)
                if len(merged) == first.total:
                    return merged
                problem = "%d objects were repeated across pages, so as many were missed" % (first.total - len(merged))
            self.log("listing %s again: %s" % (self.url_for(path, params), problem))
        raise WaldurResponseError("the list at %s could not be read consistently in %d attempts: %s" % (
            self.url_for(path, params), LISTING_ATTEMPTS, problem), url=self.url_for(path, params))

    def _paging_problem(self, pages):
        total = pages[0].total
        for number, page in enumerate(pages, start=1):
            if page.total != total:
                return "the total changed from %d to %d while reading page %d" % (total, page.total, number)
            expected = min(self.page_size, total - (number - 1) * self.page_size)
            if len(page.items) != max(expected, 0):
                return "page %d has %d objects where %d were announced" % (number, len(page.items), max(expected, 0))
        return None

    @staticmethod
    def _merge(pages, key):
        """Concatenate pages, dropping an object that a shifting page boundary repeated."""
        seen = set()
        merged = []
        for page in pages:
            for item in page.items:
                identity = item.get(key) if isinstance(item, dict) else None
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

    def _get_json(self, url):
        attempt = 0
        while True:
            attempt += 1
            failure = None
            try:
                # Redirects are reported, not followed: the Authorization header stays on api_url's origin.
                response = self.session.get(url, timeout=self.settings.timeout, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise WaldurConnectionError(
                    "TLS verification of %s failed: %s. Give the server's CA in ca_path, or set validate_certs: false on a "
                    "test system" % (self.settings.origin, self._reason(exc)), url=url) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                failure = WaldurConnectionError("could not get %s: %s" % (url, self._reason(exc)), url=url)
                retry_after = None
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._decode(url, response)
                failure = self._status_error(url, response)
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            delay = self.retry_policy.delay(attempt, retry_after)
            if delay is None:
                if attempt > 1:
                    failure.args = ("%s (gave up after %d attempts)" % (failure.args[0], attempt),)
                raise failure
            self.log("retry %d of %s in %.1fs after: %s" % (attempt, url, delay, failure))
            self.retry_policy.wait(delay)

    @staticmethod
    def _reason(exc):
        # requests nests urllib3 errors; the innermost message is the useful one.
        reason = exc
        while getattr(reason, "args", None) and isinstance(reason.args[0], Exception):
            reason = reason.args[0]
        inner = getattr(reason, "reason", None)
        return str(inner or reason)

    def _decode(self, url, response):
        if response.status_code == 200:
            content_type = response.headers.get("Content-Type", "")
            if "json" not in content_type.lower():
                raise WaldurResponseError(
                    "%s returned status 200 with content type %r instead of JSON (a proxy or login page?): %s" % (
                        url, content_type, _snippet(response)), url=url, status=200)
            try:
                return response.json(), response.headers
            except ValueError:
                raise WaldurResponseError("%s returned a body that is not valid JSON (truncated?), %d bytes: %s" % (
                    url, len(response.content), _snippet(response)), url=url, status=200) from None
        raise self._status_error(url, response)

    def _status_error(self, url, response):
        status = response.status_code
        payload = None
        try:
            payload = response.json()
            detail = _detail(payload)
        except ValueError:
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

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one HTTP client of the collection: transport and retries (paging: listing.py; answers: answers.py).

Nothing here knows about AnsibleModule or plugins: failures are raised as WaldurError
subclasses and each front (module, inventory, lookup) turns them into its own failure.
"""

from __future__ import annotations

import socket
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
    from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    AuthBase = object

from ansible_collections.waldur.cloud.plugins.module_utils.answers import RetryableFailure, decode, status_error
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS, MAX_PAGE_SIZE
from ansible_collections.waldur.cloud.plugins.module_utils.errors import (
    WaldurConfigError,
    WaldurConnectionError,
    WaldurError,
    WaldurResponseError,
)
from ansible_collections.waldur.cloud.plugins.module_utils.listing import Listing, Page
from ansible_collections.waldur.cloud.plugins.module_utils.retries import RetryPolicy, format_seconds, parse_retry_after

# The collection's version, as in galaxy.yml (a unit test holds them equal).
COLLECTION_VERSION = "0.1.0"
USER_AGENT = "waldur.cloud-ansible/%s" % COLLECTION_VERSION

RETRY_STATUSES = frozenset((429, 502, 503, 504))
# Bytes read at a time from a body, so that the attempt's deadline is checked while it arrives.
BODY_CHUNK = 65536
# Connecting, the TLS handshake included, takes well under a second on a server that answers at all. A plain-HTTP
# server behind an https:// api_url waits instead, for a request line a TLS client never sends: the handshake gets at
# most this much of an attempt, and a quarter of the attempt, up to PROBE_TIMEOUT, is kept to tell why it failed.
CONNECT_TIMEOUT = 10.0
# The most seconds a plain-HTTP request to the host and port of an https:// api_url may take (_answers_plain_http).
PROBE_TIMEOUT = 3.0


def _has_next(headers):
    """Whether a ``Link`` header names a ``rel="next"`` page; None without a Link header. Never followed."""
    value = headers.get("Link")
    if value is None:
        return None
    return any(link.get("rel") == "next" for link in parse_header_links(value))


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


def _causes(exc):
    """``exc`` and the exceptions it wraps: requests nests urllib3's in its arguments, urllib3 chains the socket's."""
    seen = []
    while isinstance(exc, BaseException) and exc not in seen and len(seen) < 10:
        seen.append(exc)
        inner = next((arg for arg in getattr(exc, "args", ()) if isinstance(arg, BaseException)), None)
        if inner is None and isinstance(getattr(exc, "reason", None), BaseException):
            inner = exc.reason
        exc = inner if inner is not None else exc.__cause__ or exc.__context__
    return seen


def _caused_by(exc, words):
    """Whether any message in the chain of ``exc`` holds one of ``words`` (lowercase)."""
    return any(word in str(cause).lower() for cause in _causes(exc) for word in words)


def _connect_timeout(timeout, scheme):
    """Seconds an attempt of ``timeout`` seconds gives to connecting and, for https, to the TLS handshake."""
    if scheme == "https":
        timeout -= min(PROBE_TIMEOUT, timeout / 4)
    return min(CONNECT_TIMEOUT, timeout)


def _answer_failure(exc):
    """Whether ``exc`` happened after the request was sent (no answer in time, a connection broken mid-answer),
    rather than while connecting (refused, unreachable, no such host, the TLS handshake)."""
    if isinstance(exc, (requests.exceptions.ReadTimeout, requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):
        return not _caused_by(exc, ("handshake",))
    return any(isinstance(cause, (ProtocolError, ReadTimeoutError)) for cause in _causes(exc))


class _BodyTooSlow(Exception):
    """Internal: the attempt's time ran out while the body was still arriving."""

    def __init__(self, received):
        super().__init__(received)
        self.received = received


class WaldurClient:
    """A session against one Waldur API root. Paths are relative to it, e.g. ``openstack-images/``.

    Every request is a GET to the origin of ``api_url``; redirects and ``Link`` headers are never
    followed, so the token is never sent anywhere else.
    """

    def __init__(self, settings, page_size=DEFAULTS["page_size"], max_workers=DEFAULTS["max_workers"], retry_policy=None,
                 log=None):
        if not HAS_REQUESTS:
            raise WaldurError("the Python library requests is required on the host that runs this task")
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise WaldurConfigError("page_size", "%r is out of range; use a whole number from 1 to %d" % (page_size, MAX_PAGE_SIZE))
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1:
            raise WaldurConfigError("max_workers", "%r must be a whole number of at least 1" % (max_workers,))
        self.settings = settings
        # Every attempt, retries included: modules report it as api_requests.
        self.request_count = 0
        self._count_lock = threading.Lock()
        self.page_size = page_size
        self.max_workers = max_workers
        self.retry_policy = retry_policy or RetryPolicy(settings.retries, settings.retry_budget)
        self.log = log or (lambda message: None)
        self.session = requests.Session()
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
        """The decoded JSON body and headers of a GET of ``url``, retried as the policy allows.

        The policy's budget bounds the whole task: every failed attempt is charged with the time it
        took, each attempt's timeout is cut to what is left, and no attempt starts when nothing is.
        """
        if _origin(url) != self._origin:
            raise WaldurError("refusing to send the API token to %s: only the origin of api_url (%s) gets it" % (
                urlunsplit(urlsplit(url)[:2] + ("", "", "")), self.settings.origin))
        timeout = self.retry_policy.attempt_timeout(self.settings.timeout)
        if timeout is None:
            raise WaldurConnectionError("retry_budget: %s was not requested: the %s s of retry_budget were spent on "
                                        "failures earlier in this task" % (url, format_seconds(self.retry_policy.budget)),
                                        url=url, option="retry_budget")
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                return self._attempt(url, timeout)
            except RetryableFailure as retry:
                self.retry_policy.charge(time.monotonic() - started)
                failure, retry_after = self._redacted(retry.failure), retry.retry_after
            except WaldurError as exc:
                raise self._redacted(exc)
            wait, reason = self.retry_policy.plan(attempt, retry_after)
            if wait is None:
                raise self._given_up(failure, attempt, reason)
            self.log("retry %d of %d in %ss: %s" % (attempt, self.retry_policy.retries, format_seconds(wait), failure))
            self.retry_policy.wait(wait)
            timeout = self.retry_policy.attempt_timeout(self.settings.timeout)
            if timeout is None:
                # Requests made in parallel spent the rest of the budget meanwhile.
                raise self._given_up(failure, attempt, "the %s s of retry_budget are spent" % format_seconds(
                    self.retry_policy.budget))

    def _given_up(self, failure, attempts, reason):
        """``failure``, saying why no retry followed (unless retries are off and this was the only attempt)."""
        if attempts > 1 or self.retry_policy.retries > 0:
            failure.args = ("%s (gave up after %d attempt%s: %s)" % (
                failure.args[0], attempts, "s" if attempts > 1 else "", reason),)
        return failure

    def _attempt(self, url, timeout):
        """One GET that ends within ``timeout`` seconds: ``(payload, headers)``, or RetryableFailure for a failure worth
        retrying, or a WaldurError."""
        with self._count_lock:
            self.request_count += 1
        deadline = time.monotonic() + timeout
        connect_timeout = _connect_timeout(timeout, self._origin[0])
        try:
            # Redirects are reported, not followed: the Authorization header stays on api_url's origin.
            response = self.session.get(url, timeout=(connect_timeout, timeout), allow_redirects=False, verify=self.verify,
                                        stream=True)
            body = self._read_body(response, deadline)
        except _BodyTooSlow as slow:
            raise RetryableFailure(self._unreachable(
                url, "did not answer", "the answer did not arrive in full within the timeout of %s s (%d bytes had come)" % (
                    format_seconds(timeout), slow.received))) from None
        except requests.exceptions.SSLError as exc:
            raise self._tls_error(url, exc, deadline) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            reason = self._transport_reason(exc, timeout, connect_timeout)
            if _caused_by(exc, ("handshake",)):
                # A plain-http server waits for a request line that a TLS client never sends: not worth a retry.
                if self._answers_plain_http(deadline):
                    raise self._plain_http(url, reason) from None
                reason += ": the server may not speak TLS on that port (for a plain http server, give an http:// api_url)"
            raise RetryableFailure(self._unreachable(
                url, "did not answer" if _answer_failure(exc) else "cannot be reached", reason)) from None
        except requests.exceptions.RequestException as exc:
            raise WaldurConnectionError("could not get %s: %s" % (url, self._reason(exc)), url=url) from None
        if response.status_code in RETRY_STATUSES:
            raise RetryableFailure(status_error(self.settings, url, response, body), parse_retry_after(response.headers.get("Retry-After")))
        return decode(self.settings, url, response, body)

    @staticmethod
    def _read_body(response, deadline):
        """The whole body, each read given only the time left, so that a body that trickles in cannot outlast the
        attempt's timeout (requests' own timeout bounds each read, not their sum)."""
        raw = response.raw
        if not hasattr(raw, "read1"):
            # Not urllib3 2 (a test transport, whose body is already read): no read returns early.
            return response.content
        body = bytearray()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _BodyTooSlow(len(body))
                sock = getattr(raw.connection, "sock", None)
                if sock is not None:
                    sock.settimeout(left)
                # read1 returns what one read of the socket gives, where read(n) would wait for n bytes.
                chunk = raw.read1(BODY_CHUNK, decode_content=True)
                if not chunk:
                    return bytes(body)
                body += chunk
        except BaseException as exc:
            # A connection left mid-body cannot serve the next request.
            response.close()
            # As requests' own reading would raise them.
            if isinstance(exc, ReadTimeoutError):
                raise requests.exceptions.ReadTimeout(exc) from None
            if isinstance(exc, ProtocolError):
                raise requests.exceptions.ChunkedEncodingError(exc) from None
            if isinstance(exc, DecodeError):
                raise requests.exceptions.ContentDecodingError(exc) from None
            raise

    def _unreachable(self, url, what, reason):
        """The one message for a request that got no complete answer: it names api_url and where it came from."""
        return WaldurConnectionError("api_url: the Waldur API at %s (from %s) %s: could not get %s: %s" % (
            self.settings.api_root, self.settings.source("api_url"), what, url, reason), url=url, option="api_url")

    def _tls_error(self, url, exc, deadline):
        reason = self._reason(exc)
        if any(word in reason.lower() for word in ("certificate", "hostname", "host name")):
            return WaldurConnectionError(
                "TLS verification of %s failed: %s. Give the server's CA in ca_path, or set validate_certs: false on a "
                "test system" % (self.settings.origin, reason), url=url, option="ca_path")
        if "alert" in reason.lower():
            # The server answered in TLS, refusing this client's protocol versions or ciphers.
            return self._unreachable(url, "cannot be reached", "the TLS handshake failed (%s)" % reason)
        # WRONG_VERSION_NUMBER, "record layer failure", an early EOF: the answer to the TLS hello was not TLS.
        if self._answers_plain_http(deadline):
            return self._plain_http(url, "the TLS handshake failed (%s)" % reason)
        return self._unreachable(url, "cannot be reached", "the TLS handshake failed (%s): the server does not seem to speak "
                                 "TLS on that port (for a plain http server, give an http:// api_url)" % reason)

    def _answers_plain_http(self, deadline):
        """Whether the host and port of an https:// api_url answer a plain HTTP request before ``deadline`` (at most
        PROBE_TIMEOUT seconds): what tells a plain-HTTP server there from a hung or broken one. The request is a HEAD
        of ``/`` without the token, on a connection of its own."""
        _scheme, host, port = self._origin
        timeout = min(PROBE_TIMEOUT, deadline - time.monotonic())
        if timeout <= 0:
            return False
        deadline = time.monotonic() + timeout
        answer = b""
        try:
            with socket.create_connection((host, port), timeout=timeout) as probe:
                probe.sendall(b"HEAD / HTTP/1.0\r\nUser-Agent: " + USER_AGENT.encode("ascii") + b"\r\n\r\n")
                while len(answer) < 5 and deadline > time.monotonic():
                    probe.settimeout(deadline - time.monotonic())
                    chunk = probe.recv(5 - len(answer))
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            pass
        return answer == b"HTTP/"

    def _plain_http(self, url, handshake):
        """The failure of an https:// api_url whose port answers plain HTTP, with the api_url to give instead."""
        _scheme, host, port = self._origin
        parts = urlsplit(self.settings.api_root)
        netloc = "%s:%d" % ("[%s]" % host if ":" in host else host, port)
        http_root = urlunsplit(("http", netloc, parts.path, "", ""))
        return self._unreachable(url, "cannot be reached", "%s and the server answers plain HTTP on port %d, not TLS: give "
                                 "api_url: %s (or the port where it serves https)" % (handshake, port, http_root))

    def _transport_reason(self, exc, timeout, connect_timeout):
        reason = self._reason(exc)
        if _caused_by(exc, ("handshake",)):
            return "the TLS handshake got no answer within %s s" % format_seconds(connect_timeout)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return "connecting timed out after %s s" % format_seconds(connect_timeout)
        if isinstance(exc, requests.exceptions.Timeout) or "timed out" in reason.lower():
            return "no answer within the timeout of %s s (%s)" % (format_seconds(timeout), reason)
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

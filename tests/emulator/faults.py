"""Injected faults: what a reverse proxy, a busy server or a changing data set does to a client.

A ``Fault`` is a kind (what happens), selectors (which requests it hits) and parameters. The
server asks ``Fault.take(request)`` for each API request, in the order the faults were added;
the first fault that takes the request applies to it. Standard library only.

Spec format (the command line's ``--fault`` and ``POST /__emulator__/faults``): a JSON object,
or ``key=value`` pairs separated by commas, e.g. ``kind=429,path=/api/openstack-images/,page=2,retry_after=1``.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading

FAULT_PAGES = {
    200: "OK",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}

# kind -> what it does
KINDS = {
    "html": "an nginx-like HTML error page with `status` (default 502; 429 gets Retry-After: 1 unless given)",
    "html200": "an HTML page with status 200 (a proxy's login or maintenance page)",
    "html502": "an nginx 502 Bad Gateway HTML page",
    "drop": "reset the connection before any answer (status 0 means this too)",
    "reset": "send the headers and part of the body (`at` bytes, default half), then reset the connection",
    "eof": "send the headers and part of the body (`at` bytes, default half), then close the connection cleanly",
    "truncated": "a complete answer whose JSON body is cut short (`at` bytes, default half); Content-Length matches",
    "delay": "wait `delay` seconds (default 5) before answering normally: beyond a client's timeout",
    "wrong_count": "answer normally but with X-Result-Count set to `result_count`, or the true count + `delta` (default -1)",
    "add_image": "add an image before answering (`name`, `uuid`, `settings_uuid`, `tenant_uuids`, `min_disk`, `min_ram`)",
    "remove_image": "remove an image before answering (`uuid`; default the first listed image with a unique name)",
    "redirect": "answer `status` (default 302) with Location: `location` and no body",
    "link_host": "answer normally but with the Link header's URLs on `host` (`scheme://host:port` or `host:port`)",
}
STATUS_KINDS = ("429", "500", "502", "503", "504")
ANSWER_KINDS = frozenset(("html", "html200", "html502", "drop", "redirect"))  # answer instead of the API
DATA_KINDS = frozenset(("add_image", "remove_image"))  # change the data, then the API answers
BODY_KINDS = frozenset(("reset", "eof", "truncated", "wrong_count", "link_host"))  # mangle the API's answer

SELECTORS = ("path", "method", "page", "query", "every", "probability", "seed", "count")
PARAMETERS = ("status", "retry_after", "body", "content_type", "delay", "at", "result_count", "delta", "location",
              "host", "name", "uuid", "settings_uuid", "tenant_uuids", "min_disk", "min_ram")
INT_KEYS = frozenset(("status", "page", "every", "seed", "at", "result_count", "delta", "min_disk", "min_ram"))
FLOAT_KEYS = frozenset(("probability", "delay"))
UNLIMITED = ("inf", "always", "unlimited", "none", "null")


class Fault:
    """One injected fault; thread-safe. ``count=None`` fires without limit."""

    def __init__(self, status=None, count=1, path=None, kind=None, retry_after=None, body=None, content_type=None,
                 method=None, page=None, query=None, every=None, probability=None, seed=0, delay=None, at=None,
                 result_count=None, delta=None, location=None, host=None, name=None, uuid=None, settings_uuid=None,
                 tenant_uuids=None, min_disk=None, min_ram=None):
        kind = None if kind is None else str(kind)
        if kind in STATUS_KINDS:
            status, kind = int(kind), "html"
        if kind is None:
            kind = "drop" if status is not None and int(status) == 0 else "html"
        if kind not in KINDS:
            raise ValueError("unknown fault kind %r; use one of %s, or a status %s" % (kind, ", ".join(KINDS), ", ".join(STATUS_KINDS)))
        if kind == "html200":
            status = 200
        elif kind == "html502":
            status = 502
        elif kind == "redirect":
            status = 302 if status is None else status
            if not location:
                raise ValueError("a redirect fault needs a location")
        elif kind == "link_host" and not host:
            raise ValueError("a link_host fault needs a host")
        self.kind = kind
        self.status = 502 if status is None else int(status)
        if kind == "html" and not (400 <= self.status <= 599):
            raise ValueError("an html fault needs an error status (400-599), not %r" % status)
        self.count = _count(count)
        self.path = path
        self.method = method.upper() if method else None
        self.page = None if page is None else int(page)
        self.query = _pairs(query)
        self.every = None if every is None else int(every)
        if self.every is not None and self.every < 1:
            raise ValueError("every must be 1 or more, not %r" % every)
        self.probability = None if probability is None else float(probability)
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("probability must be from 0 to 1, not %r" % probability)
        self.seed = seed
        self._rng = random.Random(seed)
        if retry_after is None and self.status == 429 and kind == "html":
            retry_after = "1"
        self.retry_after = None if retry_after is None else str(retry_after)
        self.body = body
        self.content_type = content_type
        self.delay = 5.0 if delay is None else float(delay)
        self.at = None if at is None else int(at)
        self.result_count = None if result_count is None else int(result_count)
        self.delta = -1 if delta is None else int(delta)
        self.location = location
        self.host = host
        self.image = {"name": name, "uuid": uuid, "settings_uuid": settings_uuid, "min_disk": min_disk, "min_ram": min_ram,
                      "tenant_uuids": _list(tenant_uuids)}
        self.seen = 0
        self.fired = 0
        self._lock = threading.Lock()

    def take(self, request):
        """Whether this fault applies to ``request`` (counted: call once per request)."""
        if self.path is not None and not fnmatch.fnmatchcase(request.path, self.path):
            return False
        if self.method is not None and request.method != self.method:
            return False
        if self.page is not None and _page_of(request) != self.page:
            return False
        if any(request.params.get(key) != value for key, value in self.query):
            return False
        with self._lock:
            if self.count is not None and self.fired >= self.count:
                return False
            self.seen += 1
            if self.every is not None and self.seen % self.every:
                return False
            if self.probability is not None and self._rng.random() >= self.probability:
                return False
            self.fired += 1
            return True

    @property
    def pending(self):
        return self.count is None or self.fired < self.count

    def describe(self):
        out = {"kind": self.kind, "status": self.status, "count": self.count, "fired": self.fired}
        if self.count is not None:
            out["remaining"] = self.count - self.fired
        for key in ("path", "method", "page", "every", "probability", "retry_after", "location", "host"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.query:
            out["query"] = "&".join("%s=%s" % pair for pair in self.query)
        if self.kind == "delay":
            out["delay"] = self.delay
        return out

    # ------------------------------------------------------------ mangling
    def cut(self, body):
        """How many bytes of ``body`` a cutting fault sends: ``at``, or half, always fewer than all."""
        if not body:
            return 0
        at = len(body) // 2 if self.at is None else self.at
        return max(0, min(at, len(body) - 1))

    def headers(self, headers, true_count=None):
        """The API's headers as this fault changes them."""
        out = []
        for name, value in headers:
            lowered = name.lower()
            if self.kind == "wrong_count" and lowered == "x-result-count":
                value = str(self.result_count if self.result_count is not None else int(value) + self.delta)
            elif self.kind == "link_host" and lowered == "link":
                value = _relink(value, self.host)
            out.append((name, value))
        return out

    def error_page(self):
        """(status, content type, body bytes) of an answering HTML fault."""
        title = FAULT_PAGES.get(self.status, "Error")
        if self.body is not None:
            body = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        elif self.kind == "html200":
            body = (b"<!DOCTYPE html>\r\n<html><head><title>Sign in</title></head><body><h1>Please sign in</h1>"
                    b"<form method=\"post\" action=\"/login\"></form></body></html>\r\n")
        else:
            body = ("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
                    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (self.status, title, self.status, title)).encode("ascii")
        return self.status, self.content_type or "text/html", body


def _count(value):
    if value is None or (isinstance(value, str) and value.strip().lower() in UNLIMITED):
        return None
    count = int(value)
    if count < 0:
        return None
    return count


def _pairs(query):
    if not query:
        return ()
    if isinstance(query, dict):
        return tuple((str(k), str(v)) for k, v in sorted(query.items()))
    pairs = []
    for part in str(query).split("&"):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError("query selector %r: give key=value pairs joined by &" % query)
        pairs.append((key, value))
    return tuple(pairs)


def _list(value):
    if value is None:
        return None
    if isinstance(value, str):
        return [item for item in value.replace(";", " ").split() if item]
    return list(value)


def _page_of(request):
    raw = request.params.get("page") or "1"
    try:
        return int(raw)
    except ValueError:
        return None


def _relink(value, host):
    """The Link header ``value`` with every URL moved to ``host``."""
    if "://" in host:
        scheme, _sep, netloc = host.partition("://")
    else:
        scheme, netloc = None, host
    parts = []
    for link in value.split(", <"):
        link = link if link.startswith("<") else "<" + link
        url, sep, rest = link[1:].partition(">")
        old_scheme, _s, after = url.partition("://")
        _old_host, slash, path = after.partition("/")
        parts.append("<%s://%s%s%s>%s" % (scheme or old_scheme, netloc, slash, path, rest if sep else ""))
    return ", ".join(parts)


def parse_fault_spec(text):
    """A dict of ``Fault`` arguments from ``kind=429,page=2,...`` or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        spec = json.loads(text)
        if not isinstance(spec, dict):
            raise ValueError("a fault spec must be a JSON object")
    else:
        spec = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError("fault spec %r: %r is not key=value" % (text, part))
            spec[key.strip()] = value.strip()
    return check_spec(spec)


def check_spec(spec):
    """``spec`` with known keys and typed values; raises ValueError naming what is accepted."""
    known = ("kind",) + SELECTORS + PARAMETERS
    unknown = sorted(set(spec) - set(known))
    if unknown:
        raise ValueError("unknown fault key%s %s; use %s" % ("s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(known)))
    out = {}
    for key, value in spec.items():
        if isinstance(value, str) and key in INT_KEYS:
            value = int(value)
        elif isinstance(value, str) and key in FLOAT_KEYS:
            value = float(value)
        out[key] = value
    return out

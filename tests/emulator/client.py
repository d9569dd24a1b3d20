"""A tiny standard-library HTTP client for tests that talk to the emulator.

``fetch(emu.url, "/api/openstack-images/", token=...)`` returns a ``Reply`` with the raw
status, headers (in order) and body, without following redirects or parsing anything
behind the caller's back.
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


class Reply:
    """One HTTP response: ``status``, ``headers`` [(name, value)], ``body`` bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name, default=None):
        """The first header called ``name`` (case-insensitive)."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return default

    def header_names(self):
        return [key for key, _value in self.headers]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def count(self):
        value = self.header("X-Result-Count")
        return int(value) if value is not None else None

    def links(self):
        """{rel: url} parsed from the Link header."""
        out = {}
        value = self.header("Link") or ""
        for part in value.split(", <"):
            part = part if part.startswith("<") else "<" + part
            url, _sep, rel = part.partition(">; rel=")
            if url:
                out[rel.strip('"')] = url[1:]
        return out

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:200])


def auth_header(token, scheme="Token"):
    return {"Authorization": "%s %s" % (scheme, token)} if token else {}


def fetch(base_url, path, token=None, method="GET", scheme="Token", headers=None, body=None, conn=None, timeout=30):
    """Send one request.  ``conn`` (an ``http.client.HTTPConnection``) reuses a connection."""
    parts = urlsplit(base_url)
    own = conn is None
    if own:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    all_headers = auth_header(token, scheme)
    all_headers.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        return Reply(resp.status, resp.reason, resp.getheaders(), data)
    finally:
        if own:
            conn.close()


def fetch_all(base_url, path, token=None, scheme="Token", headers=None, limit=10000):
    """Follow the Link ``next`` URLs from ``path``; return (items, replies).

    Raises AssertionError on a non-200 page or when more than ``limit`` pages are seen."""
    items, replies = [], []
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        while path is not None:
            reply = fetch(base_url, path, token, scheme=scheme, headers=headers, conn=conn)
            if reply.status != 200:
                raise AssertionError("%s -> %d %r" % (path, reply.status, reply.body[:200]))
            replies.append(reply)
            items.extend(reply.json())
            if len(replies) > limit:
                raise AssertionError("more than %d pages" % limit)
            nxt = reply.links().get("next")
            if nxt is None:
                path = None
            else:
                split = urlsplit(nxt)
                path = split.path + ("?" + split.query if split.query else "")
    finally:
        conn.close()
    return items, replies

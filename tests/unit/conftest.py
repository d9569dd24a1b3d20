# Unit-test fixtures. `scripted` replaces a client's transport with a script: each expected
# request with the response to give; a request out of order, or one too many, fails the test,
# and so does a scripted request that was never made.
from __future__ import annotations

import json as jsonlib
import threading

import pytest
import requests
from requests.adapters import BaseAdapter


class ScriptedTransport(BaseAdapter):
    def __init__(self, steps, ordered=True):
        super().__init__()
        self.steps = list(steps)
        self.ordered = ordered
        self.requests = []
        self.lock = threading.Lock()

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        with self.lock:
            return self._answer(request)

    def _answer(self, request):
        self.requests.append(request)
        if not self.steps:
            raise AssertionError("unexpected extra request: %s %s" % (request.method, request.url))
        if self.ordered:
            url, response = self.steps.pop(0)
            assert request.url == url, "expected %s, got %s" % (url, request.url)
        else:
            # Parallel requests come in any order: take the first step scripted for this URL.
            index = next((i for i, (url, _response) in enumerate(self.steps) if url == request.url), None)
            assert index is not None, "unexpected request: %s %s" % (request.method, request.url)
            url, response = self.steps.pop(index)
        if isinstance(response, Exception):
            raise response
        status, headers, body = response
        result = requests.Response()
        result.status_code = status
        result.headers.update(headers)
        result._content = body if isinstance(body, bytes) else jsonlib.dumps(body).encode()  # pylint: disable=protected-access
        result.url = request.url
        result.request = request
        result.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "")
        return result

    def close(self):
        pass

    def assert_done(self):
        assert not self.steps, "requests never made: %s" % [url for url, _response in self.steps]


def json_response(body, status=200, total=None, **headers):
    """A JSON answer; ``total`` adds X-Result-Count as list endpoints send it."""
    headers = dict({"Content-Type": "application/json"}, **headers)
    if total is not None:
        headers["X-Result-Count"] = str(total)
    return status, headers, body


class Script:
    json = staticmethod(json_response)

    def __init__(self):
        self.transports = []

    def install(self, client, steps, ordered=True):
        """Replace the client's transport with ``steps``; returns the transport, to inspect requests."""
        transport = ScriptedTransport(steps, ordered)
        client.session.mount("https://", transport)
        client.session.mount("http://", transport)
        self.transports.append(transport)
        return transport


@pytest.fixture
def scripted():
    script = Script()
    yield script
    for transport in script.transports:
        transport.assert_done()

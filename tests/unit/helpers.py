"""What the unit tests share: the API they talk to, a client factory, and the scripted transport.

``ScriptedTransport`` replaces a client's transport: either with a script (each expected request
with the response to give; a request out of order, or one too many, fails the test, and so does a
scripted request that was never made) or with a function that answers each request.
"""
from __future__ import annotations

import json
import threading

import requests
from requests.adapters import BaseAdapter

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.retries import RetryPolicy

TOKEN = "0123456789abcdef0123456789abcdef01234567"
ROOT = "https://waldur.example.com/api/"
IMAGES = ROOT + "openstack-images/"
# The settings and tenant look-ups, exactly as the client asks for them.
SETTINGS = ROOT + "service-settings/?type=OpenStack&field=uuid&field=name&field=shared&page_size=300"
TENANTS = (ROOT + "openstack-tenants/?field=uuid&field=name&field=service_settings_uuid&field=service_name"
           "&field=project_uuid&field=project_name&field=customer&field=customer_name&page_size=300")


def make_client(page_size=300, max_workers=1, retries=3, sleeps=None, budget=60, **options):
    """A client of ROOT with TOKEN; retries wait for no time, and are recorded in ``sleeps`` if given."""
    options = dict(dict(api_url="https://waldur.example.com", api_token=TOKEN), **options)
    policy = RetryPolicy(retries=retries, budget=budget, sleep=(sleeps.append if sleeps is not None else lambda seconds: None))
    return WaldurClient(ConnectionSettings.from_options(options, environ={}), page_size=page_size,
                        max_workers=max_workers, retry_policy=policy)


def json_response(body, status=200, total=None, **headers):
    """A JSON answer; ``total`` adds X-Result-Count as list endpoints send it."""
    headers = dict({"Content-Type": "application/json"}, **headers)
    if total is not None:
        headers["X-Result-Count"] = str(total)
    return status, headers, body


class ScriptedTransport(BaseAdapter):
    """Answers from ``steps`` (``(url, answer)`` pairs), or from ``respond(request)`` when it is given.

    An answer is ``(status, headers, body)`` (a body that is not bytes is sent as JSON) or an exception to raise.
    """

    def __init__(self, steps=(), ordered=True, respond=None):
        super().__init__()
        self.steps = list(steps)
        self.ordered = ordered
        self.respond = respond
        self.requests = []
        self.lock = threading.Lock()

    def send(self, request, **kwargs):  # pylint: disable=arguments-differ
        with self.lock:
            self.requests.append(request)
            answer = self._scripted(request) if self.respond is None else self.respond(request)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        result = requests.Response()
        result.status_code = status
        result.headers.update(headers)
        result._content = body if isinstance(body, bytes) else json.dumps(body).encode()  # pylint: disable=protected-access
        # Read already: the client streams bodies, and requests then serves them from _content.
        result._content_consumed = True  # pylint: disable=protected-access
        result.url = request.url
        result.request = request
        result.reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "")
        return result

    def _scripted(self, request):
        if not self.steps:
            raise AssertionError("unexpected extra request: %s %s" % (request.method, request.url))
        if self.ordered:
            url, answer = self.steps.pop(0)
            assert request.url == url, "expected %s, got %s" % (url, request.url)
            return answer
        # Parallel requests come in any order: take the first step scripted for this URL.
        index = next((i for i, (url, _answer) in enumerate(self.steps) if url == request.url), None)
        assert index is not None, "unexpected request: %s %s" % (request.method, request.url)
        return self.steps.pop(index)[1]

    def close(self):
        pass

    def assert_done(self):
        assert not self.steps, "requests never made: %s" % [url for url, _answer in self.steps]


def install(client, transport):
    """Route every request of ``client`` to ``transport``; returns the transport, to inspect requests."""
    client.session.mount("https://", transport)
    client.session.mount("http://", transport)
    return transport

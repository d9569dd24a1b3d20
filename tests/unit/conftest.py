# Unit-test fixtures. `scripted` replaces a client's transport with a script (see helpers.ScriptedTransport)
# and, when the test ends, fails it if a scripted request was never made.
from __future__ import annotations

import pytest

from ansible_collections.waldur.cloud.tests.unit.helpers import ScriptedTransport, install, json_response


class Script:
    json = staticmethod(json_response)

    def __init__(self):
        self.transports = []

    def install(self, client, steps, ordered=True):
        """Replace the client's transport with ``steps``; returns the transport, to inspect requests."""
        transport = install(client, ScriptedTransport(steps, ordered))
        self.transports.append(transport)
        return transport


@pytest.fixture
def scripted():
    script = Script()
    yield script
    for transport in script.transports:
        transport.assert_done()

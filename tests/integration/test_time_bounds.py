"""A task that cannot get an answer ends within the documented bound, whatever the kind of failure, and says why.

The documented bound (doc fragment waldur.cloud.connection.retries): failures cost a task at most the longer of
``timeout`` and ``retry_budget``. Each kind is tried against a loopback server that fails that way
(tests/integration/dead_ends.py), with small options so the test is quick; the assertions are generous upper bounds
derived from that rule, never tight timings. ``python -m tests.integration.test_time_bounds`` measures each kind with
the default options (about a minute) and prints the table of docs/guides/getting-started.md.
"""
from __future__ import annotations

import sys
import threading
import time

import pytest

import tests.conftest  # noqa: F401 pylint: disable=unused-import  # the collection importable when run as a script

from ansible_collections.waldur.cloud.plugins.module_utils.client import WaldurClient
from ansible_collections.waldur.cloud.plugins.module_utils.connection import ConnectionSettings
from ansible_collections.waldur.cloud.plugins.module_utils.defaults import DEFAULTS
from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurError
from tests.integration.dead_ends import Backlogged, Html404, PlainHttp, Refused, Silent, Trickle
from tests.integration.harness import ansible_environment

TOKEN = "0123456789abcdef0123456789abcdef01234567"
# The tests marked core_independent call the client (module_utils) alone: the runs on other ansible-core versions
# leave them to the main run (tests/core_versions.py); the module's test below runs on every core.
# Small, so that every kind fails within seconds; the bound is the longer of the two.
QUICK = {"timeout": 1.0, "retry_budget": 2.5}
# A quarter of the timeout (1 s here) is kept for the plain-HTTP probe after a handshake that got no answer: the
# loopback server answers it in milliseconds, but a loaded machine may be slow to run its thread.
PROBED = {"timeout": 4.0, "retry_budget": 2.5}
# Scheduling on a busy 2-core machine, Python and process start: generous, never tight.
SLACK = 3.0

# kind: (the server, what the message must say, the options of the test)
KINDS = {
    "refused": (Refused, "cannot be reached: could not get", QUICK),
    "unreachable": (Backlogged, "cannot be reached: could not get", QUICK),
    "timeout": (Silent, "did not answer: could not get", QUICK),
    "tls-hung": (lambda: Silent(scheme="https"), "the server may not speak TLS on that port", QUICK),
    "plain-http-waits": (PlainHttp, "the server answers plain HTTP on port", PROBED),
    "plain-http-rejects": (lambda: PlainHttp(on_tls="reject"), "the server answers plain HTTP on port", QUICK),
    "slow-body": (Trickle, "did not answer: could not get", QUICK),
}


def bound(options):
    return max(options["timeout"], options["retry_budget"])


def fail_against(url, **options):
    """Seconds until a client gives up on ``url``, and its message."""
    settings = ConnectionSettings.from_options(dict({"api_url": url, "api_token": TOKEN}, **options), environ={})
    started = time.monotonic()
    with WaldurClient(settings) as client:
        with pytest.raises(WaldurError) as error:
            client.get("openstack-images/%s/" % ("0" * 32))
    return time.monotonic() - started, str(error.value)


@pytest.mark.core_independent
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_failure_kind_ends_within_the_budget_and_names_api_url(kind):
    server, message, options = KINDS[kind]
    with server() as dead_end:
        elapsed, error = fail_against(dead_end.url, **options)
    assert elapsed < bound(options) + SLACK, (kind, elapsed, error)
    assert message in error
    assert error.startswith("api_url: the Waldur API at %sapi/ (from the api_url option) " % dead_end.url), error


@pytest.mark.core_independent
def test_parallel_requests_share_the_bound():
    """Four requests at once against a hung server end together within the bound, not one after the other."""
    with Silent() as dead_end:
        settings = ConnectionSettings.from_options(dict({"api_url": dead_end.url, "api_token": TOKEN}, **QUICK), environ={})
        started = time.monotonic()
        with WaldurClient(settings, max_workers=4) as client:
            with pytest.raises(WaldurError):
                client.fetch_concurrently({number: lambda number=number: client.get("openstack-images/%032d/" % number)
                                           for number in range(8)})
        elapsed = time.monotonic() - started
    assert elapsed < bound(QUICK) + SLACK


@pytest.mark.core_independent
@pytest.mark.parametrize("on_tls", ["wait", "reject"])
def test_a_plain_http_server_on_an_https_url_is_named_with_the_url_to_give_after_one_attempt(on_tls):
    """Whether it waits for a request line or answers the TLS hello with a 400 page, a quick plain-HTTP request to
    the same port tells it: the message gives the http:// api_url, and no retry follows."""
    with PlainHttp(on_tls) as server:
        elapsed, error = fail_against(server.url, **PROBED)
    port = server.port
    assert "the server answers plain HTTP on port %d, not TLS: give api_url: http://127.0.0.1:%d/api/" % (port, port) in error
    assert "gave up" not in error
    assert elapsed < PROBED["timeout"] + SLACK


@pytest.mark.core_independent
def test_the_emulator_served_plain_on_an_https_url_is_named(emulator):
    _elapsed, error = fail_against(emulator.url.replace("http://", "https://"), **PROBED)
    assert "the server answers plain HTTP on port %d, not TLS: give api_url: %s/api/" % (
        emulator.port, emulator.url) in error, error


@pytest.mark.core_independent
def test_with_the_defaults_a_plain_http_server_that_waits_is_named_within_15_seconds():
    """The most common typo: https:// for a plain-HTTP Waldur that waits for a request line the TLS client never sends
    (about 10 s: the handshake's share of the default timeout)."""
    with PlainHttp() as server:
        elapsed, error = fail_against(server.url)
    assert "the TLS handshake got no answer within 10 s and the server answers plain HTTP" in error
    assert elapsed < 15


@pytest.mark.core_independent
def test_a_tiny_timeout_is_reported_as_given():
    with Silent() as dead_end:
        _elapsed, error = fail_against(dead_end.url, timeout=0.001, retries=0)
    assert "within the timeout of 0.001 s" in error


@pytest.mark.core_independent
def test_a_web_server_that_is_not_waldur_is_named_without_its_page():
    with Html404() as other:
        _elapsed, error = fail_against(other.url + "apix/", **QUICK)
    root = other.url + "apix/api/"
    assert error.startswith("api_url: %s is not the root of a Waldur API: %sopenstack-images/" % (root, root)), error
    assert "answered 404 with text/html, where Waldur answers JSON" in error
    assert "api_url is '%sapix/' (from the api_url option), to which /api/ was appended" % other.url in error
    assert "<" not in error


MODULE_PLAYBOOK = """
- name: Fail against a server that does not answer
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: List images
      waldur.cloud.openstack_image_info:
        timeout: 1
        retry_budget: 2.5
      register: outcome
      ignore_errors: true
    - name: Show the result
      ansible.builtin.debug:
        var: outcome
"""


def test_a_module_names_api_url_from_the_environment_and_stays_within_the_bound(run_playbook):
    with Silent() as dead_end:
        started = time.monotonic()
        completed = run_playbook(MODULE_PLAYBOOK, ansible_environment(WALDUR_API_URL=dead_end.url, WALDUR_API_TOKEN=TOKEN))
        elapsed = time.monotonic() - started
    assert "api_url: the Waldur API at %sapi/ (from the WALDUR_API_URL environment variable) did not answer" % (
        dead_end.url) in completed.stdout
    assert '"option": "api_url"' in completed.stdout
    assert '"api_root": "%sapi/"' % dead_end.url in completed.stdout
    # The playbook's own start-up comes on top of the bound.
    assert elapsed < bound(QUICK) + 4 * SLACK


def measure_defaults():
    """Each kind with the default options, all at once (about a minute): ``{kind: (seconds, message)}``."""
    results = {}

    def one(kind):
        server, _message, _options = KINDS[kind]
        with server() as dead_end:
            settings = ConnectionSettings.from_options({"api_url": dead_end.url, "api_token": TOKEN}, environ={})
            started = time.monotonic()
            try:
                with WaldurClient(settings) as client:
                    client.get("openstack-images/%s/" % ("0" * 32))
            except WaldurError as exc:
                results[kind] = (time.monotonic() - started, str(exc))

    threads = [threading.Thread(target=one, args=(kind,)) for kind in sorted(KINDS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


if __name__ == "__main__":
    print("| failure | seconds with the defaults (timeout %s, retries %s, retry_budget %s) |" % (
        DEFAULTS["timeout"], DEFAULTS["retries"], DEFAULTS["retry_budget"]))
    print("|---|---|")
    for name, (seconds, text) in sorted(measure_defaults().items()):
        print("| %s | %.1f |" % (name, seconds))
        print("    " + text, file=sys.stderr)

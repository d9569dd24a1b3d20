"""Every front that connects names the option to change, and where its value came from, when the server cannot be
reached, is not Waldur, or refuses the token; and a module's result says which API root it used and how many
requests it made (never the token)."""
from __future__ import annotations

import json
import os
import runpy

import pytest

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConnectionError
from tests.conftest import REPO_ROOT
from tests.integration.dead_ends import Html404, PlainHttp, Refused
from tests.integration.harness import ansible_environment

TOKEN = "0123456789abcdef0123456789abcdef01234567"

FRONTS_PLAYBOOK = """
- name: Each front against the server of WALDUR_API_URL
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: The module
      waldur.cloud.openstack_image_info:
        retries: 0
      register: module_outcome
      ignore_errors: true
    - name: The lookup
      ansible.builtin.set_fact:
        chosen: "{{{{ lookup('waldur.cloud.openstack_image', name='ubuntu', retries=0) }}}}"
      register: lookup_outcome
      ignore_errors: true
    - name: The module, with api_url given as an option
      waldur.cloud.openstack_image_info:
        api_url: "{other_url}"
        retries: 0
      register: option_outcome
      ignore_errors: true
    - name: Write the results for the test to read
      ansible.builtin.copy:
        content: "{{{{ {{'module': module_outcome, 'lookup': lookup_outcome, 'option': option_outcome}} | to_json }}}}"
        dest: "{results}"
        mode: "0600"
"""


def run_fronts(run_playbook, tmp_path, environment_url, option_url):
    results = tmp_path / "results.json"
    run_playbook(FRONTS_PLAYBOOK.format(other_url=option_url, results=results),
                 ansible_environment(WALDUR_API_URL=environment_url, WALDUR_API_TOKEN=TOKEN))
    return json.loads(results.read_text())


def test_a_refused_connection_names_api_url_and_its_source_on_every_front(run_playbook, tmp_path):
    with Refused() as refused, Html404() as other:
        results = run_fronts(run_playbook, tmp_path, refused.url, other.url + "apix/")
    from_environment = "api_url: the Waldur API at %sapi/ (from the WALDUR_API_URL environment variable) cannot be " \
                       "reached: could not get %sapi/openstack-images/" % (refused.url, refused.url)
    assert results["module"]["msg"].startswith(from_environment), results["module"]["msg"]
    assert results["module"]["option"] == "api_url"
    assert results["module"]["api_root"] == refused.url + "api/"
    assert results["module"]["api_requests"] == 1
    assert ("waldur.cloud.openstack_image lookup: " + from_environment) in results["lookup"]["msg"], results["lookup"]["msg"]
    # An API root that is some other web server: said so, with what was tried, without its page.
    message = results["option"]["msg"]
    assert message.startswith("api_url: %sapix/api/ is not the root of a Waldur API" % other.url), message
    assert "api_url is '%sapix/' (from the api_url option), to which /api/ was appended" % other.url in message
    assert "<" not in message
    assert results["option"]["option"] == "api_url"


def test_https_typed_for_a_plain_http_server_gives_the_http_url_to_use(run_cases):
    with PlainHttp() as server:
        # A timeout of 4 s: 3 for the handshake, 1 for the plain-HTTP probe, ample on a loaded machine.
        results, _output = run_cases("waldur.cloud.openstack_image_info", [{"timeout": 4}],
                                     ansible_environment(WALDUR_API_URL=server.url, WALDUR_API_TOKEN=TOKEN))
    message = results[0]["msg"]
    assert message.startswith("api_url: the Waldur API at https://127.0.0.1:%d/api/ (from the WALDUR_API_URL environment "
                              "variable) cannot be reached" % server.port), message
    assert message.endswith("the server answers plain HTTP on port %d, not TLS: give api_url: http://127.0.0.1:%d/api/ "
                            "(or the port where it serves https)" % (server.port, server.port)), message
    assert results[0]["option"] == "api_url"
    assert results[0]["api_requests"] == 1
    # What told it: one plain request, without the token.
    assert [request.split(b"\r\n")[0] for request in server.requests] == [b"HEAD / HTTP/1.0"]
    assert TOKEN.encode() not in server.requests[0] and b"Authorization" not in server.requests[0]


def test_a_rejected_token_names_api_token_and_its_source(emulator, run_cases):
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{}],
                                 ansible_environment(emulator, WALDUR_API_TOKEN="f" * 40))
    assert results[0]["msg"].startswith("api_token: Waldur at %s/api/ rejected the API token from the WALDUR_API_TOKEN "
                                        "environment variable" % emulator.url), results[0]["msg"]
    assert results[0]["option"] == "api_token"


def test_the_result_names_the_api_root_and_counts_the_requests(emulator, run_cases):
    emulator.reset_requests()
    # ansible-core 2.21 returns the invocation only when asked to (older ones ignore the variable).
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{"name_exact": "debian-12"}],
                                 ansible_environment(emulator, ANSIBLE_INJECT_INVOCATION="true"), extra_args=["-vvv"])
    result = results[0]
    assert result["api_root"] == emulator.url + "/api/"
    # Counted by the server, not by the client.
    assert result["api_requests"] == sum(emulator.request_counts().values()) >= 1
    # What -vvv shows of the arguments: the URL the task used, the token masked.
    arguments = result["invocation"]["module_args"]
    assert arguments["api_url"] == emulator.url
    assert arguments["api_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert emulator.tokens["staff"] not in json.dumps(result)


def test_an_api_url_given_as_null_still_comes_from_the_environment(emulator, run_cases):
    """Ansible falls back to the environment only for options not given; null is given."""
    results, _output = run_cases("waldur.cloud.openstack_image_info", [{"api_url": None, "name_exact": "debian-12"}],
                                 ansible_environment(emulator))
    assert not results[0].get("failed"), results[0].get("msg")
    assert results[0]["api_root"] == emulator.url + "/api/"


def test_the_event_source_names_api_url_and_its_source(monkeypatch):
    # Loaded the way ansible-rulebook loads it.
    watch_class = runpy.run_path(os.path.join(REPO_ROOT, "extensions", "eda", "plugins", "event_source",
                                              "openstack_images.py"))["ImageWatch"]
    with Refused() as refused:
        monkeypatch.setenv("WALDUR_API_URL", refused.url)
        monkeypatch.setenv("WALDUR_API_TOKEN", TOKEN)
        watch = watch_class({"retries": 0})
        with pytest.raises(WaldurConnectionError) as error:
            watch.complete_listing()
    assert str(error.value).startswith("api_url: the Waldur API at %sapi/ (from the WALDUR_API_URL environment variable) "
                                       "cannot be reached" % refused.url), str(error.value)

"""Security: the token never leaks, Authorization goes only to api_url's origin, TLS with a private CA,
plain http off loopback warns, data from the API is never templated, settings credentials are never asked for."""
from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.emulator.client import fetch
from tests.emulator.dataset import with_truth
from tests.emulator.tls import make_test_pki
from tests.integration.harness import BIN, Truth, ansible_environment
from tests.integration.test_faults import parse_inventory, run_parallel_cases

INFO = "waldur.cloud.openstack_image_info"
STATS = "waldur.cloud.openstack_image_stats"
IMAGES = "/api/openstack-images/"
WRONG = "f00d" * 10
INJECTION = "{{ lookup('pipe', 'id') }}"
EVALUATED = "{{ 'was' ~ ' templated' | upper }}"


@pytest.fixture
def small():
    """A private emulator with a small data set (faults are queued on it)."""
    with WaldurEmulator(generate_dataset(images=120, tenants=4, settings=2, seed=11), port=0) as server:
        server.truth = Truth(with_truth(server.dataset))
        yield server


def uuids(result):
    assert not result.get("failed"), result.get("msg")
    return [image["uuid"] for image in result["images"]]


def own_warnings(result):
    """The warnings of a result, without Ansible's own about the test harness passing arguments as a template."""
    return [warning for warning in result.get("warnings", []) if "argsplat-unsafe" not in warning]


def secrets_of(emulator):
    """Every credential the emulator knows: the users' tokens and the service settings' passwords."""
    values = set(emulator.tokens.values()) | {WRONG}
    for row in emulator.dataset["service_settings"]:
        values.update(str(value) for key, value in (row.get("options") or {}).items() if key in ("password", "token") and value)
    return values


def assert_no_secret(emulator, *texts):
    for text in texts:
        for secret in secrets_of(emulator):
            assert secret not in text, "a credential leaked: %s...%s" % (secret[:4], text[max(0, text.find(secret) - 200):][:400])


# ------------------------------------------------------------------------------------ token leaks
LEAK_PLAYBOOK = """
- name: Every way a run can fail or retry, at -vvvv
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
    # The environment of the controller holds a wrong token; the right one is read from a file.
    good_token: "{{{{ lookup('ansible.builtin.file', '{token_file}') }}}}"
  module_defaults:
    group/waldur.cloud.waldur:
      api_token: "{{{{ good_token }}}}"
  tasks:
    - name: A wrong token given as an option
      {info}:
        api_token: "{wrong}"
      register: wrong_option
      ignore_errors: true
    - name: A wrong token from the environment
      {info}:
        api_token: "{{{{ omit }}}}"
      register: wrong_environment
      ignore_errors: true
    - name: A server error page that echoes the request headers, the token in them
      {info}:
        page_size: 71
        retries: 1
        retry_budget: 1
      register: echoed
      ignore_errors: true
    - name: Statistics through a proxy that keeps failing, retried
      {stats}:
        page_size: 72
        retries: 2
      register: failing
      ignore_errors: true
    - name: A retried success
      {info}:
        page_size: 73
      register: retried
    - name: Statistics with the images of each name, as staff (who could see settings credentials)
      {stats}:
        include_images: true
        service_provider: [cloud-a]
      register: statistics
    - name: An unreachable server
      {info}:
        api_url: http://127.0.0.1:9/
        retries: 0
      register: unreachable
      ignore_errors: true
    - name: The lookup with the wrong token of the environment
      ansible.builtin.set_fact:
        chosen: "{{{{ lookup('waldur.cloud.openstack_image', name='debian') }}}}"
      register: lookup_wrong
      ignore_errors: true
    - name: The lookup through a failing proxy
      ansible.builtin.set_fact:
        chosen: "{{{{ lookup('waldur.cloud.openstack_image', name='debian', page_size=74, retries=1, api_token=good_token) }}}}"
      register: lookup_failing
      ignore_errors: true
    - name: Write what was registered
      ansible.builtin.copy:
        content: "{{{{ {{'wrong_option': wrong_option, 'wrong_environment': wrong_environment, 'echoed': echoed,
                     'failing': failing, 'retried': retried, 'statistics': statistics, 'unreachable': unreachable,
                     'lookup_wrong': lookup_wrong,
                     'lookup_failing': lookup_failing}} | to_json }}}}"
        dest: "{results}"
        mode: "0600"
"""


def test_the_token_never_appears_in_results_warnings_errors_or_vvvv_output(small, tmp_path):
    """Also: service settings are only ever asked for their names (settings_requests_ask_only_for_names)."""
    token = small.tokens["staff"]
    echo = "<html><h1>Server Error (500)</h1><pre>HTTP_AUTHORIZATION: 'Token %s'</pre></html>" % token
    small.add_fault(status=500, body=echo, query="page_size=71", count=None)
    small.add_fault(kind="503", body=echo, query="page_size=72", path="/api/openstack-images/usage_stats/", count=None,
                    retry_after=0)
    small.add_fault(kind="429", retry_after=0, query="page_size=73")
    small.add_fault(kind="502", body=echo, query="page_size=74", count=None, retry_after=0)
    token_file = tmp_path / "token"
    token_file.write_text(token)
    results_file = tmp_path / "results.json"
    playbook = tmp_path / "leak.yml"
    playbook.write_text(LEAK_PLAYBOOK.format(info=INFO, stats=STATS, wrong=WRONG, token_file=token_file, results=results_file))
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(playbook), "-vvvv"],
                               env=ansible_environment(small, "staff", WALDUR_API_TOKEN=WRONG), capture_output=True,
                               text=True, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    raw = results_file.read_text()
    results = json.loads(raw)
    assert_no_secret(small, completed.stdout, completed.stderr, raw)

    # Each failed clearly, naming where the token came from, never what it is.
    assert "rejected the API token from the api_token option" in results["wrong_option"]["msg"]
    assert "rejected the API token from the WALDUR_API_TOKEN environment variable" in results["wrong_environment"]["msg"]
    # The client cut the token out of the server's page itself; Ansible's masking is only a second line.
    assert "HTTP_AUTHORIZATION: 'Token <redacted>'" in results["echoed"]["msg"]
    assert "Token <redacted>" in results["failing"]["msg"] and "gave up after 3 attempts" in results["failing"]["msg"]
    assert all("<redacted>" in line for line in results["failing"]["api_retries"])
    assert results["retried"]["api_retries"] and uuids(results["retried"])
    assert results["statistics"]["stats"] and not results["statistics"].get("failed")
    settings_requests_ask_only_for_names(small)
    assert "could not get http://127.0.0.1:9/api/openstack-images/" in results["unreachable"]["msg"]
    assert "rejected the API token from the WALDUR_API_TOKEN environment variable" in results["lookup_wrong"]["msg"]
    assert "Token <redacted>" in results["lookup_failing"]["msg"]
    # Each retry shows in the module result, and at -vvv through the plugins' display.
    assert "retry 1 of 4 in 0s: " in completed.stdout
    assert "retry 1 of 1 in 0s: " in completed.stdout


def test_the_inventory_never_writes_the_token_or_settings_credentials(small, tmp_path):
    """Nor settings credentials: they are never asked for (settings_requests_ask_only_for_names)."""
    token = small.tokens["staff"]
    cache = tmp_path / "cache"
    source = tmp_path / "leak.waldur_images.yml"
    source.write_text(json.dumps({"plugin": "waldur.cloud.openstack_images", "api_token": token, "usage_stats": True,
                                  "cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                                  "cache_connection": str(cache), "cache_timeout": 3600}))
    small.add_fault(kind="429", retry_after=0)
    environment = ansible_environment(small, "staff", ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true")
    listed = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list", "-vvvv"],
                            env=environment, capture_output=True, text=True, check=False)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "retry 1 of 4 in 0s: " in listed.stdout + listed.stderr
    cached = [path.read_text() for path in cache.iterdir()]
    assert cached and any(small.truth.default_list("staff")[0] in text for text in cached)
    assert_no_secret(small, listed.stdout, listed.stderr, *cached)
    assert '"options"' not in "".join(cached) and "backend_url" not in "".join(cached)
    settings_requests_ask_only_for_names(small)

    # A failing server: the error names the file and the option, never the token.
    small.add_fault(status=500, body="<pre>Authorization: Token %s</pre>" % token, count=None)
    failed = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(source), "--list", "-vvvv", "--flush-cache"],
                            env=environment, capture_output=True, text=True, check=False)
    assert failed.returncode != 0
    assert "Token <redacted>" in failed.stderr
    assert_no_secret(small, failed.stdout, failed.stderr, *[path.read_text() for path in cache.iterdir()])


def settings_requests_ask_only_for_names(emulator):
    """Staff get `options` (OpenStack admin credentials) with every settings object unless fields are chosen."""
    asked = [path for _method, path, _headers in emulator.requests if path.startswith("/api/service-settings/")]
    assert asked
    for path in asked:
        assert "field=uuid" in path and "field=name" in path and "options" not in path, path


# ------------------------------------------------------------------- Authorization only to the origin
class Recorder:
    """A second loopback server that records every request it gets, and answers like an empty Waldur list
    (so a client that followed a redirect or a Link there would silently get nothing)."""

    def __init__(self):
        self.requests = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
                recorder.requests.append((self.command, self.path, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Result-Count", "0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()


def test_authorization_never_goes_to_a_host_named_by_a_redirect_or_a_link(small, tmp_path, plugin_log):
    with Recorder() as recorder:
        elsewhere = "http://localhost:%d/api/openstack-images/" % recorder.port
        # The recorder does record an Authorization header when one is sent (so the test can fail).
        fetch("http://127.0.0.1:%d" % recorder.port, "/control/", token="control-token")
        assert recorder.requests[0][2]["Authorization"] == "Token control-token"

        cases = [
            ({"kind": "redirect", "status": 301, "location": elsewhere, "page": 1}, "answered 301 redirecting to " + elsewhere),
            ({"kind": "redirect", "status": 302, "location": elsewhere, "page": 2}, "answered 302 redirecting to " + elsewhere),
            ({"kind": "redirect", "status": 307, "location": elsewhere.replace("localhost", "127.0.0.1")}, "answered 307"),
            ({"kind": "redirect", "status": 308, "location": elsewhere, "path": "/api/openstack-tenants/", "page": None},
             "answered 308"),
            ({"kind": "link_host", "host": "http://localhost:%d" % recorder.port, "count": None, "page": None}, None),
            ({"kind": "link_host", "host": "127.0.0.1:%d" % recorder.port, "count": None, "page": None}, None),
        ]
        module_cases = []
        for index, (fault, error) in enumerate(cases):
            fault = dict({"path": IMAGES, "page": 2}, **fault)
            if fault["page"] is None:
                del fault["page"]
            small.add_fault(query="page_size=%d" % (20 + index), **fault)
            arguments = {"page_size": 20 + index}
            if fault["path"] != IMAGES:
                # A settings name is resolved through the settings and tenant listings.
                arguments["settings"] = "cloud-a"
            module_cases.append({"args": arguments})
        results, completed = run_parallel_cases(tmp_path, INFO, module_cases, ansible_environment(small, "staff"),
                                                extra_args=["-vvv"])
        for (fault, error), result in zip(cases, results):
            if error is None:
                assert uuids(result) == small.truth.default_list("staff"), fault
            else:
                assert result["failed"] and error in result["msg"], (fault, result.get("msg"))
                assert "redirects are not followed so the token stays with api_url's origin" in result["msg"]

        # The inventory plugin, through the same client, with every page linking to the recorder.
        small.add_fault(kind="link_host", host="http://localhost:%d" % recorder.port, count=None, path="/api/*")
        hosts, error = parse_inventory(tmp_path, small, {"page_size": 7}, 1)
        assert error is None and hosts == sorted(small.truth.default_list("staff"))
        assert recorder.requests == recorder.requests[:1], "the recorder got requests: %s" % recorder.requests[1:]
    assert_no_secret(small, completed.stdout, completed.stderr)


# ------------------------------------------------------------------------------------------------ TLS
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    trusted = make_test_pki(str(directory))
    other = make_test_pki(str(tmp_path_factory.mktemp("other")), common_name="Some other CA")
    # A directory of CA certificates as c_rehash / openssl rehash makes it.
    capath = directory / "capath"
    capath.mkdir()
    digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", trusted["ca"]], capture_output=True, text=True,
                            check=True).stdout.strip()
    (capath / ("%s.0" % digest)).write_bytes(Path(trusted["ca"]).read_bytes())
    return {"trusted": trusted, "other": other, "capath": str(capath)}


def test_tls_with_a_private_ca(pki, tmp_path, plugin_log):
    dataset = generate_dataset(images=60, tenants=3, settings=2, seed=13)
    with WaldurEmulator(dataset, tls_cert=pki["trusted"]["cert"], tls_key=pki["trusted"]["key"]) as server:
        truth = Truth(with_truth(server.dataset)).default_list("staff")
        origin = server.url
        cases = [
            ({}, {}, "TLS verification of %s failed: " % origin),
            ({"ca_path": pki["trusted"]["ca"]}, {}, None),
            ({"ca_path": pki["capath"]}, {}, None),
            ({}, {"WALDUR_CA_PATH": pki["trusted"]["ca"]}, None),
            ({"validate_certs": False}, {}, None),
            ({}, {"WALDUR_VALIDATE_CERTS": "false"}, None),
            ({"ca_path": pki["other"]["ca"]}, {}, "TLS verification of %s failed: " % origin),
            # validate_certs false wins over a CA bundle from the environment that would not trust the server.
            ({"validate_certs": False}, {"REQUESTS_CA_BUNDLE": pki["other"]["ca"]}, None),
            ({"api_url": "http://192.0.2.1:9/", "timeout": 0.5, "retries": 0}, {}, "could not get http://192.0.2.1:9/api/"),
        ]
        results, completed = run_parallel_cases(
            tmp_path, INFO, [{"args": arguments, "env": env} for arguments, env, _error in cases],
            ansible_environment(server, "staff"), extra_args=["-vvvv"])
        for (arguments, env, error), result in zip(cases, results):
            if error is None:
                assert uuids(result) == truth, (arguments, env)
                assert not own_warnings(result), result.get("warnings")
            else:
                assert result["failed"] and error in result["msg"], (arguments, env, result["msg"])
                if "TLS" in error:
                    assert "Give the server's CA in ca_path, or set validate_certs: false on a test system" in result["msg"]
        # Plain http to a host that is not loopback: the token would travel in clear text.
        assert any("api_url http://192.0.2.1:9/api/ is plain http to a host that is not loopback" in warning
                   for warning in results[-1]["warnings"])
        assert_no_secret(server, completed.stdout, completed.stderr)

        # The inventory plugin: the same options, the same messages.
        hosts, error = parse_inventory(tmp_path, server, {"ca_path": pki["trusted"]["ca"]}, 0)
        assert error is None and hosts == sorted(truth)
        hosts, error = parse_inventory(tmp_path, server, {"retries": 0}, 1)
        assert hosts is None and "TLS verification of %s failed" % origin in error and "ca_path" in error


def test_plain_http_off_loopback_warns_in_plugins_too(tmp_path, monkeypatch):
    from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client  # pylint: disable=import-outside-toplevel

    warnings = []
    monkeypatch.setattr(plugin_client.display, "warning", lambda message, *args, **kwargs: warnings.append(message))
    server = type("Unreachable", (), {"url": "http://192.0.2.1:9", "tokens": {"staff": "a" * 40}})()
    hosts, error = parse_inventory(tmp_path, server, {"timeout": 0.5, "retries": 0}, 0)
    assert hosts is None and "192.0.2.1" in error
    assert warnings == ["api_url http://192.0.2.1:9/api/ is plain http to a host that is not loopback: the API token is "
                        "sent unencrypted. Use https."]


# ----------------------------------------------------------------------------- data is never templated
def test_names_from_the_api_are_never_templated_in_groups_hostvars_or_plays(tmp_path, run_playbook):
    dataset = generate_dataset(images=40, tenants=3, settings=2, seed=17)
    openstack = [row for row in dataset["service_settings"] if row["type"] == "OpenStack"]
    openstack[0]["name"] = EVALUATED
    tenant = next(row for row in dataset["tenants"] if row["service_settings_uuid"] == openstack[0]["uuid"])
    tenant["name"] = INJECTION
    dataset["images"][0]["name"] = INJECTION
    dataset["images"][0]["settings_uuid"] = openstack[0]["uuid"]
    dataset["images"][0]["tenant_uuids"] = [tenant["uuid"]]
    with WaldurEmulator(dataset) as server:
        source = tmp_path / "names.waldur_images.yml"
        source.write_text(json.dumps({"plugin": "waldur.cloud.openstack_images", "keyed_groups": [
            {"key": "waldur_settings_name", "prefix": "cloud"}, {"key": "waldur_name", "prefix": "named"}]}))
        output = tmp_path / "seen.json"
        completed = run_playbook("""
- name: Look at everything the inventory made from the names
  hosts: waldur_images
  connection: local
  gather_facts: false
  tasks:
    - name: Show it
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} {{ waldur_name }} {{ waldur_settings_name }} {{ waldur_tenant_name | default('') }} {{ group_names }}"
    - name: Write it
      ansible.builtin.copy:
        content: "{{ {'hosts': ansible_play_hosts_all, 'groups': groups.keys() | list,
                      'names': ansible_play_hosts_all | map('extract', hostvars, 'waldur_name') | list,
                      'settings': ansible_play_hosts_all | map('extract', hostvars, 'waldur_settings_name') | list,
                      'tenants': ansible_play_hosts_all | map('extract', hostvars) | selectattr('waldur_tenant_name', 'defined')
                                 | map(attribute='waldur_tenant_name') | list}
                     | to_json }}"
        dest: "%s"
        mode: "0600"
      run_once: true
""" % output, ansible_environment(server, "staff"), extra_args=["-i", str(source)])
    seen = json.loads(output.read_text())
    everything = completed.stdout + output.read_text()
    assert "uid=" not in everything and "WAS TEMPLATED" not in everything and "was templated" not in everything
    # The exact texts reach the play as data (the debug task above printed them and the host names untemplated).
    assert INJECTION in seen["names"] and INJECTION in seen["tenants"] and EVALUATED in seen["settings"]
    # Group names made from the names are sanitised: no braces, quotes, spaces or parentheses survive.
    for group in seen["groups"]:
        assert not set(group) & set("{}()'\" |~"), group
    assert any(group.startswith("waldur_tenant_") and "lookup" in group for group in seen["groups"])
    assert any(group.startswith("cloud_") and "templated" in group for group in seen["groups"])


@pytest.fixture
def plugin_log(monkeypatch):
    from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client  # pylint: disable=import-outside-toplevel

    lines = []
    monkeypatch.setattr(plugin_client.display, "vvv", lambda message, host=None: lines.append(message))
    for variable in ("WALDUR_API_URL", "WALDUR_API_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    return lines

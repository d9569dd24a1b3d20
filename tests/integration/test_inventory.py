"""The openstack_images inventory through ansible-inventory and ansible-playbook, against the emulator.

Results are compared with the emulator's dumped truth; the request budget is checked with its
request counts.
"""
from __future__ import annotations

import json
import math
import os
import subprocess

import pytest

from ansible.inventory.group import to_safe_group_name
from ansible.release import __version__ as ansible_version
from ansible.inventory.manager import split_host_pattern

from ansible_collections.waldur.cloud.plugins.plugin_utils.inventory import clean_host_name, group_names
from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import BIN, ansible_environment

ANSIBLE_VERSION = tuple(int(part) for part in ansible_version.split(".")[:2])
PLUGIN = "waldur.cloud.openstack_images"
INJECTION = "{{ lookup('pipe', 'id') }}"
IMAGES = "GET /api/openstack-images/"
SETTINGS = "GET /api/service-settings/"
TENANTS = "GET /api/openstack-tenants/"
USAGE = "GET /api/openstack-images/usage_stats/"


def write_config(tmp_path, filename="test.waldur_images.yml", **options):
    path = tmp_path / filename
    path.write_text(json.dumps(dict({"plugin": PLUGIN}, **options), ensure_ascii=False))
    return path


def flush_cache_with_playbook(emulator, tmp_path):
    """Run a play that does nothing with --flush-cache; the request counts it caused."""
    playbook = tmp_path / "noop.yml"
    playbook.write_text("- name: Nothing\n  hosts: localhost\n  gather_facts: false\n  tasks: []\n")
    emulator.reset_requests()
    completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "test.waldur_images.yml"),
                                "--flush-cache", str(playbook)],
                               env=ansible_environment(emulator), capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return emulator.request_counts()


def ansible_inventory(path, environment, *arguments):
    return subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", str(path)] + list(arguments),
                          env=environment, capture_output=True, text=True, check=False)


def unwrap(value):
    """ansible-inventory writes unsafe text as {"__ansible_unsafe": text}; the plain data, and whether all was marked."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


class Listing:
    """The output of ansible-inventory --list: hosts with their variables, groups with hosts and children."""

    def __init__(self, text):
        self.raw = json.loads(text)
        self.hostvars = unwrap(self.raw["_meta"]["hostvars"])
        self.groups = {name: group for name, group in self.raw.items() if name != "_meta"}
        self.by_uuid = {variables["waldur_uuid"]: host for host, variables in self.hostvars.items()}

    def hosts_of(self, group):
        return set(self.groups.get(group, {}).get("hosts", []))

    def children_of(self, group):
        return set(self.groups.get(group, {}).get("children", []))

    def all_hosts_of(self, group):
        hosts = set(self.hosts_of(group))
        for child in self.children_of(group):
            hosts |= self.all_hosts_of(child)
        return hosts

    def host_of(self, uuid):
        return self.by_uuid[uuid]


def list_inventory(emulator, tmp_path, user="staff", extra_env=None, expect_success=True, arguments=(), **options):
    emulator.reset_requests()
    completed = ansible_inventory(write_config(tmp_path, **options), ansible_environment(emulator, user, **(extra_env or {})),
                                  "--list", *arguments)
    if expect_success:
        assert completed.returncode == 0, completed.stderr
        assert "WARNING" not in completed.stderr, completed.stderr
        return Listing(completed.stdout), emulator.request_counts()
    return completed


def sanitize(name):
    return to_safe_group_name(name, force=True, silent=True)


def visible_settings(truth, user):
    """The OpenStack settings the plugin knows for ``user``: listed to them or named by their tenants."""
    listed = {u for u in truth.dataset["visibility"][user]["service_settings"] if truth.settings[u]["type"] == "OpenStack"}
    return listed | {truth.tenants[t]["service_settings_uuid"] for t in truth.visible_tenants(user)}


def expected_budget(truth, user, listed, page=300):
    """Requests per path: one listing of settings, of tenants and of images, and one per tenant with listed images."""
    listed_settings = {truth.images[u]["settings_uuid"] for u in listed}
    default = truth.default_list(user)
    images = math.ceil(len(listed) / page) or 1
    for tenant in truth.visible_tenants(user):
        if truth.tenants[tenant]["service_settings_uuid"] in listed_settings:
            members = [u for u in default if tenant in truth.images[u]["tenant_uuids"]]
            images += max(1, math.ceil(len(members) / page))
    return {SETTINGS: 1, TENANTS: 1, IMAGES: images}


# ------------------------------------------------------------------------------- hosts and groups
@pytest.mark.parametrize("user", ["staff", "user"])
def test_list_matches_the_truth_within_the_request_budget(emulator, truth, tmp_path, user):
    listing, counts = list_inventory(emulator, tmp_path, user)
    default = truth.default_list(user)
    assert counts == expected_budget(truth, user, default)
    assert listing.children_of("all") == {"ungrouped", "waldur_images"}
    assert_hosts_and_groups_match_truth(listing, truth, user)


def assert_hosts_and_groups_match_truth(listing, truth, user):
    """Every image ``user`` sees is a host with its variables, in its settings' and tenants' groups."""
    default = truth.default_list(user)
    assert sorted(variables["waldur_uuid"] for variables in listing.hostvars.values()) == sorted(default)
    tenants = set(truth.visible_tenants(user))
    settings = visible_settings(truth, user)
    tenant_group = group_names([truth.tenants[t] for t in tenants], "waldur_tenant_", sanitize)
    settings_group = group_names([truth.settings[s] for s in settings], "waldur_settings_", sanitize)
    for host, variables in listing.hostvars.items():
        image = truth.images[variables["waldur_uuid"]]
        linked = sorted((t for t in image["tenant_uuids"] if t in tenants),
                        key=lambda t: (truth.tenants[t]["name"], t))
        assert variables["waldur_tenant_uuids"] == linked
        assert variables["waldur_settings_uuid"] == image["settings_uuid"]
        assert variables["waldur_settings_name"] == truth.settings[image["settings_uuid"]]["name"]
        assert variables["waldur_min_disk"] == image["min_disk"] and variables["waldur_name"] == image["name"]
        assert variables["waldur_tenants_known"] is True
        own = settings_group[image["settings_uuid"]]
        assert own in listing.children_of("waldur_images")
        for tenant in linked:
            assert host in listing.hosts_of(tenant_group[tenant])
            assert tenant_group[tenant] in listing.children_of(own)
        # Directly in the settings' group only when in none of its tenants.
        assert (host in listing.hosts_of(own)) is (not linked)
        assert host in listing.all_hosts_of("waldur_images")
    assert not listing.hosts_of("waldur_images") and not listing.hosts_of("ungrouped")


def test_the_non_staff_user_names_settings_from_tenants(emulator, truth, tmp_path):
    listing, _counts = list_inventory(emulator, tmp_path, "user")
    listed = set(truth.dataset["visibility"]["user"]["service_settings"])
    named_by_tenants = {variables["waldur_settings_uuid"] for variables in listing.hostvars.values()} - listed
    assert named_by_tenants, "the data set should give the user settings it cannot list"
    for variables in listing.hostvars.values():
        assert variables["waldur_settings_name"] == truth.settings[variables["waldur_settings_uuid"]]["name"]
    assert all("options" not in str(variables) for variables in listing.hostvars.values())


def test_the_graph_shows_settings_then_tenants_then_images(emulator, truth, tmp_path):
    completed = ansible_inventory(write_config(tmp_path, name_exact="debian-12"), ansible_environment(emulator), "--graph")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[:3] == ["@all:", "  |--@ungrouped:", "  |--@waldur_images:"]
    settings_lines = [line for line in lines if line.startswith("  |  |--@waldur_settings_")]
    assert settings_lines == sorted(settings_lines) and len(settings_lines) == 3
    assert all(line.startswith("  |  |  |--@waldur_tenant_") or not line.startswith("  |  |  |--@") for line in lines)
    hosts = [line.split("--", 1)[1] for line in lines if "--@" not in line and "--" in line]
    names = {clean_host_name(truth.images[u]["name"]) for u in truth.default_list("staff")
             if truth.images[u]["name"] == "debian-12"}
    assert names == {"debian-12"}
    assert set(hosts) == {"debian-12@%s" % truth.settings[s]["name"] for s in visible_settings(truth, "staff")}


def test_duplicate_names_never_merge_hosts(emulator, truth, tmp_path):
    listing, counts = list_inventory(emulator, tmp_path, show_duplicate_names=True)
    everything = truth.all_visible("staff")
    default = set(truth.default_list("staff"))
    assert len(listing.hostvars) == len(everything) > len(default)
    assert sorted(variables["waldur_uuid"] for variables in listing.hostvars.values()) == sorted(everything)
    for host, variables in listing.hostvars.items():
        known = variables["waldur_uuid"] in default
        assert variables["waldur_tenants_known"] is known
        if not known:
            assert variables["waldur_tenant_uuids"] == []
    # One more listing than the default plan: the duplicates, then the default list to know whose tenants are known.
    budget = expected_budget(truth, "staff", everything)
    budget[IMAGES] += math.ceil(len(default) / 300)
    # The server ignores every filter with duplicates, so ties it garbled are read again with another page size.
    assert budget[IMAGES] <= counts.pop(IMAGES) <= budget.pop(IMAGES) + 2 * math.ceil(len(everything) / 299)
    assert counts == budget
    older = [u for u in everything if truth.images[u]["name"] == "ubuntu-22.04" and u not in default]
    assert older, "the data set has older ubuntu-22.04 images"
    for uuid in older:
        host = listing.host_of(uuid)
        assert host.startswith("ubuntu-22.04@") and host.endswith("~" + uuid[:8])


def test_names_differing_in_case_or_white_space_and_unicode_names(emulator, truth, tmp_path):
    listing, _counts = list_inventory(emulator, tmp_path)
    hosts = set(listing.hostvars)
    for uuid in truth.default_list("staff"):
        cleaned = clean_host_name(truth.images[uuid]["name"])
        host = listing.host_of(uuid)
        assert host == cleaned or host.startswith(cleaned + "@")
        # Every host can be named in a pattern: it is one pattern that is not a regex, an exclusion or a range.
        assert split_host_pattern(host) == [host] and host[0] not in "~!&@"
    for name in ("Ubuntu_日本語", "Ελληνικά", "rocket_🚀_image", "Débian_12_✓", "UBUNTU", "leading_space", "tab_inside",
                 "trailing_space", "comma_separated_name"):
        assert any(host == name or host.startswith(name + "@") for host in hosts), name


def test_a_host_with_spaces_in_its_image_name_can_be_targeted(emulator, truth, tmp_path):
    name = "Ubuntu 22.04 — LTS (Jammy)"
    listing, _counts = list_inventory(emulator, tmp_path, name_exact=name)
    assert listing.hostvars and all(host.startswith("Ubuntu_22.04_—_LTS_(Jammy)") for host in listing.hostvars)
    environment = ansible_environment(emulator)
    for host, variables in listing.hostvars.items():
        completed = ansible_inventory(tmp_path / "test.waldur_images.yml", environment, "--host", host)
        assert completed.returncode == 0, completed.stderr
        assert unwrap(json.loads(completed.stdout))["waldur_uuid"] == variables["waldur_uuid"]
        assert unwrap(json.loads(completed.stdout))["waldur_name"] == name


def wrapped_strings(value):
    """Every string in ``value`` that ansible-inventory wrote inside an {"__ansible_unsafe": ...} marker."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return [value["__ansible_unsafe"]]
        return [text for key, item in value.items() for text in wrapped_strings(key) + wrapped_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in wrapped_strings(item)]
    return []


def test_only_text_that_could_be_a_template_is_marked_unsafe(emulator, tmp_path):
    """AWX stores what ansible-inventory --list writes: a wrapper dict for unsafe text, which it shows as the
    variable's value. Text without a brace cannot be a template, so it is written as a plain string."""
    listing, _counts = list_inventory(emulator, tmp_path, compose={"ansible_connection": "'local'"})
    wrapped = wrapped_strings(listing.raw)  # group variables included
    assert wrapped and all("{" in text or "}" in text for text in wrapped)
    hostvars = listing.hostvars
    expected = sorted(text for variables in hostvars.values() for value in variables.values()
                      for text in (value if isinstance(value, list) else [value])
                      if isinstance(text, str) and ("{" in text or "}" in text))
    assert sorted(wrapped_strings(listing.raw["_meta"]["hostvars"])) == expected
    assert all(isinstance(variables["waldur_uuid"], str) for variables in listing.raw["_meta"]["hostvars"].values())
    # What compose sets too (ansible-core 2.19 does not trust a composed string, which the plugin marks again).
    assert all(variables["ansible_connection"] == "local" for variables in listing.raw["_meta"]["hostvars"].values())


# --------------------------------------------------------------------------- options and requests
def test_group_by_settings_only_skips_the_tenant_listings(emulator, truth, tmp_path):
    listing, counts = list_inventory(emulator, tmp_path, group_by=["settings"])
    default = truth.default_list("staff")
    assert counts == {SETTINGS: 1, TENANTS: 1, IMAGES: math.ceil(len(default) / 300)}
    assert not any(name.startswith("waldur_tenant_") for name in listing.groups)
    assert all("waldur_tenant_uuids" not in variables for variables in listing.hostvars.values())
    assert sum(len(listing.hosts_of(group)) for group in listing.children_of("waldur_images")) == len(default)


def test_filters_narrow_every_listing(emulator, truth, tmp_path):
    tenant = next(t for t in truth.visible_tenants("user") if truth.tenants[t]["name"] != "prod")
    listing, counts = list_inventory(emulator, tmp_path, "user", name="ubuntu", tenant=truth.tenants[tenant]["name"],
                                     page_size=5, max_workers=3)
    default = truth.default_list("user")
    expected = [u for u in default if "ubuntu" in truth.images[u]["name"].lower() and tenant in truth.images[u]["tenant_uuids"]]
    assert sorted(v["waldur_uuid"] for v in listing.hostvars.values()) == sorted(expected)
    listed = [u for u in truth.dataset["visibility"]["user"]["service_settings"] if truth.settings[u]["type"] == "OpenStack"]
    assert counts[SETTINGS] == max(1, math.ceil(len(listed) / 5))
    assert counts[TENANTS] == math.ceil(len(truth.visible_tenants("user")) / 5)
    # Pages of 5: the image listing, then one listing per tenant on a settings with listed images.
    listed_settings = {truth.images[u]["settings_uuid"] for u in expected}
    pages = max(1, math.ceil(len(expected) / 5))
    for other in truth.visible_tenants("user"):
        if truth.tenants[other]["service_settings_uuid"] in listed_settings:
            members = [u for u in default if other in truth.images[u]["tenant_uuids"] and "ubuntu" in truth.images[u]["name"].lower()]
            pages += max(1, math.ceil(len(members) / 5))
    assert counts[IMAGES] == pages


def test_keyed_groups_compose_and_groups_apply(emulator, truth, tmp_path):
    listing, _counts = list_inventory(
        emulator, tmp_path, name="ubuntu",
        keyed_groups=[{"key": "waldur_settings_name", "prefix": "cloud"},
                      {"key": "waldur_tenant_uuids | map('extract', waldur_tenants, 'name') | list", "prefix": "in"}],
        compose={"min_disk_gib": "waldur_min_disk // 1024", "ansible_connection": "'local'"},
        groups={"big": "waldur_min_disk >= 20480"})
    by_settings = {}
    for host, variables in listing.hostvars.items():
        by_settings.setdefault(variables["waldur_settings_name"], set()).add(host)
        assert int(variables["min_disk_gib"]) == variables["waldur_min_disk"] // 1024  # text before ansible-core 2.19
        assert variables["ansible_connection"] == "local"
        assert (host in listing.hosts_of("big")) is (variables["waldur_min_disk"] >= 20480)
        for tenant in variables["waldur_tenant_uuids"]:
            assert host in listing.hosts_of(sanitize("in_" + truth.tenants[tenant]["name"]))
    assert by_settings and all(listing.hosts_of(sanitize("cloud_" + name)) == hosts for name, hosts in by_settings.items())


def test_usage_stats_adds_counts_from_every_page(emulator, truth, tmp_path):
    listing, counts = list_inventory(emulator, tmp_path, "user", usage_stats=True, group_by=[])
    settings = visible_settings(truth, "user")
    for variables in listing.hostvars.values():
        row = truth.dataset["usage_stats"].get(variables["waldur_name"], {"by_settings": {}})
        parts = [row["by_settings"].get(s, {"running": 0, "created": 0}) for s in settings]
        assert variables["waldur_running_instances_count"] == sum(p["running"] for p in parts)
        assert variables["waldur_created_instances_count"] == sum(p["created"] for p in parts)
    assert counts[USAGE] == math.ceil(len(truth.dataset["usage_stats"]) / 300) > 1


def test_fits_keeps_images_a_flavor_can_boot(emulator, truth, tmp_path):
    listing, _counts = list_inventory(emulator, tmp_path, fits={"disk": "20G", "ram": "4 GiB"}, group_by=[])
    expected = [u for u in truth.default_list("staff")
                if truth.images[u]["min_disk"] <= 20480 and truth.images[u]["min_ram"] <= 4096]
    assert sorted(v["waldur_uuid"] for v in listing.hostvars.values()) == sorted(expected)


@pytest.mark.parametrize("user", ["staff", "user"])
def test_fetch_flavors_names_the_flavors_each_image_can_boot_on(emulator, truth, tmp_path, user):
    """Waldur's rule for the flavor of an order: linked to a tenant of the image, with RAM >= min_ram."""
    listing, counts = list_inventory(emulator, tmp_path, user, fetch_flavors=True, group_by=["settings"])
    visible = set(truth.visible_tenants(user))
    checked = 0
    for variables in listing.hostvars.values():
        image = truth.images[variables["waldur_uuid"]]
        tenants = visible & set(image["tenant_uuids"])
        linked = [flavor for flavor in truth.dataset["flavors"] if tenants & set(flavor["tenant_uuids"])]
        expected = []
        for flavor in sorted(linked, key=lambda flavor: (flavor["ram"], flavor["name"])):
            if flavor["ram"] >= image["min_ram"] and flavor["name"] not in expected:
                expected.append(flavor["name"])
        assert variables["waldur_flavors_that_fit"] == expected
        checked += bool(expected) and len(expected) < len({flavor["name"] for flavor in linked})
    assert checked, "no image whose RAM requirement rules out some of its tenants' flavors"
    assert "GET /api/openstack-flavors/" in counts


def test_a_templated_and_a_vaulted_token(emulator, tmp_path):
    environment = ansible_environment(emulator, "staff", MY_WALDUR_TOKEN=emulator.tokens["staff"])
    environment.pop("WALDUR_API_TOKEN")
    path = write_config(tmp_path, name_exact="debian-12", api_token="{{ lookup('ansible.builtin.env', 'MY_WALDUR_TOKEN') }}")
    completed = ansible_inventory(path, environment, "--list")
    assert completed.returncode == 0 and "WARNING" not in completed.stderr, completed.stderr
    assert len(Listing(completed.stdout).hostvars) == 3

    password = tmp_path / "vault-password"
    password.write_text("not-a-real-secret\n")
    encrypted = subprocess.run([os.path.join(BIN, "ansible-vault"), "encrypt_string", "--vault-password-file",
                                str(password), emulator.tokens["staff"], "--name", "api_token"],
                               env=environment, capture_output=True, text=True, check=True).stdout
    path = tmp_path / "vaulted.waldur_images.yml"
    path.write_text("plugin: %s\nname_exact: debian-12\n%s" % (PLUGIN, encrypted))
    completed = ansible_inventory(path, environment, "--list", "--vault-password-file", str(password))
    assert completed.returncode == 0 and "WARNING" not in completed.stderr, completed.stderr
    assert len(Listing(completed.stdout).hostvars) == 3


# ----------------------------------------------------------------------------------------- cache
@pytest.fixture
def small_emulator():
    """An emulator of its own, since these tests change its data."""
    with WaldurEmulator(generate_dataset(images=60, tenants=4, settings=2, seed=5), port=0) as server:
        yield server


def test_a_cached_run_makes_no_request_and_flush_cache_refetches(small_emulator, tmp_path):
    cache = tmp_path / "cache"
    options = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(cache),
               "usage_stats": True}
    first, counts = list_inventory(small_emulator, tmp_path, **options)
    assert counts[IMAGES] > 1 and counts[SETTINGS] == counts[TENANTS] == counts[USAGE] == 1

    settings_uuid = small_emulator.dataset["service_settings"][0]["uuid"]
    small_emulator.add_image("added-after-caching", settings_uuid)
    second, counts = list_inventory(small_emulator, tmp_path, **options)
    assert counts == {}
    assert second.hostvars == first.hostvars and second.groups == first.groups

    # Options that only shape the inventory apply to cached data without a request.
    renamed, counts = list_inventory(small_emulator, tmp_path, hostname="uuid", **options)
    assert counts == {} and set(renamed.hostvars) == {v["waldur_uuid"] for v in first.hostvars.values()}

    if ANSIBLE_VERSION >= (2, 17):
        third, counts = list_inventory(small_emulator, tmp_path, arguments=["--flush-cache"], **options)
    else:
        # ansible-inventory has no --flush-cache before 2.17; ansible-playbook has, and refills the cache.
        counts = flush_cache_with_playbook(small_emulator, tmp_path)
        third, cached = list_inventory(small_emulator, tmp_path, **options)
        assert cached == {}
    assert counts[IMAGES] > 1
    assert "added-after-caching" in third.hostvars and len(third.hostvars) == len(first.hostvars) + 1

    files = list(cache.iterdir())
    assert len(files) == 1
    text = files[0].read_text()
    for token in small_emulator.tokens.values():
        assert token not in text and token not in files[0].name
    assert '"options"' not in text and "password" not in text


def test_another_user_does_not_read_the_cache_of_the_first(small_emulator, tmp_path):
    options = {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": str(tmp_path / "cache")}
    staff, _counts = list_inventory(small_emulator, tmp_path, **options)
    user, counts = list_inventory(small_emulator, tmp_path, "user", **options)
    assert counts[IMAGES] >= 1 and len(user.hostvars) < len(staff.hostvars)
    assert len(list((tmp_path / "cache").iterdir())) == 2


# -------------------------------------------------------------------------------------- injection
def test_an_image_named_like_a_template_stays_text(emulator, tmp_path, run_playbook):
    listing, _counts = list_inventory(emulator, tmp_path, name_exact=INJECTION)
    host = clean_host_name(INJECTION)
    assert list(listing.hostvars) == [host] == ["_lookup('pipe'_'id')_"]
    assert listing.raw["_meta"]["hostvars"][host]["waldur_name"] == {"__ansible_unsafe": INJECTION}

    output = tmp_path / "seen.json"
    playbook = """
- name: Use the images as data
  hosts: waldur_images
  connection: local
  gather_facts: false
  tasks:
    - name: Show the name
      ansible.builtin.debug:
        msg: "name={{ waldur_name }} host={{ inventory_hostname }}"
    - name: Write what the play sees
      ansible.builtin.copy:
        content: "{{ {'name': waldur_name, 'host': inventory_hostname, 'tenant': waldur_tenant_name | default(none)} | to_json }}"
        dest: "%s"
        mode: "0600"
""" % output
    completed = run_playbook(playbook, ansible_environment(emulator),
                             extra_args=["-i", str(write_config(tmp_path, name_exact=INJECTION))])
    assert "uid=" not in completed.stdout
    assert "name=%s host=%s" % (INJECTION, host) in completed.stdout
    seen = json.loads(output.read_text())
    assert seen["name"] == INJECTION and seen["host"] == host


# ------------------------------------------------------------------------------------- bad input
BAD_INPUT = [
    ({"group_by": ["settings"], "grup_by": ["tenant"]}, "staff", "unknown option grup_by (did you mean group_by?)"),
    ({"page_size": "many"}, "staff", "Config 'page_size' for 'ansible_collections.waldur.cloud.plugins.inventory."
                                     "openstack_images' inventory plugin from 'Direct' has an invalid value"),
    ({"group_by": ["project"]}, "staff", "Invalid value ['project'] for config 'group_by'"),
    ({"hostname": "{{ waldur_nothing }}"}, "staff", "hostname: the template failed for image "),
    ({"settings": "no-such-cloud"}, "user", "settings: no service settings named 'no-such-cloud' is visible to this user"),
    ({"strict": True, "compose": {"x": "waldur_nothing + 1"}}, "staff", "compose: Could not set x for host"),
    ({}, "expired", "api_token: Waldur at {url}/api/ rejected the API token from the WALDUR_API_TOKEN environment "
                    "variable (Authorization scheme Token): Token has expired."),
    ({"api_token": "0" * 40}, "staff", "api_token: Waldur at {url}/api/ rejected the API token from the api_token option "
                                       "of {path} (Authorization scheme Token): Invalid token."),
    ({"api_url": "http://127.0.0.1:9/", "retries": 0}, "staff", "api_url: the Waldur API at http://127.0.0.1:9/api/ (from "
                                                                "the api_url option of {path}) cannot be reached: "),
]


def failed_inventory(emulator, path, user="staff", enabled=PLUGIN):
    environment = ansible_environment(emulator, user, ANSIBLE_INVENTORY_ENABLED=enabled,
                                      ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true")
    completed = ansible_inventory(path, environment, "--list")
    assert completed.returncode != 0
    return flat(completed.stderr)


def flat(text):
    """``text`` without white space: ansible-core before 2.19 wraps warnings at 80 columns, even inside words."""
    return "".join(text.split())


@pytest.mark.parametrize("options, user, message", BAD_INPUT)
def test_bad_input_fails_with_one_message_naming_file_and_option(emulator, tmp_path, options, user, message):
    path = write_config(tmp_path, **options)
    stderr = failed_inventory(emulator, path, user)
    assert flat("%s: %s" % (path, message.format(url=emulator.url, path=path))) in stderr, stderr
    assert emulator.tokens["staff"] not in stderr and emulator.tokens["user"] not in stderr and "0" * 40 not in stderr


def test_bad_input_through_the_auto_plugin(emulator, tmp_path):
    path = write_config(tmp_path, group_by=["project"])
    stderr = failed_inventory(emulator, path, enabled="auto")
    assert flat("%s: Invalid value ['project'] for config 'group_by'" % path) in stderr
    path.write_text(json.dumps({"plugin": "waldur.cloud.openstack_image"}))
    assert flat("specifies unknown plugin 'waldur.cloud.openstack_image'") in failed_inventory(emulator, path, enabled="auto")


@pytest.mark.parametrize("text, message", [
    ("name: ubuntu\n", "Incorrect plugin name in file: none found"),
    ("plugin: waldur.cloud.openstack_image\n", "Incorrect plugin name in file: waldur.cloud.openstack_image"),
])
def test_a_missing_or_wrong_plugin_key_is_named(emulator, tmp_path, text, message):
    path = tmp_path / "test.waldur_images.yml"
    path.write_text(text)
    assert flat("%s: %s" % (path, message)) in failed_inventory(emulator, path)

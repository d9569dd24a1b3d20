"""waldur.cloud.openstack_images through Ansible's inventory loader, over a scripted API.

Every request the plugin may make is scripted exactly: a missing one fails the test, and so does
an extra one (the request budget). Requests made in parallel are matched in any order.
"""
from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar
from ansible.utils.display import Display

from ansible_collections.waldur.cloud.plugins.plugin_utils import client as plugin_client
from ansible_collections.waldur.cloud.tests.unit.helpers import IMAGES, ROOT, SETTINGS, TENANTS, TOKEN

PLUGIN = "waldur.cloud.openstack_images"
OTHER_TOKEN = "fedcba9876543210fedcba9876543210fedcba98"

CLOUD_A = "a0000000000000000000000000000001"
CLOUD_B = "b0000000000000000000000000000002"
CLOUD_C = "c0000000000000000000000000000003"  # also named cloud-a, and has no images
PROD_A = "1a000000000000000000000000000001"
PROD_B = "1b000000000000000000000000000002"
DEV_A = "1c000000000000000000000000000003"
IDLE_C = "1d000000000000000000000000000004"
INJECTION = "{{ lookup('pipe', 'id') }}"
INJECTION_HOST = "_lookup('pipe'_'id')_"


def settings_row(uuid, name):
    return {"uuid": uuid, "name": name, "shared": False}


def tenant_row(uuid, name, settings_uuid, settings_name, project):
    return {"uuid": uuid, "name": name, "service_settings_uuid": settings_uuid, "service_name": settings_name,
            "project_uuid": "9" * 32, "project_name": project, "customer": ROOT + "customers/%s/" % ("8" * 32),
            "customer_name": "Org"}


def uid(number):
    return ("%x" % number) * 32


def image(number, name, settings_uuid, created="2024-01-01T00:00:00.000000Z"):
    uuid = uid(number)
    return {"url": IMAGES + uuid + "/", "uuid": uuid, "name": name, "min_disk": 1024 * number, "min_ram": 512,
            "settings": ROOT + "service-settings/%s/" % settings_uuid, "backend_id": "b-%d" % number,
            "backend_created_at": created, "is_rescue_image": number == 7}


SETTINGS_ROWS = [settings_row(CLOUD_A, "cloud-a"), settings_row(CLOUD_C, "cloud-a"), settings_row(CLOUD_B, "cloud-b")]
TENANT_ROWS = [tenant_row(DEV_A, "dev", CLOUD_A, "cloud-a", "web"), tenant_row(IDLE_C, "idle", CLOUD_C, "cloud-a", "ops"),
               tenant_row(PROD_A, "prod", CLOUD_A, "cloud-a", "web"), tenant_row(PROD_B, "prod", CLOUD_B, "cloud-b", "db")]
IMAGE_ROWS = [
    image(1, "ubuntu-22.04", CLOUD_A),
    image(2, "ubuntu-22.04", CLOUD_B),
    image(3, "debian-12", CLOUD_A),
    image(4, INJECTION, CLOUD_B),
    image(5, "ubuntu ", CLOUD_A),
    image(6, "ubuntu", CLOUD_A),
    image(7, "UBUNTU", CLOUD_B),
]
IMAGE_ROWS.sort(key=lambda row: row["name"])
MEMBERSHIP = {PROD_A: [1, 5], DEV_A: [1, 6], PROD_B: [2, 4, 7], IDLE_C: []}


def listing(rows, scripted):
    return scripted.json(rows, total=len(rows))


def images_of(numbers):
    return [row for row in IMAGE_ROWS if row["uuid"] in {uid(number) for number in numbers}]


def membership_steps(scripted, tenants=(PROD_A, DEV_A, PROD_B), query=""):
    return [(IMAGES + "?%stenant_uuid=%s&page_size=300" % (query, uuid), listing(images_of(MEMBERSHIP[uuid]), scripted))
            for uuid in tenants]


def full_steps(scripted, images=None):
    return [(SETTINGS, listing(SETTINGS_ROWS, scripted)), (TENANTS, listing(TENANT_ROWS, scripted)),
            (IMAGES + "?page_size=300", listing(IMAGE_ROWS if images is None else images, scripted))] + \
        membership_steps(scripted)


@pytest.fixture(autouse=True)
def no_waldur_environment(monkeypatch):
    for variable in ("WALDUR_API_URL", "WALDUR_API_TOKEN", "WALDUR_AUTH_SCHEME", "WALDUR_VALIDATE_CERTS",
                     "WALDUR_CA_PATH", "WALDUR_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def run(tmp_path, monkeypatch, scripted):
    """Parse a configuration; ``steps`` are the exact requests allowed. Returns (inventory, transports)."""
    transports = []
    plugin = inventory_loader.get(PLUGIN)
    assert plugin is not None, "the plugin is not found by Ansible's inventory loader"
    real_open_client = plugin_client.open_client
    script = {}

    def open_scripted_client(*args, **kwargs):
        client = real_open_client(*args, **kwargs)
        transports.append(scripted.install(client, list(script["steps"]), ordered=False))
        return client

    monkeypatch.setattr(plugin_client, "open_client", open_scripted_client)

    def parse(config, steps=(), name="test.waldur_images.yml", cache=True, connection=True):
        script["steps"] = steps
        plugin = inventory_loader.get(PLUGIN)
        if connection:
            config = dict({"api_url": ROOT, "api_token": TOKEN}, **config)
        path = tmp_path / name
        path.write_text(config if isinstance(config, str) else json.dumps(dict({"plugin": PLUGIN}, **config)))
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=cache)
        plugin.update_cache_if_changed()
        inventory.reconcile_inventory()
        return inventory

    parse.transports = transports
    return parse


def hostvars(inventory, host):
    return inventory.get_host(host).get_vars()


def group_hosts(inventory, group):
    return sorted(host.name for host in inventory.groups[group].hosts)


def child_groups(inventory, group):
    return sorted(child.name for child in inventory.groups[group].child_groups)


def stays_literal(value):
    """Whether Ansible leaves ``value`` alone when it templates it (the point of marking data unsafe)."""
    return Templar(loader=DataLoader()).template(value) == value


# ------------------------------------------------------------------------------------------- loading
def test_the_plugin_is_found_and_documented():
    plugin = inventory_loader.get(PLUGIN)
    assert plugin.NAME == PLUGIN
    assert {"hostname", "group_by", "usage_stats", "compose", "keyed_groups", "cache", "api_token", "page_size",
            "show_duplicate_names", "hostvars_prefix"} <= set(plugin.option_definitions)


@pytest.mark.parametrize("name, accepted", [
    ("waldur_images.yml", True),
    ("prod.waldur_images.yaml", True),
    ("cloud-a_waldur_images.yml", True),
    ("waldur_images.json", False),
    ("images.yml", False),
    ("waldur.yml", False),
])
def test_verify_file_accepts_only_its_file_names(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: %s\n" % PLUGIN)
    assert inventory_loader.get(PLUGIN).verify_file(str(path)) is accepted


def test_verify_file_rejects_a_missing_file(tmp_path):
    assert not inventory_loader.get(PLUGIN).verify_file(str(tmp_path / "missing.waldur_images.yml"))


# ------------------------------------------------------------------------------------ hosts and groups
UBUNTU_5 = "ubuntu@cloud-a~55555555"  # "ubuntu " and "ubuntu", both in cloud-a
UBUNTU_6 = "ubuntu@cloud-a~66666666"


def test_every_image_is_a_host_with_a_unique_name(run, scripted):
    inventory = run({}, full_steps(scripted))
    assert sorted(inventory.hosts) == sorted(["UBUNTU", "debian-12", INJECTION_HOST, UBUNTU_5, UBUNTU_6,
                                              "ubuntu-22.04@cloud-a", "ubuntu-22.04@cloud-b"])


def test_the_request_plan_is_exact(run, scripted):
    run({}, full_steps(scripted))
    urls = [request.url for request in run.transports[0].requests]
    # Settings, tenants and images once each; one listing per tenant whose settings have images (not idle).
    assert sorted(urls) == sorted(url for url, _response in full_steps(scripted))
    assert not any("options" in url for url in urls)


def test_groups_follow_settings_and_tenants(run, scripted):
    inventory = run({}, full_steps(scripted))
    assert child_groups(inventory, "all") == ["ungrouped", "waldur_images"]
    # Two settings are named cloud-a: both group names carry a short uuid. cloud-a(c) has no images, so no group.
    assert child_groups(inventory, "waldur_images") == ["waldur_settings_cloud_a_a0000000", "waldur_settings_cloud_b"]
    assert "waldur_settings_cloud_a_c0000000" not in inventory.groups
    tenant_groups = ["waldur_tenant_dev", "waldur_tenant_prod_1a000000"]
    assert child_groups(inventory, "waldur_settings_cloud_a_a0000000") == tenant_groups
    assert child_groups(inventory, "waldur_settings_cloud_b") == ["waldur_tenant_prod_1b000000"]
    # An image in two tenants is in both groups; an image in none is directly in its settings' group.
    assert group_hosts(inventory, "waldur_tenant_prod_1a000000") == sorted([UBUNTU_5, "ubuntu-22.04@cloud-a"])
    assert group_hosts(inventory, "waldur_tenant_dev") == sorted([UBUNTU_6, "ubuntu-22.04@cloud-a"])
    assert group_hosts(inventory, "waldur_settings_cloud_a_a0000000") == ["debian-12"]
    assert group_hosts(inventory, "waldur_tenant_prod_1b000000") == sorted(["UBUNTU", INJECTION_HOST, "ubuntu-22.04@cloud-b"])
    assert group_hosts(inventory, "waldur_images") == []
    assert len(inventory.groups["waldur_images"].get_hosts()) == len(IMAGE_ROWS)


def test_host_variables_are_the_image_and_its_settings_and_tenants(run, scripted):
    inventory = run({}, full_steps(scripted))
    variables = hostvars(inventory, "ubuntu-22.04@cloud-a")
    source = images_of([1])[0]
    for field, value in source.items():
        assert variables["waldur_" + field] == value
    assert variables["waldur_settings_uuid"] == CLOUD_A
    assert variables["waldur_settings_name"] == "cloud-a"
    assert variables["waldur_tenants_known"] is True
    assert variables["waldur_tenant_uuids"] == [DEV_A, PROD_A]  # in the order of the tenants' names
    assert hostvars(inventory, "debian-12")["waldur_tenant_uuids"] == []
    assert "waldur_tenants" not in variables
    assert "ansible_host" not in variables and "ansible_connection" not in variables
    assert "waldur_running_instances_count" not in variables


def test_a_tenant_is_described_once_by_the_variables_of_its_group(run, scripted):
    inventory = run({}, full_steps(scripted))
    assert inventory.groups["waldur_tenant_prod_1a000000"].get_vars() == {
        "waldur_tenant_uuid": PROD_A, "waldur_tenant_name": "prod", "waldur_project_uuid": "9" * 32,
        "waldur_project_name": "web", "waldur_customer_uuid": "8" * 32, "waldur_customer_name": "Org"}
    assert inventory.groups["waldur_tenant_prod_1b000000"].get_vars()["waldur_project_name"] == "db"
    # The top and settings groups carry none: no host variable grows with the tenants.
    assert inventory.groups["waldur_images"].get_vars() == {} and inventory.groups["waldur_settings_cloud_b"].get_vars() == {}


def test_a_refresh_reports_its_progress_at_v(run, scripted, monkeypatch):
    lines = []
    monkeypatch.setattr(Display, "v", lambda self, message, host=None: lines.append(message))
    run({}, full_steps(scripted), name="progress.waldur_images.yml")
    mine = [line.split(": ", 1)[1] for line in lines if "progress.waldur_images.yml" in line]
    assert mine == ["7 images, 3 service settings, 4 tenants listed; 3 tenants have images to list",
                    "1 of 3 listings done", "2 of 3 listings done", "3 of 3 listings done"]


def test_the_hostvars_prefix_can_be_changed_or_dropped(run, scripted):
    inventory = run({"hostvars_prefix": "img_"}, full_steps(scripted))
    assert hostvars(inventory, "debian-12")["img_min_disk"] == 3 * 1024
    inventory = run({"hostvars_prefix": ""}, full_steps(scripted))
    assert hostvars(inventory, "debian-12")["settings_name"] == "cloud-a"
    assert hostvars(inventory, "debian-12")["name"] == "debian-12"


def test_remote_data_is_never_rendered(run, scripted):
    evil_tenant = dict(TENANT_ROWS[3], name="{{ 7 * 7 }}", project_name="{% raw %}x")
    steps = full_steps(scripted)
    steps[1] = (TENANTS, listing(TENANT_ROWS[:3] + [evil_tenant], scripted))
    inventory = run({"compose": {"copy": "waldur_name", "joined": "waldur_name ~ '!'"}}, steps)
    assert INJECTION_HOST in inventory.hosts
    assert stays_literal(inventory.get_host(INJECTION_HOST).name)
    variables = hostvars(inventory, INJECTION_HOST)
    assert variables["waldur_name"] == INJECTION
    evil_group = inventory.groups["waldur_tenant____7___7___"].get_vars()
    for value in (variables["waldur_name"], evil_group["waldur_tenant_name"], evil_group["waldur_project_name"],
                  variables["copy"], variables["joined"]):
        assert stays_literal(value), value
    assert variables["joined"] == INJECTION + "!"
    assert "waldur_tenant____7___7___" in inventory.groups


def test_hostname_uuid_and_template(run, scripted):
    inventory = run({"hostname": "uuid"}, full_steps(scripted))
    assert sorted(inventory.hosts) == sorted(row["uuid"] for row in IMAGE_ROWS)
    inventory = run({"hostname": "{{ waldur_name | upper }}-{{ waldur_backend_id }}"}, full_steps(scripted))
    assert "UBUNTU-22.04-b-1" in inventory.hosts
    assert "UBUNTU_-b-5" in inventory.hosts  # "ubuntu " upper-cased, then cleaned
    # A template that gives the same text for several images is made unique like a name.
    inventory = run({"hostname": "{{ waldur_settings_name }}"}, full_steps(scripted))
    assert len(inventory.hosts) == len(IMAGE_ROWS)
    assert "cloud-b@cloud-b~22222222" in inventory.hosts


def test_a_template_cannot_render_a_hostname_from_remote_data(run, scripted):
    inventory = run({"hostname": "{{ waldur_name }}!"}, full_steps(scripted))
    assert INJECTION_HOST + "!" in inventory.hosts


@pytest.mark.parametrize("group_by, tenant_groups, settings_groups", [
    (["settings"], False, True),
    (["tenant"], True, False),
    ([], False, False),
])
def test_group_by_switches_levels_off_and_skips_their_requests(run, scripted, group_by, tenant_groups, settings_groups):
    steps = full_steps(scripted)
    if not tenant_groups:
        steps = steps[:3]  # no tenant listings at all
    inventory = run({"group_by": group_by}, steps)
    names = set(inventory.groups)
    assert any(name.startswith("waldur_tenant_") for name in names) is tenant_groups
    assert any(name.startswith("waldur_settings_") for name in names) is settings_groups
    variables = hostvars(inventory, "debian-12")
    assert ("waldur_tenant_uuids" in variables) is tenant_groups
    assert variables["waldur_settings_name"] == "cloud-a"
    if not settings_groups and tenant_groups:
        assert "waldur_tenant_dev" in child_groups(inventory, "waldur_images")
        assert group_hosts(inventory, "waldur_images") == ["debian-12"]
    if not group_by:
        assert len(group_hosts(inventory, "waldur_images")) == len(IMAGE_ROWS)


# ----------------------------------------------------------------------------------------- constructed
def test_keyed_groups_really_group(run, scripted):
    inventory = run({"keyed_groups": [{"key": "waldur_settings_name", "prefix": "cloud"},
                                      {"key": "waldur_tenant_uuids | map('extract', waldur_tenants, 'project_name') | list",
                                       "prefix": "project"},
                                      {"key": "waldur_min_ram | string", "prefix": "ram", "separator": "-"}]},
                    full_steps(scripted))
    assert group_hosts(inventory, "cloud_cloud_b") == sorted(["UBUNTU", INJECTION_HOST, "ubuntu-22.04@cloud-b"])
    assert len(group_hosts(inventory, "cloud_cloud_a")) == 4
    assert group_hosts(inventory, "project_db") == sorted(["UBUNTU", INJECTION_HOST, "ubuntu-22.04@cloud-b"])
    assert "ubuntu-22.04@cloud-a" in group_hosts(inventory, "project_web")
    assert len(group_hosts(inventory, "ram_512")) == len(IMAGE_ROWS)  # "-" is sanitised to "_"


def test_compose_and_groups_use_the_host_variables(run, scripted):
    inventory = run({"compose": {"min_disk_gib": "waldur_min_disk // 1024", "ansible_connection": "'local'"},
                     "groups": {"big": "min_disk_gib | int >= 5", "rescue": "waldur_is_rescue_image"}},
                    full_steps(scripted))
    assert int(hostvars(inventory, "debian-12")["min_disk_gib"]) == 3  # text before ansible-core 2.19
    assert hostvars(inventory, "debian-12")["ansible_connection"] == "local"
    assert group_hosts(inventory, "big") == sorted([UBUNTU_5, UBUNTU_6, "UBUNTU"])
    assert group_hosts(inventory, "rescue") == ["UBUNTU"]


def test_bad_compose_is_skipped_unless_strict(run, scripted):
    inventory = run({"compose": {"broken": "waldur_nothing.here"}, "keyed_groups": [{"key": "waldur_nothing"}]},
                    full_steps(scripted))
    assert "broken" not in hostvars(inventory, "debian-12")
    with pytest.raises(AnsibleParserError) as error:
        run({"strict": True, "compose": {"broken": "waldur_nothing.here"}}, full_steps(scripted))
    assert "test.waldur_images.yml: compose: Could not set broken for host" in str(error.value)
    with pytest.raises(AnsibleParserError) as error:
        run({"strict": True, "keyed_groups": [{"key": "waldur_nothing"}]}, full_steps(scripted))
    assert "test.waldur_images.yml: keyed_groups: " in str(error.value)


# ------------------------------------------------------------------------------------------- filters
def test_filters_go_to_every_listing(run, scripted):
    chosen = [row for row in IMAGE_ROWS if "ubuntu" in row["name"].lower() and not row["is_rescue_image"]]
    steps = [(SETTINGS, listing(SETTINGS_ROWS, scripted)), (TENANTS, listing(TENANT_ROWS, scripted)),
             (IMAGES + "?name=ubuntu&is_rescue_image=false&page_size=300", listing(chosen, scripted))]
    for uuid in (PROD_A, DEV_A, PROD_B):
        rows = [row for row in images_of(MEMBERSHIP[uuid]) if row in chosen]
        steps.append((IMAGES + "?name=ubuntu&tenant_uuid=%s&is_rescue_image=false&page_size=300" % uuid,
                      listing(rows, scripted)))
    inventory = run({"name": "ubuntu", "is_rescue_image": False}, steps)
    assert "UBUNTU" not in inventory.hosts and "debian-12" not in inventory.hosts
    assert "ubuntu-22.04@cloud-a" in inventory.hosts


def test_a_tenant_filter_keeps_every_tenant_of_the_images(run, scripted):
    chosen = images_of(MEMBERSHIP[DEV_A])
    steps = [(SETTINGS, listing(SETTINGS_ROWS, scripted)), (TENANTS, listing(TENANT_ROWS, scripted)),
             (IMAGES + "?tenant_uuid=%s&page_size=300" % DEV_A, listing(chosen, scripted))]
    steps += [(IMAGES + "?tenant_uuid=%s&page_size=300" % uuid, listing(images_of(MEMBERSHIP[uuid]), scripted))
              for uuid in (PROD_A, DEV_A)]
    inventory = run({"tenant": "dev"}, steps)
    # Only images of dev, but ubuntu-22.04 is in prod too; cloud-b has no listed image, so prod(b) is not asked.
    assert sorted(inventory.hosts) == ["ubuntu", "ubuntu-22.04"]
    assert hostvars(inventory, "ubuntu-22.04")["waldur_tenant_uuids"] == [DEV_A, PROD_A]


def test_show_duplicate_names_marks_what_the_server_cannot_tell(run, scripted):
    older = image(8, "ubuntu-22.04", CLOUD_A, created="2023-01-01T00:00:00.000000Z")
    everything = sorted(IMAGE_ROWS + [older], key=lambda row: row["name"])
    steps = [(SETTINGS, listing(SETTINGS_ROWS, scripted)), (TENANTS, listing(TENANT_ROWS, scripted)),
             (IMAGES + "?show_duplicate_names=true&page_size=300", listing(everything, scripted)),
             (IMAGES + "?page_size=300", listing(IMAGE_ROWS, scripted))] + membership_steps(scripted)
    inventory = run({"show_duplicate_names": True}, steps)
    assert len(inventory.hosts) == len(IMAGE_ROWS) + 1
    old = hostvars(inventory, "ubuntu-22.04@cloud-a~%s" % older["uuid"][:8])
    assert old["waldur_tenants_known"] is False and old["waldur_tenant_uuids"] == []
    new = hostvars(inventory, "ubuntu-22.04@cloud-a~11111111")
    assert new["waldur_tenants_known"] is True
    assert hostvars(inventory, "debian-12")["waldur_tenants_known"] is True  # in no tenant, and known to be
    assert "ubuntu-22.04@cloud-a~%s" % older["uuid"][:8] in group_hosts(inventory, "waldur_settings_cloud_a_a0000000")


# ------------------------------------------------------------------------------------------- cache
def cache_config(tmp_path, **extra):
    return dict({"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                 "cache_connection": str(tmp_path / "cache")}, **extra)


def test_a_cached_run_makes_no_request_and_rebuilds_everything(run, scripted, tmp_path):
    first = run(cache_config(tmp_path), full_steps(scripted))
    files = os.listdir(str(tmp_path / "cache"))
    assert len(files) == 1
    text = (tmp_path / "cache" / files[0]).read_text()
    assert TOKEN not in text and "options" not in text
    # No steps: any request would fail the test. Naming and grouping options apply to cached data.
    second = run(cache_config(tmp_path, hostname="uuid", keyed_groups=[{"key": "waldur_settings_name", "prefix": "in"}]), [])
    assert sorted(second.hosts) == sorted(row["uuid"] for row in IMAGE_ROWS)
    assert group_hosts(second, "in_cloud_b") == sorted(row["uuid"] for row in IMAGE_ROWS if CLOUD_B in row["settings"])
    assert len(second.hosts) == len(first.hosts)
    assert [len(transport.requests) for transport in run.transports] == [len(full_steps(scripted)), 0]


def test_the_cache_is_readable_by_its_owner_only(run, scripted, tmp_path):
    """The files hold image, tenant and project names: 0600 (Ansible's jsonfile writes 0644 or 0640), also when an
    older run left a readable file, and a directory the plugin creates is 0700."""
    run(cache_config(tmp_path), full_steps(scripted))
    directory = tmp_path / "cache"
    path = directory / os.listdir(str(directory))[0]
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    run(cache_config(tmp_path), full_steps(scripted), cache=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_flush_cache_fetches_again(run, scripted, tmp_path):
    run(cache_config(tmp_path), full_steps(scripted))
    changed = IMAGE_ROWS[:-1]
    inventory = run(cache_config(tmp_path), full_steps(scripted, images=changed), cache=False)
    assert len(inventory.hosts) == len(changed)
    inventory = run(cache_config(tmp_path), [])
    assert len(inventory.hosts) == len(changed)


def test_the_cache_key_depends_on_the_user_and_the_filters(run, scripted, tmp_path):
    run(cache_config(tmp_path), full_steps(scripted))
    run(cache_config(tmp_path, api_token=OTHER_TOKEN), full_steps(scripted))
    steps = full_steps(scripted)[:2] + [(IMAGES + "?name=x&page_size=300", listing([], scripted))]
    run(cache_config(tmp_path, name="x"), steps)
    assert len(os.listdir(str(tmp_path / "cache"))) == 3
    for name in os.listdir(str(tmp_path / "cache")):
        text = (tmp_path / "cache" / name).read_text()
        assert TOKEN not in text and OTHER_TOKEN not in text and TOKEN not in name


def test_cached_data_of_another_format_is_fetched_again(run, scripted, tmp_path):
    run(cache_config(tmp_path), full_steps(scripted))
    path = tmp_path / "cache" / os.listdir(str(tmp_path / "cache"))[0]
    stored = json.loads(path.read_text())
    payload = json.loads(stored["__payload__"]) if "__payload__" in stored else stored
    payload["format"] = 0
    path.write_text(json.dumps({"__payload__": json.dumps(payload)} if "__payload__" in stored else payload))
    inventory = run(cache_config(tmp_path), full_steps(scripted))
    assert len(inventory.hosts) == len(IMAGE_ROWS)


# ----------------------------------------------------------------------------------------- the token
def test_api_token_may_be_a_template(run, scripted, monkeypatch):
    monkeypatch.setenv("MY_WALDUR_TOKEN", TOKEN)
    inventory = run({"api_url": ROOT, "api_token": "{{ lookup('ansible.builtin.env', 'MY_WALDUR_TOKEN') }}"},
                    full_steps(scripted), connection=False)
    assert len(inventory.hosts) == len(IMAGE_ROWS)
    assert all(request.headers["Authorization"] == "Token " + TOKEN for request in run.transports[0].requests)


def test_connection_options_come_from_the_environment(run, scripted, monkeypatch):
    monkeypatch.setenv("WALDUR_API_URL", "https://waldur.example.com")
    monkeypatch.setenv("WALDUR_API_TOKEN", TOKEN)
    inventory = run({}, full_steps(scripted), connection=False)
    assert len(inventory.hosts) == len(IMAGE_ROWS)


# --------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, message", [
    # Ansible's own messages (their wording changes between ansible-core versions): the parts that say what is wrong.
    ("name: ubuntu\n", ("plugin name", "none found")),
    ("plugin: waldur.cloud.other\n", ("plugin name", "waldur.cloud.other")),
    ("plugin: [unclosed\n", ("YAML",)),
    ("plugin: waldur.cloud.openstack_images\ngroup_by: [tenants]\n", ("group_by", "tenants")),
    ("plugin: waldur.cloud.openstack_images\npage_size: abc\n", ("page_size", "'abc'")),
    ("plugin: waldur.cloud.openstack_images\ncompose: not-a-mapping\n", ("compose", "not-a-mapping")),
    ("plugin: waldur.cloud.openstack_images\nauth_scheme: Basic\n", ("auth_scheme", "Basic")),
    # The plugin's own.
    ("- plugin: waldur.cloud.openstack_images\n", "must be a YAML mapping of options"),
    ("plugin: waldur.cloud.openstack_images\ngrup_by: [settings]\n", "unknown option grup_by (did you mean group_by?); the "
     "options are described by: ansible-doc -t inventory waldur.cloud.openstack_images"),
    ("plugin: waldur.cloud.openstack_images\nfoo: 1\nbar: 2\n", "unknown options bar, foo;"),
    ("plugin: waldur.cloud.openstack_images\npage_size: 0\napi_url: %s\napi_token: %s\n" % (ROOT, TOKEN),
     "page_size: 0 is out of range; use a whole number from 1 to 300"),
    ("plugin: waldur.cloud.openstack_images\nmax_workers: 0\napi_url: %s\napi_token: %s\n" % (ROOT, TOKEN),
     "max_workers: 0 must be a whole number of at least 1"),
    ("plugin: waldur.cloud.openstack_images\nusage_stats: maybe\n", "usage_stats: 'maybe' is not a boolean; use true or false"),
    ("plugin: waldur.cloud.openstack_images\nhostname: backend_id\n", "hostname: 'backend_id' is not name, uuid or a Jinja2 template"),
    ("plugin: waldur.cloud.openstack_images\nhostvars_prefix: 1x\n", "hostvars_prefix: '1x' cannot start a variable name"),
    ("plugin: waldur.cloud.openstack_images\nsettings_uuid: nope\n", "settings_uuid: 'nope' is not a uuid"),
    ("plugin: waldur.cloud.openstack_images\nshow_duplicate_names: true\ntenant_uuid: %s\n" % PROD_A,
     "show_duplicate_names: cannot be combined with tenant_uuid"),
    ("plugin: waldur.cloud.openstack_images\napi_url: %s\n" % ROOT, "api_token: is not set"),
    ("plugin: waldur.cloud.openstack_images\napi_token: %s\n" % TOKEN, "api_url: is not set"),
    ("plugin: waldur.cloud.openstack_images\napi_url: ftp://x\napi_token: %s\n" % TOKEN, "api_url: 'ftp://x' is not an http"),
    ("plugin: waldur.cloud.openstack_images\napi_url: %s\napi_token: \"{{ lookup('ansible.builtin.env', 'UNSET_VAR_X') }}\"\n"
     % ROOT, "api_token: is empty (from the api_token option of"),
    ("plugin: waldur.cloud.openstack_images\napi_url: %s\napi_token: \"{{ nothing_defined }}\"\n" % ROOT,
     "api_token: the template could not be rendered"),
])
def test_bad_configuration_fails_before_any_request_naming_file_and_option(run, tmp_path, text, message):
    with pytest.raises(AnsibleError) as error:
        run(text, [], connection=False)
    assert str(error.value).startswith(str(tmp_path / "test.waldur_images.yml") + ": ")
    for part in message if isinstance(message, tuple) else (message,):
        assert part in str(error.value)


def test_a_rejected_token_names_the_file_and_the_option(run, scripted):
    steps = [(SETTINGS, scripted.json({"detail": "Invalid token."}, status=401)),
             (TENANTS, scripted.json({"detail": "Invalid token."}, status=401)),
             (IMAGES + "?page_size=300", scripted.json({"detail": "Invalid token."}, status=401))]
    with pytest.raises(AnsibleError) as error:
        run({}, steps)
    message = str(error.value)
    assert "test.waldur_images.yml: api_token: Waldur at %s rejected the API token from the api_token option of " % ROOT in message
    assert "Invalid token." in message
    assert TOKEN not in message
    run.transports[0].steps.clear()  # the first 401 ends the run; the other parallel requests may not be made


def test_an_unreachable_server_names_the_file_and_api_url(run, scripted):
    import requests

    refused = requests.exceptions.ConnectionError("Connection refused")
    steps = [(SETTINGS, refused), (TENANTS, refused), (IMAGES + "?page_size=300", refused)]
    with pytest.raises(AnsibleParserError) as error:
        run({"retries": 0}, steps)
    assert "test.waldur_images.yml: api_url: the Waldur API at %s (from the api_url option of " % ROOT in str(error.value)
    assert "cannot be reached: could not get" in str(error.value)
    run.transports[0].steps.clear()


def test_a_bad_hostname_template_names_the_option(run, scripted):
    with pytest.raises(AnsibleParserError) as error:
        run({"hostname": "{{ waldur_nothing }}"}, full_steps(scripted))
    assert "test.waldur_images.yml: hostname: the template failed for image " in str(error.value)


# ---------------------------------------------------------------------------------------- flavor fit
def test_fits_keeps_the_images_a_flavor_can_boot(run, scripted):
    inventory = run({"fits": {"disk": "3G", "ram": 512}}, full_steps(scripted))
    # min_disk is 1024 * number MiB, min_ram 512 MiB: images 1 to 3 fit a 3 GiB disk.
    assert sorted(hostvars(inventory, host)["waldur_min_disk"] for host in inventory.hosts) == [1024, 2048, 3072]
    # Names are unique among the hosts that are left: ubuntu-22.04 stays shared between the two clouds.
    assert sorted(inventory.hosts) == ["debian-12", "ubuntu-22.04@cloud-a", "ubuntu-22.04@cloud-b"]


def test_fits_is_checked_before_any_request(run):
    with pytest.raises(AnsibleParserError) as error:
        run({"fits": {"disk": "20GB"}})
    assert "test.waldur_images.yml: fits.disk: '20GB' is ambiguous" in str(error.value)
    with pytest.raises(AnsibleParserError) as error:
        run({"fits": {"cpu": 2}})
    assert "test.waldur_images.yml: fits: unknown key 'cpu'" in str(error.value)


def test_fits_suggests_only_the_size_form(run):
    # The shared message would suggest flavor, a key the inventory refuses.
    with pytest.raises(AnsibleParserError) as error:
        run({"fits": {"flavour": "m1.small"}})
    message = str(error.value)
    assert "test.waldur_images.yml: fits: unknown key 'flavour'" in message
    assert "flavor" not in message.replace("a flavor's size", "")
    assert "fits takes disk and ram" in message
    with pytest.raises(AnsibleParserError) as error:
        run({"fits": {"rma": 512}})
    assert "'rma' (did you mean ram?)" in str(error.value)


def test_fits_applies_to_cached_data(run, scripted, tmp_path):
    run(cache_config(tmp_path), full_steps(scripted))
    inventory = run(cache_config(tmp_path, fits={"disk": 1024}), [])
    assert sorted(inventory.hosts) == ["ubuntu-22.04"]


# ------------------------------------------------------------------------- against the emulator
@pytest.fixture(scope="module")
def emulator():
    from tests.emulator import WaldurEmulator, generate_dataset

    with WaldurEmulator(generate_dataset(images=80, tenants=5, settings=2, seed=11), port=0) as server:
        yield server


def parse_against(emulator, tmp_path, user="staff", **options):
    path = tmp_path / "emulated.waldur_images.yml"
    path.write_text(json.dumps(dict({"plugin": PLUGIN, "api_url": emulator.url, "api_token": emulator.tokens[user]},
                                    **options)))
    inventory = InventoryData()
    plugin = inventory_loader.get(PLUGIN)
    plugin.parse(inventory, DataLoader(), str(path))
    inventory.reconcile_inventory()
    return inventory


def test_usage_stats_adds_the_counts_of_the_image_name(emulator, tmp_path):
    inventory = parse_against(emulator, tmp_path, usage_stats=True)
    usage = emulator.dataset["usage_stats"]
    openstack = {row["uuid"] for row in emulator.dataset["service_settings"] if row["type"] == "OpenStack"}
    counted = 0
    for host in inventory.hosts:
        variables = hostvars(inventory, host)
        row = usage.get(variables["waldur_name"], {"by_settings": {}})
        parts = [row["by_settings"].get(uuid, {"running": 0, "created": 0}) for uuid in openstack]
        assert variables["waldur_running_instances_count"] == sum(part["running"] for part in parts)
        assert variables["waldur_created_instances_count"] == sum(part["created"] for part in parts)
        counted += variables["waldur_created_instances_count"] > 0
    assert counted > 0


def test_a_non_staff_user_gets_settings_names_from_tenants(emulator, tmp_path):
    inventory = parse_against(emulator, tmp_path, user="user")
    visibility = emulator.dataset["visibility"]["user"]
    assert {hostvars(inventory, host)["waldur_uuid"] for host in inventory.hosts} == set(visibility["default_list"])
    assert all(hostvars(inventory, host)["waldur_settings_name"] for host in inventory.hosts)
    tenants = {uuid for host in inventory.hosts for uuid in hostvars(inventory, host)["waldur_tenant_uuids"]}
    assert tenants <= set(visibility["tenants"])
    assert all(hostvars(inventory, host)["waldur_tenant_uuids"] for host in inventory.hosts)  # non-staff: always a tenant


@pytest.mark.parametrize("options, message", [
    ({"cache_plugin": "no.such.cache"}, "no.such.cache"),
    ({"cache_plugin": "ansible.builtin.jsonfile", "cache_connection": "{file}/cache"}, "Not a directory"),
    ({"cache_plugin": "ansible.builtin.jsonfile"}, "_uri"),
])
def test_a_cache_that_cannot_be_set_up_fails_saying_why(run, tmp_path, options, message):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    options = {key: value.format(file=blocker) for key, value in options.items()}
    with pytest.raises(AnsibleParserError) as error:
        run(dict({"cache": True}, **options))
    assert str(error.value).startswith(str(tmp_path / "test.waldur_images.yml") + ": ")
    assert message in str(error.value)

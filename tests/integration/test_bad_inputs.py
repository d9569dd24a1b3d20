"""Bad input, at every entry point: each case fails with a message naming the option and what is accepted.

One list, CASES, drives the tests and the table in docs/bad-inputs.md (a test keeps them equal;
``python -m tests.integration.test_bad_inputs > docs/bad-inputs.md`` writes it).
Every case runs in-process at its entry point, as Ansible runs it: a module's main() with the
case as its arguments (Ansible's own argument checks included), the filter and the lookup through
Ansible's plugin loaders, an inventory file through the plugin's parse(). The same inputs through
ansible-playbook are in test_openstack_image_info.py, test_openstack_image_stats.py and test_inventory.py.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "bad-inputs.md"
UUID = "0" * 32
PROJECT_URL = "https://waldur.example.com/api/projects/%s/" % UUID

INFO = "openstack_image_info"
STATS = "openstack_image_stats"
FILTER = "fitting_images filter"
LOOKUP = "openstack_image lookup"
INVENTORY = "openstack_images inventory file"
FLAVORS = "openstack_flavor_info"


class Case:
    """One bad input: where it is given, what it is, and the text the error must hold."""

    def __init__(self, entry, given, message, env=None, note=None, secret=None):
        self.entry = entry
        self.given = given
        self.message = message
        self.env = env or {}
        self.note = note
        self.secret = secret  # a value that must not be echoed back

    @property
    def id(self):
        return "%s %s %s" % (self.entry, json.dumps(self.given, sort_keys=True), json.dumps(self.env, sort_keys=True))

    def input_text(self):
        parts = []
        if self.given or not self.env:
            parts.append("`%s`" % json.dumps(self.given, ensure_ascii=False, sort_keys=True))
        parts.extend("environment `%s=%s`" % (key, value) for key, value in sorted(self.env.items()))
        if self.note:
            parts.append("(%s)" % self.note)
        return " ".join(parts)


SIZES = "give a whole number of MiB above 0 (e.g. 20480) or a number with a binary unit K/KiB, M/MiB, G/GiB or T/TiB"
UUIDS = "is not a uuid; give 32 hex digits, with or without dashes"
# Of the emulator's data set (conftest: seed 7): the flavor g1.gpu (linked to no tenant), an image (and a name) not
# linked to tenant-c1, and the uuids of tenant-a4 and tenant-c1.
FLAVOR_OF_NO_TENANT = "df06d23ab1fa4ab5a0f53352c22c21ac"
IMAGE_NOT_IN_TENANT_C1 = "8ceac4f7392c480ea9e334f16cc1a86b"
IMAGE_NAME_NOT_IN_TENANT_C1 = "CentOS-Stream-9-20201124"
TENANT_A4 = "736a2e9246184a9e98658bff5cc74502"
TENANT_C1 = "9d4f75adbfa24588b1e6a12fd1956fc8"

CASES = [
    # ---------------------------------------------------------------- connection options (every entry point)
    Case(INFO, {"api_url": "ftp://waldur.example.com"},
         "api_url: 'ftp://waldur.example.com' is not an http:// or https:// URL, e.g. https://waldur.example.com/api/"),
    Case(LOOKUP, {"api_url": "waldur.example.com/api/"},
         "api_url: 'waldur.example.com/api/' is not an http:// or https:// URL, e.g. https://waldur.example.com/api/"),
    Case(LOOKUP, {"api_url": "https://"}, "api_url: 'https://' has no host name, e.g. https://waldur.example.com/api/"),
    Case(INFO, {"api_url": "https://admin:hunter2@waldur.example.com/api/"},
         "api_url: must not contain credentials; pass the token in api_token", secret="hunter2"),
    Case(LOOKUP, {"api_url": "https://waldur.example.com/api/?page=1"},
         "api_url: 'https://waldur.example.com/api/?page=1' must not have a query string or fragment; give only the API root"),
    Case(LOOKUP, {"api_url": "https://waldur.example.com:99999/"},
         "api_url: 'https://waldur.example.com:99999/' has an invalid port; give a port from 1 to 65535"),
    Case(LOOKUP, {"api_url": "https://waldur example.com/api/"},
         "api_url: 'https://waldur example.com/api/' has an invalid host name or white space in it; give a URL such as "
         "https://waldur.example.com/api/"),
    Case(INVENTORY, {"api_url": "http://[::1/api/"}, "api_url: 'http://[::1/api/' is not a valid URL (Invalid IPv6 URL)"),
    Case(STATS, {}, "api_url: 'not a url' is not an http:// or https:// URL", env={"WALDUR_API_URL": "not a url"}),
    Case(INFO, {"api_token": ""}, "api_token: is empty (from the api_token option); give a Waldur API token"),
    Case(LOOKUP, {"api_token": "   "}, "api_token: is empty (from the api_token option of waldur.cloud.openstack_image lookup); give a Waldur API token"),
    Case(STATS, {"api_token": "0123456789abcdef 0123456789abcdef0123456"},
         "api_token: contains white space or control characters (from the api_token option); give the bare token",
         secret="0123456789abcdef 0123456789abcdef0123456"),
    Case(INFO, {}, "api_token: is empty (from the WALDUR_API_TOKEN environment variable); give a Waldur API token",
         env={"WALDUR_API_TOKEN": " "}),
    Case(INFO, {"auth_scheme": "Basic"}, "value of auth_scheme must be one of: Token, Bearer, got: Basic"),
    Case(INFO, {}, "auth_scheme: 'Basic' is not one of Token, Bearer", env={"WALDUR_AUTH_SCHEME": "Basic"}),
    Case(INFO, {"validate_certs": "perhaps"}, "argument 'validate_certs' is of type str and we were unable to convert to bool"),
    Case(INFO, {}, "WALDUR_VALIDATE_CERTS: 'maybe' is not a boolean; use true or false", env={"WALDUR_VALIDATE_CERTS": "maybe"}),
    Case(INFO, {"ca_path": "/nonexistent/ca.pem"},
         "ca_path: /nonexistent/ca.pem does not exist; give a PEM file or a directory of CA certificates"),
    Case(INFO, {"timeout": 0}, "timeout: 0.0 must be a number of seconds above 0"),
    Case(STATS, {"timeout": "soon"}, "argument 'timeout' is of type str and we were unable to convert to float"),
    Case(INFO, {}, "WALDUR_TIMEOUT: 'soon' is not a number of seconds", env={"WALDUR_TIMEOUT": "soon"}),
    Case(LOOKUP, {"retries": -1}, "retries: -1 must be 0 or a positive whole number"),
    Case(INFO, {"retries": "three"}, "argument 'retries' is of type str and we were unable to convert to int"),
    Case(STATS, {"retry_budget": -5}, "retry_budget: -5.0 must be 0 or a positive number of seconds"),
    Case(INFO, {"page_size": 0}, "page_size: 0 is out of range; use a whole number from 1 to 300"),
    Case(STATS, {"page_size": 500}, "page_size: 500 is out of range; use a whole number from 1 to 300"),
    Case(INFO, {"max_workers": 0}, "max_workers: 0 must be a whole number of at least 1"),
    Case(INFO, {"colour": "red"}, "Unsupported parameters for (waldur.cloud.openstack_image_info) module: colour. "
                                  "Supported parameters include: "),
    # ------------------------------------------------------------------------------------- image filters
    Case(INFO, {"uuid": "not-a-uuid"}, "uuid: 'not-a-uuid' %s (e.g. 3f2a9c1e5b7d4e0f8a6b2c4d1e3f5a7b)" % UUIDS),
    Case(LOOKUP, {"uuid": ""}, "uuid: '' %s" % UUIDS),
    Case(INFO, {"settings_uuid": "cloud-a"}, "settings_uuid: 'cloud-a' %s" % UUIDS),
    Case(LOOKUP, {"tenant_uuid": "1234"}, "tenant_uuid: '1234' %s" % UUIDS),
    Case(INVENTORY, {"offering_uuid": "g" * 32}, "offering_uuid: '%s' %s" % ("g" * 32, UUIDS)),
    Case(INFO, {"uuid": UUID, "name": "ubuntu"},
         "uuid: cannot be combined with the list filters name; give either uuid or filters"),
    Case(INFO, {"settings": "cloud-a", "settings_uuid": UUID}, "settings: cannot be combined with settings_uuid; give one of them"),
    Case(INFO, {"tenant": "prod", "tenant_uuid": UUID}, "tenant: cannot be combined with tenant_uuid; give one of them"),
    Case(INFO, {"show_duplicate_names": True, "tenant": "prod"},
         "show_duplicate_names: cannot be combined with tenant: the server ignores every other filter when listing "
         "duplicates"),
    Case(INFO, {"settings": "no-such-cloud"},
         "settings: no service settings named 'no-such-cloud' is visible to this user; visible: cloud-a ("),
    Case(INFO, {"tenant": "prod"}, "tenant: the name 'prod' is ambiguous: prod (", note="two tenants are named prod"),
    Case(INFO, {"tenant": PROJECT_URL},
         "tenant: '%s' is not a tenant URL; give a name, a uuid or a URL like "
         "https://waldur.example.com/api/openstack-tenants/<uuid>/" % PROJECT_URL),
    Case(INFO, {"show_duplicate_names": "perhaps"},
         "argument 'show_duplicate_names' is of type str and we were unable to convert to bool"),
    # ------------------------------------------------------------------------------ selection (fits, order)
    Case(INFO, {"fits": {"disk": "20GB"}}, "fits.disk: '20GB' is ambiguous: GB may mean powers of 1000 or of 1024; write "
                                           "20G or 20GiB"),
    Case(INFO, {"fits": {"disk": -1}}, "fits.disk: -1 is negative; %s" % SIZES),
    Case(INFO, {"fits": {"ram": "lots"}}, "fits.ram: 'lots' is not a size; %s" % SIZES),
    Case(INFO, {"fits": {"ram": "1.5M"}}, "fits.ram: '1.5M' is not a whole number of MiB (1.5 MiB); %s" % SIZES),
    Case(INFO, {"fits": {"cpu": 2}}, "fits: unknown key 'cpu'; fits takes disk and ram (a flavor's size), or flavor and disk "
                                     "(a flavor, and the size of the volume the instance boots from)"),
    Case(INFO, {"fits": {"flavour": "m1.medium"}, "tenant": "tenant-c1"},
         "fits: unknown key 'flavour' (did you mean flavor?); fits takes disk and ram (a flavor's size), or flavor and disk "
         "(a flavor, and the size of the volume the instance boots from)"),
    Case(LOOKUP, {"fits": {"flavour": "m1.medium"}, "tenant": "tenant-c1"},
         "waldur.cloud.openstack_image lookup: fits: unknown key 'flavour' (did you mean flavor?); fits takes disk and ram "
         "(a flavor's size), or flavor and disk (a flavor, and the size of the volume the instance boots from)"),
    Case(INFO, {"fits": "20G"}, "fits: '20G' is not a dictionary; give disk, ram or both"),
    Case(INFO, {"limit": 0}, "limit: 0 must be a whole number of at least 1"),
    Case(INFO, {"sort_by": "size"}, "value of sort_by must be one of: name, version, min_disk, min_ram, got: size"),
    # ---------------------------------------------------------------------------------------------- flavors
    Case(FLAVORS, {"name_iregex": "(m1"}, "name_iregex: '(m1' is not a valid regular expression (missing ), unterminated "
                                          "subpattern at position 0); the server would fail with an HTML error page. "
                                          "Escape special characters with a backslash"),
    Case(FLAVORS, {"name_iregex": "a{2"}, "name_iregex: 'a{2' is not a valid regular expression (a bound such as {2 is "
                                          "not closed)"),
    Case(FLAVORS, {"ram_min": "4GB"}, "ram_min: '4GB' is ambiguous: GB may mean powers of 1000 or of 1024"),
    Case(FLAVORS, {"disk_max": "lots"}, "disk_max: 'lots' is not a size; %s" % SIZES),
    Case(FLAVORS, {"cores_min": -1}, "cores_min: -1 is not a number of cores; give a whole number, 0 or more"),
    Case(FLAVORS, {"ram_min": "8G", "ram_max": "4G"}, "ram_min: 8192 is above ram_max 4096, so no flavor can match; swap them"),
    Case(FLAVORS, {"uuid": UUID, "ram": "4G"}, "uuid: cannot be combined with the list filters ram; give either uuid or filters"),
    Case(FLAVORS, {"tenant": "prod"}, "tenant: the name 'prod' is ambiguous: prod (", note="two tenants are named prod"),
    Case(FLAVORS, {"sort_by": "price"}, "value of sort_by must be one of: name, cores, ram, disk, got: price"),
    Case(FLAVORS, {"boots": {"image": "ubuntu-22.04"}}, "boots.tenant: is required; give a name, uuid or URL"),
    Case(FLAVORS, {"boots": {"image": "ubuntu-22.04", "tenant": "tenant-a4", "disk": "512M"}},
         "boots.disk: '512M' is below 1024 MiB (1 GiB), the smallest system volume Waldur accepts"),
    Case(FLAVORS, {"boots": {"image": "ubuntu-22.04", "tenant": "tenant-a4"}, "ram_min": "4G"},
         "parameters are mutually exclusive: boots|ram_min"),
    Case(INFO, {"fits": {"flavor": "m1.small", "ram": "4G"}},
         "fits.ram: cannot be combined with fits.flavor: the flavor's RAM is what Waldur checks against min_ram"),
    Case(INFO, {"fits": {"flavor": "m1.small", "cpu": 2}}, "fits: unknown key 'cpu'; with flavor, fits takes flavor and disk "
                                                           "(the system volume size)"),
    Case(INFO, {"fits": {"flavor": "m1.small"}}, "fits.flavor: the name 'm1.small' is ambiguous: m1.small (",
         note="m1.small exists on every cloud"),
    Case(INFO, {"fits": {"flavor": "m1.small"}, "tenant": "tenant-c1"},
         "fits.flavor: no flavor named 'm1.small' is linked to tenant "),
    Case(LOOKUP, {"fits": {"flavor": "https://waldur.example.com/api/openstack-images/%s/" % UUID}},
         "fits.flavor: 'https://waldur.example.com/api/openstack-images/%s/' is not a flavor URL" % UUID),
    Case(FILTER, {"flavor": "m1.small"}, "fitting_images: flavor: 'm1.small' is not a flavor dict; the filter cannot ask "
                                         "the server"),
    Case(FILTER, {"flavor": {"name": "m1.small", "ram": 2048}, "ram": "4G"},
         "fitting_images: ram: cannot be combined with flavor"),
    Case(INFO, {"fits": {"flavor": " "}}, "fits.flavor: ' ' is not a flavor; give its name, uuid or URL"),
    Case(INFO, {"fits": {"flavor": "m1.medium", "disk": "512M"}, "tenant": "tenant-c1"},
         "fits.disk: '512M' is below 1024 MiB (1 GiB), the smallest system volume Waldur accepts; with flavor, disk is "
         "the size of the volume the instance boots from"),
    Case(FILTER, {"flavor": {"name": "m1.small", "ram": 2048}, "disk": "512M"},
         "fitting_images: disk: '512M' is below 1024 MiB (1 GiB), the smallest system volume Waldur accepts"),
    Case(FILTER, {"flavor": {"name": "m1.small"}},
         "fitting_images: flavor: the flavor dict has ram None; give a flavor as waldur.cloud.openstack_flavor_info "
         "returns it (ram in MiB)"),
    Case(INFO, {"fits": {"flavor": FLAVOR_OF_NO_TENANT}, "tenant": "tenant-a4"},
         "fits.flavor: the flavor g1.gpu (8 CPU, 65536 MiB (64 GiB) RAM, 102400 MiB (100 GiB) disk, settings "
         "a35a7f56075d4dc683ace6457025886d, uuid %s) is not linked to tenant 'tenant-a4' (%s), so Waldur refuses the order "
         "(\"Flavor is not visible in tenant.\")"
         % (FLAVOR_OF_NO_TENANT, TENANT_A4), note="g1.gpu, given by uuid, is linked to no tenant"),
    Case(FLAVORS, {"boots": "ubuntu-22.04"},
         "boots: 'ubuntu-22.04' is not a dictionary; give image, tenant and optionally disk"),
    Case(FLAVORS, {"boots": {"image": "ubuntu-22.04", "tenant": "tenant-c1", "flavor": "m1.small"}},
         "boots: unknown key 'flavor'; boots takes image, tenant and disk"),
    Case(FLAVORS, {"boots": {"image": IMAGE_NOT_IN_TENANT_C1, "tenant": "tenant-c1"}},
         "boots.image: the image '%s' is not linked to tenant 'tenant-c1' (%s), so Waldur refuses the order (\"Image is "
         "not visible "
         "in tenant.\")" % (IMAGE_NOT_IN_TENANT_C1, TENANT_C1), note="an ubuntu-22.04 of cloud-a, by uuid"),
    Case(FLAVORS, {"boots": {"image": IMAGE_NAME_NOT_IN_TENANT_C1, "tenant": "tenant-c1"}},
         "boots.image: the image '%s' is not linked to tenant 'tenant-c1' (%s), so Waldur refuses the order (\"Image is "
         "not visible "
         "in tenant.\")" % (IMAGE_NAME_NOT_IN_TENANT_C1, TENANT_C1), note="by name: it exists, in other tenants"),
    Case(FLAVORS, {"boots": {"image": "ubuntu-22.4", "tenant": "tenant-a4"}},
         "boots.image: no image 'ubuntu-22.4' is visible to this user; did you mean one of 'ubuntu-22.04', "
         "'ubuntu-22.04-x86_64', ", note="a typo"),
    Case(FLAVORS, {"boots": {"image": "no-such-image", "tenant": "tenant-a4"}},
         "boots.image: no image 'no-such-image' is visible to this user; none of the 62 image names linked to tenant "
         "'tenant-a4' (%s) is close to it; list them with waldur.cloud.openstack_image_info tenant=" % TENANT_A4),
    # ----------------------------------------------------------------------------------------- statistics
    Case(STATS, {"service_provider": ["no-such-cloud"]},
         "service_provider: no service settings named 'no-such-cloud' is visible to this user; visible: cloud-a ("),
    Case(STATS, {"service_provider": [" "]},
         "service_provider: is empty; give service settings names, uuids or URLs, or omit it"),
    Case(STATS, {"service_provider": [UUID]},
         "service_provider: '%s' matches no OpenStack service settings visible to this user (the server would silently "
         "answer zeros); valid: cloud-a (" % UUID),
    Case(STATS, {"service_provider": [PROJECT_URL]},
         "service_provider: '%s' is not a service settings URL; give a name, a uuid or a URL like "
         "https://waldur.example.com/api/service-settings/<uuid>/" % PROJECT_URL),
    Case(STATS, {"sort_by": "popularity"}, "value of sort_by must be one of: name, running, created, got: popularity"),
    Case(STATS, {"order": "up"}, "value of order must be one of: asc, desc, got: up"),
    Case(STATS, {"shared": "sometimes"}, "argument 'shared' is of type str and we were unable to convert to bool"),
    # --------------------------------------------------------------------------------------------- filter
    Case(FILTER, {"disk": "20GB"}, "fitting_images: disk: '20GB' is ambiguous: GB may mean powers of 1000 or of 1024"),
    Case(FILTER, {"disk": 0}, "fitting_images: disk: 0 is zero; a flavor with a disk of 0 boots from a volume"),
    Case(FILTER, {"ram": "4 gigs"}, "fitting_images: ram: '4 gigs' has an unknown unit 'gigs'; %s" % SIZES),
    Case(FILTER, {"disk": True}, "fitting_images: disk: True is a boolean, not a size; %s" % SIZES),
    Case(FILTER, {}, "fitting_images: arguments: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"),
    Case(FILTER, {"disk": "20G", "cpu": 2}, "fitting_images: unknown argument 'cpu'; the filter takes disk and ram (a "
                                            "flavor's size), or flavor and disk (a flavor, and the size of the volume the "
                                            "instance boots from), and sort_by and order; see ansible-doc -t filter "
                                            "waldur.cloud.fitting_images"),
    Case(FILTER, {"flavour": {"name": "m1.medium", "ram": 4096}},
         "fitting_images: unknown argument 'flavour' (did you mean flavor?); the filter takes disk and ram (a flavor's "
         "size), or flavor and disk (a flavor, and the size of the volume the instance boots from)"),
    Case(FILTER, {"disk": "20G", "sort_by": "size"}, "fitting_images: sort_by: 'size' is not one of name, version, min_disk, "
                                                     "min_ram"),
    Case(FILTER, {"disk": "20G", "images": "ubuntu"}, "fitting_images: images: 'ubuntu' is not a list of image dicts",
         note="applied to a string"),
    Case(FILTER, {"disk": "20G", "images": [{"name": "x"}]},
         "fitting_images: images[0]: the image 'x' has no min_disk; give image dicts with min_disk and min_ram in MiB"),
    # --------------------------------------------------------------------------------------------- lookup
    Case(LOOKUP, {"terms": ["ubuntu"]}, "waldur.cloud.openstack_image lookup: takes no terms (got 'ubuntu'); give the "
                                        "filters as keywords, e.g. name='ubuntu'"),
    Case(LOOKUP, {"fit": {"disk": "20G"}}, "waldur.cloud.openstack_image lookup: unknown option fit (did you mean fits?); "
                                           "the options are described by: ansible-doc -t lookup waldur.cloud.openstack_image"),
    Case(LOOKUP, {"fits": {"disk": "20 GB"}}, "waldur.cloud.openstack_image lookup: fits.disk: '20 GB' is ambiguous"),
    Case(LOOKUP, {"uuid": "xyz"}, "waldur.cloud.openstack_image lookup: uuid: 'xyz' %s" % UUIDS),
    Case(LOOKUP, {"page_size": 0}, "waldur.cloud.openstack_image lookup: page_size: 0 is out of range; use a whole number "
                                   "from 1 to 300"),
    Case(LOOKUP, {"api_url": "ftp://waldur.example.com"}, "waldur.cloud.openstack_image lookup: api_url: "
                                                          "'ftp://waldur.example.com' is not an http:// or https:// URL"),
    # ----------------------------------------------------------------------------------- inventory file
    Case(INVENTORY, {"grup_by": ["tenant"]}, "unknown option grup_by (did you mean group_by?)"),
    Case(INVENTORY, {"usage_stats": "maybe"}, "usage_stats: 'maybe' is not a boolean; use true or false"),
    Case(INVENTORY, {"page_size": "many"}, "Config 'page_size' for 'ansible_collections.waldur.cloud.plugins.inventory."
                                           "openstack_images' inventory plugin from 'Direct' has an invalid value: Invalid "
                                           "value provided for 'int': 'many'"),
    Case(INVENTORY, {"page_size": 0}, "page_size: 0 is out of range; use a whole number from 1 to 300"),
    Case(INVENTORY, {"group_by": ["project"]}, "Invalid value ['project'] for config 'group_by'"),
    Case(INVENTORY, {"hostvars_prefix": "1st_"}, "hostvars_prefix: '1st_' cannot start a variable name; use letters, "
                                                 "digits and _, not starting with a digit"),
    Case(INVENTORY, {"api_url": "ftp://waldur.example.com"}, "api_url: 'ftp://waldur.example.com' is not an http:// or "
                                                             "https:// URL"),
    Case(INVENTORY, {"api_token": " "}, "api_token: is empty (from the api_token option of {path}); give a Waldur API token"),
    Case(INVENTORY, {"settings_uuid": "cloud-a"}, "settings_uuid: 'cloud-a' %s" % UUIDS),
    Case(INVENTORY, {"show_duplicate_names": True, "tenant_uuid": UUID}, "show_duplicate_names: cannot be combined with "
                                                                         "tenant_uuid"),
    Case(INVENTORY, {"retries": -2}, "retries: -2 must be 0 or a positive whole number"),
    Case(INVENTORY, {"cache": True, "cache_plugin": "ansible.builtin.jsonfile", "cache_connection": "{file}/cache"},
         "Error in 'jsonfile' cache plugin while trying to create cache dir",
         note="a path below a regular file, so the cache cannot be written"),
]


# --------------------------------------------------------------------------------------- running them
FILTER_IMAGES = [{"uuid": "3f2a9c1e5b7d4e0f8a6b2c4d1e3f5a7b", "name": "ubuntu-22.04", "min_disk": 10240, "min_ram": 2048}]


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def run_module(name, arguments, monkeypatch):
    """Run a module's main() in this process as Ansible would run it; its result (exit or failure)."""
    # pylint: disable=import-outside-toplevel
    import importlib

    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    def leave(failed):
        def finish(module, **result):  # pylint: disable=unused-argument
            result["failed"] = failed
            raise ModuleExit(result)
        return finish

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", leave(False))
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", leave(True))
    module = importlib.import_module("ansible_collections.waldur.cloud.plugins.modules." + name)
    # What ansible-playbook adds to every module's arguments: its name, for Ansible's own messages.
    with patch_module_args(dict(arguments, _ansible_module_name="waldur.cloud." + name)):
        try:
            module.main()
        except ModuleExit as exc:
            return exc.result
    raise AssertionError("the module neither exited nor failed")


def run_filter(case):
    from ansible.plugins.loader import filter_loader  # pylint: disable=import-outside-toplevel

    given = dict(case.given)
    images = given.pop("images", FILTER_IMAGES)
    return filter_loader.get("waldur.cloud.fitting_images").j2_function(images, **given)


def run_lookup(case):
    # pylint: disable=import-outside-toplevel
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import lookup_loader
    from ansible.template import Templar

    loader = DataLoader()
    lookup = lookup_loader.get("waldur.cloud.openstack_image", loader=loader, templar=Templar(loader=loader))
    given = dict(case.given)
    return lookup.run(given.pop("terms", []), variables={}, **given)


def run_inventory(tmp_path, emulator, case, index):
    """Parse an inventory file with the case's options as ansible-inventory does."""
    # pylint: disable=import-outside-toplevel
    from ansible.inventory.data import InventoryData
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import inventory_loader

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    given = {key: (value.format(file=blocker) if isinstance(value, str) else value) for key, value in case.given.items()}
    options = dict({"plugin": "waldur.cloud.openstack_images", "api_url": emulator.url,
                    "api_token": emulator.tokens["staff"]}, **given)
    path = tmp_path / ("case%03d.waldur_images.yml" % index)
    path.write_text(json.dumps(options))
    plugin = inventory_loader.get("waldur.cloud.openstack_images")
    plugin.parse(InventoryData(), DataLoader(), str(path), cache=True)
    plugin.update_cache_if_changed()


def message_of(case, emulator, tmp_path, monkeypatch):
    """Run the case at its entry point; the error message (the test fails if there is none)."""
    from ansible.errors import AnsibleError  # pylint: disable=import-outside-toplevel

    for variable in ("WALDUR_API_URL", "WALDUR_API_TOKEN", "WALDUR_AUTH_SCHEME", "WALDUR_VALIDATE_CERTS",
                     "WALDUR_CA_PATH", "WALDUR_TIMEOUT"):
        monkeypatch.delenv(variable, raising=False)
    if case.entry in (INFO, STATS, FLAVORS):
        # As ansible_environment() sets them for ansible-playbook: the connection from the environment.
        monkeypatch.setenv("WALDUR_API_URL", emulator.url)
        monkeypatch.setenv("WALDUR_API_TOKEN", emulator.tokens["staff"])
        for variable, value in case.env.items():
            monkeypatch.setenv(variable, value)
        result = run_module(case.entry, case.given, monkeypatch)
        assert result["failed"] is True, "the module did not fail: %s" % result
        assert not {"images", "stats", "flavors"} & set(result), "a failed module returned data"
        return result["msg"]
    given = case.given
    if case.entry == LOOKUP and "api_url" not in given:
        given = dict(given, api_url=emulator.url)
    if case.entry == LOOKUP and "api_token" not in given:
        given = dict(given, api_token=emulator.tokens["staff"])
    runner = {FILTER: lambda: run_filter(case), LOOKUP: lambda: run_lookup(Case(LOOKUP, given, case.message)),
              INVENTORY: lambda: run_inventory(tmp_path, emulator, case, CASES.index(case))}[case.entry]
    try:
        runner()
    except AnsibleError as exc:
        return str(exc)
    raise AssertionError("%s accepted the input" % case.entry)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_fails_naming_the_option(case, emulator, tmp_path, monkeypatch, capsys):
    message = message_of(case, emulator, tmp_path, monkeypatch)
    expected = case.message
    if case.entry == INVENTORY:
        path = tmp_path / ("case%03d.waldur_images.yml" % CASES.index(case))
        assert message.startswith("%s: " % path), "the message does not start with the file: %s" % message
        expected = expected.replace("{path}", str(path))
    assert expected.lower() in " ".join(message.split()).lower(), message
    printed = capsys.readouterr()
    for secret in filter(None, [case.secret, emulator.tokens["staff"]]):
        assert secret not in message and secret not in printed.out + printed.err


def test_the_table_in_the_docs_is_the_list_of_cases():
    assert DOC.read_text(encoding="utf-8") == render_table(), (
        "docs/bad-inputs.md is out of date: python -m tests.integration.test_bad_inputs > docs/bad-inputs.md")


# ------------------------------------------------------------------------------------------ the table
def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def render_table():
    lines = [
        "# Bad input and what it says",
        "",
        "Every entry point checks its input before any request and fails with one message that names the",
        "option and says what is accepted. Each row below is a test",
        "(`tests/integration/test_bad_inputs.py`, generated from its `CASES` list; a test keeps this file",
        "equal to the list). The message column is the part of the message the test requires; the",
        "inventory's messages start with the path of the file (`<file>`), the lookup's and the filter's with",
        "their name.",
        "",
        "Options checked by Ansible itself (an unknown module option, a wrong type, a value outside `choices`)",
        "fail with Ansible's own message, which names the option and the accepted values or type.",
        "",
        "| # | entry point | input | message |",
        "|---|---|---|---|",
    ]
    for number, case in enumerate(CASES, start=1):
        message = case.message.replace("{path}", "<file>")
        lines.append("| %d | %s | %s | %s |" % (number, case.entry, _cell(case.input_text()), _cell(message)))
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_table())

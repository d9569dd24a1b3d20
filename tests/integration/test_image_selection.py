"""Choosing images by flavor size (fits, sort_by, order, limit; the fitting_images filter; the openstack_image lookup;
playbooks/choose_image.yml) through ansible-playbook against an emulator, compared with its truth.

The emulator of this module has, besides a generated data set, images whose requirements sit exactly on and one MiB
over the flavor used here (20 GiB disk, 4 GiB RAM), with requirements of 0, and with version-like names.
"""
from __future__ import annotations

import functools
import json
import os
import re

import pytest

from tests.emulator import WaldurEmulator, generate_dataset
from tests.integration.harness import Truth, ansible_environment

MODULE = "waldur.cloud.openstack_image_info"
PLAYBOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "playbooks",
                        "choose_image.yml")
DISK, RAM = 20480, 4096
ACCEPTED = ("give a whole number of MiB above 0 (e.g. 20480) or a number with a binary unit K/KiB, M/MiB, G/GiB or T/TiB "
            "(e.g. 512M, 20 GiB, 1.5G)")

# name: (min_disk, min_ram)
EDGE_IMAGES = {
    "edge-fits-exactly": (DISK, RAM),
    "edge-disk-one-over": (DISK + 1, 1024),
    "edge-ram-one-over": (1024, RAM + 1),
    "edge-no-requirements": (0, 0),
    "edge-disk-zero": (0, RAM),
    "edge-ram-zero": (DISK, 0),
    "vers-debian-9": (2048, 512),
    "vers-debian-10": (4096, 1024),
    "Vers-Debian-11": (8192, 2048),
    "vers-debian-12": (DISK + 1, 2048),
}
EDGE_FITTING = ["edge-disk-zero", "edge-fits-exactly", "edge-no-requirements", "edge-ram-zero"]


@pytest.fixture(scope="module", name="selection_emulator")
def fixture_selection_emulator():
    with WaldurEmulator(generate_dataset(images=400, tenants=6, settings=2, seed=11), port=0) as server:
        truth = Truth(server.dataset)
        tenant = truth.tenants[truth.visible_tenants("user")[0]]
        for name, (min_disk, min_ram) in EDGE_IMAGES.items():
            server.add_image(name, tenant["service_settings_uuid"], [tenant["uuid"]], min_disk=min_disk, min_ram=min_ram)
        yield server


@pytest.fixture(scope="module", name="selection_truth")
def fixture_selection_truth(selection_emulator):
    return Truth(selection_emulator.dataset)


def fitting(truth, uuids, disk=None, ram=None):
    return [u for u in uuids if (disk is None or truth.images[u]["min_disk"] <= disk)
            and (ram is None or truth.images[u]["min_ram"] <= ram)]


def ordered(truth, uuids, sort_by, order):
    """The documented order, written as a comparison: the key in ``order``, then name and uuid ascending."""
    rows = [truth.images[u] for u in uuids]

    def compare(a, b):
        first, second = a[sort_by], b[sort_by]
        if first != second:
            result = -1 if first < second else 1
            return -result if order == "desc" else result
        for field in ("name", "uuid"):
            if a[field] != b[field]:
                return -1 if a[field] < b[field] else 1
        return 0

    return [row["uuid"] for row in sorted(rows, key=functools.cmp_to_key(compare))]


def named(truth, uuids):
    return [truth.images[u]["name"] for u in uuids]


def uuids_of(result):
    assert not result.get("failed"), result.get("msg")
    return [image["uuid"] for image in result["images"]]


# --- the module -------------------------------------------------------------------------------------

UNIT_FORMS = [
    {"disk": DISK, "ram": RAM},
    {"disk": "20480", "ram": "4096"},
    {"disk": "20G", "ram": "4G"},
    {"disk": "20 GiB", "ram": "4 GiB"},
    {"disk": "20g", "ram": "4096M"},
    {"disk": "20971520K", "ram": "4096 MiB"},
    {"disk": "0.01953125T", "ram": "4Gi"},
]


def module_cases(truth):
    default = truth.default_list("staff")
    expected_fit = fitting(truth, default, DISK, RAM)
    cases = [({"fits": fits}, expected_fit) for fits in UNIT_FORMS]
    cases += [
        ({"fits": {"disk": "10G"}}, fitting(truth, default, disk=10240)),
        ({"fits": {"ram": "2G"}}, fitting(truth, default, ram=2048)),
        ({"fits": {"disk": "20G", "ram": "4G"}, "page_size": 40, "max_workers": 3}, expected_fit),
        ({"name": "edge-", "fits": {"disk": "20G", "ram": "4G"}}, [u for u in default if named(truth, [u])[0] in EDGE_FITTING]),
        ({"name": "edge-", "fits": {"disk": DISK - 1, "ram": RAM - 1}},
         [u for u in default if named(truth, [u])[0] == "edge-no-requirements"]),
        ({"name": "edge-disk-one-over", "fits": {"disk": "20G"}}, []),
        ({"name": "no image has this name", "fits": {"disk": "20G"}}, []),
        ({"sort_by": "min_disk"}, ordered(truth, default, "min_disk", "asc")),
    ]
    for sort_by in ("name", "min_disk", "min_ram"):
        for order in ("asc", "desc"):
            cases.append(({"fits": {"disk": "20G", "ram": "4G"}, "sort_by": sort_by, "order": order},
                          ordered(truth, expected_fit, sort_by, order)))
    cases.append(({"fits": {"disk": "20G", "ram": "4G"}, "sort_by": "min_disk", "order": "desc", "limit": 1},
                  ordered(truth, expected_fit, "min_disk", "desc")[:1]))
    cases.append(({"fits": {"disk": "20G", "ram": "4G"}, "sort_by": "min_ram", "limit": 5},
                  ordered(truth, expected_fit, "min_ram", "asc")[:5]))
    return cases


# Every unit form, sort and limit is module_utils' logic; the runs on other ansible-core versions run the module,
# the filter and the lookup in the tests below.
@pytest.mark.core_independent
def test_fits_with_every_unit_form_sort_and_limit_match_the_truth(selection_emulator, selection_truth, run_cases):
    cases = module_cases(selection_truth)
    results = run_cases(MODULE, [pair[0] for pair in cases], ansible_environment(selection_emulator))[0]
    for (case, expected), result in zip(cases, results):
        assert uuids_of(result) == expected, case
        assert result["changed"] is False
    # The edge images: equal to the flavor fits, one MiB over does not, 0 fits everything.
    edge = next(index for index, pair in enumerate(cases) if pair[0].get("name") == "edge-")
    assert named(selection_truth, uuids_of(results[edge])) == EDGE_FITTING


def test_the_newest_by_name_is_version_descending(selection_emulator, selection_truth, run_cases):
    cases = [{"name": "vers-", "fits": {"disk": "20G"}, "sort_by": "version", "order": "desc"},
             {"name": "vers-", "sort_by": "version"},
             {"name": "vers-", "sort_by": "name", "order": "desc", "limit": 1}]
    results = run_cases(MODULE, cases, ansible_environment(selection_emulator, "user"))[0]
    assert named(selection_truth, uuids_of(results[0])) == ["Vers-Debian-11", "vers-debian-10", "vers-debian-9"]
    assert named(selection_truth, uuids_of(results[1])) == ["vers-debian-9", "vers-debian-10", "Vers-Debian-11",
                                                            "vers-debian-12"]
    # Code point order is not what "newest" means: "vers-debian-9" sorts last.
    assert named(selection_truth, uuids_of(results[2])) == ["vers-debian-9"]


MODULE_BAD_INPUTS = [
    ({"fits": {"disk": "20GB"}}, "fits.disk: '20GB' is ambiguous: GB may mean powers of 1000 or of 1024; write 20G or "
                                 "20GiB for binary units (as Waldur and OpenStack count), or " + ACCEPTED),
    ({"fits": {"ram": "4 mb"}}, "fits.ram: '4 mb' is ambiguous: mb may mean powers of 1000 or of 1024; write 4M or 4MiB "
                                "for binary units (as Waldur and OpenStack count), or " + ACCEPTED),
    ({"fits": {"disk": "-1G"}}, "fits.disk: '-1G' is negative; " + ACCEPTED),
    ({"fits": {"ram": -512}}, "fits.ram: -512 is negative; " + ACCEPTED),
    ({"fits": {"disk": "0G"}}, "fits.disk: '0G' is zero; a flavor with a disk of 0 boots from a volume and nova does not "
                               "check min_disk for it: leave fits.disk out to keep images of any min_disk. G" + ACCEPTED[1:]),
    ({"fits": {"ram": 0}}, "fits.ram: 0 is zero; no flavor has 0 RAM. G" + ACCEPTED[1:]),
    ({"fits": {"disk": "big"}}, "fits.disk: 'big' is not a size; " + ACCEPTED),
    ({"fits": {"disk": "1.5.2G"}}, "fits.disk: '1.5.2G' is not a size; " + ACCEPTED),
    ({"fits": {"disk": "20X"}}, "fits.disk: '20X' has an unknown unit 'X'; " + ACCEPTED),
    ({"fits": {"disk": "1.1G"}}, "fits.disk: '1.1G' is not a whole number of MiB (1126.4 MiB); " + ACCEPTED),
    ({"fits": {"ram": 1.5}}, "fits.ram: 1.5 is not a whole number of MiB; " + ACCEPTED),
    ({"fits": {"ram": True}}, "fits.ram: True is a boolean, not a size; " + ACCEPTED),
    ({"fits": {}}, "fits: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"),
    ({"fits": {"dsik": "20G"}}, "fits: unknown key 'dsik' (did you mean disk?); fits takes disk and ram (a flavor's size), "
                                "or flavor and disk (a flavor, and the size of the volume the instance boots from)"),
    ({"fits": {"flavour": "m1.medium"}}, "fits: unknown key 'flavour' (did you mean flavor?); fits takes disk and ram (a "
                                         "flavor's size), or flavor and disk (a flavor, and the size of the volume the "
                                         "instance boots from)"),
    ({"fits": "20G"}, "fits: '20G' is not a dictionary; give disk, ram or both, e.g. {disk: 20G, ram: 4G}"),
    ({"sort_by": "size"}, "value of sort_by must be one of: name, version, min_disk, min_ram, got: size"),
    ({"order": "down"}, "value of order must be one of: asc, desc, got: down"),
    ({"limit": 0}, "limit: 0 must be a whole number of at least 1"),
]


def test_bad_input_fails_before_any_request_with_the_exact_message(selection_emulator, run_cases):
    selection_emulator.reset_requests()
    results = run_cases(MODULE, [pair[0] for pair in MODULE_BAD_INPUTS], ansible_environment(selection_emulator))[0]
    for (case, message), result in zip(MODULE_BAD_INPUTS, results):
        assert result.get("failed") is True, case
        assert result["msg"] == message, (case, result["msg"])
        assert "images" not in result
    assert selection_emulator.request_count() == 0


# --- the filter and the lookup in a play ----------------------------------------------------------------

PLAY = """
- name: Choose images with the filter and the lookup
  hosts: localhost
  gather_facts: false
  vars:
    flavor: {disk: 20G, ram: 4G}
  tasks:
    - name: Gather the images once
      waldur.cloud.openstack_image_info:
      register: gathered

    - name: Select with the filter in set_fact
      ansible.builtin.set_fact:
        by_filter: "{{ gathered.images | waldur.cloud.fitting_images(disk=flavor.disk, ram=flavor.ram) | map(attribute='uuid') }}"
        by_filter_sorted: "{{ gathered.images | waldur.cloud.fitting_images(disk='20480', ram=4096, sort_by='min_disk',
                              order='desc') | map(attribute='uuid') }}"
        by_filter_disk_only: "{{ gathered.images | waldur.cloud.fitting_images(disk='10 GiB') | map(attribute='uuid') }}"
        by_filter_empty: "{{ gathered.images | selectattr('name', 'in', ['edge-disk-one-over', 'edge-ram-one-over'])
                             | waldur.cloud.fitting_images(disk='20G', ram='4G') }}"

    - name: Ask for the image inline, as a provisioning task would
      ansible.builtin.set_fact:
        looked_up: "{{ lookup('waldur.cloud.openstack_image', fits={'disk': '20G', 'ram': '4G'}, name='vers-') }}"
        looked_up_largest: "{{ lookup('waldur.cloud.openstack_image', fits=flavor, name='edge-', sort_by='min_disk') }}"
        queried: "{{ query('waldur.cloud.openstack_image', fits={'ram': '4G'}, name_exact='edge-fits-exactly') }}"
        looked_up_default: "{{ lookup('waldur.cloud.openstack_image', name='edge-disk-one-over', fits={'disk': '20G'},
                                      default='nothing fits') }}"
        image_argument: "{{ lookup('waldur.cloud.openstack_image', fits={'disk': '20G', 'ram': '4G'}, name='vers-').uuid }}"

@FAILING_TASKS@
    - name: Write the results for the test to read
      ansible.builtin.copy:
        content: "{{ {'by_filter': by_filter, 'by_filter_sorted': by_filter_sorted, 'by_filter_disk_only': by_filter_disk_only,
                      'by_filter_empty': by_filter_empty, 'looked_up': looked_up, 'looked_up_largest': looked_up_largest,
                      'queried': queried, 'looked_up_default': looked_up_default, 'image_argument': image_argument,
                      'lookup_outcomes': [@LOOKUP_OUTCOMES@], 'filter_outcomes': [@FILTER_OUTCOMES@]} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
"""

# One task per case (a loop would not do: ansible-core 2.16 fails a whole loop on a templating error).
FAILING_LOOKUP = """
    - name: Lookup %(index)d must fail
      ansible.builtin.set_fact:
        failed: "{{ lookup('waldur.cloud.openstack_image', **lookup_failures[%(index)d]) }}"
      register: lookup_outcome_%(index)d
      ignore_errors: true
"""
FAILING_FILTER = """
    - name: Filter call %(index)d must fail
      ansible.builtin.set_fact:
        failed: "{{ filter_failures[%(index)d].images | default(gathered.images)
                      | waldur.cloud.fitting_images(**filter_failures[%(index)d].arguments) }}"
      register: filter_outcome_%(index)d
      ignore_errors: true
"""


def selection_play(lookups, filters):
    tasks = "".join(FAILING_LOOKUP % {"index": index} for index in range(lookups))
    tasks += "".join(FAILING_FILTER % {"index": index} for index in range(filters))
    return (PLAY.replace("@FAILING_TASKS@", tasks)
            .replace("@LOOKUP_OUTCOMES@", ", ".join("lookup_outcome_%d" % index for index in range(lookups)))
            .replace("@FILTER_OUTCOMES@", ", ".join("filter_outcome_%d" % index for index in range(filters))))


LOOKUP_FAILURES = [
    # A message in parts (a tuple) holds each of them in that order: the uuids between them are the emulator's.
    ({"name": "edge-disk-one-over", "fits": {"disk": "20G", "ram": "4G"}},
     ("waldur.cloud.openstack_image lookup: the 1 image that matches name='edge-disk-one-over' does not fit a flavor with "
      "disk 20480 MiB (20 GiB) and ram 4096 MiB (4 GiB). Why: edge-disk-one-over (uuid ",
      "): min_disk 20481 MiB is above fits.disk, 20480 MiB (20 GiB). Use a larger flavor or other filters, or give "
      "default= to get a value instead of this error")),
    # Every image breaks both limits; the three that miss by the fewest MiB are named, each with its own figures.
    ({"name": "vers-", "fits": {"disk": "1G", "ram": "256M"}},
     ("waldur.cloud.openstack_image lookup: none of the 4 images that match name='vers-' fits a flavor with disk 1024 MiB "
      "(1 GiB) and ram 256 MiB. Why, for the closest 3: vers-debian-9 (uuid ",
      "): min_disk 2048 MiB (2 GiB) is above fits.disk, 1024 MiB (1 GiB) and min_ram 512 MiB is above fits.ram, 256 MiB; "
      "vers-debian-10 (uuid ",
      "): min_disk 4096 MiB (4 GiB) is above fits.disk, 1024 MiB (1 GiB) and min_ram 1024 MiB (1 GiB) is above fits.ram, "
      "256 MiB; Vers-Debian-11 (uuid ",
      "): min_disk 8192 MiB (8 GiB) is above fits.disk, 1024 MiB (1 GiB) and min_ram 2048 MiB (2 GiB) is above fits.ram, "
      "256 MiB. Use a larger flavor or other filters, or give default= to get a value instead of this error")),
    ({"name": "no image has this name", "fits": {"disk": "20G"}},
     "waldur.cloud.openstack_image lookup: no image matches name='no image has this name'"),
    ({"fits": {"disk": "20GB"}}, "waldur.cloud.openstack_image lookup: fits.disk: '20GB' is ambiguous: GB may mean powers "
                                 "of 1000 or of 1024; write 20G or 20GiB for binary units (as Waldur and OpenStack count), "
                                 "or " + ACCEPTED),
    ({"fits": {"disk": "0"}}, "waldur.cloud.openstack_image lookup: fits.disk: '0' is zero; a flavor with a disk of 0 boots "
                              "from a volume and nova does not check min_disk for it: leave fits.disk out to keep images of "
                              "any min_disk. G" + ACCEPTED[1:]),
    ({"fits": {"ram": "-4G"}}, "waldur.cloud.openstack_image lookup: fits.ram: '-4G' is negative; " + ACCEPTED),
    ({"fits": {"ram": "four"}}, "waldur.cloud.openstack_image lookup: fits.ram: 'four' is not a size; " + ACCEPTED),
    ({"fits": {"ram": "1.5.2G"}}, "waldur.cloud.openstack_image lookup: fits.ram: '1.5.2G' is not a size; " + ACCEPTED),
    ({"fits": {"disk": "20 GiBs"}}, "waldur.cloud.openstack_image lookup: fits.disk: '20 GiBs' has an unknown unit 'GiBs'; "
                                    + ACCEPTED),
    ({"fits": {"size": "4G"}}, "waldur.cloud.openstack_image lookup: fits: unknown key 'size'; fits takes disk and ram (a "
                               "flavor's size), or flavor and disk (a flavor, and the size of the volume the instance "
                               "boots from)"),
    ({"fits": {"flavour": "m1.medium"}}, "waldur.cloud.openstack_image lookup: fits: unknown key 'flavour' (did you mean "
                                         "flavor?); fits takes disk and ram (a flavor's size), or flavor and disk"),
    ({"fit": {"disk": "4G"}}, "waldur.cloud.openstack_image lookup: unknown option fit (did you mean fits?); the options are "
                              "described by: ansible-doc -t lookup waldur.cloud.openstack_image"),
]

FILTER_FAILURES = [
    ({"arguments": {"disk": "20GB"}}, "fitting_images: disk: '20GB' is ambiguous: GB may mean powers of 1000 or of 1024; "
                                      "write 20G or 20GiB for binary units (as Waldur and OpenStack count), or " + ACCEPTED),
    ({"arguments": {"ram": "-1"}}, "fitting_images: ram: '-1' is negative; " + ACCEPTED),
    ({"arguments": {"disk": "0G"}}, "fitting_images: disk: '0G' is zero; a flavor with a disk of 0 boots from a volume"),
    ({"arguments": {"ram": "1,5G"}}, "fitting_images: ram: '1,5G' is not a size; " + ACCEPTED),
    ({"arguments": {"disk": "5 PiB"}}, "fitting_images: disk: '5 PiB' has an unknown unit 'PiB'; " + ACCEPTED),
    ({"arguments": {"ram": "0.3G"}}, "fitting_images: ram: '0.3G' is not a whole number of MiB (307.2 MiB); " + ACCEPTED),
    ({"arguments": {"disk": "20G", "sort_by": "age"}},
     "fitting_images: sort_by: 'age' is not one of name, version, min_disk, min_ram"),
    ({"arguments": {"disk": "20G", "dsik": "20G"}}, "fitting_images: unknown argument 'dsik' (did you mean disk?); the "
                                                    "filter takes disk and ram (a flavor's size), or flavor and disk (a "
                                                    "flavor, and the size of the volume the instance boots from), and "
                                                    "sort_by and order; see ansible-doc -t filter waldur.cloud.fitting_images"),
    ({"arguments": {}}, "fitting_images: arguments: neither disk nor ram is given; give one or both, e.g. disk 20G and ram 4G"),
    ({"arguments": {"disk": "20G", "ram": "4G"}, "images": [{"name": "hand-made", "min_disk": 0}]},
     "fitting_images: images[0]: the image 'hand-made' has no min_ram; give image dicts with min_disk and min_ram in MiB, "
     "as waldur.cloud.openstack_image_info returns them"),
    ({"arguments": {"disk": "20G"}, "images": [{"name": "a", "min_disk": 0}, {"name": "b"}]},
     "fitting_images: images[1]: the image 'b' has no min_disk; give image dicts with min_disk and min_ram in MiB, as "
     "waldur.cloud.openstack_image_info returns them"),
    ({"arguments": {"disk": "20G"}, "images": {"images": [], "changed": False}},
     "fitting_images: images: is a dict, not a list of image dicts; pass its images list, e.g. result.images"),
]


def test_the_filter_and_the_lookup_choose_what_the_truth_says(selection_emulator, selection_truth, run_playbook, tmp_path):
    results_file = tmp_path / "results.json"
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({
        "results_file": str(results_file),
        "lookup_failures": [pair[0] for pair in LOOKUP_FAILURES],
        "filter_failures": [pair[0] for pair in FILTER_FAILURES],
    }))
    run_playbook(selection_play(len(LOOKUP_FAILURES), len(FILTER_FAILURES)), ansible_environment(selection_emulator, "user"),
                 extra_args=["-e", "@%s" % variables])
    results = json.loads(results_file.read_text())
    truth = selection_truth
    default = truth.default_list("user")
    expected_fit = fitting(truth, default, DISK, RAM)

    assert results["by_filter"] == expected_fit
    assert results["by_filter_sorted"] == ordered(truth, expected_fit, "min_disk", "desc")
    assert results["by_filter_disk_only"] == fitting(truth, default, disk=10240)
    assert results["by_filter_empty"] == []

    assert results["looked_up"]["name"] == "Vers-Debian-11"
    assert set(results["looked_up"]) >= {"uuid", "name", "url", "min_disk", "min_ram", "settings"}
    assert results["image_argument"] == results["looked_up"]["uuid"]
    # The largest disk requirement among the edge images that fit is the flavor's own size; the tie goes by name.
    assert results["looked_up_largest"]["name"] == "edge-fits-exactly"
    assert [image["name"] for image in results["queried"]] == ["edge-fits-exactly"]
    assert results["looked_up_default"] == "nothing fits"

    for (case, message), outcome in zip(LOOKUP_FAILURES, results["lookup_outcomes"]):
        assert outcome.get("failed") is True, case
        assert re.search(".*".join(map(re.escape, message if isinstance(message, tuple) else (message,))),
                         outcome["msg"]), (case, outcome["msg"])
    for (case, message), outcome in zip(FILTER_FAILURES, results["filter_outcomes"]):
        assert outcome.get("failed") is True, case
        assert message in outcome["msg"], (case, outcome["msg"])


# --- the provisioning example -------------------------------------------------------------------------------

ROLE = """
- name: Record what the provisioning role was given
  ansible.builtin.copy:
    content: "{{ {'uuid': boot_image_uuid, 'name': boot_image_name} | to_json }}"
    dest: "{{ role_output }}"
    mode: "0600"
"""


def test_the_choose_image_playbook_picks_an_image_and_passes_it_on(selection_emulator, selection_truth, run_playbook, tmp_path):
    role = tmp_path / "roles" / "record_image" / "tasks"
    role.mkdir(parents=True)
    (role / "main.yml").write_text(ROLE)
    env_file, role_output = tmp_path / "image.env", tmp_path / "role.json"
    environment = ansible_environment(selection_emulator, "user", ANSIBLE_ROLES_PATH=str(tmp_path / "roles"),
                                      ANSIBLE_SHOW_CUSTOM_STATS="1")
    extra = {"flavor_disk": "20G", "flavor_ram": 4096, "image_name": "vers-", "chosen_image_env_file": str(env_file),
             "provisioning_role": "record_image", "role_output": str(role_output)}
    completed = run_playbook(open(PLAYBOOK, encoding="utf-8").read(), environment, extra_args=["-e", json.dumps(extra)])

    chosen = next(u for u in selection_truth.default_list("user") if selection_truth.images[u]["name"] == "Vers-Debian-11")
    url = "%s/api/openstack-images/%s/" % (selection_emulator.url, chosen)
    assert env_file.read_text() == "WALDUR_IMAGE_UUID=%s\nWALDUR_IMAGE_URL=%s\n" % (chosen, url)
    assert json.loads(role_output.read_text()) == {"uuid": chosen, "name": "Vers-Debian-11"}
    stats = re.search(r"RUN: (\{.*\})", completed.stdout)
    assert stats, completed.stdout
    assert json.loads(stats.group(1)) == {"waldur_image_uuid": chosen, "waldur_image_name": "Vers-Debian-11",
                                          "waldur_image_url": url}


def test_the_choose_image_playbook_fails_clearly_when_no_image_fits(selection_emulator, run_playbook, tmp_path):
    env_file = tmp_path / "image.env"
    extra = {"flavor_disk": 0, "flavor_ram": "1G", "image_name": "edge-ram-one-over", "chosen_image_env_file": str(env_file)}
    completed = run_playbook(open(PLAYBOOK, encoding="utf-8").read(), ansible_environment(selection_emulator),
                             extra_args=["-e", json.dumps(extra)], expect_success=False)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert ("No image with 'edge-ram-one-over' in its name fits a flavor with disk (not checked) and RAM 1G. Choose a "
            "larger flavor or another image name.") in completed.stdout
    assert not env_file.exists()


def version(name):
    """The documented version order: letter case ignored, runs of digits compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", name.casefold())]


def test_the_choose_image_playbook_defaults_to_the_newest_ubuntu_that_fits(selection_emulator, selection_truth, run_playbook):
    truth = selection_truth
    completed = run_playbook(open(PLAYBOOK, encoding="utf-8").read(), ansible_environment(selection_emulator))
    candidates = fitting(truth, [u for u in truth.default_list("staff") if "ubuntu" in truth.images[u]["name"].lower()],
                         DISK, RAM)
    assert len(candidates) > 1, "the data set should have several Ubuntu images that fit 20 GiB / 4 GiB"
    newest = max(version(truth.images[u]["name"]) for u in candidates)
    chosen = re.search(r"Chose .* \(([0-9a-f]{32})\): needs", completed.stdout).group(1)
    assert chosen in candidates and version(truth.images[chosen]["name"]) == newest

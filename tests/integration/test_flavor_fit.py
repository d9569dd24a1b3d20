"""fits.flavor and boots through ansible-playbook: the module, the lookup and the filter agree with Waldur's rule."""
from __future__ import annotations

import collections
import json

from tests.integration.harness import ansible_environment
from tests.integration.test_boot_rule import waldur_accepts

PLAYBOOK = """
- name: Choose an image and a flavor for an instance order in one tenant
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    fits: {flavor: "%(flavor)s", disk: %(disk)d}
  tasks:
    - name: Images for the flavor and a system volume, in the tenant
      waldur.cloud.openstack_image_info:
        tenant: "%(tenant)s"
        fits: "{{ fits }}"
      register: with_disk
    - name: Without a system volume, min_disk is not checked
      waldur.cloud.openstack_image_info:
        tenant: "%(tenant)s"
        fits: {flavor: "%(flavor)s"}
      register: without_disk
    - name: The tenant's flavors
      waldur.cloud.openstack_flavor_info:
        tenant: "%(tenant)s"
        name_exact: "%(flavor)s"
      register: flavors
    - name: The smallest flavors that boot the first image
      waldur.cloud.openstack_flavor_info:
        boots:
          image: "{{ with_disk.images[0].uuid }}"
          tenant: "%(tenant)s"
          disk: %(disk)d
      register: boots
    - name: Write what the lookup and the filter choose, and the results
      ansible.builtin.copy:
        dest: "%(out)s"
        mode: "0600"
        content: "{{ {'module': with_disk, 'without_disk': without_disk, 'boots': boots.flavors,
                      'lookup': lookup('waldur.cloud.openstack_image', tenant='%(tenant)s', fits=fits, sort_by='name', order='asc'),
                      'filter': without_disk.images | waldur.cloud.fitting_images(flavor=flavors.flavors[0], disk=%(disk)d)
                     } | to_json }}"
"""


def choose(truth):
    """A tenant with a unique name, and a flavor name that only one flavor linked to it has."""
    tenants = collections.Counter(t["name"] for t in truth.dataset["tenants"])
    for tenant in truth.dataset["tenants"]:
        linked = [f for f in truth.dataset["flavors"] if tenant["uuid"] in f["tenant_uuids"]]
        names = collections.Counter(f["name"] for f in linked)
        usable = [f for f in linked if names[f["name"]] == 1 and f["name"].startswith("m1.")]
        if tenants[tenant["name"]] == 1 and usable:
            return tenant, usable[0]
    raise AssertionError("the data set has no tenant with a uniquely named flavor")


def test_module_lookup_filter_and_boots_follow_waldurs_rule(emulator, truth, run_playbook, tmp_path):
    tenant, flavor = choose(truth)
    disk = 20480
    out = tmp_path / "chosen.json"
    run_playbook(PLAYBOOK % {"tenant": tenant["name"], "flavor": flavor["name"], "disk": disk, "out": out},
                 ansible_environment(emulator))
    chosen = json.loads(out.read_text())
    listed = truth.default_list("staff")
    accepted = [u for u in listed if waldur_accepts(truth.images[u], flavor, tenant["uuid"], disk)]
    assert accepted
    assert [image["uuid"] for image in chosen["module"]["images"]] == accepted
    assert chosen["module"]["fit"]["flavor"]["uuid"] == flavor["uuid"]
    assert chosen["module"]["fit"]["not_checked"] == []
    without = [u for u in listed if waldur_accepts(truth.images[u], flavor, tenant["uuid"], None)]
    assert [image["uuid"] for image in chosen["without_disk"]["images"]] == without
    assert any("min_disk" in reason for reason in chosen["without_disk"]["fit"]["not_checked"])
    assert [image["uuid"] for image in chosen["filter"]] == accepted
    assert chosen["lookup"]["uuid"] == sorted(accepted, key=lambda u: (truth.images[u]["name"], u))[0]
    image = truth.images[accepted[0]]
    expected = [f for f in truth.dataset["flavors"] if waldur_accepts(image, f, tenant["uuid"], disk)]
    assert sorted(f["uuid"] for f in chosen["boots"]) == sorted(f["uuid"] for f in expected)
    assert [f["ram"] for f in chosen["boots"]] == sorted(f["ram"] for f in expected)


def test_a_flavor_of_another_tenant_is_refused_as_waldur_refuses_it(emulator, truth, run_cases):
    tenant, _flavor = choose(truth)
    foreign = next(f for f in truth.dataset["flavors"] if tenant["uuid"] not in f["tenant_uuids"])
    results, _output = run_cases("waldur.cloud.openstack_image_info",
                                 [{"tenant": tenant["name"], "fits": {"flavor": foreign["uuid"]}},
                                  {"fits": {"flavor": "m1.small"}},
                                  {"tenant": tenant["name"], "fits": {"flavor": "m1.small", "ram": "4G"}}],
                                 ansible_environment(emulator))
    assert results[0]["option"] == "fits.flavor" and "Flavor is not visible in tenant" in results[0]["msg"]
    assert results[1]["option"] == "fits.flavor" and "ambiguous" in results[1]["msg"]
    assert results[2]["option"] == "fits.ram" and "cannot be combined with fits.flavor" in results[2]["msg"]
    assert not any("images" in result for result in results)


def test_the_lookup_names_the_flavor_and_the_system_volume_when_nothing_fits(emulator, truth, run_playbook):
    tenant, flavor = choose(truth)
    big = next(image for image in truth.dataset["images"]
               if tenant["uuid"] in image["tenant_uuids"] and image["min_disk"] > 1024
               and image["uuid"] in truth.default_list("staff") and image["name"].isascii() and "{" not in image["name"])
    completed = run_playbook("""
- name: Nothing fits a 1 GiB system volume
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The lookup fails with the reason
      ansible.builtin.debug:
        msg: "{{ lookup('waldur.cloud.openstack_image', name_exact='%s', tenant='%s', fits={'flavor': '%s', 'disk': '1G'}) }}"
""" % (big["name"], tenant["name"], flavor["name"]), ansible_environment(emulator), expect_success=False)
    assert completed.returncode != 0
    output = " ".join((completed.stdout + completed.stderr).split())
    assert "fits flavor '%s'" % flavor["name"] in output or "does not fit flavor '%s'" % flavor["name"] in output, output
    assert "min_disk <= 1024 MiB (1 GiB), the system volume" in output, output

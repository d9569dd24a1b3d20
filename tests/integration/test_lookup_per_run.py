"""A lookup over many hosts lists once per run: Ansible evaluates it for each host, in several forks."""
from __future__ import annotations

import json

from tests.integration.harness import ansible_environment

PLAYBOOK = """
- name: Choose an image for every host
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: The lookup, evaluated for each host and loop item
      ansible.builtin.set_fact:
        chosen: "{{{{ chosen | default([]) + [lookup('waldur.cloud.openstack_image', name='ubuntu',
                    fits={{'disk': '20G', 'ram': '4G'}}, sort_by=item, cache_lifetime={lifetime}).uuid] }}}}"
      loop: [version, min_disk]

- name: Collect the choices
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Write every host's choices for the test
      ansible.builtin.copy:
        content: "{{{{ groups['all'] | map('extract', hostvars, 'chosen') | list | to_json }}}}"
        dest: "{{{{ results_file }}}}"
        mode: "0600"
"""


def run_play(tmp_path, run_playbook, emulator, hosts, lifetime=60):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[all]\n" + "".join("host%02d\n" % number for number in range(1, hosts + 1)))
    results = tmp_path / "chosen.json"
    emulator.reset_requests()
    run_playbook(PLAYBOOK.format(lifetime=lifetime), ansible_environment(emulator),
                 extra_args=["-i", str(inventory), "--forks", "5", "-e", "results_file=%s" % results])
    return json.loads(results.read_text()), emulator.request_count()


def test_50_hosts_make_the_requests_of_one_listing(tmp_path, run_playbook, emulator):
    one_host, one_listing = run_play(tmp_path, run_playbook, emulator, hosts=1, lifetime=0)
    assert one_listing > 0 and len(one_host[0]) == 2
    chosen, requests = run_play(tmp_path, run_playbook, emulator, hosts=50)
    assert one_listing % 2 == 0
    assert requests == one_listing // 2  # one listing: one host with the cache off listed twice (two loop items)
    assert chosen == one_host * 50


def test_without_the_cache_each_evaluation_lists(tmp_path, run_playbook, emulator):
    _chosen, one_listing = run_play(tmp_path, run_playbook, emulator, hosts=1)
    _chosen, requests = run_play(tmp_path, run_playbook, emulator, hosts=10, lifetime=0)
    assert requests == 10 * 2 * one_listing

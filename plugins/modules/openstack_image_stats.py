#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: openstack_image_stats
short_description: Running and created instance counts per OpenStack image in Waldur
version_added: 0.1.0
description:
  - Reports, for every image name, how many instances run from it and how many were created from it, over the
    OpenStack service settings asked for (all visible ones by default). Every row is returned, never only a first page.
  - Answers questions such as which images nobody runs and can be retired, or which are used most.
  - "The module hides the quirks of the server's C(usage_stats) endpoint: it returns 10 rows per page in no order,
    needs C(service_provider) as soon as any parameter (even the page number) is given, and silently answers zeros for a
    service provider that does not exist. The module therefore always names real OpenStack service settings, checks
    every O(service_provider) against those visible to the user first, and sorts the rows."
  - Service settings are found through C(/api/service-settings/?type=OpenStack) and, because non-staff users usually
    see no service settings there, through the service settings named by their tenants.
  - Counts are per image name over all images of that name in the settings, as Waldur counts them (from bootable
    volumes; running means the instance is ACTIVE); they are not limited to the images the user can see.
author:
  - waldur.cloud maintainers (@waldur)
extends_documentation_fragment:
  - waldur.cloud.connection
  - waldur.cloud.connection.retries
  - waldur.cloud.connection.paging
  - waldur.cloud.attributes
  - waldur.cloud.attributes.info_module
  - waldur.cloud.ordering
options:
  service_provider:
    description:
      - The OpenStack service settings to count instances in, each given by name, uuid or URL.
      - Default is every OpenStack service settings visible to the user.
      - A value that matches no OpenStack service settings visible to the user is an error listing the valid ones. When
        the user can see none at all, uuids are passed on unchecked with a warning.
    type: list
    elements: str
  shared:
    description:
      - Count only shared service settings (V(true)) or only private ones (V(false)); default both.
      - Applied by the module to the service settings it names to the server, since the server's own C(shared)
        parameter cannot select private settings.
    type: bool
  name:
    description:
      - Only rows whose image name contains this text, ignoring case. Applied by the module, as the server ignores it.
    type: str
  name_exact:
    description:
      - Only the row of exactly this image name. Applied by the module, as the server ignores it.
    type: str
  include_images:
    description:
      - Add to each row the images of that name in the chosen service settings that the user can see, with their
        uuid, settings and O(ignore:min_disk) and O(ignore:min_ram) (MiB). Costs one more listing of the images.
    type: bool
    default: false
  sort_by:
    description:
      - Order the rows by image name, running instance count or created instance count. Ties are ordered by name.
    type: str
    choices: [name, running, created]
    default: name
"""

EXAMPLES = r"""
- name: Images nobody runs (candidates for retirement)
  waldur.cloud.openstack_image_stats:
    include_images: true
  register: usage

- name: Show them
  ansible.builtin.debug:
    msg: "{{ usage.stats | selectattr('running_instances_count', 'equalto', 0) | map(attribute='name') | list }}"

- name: Top 5 images by running instances
  waldur.cloud.openstack_image_stats:
    sort_by: running
    order: desc
  register: top

- name: Show the top 5
  ansible.builtin.debug:
    msg: "{{ top.stats[:5] | map(attribute='name') | zip(top.stats[:5] | map(attribute='running_instances_count')) | list }}"

- name: Usage of the images in one service settings
  waldur.cloud.openstack_image_stats:
    api_url: https://waldur.example.com/api/
    api_token: "{{ waldur_token }}"
    service_provider:
      - cloud-a
  register: cloud_a_usage

- name: Usage of the Ubuntu images across shared clouds
  waldur.cloud.openstack_image_stats:
    shared: true
    name: ubuntu
  register: ubuntu_usage
"""

RETURN = r"""
stats:
  description: One row per image name, every one of them, in the order asked for.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The image name.
      type: str
      sample: ubuntu-22.04
    running_instances_count:
      description: Instances from images of this name that are running (ACTIVE).
      type: int
      sample: 12
    created_instances_count:
      description: Instances created from images of this name.
      type: int
      sample: 40
    images:
      description: The images of this name in the chosen settings visible to the user.
      returned: when O(include_images=true)
      type: list
      elements: dict
      sample:
        - uuid: bd849b42f13f4d2bbd7cbfd4c305f3ea
          settings_uuid: e7a0a77afc5244e9a7aee7396d8584fe
          settings_name: cloud-a
          min_disk: 10240
          min_ram: 2048
totals:
  description: Sums over the returned rows.
  returned: success
  type: dict
  contains:
    images:
      description: The number of rows (distinct image names).
      type: int
    running_instances:
      description: The sum of RV(stats[].running_instances_count).
      type: int
    created_instances:
      description: The sum of RV(stats[].created_instances_count).
      type: int
service_providers:
  description: The OpenStack service settings the counts cover, with whether each is shared (V(null) when unknown).
  returned: success
  type: list
  elements: dict
  sample:
    - uuid: e7a0a77afc5244e9a7aee7396d8584fe
      name: cloud-a
      shared: false
api_retries:
  description: The retries made after 429, 5xx answers or connection failures.
  returned: when a request was retried
  type: list
  elements: str
# Failed tasks return them too. One line each: every module repeats them (ansible-core 2.16 has no RETURN fragments).
api_root: {description: "The API root used, from O(api_url) or E(WALDUR_API_URL).", returned: when api_url is valid, type: str,
           sample: "https://waldur.example.com/api/"}
api_requests: {description: "How many HTTP requests the task made, retries included.", returned: when api_url is valid, type: int, sample: 3}
"""

from ansible_collections.waldur.cloud.plugins.module_utils.module import WaldurModule
from ansible_collections.waldur.cloud.plugins.module_utils.selection import ORDERS
from ansible_collections.waldur.cloud.plugins.module_utils.usage import USAGE_SORT_KEYS, UsageReport


def main():
    module = WaldurModule(
        argument_spec=dict(
            service_provider=dict(type="list", elements="str"),
            shared=dict(type="bool"),
            name=dict(type="str"),
            name_exact=dict(type="str"),
            include_images=dict(type="bool", default=False),
            sort_by=dict(type="str", choices=list(USAGE_SORT_KEYS), default="name"),
            order=dict(type="str", choices=list(ORDERS), default="asc"),
        ),
    )

    def report_usage(client):
        report = UsageReport.from_options(module.params)
        result = report.run(client)
        for warning in report.warnings:
            module.warn(warning)
        return result

    module.run(report_usage)


if __name__ == "__main__":
    main()

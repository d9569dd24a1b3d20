#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: openstack_image_info
short_description: List or get the OpenStack images of a Waldur deployment
version_added: 0.1.0
description:
  - Lists the OpenStack images visible to the API token, with every filter the Waldur server offers, reading every page.
  - Or gets one image by O(uuid).
  - The server's quirks are hidden. A tenant URL is turned into its uuid (the server's own C(tenant) URL filter matches
    nothing), service settings and tenants may be given by name, O(name_exact) with surrounding white space still
    matches, and filters combined with O(show_duplicate_names) are applied even though the server drops them.
  - The list is checked against the total the server announces; a partial list is an error, never a result.
  - O(fits) keeps only the images an instance of a flavor can boot by Waldur's own rule (or a flavor of a disk and RAM
    size), and O(sort_by), O(order) and O(limit) order and
    cut the result, so that choosing an image for a flavor is one task. The same selection is offered in templates by the
    P(waldur.cloud.fitting_images#filter) filter and inline by the P(waldur.cloud.openstack_image#lookup) lookup.
author:
  - waldur.cloud maintainers (@waldur)
extends_documentation_fragment:
  - waldur.cloud.connection
  - waldur.cloud.connection.retries
  - waldur.cloud.connection.paging
  - waldur.cloud.attributes
  - waldur.cloud.attributes.info_module
  - waldur.cloud.image_filters
  - waldur.cloud.image_selection.flavor_fit
  - waldur.cloud.image_selection.sorting
  - waldur.cloud.ordering
  - waldur.cloud.sizes
options:
  uuid:
    description:
      - Get only the image with this uuid (32 hex digits, with or without dashes).
      - An image that does not exist or is not visible to the user gives RV(images=[]), not a failure.
      - Cannot be combined with the list filters.
    type: str
  show_duplicate_names:
    description:
      - By default the server lists only the newest image of each name in each service settings (Waldur 8.0 and newer).
        V(true) lists older images of the same name too.
      - The server ignores every other filter together with this one; O(name), O(name_exact), O(settings),
        O(settings_uuid) and O(is_rescue_image) are then applied by the module. O(tenant), O(tenant_uuid) and
        O(offering_uuid) cannot be combined with it.
    type: bool
    default: false
  limit:
    description:
      - Return at most this many images, the first ones after O(fits) and O(sort_by). V(1) gives the single image to use.
      - Every page is still read; the server cannot sort by size, so the limit is applied by the module.
    type: int
notes:
  - When no image fits, RV(images) is V([]) and the task succeeds; check it (see the examples) before using
    C(images[0]), or use the P(waldur.cloud.openstack_image#lookup) lookup, which fails with a clear message.
  - O(fits), O(sort_by), O(order) and O(limit) are applied by the module after the server has answered (the server cannot
    filter or sort by size); they are checked before any request is made.
seealso:
  - plugin: waldur.cloud.fitting_images
    plugin_type: filter
  - plugin: waldur.cloud.openstack_image
    plugin_type: lookup
  - name: Choosing images for a flavor
    description: The guide to O(fits), units, ordering, the filter and the lookup, with a provisioning example.
    link: https://github.com/waldur/ansible-waldur-cloud/blob/main/docs/guides/choosing-images.md
  - name: Waldur API
    description: The OpenStack images API of Waldur.
    link: https://docs.waldur.com/latest/API/
"""

EXAMPLES = r"""
- name: List every image visible to the token (URL and token from WALDUR_API_URL / WALDUR_API_TOKEN)
  waldur.cloud.openstack_image_info:
  register: all_images

- name: Ubuntu images of one cloud, by the service settings' name
  waldur.cloud.openstack_image_info:
    api_url: https://waldur.example.com/api/
    api_token: "{{ waldur_token }}"
    name: ubuntu
    settings: cloud-a
  register: ubuntu

- name: Images of a tenant given by URL (turned into its uuid)
  waldur.cloud.openstack_image_info:
    tenant: https://waldur.example.com/api/openstack-tenants/698b368adf624509ba3268e389742938/
  register: tenant_images

- name: One image by uuid
  waldur.cloud.openstack_image_info:
    uuid: bd849b42-f13f-4d2b-bd7c-bfd4c305f3ea
  register: one

- name: Ubuntu images that a flavor with a 20 GiB disk and 4 GiB RAM can boot
  waldur.cloud.openstack_image_info:
    name: ubuntu
    fits:
      disk: 20G
      ram: 4096          # a bare number is MiB
  register: bootable

- name: The image with the largest disk requirement that still fits the flavor
  waldur.cloud.openstack_image_info:
    settings: cloud-a
    fits:
      disk: "{{ flavor_disk_mib }}"
      ram: "{{ flavor_ram_mib }}"
    sort_by: min_disk
    order: desc
    limit: 1
  register: largest

- name: The newest Ubuntu by name (ubuntu-24.04 before ubuntu-22.04) that fits a 4 GiB flavor
  waldur.cloud.openstack_image_info:
    name: ubuntu
    fits:
      ram: 4 GiB
    sort_by: version
    order: desc
    limit: 1
  register: newest

- name: Fail clearly when no image fits, instead of on images[0] later
  ansible.builtin.assert:
    that: newest.images | length > 0
    fail_msg: No Ubuntu image fits a flavor with 4 GiB RAM.

- name: The newest Ubuntu Waldur accepts with flavor m1.small and a 20 GiB system volume in a tenant
  waldur.cloud.openstack_image_info:
    name: ubuntu
    tenant: tenant-c1
    fits:
      flavor: m1.small   # resolved among the tenant's flavors; its RAM is the RAM
      disk: 20G          # the system volume the instance boots from
    sort_by: version
    order: desc
    limit: 1
  register: for_order

- name: Use the chosen image
  ansible.builtin.debug:
    msg: "Booting {{ newest.images[0].name }} ({{ newest.images[0].uuid }})"

- name: Set the connection once for every waldur.cloud module
  module_defaults:
    group/waldur.cloud.waldur:
      api_url: https://waldur.example.com/api/
      api_token: "{{ waldur_token }}"
  block:
    - name: Every image, older duplicates included
      waldur.cloud.openstack_image_info:
        show_duplicate_names: true
      register: with_duplicates
"""

RETURN = r"""
images:
  description:
    - The images, as the server sends them, in the server's order (by name), or in the order of O(sort_by).
    - With O(fits), only the images that fit; V([]) when none does. At most O(limit) images.
    - Fields a newer server adds are passed through; fields an older server lacks are absent.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The API URL of the image.
      type: str
      sample: https://waldur.example.com/api/openstack-images/bd849b42f13f4d2bbd7cbfd4c305f3ea/
    uuid:
      description: The uuid of the image (32 hex digits).
      type: str
      sample: bd849b42f13f4d2bbd7cbfd4c305f3ea
    name:
      description: The name of the image; not unique.
      type: str
      sample: ubuntu-22.04
    min_disk:
      description: The smallest disk the image boots from, in MiB.
      type: int
      sample: 10240
    min_ram:
      description: The least RAM the image boots with, in MiB.
      type: int
      sample: 2048
    settings:
      description: The API URL of the OpenStack service settings the image belongs to.
      type: str
      sample: https://waldur.example.com/api/service-settings/e7a0a77afc5244e9a7aee7396d8584fe/
    backend_id:
      description: The id of the image in OpenStack (Waldur 7.9 and newer).
      type: str
      returned: when the server sends it
    backend_created_at:
      description: When the image was created in OpenStack (Waldur 8.0 and newer).
      type: str
      returned: when the server sends it
    is_rescue_image:
      description: Whether the image is a rescue image (Waldur 8.0.8 and newer).
      type: bool
      returned: when the server sends it
    hw_rescue_device:
      description: The rescue device type (Waldur 8.0.8 and newer).
      type: str
      returned: when the server sends it
    hw_rescue_bus:
      description: The rescue bus (Waldur 8.0.8 and newer).
      type: str
      returned: when the server sends it
fit:
  description:
    - With O(fits.flavor), the rule applied; lists what was checked and what was not (C(min_disk) without O(fits.disk)).
  returned: when O(fits.flavor) is given
  type: dict
  contains:
    flavor:
      description: The flavor, as the server sends it.
      type: dict
    disk:
      description: The system volume size in MiB, or V(null).
      type: int
    tenant_uuid:
      description: The tenant both the images and the flavor are linked to, or V(null).
      type: str
    checked:
      description: The conditions checked.
      type: list
      elements: str
    not_checked:
      description: The conditions of Waldur's rule that were not checked, and why.
      type: list
      elements: str
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

from ansible_collections.waldur.cloud.plugins.module_utils.fit import Fit, choose_images
from ansible_collections.waldur.cloud.plugins.module_utils.fit_queries import TaskContext, images_for_fit
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.module import NAME_AND_SCOPE_ARGUMENT_SPEC, WaldurModule
from ansible_collections.waldur.cloud.plugins.module_utils.selection import IMAGE_SORT_KEYS, ORDERS, check_selection


def main():
    module = WaldurModule(
        argument_spec=dict(
            NAME_AND_SCOPE_ARGUMENT_SPEC,
            uuid=dict(type="str"),
            offering_uuid=dict(type="str"),
            show_duplicate_names=dict(type="bool", default=False),
            is_rescue_image=dict(type="bool"),
            # raw, so that a value that is not a dictionary fails in Fit.parse with a message naming fits.
            fits=dict(type="raw"),
            sort_by=dict(type="str", choices=list(IMAGE_SORT_KEYS)),
            order=dict(type="str", choices=list(ORDERS), default="asc"),
            limit=dict(type="int"),
        ),
    )

    def list_images(client):
        params = module.params
        query = ImageQuery.from_options(params)
        fit = Fit.parse(params["fits"])
        check_selection(params["sort_by"], params["order"], params["limit"])
        for warning in query.warnings:
            module.warn(warning)
        listing = images_for_fit(TaskContext.of_query(client, query), query, fit)
        chosen = choose_images(listing, fit, params["sort_by"], params["order"], params["limit"])
        result = {"images": chosen.images}
        report = chosen.rule.describe()
        if report is not None:
            result["fit"] = report._asdict()
        return result

    module.run(list_images)


if __name__ == "__main__":
    main()

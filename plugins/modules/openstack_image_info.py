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
author:
  - waldur.cloud maintainers (@waldur)
extends_documentation_fragment:
  - waldur.cloud.connection
  - waldur.cloud.connection.paging
  - waldur.cloud.attributes
  - waldur.cloud.attributes.info_module
options:
  uuid:
    description:
      - Get only the image with this uuid (32 hex digits, with or without dashes).
      - An image that does not exist or is not visible to the user gives RV(images=[]), not a failure.
      - Cannot be combined with the list filters.
    type: str
  name:
    description:
      - Images whose name contains this text, ignoring case.
    type: str
  name_exact:
    description:
      - Images with exactly this name (case-sensitive).
    type: str
  settings:
    description:
      - Images of these OpenStack service settings, given by name, uuid or URL.
      - A name must match exactly one service settings visible to the user (listed by the server, or named by the
        user's tenants); otherwise the error lists the candidates.
    type: str
  settings_uuid:
    description:
      - Images of the service settings with this uuid.
    type: str
  tenant:
    description:
      - Images linked to this OpenStack tenant, given by name, uuid or URL.
    type: str
  tenant_uuid:
    description:
      - Images linked to the tenant with this uuid.
    type: str
  offering_uuid:
    description:
      - Images of the tenant or service settings of this marketplace offering (Waldur 7.9 and newer).
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
  is_rescue_image:
    description:
      - Only rescue images (V(true)) or only other images (V(false)) (Waldur 8.0.8 and newer).
    type: bool
notes:
  - Waldur reports O(ignore:min_disk) and O(ignore:min_ram) in MiB.
seealso:
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
    - The images, as the server sends them, in the server's order (by name).
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
api_retries:
  description: The retries made after 429, 5xx answers or connection failures, shown at verbosity 3 (C(-vvv)) and up.
  returned: when a request was retried and verbosity is 3 or more
  type: list
  elements: str
"""

from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.module import WaldurModule


def main():
    module = WaldurModule(
        argument_spec=dict(
            uuid=dict(type="str"),
            name=dict(type="str"),
            name_exact=dict(type="str"),
            settings=dict(type="str"),
            settings_uuid=dict(type="str"),
            tenant=dict(type="str"),
            tenant_uuid=dict(type="str"),
            offering_uuid=dict(type="str"),
            show_duplicate_names=dict(type="bool", default=False),
            is_rescue_image=dict(type="bool"),
        ),
    )

    def list_images(client):
        query = ImageQuery.from_options(module.params)
        for warning in query.warnings:
            module.warn(warning)
        return {"images": query.run(client)}

    module.run(list_images)


if __name__ == "__main__":
    main()

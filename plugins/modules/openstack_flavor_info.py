#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: openstack_flavor_info
short_description: List or get the OpenStack flavors of a Waldur deployment
version_added: 0.1.0
description:
  - Lists the OpenStack flavors visible to the API token, with every filter the Waldur server offers, reading every page.
  - Or gets one flavor by O(uuid).
  - The server's quirks are hidden. Service settings and tenants may be given by name, uuid or URL (a tenant is always
    sent as its uuid, since the server's own C(tenant) URL filter matches nothing), O(name_exact) with surrounding white space
    still matches, O(name_iregex) is checked before it is sent (the server fails with an HTML page on an invalid one),
    and sizes are whole MiB, so the server never truncates a fraction.
  - The list is checked against the total the server announces; a partial list is an error, never a result.
  - A user who is not staff sees only the flavors linked to their tenants; a flavor linked to no tenant is visible to
    staff only.
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
  uuid:
    description:
      - Get only the flavor with this uuid (32 hex digits, with or without dashes).
      - A flavor that does not exist or is not visible to the user gives RV(flavors=[]), not a failure.
      - Cannot be combined with the list filters.
    type: str
  name:
    description:
      - Flavors whose name contains this text, ignoring case.
    type: str
  name_exact:
    description:
      - Flavors with exactly this name (case-sensitive).
      - The server strips surrounding white space before matching; such a name is matched exactly here instead, with
        a warning, so it is still found.
    type: str
  name_iregex:
    description:
      - Flavors whose name matches this regular expression, ignoring case (the server uses PostgreSQL's C(~*)).
      - Checked before it is sent; an invalid expression (an unclosed group or bracket, or an unclosed bound such as
        C(a{2)) is an error naming this option.
    type: str
  settings:
    description:
      - Flavors of these OpenStack service settings, given by name, uuid or URL.
      - A name must match exactly one service settings visible to the user; otherwise the error lists the candidates.
    type: str
  settings_uuid:
    description:
      - Flavors of the service settings with this uuid.
    type: str
  tenant:
    description:
      - Flavors linked to this OpenStack tenant, given by name, uuid or URL. These are the flavors Waldur accepts in
        an instance order for that tenant.
    type: str
  tenant_uuid:
    description:
      - Flavors linked to the tenant with this uuid.
    type: str
  cores:
    description:
      - Flavors with exactly this many CPU cores.
    type: int
  cores_min:
    description:
      - Flavors with at least this many CPU cores.
    type: int
  cores_max:
    description:
      - Flavors with at most this many CPU cores.
    type: int
  ram:
    description:
      - Flavors with exactly this much RAM.
      - "Sizes are as in O(waldur.cloud.openstack_image_info#module:fits): whole MiB (V(4096)) or a number with a binary
        unit (V(4G), V(4 GiB), V(512M)); V(KB), V(MB), V(GB) and V(TB) are refused as ambiguous."
    type: raw
  ram_min:
    description:
      - Flavors with at least this much RAM (a size, see O(ram)).
    type: raw
  ram_max:
    description:
      - Flavors with at most this much RAM (a size, see O(ram)).
    type: raw
  disk:
    description:
      - Flavors with exactly this root disk (a size, see O(ram)). V(0) selects the boot-from-volume flavors.
    type: raw
  disk_min:
    description:
      - Flavors with at least this root disk (a size, see O(ram)).
    type: raw
  disk_max:
    description:
      - Flavors with at most this root disk (a size, see O(ram)). Boot-from-volume flavors have a disk of V(0).
    type: raw
  boots:
    description:
      - "The inverse of C(fits.flavor) of M(waldur.cloud.openstack_image_info): the flavors Waldur accepts in an
        instance order for this image in this tenant, smallest RAM first. These are the flavors linked to the tenant
        whose RAM is at least the image's C(min_ram)."
      - The image must be linked to the tenant, as Waldur requires; otherwise the error says so.
      - With O(boots.disk), the system volume size, no flavor boots an image whose C(min_disk) is larger (RV(flavors)
        is V([])); without it, C(min_disk) is not checked. The flavors' own disk is never used, since Waldur boots
        instances from a volume.
      - Cannot be combined with the list filters or O(uuid).
    type: raw
    suboptions:
      image:
        description:
          - The image, by name, uuid or URL. A name is looked up among the images linked to the tenant. Required.
        type: str
      tenant:
        description:
          - The tenant of the instance, by name, uuid or URL. Required.
        type: str
      disk:
        description:
          - The system volume size, in MiB or with a unit (V(20480), V(20G)); at least V(1024) MiB.
        type: raw
  sort_by:
    description:
      - Order the result by this field. Without it, the server's order is kept (by service settings name, then cores,
        RAM and disk).
      - Flavors equal in this field are ordered by RAM, cores, disk, name, service settings and uuid, ascending,
        whatever O(order), so the result is the same however the server orders them.
    type: str
    choices: [name, cores, ram, disk]
  limit:
    description:
      - Return at most this many flavors, the first ones after O(sort_by).
    type: int
notes:
  - Waldur reports C(ram) and C(disk) in MiB (its C(display_name) says MB and means MiB).
  - O(sort_by), O(order) and O(limit) are applied by the module; the server's own ordering leaves ties undefined.
seealso:
  - module: waldur.cloud.openstack_image_info
  - name: Waldur API
    description: The OpenStack flavors API of Waldur.
    link: https://docs.waldur.com/latest/API/
"""

EXAMPLES = r"""
- name: Every flavor visible to the token (URL and token from WALDUR_API_URL / WALDUR_API_TOKEN)
  waldur.cloud.openstack_flavor_info:
  register: all_flavors

- name: The flavors an instance in one tenant may use, smallest RAM first
  waldur.cloud.openstack_flavor_info:
    tenant: tenant-c1
    sort_by: ram
  register: tenant_flavors

- name: Flavors with 2 to 4 cores and at least 4 GiB RAM on one cloud
  waldur.cloud.openstack_flavor_info:
    settings: cloud-a
    cores_min: 2
    cores_max: 4
    ram_min: 4G
  register: medium

- name: Boot-from-volume flavors (a root disk of 0)
  waldur.cloud.openstack_flavor_info:
    disk: 0
  register: volume_flavors

- name: The m1 and c1 families, by regular expression
  waldur.cloud.openstack_flavor_info:
    name_iregex: '^(m1|c1)\.'
  register: families

- name: The smallest flavor that boots an image in a tenant with a 20 GiB system volume
  waldur.cloud.openstack_flavor_info:
    boots:
      image: ubuntu-22.04
      tenant: tenant-c1
      disk: 20G
    limit: 1
  register: smallest

- name: One flavor by uuid
  waldur.cloud.openstack_flavor_info:
    uuid: 7f639b12-9bd2-4610-9967-705c385c61bf
  register: one
"""

RETURN = r"""
flavors:
  description:
    - The flavors, as the server sends them, in the server's order or in the order of O(sort_by). At most O(limit).
    - Fields a newer server adds are passed through.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The API URL of the flavor; what an instance order names as its flavor.
      type: str
      sample: https://waldur.example.com/api/openstack-flavors/7f639b129bd246109967705c385c61bf/
    uuid:
      description: The uuid of the flavor (32 hex digits).
      type: str
      sample: 7f639b129bd246109967705c385c61bf
    name:
      description: The name of the flavor; not unique (the same name exists on several clouds, with other sizes).
      type: str
      sample: m1.small
    settings:
      description: The API URL of the OpenStack service settings the flavor belongs to.
      type: str
      sample: https://waldur.example.com/api/service-settings/e7a0a77afc5244e9a7aee7396d8584fe/
    cores:
      description: The number of CPU cores.
      type: int
      sample: 4
    ram:
      description: The RAM in MiB.
      type: int
      sample: 8192
    disk:
      description: The root disk in MiB; V(0) for a boot-from-volume flavor.
      type: int
      sample: 0
    backend_id:
      description: The id of the flavor in OpenStack.
      type: str
    display_name:
      description: The server's label, C(<name> (<cores> CPU, <ram> MB RAM, <disk> MB HDD)); it embeds the raw name.
      type: str
      sample: v1.bfv.large (4 CPU, 8192 MB RAM, 0 MB HDD)
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

from ansible_collections.waldur.cloud.plugins.module_utils.fit_queries import flavors_for_boots
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery
from ansible_collections.waldur.cloud.plugins.module_utils.module import NAME_AND_SCOPE_ARGUMENT_SPEC, WaldurModule
from ansible_collections.waldur.cloud.plugins.module_utils.selection import FLAVOR_SORT_KEYS, ORDERS, check_selection, order_flavors


def main():
    module = WaldurModule(
        argument_spec=dict(
            NAME_AND_SCOPE_ARGUMENT_SPEC,
            uuid=dict(type="str"),
            name_iregex=dict(type="str"),
            cores=dict(type="int"),
            cores_min=dict(type="int"),
            cores_max=dict(type="int"),
            # raw: sizes take units, and a bad one fails in parse_size with a message naming the option.
            ram=dict(type="raw"),
            ram_min=dict(type="raw"),
            ram_max=dict(type="raw"),
            disk=dict(type="raw"),
            disk_min=dict(type="raw"),
            disk_max=dict(type="raw"),
            sort_by=dict(type="str", choices=list(FLAVOR_SORT_KEYS)),
            order=dict(type="str", choices=list(ORDERS), default="asc"),
            limit=dict(type="int"),
            # raw, so that flavors_for_boots names boots and its keys in every error.
            boots=dict(type="raw"),
        ),
        mutually_exclusive=[("boots", option) for option in ("uuid",) + FlavorQuery.LIST_FILTERS],
    )

    def list_flavors(client):
        params = module.params
        check_selection(params["sort_by"], params["order"], params["limit"], FLAVOR_SORT_KEYS)
        if params["boots"] is not None:
            flavors = flavors_for_boots(client, params["boots"])
        else:
            query = FlavorQuery.from_options(params)
            for warning in query.warnings:
                module.warn(warning)
            flavors = query.run(client)
        return {"flavors": order_flavors(flavors, params["sort_by"], params["order"], params["limit"])}

    module.run(list_flavors)


if __name__ == "__main__":
    main()

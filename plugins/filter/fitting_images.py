# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fitting_images
short_description: The images that a flavor (a flavor dict, or a disk and RAM size) can boot, optionally sorted
version_added: 0.1.0
author:
  - waldur.cloud maintainers (@waldur)
description:
  - Keeps the images of a list that fit a flavor, and orders them, for images gathered earlier, in templates and C(set_fact).
  - It is the same code as the C(fits), C(sort_by) and C(order) options of M(waldur.cloud.openstack_image_info), so both
    always agree.
  - An image fits when its C(min_disk) is at most O(disk) and its C(min_ram) is at most O(ram). A requirement equal to the
    flavor's size fits; one MiB more does not. A requirement of V(0) fits every flavor.
  - Give O(disk), O(ram) or both; the dimension not given is not checked. Giving neither is an error. Or give O(flavor)
    (with O(disk) as the system volume) for Waldur's own rule of an instance order.
  - Without O(sort_by) the images keep the order of the input list.
  - Errors name the bad value or the offending list item and say what is accepted.
extends_documentation_fragment:
  - waldur.cloud.image_selection.sorting
  - waldur.cloud.ordering
  - waldur.cloud.sizes
options:
  _input:
    description:
      - A list of image dicts, such as RV(waldur.cloud.openstack_image_info#module:images).
      - Each image needs C(min_disk) if O(disk) is given, C(min_ram) if O(ram) is given, both as whole numbers of MiB (V(0)
        or more), and the field named by O(sort_by). A missing or malformed field is an error naming the item, also for
        images that would not have been chosen.
    type: list
    elements: dict
    required: true
  disk:
    description:
      - The root disk of the flavor, in MiB or with a unit (V(20480), V(20G), V(20 GiB)).
    type: raw
  ram:
    description:
      - The RAM of the flavor, in MiB or with a unit (V(4096), V(4G), V(4096M)).
      - Cannot be combined with O(flavor).
    type: raw
  flavor:
    description:
      - A flavor dict, as RV(waldur.cloud.openstack_flavor_info#module:flavors) returns them, for Waldur's own rule of an
        instance order (the same code as C(fits.flavor) of M(waldur.cloud.openstack_image_info)).
      - Its C(ram) is compared with C(min_ram); O(disk) is then the system volume the instance boots from (at least
        V(1024) MiB), compared with C(min_disk), which is not checked without it. The flavor's own C(disk) is never
        used, since Waldur boots instances from a volume. Only the images of the flavor's service settings are kept.
      - The filter cannot ask the server, so a flavor name is an error, and tenant links are not checked; list the
        images with the tenant filter of M(waldur.cloud.openstack_image_info) first.
    type: dict
seealso:
  - module: waldur.cloud.openstack_image_info
  - plugin: waldur.cloud.openstack_image
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Gather the images once
  waldur.cloud.openstack_image_info:
    name: ubuntu
  register: ubuntu

- name: The images a 20 GiB / 4 GiB flavor can boot, largest disk requirement first
  ansible.builtin.set_fact:
    bootable: "{{ ubuntu.images | waldur.cloud.fitting_images(disk='20G', ram='4G', sort_by='min_disk', order='desc') }}"

- name: Choose for several flavors from the same list, without asking the server again
  ansible.builtin.set_fact:
    image_for: "{{ image_for | default({}) | combine({item.name: (ubuntu.images | waldur.cloud.fitting_images(disk=item.disk,
                 ram=item.ram, sort_by='version', order='desc') | map(attribute='uuid') | first | default(none))}) }}"
  loop:
    - {name: m1.small, disk: 20480, ram: 2048}
    - {name: m1.large, disk: 80G, ram: 8G}

- name: No image fits gives an empty list, which can be checked
  ansible.builtin.assert:
    that: ubuntu.images | waldur.cloud.fitting_images(ram='512M') | length > 0
    fail_msg: No Ubuntu image boots with 512 MiB of RAM.
"""

RETURN = r"""
_value:
  description:
    - The images that fit, unchanged, in the input order or the order of O(sort_by); V([]) when none fits.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import FORMS, Fit, unknown_keys
from ansible_collections.waldur.cloud.plugins.module_utils.selection import check_selection
from ansible_collections.waldur.cloud.plugins.plugin_utils.client import failures_as

WHERE = "fitting_images"
FILTER_OPTIONS = ("disk", "ram", "sort_by", "order", "flavor")


def fitting_images(images, disk=None, ram=None, sort_by=None, order="asc", flavor=None, **unknown):
    """The images of ``images`` that fit a flavor of ``disk`` and ``ram``, sorted by ``sort_by`` if given."""
    if unknown:
        # The same words as a wrong key of fits in the module and the lookup, naming this filter's arguments.
        raise AnsibleFilterError("%s: %s; see ansible-doc -t filter waldur.cloud.fitting_images" % (WHERE, unknown_keys(
            None, unknown, FILTER_OPTIONS, "the filter takes %s, and sort_by and order" % FORMS, noun="argument").message))
    with failures_as(AnsibleFilterError, WHERE):
        check_selection(sort_by, order)
        if flavor is not None:
            if not isinstance(flavor, dict):
                raise WaldurConfigError("flavor", "%r is not a flavor dict; the filter cannot ask the server, so give a "
                                                  "flavor as waldur.cloud.openstack_flavor_info returns it, or use fits.flavor "
                                                  "of waldur.cloud.openstack_image_info or the openstack_image lookup" % (flavor,))
            fit = Fit.parse(dict({"flavor": flavor, "disk": disk}, **({} if ram is None else {"ram": ram})), option=None)
        else:
            fit = Fit.of_size(disk, ram)
        # The filter never asks the server: the flavor is the dict given.
        return fit.resolved(fit.flavor).images_that_boot(images, sort_by, order)


class FilterModule:
    """waldur.cloud filters."""

    def filters(self):
        return {"fitting_images": fitting_images}

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Choosing among listed images (the fit rule in module_utils/fit.py, the order in selection.py): the options every entry point that chooses shares.
    # The size syntax of fits is in the waldur.cloud.sizes fragment.
    DOCUMENTATION = r"""
options:
  fits:
    description:
      - Keep only the images that a flavor of this size can boot, after the filters. The server cannot filter by size,
        so this is applied to the listed images.
      - An image fits when its C(min_disk) is at most O(fits.disk) and its C(min_ram) is at most O(fits.ram). An image
        whose requirement equals the flavor's size fits; one MiB more does not. Images with C(min_disk) or C(min_ram)
        of V(0) (no requirement) fit every flavor.
      - Give O(fits.disk), O(fits.ram) or both; a size that is not given is not checked.
      - A dictionary with the keys below, sizes written as the notes say; anything else is an error that names this
        option.
    type: raw
    suboptions:
      disk:
        description: The root disk of the flavor.
        type: raw
      ram:
        description: The RAM of the flavor.
        type: raw
"""

    # fits with a flavor (module_utils/fit.py), for the module and the lookup, which can ask the server for it. It
    # replaces the fits above: a fragment cannot add a suboption to an option of another.
    FLAVOR_FIT = r"""
options:
  fits:
    description:
      - Keep only the images that an instance of this flavor, or a flavor of this size, can boot, after the filters. The
        server cannot filter by size, so this is applied to the listed images.
      - "With O(fits.flavor), Waldur's own rule for an instance order applies: the flavor's RAM is compared with
        C(min_ram), O(fits.disk) is the system volume the instance boots from (compared with C(min_disk); without it
        C(min_disk) is not checked, and the result says so), and with O(tenant) or O(tenant_uuid) the flavor must be
        linked to that tenant, as the images listed are. The flavor's own disk is never used: Waldur boots instances
        from a new volume, so a flavor with a disk of V(0) is fine. Without a tenant, only the images of the flavor's
        service settings are kept."
      - With O(fits.disk) and O(fits.ram) instead, an image fits when its C(min_disk) is at most O(fits.disk) and its
        C(min_ram) is at most O(fits.ram); a requirement equal to the size fits, one MiB more does not, and V(0) fits
        every flavor. A size that is not given is not checked.
      - A dictionary with the keys below, sizes written as the notes say; anything else is an error that names this
        option.
    type: raw
    suboptions:
      flavor:
        description:
          - The flavor of the instance, by name, uuid or URL (or a flavor dict from M(waldur.cloud.openstack_flavor_info)).
          - A name is looked up among the flavors of O(tenant), else of O(settings), else every visible one; a name that
            matches several flavors is an error listing them.
        type: raw
      disk:
        description:
          - The root disk of the flavor.
          - With O(fits.flavor), the size of the system volume (at least V(1024) MiB, as Waldur requires).
        type: raw
      ram:
        description:
          - The RAM of the flavor. Cannot be combined with O(fits.flavor), whose RAM is the RAM.
        type: raw
"""

    # sort_by, for the module and the filter (order is in the waldur.cloud.ordering fragment) (the lookup has other defaults, so it documents its own).
    SORTING = r"""
options:
  sort_by:
    description:
      - Order the images by this field. Without it, the images keep the order they came in; the server lists them by
        name, in byte order.
      - V(name) compares names character by character (code points), as the server does.
      - V(version) compares names ignoring letter case, with runs of digits as numbers, so V(debian-9) comes before
        V(debian-12) and V(ubuntu-22.04) before V(ubuntu-24.04). With O(order=desc) this is "the newest by name".
      - V(min_disk) and V(min_ram) order by the requirement; with O(order=desc) the first image is the one with the
        largest requirement that still fits.
      - Images equal in this field are always ordered by name, then uuid, ascending, whatever O(order), so the result is
        the same however the images came in.
    type: str
    choices: [name, version, min_disk, min_ram]
"""

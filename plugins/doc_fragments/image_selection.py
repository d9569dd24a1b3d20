# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Choosing among listed images (module_utils/selection.py): the options every entry point that chooses shares.
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

    # sort_by and order, for the module and the filter (the lookup has other defaults, so it documents its own).
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
  order:
    description:
      - V(asc) for ascending, V(desc) for descending order of O(sort_by).
    type: str
    choices: [asc, desc]
    default: asc
"""

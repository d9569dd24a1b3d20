# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How a flavor's disk and RAM are written wherever they are given: the syntax parse_size accepts.
    DOCUMENTATION = r"""
options: {}
notes:
  - "Sizes of a flavor (disk, RAM) are whole numbers of MiB, as Waldur reports C(min_disk) and C(min_ram): an integer or
    a string (V(20480)), or a number with a binary unit, in any letter case, with or without a space: V(K)/V(KiB),
    V(M)/V(MiB), V(G)/V(GiB), V(T)/V(TiB), also V(Ki), V(Mi), V(Gi), V(Ti) (V(512M), V(4G), V(20 GiB), V(1.5G)). The
    result must be a whole number of MiB."
  - V(KB), V(MB), V(GB) and V(TB) are refused as ambiguous (powers of 1000 or of 1024?); write V(20G) or V(20GiB), which
    is what OpenStack means by the C(GB) it shows for flavors.
  - Zero, negative, fractional-MiB and non-numeric sizes, booleans and unknown units are refused, naming the value and
    the accepted forms. A flavor with a disk of V(0) boots from a volume and nova does not check C(min_disk) for it, so
    for such a flavor leave its disk size out.
"""

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The attributes every waldur.cloud module documents.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same result as without it.
  diff_mode:
    description: Returns details of what changed in diff mode.
  action_group:
    description: Use C(group/waldur.cloud.waldur) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - waldur.cloud.waldur
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads from the Waldur API, so check mode changes nothing.
  diff_mode:
    support: N/A
    details: The module changes nothing.
"""

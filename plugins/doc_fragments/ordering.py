# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The order of sort_by, wherever a result is sorted ascending by default (module_utils/selection.py ORDERS).
    DOCUMENTATION = r"""
options:
  order:
    description:
      - V(asc) for ascending, V(desc) for descending order of O(sort_by).
    type: str
    choices: [asc, desc]
    default: asc
"""

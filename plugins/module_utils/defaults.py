# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one table of option defaults: argument specs, plugin options, the client and the docs all state these."""

from __future__ import annotations

# The server's largest page; also the default, as it needs the fewest requests.
MAX_PAGE_SIZE = 300

DEFAULTS = {
    "auth_scheme": "Token",
    "validate_certs": True,
    "timeout": 30.0,
    "retries": 4,
    "retry_budget": 60.0,
    "page_size": MAX_PAGE_SIZE,
    "max_workers": 4,
}

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The server's image filters, as every entry point that lists images takes them (module, lookup, inventory).
    DOCUMENTATION = r"""
options:
  name:
    description:
      - Images whose name contains this text, ignoring case.
    type: str
  name_exact:
    description:
      - Images with exactly this name (case-sensitive).
      - The server strips surrounding white space before matching; such a name is matched exactly here instead, with
        a warning, so it is still found.
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
      - A tenant URL is turned into its uuid, since the server's own C(tenant) URL filter matches nothing.
    type: str
  tenant_uuid:
    description:
      - Images linked to the tenant with this uuid.
    type: str
  offering_uuid:
    description:
      - Images of the tenant or service settings of this marketplace offering (Waldur 7.9 and newer).
    type: str
  is_rescue_image:
    description:
      - Only rescue images (V(true)) or only other images (V(false)) (Waldur 8.0.8 and newer).
    type: bool
"""

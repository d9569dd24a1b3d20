# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one check for option names a plugin does not have, shared by the inventory, the lookup and the filter."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.waldur.cloud.plugins.module_utils.errors import close_names


def reject_unknown_options(given, known, error_class, where, plugin_type, plugin_name):
    """Raise ``error_class`` naming each option of ``given`` that is not in ``known``, with a "did you mean" hint.

    Ansible ignores such names, so a mistyped option (``fit=`` for ``fits=``) would silently change the result.
    """
    unknown = sorted(str(name) for name in given if name not in known)
    if not unknown:
        return
    hints = []
    for name in unknown:
        close = close_names(name, known, 1)
        hints.append("%s (did you mean %s?)" % (name, close[0]) if close else name)
    raise error_class("%s: unknown option%s %s; the options are described by: ansible-doc -t %s %s" % (
        where, "s" if len(unknown) > 1 else "", ", ".join(hints), plugin_type, plugin_name))


def reject_loose_booleans(given, definitions, error_class, where):
    """Raise ``error_class`` for a boolean option of ``given`` whose value is not a boolean.

    Ansible's configuration reads any text it does not know (``maybe``, ``ture``) as false, silently.
    """
    for name, value in given.items():
        if (definitions.get(name) or {}).get("type") in ("bool", "boolean") and value is not None:
            try:
                boolean(value, strict=True)
            except TypeError:
                raise error_class("%s: %s: %r is not a boolean; use true or false" % (where, name, value)) from None

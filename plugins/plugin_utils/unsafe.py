# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mark data from the Waldur API as unsafe, so Ansible never renders it as a template."""

from __future__ import annotations

from collections.abc import Mapping, Set

from ansible.utils.unsafe_proxy import wrap_var


def make_unsafe(value):
    """``value`` with every string in it, at any depth, dict keys included, marked unsafe.

    An image may be named ``{{ lookup('pipe', 'id') }}``: as a host variable it must stay that
    text. ansible-core 2.19 leaves data untrusted by default, but 2.16 to 2.18 render any string
    that is not wrapped, so everything a plugin takes from the API goes through here.

    Equal strings are wrapped once per call (an inventory repeats its keys and settings names on
    every host), so pass a whole inventory's data in one call.
    """
    return _wrap(value, {})


def _wrap(value, done):
    if isinstance(value, (str, bytes)):
        key = (isinstance(value, bytes), value)
        if key not in done:
            done[key] = wrap_var(value)
        return done[key]
    if isinstance(value, Mapping):
        return {_wrap(key, done): _wrap(item, done) for key, item in value.items()}
    if isinstance(value, Set):
        return {_wrap(item, done) for item in value}
    if isinstance(value, (list, tuple)):
        return type(value)(_wrap(item, done) for item in value)
    return value

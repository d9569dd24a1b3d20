# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mark the data from the Waldur API that could be a template as unsafe, and leave the rest plain."""

from __future__ import annotations

import re
from collections.abc import Mapping, Set

from ansible.utils.unsafe_proxy import wrap_var

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 writes a string that is not marked unsafe as plain text

    def trust_as_template(value):
        return value


# Every Jinja delimiter ({{, {%, {#) has a brace: text without one renders to itself.
TEMPLATE_CHARACTERS = re.compile("[{}]")
TEMPLATE_BYTES = re.compile(b"[{}]")


def make_unsafe(value):
    """``value`` with every string that could be a template, at any depth, dict keys included, marked unsafe.

    An image may be named ``{{ lookup('pipe', 'id') }}``: as a host variable it must stay that text, also
    after AWX stored it and handed it back to a job as an inventory script's JSON (there the marker is
    written as ``{"__ansible_unsafe": ...}``, which the script plugin reads back as unsafe text).

    A string without braces cannot be a template, so it is left as text Ansible may render (on
    ansible-core 2.19 and later, marked trusted): ``ansible-inventory --list`` then writes it as a plain
    string, which AWX stores and shows as such, and which AWX's ``instance_id_var`` can read. Marking
    every string, as the model collections did before 2024, wrote every one as a wrapper dict.

    Equal strings are marked once per call (an inventory repeats its keys and settings names on every
    host), so pass a whole inventory's data in one call.
    """
    return _mark(value, {})


def _mark(value, done):
    if isinstance(value, (str, bytes)):
        key = (isinstance(value, bytes), value)
        if key not in done:
            if isinstance(value, bytes):
                done[key] = wrap_var(value) if TEMPLATE_BYTES.search(value) else value
            else:
                done[key] = wrap_var(value) if TEMPLATE_CHARACTERS.search(value) else trust_as_template(value)
        return done[key]
    if isinstance(value, Mapping):
        return {_mark(key, done): _mark(item, done) for key, item in value.items()}
    if isinstance(value, Set):
        return {_mark(item, done) for item in value}
    if isinstance(value, (list, tuple)):
        return type(value)(_mark(item, done) for item in value)
    return value

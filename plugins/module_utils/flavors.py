# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Flavor queries over the client: every server filter with its quirks hidden.

The server's quirks (recorded in tests/fidelity/samples/7*-flavors-*, reproduced by tests/emulator/flavors.py):
``name_exact`` is stripped before matching, an invalid ``name_iregex`` is an HTML 500 page, ``tenant`` by URL
matches nothing, decimals in the number filters are truncated, and ``o=`` leaves ties undefined. So regular
expressions are checked here first, tenants are always sent as ``tenant_uuid``, sizes are whole MiB, and ordering
is done by selection.py.
"""

from __future__ import annotations

import re

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurServerError
from ansible_collections.waldur.cloud.plugins.module_utils.fit import parse_size
from ansible_collections.waldur.cloud.plugins.module_utils.resources import ResourceQuery, name_params, settings_uuid_of
from ansible_collections.waldur.cloud.plugins.module_utils.listing import ListOrder

FLAVORS_PATH = "openstack-flavors/"
DIMENSIONS = ("cores", "ram", "disk")
# option suffix -> the server's lookup (both inclusive)
LOOKUPS = {"": "", "_min": "__gte", "_max": "__lte"}
RANGE_OPTIONS = tuple(dimension + suffix for dimension in DIMENSIONS for suffix in LOOKUPS)
# The server sorts by settings name, then these. A flavor shows its settings by uuid only: two
# settings of one name tie too, and are then told apart by the partition by settings.
FLAVOR_ORDER = ListOrder(
    "flavors", tie_key=lambda flavor: (settings_uuid_of(flavor),) + tuple(flavor.get(dimension) for dimension in DIMENSIONS),
    narrow=lambda tie: None if None in tie else [("settings_uuid", tie[0])] + [(d, str(v)) for d, v in zip(DIMENSIONS, tie[1:])],
    partition=("settings_uuid", settings_uuid_of))
# PostgreSQL reads "{" and a digit as the start of a bound and rejects one left open, which Python takes literally.
_OPEN_BOUND = re.compile(r"(?<!\\)\{[0-9]+(?:,[0-9]*)?(?![0-9,}])")


def check_iregex(pattern, option="name_iregex"):
    """The pattern stripped as the server strips it, or an error naming ``option`` if PostgreSQL would reject it."""
    text = pattern.strip()
    problem = None
    if _OPEN_BOUND.search(text):
        problem = "a bound such as {2 is not closed"
    else:
        try:
            re.compile(text)
        except re.error as exc:
            problem = str(exc)
    if problem is not None:
        raise WaldurConfigError(option, "%r is not a valid regular expression (%s); the server would fail with an HTML "
                                        "error page. Escape special characters with a backslash, e.g. m1\\.small or "
                                        "\\(beta\\)" % (pattern, problem))
    return text


def _bound(option, value):
    if option.startswith("cores"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise WaldurConfigError(option, "%r is not a number of cores; give a whole number, 0 or more" % (value,))
        return value
    return parse_size(value, option, allow_zero=True)


class FlavorQuery(ResourceQuery):
    """One flavor listing or retrieval as the user means it."""

    PATH = FLAVORS_PATH
    NOUN = "flavors"
    LIST_FILTERS = ("name", "name_exact", "name_iregex", "settings", "settings_uuid", "tenant", "tenant_uuid") + RANGE_OPTIONS

    def __init__(self, uuid=None, name=None, name_exact=None, name_iregex=None, settings=None, settings_uuid=None,
                 tenant=None, tenant_uuid=None, **bounds):
        unknown = sorted(set(bounds) - set(RANGE_OPTIONS))
        if unknown:
            raise TypeError("unknown flavor filters: %s" % ", ".join(unknown))
        super().__init__(uuid, name, name_exact, settings, settings_uuid, tenant, tenant_uuid)
        self.name_iregex = check_iregex(name_iregex) if name_iregex is not None else None
        self.bounds = [(option, _bound(option, bounds[option])) for option in RANGE_OPTIONS if bounds.get(option) is not None]
        self._validate()

    def _validate(self):
        used = [key for key in ("name", "name_exact", "name_iregex", "settings", "settings_uuid", "tenant", "tenant_uuid")
                if getattr(self, key) not in (None, "")] + [option for option, _value in self.bounds]
        self.check_filters(used)
        for dimension in DIMENSIONS:
            given = dict(self.bounds)
            low, high = given.get(dimension + "_min"), given.get(dimension + "_max")
            if low is not None and high is not None and low > high:
                raise WaldurConfigError(dimension + "_min", "%r is above %s_max %r, so no flavor can match; swap them" % (
                    low, dimension, high))

    def server_params(self, scope):
        params = name_params(self.name, self.name_exact)
        if self.name_iregex:
            params.append(("name_iregex", self.name_iregex))
        for key, value in (("settings_uuid", scope.settings_uuid), ("tenant_uuid", scope.tenant_uuid)):
            if value is not None:
                params.append((key, value))
        for option, value in self.bounds:
            dimension = option.partition("_")[0]
            params.append((dimension + LOOKUPS[option[len(dimension):]], str(value)))
        return params

    def list_in(self, client, catalog, scope):
        """The flavors in ``scope``, as the server sends them, in the server's order."""
        try:
            flavors = client.list_all(FLAVORS_PATH, self.server_params(scope), order=catalog.ordered(FLAVOR_ORDER))
        except WaldurServerError as exc:
            if self.name_iregex and exc.status == 500:
                raise WaldurConfigError("name_iregex", "the server failed on the regular expression %r (%s); simplify it "
                                                       "or escape special characters with a backslash" % (
                                                           self.name_iregex, exc)) from None
            raise
        if self.name_exact_padded:
            flavors = [flavor for flavor in flavors if flavor.get("name") == self.name_exact]
        return flavors

# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every resource query shares: uuids and URLs, the scope (service settings and tenants, given by
name, uuid or URL, resolved once), the base of the query classes, name filters and retrieval by uuid."""

from __future__ import annotations

import re

from typing import NamedTuple, Optional
from urllib.parse import urlsplit

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurNotFoundError
from ansible_collections.waldur.cloud.plugins.module_utils.listing import ListOrder

SETTINGS_PATH = "service-settings/"
TENANTS_PATH = "openstack-tenants/"

_HEX_UUID = re.compile(r"^[0-9a-fA-F]{32}$")
_DASHED_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Only these fields are ever asked for: service settings carry credentials in `options`.
SETTINGS_FIELDS = ("uuid", "name", "shared")
# A tenant names its customer by URL only (`customer`); the inventory derives the uuid from it.
TENANT_FIELDS = ("uuid", "name", "service_settings_uuid", "service_name", "project_uuid", "project_name",
                 "customer", "customer_name")


def is_uuid(value):
    return isinstance(value, str) and bool(_HEX_UUID.match(value) or _DASHED_UUID.match(value))


def normalize_uuid(value, option):
    """The 32-hex form the server uses, from the hex or dashed form; an error names ``option``."""
    text = str(value).strip()
    if not is_uuid(text):
        raise WaldurConfigError(option, "%r is not a uuid; give 32 hex digits, with or without dashes "
                                        "(e.g. 3f2a9c1e5b7d4e0f8a6b2c4d1e3f5a7b)" % (value,))
    return text.replace("-", "").lower()


def uuid_given(given, collection, noun, option):
    """The uuid of a uuid or of a URL (or path) of ``collection``; another URL is an error naming ``option``."""
    text = str(given).strip()
    uuid = normalize_uuid(text, option) if is_uuid(text) else uuid_in_url(text, collection)
    if uuid is None:
        raise WaldurConfigError(option, "%r is not %s URL; give a name, a uuid or a URL like https://waldur.example.com/api/"
                                        "%s/<uuid>/" % (given, ("an " if noun[0] in "aeiou" else "a ") + noun, collection))
    return uuid


def uuid_in_url(url, collection):
    """The uuid after ``/<collection>/`` in a URL or path, or None."""
    segments = [segment for segment in urlsplit(str(url)).path.split("/") if segment]
    for index, segment in enumerate(segments[:-1]):
        if segment == collection and is_uuid(segments[index + 1]):
            return segments[index + 1].replace("-", "").lower()
    return None


def settings_uuid_of(image):
    """The uuid of the service settings an image belongs to (the image only carries its URL)."""
    return uuid_in_url(image.get("settings") or "", "service-settings")


def narrow_to_name(name):
    """Query parameters that select the objects named ``name`` (a superset when the server would strip it), or None."""
    if not isinstance(name, str) or not name.strip():
        return None
    return name_params(None, name)


# Tenants are sorted by name too, and their service settings split a listing of them.
TENANT_ORDER = ListOrder("tenants", tie_key=lambda tenant: tenant.get("name"), narrow=narrow_to_name,
                         partition=("service_settings_uuid", lambda tenant: tenant.get("service_settings_uuid")))


class Scope(NamedTuple):
    """Where a listing looks, by uuid (None: anywhere), resolved once from names, uuids or URLs."""

    settings_uuid: Optional[str] = None
    tenant_uuid: Optional[str] = None


class SettingsAndTenants:
    """The service settings and tenants visible to the user, fetched once, only safe fields.

    Non-staff users usually see no private service settings, but their tenants name the
    settings they live on, so settings are the union of both sources.
    """

    def __init__(self, client):
        self.client = client
        self._settings = None
        self._tenants = None
        self._listed_settings = None

    def load(self, settings=True, tenants=True):
        """Fetch what is asked for and not yet known, in parallel."""
        fetches = {}
        if settings and self._listed_settings is None:
            fetches["settings"] = lambda: self.client.list_all(SETTINGS_PATH, [("type", "OpenStack")], fields=SETTINGS_FIELDS)
        if (settings or tenants) and self._tenants is None:
            fetches["tenants"] = lambda: self.client.list_all(TENANTS_PATH, fields=TENANT_FIELDS, order=TENANT_ORDER)
        results = self.client.fetch_concurrently(fetches)
        self._listed_settings = results.get("settings", self._listed_settings)
        self._tenants = results.get("tenants", self._tenants)
        if settings and self._settings is None:
            self._settings = self._merge_settings()
        return self

    def _merge_settings(self):
        merged = {}
        for row in self._listed_settings:
            merged[row["uuid"]] = {"uuid": row["uuid"], "name": row.get("name"), "shared": row.get("shared"), "listed": True}
        for tenant in self._tenants:
            uuid = tenant.get("service_settings_uuid")
            if uuid and uuid not in merged:
                # Shared settings are listed to every user, so one known only through a tenant is private.
                merged[uuid] = {"uuid": uuid, "name": tenant.get("service_name"), "shared": False, "listed": False}
        return sorted(merged.values(), key=lambda row: (row["name"] or "", row["uuid"]))

    @property
    def settings(self):
        return self.load(settings=True, tenants=True)._settings

    def ordered(self, order):
        """``order`` split, when it must be, by every service settings visible to the user."""
        return order.with_partition_values(lambda: [row["uuid"] for row in self.settings])

    @property
    def tenants(self):
        return self.load(settings=False, tenants=True)._tenants

    def scope_of(self, query):
        """The Scope of a query's filters, its settings and tenant each given by name, uuid or URL (or not at all)."""
        settings = self.resolve_settings(query.settings, "settings") if query.settings is not None else query.settings_uuid
        tenant = self.resolve_tenant(query.tenant, "tenant") if query.tenant is not None else query.tenant_uuid
        return Scope(settings, tenant)

    def resolve_settings(self, value, option):
        """A settings uuid from a name, a uuid or a service-settings URL."""
        return self._resolve(value, option, "service-settings", "service settings", lambda: self.settings)

    def resolve_tenant(self, value, option):
        """A tenant uuid from a name, a uuid or a tenant URL."""
        return self._resolve(value, option, "openstack-tenants", "tenant", lambda: self.tenants)

    @staticmethod
    def _resolve(value, option, collection, noun, rows):
        text = str(value).strip()
        if is_uuid(text) or "/" in text:
            return uuid_given(value, collection, noun, option)
        matches = [row for row in rows() if row.get("name") == text]
        if len(matches) == 1:
            return matches[0]["uuid"]
        if matches:
            raise WaldurConfigError(option, "the name %r is ambiguous: %s share it; give the uuid instead" % (
                text, ", ".join(_describe(row) for row in matches)))
        visible = rows()
        choices = ", ".join(_describe(row) for row in visible) if visible else "none"
        raise WaldurConfigError(option, "no %s named %r is visible to this user; visible: %s" % (noun, text, choices))


def _describe(row):
    where = row.get("project_name")
    return "%s (%s%s)" % (row.get("name"), row["uuid"], ", project %s" % where if where else "")


def padded(name_exact):
    """Whether an exact name has surrounding white space, which the server strips before matching."""
    return name_exact is not None and name_exact != name_exact.strip()


def optional_uuid(value, option):
    """The 32-hex form of a uuid option, or None when it is not given."""
    return normalize_uuid(value, option) if value is not None else None


class ResourceQuery:
    """What the image and the flavor queries share: the name and scope filters, uuids normalised, the checks, and
    ``run``, which resolves the scope (names, uuids or URLs) once and lists in it.

    A subclass names ``PATH`` (under the API root), ``NOUN`` (in messages) and ``LIST_FILTERS`` (its options), and
    lists in a resolved Scope with ``list_in``; a task that has resolved its scope already calls ``list_in`` itself.
    """

    PATH = ""
    NOUN = ""
    LIST_FILTERS = ()

    def __init__(self, uuid=None, name=None, name_exact=None, settings=None, settings_uuid=None, tenant=None,
                 tenant_uuid=None):
        self.warnings = []
        self.uuid = optional_uuid(uuid, "uuid")
        self.name = name.strip() if name else None
        self.name_exact = name_exact
        self.settings = settings
        self.settings_uuid = optional_uuid(settings_uuid, "settings_uuid")
        self.tenant = tenant
        self.tenant_uuid = optional_uuid(tenant_uuid, "tenant_uuid")

    @classmethod
    def from_options(cls, options):
        return cls(uuid=options.get("uuid"), **{key: options.get(key) for key in cls.LIST_FILTERS})

    @property
    def name_exact_padded(self):
        """Whether name_exact is matched here rather than by the server, which would strip it."""
        return padded(self.name_exact)

    def check_filters(self, used):
        """The checks every query shares: a uuid alone, a scope given one way, a stripped exact name warned of."""
        if self.uuid is not None and used:
            raise WaldurConfigError("uuid", "cannot be combined with the list filters %s; give either uuid or filters" % (
                ", ".join(used)))
        for option, by_uuid in (("settings", "settings_uuid"), ("tenant", "tenant_uuid")):
            if getattr(self, option) is not None and getattr(self, by_uuid) is not None:
                raise WaldurConfigError(option, "cannot be combined with %s; give one of them" % by_uuid)
        if self.name_exact_padded:
            self.warnings.append(
                "name_exact %r has surrounding white space, which the Waldur server strips before matching; "
                "the %s are matched exactly here instead, so such a name is still found" % (self.name_exact, self.NOUN))

    def run(self, client, catalog=None):
        """The objects, as the server sends them, in its order; the scope resolved from ``catalog`` (the settings and
        tenants of the task), or from a new one for a query on its own."""
        catalog = catalog or SettingsAndTenants(client)
        return self.run_in(client, catalog, catalog.scope_of(self))

    def run_in(self, client, catalog, scope):
        """The object of the uuid, or the objects in ``scope`` (a Scope resolved already: nothing is resolved here)."""
        if self.uuid is not None:
            return retrieve(client, self.PATH + self.uuid + "/")
        return self.list_in(client, catalog, scope)

    def list_in(self, client, catalog, scope):
        """The objects in ``scope``; ``catalog`` splits a listing by service settings when ties must be read again."""
        raise NotImplementedError


def name_params(name, name_exact):
    """The server's name filters for a (stripped) substring and an exact name."""
    params = [("name", name)] if name else []
    if name_exact is not None:
        if padded(name_exact):
            # The server would compare the stripped value; a substring query plus an exact match here finds it.
            if name_exact.strip():
                params.append(("name", name_exact.strip()))
        else:
            params.append(("name_exact", name_exact))
    return params


def retrieve(client, path):
    """[the object at ``path``], or [] when the API says it does not exist or is not visible."""
    try:
        return [client.get(path)]
    except WaldurNotFoundError as exc:
        # A JSON 404 is the API saying "no such object for you"; an HTML 404 means a wrong api_url.
        if isinstance(exc.payload, dict) and "detail" in exc.payload:
            return []
        raise

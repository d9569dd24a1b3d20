# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image queries over the client: filters with the server's quirks hidden, name resolution."""

from __future__ import annotations

import re

from urllib.parse import urlsplit

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, WaldurNotFoundError
from ansible_collections.waldur.cloud.plugins.module_utils.listing import ListOrder

IMAGES_PATH = "openstack-images/"
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


# Images and tenants are sorted by name alone; the service settings split any listing of either.
IMAGE_ORDER = ListOrder("images", tie_key=lambda image: image.get("name"), narrow=narrow_to_name,
                        partition=("settings_uuid", settings_uuid_of))
# With show_duplicate_names the server ignores every filter: ties can only be read again, other page sizes cutting them elsewhere.
DUPLICATES_ORDER = ListOrder("images", tie_key=IMAGE_ORDER.tie_key)
TENANT_ORDER = ListOrder("tenants", tie_key=lambda tenant: tenant.get("name"), narrow=narrow_to_name,
                         partition=("service_settings_uuid", lambda tenant: tenant.get("service_settings_uuid")))


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
        wanted = {}
        if settings and self._listed_settings is None:
            wanted["settings"] = lambda: self.client.list_all(SETTINGS_PATH, [("type", "OpenStack")], fields=SETTINGS_FIELDS)
        if (settings or tenants) and self._tenants is None:
            wanted["tenants"] = lambda: self.client.list_all(TENANTS_PATH, fields=TENANT_FIELDS, order=TENANT_ORDER)
        results = self.client.fetch_concurrently(wanted)
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

    def resolve_settings(self, value, option):
        """A settings uuid from a name, a uuid or a service-settings URL."""
        return self._resolve(value, option, "service-settings", "service settings", lambda: self.settings)

    def resolve_tenant(self, value, option):
        """A tenant uuid from a name, a uuid or a tenant URL."""
        return self._resolve(value, option, "openstack-tenants", "tenant", lambda: self.tenants)

    @staticmethod
    def _resolve(value, option, collection, noun, rows):
        text = str(value).strip()
        if is_uuid(text):
            return normalize_uuid(text, option)
        if "/" in text:
            uuid = uuid_in_url(text, collection)
            if uuid is None:
                raise WaldurConfigError(option, "%r is not a %s URL; give a name, a uuid or a URL like "
                                                "https://waldur.example.com/api/%s/<uuid>/" % (value, noun, collection))
            return uuid
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


class ImageQuery:
    """One image listing or retrieval as the user means it, whatever the server's quirks."""

    LIST_FILTERS = ("name", "name_exact", "settings", "settings_uuid", "tenant", "tenant_uuid", "offering_uuid",
                    "show_duplicate_names", "is_rescue_image")
    # With show_duplicate_names the server drops every other filter; these can be re-applied here.
    LOCAL_FILTERS = ("name", "name_exact", "settings", "settings_uuid", "is_rescue_image")

    def __init__(self, uuid=None, name=None, name_exact=None, settings=None, settings_uuid=None, tenant=None,
                 tenant_uuid=None, offering_uuid=None, show_duplicate_names=False, is_rescue_image=None):
        self.warnings = []
        self.name = name.strip() if name else None
        self.name_exact = name_exact
        self.settings = settings
        self.tenant = tenant
        self.show_duplicate_names = bool(show_duplicate_names)
        self.is_rescue_image = is_rescue_image
        self.uuid = normalize_uuid(uuid, "uuid") if uuid is not None else None
        self.settings_uuid = normalize_uuid(settings_uuid, "settings_uuid") if settings_uuid is not None else None
        self.tenant_uuid = normalize_uuid(tenant_uuid, "tenant_uuid") if tenant_uuid is not None else None
        self.offering_uuid = normalize_uuid(offering_uuid, "offering_uuid") if offering_uuid is not None else None
        self._validate()

    @classmethod
    def from_options(cls, options):
        return cls(uuid=options.get("uuid"), **{key: options.get(key) for key in cls.LIST_FILTERS})

    def _set_filters(self):
        return [key for key in self.LIST_FILTERS
                if key != "show_duplicate_names" and getattr(self, key) not in (None, "")]

    def _validate(self):
        used = self._set_filters()
        if self.uuid is not None and (used or self.show_duplicate_names):
            raise WaldurConfigError("uuid", "cannot be combined with the list filters %s; give either uuid or filters" % (
                ", ".join(used or ["show_duplicate_names"])))
        for option, by_uuid in (("settings", "settings_uuid"), ("tenant", "tenant_uuid")):
            if getattr(self, option) is not None and getattr(self, by_uuid) is not None:
                raise WaldurConfigError(option, "cannot be combined with %s; give one of them" % by_uuid)
        if self.show_duplicate_names:
            unsupported = [key for key in used if key not in self.LOCAL_FILTERS]
            if unsupported:
                raise WaldurConfigError("show_duplicate_names", (
                    "cannot be combined with %s: the server ignores every other filter when listing duplicates, and "
                    "tenant membership can only be asked of the server") % ", ".join(unsupported))
        if self.name_exact is not None and self.name_exact != self.name_exact.strip():
            self.warnings.append(
                "name_exact %r has surrounding white space, which the Waldur server strips before matching; "
                "the images are matched exactly here instead, so such a name is still found" % self.name_exact)

    def run(self, client, directory=None):
        """The images, as the server sends them, in the server's order (by name)."""
        if self.uuid is not None:
            return self._retrieve(client)
        directory = directory or SettingsAndTenants(client)
        settings_uuid = self.settings_uuid
        if self.settings is not None:
            settings_uuid = directory.resolve_settings(self.settings, "settings")
        tenant_uuid = self.tenant_uuid
        if self.tenant is not None:
            tenant_uuid = directory.resolve_tenant(self.tenant, "tenant")
        local = self._local_filter(settings_uuid)
        if self.show_duplicate_names:
            images = client.list_all(IMAGES_PATH, [("show_duplicate_names", "true")], order=DUPLICATES_ORDER)
        else:
            images = client.list_all(IMAGES_PATH, self._server_params(settings_uuid, tenant_uuid),
                                     order=directory.ordered(IMAGE_ORDER))
        return [image for image in images if local(image)] if local else images

    def _server_params(self, settings_uuid, tenant_uuid):
        params = name_params(self.name, self.name_exact)
        for key, value in (("settings_uuid", settings_uuid), ("tenant_uuid", tenant_uuid),
                           ("offering_uuid", self.offering_uuid)):
            if value is not None:
                params.append((key, value))
        if self.is_rescue_image is not None:
            params.append(("is_rescue_image", "true" if self.is_rescue_image else "false"))
        return params

    def _local_filter(self, settings_uuid):
        """A predicate for what the server cannot be trusted to filter, or None."""
        checks = []
        exact_locally = self.name_exact is not None and (self.show_duplicate_names or self.name_exact != self.name_exact.strip())
        if exact_locally:
            checks.append(lambda image: image.get("name") == self.name_exact)
        if self.show_duplicate_names:
            if self.name:
                needle = self.name.lower()
                checks.append(lambda image: needle in (image.get("name") or "").lower())
            if settings_uuid is not None:
                checks.append(lambda image: settings_uuid_of(image) == settings_uuid)
            if self.is_rescue_image is not None:
                checks.append(lambda image: bool(image.get("is_rescue_image")) == self.is_rescue_image)
        if not checks:
            return None
        return lambda image: all(check(image) for check in checks)

    def _retrieve(self, client):
        return retrieve(client, IMAGES_PATH + self.uuid + "/")


def name_params(name, name_exact):
    """The server's name filters for a (stripped) substring and an exact name."""
    params = [("name", name)] if name else []
    if name_exact is not None:
        stripped = name_exact.strip()
        if stripped != name_exact:
            # The server would compare the stripped value; a substring query plus an exact match here finds it.
            if stripped:
                params.append(("name", stripped))
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

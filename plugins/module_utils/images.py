# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image queries over the client: every filter with the server's quirks hidden, and how image listings are sorted."""

from __future__ import annotations

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.listing import ListOrder
from ansible_collections.waldur.cloud.plugins.module_utils.resources import (
    ResourceQuery,
    name_params,
    narrow_to_name,
    optional_uuid,
    settings_uuid_of,
)

IMAGES_PATH = "openstack-images/"

# Images are sorted by name alone; the service settings split any listing of them.
IMAGE_ORDER = ListOrder("images", tie_key=lambda image: image.get("name"), narrow=narrow_to_name,
                        partition=("settings_uuid", settings_uuid_of))
# With show_duplicate_names the server ignores every filter: ties can only be read again, other page sizes cutting them elsewhere.
DUPLICATES_ORDER = ListOrder("images", tie_key=IMAGE_ORDER.tie_key)


class ImageQuery(ResourceQuery):
    """One image listing or retrieval as the user means it, whatever the server's quirks."""

    PATH = IMAGES_PATH
    NOUN = "images"
    LIST_FILTERS = ("name", "name_exact", "settings", "settings_uuid", "tenant", "tenant_uuid", "offering_uuid",
                    "show_duplicate_names", "is_rescue_image")
    # With show_duplicate_names the server drops every other filter; these can be re-applied here.
    LOCAL_FILTERS = ("name", "name_exact", "settings", "settings_uuid", "is_rescue_image")

    def __init__(self, uuid=None, name=None, name_exact=None, settings=None, settings_uuid=None, tenant=None,
                 tenant_uuid=None, offering_uuid=None, show_duplicate_names=False, is_rescue_image=None):
        super().__init__(uuid, name, name_exact, settings, settings_uuid, tenant, tenant_uuid)
        self.show_duplicate_names = bool(show_duplicate_names)
        self.is_rescue_image = is_rescue_image
        self.offering_uuid = optional_uuid(offering_uuid, "offering_uuid")
        self._validate()

    def _set_filters(self):
        return [key for key in self.LIST_FILTERS
                if key != "show_duplicate_names" and getattr(self, key) not in (None, "")]

    def _validate(self):
        used = self._set_filters()
        self.check_filters(used + (["show_duplicate_names"] if self.show_duplicate_names else []))
        if self.show_duplicate_names:
            unsupported = [key for key in used if key not in self.LOCAL_FILTERS]
            if unsupported:
                raise WaldurConfigError("show_duplicate_names", (
                    "cannot be combined with %s: the server ignores every other filter when listing duplicates, and "
                    "tenant membership can only be asked of the server") % ", ".join(unsupported))

    def replace(self, **changes):
        """This query with some of its fields replaced."""
        fields = {key: getattr(self, key) for key in ("uuid",) + self.LIST_FILTERS}
        return ImageQuery(**dict(fields, **changes))

    def list_in(self, client, catalog, scope):
        """The images in ``scope``, as the server sends them, in the server's order (by name)."""
        local = self._local_filter(scope.settings_uuid)
        if self.show_duplicate_names:
            images = client.list_all(IMAGES_PATH, [("show_duplicate_names", "true")], order=DUPLICATES_ORDER)
        else:
            images = client.list_all(IMAGES_PATH, self._server_params(scope), order=catalog.ordered(IMAGE_ORDER))
        return [image for image in images if local(image)] if local else images

    def _server_params(self, scope):
        params = name_params(self.name, self.name_exact)
        for key, value in (("settings_uuid", scope.settings_uuid), ("tenant_uuid", scope.tenant_uuid),
                           ("offering_uuid", self.offering_uuid)):
            if value is not None:
                params.append((key, value))
        if self.is_rescue_image is not None:
            params.append(("is_rescue_image", "true" if self.is_rescue_image else "false"))
        return params

    def _local_filter(self, settings_uuid):
        """A predicate for what the server cannot be trusted to filter, or None."""
        checks = []
        if self.name_exact is not None and (self.show_duplicate_names or self.name_exact_padded):
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

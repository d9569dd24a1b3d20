# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image usage statistics, with the quirks of /api/openstack-images/usage_stats/ hidden.

The endpoint returns one row per image name, 10 per page by default and in no order; any query
parameter (even page=2) makes `service_provider` required, and an unknown provider silently
zeroes every count. So every request here names real OpenStack service settings, checked first.
"""

from __future__ import annotations

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.listing import ListOrder
from ansible_collections.waldur.cloud.plugins.module_utils.images import IMAGES_PATH, ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import SettingsAndTenants, settings_uuid_of
from ansible_collections.waldur.cloud.plugins.module_utils.selection import ORDERS, check_choice

USAGE_PATH = IMAGES_PATH + "usage_stats/"
# Rows come in no order (SELECT DISTINCT without ORDER BY) and no filter narrows them.
USAGE_ORDER = ListOrder("usage rows")
RUNNING = "running_instances_count"
CREATED = "created_instances_count"
USAGE_SORT_KEYS = {
    "name": lambda row: (row["name"],),
    "running": lambda row: (row[RUNNING], row["name"]),
    "created": lambda row: (row[CREATED], row["name"]),
}


class UsageReport:
    """Usage rows of the chosen OpenStack service settings, every page of them."""

    def __init__(self, service_provider=None, shared=None, name=None, name_exact=None, include_images=False,
                 sort_by="name", order="asc"):
        check_choice("sort_by", sort_by, USAGE_SORT_KEYS)
        check_choice("order", order, ORDERS)
        if service_provider is not None and not isinstance(service_provider, (list, tuple)):
            service_provider = [service_provider]
        if service_provider is not None and not [value for value in service_provider if str(value).strip()]:
            raise WaldurConfigError("service_provider", "is empty; give service settings names, uuids or URLs, or omit it "
                                                        "for every OpenStack service settings")
        self.service_provider = service_provider
        self.shared = shared
        self.name = name.strip().lower() if name else None
        self.name_exact = name_exact
        self.include_images = include_images
        self.sort_by = sort_by
        self.order = order
        self.warnings = []

    @classmethod
    def from_options(cls, options):
        return cls(**{key: options.get(key) for key in (
            "service_provider", "shared", "name", "name_exact", "include_images", "sort_by", "order")})

    def providers(self, catalog):
        """The service settings (uuid, name) whose usage is asked for, each checked to exist."""
        visible = catalog.settings
        if self.service_provider is None:
            if not visible:
                raise WaldurConfigError("service_provider", (
                    "no OpenStack service settings are visible to this user, neither listed by the server nor named by "
                    "a tenant, so usage cannot be read past the server's first page of 10 rows. Give the service "
                    "settings uuids in service_provider"))
            return self._narrow_to_shared([{"uuid": row["uuid"], "name": row["name"], "shared": row["shared"]}
                                           for row in visible])
        by_uuid = {row["uuid"]: row for row in visible}
        chosen = []
        for value in self.service_provider:
            uuid = catalog.resolve_settings(value, "service_provider")
            if uuid in by_uuid:
                chosen.append({"uuid": uuid, "name": by_uuid[uuid]["name"], "shared": by_uuid[uuid]["shared"]})
            elif not visible:
                # Nothing to check against; the server would answer zeros for a wrong uuid.
                self.warnings.append(
                    "service_provider %s cannot be checked: no OpenStack service settings are visible to this user. "
                    "An unknown uuid gives zero counts, not an error." % uuid)
                chosen.append({"uuid": uuid, "name": None, "shared": None})
            else:
                raise WaldurConfigError("service_provider", "%r matches no OpenStack service settings visible to this user "
                                                            "(the server would silently answer zeros); valid: %s" % (
                                                                value, ", ".join("%s (%s)" % (row["name"], row["uuid"])
                                                                                 for row in visible)))
        return self._narrow_to_shared(list({row["uuid"]: row for row in chosen}.values()))

    def _narrow_to_shared(self, providers):
        # The server's own `shared` parameter only ever narrows to shared settings; the flag is known
        # here (settings a user sees only through a tenant are private), so both ways are done here.
        if self.shared is None:
            return providers
        kept = [row for row in providers if row["shared"] is None or row["shared"] == self.shared]
        if not kept:
            raise WaldurConfigError("shared", "none of the service settings asked for is %s: %s" % (
                "shared" if self.shared else "private", ", ".join("%s (%s)" % (row["name"], row["uuid"]) for row in providers)))
        return kept

    def run(self, client, catalog=None):
        """``{"stats": rows, "totals": {...}, "service_providers": [...]}``."""
        catalog = catalog or SettingsAndTenants(client)
        providers = self.providers(catalog)
        params = [("service_provider", row["uuid"]) for row in providers]
        fetches = {"usage": lambda: client.list_all(USAGE_PATH, params, key="name", order=USAGE_ORDER)}
        if self.include_images:
            fetches["images"] = lambda: ImageQuery(show_duplicate_names=True, name_exact=self.name_exact).run(client, catalog)
        results = client.fetch_concurrently(fetches)
        rows = [row for row in results["usage"] if self._name_matches(row["name"])]
        if self.include_images:
            self._join(rows, results["images"], providers, catalog)
        rows.sort(key=USAGE_SORT_KEYS[self.sort_by], reverse=self.order == "desc")
        return {
            "stats": rows,
            "totals": {
                "images": len(rows),
                "running_instances": sum(row[RUNNING] for row in rows),
                "created_instances": sum(row[CREATED] for row in rows),
            },
            "service_providers": providers,
        }

    def _name_matches(self, name):
        if self.name_exact is not None and name != self.name_exact:
            return False
        return not self.name or self.name in name.lower()

    @staticmethod
    def _join(rows, images, providers, catalog):
        """Give each row the images of its name in the chosen settings."""
        chosen = {row["uuid"] for row in providers}
        names = {row["uuid"]: row["name"] for row in catalog.settings}
        by_name = {}
        for image in images:
            settings_uuid = settings_uuid_of(image)
            if settings_uuid in chosen:
                by_name.setdefault(image.get("name"), []).append({
                    "uuid": image.get("uuid"),
                    "settings_uuid": settings_uuid,
                    "settings_name": names.get(settings_uuid),
                    "min_disk": image.get("min_disk"),
                    "min_ram": image.get("min_ram"),
                })
        for row in rows:
            row["images"] = by_name.get(row["name"], [])


def usage_by_name(client, catalog):
    """``{image name: {"running_instances_count": n, "created_instances_count": n}}`` over every visible settings."""
    report = UsageReport().run(client, catalog)
    return {row["name"]: {RUNNING: row[RUNNING], CREATED: row[CREATED]} for row in report["stats"]}

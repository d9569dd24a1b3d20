# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the fit rule (fit.py) asks of the server, in one place: the tenant, the flavor and the image resolved, and the
images listed for a fit.

Every call takes one TaskContext: the client, the service settings and tenants the task sees (listed at most once),
and the scope of its filters, resolved once when the context is made. The flavor is read before any image is
listed, so a wrong one costs no listing.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError, close_names
from ansible_collections.waldur.cloud.plugins.module_utils.fit import (
    FitListing,
    Limits,
    flavors_that_boot,
    format_size,
    image_label,
    system_volume,
)
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import (
    Scope,
    SettingsAndTenants,
    is_uuid,
    settings_uuid_of,
    uuid_given,
)
from ansible_collections.waldur.cloud.plugins.module_utils.selection import order_flavors

# A flavor or image given as a URL or a path; names are data and may hold "/" anywhere else.
URL_STARTS = ("http://", "https://", "/")
BOOTS_KEYS = ("image", "tenant", "disk")
# How many close names a message about a missing image suggests.
CLOSE_NAMES = 5


class TaskContext(NamedTuple):
    """One task's way to the server: the client, the service settings and tenants it sees (``catalog``), the Scope of
    its filters, resolved once, and how messages name its tenant."""

    client: Any
    catalog: SettingsAndTenants
    scope: Scope
    tenant: Optional[str]

    @classmethod
    def of_query(cls, client, query):
        """The context of a query's filters: its settings and tenant, by name, uuid or URL."""
        catalog = SettingsAndTenants(client)
        scope = catalog.scope_of(query)
        return cls(client, catalog, scope, tenant_label(query.tenant, scope.tenant_uuid) if scope.tenant_uuid else None)

    @classmethod
    def of_tenant(cls, client, tenant, option):
        """The context of one tenant, by name, uuid or URL; ``option`` names it in errors."""
        catalog = SettingsAndTenants(client)
        tenant_uuid = catalog.resolve_tenant(tenant, option)
        return cls(client, catalog, Scope(tenant_uuid=tenant_uuid), tenant_label(tenant, tenant_uuid))

    def run(self, query, scope=None):
        """What ``query`` (an ImageQuery or a FlavorQuery) finds in ``scope``, this task's scope by default."""
        return query.run_in(self.client, self.catalog, self.scope if scope is None else scope)


def tenant_label(given, uuid):
    """How messages name a tenant: as the user gave it, with its uuid beside."""
    text = str(given).strip() if given is not None else ""
    if not text or text.replace("-", "").lower() == uuid:
        return "tenant %s" % uuid
    return "tenant %r (%s)" % (text, uuid)


def _flavor_label(flavor):
    return "%s (%s CPU, %s RAM, %s disk, settings %s, uuid %s)" % (
        flavor.get("name"), flavor.get("cores"), format_size(flavor.get("ram") or 0), format_size(flavor.get("disk") or 0),
        settings_uuid_of(flavor), flavor.get("uuid"))


def images_for_fit(context, query, fit):
    """The FitListing of ``query`` in the context's scope by ``fit`` (a Fit or None): the flavor of the flavor form is
    read first, then the images."""
    flavor = flavor_for(context, fit) if fit is not None else None
    return FitListing(context.run(query), flavor, context.scope.tenant_uuid)


def flavor_for(context, fit):
    """The flavor dict of a Fit's flavor form, linked to the context's tenant when it has one; None for a size."""
    if fit.size is not None:
        return None
    if isinstance(fit.flavor, dict) and context.scope.tenant_uuid is None:
        return fit.flavor
    return resolve_flavor(context, fit.flavor, fit.prefix + "flavor")


def resolve_flavor(context, given, option):
    """The flavor dict for a name, uuid, URL or dict, linked to the context's tenant when it has one: one round trip.

    A name is looked up among the flavors of the tenant, else of the service settings, else all
    visible ones; several matches are an error listing them."""
    tenant_uuid = context.scope.tenant_uuid
    if isinstance(given, dict) or is_uuid(given) or given.startswith(URL_STARTS):
        uuid = None if isinstance(given, dict) else uuid_given(given, "openstack-flavors", "flavor", option)
        fetches = {}
        if uuid is not None:
            fetches["flavor"] = lambda: context.run(FlavorQuery(uuid=uuid))
        if tenant_uuid:
            fetches["linked"] = lambda: context.run(FlavorQuery(), Scope(tenant_uuid=tenant_uuid))
        found = context.client.fetch_concurrently(fetches)
        flavor = given if uuid is None else (found["flavor"] or [None])[0]
        if flavor is None:
            raise WaldurConfigError(option, "no flavor with uuid %s is visible to this user" % uuid)
        if tenant_uuid and flavor.get("uuid") not in {linked.get("uuid") for linked in found["linked"]}:
            raise WaldurConfigError(option, "the flavor %s is not linked to %s, so Waldur refuses the order "
                                            "(\"Flavor is not visible in tenant.\"); list the tenant's flavors with "
                                            "waldur.cloud.openstack_flavor_info tenant=..." % (
                                                _flavor_label(flavor), context.tenant))
        return flavor
    # A flavor belongs to a tenant, or else to the service settings: the settings filter only without a tenant.
    scope = Scope(tenant_uuid=tenant_uuid) if tenant_uuid else Scope(settings_uuid=context.scope.settings_uuid)
    matches = order_flavors(context.run(FlavorQuery(name_exact=given), scope), "ram")
    if len(matches) > 1:
        raise WaldurConfigError(option, "the name %r is ambiguous: %s; give its uuid, or a tenant or settings to "
                                        "choose among them" % (given, "; ".join(_flavor_label(f) for f in matches)))
    if not matches:
        there = sorted({f.get("name") for f in context.run(FlavorQuery(), scope)})
        where = ("linked to %s" % context.tenant if tenant_uuid else
                 "in service settings %s" % scope.settings_uuid if scope.settings_uuid else "visible to this user")
        raise WaldurConfigError(option, "no flavor named %r is %s; flavors there: %s" % (
            given, where, ", ".join(map(repr, there)) or "none"))
    return matches[0]


def resolve_image(context, given, option):
    """The image for a name, uuid or URL, linked to the context's tenant (Waldur checks that too)."""
    by_name = not (is_uuid(given) or given.startswith(URL_STARTS))
    if by_name:
        linked = context.run(ImageQuery(name_exact=given))
        # Asked again without the tenant only to tell "not linked" from "does not exist".
        found = linked or context.run(ImageQuery(name_exact=given), Scope())
    else:
        uuid = uuid_given(given, "openstack-images", "image", option)
        found = context.run(ImageQuery(uuid=uuid))
        linked = [image for image in context.run(ImageQuery(name_exact=found[0]["name"]))
                  if image.get("uuid") == uuid] if found else []
    if not found:
        raise WaldurConfigError(option, "no image %r is visible to this user%s" % (
            given, "; " + _close_image_names(context, given) if by_name else ""))
    if not linked:
        raise WaldurConfigError(option, "the image %r is not linked to %s, so Waldur refuses the order (\"Image "
                                        "is not visible in tenant.\")" % (given, context.tenant))
    if len(linked) > 1:
        raise WaldurConfigError(option, "the name %r is ambiguous in %s: %s; give its uuid" % (
            given, context.tenant, "; ".join(image_label(image) for image in linked)))
    return linked[0]


def _close_image_names(context, given):
    """The names of the tenant's images close to a name that matched nothing, as a message suggests them."""
    names = {image.get("name") for image in context.run(ImageQuery())}
    close = close_names(given, names, CLOSE_NAMES)
    if close:
        return "did you mean %s? (the closest of the %d image names linked to %s)" % (
            repr(close[0]) if len(close) == 1 else "one of " + ", ".join(map(repr, close)), len(names), context.tenant)
    return "none of the %d image names linked to %s is close to it; list them with waldur.cloud.openstack_image_info " \
           "tenant=..." % (len(names), context.tenant)


def flavors_for_boots(client, boots, option="boots"):
    """``boots: {image, tenant, disk}``: the flavors linked to the tenant that boot the image, smallest RAM first."""
    if not isinstance(boots, dict):
        raise WaldurConfigError(option, "%r is not a dictionary; give image, tenant and optionally disk" % (boots,))
    unknown = sorted(str(key) for key in boots if key not in BOOTS_KEYS)
    if unknown:
        raise WaldurConfigError(option, "unknown key%s %s; %s takes image, tenant and disk" % (
            "s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)), option))
    for key in ("image", "tenant"):
        if not isinstance(boots.get(key), str) or not boots[key].strip():
            raise WaldurConfigError("%s.%s" % (option, key), "is required; give a name, uuid or URL")
    volume = system_volume(boots.get("disk"), option + ".disk")
    context = TaskContext.of_tenant(client, boots["tenant"], option + ".tenant")
    image = resolve_image(context, boots["image"].strip(), option + ".image")
    if not Limits(disk=volume, ram=None).admits(image):
        # No flavor can boot it from a volume this small: no flavor need be listed.
        return []
    return flavors_that_boot(image, context.run(FlavorQuery(ram_min=image["min_ram"])))

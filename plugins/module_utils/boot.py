# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waldur's own boot rule: the image and flavor an instance order in a tenant is accepted with.

Waldur (``InstanceSerializer.validate``) accepts an instance when the flavor and the image are each
linked to the instance's tenant, ``image.min_ram <= flavor.ram`` and ``image.min_disk <=
system_volume_size``. Instances boot from a new volume, so the flavor's own ``disk`` is never
checked (a boot-from-volume flavor has ``disk: 0``).

``fits: {flavor: ..., disk: ...}`` asks that question: ``disk`` is then the system volume size.
The tenant is the ``tenant`` / ``tenant_uuid`` filter of the image query: the server lists only
the images linked to it, and the flavor is resolved among the flavors linked to it.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery, order_flavors
from ansible_collections.waldur.cloud.plugins.module_utils.images import (
    SettingsAndTenants,
    ImageQuery,
    is_uuid,
    normalize_uuid,
    settings_uuid_of,
    uuid_in_url,
)
from ansible_collections.waldur.cloud.plugins.module_utils.selection import (
    FlavorSize,
    format_size,
    parse_fits as parse_size_fits,
    parse_size,
    select_images,
)

# A flavor or image given as a URL or a path; names are data and may hold "/" anywhere else.
URL_STARTS = ("http://", "https://", "/")
# Waldur's system_volume_size field has this minimum.
MIN_SYSTEM_VOLUME = 1024
FLAVOR_FIT_KEYS = ("flavor", "disk")


class FlavorFit(namedtuple("FlavorFit", ("flavor", "disk", "prefix"))):
    """``fits`` with a flavor: the flavor as given (name, uuid, URL or dict), the system volume in MiB or None, and
    what its keys are prefixed with in messages (``fits.``)."""

    __slots__ = ()


def parse_fits(fits, option="fits"):
    """A FlavorFit for ``{flavor, disk}``, else what ``selection.parse_fits`` makes of ``{disk, ram}`` (or None).

    ``option`` prefixes the keys in error messages; None for keys that are options themselves (the filter's)."""
    if not isinstance(fits, dict) or "flavor" not in fits:
        return parse_size_fits(fits, option)
    prefix = option + "." if option else ""
    if "ram" in fits:
        raise WaldurConfigError(prefix + "ram", "cannot be combined with %sflavor: the flavor's RAM is what Waldur "
                                                "checks against min_ram; leave ram out" % prefix)
    unknown = sorted(str(key) for key in fits if key not in FLAVOR_FIT_KEYS)
    if unknown:
        raise WaldurConfigError(option, "unknown key%s %s; with flavor, %s takes flavor and disk (the system volume "
                                        "size)" % ("s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)), option))
    return FlavorFit(check_flavor(fits["flavor"], prefix + "flavor"), system_volume(fits.get("disk"), prefix + "disk"),
                     prefix)


def system_volume(value, option):
    """The system volume size in MiB, or None when not given (then min_disk is not checked)."""
    if value is None:
        return None
    mib = parse_size(value, option)
    if mib < MIN_SYSTEM_VOLUME:
        raise WaldurConfigError(option, "%r is below %s, the smallest system volume Waldur accepts; with flavor, disk "
                                        "is the size of the volume the instance boots from" % (
                                            value, format_size(MIN_SYSTEM_VOLUME)))
    return mib


def check_flavor(flavor, option):
    """A flavor as given: a non-empty name, uuid or URL, or a flavor dict with its RAM."""
    if isinstance(flavor, dict):
        ram = flavor.get("ram")
        if isinstance(ram, bool) or not isinstance(ram, int) or ram < 0:
            raise WaldurConfigError(option, "the flavor dict has ram %r; give a flavor as waldur.cloud.openstack_flavor_info "
                                            "returns it (ram in MiB), or its name, uuid or URL" % (ram,))
        return flavor
    if not isinstance(flavor, str) or not flavor.strip():
        raise WaldurConfigError(option, "%r is not a flavor; give its name, uuid or URL" % (flavor,))
    return flavor.strip()


def size_for(flavor, disk):
    """What an image is compared with: the flavor's RAM, and the system volume (None: min_disk not checked)."""
    return FlavorSize(disk=disk, ram=flavor["ram"])


def on_flavor_cloud(images, flavor):
    """The images of the flavor's service settings (an instance's tenant lives on one)."""
    settings = settings_uuid_of(flavor)
    return [image for image in images if settings is None or settings_uuid_of(image) == settings]


def describe(fit, flavor, tenant_uuid):
    """The ``fit`` result: what was checked, and what was not."""
    checked = ["min_ram <= %s, the RAM of flavor %r" % (format_size(flavor["ram"]), flavor.get("name"))]
    not_checked = []
    if fit.disk is None:
        not_checked.append("min_disk: no %sdisk (the system volume size) was given" % fit.prefix)
    else:
        checked.append("min_disk <= %s, the system volume" % format_size(fit.disk))
    if tenant_uuid is None:
        not_checked.append("tenant links: no tenant was given; the images are those of the flavor's service settings")
    else:
        checked.append("the image and the flavor are linked to tenant %s" % tenant_uuid)
    return {"flavor": flavor, "disk": fit.disk, "tenant_uuid": tenant_uuid, "checked": checked,
            "not_checked": not_checked}


def _label(flavor):
    return "%s (%s CPU, %s RAM, settings %s, uuid %s)" % (
        flavor.get("name"), flavor.get("cores"), format_size(flavor.get("ram") or 0), settings_uuid_of(flavor),
        flavor.get("uuid"))


def uuid_given(given, collection, noun, option):
    """The uuid of a uuid or of a URL of ``collection``; another URL is an error naming ``option``."""
    uuid = normalize_uuid(given, option) if is_uuid(given) else uuid_in_url(given, collection)
    if uuid is None:
        raise WaldurConfigError(option, "%r is not %s URL; give a name, a uuid or a URL like https://waldur.example.com/api/"
                                        "%s/<uuid>/" % (given, "an " + noun if noun[0] in "aeiou" else "a " + noun, collection))
    return uuid


def resolve_flavor(client, given, option, tenant_uuid=None, settings_uuid=None):
    """The flavor dict for a name, uuid, URL or dict, linked to ``tenant_uuid`` when given.

    A name is looked up among the flavors of the tenant, else of the service settings, else all
    visible ones; several matches are an error listing them."""
    if isinstance(given, dict):
        flavor = given
    elif is_uuid(given) or given.startswith(URL_STARTS):
        uuid = uuid_given(given, "openstack-flavors", "flavor", option)
        found = FlavorQuery(uuid=uuid).run(client)
        if not found:
            raise WaldurConfigError(option, "no flavor with uuid %s is visible to this user" % uuid)
        flavor = found[0]
    else:
        scope = {"tenant_uuid": tenant_uuid} if tenant_uuid else {"settings_uuid": settings_uuid}
        matches = order_flavors(FlavorQuery(name_exact=given, **scope).run(client), "ram")
        if len(matches) > 1:
            raise WaldurConfigError(option, "the name %r is ambiguous: %s; give its uuid, or a tenant or settings to "
                                            "choose among them" % (given, "; ".join(_label(f) for f in matches)))
        if not matches:
            there = sorted({f.get("name") for f in FlavorQuery(**scope).run(client)})
            where = ("linked to tenant %s" % tenant_uuid if tenant_uuid else
                     "in service settings %s" % settings_uuid if settings_uuid else "visible to this user")
            raise WaldurConfigError(option, "no flavor named %r is %s; flavors there: %s" % (
                given, where, ", ".join(map(repr, there)) or "none"))
        return matches[0]
    if tenant_uuid and flavor.get("uuid") not in {f.get("uuid") for f in FlavorQuery(
            tenant_uuid=tenant_uuid, name_exact=flavor.get("name")).run(client)}:
        raise WaldurConfigError(option, "the flavor %s is not linked to tenant %s, so Waldur refuses the order (\"Flavor "
                                        "is not visible in tenant.\"); list the tenant's flavors with "
                                        "waldur.cloud.openstack_flavor_info tenant=..." % (_label(flavor), tenant_uuid))
    return flavor


def scope_of(query, directory):
    """The tenant and settings uuids an image query is limited to (names and URLs resolved)."""
    tenant = query.tenant_uuid or (directory.resolve_tenant(query.tenant, "tenant") if query.tenant is not None else None)
    settings = query.settings_uuid or (
        directory.resolve_settings(query.settings, "settings") if query.settings is not None else None)
    return tenant, settings


def fetch_for_fit(client, query, fit, directory=None):
    """What selecting by ``fit`` needs from the server, as plain data (a lookup shares it across hosts):
    the images of ``query`` and, when ``fit`` names a flavor, that flavor and the tenant the query is limited to."""
    directory = directory or SettingsAndTenants(client)
    images = query.run(client, directory)
    if not isinstance(fit, FlavorFit):
        return {"images": images}
    tenant_uuid, settings_uuid = scope_of(query, directory)
    flavor = resolve_flavor(client, fit.flavor, fit.prefix + "flavor", tenant_uuid, settings_uuid)
    return {"images": images, "flavor": flavor, "tenant_uuid": tenant_uuid}


def fit_fetched(fetched, fit):
    """The images to select from, the FlavorSize to select them with, and the ``fit`` description (or None)."""
    if "flavor" not in fetched:
        return fetched["images"], fit, None
    flavor = fetched["flavor"]
    described = describe(fit, flavor, fetched["tenant_uuid"])
    return on_flavor_cloud(fetched["images"], flavor), size_for(flavor, fit.disk), described


def apply_fit(client, query, fit, directory=None):
    """``fit_fetched`` of what ``fetch_for_fit`` reads. ``fit`` is what ``parse_fits`` returned: a FlavorSize (or None)
    is used as it is."""
    return fit_fetched(fetch_for_fit(client, query, fit, directory), fit)


def flavors_that_boot(client, boots, option="boots"):
    """``boots: {image, tenant, disk}``: the flavors linked to the tenant whose RAM is enough for the image, smallest
    first; [] when the system volume is smaller than the image's min_disk."""
    if not isinstance(boots, dict):
        raise WaldurConfigError(option, "%r is not a dictionary; give image, tenant and optionally disk" % (boots,))
    unknown = sorted(str(key) for key in boots if key not in ("image", "tenant", "disk"))
    if unknown:
        raise WaldurConfigError(option, "unknown key%s %s; %s takes image, tenant and disk" % (
            "s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)), option))
    for key in ("image", "tenant"):
        if not isinstance(boots.get(key), str) or not boots[key].strip():
            raise WaldurConfigError("%s.%s" % (option, key), "is required; give a name, uuid or URL")
    disk = system_volume(boots.get("disk"), option + ".disk")
    directory = SettingsAndTenants(client)
    tenant_uuid = directory.resolve_tenant(boots["tenant"], option + ".tenant")
    image = resolve_image(client, boots["image"].strip(), option + ".image", tenant_uuid, directory)
    if disk is not None and image["min_disk"] > disk:
        return []
    flavors = FlavorQuery(tenant_uuid=tenant_uuid, ram_min=image["min_ram"]).run(client)
    return order_flavors(flavors, "ram")


def resolve_image(client, given, option, tenant_uuid, directory):
    """The image for a name, uuid or URL, linked to the tenant (Waldur checks that too)."""
    if is_uuid(given) or given.startswith(URL_STARTS):
        uuid = uuid_given(given, "openstack-images", "image", option)
        found = ImageQuery(uuid=uuid).run(client)
        linked = [image for image in ImageQuery(tenant_uuid=tenant_uuid, name_exact=found[0]["name"]).run(client, directory)
                  if image.get("uuid") == uuid] if found else []
    else:
        linked = ImageQuery(tenant_uuid=tenant_uuid, name_exact=given).run(client, directory)
        # Asked again without the tenant only to tell "not linked" from "does not exist".
        found = linked or ImageQuery(name_exact=given).run(client, directory)
    if not found:
        raise WaldurConfigError(option, "no image %r is visible to this user" % given)
    if not linked:
        raise WaldurConfigError(option, "the image %r is not linked to tenant %s, so Waldur refuses the order (\"Image "
                                        "is not visible in tenant.\")" % (given, tenant_uuid))
    if len(linked) > 1:
        raise WaldurConfigError(option, "the name %r is ambiguous in tenant %s: %s; give its uuid" % (
            given, tenant_uuid, ", ".join(image["uuid"] for image in linked)))
    return linked[0]


def select_for_flavor(images, flavor, disk, sort_by=None, order="asc", where="images"):
    """The images of a list that boot with a flavor dict and a system volume of ``disk`` MiB (or None)."""
    return select_images(on_flavor_cloud(images, flavor), size_for(flavor, disk), sort_by, order, where=where)

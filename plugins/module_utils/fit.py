# -*- coding: utf-8 -*-
# Copyright: waldur.cloud contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fit rule, in one place: which images boot with a flavor, and which flavors boot an image.

``fits`` has two forms, parsed once by ``Fit.parse``:

* a size, ``{disk, ram}``: an image fits when ``min_disk <= disk`` and ``min_ram <= ram``, a
  dimension not given not being checked (what nova checks for a flavor of that size);
* a flavor, ``{flavor, disk}``: Waldur's own rule for an instance order
  (``InstanceSerializer.validate``): the flavor and the image are each linked to the instance's
  tenant, ``image.min_ram <= flavor.ram`` and ``image.min_disk <= system_volume_size``. Instances
  boot from a new volume, so the flavor's own ``disk`` is never checked (``disk: 0`` is fine) and
  ``disk`` is the system volume.

``images_for_fit`` reads the flavor once, before any image is listed, with the images as plain data
(the lookup shares it across hosts); ``Fit.resolved`` makes of it a ``ResolvedFit`` that chooses the
images that boot and describes what was checked; ``flavors_that_boot`` is the rule the other way.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.waldur.cloud.plugins.module_utils.errors import WaldurConfigError
from ansible_collections.waldur.cloud.plugins.module_utils.flavors import FlavorQuery, order_flavors
from ansible_collections.waldur.cloud.plugins.module_utils.images import ImageQuery
from ansible_collections.waldur.cloud.plugins.module_utils.resources import (
    SettingsAndTenants,
    is_uuid,
    normalize_uuid,
    settings_uuid_of,
    uuid_in_url,
)
from ansible_collections.waldur.cloud.plugins.module_utils.selection import (
    FlavorSize,
    checked_images,
    fits_flavor,
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


class Fit(namedtuple("Fit", ("size", "flavor", "disk", "prefix"))):
    """``fits`` as given: ``size`` (a FlavorSize) for the size form; else ``flavor`` (a name, uuid, URL or flavor
    dict) and ``disk``, the system volume in MiB or None. ``prefix`` is what its keys are named with (``fits.``)."""

    __slots__ = ()

    @classmethod
    def parse(cls, fits, option="fits"):
        """The Fit of a ``fits`` value, or None when it is None. ``option`` names it in errors; None for a fit whose
        keys are options themselves (the filter's)."""
        prefix = option + "." if option else ""
        if not isinstance(fits, dict) or "flavor" not in fits:
            size = parse_size_fits(fits, option)
            return None if size is None else cls(size, None, None, prefix)
        if "ram" in fits:
            raise WaldurConfigError(prefix + "ram", "cannot be combined with %sflavor: the flavor's RAM is what Waldur "
                                                    "checks against min_ram; leave ram out" % prefix)
        unknown = sorted(str(key) for key in fits if key not in FLAVOR_FIT_KEYS)
        if unknown:
            raise WaldurConfigError(option, "unknown key%s %s; with flavor, %s takes flavor and disk (the system volume "
                                            "size)" % ("s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)), option))
        return cls(None, check_flavor(fits["flavor"], prefix + "flavor"), system_volume(fits.get("disk"), prefix + "disk"),
                   prefix)

    def flavor_for(self, client, tenant_uuid=None, settings_uuid=None, tenant=None):
        """The flavor dict of the flavor form, read from the server (linked to the tenant when one is given), before
        any image is listed; None for a size."""
        if self.size is not None:
            return None
        if isinstance(self.flavor, dict) and tenant_uuid is None:
            return self.flavor
        return resolve_flavor(client, self.flavor, self.prefix + "flavor", tenant_uuid, settings_uuid, tenant)

    def resolved(self, flavor=None, tenant_uuid=None):
        """The ResolvedFit, with the flavor dict ``flavor_for`` returned."""
        if self.size is not None:
            return ResolvedFit(self.size, None, None, None, self.prefix)
        return ResolvedFit(FlavorSize(disk=self.disk, ram=flavor["ram"]), flavor, self.disk, tenant_uuid, self.prefix)


class ResolvedFit(namedtuple("ResolvedFit", ("limits", "flavor", "system_volume", "tenant_uuid", "prefix"))):
    """A fit ready to be asked: ``limits`` (a FlavorSize) are the largest min_disk and min_ram that boot; ``flavor`` is
    the flavor dict of the flavor form (None for a size), ``system_volume`` its disk and ``tenant_uuid`` its tenant."""

    __slots__ = ()

    def images_that_boot(self, images, sort_by=None, order="asc", limit=None, where="images"):
        """The images that boot, of the flavor's service settings (an instance's tenant lives on one)."""
        return select_images(self.candidates(images, where), self.limits, sort_by, order, limit, where=where)

    def candidates(self, images, where="images"):
        """The images the rule is applied to: those on the flavor's cloud."""
        images = checked_images(images, where)
        settings = settings_uuid_of(self.flavor) if self.flavor is not None else None
        return [image for image in images if settings is None or settings_uuid_of(image) == settings]

    def describe(self):
        """What was checked and what was not, for the flavor form; None for a size."""
        if self.flavor is None:
            return None
        checked = ["min_ram <= %s, the RAM of flavor %r" % (format_size(self.flavor["ram"]), self.flavor.get("name"))]
        not_checked = []
        if self.system_volume is None:
            not_checked.append("min_disk: no %sdisk (the system volume size) was given" % self.prefix)
        else:
            checked.append("min_disk <= %s, the system volume" % format_size(self.system_volume))
        if self.tenant_uuid is None:
            not_checked.append("tenant links: no tenant was given; the images are those of the flavor's service settings")
        else:
            checked.append("the image and the flavor are linked to tenant %s" % self.tenant_uuid)
        return {"flavor": self.flavor, "disk": self.system_volume, "tenant_uuid": self.tenant_uuid, "checked": checked,
                "not_checked": not_checked}


def flavors_that_boot(image, flavors, volume=None, index=0):
    """The rule the other way: the flavors (dicts) that boot ``image`` with a system volume of ``volume`` MiB (None:
    not checked), smallest RAM first. ``index`` names the image in errors about its data."""
    return order_flavors([flavor for flavor in flavors
                          if fits_flavor(image, FlavorSize(disk=volume, ram=flavor.get("ram") or 0), index)], "ram")


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


def image_label(image):
    """An image as messages list candidates: what tells it from others of its name."""
    return "%s (uuid %s, min_disk %s, min_ram %s, settings %s)" % (
        image.get("name"), image.get("uuid"), format_size(image.get("min_disk") or 0), format_size(image.get("min_ram") or 0),
        settings_uuid_of(image))


def _label(flavor):
    return "%s (%s CPU, %s RAM, %s disk, settings %s, uuid %s)" % (
        flavor.get("name"), flavor.get("cores"), format_size(flavor.get("ram") or 0), format_size(flavor.get("disk") or 0),
        settings_uuid_of(flavor), flavor.get("uuid"))


def tenant_label(given, uuid):
    """How messages name a tenant: as the user gave it, with its uuid beside."""
    text = str(given).strip() if given is not None else ""
    if not text or text.replace("-", "").lower() == uuid:
        return "tenant %s" % uuid
    return "tenant %r (%s)" % (text, uuid)


def uuid_given(given, collection, noun, option):
    """The uuid of a uuid or of a URL of ``collection``; another URL is an error naming ``option``."""
    uuid = normalize_uuid(given, option) if is_uuid(given) else uuid_in_url(given, collection)
    if uuid is None:
        raise WaldurConfigError(option, "%r is not %s URL; give a name, a uuid or a URL like https://waldur.example.com/api/"
                                        "%s/<uuid>/" % (given, "an " + noun if noun[0] in "aeiou" else "a " + noun, collection))
    return uuid


def resolve_flavor(client, given, option, tenant_uuid=None, settings_uuid=None, tenant=None):
    """The flavor dict for a name, uuid, URL or dict, linked to ``tenant_uuid`` when given: one round trip.

    A name is looked up among the flavors of the tenant, else of the service settings, else all
    visible ones; several matches are an error listing them. ``tenant`` names the tenant in messages."""
    tenant = tenant or (tenant_label(None, tenant_uuid) if tenant_uuid else None)
    if isinstance(given, dict) or is_uuid(given) or given.startswith(URL_STARTS):
        wanted = {}
        if not isinstance(given, dict):
            wanted["flavor"] = lambda: FlavorQuery(uuid=uuid_given(given, "openstack-flavors", "flavor", option)).run(client)
        if tenant_uuid:
            wanted["linked"] = lambda: FlavorQuery(tenant_uuid=tenant_uuid).run(client)
        found = client.fetch_concurrently(wanted)
        flavor = given if isinstance(given, dict) else (found["flavor"] or [None])[0]
        if flavor is None:
            raise WaldurConfigError(option, "no flavor with uuid %s is visible to this user" % uuid_given(
                given, "openstack-flavors", "flavor", option))
        if tenant_uuid and flavor.get("uuid") not in {linked.get("uuid") for linked in found["linked"]}:
            raise WaldurConfigError(option, "the flavor %s is not linked to %s, so Waldur refuses the order "
                                            "(\"Flavor is not visible in tenant.\"); list the tenant's flavors with "
                                            "waldur.cloud.openstack_flavor_info tenant=..." % (_label(flavor), tenant))
        return flavor
    scope = {"tenant_uuid": tenant_uuid} if tenant_uuid else {"settings_uuid": settings_uuid}
    matches = order_flavors(FlavorQuery(name_exact=given, **scope).run(client), "ram")
    if len(matches) > 1:
        raise WaldurConfigError(option, "the name %r is ambiguous: %s; give its uuid, or a tenant or settings to "
                                        "choose among them" % (given, "; ".join(_label(f) for f in matches)))
    if not matches:
        there = sorted({f.get("name") for f in FlavorQuery(**scope).run(client)})
        where = ("linked to %s" % tenant if tenant_uuid else
                 "in service settings %s" % settings_uuid if settings_uuid else "visible to this user")
        raise WaldurConfigError(option, "no flavor named %r is %s; flavors there: %s" % (
            given, where, ", ".join(map(repr, there)) or "none"))
    return matches[0]


def resolve_image(client, given, option, tenant_uuid, directory, tenant):
    """The image for a name, uuid or URL, linked to the tenant (Waldur checks that too); ``tenant`` names it."""
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
        raise WaldurConfigError(option, "the image %r is not linked to %s, so Waldur refuses the order (\"Image "
                                        "is not visible in tenant.\")" % (given, tenant))
    if len(linked) > 1:
        raise WaldurConfigError(option, "the name %r is ambiguous in %s: %s; give its uuid" % (
            given, tenant, "; ".join(image_label(image) for image in linked)))
    return linked[0]


def flavors_for_boots(client, boots, option="boots"):
    """``boots: {image, tenant, disk}``: the flavors linked to the tenant that boot the image, smallest RAM first."""
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
    image = resolve_image(client, boots["image"].strip(), option + ".image", tenant_uuid, directory,
                          tenant_label(boots["tenant"], tenant_uuid))
    if disk is not None and image["min_disk"] > disk:
        return []
    return flavors_that_boot(image, FlavorQuery(tenant_uuid=tenant_uuid, ram_min=image["min_ram"]).run(client, directory))


# No fit: every image is kept.
NO_FIT = ResolvedFit(None, None, None, None, "")


def images_for_fit(client, query, fit, directory=None):
    """What choosing images by ``fit`` (a Fit or None) needs from the server, as plain data (a lookup shares it across
    hosts): the images, and the flavor of the flavor form with the tenant. The scope is resolved once, and the flavor
    read before the images, so a wrong one costs no listing."""
    directory = directory or SettingsAndTenants(client)
    resolved = query.resolved(directory)
    flavor = None
    if fit is not None:
        tenant = tenant_label(query.tenant, resolved.tenant_uuid) if resolved.tenant_uuid else None
        flavor = fit.flavor_for(client, resolved.tenant_uuid, resolved.settings_uuid, tenant)
    return {"images": resolved.run(client, directory), "flavor": flavor, "tenant_uuid": resolved.tenant_uuid}


def choose_images(fetched, fit, sort_by=None, order="asc", limit=None):
    """The images of ``images_for_fit``'s data that boot by ``fit``, ordered and limited, and the ResolvedFit."""
    resolved = NO_FIT if fit is None else fit.resolved(fetched["flavor"], fetched["tenant_uuid"])
    return resolved.images_that_boot(fetched["images"], sort_by, order, limit), resolved
